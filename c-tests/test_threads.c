/*
 * test_threads.c — the threading rules of include/swiftmlp.h ("Global
 * rules", Threads):
 *
 *   (a) concurrent inference: 8 threads call swiftmlp_predict (and
 *       swiftmlp_evaluate) on ONE trained network, 200 iterations each, with
 *       batch sizes from 1 to 700 rows (more than 256, so the chunking runs);
 *       every result equals the single-threaded one bit for bit;
 *   (b) independent networks: 8 threads each create, train and save their
 *       OWN network; parameters and saved bytes equal a sequential run's;
 *   (c) two threads training ONE network: with self-contained calls (fit,
 *       forward, set_params, set/reset_optimizer) every status is OK or
 *       SWIFTMLP_ERR_BUSY; with the fine-grained forward/backward/
 *       optimizer_step sequence also SWIFTMLP_ERR_STATE for backward and
 *       optimizer_step, which the other thread's forward or step legitimately
 *       causes (a step invalidates the cached forward); the network ends
 *       consistent (finite parameters, a fresh forward/backward/step works);
 *   (d) readers (get_params, predict, evaluate, save_size) concurrent with a
 *       writer (forward/backward/optimizer_step loop): every call OK or BUSY;
 *   (e) deterministic BUSY: while a fit is running (held inside its progress
 *       callback), reading and changing calls from another thread return
 *       SWIFTMLP_ERR_BUSY with a message; while a long read (gradient_check)
 *       runs, a changing call returns BUSY;
 *   (f) load_buffer / predict / free of separate handles from 8 threads;
 *   (g) swiftmlp_free while a call on the same network runs: free returns at
 *       once, later calls get SWIFTMLP_ERR_BAD_HANDLE, the running call
 *       finishes normally and the network is released when it returns;
 *   (h) gradient_check, a reading call, from 4 threads at once on ONE
 *       network of each dtype: every result equals the single-threaded one
 *       bit for bit, and the network is unchanged.
 *
 * Worker threads never call cmocka: they record what they saw in their own
 * struct, which the main thread checks after pthread_join. Shared flags are
 * C11 atomics, so the test code itself is free of data races (ThreadSanitizer
 * clean); any race TSan reports is inside the library.
 */
#define _GNU_SOURCE
#include "model_test_util.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

enum { N_THREADS = 8 };

/* ---- per-thread tallies -------------------------------------------------- */

typedef struct tally {
    size_t ok, busy, state, other, calls;
    int first_other_status;
    char first_other[256]; /* "call: last_error" of the first unexpected status */
} tally;

/* allowed: bit mask of statuses besides OK and BUSY that are acceptable */
static void tally_add(tally *t, swiftmlp_status s, const char *call, unsigned allowed)
{
    t->calls++;
    if (s == SWIFTMLP_OK) {
        t->ok++;
        return;
    }
    if (s == SWIFTMLP_ERR_BUSY) {
        t->busy++;
        if (swiftmlp_last_error()[0] == '\0' && t->other == 0) {
            t->other++;
            t->first_other_status = (int)s;
            snprintf(t->first_other, sizeof t->first_other, "%s: BUSY with an empty last_error", call);
        }
        return;
    }
    if (s == SWIFTMLP_ERR_STATE && (allowed & (1u << SWIFTMLP_ERR_STATE))) {
        t->state++;
        return;
    }
    if (t->other == 0) {
        t->first_other_status = (int)s;
        snprintf(t->first_other, sizeof t->first_other, "%s returned %d (%s): %s", call, (int)s,
                 swiftmlp_status_string(s), swiftmlp_last_error());
    }
    t->other++;
}

static void assert_tally_clean_impl(const tally *t, const char *who, const char *file, int line)
{
    if (t->other != 0) {
        print_error("%s: %zu unexpected statuses; first: %s\n", who, t->other, t->first_other);
        _fail(file, line);
    }
}
#define assert_tally_clean(t, who) assert_tally_clean_impl((t), (who), __FILE__, __LINE__)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- a network and data ---------------------------------------------------- */

enum { N0 = 8, N1 = 16, NL = 4, MAX_ROWS = 700, TRAIN_ROWS = 64 };
static const size_t k_sizes[] = {N0, N1, NL};

static swiftmlp_net *make_net(swiftmlp_dtype dtype, uint64_t seed)
{
    static const swiftmlp_activation acts[] = {SWIFTMLP_TANH, SWIFTMLP_SIGMOID};
    swiftmlp_config cfg;
    if (swiftmlp_config_default(&cfg) != SWIFTMLP_OK) {
        return NULL;
    }
    cfg.sizes = k_sizes;
    cfg.n_sizes = 3;
    cfg.dtype = dtype;
    cfg.seed = seed;
    cfg.activations = acts;
    cfg.n_activations = 2;
    swiftmlp_net *net = NULL;
    if (swiftmlp_create_with_config(&cfg, &net) != SWIFTMLP_OK) {
        return NULL;
    }
    return net;
}

/* A float64 make_net(seed) with the default optimizer of kind. */
static swiftmlp_net *net_with_optimizer(uint64_t seed, swiftmlp_optimizer_kind kind)
{
    swiftmlp_net *net = make_net(SWIFTMLP_FLOAT64, seed);
    assert_non_null(net);
    set_default_optimizer(net, kind);
    return net;
}

typedef struct data {
    double x64[MAX_ROWS * N0], y64[MAX_ROWS * NL];
    float x32[MAX_ROWS * N0], y32[MAX_ROWS * NL];
} data;

static void make_data(data *d, uint64_t seed)
{
    uint64_t rng = seed;
    rand_uniform_both(&rng, -2, 2, d->x64, d->x32, MAX_ROWS * N0);
    rand_uniform_both(&rng, 0, 1, d->y64, d->y32, MAX_ROWS * NL);
}

