/*
 * test_small_products.c — forward products of mid-sized layers, which on
 * the AVX-512 OpenBLAS cores (SkylakeX, Cooperlake) go through a transposed
 * copy of the smaller operand and OpenBLAS's small TT or NN kernel
 * (Sources/CSwiftMLPKernels/gemm.c: batch >= 16, at most 100^3
 * multiply-adds; x copied when the batch is smaller than the layer's
 * outputs, else W). ctest runs this binary with
 * OPENBLAS_CORETYPE unset, so the library picks the CPU's best core; on an
 * AVX-512 CPU the test checks that it is one of those two.
 *
 *   (a) the network's output equals a naive double-precision forward pass
 *       (the slides' f = g_prev W^T + b, g = sigmoid(f)) from the same
 *       parameters, for float and double, on shapes that take the path with
 *       tile tails in both dimensions (130 = 8*16 + 2 rows of W, 70 = 4*16 + 6
 *       columns), on the digits network (these copy x), on a layer of 40
 *       outputs at batch 48 (copies W), and below batch 16 (old path);
 *   (b) 6 threads at once, each creating, running and freeing its own
 *       networks: they share the scratch slots (the sanitizer builds run
 *       this too: ThreadSanitizer reports a slot used by two products at
 *       once, AddressSanitizer an access outside a buffer, LeakSanitizer a
 *       buffer left at exit), and every output equals (a)'s bit for bit;
 *   (c) swiftmlp_fit on the digits network, which holds the first layer's W
 *       transposed itself on these cores (Sources/SwiftMLP/
 *       TransposedFirstLayer.swift), gives the same parameter and gradient
 *       bits as swiftmlp_train_step on the same batches, a short last batch
 *       (ordinary path) or none; under the sanitizers, with its buffers.
 */
#include "test_util.h"

#include <pthread.h>
#include <stdbool.h>

typedef struct shape {
    size_t sizes[4], n_sizes, batch;
} shape;

static const shape k_shapes[] = {
    {{70, 130, 10}, 3, 33},
    {{64, 128, 10}, 3, 32},
    {{33, 47, 200, 3}, 4, 20},
    {{64, 128, 10}, 3, 16},
    {{64, 128, 10}, 3, 8},
    {{70, 40, 10}, 3, 48},
};
enum { N_SHAPES = sizeof k_shapes / sizeof k_shapes[0], MAX_OUT = 48 * 10, N_THREADS = 6 };

static double input(size_t i) { return sin(0.37 * (double)i) * 1.5; }

/* The network's output for shape s (float or double), as doubles in out,
 * and its parameters in params_out (if not NULL). No cmocka calls (worker
 * threads use it): false on any failure. */
static bool run_net(const shape *s, swiftmlp_dtype dt, double *out, double *params_out, size_t params_cap)
{
    swiftmlp_net *net = NULL;
    size_t n0 = s->sizes[0], nl = s->sizes[s->n_sizes - 1], es = dtype_size(dt), count = 0;
    void *x = malloc(s->batch * n0 * es), *y = malloc(s->batch * nl * es), *p = NULL;
    bool ok = x && y && swiftmlp_create(s->sizes, s->n_sizes, dt, 11, &net) == SWIFTMLP_OK;
    for (size_t i = 0; ok && i < s->batch * n0; i++) {
        if (dt == SWIFTMLP_FLOAT32) ((float *)x)[i] = (float)input(i);
        else ((double *)x)[i] = input(i);
    }
    ok = ok && swiftmlp_forward(net, dt, x, s->batch * n0, s->batch, y, s->batch * nl) == SWIFTMLP_OK;
    for (size_t i = 0; ok && i < s->batch * nl; i++)
        out[i] = dt == SWIFTMLP_FLOAT32 ? (double)((float *)y)[i] : ((double *)y)[i];
    if (ok && params_out) {
        ok = swiftmlp_get_param_count(net, &count) == SWIFTMLP_OK && count <= params_cap &&
             (p = malloc(count * es)) != NULL && swiftmlp_get_params(net, dt, p, count) == SWIFTMLP_OK;
        for (size_t i = 0; ok && i < count; i++)
            params_out[i] = dt == SWIFTMLP_FLOAT32 ? (double)((float *)p)[i] : ((double *)p)[i];
    }
    free(p);
    free(x);
    free(y);
    swiftmlp_free(net);
    return ok;
}

