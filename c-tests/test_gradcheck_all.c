/*
 * test_gradcheck_all.c — swiftmlp_gradient_check for every valid activation x
 * loss combination, the test's own central differences as a cross-check,
 * swiftmlp_backward_labels against one-hot rows, the documented loss
 * formulas, and backward against the test's central differences for every
 * parameter of default (sigmoid, MSE) networks, float32 against float64.
 *
 * Combinations (network [5, 7, 6, 4], batch 3, random parameters with
 * non-zero biases through set_params): the hidden activation h is one of
 * sigmoid, tanh, relu, leaky_relu, identity on both hidden layers, and
 *   - MSE with every output activation (the five above and softmax),
 *   - BCE with a sigmoid output,
 *   - cross-entropy with a softmax output (probability-row targets);
 * each in float64 and in float32 (the check runs in float64 internally).
 * swiftmlp_gradient_check runs with h = 1e-3 (it extrapolates central
 * differences at h and h/2, so truncation is O(h^4) and rounding stays far
 * below 1e-6); the test's own plain central differences use h = 1e-5
 * (smaller steps hit rounding noise, see "backward against central
 * differences" below).
 */
#include "test_util.h"


static const double k_h = 1e-5;      /* the test's own central differences */
static const double k_lib_h = 1e-3;  /* swiftmlp_gradient_check's step */
static const double k_max_rel_error = 1e-6;

enum { N0 = 5, N1 = 7, N2 = 6, N3 = 4, B = 3 };
static const size_t k_sizes[] = {N0, N1, N2, N3};
enum { NPARAMS = N1 * N0 + N1 + N2 * N1 + N2 + N3 * N2 + N3 };

static const char *act_name(swiftmlp_activation a)
{
    switch (a) {
    case SWIFTMLP_SIGMOID: return "sigmoid";
    case SWIFTMLP_TANH: return "tanh";
    case SWIFTMLP_RELU: return "relu";
    case SWIFTMLP_LEAKY_RELU: return "leaky_relu";
    case SWIFTMLP_IDENTITY: return "identity";
    case SWIFTMLP_SOFTMAX: return "softmax";
    }
    return "?";
}

static const char *loss_name(swiftmlp_loss l)
{
    switch (l) {
    case SWIFTMLP_LOSS_MSE: return "mse";
    case SWIFTMLP_LOSS_BCE: return "bce";
    case SWIFTMLP_LOSS_CROSS_ENTROPY: return "cross_entropy";
    }
    return "?";
}

typedef struct combo {
    swiftmlp_activation hidden, output;
    swiftmlp_loss loss;
    swiftmlp_dtype dtype;
    uint64_t seed;
    char name[160];
} combo;

/* Everything one check needs, in both element types (the float64 arrays
 * hold exactly the float32 values when dtype is float32). */
typedef struct problem {
    swiftmlp_net *net;
    double p[NPARAMS], x[B * N0], y[B * N3];
    float p32[NPARAMS], x32[B * N0], y32[B * N3];
} problem;

static swiftmlp_net *create_combo_net(swiftmlp_activation hidden, swiftmlp_activation output,
                                      swiftmlp_loss loss, swiftmlp_dtype dtype, double slope)
{
    const swiftmlp_activation acts[] = {hidden, hidden, output};
    swiftmlp_config c = config_of(k_sizes, ARRAY_LEN(k_sizes), acts, 3);
    c.loss = loss;
    c.dtype = dtype;
    c.leaky_slope = slope;
    c.seed = 3;
    return create_with(&c);
}

/* One draw: parameters in [-1, 1] (biases included, so non-zero), x in
 * [-1, 1], targets in [0, 1] (probability rows for cross-entropy). */
static void draw_problem(problem *pr, const combo *c, uint64_t seed)
{
    uint64_t rng = seed;
    for (size_t i = 0; i < NPARAMS; i++) {
        pr->p32[i] = (float)rand_uniform(&rng, -1.0, 1.0);
        pr->p[i] = c->dtype == SWIFTMLP_FLOAT32 ? (double)pr->p32[i] : rand_uniform(&rng, -1.0, 1.0);
    }
    for (size_t i = 0; i < B * N0; i++) {
        pr->x32[i] = (float)rand_uniform(&rng, -1.0, 1.0);
        pr->x[i] = pr->x32[i];
    }
    for (size_t r = 0; r < B; r++) {
        double sum = 0.0;
        for (size_t j = 0; j < N3; j++) {
            pr->y32[r * N3 + j] = (float)rand_uniform(&rng, c->loss == SWIFTMLP_LOSS_CROSS_ENTROPY ? 0.05 : 0.0, 1.0);
            sum += pr->y32[r * N3 + j];
        }
        for (size_t j = 0; j < N3; j++) {
            if (c->loss == SWIFTMLP_LOSS_CROSS_ENTROPY) {
                pr->y32[r * N3 + j] = (float)(pr->y32[r * N3 + j] / sum);
            }
            pr->y[r * N3 + j] = pr->y32[r * N3 + j];
        }
    }
}

/*
 * Whether float64 central differences with h = 1e-5 can resolve every
 * gradient of this draw to 1e-6.  They cannot always: the loss difference
 * L(p+h) - L(p-h) carries the rounding of L itself, about one ulp of L,
 * so the numeric derivative has an absolute noise of ~ulp(L)/(2h) ~ 1e-11*L
 * (an exact analytic gradient then shows a "relative error" above 1e-6 for
 * any parameter whose gradient is below ~1e-5*L: checked against a
 * long-double reference while writing this test); and a ReLU / leaky ReLU
 * pre-activation within h-scale of its kink makes the loss non-smooth
 * inside [p-h, p+h].  So a draw is used only when every gradient is exactly
 * 0 or at least 1e-4*L (noise <= 1e-7 relative), and every pre-activation
 * of a ReLU / leaky ReLU layer is at least 1e-2 away from 0 (the library's
 * step h = 1e-3 moves a pre-activation by at most a few 1e-3).  The screen
 * runs on a float64 twin and only looks at magnitudes; the check itself
 * then runs on the draw that passes.
 */
static int well_conditioned(const combo *c, const problem *pr)
{
    swiftmlp_net *twin = create_combo_net(c->hidden, c->output, c->loss, SWIFTMLP_FLOAT64, 0.1);
    double out[B * N3], loss = NAN, g[NPARAMS], f[B * N1];
    assert_ok(swiftmlp_set_params(twin, SWIFTMLP_FLOAT64, pr->p, NPARAMS));
    assert_ok(swiftmlp_forward(twin, SWIFTMLP_FLOAT64, pr->x, B * N0, B, out, B * N3));
    assert_ok(swiftmlp_backward(twin, SWIFTMLP_FLOAT64, pr->y, B * N3, B, &loss));
    assert_ok(swiftmlp_get_grads(twin, SWIFTMLP_FLOAT64, g, NPARAMS));
    int ok = isfinite(loss);
    for (size_t i = 0; ok && i < NPARAMS; i++) {
        ok = g[i] == 0.0 || fabs(g[i]) >= 1e-4 * loss;
    }
    for (size_t layer = 1; ok && layer <= 3; layer++) {
        const swiftmlp_activation act = layer < 3 ? c->hidden : c->output;
        if (act != SWIFTMLP_RELU && act != SWIFTMLP_LEAKY_RELU) {
            continue;
        }
        const size_t n = B * k_sizes[layer];
        assert_ok(swiftmlp_get_quantity(twin, SWIFTMLP_Q_F, layer, SWIFTMLP_FLOAT64, f, n));
        for (size_t i = 0; ok && i < n; i++) {
            ok = fabs(f[i]) >= 1e-2;
        }
    }
    swiftmlp_free(twin);
    return ok;
}

