/*
 * test_training_features.c — the training features of 0.6.0:
 * swiftmlp_set_learning_rate, swiftmlp_fit_options' lr_schedule (and
 * swiftmlp_progress.lr), sample_weight, and swiftmlp_optimizer.max_grad_norm.
 * Their defaults, every bad value (a failing call changes nothing), and the
 * documented formulas. The NumPy / PyTorch / scikit-learn comparisons are in
 * python-bindings/tests/test_training_features.py.
 */
#include "test_util.h"


enum { N0 = 3, N1 = 5, N2 = 2, ROWS = 12, NPARAMS = N1 * N0 + N1 + N2 * N1 + N2 };
static const size_t k_sizes[] = {N0, N1, N2};

static double g_x[ROWS * N0], g_y[ROWS * N2];

static int setup_data(void **state)
{
    (void)state;
    uint64_t rng = 77;
    for (size_t i = 0; i < ROWS * N0; i++) g_x[i] = rand_uniform(&rng, -2.0, 2.0);
    for (size_t i = 0; i < ROWS * N2; i++) g_y[i] = rand_uniform(&rng, 0.0, 1.0);
    return 0;
}

/* `call` fails with `expected`, its message names `needle` ("" for any),
 * and the parameters are the same bits afterwards. */
#define assert_fails_naming(net, call, expected, needle)                          \
    do {                                                                          \
        snapshot before_ = snapshot_params(net);                                  \
        assert_status((call), (expected));                                        \
        assert_last_error_set();                                                  \
        if (!strstr(swiftmlp_last_error(), (needle))) {                           \
            print_error("message \"%s\" does not name %s\n", swiftmlp_last_error(), \
                        (needle));                                                \
            fail();                                                               \
        }                                                                         \
        snapshot after_ = snapshot_params(net);                                   \
        assert_same_snapshot(before_, after_, "parameters");                      \
        snapshot_free(&before_);                                                  \
        snapshot_free(&after_);                                                   \
    } while (0)

static swiftmlp_net *net_with(swiftmlp_optimizer_kind kind, double lr)
{
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 5);
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(kind, &o));
    o.lr = lr;
    assert_ok(swiftmlp_set_optimizer(net, &o));
    return net;
}

static double current_lr(const swiftmlp_net *net)
{
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_get_optimizer(net, &o));
    return o.lr;
}

static uint64_t steps_of(const swiftmlp_net *net)
{
    uint64_t t = 0;
    assert_ok(swiftmlp_get_step_count(net, &t));
    return t;
}

/* ---- defaults ----------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    swiftmlp_fit_options o;
    memset(&o, 0xA5, sizeof o);
    assert_ok(swiftmlp_fit_options_default(&o));
    assert_int_equal(o.lr_schedule, SWIFTMLP_LR_CONSTANT);
    assert_true(o.power_t == 0.5 && o.lr_tol == 1e-4 && o.gamma == 0.1 && o.eta_min == 0.0);
    assert_int_equal(o.n_iter_no_change, 10);
    assert_int_equal(o.step_size, 1);
    assert_int_equal(o.t_max, 1);
    assert_null(o.sample_weight);
    assert_int_equal(o.sample_weight_len, 0);
    for (int k = SWIFTMLP_OPT_SGD; k <= SWIFTMLP_OPT_ADAMW; k++) {
        swiftmlp_optimizer opt;
        memset(&opt, 0xA5, sizeof opt);
        assert_ok(swiftmlp_optimizer_default((swiftmlp_optimizer_kind)k, &opt));
        assert_true(opt.max_grad_norm == 0.0);
    }
    /* the pinned values */
    assert_int_equal(SWIFTMLP_LR_CONSTANT, 0);
    assert_int_equal(SWIFTMLP_LR_INVSCALING, 1);
    assert_int_equal(SWIFTMLP_LR_ADAPTIVE, 2);
    assert_int_equal(SWIFTMLP_LR_STEP, 3);
    assert_int_equal(SWIFTMLP_LR_COSINE, 4);
}

/* ---- swiftmlp_set_learning_rate ------------------------------------------ */