/* The slides' forward pass in double from the documented parameter layout;
 * the input rounded to dt first, as the network saw it. */
static void naive_forward(const shape *s, swiftmlp_dtype dt, const double *params, double *out)
{
    size_t rows = s->batch, width = s->sizes[0];
    double *g = malloc(rows * 256 * sizeof(double)), *f = malloc(rows * 256 * sizeof(double));
    assert_non_null(g);
    assert_non_null(f);
    for (size_t i = 0; i < rows * width; i++)
        g[i] = dt == SWIFTMLP_FLOAT32 ? (double)(float)input(i) : input(i);
    const double *p = params;
    for (size_t l = 0; l + 1 < s->n_sizes; l++) {
        size_t nin = s->sizes[l], nout = s->sizes[l + 1];
        const double *w = p, *b = p + nout * nin;
        for (size_t r = 0; r < rows; r++)
            for (size_t o = 0; o < nout; o++) {
                double acc = 0;
                for (size_t i = 0; i < nin; i++) acc += g[r * nin + i] * w[o * nin + i];
                f[r * nout + o] = 1.0 / (1.0 + exp(-(acc + b[o])));
            }
        memcpy(g, f, rows * nout * sizeof(double));
        p = b + nout;
    }
    memcpy(out, g, rows * s->sizes[s->n_sizes - 1] * sizeof(double));
    free(g);
    free(f);
}

static int cpu_has_avx512f(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

static void the_library_runs_an_avx512_core_where_there_is_one(void **state)
{
    (void)state;
    assert_null(getenv("OPENBLAS_CORETYPE"));
    if (!cpu_has_avx512f()) return; /* then the path does not exist: nothing to check here */
    const char *info = swiftmlp_blas_info();
    assert_true(strstr(info, "core SkylakeX") != NULL || strstr(info, "core Cooperlake") != NULL);
}

static double reference[2][N_SHAPES][MAX_OUT];

static void outputs_equal_a_naive_double_forward(void **state)
{
    (void)state;
    static double params[70 * 130 + 130 + 130 * 10 + 10 + 33 * 47 + 47 + 47 * 200 + 200 + 200 * 3 + 3];
    for (int d = 0; d < 2; d++) {
        swiftmlp_dtype dt = d ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
        double tol = d ? 1e-13 : 2e-5;
        for (size_t k = 0; k < N_SHAPES; k++) {
            const shape *s = &k_shapes[k];
            size_t n = s->batch * s->sizes[s->n_sizes - 1];
            assert_true(n <= MAX_OUT);
            double want[MAX_OUT];
            assert_true(run_net(s, dt, reference[d][k], params, sizeof params / sizeof params[0]));
            naive_forward(s, dt, params, want);
            for (size_t i = 0; i < n; i++) assert_close(reference[d][k][i], want[i], tol, tol);
        }
    }
}

typedef struct worker {
    int index;
    int mismatches;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    double out[MAX_OUT];
    for (int round = 0; round < 3; round++)
        for (size_t k = 0; k < N_SHAPES; k++) {
            size_t idx = (k + (size_t)w->index) % N_SHAPES;
            const shape *s = &k_shapes[idx];
            for (int d = 0; d < 2; d++) {
                size_t n = s->batch * s->sizes[s->n_sizes - 1];
                if (!run_net(s, d ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32, out, NULL, 0) ||
                    memcmp(out, reference[d][idx], n * sizeof(double)) != 0)
                    w->mismatches++;
            }
        }
    return NULL;
}

static void concurrent_threads_get_the_same_bits(void **state)
{
    (void)state;
    pthread_t t[N_THREADS];
    worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].mismatches, 0);
    }
}

