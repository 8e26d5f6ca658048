/* Element-wise kernels vectorized for the CPU they run on: the sigmoid
 * forward and the optimizer steps (below).
 *
 * g = sigmoid(f) over a flat block.
 *
 * This is the library's one sigmoid (Swift calls it through
 * MLPScalar.sigmoidBlock). The Swift core is compiled for baseline x86-64
 * (SSE2: 2 doubles or 4 floats per instruction); this loop is compiled three
 * times (AVX-512, AVX2, baseline) and runs the one of the CPU level
 * (SMLP_LEVELS below). Each element gets the same operations in every
 * variant and in the scalar tail: the same constants, the same order, no
 * fused multiply-add (contraction is off), so the result bits do not depend
 * on the variant or on the element's place in the block (checked by
 * KernelTests, with the naive oracle in the tests). Its exp is
 * smlp_exp_nonpositive_* (smlp_kernels.h), the one the Swift kernels use too. */
#include "smlp_kernels.h"
#include "thread_pool.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

/* The loops' "not vectorized" remarks at -O0 (sanitizer builds) are
 * expected. */
#pragma clang diagnostic ignored "-Wpass-failed"

#if defined(__x86_64__) && defined(__clang__)
/* STORAGE RET NAME PARAMS { body }, compiled for each CPU level (cpu.c) as
 * NAME_avx512, NAME_avx2 and NAME_baseline; NAME calls the one of
 * smlp_cpu_level(), which is read once. The variants differ in vector
 * width only: the same operations per element, so the same bits. */
#define SMLP_LEVELS(STORAGE, RET, NAME, PARAMS, ARGS, ...)                     \
    __attribute__((target("avx512f"))) static RET NAME##_avx512 PARAMS __VA_ARGS__ \
    __attribute__((target("avx2"))) static RET NAME##_avx2 PARAMS __VA_ARGS__  \
    static RET NAME##_baseline PARAMS __VA_ARGS__                              \
    STORAGE RET NAME PARAMS {                                                  \
        switch (smlp_cpu_level()) {                                            \
        case SMLP_CPU_AVX512: return NAME##_avx512 ARGS;                       \
        case SMLP_CPU_AVX2: return NAME##_avx2 ARGS;                           \
        default: return NAME##_baseline ARGS;                                  \
        }                                                                      \
    }
#else
#define SMLP_LEVELS(STORAGE, RET, NAME, PARAMS, ARGS, ...) STORAGE RET NAME PARAMS __VA_ARGS__
#endif

static inline double sigmoid_f64(double x) {
    double e = smlp_exp_nonpositive_f64(-__builtin_fabs(x));
    return (x >= 0 ? 1.0 : e) / (1.0 + e);
}

static inline float sigmoid_f32(float x) {
    float e = smlp_exp_nonpositive_f32(-__builtin_fabsf(x));
    return (x >= 0 ? 1.0f : e) / (1.0f + e);
}

/* Full vectors first (IC at a time, then one at a time), then half and
 * quarter vectors, then single elements: a block shorter than a vector (a
 * tiny network's output layer, 4 values) takes one narrower vector pass
 * instead of a scalar evaluation per element, each a dependency chain of the
 * polynomial's length (4 doubles: ~25 ns instead of ~65 here). */
#define SMLP_PRAGMA(x) _Pragma(#x)
#define SIGMOID_BLOCK(V, H, Q, IC, ONE)                                             \
    size_t wide = count / (V * IC) * (V * IC), body = count / V * V;                \
    size_t half = count / H * H, quarter = count / Q * Q;                           \
    SMLP_PRAGMA(clang loop vectorize(enable) interleave_count(IC))                  \
    for (size_t i = 0; i < wide; i++) g[i] = ONE(f[i]);                             \
    _Pragma("clang loop vectorize(enable) interleave_count(1)")                     \
    for (size_t i = wide; i < body; i++) g[i] = ONE(f[i]);                          \
    SMLP_PRAGMA(clang loop vectorize(enable) vectorize_width(H) interleave_count(1)) \
    for (size_t i = body; i < half; i++) g[i] = ONE(f[i]);                          \
    SMLP_PRAGMA(clang loop vectorize(enable) vectorize_width(Q) interleave_count(1)) \
    for (size_t i = half; i < quarter; i++) g[i] = ONE(f[i]);                       \
    _Pragma("clang loop vectorize(disable)")                                        \
    for (size_t i = quarter; i < count; i++) g[i] = ONE(f[i]);

