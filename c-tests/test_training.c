/*
 * test_training.c — plain SGD actually learns: XOR with a [2, 4, 1] network;
 * swiftmlp_train_step equals forward + backward + optimizer step; and the
 * bad input of forward, backward, step and train_step as tables (test_util.h's
 * run_bad_cases: exact status, a message, nothing changed), with the
 * sequences of failures that must keep the cached forward state.
 *
 * With seed 42, lr 2.0 and 5000 full-batch steps the loss falls from about
 * 0.26 to about 2e-4 (float64); the thresholds below leave a wide margin.
 */
#include "test_util.h"

static const size_t k_sizes[] = {2, 4, 1};
static const double k_x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
static const double k_y[4] = {0, 1, 1, 0};
enum { STEPS = 5000 };
static const double k_lr = 2.0;
static const uint64_t k_seed = 42;

static void check_final(double first_loss, double final_loss, const double out[4])
{
    print_message("XOR: initial loss %.6g, final loss %.6g, outputs %.4f %.4f %.4f %.4f\n",
                  first_loss, final_loss, out[0], out[1], out[2], out[3]);
    assert_true(first_loss > 0.2);           /* sigmoid outputs near 0.5 at the start */
    assert_true(final_loss < 0.01);
    assert_true(final_loss < 0.1 * first_loss);
    for (int i = 0; i < 4; i++) {
        /* Every prediction on the right side of 0.5, with a margin. */
        if (k_y[i] > 0.5) {
            assert_true(out[i] > 0.8);
        } else {
            assert_true(out[i] < 0.2);
        }
    }
}

/* STEPS full-batch SGD steps on XOR in dtype; then the first step's loss
 * and the final loss and outputs (as doubles) must pass check_final. */
static void check_xor_training(swiftmlp_dtype dtype)
{
    float x32[8], y32[4], out32[4];
    for (int i = 0; i < 8; i++) {
        x32[i] = (float)k_x[i];
    }
    for (int i = 0; i < 4; i++) {
        y32[i] = (float)k_y[i];
    }
    const int f64 = dtype == SWIFTMLP_FLOAT64;
    const void *x = f64 ? (const void *)k_x : (const void *)x32;
    const void *y = f64 ? (const void *)k_y : (const void *)y32;
    double out64[4];
    void *out = f64 ? (void *)out64 : (void *)out32;
    swiftmlp_net *net = create_net(k_sizes, 3, dtype, k_seed);
    double loss = 0, first_loss = -1;
    for (int i = 0; i <= STEPS; i++) {
        assert_ok(swiftmlp_forward(net, dtype, x, 8, 4, out, 4));
        assert_ok(swiftmlp_backward(net, dtype, y, 4, 4, &loss));
        if (i == 0) {
            first_loss = loss;
        }
        if (i < STEPS) {
            assert_ok(swiftmlp_step(net, k_lr));
        }
    }
    double out_d[4];
    for (int i = 0; i < 4; i++) {
        out_d[i] = f64 ? out64[i] : (double)out32[i];
    }
    check_final(first_loss, loss, out_d);
    swiftmlp_free(net);
}

static void test_xor_training_reduces_loss_below_0_01(void **state)
{
    check_xor_training(*(const swiftmlp_dtype *)*state);
}

static const swiftmlp_dtype k_f64 = SWIFTMLP_FLOAT64, k_f32 = SWIFTMLP_FLOAT32;
#define XOR_TEST(suffix, dtype)                                                                         \
    {.name = "test_xor_" suffix "_training_reduces_loss_below_0_01",                                   \
     .test_func = test_xor_training_reduces_loss_below_0_01, .setup_func = NULL, .teardown_func = NULL, \
     .initial_state = (void *)&(dtype)}

/* The loss of each full-batch step is monotone enough that the average of
 * the last 100 steps is far below the average of the first 100. */
