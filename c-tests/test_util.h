/*
 * test_util.h — helpers shared by the swiftmlp cmocka tests.
 *
 * cmocka 1.1.5's assert_float_equal compares as float, which is far too
 * coarse for the float64 checks, so assert_close() compares doubles and
 * prints both values and their difference on failure.
 */
#ifndef SWIFTMLP_TEST_UTIL_H
#define SWIFTMLP_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftmlp.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A handle value that no successful call returns: load/create must
 * overwrite it with NULL on failure. */
static inline swiftmlp_net *not_null_sentinel(void)
{
    static int sentinel;
    return (swiftmlp_net *)(void *)&sentinel;
}
#define NOT_NULL_SENTINEL (not_null_sentinel())

/* ---- double-precision comparison -------------------------------------- */

/*
 * Passes when |a - b| <= atol + rtol * |b| (b is the expected value).
 * NaN never passes; equal infinities pass.
 */
static inline void assert_close_impl(double a, double b, double rtol, double atol,
                                     const char *a_text, const char *b_text,
                                     const char *file, int line)
{
    if (a == b) {
        return; /* also covers equal infinities */
    }
    double diff = fabs(a - b);
    double allowed = atol + rtol * fabs(b);
    if (!(diff <= allowed)) { /* written this way so NaN fails */
        print_error("assert_close failed: %s = %.17g, %s = %.17g, |diff| = %.6g > "
                    "atol %.3g + rtol %.3g * |expected| = %.6g\n",
                    a_text, a, b_text, b, diff, atol, rtol, allowed);
        _fail(file, line);
    }
}

