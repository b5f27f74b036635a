// Load-time choice of OpenBLAS's kernel family (see include/blascore.h).
//
// OpenBLAS built with DYNAMIC_ARCH (Debian's is) reads OPENBLAS_CORETYPE only inside
// gotoblas_dynamic_init, which its own constructor runs when the library loads, before this
// module's constructor (a dependency initialises first). To change the pick afterwards, the
// variable is set for the moment of a second gotoblas_dynamic_quit + gotoblas_dynamic_init,
// which swaps the kernel table and its blocking parameters; no BLAS call has run yet, so no
// buffer or thread holds state of the old table. Those two entry points, the core names and
// the per-core tables are looked up with dlsym, so another BLAS, or an OpenBLAS without them,
// is left exactly as it loaded.
#define _GNU_SOURCE
#include "blascore.h"
#include "processor.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char library_core[32] = "unknown";
static const char *chosen_by = "library";
static const char *wanted = "";

typedef char *(*corename_fn)(void);
typedef void (*void_fn)(void);

static const char *current_core(void) {
    corename_fn f = (corename_fn)dlsym(RTLD_DEFAULT, "openblas_get_corename");
    const char *name = f ? f() : NULL;
    return name ? name : "unknown";
}

// OpenBLAS's x86-64 families by the instruction set their kernels need.
static int core_level(const char *core) {
    static const char *avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    static const char *avx2[] = {"Haswell", "Zen"};
    static const char *avx[] = {"Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"};
    for (size_t i = 0; i < sizeof avx512 / sizeof *avx512; i++) if (!strcasecmp(core, avx512[i])) return ISA_AVX512;
    for (size_t i = 0; i < sizeof avx2 / sizeof *avx2; i++) if (!strcasecmp(core, avx2[i])) return ISA_AVX2;
    for (size_t i = 0; i < sizeof avx / sizeof *avx; i++) if (!strcasecmp(core, avx[i])) return ISA_AVX;
    return ISA_BASE;
}

int bc_core_is_avx512(const char *core) { return core && core_level(core) == ISA_AVX512; }

static const struct family { const char *name, *table; int level, bf16; } families[] = {
    {"Cooperlake", "gotoblas_COOPERLAKE", ISA_AVX512, 1},
    {"SkylakeX", "gotoblas_SKYLAKEX", ISA_AVX512, 0},
    {"Haswell", "gotoblas_HASWELL", ISA_AVX2, 0},
    {"Sandybridge", "gotoblas_SANDYBRIDGE", ISA_AVX, 0},
};
enum { FAMILIES = sizeof families / sizeof *families };

// Whether this library has the family (its kernel table is exported as gotoblas_<NAME>) and the
// processor runs it.
static int usable(const struct family *f) {
    if (f->level > bc_processor_isa_level() || (f->bf16 && !bc_processor_has_avx512_bf16())) return 0;
    return dlsym(RTLD_DEFAULT, f->table) != NULL;
}

__attribute__((constructor)) static void select_blas_core(void) {
    const char *loaded = current_core();
    strncpy(library_core, loaded, sizeof library_core - 1);
    int first = 0;
    while (first < FAMILIES && !usable(&families[first])) first++;
    if (first == FAMILIES) return;
    wanted = families[first].name;
    if (getenv("OPENBLAS_CORETYPE")) { chosen_by = "user"; return; }
    if (core_level(loaded) >= families[first].level) return;
    void_fn quit = (void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void_fn init = (void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (!quit || !init) return;
    // Best family first. Some releases do not accept every name they ship (0.3.21 refuses
    // "Cooperlake" and then falls back by itself), so the result is checked by its level.
    for (int i = first; i < FAMILIES; i++) {
        if (!usable(&families[i])) continue;
        setenv("OPENBLAS_CORETYPE", families[i].name, 1);
        quit();
        init();
        unsetenv("OPENBLAS_CORETYPE");  // the user's environment as it was, for child processes
        if (core_level(current_core()) >= families[i].level) { chosen_by = "fluxchat"; return; }
    }
    // Nothing took: back to the library's own pick.
    setenv("OPENBLAS_CORETYPE", library_core, 1);
    quit();
    init();
    unsetenv("OPENBLAS_CORETYPE");
}

const char *bc_blas_core(void) { return current_core(); }
const char *bc_blas_library_core(void) { return library_core; }
const char *bc_blas_core_chosen_by(void) { return chosen_by; }
const char *bc_blas_core_for_processor(void) { return wanted; }