static void test_xor_loss_trends_down_over_training(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, k_seed + 1);
    double out[4], loss = 0, head = 0, tail = 0;
    for (int i = 0; i < STEPS; i++) {
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, 8, 4, out, 4));
        assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, 4, 4, &loss));
        assert_true(isfinite(loss));
        if (i < 100) {
            head += loss;
        } else if (i >= STEPS - 100) {
            tail += loss;
        }
        assert_ok(swiftmlp_step(net, k_lr));
    }
    print_message("mean loss of the first 100 steps %.6g, of the last 100 steps %.6g\n",
                  head / 100, tail / 100);
    assert_true(tail < 0.1 * head);
    swiftmlp_free(net);
}

/* ---- train_step: forward + backward + optimizer step in one call ----------
 * bit-identical results to the three calls, and every bad input rejected
 * with the network unchanged (a table). */

enum { TS_N0 = 3, TS_N1 = 5, TS_N2 = 2, TS_B = 4 };
static const size_t k_ts_sizes[] = {TS_N0, TS_N1, TS_N2};

static const double k_ts_x[TS_B * TS_N0] = {0.1, -0.2, 0.3, 1.0, 0.5, -1.5, -0.7, 0.2, 0.9, 0.0, 0.4, -0.3};
static const double k_ts_y[TS_B * TS_N2] = {0, 1, 1, 0, 0.5, 0.5, 1, 1};

static swiftmlp_net *ts_make_net(swiftmlp_optimizer_kind kind, double lr)
{
    swiftmlp_net *net = NULL;
    assert_ok(swiftmlp_create(k_ts_sizes, 3, SWIFTMLP_FLOAT64, 11, &net));
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(kind, &o));
    o.lr = lr;
    assert_ok(swiftmlp_set_optimizer(net, &o));
    return net;
}

static void check_equals_three_calls(swiftmlp_optimizer_kind kind, double lr)
{
    swiftmlp_net *fused = ts_make_net(kind, lr), *split = ts_make_net(kind, lr);
    double out[TS_B * TS_N2];
    for (int step = 0; step < 5; step++) {
        double loss_fused = NAN, loss_split = NAN;
        assert_ok(swiftmlp_train_step(fused, SWIFTMLP_FLOAT64, k_ts_x, TS_B * TS_N0, k_ts_y, TS_B * TS_N2, TS_B, &loss_fused));
        assert_ok(swiftmlp_forward(split, SWIFTMLP_FLOAT64, k_ts_x, TS_B * TS_N0, TS_B, out, TS_B * TS_N2));
        assert_ok(swiftmlp_backward(split, SWIFTMLP_FLOAT64, k_ts_y, TS_B * TS_N2, TS_B, &loss_split));
        assert_ok(swiftmlp_optimizer_step(split));
        assert_true(loss_fused == loss_split);
    }
    assert_int_equal(step_count(fused), 5);
    assert_int_equal(step_count(split), 5);
    assert_same_params_and_free(fused, split, "parameters (train_step vs forward, backward, optimizer_step)");
}

TEST_CALLING(test_train_step_with_sgd_equals_forward_backward_optimizer_step,
             check_equals_three_calls(SWIFTMLP_OPT_SGD, 0.5))
TEST_CALLING(test_train_step_with_adam_equals_forward_backward_optimizer_step,
             check_equals_three_calls(SWIFTMLP_OPT_ADAM, 0.01))

static void test_train_step_with_plain_sgd_equals_swiftmlp_step(void **state)
{
    (void)state;
    swiftmlp_net *fused = ts_make_net(SWIFTMLP_OPT_SGD, 0.25), *plain = NULL;
    assert_ok(swiftmlp_create(k_ts_sizes, 3, SWIFTMLP_FLOAT64, 11, &plain));
    double out[TS_B * TS_N2];
    assert_ok(swiftmlp_train_step(fused, SWIFTMLP_FLOAT64, k_ts_x, TS_B * TS_N0, k_ts_y, TS_B * TS_N2, TS_B, NULL));
    assert_ok(swiftmlp_forward(plain, SWIFTMLP_FLOAT64, k_ts_x, TS_B * TS_N0, TS_B, out, TS_B * TS_N2));
    assert_ok(swiftmlp_backward(plain, SWIFTMLP_FLOAT64, k_ts_y, TS_B * TS_N2, TS_B, NULL));
    assert_ok(swiftmlp_step(plain, 0.25));
    assert_same_params_and_free(fused, plain, "parameters (train_step vs forward, backward, step)");
}