static const void *xs(const data *d, swiftmlp_dtype t, size_t row)
{
    return t == SWIFTMLP_FLOAT32 ? (const void *)(d->x32 + row * N0) : (const void *)(d->x64 + row * N0);
}
static const void *ys(const data *d, swiftmlp_dtype t, size_t row)
{
    return t == SWIFTMLP_FLOAT32 ? (const void *)(d->y32 + row * NL) : (const void *)(d->y64 + row * NL);
}

/* Train with Adam: 10 manual steps, then a 3-epoch fit. Returns the first
 * non-OK status (and its call in *what), or OK. No cmocka calls: used on
 * worker threads. */
static swiftmlp_status train(swiftmlp_net *net, swiftmlp_dtype t, const data *d, const char **what)
{
    swiftmlp_optimizer o;
    swiftmlp_status s;
    double out[8 * NL];
    *what = "optimizer_default/set_optimizer";
    if ((s = swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAM, &o)) != SWIFTMLP_OK) {
        return s;
    }
    o.lr = 0.01;
    if ((s = swiftmlp_set_optimizer(net, &o)) != SWIFTMLP_OK) {
        return s;
    }
    for (size_t i = 0; i < 10; i++) {
        size_t row = (i * 8) % (TRAIN_ROWS - 8);
        *what = "forward";
        if ((s = swiftmlp_forward(net, t, xs(d, t, row), 8 * N0, 8, out, 8 * NL)) != SWIFTMLP_OK) {
            return s;
        }
        *what = "backward";
        if ((s = swiftmlp_backward(net, t, ys(d, t, row), 8 * NL, 8, NULL)) != SWIFTMLP_OK) {
            return s;
        }
        *what = "optimizer_step";
        if ((s = swiftmlp_optimizer_step(net)) != SWIFTMLP_OK) {
            return s;
        }
    }
    swiftmlp_fit_options opts;
    swiftmlp_fit_options_default(&opts);
    opts.epochs = 3;
    opts.batch_size = 16;
    *what = "fit";
    return swiftmlp_fit(net, t, xs(d, t, 0), TRAIN_ROWS * N0, ys(d, t, 0), TRAIN_ROWS * NL, TRAIN_ROWS,
                        &opts, NULL);
}

/* ======================================================================== */
/* (a) concurrent predict and evaluate on one network                       */
/* ======================================================================== */

static const size_t k_batches[] = {1, 5, 64, 256, 257, 513, 700};
enum { N_BATCHES = ARRAY_LEN(k_batches), ITERATIONS = 200 };

typedef struct predict_shared {
    swiftmlp_net *net;
    swiftmlp_dtype dtype;
    const data *d;
    unsigned char *ref[N_BATCHES]; /* reference outputs per batch size */
    double ref_loss[N_BATCHES];
    pthread_barrier_t start;
} predict_shared;

typedef struct predict_worker {
    pthread_t thread;
    predict_shared *sh;
    size_t index;
    tally t;
    size_t mismatches, loss_mismatches, non_finite;
    char first_mismatch[128];
} predict_worker;

static void *predict_thread(void *arg)
{
    predict_worker *w = arg;
    predict_shared *sh = w->sh;
    size_t es = dtype_size(sh->dtype);
    unsigned char *out = malloc(MAX_ROWS * NL * es);
    pthread_barrier_wait(&sh->start);
    for (size_t i = 0; out != NULL && i < ITERATIONS; i++) {
        size_t k = (i + w->index) % N_BATCHES, rows = k_batches[k];
        memset(out, 0xA5, rows * NL * es);
        swiftmlp_status s = swiftmlp_predict(sh->net, sh->dtype, xs(sh->d, sh->dtype, 0), rows * N0, rows,
                                             out, rows * NL);
        tally_add(&w->t, s, "predict", 0);
        if (s == SWIFTMLP_OK && memcmp(out, sh->ref[k], rows * NL * es) != 0) {
            if (w->mismatches++ == 0) {
                snprintf(w->first_mismatch, sizeof w->first_mismatch,
                         "iteration %zu, %zu rows: output differs from the single-threaded one", i, rows);
            }
        }
        if (i % 8 == w->index) {
            double loss = 0;
            s = swiftmlp_evaluate(sh->net, sh->dtype, xs(sh->d, sh->dtype, 0), rows * N0,
                                  ys(sh->d, sh->dtype, 0), rows * NL, rows, &loss);
            tally_add(&w->t, s, "evaluate", 0);
            if (s == SWIFTMLP_OK && memcmp(&loss, &sh->ref_loss[k], sizeof loss) != 0) {
                w->loss_mismatches++;
            }
        }
    }
    if (out == NULL) {
        w->t.other++;
        snprintf(w->t.first_other, sizeof w->t.first_other, "malloc failed");
    }
    free(out);
    return NULL;
}

