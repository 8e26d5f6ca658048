/* The CPU level: the one switch every CPU-dependent choice of the BLAS
 * layer consults (gemm.c's AVX-512 small-product path and tile transposes,
 * blas_core.c's OpenBLAS core, elementwise.c's kernel variants).
 *
 * The level is the best of avx512 (AVX-512 F), avx2 (AVX2 and FMA) and
 * baseline (x86-64's SSE2) that the CPU and OS support, lowered by the
 * environment variable SWIFTMLP_CPU ("avx512", "avx2" or "baseline") when
 * that names a lower one. It is read once, at the first call; any other
 * value, or a level above the CPU's, is ignored (never an error, never
 * printed). Levels only choose among code paths with the same arithmetic
 * per element, except where the OpenBLAS core changes (docs/cpu.md). */
#include "smlp_kernels.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"baseline", "avx2", "avx512"};

/* The best level this CPU and OS support. */
static int detected_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    /* __builtin_cpu_supports checks the OS's register saving (XCR0) too. */
    if (__builtin_cpu_supports("avx512f")) return SMLP_CPU_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SMLP_CPU_AVX2;
#endif
    return SMLP_CPU_BASELINE;
}

/* -1: not read yet. Concurrent first calls compute the same value. */
static _Atomic int level = -1, detected = -1;

static void read_level(void) {
    int best = detected_level(), chosen = best;
    const char *env = getenv("SWIFTMLP_CPU");
    for (int i = 0; env && i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(env, names[i]) == 0 && i < best) chosen = i;
    atomic_store_explicit(&detected, best, memory_order_relaxed);
    atomic_store_explicit(&level, chosen, memory_order_relaxed);
}

int smlp_cpu_level(void) {
    int l = atomic_load_explicit(&level, memory_order_relaxed);
    if (l >= 0) return l;
    read_level();
    return atomic_load_explicit(&level, memory_order_relaxed);
}

int smlp_cpu_detected_level(void) {
    if (atomic_load_explicit(&detected, memory_order_relaxed) < 0) read_level();
    return atomic_load_explicit(&detected, memory_order_relaxed);
}

const char *smlp_cpu_level_name(int l) {
    return l >= 0 && l < (int)(sizeof names / sizeof names[0]) ? names[l] : "?";
}
