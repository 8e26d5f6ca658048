/*
 * test_inspect.c — the slides' quantities (swiftmlp_get_cached_rows,
 * swiftmlp_get_quantity) and inference (swiftmlp_predict, swiftmlp_evaluate).
 *
 * On a [3, 4, 2] sigmoid / MSE float64 network the test computes f, g,
 * dL/dg and dL/df of every layer itself from the weights read with
 * get_layer, with the slides' equations:
 *     f = g_prev W^T + b,  g = sigmoid(f),
 *     dL/dg_L = 2/(B*NL) (g_L - y),  dL/df = dL/dg * g * (1 - g),
 *     dL/dg_prev = dL/df W,
 * and compares with get_quantity at 1e-12 relative.  predict and evaluate
 * must leave the training cache (and so get_quantity and backward) alone.
 * The bad input of the shape getters, parameters, gradients and layers is a
 * table (test_util.h's run_bad_cases).
 */
#include "test_util.h"


enum { N0 = FX_N0, N1 = FX_N1, N2 = FX_N2, B = FX_B, NPARAMS = FX_NPARAMS };
static const size_t k_width[] = {N0, N1, N2}; /* N_l of slide layer l */

static void forward_ok(fx *f)
{
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, B, f->out, B * N2));
}

static double forward_backward_ok(fx *f)
{
    double loss = NAN;
    forward_ok(f);
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss));
    return loss;
}

static double sigmoid(double v)
{
    return 1.0 / (1.0 + exp(-v));
}

/* Every quantity of the last batch, as get_quantity returns them. */
typedef struct quantities {
    double g0[B * N0];
    double f[3][B * N1], g[3][B * N1], df[3][B * N1], dg[3][B * N1]; /* index 1..2 */
} quantities;

static void read_quantities(const swiftmlp_net *net, quantities *q, int with_backward)
{
    memset(q, 0, sizeof *q);
    assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_G, 0, SWIFTMLP_FLOAT64, q->g0, B * N0));
    for (size_t l = 1; l <= 2; l++) {
        const size_t n = B * k_width[l];
        assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_F, l, SWIFTMLP_FLOAT64, q->f[l], n));
        assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_G, l, SWIFTMLP_FLOAT64, q->g[l], n));
        if (with_backward) {
            assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_DL_DF, l, SWIFTMLP_FLOAT64, q->df[l], n));
            assert_ok(swiftmlp_get_quantity(net, SWIFTMLP_Q_DL_DG, l, SWIFTMLP_FLOAT64, q->dg[l], n));
        }
    }
}

/* ======================================================================== */
/* the slides' equations                                                    */
/* ======================================================================== */

static void test_quantities_after_forward_backward_match_slide_equations(void **state)
{
    FX_FIXTURE;
    const double loss = forward_backward_ok(f);
    double w0[N1 * N0], b0[N1], w1[N2 * N1], b1[N2];
    assert_ok(swiftmlp_get_layer(f->net, 0, SWIFTMLP_FLOAT64, w0, N1 * N0, b0, N1));
    assert_ok(swiftmlp_get_layer(f->net, 1, SWIFTMLP_FLOAT64, w1, N2 * N1, b1, N2));

    /* Forward. */
    double f1[B * N1], g1[B * N1], f2[B * N2], g2[B * N2];
    for (size_t r = 0; r < B; r++) {
        for (size_t j = 0; j < N1; j++) {
            double s = b0[j];
            for (size_t i = 0; i < N0; i++) {
                s += f->x[r * N0 + i] * w0[j * N0 + i];
            }
            f1[r * N1 + j] = s;
            g1[r * N1 + j] = sigmoid(s);
        }
        for (size_t j = 0; j < N2; j++) {
            double s = b1[j];
            for (size_t i = 0; i < N1; i++) {
                s += g1[r * N1 + i] * w1[j * N1 + i];
            }
            f2[r * N2 + j] = s;
            g2[r * N2 + j] = sigmoid(s);
        }
    }
    /* Backward. */
    double dg2[B * N2], df2[B * N2], dg1[B * N1], df1[B * N1], sum = 0.0;
    for (size_t i = 0; i < B * N2; i++) {
        const double d = g2[i] - f->y[i];
        sum += d * d;
        dg2[i] = 2.0 / (B * N2) * d;
        df2[i] = dg2[i] * g2[i] * (1.0 - g2[i]);
    }
    for (size_t r = 0; r < B; r++) {
        for (size_t i = 0; i < N1; i++) {
            double s = 0.0;
            for (size_t j = 0; j < N2; j++) {
                s += df2[r * N2 + j] * w1[j * N1 + i];
            }
            dg1[r * N1 + i] = s;
            df1[r * N1 + i] = s * g1[r * N1 + i] * (1.0 - g1[r * N1 + i]);
        }
    }
    assert_close(loss, sum / (B * N2), 1e-14, 0.0);

    quantities q;
    read_quantities(f->net, &q, 1);
    assert_memory_equal(q.g0, f->x, sizeof f->x); /* g^(0) = x exactly */
    const double rtol = 1e-12, atol = 1e-18;
    for (size_t i = 0; i < B * N1; i++) {
        assert_close(q.f[1][i], f1[i], rtol, atol);
        assert_close(q.g[1][i], g1[i], rtol, atol);
        assert_close(q.dg[1][i], dg1[i], rtol, atol);
        assert_close(q.df[1][i], df1[i], rtol, atol);
    }
    for (size_t i = 0; i < B * N2; i++) {
        assert_close(q.f[2][i], f2[i], rtol, atol);
        assert_close(q.g[2][i], g2[i], rtol, atol);
        assert_close(q.dg[2][i], dg2[i], rtol, atol);
        assert_close(q.df[2][i], df2[i], rtol, atol);
        assert_true(q.g[2][i] == f->out[i]); /* g_L is what forward returned */
    }

    /* And the gradients follow from them: dW = df^T g_prev, db = sum df. */
    double dw0[N1 * N0], db0[N1], dw1[N2 * N1], db1[N2];
    assert_ok(swiftmlp_get_layer_grads(f->net, 0, SWIFTMLP_FLOAT64, dw0, N1 * N0, db0, N1));
    assert_ok(swiftmlp_get_layer_grads(f->net, 1, SWIFTMLP_FLOAT64, dw1, N2 * N1, db1, N2));
    for (size_t j = 0; j < N1; j++) {
        double sb = 0.0;
        for (size_t i = 0; i < N0; i++) {
            double s = 0.0;
            for (size_t r = 0; r < B; r++) {
                s += df1[r * N1 + j] * f->x[r * N0 + i];
            }
            assert_close(dw0[j * N0 + i], s, rtol, atol);
        }
        for (size_t r = 0; r < B; r++) {
            sb += df1[r * N1 + j];
        }
        assert_close(db0[j], sb, rtol, atol);
    }
    for (size_t j = 0; j < N2; j++) {
        double sb = 0.0;
        for (size_t i = 0; i < N1; i++) {
            double s = 0.0;
            for (size_t r = 0; r < B; r++) {
                s += df2[r * N2 + j] * g1[r * N1 + i];
            }
            assert_close(dw1[j * N1 + i], s, rtol, atol);
        }
        for (size_t r = 0; r < B; r++) {
            sb += df2[r * N2 + j];
        }
        assert_close(db1[j], sb, rtol, atol);
    }
}

