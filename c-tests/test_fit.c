/*
 * test_fit.c — swiftmlp_fit_options_default and swiftmlp_fit.
 *
 * Data: three 2-D blobs (centres (-2,-1), (2,-1), (0,2), uniform noise in
 * [-1,1]^2, so the classes are separable), drawn with the SplitMix64 of
 * test_util.h; targets are one-hot rows.  The network is [2, 16, 3] with
 * ReLU, softmax output and cross-entropy, trained with Adam.
 *
 * The shuffle test reimplements the documented shuffle (Fisher-Yates with
 * SplitMix64 seeded with seed + 0x6A09E667F3BCC909, j = next() % (i+1),
 * applied every epoch to the current order) and replays the same batches
 * by hand with forward / backward / optimizer_step.
 */
#include "test_util.h"


enum { NI = 2, NH = 16, NC = 3 };
static const size_t k_sizes[] = {NI, NH, NC};
enum { NPARAMS = NH * NI + NH + NC * NH + NC };

static const double k_centres[NC][NI] = {{-2.0, -1.0}, {2.0, -1.0}, {0.0, 2.0}};

/* rows samples in random class order; x (rows, 2), y one-hot (rows, 3),
 * labels (rows, may be NULL). */
static void make_blobs(size_t rows, uint64_t seed, double *x, double *y, int64_t *labels)
{
    uint64_t rng = seed;
    for (size_t i = 0; i < rows; i++) {
        const size_t c = (size_t)(splitmix64_next(&rng) % NC);
        for (size_t k = 0; k < NI; k++) {
            x[i * NI + k] = k_centres[c][k] + rand_uniform(&rng, -1.0, 1.0);
        }
        for (size_t k = 0; k < NC; k++) {
            y[i * NC + k] = k == c ? 1.0 : 0.0;
        }
        if (labels != NULL) {
            labels[i] = (int64_t)c;
        }
    }
}

static swiftmlp_net *create_classifier(swiftmlp_dtype dtype, uint64_t seed)
{
    const swiftmlp_activation acts[] = {SWIFTMLP_RELU, SWIFTMLP_SOFTMAX};
    swiftmlp_config c = config_of(k_sizes, 3, acts, 2);
    c.loss = SWIFTMLP_LOSS_CROSS_ENTROPY;
    c.dtype = dtype;
    c.seed = seed;
    return create_with(&c);
}

static void set_adam(swiftmlp_net *net, double lr)
{
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAM, &o));
    o.lr = lr;
    assert_ok(swiftmlp_set_optimizer(net, &o));
}

/* A float64 classifier with Adam(lr 0.01). */
static swiftmlp_net *adam_classifier(uint64_t seed)
{
    swiftmlp_net *net = create_classifier(SWIFTMLP_FLOAT64, seed);
    set_adam(net, 0.01);
    return net;
}

/* fit net on rows ROWS of float64 x, y; must succeed. */
#define FIT_OK(net, x, y, o, r) \
    assert_ok(swiftmlp_fit((net), SWIFTMLP_FLOAT64, (x), ROWS * NI, (y), ROWS * NC, ROWS, (o), (r)))

static swiftmlp_fit_options fit_options(size_t epochs, size_t batch_size)
{
    swiftmlp_fit_options o;
    assert_ok(swiftmlp_fit_options_default(&o));
    o.epochs = epochs;
    o.batch_size = batch_size;
    return o;
}

/* The class of the largest of the NC outputs of one row (the first on ties). */
static int64_t predicted_class(const double *row)
{
    size_t best = 0;
    for (size_t k = 1; k < NC; k++) {
        best = row[k] > row[best] ? k : best;
    }
    return (int64_t)best;
}

/* How many of the rows of out (rows, NC) predict their label. */
static size_t right_predictions(const double *out, const int64_t *labels, size_t rows)
{
    size_t right = 0;
    for (size_t i = 0; i < rows; i++) {
        right += predicted_class(out + i * NC) == labels[i];
    }
    return right;
}

static double accuracy(swiftmlp_net *net, const double *x, const int64_t *labels, size_t rows)
{
    double *out = malloc_or_fail(rows * NC * sizeof *out);
    assert_ok(swiftmlp_predict(net, SWIFTMLP_FLOAT64, x, rows * NI, rows, out, rows * NC));
    const size_t right = right_predictions(out, labels, rows);
    free(out);
    return (double)right / (double)rows;
}

static void assert_params_finite(const swiftmlp_net *net)
{
    double p[NPARAMS];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, p, NPARAMS));
    for (size_t i = 0; i < NPARAMS; i++) {
        assert_true(isfinite(p[i]));
    }
}

/* r says whether the fit stopped early and restored the best epoch. */
static void assert_fit_ended(const swiftmlp_fit_result *r, int stopped_early, int restored_best)
{
    assert_int_equal(r->stopped_early, stopped_early);
    assert_int_equal(r->restored_best, restored_best);
}

/* net holds twin's parameters exactly; frees twin. */
static void assert_params_of_twin(const swiftmlp_net *net, swiftmlp_net *twin, const char *what)
{
    snapshot expected = snapshot_params(twin);
    assert_params_still(net, expected, what);
    swiftmlp_free(twin);
}

/* ---- a recording progress callback ------------------------------------- */

enum { MAX_CALLS = 4096 };

typedef struct recorder {
    swiftmlp_progress calls[MAX_CALLS];
    size_t n;
    void *expected_user_data;
    int user_data_ok;
    /* cancel when (epoch, batch) is reached (batch == n_batches: epoch end) */
    int cancel;
    size_t cancel_epoch, cancel_batch;
} recorder;

static int record_progress(const swiftmlp_progress *p, void *user_data)
{
    recorder *r = user_data;
    if (r->n < MAX_CALLS) {
        r->calls[r->n] = *p;
    }
    r->n++;
    r->user_data_ok = r->user_data_ok && user_data == r->expected_user_data;
    return r->cancel && p->epoch == r->cancel_epoch && p->batch == r->cancel_batch;
}

static recorder *new_recorder(void)
{
    recorder *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->expected_user_data = r;
    r->user_data_ok = 1;
    return r;
}

/* o reports to rec. */
static void report_to(swiftmlp_fit_options *o, recorder *rec)
{
    o->progress = record_progress;
    o->user_data = rec;
}

/* ======================================================================== */
/* defaults                                                                 */
/* ======================================================================== */

static void test_fit_options_default_fills_every_documented_default(void **state)
{
    (void)state;
    swiftmlp_fit_options o;
    FILL_DEFAULTS(o, swiftmlp_fit_options_default);
    assert_int_equal(o.epochs, 1);
    assert_int_equal(o.batch_size, 32);
    assert_int_equal(o.shuffle, 1);
    assert_null(o.val_x);
    assert_int_equal(o.val_x_len, 0);
    assert_null(o.val_y);
    assert_int_equal(o.val_y_len, 0);
    assert_int_equal(o.val_rows, 0);
    assert_int_equal(o.patience, 0);
    assert_true(o.min_delta == 0.0);
    assert_int_equal(o.restore_best, 1);
    assert_null(o.progress);
    assert_null(o.user_data);
    assert_int_equal(o.report_batches, 1);
    assert_null(o.optimizer);
}

