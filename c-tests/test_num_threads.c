/*
 * test_num_threads.c — swiftmlp_get_num_threads / swiftmlp_set_num_threads:
 * the default (SWIFTMLP_NUM_THREADS as ctest sets it), every accepted and
 * refused count, workers beyond the count really idle (their CPU time in
 * /proc stops growing), a freshly started pool's worker really working, no
 * split with one allowed CPU, the same result bits
 * for every count, and counts changed while another thread trains.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

/* A network whose products (64 x 512 x 256 multiply-adds and more) are
 * split over the workers, each as the pool's measurements choose; and one
 * whose products (64 x 256 x 4096 = 2^26 each) gemm.c always splits, in
 * two parts per thread. Both take inputs and targets of 256 columns. */
static const size_t wide[] = {256, 512, 256};
static const size_t large[] = {256, 4096, 256};
enum { BATCH = 64 };

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { MAX_WORKERS = 64 };

/* Clock ticks (user + system) of each of this process's "swiftmlp-blas"
 * threads, by thread id; returns how many there are. */
static int worker_ticks(long tids[MAX_WORKERS], long ticks[MAX_WORKERS])
{
    int count = 0;
    DIR *dir = opendir("/proc/self/task");
    assert_non_null(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < MAX_WORKERS) {
        if (entry->d_name[0] == '.') continue;
        char path[64], comm[32] = "", line[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", entry->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue; /* the thread ended */
        if (!fgets(comm, sizeof comm, f)) comm[0] = '\0';
        fclose(f);
        if (strncmp(comm, "swiftmlp-blas", 13) != 0) continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
        f = fopen(path, "r");
        if (!f) continue;
        if (fgets(line, sizeof line, f)) {
            /* After the ")" that ends the name: state (field 3) ... utime
             * (14), stime (15). */
            const char *p = strrchr(line, ')');
            long utime = 0, stime = 0;
            if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime) == 2) {
                tids[count] = strtol(entry->d_name, NULL, 10);
                ticks[count++] = utime + stime;
            }
        }
        fclose(f);
    }
    closedir(dir);
    return count;
}

/* A network of these sizes (wide or large), trained with Adam (whose step
 * is split too). */
static swiftmlp_net *new_net(const size_t sizes[3], uint64_t seed)
{
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT64, seed);
    set_default_optimizer(net, SWIFTMLP_OPT_ADAM);
    return net;
}

static swiftmlp_net *new_wide(uint64_t seed) { return new_net(wide, seed); }

static void train(swiftmlp_net *net, int steps)
{
    static double x[BATCH * 256], y[BATCH * 256];
    uint64_t state = 7;
    for (size_t i = 0; i < BATCH * 256; i++) {
        x[i] = rand_uniform(&state, -1, 1);
        y[i] = rand_uniform(&state, 0, 1);
    }
    double loss;
    for (int s = 0; s < steps; s++)
        assert_ok(swiftmlp_train_step(net, SWIFTMLP_FLOAT64, x, BATCH * 256, y, BATCH * 256, BATCH, &loss));
}

/* The workers' clock ticks since `before` (same thread ids), all but the
 * busiest one's in *rest. */
static long ticks_since(const long *tids, const long *before, int n, long *rest)
{
    long tids_now[MAX_WORKERS], now[MAX_WORKERS];
    int m = worker_ticks(tids_now, now);
    assert_int_equal(m, n); /* workers never end while the library is loaded */
    long total = 0, busiest = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            if (tids_now[i] == tids[j]) {
                long used = now[i] - before[j];
                total += used;
                if (used > busiest) busiest = used;
            }
    *rest = total - busiest;
    return total;
}

/* Trains for `seconds`, or until the workers have used `enough` clock
 * ticks (0: the whole time); returns their ticks, all but the busiest
 * one's in *rest, and the workers' count in *workers. */
static long worker_ticks_while_training(double seconds, long enough, long *rest, int *workers)
{
    long tids[MAX_WORKERS], before[MAX_WORKERS];
    swiftmlp_net *net = new_wide(1);
    int n = worker_ticks(tids, before);
    double end = now_seconds() + seconds;
    long total = 0;
    while (now_seconds() < end && (enough == 0 || total < enough)) {
        train(net, 1);
        total = ticks_since(tids, before, n, rest);
    }
    swiftmlp_free(net);
    *workers = n;
    return total;
}