#define assert_close(a, b, rtol, atol) \
    assert_close_impl((double)(a), (double)(b), (rtol), (atol), #a, #b, __FILE__, __LINE__)

/* ---- status checks ----------------------------------------------------- */

static inline void assert_status_impl(swiftmlp_status got, swiftmlp_status expected,
                                      const char *call, const char *file, int line)
{
    if (got != expected) {
        print_error("%s\n    returned %d (%s), expected %d (%s); last_error: \"%s\"\n",
                    call, (int)got, swiftmlp_status_string(got), (int)expected,
                    swiftmlp_status_string(expected), swiftmlp_last_error());
        _fail(file, line);
    }
}

/* Evaluate a swiftmlp call and check its exact status. */
#define assert_status(call, expected) \
    assert_status_impl((call), (expected), #call, __FILE__, __LINE__)
#define assert_ok(call) assert_status((call), SWIFTMLP_OK)

/* swiftmlp_last_error() must be non-NULL and non-empty (after a failure). */
#define assert_last_error_set()                                          \
    do {                                                                 \
        const char *msg_ = swiftmlp_last_error();                        \
        assert_non_null(msg_);                                           \
        if (msg_[0] == '\0') {                                           \
            print_error("swiftmlp_last_error() is empty after a failed call\n"); \
            _fail(__FILE__, __LINE__);                                   \
        }                                                                \
    } while (0)

/* swiftmlp_last_error() must be "" (after a success). */
#define assert_last_error_empty()                                        \
    do {                                                                 \
        const char *msg_ = swiftmlp_last_error();                        \
        assert_non_null(msg_);                                           \
        if (msg_[0] != '\0') {                                           \
            print_error("swiftmlp_last_error() is \"%s\" after a successful call\n", msg_); \
            _fail(__FILE__, __LINE__);                                   \
        }                                                                \
    } while (0)

/* ---- snapshots of a network's parameters / gradients ------------------- */

static inline size_t dtype_size(swiftmlp_dtype dtype)
{
    return dtype == SWIFTMLP_FLOAT32 ? sizeof(float) : sizeof(double);
}

/* A test that is one call of a shared check (one row of a test list). */
#define TEST_CALLING(test, call) \
    static void test(void **state) \
    {                              \
        (void)state;               \
        call;                      \
    }

/* The cmocka setup and teardown functions of a fixture type T: setup
 * allocates a zeroed T and returns init(T *) (0: ready); teardown runs
 * fini(T *) and frees it. */
#define FIXTURE_FUNCTIONS(T, setup, teardown, init, fini) \
    static int setup(void **state)                        \
    {                                                     \
        T *f_ = calloc(1, sizeof *f_);                    \
        *state = f_;                                      \
        return f_ == NULL ? -1 : init(f_);                \
    }                                                     \
    static int teardown(void **state)                     \
    {                                                     \
        fini(*state);                                     \
        free(*state);                                     \
        return 0;                                         \
    }

/* Two tests, f64_test and f32_test, that run check(dtype) for float64 and
 * float32: one parametrised body serves both dtypes. */
#define DTYPE_TESTS(f64_test, f32_test, check)   \
    static void f64_test(void **state)           \
    {                                            \
        (void)state;                             \
        check(SWIFTMLP_FLOAT64);                 \
    }                                            \
    static void f32_test(void **state)           \
    {                                            \
        (void)state;                             \
        check(SWIFTMLP_FLOAT32);                 \
    }

/* ---- values in either dtype ------------------------------------------ */

enum { DTYPE_BUF_LEN = 64 };

/* Up to DTYPE_BUF_LEN elements of one dtype, to pass to the API. */
typedef struct dtype_buf {
    union {
        double f64[DTYPE_BUF_LEN];
        float f32[DTYPE_BUF_LEN];
    }; /* .f64 is the buffer's address for either dtype */
} dtype_buf;

/* src[0..n) converted to dtype in buf; returns the elements. */
static inline void *as_dtype(swiftmlp_dtype dtype, const double *src, size_t n, dtype_buf *buf)
{
    assert_true(n <= DTYPE_BUF_LEN);
    for (size_t i = 0; i < n; i++) {
        if (dtype == SWIFTMLP_FLOAT32) {
            buf->f32[i] = (float)src[i];
        } else {
            buf->f64[i] = src[i];
        }
    }
    return buf->f64;
}

/* Element i of buf, read as dtype. */
static inline double dtype_buf_at(swiftmlp_dtype dtype, const dtype_buf *buf, size_t i)
{
    return dtype == SWIFTMLP_FLOAT32 ? (double)buf->f32[i] : buf->f64[i];
}

/* buf[0..n) (of dtype) within atol of expected[0..n). */
#define assert_dtype_buf_close(dtype, buf, expected, n, atol)          \
    do {                                                               \
        for (size_t i_ = 0; i_ < (n); i_++) {                          \
            assert_close(dtype_buf_at((dtype), (buf), i_), (expected)[i_], 0, (atol)); \
        }                                                              \
    } while (0)

typedef struct snapshot {
    void *data;    /* NULL when not taken */
    size_t bytes;
} snapshot;

typedef swiftmlp_status (*flat_getter)(const swiftmlp_net *net, swiftmlp_dtype dtype, void *out,
                                       size_t out_cap);

/* What get (get_params or get_grads) gives for net, as raw bytes of the
 * network's own dtype, and get's status in *status (the bytes are zero
 * when it failed). */
static inline snapshot snapshot_with(const swiftmlp_net *net, flat_getter get, swiftmlp_status *status)
{
    snapshot s = {NULL, 0};
    swiftmlp_dtype dtype;
    size_t count = 0;
    assert_ok(swiftmlp_get_dtype(net, &dtype));
    assert_ok(swiftmlp_get_param_count(net, &count));
    s.bytes = count * dtype_size(dtype);
    s.data = calloc(1, s.bytes);
    assert_non_null(s.data);
    *status = get(net, dtype, s.data, count);
    if (*status != SWIFTMLP_OK) {
        memset(s.data, 0, s.bytes);
    }
    return s;
}

/* All parameters of net as raw bytes (of the network's own dtype). */
static inline snapshot snapshot_params(const swiftmlp_net *net)
{
    swiftmlp_status status;
    snapshot s = snapshot_with(net, swiftmlp_get_params, &status);
    assert_ok(status);
    return s;
}

/* All gradients of net as raw bytes (a backward must have run). */
static inline snapshot snapshot_grads(const swiftmlp_net *net)
{
    swiftmlp_status status;
    snapshot s = snapshot_with(net, swiftmlp_get_grads, &status);
    assert_ok(status);
    return s;
}

static inline void assert_same_snapshot_impl(snapshot before, snapshot after, const char *what,
                                             const char *file, int line)
{
    if (before.bytes != after.bytes || memcmp(before.data, after.data, before.bytes) != 0) {
        print_error("%s changed by a call that should have left them untouched\n", what);
        _fail(file, line);
    }
}
#define assert_same_snapshot(before, after, what) \
    assert_same_snapshot_impl((before), (after), (what), __FILE__, __LINE__)

static inline void snapshot_free(snapshot *s)
{
    free(s->data);
    s->data = NULL;
    s->bytes = 0;
}

static inline void assert_params_still_impl(const swiftmlp_net *net, snapshot *before, const char *what,
                                            const char *file, int line)
{
    snapshot after = snapshot_params(net);
    assert_same_snapshot_impl(*before, after, what, file, line);
    snapshot_free(before);
    snapshot_free(&after);
}
/* net's parameters are still the snapshot `before` (which this frees). */
#define assert_params_still(net, before, what) \
    assert_params_still_impl((net), &(before), (what), __FILE__, __LINE__)

static inline void assert_same_params_and_free_impl(swiftmlp_net *a, swiftmlp_net *b, const char *what,
                                                    const char *file, int line)
{
    snapshot pa = snapshot_params(a), pb = snapshot_params(b);
    assert_same_snapshot_impl(pa, pb, what, file, line);
    snapshot_free(&pa);
    snapshot_free(&pb);
    swiftmlp_free(a);
    swiftmlp_free(b);
}
/* a and b hold bit-identical parameters; frees both networks. */
#define assert_same_params_and_free(a, b, what) \
    assert_same_params_and_free_impl((a), (b), (what), __FILE__, __LINE__)

/* malloc(bytes), failing the test where it returns NULL. */
static inline void *malloc_or_fail(size_t bytes)
{
    void *p = malloc(bytes);
    assert_non_null(p);
    return p;
}

static inline void assert_params_differ_impl(const swiftmlp_net *a, const swiftmlp_net *b,
                                             const char *file, int line)
{
    snapshot pa = snapshot_params(a), pb = snapshot_params(b);
    if (pa.bytes == pb.bytes && memcmp(pa.data, pb.data, pa.bytes) == 0) {
        print_error("parameters are bit-identical where they should differ\n");
        _fail(file, line);
    }
    snapshot_free(&pa);
    snapshot_free(&pb);
}
/* a and b hold parameters that differ in at least one byte. */
#define assert_params_differ(a, b) assert_params_differ_impl((a), (b), __FILE__, __LINE__)

/* net (float64, n parameters) took one plain SGD step with lr from the
 * parameters p and gradients g: its parameters are exactly p[i] - lr * g[i]. */
static inline void assert_params_are_sgd_step(const swiftmlp_net *net, const double *p, const double *g,
                                              double lr, size_t n)
{
    double *got = malloc_or_fail(n * sizeof *got);
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, got, n));
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++) {
        bad = got[i] == p[i] - lr * g[i] ? n : i;
    }
    const double value = bad < n ? got[bad] : 0.0;
    free(got);
    if (bad < n) {
        print_error("parameter %zu is %.17g, not p - lr g = %.17g\n", bad, value, p[bad] - lr * g[bad]);
        fail();
    }
}

