/*
 * test_math.c — forward, backward and step against values worked out by hand
 * from the lecture's equations (see the header's "math" section):
 *
 *     f_l = g_{l-1} W_l^T + b_l,   g_l = sigmoid(f_l),   g_0 = x
 *     L = 1/(B*NL) * sum (g_L - y)^2
 *     dL/dg_L = 2/(B*NL) (g_L - y)
 *     dL/df_l = dL/dg_l * g_l (1 - g_l)
 *     dL/dW_l = (dL/df_l)^T g_{l-1},  dL/db_l = sum_batch dL/df_l
 *     dL/dg_{l-1} = dL/df_l W_l
 *     W -= lr dL/dW,  b -= lr dL/db
 *
 * The expected values below are written out scalar by scalar (no loops, no
 * library calls other than libm's exp); the comments give the arithmetic and
 * the resulting numbers.
 */
#include "test_util.h"

static double sigmoid(double f)
{
    return 1.0 / (1.0 + exp(-f));
}

/*
 * The network [2, 2, 1]:
 *     W_0 = [[0.1, 0.2],      b_0 = [0.5, -0.5]
 *            [0.3, 0.4]]
 *     W_1 = [[0.6, -0.7]]     b_1 = [0.2]
 * Batch B = 2:
 *     x = [[ 1.0, 2.0],       y = [[1.0],
 *          [-1.0, 0.5]]            [0.0]]
 * Learning rate 0.5.
 */
static const size_t k_sizes[] = {2, 2, 1};
static const double k_w0[4] = {0.1, 0.2, 0.3, 0.4};
static const double k_b0[2] = {0.5, -0.5};
static const double k_w1[2] = {0.6, -0.7};
static const double k_b1[1] = {0.2};
static const double k_x[4] = {1.0, 2.0, -1.0, 0.5};
static const double k_y[2] = {1.0, 0.0};
static const double k_lr = 0.5;

typedef struct hand_values {
    double out[2];           /* g_1 for the two samples */
    double loss;
    double dw0[4], db0[2];   /* dL/dW_0 (row-major), dL/db_0 */
    double dw1[2], db1[1];   /* dL/dW_1, dL/db_1 */
    double new_w0[4], new_b0[2], new_w1[2], new_b1[1];
} hand_values;