/* The first well-conditioned draw from c->seed on, set into a new network. */
static void make_problem(problem *pr, const combo *c)
{
    int attempts = 0;
    for (;;) {
        draw_problem(pr, c, c->seed + UINT64_C(7919) * (uint64_t)attempts);
        if (well_conditioned(c, pr)) {
            break;
        }
        attempts++;
        assert_true(attempts < 100);
    }
    if (attempts > 0) {
        print_message("    (%d draw(s) skipped as too ill-conditioned for float64 differences)\n",
                      attempts);
    }
    pr->net = create_combo_net(c->hidden, c->output, c->loss, c->dtype, 0.1);
    if (c->dtype == SWIFTMLP_FLOAT32) {
        assert_ok(swiftmlp_set_params(pr->net, SWIFTMLP_FLOAT32, pr->p32, NPARAMS));
    } else {
        assert_ok(swiftmlp_set_params(pr->net, SWIFTMLP_FLOAT64, pr->p, NPARAMS));
    }
}

static problem problem_of(const combo *c)
{
    problem pr;
    make_problem(&pr, c);
    return pr;
}

static swiftmlp_status run_gradcheck(problem *pr, swiftmlp_dtype dtype, swiftmlp_gradcheck *out)
{
    if (dtype == SWIFTMLP_FLOAT32) {
        return swiftmlp_gradient_check(pr->net, SWIFTMLP_FLOAT32, pr->x32, B * N0, pr->y32, B * N3,
                                       B, k_lib_h, out);
    }
    return swiftmlp_gradient_check(pr->net, SWIFTMLP_FLOAT64, pr->x, B * N0, pr->y, B * N3, B, k_lib_h,
                                   out);
}

/* ======================================================================== */
/* gradient_check for every combination                                     */
/* ======================================================================== */

static void test_gradient_check_combo(void **state)
{
    const combo *c = *state;
    problem pr;
    make_problem(&pr, c);
    snapshot before = snapshot_params(pr.net);

    swiftmlp_gradcheck gc;
    memset(&gc, 0, sizeof gc);
    assert_ok(run_gradcheck(&pr, c->dtype, &gc));
    assert_last_error_empty();
    print_message("    %s: max_rel_error %.3g at param %zu (analytic %.10g, numeric %.10g)\n",
                  c->name, gc.max_rel_error, gc.index, gc.analytic, gc.numeric);
    assert_true(gc.max_rel_error <= k_max_rel_error);
    assert_true(gc.max_rel_error >= 0.0);
    assert_true(gc.index < NPARAMS);
    assert_true(isfinite(gc.analytic));
    assert_true(isfinite(gc.numeric));

    /* The network is exactly as it was: same parameters, still no forward
     * (so backward is a state error), still no gradients, no cached batch. */
    snapshot after = snapshot_params(pr.net);
    assert_same_snapshot(before, after, "parameters after gradient_check");
    size_t rows = 0;
    assert_status(swiftmlp_get_cached_rows(pr.net, &rows), SWIFTMLP_ERR_STATE);
    if (c->dtype == SWIFTMLP_FLOAT32) {
        float g[NPARAMS];
        assert_status(swiftmlp_backward(pr.net, SWIFTMLP_FLOAT32, pr.y32, B * N3, B, NULL),
                      SWIFTMLP_ERR_STATE);
        assert_status(swiftmlp_get_grads(pr.net, SWIFTMLP_FLOAT32, g, NPARAMS), SWIFTMLP_ERR_STATE);
    } else {
        double g[NPARAMS];
        assert_status(swiftmlp_backward(pr.net, SWIFTMLP_FLOAT64, pr.y, B * N3, B, NULL),
                      SWIFTMLP_ERR_STATE);
        assert_status(swiftmlp_get_grads(pr.net, SWIFTMLP_FLOAT64, g, NPARAMS), SWIFTMLP_ERR_STATE);
    }
    snapshot_free(&before);
    snapshot_free(&after);
    swiftmlp_free(pr.net);
}

/* ======================================================================== */
/* the test's own central differences agree with gradient_check's report    */
/* ======================================================================== */

static double loss_at(swiftmlp_net *net, const double *params, const double *x, const double *y)
{
    double out[B * N3], loss = NAN;
    assert_ok(swiftmlp_set_params(net, SWIFTMLP_FLOAT64, params, NPARAMS));
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, B * N0, B, out, B * N3));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, B * N3, B, &loss));
    return loss;
}

static void own_check_agrees(swiftmlp_activation hidden, swiftmlp_activation output,
                             swiftmlp_loss loss, uint64_t seed)
{
    problem pr = problem_of(&(combo){hidden, output, loss, SWIFTMLP_FLOAT64, seed, ""});

    swiftmlp_gradcheck gc;
    assert_ok(run_gradcheck(&pr, SWIFTMLP_FLOAT64, &gc));

    double analytic[NPARAMS], numeric[NPARAMS], params[NPARAMS];
    memcpy(params, pr.p, sizeof params);
    const double l0 = loss_at(pr.net, params, pr.x, pr.y);
    assert_true(isfinite(l0));
    assert_ok(swiftmlp_get_grads(pr.net, SWIFTMLP_FLOAT64, analytic, NPARAMS));
    double scale = 0.0;
    for (size_t i = 0; i < NPARAMS; i++) {
        scale = fmax(scale, fabs(analytic[i]));
    }
    const double floor_ = 1e-6 * scale;
    double worst = 0.0;
    size_t worst_i = 0;
    for (size_t i = 0; i < NPARAMS; i++) {
        const double p = params[i];
        params[i] = p + k_h;
        const double lp = loss_at(pr.net, params, pr.x, pr.y);
        params[i] = p - k_h;
        const double lm = loss_at(pr.net, params, pr.x, pr.y);
        params[i] = p;
        numeric[i] = (lp - lm) / (2.0 * k_h);
        const double err = fabs(analytic[i] - numeric[i]) /
                           fmax(fmax(fabs(analytic[i]), fabs(numeric[i])), floor_);
        if (err > worst) {
            worst = err;
            worst_i = i;
        }
    }
    print_message("    %s/%s/%s: own max error %.3g at %zu; gradient_check %.3g at %zu\n",
                  act_name(hidden), act_name(output), loss_name(loss), worst, worst_i,
                  gc.max_rel_error, gc.index);
    assert_true(worst <= k_max_rel_error);
    assert_true(gc.max_rel_error <= k_max_rel_error);
    assert_true(gc.index < NPARAMS);
    /* The reported analytic value is this parameter's gradient. */
    assert_close(gc.analytic, analytic[gc.index], 1e-12, 1e-300);
    /* The reported numeric value agrees with the test's own central
     * difference up to their truncation and rounding errors. */
    assert_close(gc.numeric, numeric[gc.index], 1e-6, 1e-9);
    /* The reported error is the documented formula of the reported values. */
    const double recomputed = fabs(gc.analytic - gc.numeric) /
                              fmax(fmax(fabs(gc.analytic), fabs(gc.numeric)), floor_);
    assert_close(gc.max_rel_error, recomputed, 1e-9, 1e-300);
    /* (The library's extrapolated differences are more accurate than the
     * test's plain ones, so only the common bound above is compared.) */
    swiftmlp_free(pr.net);
}

