/*
 * test_config.c — swiftmlp_config_default, swiftmlp_create_with_config,
 * swiftmlp_get_config and swiftmlp_get_activations.
 *
 * - every activation, loss and init scheme is accepted and read back;
 * - the init schemes produce exactly the documented draws (the test
 *   recomputes them with its own SplitMix64, see test_util.h): bit-identical
 *   in float64, and (float) of the same double in float32;
 * - each activation computes its documented formula;
 * - every invalid configuration fails with the documented status, a
 *   non-empty swiftmlp_last_error() and *out set to NULL.
 */
#include "test_util.h"


static const swiftmlp_activation k_all_activations[] = {
    SWIFTMLP_SIGMOID, SWIFTMLP_TANH, SWIFTMLP_RELU, SWIFTMLP_LEAKY_RELU, SWIFTMLP_IDENTITY,
    SWIFTMLP_SOFTMAX};


/* get_config must report exactly these values. */
static void check_config(const swiftmlp_net *net, const size_t *sizes, size_t n_sizes,
                         swiftmlp_dtype dtype, uint64_t seed, const swiftmlp_activation *acts,
                         size_t n_acts /* 1 = broadcast */, double slope, swiftmlp_loss loss,
                         swiftmlp_init init)
{
    const size_t L = n_sizes - 1;
    swiftmlp_config got;
    memset(&got, 0, sizeof got);
    assert_ok(swiftmlp_get_config(net, &got));
    assert_int_equal(got.struct_size, sizeof(swiftmlp_config));
    assert_int_equal(got.n_sizes, n_sizes);
    assert_non_null(got.sizes);
    for (size_t i = 0; i < n_sizes; i++) {
        assert_int_equal(got.sizes[i], sizes[i]);
    }
    assert_int_equal(got.dtype, dtype);
    assert_true(got.seed == seed);
    assert_int_equal(got.n_activations, L);
    assert_non_null(got.activations);
    for (size_t l = 0; l < L; l++) {
        const swiftmlp_activation want = acts == NULL ? SWIFTMLP_SIGMOID : acts[n_acts == 1 ? 0 : l];
        assert_int_equal(got.activations[l], want);
    }
    assert_true(got.leaky_slope == slope);
    assert_int_equal(got.loss, loss);
    assert_int_equal(got.init, init);

    /* get_activations agrees, with an exact capacity and a larger one. */
    swiftmlp_activation buf[16];
    assert_true(L + 1 <= ARRAY_LEN(buf));
    for (size_t l = 0; l < ARRAY_LEN(buf); l++) {
        buf[l] = (swiftmlp_activation)77;
    }
    assert_ok(swiftmlp_get_activations(net, buf, L));
    for (size_t l = 0; l < L; l++) {
        assert_int_equal(buf[l], got.activations[l]);
    }
    assert_int_equal(buf[L], 77); /* nothing written past L entries */
    assert_ok(swiftmlp_get_activations(net, buf, ARRAY_LEN(buf)));
    for (size_t l = 0; l < L; l++) {
        assert_int_equal(buf[l], got.activations[l]);
    }

    /* And the older shape queries agree with the configuration. */
    swiftmlp_dtype d;
    size_t layers = 0;
    assert_ok(swiftmlp_get_dtype(net, &d));
    assert_int_equal(d, dtype);
    assert_ok(swiftmlp_get_layer_count(net, &layers));
    assert_int_equal(layers, L);
}

/* create_with_config(c) makes a network whose get_config reports exactly
 * the given values (check_config's arguments after net); frees it. */
#define check_created(c, ...)                    \
    do {                                         \
        swiftmlp_net *created_ = create_with(c); \
        check_config(created_, __VA_ARGS__);     \
        swiftmlp_free(created_);                 \
    } while (0)

/* ======================================================================== */
/* defaults                                                                  */
/* ======================================================================== */

static void test_config_default_fills_every_documented_default(void **state)
{
    (void)state;
    swiftmlp_config c;
    FILL_DEFAULTS(c, swiftmlp_config_default);
    assert_null(c.sizes);
    assert_int_equal(c.n_sizes, 0);
    assert_int_equal(c.dtype, SWIFTMLP_FLOAT64);
    assert_true(c.seed == 0);
    assert_null(c.activations);
    assert_int_equal(c.n_activations, 0);
    assert_true(c.leaky_slope == 0.01);
    assert_int_equal(c.loss, SWIFTMLP_LOSS_MSE);
    assert_int_equal(c.init, SWIFTMLP_INIT_UNIFORM);
}

