/*
 * test_optimizers.c — swiftmlp_optimizer_default, set/get/reset_optimizer,
 * swiftmlp_get_step_count and swiftmlp_optimizer_step.
 *
 * The update tests reimplement the header's formulas step by step in the
 * test (own m / v / momentum buffers, gradients read with get_grads after
 * each backward) and compare the network's parameters after each of K = 3
 * steps with relative tolerance 1e-12 (plus 1e-15 absolute for values that
 * happen to be near 0).
 */
#include "test_util.h"


enum { N0 = 3, N1 = 4, N2 = 2, B = 4, NPARAMS = N1 * N0 + N1 + N2 * N1 + N2 };
static const size_t k_sizes[] = {N0, N1, N2};
enum { K = 3 };

typedef struct data {
    double x[B * N0], y[B * N2];
    float x32[B * N0], y32[B * N2];
} data;

static data make_data(void)
{
    data d;
    uint64_t rng = 2024;
    for (size_t i = 0; i < B * N0; i++) {
        d.x32[i] = (float)rand_uniform(&rng, -2.0, 2.0);
        d.x[i] = d.x32[i];
    }
    for (size_t i = 0; i < B * N2; i++) {
        d.y32[i] = (float)rand_uniform(&rng, 0.0, 1.0);
        d.y[i] = d.y32[i];
    }
    return d;
}

static swiftmlp_optimizer opt_default(swiftmlp_optimizer_kind kind)
{
    swiftmlp_optimizer o;
    memset(&o, 0xA5, sizeof o);
    assert_ok(swiftmlp_optimizer_default(kind, &o));
    return o;
}

static swiftmlp_optimizer sgd_with(double lr, double momentum, int nesterov, double wd)
{
    swiftmlp_optimizer o = opt_default(SWIFTMLP_OPT_SGD);
    o.lr = lr;
    o.momentum = momentum;
    o.nesterov = nesterov;
    o.weight_decay = wd;
    return o;
}

static swiftmlp_optimizer adam_with(swiftmlp_optimizer_kind kind, double lr, double b1, double b2,
                                    double eps, double wd)
{
    swiftmlp_optimizer o = opt_default(kind);
    o.lr = lr;
    o.beta1 = b1;
    o.beta2 = b2;
    o.eps = eps;
    o.weight_decay = wd;
    return o;
}

static void assert_same_optimizer(const swiftmlp_optimizer *a, const swiftmlp_optimizer *b)
{
    assert_int_equal(a->struct_size, b->struct_size);
    assert_int_equal(a->kind, b->kind);
    assert_true(a->lr == b->lr);
    assert_true(a->momentum == b->momentum);
    assert_true((a->nesterov != 0) == (b->nesterov != 0));
    assert_true(a->beta1 == b->beta1);
    assert_true(a->beta2 == b->beta2);
    assert_true(a->eps == b->eps);
    assert_true(a->weight_decay == b->weight_decay);
}

/* ======================================================================== */
/* the reference implementation of the documented formulas                  */
/* ======================================================================== */

typedef struct reference {
    swiftmlp_optimizer o;
    uint64_t t;
    double m[NPARAMS], v[NPARAMS], buf[NPARAMS];
} reference;

static void reference_init(reference *r, const swiftmlp_optimizer *o)
{
    memset(r, 0, sizeof *r);
    r->o = *o;
}

static void reference_step(reference *r, double *p, const double *dp)
{
    const swiftmlp_optimizer *o = &r->o;
    r->t++;
    const double t = (double)r->t;
    for (size_t i = 0; i < NPARAMS; i++) {
        switch (o->kind) {
        case SWIFTMLP_OPT_SGD: {
            double d = dp[i] + o->weight_decay * p[i];
            if (o->momentum > 0) {
                r->buf[i] = o->momentum * r->buf[i] + d;
                d = o->nesterov ? d + o->momentum * r->buf[i] : r->buf[i];
            }
            p[i] -= o->lr * d;
            break;
        }
        case SWIFTMLP_OPT_ADAM:
        case SWIFTMLP_OPT_ADAMW: {
            double d;
            if (o->kind == SWIFTMLP_OPT_ADAMW) {
                p[i] *= 1.0 - o->lr * o->weight_decay;
                d = dp[i];
            } else {
                d = dp[i] + o->weight_decay * p[i];
            }
            r->m[i] = o->beta1 * r->m[i] + (1.0 - o->beta1) * d;
            r->v[i] = o->beta2 * r->v[i] + (1.0 - o->beta2) * d * d;
            const double mhat = r->m[i] / (1.0 - pow(o->beta1, t));
            const double vhat = r->v[i] / (1.0 - pow(o->beta2, t));
            p[i] -= o->lr * mhat / (sqrt(vhat) + o->eps);
            break;
        }
        }
    }
}

/* forward + backward on the fixed batch, then the gradients (float64). */
static void forward_backward(swiftmlp_net *net, const data *d, double *dp)
{
    double out[B * N2];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, d->x, B * N0, B, out, B * N2));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, d->y, B * N2, B, NULL));
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, dp, NPARAMS));
}

