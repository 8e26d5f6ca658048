/* Internal to libswiftmlp: the kernels of CSwiftMLPKernels (the BLAS layer
 * and the element-wise kernels). Not part of the public ABI; the
 * linker version script hides these symbols.
 *
 * Matrix products go through OpenBLAS, linked statically as a private copy
 * (Package.swift): libswiftmlp runs that copy single-threaded and splits
 * large products over its own threads (thread_pool.c), so it chooses the
 * thread count per product and nothing is allocated per call; blas_core.c
 * corrects OpenBLAS 0.3.21's core detection on CPUs it does not know. With a
 * shared OpenBLAS (no archive at build time) it changes nothing in it. */
#ifndef SMLP_KERNELS_H
#define SMLP_KERNELS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Row-major C (m, n) = alpha * op(A) @ op(B) + beta * C as smlp_dgemm (dbl)
 * or smlp_sgemm, in the library's own AVX2 kernels for small products
 * (small_gemm.c), on one thread: false, doing nothing, for op(A) = A^T with
 * op(B) = B^T, an empty product, or a build without them. The caller checks
 * that the CPU has AVX2 and FMA. */
bool smlp_small_gemm_avx2(bool dbl, bool trans_a, bool trans_b, int m, int n, int k, double alpha, const void *a,
                          int lda, const void *b, int ldb, double beta, void *c, int ldc);

/* Threads a product may use: with the private OpenBLAS copy, the count
 * smlp_blas_set_threads set, else SWIFTMLP_NUM_THREADS if set to 1..64
 * (read once), else the CPUs this process may run on (at most 8); 1 with a
 * shared OpenBLAS, which threads itself. */
int smlp_blas_threads(void);

/* swiftmlp_get_num_threads / swiftmlp_set_num_threads: the threads products
 * may use (the private copy: smlp_blas_threads; a shared OpenBLAS: its own
 * count) and setting them (1..64; false, changing nothing, out of range or
 * when a worker thread cannot be started). Thread-safe. */
int smlp_blas_get_threads(void);
bool smlp_blas_set_threads(int count);

/* Products with at least this many multiply-adds (m*n*k) are split. */
double smlp_gemm_parallel_min(void);

/* Whether OpenBLAS is this library's private (static) copy. */
bool smlp_blas_private(void);

/* The thread pool's rule for a job key (thread_pool.c; pure functions, so
 * that tests drive it with chosen times). Use number `use` of a key runs
 * split (0: the workers and the caller) or whole (1: the caller alone):
 * smlp_pool_choose's answer from the running means of the two ways' times
 * in nanoseconds (0: not measured yet). The first SMLP_POOL_WARMUP_USES
 * uses alternate, from split; later ones split when the whole mean exceeds
 * the split mean by a sixteenth of it or more, else run whole, and every
 * SMLP_POOL_EXPLORE_EVERY-th use (exploring) takes the other way.
 * smlp_pool_mean is the mean of the way taken after a run of `ns`:
 * unchanged for the first SMLP_POOL_COLD_USES uses (cold caches, sleeping
 * workers); the time itself when not measured yet or exploring
 * (the mean of a way not taken is stale); else the mean moved by a quarter
 * towards the time, which counts at most twice the mean (a preempted run
 * does not outweigh the runs before it). */
enum { SMLP_POOL_WARMUP_USES = 6, SMLP_POOL_COLD_USES = 2, SMLP_POOL_EXPLORE_EVERY = 64 };
int smlp_pool_choose(uint32_t use, uint64_t split_ns, uint64_t whole_ns);
uint64_t smlp_pool_mean(uint32_t use, uint64_t mean_ns, uint64_t ns);

