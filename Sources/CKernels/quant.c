// Dequantization and decode matrix-vector products over GGUF's quantized blocks (fluxquant.h).
// Each type's block is unpacked by one BODY function into 16-value float vectors (clang vector
// extensions); dequantization stores them and the product multiplies them with x. The bodies are
// compiled three times (AVX-512, AVX2 + FMA, baseline) and the level fluxkernels.h reports picks.
#include "fluxquant.h"
#include "fluxkernels.h"
#include <string.h>

typedef float v16 __attribute__((ext_vector_type(16)));
typedef float v8 __attribute__((ext_vector_type(8)));
typedef float v4 __attribute__((ext_vector_type(4)));
typedef uint8_t u8x16 __attribute__((ext_vector_type(16)));
typedef int8_t i8x16 __attribute__((ext_vector_type(16)));

#define BODY static inline __attribute__((always_inline))

enum { T_Q4_0 = 2, T_Q4_1 = 3, T_Q8_0 = 8, T_Q4_K = 12, T_Q6_K = 14 };

int fq_supported(int type) {
    return type == T_Q4_0 || type == T_Q4_1 || type == T_Q8_0 || type == T_Q4_K || type == T_Q6_K;
}

static int block_values(int type) { return type == T_Q4_K || type == T_Q6_K ? 256 : 32; }

static int block_bytes(int type) {
    switch (type) {
    case T_Q4_0: return 18;
    case T_Q4_1: return 20;
    case T_Q8_0: return 34;
    case T_Q4_K: return 144;
    case T_Q6_K: return 210;
    default: return 0;
    }
}

int64_t fq_row_bytes(int type, int64_t cols) { return cols / block_values(type) * block_bytes(type); }

// IEEE half to float: the 15 exponent+mantissa bits moved into float position are the value
// times 2^-112 (normal and subnormal alike); all-ones exponents become inf/NaN.
BODY float half(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | p[1] << 8);
    uint32_t em = h & 0x7FFFu, u = em << 13;
    float f;
    memcpy(&f, &u, 4);
    f *= 0x1p112f;
    if (em >= 0x7C00u) { u = 0x7F800000u | (em & 0x3FFu) << 13; memcpy(&f, &u, 4); }
    return (h & 0x8000u) ? -f : f;
}

// Statement-expression macros, not functions: a function taking a 16-float vector would fix its
// ABI to one instruction set.
#define ld8(p) ({ u8x16 ld8_; memcpy(&ld8_, (p), 16); ld8_; })
#define ldf(p) ({ v16 ldf_; memcpy(&ldf_, (p), sizeof ldf_); ldf_; })
#define stf(p, v) do { v16 stf_ = (v); memcpy((p), &stf_, sizeof stf_); } while (0)
#define fu(q) __builtin_convertvector((u8x16)(q), v16)
#define fi(q) __builtin_convertvector((i8x16)(q), v16)
// Horizontal sum as a tree of halves (a lane-by-lane loop costs ~15 dependent adds per row).
#define hsum(v) ({                                                                           \
    v16 hs_ = (v);                                                                           \
    v8 h8_ = __builtin_shufflevector(hs_, hs_, 0, 1, 2, 3, 4, 5, 6, 7) +                     \
             __builtin_shufflevector(hs_, hs_, 8, 9, 10, 11, 12, 13, 14, 15);                \
    v4 h4_ = __builtin_shufflevector(h8_, h8_, 0, 1, 2, 3) + __builtin_shufflevector(h8_, h8_, 4, 5, 6, 7); \
    (h4_[0] + h4_[2]) + (h4_[1] + h4_[3]);                                                   \
})

// One block's values as 16-float vectors, handed to `emit(k, v)` for values [16k, 16k + 16).
// EMIT is a macro so dequantization and the dot product inline the same unpacking.

// Q8_0: f16 d, 32 int8: v = d q.
#define Q8_0_BLOCK(b, EMIT) do {                                                             \
    float d_ = half(b);                                                                      \
    EMIT(0, d_ * fi((i8x16)ld8((b) + 2)));                                                   \
    EMIT(1, d_ * fi((i8x16)ld8((b) + 18)));                                                  \
} while (0)