static void check_concurrent_predict(swiftmlp_dtype dtype)
{
    static data d;
    make_data(&d, 77);
    swiftmlp_net *net = make_net(dtype, 5);
    assert_non_null(net);
    const char *what = "";
    assert_int_equal(train(net, dtype, &d, &what), SWIFTMLP_OK);

    /* a training cache that predict must leave alone */
    size_t es = dtype_size(dtype);
    unsigned char cache_out[3 * NL * sizeof(double)];
    assert_ok(swiftmlp_forward(net, dtype, xs(&d, dtype, 0), 3 * N0, 3, cache_out, 3 * NL));
    unsigned char g_before[3 * NL * sizeof(double)], g_after[3 * NL * sizeof(double)];
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_G, 2, dtype, g_before, 3 * NL));
    snapshot params_before = snapshot_params(net);

    predict_shared sh;
    memset(&sh, 0, sizeof sh);
    sh.net = net;
    sh.dtype = dtype;
    sh.d = &d;
    for (size_t k = 0; k < N_BATCHES; k++) {
        size_t rows = k_batches[k];
        sh.ref[k] = malloc(rows * NL * es);
        assert_non_null(sh.ref[k]);
        assert_ok(swiftmlp_predict(net, dtype, xs(&d, dtype, 0), rows * N0, rows, sh.ref[k], rows * NL));
        assert_ok(swiftmlp_evaluate(net, dtype, xs(&d, dtype, 0), rows * N0, ys(&d, dtype, 0), rows * NL,
                                    rows, &sh.ref_loss[k]));
    }
    assert_int_equal(pthread_barrier_init(&sh.start, NULL, N_THREADS), 0);
    predict_worker workers[N_THREADS];
    memset(workers, 0, sizeof workers);
    for (size_t i = 0; i < N_THREADS; i++) {
        workers[i].sh = &sh;
        workers[i].index = i;
        assert_int_equal(pthread_create(&workers[i].thread, NULL, predict_thread, &workers[i]), 0);
    }
    size_t calls = 0;
    for (size_t i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(workers[i].thread, NULL), 0);
    }
    pthread_barrier_destroy(&sh.start);
    for (size_t i = 0; i < N_THREADS; i++) {
        char who[32];
        snprintf(who, sizeof who, "predict thread %zu", i);
        /* only readers: not even BUSY is allowed */
        assert_tally_clean(&workers[i].t, who);
        assert_int_equal(workers[i].t.busy, 0);
        if (workers[i].mismatches != 0) {
            print_error("%s: %zu mismatches; first: %s\n", who, workers[i].mismatches,
                        workers[i].first_mismatch);
        }
        assert_int_equal(workers[i].mismatches, 0);
        assert_int_equal(workers[i].loss_mismatches, 0);
        calls += workers[i].t.calls;
    }
    print_message("    %d threads made %zu concurrent predict/evaluate calls, all bit-identical\n",
                  N_THREADS, calls);
    /* predict touched neither the parameters nor the training cache */
    snapshot params_after = snapshot_params(net);
    assert_same_snapshot(params_before, params_after, "parameters");
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_G, 2, dtype, g_after, 3 * NL));
    assert_memory_equal(g_before, g_after, 3 * NL * es);
    size_t rows = 0;
    assert_ok(swiftmlp_get_cached_rows(net, &rows));
    assert_int_equal(rows, 3);
    snapshot_free(&params_before);
    snapshot_free(&params_after);
    for (size_t k = 0; k < N_BATCHES; k++) {
        free(sh.ref[k]);
    }
    swiftmlp_free(net);
}

DTYPE_TESTS(test_8_threads_predict_on_one_float64_network_bit_identically,
            test_8_threads_predict_on_one_float32_network_bit_identically,
            check_concurrent_predict)

/* ======================================================================== */
/* (b) each thread its own network                                          */
/* ======================================================================== */

typedef struct own_result {
    pthread_t thread;
    size_t index;
    swiftmlp_dtype dtype;
    swiftmlp_status status;
    const char *what;
    char message[256];
    unsigned char *params;
    size_t params_bytes;
    unsigned char *model;
    size_t model_bytes;
} own_result;

static data g_own_data[N_THREADS];

/* Create, train and save network #index; no cmocka calls. */
static void *own_network_thread(void *arg)
{
    own_result *r = arg;
    swiftmlp_dtype t = r->dtype;
    r->status = SWIFTMLP_OK;
    r->what = "create";
    swiftmlp_net *net = make_net(t, 1000 + r->index);
    if (net == NULL) {
        r->status = SWIFTMLP_ERR_OUT_OF_MEMORY;
        return NULL;
    }
    r->status = train(net, t, &g_own_data[r->index], &r->what);
    size_t count = 0;
    if (r->status == SWIFTMLP_OK) {
        r->what = "param_count/get_params";
        r->status = swiftmlp_get_param_count(net, &count);
    }
    if (r->status == SWIFTMLP_OK) {
        r->params_bytes = count * dtype_size(t);
        r->params = malloc(r->params_bytes);
        r->status = r->params ? swiftmlp_get_params(net, t, r->params, count) : SWIFTMLP_ERR_OUT_OF_MEMORY;
    }
    if (r->status == SWIFTMLP_OK) {
        r->what = "save_size/save_buffer";
        r->status = swiftmlp_save_size(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, &r->model_bytes);
    }
    if (r->status == SWIFTMLP_OK) {
        r->model = malloc(r->model_bytes);
        r->status = r->model ? swiftmlp_save_buffer(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, r->model,
                                                    r->model_bytes, NULL)
                             : SWIFTMLP_ERR_OUT_OF_MEMORY;
    }
    if (r->status != SWIFTMLP_OK) {
        snprintf(r->message, sizeof r->message, "%s", swiftmlp_last_error());
    }
    swiftmlp_free(net);
    return NULL;
}

static void test_8_threads_train_their_own_networks_like_a_sequential_run(void **state)
{
    (void)state;
    own_result seq[N_THREADS], par[N_THREADS];
    memset(seq, 0, sizeof seq);
    memset(par, 0, sizeof par);
    for (size_t i = 0; i < N_THREADS; i++) {
        make_data(&g_own_data[i], 500 + i);
        seq[i].index = par[i].index = i;
        seq[i].dtype = par[i].dtype = i % 2 ? SWIFTMLP_FLOAT32 : SWIFTMLP_FLOAT64;
        own_network_thread(&seq[i]); /* sequential, on this thread */
        if (seq[i].status != SWIFTMLP_OK) {
            print_error("sequential #%zu: %s: %s\n", i, seq[i].what, seq[i].message);
        }
        assert_int_equal(seq[i].status, SWIFTMLP_OK);
    }
    for (size_t i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_create(&par[i].thread, NULL, own_network_thread, &par[i]), 0);
    }
    for (size_t i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(par[i].thread, NULL), 0);
    }
    for (size_t i = 0; i < N_THREADS; i++) {
        if (par[i].status != SWIFTMLP_OK) {
            print_error("thread #%zu: %s returned %d: %s\n", i, par[i].what, (int)par[i].status,
                        par[i].message);
        }
        assert_int_equal(par[i].status, SWIFTMLP_OK);
        assert_int_equal(par[i].params_bytes, seq[i].params_bytes);
        assert_memory_equal(par[i].params, seq[i].params, seq[i].params_bytes);
        assert_int_equal(par[i].model_bytes, seq[i].model_bytes);
        assert_memory_equal(par[i].model, seq[i].model, seq[i].model_bytes);
        /* different seeds and data: the networks really are different */
        if (i > 0 && par[i].params_bytes == par[i - 1].params_bytes) {
            assert_true(memcmp(par[i].params, par[i - 1].params, par[i].params_bytes) != 0);
        }
        free(seq[i].params);
        free(seq[i].model);
        free(par[i].params);
        free(par[i].model);
    }
}