/* The loss argument of check_null_activations_read_back that leaves the
 * default config's loss in place (which must be MSE). */
#define DEFAULT_LOSS ((swiftmlp_loss)-1)

/* A network from the default config with these 3 sizes reads back sigmoid
 * everywhere, seed 0, leaky slope 0.01, the loss and the uniform init. With
 * n_activations 0 the config keeps the default's activations; else they are
 * NULL with n_activations entries (which NULL makes meaningless). */
static void check_null_activations_read_back(const size_t *sizes, size_t n_activations, swiftmlp_loss loss)
{
    swiftmlp_config c = config_sized(sizes, 3);
    if (n_activations != 0) {
        c.activations = NULL;
        c.n_activations = n_activations;
    }
    if (loss != DEFAULT_LOSS) {
        c.loss = loss;
    }
    const swiftmlp_loss expected = loss == DEFAULT_LOSS ? SWIFTMLP_LOSS_MSE : loss;
    check_created(&c, sizes, 3, SWIFTMLP_FLOAT64, 0, NULL, 1, 0.01, expected, SWIFTMLP_INIT_UNIFORM);
}

TEST_CALLING(test_default_config_network_reads_back_sigmoid_mse_uniform,
             check_null_activations_read_back((const size_t[]){4, 3, 2}, 0, DEFAULT_LOSS))
/* BCE with the default activations (NULL = sigmoid everywhere) is valid. */
TEST_CALLING(test_bce_with_default_sigmoid_activations_is_valid,
             check_null_activations_read_back((const size_t[]){3, 4, 1}, 0, SWIFTMLP_LOSS_BCE))
/* n_activations only counts with a non-NULL activations array. */
TEST_CALLING(test_null_activations_ignore_n_activations_and_mean_sigmoid,
             check_null_activations_read_back((const size_t[]){3, 4, 2}, 7, DEFAULT_LOSS))

static void test_plain_create_reports_sigmoid_mse_uniform_and_its_seed(void **state)
{
    (void)state;
    const size_t sizes[] = {2, 5, 5, 1};
    swiftmlp_net *net = create_net(sizes, 4, SWIFTMLP_FLOAT32, 987654321);
    check_config(net, sizes, 4, SWIFTMLP_FLOAT32, 987654321, NULL, 1, 0.01, SWIFTMLP_LOSS_MSE,
                 SWIFTMLP_INIT_UNIFORM);
    swiftmlp_free(net);
}

/* swiftmlp_create and the default config (same seed) give the same network. */
static void test_plain_create_equals_default_config_with_same_seed(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 6, 2};
    for (int t = 0; t < 2; t++) {
        const swiftmlp_dtype dtype = t == 0 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
        swiftmlp_net *a = create_net(sizes, 3, dtype, 31337);
        swiftmlp_config c = config_sized(sizes, 3);
        c.dtype = dtype;
        c.seed = 31337;
        swiftmlp_net *b = create_with(&c);
        assert_same_params_and_free(a, b, "parameters of create vs create_with_config");
    }
}

/* ======================================================================== */
/* every activation / loss / init is accepted and read back                 */
/* ======================================================================== */

static void test_each_activation_broadcast_from_one_entry_reads_back_on_every_layer(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 5, 3, 2};
    for (size_t i = 0; i < ARRAY_LEN(k_all_activations); i++) {
        const swiftmlp_activation act = k_all_activations[i];
        if (act == SWIFTMLP_SOFTMAX) {
            continue; /* would put softmax on hidden layers: see the invalid tests */
        }
        swiftmlp_config c = config_of(sizes, 4, &act, 1);
        c.seed = 100 + i;
        check_created(&c, sizes, 4, SWIFTMLP_FLOAT64, 100 + i, &act, 1, 0.01, SWIFTMLP_LOSS_MSE,
                      SWIFTMLP_INIT_UNIFORM);
    }
}

static void test_softmax_broadcast_on_single_layer_network_is_valid(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 3};
    const swiftmlp_activation act = SWIFTMLP_SOFTMAX;
    swiftmlp_config c = config_of(sizes, 2, &act, 1);
    c.loss = SWIFTMLP_LOSS_CROSS_ENTROPY;
    check_created(&c, sizes, 2, SWIFTMLP_FLOAT64, 0, &act, 1, 0.01, SWIFTMLP_LOSS_CROSS_ENTROPY,
                  SWIFTMLP_INIT_UNIFORM);
}