static hand_values compute_by_hand(void)
{
    hand_values h;

    /* ---- forward, layer 0 (f = x W_0^T + b_0) ----
     * sample 0: f0_00 = 0.1*1    + 0.2*2   + 0.5 = 1.0
     *           f0_01 = 0.3*1    + 0.4*2   - 0.5 = 0.6
     * sample 1: f0_10 = 0.1*(-1) + 0.2*0.5 + 0.5 = 0.5
     *           f0_11 = 0.3*(-1) + 0.4*0.5 - 0.5 = -0.6            */
    double f0_00 = 0.1 * 1.0 + 0.2 * 2.0 + 0.5;
    double f0_01 = 0.3 * 1.0 + 0.4 * 2.0 - 0.5;
    double f0_10 = 0.1 * -1.0 + 0.2 * 0.5 + 0.5;
    double f0_11 = 0.3 * -1.0 + 0.4 * 0.5 - 0.5;
    /* g = 1/(1+exp(-f)):
     *   g0_00 = sigmoid(1.0)  = 0.7310585786300049
     *   g0_01 = sigmoid(0.6)  = 0.6456563062257954
     *   g0_10 = sigmoid(0.5)  = 0.6224593312018546
     *   g0_11 = sigmoid(-0.6) = 0.35434369377420455                 */
    double g0_00 = sigmoid(f0_00), g0_01 = sigmoid(f0_01);
    double g0_10 = sigmoid(f0_10), g0_11 = sigmoid(f0_11);

    /* ---- forward, layer 1 (f = g_0 W_1^T + b_1) ----
     *   f1_0 = 0.6*0.7310585786 - 0.7*0.6456563062 + 0.2 = 0.1866757328199462
     *   f1_1 = 0.6*0.6224593312 - 0.7*0.3543436938 + 0.2 = 0.32543501307916956
     *   g1_0 = sigmoid(f1_0) = 0.5465338779060033
     *   g1_1 = sigmoid(f1_1) = 0.5806482324202089                   */
    double f1_0 = 0.6 * g0_00 + -0.7 * g0_01 + 0.2;
    double f1_1 = 0.6 * g0_10 + -0.7 * g0_11 + 0.2;
    double g1_0 = sigmoid(f1_0), g1_1 = sigmoid(f1_1);
    h.out[0] = g1_0;
    h.out[1] = g1_1;

    /* ---- loss, B*NL = 2*1 = 2 ----
     *   L = ((0.5465338779 - 1)^2 + (0.5806482324 - 0)^2) / 2 = 0.27139194684984025 */
    h.loss = ((g1_0 - 1.0) * (g1_0 - 1.0) + (g1_1 - 0.0) * (g1_1 - 0.0)) / 2.0;

    /* ---- backward, output layer ----
     *   dL/dg1 = 2/(B*NL) (g1 - y) = (g1 - y):
     *     dg1_0 = 0.5465338779 - 1 = -0.4534661220939967
     *     dg1_1 = 0.5806482324 - 0 =  0.5806482324202089
     *   dL/df1 = dL/dg1 * g1 (1 - g1):
     *     df1_0 = -0.4534661221 * 0.5465338779 * 0.4534661221 = -0.11238459416966531
     *     df1_1 =  0.5806482324 * 0.5806482324 * 0.4193517676 =  0.14138544222467658 */
    double dg1_0 = 2.0 / 2.0 * (g1_0 - 1.0);
    double dg1_1 = 2.0 / 2.0 * (g1_1 - 0.0);
    double df1_0 = dg1_0 * g1_0 * (1.0 - g1_0);
    double df1_1 = dg1_1 * g1_1 * (1.0 - g1_1);
    /*   dL/dW1 = df1^T g0 (1x2):
     *     dw1_0 = df1_0*g0_00 + df1_1*g0_10
     *           = -0.1123845942*0.7310585786 + 0.1413854422*0.6224593312 =  0.005846966135265183
     *     dw1_1 = df1_0*g0_01 + df1_1*g0_11
     *           = -0.1123845942*0.6456563062 + 0.1413854422*0.3543436938 = -0.022462782104479877
     *   dL/db1 = df1_0 + df1_1 = 0.02900084805501127                    */
    h.dw1[0] = df1_0 * g0_00 + df1_1 * g0_10;
    h.dw1[1] = df1_0 * g0_01 + df1_1 * g0_11;
    h.db1[0] = df1_0 + df1_1;

    /* ---- backward, hidden layer ----
     *   dL/dg0 = df1 W1:
     *     dg0_00 = df1_0 *  0.6 = -0.06743075650179918
     *     dg0_01 = df1_0 * -0.7 =  0.07866921591876572
     *     dg0_10 = df1_1 *  0.6 =  0.08483126533480595
     *     dg0_11 = df1_1 * -0.7 = -0.09896980955727361
     *   dL/df0 = dL/dg0 * g0 (1 - g0):
     *     df0_00 = -0.0674307565 * 0.7310585786 * 0.2689414214 = -0.013257691395754357
     *     df0_01 =  0.0786692159 * 0.6456563062 * 0.3543436938 =  0.01799827681129559
     *     df0_10 =  0.0848312653 * 0.6224593312 * 0.3775406688 =  0.019935662264437836
     *     df0_11 = -0.0989698096 * 0.3543436938 * 0.6456563062 = -0.022642732707700862 */
    double dg0_00 = df1_0 * 0.6, dg0_01 = df1_0 * -0.7;
    double dg0_10 = df1_1 * 0.6, dg0_11 = df1_1 * -0.7;
    double df0_00 = dg0_00 * g0_00 * (1.0 - g0_00);
    double df0_01 = dg0_01 * g0_01 * (1.0 - g0_01);
    double df0_10 = dg0_10 * g0_10 * (1.0 - g0_10);
    double df0_11 = dg0_11 * g0_11 * (1.0 - g0_11);
    /*   dL/dW0 = df0^T x (2x2, row = hidden unit, column = input):
     *     dw0_00 = df0_00*1 + df0_10*(-1)  = -0.033193353660192194
     *     dw0_01 = df0_00*2 + df0_10*0.5   = -0.016547551659289797
     *     dw0_10 = df0_01*1 + df0_11*(-1)  =  0.04064100951899645
     *     dw0_11 = df0_01*2 + df0_11*0.5   =  0.02467518726874075
     *   dL/db0 = column sums of df0:
     *     db0_0 = df0_00 + df0_10 =  0.006677970868683479
     *     db0_1 = df0_01 + df0_11 = -0.004644455896405272              */
    h.dw0[0] = df0_00 * 1.0 + df0_10 * -1.0;
    h.dw0[1] = df0_00 * 2.0 + df0_10 * 0.5;
    h.dw0[2] = df0_01 * 1.0 + df0_11 * -1.0;
    h.dw0[3] = df0_01 * 2.0 + df0_11 * 0.5;
    h.db0[0] = df0_00 + df0_10;
    h.db0[1] = df0_01 + df0_11;

    /* ---- SGD step, lr = 0.5 ----
     *   W0 = [[0.1 - 0.5*(-0.0331933537), 0.2 - 0.5*(-0.0165475517)],
     *         [0.3 - 0.5*( 0.0406410095), 0.4 - 0.5*( 0.0246751873)]]
     *      = [[0.1165966768300961, 0.2082737758296449],
     *         [0.2796794952405018, 0.38766240636562965]]
     *   b0 = [0.5 - 0.5*0.0066779709, -0.5 - 0.5*(-0.0046444559)]
     *      = [0.49666101456565825, -0.49767777205179736]
     *   W1 = [[0.6 - 0.5*0.0058469661, -0.7 - 0.5*(-0.0224627821)]]
     *      = [[0.5970765169323674, -0.68876860894776]]
     *   b1 = [0.2 - 0.5*0.0290008481] = [0.1854995759724944]           */
    h.new_w0[0] = 0.1 - 0.5 * h.dw0[0];
    h.new_w0[1] = 0.2 - 0.5 * h.dw0[1];
    h.new_w0[2] = 0.3 - 0.5 * h.dw0[2];
    h.new_w0[3] = 0.4 - 0.5 * h.dw0[3];
    h.new_b0[0] = 0.5 - 0.5 * h.db0[0];
    h.new_b0[1] = -0.5 - 0.5 * h.db0[1];
    h.new_w1[0] = 0.6 - 0.5 * h.dw1[0];
    h.new_w1[1] = -0.7 - 0.5 * h.dw1[1];
    h.new_b1[0] = 0.2 - 0.5 * h.db1[0];
    return h;
}