/* ======================================================================== */
/* (c) two threads training one network                                     */
/* ======================================================================== */

/* Each trainer runs until it has TRAIN_TARGET successful training calls (or
 * TRAIN_SECONDS pass), yielding after every call so the other one gets
 * windows: with two threads hammering one network, most calls meet the
 * other thread's call and return BUSY. */
enum { TRAIN_TARGET = 40 };
static const double TRAIN_SECONDS = 20.0;

typedef struct shared_net {
    swiftmlp_net *net;
    const data *d;
    const double *p_init;
    size_t n_params;
    pthread_barrier_t start;
} shared_net;

typedef struct trainer {
    pthread_t thread;
    shared_net *sh;
    int role;
    tally t;
    size_t trained; /* successful fits / optimizer steps */
} trainer;

/* Self-contained changing calls only: each is OK or BUSY. */
static void *coarse_trainer(void *arg)
{
    trainer *w = arg;
    shared_net *sh = w->sh;
    const data *d = sh->d;
    swiftmlp_fit_options opts;
    swiftmlp_fit_options_default(&opts);
    opts.epochs = 1;
    opts.batch_size = 8;
    swiftmlp_optimizer o;
    swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAM, &o);
    double out[8 * NL];
    pthread_barrier_wait(&sh->start);
    double t0 = now_seconds();
    for (size_t i = 0; w->trained < TRAIN_TARGET && now_seconds() - t0 < TRAIN_SECONDS; i++) {
        swiftmlp_status s = swiftmlp_fit(sh->net, SWIFTMLP_FLOAT64, d->x64, 32 * N0, d->y64, 32 * NL, 32,
                                         &opts, NULL);
        tally_add(&w->t, s, "fit", 0);
        w->trained += s == SWIFTMLP_OK;
        sched_yield();
        if (w->role == 1) {
            tally_add(&w->t, swiftmlp_forward(sh->net, SWIFTMLP_FLOAT64, d->x64, 8 * N0, 8, out, 8 * NL),
                      "forward", 0);
            if (i % 10 == 0) {
                tally_add(&w->t, swiftmlp_set_params(sh->net, SWIFTMLP_FLOAT64, sh->p_init, sh->n_params),
                          "set_params", 0);
                tally_add(&w->t, swiftmlp_reset_optimizer(sh->net), "reset_optimizer", 0);
            }
            if (i % 50 == 0) {
                tally_add(&w->t, swiftmlp_set_optimizer(sh->net, &o), "set_optimizer", 0);
            }
            sched_yield();
        }
    }
    return NULL;
}

/* forward / backward / optimizer_step from both threads. backward and
 * optimizer_step may also see STATE: the other thread's forward or step in
 * between invalidates this thread's forward (documented call-order rules). */
static void *fine_trainer(void *arg)
{
    trainer *w = arg;
    shared_net *sh = w->sh;
    const data *d = sh->d;
    double out[8 * NL], loss;
    const unsigned allow_state = 1u << SWIFTMLP_ERR_STATE;
    pthread_barrier_wait(&sh->start);
    double t0 = now_seconds();
    for (size_t i = 0; w->trained < TRAIN_TARGET && now_seconds() - t0 < TRAIN_SECONDS; i++) {
        size_t row = (8 * (i + (size_t)w->role)) % (TRAIN_ROWS - 8);
        tally_add(&w->t, swiftmlp_forward(sh->net, SWIFTMLP_FLOAT64, d->x64 + row * N0, 8 * N0, 8, out,
                                          8 * NL), "forward", 0);
        tally_add(&w->t, swiftmlp_backward(sh->net, SWIFTMLP_FLOAT64, d->y64 + row * NL, 8 * NL, 8, &loss),
                  "backward", allow_state);
        swiftmlp_status s = swiftmlp_optimizer_step(sh->net);
        tally_add(&w->t, s, "optimizer_step", allow_state);
        w->trained += s == SWIFTMLP_OK;
        sched_yield();
    }
    return NULL;
}

static void check_two_trainers(void *(*body)(void *), const char *label)
{
    static data d;
    make_data(&d, 99);
    swiftmlp_net *net = net_with_optimizer(17, SWIFTMLP_OPT_ADAM);
    snapshot init = snapshot_params(net);
    shared_net sh;
    memset(&sh, 0, sizeof sh);
    sh.net = net;
    sh.d = &d;
    sh.p_init = init.data;
    sh.n_params = init.bytes / sizeof(double);
    assert_int_equal(pthread_barrier_init(&sh.start, NULL, 2), 0);
    trainer w[2];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 2; i++) {
        w[i].sh = &sh;
        w[i].role = i;
        assert_int_equal(pthread_create(&w[i].thread, NULL, body, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
    }
    pthread_barrier_destroy(&sh.start);
    for (int i = 0; i < 2; i++) {
        char who[64];
        snprintf(who, sizeof who, "%s thread %d", label, i);
        assert_tally_clean(&w[i].t, who);
        print_message("    %s thread %d: %zu calls, %zu OK, %zu BUSY, %zu STATE; %zu trained\n", label, i,
                      w[i].t.calls, w[i].t.ok, w[i].t.busy, w[i].t.state, w[i].trained);
        /* both made progress: a BUSY that never clears would show here */
        assert_true(w[i].trained > 0);
    }
    /* consistent afterwards */
    assert_true(params_all_finite(net));
    double out[8 * NL], loss = -1;
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, d.x64, 8 * N0, 8, out, 8 * NL));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, d.y64, 8 * NL, 8, &loss));
    assert_true(isfinite(loss));
    snapshot g = snapshot_grads(net);
    for (size_t i = 0; i < g.bytes / sizeof(double); i++) {
        assert_true(isfinite(((double *)g.data)[i]));
    }
    snapshot_free(&g);
    assert_ok(swiftmlp_optimizer_step(net));
    assert_true(params_all_finite(net));
    /* and it matches itself: a save/load round trip gives the same network */
    size_t size = 0;
    assert_ok(swiftmlp_save_size(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, &size));
    unsigned char *buf = malloc(size);
    assert_non_null(buf);
    assert_ok(swiftmlp_save_buffer(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, buf, size, NULL));
    swiftmlp_net *copy = NULL;
    assert_ok(swiftmlp_load_buffer(buf, size, &copy));
    assert_same_params(net, copy);
    swiftmlp_free(copy);
    free(buf);
    snapshot_free(&init);
    swiftmlp_free(net);
}