/* The main loop evaluates IC vectors per iteration, independent chains
 * the core overlaps around the division (vdivps/vdivpd: 10/16 cycles per
 * 512-bit vector). Blocks of 320-4416 values held in L1, against one vector
 * per iteration (the clang default here), same process, alternating: float
 * 0.90 -> 0.85 ns per value with 4 (AVX2 variant 1.03 -> 0.89), double
 * 2.44 -> 2.26 with 2 (AVX2 2.79 -> 2.63; 4 was slower there). The same
 * operations per element, so the same bits. */
SMLP_LEVELS(, void, smlp_sigmoid_f64, (const double *restrict f, double *restrict g, size_t count), (f, g, count), {
    SIGMOID_BLOCK(8, 4, 2, 2, sigmoid_f64)
})

SMLP_LEVELS(, void, smlp_sigmoid_f32, (const float *restrict f, float *restrict g, size_t count), (f, g, count), {
    SIGMOID_BLOCK(16, 8, 4, 4, sigmoid_f32)
})

/* One fork-join over `units` (rows, elements or columns): with `large`,
 * one part per thread, each a multiple of `align` units; else one part. The
 * part length goes to *chunk before any part runs; `variant` tells the
 * pool's measurements (thread_pool.h) apart jobs of one task that differ
 * in their cost per unit. Shared by the sigmoid
 * layers' passes and the optimizer steps below (element-wise: the split
 * never changes a result). */
static void run_split(smlp_task_fn task, void *job, size_t *chunk, size_t units, size_t align, int large,
                      uint64_t variant) {
    size_t threads = large ? (size_t)smlp_blas_threads() : 1;
    size_t c = (units + threads - 1) / threads;
    c = (c + align - 1) / align * align;
    if (c < align) c = align;
    size_t parts = (units + c - 1) / c;
    if (parts <= 1) {
        *chunk = units;
        task(job, 0);
    } else {
        *chunk = c;
        smlp_pool_run(smlp_pool_key((uint64_t)(uintptr_t)task, variant, units, parts), task, job, (int)parts,
                      NULL);
    }
}

/* ---- the sigmoid layers' other element-wise passes ----
 *
 * Forward f += b (per row) then g = sigmoid(f); backward dL/df = dL/dg g (1 - g)
 * and db = the column sums of dL/df, row by row: the library's only
 * implementations (Swift's Kernels+Activation.swift and Kernels.biasBackward
 * call them at every size, the fused step's db included).
 * Blocks of 2^16 elements or more are split over the BLAS layer's threads
 * (by rows, element ranges and column ranges: each element's own
 * operations do not change). */
enum { ELEMENTWISE_SPLIT_MIN = 1 << 16 };

/* The three kernels for one element type T (suffix SUF). */
#define LAYER_KERNELS(T, SUF)                                                                \
    SMLP_LEVELS(static, void, bias_add_##SUF, (T *restrict f, const T *restrict b, size_t cols), \
                (f, b, cols), {                                                              \
        _Pragma("clang loop vectorize(enable)")                                              \
        for (size_t c = 0; c < cols; c++) f[c] = f[c] + b[c];                                \
    })                                                                                       \
    SMLP_LEVELS(static, void, sigmoid_backward_##SUF, (T *restrict df, const T *restrict dg,  \
                                                   const T *restrict g, size_t n), (df, dg, g, n), { \
        _Pragma("clang loop vectorize(enable)")                                              \
        for (size_t i = 0; i < n; i++) df[i] = dg[i] * g[i] * (1 - g[i]);                    \
    })                                                                                       \
    /* smlp_column_sums_* (smlp_kernels.h) for the running CPU. */                           \
    SMLP_LEVELS(static, void, column_sums_##SUF, (T *restrict db, const T *restrict df, size_t rows, \
                                              size_t cols, size_t c0, size_t c1),            \
                (db, df, rows, cols, c0, c1), {                                              \
        smlp_column_sums_##SUF(db, df, rows, cols, c0, c1);                                  \
    })                                                                                       \
    /* Rows [r0, r1) of the forward, in groups of about 4096 elements (in                    \
     * L1/L2): the bias over each row, then one sigmoid pass over the group. */              \
    static void bias_sigmoid_rows_##SUF(T *f, T *g, const T *bias, size_t cols, size_t r0, size_t r1) { \
        size_t group = cols >= 4096 ? 1 : 4096 / cols;                                       \
        for (size_t a = r0; a < r1; a += group) {                                            \
            size_t b = r1 - a < group ? r1 : a + group;                                      \
            for (size_t r = a; r < b; r++) bias_add_##SUF(f + r * cols, bias, cols);         \
            smlp_sigmoid_##SUF(f + a * cols, g + a * cols, (b - a) * cols);                  \
        }                                                                                    \
    }