static void test_fit_options_default_null_returns_null_pointer(void **state)
{
    (void)state;
    assert_fails(swiftmlp_fit_options_default(NULL), SWIFTMLP_ERR_NULL_POINTER);
}

/* ======================================================================== */
/* learning                                                                 */
/* ======================================================================== */

enum { ROWS = 90 };

/* ======================================================================== */
/* options->optimizer (since 1.1.0)                                         */
/* ======================================================================== */

static swiftmlp_optimizer sgd(double lr)
{
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o));
    o.lr = lr;
    return o;
}

static swiftmlp_optimizer_kind optimizer_kind(const swiftmlp_net *net)
{
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_get_optimizer(net, &o));
    return o.kind;
}

/* Blobs drawn with `seed` (ROWS rows) and an Adam classifier fitted on them
 * for one epoch in batches of 32 (3 steps) with o. */
typedef struct fitted {
    double x[ROWS * NI], y[ROWS * NC];
    swiftmlp_fit_options o;
    swiftmlp_net *net;
} fitted;

static fitted fitted_classifier(uint64_t seed)
{
    fitted f;
    make_blobs(ROWS, seed, f.x, f.y, NULL);
    f.net = adam_classifier(seed);
    f.o = fit_options(1, 32);
    FIT_OK(f.net, f.x, f.y, &f.o, NULL);
    return f;
}

/* f.net's optimizer is still Adam, having taken `steps` steps. */
static void assert_adam_with_steps(const fitted *f, uint64_t steps)
{
    assert_int_equal(optimizer_kind(f->net), SWIFTMLP_OPT_ADAM);
    assert_true(step_count(f->net) == steps);
}

/* options->optimizer is set with fresh state, as swiftmlp_set_optimizer
 * before the fit would: the same parameters, the step count of this fit. */
static void test_fit_with_options_optimizer_equals_set_optimizer_then_fit(void **state)
{
    (void)state;
    fitted twin = fitted_classifier(21), f = fitted_classifier(21);
    const swiftmlp_optimizer s = sgd(0.1);
    assert_ok(swiftmlp_set_optimizer(twin.net, &s));
    FIT_OK(twin.net, twin.x, twin.y, &twin.o, NULL);
    f.o.optimizer = &s;
    FIT_OK(f.net, f.x, f.y, &f.o, NULL);
    assert_int_equal(optimizer_kind(f.net), SWIFTMLP_OPT_SGD);
    assert_true(step_count(f.net) == 3); /* this fit's steps only */
    assert_params_of_twin(f.net, twin.net, "parameters (options->optimizer vs set_optimizer)");
    swiftmlp_free(f.net);
}

/* Refused for its data or its optimizer: the previous optimizer, its state
 * and step count stay. */
static void test_fit_refused_keeps_the_previous_optimizer_and_state(void **state)
{
    (void)state;
    fitted f = fitted_classifier(22);
    swiftmlp_optimizer s;
    f.o.optimizer = &s;
    const double x5 = f.x[5];
    for (int bad_optimizer = 0; bad_optimizer <= 1; bad_optimizer++) {
        /* NaN in x with a good optimizer, then good data with lr -1 */
        f.x[5] = bad_optimizer ? x5 : NAN;
        s = sgd(bad_optimizer ? -1.0 : 0.1);
        assert_fails_unchanged(f.net, swiftmlp_fit(f.net, SWIFTMLP_FLOAT64, f.x, ROWS * NI, f.y, ROWS * NC, ROWS,
                                                   &f.o, NULL),
                               bad_optimizer ? SWIFTMLP_ERR_INVALID_ARGUMENT : SWIFTMLP_ERR_NON_FINITE);
        assert_adam_with_steps(&f, 3);
    }
    swiftmlp_free(f.net);
}

/* A caller built with the 1.0 header passes the struct without `optimizer`:
 * accepted, and the bytes after it are never read. */
static void test_fit_accepts_the_1_0_options_struct(void **state)
{
    (void)state;
    fitted f = fitted_classifier(23);
    f.o.struct_size = offsetof(swiftmlp_fit_options, optimizer);
    f.o.optimizer = (const swiftmlp_optimizer *)(uintptr_t)1; /* would crash if read */
    FIT_OK(f.net, f.x, f.y, &f.o, NULL);
    assert_adam_with_steps(&f, 6);
    swiftmlp_free(f.net);
}

static void test_fit_softmax_cross_entropy_adam_learns_separable_blobs(void **state)
{
    (void)state;
    double x[ROWS * NI], y[ROWS * NC];
    int64_t labels[ROWS];
    make_blobs(ROWS, 1, x, y, labels);
    swiftmlp_net *net = adam_classifier(7);
    double initial = NAN;
    assert_ok(swiftmlp_evaluate(net, SWIFTMLP_FLOAT64, x, ROWS * NI, y, ROWS * NC, ROWS, &initial));
    const double acc0 = accuracy(net, x, labels, ROWS);

    swiftmlp_fit_options o = fit_options(40, 16);
    swiftmlp_fit_result r;
    memset(&r, 0xA5, sizeof r);
    FIT_OK(net, x, y, &o, &r);
    assert_last_error_empty();

    double final = NAN;
    assert_ok(swiftmlp_evaluate(net, SWIFTMLP_FLOAT64, x, ROWS * NI, y, ROWS * NC, ROWS, &final));
    const double acc = accuracy(net, x, labels, ROWS);
    print_message("    loss %.4f -> %.4f (fit's last epoch %.4f), accuracy %.3f -> %.3f\n",
                  initial, final, r.final_train_loss, acc0, acc);
    assert_true(final < 0.2 * initial);
    assert_true(r.final_train_loss < 0.3 * initial);
    assert_true(acc >= 0.97);
    assert_int_equal(r.epochs_run, 40);
    assert_int_equal(r.cancelled, 0);
    assert_fit_ended(&r, 0, 0);
    assert_true(isnan(r.final_val_loss));
    assert_true(r.best_epoch < 40);
    assert_true(r.best_loss <= r.final_train_loss);
    assert_true(step_count(net) == 40 * 6); /* ceil(90 / 16) = 6 steps per epoch */
    swiftmlp_free(net);
}

