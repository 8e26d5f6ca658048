/*
 * test_model_file.c — saving and loading model files (include/swiftmlp.h,
 * "Saving and loading").
 *
 *   - round trips: save_file -> load_file gives bit-identical parameters,
 *     the same configuration and the same optimizer hyperparameters;
 *   - with SWIFTMLP_SAVE_OPTIMIZER_STATE, training resumes bit-identically
 *     (optimizer_step loops for Adam, AdamW, SGD with Nesterov momentum and
 *     plain SGD; swiftmlp_fit with shuffling); without it the hyperparameters
 *     survive but the step count and moments start from zero;
 *   - save_size / save_buffer, the two-call pattern, buffer bytes == file bytes;
 *   - atomic writes and I/O failures: /dev/full, a missing directory, a
 *     read-only directory (in a child that drops root privileges, since root
 *     ignores permissions), replacing an existing model; loading a missing
 *     path, a directory, a device and an unreadable file;
 *   - bad arguments (NULL pointers, empty path, unknown flag bits).
 *
 * Files go to a private directory under $TMPDIR (or /tmp), removed afterwards.
 */
#define _GNU_SOURCE
#include "model_test_util.h"

/* ---- two network specifications ------------------------------------------ */

enum { ROWS = 10, MAXN = 6 };

typedef struct spec {
    swiftmlp_dtype dtype;
    size_t sizes[4];
    size_t n_sizes;
    swiftmlp_activation activations[3];
    double leaky_slope;
    swiftmlp_loss loss;
    swiftmlp_init init;
    uint64_t seed;
} spec;

/* float64 [3,5,4,2] tanh / leaky ReLU / sigmoid, binary cross-entropy, Glorot */
static const spec k_spec64 = {SWIFTMLP_FLOAT64, {3, 5, 4, 2}, 4,
                              {SWIFTMLP_TANH, SWIFTMLP_LEAKY_RELU, SWIFTMLP_SIGMOID},
                              0.0625, SWIFTMLP_LOSS_BCE, SWIFTMLP_INIT_GLOROT, 1234};
/* float32 [4,6,3] ReLU / softmax, cross-entropy, He */
static const spec k_spec32 = {SWIFTMLP_FLOAT32, {4, 6, 3}, 3, {SWIFTMLP_RELU, SWIFTMLP_SOFTMAX},
                              0.01, SWIFTMLP_LOSS_CROSS_ENTROPY, SWIFTMLP_INIT_HE, 99};

/* The configuration s describes. */
static swiftmlp_config config_of_spec(const spec *s)
{
    swiftmlp_config cfg;
    assert_ok(swiftmlp_config_default(&cfg));
    cfg.sizes = s->sizes;
    cfg.n_sizes = s->n_sizes;
    cfg.dtype = s->dtype;
    cfg.seed = s->seed;
    cfg.activations = s->activations;
    cfg.n_activations = s->n_sizes - 1;
    cfg.leaky_slope = s->leaky_slope;
    cfg.loss = s->loss;
    cfg.init = s->init;
    return cfg;
}

static swiftmlp_net *make_net(const spec *s)
{
    const swiftmlp_config cfg = config_of_spec(s);
    return create_with(&cfg);
}

/* A data set of ROWS rows for s, in s's element type: inputs in [-1, 1);
 * targets one-hot rows (valid for MSE, BCE and cross-entropy). */
typedef struct dataset {
    unsigned char x[ROWS * MAXN * sizeof(double)];
    unsigned char y[ROWS * MAXN * sizeof(double)];
    size_t n0, nl;
} dataset;

static void make_data(const spec *s, uint64_t seed, dataset *d)
{
    d->n0 = s->sizes[0];
    d->nl = s->sizes[s->n_sizes - 1];
    uint64_t rng = seed;
    for (size_t i = 0; i < ROWS * d->n0; i++) {
        double v = rand_uniform(&rng, -1, 1);
        if (s->dtype == SWIFTMLP_FLOAT32) {
            ((float *)(void *)d->x)[i] = (float)v;
        } else {
            ((double *)(void *)d->x)[i] = v;
        }
    }
    for (size_t r = 0; r < ROWS; r++) {
        size_t hot = (size_t)(splitmix64_next(&rng) % d->nl);
        for (size_t j = 0; j < d->nl; j++) {
            double v = j == hot ? 1.0 : 0.0;
            if (s->dtype == SWIFTMLP_FLOAT32) {
                ((float *)(void *)d->y)[r * d->nl + j] = (float)v;
            } else {
                ((double *)(void *)d->y)[r * d->nl + j] = v;
            }
        }
    }
}

/* Steps first..first+n-1 of a fixed schedule: batch of 4 rows starting at
 * row (3*i) mod 7, forward, backward, optimizer_step. */
static void train_steps(swiftmlp_net *net, const spec *s, const dataset *d, size_t first, size_t n)
{
    size_t es = dtype_size(s->dtype);
    unsigned char out[4 * MAXN * sizeof(double)];
    for (size_t i = first; i < first + n; i++) {
        size_t start = (3 * i) % 7;
        assert_ok(swiftmlp_forward(net, s->dtype, d->x + start * d->n0 * es, 4 * d->n0, 4, out,
                                   4 * d->nl));
        assert_ok(swiftmlp_backward(net, s->dtype, d->y + start * d->nl * es, 4 * d->nl, 4, NULL));
        assert_ok(swiftmlp_optimizer_step(net));
    }
}

