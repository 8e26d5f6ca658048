/*
 * test_blas.c — the BLAS layer under the C ABI (Sources/CSwiftMLPKernels):
 *
 *   (a) OpenBLAS core selection, as swiftmlp_blas_info() reports it (the
 *       library's private OpenBLAS copy). ctest runs this binary with
 *       SWIFTMLP_TEST_EXPECT_CORE set: "auto" (OPENBLAS_CORETYPE unset) means
 *       an AVX2+FMA CPU must not run OpenBLAS 0.3.21's Prescott fallback;
 *       a core name (the test sets OPENBLAS_CORETYPE to it) means the user's
 *       choice is kept, even Prescott; "refused" (OPENBLAS_CORETYPE names a
 *       core this CPU cannot run) means another core runs, the one the
 *       library would choose, the text names the refused core and what the
 *       CPU lacks, the variable keeps its value, and (e) runs after (a).
 *       With SWIFTMLP_TEST_EXPECT_THREADS
 *       the reported thread count must be that (SWIFTMLP_NUM_THREADS as the
 *       entry sets it). Those entries run only (a), the "refused" ones
 *       (a) and (e).
 *   (b) large products split over swiftmlp's threads: 4 threads train their
 *       own copies of one large network at once (one gets the workers, the
 *       others find them busy and run the same parts themselves, or one
 *       call where the core gives it the parts' bits); every result equals
 *       a sequential run's bit for bit. With SWIFTMLP_TEST_CONCURRENT set,
 *       only (b) runs (ctest's entry on Haswell, whose sgemm does not give
 *       one call the parts' bits).
 *   (c) fork: a child of a process whose workers are running trains on
 *       (its own workers start) and gets the parent's result bit for bit,
 *       instead of waiting forever for workers that do not exist in it.
 *   (d) after large products, the process runs the main thread and
 *       swiftmlp's workers only: the private OpenBLAS's own server threads
 *       (started when it was loaded; it runs single-threaded) are stopped.
 *   (e) every product of a forward and backward against a naive triple loop
 *       over the network's own operands (its parameters and the quantities
 *       get_quantity reads): f = g_prev W^T + b, dW = dL/df^T g_prev,
 *       dL/dg_prev = dL/df W, db = the rows' sum of dL/df; each element
 *       within rtol (float64 1e-13, float32 2e-6 times sqrt(K)) of the sum of
 *       its terms' magnitudes. The shapes: gemm.c's small-kernel path (a
 *       transposed copy of x or W and OpenBLAS's TT or NN kernel on AVX-512 cores:
 *       batch >= 16, at most 100^3 multiply-adds, tile tails of 130 and 70)
 *       and just below it (batch 8), and products of at least
 *       smlp_gemm_parallel_min multiply-adds, split over the pool's threads
 *       along C's rows (a batch of 3000) and its columns, with parts that
 *       are not multiples of 16, of at least 2^26 (always split, in
 *       two parts per thread), and products with one row or one column
 *       (a batch of one, a layer of one unit: gemm.c's ?gemv path on the
 *       cores without small-matrix kernels), and products of at most 2^17
 *       multiply-adds, which on OpenBLAS's AVX2 cores run in the library's
 *       own kernels (small_gemm.c). ctest runs (e) alone on the CPU's best
 *       core (the small-kernel path on AVX-512) and on Haswell (without it;
 *       ?gemv for one row or column, small_gemm.c for small products), with
 *       SWIFTMLP_TEST_PRODUCTS set; the plain entry runs it too.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <strings.h>
#include <dirent.h>
#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- (a) core selection ----------------------------------------------------- */