static void test_set_learning_rate_keeps_the_state(void **state)
{
    (void)state;
    /* Per optimizer kind with state: a takes 2 steps, set_learning_rate to
     * the SAME lr, 1 more; c takes 3 steps untouched: the same bits (the
     * moments/momentum and t were kept). b does the same as a through
     * set_optimizer (fresh state): other bits. And a new lr is used: d,
     * with set_learning_rate(lr / 5), differs from c. */
    const swiftmlp_optimizer_kind kinds[] = {SWIFTMLP_OPT_SGD, SWIFTMLP_OPT_ADAM, SWIFTMLP_OPT_ADAMW};
    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        swiftmlp_net *nets[4];
        for (int i = 0; i < 4; i++) {
            nets[i] = net_with(kinds[k], 0.01);
            if (kinds[k] == SWIFTMLP_OPT_SGD) {
                swiftmlp_optimizer o;
                assert_ok(swiftmlp_get_optimizer(nets[i], &o));
                o.momentum = 0.9;
                assert_ok(swiftmlp_set_optimizer(nets[i], &o));
            }
        }
        swiftmlp_net *a = nets[0], *b = nets[1], *c = nets[2], *d = nets[3];
        for (int step = 0; step < 3; step++) {
            if (step == 2) {
                assert_ok(swiftmlp_set_learning_rate(a, 0.01));
                assert_last_error_empty();
                assert_ok(swiftmlp_set_learning_rate(d, 0.002));
                swiftmlp_optimizer o;
                assert_ok(swiftmlp_get_optimizer(b, &o));
                assert_ok(swiftmlp_set_optimizer(b, &o));
                assert_int_equal(steps_of(a), 2);
                assert_int_equal(steps_of(b), 0);
                assert_true(current_lr(a) == 0.01 && current_lr(d) == 0.002);
            }
            for (int i = 0; i < 4; i++) {
                assert_ok(swiftmlp_train_step(nets[i], SWIFTMLP_FLOAT64, g_x + step * N0, 4 * N0,
                                              g_y + step * N2, 4 * N2, 4, NULL));
            }
        }
        assert_int_equal(steps_of(a), 3);
        snapshot pa = snapshot_params(a), pb = snapshot_params(b), pc = snapshot_params(c),
                 pd = snapshot_params(d);
        assert_same_snapshot(pa, pc, "a set_learning_rate to the same lr");
        assert_int_not_equal(memcmp(pa.data, pb.data, pa.bytes), 0);
        assert_int_not_equal(memcmp(pa.data, pd.data, pa.bytes), 0);
        snapshot_free(&pa);
        snapshot_free(&pb);
        snapshot_free(&pc);
        snapshot_free(&pd);
        for (int i = 0; i < 4; i++) swiftmlp_free(nets[i]);
    }
}

static void test_set_learning_rate_bad_values(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 5);
    assert_fails_unchanged(net, swiftmlp_set_learning_rate(net, 0.1), SWIFTMLP_ERR_STATE);
    assert_fails(swiftmlp_set_learning_rate(NULL, 0.1), SWIFTMLP_ERR_NULL_POINTER);
    swiftmlp_free(net);
    net = net_with(SWIFTMLP_OPT_SGD, 0.05);
    assert_ok(swiftmlp_train_step(net, SWIFTMLP_FLOAT64, g_x, 4 * N0, g_y, 4 * N2, 4, NULL));
    const double bad[] = {0.0, -0.0, -1e-3, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        assert_fails_naming(net, swiftmlp_set_learning_rate(net, bad[i]), SWIFTMLP_ERR_INVALID_ARGUMENT,
                            "learning rate");
        assert_true(current_lr(net) == 0.05);
        assert_int_equal(steps_of(net), 1);
    }
    swiftmlp_free(net);
}

/* ---- schedules -------------------------------------------------------------- */

typedef struct rates {
    double lr[64];
    size_t n;
    int batch_nan[64]; /* per epoch: a batch reported a NaN batch_loss */
} rates;

static int record_rates(const swiftmlp_progress *p, void *user)
{
    rates *r = user;
    if (p->epoch_end) {
        r->lr[r->n++] = p->lr;
    } else if (isnan(p->batch_loss)) {
        r->batch_nan[p->epoch] = 1;
    }
    return 0;
}

static void fit_recording(swiftmlp_net *net, swiftmlp_fit_options *o, rates *r, swiftmlp_fit_result *res)
{
    memset(r, 0, sizeof *r);
    o->progress = record_rates;
    o->user_data = r;
    assert_ok(swiftmlp_fit(net, SWIFTMLP_FLOAT64, g_x, ROWS * N0, g_y, ROWS * N2, ROWS, o, res));
}