static void test_float32_quantities_agree_with_float64_network(void **state)
{
    FX_FIXTURE;
    /* Same (float-exact) parameters in both networks. */
    float p32[NPARAMS];
    double p64[NPARAMS];
    assert_ok(swiftmlp_get_params(f->net32, SWIFTMLP_FLOAT32, p32, NPARAMS));
    for (size_t i = 0; i < NPARAMS; i++) {
        p64[i] = p32[i];
    }
    assert_ok(swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, p64, NPARAMS));
    forward_backward_ok(f);
    assert_ok(swiftmlp_forward(f->net32, SWIFTMLP_FLOAT32, f->x32, B * N0, B, f->out32, B * N2));
    assert_ok(swiftmlp_backward(f->net32, SWIFTMLP_FLOAT32, f->y32, B * N2, B, NULL));
    const swiftmlp_quantity qs[] = {SWIFTMLP_Q_F, SWIFTMLP_Q_G, SWIFTMLP_Q_DL_DF, SWIFTMLP_Q_DL_DG};
    for (size_t l = 0; l <= 2; l++) {
        for (size_t k = 0; k < ARRAY_LEN(qs); k++) {
            if (l == 0 && qs[k] != SWIFTMLP_Q_G) {
                continue;
            }
            double a[B * N1];
            float b[B * N1];
            const size_t n = B * k_width[l];
            assert_ok(swiftmlp_get_quantity(f->net, qs[k], l, SWIFTMLP_FLOAT64, a, n));
            assert_ok(swiftmlp_get_quantity(f->net32, qs[k], l, SWIFTMLP_FLOAT32, b, n));
            for (size_t i = 0; i < n; i++) {
                assert_close(b[i], a[i], 1e-5, 1e-7);
            }
        }
    }
    size_t rows = 0;
    assert_ok(swiftmlp_get_cached_rows(f->net32, &rows));
    assert_int_equal(rows, B);
}

static void test_cached_rows_is_the_batch_of_the_last_forward(void **state)
{
    FX_FIXTURE;
    size_t rows = 0;
    forward_ok(f);
    assert_ok(swiftmlp_get_cached_rows(f->net, &rows));
    assert_last_error_empty();
    assert_int_equal(rows, B);
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->x, 2 * N0, 2, f->out, B * N2));
    assert_ok(swiftmlp_get_cached_rows(f->net, &rows));
    assert_int_equal(rows, 2);
    /* get_quantity returns that many rows. */
    double g2[2 * N2];
    assert_ok(swiftmlp_get_quantity(f->net, SWIFTMLP_Q_G, 2, SWIFTMLP_FLOAT64, g2, 2 * N2));
    assert_memory_equal(g2, f->out, sizeof g2);
    /* A failed forward does not change it. */
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->x, 0, 0, f->out, B * N2),
                  SWIFTMLP_ERR_INVALID_ARGUMENT);
    assert_ok(swiftmlp_get_cached_rows(f->net, &rows));
    assert_int_equal(rows, 2);
}

/* "They stay readable after a step or parameter write, until the next forward." */
static void test_quantities_stay_readable_and_unchanged_after_step_and_set_params(void **state)
{
    FX_FIXTURE;
    forward_backward_ok(f);
    quantities q1, q2, q3;
    read_quantities(f->net, &q1, 1);
    assert_ok(swiftmlp_step(f->net, 0.5));
    read_quantities(f->net, &q2, 1);
    assert_memory_equal(&q1, &q2, sizeof q1);
    double p[NPARAMS];
    assert_ok(swiftmlp_get_params(f->net, SWIFTMLP_FLOAT64, p, NPARAMS));
    p[0] += 1.0;
    assert_ok(swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, p, NPARAMS));
    read_quantities(f->net, &q3, 1);
    assert_memory_equal(&q1, &q3, sizeof q1);
    size_t rows = 0;
    assert_ok(swiftmlp_get_cached_rows(f->net, &rows));
    assert_int_equal(rows, B);
}

