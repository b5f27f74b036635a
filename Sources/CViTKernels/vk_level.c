// Which variant of the row kernels runs (see vecmath.h), with a cap for tests.
#include "vitkernels.h"
#include "vecmath.h"
#include <string.h>

static int level_cache = -1;

static int detect(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;  // checks the OS saves the registers too
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

int vk_level(void) {
    int l = __atomic_load_n(&level_cache, __ATOMIC_RELAXED);
    if (l < 0) {
        l = detect();
        __atomic_store_n(&level_cache, l, __ATOMIC_RELAXED);
    }
    return l;
}

const char *vk_simd_level(void) {
    static const char *names[] = {"portable", "avx2", "avx512"};
    return names[vk_level()];
}

const char *vk_limit_simd_level(const char *name) {
    int l = detect();
    if (strcmp(name, "portable") == 0) l = 0;
    else if (strcmp(name, "avx2") == 0 && l > 1) l = 1;
    __atomic_store_n(&level_cache, l, __ATOMIC_RELAXED);
    return vk_simd_level();
}