// Q4_0: f16 d, 16 bytes: value j in the low nibble of byte j, value 16 + j in its high nibble;
// v = d (q - 8).
#define Q4_0_BLOCK(b, EMIT) do {                                                             \
    float d_ = half(b);                                                                      \
    u8x16 q_ = ld8((b) + 2);                                                                 \
    EMIT(0, d_ * (fu(q_ & 15) - 8.0f));                                                      \
    EMIT(1, d_ * (fu(q_ >> 4) - 8.0f));                                                      \
} while (0)

// Q4_1: f16 d, f16 m, nibbles as Q4_0: v = d q + m.
#define Q4_1_BLOCK(b, EMIT) do {                                                             \
    float d_ = half(b), m_ = half((b) + 2);                                                  \
    u8x16 q_ = ld8((b) + 4);                                                                 \
    EMIT(0, d_ * fu(q_ & 15) + m_);                                                          \
    EMIT(1, d_ * fu(q_ >> 4) + m_);                                                          \
} while (0)

// Q4_K scale and min of sub-block j (0..7): 6 bits each, packed into 12 bytes.
BODY void k4_scale_min(const uint8_t *s, int j, float *sc, float *mn) {
    if (j < 4) {
        *sc = s[j] & 63;
        *mn = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// Q4_K: f16 d, f16 dmin, 12 scale bytes, 128 nibble bytes. Values 64g..64g+31 are the low
// nibbles of bytes 32g..32g+31 (sub-block 2g), 64g+32.. their high nibbles (sub-block 2g + 1);
// v = d sc q - dmin mn.
#define Q4_K_BLOCK(b, EMIT) do {                                                             \
    float d_ = half(b), dm_ = half((b) + 2);                                                 \
    const uint8_t *q_ = (b) + 16;                                                            \
    for (int g_ = 0; g_ < 4; g_++) {                                                         \
        float s0_, m0_, s1_, m1_;                                                            \
        k4_scale_min((b) + 4, 2 * g_, &s0_, &m0_);                                           \
        k4_scale_min((b) + 4, 2 * g_ + 1, &s1_, &m1_);                                       \
        float a0_ = d_ * s0_, c0_ = dm_ * m0_, a1_ = d_ * s1_, c1_ = dm_ * m1_;              \
        u8x16 x_ = ld8(q_ + 32 * g_), y_ = ld8(q_ + 32 * g_ + 16);                           \
        EMIT(4 * g_ + 0, a0_ * fu(x_ & 15) - c0_);                                           \
        EMIT(4 * g_ + 1, a0_ * fu(y_ & 15) - c0_);                                           \
        EMIT(4 * g_ + 2, a1_ * fu(x_ >> 4) - c1_);                                           \
        EMIT(4 * g_ + 3, a1_ * fu(y_ >> 4) - c1_);                                           \
    }                                                                                        \
} while (0)

// Q6_K: 128 low-nibble bytes, 64 high-bit bytes, 16 int8 scales, f16 d; two halves of 128
// values. In half h, for l in 0..<32: value l = low nibble of ql[l] | bits 0-1 of qh[l] << 4,
// l + 32 = low nibble of ql[l + 32] | bits 2-3, l + 64 = high nibble of ql[l] | bits 4-5,
// l + 96 = high nibble of ql[l + 32] | bits 6-7; v = d scale[l / 16 + 2 i] (q - 32) for quarter i.
#define Q6_K_BLOCK(b, EMIT) do {                                                             \
    float d_ = half((b) + 208);                                                              \
    for (int h_ = 0; h_ < 2; h_++) {                                                         \
        const uint8_t *ql_ = (b) + 64 * h_, *qh_ = (b) + 128 + 32 * h_;                      \
        const int8_t *sc_ = (const int8_t *)((b) + 192) + 8 * h_;                            \
        for (int l_ = 0; l_ < 32; l_ += 16) {                                                \
            u8x16 a_ = ld8(ql_ + l_), c_ = ld8(ql_ + 32 + l_), hb_ = ld8(qh_ + l_);          \
            int s_ = l_ / 16;                                                                \
            EMIT(8 * h_ + s_ + 0, d_ * sc_[s_ + 0] * (fu((a_ & 15) | ((hb_ & 3) << 4)) - 32.0f));        \
            EMIT(8 * h_ + s_ + 2, d_ * sc_[s_ + 2] * (fu((c_ & 15) | (((hb_ >> 2) & 3) << 4)) - 32.0f)); \
            EMIT(8 * h_ + s_ + 4, d_ * sc_[s_ + 4] * (fu((a_ >> 4) | (((hb_ >> 4) & 3) << 4)) - 32.0f)); \
            EMIT(8 * h_ + s_ + 6, d_ * sc_[s_ + 6] * (fu((c_ >> 4) | ((hb_ >> 6) << 4)) - 32.0f));       \
        }                                                                                    \
    }                                                                                        \
} while (0)

