/*
 * test_model_mutations.c — the mutation sweep over the three valid corpus
 * files (corpus/valid_*.safetensors, written by corpus/make_corpus.py).
 *
 * For each file: every single-byte change at every offset (the byte set to
 * 0x00, to 0xFF, and to byte+1 mod 256; a change that leaves the byte as it
 * was, or that repeats another one (byte+1 = 0x00 or 0xFF), is skipped) and
 * every truncation (lengths 0 .. size-1), each loaded
 * with swiftmlp_load_buffer from an exactly-sized heap copy.  Each load must
 * either
 *   - fail: a non-OK status, *out == NULL, a non-empty last_error; or
 *   - succeed with a network that is usable: every parameter finite,
 *     swiftmlp_predict on a small finite batch gives finite outputs, the
 *     network saves (with its optimizer state) and loads back with
 *     bit-identical parameters, one training step (forward, backward, then
 *     optimizer_step if the file set an optimizer) returns OK or
 *     SWIFTMLP_ERR_NON_FINITE and leaves the parameters finite, and after
 *     that step the network still saves a model that loads back (failures
 *     of this last check are collected and reported at the end of the
 *     file's sweep, so the sweep always runs to completion).
 * Every truncation must be rejected (a truncated file always loses part of
 * its header or tensor data).  The counts are printed.
 */
#define _GNU_SOURCE
#include "model_test_util.h"

#include <time.h>

#ifndef SWIFTMLP_CORPUS_DIR
#error "SWIFTMLP_CORPUS_DIR must name the corpus directory (set in c-tests/CMakeLists.txt)"
#endif

typedef struct sweep_counts {
    size_t loads, loaded, rejected;
    size_t by_status[16];
} sweep_counts;

static sweep_counts g_total;

/* Describes the current mutation for failure messages. */
static char g_where[256];

#define SWEEP_CHECK(cond, ...)                                          \
    do {                                                                \
        if (!(cond)) {                                                  \
            print_error("%s: ", g_where);                               \
            print_error(__VA_ARGS__);                                   \
            print_error("\n");                                          \
            _fail(__FILE__, __LINE__);                                  \
        }                                                               \
    } while (0)

static int all_finite(const void *data, size_t n, swiftmlp_dtype dtype)
{
    for (size_t i = 0; i < n; i++) {
        double v = dtype == SWIFTMLP_FLOAT32 ? ((const float *)data)[i] : ((const double *)data)[i];
        if (!isfinite(v)) {
            return 0;
        }
    }
    return 1;
}

static size_t g_after_step_failures;
static char g_first_after_step_failure[512];
static char g_reload_error[300];

/* Saves net with its optimizer state and loads the bytes back: NULL if that
 * works and gives the same parameters, else what went wrong. */
static const char *save_reload_mismatch(swiftmlp_net *net, const void *params, size_t count, size_t es)
{
    size_t size = 0, written = 0;
    if (swiftmlp_save_size(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, &size) != SWIFTMLP_OK) {
        return "save_size failed";
    }
    unsigned char *saved = malloc(size);
    if (saved == NULL) {
        return "malloc failed";
    }
    const char *why = NULL;
    swiftmlp_net *again = NULL;
    void *params2 = malloc(count * es);
    if (swiftmlp_save_buffer(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, saved, size, &written) != SWIFTMLP_OK ||
        written != size) {
        why = "save_buffer failed";
    } else if (swiftmlp_load_buffer(saved, size, &again) != SWIFTMLP_OK) {
        snprintf(g_reload_error, sizeof g_reload_error, "the saved model does not load: %s",
                 swiftmlp_last_error());
        why = g_reload_error;
    } else if (params2 == NULL ||
               swiftmlp_get_params(again, es == 4 ? SWIFTMLP_FLOAT32 : SWIFTMLP_FLOAT64, params2, count) !=
                   SWIFTMLP_OK ||
               memcmp(params, params2, count * es) != 0) {
        why = "the reloaded parameters differ";
    }
    swiftmlp_free(again);
    free(params2);
    free(saved);
    return why;
}

