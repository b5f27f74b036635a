// Memory for weights and the streaming-read kernel that measures the bandwidth bound of decode.
#include "fluxkernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define HUGE_PAGE ((size_t)2 << 20)

void *fk_alloc_streamed(size_t bytes) {
    // Large blocks start on a 2 MB boundary and ask for transparent huge pages: decode walks
    // hundreds of MB each token, and 4 KB pages cost a TLB miss every 4 KB of every stream
    // (huge pages measured ~5-15% faster for both the read kernel and the matvecs).
    if (bytes < HUGE_PAGE) {
        void *p = NULL;
        return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
    }
    size_t rounded = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, rounded) != 0) return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

void fk_free_streamed(void *p) { free(p); }

// Sums the floats of [p, p + bytes) with the widest loads the CPU has: eight 64-byte streams a
// step, like the matvec kernels, so the bound is the rate a well-formed read reaches, not a
// slower loop's. bytes is a multiple of 4.
#define AVX512 __attribute__((target("avx512f")))
AVX512 static float read_avx512(const float *p, int64_t n) {
    __m512 s[8];
    for (int k = 0; k < 8; k++) s[k] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 128 <= n; i += 128)
        for (int k = 0; k < 8; k++) s[k] = _mm512_add_ps(s[k], _mm512_loadu_ps(p + i + 16 * k));
    __m512 t = s[0];
    for (int k = 1; k < 8; k++) t = _mm512_add_ps(t, s[k]);
    float acc = _mm512_reduce_add_ps(t);
    for (; i < n; i++) acc += p[i];
    return acc;
}

#define AVX2 __attribute__((target("avx2")))
AVX2 static float read_avx2(const float *p, int64_t n) {
    __m256 s[8];
    for (int k = 0; k < 8; k++) s[k] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 8; k++) s[k] = _mm256_add_ps(s[k], _mm256_loadu_ps(p + i + 8 * k));
    __m256 t = s[0];
    for (int k = 1; k < 8; k++) t = _mm256_add_ps(t, s[k]);
    float lanes[8], acc = 0;
    _mm256_storeu_ps(lanes, t);
    for (int k = 0; k < 8; k++) acc += lanes[k];
    for (; i < n; i++) acc += p[i];
    return acc;
}

float fk_read_sum(const float *p, int64_t n) {
    const char *level = fk_simd_level();
    if (strcmp(level, "avx512") == 0) return read_avx512(p, n);
    if (strcmp(level, "avx2") == 0) return read_avx2(p, n);
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += p[i + k];
    float acc = 0;
    for (int k = 0; k < 8; k++) acc += s[k];
    for (; i < n; i++) acc += p[i];
    return acc;
}