static void test_per_layer_activations_read_back_in_order(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 6, 5, 4, 4, 3};
    const swiftmlp_activation acts[] = {SWIFTMLP_TANH, SWIFTMLP_RELU, SWIFTMLP_LEAKY_RELU,
                                        SWIFTMLP_IDENTITY, SWIFTMLP_SOFTMAX};
    swiftmlp_config c = config_of(sizes, 6, acts, 5);
    c.leaky_slope = 0.2;
    c.loss = SWIFTMLP_LOSS_CROSS_ENTROPY;
    c.init = SWIFTMLP_INIT_HE;
    c.dtype = SWIFTMLP_FLOAT32;
    c.seed = UINT64_MAX;
    check_created(&c, sizes, 6, SWIFTMLP_FLOAT32, UINT64_MAX, acts, 5, 0.2,
                  SWIFTMLP_LOSS_CROSS_ENTROPY, SWIFTMLP_INIT_HE);
}

static void test_per_layer_form_with_every_activation_as_output_reads_back(void **state)
{
    (void)state;
    const size_t sizes[] = {2, 3, 2};
    for (size_t i = 0; i < ARRAY_LEN(k_all_activations); i++) {
        const swiftmlp_activation acts[] = {SWIFTMLP_SIGMOID, k_all_activations[i]};
        swiftmlp_config c = config_of(sizes, 3, acts, 2);
        check_created(&c, sizes, 3, SWIFTMLP_FLOAT64, 0, acts, 2, 0.01, SWIFTMLP_LOSS_MSE,
                      SWIFTMLP_INIT_UNIFORM);
    }
}

static void test_each_loss_with_its_output_activation_reads_back(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 4, 2};
    const struct {
        swiftmlp_loss loss;
        swiftmlp_activation out;
    } cases[] = {
        {SWIFTMLP_LOSS_MSE, SWIFTMLP_SIGMOID},
        {SWIFTMLP_LOSS_MSE, SWIFTMLP_IDENTITY},
        {SWIFTMLP_LOSS_MSE, SWIFTMLP_SOFTMAX},
        {SWIFTMLP_LOSS_BCE, SWIFTMLP_SIGMOID},
        {SWIFTMLP_LOSS_CROSS_ENTROPY, SWIFTMLP_SOFTMAX},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const swiftmlp_activation acts[] = {SWIFTMLP_TANH, cases[i].out};
        swiftmlp_config c = config_of(sizes, 3, acts, 2);
        c.loss = cases[i].loss;
        check_created(&c, sizes, 3, SWIFTMLP_FLOAT64, 0, acts, 2, 0.01, cases[i].loss,
                      SWIFTMLP_INIT_UNIFORM);
    }
}

static void test_each_init_scheme_reads_back(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 4, 2};
    const swiftmlp_init inits[] = {SWIFTMLP_INIT_UNIFORM, SWIFTMLP_INIT_GLOROT, SWIFTMLP_INIT_HE};
    for (size_t i = 0; i < ARRAY_LEN(inits); i++) {
        swiftmlp_config c = config_sized(sizes, 3);
        c.init = inits[i];
        c.seed = 5;
        check_created(&c, sizes, 3, SWIFTMLP_FLOAT64, 5, NULL, 1, 0.01, SWIFTMLP_LOSS_MSE,
                      inits[i]);
    }
}

static void test_leaky_slope_is_stored_as_given_including_zero_negative_and_large(void **state)
{
    (void)state;
    const size_t sizes[] = {2, 2};
    const double slopes[] = {0.0, -0.5, 3.0, 1e300, -0.0, 5e-324};
    const swiftmlp_activation act = SWIFTMLP_LEAKY_RELU;
    for (size_t i = 0; i < ARRAY_LEN(slopes); i++) {
        swiftmlp_config c = config_of(sizes, 2, &act, 1);
        c.leaky_slope = slopes[i];
        check_created(&c, sizes, 2, SWIFTMLP_FLOAT64, 0, &act, 1, slopes[i], SWIFTMLP_LOSS_MSE,
                      SWIFTMLP_INIT_UNIFORM);
    }
}