LAYER_KERNELS(double, f64)
LAYER_KERNELS(float, f32)

/* MSE's backward: dg = scale (g - y) and, with a sigmoid output (df not
 * NULL), df = dg g (1 - g); the result is the sum of (g - y)^2 in double.
 * The library's one MSE kernel (Kernels.mseBackward calls it for the
 * plain mean, scale 2/count, and for each weighted row, its own scale).
 * The sum runs in LOSS_LANES partial sums, lane j taking the elements j,
 * j + LOSS_LANES, ..., added pairwise at the end: one chain of dependent
 * adds per lane instead of one for the whole block, and the same lanes, so
 * the same bits, on every variant. */
enum { LOSS_LANES = 8 };

/* Element k: its square added to lane[j]; SIGMOID: also df. */
#define MSE_ELEMENT(T, k, j, SIGMOID)                                                           \
    do {                                                                                        \
        T gi = g[k], d = gi - y[k];                                                             \
        double wide = (double)d;                                                                \
        lane[j] += wide * wide;                                                                 \
        T dgi = scale * d;                                                                      \
        dg[k] = dgi;                                                                            \
        if (SIGMOID) df[k] = dgi * gi * (1 - gi);                                               \
    } while (0)

/* The block in lanes (SIGMOID a constant, so each loop vectorizes). */
#define MSE_LANES(T, SIGMOID)                                                                   \
    for (size_t i = 0; i < body; i += LOSS_LANES) {                                             \
        _Pragma("clang loop vectorize(enable)")                                                 \
        for (size_t j = 0; j < LOSS_LANES; j++) MSE_ELEMENT(T, i + j, j, SIGMOID);              \
    }                                                                                           \
    for (size_t i = body; i < count; i++) MSE_ELEMENT(T, i, i - body, SIGMOID);

#define MSE_BACKWARD(T, SUF)                                                                    \
    SMLP_LEVELS(, double, smlp_mse_backward_##SUF, (T *restrict dg, T *restrict df,             \
                                                const T *restrict g, const T *restrict y,       \
                                                size_t count, T scale),                         \
                (dg, df, g, y, count, scale), {                                                 \
        double lane[LOSS_LANES] = {0};                                                          \
        size_t body = count / LOSS_LANES * LOSS_LANES;                                          \
        if (df) {                                                                               \
            MSE_LANES(T, 1)                                                                     \
        } else {                                                                                \
            MSE_LANES(T, 0)                                                                     \
        }                                                                                       \
        return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])); \
    })

MSE_BACKWARD(double, f64)
MSE_BACKWARD(float, f32)

typedef struct {
    int dbl, kind;              /* kind: 0 bias+sigmoid, 1 sigmoid backward, 2 bias backward */
    void *out, *out2;           /* kind 0: f, g; kind 1: df; kind 2: db */
    const void *a, *b;          /* kind 0: bias; kind 1: dg, g; kind 2: df */
    size_t rows, cols;          /* the block (kind 1: 1 x count) */
    size_t chunk;               /* rows (0), elements (1) or columns (2) per part */
} ew_job;

static void ew_part(void *context, int index) {
    const ew_job *j = context;
    size_t total = j->kind == 0 ? j->rows : j->kind == 1 ? j->cols : j->cols;
    size_t start = (size_t)index * j->chunk;
    if (start >= total) return;
    size_t end = total - start < j->chunk ? total : start + j->chunk;
    switch (j->kind) {
    case 0:
        if (j->dbl) bias_sigmoid_rows_f64(j->out, j->out2, j->a, j->cols, start, end);
        else bias_sigmoid_rows_f32(j->out, j->out2, j->a, j->cols, start, end);
        break;
    case 1:
        if (j->dbl)
            sigmoid_backward_f64((double *)j->out + start, (const double *)j->a + start, (const double *)j->b + start,
                                 end - start);
        else
            sigmoid_backward_f32((float *)j->out + start, (const float *)j->a + start, (const float *)j->b + start,
                                 end - start);
        break;
    default:
        if (j->dbl) column_sums_f64(j->out, j->a, j->rows, j->cols, start, end);
        else column_sums_f32(j->out, j->a, j->rows, j->cols, start, end);
        break;
    }
}

