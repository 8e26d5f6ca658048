/* OpenBLAS core selection: the core OpenBLAS runs must be one the CPU can
 * run, and on CPUs OpenBLAS 0.3.21 does not know, the best one it can.
 *
 * Debian 12's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the
 * CPU model number. Models newer than its table, Emerald Rapids (family 6,
 * model 207) among them, fall back to "Prescott", its SSE3 kernels: 3-5x
 * slower GEMM than the AVX-512 kernels the CPU can run. OpenBLAS 0.3.22 and
 * later choose by CPU features instead; this does the same, for swiftmlp's
 * private OpenBLAS copy only, once before its first product:
 *
 *   - only if OPENBLAS_CORETYPE is unset (the user's choice wins) and
 *     SWIFTMLP_OPENBLAS_CORE_FIX is not "0";
 *   - only if OpenBLAS chose the Prescott fallback;
 *   - it asks OpenBLAS for the best core the CPU and OS support: Cooperlake
 *     (AVX-512 with BF16), SkylakeX (AVX-512 F/CD/BW/DQ/VL) or Haswell
 *     (AVX2 + FMA), through OpenBLAS's own OPENBLAS_CORETYPE mechanism; the
 *     variable is set only for that call and removed again.
 *
 * The same mechanism applies a CPU level lowered by SWIFTMLP_CPU (cpu.c):
 * avx2 runs the Haswell core, baseline the Prescott one (SSE3), unless
 * OPENBLAS_CORETYPE is set.
 *
 * The user's choice wins only where the CPU can run it. OPENBLAS_CORETYPE
 * may name any of OpenBLAS's cores, and OpenBLAS runs it without asking
 * whether the CPU has its instructions: SkylakeX on an AVX2-only CPU, or
 * Opteron (3DNow!) on any current one, ends the process with SIGILL at the
 * first product. So a core chosen through OPENBLAS_CORETYPE is kept only
 * when the CPU has every extension of the CPUs it was written for
 * (`cores` below); otherwise it is replaced by the level's core as above,
 * the variable is restored to the user's value afterwards, and
 * swiftmlp_blas_info() names the refused core and the missing extension. */
#define _GNU_SOURCE
#include "smlp_kernels.h"

#include <cblas.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

/* The core OpenBLAS had chosen before smlp_blas_correct_core replaced it
 * ("" when it did not), and for a core OPENBLAS_CORETYPE asked for, the
 * extension this CPU lacks (NULL otherwise). */
static char replaced[32];
static const char *replaced_lacks;

bool smlp_blas_private(void) {
#ifdef SMLP_PRIVATE_OPENBLAS
    return true;
#else
    return false;
#endif
}

/* One text per thread count, each written once and then never changed, so
 * a returned pointer stays valid and its text true for that count. */
static char info[65][256];
static pthread_mutex_t info_lock = PTHREAD_MUTEX_INITIALIZER;

static void make_info(char *text, size_t size, int threads) {
    /* openblas_get_config(): "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ..." */
    char name[32] = "OpenBLAS", version[32] = "";
    const char *config = openblas_get_config();
    if (config) sscanf(config, "%31s %31s", name, version);
    const char *core = openblas_get_corename();
    char corenote[96] = "";
    if (replaced[0] && replaced_lacks)
        snprintf(corenote, sizeof corenote, " (replacing OPENBLAS_CORETYPE's %s: this CPU lacks %s)", replaced,
                 replaced_lacks);
    else if (replaced[0])
        snprintf(corenote, sizeof corenote, " (replacing OpenBLAS's %s%s)", replaced,
                 strcasecmp(replaced, "prescott") == 0 ? " fallback" : "");
    const char *level = smlp_cpu_level_name(smlp_cpu_level());
    if (smlp_blas_private())
        snprintf(text, size, "%s %s (private copy), core %s%s, CPU level %s, %d thread%s for products of >= %.0f multiply-adds",
                 name, version, core ? core : "?", corenote, level, threads, threads == 1 ? "" : "s", smlp_gemm_parallel_min());
    else
        snprintf(text, size, "%s %s (shared library), core %s, CPU level %s, threads chosen by OpenBLAS (%d)",
                 name, version, core ? core : "?", level, threads);
}

