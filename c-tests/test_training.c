/*
 * test_training.c — plain SGD actually learns: XOR with a [2, 4, 1] network.
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

static void test_xor_float64_training_reduces_loss_below_0_01(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, k_seed);
    double out[4], loss = 0, first_loss = -1;
    for (int i = 0; i < STEPS; i++) {
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, 8, 4, out, 4));
        assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, 4, 4, &loss));
        if (i == 0) {
            first_loss = loss;
        }
        assert_ok(swiftmlp_step(net, k_lr));
    }
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, 8, 4, out, 4));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, 4, 4, &loss));
    check_final(first_loss, loss, out);
    swiftmlp_free(net);
}

static void test_xor_float32_training_reduces_loss_below_0_01(void **state)
{
    (void)state;
    float x[8], y[4], out32[4];
    for (int i = 0; i < 8; i++) {
        x[i] = (float)k_x[i];
    }
    for (int i = 0; i < 4; i++) {
        y[i] = (float)k_y[i];
    }
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT32, k_seed);
    double loss = 0, first_loss = -1;
    for (int i = 0; i < STEPS; i++) {
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT32, x, 8, 4, out32, 4));
        assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT32, y, 4, 4, &loss));
        if (i == 0) {
            first_loss = loss;
        }
        assert_ok(swiftmlp_step(net, k_lr));
    }
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT32, x, 8, 4, out32, 4));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT32, y, 4, 4, &loss));
    double out[4] = {out32[0], out32[1], out32[2], out32[3]};
    check_final(first_loss, loss, out);
    swiftmlp_free(net);
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xor_float64_training_reduces_loss_below_0_01),
        cmocka_unit_test(test_xor_float32_training_reduces_loss_below_0_01),
        cmocka_unit_test(test_xor_loss_trends_down_over_training),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