static void test_closed_form_schedules(void **state)
{
    (void)state;
    const double lr0 = 0.1;
    enum { EPOCHS = 9 };
    for (int which = 0; which < 4; which++) {
        swiftmlp_net *net = net_with(SWIFTMLP_OPT_SGD, lr0);
        swiftmlp_fit_options o;
        assert_ok(swiftmlp_fit_options_default(&o));
        o.epochs = EPOCHS;
        o.batch_size = 5;
        o.lr_schedule = which == 0 ? SWIFTMLP_LR_CONSTANT : which == 1 ? SWIFTMLP_LR_INVSCALING
                      : which == 2 ? SWIFTMLP_LR_STEP : SWIFTMLP_LR_COSINE;
        o.power_t = 0.25;
        o.step_size = 2;
        o.gamma = 0.5;
        o.t_max = 4;
        o.eta_min = 0.01;
        rates r;
        swiftmlp_fit_result res;
        fit_recording(net, &o, &r, &res);
        assert_int_equal(r.n, EPOCHS);
        for (size_t e = 0; e < EPOCHS; e++) {
            double expected = which == 0 ? lr0
                            : which == 1 ? lr0 / pow((double)(e * ROWS) + 1, 0.25)
                            : which == 2 ? lr0 * pow(0.5, (double)(e / 2))
                            : 0.01 + (lr0 - 0.01) * (1 + cos(3.14159265358979323846 * (double)e / 4)) / 2;
            assert_true(r.lr[e] == expected);
        }
        assert_true(current_lr(net) == lr0); /* fit ends with lr0 again */
        assert_int_equal(steps_of(net), EPOCHS * 3);
        swiftmlp_free(net);
    }
}

/* The schedules' size_t fields over their whole range: 2^31 ... SIZE_MAX
 * mean "never" (as every size_t from 2^63 up means what 2^63 - 1 means):
 * the step schedule never steps, adaptive never runs out of patience, and
 * cosine's period is so long that lr0 stays (to rounding). */
static void test_size_range_schedules(void **state)
{
    (void)state;
    const size_t values[] = {(size_t)1 << 31, (size_t)1 << 32, ((size_t)1 << 63) - 1, (size_t)1 << 63, SIZE_MAX};
    const double lr0 = 0.1;
    for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
        for (int which = 0; which < 3; which++) {
            swiftmlp_net *net = net_with(SWIFTMLP_OPT_SGD, lr0);
            swiftmlp_fit_options o;
            assert_ok(swiftmlp_fit_options_default(&o));
            o.epochs = 3;
            o.batch_size = 5;
            o.lr_schedule = which == 0 ? SWIFTMLP_LR_STEP : which == 1 ? SWIFTMLP_LR_ADAPTIVE : SWIFTMLP_LR_COSINE;
            o.lr_tol = 1e9; /* adaptive: no epoch improves */
            o.step_size = o.n_iter_no_change = o.t_max = values[v];
            rates r;
            swiftmlp_fit_result res;
            fit_recording(net, &o, &r, &res);
            assert_int_equal(r.n, 3);
            for (size_t e = 0; e < 3; e++)
                if (!(fabs(r.lr[e] - lr0) <= 1e-15 * lr0))
                    fail_msg("schedule %d, size %zu: epoch %zu's lr is %.17g", which, values[v], e, r.lr[e]);
            swiftmlp_free(net);
        }
    }
}

static void test_adaptive_stops_at_the_floor(void **state)
{
    (void)state;
    swiftmlp_net *net = net_with(SWIFTMLP_OPT_SGD, 1e-5);
    swiftmlp_fit_options o;
    assert_ok(swiftmlp_fit_options_default(&o));
    o.epochs = 50;
    o.batch_size = 4;
    o.lr_schedule = SWIFTMLP_LR_ADAPTIVE;
    o.lr_tol = 1.0;            /* every epoch after the first: no improvement */
    o.n_iter_no_change = 1;    /* so a trigger every second epoch */
    rates r;
    swiftmlp_fit_result res;
    fit_recording(net, &o, &r, &res);
    const double expected[] = {1e-5, 1e-5, 1e-5, 1e-5 / 5, 1e-5 / 5, 1e-5 / 5 / 5, 1e-5 / 5 / 5};
    assert_int_equal(res.epochs_run, 7);
    assert_int_equal(r.n, 7);
    assert_true(res.stopped_early);
    for (size_t e = 0; e < 7; e++) assert_true(r.lr[e] == expected[e]);
    assert_true(current_lr(net) == 1e-5);
    swiftmlp_free(net);
}