const char *smlp_blas_info(void) {
    int threads = smlp_blas_get_threads();
    if (threads < 1 || threads > 64) threads = 0; /* a shared OpenBLAS's own count, out of the table */
    pthread_mutex_lock(&info_lock);
    if (!info[threads][0]) make_info(info[threads], sizeof info[threads], threads);
    pthread_mutex_unlock(&info_lock);
    return info[threads];
}

#if defined(SMLP_PRIVATE_OPENBLAS) && defined(__x86_64__)
/* DYNAMIC_ARCH OpenBLAS: forget the chosen core / choose one (reads
 * OPENBLAS_CORETYPE). */
extern void gotoblas_dynamic_quit(void);
extern void gotoblas_dynamic_init(void);

/* Instruction-set extensions beyond x86-64's SSE2, as bits of `cpu_has`. */
enum {
    HAS_SSE3 = 1 << 0, HAS_SSSE3 = 1 << 1, HAS_SSE41 = 1 << 2, HAS_SSE42 = 1 << 3,
    HAS_SSE4A = 1 << 4, HAS_3DNOW = 1 << 5, HAS_AVX = 1 << 6, HAS_FMA = 1 << 7,
    HAS_AVX2 = 1 << 8, HAS_FMA4 = 1 << 9, HAS_XOP = 1 << 10, HAS_AVX512 = 1 << 11,
    HAS_BF16 = 1 << 12,
};
/* The extensions' names, by bit. */
static const char *const extension_names[] = {
    "SSE3", "SSSE3", "SSE4.1", "SSE4.2", "SSE4a", "3DNow!", "AVX", "FMA",
    "AVX2", "FMA4", "XOP", "AVX-512", "AVX-512 BF16",
};
_Static_assert(1u << (sizeof extension_names / sizeof extension_names[0] - 1) == HAS_BF16,
               "one name per extension bit");

/* OpenBLAS 0.3.21's x86-64 cores and the extensions each needs: those of
 * the CPUs it was written for, except Zen, whose kernels are Haswell's
 * (cores OpenBLAS maps to Prescott on x86-64, as Katmai, need what Prescott
 * needs). A core missing here is kept as it is. On an AVX2 CPU without
 * AVX-512 (Zen 3), Opteron, Opteron_SSE3, the Bulldozer family and
 * SkylakeX ended a test program with SIGILL; every other core ran
 * (Cooperlake as Haswell: OpenBLAS checks BF16 itself). */
static const struct {
    const char *core;
    unsigned needs;
} cores[] = {
    {"Prescott", HAS_SSE3},
    {"Atom", HAS_SSE3 | HAS_SSSE3},
    {"Core2", HAS_SSE3 | HAS_SSSE3},
    {"Penryn", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41},
    {"Dunnington", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41},
    {"Nehalem", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42},
    {"Opteron", HAS_3DNOW},
    {"Opteron_SSE3", HAS_3DNOW | HAS_SSE3},
    {"Barcelona", HAS_SSE3 | HAS_SSE4A},
    {"Bobcat", HAS_SSE3 | HAS_SSSE3 | HAS_SSE4A},
    {"Nano", HAS_SSE3 | HAS_SSSE3},
    {"Sandybridge", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_AVX},
    {"Bulldozer", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_SSE4A | HAS_AVX | HAS_FMA4 | HAS_XOP},
    {"Piledriver", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_SSE4A | HAS_AVX | HAS_FMA4 | HAS_XOP | HAS_FMA},
    {"Steamroller", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_SSE4A | HAS_AVX | HAS_FMA4 | HAS_XOP | HAS_FMA},
    {"Excavator", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_SSE4A | HAS_AVX | HAS_FMA4 | HAS_XOP | HAS_FMA | HAS_AVX2},
    {"Haswell", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_AVX | HAS_FMA | HAS_AVX2},
    {"Zen", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_AVX | HAS_FMA | HAS_AVX2},
    {"SkylakeX", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_AVX | HAS_FMA | HAS_AVX2 | HAS_AVX512},
    {"Cooperlake", HAS_SSE3 | HAS_SSSE3 | HAS_SSE41 | HAS_SSE42 | HAS_AVX | HAS_FMA | HAS_AVX2 | HAS_AVX512 | HAS_BF16},
};

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* The extensions this CPU has and the OS enables (the AVX family needs the
 * OS to save the YMM, AVX-512 also the ZMM and mask registers). */
