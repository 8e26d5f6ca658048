/*
 * test_lifecycle.c — create/free, shape getters, the parameter layout,
 * deterministic initialisation, status strings and swiftmlp_last_error;
 * create's bad input as a table (test_util.h's run_bad_cases).
 */
#include "test_util.h"

#include <pthread.h>


/* [3, 5, 2]: layer 0 has W 5x3 + b 5 = 20, layer 1 has W 2x5 + b 2 = 12. */
static const size_t k_sizes[] = {3, 5, 2};
static const size_t k_param_count = 5 * 3 + 5 + 2 * 5 + 2; /* 32 */

static void check_shape_getters(swiftmlp_dtype dtype)
{
    swiftmlp_net *net = create_net(k_sizes, ARRAY_LEN(k_sizes), dtype, 1);

    swiftmlp_dtype got_dtype = (swiftmlp_dtype)0;
    assert_ok(swiftmlp_get_dtype(net, &got_dtype));
    assert_int_equal(got_dtype, dtype);

    size_t n_layers = 0;
    assert_ok(swiftmlp_get_layer_count(net, &n_layers));
    assert_int_equal(n_layers, 2);

    size_t sizes[3] = {0, 0, 0};
    assert_ok(swiftmlp_get_sizes(net, sizes, 3));
    assert_int_equal(sizes[0], 3);
    assert_int_equal(sizes[1], 5);
    assert_int_equal(sizes[2], 2);

    /* A larger capacity is fine too. */
    size_t big[8] = {0};
    assert_ok(swiftmlp_get_sizes(net, big, 8));
    assert_int_equal(big[0], 3);
    assert_int_equal(big[1], 5);
    assert_int_equal(big[2], 2);

    assert_int_equal(param_count(net), k_param_count);

    swiftmlp_free(net);
}

DTYPE_TESTS(test_create_and_free_float64_network,
            test_create_and_free_float32_network,
            check_shape_getters)

static void test_free_null_is_a_no_op(void **state)
{
    (void)state;
    swiftmlp_free(NULL);
}

static void test_create_with_single_weight_layer_works(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 1};
    swiftmlp_net *net = create_net(sizes, 2, SWIFTMLP_FLOAT64, 0);
    assert_int_equal(layer_count(net), 1);
    assert_int_equal(param_count(net), 2);
    swiftmlp_free(net);
}

static void test_create_with_max_sizes_entries_works(void **state)
{
    (void)state;
    /* SWIFTMLP_MAX_SIZES entries is the documented upper bound (inclusive). */
    size_t *sizes = malloc(SWIFTMLP_MAX_SIZES * sizeof *sizes);
    assert_non_null(sizes);
    for (size_t i = 0; i < SWIFTMLP_MAX_SIZES; i++) {
        sizes[i] = 1;
    }
    swiftmlp_net *net = create_net(sizes, SWIFTMLP_MAX_SIZES, SWIFTMLP_FLOAT32, 3);
    size_t n_layers = 0, count = 0;
    assert_ok(swiftmlp_get_layer_count(net, &n_layers));
    assert_ok(swiftmlp_get_param_count(net, &count));
    assert_int_equal(n_layers, SWIFTMLP_MAX_SIZES - 1);
    assert_int_equal(count, 2 * (SWIFTMLP_MAX_SIZES - 1));
    swiftmlp_free(net);
    free(sizes);
}

static void test_create_does_not_retain_sizes_array(void **state)
{
    (void)state;
    size_t sizes[] = {3, 5, 2};
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT64, 1);
    sizes[0] = 99;
    sizes[1] = 98;
    sizes[2] = 97;
    size_t got[3] = {0, 0, 0};
    assert_ok(swiftmlp_get_sizes(net, got, 3));
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], 5);
    assert_int_equal(got[2], 2);
    swiftmlp_free(net);
}

static void test_layer_offsets_follow_documented_layout(void **state)
{
    (void)state;
    /* Layout: W_0 (5*3 = 15) at 0, b_0 (5) at 15, W_1 (2*5 = 10) at 20, b_1 (2) at 30. */
    const size_t sizes[] = {3, 5, 2};
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT64, 1);
    size_t w = 123, b = 456;
    assert_ok(swiftmlp_get_layer_offsets(net, 0, &w, &b));
    assert_int_equal(w, 0);
    assert_int_equal(b, 15);
    assert_ok(swiftmlp_get_layer_offsets(net, 1, &w, &b));
    assert_int_equal(w, 20);
    assert_int_equal(b, 30);
    swiftmlp_free(net);
}