TEST_CALLING(test_own_central_differences_agree_with_gradient_check_tanh_softmax_cross_entropy,
             own_check_agrees(SWIFTMLP_TANH, SWIFTMLP_SOFTMAX, SWIFTMLP_LOSS_CROSS_ENTROPY, 11))
TEST_CALLING(test_own_central_differences_agree_with_gradient_check_leaky_relu_identity_mse,
             own_check_agrees(SWIFTMLP_LEAKY_RELU, SWIFTMLP_IDENTITY, SWIFTMLP_LOSS_MSE, 12))
TEST_CALLING(test_own_central_differences_agree_with_gradient_check_sigmoid_sigmoid_bce,
             own_check_agrees(SWIFTMLP_SIGMOID, SWIFTMLP_SIGMOID, SWIFTMLP_LOSS_BCE, 13))
TEST_CALLING(test_own_central_differences_agree_with_gradient_check_relu_softmax_mse,
             own_check_agrees(SWIFTMLP_RELU, SWIFTMLP_SOFTMAX, SWIFTMLP_LOSS_MSE, 14))

/* gradient_check after a forward/backward leaves the cache, gradients and
 * slide quantities of that batch as they were. */
static void test_gradient_check_keeps_forward_cache_gradients_and_quantities(void **state)
{
    (void)state;
    problem pr =
        problem_of(&(combo){SWIFTMLP_TANH, SWIFTMLP_SOFTMAX, SWIFTMLP_LOSS_CROSS_ENTROPY, SWIFTMLP_FLOAT64, 21, ""});
    enum { BB = 2 }; /* a different batch than the check's */
    double out[BB * N3], loss1 = NAN, loss2 = NAN, f_before[BB * N3], f_after[BB * N3];
    assert_ok(swiftmlp_forward(pr.net, SWIFTMLP_FLOAT64, pr.x, BB * N0, BB, out, BB * N3));
    assert_ok(swiftmlp_backward(pr.net, SWIFTMLP_FLOAT64, pr.y, BB * N3, BB, &loss1));
    snapshot g1 = snapshot_grads(pr.net), p1 = snapshot_params(pr.net);
    assert_ok(swiftmlp_get_quantity(pr.net, SWIFTMLP_Q_F, 3, SWIFTMLP_FLOAT64, f_before, BB * N3));

    swiftmlp_gradcheck gc;
    assert_ok(run_gradcheck(&pr, SWIFTMLP_FLOAT64, &gc));
    assert_true(gc.max_rel_error <= k_max_rel_error);

    snapshot g2 = snapshot_grads(pr.net), p2 = snapshot_params(pr.net);
    assert_same_snapshot(p1, p2, "parameters");
    assert_same_snapshot(g1, g2, "gradients");
    size_t rows = 0;
    assert_ok(swiftmlp_get_cached_rows(pr.net, &rows));
    assert_int_equal(rows, BB);
    assert_ok(swiftmlp_get_quantity(pr.net, SWIFTMLP_Q_F, 3, SWIFTMLP_FLOAT64, f_after, BB * N3));
    assert_memory_equal(f_before, f_after, sizeof f_before);
    /* The forward cache is still valid: backward again gives the same. */
    assert_ok(swiftmlp_backward(pr.net, SWIFTMLP_FLOAT64, pr.y, BB * N3, BB, &loss2));
    assert_true(loss1 == loss2);
    snapshot g3 = snapshot_grads(pr.net);
    assert_same_snapshot(g1, g3, "gradients of a repeated backward");
    snapshot_free(&g1);
    snapshot_free(&g2);
    snapshot_free(&g3);
    snapshot_free(&p1);
    snapshot_free(&p2);
    swiftmlp_free(pr.net);
}

/* A float32 network's check agrees with the float64 check of a float64
 * network holding the same (float-exact) parameters and data. */
static void test_float32_gradient_check_equals_float64_check_of_same_values(void **state)
{
    (void)state;
    problem pr =
        problem_of(&(combo){SWIFTMLP_TANH, SWIFTMLP_SIGMOID, SWIFTMLP_LOSS_BCE, SWIFTMLP_FLOAT32, 31, ""});
    swiftmlp_net *n64 = create_combo_net(SWIFTMLP_TANH, SWIFTMLP_SIGMOID, SWIFTMLP_LOSS_BCE,
                                         SWIFTMLP_FLOAT64, 0.1);
    assert_ok(swiftmlp_set_params(n64, SWIFTMLP_FLOAT64, pr.p, NPARAMS));
    /* The float64 data are formed here from the float32 arrays themselves. */
    double x64[B * N0], y64[B * N3];
    for (size_t i = 0; i < B * N0; i++) {
        x64[i] = pr.x32[i];
    }
    for (size_t i = 0; i < B * N3; i++) {
        y64[i] = pr.y32[i];
    }
    swiftmlp_gradcheck a, b;
    assert_ok(run_gradcheck(&pr, SWIFTMLP_FLOAT32, &a));
    assert_ok(swiftmlp_gradient_check(n64, SWIFTMLP_FLOAT64, x64, B * N0, y64, B * N3, B, k_lib_h, &b));
    assert_int_equal(a.index, b.index);
    assert_true(a.max_rel_error == b.max_rel_error);
    assert_true(a.analytic == b.analytic);
    assert_true(a.numeric == b.numeric);
    swiftmlp_free(n64);
    swiftmlp_free(pr.net);
}

/* ======================================================================== */
/* backward_labels == backward with one-hot rows                            */
/* ======================================================================== */