/* ---- bad input: train_step (test_util.h's bad_suite driver) -------------- */

typedef struct ts_fixture {
    swiftmlp_net *net; /* SGD lr 0.1 */
} ts_fixture;

static int ts_init(ts_fixture *f)
{
    f->net = ts_make_net(SWIFTMLP_OPT_SGD, 0.1);
    return 0;
}

static void ts_fini(ts_fixture *f)
{
    swiftmlp_free(f->net);
}

FIXTURE_FUNCTIONS(ts_fixture, ts_setup, ts_teardown, ts_init, ts_fini)

static swiftmlp_net *ts_net(void *f) { return ((ts_fixture *)f)->net; }

static const bad_suite k_ts_suite = {ts_setup, ts_teardown, ts_net, NULL};

static void ts_without_optimizer(ts_fixture *f)
{
    swiftmlp_free(f->net);
    assert_ok(swiftmlp_create(k_ts_sizes, 3, SWIFTMLP_FLOAT64, 11, &f->net));
}

static const double k_nan_x[TS_B * TS_N0] = {NAN};

#define BAD_CTX ts_fixture
#define TS(net, dtype, x, x_len, y, y_len, rows) swiftmlp_train_step((net), (dtype), (x), (x_len), (y), (y_len), (rows), NULL)
#define TS_XL (TS_B * TS_N0)
#define TS_YL (TS_B * TS_N2)
#define TRAIN_STEP_CASES(X)                                                                             \
    X(train_step_null_net, E_NULL, NULL, (void)0, TS(NULL, F64, k_ts_x, TS_XL, k_ts_y, TS_YL, TS_B))    \
    X(train_step_null_x, E_NULL, NULL, (void)0, TS(f->net, F64, NULL, TS_XL, k_ts_y, TS_YL, TS_B))      \
    X(train_step_null_y, E_NULL, NULL, (void)0, TS(f->net, F64, k_ts_x, TS_XL, NULL, TS_YL, TS_B))      \
    X(train_step_batch_zero, E_ARG, NULL, (void)0, TS(f->net, F64, k_ts_x, 0, k_ts_y, 0, 0))            \
    X(train_step_short_x, E_BUF, NULL, (void)0, TS(f->net, F64, k_ts_x, TS_XL - 1, k_ts_y, TS_YL, TS_B)) \
    X(train_step_short_y, E_BUF, NULL, (void)0, TS(f->net, F64, k_ts_x, TS_XL, k_ts_y, TS_YL - 1, TS_B)) \
    X(train_step_float32_buffers_on_float64_net, E_DTYPE, NULL, (void)0,                                \
      TS(f->net, F32, k_ts_x, TS_XL, k_ts_y, TS_YL, TS_B))                                              \
    X(train_step_unknown_dtype, E_ARG, NULL, (void)0,                                                   \
      TS(f->net, (swiftmlp_dtype)9, k_ts_x, TS_XL, k_ts_y, TS_YL, TS_B))                                \
    X(train_step_nan_x, E_FINITE, NULL, (void)0, TS(f->net, F64, k_nan_x, TS_XL, k_ts_y, TS_YL, TS_B))  \
    X(train_step_without_optimizer, E_STATE, NULL, ts_without_optimizer(f),                             \
      TS(f->net, F64, k_ts_x, TS_XL, k_ts_y, TS_YL, TS_B))

BAD_ANY_TABLE(k_train_step_cases, TRAIN_STEP_CASES);

/* ---- bad input: forward, backward, step ---------------------------------- */