/* A new forward replaces f and g and makes dL/df, dL/dg unavailable until
 * the next backward. */
static void test_new_forward_hides_derivatives_until_next_backward(void **state)
{
    FX_FIXTURE;
    forward_backward_ok(f);
    forward_ok(f);
    double buf[B * N1];
    assert_fails_unchanged(f->net, swiftmlp_get_quantity(f->net, SWIFTMLP_Q_DL_DF, 2, SWIFTMLP_FLOAT64, buf, B * N1),
                           SWIFTMLP_ERR_STATE);
    assert_fails_unchanged(f->net, swiftmlp_get_quantity(f->net, SWIFTMLP_Q_DL_DG, 1, SWIFTMLP_FLOAT64, buf, B * N1),
                           SWIFTMLP_ERR_STATE);
    assert_ok(swiftmlp_get_quantity(f->net, SWIFTMLP_Q_F, 2, SWIFTMLP_FLOAT64, buf, B * N1));
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, NULL));
    assert_ok(swiftmlp_get_quantity(f->net, SWIFTMLP_Q_DL_DF, 2, SWIFTMLP_FLOAT64, buf, B * N1));
}

/* A failed backward does not make derivatives readable. */
static void test_failed_backward_does_not_make_derivatives_readable(void **state)
{
    FX_FIXTURE;
    forward_ok(f);
    assert_status(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2 - 1, B, NULL),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    double buf[B * N1];
    assert_fails_unchanged(f->net, swiftmlp_get_quantity(f->net, SWIFTMLP_Q_DL_DF, 1, SWIFTMLP_FLOAT64, buf, B * N1),
                           SWIFTMLP_ERR_STATE);
}

/* ======================================================================== */
/* predict / evaluate leave the training state alone                        */
/* ======================================================================== */

enum { BIG = 600 };

/* BIG rows of inputs x and targets y drawn from seed, and room for their
 * outputs; free with big_batch_free. */
typedef struct big_batch {
    double *x, *y, *out;
} big_batch;

static big_batch big_batch_new(uint64_t seed)
{
    big_batch d = {malloc_or_fail(BIG * N0 * sizeof *d.x), malloc_or_fail(BIG * N2 * sizeof *d.y),
                   malloc_or_fail(BIG * N2 * sizeof *d.out)};
    uint64_t rng = seed;
    for (size_t i = 0; i < BIG * N0; i++) {
        d.x[i] = rand_uniform(&rng, -3.0, 3.0);
    }
    for (size_t i = 0; i < BIG * N2; i++) {
        d.y[i] = rand_uniform(&rng, 0.0, 1.0);
    }
    return d;
}

static void big_batch_free(big_batch *d)
{
    free(d->x);
    free(d->y);
    free(d->out);
}

static void test_predict_and_evaluate_leave_quantities_cache_and_gradients_untouched(void **state)
{
    FX_FIXTURE;
    const double loss1 = forward_backward_ok(f);
    quantities q1, q2;
    read_quantities(f->net, &q1, 1);
    snapshot g1 = snapshot_grads(f->net);

    big_batch d = big_batch_new(5);
    double ev = NAN;
    assert_ok(swiftmlp_predict(f->net, SWIFTMLP_FLOAT64, d.x, BIG * N0, BIG, d.out, BIG * N2));
    assert_last_error_empty();
    assert_ok(swiftmlp_predict(f->net, SWIFTMLP_FLOAT64, d.x, 7 * N0, 7, d.out, BIG * N2));
    assert_ok(swiftmlp_evaluate(f->net, SWIFTMLP_FLOAT64, d.x, BIG * N0, d.y, BIG * N2, BIG, &ev));
    assert_last_error_empty();
    assert_ok(swiftmlp_evaluate(f->net, SWIFTMLP_FLOAT64, d.x, 3 * N0, d.y, 3 * N2, 3, &ev));

    size_t rows = 0;
    assert_ok(swiftmlp_get_cached_rows(f->net, &rows));
    assert_int_equal(rows, B);
    read_quantities(f->net, &q2, 1);
    assert_memory_equal(&q1, &q2, sizeof q1);
    snapshot g2 = snapshot_grads(f->net);
    assert_same_snapshot(g1, g2, "gradients after predict / evaluate");

    /* The forward cache is still that batch's: backward works, same result. */
    double loss2 = NAN;
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss2));
    assert_true(loss1 == loss2);
    snapshot g3 = snapshot_grads(f->net);
    assert_same_snapshot(g1, g3, "gradients of backward after predict / evaluate");
    snapshot_free(&g1);
    snapshot_free(&g2);
    snapshot_free(&g3);
    big_batch_free(&d);
}

/* predict before any forward does not create a training cache. */
static void test_predict_before_forward_leaves_no_training_cache(void **state)
{
    FX_FIXTURE;
    double out[B * N2], ev = NAN;
    assert_ok(swiftmlp_predict(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, B, out, B * N2));
    assert_ok(swiftmlp_evaluate(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, f->y, B * N2, B, &ev));
    size_t rows = 0;
    assert_status(swiftmlp_get_cached_rows(f->net, &rows), SWIFTMLP_ERR_STATE);
    assert_status(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, NULL), SWIFTMLP_ERR_STATE);
}

