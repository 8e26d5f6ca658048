/*
 * test_step_consumes.c — a step consumes the gradients (include/swiftmlp.h,
 * "Global rules"): swiftmlp_step and swiftmlp_optimizer_step need a backward
 * since the parameters last changed; a second step without one returns
 * SWIFTMLP_ERR_STATE and changes nothing (parameters, optimizer state and
 * step count), where it used to apply the same gradients to the new
 * parameters. Every way of changing the parameters (step, optimizer_step,
 * train_step, fit, set_params, set_layer) consumes them; a refused step
 * (NON_FINITE) does not; the gradients stay readable.
 */
#define _GNU_SOURCE
#include "model_test_util.h"

enum { N0 = 3, N1 = 5, N2 = 2, B = 4 };
static const size_t k_sizes[] = {N0, N1, N2};
static const double k_x[B * N0] = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9, -1.0, 1.1, 0.2};
static const double k_y[B * N2] = {0, 1, 1, 0, 0.5, 0.5, 1, 1};
static double g_out[64];

static void forward_backward(swiftmlp_net *net)
{
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, B * N0, B, g_out, B * N2));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, B * N2, B, NULL));
}

static swiftmlp_net *net_with(swiftmlp_optimizer_kind kind, double momentum)
{
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 11);
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(kind, &o));
    o.momentum = kind == SWIFTMLP_OPT_SGD ? momentum : 0;
    assert_ok(swiftmlp_set_optimizer(net, &o));
    return net;
}

/* The whole model with its optimizer state, as bytes. */
static unsigned char *model_bytes(swiftmlp_net *net, size_t *len)
{
    assert_ok(swiftmlp_save_size(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, len));
    unsigned char *buf = malloc(*len);
    assert_non_null(buf);
    assert_ok(swiftmlp_save_buffer(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, buf, *len, NULL));
    return buf;
}

/* `call` must fail with STATE, naming the reason, and change nothing. */
#define assert_refused_unchanged(net, call)                                         \
    do {                                                                            \
        size_t len0_, len1_;                                                        \
        unsigned char *m0_ = model_bytes((net), &len0_);                            \
        uint64_t t0_, t1_;                                                          \
        assert_ok(swiftmlp_get_step_count((net), &t0_));                      \
        assert_status((call), SWIFTMLP_ERR_STATE);                                  \
        assert_non_null(strstr(swiftmlp_last_error(), "backward"));                 \
        unsigned char *m1_ = model_bytes((net), &len1_);                            \
        assert_ok(swiftmlp_get_step_count((net), &t1_));                      \
        assert_int_equal(len0_, len1_);                                             \
        assert_memory_equal(m0_, m1_, len0_);                                       \
        assert_int_equal(t0_, t1_);                                                 \
        free(m0_);                                                                  \
        free(m1_);                                                                  \
    } while (0)

static void test_second_plain_step_is_refused(void **state)
{
    (void)state;
    swiftmlp_net *net = net_with(SWIFTMLP_OPT_SGD, 0);
    forward_backward(net);
    snapshot grads = snapshot_grads(net);
    assert_ok(swiftmlp_step(net, 0.1));
    assert_refused_unchanged(net, swiftmlp_step(net, 0.1));
    assert_refused_unchanged(net, swiftmlp_optimizer_step(net));
    /* the gradients are still readable, unchanged */
    snapshot after = snapshot_grads(net);
    assert_same_snapshot(grads, after, "gradients");
    /* a new forward and backward allow the next step */
    forward_backward(net);
    assert_ok(swiftmlp_step(net, 0.1));
    snapshot_free(&grads);
    snapshot_free(&after);
    swiftmlp_free(net);
}

static void test_second_optimizer_step_is_refused(void **state)
{
    (void)state;
    const swiftmlp_optimizer_kind kinds[] = {SWIFTMLP_OPT_SGD, SWIFTMLP_OPT_ADAM, SWIFTMLP_OPT_ADAMW};
    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        swiftmlp_net *net = net_with(kinds[k], 0.9);
        forward_backward(net);
        assert_ok(swiftmlp_optimizer_step(net));
        assert_refused_unchanged(net, swiftmlp_optimizer_step(net));
        assert_refused_unchanged(net, swiftmlp_step(net, 0.1));
        uint64_t t = 0;
        assert_ok(swiftmlp_get_step_count(net, &t));
        assert_int_equal(t, 1);
        forward_backward(net);
        assert_ok(swiftmlp_optimizer_step(net));
        assert_ok(swiftmlp_get_step_count(net, &t));
        assert_int_equal(t, 2);
        swiftmlp_free(net);
    }
}

