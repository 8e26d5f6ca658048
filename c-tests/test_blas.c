/*
 * test_blas.c — the BLAS layer under the C ABI (Sources/CSwiftMLPBLAS):
 *
 *   (a) OpenBLAS core selection, as swiftmlp_blas_info() reports it (the
 *       library's private OpenBLAS copy). ctest runs this binary with
 *       SWIFTMLP_TEST_EXPECT_CORE set: "auto" (OPENBLAS_CORETYPE unset) means
 *       an AVX2+FMA CPU must not run OpenBLAS 0.3.21's Prescott fallback;
 *       a core name (the test sets OPENBLAS_CORETYPE to it) means the user's
 *       choice is kept, even Prescott. With SWIFTMLP_TEST_EXPECT_THREADS
 *       the reported thread count must be that (SWIFTMLP_NUM_THREADS as the
 *       entry sets it). Those entries run only (a).
 *   (b) large products split over swiftmlp's threads: 4 threads train their
 *       own copies of one large network at once (one gets the workers, the
 *       others find them busy and run the same parts themselves); every
 *       result equals a sequential run's bit for bit.
 *   (c) fork: a child of a process whose workers are running trains on
 *       (its own workers start) and gets the parent's result bit for bit,
 *       instead of waiting forever for workers that do not exist in it.
 *   (d) after large products, the process runs the main thread and
 *       swiftmlp's workers only: the private OpenBLAS's own server threads
 *       (started when it was loaded; it runs single-threaded) are stopped.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <pthread.h>
#include <signal.h>
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
    char core[64];
    blas_core(core, sizeof core);
    assert_non_null(strstr(swiftmlp_blas_info(), "private copy"));
    if (strcmp(expect, "auto") == 0) {
        assert_null(getenv("OPENBLAS_CORETYPE"));
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
            if (strcasecmp(core, "Prescott") == 0)
                fail_msg("an AVX2 CPU runs OpenBLAS's Prescott kernels");
        }
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

/* Products of 64 x 384 x 512 = 12.6M multiply-adds: well above the split threshold. */
static const size_t big_sizes[] = {384, 512, 256};
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

static void concurrent_large_training_f64(void **state)
{
    (void)state;
    concurrent_large_training_matches_sequential(SWIFTMLP_FLOAT64);
}

static void concurrent_large_training_f32(void **state)
{
    (void)state;
    concurrent_large_training_matches_sequential(SWIFTMLP_FLOAT32);
}

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

int main(void)
{
    /* The core-selection entries run only (a). */
    const struct CMUnitTest core_only[] = {
        cmocka_unit_test(openblas_core_is_the_expected_one),
    };
    if (getenv("SWIFTMLP_TEST_EXPECT_CORE")) return cmocka_run_group_tests(core_only, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_swiftmlp_threads_run),
        cmocka_unit_test(concurrent_large_training_f64),
        cmocka_unit_test(concurrent_large_training_f32),
        cmocka_unit_test(training_continues_in_a_forked_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