static void test_predict_600_rows_equals_forward_rows(void **state)
{
    FX_FIXTURE;
    big_batch d = big_batch_new(6);
    double *a = d.out, *b = malloc_or_fail(BIG * N2 * sizeof *b);
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, d.x, BIG * N0, BIG, a, BIG * N2));
    assert_ok(swiftmlp_predict(f->net, SWIFTMLP_FLOAT64, d.x, BIG * N0, BIG, b, BIG * N2));
    for (size_t i = 0; i < BIG * N2; i++) {
        assert_close(b[i], a[i], 1e-15, 0.0);
    }
    /* y_cap may be larger than needed; nothing past rows*NL is written. */
    double c[3 * N2 + 1];
    c[3 * N2] = -42.0;
    assert_ok(swiftmlp_predict(f->net, SWIFTMLP_FLOAT64, d.x, 3 * N0, 3, c, 3 * N2 + 1));
    assert_true(c[3 * N2] == -42.0);
    for (size_t i = 0; i < 3 * N2; i++) {
        assert_close(c[i], a[i], 1e-15, 0.0);
    }
    big_batch_free(&d);
    free(b);
}

static void test_predict_float32_equals_forward_rows(void **state)
{
    FX_FIXTURE;
    enum { R = 300 };
    float *x = malloc(R * N0 * sizeof *x), *a = malloc(R * N2 * sizeof *a), *b = malloc(R * N2 * sizeof *b);
    assert_non_null(x);
    assert_non_null(a);
    assert_non_null(b);
    uint64_t rng = 8;
    for (size_t i = 0; i < R * N0; i++) {
        x[i] = (float)rand_uniform(&rng, -3.0, 3.0);
    }
    assert_ok(swiftmlp_forward(f->net32, SWIFTMLP_FLOAT32, x, R * N0, R, a, R * N2));
    assert_ok(swiftmlp_predict(f->net32, SWIFTMLP_FLOAT32, x, R * N0, R, b, R * N2));
    for (size_t i = 0; i < R * N2; i++) {
        assert_close(b[i], a[i], 1e-6, 0.0);
    }
    free(x);
    free(a);
    free(b);
}

static void test_evaluate_equals_backward_loss_of_same_batch(void **state)
{
    FX_FIXTURE;
    const double loss = forward_backward_ok(f);
    double ev = NAN;
    assert_ok(swiftmlp_evaluate(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, f->y, B * N2, B, &ev));
    assert_close(ev, loss, 1e-15, 0.0);
}

static void test_evaluate_600_rows_equals_backward_loss_of_same_batch(void **state)
{
    FX_FIXTURE;
    big_batch d = big_batch_new(9);
    double loss = NAN, ev = NAN;
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, d.x, BIG * N0, BIG, d.out, BIG * N2));
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, d.y, BIG * N2, BIG, &loss));
    assert_ok(swiftmlp_evaluate(f->net, SWIFTMLP_FLOAT64, d.x, BIG * N0, d.y, BIG * N2, BIG, &ev));
    assert_close(ev, loss, 1e-15, 0.0);
    big_batch_free(&d);
}

static void test_evaluate_float32_equals_backward_loss(void **state)
{
    FX_FIXTURE;
    double loss = NAN, ev = NAN;
    assert_ok(swiftmlp_forward(f->net32, SWIFTMLP_FLOAT32, f->x32, B * N0, B, f->out32, B * N2));
    assert_ok(swiftmlp_backward(f->net32, SWIFTMLP_FLOAT32, f->y32, B * N2, B, &loss));
    assert_ok(swiftmlp_evaluate(f->net32, SWIFTMLP_FLOAT32, f->x32, B * N0, f->y32, B * N2, B, &ev));
    assert_close(ev, loss, 1e-6, 0.0);
}

/* ======================================================================== */
/* get_quantity / cached_rows bad input                                     */
/* ======================================================================== */

/* Besides the table's row: nothing is written. */
static void test_get_quantity_capacity_one_too_small_returns_buffer_size(void **state)
{
    FX_FIXTURE;
    double buf[B * N1];
    for (size_t i = 0; i < B * N1; i++) {
        buf[i] = -7.0;
    }
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_get_quantity(f->net, SWIFTMLP_Q_G, 1, F64, buf, B * N1 - 1), SWIFTMLP_ERR_BUFFER_SIZE);
    for (size_t i = 0; i < B * N1; i++) {
        assert_true(buf[i] == -7.0); /* nothing written */
    }
}

/* ---- bad input: cached_rows, get_quantity, predict, evaluate -------------
 * (test_util.h's fx driver.) predict and evaluate rows run after a forward:
 * the driver checks the cached rows and that backward still gives a fresh
 * network's gradients, i.e. the training cache is kept. */

