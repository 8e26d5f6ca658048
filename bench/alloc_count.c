/*
 * alloc_count.c — counts heap allocations, for the benchmark's "zero heap
 * allocations per step" check.
 *
 * It defines malloc, calloc, realloc, free, posix_memalign, aligned_alloc,
 * memalign, valloc and pvalloc, forwarding each to glibc's own allocator
 * (__libc_malloc & co.) and, while counting is enabled, counting the calls
 * from EVERY thread (OpenBLAS's worker threads included) with atomics.
 * glibc routes its internal allocations through these symbols too, so
 * nothing that allocates from the C heap is missed (mmap by hand is not a
 * heap allocation and is not counted).
 *
 * Two ways to use it:
 *  - as an LD_PRELOAD shim (cc -shared -fPIC -O2 alloc_count.c -o alloc_count.so -ldl):
 *    a program finds alloc_count_enable/alloc_count_get with
 *    dlsym(RTLD_DEFAULT, ...) (bench/swiftmlp_driver.c does) and runs
 *    unchanged without the shim;
 *  - linked into a program (bench/alloc_check.c: cc ... alloc_check.c
 *    alloc_count.c -rdynamic): the program's definitions interpose on the
 *    whole process, shared libraries included.
 *
 * glibc only (the __libc_* entry points).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <execinfo.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

#define AC_TRACES 2
#define AC_FRAMES 12

static int ac_enabled;
static unsigned long long ac_allocs, ac_frees, ac_bytes;
/* The first few allocations while enabled, with their call stacks. */
static void *ac_trace[AC_TRACES][AC_FRAMES];
static int ac_trace_depth[AC_TRACES];
static size_t ac_trace_size[AC_TRACES];
static const char *ac_trace_fn[AC_TRACES];
static unsigned ac_traced;
/* no recursion through backtrace(); initial-exec: reading it never calls malloc */
static __thread int ac_inside __attribute__((tls_model("initial-exec")));

static void ac_count(const char *fn, size_t bytes) {
    if (!__atomic_load_n(&ac_enabled, __ATOMIC_RELAXED) || ac_inside) return;
    __atomic_fetch_add(&ac_allocs, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&ac_bytes, (unsigned long long)bytes, __ATOMIC_RELAXED);
    unsigned slot = __atomic_fetch_add(&ac_traced, 1, __ATOMIC_RELAXED);
    if (slot < AC_TRACES) {
        ac_inside = 1;
        ac_trace_fn[slot] = fn;
        ac_trace_size[slot] = bytes;
        ac_trace_depth[slot] = backtrace(ac_trace[slot], AC_FRAMES);
        ac_inside = 0;
    }
}

/** Start (on != 0) or stop counting. Starting resets the counters. */
void alloc_count_enable(int on) {
    if (on) {
        /* backtrace() loads libgcc_s (which allocates) on its first use: do that now. */
        void *tmp[2];
        ac_inside = 1;
        backtrace(tmp, 2);
        ac_inside = 0;
        __atomic_store_n(&ac_allocs, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&ac_frees, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&ac_bytes, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&ac_traced, 0, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&ac_enabled, on ? 1 : 0, __ATOMIC_SEQ_CST);
}

/** Allocation calls, free calls and bytes requested since counting started. */
void alloc_count_get(unsigned long long *allocs, unsigned long long *frees, unsigned long long *bytes) {
    if (allocs) *allocs = __atomic_load_n(&ac_allocs, __ATOMIC_RELAXED);
    if (frees) *frees = __atomic_load_n(&ac_frees, __ATOMIC_RELAXED);
    if (bytes) *bytes = __atomic_load_n(&ac_bytes, __ATOMIC_RELAXED);
}

/** Prints the call stacks of the first allocations counted (call with counting stopped). */
void alloc_count_report(FILE *f) {
    unsigned n = __atomic_load_n(&ac_traced, __ATOMIC_RELAXED);
    if (n > AC_TRACES) n = AC_TRACES;
    for (unsigned i = 0; i < n; i++) {
        fprintf(f, "alloc_count: allocation %u: %s(%zu bytes) from\n", i + 1, ac_trace_fn[i], ac_trace_size[i]);
        fflush(f);
        /* backtrace_symbols_fd does not allocate */
        backtrace_symbols_fd(ac_trace[i] + 1, ac_trace_depth[i] > 1 ? ac_trace_depth[i] - 1 : 0, fileno(f));
    }
}

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    ac_count("malloc", n);
    return p;
}

void *calloc(size_t n, size_t s) {
    void *p = __libc_calloc(n, s);
    ac_count("calloc", n * s);
    return p;
}

void *realloc(void *old, size_t n) {
    void *p = __libc_realloc(old, n);
    ac_count("realloc", n);
    return p;
}

void free(void *p) {
    if (p && __atomic_load_n(&ac_enabled, __ATOMIC_RELAXED) && !ac_inside)
        __atomic_fetch_add(&ac_frees, 1, __ATOMIC_RELAXED);
    __libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t n) {
    if (align < sizeof(void *) || (align & (align - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(align, n);
    ac_count("posix_memalign", n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    ac_count("aligned_alloc", n);
    return p;
}

void *memalign(size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    ac_count("memalign", n);
    return p;
}

void *valloc(size_t n) {
    void *p = __libc_valloc(n);
    ac_count("valloc", n);
    return p;
}

void *pvalloc(size_t n) {
    void *p = __libc_pvalloc(n);
    ac_count("pvalloc", n);
    return p;
}