/* The float64 2-2-1 network with the parameters above. */
static swiftmlp_net *hand_net(void)
{
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 0);
    assert_ok(swiftmlp_set_layer(net, 0, SWIFTMLP_FLOAT64, k_w0, 4, k_b0, 2));
    assert_ok(swiftmlp_set_layer(net, 1, SWIFTMLP_FLOAT64, k_w1, 2, k_b1, 1));
    return net;
}

/* Sanity check of the hand computation against the decimals in the comments. */
static void test_hand_computation_matches_commented_decimals(void **state)
{
    (void)state;
    hand_values h = compute_by_hand();
    assert_close(h.out[0], 0.5465338779060033, 1e-14, 0);
    assert_close(h.out[1], 0.5806482324202089, 1e-14, 0);
    assert_close(h.loss, 0.27139194684984025, 1e-14, 0);
    assert_close(h.dw1[0], 0.005846966135265183, 1e-12, 0);
    assert_close(h.dw1[1], -0.022462782104479877, 1e-12, 0);
    assert_close(h.db1[0], 0.02900084805501127, 1e-12, 0);
    assert_close(h.dw0[0], -0.033193353660192194, 1e-12, 0);
    assert_close(h.dw0[1], -0.016547551659289797, 1e-12, 0);
    assert_close(h.dw0[2], 0.04064100951899645, 1e-12, 0);
    assert_close(h.dw0[3], 0.02467518726874075, 1e-12, 0);
    assert_close(h.db0[0], 0.006677970868683479, 1e-12, 0);
    assert_close(h.db0[1], -0.004644455896405272, 1e-12, 0);
    assert_close(h.new_w0[0], 0.1165966768300961, 1e-14, 0);
    assert_close(h.new_b1[0], 0.1854995759724944, 1e-14, 0);
}