static void test_layer_offsets_agree_with_get_layer_and_get_params(void **state)
{
    (void)state;
    const size_t sizes[] = {4, 6, 3, 2};
    swiftmlp_net *net = create_net(sizes, 4, SWIFTMLP_FLOAT64, 77);
    size_t count = 0;
    assert_ok(swiftmlp_get_param_count(net, &count));
    assert_int_equal(count, (6 * 4 + 6) + (3 * 6 + 3) + (2 * 3 + 2));
    double *params = malloc(count * sizeof *params);
    assert_non_null(params);
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, params, count));

    size_t expected_offset = 0;
    for (size_t l = 0; l < 3; l++) {
        size_t n_in = sizes[l], n_out = sizes[l + 1];
        size_t w_off = 0, b_off = 0;
        assert_ok(swiftmlp_get_layer_offsets(net, l, &w_off, &b_off));
        assert_int_equal(w_off, expected_offset);
        assert_int_equal(b_off, w_off + n_out * n_in);
        expected_offset = b_off + n_out;

        double w[24], b[6];
        assert_ok(swiftmlp_get_layer(net, l, SWIFTMLP_FLOAT64, w, n_out * n_in, b, n_out));
        assert_memory_equal(w, params + w_off, n_out * n_in * sizeof(double));
        assert_memory_equal(b, params + b_off, n_out * sizeof(double));
    }
    assert_int_equal(expected_offset, count);
    free(params);
    swiftmlp_free(net);
}

static void test_set_layer_writes_documented_positions(void **state)
{
    (void)state;
    const size_t sizes[] = {2, 3, 1};
    swiftmlp_net *net = create_net(sizes, 3, SWIFTMLP_FLOAT64, 5);
    /* W_1 is 1x3, b_1 has 1 element; they sit at offsets 9 and 12 (W_0 6 + b_0 3 = 9). */
    const double w1[3] = {0.25, -0.5, 0.75};
    const double b1[1] = {-0.125};
    double before[13], after[13];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, before, 13));
    assert_ok(swiftmlp_set_layer(net, 1, SWIFTMLP_FLOAT64, w1, 3, b1, 1));
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, after, 13));
    assert_memory_equal(after, before, 9 * sizeof(double)); /* layer 0 untouched */
    assert_true(after[9] == 0.25);
    assert_true(after[10] == -0.5);
    assert_true(after[11] == 0.75);
    assert_true(after[12] == -0.125);

    double w[3], b[1];
    assert_ok(swiftmlp_get_layer(net, 1, SWIFTMLP_FLOAT64, w, 3, b, 1));
    assert_memory_equal(w, w1, sizeof w1);
    assert_memory_equal(b, b1, sizeof b1);
    swiftmlp_free(net);
}

static void test_set_params_then_get_params_round_trips(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 5, 2};
    for (int d = 0; d < 2; d++) {
        swiftmlp_dtype dtype = d == 0 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
        swiftmlp_net *net = create_net(sizes, 3, dtype, 9);
        double in64[32], out64[32];
        float in32[32], out32[32];
        uint64_t rng = 1234;
        for (size_t i = 0; i < 32; i++) {
            in64[i] = rand_uniform(&rng, -3.0, 3.0);
            in32[i] = (float)in64[i];
        }
        if (dtype == SWIFTMLP_FLOAT64) {
            assert_ok(swiftmlp_set_params(net, dtype, in64, 32));
            assert_ok(swiftmlp_get_params(net, dtype, out64, 32));
            assert_memory_equal(in64, out64, sizeof in64);
        } else {
            assert_ok(swiftmlp_set_params(net, dtype, in32, 32));
            assert_ok(swiftmlp_get_params(net, dtype, out32, 32));
            assert_memory_equal(in32, out32, sizeof in32);
        }
        swiftmlp_free(net);
    }
}

/* ---- initialisation ---------------------------------------------------- */

static void get_params64(const swiftmlp_net *net, double *out, size_t n)
{
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, out, n));
}

