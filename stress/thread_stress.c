/*
 * thread_stress.c — the header's thread rules under real concurrency, for
 * ThreadSanitizer (the TSan build) and as a plain functional test.
 *
 *   (a) 8 threads call swiftmlp_predict (and other reading calls:
 *       get_params, save_size/save_buffer, evaluate) on ONE trained
 *       network at once: every call must return OK (readers never conflict)
 *       and every prediction must equal the single-threaded reference bit
 *       for bit.
 *   (b) 8 threads each create, train (Adam; forward/backward/step and fit),
 *       save_buffer, load_buffer and free their OWN networks: all OK, and each
 *       thread's result equals the same training done on the main thread.
 *   (c) 2 threads train ONE network (forward, backward, optimizer_step) and
 *       a third reads it (predict, get_params, save_size): each call returns
 *       OK or SWIFTMLP_ERR_BUSY, and a training call may also see
 *       SWIFTMLP_ERR_STATE (the other thread's step invalidated the forward
 *       cache between this thread's forward and backward); never a crash or
 *       a race.  Afterwards the network is intact (all parameters finite).
 *   (d) 4 threads create and free networks while probing a pointer that
 *       never was a network: the live-handle registry under contention (the
 *       foreign pointer must give SWIFTMLP_ERR_BAD_HANDLE).
 *
 *   thread_stress [rounds]   (default 200: iterations per thread in (a)-(d))
 *
 * Exit status 0 when every rule held.  Under TSan, a data race also makes
 * the process exit non-zero (TSAN_OPTIONS=halt_on_error=1).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftmlp.h"

#define N_THREADS 8
#define N0 6
#define N1 16
#define N2 4
#define ROWS 32

static int rounds = 200;
static atomic_int failures;

#define FAIL(...)                                                                  \
    do {                                                                           \
        fprintf(stderr, "thread_stress: " __VA_ARGS__);                            \
        fputc('\n', stderr);                                                       \
        atomic_fetch_add(&failures, 1);                                            \
    } while (0)

#define EXPECT_OK(call)                                                            \
    do {                                                                           \
        swiftmlp_status st_ = (call);                                              \
        if (st_ != SWIFTMLP_OK) {                                                  \
            FAIL("%s:%d: %s returned %d (%s): %s", __FILE__, __LINE__, #call,       \
                 (int)st_, swiftmlp_status_string(st_), swiftmlp_last_error());    \
            return NULL;                                                           \
        }                                                                          \
    } while (0)

static double g_x[ROWS * N0], g_y[ROWS * N2];

static void make_data(void)
{
    uint64_t s = 12345;
    for (int i = 0; i < ROWS * N0; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        g_x[i] = (double)(s >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    }
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < N2; j++) g_y[r * N2 + j] = (r % N2 == j) ? 1.0 : 0.0;
}

/* Create and train a network deterministically (used by (a), (b) and the reference). */
static swiftmlp_status train_net(uint64_t seed, int steps, swiftmlp_net **out)
{
    const size_t sizes[] = {N0, N1, N2};
    swiftmlp_status st;
    swiftmlp_net *net = NULL;
    double yhat[ROWS * N2];
    swiftmlp_optimizer opt;
    if ((st = swiftmlp_create(sizes, 3, SWIFTMLP_FLOAT64, seed, &net)) != SWIFTMLP_OK) return st;
    if ((st = swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAM, &opt)) != SWIFTMLP_OK) goto fail;
    opt.lr = 0.01;
    if ((st = swiftmlp_set_optimizer(net, &opt)) != SWIFTMLP_OK) goto fail;
    for (int s = 0; s < steps; s++) {
        double loss;
        if ((st = swiftmlp_forward(net, SWIFTMLP_FLOAT64, g_x, ROWS * N0, ROWS, yhat, ROWS * N2))) goto fail;
        if ((st = swiftmlp_backward(net, SWIFTMLP_FLOAT64, g_y, ROWS * N2, ROWS, &loss))) goto fail;
        if ((st = swiftmlp_optimizer_step(net))) goto fail;
    }
    swiftmlp_fit_options fo;
    if ((st = swiftmlp_fit_options_default(&fo))) goto fail;
    fo.epochs = 2;
    fo.batch_size = 8;
    if ((st = swiftmlp_fit(net, SWIFTMLP_FLOAT64, g_x, ROWS * N0, g_y, ROWS * N2, ROWS, &fo, NULL))) goto fail;
    *out = net;
    return SWIFTMLP_OK;
