/*
 * test_cpu_level.c — the CPU level switch SWIFTMLP_CPU (docs/cpu.md,
 * Sources/CSwiftMLPKernels/cpu.c). The level is read once per process, so the
 * test runs itself again ("--child") in fresh processes, one per setting;
 * each child trains four small networks (SGD and Adam, float32 and
 * float64: products, sigmoid, loss and optimizer kernels) and sends back
 * swiftmlp_blas_info() and the parameters.
 *
 *   (a) swiftmlp_blas_info() names the level: the one asked for when the
 *       CPU has it; the CPU's best for no value, an unknown value or a
 *       level above the CPU's.
 *   (b) With OpenBLAS's core fixed by OPENBLAS_CORETYPE (so only the
 *       library's own kernels follow the level), every level gives the same
 *       bits: the kernel variants differ in vector width, not in operations.
 *   (c) With OpenBLAS's core left to the library, avx2 runs the Haswell
 *       core and baseline the Prescott one; their products round
 *       differently (FMA or not, other blockings), so the SGD networks'
 *       parameters agree with the CPU's best level's within 1e-5 (float32)
 *       and 1e-12 (float64) of 1 + |value|.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <sys/wait.h>
#include <unistd.h>

static const size_t sizes[] = {64, 96, 48, 10};
enum { BATCH = 32, NETS = 4, STEPS = 3 };

/* Net i: float64 when i is odd, Adam from i = 2. */
static void child_main(void)
{
    printf("%s\n", swiftmlp_blas_info());
    for (int i = 0; i < NETS; i++) {
        swiftmlp_dtype dtype = i % 2 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
        swiftmlp_net *net = NULL;
        if (swiftmlp_create(sizes, 4, dtype, 7, &net) != SWIFTMLP_OK) exit(2);
        swiftmlp_optimizer opt;
        if (swiftmlp_optimizer_default(i < 2 ? SWIFTMLP_OPT_SGD : SWIFTMLP_OPT_ADAM, &opt) != SWIFTMLP_OK ||
            swiftmlp_set_optimizer(net, &opt) != SWIFTMLP_OK)
            exit(2);
        static double xd[BATCH * 64], yd[BATCH * 10];
        static float xf[BATCH * 64], yf[BATCH * 10];
        uint64_t state = 5;
        for (size_t k = 0; k < BATCH * 64; k++) xf[k] = (float)(xd[k] = rand_uniform(&state, -1, 1));
        for (size_t k = 0; k < BATCH * 10; k++) yf[k] = (float)(yd[k] = rand_uniform(&state, 0, 1));
        const void *x = dtype == SWIFTMLP_FLOAT64 ? (const void *)xd : (const void *)xf;
        const void *y = dtype == SWIFTMLP_FLOAT64 ? (const void *)yd : (const void *)yf;
        double loss;
        for (int s = 0; s < STEPS; s++)
            if (swiftmlp_train_step(net, dtype, x, BATCH * 64, y, BATCH * 10, BATCH, &loss) != SWIFTMLP_OK) exit(2);
        size_t count = 0;
        if (swiftmlp_get_param_count(net, &count) != SWIFTMLP_OK) exit(2);
        size_t n = count * dtype_size(dtype);
        snapshot p = snapshot_params(net);
        if (p.bytes != n) exit(2);
        fwrite(&n, sizeof n, 1, stdout);
        fwrite(p.data, 1, n, stdout);
        snapshot_free(&p);
        swiftmlp_free(net);
    }
    fflush(stdout);
    exit(0);
}

typedef struct {
    char info[512];
    snapshot nets[NETS];
} child_result;

static size_t read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

/* Runs the child with SWIFTMLP_CPU = level and OPENBLAS_CORETYPE = core
 * (NULL: unset). */