static void labels_equal_one_hot(swiftmlp_dtype dtype)
{
    enum { BL = 6 };
    swiftmlp_net *net = create_combo_net(SWIFTMLP_TANH, SWIFTMLP_SOFTMAX,
                                         SWIFTMLP_LOSS_CROSS_ENTROPY, dtype, 0.01);
    uint64_t rng = 404;
    double x[BL * N0], y[BL * N3], out[BL * N3];
    float x32[BL * N0], y32[BL * N3], out32[BL * N3];
    int64_t labels[BL];
    for (size_t i = 0; i < BL * N0; i++) {
        x32[i] = (float)rand_uniform(&rng, -2.0, 2.0);
        x[i] = x32[i];
    }
    for (size_t r = 0; r < BL; r++) {
        labels[r] = (int64_t)(splitmix64_next(&rng) % N3);
        for (size_t j = 0; j < N3; j++) {
            y[r * N3 + j] = (int64_t)j == labels[r] ? 1.0 : 0.0;
            y32[r * N3 + j] = (float)y[r * N3 + j];
        }
    }
    double loss_dense = NAN, loss_labels = NAN;
    const size_t ne = dtype_size(dtype);
    unsigned char df_dense[BL * N3 * sizeof(double)], df_labels[BL * N3 * sizeof(double)];
    unsigned char dg_dense[BL * N3 * sizeof(double)], dg_labels[BL * N3 * sizeof(double)];

    /* dense one-hot */
    if (dtype == SWIFTMLP_FLOAT32) {
        assert_ok(swiftmlp_forward(net, dtype, x32, BL * N0, BL, out32, BL * N3));
        assert_ok(swiftmlp_backward(net, dtype, y32, BL * N3, BL, &loss_dense));
    } else {
        assert_ok(swiftmlp_forward(net, dtype, x, BL * N0, BL, out, BL * N3));
        assert_ok(swiftmlp_backward(net, dtype, y, BL * N3, BL, &loss_dense));
    }
    snapshot g_dense = snapshot_grads(net);
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_DL_DF, 3, dtype, df_dense, BL * N3));
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_DL_DG, 3, dtype, dg_dense, BL * N3));

    /* class indices, on the same cached forward */
    assert_ok(swiftmlp_backward_labels(net, labels, BL, BL, &loss_labels));
    assert_last_error_empty();
    snapshot g_labels = snapshot_grads(net);
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_DL_DF, 3, dtype, df_labels, BL * N3));
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_DL_DG, 3, dtype, dg_labels, BL * N3));

    assert_close(loss_labels, loss_dense, 1e-14, 0.0);
    const size_t n = g_dense.bytes / ne;
    for (size_t i = 0; i < n; i++) {
        const double a = dtype == SWIFTMLP_FLOAT32 ? ((float *)g_labels.data)[i] : ((double *)g_labels.data)[i];
        const double b = dtype == SWIFTMLP_FLOAT32 ? ((float *)g_dense.data)[i] : ((double *)g_dense.data)[i];
        assert_close(a, b, 1e-14, 1e-300);
    }
    for (size_t i = 0; i < BL * N3; i++) {
        double a, b, c, d;
        if (dtype == SWIFTMLP_FLOAT32) {
            a = ((float *)(void *)df_labels)[i];
            b = ((float *)(void *)df_dense)[i];
            c = ((float *)(void *)dg_labels)[i];
            d = ((float *)(void *)dg_dense)[i];
        } else {
            a = ((double *)(void *)df_labels)[i];
            b = ((double *)(void *)df_dense)[i];
            c = ((double *)(void *)dg_labels)[i];
            d = ((double *)(void *)dg_dense)[i];
        }
        assert_close(a, b, 1e-14, 1e-300);
        assert_close(c, d, 1e-14, 1e-300);
    }
    snapshot_free(&g_dense);
    snapshot_free(&g_labels);
    swiftmlp_free(net);
}

DTYPE_TESTS(test_backward_labels_equals_backward_with_one_hot_rows_float64,
            test_backward_labels_equals_backward_with_one_hot_rows_float32,
            labels_equal_one_hot)

/* ======================================================================== */
/* the documented loss formulas and fused gradients                         */
/* ======================================================================== */

/* Read layer-L f, g, dL/df, dL/dg (float64) after forward+backward. */
static void output_quantities(swiftmlp_net *net, size_t rows, double *f, double *g, double *df,
                              double *dg)
{
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_F, 3, SWIFTMLP_FLOAT64, f, rows * N3));
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_G, 3, SWIFTMLP_FLOAT64, g, rows * N3));
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_DL_DF, 3, SWIFTMLP_FLOAT64, df, rows * N3));
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_DL_DG, 3, SWIFTMLP_FLOAT64, dg, rows * N3));
}

/* Layer L's f, g, dL/df and dL/dg and the loss after forward + backward on
 * pr's batch. */
typedef struct outputs {
    double loss, f[B * N3], g[B * N3], df[B * N3], dg[B * N3];
} out_layer;

static out_layer outputs_of(const problem *pr)
{
    out_layer q = {.loss = NAN};
    double out[B * N3];
    assert_ok(swiftmlp_forward(pr->net, SWIFTMLP_FLOAT64, pr->x, B * N0, B, out, B * N3));
    assert_ok(swiftmlp_backward(pr->net, SWIFTMLP_FLOAT64, pr->y, B * N3, B, &q.loss));
    output_quantities(pr->net, B, q.f, q.g, q.df, q.dg);
    return q;
}

/* The backward loss q->loss of pr's batch is `expected` (to rtol), and
 * evaluate on that batch gives it too (to 1e-15); frees pr's network. */
static void assert_loss_and_free(problem *pr, const out_layer *q, double expected, double rtol)
{
    assert_close(q->loss, expected, rtol, 0.0);
    double ev = NAN;
    assert_ok(swiftmlp_evaluate(pr->net, SWIFTMLP_FLOAT64, pr->x, B * N0, pr->y, B * N3, B, &ev));
    assert_close(ev, q->loss, 1e-15, 0.0);
    swiftmlp_free(pr->net);
}

/* Checks output element i of q (target y, n output elements in all)
 * against an element-wise loss's formulas; returns its loss term. */
typedef double (*element_check)(const out_layer *q, size_t i, double y, double n);

/* Each output element of c's problem follows check, and the loss is the
 * mean of the terms (to rtol). */
static void check_elementwise_loss(const combo *c, element_check check, double rtol)
{
    problem pr = problem_of(c);
    const out_layer q = outputs_of(&pr);
    double sum = 0.0;
    const double n = (double)(B * N3);
    for (size_t i = 0; i < B * N3; i++) {
        sum += check(&q, i, pr.y[i], n);
    }
    assert_loss_and_free(&pr, &q, sum / n, rtol);
}

static double bce_element(const out_layer *q, size_t i, double y, double n)
{
    const double g = q->g[i];
    assert_close(g, 1.0 / (1.0 + exp(-q->f[i])), 1e-14, 0.0);
    assert_close(q->df[i], (g - y) / n, 1e-13, 1e-17);
    assert_close(q->dg[i], (g - y) / n / (g * (1.0 - g)), 1e-12, 1e-17);
    return -(y * log(g) + (1.0 - y) * log(1.0 - g));
}

/* MSE with the identity output: g = f and dL/df = dL/dg, exactly. */
static double mse_identity_element(const out_layer *q, size_t i, double y, double n)
{
    const double g = q->g[i];
    assert_true(g == q->f[i]);
    assert_close(q->dg[i], 2.0 / n * (g - y), 1e-14, 1e-17);
    assert_true(q->df[i] == q->dg[i]);
    return (g - y) * (g - y);
}