fail:
    swiftmlp_free(net);
    *out = NULL;
    return st;
}

/* ---- (a) many readers on one network ------------------------------------- */
static swiftmlp_net *g_shared;
static double g_ref_pred[ROWS * N2];
static size_t g_ref_save_size;

static void *reader_main(void *arg)
{
    (void)arg;
    double pred[ROWS * N2];
    size_t count = 0;
    EXPECT_OK(swiftmlp_get_param_count(g_shared, &count));
    double *params = malloc(count * sizeof(double));
    unsigned char *buf = malloc(g_ref_save_size);
    if (!params || !buf) { FAIL("malloc failed"); free(params); free(buf); return NULL; }
    for (int i = 0; i < rounds; i++) {
        swiftmlp_status st = swiftmlp_predict(g_shared, SWIFTMLP_FLOAT64, g_x, ROWS * N0, ROWS, pred, ROWS * N2);
        if (st != SWIFTMLP_OK) { FAIL("(a) predict returned %d: %s", (int)st, swiftmlp_last_error()); break; }
        if (memcmp(pred, g_ref_pred, sizeof pred) != 0) { FAIL("(a) predict differs from the reference"); break; }
        if (i % 8 == 0) {
            double loss;
            size_t size = 0, written = 0;
            if (swiftmlp_evaluate(g_shared, SWIFTMLP_FLOAT64, g_x, ROWS * N0, g_y, ROWS * N2, ROWS, &loss) ||
                swiftmlp_get_params(g_shared, SWIFTMLP_FLOAT64, params, count) ||
                swiftmlp_save_size(g_shared, SWIFTMLP_SAVE_OPTIMIZER_STATE, &size) || size != g_ref_save_size ||
                swiftmlp_save_buffer(g_shared, SWIFTMLP_SAVE_OPTIMIZER_STATE, buf, size, &written)) {
                FAIL("(a) a reading call failed: %s", swiftmlp_last_error());
                break;
            }
        }
    }
    free(params);
    free(buf);
    return NULL;
}

/* ---- (b) each thread its own network --------------------------------------- */
static double g_ref_trained[N_THREADS][ROWS * N2];

static void *trainer_main(void *arg)
{
    const int t = (int)(intptr_t)arg;
    const int iters = rounds / 20 > 0 ? rounds / 20 : 1;
    for (int it = 0; it < iters; it++) {
        swiftmlp_net *net = NULL, *copy = NULL;
        double pred[ROWS * N2];
        EXPECT_OK(train_net((uint64_t)t, 20, &net));
        size_t size = 0;
        EXPECT_OK(swiftmlp_save_size(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, &size));
        unsigned char *buf = malloc(size);
        if (!buf) { FAIL("malloc failed"); swiftmlp_free(net); return NULL; }
        swiftmlp_status st = swiftmlp_save_buffer(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, buf, size, NULL);
        if (st == SWIFTMLP_OK) st = swiftmlp_load_buffer(buf, size, &copy);
        if (st == SWIFTMLP_OK) st = swiftmlp_predict(copy, SWIFTMLP_FLOAT64, g_x, ROWS * N0, ROWS, pred, ROWS * N2);
        free(buf);
        swiftmlp_free(copy);
        swiftmlp_free(net);
        if (st != SWIFTMLP_OK) { FAIL("(b) thread %d: status %d: %s", t, (int)st, swiftmlp_last_error()); return NULL; }
        if (memcmp(pred, g_ref_trained[t], sizeof pred) != 0) {
            FAIL("(b) thread %d: training result differs from the single-threaded one", t);
            return NULL;
        }
    }
    return NULL;
}