/*
 * Run `call`, which must fail with exactly `expected`, must set a non-empty
 * last_error, and must leave net's parameters bit-identical.
 */
#define assert_fails_unchanged(net, call, expected)                         \
    do {                                                                    \
        snapshot before_ = snapshot_params(net);                            \
        assert_status((call), (expected));                                  \
        assert_last_error_set();                                            \
        snapshot after_ = snapshot_params(net);                             \
        assert_same_snapshot(before_, after_, "parameters");                \
        snapshot_free(&before_);                                            \
        snapshot_free(&after_);                                             \
    } while (0)

/* var (a struct with a struct_size field) filled with garbage, then by
 * fill(&var), which must succeed without a message and set struct_size to
 * sizeof var: the caller then checks each field's default. */
#define FILL_DEFAULTS(var, fill)                                            \
    do {                                                                    \
        memset(&(var), 0xA5, sizeof(var));                                  \
        assert_ok(fill(&(var)));                                            \
        assert_last_error_empty();                                          \
        assert_int_equal((var).struct_size, sizeof(var));                   \
    } while (0)

/* Run `call`, which must succeed and leave net's parameters bit-identical. */
#define assert_ok_keeps_params(net, call)                                   \
    do {                                                                    \
        snapshot before_ = snapshot_params(net);                            \
        assert_ok(call);                                                    \
        assert_params_still((net), before_, "parameters");                  \
    } while (0)

/* For calls without a network (create, NULL handles). */
#define assert_fails(call, expected)                                        \
    do {                                                                    \
        assert_status((call), (expected));                                  \
        assert_last_error_set();                                            \
    } while (0)

/* ---- deterministic test data ------------------------------------------- */

/* SplitMix64 (the generator the header documents for initialisation). */
static inline uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* u in [0, 1) with 53 random bits. */
static inline double splitmix64_unit(uint64_t *state)
{
    return (double)(splitmix64_next(state) >> 11) * 0x1.0p-53;
}

/* Uniform in [lo, hi). */
static inline double rand_uniform(uint64_t *state, double lo, double hi)
{
    return lo + (hi - lo) * splitmix64_unit(state);
}

/* f[i] = d[i] rounded to float, for i < n. */
static inline void round_to_float(const double *d, float *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        f[i] = (float)d[i];
    }
}