/* The config (sizes, activations) is borrowed: changing the caller's arrays
 * afterwards changes nothing, and get_config's pointers stay valid. */
static void test_config_arrays_are_copied_and_get_config_pointers_stay_valid(void **state)
{
    (void)state;
    size_t sizes[] = {3, 4, 2};
    swiftmlp_activation acts[] = {SWIFTMLP_RELU, SWIFTMLP_IDENTITY};
    swiftmlp_config c = config_of(sizes, 3, acts, 2);
    swiftmlp_net *net = create_with(&c);
    swiftmlp_config got;
    assert_ok(swiftmlp_get_config(net, &got));
    const size_t *got_sizes = got.sizes;
    const swiftmlp_activation *got_acts = got.activations;

    sizes[1] = 99;
    acts[0] = SWIFTMLP_TANH;
    /* Other calls in between, some failing. */
    double x[3] = {1, 2, 3}, y[2];
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, 3, 1, y, 2));
    assert_status(swiftmlp_forward(net, SWIFTMLP_FLOAT32, x, 3, 1, y, 2), SWIFTMLP_ERR_DTYPE);

    const size_t want_sizes[] = {3, 4, 2};
    const swiftmlp_activation want_acts[] = {SWIFTMLP_RELU, SWIFTMLP_IDENTITY};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(got_sizes[i], want_sizes[i]);
    }
    assert_int_equal(got_acts[0], want_acts[0]);
    assert_int_equal(got_acts[1], want_acts[1]);
    check_config(net, want_sizes, 3, SWIFTMLP_FLOAT64, 0, want_acts, 2, 0.01, SWIFTMLP_LOSS_MSE,
                 SWIFTMLP_INIT_UNIFORM);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* init schemes: exactly the documented draws                               */
/* ======================================================================== */

/* The documented parameters: one SplitMix64 seeded with seed, layer by
 * layer, W row-major then b, u = (next() >> 11) * 2^-53. */
static void expected_init(const size_t *sizes, size_t n_sizes, swiftmlp_init init, uint64_t seed,
                          double *out)
{
    uint64_t rng = seed;
    size_t k = 0;
    for (size_t l = 0; l + 1 < n_sizes; l++) {
        const size_t nin = sizes[l], nout = sizes[l + 1];
        switch (init) {
        case SWIFTMLP_INIT_UNIFORM: {
            const double root = sqrt((double)nin);
            for (size_t i = 0; i < nout * nin; i++) {
                out[k++] = (2.0 * splitmix64_unit(&rng) - 1.0) / root;
            }
            for (size_t i = 0; i < nout; i++) {
                out[k++] = (2.0 * splitmix64_unit(&rng) - 1.0) / root;
            }
            break;
        }
        case SWIFTMLP_INIT_GLOROT:
        case SWIFTMLP_INIT_HE: {
            const double bound = init == SWIFTMLP_INIT_GLOROT ? sqrt(6.0 / (double)(nin + nout))
                                                              : sqrt(6.0 / (double)nin);
            for (size_t i = 0; i < nout * nin; i++) {
                out[k++] = (2.0 * splitmix64_unit(&rng) - 1.0) * bound;
            }
            for (size_t i = 0; i < nout; i++) {
                out[k++] = 0.0; /* no draws */
            }
            break;
        }
        }
    }
}

static void check_init_exact(const size_t *sizes, size_t n_sizes, swiftmlp_init init, uint64_t seed)
{
    size_t n = 0;
    for (size_t l = 0; l + 1 < n_sizes; l++) {
        n += sizes[l + 1] * sizes[l] + sizes[l + 1];
    }
    double *want = malloc_or_fail(n * sizeof *want);
    double *got = malloc_or_fail(n * sizeof *got);
    float *got32 = malloc_or_fail(n * sizeof *got32);
    expected_init(sizes, n_sizes, init, seed, want);

    swiftmlp_config c = config_sized(sizes, n_sizes);
    c.init = init;
    c.seed = seed;
    swiftmlp_net *net = create_with(&c);
    size_t count = 0;
    assert_ok(swiftmlp_get_param_count(net, &count));
    assert_int_equal(count, n);
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, got, n));
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&got[i], &want[i], sizeof(double)) != 0) {
            print_error("init %d seed %llu: float64 param %zu is %.17g, documented %.17g\n",
                        (int)init, (unsigned long long)seed, i, got[i], want[i]);
            fail();
        }
    }
    swiftmlp_free(net);

    c.dtype = SWIFTMLP_FLOAT32;
    net = create_with(&c);
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT32, got32, n));
    for (size_t i = 0; i < n; i++) {
        const float w = (float)want[i];
        if (memcmp(&got32[i], &w, sizeof(float)) != 0) {
            print_error("init %d seed %llu: float32 param %zu is %.9g, documented (float)%.17g = %.9g\n",
                        (int)init, (unsigned long long)seed, i, (double)got32[i], want[i],
                        (double)w);
            fail();
        }
    }
    swiftmlp_free(net);
    free(want);
    free(got);
    free(got32);
}