static void test_same_seed_gives_identical_params(void **state)
{
    (void)state;
    const swiftmlp_dtype dtypes[] = {SWIFTMLP_FLOAT64, SWIFTMLP_FLOAT32};
    for (size_t i = 0; i < ARRAY_LEN(dtypes); i++) {
        swiftmlp_net *a = create_net(k_sizes, 3, dtypes[i], 42);
        swiftmlp_net *b = create_net(k_sizes, 3, dtypes[i], 42);
        assert_same_params_and_free(a, b, "parameters of a same-seed network");
    }
}

static void test_different_seed_gives_different_params(void **state)
{
    (void)state;
    swiftmlp_net *a = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 42);
    swiftmlp_net *b = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 43);
    double pa[32], pb[32];
    get_params64(a, pa, 32);
    get_params64(b, pb, 32);
    size_t n_equal = 0;
    for (size_t i = 0; i < 32; i++) {
        n_equal += pa[i] == pb[i];
    }
    assert_int_equal(n_equal, 0); /* 53-bit draws: a coincidence is essentially impossible */
    swiftmlp_free(a);
    swiftmlp_free(b);
}

static void test_init_params_within_documented_bounds(void **state)
{
    (void)state;
    /* [-1/sqrt(N_in), 1/sqrt(N_in)) for W and b of every layer. */
    const size_t sizes[] = {7, 16, 3, 1};
    for (int d = 0; d < 2; d++) {
        swiftmlp_dtype dtype = d == 0 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
        swiftmlp_net *net = create_net(sizes, 4, dtype, 2024);
        size_t count = 0;
        assert_ok(swiftmlp_get_param_count(net, &count));
        double *p64 = malloc(count * sizeof *p64);
        float *p32 = malloc(count * sizeof *p32);
        assert_non_null(p64);
        assert_non_null(p32);
        if (dtype == SWIFTMLP_FLOAT64) {
            assert_ok(swiftmlp_get_params(net, dtype, p64, count));
        } else {
            assert_ok(swiftmlp_get_params(net, dtype, p32, count));
            for (size_t i = 0; i < count; i++) {
                p64[i] = p32[i];
            }
        }
        for (size_t l = 0; l < 3; l++) {
            size_t w_off = 0, b_off = 0;
            assert_ok(swiftmlp_get_layer_offsets(net, l, &w_off, &b_off));
            size_t end = b_off + sizes[l + 1];
            double bound = 1.0 / sqrt((double)sizes[l]);
            if (dtype == SWIFTMLP_FLOAT32) {
                bound = (double)(float)bound; /* the rounded draw may reach float(bound) */
            }
            double lo = 1.0, hi = -1.0;
            for (size_t i = w_off; i < end; i++) {
                assert_true(p64[i] >= -bound);
                if (dtype == SWIFTMLP_FLOAT64) {
                    assert_true(p64[i] < bound);
                } else {
                    assert_true(p64[i] <= bound);
                }
                lo = fmin(lo, p64[i]);
                hi = fmax(hi, p64[i]);
            }
            /* Not degenerate: values spread over both signs. */
            assert_true(lo < 0.0);
            assert_true(hi > 0.0);
        }
        free(p64);
        free(p32);
        swiftmlp_free(net);
    }
}

/*
 * The header pins the generator: per network SplitMix64 seeded with `seed`,
 * layer by layer, W row-major then b, u = (next() >> 11) * 2^-53,
 * param = (2u - 1) / sqrt(N_in); float32 networks round the same draws.
 */