/* n draws uniform in [lo, hi) into d, and each one rounded to float into f. */
static inline void rand_uniform_both(uint64_t *state, double lo, double hi, double *d, float *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        d[i] = rand_uniform(state, lo, hi);
    }
    round_to_float(d, f, n);
}

/* Convenience: create a network and fail the test if that fails. */
/* Give net the default optimizer of kind. */
static inline void set_default_optimizer(swiftmlp_net *net, swiftmlp_optimizer_kind kind)
{
    swiftmlp_optimizer o;
    assert_ok(swiftmlp_optimizer_default(kind, &o));
    assert_ok(swiftmlp_set_optimizer(net, &o));
}

/* The default config with these sizes (the struct is filled with garbage
 * first, so that a field swiftmlp_config_default leaves unset shows). */
static inline swiftmlp_config config_sized(const size_t *sizes, size_t n_sizes)
{
    swiftmlp_config c;
    memset(&c, 0xA5, sizeof c);
    assert_ok(swiftmlp_config_default(&c));
    c.sizes = sizes;
    c.n_sizes = n_sizes;
    return c;
}

/* The default config with these sizes and activations. */
static inline swiftmlp_config config_of(const size_t *sizes, size_t n_sizes,
                                        const swiftmlp_activation *acts, size_t n_acts)
{
    swiftmlp_config c = config_sized(sizes, n_sizes);
    c.activations = acts;
    c.n_activations = n_acts;
    return c;
}

static inline swiftmlp_net *create_net(const size_t *sizes, size_t n_sizes, swiftmlp_dtype dtype,
                                       uint64_t seed)
{
    swiftmlp_net *net = NULL;
    assert_ok(swiftmlp_create(sizes, n_sizes, dtype, seed, &net));
    assert_non_null(net);
    return net;
}

/* A network created from c; fails the test unless that succeeds (with a
 * network and an empty last_error). */
static inline swiftmlp_net *create_with(const swiftmlp_config *c)
{
    swiftmlp_net *net = NULL;
    assert_ok(swiftmlp_create_with_config(c, &net));
    assert_non_null(net);
    assert_last_error_empty();
    return net;
}

/* A float64 [3, 4, 2] network initialised from seed. */
static inline swiftmlp_net *small_net(uint64_t seed)
{
    static const size_t sizes[] = {3, 4, 2};
    return create_net(sizes, 3, SWIFTMLP_FLOAT64, seed);
}

/* net's optimizer step count, layer count and parameter count; each call
 * must succeed. */
static inline uint64_t step_count(const swiftmlp_net *net)
{
    uint64_t t = 12345;
    assert_ok(swiftmlp_get_step_count(net, &t));
    return t;
}

static inline size_t layer_count(const swiftmlp_net *net)
{
    size_t n = 12345;
    assert_ok(swiftmlp_get_layer_count(net, &n));
    return n;
}

static inline size_t param_count(const swiftmlp_net *net)
{
    size_t n = 12345;
    assert_ok(swiftmlp_get_param_count(net, &n));
    return n;
}

/* A new network loaded from net's model bytes (save_size, save_buffer,
 * load_buffer, without the optimizer state); fails the test if any fails. */
static inline swiftmlp_net *reload_via_buffer(const swiftmlp_net *net)
{
    size_t size = 0;
    assert_ok(swiftmlp_save_size(net, 0, &size));
    unsigned char *buf = malloc(size);
    assert_non_null(buf);
    assert_ok(swiftmlp_save_buffer(net, 0, buf, size, NULL));
    swiftmlp_net *loaded = NULL;
    assert_ok(swiftmlp_load_buffer(buf, size, &loaded));
    free(buf);
    return loaded;
}


/* ---- the small fixture ---------------------------------------------------
 * net   float64 [3, 4, 2]  (W0 4x3, b0 4, W1 2x4, b1 2: 26 parameters)
 * net32 float32 [3, 4, 2], both seed FX_SEED
 * x/y   a batch of FX_B = 5 rows in both element types; p, w0/b0 valid
 *       values for set_params / set_layer of layer 0; every value is a
 *       float, so both networks see the same numbers.
 * Used with cmocka_unit_test_setup_teardown(test, fixture_setup,
 * fixture_teardown) and FX_FIXTURE in the test.                                */
enum {
    FX_N0 = 3, FX_N1 = 4, FX_N2 = 2, FX_B = 5, FX_SEED = 7,
    FX_NPARAMS = FX_N1 * FX_N0 + FX_N1 + FX_N2 * FX_N1 + FX_N2,
    FX_XLEN = FX_B * FX_N0, FX_YLEN = FX_B * FX_N2, FX_W0LEN = FX_N1 * FX_N0,
};
#define FX_LOSS_SENTINEL (-12345.0)