static const uint64_t k_seeds[] = {0, 1, 42, UINT64_C(0xDEADBEEFCAFEF00D), UINT64_MAX};

/* check_init_exact for every seed of k_seeds, on a deep and on a wide network. */
static void check_init_for_every_seed(swiftmlp_init init)
{
    const size_t sizes[] = {5, 7, 6, 4};
    const size_t wide[] = {33, 17, 1};
    for (size_t s = 0; s < ARRAY_LEN(k_seeds); s++) {
        check_init_exact(sizes, 4, init, k_seeds[s]);
        check_init_exact(wide, 3, init, k_seeds[s]);
    }
}

TEST_CALLING(test_uniform_init_equals_documented_draws_exactly,
             check_init_for_every_seed(SWIFTMLP_INIT_UNIFORM))
TEST_CALLING(test_glorot_init_equals_documented_draws_exactly_with_zero_biases,
             check_init_for_every_seed(SWIFTMLP_INIT_GLOROT))
TEST_CALLING(test_he_init_equals_documented_draws_exactly_with_zero_biases,
             check_init_for_every_seed(SWIFTMLP_INIT_HE))

/* The init does not depend on activations or loss, only on sizes/scheme/seed. */
static void test_init_does_not_depend_on_activations_or_loss(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 5, 3};
    const swiftmlp_activation acts[] = {SWIFTMLP_RELU, SWIFTMLP_SOFTMAX};
    swiftmlp_config a = config_sized(sizes, 3);
    a.seed = 77;
    a.init = SWIFTMLP_INIT_GLOROT;
    swiftmlp_config b = a;
    b.activations = acts;
    b.n_activations = 2;
    b.loss = SWIFTMLP_LOSS_CROSS_ENTROPY;
    b.leaky_slope = 0.3;
    swiftmlp_net *na = create_with(&a), *nb = create_with(&b);
    assert_same_params_and_free(na, nb, "parameters (activations/loss must not change the init)");
}

/* ======================================================================== */
/* each activation computes its documented formula                          */
/* ======================================================================== */

static double act_ref(swiftmlp_activation act, double f, double slope)
{
    switch (act) {
    case SWIFTMLP_SIGMOID: return 1.0 / (1.0 + exp(-f));
    case SWIFTMLP_TANH: return tanh(f);
    case SWIFTMLP_RELU: return f > 0 ? f : 0.0;
    case SWIFTMLP_LEAKY_RELU: return f > 0 ? f : slope * f;
    case SWIFTMLP_IDENTITY: return f;
    default: return NAN;
    }
}

static void test_each_activation_computes_its_documented_formula(void **state)
{
    (void)state;
    enum { B = 3, NI = 2, NO = 4 };
    const size_t sizes[] = {NI, NO};
    const double w[NO * NI] = {0.5, -1.25, 2.0, 0.75, -0.3, 0.1, 1.5, -2.5};
    const double b[NO] = {0.1, -0.2, 0.0, 0.3};
    const double x[B * NI] = {1.0, 2.0, -1.5, 0.5, 0.25, -3.0};
    const double slope = 0.07;
    for (size_t a = 0; a < ARRAY_LEN(k_all_activations); a++) {
        const swiftmlp_activation act = k_all_activations[a];
        swiftmlp_config c = config_of(sizes, 2, &act, 1);
        c.leaky_slope = slope;
        swiftmlp_net *net = create_with(&c);
        assert_ok(swiftmlp_set_layer(net, 0, SWIFTMLP_FLOAT64, w, NO * NI, b, NO));
        double y[B * NO];
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, B * NI, B, y, B * NO));
        for (size_t r = 0; r < B; r++) {
            double f[NO], want[NO], m = -INFINITY, s = 0.0;
            for (size_t j = 0; j < NO; j++) {
                f[j] = b[j];
                for (size_t i = 0; i < NI; i++) {
                    f[j] += x[r * NI + i] * w[j * NI + i];
                }
                m = fmax(m, f[j]);
            }
            for (size_t j = 0; j < NO; j++) {
                if (act == SWIFTMLP_SOFTMAX) {
                    want[j] = exp(f[j] - m);
                    s += want[j];
                } else {
                    want[j] = act_ref(act, f[j], slope);
                }
            }
            for (size_t j = 0; j < NO; j++) {
                if (act == SWIFTMLP_SOFTMAX) {
                    want[j] /= s;
                }
                assert_close(y[r * NO + j], want[j], 1e-14, 1e-15);
            }
        }
        swiftmlp_free(net);
    }
}

