// Decode attention for one query head (see fluxkernels.h): scores = scale * K q, softmax, out =
// scores V. Keys and values are read once each, with the widest loads the CPU has; four keys
// share one pass over q so the horizontal sums are batched.
#include "fluxkernels.h"
#include <immintrin.h>
#include <string.h>

#define AVX512 __attribute__((target("avx512f,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

AVX512 static void attend_avx512(const float *q, const float *k, const float *v, float *out, float *s,
                                 int64_t total, int64_t hd, float scale) {
    int64_t body = hd & ~(int64_t)15, t = 0;
    for (; t + 4 <= total; t += 4) {
        const float *k0 = k + t * hd, *k1 = k0 + hd, *k2 = k1 + hd, *k3 = k2 + hd;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int64_t j = 0;
        for (; j < body; j += 16) {
            __m512 qv = _mm512_loadu_ps(q + j);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(k0 + j), qv, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(k1 + j), qv, a1);
            a2 = _mm512_fmadd_ps(_mm512_loadu_ps(k2 + j), qv, a2);
            a3 = _mm512_fmadd_ps(_mm512_loadu_ps(k3 + j), qv, a3);
        }
        float d0 = _mm512_reduce_add_ps(a0), d1 = _mm512_reduce_add_ps(a1);
        float d2 = _mm512_reduce_add_ps(a2), d3 = _mm512_reduce_add_ps(a3);
        for (; j < hd; j++) { d0 += k0[j] * q[j]; d1 += k1[j] * q[j]; d2 += k2[j] * q[j]; d3 += k3[j] * q[j]; }
        s[t] = d0 * scale; s[t + 1] = d1 * scale; s[t + 2] = d2 * scale; s[t + 3] = d3 * scale;
    }
    for (; t < total; t++) {
        const float *kr = k + t * hd;
        __m512 a = _mm512_setzero_ps();
        int64_t j = 0;
        for (; j < body; j += 16) a = _mm512_fmadd_ps(_mm512_loadu_ps(kr + j), _mm512_loadu_ps(q + j), a);
        float d = _mm512_reduce_add_ps(a);
        for (; j < hd; j++) d += kr[j] * q[j];
        s[t] = d * scale;
    }
    fk_softmax(s, total);
    // out = sum_t s[t] v[t], 64 columns at a time held in registers across all positions.
    int64_t j = 0;
    for (; j + 64 <= hd; j += 64) {
        __m512 o0 = _mm512_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
        for (int64_t u = 0; u < total; u++) {
            const float *vr = v + u * hd + j;
            __m512 p = _mm512_set1_ps(s[u]);
            o0 = _mm512_fmadd_ps(p, _mm512_loadu_ps(vr), o0);
            o1 = _mm512_fmadd_ps(p, _mm512_loadu_ps(vr + 16), o1);
            o2 = _mm512_fmadd_ps(p, _mm512_loadu_ps(vr + 32), o2);
            o3 = _mm512_fmadd_ps(p, _mm512_loadu_ps(vr + 48), o3);
        }
        _mm512_storeu_ps(out + j, o0); _mm512_storeu_ps(out + j + 16, o1);
        _mm512_storeu_ps(out + j + 32, o2); _mm512_storeu_ps(out + j + 48, o3);
    }
    for (; j + 16 <= hd; j += 16) {
        __m512 o = _mm512_setzero_ps();
        for (int64_t u = 0; u < total; u++) o = _mm512_fmadd_ps(_mm512_set1_ps(s[u]), _mm512_loadu_ps(v + u * hd + j), o);
        _mm512_storeu_ps(out + j, o);
    }
    for (; j < hd; j++) {
        float o = 0;
        for (int64_t u = 0; u < total; u++) o += s[u] * v[u * hd + j];
        out[j] = o;
    }
}

AVX2 static float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

AVX2 static void attend_avx2(const float *q, const float *k, const float *v, float *out, float *s,
                             int64_t total, int64_t hd, float scale) {
    int64_t body = hd & ~(int64_t)7;
    for (int64_t t = 0; t < total; t++) {
        const float *kr = k + t * hd;
        __m256 a = _mm256_setzero_ps();
        int64_t j = 0;
        for (; j < body; j += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(kr + j), _mm256_loadu_ps(q + j), a);
        float d = hsum8(a);
        for (; j < hd; j++) d += kr[j] * q[j];
        s[t] = d * scale;
    }
    fk_softmax(s, total);
    int64_t j = 0;
    for (; j + 32 <= hd; j += 32) {
        __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
        for (int64_t u = 0; u < total; u++) {
            const float *vr = v + u * hd + j;
            __m256 p = _mm256_set1_ps(s[u]);
            o0 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr), o0);
            o1 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr + 8), o1);
            o2 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr + 16), o2);
            o3 = _mm256_fmadd_ps(p, _mm256_loadu_ps(vr + 24), o3);
        }
        _mm256_storeu_ps(out + j, o0); _mm256_storeu_ps(out + j + 8, o1);
        _mm256_storeu_ps(out + j + 16, o2); _mm256_storeu_ps(out + j + 24, o3);
    }
    for (; j < hd; j++) {
        float o = 0;
        for (int64_t u = 0; u < total; u++) o += s[u] * v[u * hd + j];
        out[j] = o;
    }
}

static void attend_portable(const float *q, const float *k, const float *v, float *out, float *s,
                            int64_t total, int64_t hd, float scale) {
    for (int64_t t = 0; t < total; t++) {
        float d = 0;
        for (int64_t j = 0; j < hd; j++) d += k[t * hd + j] * q[j];
        s[t] = d * scale;
    }
    fk_softmax(s, total);
    memset(out, 0, sizeof(float) * (size_t)hd);
    for (int64_t u = 0; u < total; u++)
        for (int64_t j = 0; j < hd; j++) out[j] += s[u] * v[u * hd + j];
}

void fk_attend_one(const float *q, const float *keys, const float *values, float *out, float *scores,
                   int64_t total, int64_t hd, float scale) {
    const char *level = fk_simd_level();
    if (strcmp(level, "avx512") == 0) attend_avx512(q, keys, values, out, scores, total, hd, scale);
    else if (strcmp(level, "avx2") == 0) attend_avx2(q, keys, values, out, scores, total, hd, scale);
    else attend_portable(q, keys, values, out, scores, total, hd, scale);
}