typedef struct fx {
    swiftmlp_net *net, *net32;
    double x[FX_XLEN], y[FX_YLEN], out[FX_YLEN];
    float x32[FX_XLEN], y32[FX_YLEN], out32[FX_YLEN];
    double p[FX_NPARAMS];
    float p32[FX_NPARAMS];
    double w0[FX_W0LEN], b0[FX_N1];
    float w0_32[FX_W0LEN], b0_32[FX_N1];
    double loss;           /* FX_LOSS_SENTINEL: a loss out-parameter to pass */
    swiftmlp_net *created; /* NOT_NULL_SENTINEL: a create/load out-parameter */
    double scratch[FX_NPARAMS + 1]; /* fx_with / fx_with32 copies; out buffers */
    float scratch32[FX_NPARAMS + 1];
    size_t n, n2, sizes[FX_NPARAMS];  /* size_t out-parameters */
    swiftmlp_gradcheck gc;
} fx;

#define FX_FIXTURE fx *f = *state

static inline int fixture_create(swiftmlp_dtype dtype, swiftmlp_net **out)
{
    const size_t sizes[] = {FX_N0, FX_N1, FX_N2};
    return swiftmlp_create(sizes, 3, dtype, FX_SEED, out) == SWIFTMLP_OK ? 0 : -1;
}

static inline int fixture_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (f == NULL || fixture_create(SWIFTMLP_FLOAT64, &f->net) != 0 ||
        fixture_create(SWIFTMLP_FLOAT32, &f->net32) != 0) {
        return -1;
    }
    uint64_t rng = 1;
    for (size_t i = 0; i < FX_XLEN; i++) {
        f->x32[i] = (float)rand_uniform(&rng, -2, 2);
        f->x[i] = f->x32[i];
    }
    for (size_t i = 0; i < FX_YLEN; i++) {
        f->y32[i] = (float)rand_uniform(&rng, 0, 1);
        f->y[i] = f->y32[i];
    }
    for (size_t i = 0; i < FX_NPARAMS; i++) {
        f->p32[i] = (float)rand_uniform(&rng, -1, 1);
        f->p[i] = f->p32[i];
    }
    for (size_t i = 0; i < FX_W0LEN; i++) {
        f->w0_32[i] = (float)rand_uniform(&rng, -1, 1);
        f->w0[i] = f->w0_32[i];
    }
    for (size_t i = 0; i < FX_N1; i++) {
        f->b0_32[i] = (float)rand_uniform(&rng, -1, 1);
        f->b0[i] = f->b0_32[i];
    }
    f->loss = FX_LOSS_SENTINEL;
    f->created = NOT_NULL_SENTINEL;
    *state = f;
    return 0;
}

static inline int fixture_teardown(void **state)
{
    fx *f = *state;
    swiftmlp_free(f->net);
    swiftmlp_free(f->net32);
    if (f->created != NOT_NULL_SENTINEL) {
        swiftmlp_free(f->created);
    }
    free(f);
    return 0;
}

/* A copy of src[0 .. n) in f->scratch with element `at` (which may be n:
 * one element more) set to v. */
static inline const double *fx_with(fx *f, const double *src, size_t n, size_t at, double v)
{
    memcpy(f->scratch, src, n * sizeof *src);
    f->scratch[at] = v;
    return f->scratch;
}

static inline const float *fx_with32(fx *f, const float *src, size_t n, size_t at, float v)
{
    memcpy(f->scratch32, src, n * sizeof *src);
    f->scratch32[at] = v;
    return f->scratch32;
}

/* forward (batch FX_B) on net, of net's own dtype, from the fixture's x. */
static inline int is_float32(const swiftmlp_net *net)
{
    swiftmlp_dtype dtype = SWIFTMLP_FLOAT64;
    assert_ok(swiftmlp_get_dtype(net, &dtype));
    return dtype == SWIFTMLP_FLOAT32;
}

static inline void fixture_forward(fx *f, swiftmlp_net *net)
{
    if (is_float32(net)) {
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT32, f->x32, FX_XLEN, FX_B, f->out32, FX_YLEN));
    } else {
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, f->x, FX_XLEN, FX_B, f->out, FX_YLEN));
    }
}

static inline void fixture_backward(fx *f, swiftmlp_net *net)
{
    if (is_float32(net)) {
        assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT32, f->y32, FX_YLEN, FX_B, NULL));
    } else {
        assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, f->y, FX_YLEN, FX_B, NULL));
    }
}

/*
 * net (the fixture's net or net32, its parameters untouched since creation)
 * holds the cache of a forward of the fixture's batch: a backward now must
 * succeed and give exactly the loss and gradients of a fresh, identically
 * seeded network after one forward + backward of that batch.
 */