#define STORE(k, v) stf(out_ + 16 * (k), (v))
#define DOT(k, v) (acc_ += (v) * ldf(xb_ + 16 * (k)))

#define DEFINE_DEQUANT(NAME, BLOCK, VALUES, BYTES)                                           \
    BODY void dequant_##NAME##_body(const uint8_t *src, float *dst, int64_t nb) {            \
        for (int64_t i = 0; i < nb; i++) {                                                   \
            const uint8_t *blk_ = src + i * (BYTES);                                         \
            float *out_ = dst + i * (VALUES);                                                \
            BLOCK(blk_, STORE);                                                              \
        }                                                                                    \
    }                                                                                        \
    VARIANTS(dequant_##NAME, (const uint8_t *src, float *dst, int64_t nb), (src, dst, nb))

// The K-quants' product: one row at a time, each value widened and scaled, then multiplied.
#define DEFINE_MATVEC(NAME, BLOCK, VALUES, BYTES)                                            \
    BODY void matvec_##NAME##_body(const uint8_t *w, const float *x, float *y, int64_t nb,   \
                                   int64_t r0, int64_t r1) {                                 \
        for (int64_t r = r0; r < r1; r++) {                                                  \
            const uint8_t *row_ = w + r * nb * (BYTES);                                      \
            v16 acc_ = 0;                                                                    \
            for (int64_t i = 0; i < nb; i++) {                                               \
                const uint8_t *blk_ = row_ + i * (BYTES);                                    \
                const float *xb_ = x + i * (VALUES);                                         \
                BLOCK(blk_, DOT);                                                            \
            }                                                                                \
            y[r] = hsum(acc_);                                                               \
        }                                                                                    \
    }                                                                                        \
    VARIANTS(matvec_##NAME, (const uint8_t *w, const float *x, float *y, int64_t nb, int64_t r0, int64_t r1), \
             (w, x, y, nb, r0, r1))

// The 32-value types' product (the decode hot loop of Q8_0 / Q4_0 / Q4_1 files). The block's
// scale is factored out of its 32 products (d * sum(q x), and Q4_1's offset as m * sum(x)), so
// a block costs two widenings, two multiply-adds and one scaled add per row instead of a scale
// per value. Four rows share each load of x and keep four independent accumulator chains (one
// row at a time waits on the add latency), and their f16 scales are widened in a pass of their
// own into a small table (SCALES(b, out) writes the block's d, and Q4_1's m after it), so the
// hot loop multiplies by a float read from memory instead of widening and broadcasting each one.
// Results differ from the per-value products only by the float rounding of the factored sums.
typedef int32_t i32x16 __attribute__((ext_vector_type(16)));
#define wide(q) __builtin_convertvector((q), i32x16)
#define fc(v) __builtin_convertvector((v), v16)

// STEP(b, s, a): block b with scales s into accumulator a (x0, x1: the block's x; xs = x0 + x1).
#define Q8_0_STEP(b, s, a) do {                                                              \
    v16 t_ = fi((i8x16)ld8((b) + 2)) * x0 + fi((i8x16)ld8((b) + 18)) * x1;                  \
    a += (s)[0] * t_;                                                                        \
} while (0)
#define Q4_0_STEP(b, s, a) do {                                                              \
    i32x16 q_ = wide(ld8((b) + 2));                                                          \
    v16 t_ = fc(q_ & 15) * x0 + fc(q_ >> 4) * x1 - 8.0f * xs;                                \
    a += (s)[0] * t_;                                                                        \
} while (0)
#define Q4_1_STEP(b, s, a) do {                                                              \
    i32x16 q_ = wide(ld8((b) + 4));                                                          \
    v16 t_ = fc(q_ & 15) * x0 + fc(q_ >> 4) * x1;                                            \
    a += (s)[0] * t_;                                                                        \
    a += (s)[1] * xs;                                                                        \
} while (0)