/* The core named in swiftmlp_blas_info(): "..., core NAME, ..." or "..., core NAME (...". */
static void blas_core(char *out, size_t cap)
{
    const char *info = swiftmlp_blas_info();
    assert_non_null(info);
    const char *p = strstr(info, "core ");
    assert_non_null(p);
    p += 5;
    size_t n = strcspn(p, " ,(");
    assert_true(n > 0 && n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

static void openblas_core_is_the_expected_one(void **state)
{
    (void)state;
    const char *expect = getenv("SWIFTMLP_TEST_EXPECT_CORE");
    assert_non_null(expect);
    /* The user's OPENBLAS_CORETYPE, before the library's first product. */
    char user[64] = "";
    if (getenv("OPENBLAS_CORETYPE")) snprintf(user, sizeof user, "%s", getenv("OPENBLAS_CORETYPE"));
    char core[64];
    blas_core(core, sizeof core);
    assert_non_null(strstr(swiftmlp_blas_info(), "private copy"));
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(expect, "auto") == 0) {
        assert_null(getenv("OPENBLAS_CORETYPE"));
        if (avx2 && strcasecmp(core, "Prescott") == 0) fail_msg("an AVX2 CPU runs OpenBLAS's Prescott kernels");
    } else if (strcmp(expect, "refused") == 0) {
        /* OPENBLAS_CORETYPE names a core this CPU cannot run: the library
         * runs the one it would choose with the variable unset, names the
         * refused core and what the CPU lacks, and leaves the variable as
         * the user set it. */
        assert_true(user[0] != '\0');
        if (strcasecmp(core, user) == 0) fail_msg("OpenBLAS runs %s, which this CPU cannot run", core);
        if (avx2 && strcasecmp(core, "Prescott") == 0) fail_msg("an AVX2 CPU runs OpenBLAS's Prescott kernels");
        char note[128];
        snprintf(note, sizeof note, "(replacing OPENBLAS_CORETYPE's %s: this CPU lacks ", user);
        if (!strstr(swiftmlp_blas_info(), note))
            fail_msg("swiftmlp_blas_info() = \"%s\" lacks \"%s\"", swiftmlp_blas_info(), note);
        assert_non_null(getenv("OPENBLAS_CORETYPE"));
        assert_string_equal(getenv("OPENBLAS_CORETYPE"), user);
    } else {
        if (strcasecmp(core, expect) != 0)
            fail_msg("OpenBLAS core %s, expected the user's choice %s", core, expect);
    }
    /* SWIFTMLP_NUM_THREADS as the entry set it: the count the text reports. */
    const char *threads = getenv("SWIFTMLP_TEST_EXPECT_THREADS");
    if (threads) {
        char want[64];
        snprintf(want, sizeof want, ", %s thread%s for products", threads, strcmp(threads, "1") ? "s" : "");
        if (!strstr(swiftmlp_blas_info(), want))
            fail_msg("swiftmlp_blas_info() = \"%s\", expected \"%s\"", swiftmlp_blas_info(), want);
    }
}

/* ---- (b) concurrent large products ----------------------------------------- */

/* The first layer's forward and dW products of 64 x 512 x 2048 = 2^26
 * multiply-adds are always split (gemm.c's large_min); the second layer's,
 * 2^25, as the pool's measurements choose. */
static const size_t big_sizes[] = {512, 2048, 256};
enum { BIG_BATCH = 64, BIG_STEPS = 3, N_THREADS = 4 };

typedef struct big_run {
    swiftmlp_dtype dtype;
    snapshot params;
    swiftmlp_status status;
} big_run;

static void fill_batch(swiftmlp_dtype dtype, void *x, void *y)
{
    uint64_t s = 42;
    size_t nx = BIG_BATCH * big_sizes[0], ny = BIG_BATCH * big_sizes[2];
    for (size_t i = 0; i < nx; i++) {
        double v = rand_uniform(&s, -1, 1);
        if (dtype == SWIFTMLP_FLOAT32) ((float *)x)[i] = (float)v; else ((double *)x)[i] = v;
    }
    for (size_t i = 0; i < ny; i++) {
        double v = rand_uniform(&s, 0, 1);
        if (dtype == SWIFTMLP_FLOAT32) ((float *)y)[i] = (float)v; else ((double *)y)[i] = v;
    }
}

/* Create the network, train `steps` steps; no cmocka calls (thread-safe). */
static swiftmlp_status train_big(swiftmlp_dtype dtype, int steps, swiftmlp_net **out)
{
    size_t nx = BIG_BATCH * big_sizes[0], ny = BIG_BATCH * big_sizes[2];
    void *x = malloc(nx * sizeof(double)), *y = malloc(ny * sizeof(double));
    swiftmlp_net *net = NULL;
    swiftmlp_optimizer o;
    double loss;
    swiftmlp_status s = x && y ? SWIFTMLP_OK : SWIFTMLP_ERR_OUT_OF_MEMORY;
    if (s == SWIFTMLP_OK) s = swiftmlp_create(big_sizes, 3, dtype, 11, &net);
    if (s == SWIFTMLP_OK) s = swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o);
    if (s == SWIFTMLP_OK) s = swiftmlp_set_optimizer(net, &o);
    if (s == SWIFTMLP_OK) fill_batch(dtype, x, y);
    for (int i = 0; i < steps && s == SWIFTMLP_OK; i++)
        s = swiftmlp_train_step(net, dtype, x, nx, y, ny, BIG_BATCH, &loss);
    free(x);
    free(y);
    if (s != SWIFTMLP_OK) {
        swiftmlp_free(net);
        net = NULL;
    }
    *out = net;
    return s;
}

