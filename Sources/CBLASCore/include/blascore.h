#ifndef BLASCORE_H
#define BLASCORE_H
#ifdef __cplusplus
extern "C" {
#endif

// What the processor offers and which OpenBLAS kernels run on it.
//
// Debian's OpenBLAS picks its kernel family ("core") once, when the library loads, from its own
// table of known processors; on a processor newer than that table it falls back to old SSE3
// kernels (`Prescott`) and runs sgemm 3-4x slower. A load-time constructor in this module
// compares that pick with what the processor supports and, when the pick is below it and the
// user has not set OPENBLAS_CORETYPE, switches OpenBLAS to the matching kernels before any
// work starts (main and test binaries alike).

// "GenuineIntel family 6 model 207", or the architecture name off x86-64.
const char *bc_processor(void);
// Space-separated features the processor and the OS both enable, /proc/cpuinfo spelling
// ("sse4_2 avx fma f16c avx2 avx512f ... avx512_bf16"); empty off x86-64.
const char *bc_processor_features(void);
// The OpenBLAS core in use now ("SkylakeX"), or "unknown" when the BLAS does not say.
const char *bc_blas_core(void);
// The core the library picked by itself at load.
const char *bc_blas_library_core(void);
// Who decided the core in use: "library", "fluxchat" (switched at load) or "user" (OPENBLAS_CORETYPE).
const char *bc_blas_core_chosen_by(void);
// The core FluxChat would pick for this processor ("SkylakeX", "Haswell", ...), or "" for none.
const char *bc_blas_core_for_processor(void);
// 1 when `core` names one of OpenBLAS's AVX-512 kernel families.
int bc_core_is_avx512(const char *core);

#ifdef __cplusplus
}
#endif
#endif