/* ======================================================================== */
/* invalid configurations                                                   */
/* ======================================================================== */

/* ---- the bad-input table (test_util.h's fx driver): create_with_config
 * rows must also set *out to NULL ----------------------------------------- */

static const size_t k_sizes3[] = {3, 4, 2};
static const size_t k_sizes4[] = {3, 4, 4, 2};

/* The defaults with these sizes, activations (if not NULL) and loss. */
static swiftmlp_config g_cfg;
static swiftmlp_config *cfg(const size_t *sizes, size_t n_sizes, const swiftmlp_activation *acts, size_t n_acts,
                            swiftmlp_loss loss)
{
    g_cfg = config_sized(sizes, n_sizes);
    if (acts != NULL) {
        g_cfg.activations = acts;
        g_cfg.n_activations = n_acts;
    }
    g_cfg.loss = loss;
    return &g_cfg;
}

#define ACTS(...) (const swiftmlp_activation[]){__VA_ARGS__}, ARRAY_LEN(((const swiftmlp_activation[]){__VA_ARGS__}))
#define SIG SWIFTMLP_SIGMOID
#define TANH SWIFTMLP_TANH
#define SOFTMAX SWIFTMLP_SOFTMAX
#define MSE SWIFTMLP_LOSS_MSE
#define BCE SWIFTMLP_LOSS_BCE
#define CE SWIFTMLP_LOSS_CROSS_ENTROPY
/* cfg3 with one field changed. */
#define CFG3_WITH(field, value) (cfg(k_sizes3, 3, NULL, 0, MSE)->field = (value), &g_cfg)
#define CWC(config) swiftmlp_create_with_config((config), &f->created)
/* leaky_slope must be finite even when no layer is leaky ReLU; create_with
 * config returns "as swiftmlp_create" for sizes (NULL sizes: NULL_POINTER). */