TEST_CALLING(test_bce_loss_and_output_gradients_follow_documented_formulas,
             check_elementwise_loss(&(combo){SWIFTMLP_TANH, SWIFTMLP_SIGMOID, SWIFTMLP_LOSS_BCE, SWIFTMLP_FLOAT64,
                                             41, ""},
                                    bce_element, 1e-13))
TEST_CALLING(test_mse_with_identity_output_follows_documented_formula,
             check_elementwise_loss(&(combo){SWIFTMLP_LEAKY_RELU, SWIFTMLP_IDENTITY, SWIFTMLP_LOSS_MSE,
                                             SWIFTMLP_FLOAT64, 43, ""},
                                    mse_identity_element, 1e-14))

static void test_cross_entropy_loss_and_output_gradients_follow_documented_formulas(void **state)
{
    (void)state;
    problem pr =
        problem_of(&(combo){SWIFTMLP_RELU, SWIFTMLP_SOFTMAX, SWIFTMLP_LOSS_CROSS_ENTROPY, SWIFTMLP_FLOAT64, 42, ""});
    /* Rows that do not sum to 1 too: dL/df = (g * sum_j y_j - y) / B. */
    for (size_t j = 0; j < N3; j++) {
        pr.y[N3 + j] *= 2.5;
    }
    const out_layer q = outputs_of(&pr);
    double sum = 0.0;
    for (size_t r = 0; r < B; r++) {
        double m = -INFINITY, s = 0.0, ysum = 0.0;
        for (size_t j = 0; j < N3; j++) {
            m = fmax(m, q.f[r * N3 + j]);
            ysum += pr.y[r * N3 + j];
        }
        for (size_t j = 0; j < N3; j++) {
            s += exp(q.f[r * N3 + j] - m);
        }
        const double lse = m + log(s);
        for (size_t j = 0; j < N3; j++) {
            const size_t i = r * N3 + j;
            sum += -pr.y[i] * (q.f[i] - lse);
            assert_close(q.g[i], exp(q.f[i] - lse), 1e-14, 0.0);
            assert_close(q.df[i], (q.g[i] * ysum - pr.y[i]) / B, 1e-13, 1e-17);
            assert_close(q.dg[i], -pr.y[i] / (B * q.g[i]), 1e-13, 1e-17);
        }
    }
    assert_loss_and_free(&pr, &q, sum / B, 1e-14);
}

/* Logits of +-1e4: both fused losses and every gradient stay finite. */
static void check_huge_logits(swiftmlp_loss loss, swiftmlp_activation output)
{
    const size_t sizes[] = {1, 2};
    swiftmlp_config c = config_of(sizes, 2, &output, 1);
    c.loss = loss;
    swiftmlp_net *net = create_with(&c);
    const double w[2] = {1e4, -1e4}, b[2] = {0, 0};
    assert_ok(swiftmlp_set_layer(net, 0, SWIFTMLP_FLOAT64, w, 2, b, 2));
    const double x[2] = {1.0, -1.0};
    /* The targets disagree with the saturated outputs as much as possible. */
    const double y[4] = {0.0, 1.0, 1.0, 0.0};
    double out[4], l = NAN, grads[4];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, 2, 2, out, 4));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, 4, 2, &l));
    assert_true(isfinite(l));
    if (loss == SWIFTMLP_LOSS_BCE) {
        /* max(f,0) - f y + log1p(exp(-|f|)) = 1e4 for every element. */
        assert_close(l, 1e4, 1e-15, 0.0);
    } else {
        /* lse - f_target = 2e4 for both rows. */
        assert_close(l, 2e4, 1e-15, 0.0);
    }
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, grads, 4));
    for (size_t i = 0; i < 4; i++) {
        assert_true(isfinite(grads[i]));
    }
    double ev = NAN;
    assert_ok(swiftmlp_evaluate(net, SWIFTMLP_FLOAT64, x, 2, y, 4, 2, &ev));
    assert_close(ev, l, 1e-15, 0.0);
    swiftmlp_free(net);
}

TEST_CALLING(test_bce_with_logits_1e4_stays_finite,
             check_huge_logits(SWIFTMLP_LOSS_BCE, SWIFTMLP_SIGMOID))
TEST_CALLING(test_cross_entropy_with_logits_1e4_stays_finite,
             check_huge_logits(SWIFTMLP_LOSS_CROSS_ENTROPY, SWIFTMLP_SOFTMAX))

/* ======================================================================== */
/* gradient_check bad input                                                 */
/* ======================================================================== */

#define GC(net, dtype, x, x_len, y, y_len, rows, h) \
    swiftmlp_gradient_check((net), (dtype), (x), (x_len), (y), (y_len), (rows), (h), &f->gc)
#define GC64(net, x_len, y_len, rows, h) GC((net), F64, f->x, (x_len), f->y, (y_len), (rows), (h))
#define GRADCHECK_CASES(X)                                                                              \
    X(gradient_check_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, GC64(NULL, FX_XLEN, FX_YLEN, FX_B, k_h)) \
    X(gradient_check_null_x, E_NULL, ON_NET, PREP_NONE, NULL,                                           \
      GC(f->net, F64, NULL, FX_XLEN, f->y, FX_YLEN, FX_B, k_h))                                         \
    X(gradient_check_null_y, E_NULL, ON_NET, PREP_NONE, NULL,                                           \
      GC(f->net, F64, f->x, FX_XLEN, NULL, FX_YLEN, FX_B, k_h))                                         \
    X(gradient_check_null_out, E_NULL, ON_NET, PREP_NONE, NULL,                                         \
      swiftmlp_gradient_check(f->net, F64, f->x, FX_XLEN, f->y, FX_YLEN, FX_B, k_h, NULL))              \
    X(gradient_check_batch_0, E_ARG, ON_NET, PREP_NONE, NULL, GC64(f->net, 0, 0, 0, k_h))               \
    X(gradient_check_h_zero, E_ARG, ON_NET, PREP_NONE, NULL, GC64(f->net, FX_XLEN, FX_YLEN, FX_B, 0.0)) \
    X(gradient_check_h_negative, E_ARG, ON_NET, PREP_NONE, NULL, GC64(f->net, FX_XLEN, FX_YLEN, FX_B, -1e-5)) \
    X(gradient_check_h_nan, E_ARG, ON_NET, PREP_NONE, NULL, GC64(f->net, FX_XLEN, FX_YLEN, FX_B, NAN))  \
    X(gradient_check_h_infinite, E_ARG, ON_NET, PREP_NONE, NULL,                                        \
      GC64(f->net, FX_XLEN, FX_YLEN, FX_B, INFINITY))                                                   \
    X(gradient_check_unknown_dtype, E_ARG, ON_NET, PREP_NONE, NULL,                                     \
      GC(f->net, (swiftmlp_dtype)0, f->x, FX_XLEN, f->y, FX_YLEN, FX_B, k_h))                           \
    X(gradient_check_float32_call_on_float64_net, E_DTYPE, ON_NET, PREP_NONE, NULL,                     \
      GC(f->net, F32, f->x32, FX_XLEN, f->y32, FX_YLEN, FX_B, k_h))                                     \
    X(gradient_check_float64_call_on_float32_net, E_DTYPE, ON_NET32, PREP_NONE, NULL,                   \
      GC64(f->net32, FX_XLEN, FX_YLEN, FX_B, k_h))                                                      \
    X(gradient_check_x_len_wrong, E_BUF, ON_NET, PREP_NONE, NULL, GC64(f->net, FX_XLEN - 1, FX_YLEN, FX_B, k_h)) \
    X(gradient_check_y_len_wrong, E_BUF, ON_NET, PREP_NONE, NULL, GC64(f->net, FX_XLEN, FX_YLEN - 1, FX_B, k_h)) \
    X(gradient_check_nan_in_x, E_FINITE, ON_NET, PREP_NONE, NULL,                                       \
      GC(f->net, F64, fx_with(f, f->x, FX_XLEN, 4, NAN), FX_XLEN, f->y, FX_YLEN, FX_B, k_h))            \
    X(gradient_check_inf_in_y, E_FINITE, ON_NET, PREP_NONE, NULL,                                       \
      GC(f->net, F64, f->x, FX_XLEN, fx_with(f, f->y, FX_YLEN, 1, -INFINITY), FX_YLEN, FX_B, k_h))      \
    X(gradient_check_float32_nan_in_y, E_FINITE, ON_NET32, PREP_NONE, NULL,                             \
      GC(f->net32, F32, f->x32, FX_XLEN, fx_with32(f, f->y32, FX_YLEN, 0, NAN), FX_YLEN, FX_B, k_h))