TEST_CALLING(test_two_threads_fitting_one_network_get_only_ok_or_busy,
             check_two_trainers(coarse_trainer, "fit/forward/set_params"))
TEST_CALLING(test_two_threads_stepping_one_network_get_only_ok_busy_or_call_order_state,
             check_two_trainers(fine_trainer, "forward/backward/optimizer_step"))

/* ======================================================================== */
/* (d) readers concurrent with a writer                                     */
/* ======================================================================== */

/* Readers run READER_ITERATIONS rounds of reading calls; the writer steps
 * until the readers are done and it has made at least WRITER_STEPS steps,
 * retrying a BUSY call (which changed nothing) after a yield. */
enum { WRITER_STEPS = 300, READER_ITERATIONS = 2000, N_READERS = 2 };

typedef struct rw_shared {
    swiftmlp_net *net;
    const data *d;
    atomic_int readers_done;
    pthread_barrier_t start;
} rw_shared;

typedef struct rw_worker {
    pthread_t thread;
    rw_shared *sh;
    tally t;
    size_t non_finite;
    size_t steps_done;
} rw_worker;

/* Retry a changing call while it is BUSY (it changed nothing then). */
#define RETRY_BUSY(w, call, name)                                  \
    do {                                                           \
        swiftmlp_status s_;                                        \
        do {                                                       \
            s_ = (call);                                           \
            tally_add(&(w)->t, s_, (name), 0);                     \
            if (s_ == SWIFTMLP_ERR_BUSY) {                         \
                sched_yield();                                     \
            }                                                      \
        } while (s_ == SWIFTMLP_ERR_BUSY);                         \
        if (s_ != SWIFTMLP_OK) {                                   \
            goto done;                                             \
        }                                                          \
    } while (0)

static void *writer_thread(void *arg)
{
    rw_worker *w = arg;
    rw_shared *sh = w->sh;
    const data *d = sh->d;
    double out[8 * NL], loss;
    pthread_barrier_wait(&sh->start);
    for (size_t i = 0; i < WRITER_STEPS || atomic_load(&sh->readers_done) < N_READERS; i++) {
        size_t row = (8 * i) % (TRAIN_ROWS - 8);
        RETRY_BUSY(w, swiftmlp_forward(sh->net, SWIFTMLP_FLOAT64, d->x64 + row * N0, 8 * N0, 8, out, 8 * NL),
                   "forward");
        RETRY_BUSY(w, swiftmlp_backward(sh->net, SWIFTMLP_FLOAT64, d->y64 + row * NL, 8 * NL, 8, &loss),
                   "backward");
        RETRY_BUSY(w, swiftmlp_optimizer_step(sh->net), "optimizer_step");
        w->steps_done++;
    }
done:
    return NULL;
}

static void *reader_thread(void *arg)
{
    rw_worker *w = arg;
    rw_shared *sh = w->sh;
    const data *d = sh->d;
    size_t count = 0;
    swiftmlp_get_param_count(sh->net, &count); /* before the barrier: no writer runs yet */
    double *p = malloc((count ? count : 1) * sizeof(double));
    double out[300 * NL];
    pthread_barrier_wait(&sh->start);
    for (size_t i = 0; p != NULL && i < READER_ITERATIONS; i++) {
        swiftmlp_status s = swiftmlp_get_params(sh->net, SWIFTMLP_FLOAT64, p, count);
        tally_add(&w->t, s, "get_params", 0);
        if (s == SWIFTMLP_OK) {
            for (size_t k = 0; k < count; k++) {
                w->non_finite += !isfinite(p[k]);
            }
        }
        size_t rows = i % 2 ? 300 : 3;
        s = swiftmlp_predict(sh->net, SWIFTMLP_FLOAT64, d->x64, rows * N0, rows, out, rows * NL);
        tally_add(&w->t, s, "predict", 0);
        if (s == SWIFTMLP_OK) {
            for (size_t k = 0; k < rows * NL; k++) {
                w->non_finite += !isfinite(out[k]);
            }
        }
        double loss;
        s = swiftmlp_evaluate(sh->net, SWIFTMLP_FLOAT64, d->x64, 3 * N0, d->y64, 3 * NL, 3, &loss);
        tally_add(&w->t, s, "evaluate", 0);
        size_t size;
        tally_add(&w->t, swiftmlp_save_size(sh->net, SWIFTMLP_SAVE_OPTIMIZER_STATE, &size), "save_size", 0);
        uint64_t steps;
        tally_add(&w->t, swiftmlp_get_step_count(sh->net, &steps), "optimizer_step_count", 0);
        sched_yield();
    }
    free(p);
    atomic_fetch_add(&sh->readers_done, 1);
    return NULL;
}