/* ---- (c) two trainers and a reader on one network -------------------------- */
static swiftmlp_net *g_contended;
static atomic_int g_busy_seen, g_ok_seen;

static int allowed(swiftmlp_status st, int state_ok)
{
    if (st == SWIFTMLP_OK) { atomic_fetch_add(&g_ok_seen, 1); return 1; }
    if (st == SWIFTMLP_ERR_BUSY) { atomic_fetch_add(&g_busy_seen, 1); return 1; }
    return state_ok && st == SWIFTMLP_ERR_STATE;
}

static void *contender_main(void *arg)
{
    (void)arg;
    double yhat[ROWS * N2];
    for (int i = 0; i < rounds; i++) {
        double loss;
        swiftmlp_status st;
        st = swiftmlp_forward(g_contended, SWIFTMLP_FLOAT64, g_x, ROWS * N0, ROWS, yhat, ROWS * N2);
        if (!allowed(st, 0)) { FAIL("(c) forward returned %d: %s", (int)st, swiftmlp_last_error()); return NULL; }
        st = swiftmlp_backward(g_contended, SWIFTMLP_FLOAT64, g_y, ROWS * N2, ROWS, &loss);
        if (!allowed(st, 1)) { FAIL("(c) backward returned %d: %s", (int)st, swiftmlp_last_error()); return NULL; }
        st = swiftmlp_optimizer_step(g_contended);
        if (!allowed(st, 1)) { FAIL("(c) optimizer_step returned %d: %s", (int)st, swiftmlp_last_error()); return NULL; }
    }
    return NULL;
}

static void *contended_reader_main(void *arg)
{
    (void)arg;
    double pred[ROWS * N2];
    double params[N1 * N0 + N1 + N2 * N1 + N2];
    for (int i = 0; i < rounds; i++) {
        size_t size;
        swiftmlp_status st = swiftmlp_predict(g_contended, SWIFTMLP_FLOAT64, g_x, ROWS * N0, ROWS, pred, ROWS * N2);
        if (!allowed(st, 0)) { FAIL("(c) predict returned %d: %s", (int)st, swiftmlp_last_error()); return NULL; }
        st = swiftmlp_get_params(g_contended, SWIFTMLP_FLOAT64, params, sizeof params / sizeof params[0]);
        if (!allowed(st, 0)) { FAIL("(c) get_params returned %d: %s", (int)st, swiftmlp_last_error()); return NULL; }
        st = swiftmlp_save_size(g_contended, SWIFTMLP_SAVE_DEFAULT, &size);
        if (!allowed(st, 0)) { FAIL("(c) save_size returned %d: %s", (int)st, swiftmlp_last_error()); return NULL; }
    }
    return NULL;
}

/* ---- (d) the handle registry under contention ----------------------------- */
static void *churn_main(void *arg)
{
    const size_t sizes[] = {3, 2};
    (void)arg;
    /* A pointer that never came from swiftmlp (memory this thread owns, so
       probing it can never touch another thread's network): it must be
       refused with SWIFTMLP_ERR_BAD_HANDLE while other threads insert and
       remove handles. */
    unsigned char *foreign = malloc(256);
    if (!foreign) { FAIL("malloc failed"); return NULL; }
    memset(foreign, 0xA5, 256);
    for (int i = 0; i < rounds; i++) {
        swiftmlp_net *a = NULL, *b = NULL;
        size_t n = 0;
        EXPECT_OK(swiftmlp_create(sizes, 2, SWIFTMLP_FLOAT32, (uint64_t)i, &a));
        EXPECT_OK(swiftmlp_create(sizes, 2, SWIFTMLP_FLOAT64, (uint64_t)i, &b));
        swiftmlp_status st = swiftmlp_get_layer_count((swiftmlp_net *)(void *)foreign, &n);
        if (st != SWIFTMLP_ERR_BAD_HANDLE) FAIL("(d) layer_count on a foreign pointer returned %d", (int)st);
        EXPECT_OK(swiftmlp_get_layer_count(a, &n));
        swiftmlp_free(a);
        EXPECT_OK(swiftmlp_get_layer_count(b, &n));
        swiftmlp_free(b);
        /* (No double free here: another thread may already own b's address.) */
    }
    free(foreign);
    return NULL;
}