/* The hand-computed network in dtype dt: forward, loss, gradients (per
 * layer and flat) and the SGD step agree with compute_by_hand() to tol. */
static void check_hand_network(swiftmlp_dtype dt, double tol)
{
    hand_values h = compute_by_hand();
    dtype_buf w0, b0, w1, b1, x, y, out, dw0, db0, dw1, db1, grads, params;
    swiftmlp_net *net = create_net(k_sizes, 3, dt, 0);
    assert_ok(swiftmlp_set_layer(net, 0, dt, as_dtype(dt, k_w0, 4, &w0), 4, as_dtype(dt, k_b0, 2, &b0), 2));
    assert_ok(swiftmlp_set_layer(net, 1, dt, as_dtype(dt, k_w1, 2, &w1), 2, as_dtype(dt, k_b1, 1, &b1), 1));

    const double minus_one[2] = {-1.0, -1.0};
    assert_ok(swiftmlp_forward(net, dt, as_dtype(dt, k_x, 4, &x), 4, 2, as_dtype(dt, minus_one, 2, &out), 2));
    assert_dtype_buf_close(dt, &out, h.out, 2, tol);

    double loss = -1.0;
    assert_ok(swiftmlp_backward(net, dt, as_dtype(dt, k_y, 2, &y), 2, 2, &loss));
    assert_close(loss, h.loss, 0, tol);

    /* Per-layer gradients. */
    assert_ok(swiftmlp_get_layer_grads(net, 0, dt, dw0.f64, 4, db0.f64, 2));
    assert_ok(swiftmlp_get_layer_grads(net, 1, dt, dw1.f64, 2, db1.f64, 1));
    assert_dtype_buf_close(dt, &dw0, h.dw0, 4, tol);
    assert_dtype_buf_close(dt, &db0, h.db0, 2, tol);
    assert_dtype_buf_close(dt, &dw1, h.dw1, 2, tol);
    assert_dtype_buf_close(dt, &db1, h.db1, 1, tol);

    /* The flat gradient buffer in the documented layout: W0, b0, W1, b1. */
    assert_ok(swiftmlp_get_grads(net, dt, grads.f64, 9));
    const double flat[9] = {h.dw0[0], h.dw0[1], h.dw0[2], h.dw0[3], h.db0[0], h.db0[1],
                            h.dw1[0], h.dw1[1], h.db1[0]};
    assert_dtype_buf_close(dt, &grads, flat, 9, tol);

    assert_ok(swiftmlp_step(net, k_lr));
    assert_ok(swiftmlp_get_params(net, dt, params.f64, 9));
    const double updated[9] = {h.new_w0[0], h.new_w0[1], h.new_w0[2], h.new_w0[3], h.new_b0[0],
                               h.new_b0[1], h.new_w1[0], h.new_w1[1], h.new_b1[0]};
    assert_dtype_buf_close(dt, &params, updated, 9, tol);
    swiftmlp_free(net);
}

TEST_CALLING(test_hand_computed_2_2_1_float64_matches_to_1e_12,
             check_hand_network(SWIFTMLP_FLOAT64, 1e-12))
TEST_CALLING(test_hand_computed_2_2_1_float32_matches_to_1e_6,
             check_hand_network(SWIFTMLP_FLOAT32, 1e-6))

