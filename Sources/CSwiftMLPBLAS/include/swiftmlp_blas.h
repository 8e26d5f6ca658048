/* Internal to libswiftmlp: the BLAS layer. Not part of the public ABI; the
 * linker version script hides these symbols.
 *
 * Matrix products go through OpenBLAS, linked statically as a private copy
 * (Package.swift): libswiftmlp runs that copy single-threaded and splits
 * large products over its own threads (thread_pool.c), so it chooses the
 * thread count per product and nothing is allocated per call; blas_core.c
 * corrects OpenBLAS 0.3.21's core detection on CPUs it does not know. With a
 * shared OpenBLAS (no archive at build time) it changes nothing in it. */
#ifndef SWIFTMLP_BLAS_H
#define SWIFTMLP_BLAS_H
#include <stdbool.h>
#include <stddef.h>

/* Row-major C (m, n) = alpha * op(A) @ op(B) + beta * C; op(A) is (m, k),
 * op(B) is (k, n). Dimensions and leading dimensions fit in int (callers
 * check sizes against their limits). Splits over the pool's threads when the
 * product is large enough (smlp_gemm_parallel_min). Thread-safe. */
void smlp_sgemm(bool trans_a, bool trans_b, int m, int n, int k,
                float alpha, const float *a, int lda, const float *b, int ldb,
                float beta, float *c, int ldc);
void smlp_dgemm(bool trans_a, bool trans_b, int m, int n, int k,
                double alpha, const double *a, int lda, const double *b, int ldb,
                double beta, double *c, int ldc);

/* Threads a product may use: with the private OpenBLAS copy,
 * SWIFTMLP_NUM_THREADS if set to 1..64, else the CPUs this process may run on
 * (at most 8); 1 with a shared OpenBLAS, which threads itself. Read once. */
int smlp_blas_threads(void);

/* Products with at least this many multiply-adds (m*n*k) are split. */
double smlp_gemm_parallel_min(void);

/* Whether OpenBLAS is this library's private (static) copy. */
bool smlp_blas_private(void);

/* g[i] = sigmoid(f[i]) for i < count (f and g distinct), with exactly the
 * Swift kernel's operations (elementwise.c), vectorized for the running CPU. */
void smlp_sigmoid_f32(const float *f, float *g, size_t count);
void smlp_sigmoid_f64(const double *f, double *g, size_t count);

/* Plain SGD, p -= lr * (g + wd * p) over count elements, as the Swift
 * optimizer kernel computes it; commit == 0: only check that every new value
 * is finite (1) or not (0), writing nothing; commit != 0: store them. */
int smlp_sgd_f32(float *p, const float *g, size_t count, float lr, float wd, int commit);
int smlp_sgd_f64(double *p, const double *g, size_t count, double lr, double wd, int commit);

/* The text of swiftmlp_blas_info() (include/swiftmlp.h). */
const char *smlp_blas_info(void);

/* Internal: replace OpenBLAS 0.3.21's Prescott fallback (blas_core.c). */
void smlp_blas_correct_core(void);

#endif