/* K steps of the library against K steps of the reference. */
static void check_k_steps(swiftmlp_net *net, reference *ref, double *p, const data *d, const char *what)
{
    const uint64_t t0 = step_count(net);
    for (size_t k = 0; k < K; k++) {
        double dp[NPARAMS], got[NPARAMS];
        forward_backward(net, d, dp);
        reference_step(ref, p, dp);
        assert_ok(swiftmlp_optimizer_step(net));
        assert_last_error_empty();
        assert_true(step_count(net) == t0 + k + 1);
        assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, got, NPARAMS));
        for (size_t i = 0; i < NPARAMS; i++) {
            if (!(fabs(got[i] - p[i]) <= 1e-15 + 1e-12 * fabs(p[i]))) {
                print_error("%s, step %zu, param %zu: library %.17g, formula %.17g\n", what, k + 1,
                            i, got[i], p[i]);
                fail();
            }
        }
    }
}

static void check_optimizer_matches_formulas(const swiftmlp_optimizer *o, const char *what)
{
    const data d = make_data();
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    double p[NPARAMS];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, p, NPARAMS));
    assert_ok(swiftmlp_set_optimizer(net, o));
    assert_true(step_count(net) == 0);
    reference ref;
    reference_init(&ref, o);
    check_k_steps(net, &ref, p, &d, what);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* defaults and round trips                                                 */
/* ======================================================================== */

/* swiftmlp_optimizer_default(kind) gives exactly these fields, with nesterov
 * 0 and max_grad_norm 0 (off); NAN marks a field the kind does not use
 * (not compared). */
static void check_default(swiftmlp_optimizer_kind kind, double lr, double momentum, double beta1,
                          double beta2, double eps, double weight_decay)
{
    const swiftmlp_optimizer o = opt_default(kind);
    assert_last_error_empty();
    assert_int_equal(o.struct_size, sizeof(swiftmlp_optimizer));
    assert_int_equal(o.kind, kind);
    const double got[] = {o.lr, o.momentum, o.beta1, o.beta2, o.eps, o.weight_decay};
    const double want[] = {lr, momentum, beta1, beta2, eps, weight_decay};
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        assert_true(isnan(want[i]) || got[i] == want[i]);
    }
    assert_int_equal(o.nesterov, 0);
    assert_true(o.max_grad_norm == 0.0);
}

TEST_CALLING(test_optimizer_default_sgd_is_lr_0_01_without_momentum_or_decay,
             check_default(SWIFTMLP_OPT_SGD, 0.01, 0.0, NAN, NAN, NAN, 0.0))
TEST_CALLING(test_optimizer_default_adam_is_lr_1e_3_betas_0_9_0_999_eps_1e_8_no_decay,
             check_default(SWIFTMLP_OPT_ADAM, 1e-3, NAN, 0.9, 0.999, 1e-8, 0.0))
TEST_CALLING(test_optimizer_default_adamw_is_adam_with_weight_decay_0_01,
             check_default(SWIFTMLP_OPT_ADAMW, 1e-3, NAN, 0.9, 0.999, 1e-8, 0.01))

static void test_every_default_optimizer_is_accepted_by_set_optimizer(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 1);
    const swiftmlp_optimizer_kind kinds[] = {SWIFTMLP_OPT_SGD, SWIFTMLP_OPT_ADAM, SWIFTMLP_OPT_ADAMW};
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
        swiftmlp_optimizer o = opt_default(kinds[i]), got;
        assert_ok(swiftmlp_set_optimizer(net, &o));
        assert_ok(swiftmlp_get_optimizer(net, &got));
        assert_same_optimizer(&got, &o);
    }
    swiftmlp_free(net);
}

static void test_set_then_get_optimizer_round_trips_every_field(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT32, 1);
    swiftmlp_optimizer cases[6];
    cases[0] = opt_default(SWIFTMLP_OPT_SGD);
    cases[0].lr = 0.125;
    cases[1] = cases[0];
    cases[1].momentum = 0.9;
    cases[2] = cases[1];
    cases[2].nesterov = 1;
    cases[2].weight_decay = 3e-4;
    cases[3] = opt_default(SWIFTMLP_OPT_ADAM);
    cases[3].lr = 0.02;
    cases[3].beta1 = 0.8;
    cases[3].beta2 = 0.95;
    cases[3].eps = 1e-6;
    cases[3].weight_decay = 0.5;
    cases[4] = opt_default(SWIFTMLP_OPT_ADAMW);
    cases[4].lr = 1e-4;
    cases[4].weight_decay = 0.0;
    cases[5] = cases[4];
    cases[5].weight_decay = 2.0;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        swiftmlp_optimizer got;
        memset(&got, 0, sizeof got);
        assert_ok(swiftmlp_set_optimizer(net, &cases[i]));
        assert_last_error_empty();
        assert_ok(swiftmlp_get_optimizer(net, &got));
        assert_same_optimizer(&got, &cases[i]);
        assert_true(step_count(net) == 0);
    }
    swiftmlp_free(net);
}