/* got describes the same network as want (the leaky slope to the bit). */
static void assert_config_equal(const swiftmlp_config *got, const swiftmlp_config *want)
{
    assert_int_equal(got->dtype, want->dtype);
    assert_int_equal(got->n_sizes, want->n_sizes);
    assert_memory_equal(got->sizes, want->sizes, want->n_sizes * sizeof(size_t));
    assert_int_equal(got->n_activations, want->n_activations);
    assert_memory_equal(got->activations, want->activations, want->n_activations * sizeof(swiftmlp_activation));
    assert_memory_equal(&got->leaky_slope, &want->leaky_slope, sizeof(double));
    assert_int_equal(got->loss, want->loss);
    assert_int_equal(got->init, want->init);
    assert_true(got->seed == want->seed);
}

static void assert_same_config(const swiftmlp_net *a, const swiftmlp_net *b)
{
    swiftmlp_config ca, cb;
    assert_ok(swiftmlp_get_config(a, &ca));
    assert_ok(swiftmlp_get_config(b, &cb));
    assert_int_equal(cb.struct_size, ca.struct_size);
    assert_config_equal(&cb, &ca);
}

/* The configuration of net is s. */
static void assert_config_is(const swiftmlp_net *net, const spec *s)
{
    swiftmlp_config c;
    assert_ok(swiftmlp_get_config(net, &c));
    const swiftmlp_config want = config_of_spec(s);
    assert_config_equal(&c, &want);
}

static void assert_same_optimizer(const swiftmlp_net *a, const swiftmlp_net *b)
{
    swiftmlp_optimizer oa, ob;
    assert_ok(swiftmlp_get_optimizer(a, &oa));
    assert_ok(swiftmlp_get_optimizer(b, &ob));
    assert_int_equal(oa.struct_size, ob.struct_size);
    assert_int_equal(oa.kind, ob.kind);
    assert_memory_equal(&oa.lr, &ob.lr, sizeof(double));
    assert_memory_equal(&oa.momentum, &ob.momentum, sizeof(double));
    assert_int_equal(oa.nesterov != 0, ob.nesterov != 0);
    assert_memory_equal(&oa.beta1, &ob.beta1, sizeof(double));
    assert_memory_equal(&oa.beta2, &ob.beta2, sizeof(double));
    assert_memory_equal(&oa.eps, &ob.eps, sizeof(double));
    assert_memory_equal(&oa.weight_decay, &ob.weight_decay, sizeof(double));
}

/* Optimizers with hyperparameters that are not the defaults and not short
 * decimals (so a lossy number format would show). */
static swiftmlp_optimizer optimizer_of(swiftmlp_optimizer_kind kind, int with_momentum)
{
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(kind, &o));
    switch (kind) {
    case SWIFTMLP_OPT_SGD:
        o.lr = 0.1 / 3.0;
        if (with_momentum) {
            o.momentum = nextafter(0.9, 0.0);
            o.nesterov = 1;
        }
        o.weight_decay = 1e-4 / 7.0;
        break;
    case SWIFTMLP_OPT_ADAM:
    case SWIFTMLP_OPT_ADAMW:
        o.lr = 0.01 / 3.0;
        o.beta1 = 0.85;
        o.beta2 = nextafter(0.995, 1.0);
        o.eps = 3e-9;
        o.weight_decay = kind == SWIFTMLP_OPT_ADAMW ? 0.02 / 3.0 : 1e-3;
        break;
    }
    return o;
}

/* A network made from s with optimizer_of(kind, momentum), trained for
 * `steps` steps on d (train_steps from batch 0). */
static swiftmlp_net *trained_net(const spec *s, swiftmlp_optimizer_kind kind, int momentum, const dataset *d,
                                 size_t steps)
{
    swiftmlp_net *net = make_net(s);
    swiftmlp_optimizer o = optimizer_of(kind, momentum);
    assert_ok(swiftmlp_set_optimizer(net, &o));
    train_steps(net, s, d, 0, steps);
    return net;
}

/* ---- fixture: a private directory ------------------------------------------ */

typedef struct fixture {
    char dir[1024];
    char path[1200];   /* dir/model.safetensors */
} fixture;

static int dir_init(fixture *f)
{
    make_temp_dir(f->dir, sizeof f->dir);
    snprintf(f->path, sizeof f->path, "%s/model.safetensors", f->dir);
    return 0;
}

static void dir_fini(fixture *f)
{
    remove_temp_dir(f->dir);
}

FIXTURE_FUNCTIONS(fixture, setup, teardown, dir_init, dir_fini)

#define FIXTURE fixture *f = *state

/* A test that is one call in f, the fixture. */
#define FIXTURE_TEST(test, call)         \
    static void test(void **state)       \
    {                                    \
        FIXTURE;                         \
        call;                            \
    }

/* Two tests: check(f->path, spec) for k_spec64 and for k_spec32. */
#define SPEC_TESTS(f64_test, f32_test, check)           \
    FIXTURE_TEST(f64_test, check(f->path, &k_spec64)) \
    FIXTURE_TEST(f32_test, check(f->path, &k_spec32))

static swiftmlp_net *load_path(const char *path)
{
    swiftmlp_net *net = NOT_NULL_SENTINEL;
    assert_ok(swiftmlp_load_file(path, &net));
    assert_non_null(net);
    assert_true(net != NOT_NULL_SENTINEL);
    return net;
}

/* ======================================================================== */
/* round trips                                                               */
/* ======================================================================== */

static void check_round_trip(const char *path, const spec *s)
{
    dataset d;
    make_data(s, 5, &d);
    swiftmlp_net *a = trained_net(s, SWIFTMLP_OPT_ADAM, 0, &d, 3); /* parameters no longer the initial ones */
    assert_ok(swiftmlp_save_file(a, SWIFTMLP_SAVE_DEFAULT, path));
    assert_last_error_empty();
    swiftmlp_net *b = load_path(path);
    assert_last_error_empty();
    assert_same_params(a, b);
    assert_same_config(a, b);
    assert_config_is(b, s);
    assert_same_optimizer(a, b);
    swiftmlp_dtype dt;
    assert_ok(swiftmlp_get_dtype(b, &dt));
    assert_int_equal(dt, s->dtype);
    swiftmlp_free(a);
    swiftmlp_free(b);
}

