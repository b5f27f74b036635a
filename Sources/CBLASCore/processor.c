// Processor identification by CPUID, gated by what the OS saves (XCR0): a feature the OS does
// not enable would fault, so it is not reported.
#include "blascore.h"
#include "processor.h"
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

static struct {
    int done;
    char name[64];
    char features[512];
    int level;
    int avx512_bf16;
} info;

static unsigned long long xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void add(const char *name, int present) {
    if (!present) return;
    size_t used = strlen(info.features);
    snprintf(info.features + used, sizeof info.features - used, "%s%s", used ? " " : "", name);
}

static void detect(void) {
    if (__atomic_load_n(&info.done, __ATOMIC_ACQUIRE)) return;
    unsigned int a = 0, b = 0, c = 0, d = 0;
    unsigned int max_leaf = __get_cpuid_max(0, NULL);
    char vendor[13] = {0};
    __cpuid(0, a, b, c, d);
    memcpy(vendor, &b, 4); memcpy(vendor + 4, &d, 4); memcpy(vendor + 8, &c, 4);

    __cpuid(1, a, b, c, d);
    unsigned int family = (a >> 8) & 0xF, model = (a >> 4) & 0xF;
    if (family == 0xF) family += (a >> 20) & 0xFF;
    if (family == 0x6 || family >= 0xF) model |= ((a >> 16) & 0xF) << 4;
    snprintf(info.name, sizeof info.name, "%s family %u model %u", vendor, family, model);

    unsigned int ecx1 = c, edx1 = d;
    unsigned long long xcr = (ecx1 & (1u << 27)) ? xcr0() : 0;  // OSXSAVE: XGETBV is allowed
    int os_avx = (xcr & 0x6) == 0x6;                               // XMM and YMM state
    int os_avx512 = os_avx && (xcr & 0xE0) == 0xE0;                // opmask, ZMM0-15 high, ZMM16-31

    unsigned int b7 = 0, c7 = 0, d7 = 0, a71 = 0;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b7, c7, d7);
        unsigned int max_sub = a;
        if (max_sub >= 1) __cpuid_count(7, 1, a71, b, c, d);
    }
    add("sse2", edx1 & (1u << 26));
    add("sse3", ecx1 & 1u);
    add("ssse3", ecx1 & (1u << 9));
    add("sse4_1", ecx1 & (1u << 19));
    add("sse4_2", ecx1 & (1u << 20));
    int avx = os_avx && (ecx1 & (1u << 28));
    int fma = os_avx && (ecx1 & (1u << 12));
    int avx2 = os_avx && (b7 & (1u << 5));
    add("avx", avx);
    add("fma", fma);
    add("f16c", os_avx && (ecx1 & (1u << 29)));
    add("avx2", avx2);
    add("avx_vnni", os_avx && (a71 & (1u << 4)));
    int f = os_avx512 && (b7 & (1u << 16)), dq = os_avx512 && (b7 & (1u << 17)), cd = os_avx512 && (b7 & (1u << 28));
    int bw = os_avx512 && (b7 & (1u << 30)), vl = os_avx512 && (b7 & (1u << 31));
    add("avx512f", f);
    add("avx512dq", dq);
    add("avx512cd", cd);
    add("avx512bw", bw);
    add("avx512vl", vl);
    add("avx512ifma", os_avx512 && (b7 & (1u << 21)));
    add("avx512vbmi", os_avx512 && (c7 & (1u << 1)));
    add("avx512_vnni", os_avx512 && (c7 & (1u << 11)));
    info.avx512_bf16 = os_avx512 && (a71 & (1u << 5));
    add("avx512_bf16", info.avx512_bf16);
    add("avx512_fp16", os_avx512 && (d7 & (1u << 23)));
    add("amx_tile", d7 & (1u << 24));

    if (f && dq && cd && bw && vl) info.level = ISA_AVX512;
    else if (avx2 && fma) info.level = ISA_AVX2;
    else if (avx) info.level = ISA_AVX;
    else info.level = ISA_BASE;
    __atomic_store_n(&info.done, 1, __ATOMIC_RELEASE);
}

const char *bc_processor(void) { detect(); return info.name; }
const char *bc_processor_features(void) { detect(); return info.features; }
int bc_processor_isa_level(void) { detect(); return info.level; }
int bc_processor_has_avx512_bf16(void) { detect(); return info.avx512_bf16; }

#else

#if defined(__aarch64__)
const char *bc_processor(void) { return "aarch64"; }
#else
const char *bc_processor(void) { return "unknown"; }
#endif
const char *bc_processor_features(void) { return ""; }
int bc_processor_isa_level(void) { return ISA_BASE; }
int bc_processor_has_avx512_bf16(void) { return 0; }

#endif