static void test_step_count_is_zero_without_optimizer(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 1);
    assert_true(step_count(net) == 0);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* updates equal the documented formulas                                    */
/* ======================================================================== */

/* One test per row: the optimizer opt_default(kind) with the fields `set`
 * changes, three steps against the reference formulas. */
#define FORMULA_CASES(X)                                                                           \
    X(sgd_plain, SGD, "sgd", (o.lr = 0.5))                                                        \
    X(sgd_momentum, SGD, "sgd momentum", (o.lr = 0.3, o.momentum = 0.9))                          \
    X(sgd_nesterov, SGD, "sgd nesterov", (o.lr = 0.3, o.momentum = 0.8, o.nesterov = 1))          \
    X(sgd_weight_decay, SGD, "sgd weight decay", (o.lr = 0.4, o.weight_decay = 0.05))             \
    X(sgd_nesterov_with_weight_decay, SGD, "sgd nesterov + weight decay",                         \
      (o.lr = 0.2, o.momentum = 0.5, o.nesterov = 1, o.weight_decay = 0.1))                       \
    X(adam, ADAM, "adam", (o.lr = 0.01))                                                          \
    X(adam_with_l2_weight_decay_and_custom_betas, ADAM, "adam + L2",                              \
      (o.lr = 0.05, o.beta1 = 0.7, o.beta2 = 0.9, o.eps = 1e-3, o.weight_decay = 0.2))            \
    X(adamw, ADAMW, "adamw", (o.lr = 0.01, o.weight_decay = 0.1))                                 \
    X(adamw_default, ADAMW, "adamw default", (void)0)

#define FORMULA_TEST(id, kind, what, set)                                 \
    static void test_##id##_three_steps_match_formula(void **state)       \
    {                                                                     \
        (void)state;                                                      \
        swiftmlp_optimizer o = opt_default(SWIFTMLP_OPT_##kind);          \
        set;                                                              \
        check_optimizer_matches_formulas(&o, what);                       \
    }
FORMULA_CASES(FORMULA_TEST)
#define FORMULA_T(id, kind, what, set) T(test_##id##_three_steps_match_formula),

/* Adam's and AdamW's weight decay differ (L2 in the gradient vs decoupled). */
static void test_adam_l2_and_adamw_decoupled_decay_give_different_parameters(void **state)
{
    (void)state;
    const data d = make_data();
    swiftmlp_net *a = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    swiftmlp_net *w = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    swiftmlp_optimizer oa = opt_default(SWIFTMLP_OPT_ADAM), ow = opt_default(SWIFTMLP_OPT_ADAMW);
    oa.weight_decay = ow.weight_decay = 0.5;
    oa.lr = ow.lr = 0.01;
    assert_ok(swiftmlp_set_optimizer(a, &oa));
    assert_ok(swiftmlp_set_optimizer(w, &ow));
    double dp[NPARAMS];
    forward_backward(a, &d, dp);
    forward_backward(w, &d, dp);
    assert_ok(swiftmlp_optimizer_step(a));
    assert_ok(swiftmlp_optimizer_step(w));
    assert_params_differ(a, w);
    swiftmlp_free(a);
    swiftmlp_free(w);
}

/* Plain SGD through the optimizer is exactly swiftmlp_step. */
static void test_sgd_without_momentum_or_decay_equals_swiftmlp_step_bit_for_bit(void **state)
{
    (void)state;
    const data d = make_data();
    swiftmlp_net *a = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    swiftmlp_net *b = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    swiftmlp_optimizer o = opt_default(SWIFTMLP_OPT_SGD);
    o.lr = 0.7;
    assert_ok(swiftmlp_set_optimizer(a, &o));
    double dp[NPARAMS];
    for (size_t k = 0; k < K; k++) {
        forward_backward(a, &d, dp);
        forward_backward(b, &d, dp);
        assert_ok(swiftmlp_optimizer_step(a));
        assert_ok(swiftmlp_step(b, 0.7));
    }
    assert_same_params_and_free(a, b, "parameters of optimizer SGD vs swiftmlp_step");
}

/* float32 networks apply the same formulas (in float): agreement to float precision. */
static void test_float32_adam_three_steps_match_formula_to_float_precision(void **state)
{
    (void)state;
    const data d = make_data();
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT32, 11);
    swiftmlp_optimizer o = opt_default(SWIFTMLP_OPT_ADAM);
    o.lr = 0.01;
    assert_ok(swiftmlp_set_optimizer(net, &o));
    reference ref;
    reference_init(&ref, &o);
    float p32[NPARAMS], g32[NPARAMS], out[B * N2];
    double p[NPARAMS], dp[NPARAMS];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT32, p32, NPARAMS));
    for (size_t i = 0; i < NPARAMS; i++) {
        p[i] = p32[i];
    }
    for (size_t k = 0; k < K; k++) {
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT32, d.x32, B * N0, B, out, B * N2));
        assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT32, d.y32, B * N2, B, NULL));
        assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT32, g32, NPARAMS));
        for (size_t i = 0; i < NPARAMS; i++) {
            dp[i] = g32[i];
        }
        reference_step(&ref, p, dp);
        assert_ok(swiftmlp_optimizer_step(net));
        assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT32, p32, NPARAMS));
        for (size_t i = 0; i < NPARAMS; i++) {
            assert_close(p32[i], p[i], 1e-5, 1e-6);
        }
    }
    swiftmlp_free(net);
}

