/*
 * test_bad_input.c — every documented failure, one cmocka test each.
 *
 * Each test checks the EXACT status, that swiftmlp_last_error() is non-empty
 * afterwards, and — where a network exists — that the parameters are
 * bit-identical before and after the failing call (header: "A failing call
 * leaves the network exactly as it was").  Backward failures additionally
 * check that the loss out-parameter and the gradients are untouched, and the
 * last group checks that failures keep the cached forward state usable.
 */
#include "test_util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixture -------------------------------------------------------------
 * net   float64 [3, 4, 2]  (W0 4x3, b0 4, W1 2x4, b1 2: 26 parameters)
 * net32 float32 [3, 4, 2]
 * x/y   a batch of B = 2 in both element types.                            */
enum { N0 = 3, N1 = 4, N2 = 2, B = 2, NPARAMS = N1 * N0 + N1 + N2 * N1 + N2 };
static const size_t k_sizes[] = {N0, N1, N2};

typedef struct fixture {
    swiftmlp_net *net;
    swiftmlp_net *net32;
    double x[B * N0], y[B * N2], out[B * N2];
    float x32[B * N0], y32[B * N2], out32[B * N2];
    double p[NPARAMS];   /* a valid parameter vector */
    float p32[NPARAMS];
    double w0[N1 * N0], b0[N1]; /* valid layer-0 values */
    float w0_32[N1 * N0], b0_32[N1];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return -1;
    }
    if (swiftmlp_create(k_sizes, 3, SWIFTMLP_FLOAT64, 7, &f->net) != SWIFTMLP_OK ||
        swiftmlp_create(k_sizes, 3, SWIFTMLP_FLOAT32, 7, &f->net32) != SWIFTMLP_OK) {
        return -1;
    }
    uint64_t rng = 1;
    for (size_t i = 0; i < B * N0; i++) {
        f->x[i] = rand_uniform(&rng, -1, 1);
        f->x32[i] = (float)f->x[i];
    }
    for (size_t i = 0; i < B * N2; i++) {
        f->y[i] = rand_uniform(&rng, 0, 1);
        f->y32[i] = (float)f->y[i];
    }
    for (size_t i = 0; i < NPARAMS; i++) {
        f->p[i] = rand_uniform(&rng, -1, 1);
        f->p32[i] = (float)f->p[i];
    }
    for (size_t i = 0; i < N1 * N0; i++) {
        f->w0[i] = rand_uniform(&rng, -1, 1);
        f->w0_32[i] = (float)f->w0[i];
    }
    for (size_t i = 0; i < N1; i++) {
        f->b0[i] = rand_uniform(&rng, -1, 1);
        f->b0_32[i] = (float)f->b0[i];
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    swiftmlp_free(f->net);
    swiftmlp_free(f->net32);
    free(f);
    return 0;
}

static void forward_ok(fixture *f)
{
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, B, f->out, B * N2));
}

static void forward_backward_ok(fixture *f)
{
    forward_ok(f);
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, NULL));
}

static void forward_backward_ok32(fixture *f)
{
    assert_ok(swiftmlp_forward(f->net32, SWIFTMLP_FLOAT32, f->x32, B * N0, B, f->out32, B * N2));
    assert_ok(swiftmlp_backward(f->net32, SWIFTMLP_FLOAT32, f->y32, B * N2, B, NULL));
}

#define FIXTURE fixture *f = *state

/* ======================================================================== */
/* swiftmlp_create                                                           */
/* ======================================================================== */

/* create must fail with `expected`, set *out to NULL and set last_error. */
static void check_create_fails(const size_t *sizes, size_t n_sizes, swiftmlp_dtype dtype,
                               swiftmlp_status expected)
{
    static int sentinel;
    swiftmlp_net *out = (swiftmlp_net *)(void *)&sentinel;
    assert_fails(swiftmlp_create(sizes, n_sizes, dtype, 1, &out), expected);
    assert_null(out);
}

static void test_create_null_sizes_returns_null_pointer(void **state)
{
    (void)state;
    check_create_fails(NULL, 3, SWIFTMLP_FLOAT64, SWIFTMLP_ERR_NULL_POINTER);
}

static void test_create_null_out_returns_null_pointer(void **state)
{
    (void)state;
    assert_fails(swiftmlp_create(k_sizes, 3, SWIFTMLP_FLOAT64, 1, NULL),
                 SWIFTMLP_ERR_NULL_POINTER);
}