static unsigned cpu_has(void) {
    unsigned a, b, c, d, has = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (c & (1u << 0)) has |= HAS_SSE3;
    if (c & (1u << 9)) has |= HAS_SSSE3;
    if (c & (1u << 19)) has |= HAS_SSE41;
    if (c & (1u << 20)) has |= HAS_SSE42;
    bool osxsave = c & (1u << 27);
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    bool ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    if (ymm && (c & (1u << 28))) has |= HAS_AVX;
    if (ymm && (c & (1u << 12))) has |= HAS_FMA;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d)) {
        if (c & (1u << 6)) has |= HAS_SSE4A;
        if (ymm && (c & (1u << 16))) has |= HAS_FMA4;
        if (ymm && (c & (1u << 11))) has |= HAS_XOP;
        if ((d & (1u << 31)) && (d & (1u << 30))) has |= HAS_3DNOW; /* and its extensions */
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if (ymm && (b & (1u << 5))) has |= HAS_AVX2;
        bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 28)) && /* F, DQ, CD */
                      (b & (1u << 30)) && (b & (1u << 31));                         /* BW, VL */
        if (zmm && avx512) has |= HAS_AVX512;
        if ((has & HAS_AVX512) && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5))) has |= HAS_BF16;
    }
    return has;
}

/* The first extension `core` needs that `has` lacks, or NULL. */
static const char *missing_extension(const char *core, unsigned has) {
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++) {
        if (strcasecmp(core, cores[i].core) != 0) continue;
        unsigned lacks = cores[i].needs & ~has;
        for (int bit = 0; lacks; bit++)
            if (lacks & (1u << bit)) return extension_names[bit];
    }
    return NULL;
}

/* The best OpenBLAS 0.3.21 core for this CPU and OS at the CPU level
 * (SWIFTMLP_CPU may lower it): Cooperlake, SkylakeX, Haswell, or Prescott. */
static const char *level_core(unsigned has) {
    int level = smlp_cpu_level();
    if (level >= SMLP_CPU_AVX512 && !missing_extension("Cooperlake", has)) return "Cooperlake";
    if (level >= SMLP_CPU_AVX512 && !missing_extension("SkylakeX", has)) return "SkylakeX";
    if (level >= SMLP_CPU_AVX2 && !missing_extension("Haswell", has)) return "Haswell";
    return "Prescott";
}

/* The core to run instead of `now`, or NULL to keep it; `forced`:
 * OPENBLAS_CORETYPE is set. Sets *lacking when the user's core cannot run
 * here. */
static const char *wanted_core(const char *now, bool forced, unsigned has, const char **lacking) {
    if (forced) {
        *lacking = missing_extension(now, has);
        return *lacking ? level_core(has) : NULL;
    }
    if (smlp_cpu_level() < smlp_cpu_detected_level()) return level_core(has);
    const char *opt = getenv("SWIFTMLP_OPENBLAS_CORE_FIX");
    if ((opt && strcmp(opt, "0") == 0) || strcasecmp(now, "prescott") != 0) return NULL;
    return level_core(has);
}

void smlp_blas_correct_core(void) {
    const char *now = openblas_get_corename();
    if (!now) return;
    const char *env = getenv("OPENBLAS_CORETYPE");
    char user[64] = "";
    if (env) snprintf(user, sizeof user, "%s", env);
    const char *lacking = NULL;
    const char *want = wanted_core(now, env != NULL, cpu_has(), &lacking);
    if (!want || strcasecmp(now, want) == 0) return;
    char before[sizeof replaced];
    snprintf(before, sizeof before, "%s", now);
    /* OpenBLAS reads the variable in gotoblas_dynamic_init; it is set for
     * that call only and then restored (unset, or the user's value). */
    if (setenv("OPENBLAS_CORETYPE", want, 1) != 0) return;
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    if (env) setenv("OPENBLAS_CORETYPE", user, 1);
    else unsetenv("OPENBLAS_CORETYPE");
    if (strcasecmp(openblas_get_corename(), before) != 0) {
        memcpy(replaced, before, sizeof replaced);
        replaced_lacks = lacking;
    }
}
#else
void smlp_blas_correct_core(void) {}
#endif