static void test_init_matches_documented_splitmix64_draws(void **state)
{
    (void)state;
    const size_t sizes[] = {3, 4, 2};
    const size_t count = (4 * 3 + 4) + (2 * 4 + 2); /* 26 */
    const uint64_t seed = UINT64_C(0x0123456789ABCDEF);
    double expected[26];
    uint64_t s = seed;
    size_t k = 0;
    for (size_t l = 0; l < 2; l++) {
        size_t n_in = sizes[l], n_out = sizes[l + 1];
        for (size_t i = 0; i < n_out * n_in + n_out; i++) {
            double u = (double)(splitmix64_next(&s) >> 11) * 0x1.0p-53;
            expected[k++] = (2.0 * u - 1.0) / sqrt((double)n_in);
        }
    }
    assert_int_equal(k, count);

    swiftmlp_net *net64 = create_net(sizes, 3, SWIFTMLP_FLOAT64, seed);
    swiftmlp_net *net32 = create_net(sizes, 3, SWIFTMLP_FLOAT32, seed);
    double got64[26];
    float got32[26];
    assert_ok(swiftmlp_get_params(net64, SWIFTMLP_FLOAT64, got64, count));
    assert_ok(swiftmlp_get_params(net32, SWIFTMLP_FLOAT32, got32, count));
    for (size_t i = 0; i < count; i++) {
        if (got64[i] != expected[i] || got32[i] != (float)expected[i]) {
            print_error("param %zu: float64 got %.17g, float32 got %.9g, documented draw %.17g\n",
                        i, got64[i], (double)got32[i], expected[i]);
            fail();
        }
    }
    swiftmlp_free(net64);
    swiftmlp_free(net32);
}

/* ---- status strings and last_error -------------------------------------- */

static void test_status_string_describes_every_status(void **state)
{
    (void)state;
    const swiftmlp_status all[] = {
        SWIFTMLP_OK,           SWIFTMLP_ERR_NULL_POINTER, SWIFTMLP_ERR_INVALID_ARGUMENT,
        SWIFTMLP_ERR_BUFFER_SIZE, SWIFTMLP_ERR_DTYPE,     SWIFTMLP_ERR_STATE,
        SWIFTMLP_ERR_TOO_LARGE, SWIFTMLP_ERR_OUT_OF_MEMORY, SWIFTMLP_ERR_LAYER_INDEX,
        SWIFTMLP_ERR_NON_FINITE,
        SWIFTMLP_ERR_CANCELLED, SWIFTMLP_ERR_FORMAT, SWIFTMLP_ERR_IO,
        SWIFTMLP_ERR_BUSY,      SWIFTMLP_ERR_BAD_HANDLE,
    };
    const size_t n = ARRAY_LEN(all);
    /* The values are pinned by the header. */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal((int)all[i], (int)i);
    }
    assert_string_equal(swiftmlp_status_string(SWIFTMLP_OK), "ok");
    assert_string_equal(swiftmlp_status_string(SWIFTMLP_ERR_NULL_POINTER), "null pointer");
    for (size_t i = 0; i < n; i++) {
        const char *text = swiftmlp_status_string(all[i]);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
        assert_string_not_equal(text, "unknown status");
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(text, swiftmlp_status_string(all[j]));
        }
    }
}

static void test_status_string_of_unknown_code_is_unknown_status(void **state)
{
    (void)state;
    const int unknown[] = {15, 16, 100, -1, 0x7fffffff};
    for (size_t i = 0; i < ARRAY_LEN(unknown); i++) {
        const char *text = swiftmlp_status_string((swiftmlp_status)unknown[i]);
        assert_non_null(text);
        assert_string_equal(text, "unknown status");
    }
}

static void test_last_error_is_empty_after_success(void **state)
{
    (void)state;
    swiftmlp_net *net = NULL;
    assert_ok(swiftmlp_create(k_sizes, 3, SWIFTMLP_FLOAT64, 1, &net));
    assert_last_error_empty();
    size_t count = 0;
    assert_ok(swiftmlp_get_param_count(net, &count));
    assert_last_error_empty();
    swiftmlp_free(net);
}

static void test_last_error_is_set_after_failure_and_cleared_by_next_success(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 1);
    size_t n_layers = 0;
    assert_status(swiftmlp_get_layer_count(net, NULL), SWIFTMLP_ERR_NULL_POINTER);
    assert_last_error_set();
    /* The next successful status-returning call resets it to "". */
    assert_ok(swiftmlp_get_layer_count(net, &n_layers));
    assert_last_error_empty();

    assert_status(swiftmlp_step(net, 0.1), SWIFTMLP_ERR_STATE);
    assert_last_error_set();
    double out[32];
    assert_ok(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, out, 32));
    assert_last_error_empty();
    swiftmlp_free(net);
}

static void test_last_error_is_never_null(void **state)
{
    (void)state;
    assert_non_null(swiftmlp_last_error());
}