// Prefetch: each block step also asks for the bytes 4 groups of 4 rows ahead, so the lines are in
// cache when the scale pass reaches them (the hardware prefetcher alone left the AVX-512 loop
// waiting on memory for ~40% of its time on a 100 MB matrix; with this it runs at its compute
// rate). Prefetch never faults, so it may point past the matrix (uintptr_t: no pointer overflow).
#define PF_GROUPS 4
#define PREFETCH(p, off) __builtin_prefetch((const void *)((uintptr_t)(p) + (uintptr_t)(off)))
#define CHUNK 64 // blocks per pass of the scale table (4 rows x 64 x 2 floats: 2 KB of stack)

// NS: scales per block (1, or 2 for Q4_1).
#define BLOCK32_BODY(BYTES, NS, STEP, SCALES) {                                              \
    const int64_t rb_ = nb * (BYTES);                                                        \
    float sc_[4][CHUNK * 2];                                                                 \
    int64_t r = r0;                                                                          \
    for (; r + 4 <= r1; r += 4) {                                                            \
        const uint8_t *p_[4] = {w + r * rb_, w + (r + 1) * rb_, w + (r + 2) * rb_, w + (r + 3) * rb_}; \
        v16 a0_ = 0, a1_ = 0, a2_ = 0, a3_ = 0;                                              \
        for (int64_t c = 0; c < nb; c += CHUNK) {                                            \
            int64_t n_ = nb - c < CHUNK ? nb - c : CHUNK;                                    \
            for (int k_ = 0; k_ < 4; k_++)                                                   \
                for (int64_t i = 0; i < n_; i++) SCALES(p_[k_] + (c + i) * (BYTES), &sc_[k_][(NS) * i]); \
            for (int64_t i = 0; i < n_; i++) {                                               \
                const float *xb_ = x + 32 * (c + i);                                         \
                PREFETCH(p_[0], PF_GROUPS * 4 * rb_ + (c + i) * 4 * (BYTES));                \
                PREFETCH(p_[0], PF_GROUPS * 4 * rb_ + (c + i) * 4 * (BYTES) + 64);           \
                v16 x0 = ldf(xb_), x1 = ldf(xb_ + 16), xs = x0 + x1;                         \
                (void)xs;                                                                    \
                STEP(p_[0] + (c + i) * (BYTES), &sc_[0][(NS) * i], a0_);                     \
                STEP(p_[1] + (c + i) * (BYTES), &sc_[1][(NS) * i], a1_);                     \
                STEP(p_[2] + (c + i) * (BYTES), &sc_[2][(NS) * i], a2_);                     \
                STEP(p_[3] + (c + i) * (BYTES), &sc_[3][(NS) * i], a3_);                     \
            }                                                                                \
        }                                                                                    \
        y[r] = hsum(a0_);                                                                    \
        y[r + 1] = hsum(a1_);                                                                \
        y[r + 2] = hsum(a2_);                                                                \
        y[r + 3] = hsum(a3_);                                                                \
    }                                                                                        \
    for (; r < r1; r++) {                                                                    \
        const uint8_t *p1_ = w + r * rb_;                                                    \
        v16 a_ = 0;                                                                          \
        for (int64_t i = 0; i < nb; i++) {                                                   \
            v16 x0 = ldf(x + 32 * i), x1 = ldf(x + 32 * i + 16), xs = x0 + x1;               \
            float s_[2];                                                                     \
            (void)xs;                                                                        \
            SCALES(p1_ + i * (BYTES), s_);                                                   \
            STEP(p1_ + i * (BYTES), s_, a_);                                                 \
        }                                                                                    \
        y[r] = hsum(a_);                                                                     \
    }                                                                                        \
}