static void test_bad_schedules_change_nothing(void **state)
{
    (void)state;
    swiftmlp_net *net = net_with(SWIFTMLP_OPT_ADAM, 0.01);
    assert_ok(swiftmlp_train_step(net, SWIFTMLP_FLOAT64, g_x, 4 * N0, g_y, 4 * N2, 4, NULL));
    swiftmlp_fit_options base;
    assert_ok(swiftmlp_fit_options_default(&base));
    base.epochs = 2;
    struct { int schedule; const char *field; double value; } bad[] = {
        {99, "", 0}, {-1, "", 0},
        {SWIFTMLP_LR_INVSCALING, "power_t", -0.5}, {SWIFTMLP_LR_INVSCALING, "power_t", NAN},
        {SWIFTMLP_LR_INVSCALING, "power_t", INFINITY},
        {SWIFTMLP_LR_ADAPTIVE, "lr_tol", -1e-4}, {SWIFTMLP_LR_ADAPTIVE, "lr_tol", NAN},
        {SWIFTMLP_LR_ADAPTIVE, "n_iter_no_change", 0},
        {SWIFTMLP_LR_STEP, "step_size", 0},
        {SWIFTMLP_LR_STEP, "gamma", 0.0}, {SWIFTMLP_LR_STEP, "gamma", 1.5},
        {SWIFTMLP_LR_STEP, "gamma", -0.5}, {SWIFTMLP_LR_STEP, "gamma", NAN},
        {SWIFTMLP_LR_COSINE, "t_max", 0},
        {SWIFTMLP_LR_COSINE, "eta_min", -1e-3}, {SWIFTMLP_LR_COSINE, "eta_min", INFINITY},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        swiftmlp_fit_options o = base;
        o.lr_schedule = (swiftmlp_lr_schedule)bad[i].schedule;
        const char *f = bad[i].field;
        double v = bad[i].value;
        if (!strcmp(f, "power_t")) o.power_t = v;
        if (!strcmp(f, "lr_tol")) o.lr_tol = v;
        if (!strcmp(f, "gamma")) o.gamma = v;
        if (!strcmp(f, "eta_min")) o.eta_min = v;
        /* (SIZE_MAX in these is "no limit", as every size_t: test_size_range_schedules) */
        if (!strcmp(f, "n_iter_no_change")) o.n_iter_no_change = (size_t)v;
        if (!strcmp(f, "step_size")) o.step_size = (size_t)v;
        if (!strcmp(f, "t_max")) o.t_max = (size_t)v;
        assert_fails_naming(net, swiftmlp_fit(net, SWIFTMLP_FLOAT64, g_x, ROWS * N0, g_y, ROWS * N2,
                                              ROWS, &o, NULL),
                            SWIFTMLP_ERR_INVALID_ARGUMENT, *f ? f : "lr_schedule");
        assert_int_equal(steps_of(net), 1);
        assert_true(current_lr(net) == 0.01);
    }
    /* a bad parameter of a schedule not chosen is not read */
    swiftmlp_fit_options o = base;
    o.lr_schedule = SWIFTMLP_LR_STEP;
    o.t_max = 0;
    o.power_t = NAN;
    assert_ok(swiftmlp_fit(net, SWIFTMLP_FLOAT64, g_x, ROWS * N0, g_y, ROWS * N2, ROWS, &o, NULL));
    swiftmlp_free(net);
}

/* ---- sample weights ----------------------------------------------------------- */

