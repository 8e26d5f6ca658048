/* Element-wise kernels vectorized for the CPU they run on: the sigmoid
 * forward and plain SGD (below).
 *
 * g = sigmoid(f) over a flat block.
 *
 * The Swift core is compiled for baseline x86-64 (SSE2: 2 doubles or 4
 * floats per instruction). This loop is compiled three times (AVX-512, AVX2,
 * baseline) and the loader picks the one the CPU runs (target_clones). Each
 * element gets exactly the operations of the Swift kernel
 * (Kernels.sigmoidOneDivide with MLPScalar.expNonPositive): the same
 * constants, the same order, no fused multiply-add (contraction is off), so
 * the result bits do not depend on the clone, and equal the Swift path's
 * (checked by a test). */
#include "swiftmlp_blas.h"
#include "thread_pool.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

static inline double exp_nonpositive_f64(double x) {
    const double lowest = -708.3964185322641; /* ln(DBL_MIN) */
    double v = x > lowest ? (x < 0 ? x : 0) : lowest;
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52 */
    double k = v * 1.4426950408889634 + shifter;
    double n = k - shifter;
    double r = (v - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t kb, sb;
    memcpy(&kb, &k, sizeof kb);
    memcpy(&sb, &shifter, sizeof sb);
    uint64_t bits = (kb - sb + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < lowest ? 0 : (x == x ? p * scale : x);
}

static inline float exp_nonpositive_f32(float x) {
    const float lowest = -87.33654f; /* ln(FLT_MIN) */
    float v = x > lowest ? (x < 0 ? x : 0) : lowest;
    const float shifter = 12582912.0f; /* 1.5 * 2^23 */
    float k = v * 1.44269504f + shifter;
    float n = k - shifter;
    float r = (v - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t kb, sb;
    memcpy(&kb, &k, sizeof kb);
    memcpy(&sb, &shifter, sizeof sb);
    uint32_t bits = (kb - sb + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < lowest ? 0 : (x == x ? p * scale : x);
}

/* Sanitizer builds get one plain version: a clone's resolver runs while the
 * dynamic loader relocates the library, before the sanitizer runtime is
 * initialized, and an instrumented resolver crashes there. The loops'
 * "not vectorized" remarks at -O0 are expected. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SMLP_SANITIZED 1
#endif
#endif
#pragma clang diagnostic ignored "-Wpass-failed"

#if defined(__x86_64__) && defined(__clang__) && !defined(SMLP_SANITIZED)
#define SMLP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SMLP_CLONES
#endif

SMLP_CLONES
void smlp_sigmoid_f64(const double *restrict f, double *restrict g, size_t count) {
#pragma clang loop vectorize(enable) interleave(enable)
    for (size_t i = 0; i < count; i++) {
        double x = f[i];
        double e = exp_nonpositive_f64(-__builtin_fabs(x));
        g[i] = (x >= 0 ? 1.0 : e) / (1.0 + e);
    }
}

SMLP_CLONES
void smlp_sigmoid_f32(const float *restrict f, float *restrict g, size_t count) {
#pragma clang loop vectorize(enable) interleave(enable)
    for (size_t i = 0; i < count; i++) {
        float x = f[i];
        float e = exp_nonpositive_f32(-__builtin_fabsf(x));
        g[i] = (x >= 0 ? 1.0f : e) / (1.0f + e);
    }
}

/* Plain SGD with L2 weight decay, p -= lr * (g + wd * p), as the Swift
 * optimizer kernel computes it (same operations, no contraction). With
 * commit == 0 nothing is written and the result is 1 when every new value
 * would be finite; with commit != 0 the values are stored (result 1). The
 * check ORs integer flags, which vectorizes, where a floating-point sum of
 * x - x is one serial chain of adds. */
#define SGD_BODY(T, ABS, MAXV)                                                    \
    if (commit) {                                                                 \
        _Pragma("clang loop vectorize(enable)")                                   \
        for (size_t i = 0; i < count; i++) p[i] = p[i] - lr * (g[i] + wd * p[i]); \
        return 1;                                                                 \
    }                                                                             \
    unsigned bad = 0;                                                             \
    _Pragma("clang loop vectorize(enable)")                                       \
    for (size_t i = 0; i < count; i++) {                                          \
        T v = p[i] - lr * (g[i] + wd * p[i]);                                     \
        bad |= ABS(v) <= MAXV ? 0u : 1u;                                          \
    }                                                                             \
    return bad == 0;

SMLP_CLONES
static int sgd_block_f64(double *restrict p, const double *restrict g, size_t count, double lr, double wd,
                         int commit) {
    SGD_BODY(double, __builtin_fabs, 1.7976931348623157e308)
}

SMLP_CLONES
static int sgd_block_f32(float *restrict p, const float *restrict g, size_t count, float lr, float wd,
                         int commit) {
    SGD_BODY(float, __builtin_fabsf, 3.40282347e38f)
}

/* Large parameter buffers are memory-bound passes: split them over the
 * BLAS layer's threads (element-wise, so the result does not depend on the
 * split). */
enum { SGD_PARALLEL_MIN = 1 << 18, SGD_ALIGN = 64 };

typedef struct {
    int dbl, commit;
    void *p;
    const void *g;
    size_t count, chunk;
    double lr, wd;
    _Atomic int bad;
} sgd_job;

static void sgd_part(void *context, int index) {
    sgd_job *j = context;
    size_t start = (size_t)index * j->chunk;
    if (start >= j->count) return;
    size_t n = j->count - start < j->chunk ? j->count - start : j->chunk;
    int ok = j->dbl ? sgd_block_f64((double *)j->p + start, (const double *)j->g + start, n, j->lr, j->wd, j->commit)
                    : sgd_block_f32((float *)j->p + start, (const float *)j->g + start, n, (float)j->lr,
                                    (float)j->wd, j->commit);
    if (!ok) atomic_store_explicit(&j->bad, 1, memory_order_relaxed);
}

static int sgd(sgd_job *j) {
    int threads = j->count >= SGD_PARALLEL_MIN ? smlp_blas_threads() : 1;
    if (threads <= 1) {
        j->chunk = j->count;
        sgd_part(j, 0);
    } else {
        size_t chunk = (j->count + (size_t)threads - 1) / (size_t)threads;
        j->chunk = (chunk + SGD_ALIGN - 1) / SGD_ALIGN * SGD_ALIGN;
        smlp_pool_run(sgd_part, j, (int)((j->count + j->chunk - 1) / j->chunk));
    }
    return !atomic_load_explicit(&j->bad, memory_order_relaxed);
}

int smlp_sgd_f64(double *p, const double *g, size_t count, double lr, double wd, int commit) {
    sgd_job j = {1, commit, p, g, count, 0, lr, wd, 0};
    return sgd(&j);
}

int smlp_sgd_f32(float *p, const float *g, size_t count, float lr, float wd, int commit) {
    sgd_job j = {0, commit, p, g, count, 0, lr, wd, 0};
    return sgd(&j);
}