#define FWD(net, dtype, x, x_len, rows, out, cap) swiftmlp_forward((net), (dtype), (x), (x_len), (rows), (out), (cap))
#define FWD_CASES(X)                                                                                    \
    X(forward_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, FWD(NULL, F64, f->x, FX_XLEN, FX_B, f->out, FX_YLEN)) \
    X(forward_null_x, E_NULL, ON_NET, PREP_NONE, NULL, FWD(f->net, F64, NULL, FX_XLEN, FX_B, f->out, FX_YLEN)) \
    X(forward_null_y, E_NULL, ON_NET, PREP_NONE, NULL, FWD(f->net, F64, f->x, FX_XLEN, FX_B, NULL, FX_YLEN)) \
    X(forward_batch_0, E_ARG, ON_NET, PREP_NONE, NULL, FWD(f->net, F64, f->x, 0, 0, f->out, FX_YLEN)) \
    X(forward_unknown_dtype, E_ARG, ON_NET, PREP_NONE, NULL, FWD(f->net, DT7, f->x, FX_XLEN, FX_B, f->out, FX_YLEN)) \
    X(forward_float32_call_on_float64_net, E_DTYPE, ON_NET, PREP_NONE, NULL,                         \
      FWD(f->net, F32, f->x32, FX_XLEN, FX_B, f->out32, FX_YLEN))                                    \
    X(forward_float64_call_on_float32_net, E_DTYPE, ON_NET32, PREP_NONE, NULL,                       \
      FWD(f->net32, F64, f->x, FX_XLEN, FX_B, f->out, FX_YLEN))                                      \
    X(forward_x_len_too_small, E_BUF, ON_NET, PREP_NONE, NULL,                                       \
      FWD(f->net, F64, f->x, FX_XLEN - 1, FX_B, f->out, FX_YLEN))                                    \
    /* x_len must EQUAL rows * N0; a longer buffer is a shape mismatch. */                           \
    X(forward_x_len_too_large, E_BUF, ON_NET, PREP_NONE, NULL,                                       \
      FWD(f->net, F64, fx_with(f, f->x, FX_XLEN, FX_XLEN, 0.0), FX_XLEN + 1, FX_B, f->out, FX_YLEN)) \
    X(forward_y_cap_too_small, E_BUF, ON_NET, PREP_NONE, NULL,                                       \
      FWD(f->net, F64, f->x, FX_XLEN, FX_B, f->out, FX_YLEN - 1))                                    \
    X(forward_nan_in_x, E_FINITE, ON_NET, PREP_NONE, NULL,                                           \
      FWD(f->net, F64, fx_with(f, f->x, FX_XLEN, 4, NAN), FX_XLEN, FX_B, f->out, FX_YLEN))           \
    X(forward_inf_in_x, E_FINITE, ON_NET, PREP_NONE, NULL,                                           \
      FWD(f->net, F64, fx_with(f, f->x, FX_XLEN, FX_XLEN - 1, INFINITY), FX_XLEN, FX_B, f->out, FX_YLEN)) \
    X(forward_float32_minus_inf_in_x, E_FINITE, ON_NET32, PREP_NONE, NULL,                           \
      FWD(f->net32, F32, fx_with32(f, f->x32, FX_XLEN, 0, -INFINITY), FX_XLEN, FX_B, f->out32, FX_YLEN)) \
    X(forward_float32_nan_in_x, E_FINITE, ON_NET32, PREP_NONE, NULL,                                 \
      FWD(f->net32, F32, fx_with32(f, f->x32, FX_XLEN, 2, NAN), FX_XLEN, FX_B, f->out32, FX_YLEN))

/* Backward rows: most run after forward, backward, forward (gradients
 * exist and the cache is fresh); the driver checks the loss, gradients and
 * cache are untouched. */