BAD_TABLE(k_gradcheck_cases, GRADCHECK_CASES);

/* ======================================================================== */
/* backward_labels bad input                                                */
/* ======================================================================== */

enum { LN0 = 3, LN1 = 4, LN2 = 3, LB = 2 };
static const size_t k_lsizes[] = {LN0, LN1, LN2};

typedef struct lfixture {
    swiftmlp_net *net; /* tanh / softmax / cross-entropy, float64 */
    double x[LB * LN0], y[LB * LN2], out[LB * LN2];
    int64_t labels[LB];
} lfixture;

static int linit(lfixture *f)
{
    const swiftmlp_activation acts[] = {SWIFTMLP_TANH, SWIFTMLP_SOFTMAX};
    swiftmlp_config c = config_of(k_lsizes, 3, acts, 2);
    c.loss = SWIFTMLP_LOSS_CROSS_ENTROPY;
    c.seed = 9;
    if (swiftmlp_create_with_config(&c, &f->net) != SWIFTMLP_OK) {
        return -1;
    }
    uint64_t rng = 6;
    for (size_t i = 0; i < LB * LN0; i++) {
        f->x[i] = rand_uniform(&rng, -1, 1);
    }
    f->labels[0] = 2;
    f->labels[1] = 0;
    for (size_t r = 0; r < LB; r++) {
        for (size_t j = 0; j < LN2; j++) {
            f->y[r * LN2 + j] = (int64_t)j == f->labels[r] ? 1.0 : 0.0;
        }
    }
    return 0;
}

/* ---- the bad-input table (test_util.h's bad_suite driver) ----------------
 * Every row also keeps the network's parameters, gradients and cached rows
 * and the loss out-parameter; where the row says so, the forward cache is
 * still usable afterwards (backward_labels of the fixture's labels works). */

typedef struct lrow_fixture {
    lfixture l;
    swiftmlp_net *net;   /* the network the row calls (l.net unless replaced) */
    double loss;         /* the loss out-parameter, 12345 */
    int cache_valid;
} lrow_fixture;

static int lrow_init(lrow_fixture *f)
{
    if (linit(&f->l) != 0) {
        return -1;
    }
    f->net = f->l.net;
    f->loss = 12345.0;
    return 0;
}

static void lrow_fini(lrow_fixture *f)
{
    if (f->net != f->l.net) {
        swiftmlp_free(f->net);
    }
    swiftmlp_free(f->l.net);
}

FIXTURE_FUNCTIONS(lrow_fixture, lrow_setup, lrow_teardown, lrow_init, lrow_fini)

static swiftmlp_net *lrow_net(void *f) { return ((lrow_fixture *)f)->net; }

static void lrow_unchanged(void *fv, const char *name)
{
    lrow_fixture *f = fv;
    if (f->loss != 12345.0) {
        print_error("%s: the loss out-parameter was written\n", name);
        fail();
    }
    if (f->cache_valid) {
        assert_ok(swiftmlp_backward_labels(f->net, f->l.labels, LB, LB, &f->loss));
    }
}

static const bad_suite k_labels_suite = {lrow_setup, lrow_teardown, lrow_net, lrow_unchanged};

/* A first backward (so there are gradients to keep), then a fresh forward. */
static void lprepare(lrow_fixture *f)
{
    lfixture *l = &f->l;
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, l->x, LB * LN0, LB, l->out, LB * LN2));
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, l->y, LB * LN2, LB, NULL));
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, l->x, LB * LN0, LB, l->out, LB * LN2));
    f->cache_valid = 1;
}

/* The call's network replaced by an MSE one (forward and backward run) or
 * a BCE one (forward run). */
static void use_loss(lrow_fixture *f, swiftmlp_loss loss)
{
    swiftmlp_config c;
    assert_ok(swiftmlp_config_default(&c));
    c.sizes = k_lsizes;
    c.n_sizes = 3;
    c.loss = loss;
    c.seed = 1;
    assert_ok(swiftmlp_create_with_config(&c, &f->net));
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->l.x, LB * LN0, LB, f->l.out, LB * LN2));
    if (loss == SWIFTMLP_LOSS_MSE) {
        assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->l.y, LB * LN2, LB, NULL));
    }
}

/* lprepare, a backward_labels and a step: gradients used, cache invalid. */
static void prepare_and_step(lrow_fixture *f)
{
    lprepare(f);
    assert_ok(swiftmlp_backward_labels(f->net, f->l.labels, LB, LB, NULL));
    assert_ok(swiftmlp_step(f->net, 0.1));
    f->cache_valid = 0;
}