static void test_create_zero_n_sizes_returns_invalid_argument(void **state)
{
    (void)state;
    check_create_fails(k_sizes, 0, SWIFTMLP_FLOAT64, SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_create_one_size_returns_invalid_argument(void **state)
{
    (void)state;
    check_create_fails(k_sizes, 1, SWIFTMLP_FLOAT64, SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_create_zero_hidden_size_returns_invalid_argument(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 0, 2};
    check_create_fails(sizes, 3, SWIFTMLP_FLOAT64, SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_create_zero_input_size_returns_invalid_argument(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 2};
    check_create_fails(sizes, 2, SWIFTMLP_FLOAT32, SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_create_zero_output_size_returns_invalid_argument(void **state)
{
    (void)state;
    const size_t sizes[] = {2, 5, 0};
    check_create_fails(sizes, 3, SWIFTMLP_FLOAT64, SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_create_unknown_dtype_7_returns_invalid_argument(void **state)
{
    (void)state;
    check_create_fails(k_sizes, 3, (swiftmlp_dtype)7, SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_create_unknown_dtype_0_returns_invalid_argument(void **state)
{
    (void)state;
    check_create_fails(k_sizes, 3, (swiftmlp_dtype)0, SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_create_sizes_overflowing_size_t_returns_too_large(void **state)
{
    (void)state;
    /* (SIZE_MAX/2)^2 overflows size_t many times over. */
    const size_t sizes[] = {SIZE_MAX / 2, SIZE_MAX / 2};
    check_create_fails(sizes, 2, SWIFTMLP_FLOAT64, SWIFTMLP_ERR_TOO_LARGE);
}

static void test_create_size_max_output_returns_too_large(void **state)
{
    (void)state;
    /* N_out * N_in + N_out = SIZE_MAX + SIZE_MAX wraps around. */
    const size_t sizes[] = {1, SIZE_MAX};
    check_create_fails(sizes, 2, SWIFTMLP_FLOAT32, SWIFTMLP_ERR_TOO_LARGE);
}

static void test_create_layer_size_above_max_returns_too_large(void **state)
{
    (void)state;
    const size_t sizes[] = {1, (size_t)SWIFTMLP_MAX_LAYER_SIZE + 1};
    check_create_fails(sizes, 2, SWIFTMLP_FLOAT32, SWIFTMLP_ERR_TOO_LARGE);
}

static void test_create_param_count_above_max_returns_too_large(void **state)
{
    (void)state;
    /* Each size <= SWIFTMLP_MAX_LAYER_SIZE, but 16384*16384 + 16384 + 16384 + 1
     * = 2^28 + 32769 parameters > SWIFTMLP_MAX_PARAMS. */
    const size_t sizes[] = {16384, 16384, 1};
    check_create_fails(sizes, 3, SWIFTMLP_FLOAT32, SWIFTMLP_ERR_TOO_LARGE);
}

static void test_create_more_than_max_sizes_entries_returns_too_large(void **state)
{
    (void)state;
    const size_t n = (size_t)SWIFTMLP_MAX_SIZES + 1;
    size_t *sizes = malloc(n * sizeof *sizes);
    assert_non_null(sizes);
    for (size_t i = 0; i < n; i++) {
        sizes[i] = 1;
    }
    check_create_fails(sizes, n, SWIFTMLP_FLOAT64, SWIFTMLP_ERR_TOO_LARGE);
    free(sizes);
}

/* ======================================================================== */
/* swiftmlp_forward                                                          */
/* ======================================================================== */

static void test_forward_null_net_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails(swiftmlp_forward(NULL, SWIFTMLP_FLOAT64, f->x, B * N0, B, f->out, B * N2),
                 SWIFTMLP_ERR_NULL_POINTER);
}

static void test_forward_null_x_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, NULL, B * N0, B, f->out, B * N2),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_forward_null_y_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, B, NULL, B * N2),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_forward_batch_0_returns_invalid_argument(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->x, 0, 0, f->out, B * N2),
                           SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_forward_unknown_dtype_returns_invalid_argument(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, (swiftmlp_dtype)7, f->x, B * N0, B, f->out, B * N2),
                           SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_forward_float32_call_on_float64_net_returns_dtype_error(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT32, f->x32, B * N0, B, f->out32, B * N2),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_forward_float64_call_on_float32_net_returns_dtype_error(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net32,
                           swiftmlp_forward(f->net32, SWIFTMLP_FLOAT64, f->x, B * N0, B, f->out, B * N2),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_forward_x_len_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->x, B * N0 - 1, B, f->out, B * N2),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_forward_x_len_too_large_returns_buffer_size(void **state)
{
    FIXTURE;
    /* x_len must EQUAL batch * N0; a longer buffer is a shape mismatch. */
    double x[B * N0 + 1];
    memcpy(x, f->x, sizeof f->x);
    x[B * N0] = 0.0;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x, B * N0 + 1, B, f->out, B * N2),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_forward_y_cap_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, B, f->out, B * N2 - 1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_forward_nan_in_x_returns_non_finite(void **state)
{
    FIXTURE;
    double x[B * N0];
    memcpy(x, f->x, sizeof x);
    x[4] = NAN;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x, B * N0, B, f->out, B * N2),
                           SWIFTMLP_ERR_NON_FINITE);
}

static void test_forward_inf_in_x_returns_non_finite(void **state)
{
    FIXTURE;
    double x[B * N0];
    memcpy(x, f->x, sizeof x);
    x[B * N0 - 1] = INFINITY;
    assert_fails_unchanged(f->net,
                           swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x, B * N0, B, f->out, B * N2),
                           SWIFTMLP_ERR_NON_FINITE);
}

static void test_forward_float32_minus_inf_in_x_returns_non_finite(void **state)
{
    FIXTURE;
    float x[B * N0];
    memcpy(x, f->x32, sizeof x);
    x[0] = -INFINITY;
    assert_fails_unchanged(f->net32,
                           swiftmlp_forward(f->net32, SWIFTMLP_FLOAT32, x, B * N0, B, f->out32, B * N2),
                           SWIFTMLP_ERR_NON_FINITE);
}

static void test_forward_float32_nan_in_x_returns_non_finite(void **state)
{
    FIXTURE;
    float x[B * N0];
    memcpy(x, f->x32, sizeof x);
    x[2] = NAN;
    assert_fails_unchanged(f->net32,
                           swiftmlp_forward(f->net32, SWIFTMLP_FLOAT32, x, B * N0, B, f->out32, B * N2),
                           SWIFTMLP_ERR_NON_FINITE);
}

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
    snapshot after = snapshot_params(net);
    assert_same_snapshot(before, after, "parameters");
    snapshot_free(&before);
    snapshot_free(&after);
    swiftmlp_free(net);
#else
    skip();
#endif
}

/* ======================================================================== */
/* swiftmlp_backward                                                         */
/* ======================================================================== */

/*
 * Backward failures: a first forward+backward produces gradients, then a new
 * forward; the failing backward must leave parameters, gradients and the
 * loss out-parameter untouched.  The macro declares `loss` (a sentinel) for
 * the call expression to pass as &loss.
 */
#define assert_backward_fails_untouched(net_, call_with_loss, expected)     \
    do {                                                                       \
        snapshot g_before_ = snapshot_grads(net_);                             \
        double loss = -12345.0;                                                \
        assert_fails_unchanged(net_, call_with_loss, expected);                \
        assert_true(loss == -12345.0);                                         \
        snapshot g_after_ = snapshot_grads(net_);                              \
        assert_same_snapshot(g_before_, g_after_, "gradients");               \
        snapshot_free(&g_before_);                                             \
        snapshot_free(&g_after_);                                              \
    } while (0)

static void test_backward_null_net_returns_null_pointer(void **state)
{
    FIXTURE;
    double loss = -1;
    assert_fails(swiftmlp_backward(NULL, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss),
                 SWIFTMLP_ERR_NULL_POINTER);
    assert_true(loss == -1);
}

static void test_backward_null_y_returns_null_pointer(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, NULL, B * N2, B, &loss),
        SWIFTMLP_ERR_NULL_POINTER);
}

static void test_backward_batch_0_returns_invalid_argument(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, 0, 0, &loss),
        SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_backward_unknown_dtype_returns_invalid_argument(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, (swiftmlp_dtype)7, f->y, B * N2, B, &loss),
        SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_backward_float32_call_on_float64_net_returns_dtype_error(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT32, f->y32, B * N2, B, &loss),
        SWIFTMLP_ERR_DTYPE);
}

static void test_backward_float64_call_on_float32_net_returns_dtype_error(void **state)
{
    FIXTURE;
    forward_backward_ok32(f);
    assert_ok(swiftmlp_forward(f->net32, SWIFTMLP_FLOAT32, f->x32, B * N0, B, f->out32, B * N2));
    assert_backward_fails_untouched(f->net32,
        swiftmlp_backward(f->net32, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss),
        SWIFTMLP_ERR_DTYPE);
}

static void test_backward_y_len_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2 - 1, B, &loss),
        SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_backward_y_len_too_large_returns_buffer_size(void **state)
{
    FIXTURE;
    double y[B * N2 + 1];
    memcpy(y, f->y, sizeof f->y);
    y[B * N2] = 0.0;
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, y, B * N2 + 1, B, &loss),
        SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_backward_nan_in_y_returns_non_finite(void **state)
{
    FIXTURE;
    double y[B * N2];
    memcpy(y, f->y, sizeof y);
    y[1] = NAN;
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, y, B * N2, B, &loss),
        SWIFTMLP_ERR_NON_FINITE);
}