/* The checks on a network a mutated file loaded into. */
static void check_loaded_net(swiftmlp_net *net)
{
    swiftmlp_dtype dtype;
    size_t n_layers = 0, count = 0;
    SWEEP_CHECK(swiftmlp_get_dtype(net, &dtype) == SWIFTMLP_OK, "get_dtype failed");
    SWEEP_CHECK(dtype == SWIFTMLP_FLOAT32 || dtype == SWIFTMLP_FLOAT64, "dtype %d", (int)dtype);
    SWEEP_CHECK(swiftmlp_get_layer_count(net, &n_layers) == SWIFTMLP_OK, "layer_count failed");
    SWEEP_CHECK(n_layers >= 1 && n_layers <= 8, "%zu layers", n_layers);
    size_t sizes[9];
    SWEEP_CHECK(swiftmlp_get_sizes(net, sizes, 9) == SWIFTMLP_OK, "get_sizes failed");
    SWEEP_CHECK(swiftmlp_get_param_count(net, &count) == SWIFTMLP_OK, "param_count failed");
    /* the corpus networks are tiny; a mutation cannot make them large and still load */
    SWEEP_CHECK(count >= 1 && count <= 1000, "%zu parameters", count);
    size_t n0 = sizes[0], nl = sizes[n_layers];
    SWEEP_CHECK(n0 >= 1 && n0 <= 16 && nl >= 1 && nl <= 16, "sizes %zu..%zu", n0, nl);
    size_t es = dtype_size(dtype);

    void *params = malloc(count * es);
    SWEEP_CHECK(params != NULL, "malloc");
    SWEEP_CHECK(swiftmlp_get_params(net, dtype, params, count) == SWIFTMLP_OK, "get_params: %s",
                swiftmlp_last_error());
    SWEEP_CHECK(all_finite(params, count, dtype), "a loaded parameter is not finite");

    /* predict on a small finite batch */
    enum { ROWS = 3 };
    double x64[ROWS * 16], out64[ROWS * 16], y64[ROWS * 16];
    float x32[ROWS * 16], out32[ROWS * 16], y32[ROWS * 16];
    for (size_t i = 0; i < ROWS * n0; i++) {
        x64[i] = 0.3 * (double)(i % 7) - 0.9;
        x32[i] = (float)x64[i];
    }
    for (size_t r = 0; r < ROWS; r++) { /* one-hot rows: valid targets for every loss */
        for (size_t j = 0; j < nl; j++) {
            y64[r * nl + j] = j == r % nl ? 1.0 : 0.0;
            y32[r * nl + j] = (float)y64[r * nl + j];
        }
    }
    const void *x = dtype == SWIFTMLP_FLOAT32 ? (const void *)x32 : (const void *)x64;
    const void *y = dtype == SWIFTMLP_FLOAT32 ? (const void *)y32 : (const void *)y64;
    void *out = dtype == SWIFTMLP_FLOAT32 ? (void *)out32 : (void *)out64;
    swiftmlp_status s = swiftmlp_predict(net, dtype, x, ROWS * n0, ROWS, out, ROWS * nl);
    SWEEP_CHECK(s == SWIFTMLP_OK, "predict returned %d: %s", (int)s, swiftmlp_last_error());
    SWEEP_CHECK(all_finite(out, ROWS * nl, dtype), "predict gave a non-finite output");

    /* it saves (with its optimizer state) and loads back identically */
    const char *why = save_reload_mismatch(net, params, count, es);
    SWEEP_CHECK(why == NULL, "right after loading: %s", why);

    /* one training step */
    s = swiftmlp_forward(net, dtype, x, ROWS * n0, ROWS, out, ROWS * nl);
    SWEEP_CHECK(s == SWIFTMLP_OK, "forward returned %d: %s", (int)s, swiftmlp_last_error());
    double loss = 0;
    s = swiftmlp_backward(net, dtype, y, ROWS * nl, ROWS, &loss);
    SWEEP_CHECK(s == SWIFTMLP_OK, "backward returned %d: %s", (int)s, swiftmlp_last_error());
    swiftmlp_optimizer opt;
    if (swiftmlp_get_optimizer(net, &opt) == SWIFTMLP_OK) {
        s = swiftmlp_optimizer_step(net);
        SWEEP_CHECK(s == SWIFTMLP_OK || s == SWIFTMLP_ERR_NON_FINITE,
                    "optimizer_step returned %d: %s", (int)s, swiftmlp_last_error());
    }
    SWEEP_CHECK(swiftmlp_get_params(net, dtype, params, count) == SWIFTMLP_OK, "get_params");
    SWEEP_CHECK(all_finite(params, count, dtype), "a parameter is not finite after a step");

    /* after the step it still saves and loads back identically; failures
     * are collected (and fail the test at the end of the sweep) so that the
     * sweep still runs to completion and counts everything */
    why = save_reload_mismatch(net, params, count, es);
    if (why != NULL && g_after_step_failures++ == 0) {
        snprintf(g_first_after_step_failure, sizeof g_first_after_step_failure, "%s: after one training step: %s",
                 g_where, why);
    }
    free(params);
}

static swiftmlp_status sweep_load(const unsigned char *bytes, size_t len, sweep_counts *c)
{
    unsigned char *copy = malloc(len > 0 ? len : 1);
    SWEEP_CHECK(copy != NULL, "malloc");
    if (len > 0) {
        memcpy(copy, bytes, len);
    }
    swiftmlp_net *net = NOT_NULL_SENTINEL;
    swiftmlp_status s = swiftmlp_load_buffer(copy, len, &net);
    free(copy);
    c->loads++;
    if (s != SWIFTMLP_OK) {
        SWEEP_CHECK(net == NULL, "failed load (status %d) left *out non-NULL", (int)s);
        SWEEP_CHECK(swiftmlp_last_error()[0] != '\0', "failed load (status %d) left last_error empty",
                    (int)s);
        SWEEP_CHECK((int)s > 0 && (int)s < 16, "unknown status %d", (int)s);
        c->rejected++;
        c->by_status[s]++;
        return s;
    }
    SWEEP_CHECK(net != NULL && net != NOT_NULL_SENTINEL, "OK load gave no handle");
    c->loaded++;
    check_loaded_net(net);
    swiftmlp_free(net);
    return s;
}