#define GQ(q, l, cap) swiftmlp_get_quantity(f->net, (q), (l), F64, f->scratch, (cap))
#define QUANTITY_CASES(X)                                                                               \
    X(cached_rows_before_any_forward, E_STATE, ON_NET, PREP_NONE, NULL, swiftmlp_get_cached_rows(f->net, &f->n)) \
    X(cached_rows_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_get_cached_rows(NULL, &f->n))       \
    X(cached_rows_null_rows, E_NULL, ON_NET, PREP_FORWARD, NULL, swiftmlp_get_cached_rows(f->net, NULL))   \
    X(get_quantity_f_before_any_forward, E_STATE, ON_NET, PREP_NONE, NULL, GQ(SWIFTMLP_Q_F, 1, B * N1)) \
    X(get_quantity_g0_before_any_forward, E_STATE, ON_NET, PREP_NONE, NULL, GQ(SWIFTMLP_Q_G, 0, B * N1)) \
    X(get_quantity_dl_df_before_backward, E_STATE, ON_NET, PREP_FORWARD, NULL, GQ(SWIFTMLP_Q_DL_DF, 2, B * N1)) \
    X(get_quantity_dl_dg_before_backward, E_STATE, ON_NET, PREP_FORWARD, NULL, GQ(SWIFTMLP_Q_DL_DG, 1, B * N1)) \
    X(get_quantity_layer_above_l, E_LAYER, ON_NET, PREP_FB, NULL, GQ(SWIFTMLP_Q_G, 3, B * N1))         \
    X(get_quantity_layer_size_max, E_LAYER, ON_NET, PREP_FB, NULL, GQ(SWIFTMLP_Q_F, SIZE_MAX, B * N1)) \
    X(get_quantity_f_of_layer_0, E_LAYER, ON_NET, PREP_FB, NULL, GQ(SWIFTMLP_Q_F, 0, B * N1))          \
    X(get_quantity_dl_df_of_layer_0, E_LAYER, ON_NET, PREP_FB, NULL, GQ(SWIFTMLP_Q_DL_DF, 0, B * N1))  \
    X(get_quantity_dl_dg_of_layer_0, E_LAYER, ON_NET, PREP_FB, NULL, GQ(SWIFTMLP_Q_DL_DG, 0, B * N1))  \
    X(get_quantity_unknown_quantity, E_ARG, ON_NET, PREP_FB, NULL, GQ((swiftmlp_quantity)4, 1, B * N1)) \
    X(get_quantity_negative_quantity, E_ARG, ON_NET, PREP_FB, NULL, GQ((swiftmlp_quantity)-1, 1, B * N1)) \
    X(get_quantity_capacity_one_too_small, E_BUF, ON_NET, PREP_FB, NULL, GQ(SWIFTMLP_Q_G, 1, B * N1 - 1)) \
    X(get_quantity_capacity_zero, E_BUF, ON_NET, PREP_FB, NULL, GQ(SWIFTMLP_Q_DL_DG, 2, 0))            \
    X(get_quantity_input_capacity_too_small, E_BUF, ON_NET, PREP_FORWARD, NULL, GQ(SWIFTMLP_Q_G, 0, B * N0 - 1)) \
    X(get_quantity_float32_call_on_float64_net, E_DTYPE, ON_NET, PREP_FB, NULL,                         \
      swiftmlp_get_quantity(f->net, SWIFTMLP_Q_G, 1, F32, f->scratch32, B * N1))                        \
    X(get_quantity_float64_call_on_float32_net, E_DTYPE, ON_NET32, PREP_FORWARD, NULL,                  \
      swiftmlp_get_quantity(f->net32, SWIFTMLP_Q_F, 1, F64, f->scratch, B * N1))                        \
    X(get_quantity_unknown_dtype, E_ARG, ON_NET, PREP_FB, NULL,                                         \
      swiftmlp_get_quantity(f->net, SWIFTMLP_Q_G, 1, (swiftmlp_dtype)9, f->scratch, B * N1))            \
    X(get_quantity_null_out, E_NULL, ON_NET, PREP_FB, NULL,                                             \
      swiftmlp_get_quantity(f->net, SWIFTMLP_Q_G, 1, F64, NULL, B * N1))                                \
    X(get_quantity_null_net, E_NULL, ON_NONE, PREP_NONE, NULL,                                          \
      swiftmlp_get_quantity(NULL, SWIFTMLP_Q_G, 1, F64, f->scratch, B * N1))

#define PREDICT(net, dtype, x, x_len, rows, out, cap) swiftmlp_predict((net), (dtype), (x), (x_len), (rows), (out), (cap))
#define PREDICT_CASES(X)                                                                                \
    X(predict_rows_0, E_ARG, ON_NET, PREP_FORWARD, NULL, PREDICT(f->net, F64, f->x, 0, 0, f->out, B * N2)) \
    X(predict_x_len_too_small, E_BUF, ON_NET, PREP_FORWARD, NULL,                                       \
      PREDICT(f->net, F64, f->x, B * N0 - 1, B, f->out, B * N2))                                        \
    X(predict_x_len_too_large, E_BUF, ON_NET, PREP_FORWARD, NULL,                                       \
      PREDICT(f->net, F64, f->x, B * N0, B - 1, f->out, B * N2))                                        \
    X(predict_y_cap_too_small, E_BUF, ON_NET, PREP_FORWARD, NULL,                                       \
      PREDICT(f->net, F64, f->x, B * N0, B, f->out, B * N2 - 1))                                        \
    X(predict_nan_in_x, E_FINITE, ON_NET, PREP_FORWARD, NULL,                                           \
      PREDICT(f->net, F64, fx_with(f, f->x, B * N0, B * N0 - 1, NAN), B * N0, B, f->out, B * N2))       \
    X(predict_inf_in_x, E_FINITE, ON_NET, PREP_FORWARD, NULL,                                           \
      PREDICT(f->net, F64, fx_with(f, f->x, B * N0, 0, -INFINITY), B * N0, B, f->out, B * N2))          \
    X(predict_float32_call_on_float64_net, E_DTYPE, ON_NET, PREP_FORWARD, NULL,                         \
      PREDICT(f->net, F32, f->x32, B * N0, B, f->out32, B * N2))                                        \
    X(predict_float64_call_on_float32_net, E_DTYPE, ON_NET32, PREP_NONE, NULL,                          \
      PREDICT(f->net32, F64, f->x, B * N0, B, f->out, B * N2))                                          \
    X(predict_unknown_dtype, E_ARG, ON_NET, PREP_FORWARD, NULL,                                         \
      PREDICT(f->net, (swiftmlp_dtype)0, f->x, B * N0, B, f->out, B * N2))                              \
    X(predict_null_x, E_NULL, ON_NET, PREP_FORWARD, NULL, PREDICT(f->net, F64, NULL, B * N0, B, f->out, B * N2)) \
    X(predict_null_y, E_NULL, ON_NET, PREP_FORWARD, NULL, PREDICT(f->net, F64, f->x, B * N0, B, NULL, B * N2)) \
    X(predict_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, PREDICT(NULL, F64, f->x, B * N0, B, f->out, B * N2))

