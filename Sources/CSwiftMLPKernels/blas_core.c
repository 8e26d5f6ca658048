/* OpenBLAS core selection on CPUs that OpenBLAS 0.3.21 does not know.
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
 * OPENBLAS_CORETYPE is set. */
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

static char replaced[32];

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
    if (replaced[0])
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

static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/* The best OpenBLAS 0.3.21 core name for this CPU and OS, or NULL. */
static const char *best_core(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return NULL;
    bool osxsave = c & (1u << 27), fma = c & (1u << 12), avx = c & (1u << 28);
    if (!osxsave || !avx) return NULL;
    uint64_t xcr0 = xgetbv0();
    bool ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return NULL;
    bool avx2 = b & (1u << 5);
    bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 28)) && /* F, DQ, CD */
                  (b & (1u << 30)) && (b & (1u << 31));                         /* BW, VL */
    if (avx512 && zmm) {
        unsigned a1 = 0, b1, c1, d1;
        bool bf16 = __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) && (a1 & (1u << 5));
        return bf16 ? "Cooperlake" : "SkylakeX";
    }
    if (avx2 && fma && ymm) return "Haswell";
    return NULL;
}

/* The core for a CPU level lowered by SWIFTMLP_CPU, or for the CPU's own
 * level when OpenBLAS fell back to Prescott; NULL to keep OpenBLAS's. */
static const char *wanted_core(const char *now) {
    int level = smlp_cpu_level();
    if (level < smlp_cpu_detected_level()) return level == SMLP_CPU_AVX2 ? "Haswell" : "Prescott";
    const char *opt = getenv("SWIFTMLP_OPENBLAS_CORE_FIX");
    if ((opt && strcmp(opt, "0") == 0) || strcasecmp(now, "prescott") != 0) return NULL;
    return best_core();
}

void smlp_blas_correct_core(void) {
    if (getenv("OPENBLAS_CORETYPE")) return;
    const char *now = openblas_get_corename();
    if (!now) return;
    const char *want = wanted_core(now);
    if (!want || strcasecmp(now, want) == 0) return;
    char before[sizeof replaced];
    snprintf(before, sizeof before, "%s", now);
    if (setenv("OPENBLAS_CORETYPE", want, 0) != 0) return;
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    if (strcasecmp(openblas_get_corename(), before) != 0) memcpy(replaced, before, sizeof replaced);
}
#else
void smlp_blas_correct_core(void) {}
#endif
