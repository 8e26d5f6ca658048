/*
 * gemm_bound.c — the matrix products of one training step, and nothing
 * else, through swiftmlp's own BLAS layer: Sources/CSwiftMLPKernels (the
 * private OpenBLAS archive with its core correction, the thread pool and the
 * product splitting) is compiled into this program, so the products run
 * exactly as inside libswiftmlp.so. No activation, loss, bias or optimizer
 * work: the rate is the ceiling of a whole training step that routes its
 * products through this BLAS, which the benchmark puts beside the targets
 * that measure whole steps (wide vs the GEMM peak, fit on the digits).
 *
 *   gemm_bound time --dir . --sizes 1024,2048,2048,1024 --batch 256 --dtype f32
 *              --seconds 1 --repeats 5
 *
 * Per layer l (N_in -> N_out), as Network.propagate and backpropagate call
 * them: f = g_prev @ W^T (B x N_out), dW = df^T @ g_prev (N_out x N_in), and
 * for l > 0 dg_prev = df @ W (B x N_in). Prints one JSON line: steps/s of
 * every repeat (a "step" = those products once), the FLOPs per step and the
 * thread count.
 *
 *   gemm_bound compare --dir . --sizes ... --batch B --dtype f32|f64
 *              --lib OTHER_BLAS.so --seconds S --repeats R
 *
 * The same products through swiftmlp's BLAS layer and through another BLAS
 * library loaded with dlopen (the benchmark passes NumPy's bundled OpenBLAS,
 * which runs with its own threads), alternating in this one process: R
 * rounds, each timing both sides for about S seconds, the order reversed
 * every other round. Separate processes a minute apart differ by up to 1.5x
 * on this project's VM; alternating within a process compares the two
 * libraries in the same phase of the machine. Before timing, one step through
 * each must give the same outputs (relative max-norm <= 1e-4 float, 1e-12
 * double: "agree" in the JSON line), which also checks that the other
 * library's entry point was called with the right integer width.
 */
#include "bench_util.h"

#include "smlp_kernels.h"

#include <math.h>
#include <stdint.h>

static int dbl;

/* ---- the other BLAS (compare mode): a row-major CBLAS ?gemm, found by
 * name; the "64_" entry points (NumPy's ILP64 OpenBLAS) take 64-bit
 * integers. CBLAS's enum values are fixed by the standard. */
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*dgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t,
                           const double *, int64_t, double, double *, int64_t);
typedef void (*sgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                           const float *, int64_t, float, float *, int64_t);
typedef void (*dgemm32_fn)(int, int, int, int, int, int, double, const double *, int, const double *, int,
                           double, double *, int);
typedef void (*sgemm32_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                           float *, int);
static struct {
    void *fn;       /* the entry point (load_other); gemm() calls it while use_other is set */
    int ilp64;
    char name[64];
} other;
static int use_other;

static const char *load_other(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) bench_die("cannot load the other BLAS", dlerror());
    static const struct { const char *fmt; int ilp64; } names[] = {
        {"scipy_cblas_%cgemm64_", 1}, {"cblas_%cgemm64_", 1}, {"scipy_cblas_%cgemm", 0}, {"cblas_%cgemm", 0}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(other.name, sizeof other.name, names[i].fmt, dbl ? 'd' : 's');
        if ((other.fn = dlsym(h, other.name)) != NULL) {
            other.ilp64 = names[i].ilp64;
            const char *(*core)(void) = (const char *(*)(void))dlsym(h, "scipy_openblas_get_corename64_");
            if (!core) core = (const char *(*)(void))dlsym(h, "openblas_get_corename64_");
            if (!core) core = (const char *(*)(void))dlsym(h, "openblas_get_corename");
            return core ? core() : "";
        }
    }
    bench_die("no CBLAS gemm entry point in", path);
    return NULL;
}