#define EV(net, dtype, x, x_len, y, y_len, rows) \
    swiftmlp_evaluate((net), (dtype), (x), (x_len), (y), (y_len), (rows), &f->loss)
#define EVALUATE_CASES(X)                                                                               \
    X(evaluate_rows_0, E_ARG, ON_NET, PREP_FORWARD, NULL, EV(f->net, F64, f->x, 0, f->y, 0, 0))          \
    X(evaluate_x_len_wrong, E_BUF, ON_NET, PREP_FORWARD, NULL, EV(f->net, F64, f->x, B * N0 - 1, f->y, B * N2, B)) \
    X(evaluate_y_len_wrong, E_BUF, ON_NET, PREP_FORWARD, NULL, EV(f->net, F64, f->x, B * N0, f->y, B * N2 - 1, B)) \
    X(evaluate_nan_in_x, E_FINITE, ON_NET, PREP_FORWARD, NULL,                                          \
      EV(f->net, F64, fx_with(f, f->x, B * N0, 2, NAN), B * N0, f->y, B * N2, B))                       \
    X(evaluate_inf_in_y, E_FINITE, ON_NET, PREP_FORWARD, NULL,                                          \
      EV(f->net, F64, f->x, B * N0, fx_with(f, f->y, B * N2, 1, INFINITY), B * N2, B))                  \
    X(evaluate_float32_call_on_float64_net, E_DTYPE, ON_NET, PREP_FORWARD, NULL,                        \
      EV(f->net, F32, f->x32, B * N0, f->y32, B * N2, B))                                               \
    X(evaluate_unknown_dtype, E_ARG, ON_NET, PREP_FORWARD, NULL,                                        \
      EV(f->net, (swiftmlp_dtype)3, f->x, B * N0, f->y, B * N2, B))                                     \
    X(evaluate_null_loss, E_NULL, ON_NET, PREP_FORWARD, NULL,                                           \
      swiftmlp_evaluate(f->net, F64, f->x, B * N0, f->y, B * N2, B, NULL))                              \
    X(evaluate_null_x, E_NULL, ON_NET, PREP_FORWARD, NULL, EV(f->net, F64, NULL, B * N0, f->y, B * N2, B)) \
    X(evaluate_null_y, E_NULL, ON_NET, PREP_FORWARD, NULL, EV(f->net, F64, f->x, B * N0, NULL, B * N2, B)) \
    X(evaluate_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, EV(NULL, F64, f->x, B * N0, f->y, B * N2, B))

BAD_TABLE(k_quantity_cases, QUANTITY_CASES);
BAD_TABLE(k_predict_cases, PREDICT_CASES);
BAD_TABLE(k_evaluate_cases, EVALUATE_CASES);

/* ---- bad input: shape getters, parameters, gradients, layers ------------- */

#define SHAPE_CASES(X)                                                                                  \
    X(get_dtype_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_get_dtype(NULL, &(swiftmlp_dtype){F64})) \
    X(get_dtype_null_out, E_NULL, ON_NET, PREP_NONE, NULL, swiftmlp_get_dtype(f->net, NULL))            \
    X(layer_count_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_get_layer_count(NULL, &f->n))        \
    X(layer_count_null_out, E_NULL, ON_NET, PREP_NONE, NULL, swiftmlp_get_layer_count(f->net, NULL))        \
    X(get_sizes_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_get_sizes(NULL, f->sizes, 3))      \
    X(get_sizes_null_buffer, E_NULL, ON_NET, PREP_NONE, NULL, swiftmlp_get_sizes(f->net, NULL, 3))      \
    X(get_sizes_capacity_too_small, E_BUF, ON_NET, PREP_NONE, NULL, swiftmlp_get_sizes(f->net, f->sizes, 2)) \
    X(param_count_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_get_param_count(NULL, &f->n))        \
    X(param_count_null_out, E_NULL, ON_NET, PREP_NONE, NULL, swiftmlp_get_param_count(f->net, NULL))        \
    X(layer_offsets_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_get_layer_offsets(NULL, 0, &f->n, &f->n2)) \
    X(layer_offsets_null_w_offset, E_NULL, ON_NET, PREP_NONE, NULL,                                     \
      swiftmlp_get_layer_offsets(f->net, 0, NULL, &f->n2))                                                  \
    X(layer_offsets_null_b_offset, E_NULL, ON_NET, PREP_NONE, NULL,                                     \
      swiftmlp_get_layer_offsets(f->net, 0, &f->n, NULL))                                                   \
    X(layer_offsets_layer_equal_to_count, E_LAYER, ON_NET, PREP_NONE, NULL,                             \
      swiftmlp_get_layer_offsets(f->net, 2, &f->n, &f->n2))                                                 \
    X(layer_offsets_layer_size_max, E_LAYER, ON_NET, PREP_NONE, NULL,                                   \
      swiftmlp_get_layer_offsets(f->net, SIZE_MAX, &f->n, &f->n2))

