#ifndef FLUXKERNELS_H
#define FLUXKERNELS_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

// Matrix-vector kernels for decode: y[r] = dot(W[r, 0..<cols], x) for rows [row_begin, row_end)
// of a row-major W (the nn.Linear layout). 16-bit weights are widened to f32 in registers, so
// only 2 bytes per weight cross the memory bus. The widest instruction set the CPU supports is
// picked at run time (AVX-512, else AVX2 + FMA + F16C, else portable C).
void fk_matvec_f32(const float *w, const float *x, float *y, int64_t cols, int64_t row_begin, int64_t row_end);
void fk_matvec_bf16(const uint16_t *w, const float *x, float *y, int64_t cols, int64_t row_begin, int64_t row_end);
void fk_matvec_f16(const uint16_t *w, const float *x, float *y, int64_t cols, int64_t row_begin, int64_t row_end);

// Widens n 16-bit floats to f32 (prefill converts weight blocks before handing them to sgemm).
void fk_widen_bf16(const uint16_t *src, float *dst, int64_t n);
void fk_widen_f16(const uint16_t *src, float *dst, int64_t n);

// out[i] = silu(gate[i]) * up[i] (the SwiGLU activation); out may alias gate or up.
void fk_silu_mul(const float *gate, const float *up, float *out, int64_t n);
// In-place softmax of one row.
void fk_softmax(float *x, int64_t n);

// y = W x for the decode step with rows [row_begin, row_end) (above) is what each thread runs;
// the team below splits the rows.

// Thread team for parallel loops: runs fn(ctx, i) for i in [0, pieces), on the caller and the
// team's workers. Pieces are claimed dynamically, so a descheduled worker never holds the caller
// up; a call made while the team is busy (nested, or from another thread) runs inline.
typedef void (*fk_task_fn)(void *ctx, int64_t piece);
void fk_team_run(int64_t pieces, fk_task_fn fn, void *ctx);
// Threads the team uses, the caller included (workers start on first use).
void fk_team_set_threads(int threads);
int fk_team_threads(void);
// Nonzero while a loop runs on the team: a caller that would split work over the team runs it
// whole instead (the team would run its pieces inline, one after another).
int fk_team_busy(void);

// Decode attention for one query head over `total` cached positions: out[hd] =
// softmax(scale * K q) V, with K and V [total, hd] row-major. scores holds `total` floats.
void fk_attend_one(const float *q, const float *keys, const float *values, float *out, float *scores,
                   int64_t total, int64_t hd, float scale);

// Memory for large read-mostly arrays (weights): 2 MB aligned with transparent huge pages
// advised when at least 2 MB; free with fk_free_streamed.
void *fk_alloc_streamed(size_t bytes);
void fk_free_streamed(void *p);
// Sum of n floats with the widest loads available (the streaming-read kernel for the decode
// bandwidth bound).
float fk_read_sum(const float *p, int64_t n);

// 1 when the AVX-512 kernels are in use.
int fk_has_avx512(void);

// The instruction set the kernels use: "avx512", "avx2" or "portable".
const char *fk_simd_level(void);
// Caps the instruction set ("avx2" or "portable"; "avx512" or anything else lifts the cap) so
// tests can run every variant on one machine. Returns the level now in use.
const char *fk_limit_simd_level(const char *name);

#ifdef __cplusplus
}
#endif
#endif