/* ======================================================================== */
/* step count, reset, set again                                             */
/* ======================================================================== */

static void check_reset_gives_first_step(swiftmlp_optimizer o)
{
    const data d = make_data();
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    double p[NPARAMS];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, p, NPARAMS));
    assert_ok(swiftmlp_set_optimizer(net, &o));
    reference ref;
    reference_init(&ref, &o);
    check_k_steps(net, &ref, p, &d, "before reset");
    assert_true(step_count(net) == K);

    snapshot before = snapshot_params(net);
    assert_ok(swiftmlp_reset_optimizer(net));
    assert_last_error_empty();
    assert_true(step_count(net) == 0);
    snapshot after = snapshot_params(net);
    assert_same_snapshot(before, after, "parameters (reset touches only the optimizer)");
    swiftmlp_optimizer got;
    assert_ok(swiftmlp_get_optimizer(net, &got));
    assert_same_optimizer(&got, &o); /* hyperparameters kept */

    /* Fresh state: the next steps are first steps from the current parameters. */
    reference_init(&ref, &o);
    check_k_steps(net, &ref, p, &d, "after reset");
    assert_true(step_count(net) == K);

    /* set_optimizer also starts afresh. */
    assert_ok(swiftmlp_set_optimizer(net, &o));
    assert_true(step_count(net) == 0);
    reference_init(&ref, &o);
    check_k_steps(net, &ref, p, &d, "after set_optimizer again");
    snapshot_free(&before);
    snapshot_free(&after);
    swiftmlp_free(net);
}

TEST_CALLING(test_reset_optimizer_zeroes_adam_state_and_step_count,
             check_reset_gives_first_step(adam_with(SWIFTMLP_OPT_ADAM, 0.02, 0.9, 0.999, 1e-8, 0.0)))
TEST_CALLING(test_reset_optimizer_zeroes_sgd_momentum_buffer_and_step_count,
             check_reset_gives_first_step(sgd_with(0.3, 0.9, 1, 0.0)))
TEST_CALLING(test_reset_optimizer_zeroes_adamw_state_and_step_count,
             check_reset_gives_first_step(adam_with(SWIFTMLP_OPT_ADAMW, 0.02, 0.9, 0.999, 1e-8, 0.3)))

/* Changing the optimizer kind mid-way starts the new one from t = 0. */
static void test_switching_from_sgd_momentum_to_adam_starts_adam_fresh(void **state)
{
    (void)state;
    const data d = make_data();
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    double p[NPARAMS];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, p, NPARAMS));
    swiftmlp_optimizer sgd = opt_default(SWIFTMLP_OPT_SGD), adam = opt_default(SWIFTMLP_OPT_ADAM);
    sgd.momentum = 0.9;
    sgd.lr = 0.2;
    adam.lr = 0.01;
    reference ref;
    assert_ok(swiftmlp_set_optimizer(net, &sgd));
    reference_init(&ref, &sgd);
    check_k_steps(net, &ref, p, &d, "sgd before switching");
    assert_ok(swiftmlp_set_optimizer(net, &adam));
    assert_true(step_count(net) == 0);
    reference_init(&ref, &adam);
    check_k_steps(net, &ref, p, &d, "adam after switching");
    swiftmlp_free(net);
}

/* A float64 network (seed 11) with the default Adam, after a forward and
 * backward of d; its gradients in dp[NPARAMS]. */
static swiftmlp_net *adam_net_after_backward(const data *d, double *dp)
{
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    swiftmlp_optimizer o = opt_default(SWIFTMLP_OPT_ADAM);
    assert_ok(swiftmlp_set_optimizer(net, &o));
    forward_backward(net, d, dp);
    return net;
}

/* swiftmlp_step is plain SGD: it ignores the configured optimizer and does
 * not count as an optimizer step. */
static void test_plain_step_does_not_advance_optimizer_step_count(void **state)
{
    (void)state;
    const data d = make_data();
    double dp[NPARAMS], p[NPARAMS];
    swiftmlp_net *net = adam_net_after_backward(&d, dp);
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, p, NPARAMS));
    assert_ok(swiftmlp_step(net, 0.5));
    assert_true(step_count(net) == 0);
    assert_params_are_sgd_step(net, p, dp, 0.5, NPARAMS);
    swiftmlp_free(net);
}