#define CONFIG_CASES(X)                                                                                 \
    X(cwc_softmax_on_hidden_layer, E_ARG, ON_CREATE, PREP_NONE, NULL, CWC(cfg(k_sizes3, 3, ACTS(SOFTMAX, SIG), MSE))) \
    X(cwc_softmax_broadcast_to_hidden_layers, E_ARG, ON_CREATE, PREP_NONE, NULL,                        \
      CWC(cfg(k_sizes3, 3, ACTS(SOFTMAX), MSE)))                                                        \
    X(cwc_softmax_on_middle_hidden_layer_with_ce, E_ARG, ON_CREATE, PREP_NONE, NULL,                    \
      CWC(cfg(k_sizes4, 4, ACTS(TANH, SOFTMAX, SOFTMAX), CE)))                                          \
    X(cwc_bce_with_tanh_output, E_ARG, ON_CREATE, PREP_NONE, NULL, CWC(cfg(k_sizes3, 3, ACTS(SIG, TANH), BCE))) \
    X(cwc_bce_with_softmax_output, E_ARG, ON_CREATE, PREP_NONE, NULL,                                   \
      CWC(cfg(k_sizes3, 3, ACTS(SIG, SOFTMAX), BCE)))                                                   \
    X(cwc_bce_with_identity_broadcast, E_ARG, ON_CREATE, PREP_NONE, NULL,                               \
      CWC(cfg(k_sizes3, 3, ACTS(SWIFTMLP_IDENTITY), BCE)))                                              \
    X(cwc_cross_entropy_with_default_sigmoid_output, E_ARG, ON_CREATE, PREP_NONE, NULL,                 \
      CWC(cfg(k_sizes3, 3, NULL, 0, CE)))                                                               \
    X(cwc_cross_entropy_with_identity_output, E_ARG, ON_CREATE, PREP_NONE, NULL,                        \
      CWC(cfg(k_sizes3, 3, ACTS(SWIFTMLP_RELU, SWIFTMLP_IDENTITY), CE)))                                \
    X(cwc_zero_activations_with_non_null_array, E_ARG, ON_CREATE, PREP_NONE, NULL,                      \
      CWC(cfg(k_sizes3, 3, (const swiftmlp_activation[]){TANH, TANH}, 0, MSE)))                         \
    X(cwc_two_activations_for_three_layers, E_ARG, ON_CREATE, PREP_NONE, NULL,                          \
      CWC(cfg(k_sizes4, 4, ACTS(TANH, TANH), MSE)))                                                     \
    X(cwc_l_plus_one_activations, E_ARG, ON_CREATE, PREP_NONE, NULL,                                    \
      CWC(cfg(k_sizes3, 3, ACTS(TANH, TANH, TANH), MSE)))                                               \
    X(cwc_unknown_activation_6, E_ARG, ON_CREATE, PREP_NONE, NULL,                                      \
      CWC(cfg(k_sizes3, 3, ACTS(TANH, (swiftmlp_activation)6), MSE)))                                   \
    X(cwc_unknown_activation_minus_1, E_ARG, ON_CREATE, PREP_NONE, NULL,                                \
      CWC(cfg(k_sizes3, 3, ACTS((swiftmlp_activation)-1), MSE)))                                        \
    X(cwc_unknown_loss, E_ARG, ON_CREATE, PREP_NONE, NULL, CWC(cfg(k_sizes3, 3, NULL, 0, (swiftmlp_loss)3))) \
    X(cwc_unknown_init, E_ARG, ON_CREATE, PREP_NONE, NULL, CWC(CFG3_WITH(init, (swiftmlp_init)3)))      \
    X(cwc_nan_leaky_slope, E_ARG, ON_CREATE, PREP_NONE, NULL,                                           \
      CWC((cfg(k_sizes3, 3, ACTS(SWIFTMLP_LEAKY_RELU), MSE)->leaky_slope = NAN, &g_cfg)))               \
    X(cwc_infinite_leaky_slope, E_ARG, ON_CREATE, PREP_NONE, NULL,                                      \
      CWC((cfg(k_sizes3, 3, ACTS(SWIFTMLP_LEAKY_RELU), MSE)->leaky_slope = INFINITY, &g_cfg)))          \
    X(cwc_minus_infinite_leaky_slope_without_leaky_layers, E_ARG, ON_CREATE, PREP_NONE, NULL,           \
      CWC(CFG3_WITH(leaky_slope, -INFINITY)))                                                           \
    X(cwc_struct_size_zero, E_ARG, ON_CREATE, PREP_NONE, NULL, CWC(CFG3_WITH(struct_size, 0)))          \
    X(cwc_struct_size_one_less, E_ARG, ON_CREATE, PREP_NONE, NULL,                                      \
      CWC(CFG3_WITH(struct_size, sizeof(swiftmlp_config) - 1)))                                         \
    X(cwc_struct_size_larger, E_ARG, ON_CREATE, PREP_NONE, NULL,                                        \
      CWC(CFG3_WITH(struct_size, sizeof(swiftmlp_config) + 8)))                                         \
    X(cwc_null_sizes, E_NULL, ON_CREATE, PREP_NONE, NULL, CWC(cfg(NULL, 3, NULL, 0, MSE)))              \
    X(cwc_null_config, E_NULL, ON_CREATE, PREP_NONE, NULL, CWC(NULL))                                   \
    X(cwc_null_out, E_NULL, ON_NONE, PREP_NONE, NULL,                                                   \
      swiftmlp_create_with_config(cfg(k_sizes3, 3, NULL, 0, MSE), NULL))                                \
    X(cwc_one_size, E_ARG, ON_CREATE, PREP_NONE, NULL, CWC(cfg(k_sizes3, 1, NULL, 0, MSE)))             \
    X(cwc_zero_size, E_ARG, ON_CREATE, PREP_NONE, NULL,                                                 \
      CWC(cfg((const size_t[]){3, 0, 2}, 3, NULL, 0, MSE)))                                             \
    X(cwc_unknown_dtype, E_ARG, ON_CREATE, PREP_NONE, NULL, CWC(CFG3_WITH(dtype, (swiftmlp_dtype)3)))   \
    X(cwc_layer_size_above_max, E_LARGE, ON_CREATE, PREP_NONE, NULL,                                    \
      CWC(cfg((const size_t[]){3, (size_t)SWIFTMLP_MAX_LAYER_SIZE + 1}, 2, NULL, 0, MSE)))              \
    X(config_default_null, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_config_default(NULL))             \
    X(get_config_null_net, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_get_config(NULL, &g_cfg))         \
    X(get_config_null_config, E_NULL, ON_NET, PREP_NONE, NULL, swiftmlp_get_config(f->net, NULL))       \
    X(get_activations_null_net, E_NULL, ON_NONE, PREP_NONE, NULL,                                       \
      swiftmlp_get_activations(NULL, (swiftmlp_activation[4]){SIG}, 4))                                 \
    X(get_activations_null_buffer, E_NULL, ON_NET, PREP_NONE, NULL, swiftmlp_get_activations(f->net, NULL, 2)) \
    X(get_activations_capacity_zero, E_BUF, ON_NET, PREP_NONE, NULL,                                    \
      swiftmlp_get_activations(f->net, (swiftmlp_activation[2]){SIG}, 0))