static child_result run_child(const char *level, const char *core)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        if (level) setenv("SWIFTMLP_CPU", level, 1);
        else unsetenv("SWIFTMLP_CPU");
        if (core) setenv("OPENBLAS_CORETYPE", core, 1);
        else unsetenv("OPENBLAS_CORETYPE");
        unsetenv("SWIFTMLP_OPENBLAS_CORE_FIX");
        execl("/proc/self/exe", "test_cpu_level", "--child", (char *)NULL);
        _exit(3);
    }
    close(fds[1]);
    child_result r;
    memset(&r, 0, sizeof r);
    FILE *in = fdopen(fds[0], "rb");
    assert_non_null(in);
    assert_non_null(fgets(r.info, sizeof r.info, in));
    r.info[strcspn(r.info, "\n")] = '\0';
    for (int i = 0; i < NETS; i++) {
        size_t n = 0;
        assert_int_equal(fread(&n, sizeof n, 1, in), 1);
        r.nets[i].data = malloc(n);
        assert_non_null(r.nets[i].data);
        r.nets[i].bytes = n;
        assert_int_equal(fread(r.nets[i].data, 1, n, in), n);
    }
    char extra;
    assert_int_equal(read_all(fileno(in), &extra, 1), 0); /* nothing else on stdout */
    fclose(in);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return r;
}

static void free_result(child_result *r)
{
    for (int i = 0; i < NETS; i++) snapshot_free(&r->nets[i]);
}

/* The levels this CPU supports, best first; returns how many. */
static int supported_levels(const char *out[3])
{
    int n = 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) out[n++] = "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) out[n++] = "avx2";
    out[n++] = "baseline";
    return n;
}

static void assert_level(const child_result *r, const char *level)
{
    char want[64];
    snprintf(want, sizeof want, ", CPU level %s,", level);
    if (!strstr(r->info, want)) fail_msg("swiftmlp_blas_info() = \"%s\", expected \"%s\"", r->info, want);
}

static void test_the_level_is_reported_and_capped(void **state)
{
    (void)state;
    const char *levels[3];
    int n = supported_levels(levels);
    for (int i = 0; i < n; i++) {
        child_result r = run_child(levels[i], NULL);
        assert_level(&r, levels[i]);
        free_result(&r);
    }
    /* The CPU's best for: no value, unknown values, and "avx512" on a CPU without it. */
    const char *best_for[] = {NULL, "", "avx9000", "AVX2", "avx2 ", "avx512"};
    for (size_t i = 0; i < sizeof best_for / sizeof best_for[0]; i++) {
        child_result r = run_child(best_for[i], NULL);
        assert_level(&r, levels[0]);
        free_result(&r);
    }
}

static void test_own_kernels_give_the_same_bits_at_every_level(void **state)
{
    (void)state;
    const char *levels[3];
    int n = supported_levels(levels);
    /* A core every x86-64 CPU runs when it lacks AVX2. */
    const char *core = n >= 2 && strcmp(levels[n - 2], "avx2") == 0 ? "Haswell" : "Prescott";
    child_result best = run_child(levels[0], core);
    for (int i = 1; i < n; i++) {
        child_result r = run_child(levels[i], core);
        assert_level(&r, levels[i]);
        for (int k = 0; k < NETS; k++) assert_same_snapshot(best.nets[k], r.nets[k], "parameters");
        free_result(&r);
    }
    free_result(&best);
}

static void assert_close_params(const snapshot *a, const snapshot *b, int dbl)
{
    assert_int_equal(a->bytes, b->bytes);
    size_t count = a->bytes / (dbl ? sizeof(double) : sizeof(float));
    for (size_t j = 0; j < count; j++) {
        double x = dbl ? ((const double *)a->data)[j] : ((const float *)a->data)[j];
        double y = dbl ? ((const double *)b->data)[j] : ((const float *)b->data)[j];
        double tol = dbl ? 1e-12 : 1e-5;
        assert_close(x, y, tol, tol);
    }
}

static void test_lower_levels_run_lower_openblas_cores(void **state)
{
    (void)state;
    const char *levels[3];
    int n = supported_levels(levels);
    child_result best = run_child(levels[0], NULL);
    for (int i = 1; i < n; i++) {
        child_result r = run_child(levels[i], NULL);
        const char *core = strcmp(levels[i], "avx2") == 0 ? "core Haswell" : "core Prescott";
        if (!strstr(r.info, core)) fail_msg("SWIFTMLP_CPU=%s: \"%s\" lacks \"%s\"", levels[i], r.info, core);
        for (int k = 0; k < 2; k++) assert_close_params(&r.nets[k], &best.nets[k], k % 2);
        free_result(&r);
    }
    free_result(&best);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--child") == 0) child_main();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_level_is_reported_and_capped),
        cmocka_unit_test(test_own_kernels_give_the_same_bits_at_every_level),
        cmocka_unit_test(test_lower_levels_run_lower_openblas_cores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