static inline void assert_backward_matches_fresh(fx *f, swiftmlp_net *net)
{
    const int is32 = is_float32(net);
    swiftmlp_dtype dtype = is32 ? SWIFTMLP_FLOAT32 : SWIFTMLP_FLOAT64;
    swiftmlp_net *ref = NULL;
    assert_int_equal(fixture_create(dtype, &ref), 0);
    fixture_forward(f, ref);
    double ref_loss = 0, loss = -1;
    const void *y = is32 ? (const void *)f->y32 : (const void *)f->y;
    assert_ok(swiftmlp_backward(ref, dtype, y, FX_YLEN, FX_B, &ref_loss));
    assert_ok(swiftmlp_backward(net, dtype, y, FX_YLEN, FX_B, &loss));
    snapshot want = snapshot_grads(ref), got = snapshot_grads(net);
    assert_true(loss == ref_loss);
    assert_same_snapshot(want, got, "gradients after the failed calls (vs a fresh network)");
    snapshot_free(&want);
    snapshot_free(&got);
    swiftmlp_free(ref);
}

/* ---- bad-input tables ----------------------------------------------------
 * A row names one failing call on the fixture, the state the fixture's
 * network is brought to first, and the exact status (and, where the tests
 * check one, a fragment of the message) the call must give. run_bad_cases
 * runs every row on a fresh fixture and checks, besides status and message,
 * that the call changed nothing: the loss out-parameter and a create/load
 * out-parameter (NULL after a failure), and on the row's network the
 * parameters, the gradients (or their absence: then a step is still
 * refused), the cached rows and, where a forward of the fixture's batch was
 * the last thing done, that a backward still gives exactly what a fresh
 * network gives.                                                            */

typedef enum bad_on {
    ON_NONE,   /* no network (NULL handle): status, message, loss only */
    ON_CREATE, /* create/load into f->created: that is set to NULL */
    ON_NET,    /* the float64 network */
    ON_NET32,  /* the float32 network */
} bad_on;

typedef enum bad_prep {
    PREP_NONE,
    PREP_FORWARD,            /* forward */
    PREP_FB,                 /* forward, backward */
    PREP_FBF,                /* forward, backward, forward */
    PREP_FB_STEP,            /* forward, backward, step(0.1) */
    PREP_FB_STEP0,           /* forward, backward, step(0) */
    PREP_FBF_SET_PARAMS,     /* forward, backward, forward, set_params(p) */
    PREP_FBF_SET_LAYER,      /* forward, backward, forward, set_layer(0, w0, b0) */
    PREP_F2B_FBF,            /* forward of 2 * FX_B rows, then as PREP_FBF */
} bad_prep;

typedef struct bad_row {
    const char *name;
    swiftmlp_status (*call)(fx *f);
    swiftmlp_status expected;
    bad_on on;
    bad_prep prep;
    const char *message; /* a fragment last_error must contain, or NULL */
} bad_row;

/* A table is an X-macro list of
 *   X(id, expected status, bad_on, bad_prep, message fragment or NULL, call)
 * where call is an expression in `f` (the fixture):
 *   #define SOME_CASES(X) X(...) X(...)
 *   BAD_TABLE(k_some_cases, SOME_CASES);
 *   ... RUN_BAD_CASES(k_some_cases); or BAD_TABLE_TEST(k_some_cases) below */
#define BAD_CASE_FN(id, expected, on, prep, msg, call) \
    static swiftmlp_status id(fx *f) { (void)f; return (call); }
#define BAD_CASE_ROW(id, expected, on, prep, msg, call) {#id, id, (expected), (on), (prep), (msg)},
/* The call functions of the list CASES and the table `table` of its rows. */
#define BAD_TABLE(table, CASES) CASES(BAD_CASE_FN) static const bad_row table[] = {CASES(BAD_CASE_ROW)}

/* Short names for the tables' columns. */
#define F64 SWIFTMLP_FLOAT64
#define F32 SWIFTMLP_FLOAT32
#define DT7 ((swiftmlp_dtype)7)
#define E_NULL SWIFTMLP_ERR_NULL_POINTER
#define E_ARG SWIFTMLP_ERR_INVALID_ARGUMENT
#define E_BUF SWIFTMLP_ERR_BUFFER_SIZE
#define E_DTYPE SWIFTMLP_ERR_DTYPE
#define E_STATE SWIFTMLP_ERR_STATE
#define E_LARGE SWIFTMLP_ERR_TOO_LARGE
#define E_LAYER SWIFTMLP_ERR_LAYER_INDEX
#define E_FINITE SWIFTMLP_ERR_NON_FINITE

