// 16-lane float vectors (clang vector extensions) and the math the encoder's row kernels need.
// Each kernel's body is written once and compiled three times (AVX-512, AVX2 + FMA, baseline
// SSE2) by the VK_* macros below; the widest the processor runs is used, and tests can cap it to
// run every variant. The helpers are statement-expression macros because a function taking a
// 16-float vector would fix its ABI to one instruction set.
#ifndef VITKERNELS_VECMATH_H
#define VITKERNELS_VECMATH_H
#include <stdint.h>

typedef float v16 __attribute__((ext_vector_type(16)));
typedef int32_t v16i __attribute__((ext_vector_type(16)));

// The instruction set in use: 2 AVX-512, 1 AVX2 + FMA, 0 baseline (vk_level.c).
int vk_level(void);

// A kernel body, inlined into each variant so it is compiled for that variant's instructions.
#define BODY static inline __attribute__((always_inline))

// VK_VOID / VK_FLOAT define kernel `name` with the given parameter list (in parentheses) and
// argument list, from a BODY function `name##_body` taking the same parameters.
#if defined(__x86_64__)
#define VK_VARIANTS(ret, name, params, args)                                                        \
    __attribute__((target("avx512f"))) static ret name##_avx512 params { return name##_body args; } \
    __attribute__((target("avx2,fma"))) static ret name##_avx2 params { return name##_body args; }  \
    static ret name##_base params { return name##_body args; }                                      \
    static ret (*name##_pick(void)) params {                                                        \
        int l = vk_level();                                                                         \
        return l == 2 ? name##_avx512 : l == 1 ? name##_avx2 : name##_base;                         \
    }
#define VK_VOID(name, params, args) VK_VARIANTS(int, name, params, args) void name params { (void)name##_pick() args; }
#define VK_FLOAT(name, params, args) VK_VARIANTS(float, name, params, args) float name params { return name##_pick() args; }
#else
#define VK_VOID(name, params, args) void name params { (void)name##_body args; }
#define VK_FLOAT(name, params, args) float name params { return name##_body args; }
#endif

#define LD(p) ({ v16 v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define ST(p, v) do { v16 s_ = (v); __builtin_memcpy((p), &s_, sizeof s_); } while (0)
// Lane-wise select: m ? a : b.
#define SEL(m, a, b) ((v16)(((m) & (v16i)(a)) | (~(m) & (v16i)(b))))
#define VMAX(a, b) ({ v16 a_ = (a), b_ = (b); SEL(a_ > b_, a_, b_); })
#define HSUM(v) ({ v16 h_ = (v); float s_ = 0; for (int j_ = 0; j_ < 16; j_++) s_ += h_[j_]; s_; })
#define HMAX(v) ({ v16 h_ = (v); float m_ = h_[0]; for (int j_ = 1; j_ < 16; j_++) m_ = h_[j_] > m_ ? h_[j_] : m_; m_; })

// exp(x), relative error ~2e-7 on [-87.3, 88.3]; 0 below, clamped above. n = round(x / ln 2) by
// the 1.5 * 2^23 trick, Cody-Waite reduction, degree-6 Taylor polynomial, 2^n into the exponent.
#define VEXP(x) ({                                                                      \
    v16 x_ = (x);                                                                       \
    v16i low_ = x_ < (v16)(-87.3f);                                                     \
    v16 xc_ = SEL(low_, (v16)(-87.3f), x_);                                             \
    xc_ = SEL(xc_ > (v16)(88.3f), (v16)(88.3f), xc_);                                   \
    v16 r_ = xc_ * 1.442695040888963f + 12582912.0f;                                    \
    v16 n_ = r_ - 12582912.0f;                                                          \
    v16 f_ = xc_ - n_ * 0.693145751953125f;                                             \
    f_ = f_ - n_ * 1.428606765330187e-06f;                                              \
    v16 p_ = (v16)(1.0f / 720);                                                         \
    p_ = p_ * f_ + 1.0f / 120;                                                          \
    p_ = p_ * f_ + 1.0f / 24;                                                           \
    p_ = p_ * f_ + 1.0f / 6;                                                            \
    p_ = p_ * f_ + 0.5f;                                                                \
    p_ = p_ * f_ + 1.0f;                                                                \
    p_ = p_ * f_ + 1.0f;                                                                \
    v16i e_ = ((v16i)r_ - 0x4B400000 + 127) << 23;                                      \
    SEL(low_, (v16)0.0f, p_ * (v16)e_);                                                 \
})

// tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|): no cancellation near 0, exactly +-1 far out.
#define VTANH(x) ({                                                                     \
    v16 t_ = (x);                                                                       \
    v16i sign_ = (v16i)t_ & (int32_t)0x80000000;                                        \
    v16 a_ = (v16)((v16i)t_ & 0x7FFFFFFF);                                              \
    v16 ex_ = VEXP(-2.0f * a_);                                                         \
    (v16)((v16i)((1.0f - ex_) / (1.0f + ex_)) | sign_);                                 \
})

#endif