static void *big_thread(void *arg)
{
    big_run *r = arg;
    swiftmlp_net *net = NULL;
    r->status = train_big(r->dtype, BIG_STEPS, &net);
    if (r->status == SWIFTMLP_OK) {
        size_t count = 0;
        swiftmlp_get_param_count(net, &count);
        r->params.bytes = count * dtype_size(r->dtype);
        r->params.data = malloc(r->params.bytes);
        if (!r->params.data || swiftmlp_get_params(net, r->dtype, r->params.data, count) != SWIFTMLP_OK)
            r->status = SWIFTMLP_ERR_OUT_OF_MEMORY;
    }
    swiftmlp_free(net);
    return NULL;
}

static void concurrent_large_training_matches_sequential(swiftmlp_dtype dtype)
{
    swiftmlp_net *net = NULL;
    assert_ok(train_big(dtype, BIG_STEPS, &net));
    snapshot expected = snapshot_params(net);
    swiftmlp_free(net);

    pthread_t t[N_THREADS];
    big_run runs[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        runs[i] = (big_run){dtype, {NULL, 0}, SWIFTMLP_OK};
        assert_int_equal(pthread_create(&t[i], NULL, big_thread, &runs[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(runs[i].status, SWIFTMLP_OK);
        assert_same_snapshot(expected, runs[i].params, "parameters after concurrent training");
        snapshot_free(&runs[i].params);
    }
    snapshot_free(&expected);
}

DTYPE_TESTS(concurrent_large_training_f64,
            concurrent_large_training_f32,
            concurrent_large_training_matches_sequential)

/* ---- (c) fork ----------------------------------------------------------------- */

static void training_continues_in_a_forked_child(void **state)
{
    (void)state;
    swiftmlp_net *net = NULL;
    assert_ok(train_big(SWIFTMLP_FLOAT64, 2, &net)); /* the workers exist now */
    size_t count = 0;
    assert_ok(swiftmlp_get_param_count(net, &count));
    size_t nx = BIG_BATCH * big_sizes[0], ny = BIG_BATCH * big_sizes[2];
    double *x = malloc(nx * sizeof *x), *y = malloc(ny * sizeof *y);
    double *child = malloc(count * sizeof *child), *parent = malloc(count * sizeof *parent);
    assert_non_null(x); assert_non_null(y); assert_non_null(child); assert_non_null(parent);
    fill_batch(SWIFTMLP_FLOAT64, x, y);

    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(60); /* a hang becomes SIGALRM, which the parent sees */
        close(fd[0]);
        double loss;
        int ok = swiftmlp_train_step(net, SWIFTMLP_FLOAT64, x, nx, y, ny, BIG_BATCH, &loss) == SWIFTMLP_OK &&
                 swiftmlp_get_params(net, SWIFTMLP_FLOAT64, child, count) == SWIFTMLP_OK;
        size_t bytes = count * sizeof *child;
        const char *p = (const char *)child;
        while (ok && bytes) {
            ssize_t w = write(fd[1], p, bytes);
            if (w <= 0) ok = 0; else { p += w; bytes -= (size_t)w; }
        }
        _exit(ok ? 0 : 3);
    }
    close(fd[1]);
    double loss;
    assert_ok(swiftmlp_train_step(net, SWIFTMLP_FLOAT64, x, nx, y, ny, BIG_BATCH, &loss));
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, parent, count));
    size_t bytes = count * sizeof *child;
    char *p = (char *)child;
    while (bytes) {
        ssize_t r = read(fd[0], p, bytes);
        if (r <= 0) break;
        p += r;
        bytes -= (size_t)r;
    }
    close(fd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fail_msg("the forked child died of signal %d", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(bytes, 0);
    assert_memory_equal(parent, child, count * sizeof *child);
    free(x); free(y); free(child); free(parent);
    swiftmlp_free(net);
}

/* ---- (d) no idle OpenBLAS threads ------------------------------------------- */

static int process_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void only_swiftmlp_threads_run(void **state)
{
    (void)state;
    swiftmlp_net *net = NULL;
    assert_int_equal(train_big(SWIFTMLP_FLOAT64, 1, &net), SWIFTMLP_OK);  /* splits: the workers run */
    /* "..., N thread(s) for products": the main thread plus N - 1 workers. */
    const char *info = swiftmlp_blas_info();
    int threads = 0;
    for (const char *p = strstr(info, ", "); p && threads == 0; p = strstr(p + 1, ", "))
        if (sscanf(p, ", %d thread", &threads) != 1) threads = 0;
    if (threads < 1) fail_msg("no thread count in \"%s\"", info);
    /* ThreadSanitizer's runtime runs one background thread of its own. */
    int runtime = dlsym(RTLD_DEFAULT, "__tsan_init") ? 1 : 0;
    int seen = process_threads();
    if (seen != threads + runtime)
        fail_msg("%d threads run, expected %d (main + %d workers%s): %s", seen, threads + runtime, threads - 1,
                 runtime ? " + the ThreadSanitizer runtime's" : "", info);
    swiftmlp_free(net);
}

/* ---- (e) products against a naive triple loop ------------------------------- */

typedef struct product_shape {
    size_t sizes[4], n_sizes, rows;
} product_shape;

static const product_shape k_product_shapes[] = {
    {{70, 130, 10}, 3, 33},      /* small-kernel path, tile tails in both dimensions */
    {{64, 128, 10}, 3, 32},      /* the digits network */
    {{33, 47, 200, 3}, 4, 20},
    {{64, 128, 10}, 3, 16},      /* the smallest batch that takes the path */
    {{64, 128, 10}, 3, 8},       /* below it */
    {{70, 40, 10}, 3, 48},       /* the path copying W (48 rows >= 40 outputs); above: x */
    {{384, 512, 256}, 3, 64},    /* split: forward along columns, dW along rows */
    {{200, 300, 20}, 3, 97},     /* split with parts not multiples of 16 */
    {{40, 24, 5}, 3, 3000},      /* split along the batch's rows */
    {{256, 4096, 8}, 3, 64},     /* always split, 2 parts per thread: forward and dW of 2^26 */
    {{200, 300, 20}, 3, 1},      /* one row: ?gemv for f and dL/dg_prev (W and W^T) */
    {{100, 150, 1}, 3, 64},      /* one output unit: ?gemv for f (one column) and dW (one row, A^T) */
    {{64, 32, 10}, 3, 32},       /* the small workload: on Haswell, small_gemm.c for every product */
    {{13, 37, 21, 5}, 4, 45},    /* small_gemm.c's tile tails in m, n and k in every form */
};

/* A quantity (or with q < 0, layer `layer`'s W then b) as doubles. */
static double *fetch(swiftmlp_net *net, swiftmlp_dtype dt, int q, size_t layer, size_t n)
{
    double *out = malloc(n * sizeof *out);
    float *tmp = malloc(n * sizeof *tmp);
    assert_non_null(out);
    assert_non_null(tmp);
    void *buf = dt == SWIFTMLP_FLOAT64 ? (void *)out : (void *)tmp;
    assert_ok(swiftmlp_get_quantity(net, (swiftmlp_quantity)q, layer, dt, buf, n));
    if (dt == SWIFTMLP_FLOAT32) {
        for (size_t i = 0; i < n; i++) {
            out[i] = tmp[i];
        }
    }
    free(tmp);
    return out;
}

static double *fetch_layer(swiftmlp_net *net, swiftmlp_dtype dt, size_t layer, size_t n_w, size_t n_b,
                           int grads)
{
    double *out = malloc((n_w + n_b) * sizeof *out);
    float *tmp = malloc((n_w + n_b) * sizeof *tmp);
    assert_non_null(out);
    assert_non_null(tmp);
    if (dt == SWIFTMLP_FLOAT64) {
        assert_ok((grads ? swiftmlp_get_layer_grads : swiftmlp_get_layer)(net, layer, dt, out, n_w, out + n_w, n_b));
    } else {
        assert_ok((grads ? swiftmlp_get_layer_grads : swiftmlp_get_layer)(net, layer, dt, tmp, n_w, tmp + n_w, n_b));
        for (size_t i = 0; i < n_w + n_b; i++) {
            out[i] = tmp[i];
        }
    }
    free(tmp);
    return out;
}

/* C (m x n) = sum_k A(i, k) B(k, j) + bias(j), where A(i, k) = a[i * sa_i + k * sa_k] and
 * B(k, j) = b[k * sb_k + j * sb_j]; checks got against it element by element. */
static void check_product(const char *what, const double *got, size_t m, size_t n, size_t k,
                          const double *a, size_t sa_i, size_t sa_k, const double *b, size_t sb_k,
                          size_t sb_j, const double *bias, double rtol)
{
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double sum = bias ? bias[j] : 0.0, mag = bias ? fabs(bias[j]) : 0.0;
            for (size_t p = 0; p < k; p++) {
                double t = a[i * sa_i + p * sa_k] * b[p * sb_k + j * sb_j];
                sum += t;
                mag += fabs(t);
            }
            double diff = fabs(got[i * n + j] - sum);
            if (!(diff <= rtol * mag + 1e-300)) {
                print_error("%s [%zu x %zu, K %zu] element (%zu, %zu): got %.17g, naive %.17g, "
                            "|diff| %.3g > %.3g * sum|terms| %.3g\n",
                            what, m, n, k, i, j, got[i * n + j], sum, diff, rtol, mag);
                fail();
            }
        }
    }
}