static inline void bad_prep_run(fx *f, swiftmlp_net *net, bad_prep prep)
{
    if (prep == PREP_F2B_FBF) {
        double x2[2 * FX_XLEN], y2[2 * FX_YLEN];
        for (size_t i = 0; i < 2 * FX_XLEN; i++) {
            x2[i] = 0.1 * (double)i;
        }
        assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x2, 2 * FX_XLEN, 2 * FX_B, y2, 2 * FX_YLEN));
    }
    if (prep != PREP_NONE) {
        fixture_forward(f, net);
    }
    if (prep != PREP_NONE && prep != PREP_FORWARD) {
        fixture_backward(f, net);
    }
    switch (prep) {
    case PREP_FBF:
    case PREP_F2B_FBF:
        fixture_forward(f, net);
        break;
    case PREP_FB_STEP:
    case PREP_FB_STEP0:
        assert_ok(swiftmlp_step(net, prep == PREP_FB_STEP ? 0.1 : 0.0));
        break;
    case PREP_FBF_SET_PARAMS:
        fixture_forward(f, net);
        assert_ok(swiftmlp_set_params(net, SWIFTMLP_FLOAT64, f->p, FX_NPARAMS));
        break;
    case PREP_FBF_SET_LAYER:
        fixture_forward(f, net);
        assert_ok(swiftmlp_set_layer(net, 0, SWIFTMLP_FLOAT64, f->w0, FX_W0LEN, f->b0, FX_N1));
        break;
    default:
        break;
    }
}

/* What a failing call must not change on a network. */
typedef struct net_state {
    snapshot params, grads;
    swiftmlp_status grads_status, rows_status, steps_status;
    size_t rows;
    uint64_t steps;
} net_state;

static inline net_state net_state_take(swiftmlp_net *net)
{
    net_state s;
    s.params = snapshot_params(net);
    s.grads = snapshot_with(net, swiftmlp_get_grads, &s.grads_status);
    s.rows = 0;
    s.rows_status = swiftmlp_get_cached_rows(net, &s.rows);
    s.steps = 0;
    s.steps_status = swiftmlp_get_step_count(net, &s.steps);
    return s;
}

static inline void net_state_free(net_state *s)
{
    snapshot_free(&s->params);
    snapshot_free(&s->grads);
}

/* net's parameters, gradients (or their absence), cached rows and
 * optimizer step count are what `before` recorded; frees `before`. */
static inline void net_state_expect_same(const char *name, net_state *before, swiftmlp_net *net)
{
    net_state after = net_state_take(net);
    const char *what = NULL;
    if (before->params.bytes != after.params.bytes ||
        memcmp(before->params.data, after.params.data, before->params.bytes) != 0) {
        what = "parameters";
    } else if (before->grads_status != after.grads_status ||
               memcmp(before->grads.data, after.grads.data, before->grads.bytes) != 0) {
        what = "gradients";
    } else if (before->rows_status != after.rows_status || before->rows != after.rows) {
        what = "cached rows";
    } else if (before->steps_status != after.steps_status || before->steps != after.steps) {
        what = "optimizer step count";
    }
    net_state_free(before);
    net_state_free(&after);
    if (what != NULL) {
        print_error("%s: the %s changed by the failing call\n", name, what);
        fail();
    }
}

/* The call named `name` gave exactly `expected` and a message (containing
 * `fragment` unless that is NULL). */
static inline void bad_expect(const char *name, swiftmlp_status got, swiftmlp_status expected,
                              const char *fragment)
{
    assert_status_impl(got, expected, name, __FILE__, __LINE__);
    const char *msg = swiftmlp_last_error();
    if (msg == NULL || msg[0] == '\0' || (fragment != NULL && strstr(msg, fragment) == NULL)) {
        print_error("%s: last_error \"%s\" does not contain \"%s\"\n", name,
                    msg == NULL ? "(null)" : msg, fragment == NULL ? "" : fragment);
        fail();
    }
}