static void test_bad_sample_weights_change_nothing(void **state)
{
    (void)state;
    swiftmlp_net *net = net_with(SWIFTMLP_OPT_SGD, 0.1);
    assert_ok(swiftmlp_train_step(net, SWIFTMLP_FLOAT64, g_x, 4 * N0, g_y, 4 * N2, 4, NULL));
    double w[ROWS];
    swiftmlp_fit_options o;
    assert_ok(swiftmlp_fit_options_default(&o));
#define FIT_FAILS(expected)                                                                              \
    do {                                                                                                 \
        assert_fails_naming(net, swiftmlp_fit(net, SWIFTMLP_FLOAT64, g_x, ROWS * N0, g_y, ROWS * N2,    \
                                              ROWS, &o, NULL), (expected), "sample_weight");             \
        assert_int_equal(steps_of(net), 1);                                                              \
    } while (0)
    o.sample_weight = NULL;
    o.sample_weight_len = ROWS;
    FIT_FAILS(SWIFTMLP_ERR_NULL_POINTER);
    for (size_t i = 0; i < ROWS; i++) w[i] = 1.0;
    o.sample_weight = w;
    o.sample_weight_len = ROWS - 1;
    FIT_FAILS(SWIFTMLP_ERR_BUFFER_SIZE);
    o.sample_weight_len = SIZE_MAX;
    FIT_FAILS(SWIFTMLP_ERR_BUFFER_SIZE);
    o.sample_weight_len = ROWS;
    w[7] = -1e-9;
    FIT_FAILS(SWIFTMLP_ERR_INVALID_ARGUMENT);
    w[7] = NAN;
    FIT_FAILS(SWIFTMLP_ERR_NON_FINITE);
    w[7] = INFINITY;
    FIT_FAILS(SWIFTMLP_ERR_NON_FINITE);
    for (size_t i = 0; i < ROWS; i++) w[i] = 0.0;
    FIT_FAILS(SWIFTMLP_ERR_INVALID_ARGUMENT);
#undef FIT_FAILS
    swiftmlp_free(net);
}

static void test_a_batch_that_weighs_nothing_takes_no_step(void **state)
{
    (void)state;
    /* batches of 4 without shuffling: rows 0..3 weigh 0, rows 4..11 weigh 1.
     * The first batch takes no step (batch_loss NaN); the network then
     * equals one trained on rows 4..11 alone (to rounding: weighted and
     * plain losses sum in different orders). */
    swiftmlp_net *a = net_with(SWIFTMLP_OPT_ADAM, 0.01), *b = net_with(SWIFTMLP_OPT_ADAM, 0.01);
    double w[ROWS];
    for (size_t i = 0; i < ROWS; i++) w[i] = i < 4 ? 0.0 : 1.0;
    swiftmlp_fit_options o;
    assert_ok(swiftmlp_fit_options_default(&o));
    o.epochs = 3;
    o.batch_size = 4;
    o.shuffle = 0;
    o.sample_weight = w;
    o.sample_weight_len = ROWS;
    rates r;
    swiftmlp_fit_result ra, rb;
    fit_recording(a, &o, &r, &ra);
    for (size_t e = 0; e < 3; e++) assert_true(r.batch_nan[e]);
    assert_int_equal(steps_of(a), 6);
    swiftmlp_fit_options ob;
    assert_ok(swiftmlp_fit_options_default(&ob));
    ob.epochs = 3;
    ob.batch_size = 4;
    ob.shuffle = 0;
    assert_ok(swiftmlp_fit(b, SWIFTMLP_FLOAT64, g_x + 4 * N0, 8 * N0, g_y + 4 * N2, 8 * N2, 8, &ob, &rb));
    double pa[NPARAMS], pb[NPARAMS];
    assert_ok(swiftmlp_get_params(a, SWIFTMLP_FLOAT64, pa, NPARAMS));
    assert_ok(swiftmlp_get_params(b, SWIFTMLP_FLOAT64, pb, NPARAMS));
    for (size_t i = 0; i < NPARAMS; i++) assert_close(pa[i], pb[i], 1e-13, 1e-15);
    /* the epoch's loss is the mean over the trained rows */
    assert_close(ra.final_train_loss, rb.final_train_loss, 1e-14, 0);
    swiftmlp_free(a);
    swiftmlp_free(b);
}

static void test_float32_weights(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT32, 5);
    set_default_optimizer(net, SWIFTMLP_OPT_SGD);
    float x[ROWS * N0], y[ROWS * N2], w[ROWS];
    for (size_t i = 0; i < ROWS * N0; i++) x[i] = (float)g_x[i];
    for (size_t i = 0; i < ROWS * N2; i++) y[i] = (float)g_y[i];
    for (size_t i = 0; i < ROWS; i++) w[i] = (float)(i % 3);
    swiftmlp_fit_options o;
    assert_ok(swiftmlp_fit_options_default(&o));
    o.sample_weight = w;
    o.sample_weight_len = ROWS;
    assert_ok(swiftmlp_fit(net, SWIFTMLP_FLOAT32, x, ROWS * N0, y, ROWS * N2, ROWS, &o, NULL));
    w[2] = NAN;
    assert_fails_unchanged(net, swiftmlp_fit(net, SWIFTMLP_FLOAT32, x, ROWS * N0, y, ROWS * N2, ROWS, &o, NULL),
                           SWIFTMLP_ERR_NON_FINITE);
    swiftmlp_free(net);
}