static void test_fit_float32_network_learns_separable_blobs(void **state)
{
    (void)state;
    double x[ROWS * NI], y[ROWS * NC];
    float x32[ROWS * NI], y32[ROWS * NC], out32[ROWS * NC];
    double out[ROWS * NC];
    int64_t labels[ROWS];
    make_blobs(ROWS, 2, x, y, labels);
    round_to_float(x, x32, ROWS * NI);
    round_to_float(y, y32, ROWS * NC);
    swiftmlp_net *net = create_classifier(SWIFTMLP_FLOAT32, 7);
    set_adam(net, 0.01);
    double initial = NAN, final = NAN;
    assert_ok(swiftmlp_evaluate(net, SWIFTMLP_FLOAT32, x32, ROWS * NI, y32, ROWS * NC, ROWS, &initial));
    swiftmlp_fit_options o = fit_options(40, 16);
    swiftmlp_fit_result r;
    assert_ok(swiftmlp_fit(net, SWIFTMLP_FLOAT32, x32, ROWS * NI, y32, ROWS * NC, ROWS, &o, &r));
    assert_ok(swiftmlp_evaluate(net, SWIFTMLP_FLOAT32, x32, ROWS * NI, y32, ROWS * NC, ROWS, &final));
    assert_ok(swiftmlp_predict(net, SWIFTMLP_FLOAT32, x32, ROWS * NI, ROWS, out32, ROWS * NC));
    for (size_t i = 0; i < ROWS * NC; i++) {
        out[i] = out32[i];
    }
    assert_true(final < 0.2 * initial);
    assert_true(right_predictions(out, labels, ROWS) >= ROWS * 97 / 100);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* determinism                                                              */
/* ======================================================================== */

static void test_fit_same_seed_and_calls_give_bit_identical_parameters(void **state)
{
    (void)state;
    double x[ROWS * NI], y[ROWS * NC];
    make_blobs(ROWS, 3, x, y, NULL);
    swiftmlp_net *a = create_classifier(SWIFTMLP_FLOAT64, 99);
    swiftmlp_net *b = create_classifier(SWIFTMLP_FLOAT64, 99);
    swiftmlp_fit_result ra, rb;
    swiftmlp_fit_options o = fit_options(5, 8);
    swiftmlp_net *nets[2] = {a, b};
    swiftmlp_fit_result *rs[2] = {&ra, &rb};
    for (size_t i = 0; i < 2; i++) {
        set_adam(nets[i], 0.01);
        /* Two fits: the shuffle generator carries over from one to the next. */
        assert_ok(swiftmlp_fit(nets[i], SWIFTMLP_FLOAT64, x, ROWS * NI, y, ROWS * NC, ROWS, &o, rs[i]));
        assert_ok(swiftmlp_fit(nets[i], SWIFTMLP_FLOAT64, x, ROWS * NI, y, ROWS * NC, ROWS, &o, rs[i]));
    }
    assert_true(ra.final_train_loss == rb.final_train_loss);
    assert_true(ra.best_loss == rb.best_loss);
    assert_params_of_twin(a, b, "parameters of two identical fits");
    swiftmlp_free(a);
}

/* a and b, once b holds a's parameters, each fit on x, y with o: then
 * their parameters differ. Frees both. */
static void assert_fits_from_same_params_differ(swiftmlp_net *a, swiftmlp_net *b, const double *x,
                                                const double *y, const swiftmlp_fit_options *o)
{
    snapshot p = snapshot_params(a);
    assert_ok(swiftmlp_set_params(b, SWIFTMLP_FLOAT64, p.data, NPARAMS));
    snapshot_free(&p);
    FIT_OK(a, x, y, o, NULL);
    FIT_OK(b, x, y, o, NULL);
    assert_params_differ(a, b);
    swiftmlp_free(a);
    swiftmlp_free(b);
}

/* Same initial parameters, different seed: only the shuffles differ, and
 * they make the trained parameters differ. */
static void test_fit_different_seed_gives_different_parameters(void **state)
{
    (void)state;
    double x[ROWS * NI], y[ROWS * NC];
    make_blobs(ROWS, 3, x, y, NULL);
    swiftmlp_fit_options o = fit_options(3, 8);
    assert_fits_from_same_params_differ(adam_classifier(99), adam_classifier(100), x, y, &o);
}

/* Same seed, different second fit: the second fit of a network continues
 * the shuffle generator, so it differs from a fresh network's first fit
 * from the same parameters (a sanity check that the generator advances). */
static void test_fit_shuffle_generator_advances_across_fits(void **state)
{
    (void)state;
    double x[ROWS * NI], y[ROWS * NC];
    make_blobs(ROWS, 3, x, y, NULL);
    swiftmlp_net *a = adam_classifier(5);
    swiftmlp_net *b = adam_classifier(5);
    swiftmlp_fit_options o = fit_options(1, 8);
    FIT_OK(a, x, y, &o, NULL);
    /* b: same parameters as a, fresh shuffle generator and optimizer. */
    assert_ok(swiftmlp_reset_optimizer(a));
    assert_fits_from_same_params_differ(a, b, x, y, &o);
}

/* ======================================================================== */
/* fit == the documented batches, replayed by hand                          */
/* ======================================================================== */

/* Replays `epochs` epochs of fit on `manual` (forward / backward /
 * optimizer_step per batch) with the documented shuffle (or none), and
 * checks each batch loss against the callback's record. */
static void replay(swiftmlp_net *manual, const double *x, const double *y, size_t rows,
                   size_t epochs, size_t batch_size, int shuffle, uint64_t seed,
                   const recorder *rec, size_t stop_after_steps)
{
    uint64_t gen = seed + UINT64_C(0x6A09E667F3BCC909);
    size_t *order = malloc(rows * sizeof *order);
    double *xb = malloc(batch_size * NI * sizeof *xb);
    double *yb = malloc(batch_size * NC * sizeof *yb);
    double *out = malloc(batch_size * NC * sizeof *out);
    assert_non_null(order);
    assert_non_null(xb);
    assert_non_null(yb);
    assert_non_null(out);
    for (size_t i = 0; i < rows; i++) {
        order[i] = i;
    }
    const size_t n_batches = (rows + batch_size - 1) / batch_size;
    size_t call = 0, steps = 0;
    for (size_t e = 0; e < epochs; e++) {
        if (shuffle) {
            for (size_t i = rows - 1; i > 0; i--) {
                const size_t j = (size_t)(splitmix64_next(&gen) % (uint64_t)(i + 1));
                const size_t t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        double sum = 0.0;
        for (size_t b = 0; b < n_batches; b++) {
            const size_t start = b * batch_size;
            const size_t m = rows - start < batch_size ? rows - start : batch_size;
            for (size_t r = 0; r < m; r++) {
                memcpy(xb + r * NI, x + order[start + r] * NI, NI * sizeof *x);
                memcpy(yb + r * NC, y + order[start + r] * NC, NC * sizeof *y);
            }
            double loss = NAN;
            assert_ok(swiftmlp_forward(manual, SWIFTMLP_FLOAT64, xb, m * NI, m, out, m * NC));
            assert_ok(swiftmlp_backward(manual, SWIFTMLP_FLOAT64, yb, m * NC, m, &loss));
            assert_ok(swiftmlp_optimizer_step(manual));
            sum += loss * (double)m;
            if (rec != NULL && call < rec->n) {
                const swiftmlp_progress *p = &rec->calls[call];
                assert_int_equal(p->epoch, e);
                assert_int_equal(p->batch, b);
                assert_close(p->batch_loss, loss, 1e-12, 0.0);
                assert_close(p->train_loss, sum / (double)(start + m), 1e-12, 0.0);
            }
            call++;
            if (++steps == stop_after_steps) {
                goto done;
            }
        }
        if (rec != NULL && call < rec->n) {
            assert_true(rec->calls[call].epoch_end);
            assert_close(rec->calls[call].train_loss, sum / (double)rows, 1e-12, 0.0);
        }
        call++;
    }
done:
    free(order);
    free(xb);
    free(yb);
    free(out);
}

static void assert_params_close(const swiftmlp_net *a, const swiftmlp_net *b, double rtol)
{
    double pa[NPARAMS], pb[NPARAMS];
    assert_ok(swiftmlp_get_params(a, SWIFTMLP_FLOAT64, pa, NPARAMS));
    assert_ok(swiftmlp_get_params(b, SWIFTMLP_FLOAT64, pb, NPARAMS));
    for (size_t i = 0; i < NPARAMS; i++) {
        assert_close(pa[i], pb[i], rtol, 1e-15);
    }
}

static void check_fit_equals_replay(size_t rows, size_t epochs, size_t batch_size, int shuffle)
{
    double *x = malloc(rows * NI * sizeof *x), *y = malloc(rows * NC * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    make_blobs(rows, 4, x, y, NULL);
    const uint64_t seed = 1234;
    swiftmlp_net *net = create_classifier(SWIFTMLP_FLOAT64, seed);
    swiftmlp_net *manual = create_classifier(SWIFTMLP_FLOAT64, seed);
    set_adam(net, 0.02);
    set_adam(manual, 0.02);
    recorder *rec = new_recorder();
    swiftmlp_fit_options o = fit_options(epochs, batch_size);
    o.shuffle = shuffle;
    report_to(&o, rec);
    swiftmlp_fit_result r;
    assert_ok(swiftmlp_fit(net, SWIFTMLP_FLOAT64, x, rows * NI, y, rows * NC, rows, &o, &r));
    replay(manual, x, y, rows, epochs, batch_size, shuffle, seed, rec, 0);
    assert_params_close(net, manual, 1e-12);
    assert_true(step_count(net) == step_count(manual));
    free(rec);
    free(x);
    free(y);
    swiftmlp_free(net);
    swiftmlp_free(manual);
}

static void test_fit_with_shuffle_equals_documented_fisher_yates_batches_replayed_by_hand(void **state)
{
    (void)state;
    check_fit_equals_replay(10, 3, 4, 1); /* batches of 4, 4, 2 */
}

static void test_fit_without_shuffle_equals_consecutive_batches_replayed_by_hand(void **state)
{
    (void)state;
    check_fit_equals_replay(11, 2, 3, 0); /* batches of 3, 3, 3, 2 */
}

static void test_fit_batch_larger_than_rows_is_one_full_batch_per_epoch(void **state)
{
    (void)state;
    check_fit_equals_replay(7, 3, 100, 1);
}

/* ======================================================================== */
/* progress callback                                                        */
/* ======================================================================== */

static void check_numbering(const recorder *rec, size_t epochs, size_t n_batches, int every_batch)
{
    const size_t per_epoch = every_batch ? n_batches + 1 : 1;
    assert_int_equal(rec->n, epochs * per_epoch);
    assert_true(rec->user_data_ok);
    size_t k = 0;
    for (size_t e = 0; e < epochs; e++) {
        for (size_t b = 0; every_batch && b < n_batches; b++, k++) {
            const swiftmlp_progress *p = &rec->calls[k];
            assert_int_equal(p->epoch, e);
            assert_int_equal(p->epochs, epochs);
            assert_int_equal(p->batch, b);
            assert_int_equal(p->n_batches, n_batches);
            assert_int_equal(p->epoch_end, 0);
            assert_true(isfinite(p->batch_loss));
            assert_true(isfinite(p->train_loss));
            assert_true(isnan(p->val_loss));
        }
        const swiftmlp_progress *p = &rec->calls[k++];
        assert_int_equal(p->epoch, e);
        assert_int_equal(p->epochs, epochs);
        assert_int_equal(p->batch, n_batches);
        assert_int_equal(p->n_batches, n_batches);
        assert_true(p->epoch_end != 0);
        assert_true(isnan(p->batch_loss));
        assert_true(isfinite(p->train_loss));
        assert_true(isnan(p->val_loss));
    }
}

static void run_numbering(size_t rows, size_t batch_size, size_t epochs, int report_batches)
{
    double *x = malloc(rows * NI * sizeof *x), *y = malloc(rows * NC * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    make_blobs(rows, 5, x, y, NULL);
    swiftmlp_net *net = adam_classifier(1);
    recorder *rec = new_recorder();
    swiftmlp_fit_options o = fit_options(epochs, batch_size);
    report_to(&o, rec);
    o.report_batches = report_batches;
    swiftmlp_fit_result r;
    assert_ok(swiftmlp_fit(net, SWIFTMLP_FLOAT64, x, rows * NI, y, rows * NC, rows, &o, &r));
    const size_t n_batches = (rows + batch_size - 1) / batch_size;
    check_numbering(rec, epochs, n_batches, report_batches);
    /* The last epoch-end report is the result's final training loss. */
    assert_true(rec->calls[rec->n - 1].train_loss == r.final_train_loss);
    assert_int_equal(r.epochs_run, epochs);
    assert_true(step_count(net) == epochs * n_batches);
    free(rec);
    free(x);
    free(y);
    swiftmlp_free(net);
}

static void test_progress_numbering_with_remainder_batch(void **state)
{
    (void)state;
    run_numbering(90, 16, 3, 1); /* n_batches = 6 */
}

static void test_progress_numbering_without_remainder_batch(void **state)
{
    (void)state;
    run_numbering(96, 16, 2, 1); /* n_batches = 6 exactly */
}

static void test_progress_numbering_batch_larger_than_rows(void **state)
{
    (void)state;
    run_numbering(20, 64, 4, 1); /* n_batches = 1 */
}

static void test_progress_numbering_batch_size_one(void **state)
{
    (void)state;
    run_numbering(5, 1, 2, 1); /* n_batches = 5 */
}

static void test_report_batches_zero_gives_only_epoch_end_calls(void **state)
{
    (void)state;
    run_numbering(90, 16, 4, 0);
}

/* The epoch's training loss is the row-weighted mean of its batch losses. */
static void test_epoch_train_loss_is_row_weighted_mean_of_batch_losses(void **state)
{
    (void)state;
    double x[ROWS * NI], y[ROWS * NC];
    make_blobs(ROWS, 6, x, y, NULL);
    swiftmlp_net *net = adam_classifier(1);
    recorder *rec = new_recorder();
    swiftmlp_fit_options o = fit_options(2, 16);
    report_to(&o, rec);
    FIT_OK(net, x, y, &o, NULL);
    size_t k = 0;
    for (size_t e = 0; e < 2; e++) {
        double sum = 0.0;
        for (size_t b = 0; b < 6; b++, k++) {
            const size_t m = b < 5 ? 16 : ROWS - 5 * 16;
            sum += rec->calls[k].batch_loss * (double)m;
            assert_close(rec->calls[k].train_loss, sum / (double)(b < 5 ? 16 * (b + 1) : ROWS),
                         1e-14, 0.0);
        }
        assert_close(rec->calls[k].train_loss, sum / ROWS, 1e-14, 0.0);
        k++;
    }
    free(rec);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* one test's fit: data with validation rows, network, recorder, result     */
/* ======================================================================== */

enum { VROWS = 45 };

/* ROWS training blobs, and VROWS validation blobs whose targets are the
 * WRONG class. */
typedef struct valdata {
    double x[ROWS * NI], y[ROWS * NC];
    double vx[VROWS * NI], vy[VROWS * NC]; /* targets: the WRONG class */
} valdata;

static void make_valdata(valdata *d, uint64_t seed)
{
    int64_t labels[VROWS];
    make_blobs(ROWS, seed, d->x, d->y, NULL);
    make_blobs(VROWS, seed + 1, d->vx, d->vy, labels);
    for (size_t i = 0; i < VROWS; i++) {
        for (size_t k = 0; k < NC; k++) {
            d->vy[i * NC + k] = (int64_t)k == (labels[i] + 1) % NC ? 1.0 : 0.0;
        }
    }
}

static swiftmlp_fit_options val_options(const valdata *d, size_t epochs, size_t patience,
                                        int restore_best, recorder *rec)
{
    swiftmlp_fit_options o = fit_options(epochs, 16);
    o.val_x = d->vx;
    o.val_x_len = VROWS * NI;
    o.val_y = d->vy;
    o.val_y_len = VROWS * NC;
    o.val_rows = VROWS;
    o.patience = patience;
    o.restore_best = restore_best;
    if (rec != NULL) {
        report_to(&o, rec);
        o.report_batches = 0;
    }
    return o;
}

/* A twin trained with the same seed and options for `epochs` epochs
 * without early stopping (same shuffles, same steps). */
static swiftmlp_net *train_twin(const valdata *d, uint64_t seed, size_t epochs)
{
    swiftmlp_net *twin = create_classifier(SWIFTMLP_FLOAT64, seed);
    set_adam(twin, 0.02);
    swiftmlp_fit_options o = val_options(d, epochs, 0, 1, NULL);
    assert_ok(swiftmlp_fit(twin, SWIFTMLP_FLOAT64, d->x, ROWS * NI, d->y, ROWS * NC, ROWS, &o, NULL));
    return twin;
}

/* One test's data (drawn with data_seed), its float64 classifier (seed
 * net_seed) with Adam(lr), a recorder and the result of its fit. */
typedef struct valrun {
    valdata d;
    swiftmlp_net *net;
    recorder *rec;
    swiftmlp_fit_result r;
} valrun;

static valrun *valrun_new(uint64_t data_seed, uint64_t net_seed, double lr)
{
    valrun *v = calloc(1, sizeof *v);
    assert_non_null(v);
    make_valdata(&v->d, data_seed);
    v->net = create_classifier(SWIFTMLP_FLOAT64, net_seed);
    set_adam(v->net, lr);
    v->rec = new_recorder();
    return v;
}

/* fit v's network on v's training data with o, which returns `expected`;
 * the result in v->r. */
static void valrun_fit(valrun *v, const swiftmlp_fit_options *o, swiftmlp_status expected)
{
    const valdata *d = &v->d;
    assert_status(swiftmlp_fit(v->net, SWIFTMLP_FLOAT64, d->x, ROWS * NI, d->y, ROWS * NC, ROWS, o, &v->r),
                  expected);
}

static void valrun_free(valrun *v)
{
    swiftmlp_free(v->net);
    free(v->rec);
    free(v);
}

/* ======================================================================== */
/* cancellation                                                             */
/* ======================================================================== */

/* A run (data drawn with data_seed, Adam classifier seed 3, lr 0.01) whose
 * fit with o, reporting to the run's recorder, is cancelled at its report
 * for (epoch, batch): it returns CANCELLED with a message, and its result
 * says cancelled after `epochs_run` whole epochs. */
static valrun *cancelled_run(uint64_t data_seed, swiftmlp_fit_options o, size_t epoch, size_t batch,
                             size_t epochs_run)
{
    valrun *v = valrun_new(data_seed, 3, 0.01);
    v->rec->cancel = 1;
    v->rec->cancel_epoch = epoch;
    v->rec->cancel_batch = batch;
    report_to(&o, v->rec);
    valrun_fit(v, &o, SWIFTMLP_ERR_CANCELLED);
    assert_last_error_set();
    assert_int_equal(v->r.cancelled, 1);
    assert_int_equal(v->r.epochs_run, epochs_run);
    return v;
}

static void test_fit_cancelled_by_callback_returns_cancelled_and_keeps_network_consistent(void **state)
{
    (void)state;
    valrun *c = cancelled_run(7, fit_options(10, 16), 1, 2, 1);
    swiftmlp_net *net = c->net;
    const double *x = c->d.x, *y = c->d.y;
    swiftmlp_fit_result r = c->r;
    assert_fit_ended(&r, 0, 0);
    assert_true(isfinite(r.final_train_loss));
    /* Called up to the cancelling report and never again. */
    assert_int_equal(c->rec->n, 7 + 3);
    /* Epoch 0's six steps plus batches 0..2 of epoch 1. */
    assert_true(step_count(net) == 9);
    assert_params_finite(net);

    /* Still usable: forward/backward/step, predict and another fit work. */
    double out[ROWS * NC];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, ROWS * NI, ROWS, out, ROWS * NC));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, ROWS * NC, ROWS, NULL));
    assert_ok(swiftmlp_optimizer_step(net));
    assert_ok(swiftmlp_predict(net, SWIFTMLP_FLOAT64, x, ROWS * NI, ROWS, out, ROWS * NC));
    swiftmlp_fit_options plain = fit_options(1, 16);
    FIT_OK(net, x, y, &plain, &r);
    assert_int_equal(r.cancelled, 0);
    valrun_free(c);
}

/* Cancelled after batch 1 of epoch 0 (no shuffle): the parameters are those
 * after exactly two steps, as replayed by hand. */
static void test_fit_cancelled_holds_parameters_after_last_completed_step(void **state)
{
    (void)state;
    swiftmlp_fit_options o = fit_options(5, 16);
    o.shuffle = 0;
    valrun *c = cancelled_run(8, o, 0, 1, 0);
    assert_true(isnan(c->r.final_train_loss));
    swiftmlp_net *manual = adam_classifier(3);
    replay(manual, c->d.x, c->d.y, ROWS, 1, 16, 0, 3, c->rec, 2);
    assert_params_close(c->net, manual, 1e-12);
    assert_true(step_count(c->net) == 2);
    swiftmlp_free(manual);
    valrun_free(c);
}

static void test_fit_cancelled_at_epoch_end_counts_that_epoch_as_run(void **state)
{
    (void)state;
    swiftmlp_fit_options o = fit_options(10, 16);
    o.report_batches = 0;
    valrun *c = cancelled_run(9, o, 1, 6, 2); /* batch == n_batches: the epoch-end report */
    assert_true(c->r.final_train_loss == c->rec->calls[1].train_loss);
    assert_int_equal(c->rec->n, 2);
    assert_true(step_count(c->net) == 12);
    assert_params_finite(c->net);
    valrun_free(c);
}

/* ======================================================================== */
/* validation and early stopping                                            */
/* ======================================================================== */

typedef enum reports { REPORT_NONE, REPORT_EPOCH_ENDS, REPORT_BATCHES } reports;

/* A validation run (data seed 10, classifier seed 21, Adam lr 0.02) fitted
 * with val_options(epochs, patience, restore_best), reporting to its
 * recorder as `rep` says. */
static valrun *val_fitted(size_t epochs, size_t patience, int restore_best, reports rep)
{
    valrun *v = valrun_new(10, 21, 0.02);
    swiftmlp_fit_options o = val_options(&v->d, epochs, patience, restore_best, rep == REPORT_NONE ? NULL : v->rec);
    if (rep == REPORT_BATCHES) {
        o.report_batches = 1;
    }
    valrun_fit(v, &o, SWIFTMLP_OK);
    return v;
}

static void test_validation_loss_is_reported_at_epoch_ends_and_equals_evaluate(void **state)
{
    (void)state;
    valrun *v = val_fitted(3, 0, 1, REPORT_BATCHES);
    recorder *rec = v->rec;
    const swiftmlp_fit_result r = v->r;
    assert_int_equal(rec->n, 3 * 7);
    double best = INFINITY;
    size_t best_e = 0;
    for (size_t k = 0; k < rec->n; k++) {
        const swiftmlp_progress *p = &rec->calls[k];
        if (p->epoch_end) {
            assert_true(isfinite(p->val_loss));
            if (p->val_loss < best) {
                best = p->val_loss;
                best_e = p->epoch;
            }
        } else {
            assert_true(isnan(p->val_loss));
        }
    }
    double ev = NAN;
    assert_ok(swiftmlp_evaluate(v->net, SWIFTMLP_FLOAT64, v->d.vx, VROWS * NI, v->d.vy, VROWS * NC, VROWS, &ev));
    assert_close(r.final_val_loss, ev, 1e-15, 0.0);
    assert_true(r.final_val_loss == rec->calls[rec->n - 1].val_loss);
    assert_int_equal(r.best_epoch, best_e);
    assert_true(r.best_loss == best);
    assert_fit_ended(&r, 0, 0);
    valrun_free(v);
}

static void test_early_stopping_on_rising_validation_loss_restores_best_epoch_parameters(void **state)
{
    (void)state;
    const size_t patience = 3;
    valrun *v = val_fitted(50, patience, 1, REPORT_EPOCH_ENDS);
    recorder *rec = v->rec;
    const swiftmlp_fit_result r = v->r;
    print_message("    stopped after %zu epochs, best epoch %zu (val loss %.4f), final val loss %.4f\n",
                  r.epochs_run, r.best_epoch, r.best_loss, r.final_val_loss);
    assert_fit_ended(&r, 1, 1);
    assert_int_equal(r.cancelled, 0);
    assert_true(r.epochs_run < 50);
    assert_true(r.best_epoch < r.epochs_run - 1);
    assert_int_equal(r.epochs_run, r.best_epoch + 1 + patience);
    /* best_loss is the smallest reported validation loss, at best_epoch. */
    assert_int_equal(rec->n, r.epochs_run);
    for (size_t e = 0; e < rec->n; e++) {
        assert_true(rec->calls[e].val_loss >= r.best_loss);
    }
    assert_true(rec->calls[r.best_epoch].val_loss == r.best_loss);
    assert_true(rec->calls[rec->n - 1].val_loss == r.final_val_loss);
    assert_true(r.final_val_loss > r.best_loss);

    /* The parameters are those at the end of best_epoch: a twin trained for
     * best_epoch + 1 epochs (same seed => same shuffles) holds them. */
    assert_params_of_twin(v->net, train_twin(&v->d, 21, r.best_epoch + 1),
                          "parameters restored by early stopping");
    double ev = NAN;
    assert_ok(swiftmlp_evaluate(v->net, SWIFTMLP_FLOAT64, v->d.vx, VROWS * NI, v->d.vy, VROWS * NC, VROWS, &ev));
    assert_close(ev, r.best_loss, 1e-15, 0.0);
    valrun_free(v);
}

static void test_early_stopping_without_restore_keeps_last_epoch_parameters(void **state)
{
    (void)state;
    valrun *v = val_fitted(50, 2, 0, REPORT_NONE);
    assert_fit_ended(&v->r, 1, 0);
    assert_int_equal(v->r.epochs_run, v->r.best_epoch + 1 + 2);
    assert_params_of_twin(v->net, train_twin(&v->d, 21, v->r.epochs_run), "parameters without restore_best");
    valrun_free(v);
}

/* Without validation data the training loss is monitored; a min_delta no
 * epoch can beat stops after 1 + patience epochs and restores epoch 0. */
static void test_early_stopping_on_training_loss_with_large_min_delta(void **state)
{
    (void)state;
    valrun *v = valrun_new(10, 21, 0.02);
    recorder *rec = v->rec;
    swiftmlp_fit_options o = fit_options(20, 16);
    o.patience = 2;
    o.min_delta = 10.0;
    report_to(&o, rec);
    o.report_batches = 0;
    valrun_fit(v, &o, SWIFTMLP_OK);
    const swiftmlp_fit_result r = v->r;
    assert_fit_ended(&r, 1, 1);
    assert_int_equal(r.epochs_run, 3);
    assert_int_equal(r.best_epoch, 0);
    assert_true(r.best_loss == rec->calls[0].train_loss);
    assert_true(r.final_train_loss == rec->calls[2].train_loss);
    assert_true(isnan(r.final_val_loss));
    /* Twin: one epoch, no validation (training is the same either way). */
    swiftmlp_net *twin = create_classifier(SWIFTMLP_FLOAT64, 21);
    set_adam(twin, 0.02);
    swiftmlp_fit_options one = fit_options(1, 16);
    assert_ok(swiftmlp_fit(twin, SWIFTMLP_FLOAT64, v->d.x, ROWS * NI, v->d.y, ROWS * NC, ROWS, &one, NULL));
    assert_params_of_twin(v->net, twin, "parameters restored to epoch 0");
    valrun_free(v);
}

/* patience 0: no early stopping even though validation loss keeps rising. */
static void test_patience_zero_runs_every_epoch(void **state)
{
    (void)state;
    valrun *v = val_fitted(12, 0, 1, REPORT_NONE);
    assert_int_equal(v->r.epochs_run, 12);
    assert_fit_ended(&v->r, 0, 0);
    assert_true(v->r.best_epoch < 11);
    valrun_free(v);
}

/* options NULL = the defaults (1 epoch, batches of 32, shuffled). */
static void test_fit_with_null_options_equals_default_options(void **state)
{
    (void)state;
    valrun *a = valrun_new(12, 8, 0.01);
    valrun_fit(a, NULL, SWIFTMLP_OK);
    swiftmlp_net *b = adam_classifier(8);
    swiftmlp_fit_options o;
    assert_ok(swiftmlp_fit_options_default(&o));
    swiftmlp_fit_result rb;
    FIT_OK(b, a->d.x, a->d.y, &o, &rb);
    assert_int_equal(a->r.epochs_run, 1);
    assert_true(step_count(a->net) == 3); /* ceil(90 / 32) */
    assert_true(a->r.final_train_loss == rb.final_train_loss);
    assert_params_of_twin(a->net, b, "parameters (NULL options vs defaults)");
    valrun_free(a);
}

static void test_fit_with_null_result_succeeds(void **state)
{
    (void)state;
    valrun *v = valrun_new(13, 8, 0.01);
    swiftmlp_fit_options o = fit_options(2, 30);
    FIT_OK(v->net, v->d.x, v->d.y, &o, NULL);
    assert_true(step_count(v->net) == 6);
    valrun_free(v);
}

/* ======================================================================== */
/* bad input: exact status, last_error, parameters / optimizer untouched,   */
/* callback never called                                                    */
/* ======================================================================== */

typedef struct fixture {
    swiftmlp_net *net;
    double x[ROWS * NI], y[ROWS * NC];
    float x32[ROWS * NI], y32[ROWS * NC];
    swiftmlp_fit_options o;
    recorder *rec;
} fixture;

static int fit_init(fixture *f)
{
    make_blobs(ROWS, 14, f->x, f->y, NULL);
    round_to_float(f->x, f->x32, ROWS * NI);
    round_to_float(f->y, f->y32, ROWS * NC);
    f->net = create_classifier(SWIFTMLP_FLOAT64, 4);
    set_adam(f->net, 0.01);
    f->rec = new_recorder();
    f->o = fit_options(2, 16);
    f->o.progress = record_progress;
    f->o.user_data = f->rec;
    return 0;
}

static void fit_fini(fixture *f)
{
    swiftmlp_free(f->net);
    free(f->rec);
}

FIXTURE_FUNCTIONS(fixture, setup, teardown, fit_init, fit_fini)

#define FIXTURE fixture *f = *state

/* ---- the bad-input table: every row also leaves the parameters and the
 * optimizer's step count alone and never calls the progress callback ---- */

#define BAD_CTX fixture

static swiftmlp_net *fit_net(void *f) { return ((fixture *)f)->net; }

static void fit_unchanged(void *f, const char *name)
{
    if (((fixture *)f)->rec->n != 0) {
        print_error("%s: the progress callback was called\n", name);
        fail();
    }
}

static const bad_suite k_fit_suite = {setup, teardown, fit_net, fit_unchanged};

/* Replace the fixture's network: a classifier of dtype, with Adam or none. */
static void use_net(fixture *f, swiftmlp_dtype dtype, int adam)
{
    swiftmlp_free(f->net);
    f->net = create_classifier(dtype, 4);
    if (adam) {
        set_adam(f->net, 0.01);
    }
}

/* Validation data: the first val_rows rows of the training data. */
static void set_val(fixture *f, size_t val_rows)
{
    f->o.val_x = f->x;
    f->o.val_x_len = val_rows * NI;
    f->o.val_y = f->y;
    f->o.val_y_len = val_rows * NC;
    f->o.val_rows = val_rows;
}

/* A copy of the first 10 rows of x with element 5 NaN. */
static const double *nan_val_x(void)
{
    static double vx[10 * NI];
    for (size_t i = 0; i < ARRAY_LEN(vx); i++) {
        vx[i] = i == 5 ? NAN : 0.5;
    }
    return vx;
}

#define FIT_(net, dtype, x, x_len, y, y_len, rows) \
    swiftmlp_fit((net), (dtype), (x), (x_len), (y), (y_len), (rows), &f->o, NULL)
#define FITC(...) FIT_(__VA_ARGS__) /* (expands FIT_OK_ARGS first) */
#define FIT64(...) FITC(f->net, F64, __VA_ARGS__)
#define FIT_OK_ARGS f->x, ROWS * NI, f->y, ROWS * NC, ROWS
#define NO_PREP (void)0
/* x_len/y_len too large: ROWS - 1 rows, but all ROWS rows' worth of x (or
 * y); the buffers really have them. */
#define FIT_CASES(X)                                                                                    \
    X(fit_null_net, E_NULL, NULL, NO_PREP, FITC(NULL, F64, FIT_OK_ARGS))                                \
    X(fit_null_x, E_NULL, NULL, NO_PREP, FIT64(NULL, ROWS * NI, f->y, ROWS * NC, ROWS))                 \
    X(fit_null_y, E_NULL, NULL, NO_PREP, FIT64(f->x, ROWS * NI, NULL, ROWS * NC, ROWS))                 \
    X(fit_rows_0, E_ARG, NULL, NO_PREP, FIT64(f->x, 0, f->y, 0, 0))                                     \
    X(fit_x_len_too_small, E_BUF, NULL, NO_PREP, FIT64(f->x, ROWS * NI - 1, f->y, ROWS * NC, ROWS))     \
    X(fit_x_len_too_large, E_BUF, NULL, NO_PREP, FIT64(f->x, ROWS * NI, f->y, (ROWS - 1) * NC, ROWS - 1)) \
    X(fit_y_len_too_small, E_BUF, NULL, NO_PREP, FIT64(f->x, ROWS * NI, f->y, ROWS * NC - 1, ROWS))     \
    X(fit_y_len_too_large, E_BUF, NULL, NO_PREP, FIT64(f->x, (ROWS - 1) * NI, f->y, ROWS * NC, ROWS - 1)) \
    X(fit_epochs_0, E_ARG, NULL, f->o.epochs = 0, FIT64(FIT_OK_ARGS))                                   \
    X(fit_batch_size_0, E_ARG, NULL, f->o.batch_size = 0, FIT64(FIT_OK_ARGS))                           \
    X(fit_negative_min_delta, E_ARG, NULL, (f->o.patience = 2, f->o.min_delta = -1e-3), FIT64(FIT_OK_ARGS)) \
    X(fit_nan_min_delta, E_ARG, NULL, (f->o.patience = 2, f->o.min_delta = NAN), FIT64(FIT_OK_ARGS))    \
    X(fit_infinite_min_delta, E_ARG, NULL, (f->o.patience = 2, f->o.min_delta = INFINITY), FIT64(FIT_OK_ARGS)) \
    X(fit_struct_size_zero, E_ARG, NULL, f->o.struct_size = 0, FIT64(FIT_OK_ARGS))                      \
    X(fit_struct_size_larger, E_ARG, NULL, f->o.struct_size = sizeof(swiftmlp_fit_options) + 16,        \
      FIT64(FIT_OK_ARGS))                                                                               \
    X(fit_nan_in_x, E_FINITE, NULL, f->x[ROWS * NI - 1] = NAN, FIT64(FIT_OK_ARGS))                      \
    X(fit_inf_in_y, E_FINITE, NULL, f->y[7] = INFINITY, FIT64(FIT_OK_ARGS))                             \
    X(fit_float32_nan_in_x, E_FINITE, NULL, (use_net(f, F32, 1), f->x32[3] = NAN),                      \
      FITC(f->net, F32, f->x32, ROWS * NI, f->y32, ROWS * NC, ROWS))                                    \
    X(fit_without_optimizer, E_STATE, NULL, use_net(f, F64, 0), FIT64(FIT_OK_ARGS))                     \
    X(fit_float32_call_on_float64_net, E_DTYPE, NULL, NO_PREP,                                          \
      FITC(f->net, F32, f->x32, ROWS * NI, f->y32, ROWS * NC, ROWS))                                    \
    X(fit_float64_call_on_float32_net, E_DTYPE, NULL, use_net(f, F32, 1), FIT64(FIT_OK_ARGS))           \
    X(fit_unknown_dtype, E_ARG, NULL, NO_PREP, FITC(f->net, (swiftmlp_dtype)0, FIT_OK_ARGS))            \
    X(fit_validation_x_without_y, E_NULL, NULL, (set_val(f, 10), f->o.val_y = NULL), FIT64(FIT_OK_ARGS)) \
    X(fit_validation_y_without_x, E_NULL, NULL, (set_val(f, 10), f->o.val_x = NULL), FIT64(FIT_OK_ARGS)) \
    X(fit_validation_x_len_wrong, E_BUF, NULL, (set_val(f, 10), f->o.val_x_len = 10 * NI + 1),          \
      FIT64(FIT_OK_ARGS))                                                                               \
    X(fit_validation_y_len_wrong, E_BUF, NULL, (set_val(f, 10), f->o.val_y_len = 10 * NC - 1),          \
      FIT64(FIT_OK_ARGS))                                                                               \
    X(fit_validation_nan, E_FINITE, NULL, (set_val(f, 10), f->o.val_x = nan_val_x()), FIT64(FIT_OK_ARGS))

BAD_ANY_TABLE(k_fit_cases, FIT_CASES);


/* A first step that would overflow: NON_FINITE, training stops at the last
 * good step, which is none here, so nothing changes. */
static void test_fit_overflowing_first_step_returns_non_finite_and_changes_nothing(void **state)
{
    FIXTURE;
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o));
    o.lr = 1e10;
    o.weight_decay = 1e300;
    assert_ok(swiftmlp_set_optimizer(f->net, &o));
    assert_fails_unchanged(f->net, FIT64(FIT_OK_ARGS),
                           SWIFTMLP_ERR_NON_FINITE);
    assert_true(step_count(f->net) == 0);
    assert_int_equal(f->rec->n, 0);
}

