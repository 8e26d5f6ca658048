/*
 * test_set_grads.c — swiftmlp_set_grads: gradients put in from outside (the
 * data-parallel pattern: sum across processes, set, step).
 *
 * - A step after set_grads is the step after a backward that computed the
 *   same gradients, bit for bit (plain SGD, SGD with momentum, Adam, AdamW;
 *   float32 and float64), and plain SGD is p - lr*g exactly.
 * - set_grads needs no forward or backward (a process without rows in a
 *   batch still steps), leaves parameters, the optimizer and the forward
 *   cache alone, and get_grads / get_layer_grads read the new values.
 * - Every documented failure: the exact status, a message, and nothing
 *   changed — parameters, gradients, and whether a step may use them.
 */
#include "test_util.h"


/* [3, 4, 2]: W0 4x3, b0 4, W1 2x4, b1 2 = 26 parameters; a batch of 5. */
enum { N0 = 3, N1 = 4, N2 = 2, B = 5, NPARAMS = N1 * N0 + N1 + N2 * N1 + N2 };
static const size_t k_sizes[] = {N0, N1, N2};

typedef struct batch {
    double x[B * N0], y[B * N2];
    float x32[B * N0], y32[B * N2];
} batch;

static void make_batch(batch *d, uint64_t seed)
{
    rand_uniform_both(&seed, -1, 1, d->x, d->x32, B * N0);
    rand_uniform_both(&seed, 0, 1, d->y, d->y32, B * N2);
}

/* forward + backward of d on net, in the net's dtype */
static void forward_backward(swiftmlp_net *net, swiftmlp_dtype t, const batch *d)
{
    double out[B * N2];
    float out32[B * N2];
    if (t == SWIFTMLP_FLOAT64) {
        assert_ok(swiftmlp_forward(net, t, d->x, B * N0, B, out, B * N2));
        assert_ok(swiftmlp_backward(net, t, d->y, B * N2, B, NULL));
    } else {
        assert_ok(swiftmlp_forward(net, t, d->x32, B * N0, B, out32, B * N2));
        assert_ok(swiftmlp_backward(net, t, d->y32, B * N2, B, NULL));
    }
}

/* How a test steps: plain SGD (swiftmlp_step) or a configured optimizer. */
typedef struct stepper {
    const char *name;
    int plain;               /* 1: swiftmlp_step(lr), 0: swiftmlp_optimizer_step */
    swiftmlp_optimizer_kind kind;
    double momentum;
} stepper;

static void configure(swiftmlp_net *net, const stepper *s)
{
    if (s->plain) {
        return;
    }
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(s->kind, &o));
    o.momentum = s->momentum;
    assert_ok(swiftmlp_set_optimizer(net, &o));
}

static void do_step(swiftmlp_net *net, const stepper *s)
{
    if (s->plain) {
        assert_ok(swiftmlp_step(net, 0.3));
    } else {
        assert_ok(swiftmlp_optimizer_step(net));
    }
}

/* Two networks with the same seed, three steps each: A steps after its own
 * backward; B gets A's gradients through set_grads (no forward/backward of
 * its own) and steps. Parameters and gradients agree bit for bit after
 * every step, so the optimizer state does too. */
static void check_set_grads_steps_like_backward(swiftmlp_dtype t, const stepper *s)
{
    swiftmlp_net *a = create_net(k_sizes, 3, t, 11);
    swiftmlp_net *b = create_net(k_sizes, 3, t, 11);
    configure(a, s);
    configure(b, s);
    for (int k = 0; k < 3; k++) {
        batch d;
        make_batch(&d, 100 + (uint64_t)k);
        forward_backward(a, t, &d);
        snapshot g = snapshot_grads(a);
        assert_ok(swiftmlp_set_grads(b, t, g.data, NPARAMS));
        assert_last_error_empty();
        snapshot gb = snapshot_grads(b);
        assert_same_snapshot(g, gb, "gradients read back after set_grads");
        do_step(a, s);
        do_step(b, s);
        snapshot pa = snapshot_params(a), pb = snapshot_params(b);
        if (memcmp(pa.data, pb.data, pa.bytes) != 0) {
            print_error("%s, %s, step %d: parameters after set_grads + step differ from "
                        "backward + step\n", s->name, t == SWIFTMLP_FLOAT64 ? "float64" : "float32", k);
            fail();
        }
        snapshot_free(&g);
        snapshot_free(&gb);
        snapshot_free(&pa);
        snapshot_free(&pb);
    }
    uint64_t sa = 0, sb = 0;
    assert_ok(swiftmlp_get_step_count(a, &sa));
    assert_ok(swiftmlp_get_step_count(b, &sb));
    assert_true(sa == sb);
    swiftmlp_free(a);
    swiftmlp_free(b);
}