/* exp(x) for x <= 0 in straight-line code (no calls, no branches), so that
 * the loops that call it vectorize: the library's one exp, inline here for
 * the C kernels (the sigmoid) and the Swift ones (MLPScalar.expNonPositive:
 * softmax, cross-entropy, BCE). Cody-Waite reduction x = n ln2 + r with
 * |r| <= ln2/2, a Taylor polynomial for e^r (degree 13 for double, 7 for
 * float: truncation below half an ulp) evaluated as 1 + r Q(r) with
 * Estrin's scheme (independent pairs combined with r^2, r^4, r^8: a
 * dependency chain 5 multiply-adds deep instead of Horner's 13), and 2^n
 * from the exponent bits. Contraction off: the same bits wherever it is
 * inlined. Results below the smallest normal number are flushed to 0 (the
 * true values are below 2.3e-308 / 1.2e-38); NaN gives NaN, a positive
 * argument (never passed) gives 1. Within 2 ulps of the correctly rounded
 * result (ExpTests). No input traps. */
/* The result p 2^n, n being the integer in k's low mantissa bits (k = n +
 * shifter): 2^n from the bits of k, no float-to-integer conversion (U: the
 * unsigned integer of T's width; BIAS, MANT: T's exponent bias and mantissa
 * bits); 0 below `lowest`, NaN for NaN. */
#define SMLP_EXP_RESULT(T, U, BIAS, MANT)                                  \
    U kb, sb, bits;                                                        \
    T scale;                                                               \
    memcpy(&kb, &k, sizeof kb);                                            \
    memcpy(&sb, &shifter, sizeof sb);                                      \
    bits = (kb - sb + BIAS) << MANT;                                       \
    memcpy(&scale, &bits, sizeof scale);                                   \
    return x < lowest ? 0 : (x == x ? p * scale : x);