static void test_default_count_is_the_environment_variable(void **state)
{
    (void)state;
    const char *expect = getenv("SWIFTMLP_TEST_EXPECT_THREADS");
    size_t count = swiftmlp_get_num_threads();
    assert_true(count >= 1 && count <= SWIFTMLP_MAX_THREADS);
    if (expect) assert_int_equal(count, strtoul(expect, NULL, 10));
}

static void test_every_count_from_1_to_max_is_set_and_reported(void **state)
{
    (void)state;
    const size_t counts[] = {1, 2, 3, SWIFTMLP_MAX_THREADS, 5, 2};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        assert_ok(swiftmlp_set_num_threads(counts[i]));
        assert_last_error_empty();
        assert_int_equal(swiftmlp_get_num_threads(), counts[i]);
        char want[64];
        snprintf(want, sizeof want, ", %zu thread%s for products", counts[i], counts[i] == 1 ? "" : "s");
        if (!strstr(swiftmlp_blas_info(), want))
            fail_msg("swiftmlp_blas_info() = \"%s\", expected \"%s\"", swiftmlp_blas_info(), want);
    }
}

static void test_out_of_range_counts_are_refused_and_change_nothing(void **state)
{
    (void)state;
    assert_ok(swiftmlp_set_num_threads(3));
    const size_t bad[] = {0, SWIFTMLP_MAX_THREADS + 1, (size_t)1 << 31, (size_t)1 << 32,
                          ((size_t)1 << 63) - 1, (size_t)1 << 63, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_status(swiftmlp_set_num_threads(bad[i]), SWIFTMLP_ERR_INVALID_ARGUMENT);
        char want[64];
        snprintf(want, sizeof want, "got %zu", bad[i]);
        if (!strstr(swiftmlp_last_error(), want))
            fail_msg("last_error \"%s\" does not name the value (%s)", swiftmlp_last_error(), want);
        assert_int_equal(swiftmlp_get_num_threads(), 3);
    }
}

/* Workers beyond the count sleep: with 8 threads set once (7 workers) and
 * then 2, only one worker takes CPU time while large products run for half
 * a second (the others a tick or two, waking to see the change); with 8
 * they do (given up to 10 s on a loaded machine). */
static void test_workers_beyond_the_count_stay_idle(void **state)
{
    (void)state;
    int workers;
    long rest_at_8, rest_at_2;
    assert_ok(swiftmlp_set_num_threads(8));
    long at_8 = worker_ticks_while_training(10.0, 5, &rest_at_8, &workers);
    assert_int_equal(workers, 7);
    assert_ok(swiftmlp_set_num_threads(2));
    long at_2 = worker_ticks_while_training(0.5, 0, &rest_at_2, &workers);
    print_message("workers' clock ticks: %ld with 8 threads, %ld with 2 (%ld outside the busiest worker)\n",
                  at_8, at_2, rest_at_2);
    if (!(at_8 >= 5 && rest_at_2 <= 3))
        fail_msg("the 7 workers used %ld ticks with 8 threads; with 2, %ld (%ld outside the busiest one)",
                 at_8, at_2, rest_at_2);
}

/* With one CPU allowed (as under taskset -c 0) nothing is split, whatever
 * the count: the workers take no CPU time while large products run, and
 * the count stays as set. The CPUs are read again at the next count change:
 * with two or more allowed, the workers work again. */
static void test_one_allowed_cpu_splits_nothing(void **state)
{
    (void)state;
    cpu_set_t all, one;
    assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
    int first = 0;
    while (!CPU_ISSET(first, &all)) first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    assert_ok(swiftmlp_set_num_threads(2));
    assert_int_equal(swiftmlp_get_num_threads(), 2);
    int workers;
    long rest;
    long pinned = worker_ticks_while_training(0.5, 0, &rest, &workers);
    assert_int_equal(sched_setaffinity(0, sizeof all, &all), 0);
    assert_ok(swiftmlp_set_num_threads(2));
    print_message("workers' clock ticks with one CPU allowed: %ld\n", pinned);
    if (pinned > 2) fail_msg("with one CPU allowed the workers used %ld clock ticks", pinned);
    if (CPU_COUNT(&all) < 2) return; /* the other half needs two CPUs */
    long freed = worker_ticks_while_training(10.0, 5, &rest, &workers);
    if (freed < 5) fail_msg("with %d CPUs allowed again the workers used %ld clock ticks", CPU_COUNT(&all), freed);
}