static void test_readers_concurrent_with_a_writer_get_only_ok_or_busy(void **state)
{
    (void)state;
    static data d;
    make_data(&d, 123);
    swiftmlp_net *net = net_with_optimizer(23, SWIFTMLP_OPT_ADAM);
    rw_shared sh = {.net = net, .d = &d};
    atomic_init(&sh.readers_done, 0);
    assert_int_equal(pthread_barrier_init(&sh.start, NULL, 1 + N_READERS), 0);
    rw_worker w[1 + N_READERS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 1 + N_READERS; i++) {
        w[i].sh = &sh;
        assert_int_equal(pthread_create(&w[i].thread, NULL, i == 0 ? writer_thread : reader_thread, &w[i]), 0);
    }
    for (int i = 0; i < 1 + N_READERS; i++) {
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
    }
    pthread_barrier_destroy(&sh.start);
    size_t busy = 0;
    for (int i = 0; i < 1 + N_READERS; i++) {
        assert_tally_clean(&w[i].t, i == 0 ? "writer" : "reader");
        assert_int_equal(w[i].non_finite, 0);
        print_message("    %s %d: %zu calls, %zu OK, %zu BUSY\n", i == 0 ? "writer" : "reader", i,
                      w[i].t.calls, w[i].t.ok, w[i].t.busy);
        busy += w[i].t.busy;
    }
    assert_true(w[0].steps_done >= WRITER_STEPS);
    for (int i = 1; i < 1 + N_READERS; i++) {
        assert_int_equal(w[i].t.calls, 5 * READER_ITERATIONS);
    }
    uint64_t steps = 0;
    assert_ok(swiftmlp_get_step_count(net, &steps));
    assert_true(steps == w[0].steps_done);
    assert_true(params_all_finite(net));
    print_message("    %zu BUSY returns in total\n", busy);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* (e) deterministic BUSY                                                   */
/* ======================================================================== */

/* A fit of net on d running on the thread fitter, held in its progress
 * callback until release is set. */
typedef struct hold {
    swiftmlp_net *net;
    data d;
    pthread_t fitter;
    atomic_int in_fit;     /* set by the callback: the fit is running */
    atomic_int release;    /* set by the prober: let the fit continue */
    swiftmlp_status fit_status;
} hold;

static int holding_progress(const swiftmlp_progress *p, void *user)
{
    (void)p;
    hold *h = user;
    if (atomic_load(&h->in_fit) == 0) {
        atomic_store(&h->in_fit, 1);
        while (atomic_load(&h->release) == 0) {
            sched_yield();
        }
    }
    return 0;
}

static void *holding_fit_thread(void *arg)
{
    hold *h = arg;
    swiftmlp_fit_options opts;
    swiftmlp_fit_options_default(&opts);
    opts.epochs = 1;
    opts.batch_size = 8;
    opts.progress = holding_progress;
    opts.user_data = h;
    h->fit_status = swiftmlp_fit(h->net, SWIFTMLP_FLOAT64, h->d.x64, 16 * N0, h->d.y64, 16 * NL, 16, &opts,
                                 NULL);
    /* if the callback never ran, do not leave the prober waiting */
    atomic_store(&h->in_fit, 1);
    return NULL;
}

/* Data from `seed` and a new SGD network in h, whose fit runs on
 * h->fitter and is held inside its progress callback when this returns;
 * the network. */
static swiftmlp_net *start_held_fit(hold *h, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    make_data(&h->d, seed);
    h->net = net_with_optimizer(seed + 22, SWIFTMLP_OPT_SGD);
    atomic_init(&h->in_fit, 0);
    atomic_init(&h->release, 0);
    assert_int_equal(pthread_create(&h->fitter, NULL, holding_fit_thread, h), 0);
    while (atomic_load(&h->in_fit) == 0) {
        sched_yield();
    }
    return h->net;
}

/* Lets h's fit continue and waits for it: the fit's status. */
static swiftmlp_status finish_held_fit(hold *h)
{
    atomic_store(&h->release, 1);
    assert_int_equal(pthread_join(h->fitter, NULL), 0);
    return h->fit_status;
}

typedef struct probe {
    const char *name;
    swiftmlp_status status;
    int message_set;
} probe;

static void test_calls_during_a_running_fit_return_busy(void **state)
{
    (void)state;
    static hold h;
    swiftmlp_net *net = start_held_fit(&h, 7);
    const data *d = &h.d;
    /* the fit is inside its callback now: every call on the net conflicts */
    size_t count = 0, size = 0, rows = 0;
    uint64_t steps = 0;
    double p[N1 * N0 + N1 + NL * N1 + NL] = {0}, out[4 * NL], loss = 0;
    swiftmlp_config cfg;
    swiftmlp_dtype dt;
    probe probes[13];
    size_t n = 0;
#define PROBE(call)                                                          \
    do {                                                                     \
        probes[n].name = #call;                                              \
        probes[n].status = (call);                                           \
        probes[n].message_set = swiftmlp_last_error()[0] != '\0';            \
        n++;                                                                 \
    } while (0)
    PROBE(swiftmlp_predict(net, SWIFTMLP_FLOAT64, d->x64, 4 * N0, 4, out, 4 * NL));
    PROBE(swiftmlp_evaluate(net, SWIFTMLP_FLOAT64, d->x64, 4 * N0, d->y64, 4 * NL, 4, &loss));
    PROBE(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, p, ARRAY_LEN(p)));
    PROBE(swiftmlp_get_param_count(net, &count));
    PROBE(swiftmlp_get_config(net, &cfg));
    PROBE(swiftmlp_get_dtype(net, &dt));
    PROBE(swiftmlp_save_size(net, 0, &size));
    PROBE(swiftmlp_get_step_count(net, &steps));
    PROBE(swiftmlp_get_cached_rows(net, &rows));
    PROBE(swiftmlp_forward(net, SWIFTMLP_FLOAT64, d->x64, 4 * N0, 4, out, 4 * NL));
    PROBE(swiftmlp_set_params(net, SWIFTMLP_FLOAT64, p, ARRAY_LEN(p)));
    PROBE(swiftmlp_set_grads(net, SWIFTMLP_FLOAT64, p, ARRAY_LEN(p)));
    PROBE(swiftmlp_fit(net, SWIFTMLP_FLOAT64, d->x64, 16 * N0, d->y64, 16 * NL, 16, NULL, NULL));
#undef PROBE
    assert_int_equal(finish_held_fit(&h), SWIFTMLP_OK);
    for (size_t i = 0; i < n; i++) {
        if (probes[i].status != SWIFTMLP_ERR_BUSY || !probes[i].message_set) {
            print_error("%s during a fit returned %d (%s), message %s; expected SWIFTMLP_ERR_BUSY with a message\n",
                        probes[i].name, (int)probes[i].status, swiftmlp_status_string(probes[i].status),
                        probes[i].message_set ? "set" : "empty");
            fail();
        }
    }
    /* the BUSY set_params changed nothing: the parameters are not all zero */
    snapshot s = snapshot_params(net);
    int all_zero = 1;
    for (size_t i = 0; i < s.bytes / sizeof(double); i++) {
        all_zero &= ((double *)s.data)[i] == 0.0;
    }
    assert_false(all_zero);
    snapshot_free(&s);
    swiftmlp_free(net);
}