static const stepper k_steppers[] = {
    {"plain SGD (swiftmlp_step)", 1, SWIFTMLP_OPT_SGD, 0.0},
    {"SGD with momentum", 0, SWIFTMLP_OPT_SGD, 0.9},
    {"Adam", 0, SWIFTMLP_OPT_ADAM, 0.0},
    {"AdamW", 0, SWIFTMLP_OPT_ADAMW, 0.0},
};

static void test_step_after_set_grads_equals_step_after_backward_float64(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(k_steppers); i++) {
        check_set_grads_steps_like_backward(SWIFTMLP_FLOAT64, &k_steppers[i]);
    }
}

static void test_step_after_set_grads_equals_step_after_backward_float32(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(k_steppers); i++) {
        check_set_grads_steps_like_backward(SWIFTMLP_FLOAT32, &k_steppers[i]);
    }
}

/* A fresh network (no forward, no backward) steps with set gradients, and
 * plain SGD is exactly p - lr*g, for gradients no backward could give. */
static void test_plain_step_with_set_grads_and_no_backward_is_p_minus_lr_g(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 5);
    assert_status(swiftmlp_step(net, 0.5), SWIFTMLP_ERR_STATE); /* nothing to step with yet */
    double p[NPARAMS], g[NPARAMS];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, p, NPARAMS));
    uint64_t rng = 9;
    for (size_t i = 0; i < NPARAMS; i++) {
        g[i] = rand_uniform(&rng, -1e3, 1e3);
    }
    assert_ok(swiftmlp_set_grads(net, SWIFTMLP_FLOAT64, g, NPARAMS));
    assert_ok(swiftmlp_step(net, 0.5));
    assert_params_are_sgd_step(net, p, g, 0.5, NPARAMS);
    swiftmlp_free(net);
}

/* The optimizer steps with set gradients without any backward (a process
 * with no rows in the batch), and the step count advances. */
static void test_optimizer_step_with_set_grads_and_no_backward_advances_t(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT32, 5);
    set_default_optimizer(net, SWIFTMLP_OPT_ADAM);
    assert_status(swiftmlp_optimizer_step(net), SWIFTMLP_ERR_STATE);
    float g[NPARAMS];
    for (size_t i = 0; i < NPARAMS; i++) {
        g[i] = (float)i - 10.0f;
    }
    snapshot before = snapshot_params(net);
    assert_ok(swiftmlp_set_grads(net, SWIFTMLP_FLOAT32, g, NPARAMS));
    assert_ok(swiftmlp_optimizer_step(net));
    uint64_t steps = 0;
    assert_ok(swiftmlp_get_step_count(net, &steps));
    assert_true(steps == 1);
    /* Adam's first step moves every parameter with g != 0 by lr*sign(g) */
    float *p0 = before.data, p1[NPARAMS];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT32, p1, NPARAMS));
    for (size_t i = 0; i < NPARAMS; i++) {
        double expected = g[i] == 0.0f ? 0.0 : (g[i] > 0 ? -1e-3 : 1e-3);
        assert_close((double)p1[i] - (double)p0[i], expected, 1e-3, 1e-9);
    }
    snapshot_free(&before);
    swiftmlp_free(net);
}

/* set_grads leaves the parameters, the forward cache (backward still works
 * without a new forward) and the slides' quantities alone; get_layer_grads
 * reads the new values. */