SPEC_TESTS(test_save_file_load_file_float64_gives_identical_params_config_and_optimizer,
           test_save_file_load_file_float32_gives_identical_params_config_and_optimizer,
           check_round_trip)

static void test_fresh_network_without_optimizer_round_trips_without_optimizer(void **state)
{
    FIXTURE;
    swiftmlp_net *a = make_net(&k_spec64);
    assert_ok(swiftmlp_save_file(a, SWIFTMLP_SAVE_OPTIMIZER_STATE, f->path));
    swiftmlp_net *b = load_path(f->path);
    assert_same_params(a, b);
    assert_same_config(a, b);
    swiftmlp_optimizer o;
    assert_status(swiftmlp_get_optimizer(b, &o), SWIFTMLP_ERR_STATE);
    assert_true(step_count(b) == 0);
    swiftmlp_free(a);
    swiftmlp_free(b);
}

static void test_every_optimizer_kind_round_trips_its_hyperparameters(void **state)
{
    FIXTURE;
    const struct {
        swiftmlp_optimizer_kind kind;
        int momentum;
    } cases[] = {{SWIFTMLP_OPT_SGD, 0}, {SWIFTMLP_OPT_SGD, 1}, {SWIFTMLP_OPT_ADAM, 0},
                 {SWIFTMLP_OPT_ADAMW, 0}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        for (uint32_t flags = 0; flags <= SWIFTMLP_SAVE_OPTIMIZER_STATE; flags++) {
            swiftmlp_net *a = make_net(&k_spec32);
            swiftmlp_optimizer o = optimizer_of(cases[i].kind, cases[i].momentum);
            assert_ok(swiftmlp_set_optimizer(a, &o));
            assert_ok(swiftmlp_save_file(a, flags, f->path));
            swiftmlp_net *b = load_path(f->path);
            assert_same_optimizer(a, b);
            swiftmlp_optimizer got;
            assert_ok(swiftmlp_get_optimizer(b, &got));
            assert_int_equal(got.kind, o.kind);
            assert_memory_equal(&got.lr, &o.lr, sizeof(double));
            assert_memory_equal(&got.weight_decay, &o.weight_decay, sizeof(double));
            swiftmlp_free(a);
            swiftmlp_free(b);
        }
    }
}

/* ======================================================================== */
/* resuming training                                                         */
/* ======================================================================== */

enum { K_STEPS = 5, M_STEPS = 7 };

/* Train A K steps, save with state, load B, train both M more steps on the
 * same batches: bit-identical parameters (and step counts). */
static void check_resume(const char *path, const spec *s, swiftmlp_optimizer_kind kind, int momentum)
{
    dataset d;
    make_data(s, 11, &d);
    swiftmlp_net *a = trained_net(s, kind, momentum, &d, K_STEPS);
    assert_ok(swiftmlp_save_file(a, SWIFTMLP_SAVE_OPTIMIZER_STATE, path));
    swiftmlp_net *b = load_path(path);
    assert_same_params(a, b);
    assert_same_optimizer(a, b);
    assert_true(step_count(b) == K_STEPS);
    train_steps(a, s, &d, K_STEPS, M_STEPS);
    train_steps(b, s, &d, K_STEPS, M_STEPS);
    assert_true(step_count(a) == K_STEPS + M_STEPS);
    assert_true(step_count(b) == K_STEPS + M_STEPS);
    assert_same_params(a, b);
    swiftmlp_free(a);
    swiftmlp_free(b);
}

FIXTURE_TEST(test_adam_float64_training_resumes_bit_identically_after_save_with_state,
             check_resume(f->path, &k_spec64, SWIFTMLP_OPT_ADAM, 0))

FIXTURE_TEST(test_adamw_float32_training_resumes_bit_identically_after_save_with_state,
             check_resume(f->path, &k_spec32, SWIFTMLP_OPT_ADAMW, 0))

FIXTURE_TEST(test_sgd_nesterov_momentum_training_resumes_bit_identically_after_save_with_state,
             check_resume(f->path, &k_spec64, SWIFTMLP_OPT_SGD, 1))

FIXTURE_TEST(test_plain_sgd_float32_training_resumes_bit_identically_after_save_with_state,
             check_resume(f->path, &k_spec32, SWIFTMLP_OPT_SGD, 0))

/* The value of a "__metadata__" key in net's saved header (a plain
 * "key":"value" pair, as the library writes it). */
static void saved_metadata(const swiftmlp_net *net, const char *key, char *value, size_t cap)
{
    size_t size = 0;
    assert_ok(swiftmlp_save_size(net, 0, &size));
    char *buf = malloc(size + 1);
    assert_non_null(buf);
    assert_ok(swiftmlp_save_buffer(net, 0, buf, size, NULL));
    buf[size] = '\0';
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = strstr(buf + 8, pattern);
    assert_non_null(at);
    at += strlen(pattern);
    const char *end = strchr(at, '"');
    assert_non_null(end);
    assert_true((size_t)(end - at) < cap);
    memcpy(value, at, (size_t)(end - at));
    value[end - at] = '\0';
    free(buf);
}

/* fit A 2 epochs, save with state, load B, fit both 2 more epochs: the
 * shuffle generator and the optimizer continue, so the results are identical. */