/* A pool started by a process's first product has its worker at work: a
 * worker that started running before the pool published its size once
 * took itself for one beyond the size and slept for the life of the
 * process (every split then ran on the caller alone; a race, seen in about
 * one process in eight). Each of CHILDREN fresh processes (fork: the child
 * starts its own pool at its first product, with SWIFTMLP_NUM_THREADS=2)
 * trains the large network until its worker has used 3 clock ticks, for
 * at most 10 s; every one must get there. */
enum { CHILDREN = 24 };

static int child_worker_works(void)
{
    setenv("SWIFTMLP_NUM_THREADS", "2", 1);
    long tids[MAX_WORKERS], before[MAX_WORKERS], rest;
    swiftmlp_net *net = new_net(large, 3);
    train(net, 1); /* starts the pool */
    int n = worker_ticks(tids, before);
    for (int i = 0; i < n; i++) before[i] = 0; /* ticks since the worker started */
    double end = now_seconds() + 10.0;
    long used = 0;
    while (now_seconds() < end && (used = ticks_since(tids, before, n, &rest)) < 3) train(net, 1);
    swiftmlp_free(net);
    return n == 1 && used >= 3 ? 0 : 1;
}

static void test_a_new_pools_worker_works(void **state)
{
    (void)state;
    cpu_set_t all;
    assert_int_equal(sched_getaffinity(0, sizeof all, &all), 0);
    if (CPU_COUNT(&all) < 2) return; /* one CPU: nothing is split (test_one_allowed_cpu_splits_nothing) */
    int idle = 0;
    for (int c = 0; c < CHILDREN; c++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) _exit(child_worker_works());
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        idle += WEXITSTATUS(status) != 0;
    }
    if (idle) fail_msg("in %d of %d new processes the pool's worker never worked", idle, CHILDREN);
}

/* Splitting never changes the arithmetic: every count gives the same bits,
 * for products split as measured (wide) and always split (large: one call
 * with 1 thread, 4 parts with 2, 8 with 4). */
static void test_results_are_the_same_bits_for_every_count(void **state)
{
    (void)state;
    const size_t counts[] = {1, 2, 4};
    const size_t *nets[] = {wide, large};
    for (size_t w = 0; w < 2; w++) {
        snapshot reference = {NULL, 0};
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            assert_ok(swiftmlp_set_num_threads(counts[c]));
            swiftmlp_net *net = new_net(nets[w], 11);
            train(net, 3);
            snapshot s = snapshot_params(net);
            swiftmlp_free(net);
            if (!reference.data) {
                reference = s;
                continue;
            }
            if (s.bytes != reference.bytes || memcmp(s.data, reference.data, s.bytes) != 0)
                fail_msg("%s network: parameters after 3 steps with %zu threads differ from those with 1",
                         w ? "large" : "wide", counts[c]);
            snapshot_free(&s);
        }
        snapshot_free(&reference);
    }
}

static _Atomic int training_done;

static void *toggle_counts(void *arg)
{
    (void)arg;
    for (size_t i = 0; !training_done; i++) {
        if (swiftmlp_set_num_threads(1 + i % 4) != SWIFTMLP_OK) return (void *)1;
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* Changing the count while another thread trains: every step succeeds and
 * the parameters are those of an undisturbed run. */
static void test_counts_change_while_another_thread_trains(void **state)
{
    (void)state;
    assert_ok(swiftmlp_set_num_threads(2));
    swiftmlp_net *quiet = new_wide(5);
    train(quiet, 10);
    snapshot expected = snapshot_params(quiet);
    swiftmlp_free(quiet);

    swiftmlp_net *net = new_wide(5);
    training_done = 0;
    pthread_t toggler;
    assert_int_equal(pthread_create(&toggler, NULL, toggle_counts, NULL), 0);
    train(net, 10);
    training_done = 1;
    void *result;
    assert_int_equal(pthread_join(toggler, &result), 0);
    assert_null(result);
    assert_params_still(net, expected, "parameters");
    swiftmlp_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_count_is_the_environment_variable),
        cmocka_unit_test(test_workers_beyond_the_count_stay_idle), /* before 64 threads exist */
        cmocka_unit_test(test_one_allowed_cpu_splits_nothing),
        cmocka_unit_test(test_a_new_pools_worker_works),
        cmocka_unit_test(test_every_count_from_1_to_max_is_set_and_reported),
        cmocka_unit_test(test_out_of_range_counts_are_refused_and_change_nothing),
        cmocka_unit_test(test_results_are_the_same_bits_for_every_count),
        cmocka_unit_test(test_counts_change_while_another_thread_trains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