/* ---- gradient clipping ---------------------------------------------------------- */

static void test_max_grad_norm_values(void **state)
{
    (void)state;
    swiftmlp_net *net = net_with(SWIFTMLP_OPT_SGD, 0.1);
    const double bad[] = {-1e-3, NAN, INFINITY, -INFINITY};
    for (int k = SWIFTMLP_OPT_SGD; k <= SWIFTMLP_OPT_ADAMW; k++) {
        for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
            swiftmlp_optimizer o;
            assert_ok(swiftmlp_optimizer_default((swiftmlp_optimizer_kind)k, &o));
            o.max_grad_norm = bad[i];
            assert_fails_naming(net, swiftmlp_set_optimizer(net, &o), SWIFTMLP_ERR_INVALID_ARGUMENT,
                                "max grad norm");
            swiftmlp_optimizer now;
            assert_ok(swiftmlp_get_optimizer(net, &now));
            assert_int_equal(now.kind, SWIFTMLP_OPT_SGD);
        }
    }
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAMW, &o));
    o.max_grad_norm = 0.75;
    assert_ok(swiftmlp_set_optimizer(net, &o));
    swiftmlp_optimizer back;
    assert_ok(swiftmlp_get_optimizer(net, &back));
    assert_true(back.max_grad_norm == 0.75);
    /* saved and loaded */
    swiftmlp_net *loaded = reload_via_buffer(net);
    assert_ok(swiftmlp_get_optimizer(loaded, &back));
    assert_true(back.max_grad_norm == 0.75);
    swiftmlp_free(loaded);
    swiftmlp_free(net);
}

static void test_clipping_formula(void **state)
{
    (void)state;
    /* SGD lr 1 with max_grad_norm 1e-3: p' = p - coef * g with
     * coef = 1e-3 / (||g|| + 1e-6); the held gradients stay g. swiftmlp_step,
     * the slides' plain step, does not clip. */
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 9);
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o));
    o.lr = 1.0;
    o.max_grad_norm = 1e-3;
    assert_ok(swiftmlp_set_optimizer(net, &o));
    double out[ROWS * N2], p[NPARAMS], g[NPARAMS], after[NPARAMS], g_after[NPARAMS];
    for (int plain = 0; plain < 2; plain++) {
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, g_x, ROWS * N0, ROWS, out, ROWS * N2));
        assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, g_y, ROWS * N2, ROWS, NULL));
        assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, p, NPARAMS));
        assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, g, NPARAMS));
        double total = 0;
        for (size_t i = 0; i < NPARAMS; i++) total += g[i] * g[i];
        total = sqrt(total);
        assert_true(total > 1e-2); /* so the clip applies */
        double coef = plain ? 1.0 : 1e-3 / (total + 1e-6);
        assert_ok(plain ? swiftmlp_step(net, 1.0) : swiftmlp_optimizer_step(net));
        assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, after, NPARAMS));
        assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, g_after, NPARAMS));
        for (size_t i = 0; i < NPARAMS; i++) {
            assert_close(after[i], p[i] - coef * g[i], 1e-15, 1e-17);
            assert_true(g_after[i] == g[i]);
        }
    }
    swiftmlp_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_learning_rate_keeps_the_state),
        cmocka_unit_test(test_set_learning_rate_bad_values),
        cmocka_unit_test(test_closed_form_schedules),
        cmocka_unit_test(test_size_range_schedules),
        cmocka_unit_test(test_adaptive_stops_at_the_floor),
        cmocka_unit_test(test_bad_schedules_change_nothing),
        cmocka_unit_test(test_bad_sample_weights_change_nothing),
        cmocka_unit_test(test_a_batch_that_weighs_nothing_takes_no_step),
        cmocka_unit_test(test_float32_weights),
        cmocka_unit_test(test_max_grad_norm_values),
        cmocka_unit_test(test_clipping_formula),
    };
    return cmocka_run_group_tests(tests, setup_data, NULL);
}