/* A long read (gradient_check on a bigger network) is running: a changing
 * call from another thread gets BUSY. The reader loops, the writer tries
 * until it sees BUSY (bounded by time). */
typedef struct long_read {
    swiftmlp_net *net;
    const double *x, *y;
    atomic_int stop;
    atomic_int started;
    tally t;
} long_read;

enum { BIG_N0 = 32, BIG_N1 = 48, BIG_NL = 8, BIG_B = 16 };

static void *gradient_check_loop(void *arg)
{
    long_read *r = arg;
    while (!atomic_load(&r->stop)) {
        swiftmlp_gradcheck g;
        atomic_store(&r->started, 1);
        tally_add(&r->t, swiftmlp_gradient_check(r->net, SWIFTMLP_FLOAT64, r->x, BIG_B * BIG_N0, r->y,
                                                 BIG_B * BIG_NL, BIG_B, 1e-5, &g),
                  "gradient_check", 0);
    }
    return NULL;
}

static void test_changing_call_during_a_long_read_returns_busy(void **state)
{
    (void)state;
    const size_t sizes[] = {BIG_N0, BIG_N1, BIG_NL};
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT64, 31);
    static double x[BIG_B * BIG_N0], y[BIG_B * BIG_NL];
    uint64_t rng = 3;
    for (size_t i = 0; i < ARRAY_LEN(x); i++) {
        x[i] = rand_uniform(&rng, -1, 1);
    }
    for (size_t i = 0; i < ARRAY_LEN(y); i++) {
        y[i] = rand_uniform(&rng, 0, 1);
    }
    snapshot p = snapshot_params(net);
    long_read r;
    memset(&r, 0, sizeof r);
    r.net = net;
    r.x = x;
    r.y = y;
    atomic_init(&r.stop, 0);
    atomic_init(&r.started, 0);
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, gradient_check_loop, &r), 0);
    while (!atomic_load(&r.started)) {
        sched_yield();
    }
    tally t;
    memset(&t, 0, sizeof t);
    double t0 = now_seconds();
    while (t.busy == 0 && now_seconds() - t0 < 20.0) {
        tally_add(&t, swiftmlp_set_params(net, SWIFTMLP_FLOAT64, p.data, p.bytes / sizeof(double)),
                  "set_params", 0);
    }
    atomic_store(&r.stop, 1);
    assert_int_equal(pthread_join(reader, NULL), 0);
    print_message("    set_params during gradient_check: %zu calls, %zu OK, %zu BUSY after %.3f s\n",
                  t.calls, t.ok, t.busy, now_seconds() - t0);
    assert_tally_clean(&t, "writer");
    assert_tally_clean(&r.t, "gradient_check reader");
    assert_true(t.busy > 0);
    assert_params_still(net, p, "parameters (set to the same values)");
    swiftmlp_free(net);
}

/* ======================================================================== */
/* (f) handles from many threads                                            */
/* ======================================================================== */

typedef struct loader {
    pthread_t thread;
    const unsigned char *model;
    size_t model_bytes;
    const double *x;
    const unsigned char *ref_out;
    tally t;
    size_t mismatches;
} loader;

static void *load_use_free_thread(void *arg)
{
    loader *w = arg;
    for (int i = 0; i < 200; i++) {
        swiftmlp_net *net = NULL;
        swiftmlp_status s = swiftmlp_load_buffer(w->model, w->model_bytes, &net);
        tally_add(&w->t, s, "load_buffer", 0);
        if (s != SWIFTMLP_OK) {
            continue;
        }
        double out[5 * NL];
        s = swiftmlp_predict(net, SWIFTMLP_FLOAT64, w->x, 5 * N0, 5, out, 5 * NL);
        tally_add(&w->t, s, "predict", 0);
        if (s == SWIFTMLP_OK && memcmp(out, w->ref_out, sizeof out) != 0) {
            w->mismatches++;
        }
        swiftmlp_free(net);
        /* No double free or use after free here: another thread's load may
         * get the same address meanwhile, and then it is that thread's live
         * network (test_misuse.c covers double frees single-threaded). */
    }
    return NULL;
}

