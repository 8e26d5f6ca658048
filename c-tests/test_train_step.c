/*
 * test_train_step.c — swiftmlp_train_step is forward + backward + optimizer
 * step in one call: bit-identical results to the three calls, and every bad
 * input rejected with the network unchanged.
 */
#include "test_util.h"

enum { N0 = 3, N1 = 5, N2 = 2, B = 4, NPARAMS = N1 * N0 + N1 + N2 * N1 + N2 };
static const size_t k_sizes[] = {N0, N1, N2};

static const double k_x[B * N0] = {0.1, -0.2, 0.3, 1.0, 0.5, -1.5, -0.7, 0.2, 0.9, 0.0, 0.4, -0.3};
static const double k_y[B * N2] = {0, 1, 1, 0, 0.5, 0.5, 1, 1};

static swiftmlp_net *make_net(swiftmlp_optimizer_kind kind, double lr)
{
    swiftmlp_net *net = NULL;
    assert_ok(swiftmlp_create(k_sizes, 3, SWIFTMLP_FLOAT64, 11, &net));
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(kind, &o));
    o.lr = lr;
    assert_ok(swiftmlp_set_optimizer(net, &o));
    return net;
}

static void check_equals_three_calls(swiftmlp_optimizer_kind kind, double lr)
{
    swiftmlp_net *fused = make_net(kind, lr), *split = make_net(kind, lr);
    double out[B * N2], a[NPARAMS], b[NPARAMS];
    for (int step = 0; step < 5; step++) {
        double loss_fused = NAN, loss_split = NAN;
        assert_ok(swiftmlp_train_step(fused, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, &loss_fused));
        assert_ok(swiftmlp_forward(split, SWIFTMLP_FLOAT64, k_x, B * N0, B, out, B * N2));
        assert_ok(swiftmlp_backward(split, SWIFTMLP_FLOAT64, k_y, B * N2, B, &loss_split));
        assert_ok(swiftmlp_optimizer_step(split));
        assert_true(loss_fused == loss_split);
    }
    assert_ok(swiftmlp_get_params(fused, SWIFTMLP_FLOAT64, a, NPARAMS));
    assert_ok(swiftmlp_get_params(split, SWIFTMLP_FLOAT64, b, NPARAMS));
    assert_memory_equal(a, b, sizeof a);
    uint64_t ta = 0, tb = 0;
    assert_ok(swiftmlp_get_step_count(fused, &ta));
    assert_ok(swiftmlp_get_step_count(split, &tb));
    assert_int_equal(ta, 5);
    assert_int_equal(tb, 5);
    swiftmlp_free(fused);
    swiftmlp_free(split);
}

static void test_train_step_with_sgd_equals_forward_backward_optimizer_step(void **state)
{
    (void)state;
    check_equals_three_calls(SWIFTMLP_OPT_SGD, 0.5);
}

static void test_train_step_with_adam_equals_forward_backward_optimizer_step(void **state)
{
    (void)state;
    check_equals_three_calls(SWIFTMLP_OPT_ADAM, 0.01);
}

static void test_train_step_with_plain_sgd_equals_swiftmlp_step(void **state)
{
    (void)state;
    swiftmlp_net *fused = make_net(SWIFTMLP_OPT_SGD, 0.25), *plain = NULL;
    assert_ok(swiftmlp_create(k_sizes, 3, SWIFTMLP_FLOAT64, 11, &plain));
    double out[B * N2], a[NPARAMS], b[NPARAMS];
    assert_ok(swiftmlp_train_step(fused, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, NULL));
    assert_ok(swiftmlp_forward(plain, SWIFTMLP_FLOAT64, k_x, B * N0, B, out, B * N2));
    assert_ok(swiftmlp_backward(plain, SWIFTMLP_FLOAT64, k_y, B * N2, B, NULL));
    assert_ok(swiftmlp_step(plain, 0.25));
    assert_ok(swiftmlp_get_params(fused, SWIFTMLP_FLOAT64, a, NPARAMS));
    assert_ok(swiftmlp_get_params(plain, SWIFTMLP_FLOAT64, b, NPARAMS));
    assert_memory_equal(a, b, sizeof a);
    swiftmlp_free(fused);
    swiftmlp_free(plain);
}

/* The call fails with `expected`, sets a message, and leaves the parameters alone. */
static void check_rejected(swiftmlp_net *net, swiftmlp_status got, swiftmlp_status expected)
{
    double after[NPARAMS];
    assert_status(got, expected);
    assert_last_error_set();
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, after, NPARAMS));
    for (size_t i = 0; i < NPARAMS; i++) {
        assert_true(isfinite(after[i]));
    }
}