#define BWD(net, dtype, y, y_len, rows) swiftmlp_backward((net), (dtype), (y), (y_len), (rows), &f->loss)
#define BWD_CASES(X)                                                                                    \
    X(backward_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, BWD(NULL, F64, f->y, FX_YLEN, FX_B))         \
    X(backward_null_y, E_NULL, ON_NET, PREP_FBF, NULL, BWD(f->net, F64, NULL, FX_YLEN, FX_B))          \
    X(backward_batch_0, E_ARG, ON_NET, PREP_FBF, NULL, BWD(f->net, F64, f->y, 0, 0))                   \
    X(backward_unknown_dtype, E_ARG, ON_NET, PREP_FBF, NULL, BWD(f->net, DT7, f->y, FX_YLEN, FX_B))    \
    X(backward_float32_call_on_float64_net, E_DTYPE, ON_NET, PREP_FBF, NULL,                            \
      BWD(f->net, F32, f->y32, FX_YLEN, FX_B))                                                          \
    X(backward_float64_call_on_float32_net, E_DTYPE, ON_NET32, PREP_FBF, NULL,                          \
      BWD(f->net32, F64, f->y, FX_YLEN, FX_B))                                                          \
    X(backward_y_len_too_small, E_BUF, ON_NET, PREP_FBF, NULL, BWD(f->net, F64, f->y, FX_YLEN - 1, FX_B)) \
    X(backward_y_len_too_large, E_BUF, ON_NET, PREP_FBF, NULL,                                          \
      BWD(f->net, F64, fx_with(f, f->y, FX_YLEN, FX_YLEN, 0.0), FX_YLEN + 1, FX_B))                     \
    X(backward_nan_in_y, E_FINITE, ON_NET, PREP_FBF, NULL,                                              \
      BWD(f->net, F64, fx_with(f, f->y, FX_YLEN, 1, NAN), FX_YLEN, FX_B))                               \
    X(backward_inf_in_y, E_FINITE, ON_NET, PREP_FBF, NULL,                                              \
      BWD(f->net, F64, fx_with(f, f->y, FX_YLEN, FX_YLEN - 1, -INFINITY), FX_YLEN, FX_B))               \
    X(backward_float32_nan_in_y, E_FINITE, ON_NET32, PREP_FBF, NULL,                                    \
      BWD(f->net32, F32, fx_with32(f, f->y32, FX_YLEN, 0, NAN), FX_YLEN, FX_B))                         \
    X(backward_before_any_forward, E_STATE, ON_NET, PREP_NONE, NULL, BWD(f->net, F64, f->y, FX_YLEN, FX_B)) \
    /* rows 1 with a consistent y_len of 1 * N2 after a forward of FX_B rows */                           \
    X(backward_with_other_rows_than_forward, E_STATE, ON_NET, PREP_FBF, NULL,                           \
      BWD(f->net, F64, f->y, FX_N2, 1))                                                                 \
    /* the cache has room for 2 * FX_B rows from an earlier forward, but the last forward was FX_B */ \
    X(backward_with_more_rows_than_forward, E_STATE, ON_NET, PREP_F2B_FBF, NULL,                        \
      BWD(f->net, F64, fx_with(f, f->p, 2 * FX_YLEN, 0, 0.5), 2 * FX_YLEN, 2 * FX_B))                   \
    X(backward_after_step_without_new_forward, E_STATE, ON_NET, PREP_FB_STEP, NULL,                     \
      BWD(f->net, F64, f->y, FX_YLEN, FX_B))                                                            \
    /* a step with lr 0 still invalidates the cache */                                                  \
    X(backward_after_zero_lr_step_without_new_forward, E_STATE, ON_NET, PREP_FB_STEP0, NULL,            \
      BWD(f->net, F64, f->y, FX_YLEN, FX_B))                                                            \
    X(backward_after_set_params_without_new_forward, E_STATE, ON_NET, PREP_FBF_SET_PARAMS, NULL,        \
      BWD(f->net, F64, f->y, FX_YLEN, FX_B))                                                            \
    X(backward_after_set_layer_without_new_forward, E_STATE, ON_NET, PREP_FBF_SET_LAYER, NULL,          \
      BWD(f->net, F64, f->y, FX_YLEN, FX_B))