static void check_fit_resume(const char *path, const spec *s)
{
    dataset d;
    make_data(s, 21, &d);
    swiftmlp_net *a = trained_net(s, SWIFTMLP_OPT_ADAM, 0, &d, 0);
    swiftmlp_fit_options opts;
    assert_ok(swiftmlp_fit_options_default(&opts));
    opts.epochs = 2;
    opts.batch_size = 3;
    opts.shuffle = 1;
    swiftmlp_fit_result ra, rb;
    assert_ok(swiftmlp_fit(a, s->dtype, d.x, ROWS * d.n0, d.y, ROWS * d.nl, ROWS, &opts, &ra));
    assert_ok(swiftmlp_save_file(a, SWIFTMLP_SAVE_OPTIMIZER_STATE, path));
    swiftmlp_net *b = load_path(path);
    assert_same_params(a, b);
    assert_true(step_count(a) == step_count(b));
    assert_ok(swiftmlp_fit(a, s->dtype, d.x, ROWS * d.n0, d.y, ROWS * d.nl, ROWS, &opts, &ra));
    assert_ok(swiftmlp_fit(b, s->dtype, d.x, ROWS * d.n0, d.y, ROWS * d.nl, ROWS, &opts, &rb));
    assert_same_params(a, b);
    assert_memory_equal(&ra.final_train_loss, &rb.final_train_loss, sizeof(double));
    assert_true(step_count(a) == step_count(b));

    /* Not vacuous: the shuffle generator moved away from its initial state
     * (seed + 0x6A09E667F3BCC909), and the file carries where it is. */
    char fresh[32], now[32];
    swiftmlp_net *c = make_net(s);
    saved_metadata(c, "shuffle_state", fresh, sizeof fresh);
    saved_metadata(b, "shuffle_state", now, sizeof now);
    char expected[32];
    snprintf(expected, sizeof expected, "%llu",
             (unsigned long long)(s->seed + UINT64_C(0x6A09E667F3BCC909)));
    assert_string_equal(fresh, expected);
    assert_string_not_equal(now, fresh);
    swiftmlp_free(c);
    swiftmlp_free(a);
    swiftmlp_free(b);
}

SPEC_TESTS(test_fit_float64_resumes_bit_identically_after_save_with_state,
           test_fit_float32_resumes_bit_identically_after_save_with_state,
           check_fit_resume)

/* Without the state flag: the hyperparameters survive, the step count is 0
 * and the moments are zero — B trains exactly like a fresh network given A's
 * parameters and the same optimizer. */
static void test_save_without_state_keeps_hyperparameters_but_restarts_the_optimizer(void **state)
{
    FIXTURE;
    const spec *s = &k_spec64;
    dataset d;
    make_data(s, 31, &d);
    swiftmlp_net *a = trained_net(s, SWIFTMLP_OPT_ADAM, 0, &d, K_STEPS);
    assert_true(step_count(a) == K_STEPS);
    assert_ok(swiftmlp_save_file(a, SWIFTMLP_SAVE_DEFAULT, f->path));
    swiftmlp_net *b = load_path(f->path);
    assert_same_params(a, b);
    assert_same_optimizer(a, b);
    assert_true(step_count(b) == 0);

    swiftmlp_net *c = make_net(s);
    snapshot pa = snapshot_params(a);
    assert_ok(swiftmlp_set_params(c, s->dtype, pa.data, param_count(a)));
    const swiftmlp_optimizer o = optimizer_of(SWIFTMLP_OPT_ADAM, 0);
    assert_ok(swiftmlp_set_optimizer(c, &o));
    train_steps(b, s, &d, K_STEPS, M_STEPS);
    train_steps(c, s, &d, K_STEPS, M_STEPS);
    assert_same_params(b, c);
    assert_true(step_count(b) == M_STEPS);

    /* and differently from A, which kept its moments */
    train_steps(a, s, &d, K_STEPS, M_STEPS);
    assert_params_differ(a, b);
    snapshot_free(&pa);
    swiftmlp_free(a);
    swiftmlp_free(b);
    swiftmlp_free(c);
}

/* What save_buffer(net, flags) writes (malloc'ed; its size in *size). */
static unsigned char *saved_bytes(const swiftmlp_net *net, uint32_t flags, size_t *size)
{
    assert_ok(swiftmlp_save_size(net, flags, size));
    unsigned char *buf = malloc(*size);
    assert_non_null(buf);
    assert_ok(swiftmlp_save_buffer(net, flags, buf, *size, NULL));
    return buf;
}

/* The file at path holds exactly bytes[0..size). */
static void assert_file_holds(const char *path, const unsigned char *bytes, size_t size)
{
    size_t len = 0;
    unsigned char *file = read_whole_file(path, &len);
    assert_int_equal(len, size);
    assert_memory_equal(file, bytes, size);
    free(file);
}

/*
 * A float32 Adam step whose second moment overflows: W = [1e21, 1e21],
 * x = [1, 1], target 0 give dL/dW = 4e21, and (1 - beta2) * 4e21 * 4e21 = 1.6e40
 * is infinite in float32. The parameters stay finite (m / sqrt(inf) = 0), so the step
 * may succeed — but then the network's own model file, saved with its
 * optimizer state, must load again (or the step must be refused as
 * SWIFTMLP_ERR_NON_FINITE, leaving the state unchanged). A saved model that
 * the loader rejects breaks "save -> load -> continue training".
 */
