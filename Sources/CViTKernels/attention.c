// The element-wise parts of tiled attention (include/vitkernels.h).
#include "vitkernels.h"
#include "vecmath.h"
#include <math.h>

BODY float vk_exp_row_body(float *x, int64_t n) {
    v16 mv = -INFINITY;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) mv = VMAX(mv, LD(x + i));
    float m = HMAX(mv);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    v16 sv = 0;
    for (i = 0; i + 16 <= n; i += 16) {
        v16 e = VEXP(LD(x + i) - m);
        ST(x + i, e);
        sv += e;
    }
    float s = HSUM(sv);
    for (; i < n; i++) { x[i] = expf(x[i] - m); s += x[i]; }
    return 1.0f / s;
}
VK_FLOAT(vk_exp_row, (float *x, int64_t n), (x, n))

BODY int vk_scaled_add_rows_body(float *dst, int64_t ldd, const float *src, int64_t lds, const float *s, int64_t rows,
                               int64_t dim) {
    for (int64_t r = 0; r < rows; r++) {
        float *d = dst + r * ldd;
        const float *a = src + r * lds;
        v16 sv = s[r];
        int64_t i = 0;
        for (; i + 16 <= dim; i += 16) ST(d + i, LD(d + i) + sv * LD(a + i));
        for (; i < dim; i++) d[i] += s[r] * a[i];
    }
    return 0;
}
VK_VOID(vk_scaled_add_rows,
        (float *dst, int64_t ldd, const float *src, int64_t lds, const float *s, int64_t rows, int64_t dim),
        (dst, ldd, src, lds, s, rows, dim))