BAD_TABLE(k_config_cases, CONFIG_CASES);

static void test_create_with_config_null_sizes_with_zero_n_sizes_fails(void **state)
{
    (void)state;
    /* The freshly defaulted config: no sizes at all. NULL_POINTER (sizes
     * NULL) or INVALID_ARGUMENT (n_sizes < 2) are both documented. */
    swiftmlp_config c = config_sized(NULL, 0);
    static int sentinel;
    swiftmlp_net *out = (swiftmlp_net *)(void *)&sentinel;
    const swiftmlp_status s = swiftmlp_create_with_config(&c, &out);
    assert_true(s == SWIFTMLP_ERR_NULL_POINTER || s == SWIFTMLP_ERR_INVALID_ARGUMENT);
    assert_last_error_set();
    assert_null(out);
}

/* Besides the table's checks: nothing is written. */
static void test_get_activations_capacity_below_layer_count_returns_buffer_size(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes3, 3, SWIFTMLP_FLOAT64, 1);
    swiftmlp_activation a[2] = {(swiftmlp_activation)77, (swiftmlp_activation)77};
    assert_fails_unchanged(net, swiftmlp_get_activations(net, a, 1), SWIFTMLP_ERR_BUFFER_SIZE);
    assert_int_equal(a[0], 77); /* nothing written */
    swiftmlp_free(net);
}

int main(void)
{
#define T(name) cmocka_unit_test(name)
    const struct CMUnitTest tests[] = {
        /* defaults */
        T(test_config_default_fills_every_documented_default),
        T(test_default_config_network_reads_back_sigmoid_mse_uniform),
        T(test_plain_create_reports_sigmoid_mse_uniform_and_its_seed),
        T(test_plain_create_equals_default_config_with_same_seed),
        /* read back */
        T(test_each_activation_broadcast_from_one_entry_reads_back_on_every_layer),
        T(test_softmax_broadcast_on_single_layer_network_is_valid),
        T(test_per_layer_activations_read_back_in_order),
        T(test_per_layer_form_with_every_activation_as_output_reads_back),
        T(test_each_loss_with_its_output_activation_reads_back),
        T(test_bce_with_default_sigmoid_activations_is_valid),
        T(test_null_activations_ignore_n_activations_and_mean_sigmoid),
        T(test_each_init_scheme_reads_back),
        T(test_leaky_slope_is_stored_as_given_including_zero_negative_and_large),
        T(test_config_arrays_are_copied_and_get_config_pointers_stay_valid),
        /* init formulas */
        T(test_uniform_init_equals_documented_draws_exactly),
        T(test_glorot_init_equals_documented_draws_exactly_with_zero_biases),
        T(test_he_init_equals_documented_draws_exactly_with_zero_biases),
        T(test_init_does_not_depend_on_activations_or_loss),
        /* activation formulas */
        T(test_each_activation_computes_its_documented_formula),
        /* invalid configs */
        BAD_TABLE_TEST(k_config_cases),
        T(test_create_with_config_null_sizes_with_zero_n_sizes_fails),
        T(test_get_activations_capacity_below_layer_count_returns_buffer_size),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
