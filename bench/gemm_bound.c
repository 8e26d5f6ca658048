/*
 * gemm_bound.c — the matrix products of one training step, and nothing
 * else, through swiftmlp's own BLAS layer: Sources/CSwiftMLPBLAS (the
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
 */
#include "bench_util.h"

#include "swiftmlp_blas.h"

static int dbl;

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
    if (dbl)
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

int main(int argc, char **argv) {
    bench_opts o;
    bench_parse(argc, argv, &o);
    if (strcmp(o.mode, "time")) bench_die("unknown mode (only: time)", o.mode);
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
    bench_timing t;
    bench_time(step, &c, o.seconds, o.repeats, &t);
    printf("{\"mode\": \"time\", ");
    bench_print_rates(stdout, &t);
    printf(", \"flops_per_step\": %.17g, \"threads\": %d, \"parallel_min\": %.17g, \"blas\": \"%s\"}\n", flops,
           smlp_blas_threads(), smlp_gemm_parallel_min(), smlp_blas_info());
    return 0;
}