typedef struct thread_result {
    swiftmlp_status status;
    char message[256];
} thread_result;

static void *fail_on_other_thread(void *arg)
{
    thread_result *r = arg;
    swiftmlp_net *out = NULL;
    r->status = swiftmlp_create(NULL, 2, SWIFTMLP_FLOAT64, 0, &out);
    snprintf(r->message, sizeof r->message, "%s", swiftmlp_last_error());
    return NULL;
}

static void test_last_error_is_thread_local(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 1);
    size_t count = 0;
    assert_ok(swiftmlp_get_param_count(net, &count)); /* this thread: "" */
    assert_last_error_empty();

    pthread_t thread;
    thread_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(pthread_create(&thread, NULL, fail_on_other_thread, &r), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(r.status, SWIFTMLP_ERR_NULL_POINTER);
    assert_true(strlen(r.message) > 0);

    /* The other thread's failure did not touch this thread's message. */
    assert_last_error_empty();
    swiftmlp_free(net);
}

/* Separate networks are independent and may be used from different threads. */
typedef struct train_job {
    uint64_t seed;
    double final_loss;
    double params[17]; /* [2, 4, 1]: 4*2 + 4 + 4 + 1 = 17 */
    int ok;
} train_job;

static void *train_on_thread(void *arg)
{
    train_job *job = arg;
    const size_t sizes[] = {2, 4, 1};
    const double x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const double y[4] = {0, 1, 1, 0};
    double out[4];
    swiftmlp_net *net = NULL;
    job->ok = 0;
    if (swiftmlp_create(sizes, 3, SWIFTMLP_FLOAT64, job->seed, &net) != SWIFTMLP_OK) {
        return NULL;
    }
    for (int i = 0; i < 300; i++) {
        if (swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, 8, 4, out, 4) != SWIFTMLP_OK ||
            swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, 4, 4, &job->final_loss) != SWIFTMLP_OK ||
            swiftmlp_step(net, 1.0) != SWIFTMLP_OK) {
            swiftmlp_free(net);
            return NULL;
        }
    }
    job->ok = swiftmlp_get_params(net, SWIFTMLP_FLOAT64, job->params, 17) == SWIFTMLP_OK;
    swiftmlp_free(net);
    return NULL;
}