#define STEP_CASES(X)                                                                                   \
    X(step_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_step(NULL, 0.1))                        \
    X(step_nan_lr, E_ARG, ON_NET, PREP_FB, NULL, swiftmlp_step(f->net, NAN))                            \
    X(step_plus_inf_lr, E_ARG, ON_NET, PREP_FB, NULL, swiftmlp_step(f->net, INFINITY))                  \
    X(step_minus_inf_lr, E_ARG, ON_NET, PREP_FB, NULL, swiftmlp_step(f->net, -INFINITY))                \
    X(step_negative_lr, E_ARG, ON_NET, PREP_FB, NULL, swiftmlp_step(f->net, -0.1))                      \
    X(step_before_any_backward, E_STATE, ON_NET, PREP_NONE, NULL, swiftmlp_step(f->net, 0.1))           \
    X(step_after_forward_without_backward, E_STATE, ON_NET, PREP_FORWARD, NULL, swiftmlp_step(f->net, 0.1))

BAD_TABLE(k_forward_cases, FWD_CASES);
BAD_TABLE(k_backward_cases, BWD_CASES);
BAD_TABLE(k_step_cases, STEP_CASES);

static void test_forward_batch_times_activations_above_max_returns_too_large(void **state)
{
    (void)state;
    /* [1, 2^20, 1]: N0 + N1 + N2 = 2^20 + 2 activations per sample; batch 256
     * needs 2^28 + 512 > SWIFTMLP_MAX_BATCH_ELEMENTS cached elements, while x
     * and y are only 256 elements each. */
    const size_t sizes[] = {1, (size_t)1 << 20, 1};
    enum { HUGE_B = 256 };
    assert_true((size_t)HUGE_B * (sizes[0] + sizes[1] + sizes[2]) >
                (size_t)SWIFTMLP_MAX_BATCH_ELEMENTS);
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT32, 1);
    float *x = calloc(HUGE_B, sizeof *x);
    float *y = calloc(HUGE_B, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    assert_fails_unchanged(net, swiftmlp_forward(net, SWIFTMLP_FLOAT32, x, HUGE_B, HUGE_B, y, HUGE_B),
                           SWIFTMLP_ERR_TOO_LARGE);
    free(x);
    free(y);
    swiftmlp_free(net);
}

/* swiftmlp_check_batch: the forward's batch rule, status and message, asked
 * without a batch; it changes nothing. */
static void test_check_batch_gives_the_forward_status_and_message(void **state)
{
    (void)state;
    const size_t sizes[] = {1, (size_t)1 << 20, 1};
    const size_t limit = SWIFTMLP_MAX_BATCH_ELEMENTS / (sizes[0] + sizes[1] + sizes[2]);
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT32, 1);
    assert_ok(swiftmlp_check_batch(net, 1));
    assert_ok(swiftmlp_check_batch(net, limit));
    assert_status(swiftmlp_check_batch(net, limit + 1), SWIFTMLP_ERR_TOO_LARGE);
    char message[512];
    snprintf(message, sizeof message, "%s", swiftmlp_last_error());
    assert_non_null(strstr(message, "SWIFTMLP_MAX_BATCH_ELEMENTS"));
    assert_non_null(strchr(message, ':'));
    float x[256] = {0}, y[256];
    assert_true(limit + 1 <= ARRAY_LEN(x));
    assert_status(swiftmlp_forward(net, SWIFTMLP_FLOAT32, x, limit + 1, limit + 1, y, limit + 1),
                  SWIFTMLP_ERR_TOO_LARGE);
    /* the same text after the function's name */
    assert_string_equal(strchr(swiftmlp_last_error(), ':'), strchr(message, ':'));
    assert_fails_unchanged(net, swiftmlp_check_batch(net, 0), SWIFTMLP_ERR_INVALID_ARGUMENT);
    assert_fails(swiftmlp_check_batch(NULL, 1), SWIFTMLP_ERR_NULL_POINTER);
    swiftmlp_free(net);
}