static void test_backward_inf_in_y_returns_non_finite(void **state)
{
    FIXTURE;
    double y[B * N2];
    memcpy(y, f->y, sizeof y);
    y[B * N2 - 1] = -INFINITY;
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, y, B * N2, B, &loss),
        SWIFTMLP_ERR_NON_FINITE);
}

static void test_backward_float32_nan_in_y_returns_non_finite(void **state)
{
    FIXTURE;
    float y[B * N2];
    memcpy(y, f->y32, sizeof y);
    y[0] = NAN;
    forward_backward_ok32(f);
    assert_ok(swiftmlp_forward(f->net32, SWIFTMLP_FLOAT32, f->x32, B * N0, B, f->out32, B * N2));
    assert_backward_fails_untouched(f->net32,
        swiftmlp_backward(f->net32, SWIFTMLP_FLOAT32, y, B * N2, B, &loss),
        SWIFTMLP_ERR_NON_FINITE);
}

static void test_backward_before_any_forward_returns_state_error(void **state)
{
    FIXTURE;
    double loss = -12345.0;
    assert_fails_unchanged(f->net,
                           swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss),
                           SWIFTMLP_ERR_STATE);
    assert_true(loss == -12345.0);
}

static void test_backward_with_different_batch_than_forward_returns_state_error(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    forward_ok(f); /* batch 2 */
    /* batch 1 with a consistent y_len of 1 * N2 */
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, N2, 1, &loss),
        SWIFTMLP_ERR_STATE);
}

static void test_backward_with_larger_batch_than_forward_returns_state_error(void **state)
{
    FIXTURE;
    double x4[4 * N0], y4[4 * N2], out4[4 * N2];
    for (size_t i = 0; i < 4 * N0; i++) {
        x4[i] = 0.1 * (double)i;
    }
    for (size_t i = 0; i < 4 * N2; i++) {
        y4[i] = 0.5;
    }
    /* The cache has room for batch 4 from an earlier forward, but the last
     * forward was batch 2. */
    assert_ok(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x4, 4 * N0, 4, out4, 4 * N2));
    forward_backward_ok(f);
    forward_ok(f);
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, y4, 4 * N2, 4, &loss),
        SWIFTMLP_ERR_STATE);
}

static void test_backward_after_step_without_new_forward_returns_state_error(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    assert_ok(swiftmlp_step(f->net, 0.1));
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss),
        SWIFTMLP_ERR_STATE);
}

static void test_backward_after_zero_lr_step_without_new_forward_returns_state_error(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    assert_ok(swiftmlp_step(f->net, 0.0)); /* still invalidates the cache */
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss),
        SWIFTMLP_ERR_STATE);
}

static void test_backward_after_set_params_without_new_forward_returns_state_error(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    forward_ok(f);
    assert_ok(swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, f->p, NPARAMS));
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss),
        SWIFTMLP_ERR_STATE);
}

static void test_backward_after_set_layer_without_new_forward_returns_state_error(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    forward_ok(f);
    assert_ok(swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, f->w0, N1 * N0, f->b0, N1));
    assert_backward_fails_untouched(f->net,
        swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss),
        SWIFTMLP_ERR_STATE);
}

/* ======================================================================== */
/* swiftmlp_step                                                             */
/* ======================================================================== */