static inline void bad_case_run(const bad_row *c)
{
    void *state = NULL;
    assert_int_equal(fixture_setup(&state), 0);
    fx *f = state;
    swiftmlp_net *net = c->on == ON_NET ? f->net : c->on == ON_NET32 ? f->net32 : NULL;
    net_state before;
    memset(&before, 0, sizeof before);
    if (net != NULL) {
        bad_prep_run(f, net, c->prep);
        before = net_state_take(net);
    }
    bad_expect(c->name, c->call(f), c->expected, c->message);
    if (f->loss != FX_LOSS_SENTINEL) {
        print_error("%s: the loss out-parameter was written (%g)\n", c->name, f->loss);
        fail();
    }
    if (c->on == ON_CREATE && f->created != NULL) {
        print_error("%s: *out was not set to NULL\n", c->name);
        fail();
    }
    if (net != NULL) {
        const int had_grads = before.grads_status == SWIFTMLP_OK;
        net_state_expect_same(c->name, &before, net);
        if (!had_grads) {
            /* still no gradients a step could use */
            assert_status_impl(swiftmlp_step(net, 0.1), SWIFTMLP_ERR_STATE, c->name, __FILE__, __LINE__);
        }
        if (c->prep == PREP_FORWARD || c->prep == PREP_FBF || c->prep == PREP_F2B_FBF) {
            assert_backward_matches_fresh(f, net);
        }
    }
    fixture_teardown(&state);
}

static inline void run_bad_cases(const bad_row *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bad_case_run(&cases[i]);
    }
}

#define RUN_BAD_CASES(table) run_bad_cases((table), ARRAY_LEN(table))

/* One cmocka test per table, named after it: in the tests[] of main,
 *   BAD_TABLE_TEST(k_some_cases),                                           */
typedef struct bad_table {
    const bad_row *rows;
    size_t n;
} bad_table;

static inline void run_bad_table(void **state)
{
    const bad_table *t = *state;
    run_bad_cases(t->rows, t->n);
}

#define BAD_TABLE_TEST(table)                                                                     \
    {.name = #table, .test_func = run_bad_table, .setup_func = NULL, .teardown_func = NULL,        \
     .initial_state = (void *)&(const bad_table){(table), ARRAY_LEN(table)}}

/* ---- bad-input tables on an area's own fixture ----------------------------
 * For areas whose calls need another fixture (fit's data and callback, an
 * optimizer, a config): the file defines BAD_CTX as its fixture type and a
 * bad_suite (its setup/teardown, the network whose state must not change,
 * and further checks), and lists rows
 *   X(id, expected status, message fragment or NULL, prep, call)
 * where prep (an expression, (void)0 for none) runs before the network's
 * state is recorded and call is the failing call, both in `f`:
 *   BAD_ANY_TABLE(k_some_cases, SOME_CASES);
 *   ... BAD_SUITE_TEST(k_suite, k_some_cases), in main's tests[].
 * Each row runs on a fresh fixture: the exact status, a message, and the
 * network's parameters, gradients, cached rows and step count unchanged. */
typedef struct bad_suite {
    int (*setup)(void **state);
    int (*teardown)(void **state);
    swiftmlp_net *(*net)(void *f);                 /* whose state must not change */
    void (*unchanged)(void *f, const char *name);  /* further checks, or NULL */
} bad_suite;

typedef struct bad_any {
    const char *name;
    void (*prep)(void *f);
    swiftmlp_status (*call)(void *f);
    swiftmlp_status expected;
    const char *message;
} bad_any;

#define BAD_ANY_FN(id, expected, msg, prep, call)                                  \
    static void id##_prep(void *f_) { BAD_CTX *f = f_; (void)f; prep; }            \
    static swiftmlp_status id(void *f_) { BAD_CTX *f = f_; (void)f; return (call); }
#define BAD_ANY_ROW(id, expected, msg, prep, call) {#id, id##_prep, id, (expected), (msg)},
/* The prep and call functions of the list CASES and the table `table` of its rows. */
#define BAD_ANY_TABLE(table, CASES) CASES(BAD_ANY_FN) static const bad_any table[] = {CASES(BAD_ANY_ROW)}

typedef struct bad_any_table {
    const bad_suite *suite;
    const bad_any *rows;
    size_t n;
} bad_any_table;

static inline void run_bad_any_table(void **state)
{
    const bad_any_table *t = *state;
    for (size_t i = 0; i < t->n; i++) {
        const bad_any *r = &t->rows[i];
        void *f = NULL;
        assert_int_equal(t->suite->setup(&f), 0);
        r->prep(f);
        swiftmlp_net *net = t->suite->net(f);
        net_state before = net_state_take(net);
        bad_expect(r->name, r->call(f), r->expected, r->message);
        net_state_expect_same(r->name, &before, net);
        if (t->suite->unchanged != NULL) {
            t->suite->unchanged(f, r->name);
        }
        assert_int_equal(t->suite->teardown(&f), 0);
    }
}

#define BAD_SUITE_TEST(suite, table)                                                              \
    {.name = #table, .test_func = run_bad_any_table, .setup_func = NULL, .teardown_func = NULL,    \
     .initial_state = (void *)&(const bad_any_table){&(suite), (table), ARRAY_LEN(table)}}

#endif /* SWIFTMLP_TEST_UTIL_H */