static void test_forward_batch_whose_products_wrap_is_rejected(void **state)
{
    (void)state;
#if SIZE_MAX == UINT64_MAX
    /* [2, 2, 2] with batch = 2^63 + 1: in wrapping size_t arithmetic
     * batch*N0 = batch*NL = 2 and batch*(N0+N1+N2) = 6, so an implementation
     * that multiplies without overflow checks would accept x_len = y_cap = 2.
     * The true products are far too big: either "x_len != batch*N0"
     * (BUFFER_SIZE) or "batch*activations > limit" (TOO_LARGE) is correct. */
    const size_t sizes[] = {2, 2, 2};
    const size_t batch = ((size_t)1 << 63) + 1;
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT64, 1);
    double x[2] = {0.5, -0.5}, y[2] = {0, 0};
    snapshot before = snapshot_params(net);
    swiftmlp_status s = swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, 2, batch, y, 2);
    if (s != SWIFTMLP_ERR_BUFFER_SIZE && s != SWIFTMLP_ERR_TOO_LARGE) {
        print_error("forward with batch 2^63+1 returned %d (%s), expected BUFFER_SIZE or "
                    "TOO_LARGE; last_error: \"%s\"\n",
                    (int)s, swiftmlp_status_string(s), swiftmlp_last_error());
        fail();
    }
    assert_last_error_set();
    assert_params_still(net, before, "parameters");
    swiftmlp_free(net);
#else
    skip();
#endif
}

/* ---- failures keep the cached forward state ----------------------------- */

static void test_failed_forwards_keep_previous_forward_cache(void **state)
{
    FX_FIXTURE;
    enum { B5 = FX_B + 3 };
    double x5[B5 * FX_N0], out5[B5 * FX_N2];
    for (size_t i = 0; i < B5 * FX_N0; i++) {
        x5[i] = 0.25 * (double)i - 1.0;
    }
    fixture_forward(f, f->net); /* FX_B rows: the cache backward must use */

    /* A larger batch (which would need a bigger cache) failing late on NaN. */
    x5[B5 * FX_N0 - 1] = NAN;
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x5, B5 * FX_N0, B5, out5, B5 * FX_N2),
                  SWIFTMLP_ERR_NON_FINITE);
    x5[B5 * FX_N0 - 1] = 0.0;
    /* Output capacity too small for batch 5. */
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x5, B5 * FX_N0, B5, out5, B5 * FX_N2 - 1),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    /* Batch 1 with a wrong x_len, batch 0, wrong dtype, NULL x. */
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x5, FX_N0 + 1, 1, out5, FX_N2),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x5, 0, 0, out5, FX_N2),
                  SWIFTMLP_ERR_INVALID_ARGUMENT);
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT32, f->x32, FX_B * FX_N0, FX_B, f->out32, FX_B * FX_N2),
                  SWIFTMLP_ERR_DTYPE);
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, NULL, FX_B * FX_N0, FX_B, f->out, FX_B * FX_N2),
                  SWIFTMLP_ERR_NULL_POINTER);

    /* backward with FX_B rows still works and gives exactly the gradients of a
     * network that never saw the failed calls. */
    assert_backward_matches_fresh(f, f->net);
}

static void test_failed_backward_keeps_forward_cache(void **state)
{
    FX_FIXTURE;
    double y[FX_B * FX_N2];
    memcpy(y, f->y, sizeof y);
    y[0] = NAN;
    fixture_forward(f, f->net);
    assert_status(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, y, FX_B * FX_N2, FX_B, NULL),
                  SWIFTMLP_ERR_NON_FINITE);
    assert_status(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, FX_N2, 1, NULL), SWIFTMLP_ERR_STATE);
    assert_status(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, FX_B * FX_N2 - 1, FX_B, NULL),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    assert_backward_matches_fresh(f, f->net);
}

static void test_failed_parameter_writes_keep_forward_cache(void **state)
{
    FX_FIXTURE;
    double p[FX_NPARAMS], w[FX_N1 * FX_N0];
    memcpy(p, f->p, sizeof p);
    memcpy(w, f->w0, sizeof w);
    p[3] = NAN;
    w[5] = INFINITY;
    fixture_forward(f, f->net);
    /* Failed writes change nothing, so they must not invalidate the cache. */
    assert_status(swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, p, FX_NPARAMS), SWIFTMLP_ERR_NON_FINITE);
    assert_status(swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, f->p, FX_NPARAMS - 1),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    assert_status(swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, w, FX_N1 * FX_N0, f->b0, FX_N1),
                  SWIFTMLP_ERR_NON_FINITE);
    assert_status(swiftmlp_set_layer(f->net, 5, SWIFTMLP_FLOAT64, f->w0, FX_N1 * FX_N0, f->b0, FX_N1),
                  SWIFTMLP_ERR_LAYER_INDEX);
    assert_backward_matches_fresh(f, f->net);
}