/* units: what kind `kind` splits (rows, elements, columns); align: the part granularity. */
static void ew_run(ew_job *j, size_t units, size_t align) {
    run_split(ew_part, j, &j->chunk, units, align, j->rows * j->cols >= ELEMENTWISE_SPLIT_MIN,
              (uint64_t)(j->kind * 2 + j->dbl));
}

void smlp_bias_sigmoid_f64(double *f, double *g, const double *bias, size_t rows, size_t cols) {
    ew_job j = {1, 0, f, g, bias, NULL, rows, cols, 0};
    ew_run(&j, rows, 1);
}
void smlp_bias_sigmoid_f32(float *f, float *g, const float *bias, size_t rows, size_t cols) {
    ew_job j = {0, 0, f, g, bias, NULL, rows, cols, 0};
    ew_run(&j, rows, 1);
}
void smlp_sigmoid_backward_f64(double *df, const double *dg, const double *g, size_t count) {
    ew_job j = {1, 1, df, NULL, dg, g, 1, count, 0};
    ew_run(&j, count, 64);
}
void smlp_sigmoid_backward_f32(float *df, const float *dg, const float *g, size_t count) {
    ew_job j = {0, 1, df, NULL, dg, g, 1, count, 0};
    ew_run(&j, count, 64);
}
void smlp_bias_backward_f64(double *db, const double *df, size_t rows, size_t cols) {
    ew_job j = {1, 2, db, NULL, df, NULL, rows, cols, 0};
    ew_run(&j, cols, 16);
}
void smlp_bias_backward_f32(float *db, const float *df, size_t rows, size_t cols) {
    ew_job j = {0, 2, db, NULL, df, NULL, rows, cols, 0};
    ew_run(&j, cols, 16);
}

/* One optimizer step over a flat block, with exactly the operations of the
 * formulas in Sources/SwiftMLP/Optimizer.swift (no contraction, so every
 * variant gives the same bits). Every kind checks first and stores after:
 * with commit == 0 nothing is written and the result is 1 when every new
 * parameter and state value would be finite; with commit != 0 the values
 * are stored (result 1). The check ORs the bits of x - x over every new
 * value x (nonfinite_* below), an integer reduction that vectorizes, where a
 * floating-point sum of x - x is one serial chain of adds.
 *
 * Every g below is gs * g[i] (gs: clipping's scale, 1 without; 1 * g is g).
 * Plain SGD:     p -= lr * (g + wd * p)  (smlp_sgd_value_*, smlp_kernels.h)
 * momentum SGD:  d = g + wd p; b = mu b + d; p -= lr * (nesterov ? d + mu b : b)
 * Adam / AdamW:  d = g + wd p (Adam) or p *= decay, d = g (AdamW);
 *                m = b1 m + c1 d; v = b2 v + c2 d d;
 *                p -= lr (m / bc1) / (sqrt(v / bc2) + eps)
 * (__builtin_elementwise_sqrt: the correctly rounded square root, without
 * errno, so that the loop vectorizes.) */

/* The bits of x - x: 0 for a finite x, a NaN's (every exponent bit set)
 * for an infinity or a NaN. An OR of them has an exponent bit set exactly
 * when some x is not finite (Kernels.allFinite's test in Swift): two
 * operations per vector, a subtraction and an OR, where comparing |x| with
 * the largest finite value needs a mask and a select besides. */
static inline uint64_t nonfinite_f64(double x) {
    double zero = x - x;
    uint64_t bits;
    memcpy(&bits, &zero, sizeof bits);
    return bits;
}
static inline uint32_t nonfinite_f32(float x) {
    float zero = x - x;
    uint32_t bits;
    memcpy(&bits, &zero, sizeof bits);
    return bits;
}

/* Both passes run the same element code (STEP), in separate loops so that
 * each vectorizes without masked stores; CHECK ORs nonfinite_* of the new
 * values (U: their unsigned type), EXPONENT is the exponent's mask. */