/* optimizer_step invalidates the forward cache like swiftmlp_step. */
static void test_backward_after_optimizer_step_without_new_forward_returns_state_error(void **state)
{
    (void)state;
    const data d = make_data();
    double dp[NPARAMS];
    swiftmlp_net *net = adam_net_after_backward(&d, dp);
    assert_ok(swiftmlp_optimizer_step(net));
    assert_fails_unchanged(net, swiftmlp_backward(net, SWIFTMLP_FLOAT64, d.y, B * N2, B, NULL),
                           SWIFTMLP_ERR_STATE);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* invalid hyperparameters: INVALID_ARGUMENT, previous optimizer kept        */
/* ======================================================================== */

typedef struct fixture {
    swiftmlp_net *net;
    swiftmlp_optimizer previous; /* set, with one step taken */
    data d;
    swiftmlp_optimizer o; /* a row's optimizer argument */
    uint64_t t;           /* a row's step-count out-parameter */
    int keeps_previous;   /* net is still the one with `previous` (1 unless a row replaced it) */
    int then;             /* what must still work after the row's failing call (THEN_*) */
} fixture;

enum { THEN_NOTHING, THEN_BACKWARD, THEN_STEP };

static int opt_init(fixture *f)
{
    f->d = make_data();
    if (swiftmlp_create(k_sizes, 3, SWIFTMLP_FLOAT64, 5, &f->net) != SWIFTMLP_OK ||
        swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAM, &f->previous) != SWIFTMLP_OK) {
        return -1;
    }
    f->previous.lr = 0.005;
    f->previous.weight_decay = 0.25;
    double out[B * N2];
    if (swiftmlp_set_optimizer(f->net, &f->previous) != SWIFTMLP_OK ||
        swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->d.x, B * N0, B, out, B * N2) != SWIFTMLP_OK ||
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->d.y, B * N2, B, NULL) != SWIFTMLP_OK ||
        swiftmlp_optimizer_step(f->net) != SWIFTMLP_OK) {
        return -1;
    }
    f->keeps_previous = 1;
    return 0;
}

static void opt_fini(fixture *f)
{
    swiftmlp_free(f->net);
}

FIXTURE_FUNCTIONS(fixture, setup, teardown, opt_init, opt_fini)

#define FIXTURE fixture *f = *state

/* Fields a kind does not use must still be finite: they are read back and
 * saved (a NaN there once made a saved model unloadable; found by fuzz_api). */
static swiftmlp_optimizer with_unused(swiftmlp_optimizer_kind kind, double momentum, double eps)
{
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(kind, &o));
    o.momentum = momentum;
    o.eps = eps;
    return o;
}

/* A failed set keeps the previous optimizer's STATE too: the next step is
 * the second step of the previous optimizer, exactly like on a twin
 * network that never saw the failed call. */
static void test_failed_set_optimizer_keeps_previous_moments(void **state)
{
    FIXTURE;
    swiftmlp_net *twin = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 5);
    double out[B * N2];
    assert_ok(swiftmlp_set_optimizer(twin, &f->previous));
    assert_ok(swiftmlp_forward(twin, SWIFTMLP_FLOAT64, f->d.x, B * N0, B, out, B * N2));
    assert_ok(swiftmlp_backward(twin, SWIFTMLP_FLOAT64, f->d.y, B * N2, B, NULL));
    assert_ok(swiftmlp_optimizer_step(twin));

    swiftmlp_optimizer bad = opt_default(SWIFTMLP_OPT_ADAM);
    bad.beta1 = 1.0;
    assert_status(swiftmlp_set_optimizer(f->net, &bad), SWIFTMLP_ERR_INVALID_ARGUMENT);

    swiftmlp_net *nets[2] = {f->net, twin};
    for (size_t i = 0; i < 2; i++) {
        assert_ok(swiftmlp_forward(nets[i], SWIFTMLP_FLOAT64, f->d.x, B * N0, B, out, B * N2));
        assert_ok(swiftmlp_backward(nets[i], SWIFTMLP_FLOAT64, f->d.y, B * N2, B, NULL));
        assert_ok(swiftmlp_optimizer_step(nets[i]));
    }
    snapshot a = snapshot_params(f->net), b = snapshot_params(twin);
    assert_same_snapshot(a, b, "parameters after a failed set_optimizer");
    assert_true(step_count(f->net) == 2);
    snapshot_free(&a);
    snapshot_free(&b);
    swiftmlp_free(twin);
}

/* ---- the bad-input table --------------------------------------------------
 * Every row also keeps the network's parameters, gradients, cached rows and
 * step count; while the network is the fixture's, get_optimizer still gives
 * the previous optimizer; and what the row names still works afterwards (a
 * failed step keeps the forward cache and the gradients). */

#define BAD_CTX fixture

static swiftmlp_net *opt_net(void *f) { return ((fixture *)f)->net; }