#define BAD_CTX lrow_fixture
#define BL(labels, len, rows) swiftmlp_backward_labels(f->net, (labels), (len), (rows), &f->loss)
#define LABELS(...) (const int64_t[]){__VA_ARGS__}
#define LABELS_CASES(X)                                                                                 \
    X(backward_labels_null_net, E_NULL, NULL, (void)0, swiftmlp_backward_labels(NULL, f->l.labels, LB, LB, NULL)) \
    X(backward_labels_null_labels, E_NULL, NULL, lprepare(f), BL(NULL, LB, LB))                         \
    X(backward_labels_batch_0, E_ARG, NULL, lprepare(f), BL(f->l.labels, 0, 0))                         \
    X(backward_labels_label_equal_to_output_size, E_ARG, NULL, lprepare(f), BL(LABELS(0, LN2), LB, LB)) \
    X(backward_labels_negative_label, E_ARG, NULL, lprepare(f), BL(LABELS(-1, 0), LB, LB))              \
    X(backward_labels_int64_max_label, E_ARG, NULL, lprepare(f), BL(LABELS(1, INT64_MAX), LB, LB))      \
    X(backward_labels_on_mse_network, E_ARG, NULL, use_loss(f, SWIFTMLP_LOSS_MSE), BL(f->l.labels, LB, LB)) \
    X(backward_labels_on_bce_network, E_ARG, NULL, use_loss(f, SWIFTMLP_LOSS_BCE), BL(f->l.labels, LB, LB)) \
    X(backward_labels_len_less_than_batch, E_BUF, NULL, lprepare(f), BL(f->l.labels, LB - 1, LB))       \
    X(backward_labels_len_more_than_batch, E_BUF, NULL, lprepare(f), BL(LABELS(0, 1, 2), LB + 1, LB))   \
    X(backward_labels_before_any_forward, E_STATE, NULL, (void)0, BL(f->l.labels, LB, LB))              \
    X(backward_labels_with_different_batch_than_forward, E_STATE, NULL, lprepare(f), BL(LABELS(1), 1, 1)) \
    X(backward_labels_after_step_without_new_forward, E_STATE, NULL, prepare_and_step(f),               \
      BL(f->l.labels, LB, LB))

BAD_ANY_TABLE(k_labels_cases, LABELS_CASES);

/* ======================================================================== */

static combo k_combos[2 * (5 * 6 + 5 + 5)];

/* ======================================================================== */
/* backward against central differences of the loss, for EVERY parameter   */
/* of default (sigmoid, MSE) networks, float64                              */
/* ======================================================================== */

/*
 * For each parameter p:  numeric = (L(p + h) - L(p - h)) / (2h), where L is
 * obtained through the public API (set_params, forward, backward(&loss)),
 * and the relative error |a - n| / max(|a|, |n|, 1e-8) must be <= 1e-6
 * (k_h, k_max_rel_error above).
 *
 * Step size: the truncation error of the central difference is O(h^2) while
 * the rounding error of the loss difference is about eps * L / h.  With
 * h = 1e-6 the rounding term (~1e-11 absolute) is already ~1e-6 relative for
 * the smallest gradients of such networks (|g| ~ 1e-5), so h = 1e-5 is used:
 * both terms then stay around 1e-10 relative or below.
 */

static double sigmoid_mse_loss_at(swiftmlp_net *net, const double *params, size_t n_params, const double *x,
                      size_t x_len, const double *y, size_t y_len, size_t batch, double *out,
                      size_t out_cap)
{
    double loss = NAN;
    assert_ok(swiftmlp_set_params(net, SWIFTMLP_FLOAT64, params, n_params));
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, x_len, batch, out, out_cap));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, y_len, batch, &loss));
    return loss;
}

static void check_every_parameter(const size_t *sizes, size_t n_sizes, size_t batch, uint64_t seed)
{
    uint64_t rng = seed;
    swiftmlp_net *net = create_net(sizes, n_sizes, SWIFTMLP_FLOAT64, seed);
    size_t n = 0;
    assert_ok(swiftmlp_get_param_count(net, &n));
    const size_t n0 = sizes[0], nl = sizes[n_sizes - 1];
    const size_t x_len = batch * n0, y_len = batch * nl;

    double *params = malloc_or_fail(n * sizeof *params);
    double *analytic = malloc_or_fail(n * sizeof *analytic);
    double *x = malloc_or_fail(x_len * sizeof *x);
    double *y = malloc_or_fail(y_len * sizeof *y);
    double *out = malloc_or_fail(y_len * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        params[i] = rand_uniform(&rng, -1.0, 1.0);
    }
    for (size_t i = 0; i < x_len; i++) {
        x[i] = rand_uniform(&rng, -1.0, 1.0);
    }
    for (size_t i = 0; i < y_len; i++) {
        y[i] = rand_uniform(&rng, 0.0, 1.0);
    }

    /* Analytic gradients at the unperturbed parameters. */
    double loss0 = sigmoid_mse_loss_at(net, params, n, x, x_len, y, y_len, batch, out, y_len);
    assert_true(isfinite(loss0));
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, analytic, n));

    double worst = 0.0;
    size_t worst_i = 0;
    double worst_a = 0.0, worst_n = 0.0;
    size_t n_bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double p = params[i];
        params[i] = p + k_h;
        const double lp = sigmoid_mse_loss_at(net, params, n, x, x_len, y, y_len, batch, out, y_len);
        params[i] = p - k_h;
        const double lm = sigmoid_mse_loss_at(net, params, n, x, x_len, y, y_len, batch, out, y_len);
        params[i] = p;
        const double numeric = (lp - lm) / (2.0 * k_h);
        const double a = analytic[i];
        const double rel = fabs(a - numeric) / fmax(fmax(fabs(a), fabs(numeric)), 1e-8);
        if (!(rel <= k_max_rel_error)) {
            print_error("param %zu: analytic %.17g, numeric %.17g, relative error %.3g\n", i, a,
                        numeric, rel);
            n_bad++;
        }
        if (!(rel <= worst)) {
            worst = rel;
            worst_i = i;
            worst_a = a;
            worst_n = numeric;
        }
    }
    print_message("gradcheck sizes [");
    for (size_t i = 0; i < n_sizes; i++) {
        print_message("%s%zu", i ? ", " : "", sizes[i]);
    }
    print_message("], batch %zu: %zu parameters, loss %.6g, largest relative error %.3g "
                  "(param %zu: analytic %.10g, numeric %.10g)\n",
                  batch, n, loss0, worst, worst_i, worst_a, worst_n);
    assert_int_equal(n_bad, 0);

    free(params);
    free(analytic);
    free(x);
    free(y);
    free(out);
    swiftmlp_free(net);
}

static void test_gradients_match_finite_differences_4_5_3_2_batch_3(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 5, 3, 2};
    check_every_parameter(sizes, 4, 3, 2718);
}

static void test_gradients_match_finite_differences_3_8_6_4_2_batch_5(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 8, 6, 4, 2};
    check_every_parameter(sizes, 5, 5, 2);
}

static void test_gradients_match_finite_differences_single_layer_batch_1(void **state)
{
    (void)state;
    const size_t sizes[] = {6, 3};
    check_every_parameter(sizes, 2, 1, 161803);
}

/* float32 gradients agree with float64 gradients of the same (float-exact)
 * parameters and data to float32 accuracy. */