static void test_float32_adam_step_with_overflowing_moment_keeps_the_model_loadable(void **state)
{
    (void)state;
    const size_t sizes[] = {2, 1};
    const swiftmlp_activation identity[] = {SWIFTMLP_IDENTITY};
    swiftmlp_config cfg = config_of(sizes, 2, identity, ARRAY_LEN(identity));
    cfg.dtype = SWIFTMLP_FLOAT32;
    swiftmlp_net *net = create_with(&cfg);
    const float p[3] = {1e21f, 1e21f, 0.0f}, x[2] = {1.0f, 1.0f}, y[1] = {0.0f};
    float out[1];
    assert_ok(swiftmlp_set_params(net, SWIFTMLP_FLOAT32, p, 3));
    set_default_optimizer(net, SWIFTMLP_OPT_ADAM);
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT32, x, 2, 1, out, 1));
    assert_true(isfinite(out[0]));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT32, y, 1, 1, NULL));
    swiftmlp_status s = swiftmlp_optimizer_step(net);
    print_message("    optimizer_step returned %d (%s)\n", (int)s, swiftmlp_status_string(s));
    assert_true(s == SWIFTMLP_OK || s == SWIFTMLP_ERR_NON_FINITE);
    assert_true(params_all_finite(net));

    size_t size = 0;
    unsigned char *buf = saved_bytes(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, &size);
    swiftmlp_net *back = NULL;
    swiftmlp_status loaded = swiftmlp_load_buffer(buf, size, &back);
    free(buf);
    if (loaded != SWIFTMLP_OK) {
        swiftmlp_free(net);
    }
    assert_status(loaded, SWIFTMLP_OK);
    assert_same_params(net, back);
    swiftmlp_free(back);
    swiftmlp_free(net);
}

/* ======================================================================== */
/* save_size / save_buffer                                                   */
/* ======================================================================== */

static swiftmlp_net *trained_adam_net(const spec *s)
{
    dataset d;
    make_data(s, 41, &d);
    return trained_net(s, SWIFTMLP_OPT_ADAM, 0, &d, 2);
}

static void test_save_buffer_too_small_returns_buffer_size_needed_size_and_writes_nothing(void **state)
{
    (void)state;
    swiftmlp_net *net = trained_adam_net(&k_spec64);
    for (uint32_t flags = 0; flags <= SWIFTMLP_SAVE_OPTIMIZER_STATE; flags++) {
        size_t size = 0;
        assert_ok(swiftmlp_save_size(net, flags, &size));
        assert_true(size > 8);
        unsigned char *buf = malloc(size + 16);
        assert_non_null(buf);
        const size_t caps[] = {0, 1, 8, size / 2, size - 1};
        for (size_t i = 0; i < ARRAY_LEN(caps); i++) {
            memset(buf, 0xA5, size + 16);
            size_t written = 777;
            assert_status(swiftmlp_save_buffer(net, flags, buf, caps[i], &written),
                          SWIFTMLP_ERR_BUFFER_SIZE);
            assert_last_error_set();
            assert_int_equal(written, size);
            for (size_t k = 0; k < size + 16; k++) {
                assert_int_equal(buf[k], 0xA5);
            }
            /* written may be NULL */
            assert_status(swiftmlp_save_buffer(net, flags, buf, caps[i], NULL),
                          SWIFTMLP_ERR_BUFFER_SIZE);
        }
        free(buf);
    }
    swiftmlp_free(net);
}

static void test_save_buffer_two_call_pattern_writes_exactly_save_size_bytes(void **state)
{
    (void)state;
    swiftmlp_net *net = trained_adam_net(&k_spec32);
    for (uint32_t flags = 0; flags <= SWIFTMLP_SAVE_OPTIMIZER_STATE; flags++) {
        size_t size = 0, written = 0;
        assert_ok(swiftmlp_save_size(net, flags, &size));
        unsigned char *buf = malloc(size + 64);
        assert_non_null(buf);
        memset(buf, 0xA5, size + 64);
        assert_ok(swiftmlp_save_buffer(net, flags, buf, size + 64, &written));
        assert_int_equal(written, size);
        for (size_t k = size; k < size + 64; k++) {
            assert_int_equal(buf[k], 0xA5); /* nothing past the model */
        }
        unsigned char *exact = malloc(size);
        assert_non_null(exact);
        assert_ok(swiftmlp_save_buffer(net, flags, exact, size, NULL));
        assert_memory_equal(exact, buf, size);
        /* the length prefix and the padding the header documents */
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--) {
            n = n << 8 | exact[i];
        }
        assert_true(n % 8 == 0);
        assert_true(8 + n < size);
        assert_int_equal(exact[8], '{');
        free(exact);
        free(buf);
    }
    swiftmlp_free(net);
}

static void test_save_size_with_state_adds_the_adam_moments(void **state)
{
    (void)state;
    swiftmlp_net *net = trained_adam_net(&k_spec64);
    size_t plain = 0, with_state = 0, count = 0;
    assert_ok(swiftmlp_save_size(net, SWIFTMLP_SAVE_DEFAULT, &plain));
    assert_ok(swiftmlp_save_size(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, &with_state));
    assert_ok(swiftmlp_get_param_count(net, &count));
    assert_true(with_state >= plain + 2 * count * sizeof(double));
    swiftmlp_free(net);
}

static void test_save_buffer_bytes_equal_save_file_bytes_and_load_back(void **state)
{
    FIXTURE;
    const spec *specs[] = {&k_spec64, &k_spec32};
    for (size_t i = 0; i < ARRAY_LEN(specs); i++) {
        swiftmlp_net *net = trained_adam_net(specs[i]);
        for (uint32_t flags = 0; flags <= SWIFTMLP_SAVE_OPTIMIZER_STATE; flags++) {
            size_t size = 0;
            unsigned char *buf = saved_bytes(net, flags, &size);
            assert_ok(swiftmlp_save_file(net, flags, f->path));
            assert_file_holds(f->path, buf, size);

            swiftmlp_net *b = NOT_NULL_SENTINEL;
            assert_ok(swiftmlp_load_buffer(buf, size, &b));
            assert_non_null(b);
            assert_same_params(net, b);
            assert_same_config(net, b);
            assert_same_optimizer(net, b);
            assert_true(step_count(b) == (flags ? step_count(net) : 0));
            swiftmlp_free(b);
            free(buf);
        }
        swiftmlp_free(net);
    }
}