static void opt_unchanged(void *fv, const char *name)
{
    fixture *f = fv;
    (void)name;
    if (f->keeps_previous) {
        swiftmlp_optimizer got;
        assert_ok(swiftmlp_get_optimizer(f->net, &got));
        assert_same_optimizer(&got, &f->previous);
        assert_true(step_count(f->net) == 1);
    }
    if (f->then == THEN_BACKWARD) {
        assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->d.y, B * N2, B, NULL));
    } else if (f->then == THEN_STEP) {
        assert_ok(swiftmlp_step(f->net, 0.1));
    }
}

static const bad_suite k_opt_suite = {setup, teardown, opt_net, opt_unchanged};

enum { RUN_NONE, RUN_FORWARD, RUN_FORWARD_BACKWARD };

/* Replace the fixture's network by a fresh one of dtype (seed 1) with
 * optimizer o (or none), run `run` on the fixture's data, and say what must
 * still work after the row's call. */
static void use_fresh(fixture *f, swiftmlp_dtype dtype, const swiftmlp_optimizer *o, int run, int then)
{
    swiftmlp_free(f->net);
    f->net = create_net(k_sizes, 3, dtype, 1);
    f->keeps_previous = 0;
    f->then = then;
    if (o != NULL) {
        assert_ok(swiftmlp_set_optimizer(f->net, o));
    }
    const int f32 = dtype == SWIFTMLP_FLOAT32;
    double out[B * N2];
    if (run != RUN_NONE) {
        assert_ok(swiftmlp_forward(f->net, dtype, f32 ? (void *)f->d.x32 : (void *)f->d.x, B * N0, B, out, B * N2));
    }
    if (run == RUN_FORWARD_BACKWARD) {
        assert_ok(swiftmlp_backward(f->net, dtype, f32 ? (void *)f->d.y32 : (void *)f->d.y, B * N2, B, NULL));
    }
}

static swiftmlp_optimizer with_kind(swiftmlp_optimizer_kind base, int kind)
{
    swiftmlp_optimizer o = opt_default(base);
    o.kind = (swiftmlp_optimizer_kind)kind;
    return o;
}

static swiftmlp_optimizer with_struct_size(swiftmlp_optimizer_kind kind, size_t struct_size)
{
    swiftmlp_optimizer o = opt_default(kind);
    o.struct_size = struct_size;
    return o;
}

#define SET(expr) f->o = (expr)
#define SETOPT swiftmlp_set_optimizer(f->net, &f->o)
#define ADAM SWIFTMLP_OPT_ADAM
#define ADAMW SWIFTMLP_OPT_ADAMW
#define SGD SWIFTMLP_OPT_SGD
/* Unused fields must still be finite: they are read back and saved (a NaN
 * there once made a saved model unloadable; found by fuzz_api). */
