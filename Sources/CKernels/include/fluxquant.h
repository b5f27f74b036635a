#ifndef FLUXQUANT_H
#define FLUXQUANT_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

// Kernels over GGUF's block-quantized weights, by ggml type id: Q4_0 = 2, Q4_1 = 3, Q8_0 = 8
// (blocks of 32 values), Q4_K = 12, Q6_K = 14 (super-blocks of 256). A matrix is row-major, each
// row cols / block_size whole blocks. Decode reads the blocks directly: each block is widened
// to f32 in registers and multiplied with the f32 activation (no activation quantization, so the
// result matches the dequantized weights to float rounding). The widest instruction set the CPU
// supports is used (AVX-512, AVX2 + FMA, baseline), capped by fk_limit_simd_level.

// 1 when `type` is one of the types above.
int fq_supported(int type);

// Bytes of one row of `cols` values (cols a multiple of the block size).
int64_t fq_row_bytes(int type, int64_t cols);

// dst[0..<n] = the values of the blocks at src (n a multiple of the block size).
void fq_dequantize(int type, const void *src, float *dst, int64_t n);

// y[r] = dot(row r of w, x) for r in [row_begin, row_end).
void fq_matvec(int type, const void *w, const float *x, float *y, int64_t cols, int64_t row_begin, int64_t row_end);

#ifdef __cplusplus
}
#endif
#endif
