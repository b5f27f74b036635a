// Norms, residuals, activations and the position embedding of the encoder (include/vitkernels.h).
#include "vitkernels.h"
#include "vecmath.h"
#include <math.h>

// Sum of squares of one row, 16 lanes at a time.
#define SUMSQ(x, n) ({                                                                  \
    const float *q_ = (x);                                                              \
    v16 acc_ = 0;                                                                       \
    int64_t i_ = 0;                                                                     \
    for (; i_ + 16 <= (n); i_ += 16) { v16 v_ = LD(q_ + i_); acc_ += v_ * v_; }         \
    float s_ = HSUM(acc_);                                                              \
    for (; i_ < (n); i_++) s_ += q_[i_] * q_[i_];                                       \
    s_;                                                                                 \
})

// dst = src * s * w over one row (dst may alias src).
#define SCALE_ROW(dst, src, s, w, n) do {                                               \
    v16 sv_ = (s);                                                                      \
    int64_t i_ = 0;                                                                     \
    for (; i_ + 16 <= (n); i_ += 16) ST((dst) + i_, LD((src) + i_) * sv_ * LD((w) + i_)); \
    for (; i_ < (n); i_++) (dst)[i_] = (src)[i_] * (s) * (w)[i_];                       \
} while (0)

BODY int vk_rms_rows_body(const float *x, float *y, int64_t rows, int64_t dim, const float *w, float eps, float scale) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * dim;
        float inv = scale / sqrtf(SUMSQ(xr, dim) / (float)dim + eps);
        SCALE_ROW(y + r * dim, xr, inv, w, dim);
    }
    return 0;
}
VK_VOID(vk_rms_rows,
        (const float *x, float *y, int64_t rows, int64_t dim, const float *w, float eps, float scale),
        (x, y, rows, dim, w, eps, scale))

BODY int vk_inv_rms_rows_body(const float *x, float *inv, int64_t rows, int64_t dim, float eps) {
    for (int64_t r = 0; r < rows; r++) inv[r] = 1.0f / sqrtf(SUMSQ(x + r * dim, dim) / (float)dim + eps);
    return 0;
}
VK_VOID(vk_inv_rms_rows,
        (const float *x, float *inv, int64_t rows, int64_t dim, float eps),
        (x, inv, rows, dim, eps))

BODY int vk_scale_bias_rms_rows_body(float *y, const float *inv, const float *bias, const float *w, int64_t rows,
                                   int64_t dim, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * dim;
        v16 s = inv[r], acc = 0;
        int64_t i = 0;
        for (; i + 16 <= dim; i += 16) {
            v16 v = LD(yr + i) * s + LD(bias + i);
            ST(yr + i, v);
            acc += v * v;
        }
        float ss = HSUM(acc);
        for (; i < dim; i++) { yr[i] = yr[i] * inv[r] + bias[i]; ss += yr[i] * yr[i]; }
        float n = 1.0f / sqrtf(ss / (float)dim + eps);
        SCALE_ROW(yr, yr, n, w, dim);
    }
    return 0;
}
VK_VOID(vk_scale_bias_rms_rows,
        (float *y, const float *inv, const float *bias, const float *w, int64_t rows, int64_t dim, float eps),
        (y, inv, bias, w, rows, dim, eps))

BODY int vk_residual_rms_rows_body(float *x, const float *y, const float *gamma, const float *bias, float *h,
                                 const float *w, int64_t rows, int64_t dim, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        float *xr = x + r * dim;
        const float *yr = y + r * dim;
        v16 acc = 0;
        int64_t i = 0;
        for (; i + 16 <= dim; i += 16) {
            v16 t = bias ? LD(yr + i) + LD(bias + i) : LD(yr + i);
            v16 v = LD(xr + i) + LD(gamma + i) * t;
            ST(xr + i, v);
            acc += v * v;
        }
        float ss = HSUM(acc);
        for (; i < dim; i++) {
            xr[i] += gamma[i] * (bias ? yr[i] + bias[i] : yr[i]);
            ss += xr[i] * xr[i];
        }
        if (h) {
            float inv = 1.0f / sqrtf(ss / (float)dim + eps);
            SCALE_ROW(h + r * dim, xr, inv, w, dim);
        }
    }
    return 0;
}
VK_VOID(vk_residual_rms_rows,
        (float *x, const float *y, const float *gamma, const float *bias, float *h, const float *w,
         int64_t rows, int64_t dim, float eps),
        (x, y, gamma, bias, h, w, rows, dim, eps))