/* A single sample's forward is independent of the rest of the batch. */
static void test_forward_rows_are_independent_of_batch(void **state)
{
    (void)state;
    hand_values h = compute_by_hand();
    swiftmlp_net *net = hand_net();
    double out = -1.0;
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x + 2, 2, 1, &out, 1));
    assert_close(out, h.out[1], 0, 1e-12);
    /* Batch 1 backward: L = (g - 0)^2, dL/dg = 2 (g - 0). */
    double loss = -1.0;
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y + 1, 1, 1, &loss));
    assert_close(loss, h.out[1] * h.out[1], 0, 1e-12);
    swiftmlp_free(net);
}

/* Loss is the mean over batch AND outputs: a [1, 2] net with zero weights
 * outputs sigmoid(b) and L = mean over B*NL = 3*2 entries. */
static void test_loss_is_mean_over_batch_and_outputs(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2};
    swiftmlp_net *net = create_net(sizes, 2, SWIFTMLP_FLOAT64, 0);
    const double w[2] = {0.0, 0.0}, b[2] = {0.0, 1.0};
    assert_ok(swiftmlp_set_layer(net, 0, SWIFTMLP_FLOAT64, w, 2, b, 2));
    const double x[3] = {1.0, 2.0, 3.0};
    double out[6];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, 3, 3, out, 6));
    /* g = [sigmoid(0), sigmoid(1)] = [0.5, 0.7310585786] for every sample. */
    const double s1 = 1.0 / (1.0 + exp(-1.0));
    for (int i = 0; i < 3; i++) {
        assert_close(out[2 * i], 0.5, 0, 1e-14);
        assert_close(out[2 * i + 1], s1, 0, 1e-14);
    }
    /* y all zero: L = (3*0.25 + 3*s1^2) / 6 */
    const double y[6] = {0, 0, 0, 0, 0, 0};
    double loss = -1.0;
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, 6, 3, &loss));
    assert_close(loss, (3 * 0.25 + 3 * s1 * s1) / 6.0, 0, 1e-14);
    /* db_0 = sum_i 2/6 * g * g(1-g):  unit 0: 3 * (1/3) * 0.5*0.25 = 0.125 */
    double dw[2], db[2];
    assert_ok(swiftmlp_get_layer_grads(net, 0, SWIFTMLP_FLOAT64, dw, 2, db, 2));
    assert_close(db[0], 0.125, 0, 1e-14);
    assert_close(db[1], 3 * (2.0 / 6.0) * s1 * s1 * (1 - s1), 0, 1e-14);
    /* dW_0[j][0] = sum_i df_ij * x_i = df_j * (1+2+3) since df is the same per row. */
    assert_close(dw[0], 0.125 / 3.0 * 6.0, 0, 1e-14);
    assert_close(dw[1], (2.0 / 6.0) * s1 * s1 * (1 - s1) * 6.0, 0, 1e-14);
    swiftmlp_free(net);
}

/* ---- sigmoid extremes --------------------------------------------------- */

static void check_sigmoid_extremes(swiftmlp_dtype dtype)
{
    /* [1, 1] net, W = 1000, b = 0; x = [1, -1] gives f = +1000 and -1000. */
    const size_t sizes[] = {1, 1};
    swiftmlp_net *net = create_net(sizes, 2, dtype, 0);
    const double w[1] = {1000.0}, b[1] = {0.0}, x[2] = {1.0, -1.0}, y[2] = {0.0, 1.0};
    /* The smallest tolerance the dtype can express near 0. */
    const double tiny = dtype == SWIFTMLP_FLOAT64 ? 1e-300 : 1e-30;
    dtype_buf wb, bb, xb, yb, out, grads, p;
    double loss = -1.0;
    assert_ok(swiftmlp_set_layer(net, 0, dtype, as_dtype(dtype, w, 1, &wb), 1, as_dtype(dtype, b, 1, &bb), 1));
    assert_ok(swiftmlp_forward(net, dtype, as_dtype(dtype, x, 2, &xb), 2, 2, out.f64, 2));
    assert_true(dtype_buf_at(dtype, &out, 0) == 1.0);
    assert_true(dtype_buf_at(dtype, &out, 1) == 0.0);
    assert_ok(swiftmlp_backward(net, dtype, as_dtype(dtype, y, 2, &yb), 2, 2, &loss));
    assert_ok(swiftmlp_get_grads(net, dtype, grads.f64, 2));
    assert_true(isfinite(dtype_buf_at(dtype, &grads, 0)));
    assert_true(isfinite(dtype_buf_at(dtype, &grads, 1)));
    /* g(1-g) = 0 at both ends: dL/df = 0, so both gradients are 0. */
    const double zeros[2] = {0.0, 0.0};
    assert_dtype_buf_close(dtype, &grads, zeros, 2, tiny);
    /* L = ((1 - 0)^2 + (0 - 1)^2) / 2 = 1 */
    assert_true(isfinite(loss));
    assert_close(loss, 1.0, 0, 1e-14);
    /* A step with finite gradients keeps the parameters finite. */
    assert_ok(swiftmlp_step(net, 1.0));
    assert_ok(swiftmlp_get_params(net, dtype, p.f64, 2));
    assert_true(isfinite(dtype_buf_at(dtype, &p, 0)));
    assert_true(isfinite(dtype_buf_at(dtype, &p, 1)));
    swiftmlp_free(net);
}