/* A model of a network made from s, saved to path (the network is gone). */
static void save_model_of(const spec *s, const char *path)
{
    swiftmlp_net *net = make_net(s);
    assert_ok(swiftmlp_save_file(net, 0, path));
    swiftmlp_free(net);
}

static void test_saved_file_is_readable_by_mode_0644(void **state)
{
    FIXTURE;
    mode_t old_mask = umask(022); /* 0666 under the umask (test_save_atomic.c) */
    save_model_of(&k_spec64, f->path);
    umask(old_mask);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0644);
}

/* ======================================================================== */
/* writing: atomic replacement and I/O failures                              */
/* ======================================================================== */

/* save_file(net, 0, path) fails with exactly `expected`, a last_error that
 * contains `needle`, and leaves the parameters as they were. */
static void assert_save_file_fails_impl(swiftmlp_net *net, const char *path, swiftmlp_status expected,
                                        const char *needle, const char *file, int line)
{
    snapshot before = snapshot_params(net);
    assert_status_impl(swiftmlp_save_file(net, 0, path), expected, "swiftmlp_save_file", file, line);
    assert_last_error_contains_impl(needle, file, line);
    snapshot after = snapshot_params(net);
    assert_same_snapshot_impl(before, after, "parameters", file, line);
    snapshot_free(&before);
    snapshot_free(&after);
}
#define assert_save_file_fails(net, path, expected, needle) \
    assert_save_file_fails_impl((net), (path), (expected), (needle), __FILE__, __LINE__)

/* A float64 network saved to f->path, then a float32 one through `path`
 * (f->path, or a link to it): f->path then holds the second network's
 * bytes (its config and parameters load back) and no temporary file is
 * left beside it. */
static void check_second_save_replaces_the_first(const fixture *f, const char *path)
{
    swiftmlp_net *first = make_net(&k_spec64);
    swiftmlp_net *second = make_net(&k_spec32);
    assert_ok(swiftmlp_save_file(first, 0, f->path));
    assert_ok(swiftmlp_save_file(second, 0, path));
    swiftmlp_net *loaded = load_path(f->path);
    assert_same_config(second, loaded);
    assert_same_params(second, loaded);
    size_t size = 0;
    unsigned char *buf = saved_bytes(second, 0, &size);
    assert_file_holds(f->path, buf, size);
    assert_int_equal(count_entries_with_prefix(f->dir, ".model.safetensors.swiftmlp-"), 0);
    free(buf);
    swiftmlp_free(loaded);
    swiftmlp_free(first);
    swiftmlp_free(second);
}