#define TWO_PASSES(U, EXPONENT, STEP, STORE, CHECK)                                \
    if (commit) {                                                                  \
        _Pragma("clang loop vectorize(enable)")                                    \
        for (size_t i = 0; i < count; i++) {                                       \
            STEP STORE                                                             \
        }                                                                          \
        return 1;                                                                  \
    }                                                                              \
    U bad = 0;                                                                     \
    _Pragma("clang loop vectorize(enable)")                                        \
    for (size_t i = 0; i < count; i++) {                                           \
        STEP bad |= CHECK;                                                         \
    }                                                                              \
    return (bad & (EXPONENT)) == 0;

/* The three optimizers and their dispatch for one element type T (suffix
 * SUF, unsigned integer U of its width, exponent mask EXPONENT). */
#define OPTIMIZERS(T, U, SUF, EXPONENT)                                                        \
    SMLP_LEVELS(static, int, sgd_##SUF, (const smlp_optimizer_coefficients *o, T *restrict p,   \
                                     const T *restrict g, size_t count, int commit),           \
                (o, p, g, count, commit), {                                                    \
        T lr = (T)o->lr, wd = (T)o->wd, gs = (T)o->gs;                                         \
        TWO_PASSES(U, EXPONENT, T q = smlp_sgd_value_##SUF(p[i], g[i], lr, wd, gs);, p[i] = q;, \
                   nonfinite_##SUF(q))                                                         \
    })                                                                                         \
    SMLP_LEVELS(static, int, momentum_##SUF, (const smlp_optimizer_coefficients *o, T *restrict p, \
                                          const T *restrict g, T *restrict buf, size_t count,  \
                                          int commit), (o, p, g, buf, count, commit), {        \
        T lr = (T)o->lr, wd = (T)o->wd, mu = (T)o->mu, gs = (T)o->gs;                          \
        int nesterov = o->nesterov;                                                            \
        TWO_PASSES(U, EXPONENT, T d = gs * g[i] + wd * p[i];                                   \
                   T b = mu * buf[i] + d;                                                      \
                   T q = p[i] - lr * (nesterov ? d + mu * b : b);,                             \
                   buf[i] = b; p[i] = q;,                                                      \
                   nonfinite_##SUF(q) | nonfinite_##SUF(b))                                    \
    })                                                                                         \
    SMLP_LEVELS(static, int, adam_##SUF, (const smlp_optimizer_coefficients *o, T *restrict p,  \
                                      const T *restrict g, T *restrict m, T *restrict v,       \
                                      size_t count, int commit), (o, p, g, m, v, count, commit), { \
        T lr = (T)o->lr, wd = (T)o->wd, b1 = (T)o->b1, b2 = (T)o->b2;                          \
        T c1 = (T)o->c1, c2 = (T)o->c2, eps = (T)o->eps, decay = (T)o->decay;                  \
        T bc1 = (T)o->bc1, bc2 = (T)o->bc2, gs = (T)o->gs;                                     \
        int decoupled = o->kind == SMLP_STEP_ADAMW;                                             \
        TWO_PASSES(U, EXPONENT, T q = decoupled ? p[i] * decay : p[i];                         \
                   T gi = gs * g[i];                                                           \
                   T d = decoupled ? gi : gi + wd * q;                                         \
                   T mi = b1 * m[i] + c1 * d;                                                  \
                   T vi = b2 * v[i] + c2 * d * d;                                              \
                   q = q - lr * (mi / bc1) / (__builtin_elementwise_sqrt(vi / bc2) + eps);,    \
                   m[i] = mi; v[i] = vi; p[i] = q;,                                            \
                   nonfinite_##SUF(q) | nonfinite_##SUF(mi) | nonfinite_##SUF(vi))             \
    })                                                                                         \
    /* Elements [start, start + n) of the buffers (s1, s2 may be NULL). */                     \
    static int optimizer_block_##SUF(const smlp_optimizer_coefficients *o, T *p, const T *g,   \
                                     T *s1, T *s2, size_t start, size_t n,                     \
                                     int commit) {                                             \
        p += start;                                                                            \
        g += start;                                                                            \
        switch (o->kind) {                                                                     \
        case SMLP_STEP_SGD: return sgd_##SUF(o, p, g, n, commit);                                \
        case SMLP_STEP_MOMENTUM: return momentum_##SUF(o, p, g, s1 + start, n, commit);        \
        default: return adam_##SUF(o, p, g, s1 + start, s2 + start, n, commit);                \
        }                                                                                      \
    }

OPTIMIZERS(double, uint64_t, f64, 0x7ff0000000000000u)
OPTIMIZERS(float, uint32_t, f32, 0x7f800000u)