static void test_failed_step_keeps_forward_cache_and_gradients(void **state)
{
    FX_FIXTURE;
    fixture_forward(f, f->net);
    fixture_backward(f, f->net);
    snapshot g_before = snapshot_grads(f->net);
    fixture_forward(f, f->net);
    assert_status(swiftmlp_step(f->net, NAN), SWIFTMLP_ERR_INVALID_ARGUMENT);
    assert_status(swiftmlp_step(f->net, -1.0), SWIFTMLP_ERR_INVALID_ARGUMENT);
    snapshot g_after = snapshot_grads(f->net);
    assert_same_snapshot(g_before, g_after, "gradients");
    snapshot_free(&g_before);
    snapshot_free(&g_after);
    assert_backward_matches_fresh(f, f->net);
}

/* The out-parameter rule of the header's "Global rules": the out-parameter
 * that carries a call's result is required (the tables refuse NULL for
 * each); by-products may be NULL and the work is still done. */
static void test_by_product_out_parameters_may_be_null(void **state)
{
    FX_FIXTURE;
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o));
    assert_ok(swiftmlp_set_optimizer(f->net, &o));
    assert_ok(swiftmlp_train_step(f->net, SWIFTMLP_FLOAT64, f->x, FX_XLEN, f->y, FX_YLEN, FX_B, NULL));
    uint64_t steps = 0;
    assert_ok(swiftmlp_get_step_count(f->net, &steps));
    assert_int_equal(steps, 1);
    fixture_forward(f, f->net);
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, FX_YLEN, FX_B, NULL));
    swiftmlp_fit_options opts;
    assert_ok(swiftmlp_fit_options_default(&opts));
    assert_ok(swiftmlp_fit(f->net, SWIFTMLP_FLOAT64, f->x, FX_XLEN, f->y, FX_YLEN, FX_B, &opts, NULL));
    assert_ok(swiftmlp_get_step_count(f->net, &steps));
    assert_int_equal(steps, 2);
    size_t size = 0;
    assert_ok(swiftmlp_save_size(f->net, SWIFTMLP_SAVE_DEFAULT, &size));
    unsigned char *buf = malloc(size);
    assert_non_null(buf);
    assert_ok(swiftmlp_save_buffer(f->net, SWIFTMLP_SAVE_DEFAULT, buf, size, NULL));
    swiftmlp_net *copy = NULL;
    assert_ok(swiftmlp_load_buffer(buf, size, &copy));
    swiftmlp_free(copy);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        XOR_TEST("float64", k_f64),
        XOR_TEST("float32", k_f32),
        cmocka_unit_test(test_xor_loss_trends_down_over_training),
        cmocka_unit_test(test_train_step_with_sgd_equals_forward_backward_optimizer_step),
        cmocka_unit_test(test_train_step_with_adam_equals_forward_backward_optimizer_step),
        cmocka_unit_test(test_train_step_with_plain_sgd_equals_swiftmlp_step),
        BAD_SUITE_TEST(k_ts_suite, k_train_step_cases),
        BAD_TABLE_TEST(k_forward_cases),
        BAD_TABLE_TEST(k_backward_cases),
        BAD_TABLE_TEST(k_step_cases),
        cmocka_unit_test(test_forward_batch_times_activations_above_max_returns_too_large),
        cmocka_unit_test(test_check_batch_gives_the_forward_status_and_message),
        cmocka_unit_test(test_forward_batch_whose_products_wrap_is_rejected),
        cmocka_unit_test_setup_teardown(test_failed_forwards_keep_previous_forward_cache, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_backward_keeps_forward_cache, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_parameter_writes_keep_forward_cache, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_step_keeps_forward_cache_and_gradients, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_by_product_out_parameters_may_be_null, fixture_setup, fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