static void check_products(const product_shape *s, swiftmlp_dtype dt)
{
    const size_t R = s->rows, L = s->n_sizes - 1, n0 = s->sizes[0], nl = s->sizes[L];
    swiftmlp_net *net = create_net(s->sizes, s->n_sizes, dt, 11);
    double *x = malloc(R * n0 * sizeof *x), *y = malloc(R * nl * sizeof *y);
    float *x32 = malloc(R * n0 * sizeof *x32), *y32 = malloc(R * nl * sizeof *y32);
    double *out = malloc(R * nl * sizeof *out);
    assert_true(x && y && x32 && y32 && out);
    for (size_t i = 0; i < R * n0; i++) {
        x32[i] = (float)(sin(0.37 * (double)i) * 1.5);
        x[i] = x32[i];
    }
    for (size_t i = 0; i < R * nl; i++) {
        y32[i] = (float)(0.5 + 0.5 * cos(0.11 * (double)i));
        y[i] = y32[i];
    }
    const int f64 = dt == SWIFTMLP_FLOAT64;
    assert_ok(swiftmlp_forward(net, dt, f64 ? (void *)x : (void *)x32, R * n0, R, out, R * nl));
    assert_ok(swiftmlp_backward(net, dt, f64 ? (void *)y : (void *)y32, R * nl, R, NULL));
    for (size_t l = 1; l <= L; l++) {
        const size_t in = s->sizes[l - 1], on = s->sizes[l];
        const double rtol = f64 ? 1e-13 : 2e-6 * sqrt((double)(in > R ? in : R));
        double *g_prev = fetch(net, dt, SWIFTMLP_Q_G, l - 1, R * in);
        double *f = fetch(net, dt, SWIFTMLP_Q_F, l, R * on);
        double *df = fetch(net, dt, SWIFTMLP_Q_DL_DF, l, R * on);
        double *wb = fetch_layer(net, dt, l - 1, on * in, on, 0);
        double *dwb = fetch_layer(net, dt, l - 1, on * in, on, 1);
        /* f = g_prev W^T + b: A = g_prev (R x in), B(k, j) = W(j, k). */
        check_product("f = g_prev W^T + b", f, R, on, in, g_prev, in, 1, wb, 1, in, wb + on * in, rtol);
        /* dW = dL/df^T g_prev: A(i, k) = df(k, i), B = g_prev. */
        check_product("dW = dL/df^T g_prev", dwb, on, in, R, df, 1, on, g_prev, in, 1, NULL, rtol);
        /* db = ones^T dL/df. */
        double *ones = malloc(R * sizeof *ones);
        assert_non_null(ones);
        for (size_t r = 0; r < R; r++) {
            ones[r] = 1.0;
        }
        check_product("db = sum of dL/df's rows", dwb + on * in, 1, on, R, ones, 0, 1, df, on, 1, NULL, rtol);
        free(ones);
        if (l >= 2) {
            /* dL/dg_prev = dL/df W. */
            double *dg_prev = fetch(net, dt, SWIFTMLP_Q_DL_DG, l - 1, R * in);
            check_product("dL/dg_prev = dL/df W", dg_prev, R, in, on, df, on, 1, wb, in, 1, NULL, rtol);
            free(dg_prev);
        }
        free(g_prev);
        free(f);
        free(df);
        free(wb);
        free(dwb);
    }
    free(x);
    free(y);
    free(x32);
    free(y32);
    free(out);
    swiftmlp_free(net);
}