#define REJECT_TEST(name, expected, ...)                                          \
    static void name(void **state)                                                \
    {                                                                             \
        (void)state;                                                              \
        swiftmlp_net *net = make_net(SWIFTMLP_OPT_SGD, 0.1);                      \
        double before[NPARAMS], after[NPARAMS];                                   \
        assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, before, NPARAMS));   \
        check_rejected(net, swiftmlp_train_step(__VA_ARGS__), expected);          \
        assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, after, NPARAMS));    \
        assert_memory_equal(before, after, sizeof before);                        \
        swiftmlp_free(net);                                                       \
    }

static const double k_nan_x[B * N0] = {NAN};

REJECT_TEST(test_train_step_null_x_returns_null_pointer, SWIFTMLP_ERR_NULL_POINTER,
            net, SWIFTMLP_FLOAT64, NULL, B * N0, k_y, B * N2, B, NULL)
REJECT_TEST(test_train_step_null_y_returns_null_pointer, SWIFTMLP_ERR_NULL_POINTER,
            net, SWIFTMLP_FLOAT64, k_x, B * N0, NULL, B * N2, B, NULL)
REJECT_TEST(test_train_step_batch_zero_returns_invalid_argument, SWIFTMLP_ERR_INVALID_ARGUMENT,
            net, SWIFTMLP_FLOAT64, k_x, 0, k_y, 0, 0, NULL)
REJECT_TEST(test_train_step_short_x_returns_buffer_size, SWIFTMLP_ERR_BUFFER_SIZE,
            net, SWIFTMLP_FLOAT64, k_x, B * N0 - 1, k_y, B * N2, B, NULL)
REJECT_TEST(test_train_step_short_y_returns_buffer_size, SWIFTMLP_ERR_BUFFER_SIZE,
            net, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2 - 1, B, NULL)
REJECT_TEST(test_train_step_float32_buffers_on_float64_net_return_dtype, SWIFTMLP_ERR_DTYPE,
            net, SWIFTMLP_FLOAT32, k_x, B * N0, k_y, B * N2, B, NULL)
REJECT_TEST(test_train_step_unknown_dtype_returns_invalid_argument, SWIFTMLP_ERR_INVALID_ARGUMENT,
            net, (swiftmlp_dtype)9, k_x, B * N0, k_y, B * N2, B, NULL)
REJECT_TEST(test_train_step_nan_x_returns_non_finite, SWIFTMLP_ERR_NON_FINITE,
            net, SWIFTMLP_FLOAT64, k_nan_x, B * N0, k_y, B * N2, B, NULL)

static void test_train_step_without_optimizer_returns_state(void **state)
{
    (void)state;
    swiftmlp_net *net = NULL;
    assert_ok(swiftmlp_create(k_sizes, 3, SWIFTMLP_FLOAT64, 11, &net));
    double before[NPARAMS], after[NPARAMS];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, before, NPARAMS));
    assert_status(swiftmlp_train_step(net, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, NULL),
                  SWIFTMLP_ERR_STATE);
    assert_last_error_set();
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, after, NPARAMS));
    assert_memory_equal(before, after, sizeof before);
    swiftmlp_free(net);
}

static void test_train_step_null_net_returns_null_pointer(void **state)
{
    (void)state;
    assert_status(swiftmlp_train_step(NULL, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, NULL),
                  SWIFTMLP_ERR_NULL_POINTER);
    assert_last_error_set();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_step_with_sgd_equals_forward_backward_optimizer_step),
        cmocka_unit_test(test_train_step_with_adam_equals_forward_backward_optimizer_step),
        cmocka_unit_test(test_train_step_with_plain_sgd_equals_swiftmlp_step),
        cmocka_unit_test(test_train_step_null_x_returns_null_pointer),
        cmocka_unit_test(test_train_step_null_y_returns_null_pointer),
        cmocka_unit_test(test_train_step_batch_zero_returns_invalid_argument),
        cmocka_unit_test(test_train_step_short_x_returns_buffer_size),
        cmocka_unit_test(test_train_step_short_y_returns_buffer_size),
        cmocka_unit_test(test_train_step_float32_buffers_on_float64_net_return_dtype),
        cmocka_unit_test(test_train_step_unknown_dtype_returns_invalid_argument),
        cmocka_unit_test(test_train_step_nan_x_returns_non_finite),
        cmocka_unit_test(test_train_step_without_optimizer_returns_state),
        cmocka_unit_test(test_train_step_null_net_returns_null_pointer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