static void test_every_parameter_change_consumes_the_gradients(void **state)
{
    (void)state;
    size_t count = 0;
    /* train_step */
    swiftmlp_net *net = net_with(SWIFTMLP_OPT_ADAM, 0);
    assert_ok(swiftmlp_train_step(net, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, NULL));
    assert_refused_unchanged(net, swiftmlp_optimizer_step(net));
    assert_refused_unchanged(net, swiftmlp_step(net, 0.1));
    swiftmlp_free(net);
    /* train_step's fused plain-SGD path (a small network) */
    net = net_with(SWIFTMLP_OPT_SGD, 0);
    assert_ok(swiftmlp_train_step(net, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, NULL));
    assert_refused_unchanged(net, swiftmlp_optimizer_step(net));
    assert_refused_unchanged(net, swiftmlp_step(net, 0.1));
    swiftmlp_free(net);
    /* fit, after a backward of its own */
    net = net_with(SWIFTMLP_OPT_SGD, 0);
    forward_backward(net);
    assert_ok(swiftmlp_fit(net, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, NULL, NULL));
    assert_refused_unchanged(net, swiftmlp_step(net, 0.1));
    assert_refused_unchanged(net, swiftmlp_optimizer_step(net));
    swiftmlp_free(net);
    /* set_params and set_layer between backward and step */
    net = net_with(SWIFTMLP_OPT_SGD, 0);
    assert_ok(swiftmlp_get_param_count(net, &count));
    double *p = calloc(count, sizeof *p);
    assert_non_null(p);
    forward_backward(net);
    assert_ok(swiftmlp_set_params(net, SWIFTMLP_FLOAT64, p, count));
    assert_refused_unchanged(net, swiftmlp_step(net, 0.1));
    forward_backward(net);
    assert_ok(swiftmlp_set_layer(net, 1, SWIFTMLP_FLOAT64, p, N2 * N1, p, N2));
    assert_refused_unchanged(net, swiftmlp_optimizer_step(net));
    free(p);
    swiftmlp_free(net);
}

static void test_what_does_not_change_the_parameters_keeps_them(void **state)
{
    (void)state;
    /* a refused step changes nothing, so it consumes nothing (float32: an
     * lr of 1e300 overflows float) */
    swiftmlp_net *f32 = create_net(k_sizes, 3, SWIFTMLP_FLOAT32, 11);
    float xf[B * N0], yf[B * N2], out[B * N2];
    for (size_t i = 0; i < B * N0; i++) {
        xf[i] = (float)k_x[i];
    }
    for (size_t i = 0; i < B * N2; i++) {
        yf[i] = (float)k_y[i];
    }
    assert_ok(swiftmlp_forward(f32, SWIFTMLP_FLOAT32, xf, B * N0, B, out, B * N2));
    assert_ok(swiftmlp_backward(f32, SWIFTMLP_FLOAT32, yf, B * N2, B, NULL));
    assert_status(swiftmlp_step(f32, 1e300), SWIFTMLP_ERR_NON_FINITE);
    assert_ok(swiftmlp_step(f32, 0.1));
    assert_status(swiftmlp_step(f32, 0.1), SWIFTMLP_ERR_STATE);
    swiftmlp_free(f32);

    swiftmlp_net *net = net_with(SWIFTMLP_OPT_SGD, 0);
    forward_backward(net);
    /* reading calls, a new optimizer, a predict, a gradient check */
    set_default_optimizer(net, SWIFTMLP_OPT_ADAM);
    assert_ok(swiftmlp_predict(net, SWIFTMLP_FLOAT64, k_x, B * N0, B, g_out, B * N2));
    swiftmlp_gradcheck g;
    assert_ok(swiftmlp_gradient_check(net, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, 1e-3, &g));
    size_t size = 0;
    assert_ok(swiftmlp_save_size(net, 0, &size));
    assert_ok(swiftmlp_step(net, 0.1));
    assert_status(swiftmlp_step(net, 0.1), SWIFTMLP_ERR_STATE);
    swiftmlp_free(net);
}

static void test_a_loaded_network_has_no_gradients_to_step(void **state)
{
    (void)state;
    swiftmlp_net *net = net_with(SWIFTMLP_OPT_SGD, 0);
    forward_backward(net);
    size_t len = 0;
    unsigned char *bytes = model_bytes(net, &len);
    swiftmlp_net *loaded = NULL;
    assert_ok(swiftmlp_load_buffer(bytes, len, &loaded));
    assert_status(swiftmlp_step(loaded, 0.1), SWIFTMLP_ERR_STATE);
    assert_status(swiftmlp_optimizer_step(loaded), SWIFTMLP_ERR_STATE);
    free(bytes);
    swiftmlp_free(loaded);
    swiftmlp_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_plain_step_is_refused),
        cmocka_unit_test(test_second_optimizer_step_is_refused),
        cmocka_unit_test(test_every_parameter_change_consumes_the_gradients),
        cmocka_unit_test(test_what_does_not_change_the_parameters_keeps_them),
        cmocka_unit_test(test_a_loaded_network_has_no_gradients_to_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