DTYPE_TESTS(test_sigmoid_of_plus_minus_1000_is_exactly_1_and_0_float64,
            test_sigmoid_of_plus_minus_1000_is_exactly_1_and_0_float32,
            check_sigmoid_extremes)

static void test_sigmoid_extremes_in_hidden_layer_give_finite_gradients(void **state)
{
    (void)state;
    /* [1, 2, 1]: the hidden layer saturates at +-1000 (via the bias), the
     * output layer stays moderate, so the loss is non-trivial. */
    const size_t sizes[] = {1, 2, 1};
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT64, 0);
    const double w0[2] = {0.0, 0.0}, b0[2] = {1000.0, -1000.0};
    const double w1[2] = {0.5, 0.25}, b1[1] = {-0.1};
    assert_ok(swiftmlp_set_layer(net, 0, SWIFTMLP_FLOAT64, w0, 2, b0, 2));
    assert_ok(swiftmlp_set_layer(net, 1, SWIFTMLP_FLOAT64, w1, 2, b1, 1));
    const double x[1] = {0.3}, y[1] = {1.0};
    double out[1], loss = -1.0;
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, 1, 1, out, 1));
    /* g0 = [1, 0]; f1 = 0.5*1 + 0.25*0 - 0.1 = 0.4; g1 = sigmoid(0.4). */
    const double g1 = 1.0 / (1.0 + exp(-0.4));
    assert_close(out[0], g1, 0, 1e-14);
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, 1, 1, &loss));
    assert_close(loss, (g1 - 1.0) * (g1 - 1.0), 0, 1e-14);
    double grads[7];
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, grads, 7));
    for (int i = 0; i < 7; i++) {
        assert_true(isfinite(grads[i]));
    }
    /* Saturated hidden units pass no gradient: dW0 = db0 = 0. */
    for (int i = 0; i < 4; i++) {
        assert_close(grads[i], 0.0, 0, 1e-300);
    }
    /* dL/df1 = 2 (g1 - 1) g1 (1 - g1); dW1 = df1 * [1, 0]; db1 = df1. */
    const double df1 = 2.0 * (g1 - 1.0) * g1 * (1.0 - g1);
    assert_close(grads[4], df1 * 1.0, 0, 1e-14);
    assert_close(grads[5], df1 * 0.0, 0, 1e-300);
    assert_close(grads[6], df1, 0, 1e-14);
    swiftmlp_free(net);
}

/* ---- call semantics ---------------------------------------------------- */

static void test_backward_overwrites_gradients_instead_of_accumulating(void **state)
{
    (void)state;
    hand_values h = compute_by_hand();
    swiftmlp_net *net = hand_net();
    double out[2], loss1 = 0, loss2 = 0, g1[9], g2[9];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, 4, 2, out, 2));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, 2, 2, &loss1));
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, g1, 9));
    /* A second backward on the same forward: same loss, same (not doubled) gradients. */
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, 2, 2, &loss2));
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, g2, 9));
    assert_true(loss1 == loss2);
    assert_memory_equal(g1, g2, sizeof g1);
    assert_close(g2[8], h.db1[0], 0, 1e-12);
    swiftmlp_free(net);
}

