#ifndef VITKERNELS_H
#define VITKERNELS_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

// Row kernels of the FluxViT encoder, fused so each pass over the activations does every
// element-wise step that can follow a matrix product. Rows are contiguous with width `dim`.
// Each is built for AVX-512, AVX2 + FMA and SSE2, and the widest the processor runs is used.

// y = x * rsqrt(mean(x^2) + eps) * w * scale (RMSNorm); y may alias x.
void vk_rms_rows(const float *x, float *y, int64_t rows, int64_t dim, const float *w, float eps, float scale);
// inv[r] = rsqrt(mean(x[r]^2) + eps).
void vk_inv_rms_rows(const float *x, float *inv, int64_t rows, int64_t dim, float eps);
// y = RMSNorm(inv[r] * y + bias) * w: the patch embedding after its projection (the pre-norm's
// weight folded into the projection, its 1/rms applied here).
void vk_scale_bias_rms_rows(float *y, const float *inv, const float *bias, const float *w, int64_t rows, int64_t dim,
                            float eps);
// x += gamma * (y + bias) (LayerScale residual; bias may be NULL), then h = RMSNorm(x) * w when h
// is not NULL (the next norm, fused).
void vk_residual_rms_rows(float *x, const float *y, const float *gamma, const float *bias, float *h, const float *w,
                          int64_t rows, int64_t dim, float eps);
// y = gelu(y + bias), tanh approximation (exact erf when `erf` is 1).
void vk_bias_gelu_rows(float *y, const float *bias, int64_t rows, int64_t dim, int erf);
// Rows of qkv [rows, 3c]: q = RMSNorm(q) * qn * qscale, k = RMSNorm(k) * kn, and lpe = lw * v + lb.
void vk_qk_norm_lpe_rows(float *qkv, float *lpe, int64_t rows, int64_t c, const float *qn, const float *kn,
                         const float *lw, const float *lb, float eps, float qscale);
// In-place softmax numerators exp(x - max) of one row; returns 1 / their sum.
float vk_exp_row(float *x, int64_t n);
// dst[r] += s[r] * src[r] for `rows` rows of width dim (strides ldd, lds).
void vk_scaled_add_rows(float *dst, int64_t ldd, const float *src, int64_t lds, const float *s, int64_t rows,
                        int64_t dim);
// LayerNorm statistics of each row: mean[r] and rstd[r] = 1 / sqrt(var + eps).
void vk_row_stats(const float *x, float *mean, float *rstd, int64_t rows, int64_t dim, float eps);
// Euclidean distance between two rows of n floats (token selection's importance).
float vk_distance(const float *a, const float *b, int64_t n);
// out = emb + gw * (sum_i wts[i] * table[idx[i]]) + gb: one token's interpolated position
// embedding (the taps of the resampling), its per-channel affine, and the patch embedding.
void vk_pos_embed_row(float *out, const float *emb, const float *table, const int64_t *idx, const float *wts,
                      int64_t taps, const float *gw, const float *gb, int64_t dim);

// The instruction set the kernels use: "avx512", "avx2" or "portable".
const char *vk_simd_level(void);
// Caps it ("avx2" or "portable"; anything else lifts the cap) so tests can run every variant on
// one machine. Returns the level now in use.
const char *vk_limit_simd_level(const char *name);

#ifdef __cplusplus
}
#endif
#endif
