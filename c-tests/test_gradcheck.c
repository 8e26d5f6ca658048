/*
 * test_gradcheck.c — backward agrees with central finite differences of the
 * loss for EVERY parameter (float64).
 *
 * For each parameter p:  numeric = (L(p + h) - L(p - h)) / (2h), where L is
 * obtained through the public API (set_params, forward, backward(&loss)),
 * and the relative error |a - n| / max(|a|, |n|, 1e-8) must be <= 1e-6.
 *
 * Step size: the truncation error of the central difference is O(h^2) while
 * the rounding error of the loss difference is about eps * L / h.  With
 * h = 1e-6 the rounding term (~1e-11 absolute) is already ~1e-6 relative for
 * the smallest gradients of such networks (|g| ~ 1e-5), so h = 1e-5 is used:
 * both terms then stay around 1e-10 relative or below.
 */
#include "test_util.h"

static const double k_h = 1e-5;
static const double k_max_rel_error = 1e-6;

static double loss_at(swiftmlp_net *net, const double *params, size_t n_params, const double *x,
                      size_t x_len, const double *y, size_t y_len, size_t batch, double *out,
                      size_t out_cap)
{
    double loss = NAN;
    assert_ok(swiftmlp_set_params(net, SWIFTMLP_FLOAT64, params, n_params));
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, x_len, batch, out, out_cap));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, y_len, batch, &loss));
    return loss;
}

static void gradcheck(const size_t *sizes, size_t n_sizes, size_t batch, uint64_t seed)
{
    uint64_t rng = seed;
    swiftmlp_net *net = create_net(sizes, n_sizes, SWIFTMLP_FLOAT64, seed);
    size_t n = 0;
    assert_ok(swiftmlp_get_param_count(net, &n));
    const size_t n0 = sizes[0], nl = sizes[n_sizes - 1];
    const size_t x_len = batch * n0, y_len = batch * nl;

    double *params = malloc(n * sizeof *params);
    double *analytic = malloc(n * sizeof *analytic);
    double *x = malloc(x_len * sizeof *x);
    double *y = malloc(y_len * sizeof *y);
    double *out = malloc(y_len * sizeof *out);
    assert_non_null(params);
    assert_non_null(analytic);
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(out);
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
    double loss0 = loss_at(net, params, n, x, x_len, y, y_len, batch, out, y_len);
    assert_true(isfinite(loss0));
    assert_ok(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, analytic, n));

    double worst = 0.0;
    size_t worst_i = 0;
    double worst_a = 0.0, worst_n = 0.0;
    size_t n_bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double p = params[i];
        params[i] = p + k_h;
        const double lp = loss_at(net, params, n, x, x_len, y, y_len, batch, out, y_len);
        params[i] = p - k_h;
        const double lm = loss_at(net, params, n, x, x_len, y, y_len, batch, out, y_len);
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
    gradcheck(sizes, 4, 3, 2718);
}

static void test_gradients_match_finite_differences_3_8_6_4_2_batch_5(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 8, 6, 4, 2};
    gradcheck(sizes, 5, 5, 2);
}

static void test_gradients_match_finite_differences_single_layer_batch_1(void **state)
{
    (void)state;
    const size_t sizes[] = {6, 3};
    gradcheck(sizes, 2, 1, 161803);
}

/* float32 gradients agree with float64 gradients of the same (float-exact)
 * parameters and data to float32 accuracy. */
static void test_float32_gradients_agree_with_float64(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 5, 3, 2};
    enum { B = 3, N0 = 4, NL = 2 };
    swiftmlp_net *n64 = create_net(sizes, 4, SWIFTMLP_FLOAT64, 1);
    swiftmlp_net *n32 = create_net(sizes, 4, SWIFTMLP_FLOAT32, 1);
    size_t n = 0;
    assert_ok(swiftmlp_get_param_count(n64, &n));
    assert_int_equal(n, 51);
    double p64[51], g64[51], x64[B * N0], y64[B * NL], o64[B * NL];
    float p32[51], g32[51], x32[B * N0], y32[B * NL], o32[B * NL];
    uint64_t rng = 99;
    for (size_t i = 0; i < 51; i++) {
        p32[i] = (float)rand_uniform(&rng, -1.0, 1.0);
        p64[i] = p32[i];
    }
    for (size_t i = 0; i < B * N0; i++) {
        x32[i] = (float)rand_uniform(&rng, -1.0, 1.0);
        x64[i] = x32[i];
    }
    for (size_t i = 0; i < B * NL; i++) {
        y32[i] = (float)rand_uniform(&rng, 0.0, 1.0);
        y64[i] = y32[i];
    }
    double l64 = 0, l32 = 0;
    assert_ok(swiftmlp_set_params(n64, SWIFTMLP_FLOAT64, p64, 51));
    assert_ok(swiftmlp_set_params(n32, SWIFTMLP_FLOAT32, p32, 51));
    assert_ok(swiftmlp_forward(n64, SWIFTMLP_FLOAT64, x64, B * N0, B, o64, B * NL));
    assert_ok(swiftmlp_forward(n32, SWIFTMLP_FLOAT32, x32, B * N0, B, o32, B * NL));
    for (size_t i = 0; i < B * NL; i++) {
        assert_close(o32[i], o64[i], 1e-5, 1e-6);
    }
    assert_ok(swiftmlp_backward(n64, SWIFTMLP_FLOAT64, y64, B * NL, B, &l64));
    assert_ok(swiftmlp_backward(n32, SWIFTMLP_FLOAT32, y32, B * NL, B, &l32));
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_match_finite_differences_4_5_3_2_batch_3),
        cmocka_unit_test(test_gradients_match_finite_differences_3_8_6_4_2_batch_5),
        cmocka_unit_test(test_gradients_match_finite_differences_single_layer_batch_1),
        cmocka_unit_test(test_float32_gradients_agree_with_float64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