#define SET_OPTIMIZER_CASES(X)                                                                         \
    X(set_optimizer_sgd_lr_zero, E_ARG, NULL, SET(sgd_with(0.0, 0, 0, 0)), SETOPT)                     \
    X(set_optimizer_sgd_lr_negative, E_ARG, NULL, SET(sgd_with(-0.1, 0, 0, 0)), SETOPT)                \
    X(set_optimizer_sgd_lr_nan, E_ARG, NULL, SET(sgd_with(NAN, 0, 0, 0)), SETOPT)                      \
    X(set_optimizer_sgd_lr_infinite, E_ARG, NULL, SET(sgd_with(INFINITY, 0, 0, 0)), SETOPT)            \
    X(set_optimizer_sgd_momentum_one, E_ARG, NULL, SET(sgd_with(0.1, 1.0, 0, 0)), SETOPT)              \
    X(set_optimizer_sgd_momentum_above_one, E_ARG, NULL, SET(sgd_with(0.1, 1.5, 0, 0)), SETOPT)        \
    X(set_optimizer_sgd_momentum_negative, E_ARG, NULL, SET(sgd_with(0.1, -0.1, 0, 0)), SETOPT)        \
    X(set_optimizer_sgd_momentum_nan, E_ARG, NULL, SET(sgd_with(0.1, NAN, 0, 0)), SETOPT)              \
    X(set_optimizer_sgd_nesterov_with_momentum_zero, E_ARG, NULL, SET(sgd_with(0.1, 0.0, 1, 0)), SETOPT) \
    X(set_optimizer_sgd_weight_decay_negative, E_ARG, NULL, SET(sgd_with(0.1, 0.5, 0, -1e-4)), SETOPT) \
    X(set_optimizer_sgd_weight_decay_nan, E_ARG, NULL, SET(sgd_with(0.1, 0.5, 0, NAN)), SETOPT)        \
    X(set_optimizer_sgd_weight_decay_infinite, E_ARG, NULL, SET(sgd_with(0.1, 0.5, 0, INFINITY)), SETOPT) \
    X(set_optimizer_adam_lr_zero, E_ARG, NULL, SET(adam_with(ADAM, 0.0, 0.9, 0.999, 1e-8, 0)), SETOPT) \
    X(set_optimizer_adam_lr_nan, E_ARG, NULL, SET(adam_with(ADAM, NAN, 0.9, 0.999, 1e-8, 0)), SETOPT)  \
    X(set_optimizer_adam_beta1_zero, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 0.0, 0.999, 1e-8, 0)), SETOPT) \
    X(set_optimizer_adam_beta1_one, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 1.0, 0.999, 1e-8, 0)), SETOPT) \
    X(set_optimizer_adam_beta1_nan, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, NAN, 0.999, 1e-8, 0)), SETOPT) \
    X(set_optimizer_adam_beta2_zero, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 0.9, 0.0, 1e-8, 0)), SETOPT) \
    X(set_optimizer_adam_beta2_one, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 0.9, 1.0, 1e-8, 0)), SETOPT) \
    X(set_optimizer_adam_beta2_negative, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 0.9, -0.5, 1e-8, 0)), SETOPT) \
    X(set_optimizer_adam_eps_zero, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 0.9, 0.999, 0.0, 0)), SETOPT) \
    X(set_optimizer_adam_eps_negative, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 0.9, 0.999, -1e-8, 0)), SETOPT) \
    X(set_optimizer_adam_eps_nan, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 0.9, 0.999, NAN, 0)), SETOPT) \
    X(set_optimizer_adam_eps_infinite, E_ARG, NULL, SET(adam_with(ADAM, 1e-3, 0.9, 0.999, INFINITY, 0)), SETOPT) \
    X(set_optimizer_adam_weight_decay_negative, E_ARG, NULL,                                           \
      SET(adam_with(ADAM, 1e-3, 0.9, 0.999, 1e-8, -0.01)), SETOPT)                                     \
    X(set_optimizer_adamw_lr_infinite, E_ARG, NULL, SET(adam_with(ADAMW, INFINITY, 0.9, 0.999, 1e-8, 0.01)), SETOPT) \
    X(set_optimizer_adamw_beta1_one, E_ARG, NULL, SET(adam_with(ADAMW, 1e-3, 1.0, 0.999, 1e-8, 0.01)), SETOPT) \
    X(set_optimizer_adamw_beta2_zero, E_ARG, NULL, SET(adam_with(ADAMW, 1e-3, 0.9, 0.0, 1e-8, 0.01)), SETOPT) \
    X(set_optimizer_adamw_eps_zero, E_ARG, NULL, SET(adam_with(ADAMW, 1e-3, 0.9, 0.999, 0.0, 0.01)), SETOPT) \
    X(set_optimizer_adamw_weight_decay_negative, E_ARG, NULL,                                          \
      SET(adam_with(ADAMW, 1e-3, 0.9, 0.999, 1e-8, -0.01)), SETOPT)                                    \
    X(set_optimizer_adamw_weight_decay_nan, E_ARG, NULL, SET(adam_with(ADAMW, 1e-3, 0.9, 0.999, 1e-8, NAN)), SETOPT) \
    X(set_optimizer_adam_nan_momentum_unused, E_ARG, NULL, SET(with_unused(ADAM, NAN, 1e-8)), SETOPT)  \
    X(set_optimizer_sgd_infinite_eps_unused, E_ARG, NULL, SET(with_unused(SGD, 0.0, INFINITY)), SETOPT) \
    X(set_optimizer_unknown_kind, E_ARG, NULL, SET(with_kind(ADAM, 3)), SETOPT)                        \
    X(set_optimizer_negative_kind, E_ARG, NULL, SET(with_kind(SGD, -1)), SETOPT)                       \
    X(set_optimizer_struct_size_zero, E_ARG, NULL, SET(with_struct_size(SGD, 0)), SETOPT)              \
    X(set_optimizer_struct_size_larger, E_ARG, NULL,                                                   \
      SET(with_struct_size(ADAMW, sizeof(swiftmlp_optimizer) + 8)), SETOPT)                            \
    X(set_optimizer_null_optimizer, E_NULL, NULL, (void)0, swiftmlp_set_optimizer(f->net, NULL))      \
    X(set_optimizer_null_net, E_NULL, NULL, SET(opt_default(SGD)), swiftmlp_set_optimizer(NULL, &f->o))

/* The overflowing steps: lr 1e300 is valid for swiftmlp_step but overflows
 * float, and 1e39 is just above FLT_MAX (3.4e38): on a float32 network the
 * step would make parameters non-finite. */