static void test_save_through_a_symlink_replaces_the_target_and_keeps_the_link(void **state)
{
    FIXTURE;
    char link_path[4096];
    snprintf(link_path, sizeof link_path, "%s/link.safetensors", f->dir);
    assert_int_equal(symlink(f->path, link_path), 0);
    check_second_save_replaces_the_first(f, link_path);
    struct stat st;
    assert_int_equal(lstat(link_path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    unlink(link_path);
}

static void test_save_over_existing_model_replaces_its_content(void **state)
{
    FIXTURE;
    check_second_save_replaces_the_first(f, f->path);
}

static void test_save_with_a_bare_file_name_writes_into_the_current_directory(void **state)
{
    FIXTURE;
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    swiftmlp_net *net = make_net(&k_spec64);
    swiftmlp_status s = swiftmlp_save_file(net, 0, "bare.safetensors");
    swiftmlp_net *b = NULL;
    swiftmlp_status l = swiftmlp_load_file("bare.safetensors", &b);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(s, SWIFTMLP_OK);
    assert_int_equal(l, SWIFTMLP_OK);
    assert_same_params(net, b);
    swiftmlp_free(b);
    swiftmlp_free(net);
}

static void test_save_to_dev_full_returns_io_and_leaves_the_device_alone(void **state)
{
    (void)state;
    struct stat st;
    if (stat("/dev/full", &st) != 0) {
        skip();
    }
    assert_true(S_ISCHR(st.st_mode));
    swiftmlp_net *net = make_net(&k_spec64);
    assert_save_file_fails(net, "/dev/full", SWIFTMLP_ERR_IO, "/dev/full");
    assert_int_equal(stat("/dev/full", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(count_entries_with_prefix("/dev", ".full.swiftmlp-"), 0);
    swiftmlp_free(net);
}

static void test_save_to_a_directory_path_returns_io(void **state)
{
    FIXTURE;
    swiftmlp_net *net = make_net(&k_spec64);
    assert_save_file_fails(net, f->dir, SWIFTMLP_ERR_IO, "not a regular file");
    struct stat st;
    assert_int_equal(stat(f->dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    swiftmlp_free(net);
}

static void test_save_into_missing_directory_returns_io(void **state)
{
    FIXTURE;
    char path[1400];
    snprintf(path, sizeof path, "%s/no-such-dir/model.safetensors", f->dir);
    swiftmlp_net *net = make_net(&k_spec64);
    assert_save_file_fails(net, path, SWIFTMLP_ERR_IO, "no such file or directory");
    char missing[1400];
    snprintf(missing, sizeof missing, "%s/no-such-dir", f->dir);
    struct stat st;
    assert_int_not_equal(stat(missing, &st), 0);
    swiftmlp_free(net);
}

/* save_file(net, 0, path), or load_file(path) when net is NULL, run in a
 * child process without root privileges: the call's status, where the
 * child has checked that a failure gives a message naming "permission
 * denied" and (a load) sets its out-parameter to NULL. */
static int unprivileged_status(const swiftmlp_net *net, const char *path, const char *what)
{
    pid_t pid = fork_child();
    if (pid == 0) {
        child_drop_privileges();
        swiftmlp_net *out = NOT_NULL_SENTINEL;
        swiftmlp_status s = net != NULL ? swiftmlp_save_file(net, 0, path) : swiftmlp_load_file(path, &out);
        if (s != SWIFTMLP_OK && net == NULL && out != NULL) {
            _exit(CHILD_OUT_NOT_NULL);
        }
        if (s != SWIFTMLP_OK && swiftmlp_last_error()[0] == '\0') {
            _exit(CHILD_EMPTY_LAST_ERROR);
        }
        if (s != SWIFTMLP_OK && strstr(swiftmlp_last_error(), "permission denied") == NULL) {
            _exit(CHILD_WRONG_MESSAGE);
        }
        _exit((int)s);
    }
    return wait_child_exit_code(pid, what);
}

static void test_save_into_read_only_directory_returns_io_and_keeps_the_old_file(void **state)
{
    FIXTURE;
    char ro[1100], path[1200];
    snprintf(ro, sizeof ro, "%s/ro", f->dir);
    snprintf(path, sizeof path, "%s/model.safetensors", ro);
    assert_int_equal(mkdir(ro, 0755), 0);

    /* the old model, readable by everyone */
    swiftmlp_net *old_net = make_net(&k_spec32);
    assert_ok(swiftmlp_save_file(old_net, 0, path));
    size_t old_len = 0;
    unsigned char *old_bytes = read_whole_file(path, &old_len);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(chmod(ro, 0555), 0);

    swiftmlp_net *new_net = make_net(&k_spec64);
    int code = unprivileged_status(new_net, path, "save into a read-only directory");
    assert_int_equal(chmod(ro, 0755), 0);
    assert_int_equal(code, SWIFTMLP_ERR_IO);

    assert_file_holds(path, old_bytes, old_len);
    assert_int_equal(count_entries_with_prefix(ro, ".model.safetensors.swiftmlp-"), 0);
    swiftmlp_net *loaded = load_path(path);
    assert_same_params(old_net, loaded);
    swiftmlp_free(loaded);
    free(old_bytes);
    swiftmlp_free(old_net);
    swiftmlp_free(new_net);
}

/* ======================================================================== */
/* reading: I/O failures (the plain ones are rows of the bad-input table)    */
/* ======================================================================== */

static void test_load_unreadable_file_returns_io(void **state)
{
    FIXTURE;
    save_model_of(&k_spec64, f->path);
    assert_int_equal(chmod(f->path, 0000), 0);
    int code = unprivileged_status(NULL, f->path, "load an unreadable file");
    assert_int_equal(chmod(f->path, 0644), 0);
    assert_int_equal(code, SWIFTMLP_ERR_IO);
}

/* ======================================================================== */
/* bad input: a table (test_util.h's bad_suite driver)                       */
/* ======================================================================== */

/* Every row also leaves the network unchanged, writes nothing into the
 * fixture's buffer, creates no file in the directory (unless its prep saved
 * the model first), and a load row sets its out-parameter to NULL. */
typedef struct io_fixture {
    fixture dir;               /* the private directory and its model path */
    swiftmlp_net *net;         /* k_spec64 */
    unsigned char buf[8192];   /* 0xA5 unless a row's prep saved into it */
    size_t size, saved;        /* an out-parameter; bytes saved into buf */
    swiftmlp_net *out;         /* a load's out-parameter, NOT_NULL_SENTINEL */
    int load, file_saved;      /* the row loads into out; its prep saved a file */
    char missing[1400];        /* dir/missing.safetensors */
} io_fixture;

static int io_init(io_fixture *f)
{
    dir_init(&f->dir);
    snprintf(f->missing, sizeof f->missing, "%s/missing.safetensors", f->dir.dir);
    f->net = make_net(&k_spec64);
    memset(f->buf, 0xA5, sizeof f->buf);
    f->out = NOT_NULL_SENTINEL;
    return 0;
}

static void io_fini(io_fixture *f)
{
    dir_fini(&f->dir);
    swiftmlp_free(f->net);
}

FIXTURE_FUNCTIONS(io_fixture, io_setup, io_teardown, io_init, io_fini)

static swiftmlp_net *io_net(void *f) { return ((io_fixture *)f)->net; }

static void io_unchanged(void *fv, const char *name)
{
    io_fixture *f = fv;
    for (size_t k = f->saved; k < sizeof f->buf; k++) {
        if (f->buf[k] != 0xA5) {
            print_error("%s: byte %zu of the buffer was written\n", name, k);
            fail();
        }
    }
    if (!f->file_saved && count_entries_with_prefix(f->dir.dir, "model") != 0) {
        print_error("%s: a file was created\n", name);
        fail();
    }
    if (f->load && f->out != NULL) {
        print_error("%s: the out-parameter was not set to NULL\n", name);
        fail();
    }
}

static const bad_suite k_io_suite = {io_setup, io_teardown, io_net, io_unchanged};

/* Preps: save the model into buf, or into the fixture's path. */
static void save_into_buf(io_fixture *f)
{
    assert_ok(swiftmlp_save_size(f->net, 0, &f->saved));
    assert_true(f->saved <= sizeof f->buf);
    assert_ok(swiftmlp_save_buffer(f->net, 0, f->buf, f->saved, NULL));
}

static void save_into_path(io_fixture *f)
{
    assert_ok(swiftmlp_save_file(f->net, 0, f->dir.path));
    f->file_saved = 1;
}

#define BAD_CTX io_fixture
#define PATH f->dir.path
#define LOAD_FILE(path) (f->load = 1, swiftmlp_load_file((path), &f->out))
#define LOAD_BUFFER(buf, len) (f->load = 1, swiftmlp_load_buffer((buf), (len), &f->out))
/* /dev/zero never ends: a reader that does not check the file type hangs. */
#define IO_CASES(X)                                                                                     \
    X(save_size_null_net, E_NULL, NULL, (void)0, swiftmlp_save_size(NULL, 0, &f->size))                 \
    X(save_size_null_size, E_NULL, NULL, (void)0, swiftmlp_save_size(f->net, 0, NULL))                  \
    X(save_size_flag_2, E_ARG, NULL, (void)0, swiftmlp_save_size(f->net, 2, &f->size))                  \
    X(save_size_flag_3, E_ARG, NULL, (void)0, swiftmlp_save_size(f->net, 3, &f->size))                  \
    X(save_size_flag_bit_31, E_ARG, NULL, (void)0, swiftmlp_save_size(f->net, 0x80000000u, &f->size))   \
    X(save_size_all_flag_bits, E_ARG, NULL, (void)0, swiftmlp_save_size(f->net, 0xFFFFFFFFu, &f->size)) \
    X(save_buffer_null_net, E_NULL, NULL, (void)0, swiftmlp_save_buffer(NULL, 0, f->buf, 16, NULL))     \
    X(save_buffer_null_buf, E_NULL, NULL, (void)0, swiftmlp_save_buffer(f->net, 0, NULL, 100000, &f->size)) \
    X(save_buffer_unknown_flag_bits, E_ARG, NULL, (void)0,                                              \
      swiftmlp_save_buffer(f->net, 4, f->buf, sizeof f->buf, NULL))                                     \
    X(save_file_null_net, E_NULL, NULL, (void)0, swiftmlp_save_file(NULL, 0, PATH))                     \
    X(save_file_null_path, E_NULL, NULL, (void)0, swiftmlp_save_file(f->net, 0, NULL))                  \
    X(save_file_empty_path, E_ARG, NULL, (void)0, swiftmlp_save_file(f->net, 0, ""))                    \
    X(save_file_unknown_flag_bits, E_ARG, NULL, (void)0, swiftmlp_save_file(f->net, 0x10, PATH))        \
    X(load_buffer_null_buf, E_NULL, NULL, (void)0, LOAD_BUFFER(NULL, 100))                              \
    X(load_buffer_null_buf_len_0, E_NULL, NULL, (void)0, LOAD_BUFFER(NULL, 0))                          \
    X(load_buffer_null_out, E_NULL, NULL, save_into_buf(f), swiftmlp_load_buffer(f->buf, f->saved, NULL)) \
    X(load_file_null_path, E_NULL, NULL, (void)0, LOAD_FILE(NULL))                                      \
    X(load_file_null_out, E_NULL, NULL, save_into_path(f), swiftmlp_load_file(PATH, NULL))              \
    X(load_missing_file, SWIFTMLP_ERR_IO, "no such file or directory", (void)0, LOAD_FILE(f->missing))  \
    X(load_directory, SWIFTMLP_ERR_IO, "directory", (void)0, LOAD_FILE(f->dir.dir))                     \
    X(load_character_device, SWIFTMLP_ERR_IO, "not a regular file", (void)0, LOAD_FILE("/dev/zero"))    \
    X(load_empty_path, E_ARG, "path is empty", (void)0, LOAD_FILE(""))

BAD_ANY_TABLE(k_io_cases, IO_CASES);

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        /* round trips */
        T(test_save_file_load_file_float64_gives_identical_params_config_and_optimizer),
        T(test_save_file_load_file_float32_gives_identical_params_config_and_optimizer),
        T(test_fresh_network_without_optimizer_round_trips_without_optimizer),
        T(test_every_optimizer_kind_round_trips_its_hyperparameters),
        /* resuming */
        T(test_adam_float64_training_resumes_bit_identically_after_save_with_state),
        T(test_adamw_float32_training_resumes_bit_identically_after_save_with_state),
        T(test_sgd_nesterov_momentum_training_resumes_bit_identically_after_save_with_state),
        T(test_plain_sgd_float32_training_resumes_bit_identically_after_save_with_state),
        T(test_fit_float64_resumes_bit_identically_after_save_with_state),
        T(test_fit_float32_resumes_bit_identically_after_save_with_state),
        T(test_save_without_state_keeps_hyperparameters_but_restarts_the_optimizer),
        T(test_float32_adam_step_with_overflowing_moment_keeps_the_model_loadable),
        /* buffers */
        T(test_save_buffer_too_small_returns_buffer_size_needed_size_and_writes_nothing),
        T(test_save_buffer_two_call_pattern_writes_exactly_save_size_bytes),
        T(test_save_size_with_state_adds_the_adam_moments),
        T(test_save_buffer_bytes_equal_save_file_bytes_and_load_back),
        T(test_saved_file_is_readable_by_mode_0644),
        /* writing */
        T(test_save_over_existing_model_replaces_its_content),
        T(test_save_with_a_bare_file_name_writes_into_the_current_directory),
        T(test_save_to_dev_full_returns_io_and_leaves_the_device_alone),
        T(test_save_to_a_directory_path_returns_io),
        T(test_save_into_missing_directory_returns_io),
        T(test_save_into_read_only_directory_returns_io_and_keeps_the_old_file),
        /* reading */
        T(test_save_through_a_symlink_replaces_the_target_and_keeps_the_link),
        T(test_load_unreadable_file_returns_io),
        /* bad input */
        BAD_SUITE_TEST(k_io_suite, k_io_cases),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
