/*
 * small_products.c — the library's own small-product kernels
 * (Sources/CSwiftMLPKernels/small_gemm.c) against OpenBLAS on the same
 * product, one at a time: the measurement behind gemm.c's own_small_max.
 *
 *   OPENBLAS_CORETYPE=Haswell bench/results/bin/small_products
 *
 * For each shape, a layer's three forms (f = g_prev W^T: "NT"; dW =
 * df^T g_prev: "TN"; dg_prev = df W: "NN", as gemm_bound.c runs them) in
 * float64 and float32: the two alternate in 7 rounds of ~20 ms each, and
 * the best round of each is printed in nanoseconds per product, with own ÷
 * OpenBLAS (below 1: the own kernel is faster). Before timing, both must
 * give the same C (relative max-norm <= 1e-12 double, 1e-5 float), else it
 * exits 1. OpenBLAS here is the private archive, single-threaded, on the
 * core OPENBLAS_CORETYPE names (its own choice when unset): the library
 * takes the own kernels on its AVX2 cores (Haswell, Zen) only. Exits 1 with a
 * message on a CPU without AVX2 and FMA.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "smlp_kernels.h"

void openblas_set_num_threads(int);
char *openblas_get_corename(void);

enum { ROUNDS = 7 };

/* A layer N_in -> N_out at batch B, as in the benchmark's workloads. */
static const struct { int batch, n_in, n_out; } layers[] = {
    {32, 64, 32},  {32, 32, 10},  /* small [64, 32, 10], B = 32 */
    {64, 128, 10},                /* mnist-ish's last layer, B = 64 */
    {32, 64, 128}, {32, 128, 10}, /* digits [64, 128, 10], B = 32 */
    {64, 64, 64},  {48, 70, 40},  {100, 100, 100},
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void blas(bool dbl, bool ta, bool tb, int m, int n, int k, const void *a, int lda, const void *b, int ldb,
                 void *c) {
    enum CBLAS_TRANSPOSE x = ta ? CblasTrans : CblasNoTrans, y = tb ? CblasTrans : CblasNoTrans;
    if (dbl) cblas_dgemm(CblasRowMajor, x, y, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
    else cblas_sgemm(CblasRowMajor, x, y, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
}

/* Nanoseconds per product, the best of ROUNDS rounds, for the own kernel
 * (own) or OpenBLAS. */
static double best_ns(bool own, bool dbl, bool ta, bool tb, int m, int n, int k, const void *a, int lda,
                      const void *b, int ldb, void *c) {
    int iters = 20000000 / (m * n * k) + 10;
    double best = INFINITY;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        for (int i = 0; i < iters; i++) {
            if (own) smlp_small_gemm_avx2(dbl, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
            else blas(dbl, ta, tb, m, n, k, a, lda, b, ldb, c);
        }
        double ns = (now() - t0) / iters * 1e9;
        if (ns < best) best = ns;
    }
    return best;
}

/* One form of one layer: checks, times, prints; false when the two disagree. */
static bool run(bool dbl, const char *form, bool ta, bool tb, int m, int n, int k) {
    size_t es = dbl ? sizeof(double) : sizeof(float), na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    char *a = malloc(na * es), *b = malloc(nb * es), *c = malloc(nc * es), *d = malloc(nc * es);
    if (!a || !b || !c || !d) {
        fprintf(stderr, "small_products: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < na + nb; i++) {
        double v = sin(0.37 * (double)i);
        void *p = i < na ? a + i * es : b + (i - na) * es;
        if (dbl) *(double *)p = v;
        else *(float *)p = (float)v;
    }
    int lda = ta ? m : k, ldb = tb ? k : n;
    smlp_small_gemm_avx2(dbl, ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
    blas(dbl, ta, tb, m, n, k, a, lda, b, ldb, d);
    double diff = 0, scale = 0;
    for (size_t i = 0; i < nc; i++) {
        double x = dbl ? ((double *)c)[i] : ((float *)c)[i], y = dbl ? ((double *)d)[i] : ((float *)d)[i];
        diff = fmax(diff, fabs(x - y));
        scale = fmax(scale, fabs(y));
    }
    bool agree = diff <= (dbl ? 1e-12 : 1e-5) * scale;
    double own = INFINITY, other = INFINITY;
    for (int side = 0; agree && side < 4; side++) {  /* own, OpenBLAS, OpenBLAS, own */
        bool is_own = side == 0 || side == 3;
        double ns = best_ns(is_own, dbl, ta, tb, m, n, k, a, lda, b, ldb, c);
        if (is_own) own = fmin(own, ns);
        else other = fmin(other, ns);
    }
    printf("%s %s m %4d n %4d k %4d (%7d multiply-adds): own %9.0f ns, OpenBLAS %9.0f ns, own / OpenBLAS %.2f%s\n",
           dbl ? "f64" : "f32", form, m, n, k, m * n * k, own, other, own / other, agree ? "" : " DISAGREE");
    free(a), free(b), free(c), free(d);
    return agree;
}

int main(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        fprintf(stderr, "small_products: this CPU lacks AVX2 or FMA\n");
        return 1;
    }
    openblas_set_num_threads(1);
    printf("OpenBLAS core %s, 1 thread\n", openblas_get_corename());
    bool ok = true;
    for (int dbl = 1; dbl >= 0; dbl--)
        for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
            int bsz = layers[i].batch, ni = layers[i].n_in, no = layers[i].n_out;
            ok &= run(dbl, "NT", false, true, bsz, no, ni);  /* f = g_prev W^T */
            ok &= run(dbl, "TN", true, false, no, ni, bsz);  /* dW = df^T g_prev */
            ok &= run(dbl, "NN", false, false, bsz, ni, no); /* dg_prev = df W */
        }
    return ok ? 0 : 1;
}