// Scales of a block: the f16 d at its start (Q4_1: then m).
#define SCALE1(b, out) ((out)[0] = half(b))
#define SCALE2(b, out) ((out)[0] = half(b), (out)[1] = half((b) + 2))
#define BLOCK32_PARAMS (const uint8_t *w, const float *x, float *y, int64_t nb, int64_t r0, int64_t r1)
// 2 AVX-512, 1 AVX2 + FMA, 0 baseline: the level the 16-bit kernels use (and its test cap).
static int level(void) {
    const char *s = fk_simd_level();
    return strcmp(s, "avx512") == 0 ? 2 : strcmp(s, "avx2") == 0 ? 1 : 0;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma,f16c")))
#define TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
// F16C widens the first 4 halves at b (the scales, then quant bytes); 8 bytes are always there.
#define SCALE1_F16C(b, out) ((out)[0] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(b)))))
#define SCALE2_F16C(b, out) _mm_storel_pi((__m64 *)(out), _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(b))))
#define VARIANTS(name, params, args)                                                         \
    TARGET_AVX512 static void name##_avx512 params { name##_body args; }                     \
    TARGET_AVX2 static void name##_avx2 params { name##_body args; }                         \
    static void name##_base params { name##_body args; }                                     \
    static void name params {                                                                \
        int l_ = level();                                                                    \
        if (l_ == 2) name##_avx512 args;                                                     \
        else if (l_ == 1) name##_avx2 args;                                                  \
        else name##_base args;                                                               \
    }
// The 32-value products read their scales with F16C where the level has it.
#define BLOCK32_VARIANTS(name, BYTES, NS, STEP)                                              \
    TARGET_AVX512 static void name##_avx512 BLOCK32_PARAMS BLOCK32_BODY(BYTES, NS, STEP, SCALE##NS##_F16C) \
    TARGET_AVX2 static void name##_avx2 BLOCK32_PARAMS BLOCK32_BODY(BYTES, NS, STEP, SCALE##NS##_F16C) \
    static void name##_base BLOCK32_PARAMS BLOCK32_BODY(BYTES, NS, STEP, SCALE##NS)         \
    static void name BLOCK32_PARAMS {                                                        \
        int l_ = level();                                                                    \
        if (l_ == 2) name##_avx512(w, x, y, nb, r0, r1);                                     \
        else if (l_ == 1) name##_avx2(w, x, y, nb, r0, r1);                                  \
        else name##_base(w, x, y, nb, r0, r1);                                               \
    }
#else
#define VARIANTS(name, params, args) static void name params { name##_body args; }
#define BLOCK32_VARIANTS(name, BYTES, NS, STEP) static void name BLOCK32_PARAMS BLOCK32_BODY(BYTES, NS, STEP, SCALE##NS)
#endif

DEFINE_DEQUANT(q8_0, Q8_0_BLOCK, 32, 34)
DEFINE_DEQUANT(q4_0, Q4_0_BLOCK, 32, 18)
DEFINE_DEQUANT(q4_1, Q4_1_BLOCK, 32, 20)
DEFINE_DEQUANT(q4_k, Q4_K_BLOCK, 256, 144)
DEFINE_DEQUANT(q6_k, Q6_K_BLOCK, 256, 210)
BLOCK32_VARIANTS(matvec_q8_0, 34, 1, Q8_0_STEP)
BLOCK32_VARIANTS(matvec_q4_0, 18, 1, Q4_0_STEP)
BLOCK32_VARIANTS(matvec_q4_1, 20, 2, Q4_1_STEP)
DEFINE_MATVEC(q4_k, Q4_K_BLOCK, 256, 144)
DEFINE_MATVEC(q6_k, Q6_K_BLOCK, 256, 210)

void fq_dequantize(int type, const void *src, float *dst, int64_t n) {
    int64_t nb = n / block_values(type);
    switch (type) {
    case T_Q8_0: dequant_q8_0(src, dst, nb); break;
    case T_Q4_0: dequant_q4_0(src, dst, nb); break;
    case T_Q4_1: dequant_q4_1(src, dst, nb); break;
    case T_Q4_K: dequant_q4_k(src, dst, nb); break;
    case T_Q6_K: dequant_q6_k(src, dst, nb); break;
    default: break;
    }
}

void fq_matvec(int type, const void *w, const float *x, float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t nb = cols / block_values(type);
    switch (type) {
    case T_Q8_0: matvec_q8_0(w, x, y, nb, r0, r1); break;
    case T_Q4_0: matvec_q4_0(w, x, y, nb, r0, r1); break;
    case T_Q4_1: matvec_q4_1(w, x, y, nb, r0, r1); break;
    case T_Q4_K: matvec_q4_k(w, x, y, nb, r0, r1); break;
    case T_Q6_K: matvec_q6_k(w, x, y, nb, r0, r1); break;
    default: break;
    }
}