static void test_backward_accepts_null_loss(void **state)
{
    (void)state;
    hand_values h = compute_by_hand();
    swiftmlp_net *net = hand_net();
    double out[2], grads[9];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, 4, 2, out, 2));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, 2, 2, NULL));
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, grads, 9));
    assert_close(grads[0], h.dw0[0], 0, 1e-12);
    swiftmlp_free(net);
}

static void test_forward_is_deterministic_and_does_not_change_params(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 7, 2};
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT64, 11);
    const double x[6] = {0.1, -0.2, 0.3, 1.5, -2.5, 0.0};
    double a[4], b[4];
    assert_ok_keeps_params(net, swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, 6, 2, a, 4));
    assert_ok_keeps_params(net, swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, 6, 2, b, 4));
    assert_memory_equal(a, b, sizeof a);
    swiftmlp_free(net);
}

static void test_forward_with_larger_capacity_writes_batch_times_nl(void **state)
{
    (void)state;
    hand_values h = compute_by_hand();
    swiftmlp_net *net = hand_net();
    double out[5] = {-7, -7, -7, -7, -7};
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, 4, 2, out, 5));
    assert_close(out[0], h.out[0], 0, 1e-12);
    assert_close(out[1], h.out[1], 0, 1e-12);
    swiftmlp_free(net);
}

static void test_step_with_zero_lr_keeps_params(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 3);
    double out[2];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, 4, 2, out, 2));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, 2, 2, NULL));
    assert_ok_keeps_params(net, swiftmlp_step(net, 0.0));
    swiftmlp_free(net);
}

static void test_smaller_batch_after_larger_batch_works(void **state)
{
    (void)state;
    /* The cache grows for B=4, then B=2 reuses it; results equal a fresh net. */
    hand_values h = compute_by_hand();
    swiftmlp_net *net = hand_net();
    const double x4[8] = {1.0, 2.0, -1.0, 0.5, 3.0, 3.0, -4.0, 0.0};
    const double y4[4] = {1.0, 0.0, 1.0, 1.0};
    double out4[4], out2[2], loss = 0;
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x4, 8, 4, out4, 4));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y4, 4, 4, &loss));
    assert_close(out4[0], h.out[0], 0, 1e-12);
    assert_close(out4[1], h.out[1], 0, 1e-12);
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, 4, 2, out2, 2));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, 2, 2, &loss));
    assert_close(loss, h.loss, 0, 1e-12);
    double grads[9];
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, grads, 9));
    assert_close(grads[0], h.dw0[0], 0, 1e-12);
    assert_close(grads[8], h.db1[0], 0, 1e-12);
    swiftmlp_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computation_matches_commented_decimals),
        cmocka_unit_test(test_hand_computed_2_2_1_float64_matches_to_1e_12),
        cmocka_unit_test(test_hand_computed_2_2_1_float32_matches_to_1e_6),
        cmocka_unit_test(test_forward_rows_are_independent_of_batch),
        cmocka_unit_test(test_loss_is_mean_over_batch_and_outputs),
        cmocka_unit_test(test_sigmoid_of_plus_minus_1000_is_exactly_1_and_0_float64),
        cmocka_unit_test(test_sigmoid_of_plus_minus_1000_is_exactly_1_and_0_float32),
        cmocka_unit_test(test_sigmoid_extremes_in_hidden_layer_give_finite_gradients),
        cmocka_unit_test(test_backward_overwrites_gradients_instead_of_accumulating),
        cmocka_unit_test(test_backward_accepts_null_loss),
        cmocka_unit_test(test_forward_is_deterministic_and_does_not_change_params),
        cmocka_unit_test(test_forward_with_larger_capacity_writes_batch_times_nl),
        cmocka_unit_test(test_step_with_zero_lr_keeps_params),
        cmocka_unit_test(test_smaller_batch_after_larger_batch_works),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