static void test_separate_networks_on_separate_threads_are_independent(void **state)
{
    (void)state;
    enum { N = 4 };
    pthread_t threads[N];
    train_job jobs[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        jobs[i].seed = (uint64_t)(i % 2); /* two pairs of identical jobs */
        assert_int_equal(pthread_create(&threads[i], NULL, train_on_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_true(jobs[i].ok);
    }
    /* Same seed, same work => bit-identical results, whatever ran concurrently. */
    train_job single;
    memset(&single, 0, sizeof single);
    single.seed = 0;
    train_on_thread(&single);
    assert_true(single.ok);
    assert_memory_equal(jobs[0].params, single.params, sizeof single.params);
    assert_memory_equal(jobs[2].params, single.params, sizeof single.params);
    assert_memory_equal(jobs[1].params, jobs[3].params, sizeof single.params);
    assert_true(jobs[0].final_loss == single.final_loss);
}

/* ---- bad input: create (every row must also set *out to NULL) ------------ */

/* sizes for the rows: a list, then SWIFTMLP_MAX_SIZES + 1 entries of 1. */
static const size_t *sz(size_t a, size_t b, size_t c)
{
    static size_t s[3];
    s[0] = a;
    s[1] = b;
    s[2] = c;
    return s;
}

static const size_t *too_many_ones(void)
{
    static size_t ones[SWIFTMLP_MAX_SIZES + 1];
    for (size_t i = 0; i < ARRAY_LEN(ones); i++) {
        ones[i] = 1;
    }
    return ones;
}

#define CREATE(sizes, n, dtype) swiftmlp_create((sizes), (n), (dtype), 1, &f->created)
/* (SIZE_MAX/2)^2 overflows size_t many times over; {1, SIZE_MAX}: N_out *
 * N_in + N_out = SIZE_MAX + SIZE_MAX wraps around; {16384, 16384, 1}: each
 * size <= SWIFTMLP_MAX_LAYER_SIZE, but 2^28 + 32769 parameters >
 * SWIFTMLP_MAX_PARAMS. */
#define CREATE_CASES(X)                                                                             \
    X(create_null_sizes, E_NULL, ON_CREATE, PREP_NONE, NULL, CREATE(NULL, 3, F64))                 \
    X(create_null_out, E_NULL, ON_NONE, PREP_NONE, NULL, swiftmlp_create(sz(3, 4, 2), 3, F64, 1, NULL)) \
    X(create_zero_n_sizes, E_ARG, ON_CREATE, PREP_NONE, NULL, CREATE(sz(3, 4, 2), 0, F64))         \
    X(create_one_size, E_ARG, ON_CREATE, PREP_NONE, NULL, CREATE(sz(3, 4, 2), 1, F64))             \
    X(create_zero_hidden_size, E_ARG, ON_CREATE, PREP_NONE, NULL, CREATE(sz(3, 0, 2), 3, F64))     \
    X(create_zero_input_size, E_ARG, ON_CREATE, PREP_NONE, NULL, CREATE(sz(0, 2, 0), 2, F32))      \
    X(create_zero_output_size, E_ARG, ON_CREATE, PREP_NONE, NULL, CREATE(sz(2, 5, 0), 3, F64))     \
    X(create_unknown_dtype_7, E_ARG, ON_CREATE, PREP_NONE, NULL, CREATE(sz(3, 4, 2), 3, DT7))      \
    X(create_unknown_dtype_0, E_ARG, ON_CREATE, PREP_NONE, NULL,                                   \
      CREATE(sz(3, 4, 2), 3, (swiftmlp_dtype)0))                                                   \
    X(create_sizes_overflowing_size_t, E_LARGE, ON_CREATE, PREP_NONE, NULL,                        \
      CREATE(sz(SIZE_MAX / 2, SIZE_MAX / 2, 0), 2, F64))                                           \
    X(create_size_max_output, E_LARGE, ON_CREATE, PREP_NONE, NULL, CREATE(sz(1, SIZE_MAX, 0), 2, F32)) \
    X(create_layer_size_above_max, E_LARGE, ON_CREATE, PREP_NONE, NULL,                            \
      CREATE(sz(1, (size_t)SWIFTMLP_MAX_LAYER_SIZE + 1, 0), 2, F32))                               \
    X(create_param_count_above_max, E_LARGE, ON_CREATE, PREP_NONE, NULL,                           \
      CREATE(sz(16384, 16384, 1), 3, F32))                                                         \
    X(create_more_than_max_sizes_entries, E_LARGE, ON_CREATE, PREP_NONE, NULL,                     \
      CREATE(too_many_ones(), (size_t)SWIFTMLP_MAX_SIZES + 1, F64))

BAD_TABLE(k_create_cases, CREATE_CASES);

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_free_float64_network),
        cmocka_unit_test(test_create_and_free_float32_network),
        cmocka_unit_test(test_free_null_is_a_no_op),
        cmocka_unit_test(test_create_with_single_weight_layer_works),
        cmocka_unit_test(test_create_with_max_sizes_entries_works),
        cmocka_unit_test(test_create_does_not_retain_sizes_array),
        cmocka_unit_test(test_layer_offsets_follow_documented_layout),
        cmocka_unit_test(test_layer_offsets_agree_with_get_layer_and_get_params),
        cmocka_unit_test(test_set_layer_writes_documented_positions),
        cmocka_unit_test(test_set_params_then_get_params_round_trips),
        cmocka_unit_test(test_same_seed_gives_identical_params),
        cmocka_unit_test(test_different_seed_gives_different_params),
        cmocka_unit_test(test_init_params_within_documented_bounds),
        cmocka_unit_test(test_init_matches_documented_splitmix64_draws),
        cmocka_unit_test(test_status_string_describes_every_status),
        cmocka_unit_test(test_status_string_of_unknown_code_is_unknown_status),
        cmocka_unit_test(test_last_error_is_empty_after_success),
        cmocka_unit_test(test_last_error_is_set_after_failure_and_cleared_by_next_success),
        cmocka_unit_test(test_last_error_is_never_null),
        cmocka_unit_test(test_last_error_is_thread_local),
        cmocka_unit_test(test_separate_networks_on_separate_threads_are_independent),
        BAD_TABLE_TEST(k_create_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