/* (c) for one dtype: ROWS rows in batches of 32, 2 epochs: with 100 rows
 * the last batch (4 rows) takes the ordinary path, with 96 the fit ends
 * holding W^T and writes W and dL/dW back. */
static void fit_matches_train_steps(swiftmlp_dtype dt, size_t ROWS)
{
    enum { BATCH = 32, EPOCHS = 2 };
    const size_t sizes[] = {64, 128, 10};
    size_t es = dtype_size(dt), count = 0;
    char *x = malloc(ROWS * 64 * es), *y = malloc(ROWS * 10 * es);
    assert_non_null(x);
    assert_non_null(y);
    for (size_t i = 0; i < ROWS * 64; i++) {
        if (dt == SWIFTMLP_FLOAT32) ((float *)x)[i] = (float)input(i);
        else ((double *)x)[i] = input(i);
    }
    for (size_t i = 0; i < ROWS * 10; i++) {
        double v = 0.5 + 0.4 * sin(1.3 * (double)i);
        if (dt == SWIFTMLP_FLOAT32) ((float *)y)[i] = (float)v;
        else ((double *)y)[i] = v;
    }
    swiftmlp_net *net = NULL, *twin = NULL;
    swiftmlp_optimizer opt;
    assert_int_equal(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &opt), SWIFTMLP_OK);
    opt.lr = 0.5;
    assert_int_equal(swiftmlp_create(sizes, 3, dt, 5, &net), SWIFTMLP_OK);
    assert_int_equal(swiftmlp_create(sizes, 3, dt, 5, &twin), SWIFTMLP_OK);
    assert_int_equal(swiftmlp_set_optimizer(net, &opt), SWIFTMLP_OK);
    assert_int_equal(swiftmlp_set_optimizer(twin, &opt), SWIFTMLP_OK);
    swiftmlp_fit_options o;
    assert_int_equal(swiftmlp_fit_options_default(&o), SWIFTMLP_OK);
    o.epochs = EPOCHS;
    o.batch_size = BATCH;
    o.shuffle = 0;
    assert_int_equal(swiftmlp_fit(net, dt, x, ROWS * 64, y, ROWS * 10, ROWS, &o, NULL), SWIFTMLP_OK);
    for (int e = 0; e < EPOCHS; e++)
        for (size_t r = 0; r < ROWS; r += BATCH) {
            size_t m = ROWS - r < BATCH ? ROWS - r : BATCH;
            double loss;
            assert_int_equal(swiftmlp_train_step(twin, dt, x + r * 64 * es, m * 64, y + r * 10 * es, m * 10, m, &loss),
                             SWIFTMLP_OK);
        }
    assert_int_equal(swiftmlp_get_param_count(net, &count), SWIFTMLP_OK);
    char *a = malloc(count * es), *b = malloc(count * es);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(swiftmlp_get_params(net, dt, a, count), SWIFTMLP_OK);
    assert_int_equal(swiftmlp_get_params(twin, dt, b, count), SWIFTMLP_OK);
    assert_memory_equal(a, b, count * es);
    assert_int_equal(swiftmlp_get_grads(net, dt, a, count), SWIFTMLP_OK);
    assert_int_equal(swiftmlp_get_grads(twin, dt, b, count), SWIFTMLP_OK);
    assert_memory_equal(a, b, count * es);
    free(a);
    free(b);
    swiftmlp_free(net);
    swiftmlp_free(twin);
    free(x);
    free(y);
}

static void fit_equals_the_train_steps_bit_for_bit(void **state)
{
    (void)state;
    for (size_t rows = 96; rows <= 100; rows += 4) {
        fit_matches_train_steps(SWIFTMLP_FLOAT32, rows);
        fit_matches_train_steps(SWIFTMLP_FLOAT64, rows);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_library_runs_an_avx512_core_where_there_is_one),
        cmocka_unit_test(outputs_equal_a_naive_double_forward),
        cmocka_unit_test(concurrent_threads_get_the_same_bits),
        cmocka_unit_test(fit_equals_the_train_steps_bit_for_bit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