static void sweep_file(const char *stem)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.safetensors", SWIFTMLP_CORPUS_DIR, stem);
    size_t len = 0;
    unsigned char *orig = read_whole_file(path, &len);
    unsigned char *work = malloc(len);
    assert_non_null(work);
    sweep_counts c;
    memset(&c, 0, sizeof c);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    snprintf(g_where, sizeof g_where, "%s unmodified", stem);
    sweep_counts unmodified;
    memset(&unmodified, 0, sizeof unmodified);
    assert_int_equal(sweep_load(orig, len, &unmodified), SWIFTMLP_OK);

    size_t byte_loads = 0, byte_ok = 0;
    for (size_t off = 0; off < len; off++) {
        const unsigned char values[3] = {0x00, 0xFF, (unsigned char)(orig[off] + 1)};
        for (int k = 0; k < 3; k++) {
            if (values[k] == orig[off] || (k == 2 && (values[2] == 0x00 || values[2] == 0xFF))) {
                continue; /* no change, or the same change as an earlier one */
            }
            memcpy(work, orig, len);
            work[off] = values[k];
            snprintf(g_where, sizeof g_where, "%s: byte %zu changed 0x%02x -> 0x%02x", stem, off,
                     orig[off], values[k]);
            byte_loads++;
            byte_ok += sweep_load(work, len, &c) == SWIFTMLP_OK;
        }
    }
    size_t trunc_ok = 0;
    for (size_t n = 0; n < len; n++) {
        snprintf(g_where, sizeof g_where, "%s: truncated to %zu of %zu bytes", stem, n, len);
        swiftmlp_status s = sweep_load(orig, n, &c);
        if (s == SWIFTMLP_OK) {
            print_error("%s: loaded OK\n", g_where);
            trunc_ok++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    print_message("    %s (%zu bytes): %zu loads in %.2f s; byte changes: %zu (%zu loaded OK, %zu rejected); "
                  "truncations: %zu (%zu loaded OK); rejected by status:",
                  stem, len, c.loads, secs, byte_loads, byte_ok, byte_loads - byte_ok, len, trunc_ok);
    for (int s = 1; s < 16; s++) {
        if (c.by_status[s] > 0) {
            print_message(" %s=%zu", swiftmlp_status_string((swiftmlp_status)s), c.by_status[s]);
        }
    }
    print_message("\n");
    g_total.loads += c.loads;
    g_total.loaded += c.loaded;
    g_total.rejected += c.rejected;
    for (int s = 0; s < 16; s++) {
        g_total.by_status[s] += c.by_status[s];
    }
    if (g_after_step_failures != 0) {
        print_error("%zu loaded networks saved, after one training step, a model that does not load; first: %s\n",
                    g_after_step_failures, g_first_after_step_failure);
    }
    size_t after_step_failures = g_after_step_failures;
    g_after_step_failures = 0;
    free(work);
    free(orig);
    assert_int_equal(after_step_failures, 0);
    /* Both outcomes occur: digits of seed/shuffle_state and low mantissa bytes
     * can change and still load; the structure cannot. */
    assert_true(byte_ok > 0);
    assert_true(byte_loads - byte_ok > 0);
    assert_int_equal(trunc_ok, 0);
}

TEST_CALLING(test_mutations_of_valid_f64_sigmoid_mse_load_cleanly_or_fail_cleanly,
             sweep_file("valid_f64_sigmoid_mse"))
TEST_CALLING(test_mutations_of_valid_f32_relu_softmax_adam_load_cleanly_or_fail_cleanly,
             sweep_file("valid_f32_relu_softmax_adam"))
TEST_CALLING(test_mutations_of_valid_f64_tanh_identity_sgd_momentum_load_cleanly_or_fail_cleanly,
             sweep_file("valid_f64_tanh_identity_sgd_momentum"))

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutations_of_valid_f64_sigmoid_mse_load_cleanly_or_fail_cleanly),
        cmocka_unit_test(test_mutations_of_valid_f32_relu_softmax_adam_load_cleanly_or_fail_cleanly),
        cmocka_unit_test(test_mutations_of_valid_f64_tanh_identity_sgd_momentum_load_cleanly_or_fail_cleanly),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    printf("mutation sweep total: %zu mutated loads (%zu loaded OK, %zu rejected)\n", g_total.loads,
           g_total.loaded, g_total.rejected);
    return failed;
}