/* One test per element type: state points to the dtype. */
static void products_match_naive_loops(void **state)
{
    const swiftmlp_dtype dt = *(const swiftmlp_dtype *)*state;
    for (size_t i = 0; i < ARRAY_LEN(k_product_shapes); i++) {
        check_products(&k_product_shapes[i], dt);
    }
}

static const swiftmlp_dtype k_f64 = SWIFTMLP_FLOAT64, k_f32 = SWIFTMLP_FLOAT32;
#define PRODUCTS_TEST(suffix, dtype)                                                                    \
    {.name = "products_match_naive_loops_" suffix, .test_func = products_match_naive_loops,            \
     .setup_func = NULL, .teardown_func = NULL, .initial_state = (void *)&(dtype)}

/* The table holds products split over the pool (at least gemm.c's
 * parallel_min = 2^20 multiply-adds), one of them always split (its
 * large_min, 2^26), and the pool has threads to split them over (the
 * product entries set SWIFTMLP_NUM_THREADS=3). */
static void product_shapes_reach_the_split_path(void **state)
{
    (void)state;
    size_t split = 0, large = 0;
    for (size_t i = 0; i < ARRAY_LEN(k_product_shapes); i++) {
        const product_shape *s = &k_product_shapes[i];
        double work = (double)s->rows * (double)s->sizes[0] * (double)s->sizes[1];
        split += work >= 1048576.0;
        large += work >= 67108864.0;
    }
    assert_int_equal(split, 4);
    assert_int_equal(large, 1);
    if (getenv("SWIFTMLP_TEST_PRODUCTS")) {
        assert_int_equal(swiftmlp_get_num_threads(), 3);
    }
}