static inline double smlp_exp_nonpositive_f64(double x) {
#pragma clang fp contract(off)
    const double lowest = -708.3964185322641; /* ln(DBL_MIN) */
    /* Clamp into [lowest, 0] with comparisons that send NaN to lowest (NaN
     * is passed through at the end). */
    double v = x > lowest ? (x < 0 ? x : 0) : lowest;
    /* Round to nearest by adding and subtracting 1.5 * 2^52 (no call to
     * rint; |v log2 e| < 2^51): n sits in k's low mantissa bits. */
    const double shifter = 6755399441055744.0;
    double k = v * 1.4426950408889634 + shifter;
    double n = k - shifter;
    double r = (v - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    /* e^r = 1 + r Q(r), Q(r) = sum of r^i / (i+1)! for i <= 12. */
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double a0 = 1.0 + r * 0.5;
    double a1 = 1.0 / 6.0 + r * (1.0 / 24.0);
    double a2 = 1.0 / 120.0 + r * (1.0 / 720.0);
    double a3 = 1.0 / 5040.0 + r * (1.0 / 40320.0);
    double a4 = 1.0 / 362880.0 + r * (1.0 / 3628800.0);
    double a5 = 1.0 / 39916800.0 + r * (1.0 / 479001600.0);
    double a6 = 1.0 / 6227020800.0;
    double b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2;
    double d0 = b0 + b1 * r4, d1 = b2 + a6 * r4;
    double q = d0 + d1 * r8;
    double p = q * r + 1.0;
    SMLP_EXP_RESULT(double, uint64_t, 1023, 52)
}

/* smlp_exp_nonpositive_f64 for float: Q of degree 6. */
static inline float smlp_exp_nonpositive_f32(float x) {
#pragma clang fp contract(off)
    const float lowest = -87.33654f; /* ln(FLT_MIN) */
    float v = x > lowest ? (x < 0 ? x : 0) : lowest;
    const float shifter = 12582912.0f; /* 1.5 * 2^23 */
    float k = v * 1.44269504f + shifter;
    float n = k - shifter;
    float r = (v - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
    float r2 = r * r, r4 = r2 * r2;
    float a0 = 1.0f + r * 0.5f;
    float a1 = 1.0f / 6.0f + r * (1.0f / 24.0f);
    float a2 = 1.0f / 120.0f + r * (1.0f / 720.0f);
    float a3 = 1.0f / 5040.0f;
    float b0 = a0 + a1 * r2, b1 = a2 + a3 * r2;
    float q = b0 + b1 * r4;
    float p = q * r + 1.0f;
    SMLP_EXP_RESULT(float, uint32_t, 127, 23)
}

/* g[i] = sigmoid(f[i]) for i < count (f and g distinct): the library's one
 * sigmoid (elementwise.c), vectorized for the running CPU, the same bits on
 * every CPU. */
void smlp_sigmoid_f32(const float *f, float *g, size_t count);
void smlp_sigmoid_f64(const double *f, double *g, size_t count);

/* A sigmoid layer's other element-wise passes, the library's only ones
 * (Swift calls them at every size), vectorized for the running CPU and
 * split over the BLAS layer's threads from 2^16 elements:
 * bias_sigmoid: f (rows, cols) += bias per row, then g = sigmoid(f);
 * sigmoid_backward: df = dg * g * (1 - g) over count elements;
 * bias_backward: db[c] = sum of df[r][c] over r = 0, 1, ... (from 0). */
void smlp_bias_sigmoid_f32(float *f, float *g, const float *bias, size_t rows, size_t cols);
void smlp_bias_sigmoid_f64(double *f, double *g, const double *bias, size_t rows, size_t cols);
void smlp_sigmoid_backward_f32(float *df, const float *dg, const float *g, size_t count);
void smlp_sigmoid_backward_f64(double *df, const double *dg, const double *g, size_t count);
void smlp_bias_backward_f32(float *db, const float *df, size_t rows, size_t cols);
void smlp_bias_backward_f64(double *db, const double *df, size_t rows, size_t cols);

/* db[c0..c1) = the column sums of df (rows, cols), each from 0, row 0
 * first: the library's one bias backward. Rows of fewer than 64 columns (a
 * small network's layer) go in blocks of 8 columns, whose sums stay in
 * registers while the rows pass, the last few one at a time; longer rows
 * are added row after row into db, a loop that vectorizes along the row. Both orders add the same
 * terms in the same order, so the same bits. Inline here so that
 * smlp_bias_backward_* (elementwise.c: compiled for the CPU level, split
 * by column ranges over threads) and the Swift fused step
 * (Network+FusedStep.swift: a few columns, no call) share it. */
#define SMLP_COLUMN_SUMS(T, SUF)                                                                      \
    static inline void smlp_column_sums_##SUF(T *restrict db, const T *restrict df, size_t rows,      \
                                              size_t cols, size_t c0, size_t c1) {                    \
        size_t c = c0;                                                                                \
        if (cols >= 64) {                                                                             \
            for (; c < c1; c++) db[c] = 0;                                                            \
            for (size_t r = 0; r < rows; r++) {                                                       \
                const T *row = df + r * cols;                                                         \
                _Pragma("clang loop vectorize(enable)")                                               \
                for (size_t k = c0; k < c1; k++) db[k] = db[k] + row[k];                              \
            }                                                                                         \
            return;                                                                                   \
        }                                                                                             \
        for (; c1 - c >= 8; c += 8) {                                                                 \
            T acc[8] = {0};                                                                           \
            for (size_t r = 0; r < rows; r++) {                                                       \
                for (size_t k = 0; k < 8; k++) acc[k] = acc[k] + df[r * cols + c + k];              \
            }                                                                                         \
            for (size_t k = 0; k < 8; k++) db[c + k] = acc[k];                                       \
        }                                                                                             \
        for (; c < c1; c++) {                                                                         \
            T s = 0;                                                                                  \
            for (size_t r = 0; r < rows; r++) s = s + df[r * cols + c];                               \
            db[c] = s;                                                                                \
        }                                                                                             \
    }
SMLP_COLUMN_SUMS(double, f64)
SMLP_COLUMN_SUMS(float, f32)

/* MSE's backward over a flat block of count elements: dg = scale (g - y)
 * and, with a sigmoid output (df not NULL), df = dg g (1 - g); returns the
 * sum of (g - y)^2 in double (elementwise.c: 8 interleaved partial sums,
 * the same bits on every CPU). The library's one MSE kernel. */
double smlp_mse_backward_f32(float *dg, float *df, const float *g, const float *y, size_t count, float scale);
double smlp_mse_backward_f64(double *dg, double *df, const double *g, const double *y, size_t count,
                             double scale);

/* The element formulas of smlp_optimizer_step_* (not
 * include/swiftmlp.h's SWIFTMLP_OPT_* kinds: SGD splits by momentum here). */
enum { SMLP_STEP_SGD = 0, SMLP_STEP_MOMENTUM = 1, SMLP_STEP_ADAM = 2, SMLP_STEP_ADAMW = 3 };

/* The coefficients of one optimizer step, each already rounded to the
 * element type (a float network passes float values widened to double):
 * the formulas are in elementwise.c and Sources/SwiftMLP/Optimizer.swift. */
typedef struct smlp_optimizer_coefficients {
    int kind;      /* SMLP_STEP_* */
    int nesterov;  /* momentum SGD: Nesterov's form */
    double lr, wd, mu, b1, b2, c1, c2, eps, decay, bc1, bc2;
    double gs;     /* the gradient's scale (clipping by global norm): each g is gs * g; 1 = none
                      (1 * g is g exactly, so the unclipped bits are those without it) */
} smlp_optimizer_coefficients;

/* Plain SGD's new value of one parameter p with gradient g: the library's
 * one SGD formula, p - lr (gs g + wd p), gs being clipping's scale (1
 * without: 1 * g is g). Inline here so that the C steps (elementwise.c)
 * and the Swift fused step (Network+FusedStep.swift) run these operations,
 * unfused (no multiply-add), and give the same bits. */
static inline double smlp_sgd_value_f64(double p, double g, double lr, double wd, double gs) {
#pragma clang fp contract(off)
    return p - lr * (gs * g + wd * p);
}
static inline float smlp_sgd_value_f32(float p, float g, float lr, float wd, float gs) {
#pragma clang fp contract(off)
    return p - lr * (gs * g + wd * p);
}

/* One optimizer step (any SMLP_STEP_* kind) over count parameters p with
 * gradients g and state s1 (momentum buffer, Adam's m) and s2 (Adam's v;
 * NULL where the kind has none). commit == 0: only check that every
 * new value is finite (1) or not (0), writing nothing; commit != 0: store
 * them (1). Vectorized for the running CPU, split over the BLAS layer's
 * threads when large; the bits do not depend on either. */
int smlp_optimizer_step_f32(const smlp_optimizer_coefficients *o, float *p, const float *g, float *s1,
                            float *s2, size_t count, int commit);
int smlp_optimizer_step_f64(const smlp_optimizer_coefficients *o, double *p, const double *g, double *s1,
                            double *s2, size_t count, int commit);

/* max |x[i]| over count elements as a double (0 for none), +inf if any
 * element is infinite or NaN. Vectorized for the running CPU. */
double smlp_max_abs_f32(const float *x, size_t count);
double smlp_max_abs_f64(const double *x, size_t count);

/* The CPU level (cpu.c): the instruction sets the library's own kernels
 * and its OpenBLAS core may use, the best the CPU supports or the lower one
 * SWIFTMLP_CPU names (read once). Thread-safe. */
enum { SMLP_CPU_BASELINE = 0, SMLP_CPU_AVX2 = 1, SMLP_CPU_AVX512 = 2 };
int smlp_cpu_level(void);
/* The best level the CPU supports, whatever SWIFTMLP_CPU says. */
int smlp_cpu_detected_level(void);
/* "baseline", "avx2", "avx512" (or "?" for no level). */
const char *smlp_cpu_level_name(int level);

/* The text of swiftmlp_blas_info() (include/swiftmlp.h). */
const char *smlp_blas_info(void);

/* Internal, once before the first product: replace OpenBLAS 0.3.21's core
 * when it is its Prescott fallback, not the core of a level SWIFTMLP_CPU
 * lowered, or one this CPU cannot run (blas_core.c). */
void smlp_blas_correct_core(void);

#endif