/* The bad inputs every call that reads or writes one flat array of a
 * network takes: CALL(net, dtype, buffer, length) with the float64 and
 * float32 buffers buf64 and buf32 of n elements, on a network brought to
 * prep first (a NULL network is brought to nothing). */
#define FLAT_ARRAY_CASES(X, name, prep, CALL, buf64, buf32, n)                                          \
    X(name##_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, CALL(NULL, F64, buf64, n))                     \
    X(name##_null_buffer, E_NULL, ON_NET, prep, NULL, CALL(f->net, F64, NULL, n))                       \
    X(name##_unknown_dtype, E_ARG, ON_NET, prep, NULL, CALL(f->net, DT7, buf64, n))                     \
    X(name##_float32_call_on_float64_net, E_DTYPE, ON_NET, prep, NULL, CALL(f->net, F32, buf32, n))     \
    X(name##_float64_call_on_float32_net, E_DTYPE, ON_NET32, prep, NULL, CALL(f->net32, F64, buf64, n)) \
    X(name##_length_too_small, E_BUF, ON_NET, prep, NULL, CALL(f->net, F64, buf64, n - 1))

#define GETP(net, dtype, out, cap) swiftmlp_get_params((net), (dtype), (out), (cap))
#define SETP(net, dtype, in, len) swiftmlp_set_params((net), (dtype), (in), (len))
/* The non-finite values sit late (a partial write would show in the others). */
#define PARAMS_CASES(X)                                                                                 \
    FLAT_ARRAY_CASES(X, get_params, PREP_NONE, GETP, f->scratch, f->scratch32, FX_NPARAMS)              \
    FLAT_ARRAY_CASES(X, set_params, PREP_NONE, SETP, f->p, f->p32, FX_NPARAMS)                          \
    X(set_params_in_len_too_large, E_BUF, ON_NET, PREP_NONE, NULL,                                      \
      SETP(f->net, F64, fx_with(f, f->p, FX_NPARAMS, FX_NPARAMS, 0.0), FX_NPARAMS + 1))                 \
    X(set_params_nan, E_FINITE, ON_NET, PREP_NONE, NULL,                                                \
      SETP(f->net, F64, fx_with(f, f->p, FX_NPARAMS, FX_NPARAMS - 1, NAN), FX_NPARAMS))                 \
    X(set_params_inf, E_FINITE, ON_NET, PREP_NONE, NULL,                                                \
      SETP(f->net, F64, fx_with(f, f->p, FX_NPARAMS, FX_NPARAMS / 2, INFINITY), FX_NPARAMS))            \
    X(set_params_float32_minus_inf, E_FINITE, ON_NET32, PREP_NONE, NULL,                                \
      SETP(f->net32, F32, fx_with32(f, f->p32, FX_NPARAMS, FX_NPARAMS - 1, -INFINITY), FX_NPARAMS))

#define GETG(net, dtype, out, cap) swiftmlp_get_grads((net), (dtype), (out), (cap))
#define GRADS_CASES(X)                                                                                  \
    FLAT_ARRAY_CASES(X, get_grads, PREP_FB, GETG, f->scratch, f->scratch32, FX_NPARAMS)                 \
    X(get_grads_before_any_backward, E_STATE, ON_NET, PREP_NONE, NULL, GETG(f->net, F64, f->scratch, FX_NPARAMS)) \
    X(get_grads_after_forward_only, E_STATE, ON_NET, PREP_FORWARD, NULL, GETG(f->net, F64, f->scratch, FX_NPARAMS))

/* The bad inputs every call that reads or writes layer 0 of [3, 4, 2] (W is
 * FX_W0LEN = 4 x 3, b is FX_N1 = 4) takes: CALL(net, layer, dtype, w,
 * w_len, b, b_len) with the float64 buffers w64, b64 and the float32
 * buffers w32, b32, on a network brought to prep first. */
#define LAYER_ARRAY_CASES(X, name, prep, CALL, w64, b64, w32, b32)                                      \
    X(name##_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, CALL(NULL, 0, F64, w64, FX_W0LEN, b64, FX_N1)) \
    X(name##_null_w, E_NULL, ON_NET, prep, NULL, CALL(f->net, 0, F64, NULL, FX_W0LEN, b64, FX_N1))      \
    X(name##_null_b, E_NULL, ON_NET, prep, NULL, CALL(f->net, 0, F64, w64, FX_W0LEN, NULL, FX_N1))      \
    X(name##_unknown_dtype, E_ARG, ON_NET, prep, NULL, CALL(f->net, 0, DT7, w64, FX_W0LEN, b64, FX_N1)) \
    X(name##_float32_call_on_float64_net, E_DTYPE, ON_NET, prep, NULL,                                  \
      CALL(f->net, 0, F32, w32, FX_W0LEN, b32, FX_N1))                                                  \
    X(name##_float64_call_on_float32_net, E_DTYPE, ON_NET32, prep, NULL,                                \
      CALL(f->net32, 0, F64, w64, FX_W0LEN, b64, FX_N1))                                                \
    X(name##_index_out_of_range, E_LAYER, ON_NET, prep, NULL, CALL(f->net, 2, F64, w64, FX_W0LEN, b64, FX_N1)) \
    X(name##_w_length_too_small, E_BUF, ON_NET, prep, NULL, CALL(f->net, 0, F64, w64, FX_W0LEN - 1, b64, FX_N1)) \
    X(name##_b_length_too_small, E_BUF, ON_NET, prep, NULL, CALL(f->net, 0, F64, w64, FX_W0LEN, b64, FX_N1 - 1))

#define GETL(net, layer, dtype, w, wcap, b, bcap) swiftmlp_get_layer((net), (layer), (dtype), (w), (wcap), (b), (bcap))
#define SETL(net, layer, dtype, w, wlen, b, blen) swiftmlp_set_layer((net), (layer), (dtype), (w), (wlen), (b), (blen))
#define GETLG(net, layer, dtype, w, wcap, b, bcap) swiftmlp_get_layer_grads((net), (layer), (dtype), (w), (wcap), (b), (bcap))
#define W64 f->scratch
#define B64 (f->scratch + FX_W0LEN)
#define W32 f->scratch32
#define B32 (f->scratch32 + FX_W0LEN)
#define GET_LAYER_CASES(X) LAYER_ARRAY_CASES(X, get_layer, PREP_NONE, GETL, W64, B64, W32, B32)

/* In set_layer_inf_in_b, W is valid and would be written first by a
 * non-atomic implementation. */
#define SET_LAYER_CASES(X)                                                                              \
    LAYER_ARRAY_CASES(X, set_layer, PREP_NONE, SETL, f->w0, f->b0, f->w0_32, f->b0_32)                  \
    X(set_layer_w_len_too_large, E_BUF, ON_NET, PREP_NONE, NULL,                                        \
      SETL(f->net, 0, F64, fx_with(f, f->w0, FX_W0LEN, FX_W0LEN, 0.0), FX_W0LEN + 1, f->b0, FX_N1))     \
    X(set_layer_nan_in_w, E_FINITE, ON_NET, PREP_NONE, NULL,                                            \
      SETL(f->net, 0, F64, fx_with(f, f->w0, FX_W0LEN, FX_W0LEN - 1, NAN), FX_W0LEN, f->b0, FX_N1))     \
    X(set_layer_inf_in_b, E_FINITE, ON_NET, PREP_NONE, NULL,                                            \
      SETL(f->net, 0, F64, f->w0, FX_W0LEN, fx_with(f, f->b0, FX_N1, FX_N1 - 1, INFINITY), FX_N1))      \
    X(set_layer_float32_nan_in_b, E_FINITE, ON_NET32, PREP_NONE, NULL,                                  \
      SETL(f->net32, 0, F32, f->w0_32, FX_W0LEN, fx_with32(f, f->b0_32, FX_N1, 0, NAN), FX_N1))

#define LAYER_GRADS_CASES(X)                                                                            \
    LAYER_ARRAY_CASES(X, get_layer_grads, PREP_FB, GETLG, W64, B64, W32, B32)                           \
    X(get_layer_grads_before_any_backward, E_STATE, ON_NET, PREP_NONE, NULL,                            \
      GETLG(f->net, 0, F64, W64, FX_W0LEN, B64, FX_N1))

BAD_TABLE(k_shape_cases, SHAPE_CASES);
BAD_TABLE(k_params_cases, PARAMS_CASES);
BAD_TABLE(k_grads_cases, GRADS_CASES);
BAD_TABLE(k_get_layer_cases, GET_LAYER_CASES);
BAD_TABLE(k_set_layer_cases, SET_LAYER_CASES);
BAD_TABLE(k_layer_grads_cases, LAYER_GRADS_CASES);

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        /* the slides' quantities */
        T(test_quantities_after_forward_backward_match_slide_equations),
        T(test_float32_quantities_agree_with_float64_network),
        T(test_cached_rows_is_the_batch_of_the_last_forward),
        T(test_quantities_stay_readable_and_unchanged_after_step_and_set_params),
        T(test_new_forward_hides_derivatives_until_next_backward),
        T(test_failed_backward_does_not_make_derivatives_readable),
        /* inference */
        T(test_predict_and_evaluate_leave_quantities_cache_and_gradients_untouched),
        T(test_predict_before_forward_leaves_no_training_cache),
        T(test_predict_600_rows_equals_forward_rows),
        T(test_predict_float32_equals_forward_rows),
        T(test_evaluate_equals_backward_loss_of_same_batch),
        T(test_evaluate_600_rows_equals_backward_loss_of_same_batch),
        T(test_evaluate_float32_equals_backward_loss),
        /* bad input */
        BAD_TABLE_TEST(k_shape_cases),
        BAD_TABLE_TEST(k_params_cases),
        BAD_TABLE_TEST(k_grads_cases),
        BAD_TABLE_TEST(k_get_layer_cases),
        BAD_TABLE_TEST(k_set_layer_cases),
        BAD_TABLE_TEST(k_layer_grads_cases),
        BAD_TABLE_TEST(k_quantity_cases),
        BAD_TABLE_TEST(k_predict_cases),
        BAD_TABLE_TEST(k_evaluate_cases),
        T(test_get_quantity_capacity_one_too_small_returns_buffer_size),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