int main(void)
{
    /* The core-selection entries run only (a). */
    const struct CMUnitTest core_only[] = {
        cmocka_unit_test(openblas_core_is_the_expected_one),
    };
    /* The product entries run only (e). */
    const struct CMUnitTest products[] = {
        cmocka_unit_test(product_shapes_reach_the_split_path),
        PRODUCTS_TEST("f64", k_f64),
        PRODUCTS_TEST("f32", k_f32),
    };
    /* A refused core's entries run (a), then (e) on the core run instead
     * (on the refused one, the first product would end the process). */
    const char *expect_core = getenv("SWIFTMLP_TEST_EXPECT_CORE");
    if (expect_core && strcmp(expect_core, "refused") == 0)
        return cmocka_run_group_tests(core_only, NULL, NULL) | cmocka_run_group_tests(products, NULL, NULL);
    if (expect_core) return cmocka_run_group_tests(core_only, NULL, NULL);
    if (getenv("SWIFTMLP_TEST_PRODUCTS")) return cmocka_run_group_tests(products, NULL, NULL);
    /* The concurrent entry runs only (b). */
    const struct CMUnitTest concurrent[] = {
        cmocka_unit_test(concurrent_large_training_f64),
        cmocka_unit_test(concurrent_large_training_f32),
    };
    if (getenv("SWIFTMLP_TEST_CONCURRENT")) return cmocka_run_group_tests(concurrent, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(product_shapes_reach_the_split_path),
        PRODUCTS_TEST("f64", k_f64),
        PRODUCTS_TEST("f32", k_f32),
        cmocka_unit_test(only_swiftmlp_threads_run),
        cmocka_unit_test(concurrent_large_training_f64),
        cmocka_unit_test(concurrent_large_training_f32),
        cmocka_unit_test(training_continues_in_a_forked_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