static void test_8_threads_load_use_and_free_their_own_handles(void **state)
{
    (void)state;
    static data d;
    make_data(&d, 55);
    swiftmlp_net *net = make_net(SWIFTMLP_FLOAT64, 41);
    assert_non_null(net);
    size_t size = 0;
    assert_ok(swiftmlp_save_size(net, 0, &size));
    unsigned char *model = malloc(size);
    assert_non_null(model);
    assert_ok(swiftmlp_save_buffer(net, 0, model, size, NULL));
    double ref[5 * NL];
    assert_ok(swiftmlp_predict(net, SWIFTMLP_FLOAT64, d.x64, 5 * N0, 5, ref, 5 * NL));
    loader w[N_THREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < N_THREADS; i++) {
        w[i].model = model;
        w[i].model_bytes = size;
        w[i].x = d.x64;
        w[i].ref_out = (const unsigned char *)ref;
        assert_int_equal(pthread_create(&w[i].thread, NULL, load_use_free_thread, &w[i]), 0);
    }
    size_t loads = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(w[i].thread, NULL), 0);
        assert_tally_clean(&w[i].t, "loader");
        assert_int_equal(w[i].mismatches, 0);
        loads += w[i].t.ok;
    }
    print_message("    %zu successful load/predict calls on %d threads\n", loads, N_THREADS);
    /* the original network is untouched */
    double again[5 * NL];
    assert_ok(swiftmlp_predict(net, SWIFTMLP_FLOAT64, d.x64, 5 * N0, 5, again, 5 * NL));
    assert_memory_equal(again, ref, sizeof ref);
    free(model);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* (g) free during a running call                                           */
/* ======================================================================== */

static void test_free_during_a_running_fit_lets_it_finish(void **state)
{
    (void)state;
    static hold h;
    swiftmlp_net *net = start_held_fit(&h, 13);
    /* the fit is inside its callback: free returns without waiting for it */
    swiftmlp_free(net);
    size_t count = 0;
    assert_int_equal(swiftmlp_get_param_count(net, &count), SWIFTMLP_ERR_BAD_HANDLE);
    assert_int_equal(count, 0);
    swiftmlp_free(net); /* a second free of the unregistered pointer does nothing */
    /* the running fit finished on the network it entered */
    assert_int_equal(finish_held_fit(&h), SWIFTMLP_OK);
    double out[4 * NL];
    assert_int_equal(swiftmlp_predict(net, SWIFTMLP_FLOAT64, h.d.x64, 4 * N0, 4, out, 4 * NL),
                     SWIFTMLP_ERR_BAD_HANDLE);
}

/* ======================================================================== */
/* (h) concurrent gradient checks                                           */
/* ======================================================================== */

enum { CHECK_THREADS = 4, CHECK_ROWS = 6, CHECK_ITERATIONS = 5 };

typedef struct checker {
    pthread_t thread;
    swiftmlp_net *net;
    swiftmlp_dtype dtype;
    const data *d;
    swiftmlp_gradcheck ref;
    tally t;
    size_t mismatches;
} checker;

static void *gradient_check_thread(void *arg)
{
    checker *c = arg;
    for (int i = 0; i < CHECK_ITERATIONS; i++) {
        swiftmlp_gradcheck r;
        memset(&r, 0, sizeof r);
        swiftmlp_status s = swiftmlp_gradient_check(c->net, c->dtype, xs(c->d, c->dtype, 0), CHECK_ROWS * N0,
                                                    ys(c->d, c->dtype, 0), CHECK_ROWS * NL, CHECK_ROWS, 1e-3, &r);
        tally_add(&c->t, s, "gradient_check", 0);
        if (s == SWIFTMLP_OK && memcmp(&r, &c->ref, sizeof r) != 0) {
            c->mismatches++;
        }
    }
    return NULL;
}

static void test_4_threads_gradient_check_one_network_bit_identically(void **state)
{
    (void)state;
    static data d;
    make_data(&d, 91);
    const swiftmlp_dtype types[] = {SWIFTMLP_FLOAT32, SWIFTMLP_FLOAT64};
    for (size_t k = 0; k < 2; k++) {
        swiftmlp_net *net = make_net(types[k], 93);
        assert_non_null(net);
        snapshot before = snapshot_params(net);
        swiftmlp_gradcheck ref;
        memset(&ref, 0, sizeof ref);
        assert_ok(swiftmlp_gradient_check(net, types[k], xs(&d, types[k], 0), CHECK_ROWS * N0, ys(&d, types[k], 0),
                                          CHECK_ROWS * NL, CHECK_ROWS, 1e-3, &ref));
        checker c[CHECK_THREADS];
        memset(c, 0, sizeof c);
        for (int i = 0; i < CHECK_THREADS; i++) {
            c[i].net = net;
            c[i].dtype = types[k];
            c[i].d = &d;
            c[i].ref = ref;
            assert_int_equal(pthread_create(&c[i].thread, NULL, gradient_check_thread, &c[i]), 0);
        }
        for (int i = 0; i < CHECK_THREADS; i++) {
            assert_int_equal(pthread_join(c[i].thread, NULL), 0);
            /* readers together never conflict: every call is OK */
            assert_tally_clean(&c[i].t, "gradient_check");
            assert_int_equal(c[i].t.ok, CHECK_ITERATIONS);
            assert_int_equal(c[i].mismatches, 0);
        }
        assert_params_still(net, before, "parameters");
        swiftmlp_free(net);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_8_threads_predict_on_one_float64_network_bit_identically),
        cmocka_unit_test(test_8_threads_predict_on_one_float32_network_bit_identically),
        cmocka_unit_test(test_8_threads_train_their_own_networks_like_a_sequential_run),
        cmocka_unit_test(test_two_threads_fitting_one_network_get_only_ok_or_busy),
        cmocka_unit_test(test_two_threads_stepping_one_network_get_only_ok_busy_or_call_order_state),
        cmocka_unit_test(test_readers_concurrent_with_a_writer_get_only_ok_or_busy),
        cmocka_unit_test(test_calls_during_a_running_fit_return_busy),
        cmocka_unit_test(test_changing_call_during_a_long_read_returns_busy),
        cmocka_unit_test(test_8_threads_load_use_and_free_their_own_handles),
        cmocka_unit_test(test_free_during_a_running_fit_lets_it_finish),
        cmocka_unit_test(test_4_threads_gradient_check_one_network_bit_identically),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