static void test_set_grads_keeps_parameters_and_forward_cache(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 3);
    batch d;
    make_batch(&d, 1);
    double out[B * N2], f_before[B * N1], f_after[B * N1];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, d.x, B * N0, B, out, B * N2));
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_F, 1, SWIFTMLP_FLOAT64, f_before, B * N1));
    snapshot p = snapshot_params(net);
    double g[NPARAMS];
    for (size_t i = 0; i < NPARAMS; i++) {
        g[i] = 0.25 * (double)i;
    }
    assert_ok(swiftmlp_set_grads(net, SWIFTMLP_FLOAT64, g, NPARAMS));
    snapshot p2 = snapshot_params(net);
    assert_same_snapshot(p, p2, "parameters");
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_F, 1, SWIFTMLP_FLOAT64, f_after, B * N1));
    assert_memory_equal(f_before, f_after, sizeof f_before);
    size_t rows = 0;
    assert_ok(swiftmlp_get_cached_rows(net, &rows));
    assert_true(rows == B);
    double dw[N2 * N1], db[N2];
    assert_ok(swiftmlp_get_layer_grads(net, 1, SWIFTMLP_FLOAT64, dw, N2 * N1, db, N2));
    size_t w_off = 0, b_off = 0;
    assert_ok(swiftmlp_get_layer_offsets(net, 1, &w_off, &b_off));
    assert_memory_equal(dw, g + w_off, sizeof dw);
    assert_memory_equal(db, g + b_off, sizeof db);
    /* the forward is still there: backward overwrites the set gradients */
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, d.y, B * N2, B, NULL));
    snapshot gb = snapshot_grads(net);
    assert_true(memcmp(gb.data, g, sizeof g) != 0);
    snapshot_free(&p);
    snapshot_free(&p2);
    snapshot_free(&gb);
    swiftmlp_free(net);
}

/* The largest finite values are accepted, and a plain SGD step they would
 * overflow is refused, parameters unchanged, also right after a plain SGD
 * step (which lets the next one skip its check when the bounds on the
 * parameters and the gradients allow: set_grads must bound its values). */
static void test_plain_sgd_with_huge_set_grads_refuses_the_overflowing_step(void **state)
{
    (void)state;
    swiftmlp_dtype types[] = {SWIFTMLP_FLOAT64, SWIFTMLP_FLOAT32};
    for (size_t k = 0; k < ARRAY_LEN(types); k++) {
        swiftmlp_net *net = create_net(k_sizes, 3, types[k], 2);
        double small[NPARAMS], big[NPARAMS];
        float small32[NPARAMS], big32[NPARAMS];
        for (size_t i = 0; i < NPARAMS; i++) {
            small[i] = 0.01 * (double)i;
            big[i] = (i % 2 ? -1 : 1) * 1.7976931348623157e308;
            small32[i] = (float)small[i];
            big32[i] = (i % 2 ? -1 : 1) * 3.4028234663852886e38f;
        }
        int f64 = types[k] == SWIFTMLP_FLOAT64;
        assert_ok(swiftmlp_set_grads(net, types[k], f64 ? (void *)small : (void *)small32, NPARAMS));
        assert_ok(swiftmlp_step(net, 0.1));
        assert_ok(swiftmlp_set_grads(net, types[k], f64 ? (void *)big : (void *)big32, NPARAMS));
        assert_fails_unchanged(net, swiftmlp_step(net, 10.0), SWIFTMLP_ERR_NON_FINITE);
        swiftmlp_free(net);
    }
}

/* ---- failures: a table (test_util.h's fx driver) ---------------------------
 * Each row: the exact status, a message, and nothing changed: parameters,
 * gradients, and, on a network without gradients (PREP_NONE), that a step
 * is still refused. Rows on the float64/float32 networks run after a
 * forward and backward (PREP_FB), so there are gradients to keep. One
 * non-finite value anywhere (first, middle, last element; NaN, +inf, -inf)
 * is refused in both element types. */

static swiftmlp_net *freed_handle(void)
{
    swiftmlp_net *gone = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 1);
    swiftmlp_free(gone);
    return gone;
}