/* SGD with lr 1e300: the first step is finite, but the huge weights then
 * overflow the forward pass and the next step would make parameters NaN.
 * fit stops with NON_FINITE at the last good step: the same parameters as a
 * hand replay whose optimizer_step is refused at the same point. */
static void test_fit_step_overflow_mid_training_returns_non_finite_and_keeps_last_good_step(void **state)
{
    (void)state;
    enum { R = 12, BS = 4 };
    double x[R * NI], y[R * NC];
    make_blobs(R, 15, x, y, NULL);
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o));
    o.lr = 1e300;
    swiftmlp_net *net = create_classifier(SWIFTMLP_FLOAT64, 2);
    swiftmlp_net *manual = create_classifier(SWIFTMLP_FLOAT64, 2);
    assert_ok(swiftmlp_set_optimizer(net, &o));
    assert_ok(swiftmlp_set_optimizer(manual, &o));

    /* Replay without shuffle until the optimizer refuses a step. */
    size_t good = 0;
    swiftmlp_status s = SWIFTMLP_OK;
    for (size_t e = 0; e < 5 && s == SWIFTMLP_OK; e++) {
        for (size_t b = 0; b < R / BS && s == SWIFTMLP_OK; b++) {
            double out[BS * NC];
            assert_ok(swiftmlp_forward(manual, SWIFTMLP_FLOAT64, x + b * BS * NI, BS * NI, BS, out, BS * NC));
            assert_ok(swiftmlp_backward(manual, SWIFTMLP_FLOAT64, y + b * BS * NC, BS * NC, BS, NULL));
            s = swiftmlp_optimizer_step(manual);
            good += s == SWIFTMLP_OK;
        }
    }
    assert_int_equal(s, SWIFTMLP_ERR_NON_FINITE);
    assert_true(good >= 1);
    print_message("    %zu good step(s) before the overflow\n", good);

    recorder *rec = new_recorder();
    swiftmlp_fit_options fo = fit_options(5, BS);
    fo.shuffle = 0;
    fo.progress = record_progress;
    fo.user_data = rec;
    assert_status(swiftmlp_fit(net, SWIFTMLP_FLOAT64, x, R * NI, y, R * NC, R, &fo, NULL),
                  SWIFTMLP_ERR_NON_FINITE);
    assert_last_error_set();
    assert_true(step_count(net) == good);
    snapshot a = snapshot_params(net), b = snapshot_params(manual);
    assert_same_snapshot(a, b, "parameters after the last good step");
    /* The network is still usable. */
    double out[R * NC];
    assert_ok(swiftmlp_predict(net, SWIFTMLP_FLOAT64, x, R * NI, R, out, R * NC));
    snapshot_free(&a);
    snapshot_free(&b);
    free(rec);
    swiftmlp_free(net);
    swiftmlp_free(manual);
}