static void test_float32_gradients_agree_with_float64(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 5, 3, 2};
    enum { FB = 3, FN0 = 4, FNL = 2 }; /* [4, 5, 3, 2], batch 3 */
    swiftmlp_net *n64 = create_net(sizes, 4, SWIFTMLP_FLOAT64, 1);
    swiftmlp_net *n32 = create_net(sizes, 4, SWIFTMLP_FLOAT32, 1);
    size_t n = 0;
    assert_ok(swiftmlp_get_param_count(n64, &n));
    assert_int_equal(n, 51);
    double p64[51], g64[51], x64[FB * FN0], y64[FB * FNL], o64[FB * FNL];
    float p32[51], g32[51], x32[FB * FN0], y32[FB * FNL], o32[FB * FNL];
    uint64_t rng = 99;
    for (size_t i = 0; i < 51; i++) {
        p32[i] = (float)rand_uniform(&rng, -1.0, 1.0);
        p64[i] = p32[i];
    }
    for (size_t i = 0; i < FB * FN0; i++) {
        x32[i] = (float)rand_uniform(&rng, -1.0, 1.0);
        x64[i] = x32[i];
    }
    for (size_t i = 0; i < FB * FNL; i++) {
        y32[i] = (float)rand_uniform(&rng, 0.0, 1.0);
        y64[i] = y32[i];
    }
    double l64 = 0, l32 = 0;
    assert_ok(swiftmlp_set_params(n64, SWIFTMLP_FLOAT64, p64, 51));
    assert_ok(swiftmlp_set_params(n32, SWIFTMLP_FLOAT32, p32, 51));
    assert_ok(swiftmlp_forward(n64, SWIFTMLP_FLOAT64, x64, FB * FN0, FB, o64, FB * FNL));
    assert_ok(swiftmlp_forward(n32, SWIFTMLP_FLOAT32, x32, FB * FN0, FB, o32, FB * FNL));
    for (size_t i = 0; i < FB * FNL; i++) {
        assert_close(o32[i], o64[i], 1e-5, 1e-6);
    }
    assert_ok(swiftmlp_backward(n64, SWIFTMLP_FLOAT64, y64, FB * FNL, FB, &l64));
    assert_ok(swiftmlp_backward(n32, SWIFTMLP_FLOAT32, y32, FB * FNL, FB, &l32));
    assert_close(l32, l64, 1e-5, 1e-7);
    assert_ok(swiftmlp_get_grads(n64, SWIFTMLP_FLOAT64, g64, 51));
    assert_ok(swiftmlp_get_grads(n32, SWIFTMLP_FLOAT32, g32, 51));
    for (size_t i = 0; i < 51; i++) {
        assert_close(g32[i], g64[i], 1e-4, 1e-6);
    }
    swiftmlp_free(n64);
    swiftmlp_free(n32);
}

int main(void)
{
    static const swiftmlp_activation hidden[] = {SWIFTMLP_SIGMOID, SWIFTMLP_TANH, SWIFTMLP_RELU,
                                                 SWIFTMLP_LEAKY_RELU, SWIFTMLP_IDENTITY};
    static const swiftmlp_activation outputs[] = {SWIFTMLP_SIGMOID, SWIFTMLP_TANH, SWIFTMLP_RELU,
                                                  SWIFTMLP_LEAKY_RELU, SWIFTMLP_IDENTITY,
                                                  SWIFTMLP_SOFTMAX};
    size_t n = 0;
    for (int t = 0; t < 2; t++) {
        const swiftmlp_dtype dtype = t == 0 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
        for (size_t h = 0; h < ARRAY_LEN(hidden); h++) {
            for (size_t o = 0; o < ARRAY_LEN(outputs) + 2; o++) {
                combo *c = &k_combos[n];
                c->hidden = hidden[h];
                if (o < ARRAY_LEN(outputs)) {
                    c->output = outputs[o];
                    c->loss = SWIFTMLP_LOSS_MSE;
                } else if (o == ARRAY_LEN(outputs)) {
                    c->output = SWIFTMLP_SIGMOID;
                    c->loss = SWIFTMLP_LOSS_BCE;
                } else {
                    c->output = SWIFTMLP_SOFTMAX;
                    c->loss = SWIFTMLP_LOSS_CROSS_ENTROPY;
                }
                c->dtype = dtype;
                c->seed = 1000 + n;
                snprintf(c->name, sizeof c->name,
                         "test_gradient_check_within_1e-6_hidden_%s_output_%s_loss_%s_%s",
                         act_name(c->hidden), act_name(c->output), loss_name(c->loss),
                         dtype == SWIFTMLP_FLOAT64 ? "float64" : "float32");
                n++;
            }
        }
    }
    if (n != ARRAY_LEN(k_combos)) {
        fprintf(stderr, "combo table has %zu entries, expected %zu\n", n, ARRAY_LEN(k_combos));
        return 1;
    }

#define T(name) cmocka_unit_test(name)
    const struct CMUnitTest fixed[] = {
        T(test_gradients_match_finite_differences_4_5_3_2_batch_3),
        T(test_gradients_match_finite_differences_3_8_6_4_2_batch_5),
        T(test_gradients_match_finite_differences_single_layer_batch_1),
        T(test_float32_gradients_agree_with_float64),
        T(test_own_central_differences_agree_with_gradient_check_tanh_softmax_cross_entropy),
        T(test_own_central_differences_agree_with_gradient_check_leaky_relu_identity_mse),
        T(test_own_central_differences_agree_with_gradient_check_sigmoid_sigmoid_bce),
        T(test_own_central_differences_agree_with_gradient_check_relu_softmax_mse),
        T(test_gradient_check_keeps_forward_cache_gradients_and_quantities),
        T(test_float32_gradient_check_equals_float64_check_of_same_values),
        T(test_backward_labels_equals_backward_with_one_hot_rows_float64),
        T(test_backward_labels_equals_backward_with_one_hot_rows_float32),
        T(test_bce_loss_and_output_gradients_follow_documented_formulas),
        T(test_cross_entropy_loss_and_output_gradients_follow_documented_formulas),
        T(test_mse_with_identity_output_follows_documented_formula),
        T(test_bce_with_logits_1e4_stays_finite),
        T(test_cross_entropy_with_logits_1e4_stays_finite),
        BAD_TABLE_TEST(k_gradcheck_cases),
        /* backward_labels bad input */
        BAD_SUITE_TEST(k_labels_suite, k_labels_cases),
    };
#undef T
    enum { N_FIXED = sizeof fixed / sizeof fixed[0], N_ALL = N_FIXED + ARRAY_LEN(k_combos) };
    struct CMUnitTest tests[N_ALL];
    for (size_t i = 0; i < ARRAY_LEN(k_combos); i++) {
        tests[i] = (struct CMUnitTest){.name = k_combos[i].name,
                                       .test_func = test_gradient_check_combo,
                                       .setup_func = NULL,
                                       .teardown_func = NULL,
                                       .initial_state = &k_combos[i]};
    }
    for (size_t i = 0; i < N_FIXED; i++) {
        tests[ARRAY_LEN(k_combos) + i] = fixed[i];
    }
    return _cmocka_run_group_tests("test_gradcheck_all", tests, N_ALL, NULL, NULL);
}