BODY int vk_bias_gelu_rows_body(float *y, const float *bias, int64_t rows, int64_t dim, int erf) {
    const float k = 0.7978845608028654f;  // sqrt(2 / pi)
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * dim;
        int64_t i = 0;
        if (!erf) {
            for (; i + 16 <= dim; i += 16) {
                v16 v = LD(yr + i) + LD(bias + i);
                ST(yr + i, 0.5f * v * (1.0f + VTANH(k * (v + 0.044715f * v * v * v))));
            }
        }
        for (; i < dim; i++) {
            float v = yr[i] + bias[i];
            yr[i] = erf ? 0.5f * v * (1.0f + erff(v * 0.7071067811865476f))
                        : 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
        }
    }
    return 0;
}
VK_VOID(vk_bias_gelu_rows,
        (float *y, const float *bias, int64_t rows, int64_t dim, int erf),
        (y, bias, rows, dim, erf))

BODY int vk_qk_norm_lpe_rows_body(float *qkv, float *lpe, int64_t rows, int64_t c, const float *qn, const float *kn,
                                const float *lw, const float *lb, float eps, float qscale) {
    for (int64_t r = 0; r < rows; r++) {
        float *q = qkv + r * 3 * c, *k = q + c;
        const float *v = q + 2 * c;
        float iq = qscale / sqrtf(SUMSQ(q, c) / (float)c + eps);
        SCALE_ROW(q, q, iq, qn, c);
        float ik = 1.0f / sqrtf(SUMSQ(k, c) / (float)c + eps);
        SCALE_ROW(k, k, ik, kn, c);
        float *o = lpe + r * c;
        int64_t i = 0;
        for (; i + 16 <= c; i += 16) ST(o + i, LD(lw + i) * LD(v + i) + LD(lb + i));
        for (; i < c; i++) o[i] = lw[i] * v[i] + lb[i];
    }
    return 0;
}
VK_VOID(vk_qk_norm_lpe_rows,
        (float *qkv, float *lpe, int64_t rows, int64_t c, const float *qn, const float *kn, const float *lw,
         const float *lb, float eps, float qscale),
        (qkv, lpe, rows, c, qn, kn, lw, lb, eps, qscale))

BODY int vk_pos_embed_row_body(float *out, const float *emb, const float *table, const int64_t *idx, const float *wts,
                             int64_t taps, const float *gw, const float *gb, int64_t dim) {
    int64_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        v16 acc = 0;
        for (int64_t t = 0; t < taps; t++) acc += wts[t] * LD(table + idx[t] * dim + i);
        ST(out + i, LD(emb + i) + LD(gw + i) * acc + LD(gb + i));
    }
    for (; i < dim; i++) {
        float acc = 0;
        for (int64_t t = 0; t < taps; t++) acc += wts[t] * table[idx[t] * dim + i];
        out[i] = emb[i] + gw[i] * acc + gb[i];
    }
    return 0;
}
VK_VOID(vk_pos_embed_row,
        (float *out, const float *emb, const float *table, const int64_t *idx, const float *wts,
         int64_t taps, const float *gw, const float *gb, int64_t dim),
        (out, emb, table, idx, wts, taps, gw, gb, dim))

BODY float vk_distance_body(const float *a, const float *b, int64_t n) {
    v16 acc = 0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) { v16 d = LD(a + i) - LD(b + i); acc += d * d; }
    float s = HSUM(acc);
    for (; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrtf(s);
}
VK_FLOAT(vk_distance, (const float *a, const float *b, int64_t n), (a, b, n))

BODY int vk_row_stats_body(const float *x, float *mean, float *rstd, int64_t rows, int64_t dim, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * dim;
        v16 acc = 0;
        int64_t i = 0;
        for (; i + 16 <= dim; i += 16) acc += LD(xr + i);
        float s = HSUM(acc);
        for (; i < dim; i++) s += xr[i];
        float m = s / (float)dim;
        v16 vacc = 0;
        for (i = 0; i + 16 <= dim; i += 16) { v16 d = LD(xr + i) - m; vacc += d * d; }
        float v = HSUM(vacc);
        for (; i < dim; i++) v += (xr[i] - m) * (xr[i] - m);
        mean[r] = m;
        rstd[r] = 1.0f / sqrtf(v / (float)dim + eps);
    }
    return 0;
}
VK_VOID(vk_row_stats,
        (const float *x, float *mean, float *rstd, int64_t rows, int64_t dim, float eps),
        (x, mean, rstd, rows, dim, eps))