static int run_threads(int n, void *(*fn)(void *), const char *what)
{
    pthread_t th[N_THREADS + 2];
    for (int i = 0; i < n; i++) {
        if (pthread_create(&th[i], NULL, fn, (void *)(intptr_t)i) != 0) {
            FAIL("%s: pthread_create failed", what);
            return -1;
        }
    }
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) rounds = atoi(argv[1]);
    if (rounds < 1) rounds = 1;
    make_data();

    /* References, single-threaded. */
    if (train_net(7, 50, &g_shared) != SWIFTMLP_OK ||
        swiftmlp_predict(g_shared, SWIFTMLP_FLOAT64, g_x, ROWS * N0, ROWS, g_ref_pred, ROWS * N2) ||
        swiftmlp_save_size(g_shared, SWIFTMLP_SAVE_OPTIMIZER_STATE, &g_ref_save_size)) {
        fprintf(stderr, "thread_stress: reference network failed: %s\n", swiftmlp_last_error());
        return 1;
    }
    for (int t = 0; t < N_THREADS; t++) {
        swiftmlp_net *net = NULL;
        if (train_net((uint64_t)t, 20, &net) != SWIFTMLP_OK ||
            swiftmlp_predict(net, SWIFTMLP_FLOAT64, g_x, ROWS * N0, ROWS, g_ref_trained[t], ROWS * N2)) {
            fprintf(stderr, "thread_stress: reference training failed: %s\n", swiftmlp_last_error());
            return 1;
        }
        swiftmlp_free(net);
    }

    run_threads(N_THREADS, reader_main, "(a)");
    printf("thread_stress: (a) %d threads x %d predictions on one network: %s\n", N_THREADS, rounds,
           atomic_load(&failures) ? "FAILED" : "ok");

    int before = atomic_load(&failures);
    run_threads(N_THREADS, trainer_main, "(b)");
    printf("thread_stress: (b) %d threads training their own networks: %s\n", N_THREADS,
           atomic_load(&failures) > before ? "FAILED" : "ok");

    before = atomic_load(&failures);
    if (train_net(99, 1, &g_contended) != SWIFTMLP_OK) {
        fprintf(stderr, "thread_stress: (c) setup failed: %s\n", swiftmlp_last_error());
        return 1;
    }
    pthread_t th[3];
    pthread_create(&th[0], NULL, contender_main, NULL);
    pthread_create(&th[1], NULL, contender_main, NULL);
    pthread_create(&th[2], NULL, contended_reader_main, NULL);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    double params[N1 * N0 + N1 + N2 * N1 + N2];
    if (swiftmlp_get_params(g_contended, SWIFTMLP_FLOAT64, params, sizeof params / sizeof params[0]) != SWIFTMLP_OK) {
        FAIL("(c) get_params after the contention failed: %s", swiftmlp_last_error());
    } else {
        for (size_t k = 0; k < sizeof params / sizeof params[0]; k++)
            if (!isfinite(params[k])) { FAIL("(c) parameter %zu is not finite", k); break; }
    }
    printf("thread_stress: (c) 2 trainers + 1 reader on one network: %s (%d OK, %d BUSY)\n",
           atomic_load(&failures) > before ? "FAILED" : "ok", atomic_load(&g_ok_seen),
           atomic_load(&g_busy_seen));
    swiftmlp_free(g_contended);

    before = atomic_load(&failures);
    run_threads(4, churn_main, "(d)");
    printf("thread_stress: (d) 4 threads creating/freeing/probing handles: %s\n",
           atomic_load(&failures) > before ? "FAILED" : "ok");

    swiftmlp_free(g_shared);
    int f = atomic_load(&failures);
    printf("thread_stress: %s\n", f ? "FAILED" : "all rules held");
    return f ? 1 : 0;
}