#define FRESH_FB(dtype, o, then) use_fresh(f, (dtype), (o), RUN_FORWARD_BACKWARD, (then))
#define OTHER_CASES(X)                                                                                 \
    X(optimizer_default_unknown_kind, E_ARG, NULL, (void)0,                                            \
      swiftmlp_optimizer_default((swiftmlp_optimizer_kind)3, &f->o))                                   \
    X(optimizer_default_null, E_NULL, NULL, (void)0, swiftmlp_optimizer_default(ADAM, NULL))          \
    X(get_optimizer_without_optimizer, E_STATE, NULL, use_fresh(f, F64, NULL, RUN_NONE, THEN_NOTHING), \
      swiftmlp_get_optimizer(f->net, &f->o))                                                           \
    X(get_optimizer_null_net, E_NULL, NULL, (void)0, swiftmlp_get_optimizer(NULL, &f->o))             \
    X(get_optimizer_null_out, E_NULL, NULL, (void)0, swiftmlp_get_optimizer(f->net, NULL))            \
    X(reset_optimizer_without_optimizer, E_STATE, NULL, use_fresh(f, F64, NULL, RUN_NONE, THEN_NOTHING), \
      swiftmlp_reset_optimizer(f->net))                                                                \
    X(reset_optimizer_null_net, E_NULL, NULL, (void)0, swiftmlp_reset_optimizer(NULL))                \
    X(optimizer_step_count_null_net, E_NULL, NULL, (void)0, swiftmlp_get_step_count(NULL, &f->t)) \
    X(optimizer_step_count_null_out, E_NULL, NULL, (void)0, swiftmlp_get_step_count(f->net, NULL)) \
    X(optimizer_step_null_net, E_NULL, NULL, (void)0, swiftmlp_optimizer_step(NULL))                  \
    /* gradients exist: only the optimizer is missing */                                               \
    X(optimizer_step_without_optimizer, E_STATE, NULL, FRESH_FB(F64, NULL, THEN_BACKWARD),             \
      swiftmlp_optimizer_step(f->net))                                                                 \
    X(optimizer_step_before_any_backward, E_STATE, NULL,                                               \
      (SET(opt_default(ADAM)), use_fresh(f, F64, &f->o, RUN_FORWARD, THEN_BACKWARD)),                  \
      swiftmlp_optimizer_step(f->net))                                                                 \
    X(optimizer_step_sgd_overflowing_weight_decay, E_FINITE, NULL,                                     \
      (SET(sgd_with(1e10, 0.0, 0, 1e300)), FRESH_FB(F64, &f->o, THEN_BACKWARD)), swiftmlp_optimizer_step(f->net)) \
    X(optimizer_step_sgd_momentum_overflowing, E_FINITE, NULL,                                         \
      (SET(sgd_with(1e10, 0.5, 1, 1e300)), FRESH_FB(F64, &f->o, THEN_BACKWARD)), swiftmlp_optimizer_step(f->net)) \
    X(optimizer_step_adamw_overflowing_decay, E_FINITE, NULL,                                          \
      (SET(adam_with(ADAMW, 1e300, 0.9, 0.999, 1e-8, 1e300)), FRESH_FB(F64, &f->o, THEN_BACKWARD)),    \
      swiftmlp_optimizer_step(f->net))                                                                 \
    X(plain_step_lr_1e300_on_float32_net, E_FINITE, NULL, FRESH_FB(F32, NULL, THEN_STEP),              \
      swiftmlp_step(f->net, 1e300))                                                                    \
    X(plain_step_lr_1e39_on_float32_net, E_FINITE, NULL, FRESH_FB(F32, NULL, THEN_STEP),               \
      swiftmlp_step(f->net, 1e39))

BAD_ANY_TABLE(k_set_optimizer_cases, SET_OPTIMIZER_CASES);
BAD_ANY_TABLE(k_optimizer_cases, OTHER_CASES);

int main(void)
{
#define T(name) cmocka_unit_test(name)
#define TF(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        /* defaults, round trips */
        T(test_optimizer_default_sgd_is_lr_0_01_without_momentum_or_decay),
        T(test_optimizer_default_adam_is_lr_1e_3_betas_0_9_0_999_eps_1e_8_no_decay),
        T(test_optimizer_default_adamw_is_adam_with_weight_decay_0_01),
        T(test_every_default_optimizer_is_accepted_by_set_optimizer),
        T(test_set_then_get_optimizer_round_trips_every_field),
        T(test_step_count_is_zero_without_optimizer),
        /* formulas */
        FORMULA_CASES(FORMULA_T)
        T(test_adam_l2_and_adamw_decoupled_decay_give_different_parameters),
        T(test_sgd_without_momentum_or_decay_equals_swiftmlp_step_bit_for_bit),
        T(test_float32_adam_three_steps_match_formula_to_float_precision),
        /* state */
        T(test_reset_optimizer_zeroes_adam_state_and_step_count),
        T(test_reset_optimizer_zeroes_sgd_momentum_buffer_and_step_count),
        T(test_reset_optimizer_zeroes_adamw_state_and_step_count),
        T(test_switching_from_sgd_momentum_to_adam_starts_adam_fresh),
        T(test_plain_step_does_not_advance_optimizer_step_count),
        T(test_backward_after_optimizer_step_without_new_forward_returns_state_error),
        /* bad input */
        BAD_SUITE_TEST(k_opt_suite, k_set_optimizer_cases),
        BAD_SUITE_TEST(k_opt_suite, k_optimizer_cases),
        TF(test_failed_set_optimizer_keeps_previous_moments),
    };
#undef T
#undef TF
    return cmocka_run_group_tests(tests, NULL, NULL);
}