int main(void)
{
#define T(name) cmocka_unit_test(name)
    const struct CMUnitTest tests[] = {
        T(test_fit_options_default_fills_every_documented_default),
        T(test_fit_options_default_null_returns_null_pointer),
        /* options->optimizer */
        T(test_fit_with_options_optimizer_equals_set_optimizer_then_fit),
        T(test_fit_refused_keeps_the_previous_optimizer_and_state),
        T(test_fit_accepts_the_1_0_options_struct),
        /* learning */
        T(test_fit_softmax_cross_entropy_adam_learns_separable_blobs),
        T(test_fit_float32_network_learns_separable_blobs),
        /* determinism */
        T(test_fit_same_seed_and_calls_give_bit_identical_parameters),
        T(test_fit_different_seed_gives_different_parameters),
        T(test_fit_shuffle_generator_advances_across_fits),
        /* replay */
        T(test_fit_with_shuffle_equals_documented_fisher_yates_batches_replayed_by_hand),
        T(test_fit_without_shuffle_equals_consecutive_batches_replayed_by_hand),
        T(test_fit_batch_larger_than_rows_is_one_full_batch_per_epoch),
        /* progress */
        T(test_progress_numbering_with_remainder_batch),
        T(test_progress_numbering_without_remainder_batch),
        T(test_progress_numbering_batch_larger_than_rows),
        T(test_progress_numbering_batch_size_one),
        T(test_report_batches_zero_gives_only_epoch_end_calls),
        T(test_epoch_train_loss_is_row_weighted_mean_of_batch_losses),
        /* cancel */
        T(test_fit_cancelled_by_callback_returns_cancelled_and_keeps_network_consistent),
        T(test_fit_cancelled_holds_parameters_after_last_completed_step),
        T(test_fit_cancelled_at_epoch_end_counts_that_epoch_as_run),
        /* validation, early stopping */
        T(test_validation_loss_is_reported_at_epoch_ends_and_equals_evaluate),
        T(test_early_stopping_on_rising_validation_loss_restores_best_epoch_parameters),
        T(test_early_stopping_without_restore_keeps_last_epoch_parameters),
        T(test_early_stopping_on_training_loss_with_large_min_delta),
        T(test_patience_zero_runs_every_epoch),
        T(test_fit_with_null_options_equals_default_options),
        T(test_fit_with_null_result_succeeds),
        /* bad input */
        BAD_SUITE_TEST(k_fit_suite, k_fit_cases),
        cmocka_unit_test_setup_teardown(test_fit_overflowing_first_step_returns_non_finite_and_changes_nothing, setup,
                                        teardown),
        T(test_fit_step_overflow_mid_training_returns_non_finite_and_keeps_last_good_step),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