static void other_gemm(bool ta, bool tb, int m, int n, int k, const void *a, int lda, const void *b, int ldb,
                       void *c, int ldc) {
    int oa = ta ? TRANS : NO_TRANS, ob = tb ? TRANS : NO_TRANS;
    if (other.ilp64 && dbl)
        ((dgemm64_fn)other.fn)(ROW_MAJOR, oa, ob, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
    else if (other.ilp64)
        ((sgemm64_fn)other.fn)(ROW_MAJOR, oa, ob, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
    else if (dbl)
        ((dgemm32_fn)other.fn)(ROW_MAJOR, oa, ob, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
    else
        ((sgemm32_fn)other.fn)(ROW_MAJOR, oa, ob, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

typedef struct layer {
    int n_in, n_out;
    void *w, *dw, *f, *df, *dg_prev;  /* dg_prev only for l > 0 */
    const void *g_prev;
} layer;

typedef struct ctx {
    int batch, n_layers;
    layer *layers;
} ctx;

static void gemm(bool ta, bool tb, int m, int n, int k, const void *a, int lda, const void *b, int ldb, void *c,
                 int ldc) {
    if (use_other)
        other_gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    else if (dbl)
        smlp_dgemm(ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
    else
        smlp_sgemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

static int step(void *p) {
    ctx *c = p;
    int b = c->batch;
    for (int l = 0; l < c->n_layers; l++) {
        layer *y = &c->layers[l];
        gemm(false, true, b, y->n_out, y->n_in, y->g_prev, y->n_in, y->w, y->n_in, y->f, y->n_out);
    }
    for (int l = c->n_layers - 1; l >= 0; l--) {
        layer *y = &c->layers[l];
        gemm(true, false, y->n_out, y->n_in, b, y->df, y->n_out, y->g_prev, y->n_in, y->dw, y->n_in);
        if (l > 0) gemm(false, false, b, y->n_in, y->n_out, y->df, y->n_out, y->w, y->n_in, y->dg_prev, y->n_in);
    }
    return 0;
}

/* A buffer of n elements holding small values (no subnormals, no overflow). */
static void *filled(size_t n, unsigned seed) {
    size_t es = dbl ? sizeof(double) : sizeof(float);
    size_t bytes = (n * es + 63) / 64 * 64;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (!p) bench_die("out of memory", NULL);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        double v = 0.01 + (double)(seed >> 8) / (double)(1u << 24) * 0.09;
        if (dbl) ((double *)p)[i] = v;
        else ((float *)p)[i] = (float)v;
    }
    return p;
}

/* Every output of a step (f, dW, dg_prev of each layer), into or against
 * `saved` (one buffer per output, allocated on the first call): returns the
 * largest |difference| / the largest |saved value| when comparing. */
static double outputs(const ctx *c, size_t batch, void ***saved, int save) {
    size_t es = dbl ? sizeof(double) : sizeof(float);
    if (!*saved && !(*saved = calloc(3 * (size_t)c->n_layers, sizeof(void *)))) bench_die("out of memory", NULL);
    double diff = 0, scale = 0;
    int nan = 0;
    for (int l = 0; l < c->n_layers; l++) {
        const layer *y = &c->layers[l];
        const void *out[3] = {y->f, y->dw, y->dg_prev};
        size_t n[3] = {batch * (size_t)y->n_out, (size_t)y->n_in * (size_t)y->n_out, batch * (size_t)y->n_in};
        for (int i = 0; i < 3; i++) {
            if (!out[i]) continue;
            void **s = &(*saved)[3 * l + i];
            if (save) {
                if (!*s && !(*s = malloc(n[i] * es))) bench_die("out of memory", NULL);
                memcpy(*s, out[i], n[i] * es);
                continue;
            }
            for (size_t e = 0; e < n[i]; e++) {
                double a = dbl ? ((const double *)*s)[e] : ((const float *)*s)[e];
                double b = dbl ? ((const double *)out[i])[e] : ((const float *)out[i])[e];
                double d = fabs(a - b);
                if (d != d) nan = 1;
                else if (d > diff) diff = d;
                if (fabs(a) > scale) scale = fabs(a);
            }
        }
    }
    if (nan) return INFINITY;
    return scale > 0 ? diff / scale : diff;
}

/* compare mode: see the top of the file. */
static int compare(const bench_opts *o, ctx *c, double flops) {
    if (!o->lib) bench_die("compare needs --lib", NULL);
    const char *core = load_other(o->lib);
    void **saved = NULL;
    use_other = 0;
    step(c);
    outputs(c, o->batch, &saved, 1);
    use_other = 1;
    step(c);
    double rel = outputs(c, o->batch, &saved, 0);
    int agree = rel <= (dbl ? 1e-12 : 1e-4);
    /* Both warmed up; steps per side from one more step of each. */
    double t0 = bench_now();
    step(c);
    use_other = 0;
    step(c);
    double per = (bench_now() - t0) / 2;
    long steps = (long)(o->seconds / per + 0.5);
    if (steps < 1) steps = 1;
    double ours[BENCH_MAX_REPEATS], theirs[BENCH_MAX_REPEATS];
    for (int r = 0; r < o->repeats; r++)
        for (int side = 0; side < 2; side++) {
            use_other = (side + r) % 2;  /* round 0: ours first; round 1: the other first; ... */
            double s = bench_now();
            for (long i = 0; i < steps; i++) step(c);
            double rate = flops * (double)steps / (bench_now() - s) / 1e9;
            if (use_other) theirs[r] = rate;
            else ours[r] = rate;
        }
    printf("{\"mode\": \"compare\", \"steps_per_side\": %ld, \"swiftmlp_gflops\": [", steps);
    for (int r = 0; r < o->repeats; r++) printf("%s%.17g", r ? ", " : "", ours[r]);
    printf("], \"other_gflops\": [");
    for (int r = 0; r < o->repeats; r++) printf("%s%.17g", r ? ", " : "", theirs[r]);
    printf("], \"flops_per_step\": %.17g, \"other_symbol\": \"%s\", \"other_core\": \"%s\", "
           "\"rel_diff\": %.3g, \"agree\": %s, \"threads\": %d, \"blas\": \"%s\"}\n",
           flops, other.name, core, rel, agree ? "true" : "false", smlp_blas_threads(), smlp_blas_info());
    return 0;
}

int main(int argc, char **argv) {
    bench_opts o;
    bench_parse(argc, argv, &o);
    if (strcmp(o.mode, "time") && strcmp(o.mode, "compare")) bench_die("unknown mode (time or compare)", o.mode);
    dbl = o.f64;
    ctx c = {(int)o.batch, (int)o.n_sizes - 1, calloc(o.n_sizes, sizeof(layer))};
    if (!c.layers) bench_die("out of memory", NULL);
    const void *g_prev = filled(o.batch * o.sizes[0], 1);
    double flops = 0;
    for (int l = 0; l < c.n_layers; l++) {
        layer *y = &c.layers[l];
        y->n_in = (int)o.sizes[l];
        y->n_out = (int)o.sizes[l + 1];
        size_t wn = (size_t)y->n_in * (size_t)y->n_out, fn = o.batch * (size_t)y->n_out;
        y->w = filled(wn, 2u + (unsigned)l);
        y->dw = filled(wn, 3u + (unsigned)l);
        y->f = filled(fn, 4u + (unsigned)l);
        y->df = filled(fn, 5u + (unsigned)l);
        y->dg_prev = l > 0 ? filled(o.batch * (size_t)y->n_in, 6u + (unsigned)l) : NULL;
        y->g_prev = g_prev;
        g_prev = y->f;
        flops += 2.0 * (double)o.batch * (double)wn * (l > 0 ? 3 : 2);
    }
    if (!strcmp(o.mode, "compare")) return compare(&o, &c, flops);
    bench_timing t;
    bench_time(step, &c, o.seconds, o.repeats, &t);
    printf("{\"mode\": \"time\", ");
    bench_print_rates(stdout, &t);
    printf(", \"flops_per_step\": %.17g, \"threads\": %d, \"parallel_min\": %.17g, \"blas\": \"%s\"}\n", flops,
           smlp_blas_threads(), smlp_gemm_parallel_min(), smlp_blas_info());
    return 0;
}