#define SG(net, dtype, g, len) swiftmlp_set_grads((net), (dtype), (g), (len))
#define SG64_AT(at, v) SG(f->net, F64, fx_with(f, f->p, FX_NPARAMS, (at), (v)), FX_NPARAMS)
#define SG32_AT(at, v) SG(f->net32, F32, fx_with32(f, f->p32, FX_NPARAMS, (at), (float)(v)), FX_NPARAMS)
#define NONFINITE_ROWS(X, name, at, v)                                                                  \
    X(set_grads_##name, E_FINITE, ON_NET, PREP_FB, NULL, SG64_AT(at, v))                                \
    X(set_grads_float32_##name, E_FINITE, ON_NET32, PREP_FB, NULL, SG32_AT(at, v))                      \
    X(set_grads_without_gradients_##name, E_FINITE, ON_NET, PREP_NONE, NULL, SG64_AT(at, v))
#define MID (FX_NPARAMS / 2)
#define LAST (FX_NPARAMS - 1)
#define SET_GRADS_CASES(X)                                                                              \
    X(set_grads_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, SG(NULL, F64, f->p, FX_NPARAMS))            \
    X(set_grads_null_grads, E_NULL, ON_NET, PREP_FB, NULL, SG(f->net, F64, NULL, FX_NPARAMS))           \
    X(set_grads_without_gradients_null_grads, E_NULL, ON_NET, PREP_NONE, NULL, SG(f->net, F64, NULL, FX_NPARAMS)) \
    X(set_grads_unknown_dtype, E_ARG, ON_NET, PREP_FB, NULL, SG(f->net, DT7, f->p, FX_NPARAMS))         \
    X(set_grads_float32_on_float64_net, E_DTYPE, ON_NET, PREP_FB, NULL, SG(f->net, F32, f->p32, FX_NPARAMS)) \
    X(set_grads_without_gradients_float32_on_float64_net, E_DTYPE, ON_NET, PREP_NONE, NULL,             \
      SG(f->net, F32, f->p32, FX_NPARAMS))                                                              \
    X(set_grads_float64_on_float32_net, E_DTYPE, ON_NET32, PREP_FB, NULL, SG(f->net32, F64, f->p, FX_NPARAMS)) \
    X(set_grads_length_one_short, E_BUF, ON_NET, PREP_FB, NULL, SG(f->net, F64, f->p, FX_NPARAMS - 1))  \
    X(set_grads_length_one_long, E_BUF, ON_NET, PREP_FB, NULL,                                          \
      SG(f->net, F64, fx_with(f, f->p, FX_NPARAMS, FX_NPARAMS, 1.0), FX_NPARAMS + 1))                   \
    X(set_grads_length_0, E_BUF, ON_NET, PREP_FB, NULL, SG(f->net, F64, f->p, 0))                       \
    X(set_grads_length_size_max, E_BUF, ON_NET, PREP_FB, NULL, SG(f->net, F64, f->p, SIZE_MAX))         \
    X(set_grads_without_gradients_length_one_short, E_BUF, ON_NET, PREP_NONE, NULL,                     \
      SG(f->net, F64, f->p, FX_NPARAMS - 1))                                                            \
    NONFINITE_ROWS(X, nan_first, 0, NAN)                                                                \
    NONFINITE_ROWS(X, inf_first, 0, INFINITY)                                                           \
    NONFINITE_ROWS(X, minus_inf_first, 0, -INFINITY)                                                    \
    NONFINITE_ROWS(X, nan_middle, MID, NAN)                                                             \
    NONFINITE_ROWS(X, inf_middle, MID, INFINITY)                                                        \
    NONFINITE_ROWS(X, minus_inf_middle, MID, -INFINITY)                                                 \
    NONFINITE_ROWS(X, nan_last, LAST, NAN)                                                              \
    NONFINITE_ROWS(X, inf_last, LAST, INFINITY)                                                         \
    NONFINITE_ROWS(X, minus_inf_last, LAST, -INFINITY)                                                  \
    X(set_grads_freed_handle, SWIFTMLP_ERR_BAD_HANDLE, ON_NONE, PREP_NONE, NULL,                        \
      SG(freed_handle(), F64, f->p, FX_NPARAMS))

BAD_TABLE(k_set_grads_cases, SET_GRADS_CASES);

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_step_after_set_grads_equals_step_after_backward_float64),
        cmocka_unit_test(test_step_after_set_grads_equals_step_after_backward_float32),
        cmocka_unit_test(test_plain_step_with_set_grads_and_no_backward_is_p_minus_lr_g),
        cmocka_unit_test(test_optimizer_step_with_set_grads_and_no_backward_advances_t),
        cmocka_unit_test(test_set_grads_keeps_parameters_and_forward_cache),
        cmocka_unit_test(test_plain_sgd_with_huge_set_grads_refuses_the_overflowing_step),
    };
    const struct CMUnitTest failures[] = {
        BAD_TABLE_TEST(k_set_grads_cases),
    };
    int failed = cmocka_run_group_tests_name("set_grads", plain, NULL, NULL);
    failed += cmocka_run_group_tests_name("set_grads failures", failures, NULL, NULL);
    return failed;
}