/* ---- magnitudes as integers ----
 *
 * For x >= 0 (and +inf, NaN) the IEEE bit patterns are ordered as the
 * values, with every NaN above +inf: the largest |x| of a block is the
 * largest of the patterns with the sign bit cleared, an integer max that
 * vectorizes (a floating-point max reduction does not, without fast-math). */
#define MAGNITUDES(T, U, SUF, SIGN, INF_BITS)                                                   \
    static inline U magnitude_##SUF(T x) {                                                      \
        U b;                                                                                    \
        memcpy(&b, &x, sizeof b);                                                               \
        return b & ~(U)SIGN;                                                                    \
    }                                                                                           \
    /* The value of a magnitude pattern as a double, +inf for inf and NaN. */                   \
    static double magnitude_value_##SUF(U m) {                                                  \
        if (m >= (U)INF_BITS) return __builtin_inf();                                           \
        T x;                                                                                    \
        memcpy(&x, &m, sizeof x);                                                               \
        return (double)x;                                                                       \
    }                                                                                           \
    SMLP_LEVELS(static, U, max_magnitude_##SUF, (const T *restrict x, size_t count), (x, count), { \
        U m = 0;                                                                                \
        _Pragma("clang loop vectorize(enable)")                                                 \
        for (size_t i = 0; i < count; i++) {                                                   \
            U b = magnitude_##SUF(x[i]);                                                        \
            m = b > m ? b : m;                                                                  \
        }                                                                                       \
        return m;                                                                               \
    })                                                                                          \
    double smlp_max_abs_##SUF(const T *x, size_t count) {                                      \
        return magnitude_value_##SUF(max_magnitude_##SUF(x, count));                           \
    }

MAGNITUDES(double, uint64_t, f64, 0x8000000000000000u, 0x7ff0000000000000u)
MAGNITUDES(float, uint32_t, f32, 0x80000000u, 0x7f800000u)

/* Parameter buffers of 2^15 or more are split over the BLAS layer's threads
 * (element-wise, so the result does not depend on the split); Adam, with
 * its divisions and square root, from 2^12. The passes stream parameters,
 * gradients and state from beyond L1: on the mnist-ish network (235k
 * parameters, f64) the single-threaded SGD step was a fifth of the main
 * thread's time, and splitting it made the whole training step ~15% faster;
 * below these sizes the fork-join costs about what it saves. */
enum { SPLIT_MIN = 1 << 15, SPLIT_MIN_ADAM = 1 << 12, SPLIT_ALIGN = 64 };

typedef struct {
    const smlp_optimizer_coefficients *o;
    int dbl, commit;
    void *p, *s1, *s2;
    const void *g;
    size_t count, chunk;
    _Atomic int bad;
} opt_job;

static void opt_part(void *context, int index) {
    opt_job *j = context;
    size_t start = (size_t)index * j->chunk;
    if (start >= j->count) return;
    size_t n = j->count - start < j->chunk ? j->count - start : j->chunk;
    int ok = j->dbl ? optimizer_block_f64(j->o, j->p, j->g, j->s1, j->s2, start, n, j->commit)
                    : optimizer_block_f32(j->o, j->p, j->g, j->s1, j->s2, start, n, j->commit);
    if (!ok) atomic_store_explicit(&j->bad, 1, memory_order_relaxed);
}

static int optimizer_step(opt_job *j) {
    size_t min = j->o->kind == SMLP_STEP_ADAM || j->o->kind == SMLP_STEP_ADAMW ? SPLIT_MIN_ADAM : SPLIT_MIN;
    run_split(opt_part, j, &j->chunk, j->count, SPLIT_ALIGN, j->count >= min,
              (uint64_t)((j->o->kind * 4 + j->commit) * 2 + j->dbl));
    return !atomic_load_explicit(&j->bad, memory_order_relaxed);
}

int smlp_optimizer_step_f64(const smlp_optimizer_coefficients *o, double *p, const double *g, double *s1,
                            double *s2, size_t count, int commit) {
    opt_job j = {o, 1, commit, p, s1, s2, g, count, 0, 0};
    return optimizer_step(&j);
}

int smlp_optimizer_step_f32(const smlp_optimizer_coefficients *o, float *p, const float *g, float *s1,
                            float *s2, size_t count, int commit) {
    opt_job j = {o, 0, commit, p, s1, s2, g, count, 0, 0};
    return optimizer_step(&j);
}