static void test_step_null_net_returns_null_pointer(void **state)
{
    (void)state;
    assert_fails(swiftmlp_step(NULL, 0.1), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_step_nan_lr_returns_invalid_argument(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_step(f->net, NAN), SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_step_plus_inf_lr_returns_invalid_argument(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_step(f->net, INFINITY), SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_step_minus_inf_lr_returns_invalid_argument(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_step(f->net, -INFINITY), SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_step_negative_lr_returns_invalid_argument(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_step(f->net, -0.1), SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_step_before_any_backward_returns_state_error(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_step(f->net, 0.1), SWIFTMLP_ERR_STATE);
}

static void test_step_after_forward_without_backward_returns_state_error(void **state)
{
    FIXTURE;
    forward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_step(f->net, 0.1), SWIFTMLP_ERR_STATE);
}

/* ======================================================================== */
/* shape getters                                                             */
/* ======================================================================== */

static void test_get_dtype_null_net_returns_null_pointer(void **state)
{
    (void)state;
    swiftmlp_dtype d;
    assert_fails(swiftmlp_get_dtype(NULL, &d), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_dtype_null_out_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_get_dtype(f->net, NULL), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_layer_count_null_net_returns_null_pointer(void **state)
{
    (void)state;
    size_t n;
    assert_fails(swiftmlp_get_layer_count(NULL, &n), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_layer_count_null_out_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_get_layer_count(f->net, NULL), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_sizes_null_net_returns_null_pointer(void **state)
{
    (void)state;
    size_t sizes[3];
    assert_fails(swiftmlp_get_sizes(NULL, sizes, 3), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_sizes_null_buffer_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_get_sizes(f->net, NULL, 3), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_sizes_capacity_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    size_t sizes[3];
    assert_fails_unchanged(f->net, swiftmlp_get_sizes(f->net, sizes, 2), SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_param_count_null_net_returns_null_pointer(void **state)
{
    (void)state;
    size_t n;
    assert_fails(swiftmlp_get_param_count(NULL, &n), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_param_count_null_out_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_get_param_count(f->net, NULL), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_layer_offsets_null_net_returns_null_pointer(void **state)
{
    (void)state;
    size_t w, b;
    assert_fails(swiftmlp_get_layer_offsets(NULL, 0, &w, &b), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_layer_offsets_null_w_offset_returns_null_pointer(void **state)
{
    FIXTURE;
    size_t b;
    assert_fails_unchanged(f->net, swiftmlp_get_layer_offsets(f->net, 0, NULL, &b),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_layer_offsets_null_b_offset_returns_null_pointer(void **state)
{
    FIXTURE;
    size_t w;
    assert_fails_unchanged(f->net, swiftmlp_get_layer_offsets(f->net, 0, &w, NULL),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_layer_offsets_layer_equal_to_count_returns_layer_index(void **state)
{
    FIXTURE;
    size_t w, b;
    assert_fails_unchanged(f->net, swiftmlp_get_layer_offsets(f->net, 2, &w, &b),
                           SWIFTMLP_ERR_LAYER_INDEX);
}

static void test_layer_offsets_layer_size_max_returns_layer_index(void **state)
{
    FIXTURE;
    size_t w, b;
    assert_fails_unchanged(f->net, swiftmlp_get_layer_offsets(f->net, SIZE_MAX, &w, &b),
                           SWIFTMLP_ERR_LAYER_INDEX);
}

/* ======================================================================== */
/* swiftmlp_get_params / swiftmlp_set_params                                 */
/* ======================================================================== */

static void test_get_params_null_net_returns_null_pointer(void **state)
{
    (void)state;
    double p[NPARAMS];
    assert_fails(swiftmlp_get_params(NULL, SWIFTMLP_FLOAT64, p, NPARAMS),
                 SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_params_null_out_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_get_params(f->net, SWIFTMLP_FLOAT64, NULL, NPARAMS),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_params_unknown_dtype_returns_invalid_argument(void **state)
{
    FIXTURE;
    double p[NPARAMS];
    assert_fails_unchanged(f->net, swiftmlp_get_params(f->net, (swiftmlp_dtype)7, p, NPARAMS),
                           SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_get_params_float32_call_on_float64_net_returns_dtype_error(void **state)
{
    FIXTURE;
    float p[NPARAMS];
    assert_fails_unchanged(f->net, swiftmlp_get_params(f->net, SWIFTMLP_FLOAT32, p, NPARAMS),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_get_params_float64_call_on_float32_net_returns_dtype_error(void **state)
{
    FIXTURE;
    double p[NPARAMS];
    assert_fails_unchanged(f->net32, swiftmlp_get_params(f->net32, SWIFTMLP_FLOAT64, p, NPARAMS),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_get_params_capacity_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    double p[NPARAMS];
    assert_fails_unchanged(f->net, swiftmlp_get_params(f->net, SWIFTMLP_FLOAT64, p, NPARAMS - 1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_set_params_null_net_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails(swiftmlp_set_params(NULL, SWIFTMLP_FLOAT64, f->p, NPARAMS),
                 SWIFTMLP_ERR_NULL_POINTER);
}

static void test_set_params_null_in_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, NULL, NPARAMS),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_set_params_unknown_dtype_returns_invalid_argument(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_params(f->net, (swiftmlp_dtype)7, f->p, NPARAMS),
                           SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_set_params_float32_call_on_float64_net_returns_dtype_error(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_params(f->net, SWIFTMLP_FLOAT32, f->p32, NPARAMS),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_set_params_float64_call_on_float32_net_returns_dtype_error(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net32, swiftmlp_set_params(f->net32, SWIFTMLP_FLOAT64, f->p, NPARAMS),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_set_params_in_len_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, f->p, NPARAMS - 1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_set_params_in_len_too_large_returns_buffer_size(void **state)
{
    FIXTURE;
    double p[NPARAMS + 1];
    memcpy(p, f->p, sizeof f->p);
    p[NPARAMS] = 0.0;
    assert_fails_unchanged(f->net, swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, p, NPARAMS + 1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_set_params_nan_returns_non_finite_and_writes_nothing(void **state)
{
    FIXTURE;
    double p[NPARAMS];
    memcpy(p, f->p, sizeof p);
    p[NPARAMS - 1] = NAN; /* last element: a partial write would show in the others */
    assert_fails_unchanged(f->net, swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, p, NPARAMS),
                           SWIFTMLP_ERR_NON_FINITE);
}

static void test_set_params_inf_returns_non_finite_and_writes_nothing(void **state)
{
    FIXTURE;
    double p[NPARAMS];
    memcpy(p, f->p, sizeof p);
    p[NPARAMS / 2] = INFINITY;
    assert_fails_unchanged(f->net, swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, p, NPARAMS),
                           SWIFTMLP_ERR_NON_FINITE);
}

static void test_set_params_float32_minus_inf_returns_non_finite_and_writes_nothing(void **state)
{
    FIXTURE;
    float p[NPARAMS];
    memcpy(p, f->p32, sizeof p);
    p[NPARAMS - 1] = -INFINITY;
    assert_fails_unchanged(f->net32, swiftmlp_set_params(f->net32, SWIFTMLP_FLOAT32, p, NPARAMS),
                           SWIFTMLP_ERR_NON_FINITE);
}

/* ======================================================================== */
/* swiftmlp_get_grads                                                        */
/* ======================================================================== */

static void test_get_grads_null_net_returns_null_pointer(void **state)
{
    (void)state;
    double g[NPARAMS];
    assert_fails(swiftmlp_get_grads(NULL, SWIFTMLP_FLOAT64, g, NPARAMS), SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_grads_null_out_returns_null_pointer(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_get_grads(f->net, SWIFTMLP_FLOAT64, NULL, NPARAMS),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_grads_unknown_dtype_returns_invalid_argument(void **state)
{
    FIXTURE;
    double g[NPARAMS];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_get_grads(f->net, (swiftmlp_dtype)7, g, NPARAMS),
                           SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_get_grads_float32_call_on_float64_net_returns_dtype_error(void **state)
{
    FIXTURE;
    float g[NPARAMS];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_get_grads(f->net, SWIFTMLP_FLOAT32, g, NPARAMS),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_get_grads_float64_call_on_float32_net_returns_dtype_error(void **state)
{
    FIXTURE;
    double g[NPARAMS];
    forward_backward_ok32(f);
    assert_fails_unchanged(f->net32, swiftmlp_get_grads(f->net32, SWIFTMLP_FLOAT64, g, NPARAMS),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_get_grads_capacity_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    double g[NPARAMS];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_get_grads(f->net, SWIFTMLP_FLOAT64, g, NPARAMS - 1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_get_grads_before_any_backward_returns_state_error(void **state)
{
    FIXTURE;
    double g[NPARAMS];
    assert_fails_unchanged(f->net, swiftmlp_get_grads(f->net, SWIFTMLP_FLOAT64, g, NPARAMS),
                           SWIFTMLP_ERR_STATE);
}

static void test_get_grads_after_forward_only_returns_state_error(void **state)
{
    FIXTURE;
    double g[NPARAMS];
    forward_ok(f);
    assert_fails_unchanged(f->net, swiftmlp_get_grads(f->net, SWIFTMLP_FLOAT64, g, NPARAMS),
                           SWIFTMLP_ERR_STATE);
}

/* ======================================================================== */
/* swiftmlp_get_layer                                                        */
/* ======================================================================== */

static void test_get_layer_null_net_returns_null_pointer(void **state)
{
    (void)state;
    double w[N1 * N0], b[N1];
    assert_fails(swiftmlp_get_layer(NULL, 0, SWIFTMLP_FLOAT64, w, N1 * N0, b, N1),
                 SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_layer_null_w_returns_null_pointer(void **state)
{
    FIXTURE;
    double b[N1];
    assert_fails_unchanged(f->net, swiftmlp_get_layer(f->net, 0, SWIFTMLP_FLOAT64, NULL, N1 * N0, b, N1),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_layer_null_b_returns_null_pointer(void **state)
{
    FIXTURE;
    double w[N1 * N0];
    assert_fails_unchanged(f->net, swiftmlp_get_layer(f->net, 0, SWIFTMLP_FLOAT64, w, N1 * N0, NULL, N1),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_layer_unknown_dtype_returns_invalid_argument(void **state)
{
    FIXTURE;
    double w[N1 * N0], b[N1];
    assert_fails_unchanged(f->net, swiftmlp_get_layer(f->net, 0, (swiftmlp_dtype)7, w, N1 * N0, b, N1),
                           SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_get_layer_float32_call_on_float64_net_returns_dtype_error(void **state)
{
    FIXTURE;
    float w[N1 * N0], b[N1];
    assert_fails_unchanged(f->net, swiftmlp_get_layer(f->net, 0, SWIFTMLP_FLOAT32, w, N1 * N0, b, N1),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_get_layer_float64_call_on_float32_net_returns_dtype_error(void **state)
{
    FIXTURE;
    double w[N1 * N0], b[N1];
    assert_fails_unchanged(f->net32, swiftmlp_get_layer(f->net32, 0, SWIFTMLP_FLOAT64, w, N1 * N0, b, N1),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_get_layer_index_out_of_range_returns_layer_index(void **state)
{
    FIXTURE;
    double w[N1 * N0], b[N1];
    assert_fails_unchanged(f->net, swiftmlp_get_layer(f->net, 2, SWIFTMLP_FLOAT64, w, N1 * N0, b, N1),
                           SWIFTMLP_ERR_LAYER_INDEX);
}

static void test_get_layer_w_capacity_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    double w[N1 * N0], b[N1];
    assert_fails_unchanged(f->net, swiftmlp_get_layer(f->net, 0, SWIFTMLP_FLOAT64, w, N1 * N0 - 1, b, N1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_get_layer_b_capacity_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    double w[N1 * N0], b[N1];
    assert_fails_unchanged(f->net, swiftmlp_get_layer(f->net, 0, SWIFTMLP_FLOAT64, w, N1 * N0, b, N1 - 1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

/* ======================================================================== */
/* swiftmlp_set_layer                                                        */
/* ======================================================================== */

static void test_set_layer_null_net_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails(swiftmlp_set_layer(NULL, 0, SWIFTMLP_FLOAT64, f->w0, N1 * N0, f->b0, N1),
                 SWIFTMLP_ERR_NULL_POINTER);
}

static void test_set_layer_null_w_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, NULL, N1 * N0, f->b0, N1),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_set_layer_null_b_returns_null_pointer(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, f->w0, N1 * N0, NULL, N1),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_set_layer_unknown_dtype_returns_invalid_argument(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 0, (swiftmlp_dtype)7, f->w0, N1 * N0, f->b0, N1),
                           SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_set_layer_float32_call_on_float64_net_returns_dtype_error(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net,
                           swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT32, f->w0_32, N1 * N0, f->b0_32, N1),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_set_layer_float64_call_on_float32_net_returns_dtype_error(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net32, swiftmlp_set_layer(f->net32, 0, SWIFTMLP_FLOAT64, f->w0, N1 * N0, f->b0, N1),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_set_layer_index_out_of_range_returns_layer_index(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 2, SWIFTMLP_FLOAT64, f->w0, N1 * N0, f->b0, N1),
                           SWIFTMLP_ERR_LAYER_INDEX);
}

static void test_set_layer_w_len_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, f->w0, N1 * N0 - 1, f->b0, N1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_set_layer_w_len_too_large_returns_buffer_size(void **state)
{
    FIXTURE;
    double w[N1 * N0 + 1];
    memcpy(w, f->w0, sizeof f->w0);
    w[N1 * N0] = 0.0;
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, w, N1 * N0 + 1, f->b0, N1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_set_layer_b_len_wrong_returns_buffer_size(void **state)
{
    FIXTURE;
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, f->w0, N1 * N0, f->b0, N1 - 1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_set_layer_nan_in_w_returns_non_finite_and_writes_nothing(void **state)
{
    FIXTURE;
    double w[N1 * N0];
    memcpy(w, f->w0, sizeof w);
    w[N1 * N0 - 1] = NAN;
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, w, N1 * N0, f->b0, N1),
                           SWIFTMLP_ERR_NON_FINITE);
}

static void test_set_layer_inf_in_b_returns_non_finite_and_writes_nothing(void **state)
{
    FIXTURE;
    double b[N1];
    memcpy(b, f->b0, sizeof b);
    b[N1 - 1] = INFINITY;
    /* W is valid and would be written first by a non-atomic implementation. */
    assert_fails_unchanged(f->net, swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, f->w0, N1 * N0, b, N1),
                           SWIFTMLP_ERR_NON_FINITE);
}

static void test_set_layer_float32_nan_in_b_returns_non_finite_and_writes_nothing(void **state)
{
    FIXTURE;
    float b[N1];
    memcpy(b, f->b0_32, sizeof b);
    b[0] = NAN;
    assert_fails_unchanged(f->net32,
                           swiftmlp_set_layer(f->net32, 0, SWIFTMLP_FLOAT32, f->w0_32, N1 * N0, b, N1),
                           SWIFTMLP_ERR_NON_FINITE);
}

/* ======================================================================== */
/* swiftmlp_get_layer_grads                                                  */
/* ======================================================================== */

static void test_get_layer_grads_null_net_returns_null_pointer(void **state)
{
    (void)state;
    double dw[N1 * N0], db[N1];
    assert_fails(swiftmlp_get_layer_grads(NULL, 0, SWIFTMLP_FLOAT64, dw, N1 * N0, db, N1),
                 SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_layer_grads_null_dw_returns_null_pointer(void **state)
{
    FIXTURE;
    double db[N1];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net,
                           swiftmlp_get_layer_grads(f->net, 0, SWIFTMLP_FLOAT64, NULL, N1 * N0, db, N1),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_layer_grads_null_db_returns_null_pointer(void **state)
{
    FIXTURE;
    double dw[N1 * N0];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net,
                           swiftmlp_get_layer_grads(f->net, 0, SWIFTMLP_FLOAT64, dw, N1 * N0, NULL, N1),
                           SWIFTMLP_ERR_NULL_POINTER);
}

static void test_get_layer_grads_unknown_dtype_returns_invalid_argument(void **state)
{
    FIXTURE;
    double dw[N1 * N0], db[N1];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net,
                           swiftmlp_get_layer_grads(f->net, 0, (swiftmlp_dtype)7, dw, N1 * N0, db, N1),
                           SWIFTMLP_ERR_INVALID_ARGUMENT);
}

static void test_get_layer_grads_float32_call_on_float64_net_returns_dtype_error(void **state)
{
    FIXTURE;
    float dw[N1 * N0], db[N1];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net,
                           swiftmlp_get_layer_grads(f->net, 0, SWIFTMLP_FLOAT32, dw, N1 * N0, db, N1),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_get_layer_grads_float64_call_on_float32_net_returns_dtype_error(void **state)
{
    FIXTURE;
    double dw[N1 * N0], db[N1];
    forward_backward_ok32(f);
    assert_fails_unchanged(f->net32,
                           swiftmlp_get_layer_grads(f->net32, 0, SWIFTMLP_FLOAT64, dw, N1 * N0, db, N1),
                           SWIFTMLP_ERR_DTYPE);
}

static void test_get_layer_grads_index_out_of_range_returns_layer_index(void **state)
{
    FIXTURE;
    double dw[N1 * N0], db[N1];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net,
                           swiftmlp_get_layer_grads(f->net, 2, SWIFTMLP_FLOAT64, dw, N1 * N0, db, N1),
                           SWIFTMLP_ERR_LAYER_INDEX);
}

static void test_get_layer_grads_dw_capacity_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    double dw[N1 * N0], db[N1];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net,
                           swiftmlp_get_layer_grads(f->net, 0, SWIFTMLP_FLOAT64, dw, N1 * N0 - 1, db, N1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_get_layer_grads_db_capacity_too_small_returns_buffer_size(void **state)
{
    FIXTURE;
    double dw[N1 * N0], db[N1];
    forward_backward_ok(f);
    assert_fails_unchanged(f->net,
                           swiftmlp_get_layer_grads(f->net, 0, SWIFTMLP_FLOAT64, dw, N1 * N0, db, N1 - 1),
                           SWIFTMLP_ERR_BUFFER_SIZE);
}

static void test_get_layer_grads_before_any_backward_returns_state_error(void **state)
{
    FIXTURE;
    double dw[N1 * N0], db[N1];
    assert_fails_unchanged(f->net,
                           swiftmlp_get_layer_grads(f->net, 0, SWIFTMLP_FLOAT64, dw, N1 * N0, db, N1),
                           SWIFTMLP_ERR_STATE);
}

/* ======================================================================== */
/* failures keep the cached forward state                                    */
/* ======================================================================== */

/* Loss and gradients of a fresh, identically seeded network after one
 * forward(B=2) + backward: what the fixture net must reproduce. */
static void reference_grads(double grads[NPARAMS], double *loss)
{
    swiftmlp_net *ref = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 7);
    void *st = NULL;
    assert_int_equal(setup(&st), 0); /* same x, y as every fixture */
    fixture *g = st;
    double out[B * N2];
    assert_ok(swiftmlp_forward(ref, SWIFTMLP_FLOAT64, g->x, B * N0, B, out, B * N2));
    assert_ok(swiftmlp_backward(ref, SWIFTMLP_FLOAT64, g->y, B * N2, B, loss));
    assert_ok(swiftmlp_get_grads(ref, SWIFTMLP_FLOAT64, grads, NPARAMS));
    teardown(&st);
    swiftmlp_free(ref);
}

static void backward_matches_reference(fixture *f)
{
    double ref_grads[NPARAMS], grads[NPARAMS], ref_loss = 0, loss = -1;
    reference_grads(ref_grads, &ref_loss);
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, &loss));
    assert_ok(swiftmlp_get_grads(f->net, SWIFTMLP_FLOAT64, grads, NPARAMS));
    assert_true(loss == ref_loss);
    assert_memory_equal(grads, ref_grads, sizeof grads);
}

static void test_failed_forwards_keep_previous_forward_cache(void **state)
{
    FIXTURE;
    enum { B5 = 5 };
    double x5[B5 * N0], out5[B5 * N2];
    for (size_t i = 0; i < B5 * N0; i++) {
        x5[i] = 0.25 * (double)i - 1.0;
    }
    forward_ok(f); /* batch 2: the cache backward must use */

    /* A larger batch (which would need a bigger cache) failing late on NaN. */
    x5[B5 * N0 - 1] = NAN;
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x5, B5 * N0, B5, out5, B5 * N2),
                  SWIFTMLP_ERR_NON_FINITE);
    x5[B5 * N0 - 1] = 0.0;
    /* Output capacity too small for batch 5. */
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x5, B5 * N0, B5, out5, B5 * N2 - 1),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    /* Batch 1 with a wrong x_len, batch 0, wrong dtype, NULL x. */
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x5, N0 + 1, 1, out5, N2),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, x5, 0, 0, out5, N2),
                  SWIFTMLP_ERR_INVALID_ARGUMENT);
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT32, f->x32, B * N0, B, f->out32, B * N2),
                  SWIFTMLP_ERR_DTYPE);
    assert_status(swiftmlp_forward(f->net, SWIFTMLP_FLOAT64, NULL, B * N0, B, f->out, B * N2),
                  SWIFTMLP_ERR_NULL_POINTER);

    /* backward with batch 2 still works and gives exactly the gradients of a
     * network that never saw the failed calls. */
    backward_matches_reference(f);
}

static void test_failed_backward_keeps_forward_cache(void **state)
{
    FIXTURE;
    double y[B * N2];
    memcpy(y, f->y, sizeof y);
    y[0] = NAN;
    forward_ok(f);
    assert_status(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, y, B * N2, B, NULL),
                  SWIFTMLP_ERR_NON_FINITE);
    assert_status(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, N2, 1, NULL), SWIFTMLP_ERR_STATE);
    assert_status(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2 - 1, B, NULL),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    backward_matches_reference(f);
}

static void test_failed_parameter_writes_keep_forward_cache(void **state)
{
    FIXTURE;
    double p[NPARAMS], w[N1 * N0];
    memcpy(p, f->p, sizeof p);
    memcpy(w, f->w0, sizeof w);
    p[3] = NAN;
    w[5] = INFINITY;
    forward_ok(f);
    /* Failed writes change nothing, so they must not invalidate the cache. */
    assert_status(swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, p, NPARAMS), SWIFTMLP_ERR_NON_FINITE);
    assert_status(swiftmlp_set_params(f->net, SWIFTMLP_FLOAT64, f->p, NPARAMS - 1),
                  SWIFTMLP_ERR_BUFFER_SIZE);
    assert_status(swiftmlp_set_layer(f->net, 0, SWIFTMLP_FLOAT64, w, N1 * N0, f->b0, N1),
                  SWIFTMLP_ERR_NON_FINITE);
    assert_status(swiftmlp_set_layer(f->net, 5, SWIFTMLP_FLOAT64, f->w0, N1 * N0, f->b0, N1),
                  SWIFTMLP_ERR_LAYER_INDEX);
    backward_matches_reference(f);
}

static void test_failed_step_keeps_forward_cache_and_gradients(void **state)
{
    FIXTURE;
    forward_backward_ok(f);
    snapshot g_before = snapshot_grads(f->net);
    forward_ok(f);
    assert_status(swiftmlp_step(f->net, NAN), SWIFTMLP_ERR_INVALID_ARGUMENT);
    assert_status(swiftmlp_step(f->net, -1.0), SWIFTMLP_ERR_INVALID_ARGUMENT);
    snapshot g_after = snapshot_grads(f->net);
    assert_same_snapshot(g_before, g_after, "gradients");
    snapshot_free(&g_before);
    snapshot_free(&g_after);
    backward_matches_reference(f);
}

/* The out-parameter rule of the header's "Global rules": the out-parameter
 * that carries a call's result is required; by-products may be NULL. */
static void test_result_out_parameters_are_required_and_by_products_optional(void **state)
{
    FIXTURE;
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o));
    assert_ok(swiftmlp_set_optimizer(f->net, &o));
    /* by-products: NULL is accepted and the work is done */
    assert_ok(swiftmlp_train_step(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, f->y, B * N2, B, NULL));
    uint64_t steps = 0;
    assert_ok(swiftmlp_get_step_count(f->net, &steps));
    assert_int_equal(steps, 1);
    forward_ok(f);
    assert_ok(swiftmlp_backward(f->net, SWIFTMLP_FLOAT64, f->y, B * N2, B, NULL));
    swiftmlp_fit_options opts;
    assert_ok(swiftmlp_fit_options_default(&opts));
    assert_ok(swiftmlp_fit(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, f->y, B * N2, B, &opts, NULL));
    size_t size = 0;
    assert_ok(swiftmlp_save_size(f->net, SWIFTMLP_SAVE_DEFAULT, &size));
    unsigned char *buf = malloc(size);
    assert_non_null(buf);
    assert_ok(swiftmlp_save_buffer(f->net, SWIFTMLP_SAVE_DEFAULT, buf, size, NULL));
    swiftmlp_net *copy = NULL;
    assert_ok(swiftmlp_load_buffer(buf, size, &copy));
    swiftmlp_free(copy);
    free(buf);
    /* results: NULL is refused */
    assert_status(swiftmlp_evaluate(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, f->y, B * N2, B, NULL),
                  SWIFTMLP_ERR_NULL_POINTER);
    assert_status(swiftmlp_gradient_check(f->net, SWIFTMLP_FLOAT64, f->x, B * N0, f->y, B * N2, B, 1e-3, NULL),
                  SWIFTMLP_ERR_NULL_POINTER);
    assert_status(swiftmlp_save_size(f->net, SWIFTMLP_SAVE_DEFAULT, NULL), SWIFTMLP_ERR_NULL_POINTER);
    assert_status(swiftmlp_get_cached_rows(f->net, NULL), SWIFTMLP_ERR_NULL_POINTER);
    assert_status(swiftmlp_get_step_count(f->net, NULL), SWIFTMLP_ERR_NULL_POINTER);
    assert_status(swiftmlp_get_param_count(f->net, NULL), SWIFTMLP_ERR_NULL_POINTER);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_result_out_parameters_are_required_and_by_products_optional),
        /* create */
        T(test_create_null_sizes_returns_null_pointer),
        T(test_create_null_out_returns_null_pointer),
        T(test_create_zero_n_sizes_returns_invalid_argument),
        T(test_create_one_size_returns_invalid_argument),
        T(test_create_zero_hidden_size_returns_invalid_argument),
        T(test_create_zero_input_size_returns_invalid_argument),
        T(test_create_zero_output_size_returns_invalid_argument),
        T(test_create_unknown_dtype_7_returns_invalid_argument),
        T(test_create_unknown_dtype_0_returns_invalid_argument),
        T(test_create_sizes_overflowing_size_t_returns_too_large),
        T(test_create_size_max_output_returns_too_large),
        T(test_create_layer_size_above_max_returns_too_large),
        T(test_create_param_count_above_max_returns_too_large),
        T(test_create_more_than_max_sizes_entries_returns_too_large),
        /* forward */
        T(test_forward_null_net_returns_null_pointer),
        T(test_forward_null_x_returns_null_pointer),
        T(test_forward_null_y_returns_null_pointer),
        T(test_forward_batch_0_returns_invalid_argument),
        T(test_forward_unknown_dtype_returns_invalid_argument),
        T(test_forward_float32_call_on_float64_net_returns_dtype_error),
        T(test_forward_float64_call_on_float32_net_returns_dtype_error),
        T(test_forward_x_len_too_small_returns_buffer_size),
        T(test_forward_x_len_too_large_returns_buffer_size),
        T(test_forward_y_cap_too_small_returns_buffer_size),
        T(test_forward_nan_in_x_returns_non_finite),
        T(test_forward_inf_in_x_returns_non_finite),
        T(test_forward_float32_minus_inf_in_x_returns_non_finite),
        T(test_forward_float32_nan_in_x_returns_non_finite),
        T(test_forward_batch_times_activations_above_max_returns_too_large),
        T(test_forward_batch_whose_products_wrap_is_rejected),
        /* backward */
        T(test_backward_null_net_returns_null_pointer),
        T(test_backward_null_y_returns_null_pointer),
        T(test_backward_batch_0_returns_invalid_argument),
        T(test_backward_unknown_dtype_returns_invalid_argument),
        T(test_backward_float32_call_on_float64_net_returns_dtype_error),
        T(test_backward_float64_call_on_float32_net_returns_dtype_error),
        T(test_backward_y_len_too_small_returns_buffer_size),
        T(test_backward_y_len_too_large_returns_buffer_size),
        T(test_backward_nan_in_y_returns_non_finite),
        T(test_backward_inf_in_y_returns_non_finite),
        T(test_backward_float32_nan_in_y_returns_non_finite),
        T(test_backward_before_any_forward_returns_state_error),
        T(test_backward_with_different_batch_than_forward_returns_state_error),
        T(test_backward_with_larger_batch_than_forward_returns_state_error),
        T(test_backward_after_step_without_new_forward_returns_state_error),
        T(test_backward_after_zero_lr_step_without_new_forward_returns_state_error),
        T(test_backward_after_set_params_without_new_forward_returns_state_error),
        T(test_backward_after_set_layer_without_new_forward_returns_state_error),
        /* step */
        T(test_step_null_net_returns_null_pointer),
        T(test_step_nan_lr_returns_invalid_argument),
        T(test_step_plus_inf_lr_returns_invalid_argument),
        T(test_step_minus_inf_lr_returns_invalid_argument),
        T(test_step_negative_lr_returns_invalid_argument),
        T(test_step_before_any_backward_returns_state_error),
        T(test_step_after_forward_without_backward_returns_state_error),
        /* shape getters */
        T(test_get_dtype_null_net_returns_null_pointer),
        T(test_get_dtype_null_out_returns_null_pointer),
        T(test_layer_count_null_net_returns_null_pointer),
        T(test_layer_count_null_out_returns_null_pointer),
        T(test_get_sizes_null_net_returns_null_pointer),
        T(test_get_sizes_null_buffer_returns_null_pointer),
        T(test_get_sizes_capacity_too_small_returns_buffer_size),
        T(test_param_count_null_net_returns_null_pointer),
        T(test_param_count_null_out_returns_null_pointer),
        T(test_layer_offsets_null_net_returns_null_pointer),
        T(test_layer_offsets_null_w_offset_returns_null_pointer),
        T(test_layer_offsets_null_b_offset_returns_null_pointer),
        T(test_layer_offsets_layer_equal_to_count_returns_layer_index),
        T(test_layer_offsets_layer_size_max_returns_layer_index),
        /* get_params / set_params */
        T(test_get_params_null_net_returns_null_pointer),
        T(test_get_params_null_out_returns_null_pointer),
        T(test_get_params_unknown_dtype_returns_invalid_argument),
        T(test_get_params_float32_call_on_float64_net_returns_dtype_error),
        T(test_get_params_float64_call_on_float32_net_returns_dtype_error),
        T(test_get_params_capacity_too_small_returns_buffer_size),
        T(test_set_params_null_net_returns_null_pointer),
        T(test_set_params_null_in_returns_null_pointer),
        T(test_set_params_unknown_dtype_returns_invalid_argument),
        T(test_set_params_float32_call_on_float64_net_returns_dtype_error),
        T(test_set_params_float64_call_on_float32_net_returns_dtype_error),
        T(test_set_params_in_len_too_small_returns_buffer_size),
        T(test_set_params_in_len_too_large_returns_buffer_size),
        T(test_set_params_nan_returns_non_finite_and_writes_nothing),
        T(test_set_params_inf_returns_non_finite_and_writes_nothing),
        T(test_set_params_float32_minus_inf_returns_non_finite_and_writes_nothing),
        /* get_grads */
        T(test_get_grads_null_net_returns_null_pointer),
        T(test_get_grads_null_out_returns_null_pointer),
        T(test_get_grads_unknown_dtype_returns_invalid_argument),
        T(test_get_grads_float32_call_on_float64_net_returns_dtype_error),
        T(test_get_grads_float64_call_on_float32_net_returns_dtype_error),
        T(test_get_grads_capacity_too_small_returns_buffer_size),
        T(test_get_grads_before_any_backward_returns_state_error),
        T(test_get_grads_after_forward_only_returns_state_error),
        /* get_layer */
        T(test_get_layer_null_net_returns_null_pointer),
        T(test_get_layer_null_w_returns_null_pointer),
        T(test_get_layer_null_b_returns_null_pointer),
        T(test_get_layer_unknown_dtype_returns_invalid_argument),
        T(test_get_layer_float32_call_on_float64_net_returns_dtype_error),
        T(test_get_layer_float64_call_on_float32_net_returns_dtype_error),
        T(test_get_layer_index_out_of_range_returns_layer_index),
        T(test_get_layer_w_capacity_too_small_returns_buffer_size),
        T(test_get_layer_b_capacity_too_small_returns_buffer_size),
        /* set_layer */
        T(test_set_layer_null_net_returns_null_pointer),
        T(test_set_layer_null_w_returns_null_pointer),
        T(test_set_layer_null_b_returns_null_pointer),
        T(test_set_layer_unknown_dtype_returns_invalid_argument),
        T(test_set_layer_float32_call_on_float64_net_returns_dtype_error),
        T(test_set_layer_float64_call_on_float32_net_returns_dtype_error),
        T(test_set_layer_index_out_of_range_returns_layer_index),
        T(test_set_layer_w_len_too_small_returns_buffer_size),
        T(test_set_layer_w_len_too_large_returns_buffer_size),
        T(test_set_layer_b_len_wrong_returns_buffer_size),
        T(test_set_layer_nan_in_w_returns_non_finite_and_writes_nothing),
        T(test_set_layer_inf_in_b_returns_non_finite_and_writes_nothing),
        T(test_set_layer_float32_nan_in_b_returns_non_finite_and_writes_nothing),
        /* get_layer_grads */
        T(test_get_layer_grads_null_net_returns_null_pointer),
        T(test_get_layer_grads_null_dw_returns_null_pointer),
        T(test_get_layer_grads_null_db_returns_null_pointer),
        T(test_get_layer_grads_unknown_dtype_returns_invalid_argument),
        T(test_get_layer_grads_float32_call_on_float64_net_returns_dtype_error),
        T(test_get_layer_grads_float64_call_on_float32_net_returns_dtype_error),
        T(test_get_layer_grads_index_out_of_range_returns_layer_index),
        T(test_get_layer_grads_dw_capacity_too_small_returns_buffer_size),
        T(test_get_layer_grads_db_capacity_too_small_returns_buffer_size),
        T(test_get_layer_grads_before_any_backward_returns_state_error),
        /* failures keep the forward cache */
        T(test_failed_forwards_keep_previous_forward_cache),
        T(test_failed_backward_keeps_forward_cache),
        T(test_failed_parameter_writes_keep_forward_cache),
        T(test_failed_step_keeps_forward_cache_and_gradients),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
