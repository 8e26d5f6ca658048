/*
 * test_misuse.c — handles that are not live networks (include/swiftmlp.h,
 * "Global rules", Handles): "a pointer that is not a live network (already
 * freed, or never returned by swiftmlp_create, swiftmlp_create_with_config
 * or swiftmlp_load_file/_buffer) is detected by every function without
 * reading its memory and gives SWIFTMLP_ERR_BAD_HANDLE; swiftmlp_free of
 * such a pointer (a double free) does nothing."
 *
 * Every function that takes a net is called, with otherwise valid
 * arguments, on
 *   - a freed handle                          (one cmocka test per function)
 *   - foreign pointers: the address of a stack variable, a malloc'd block
 *     of junk, a pointer into the middle of a live network's handle, and a
 *     misaligned address                      (one cmocka test per function)
 * and must return SWIFTMLP_ERR_BAD_HANDLE with a non-empty last_error.
 * Double frees and frees of foreign pointers must be harmless: afterwards
 * other networks still work and new ones can be created.
 *
 * (Run under AddressSanitizer these tests also prove "without reading its
 * memory": the freed handle and the junk block would be reported.)
 */
#define _GNU_SOURCE
#include "model_test_util.h"

/* ---- valid arguments for a float64 [3, 4, 2] network, batch 2 ------------ */

enum { N0 = 3, N1 = 4, N2 = 2, B = 2, NPARAMS = N1 * N0 + N1 + N2 * N1 + N2 };
static const size_t k_sizes[] = {N0, N1, N2};
static const double k_x[B * N0] = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6};
static const double k_y[B * N2] = {0, 1, 1, 0};
static const int64_t k_labels[B] = {0, 1};

/* Output buffers, one per test at a time (the tests run sequentially). */
static double g_out[64];
static double g_params[NPARAMS];
static double g_w0[N1 * N0], g_b0[N1];

static swiftmlp_status call_forward(swiftmlp_net *n)
{
    return swiftmlp_forward(n, SWIFTMLP_FLOAT64, k_x, B * N0, B, g_out, B * N2);
}
static swiftmlp_status call_backward(swiftmlp_net *n)
{
    double loss;
    return swiftmlp_backward(n, SWIFTMLP_FLOAT64, k_y, B * N2, B, &loss);
}
static swiftmlp_status call_step(swiftmlp_net *n) { return swiftmlp_step(n, 0.1); }
static swiftmlp_status call_backward_labels(swiftmlp_net *n)
{
    double loss;
    return swiftmlp_backward_labels(n, k_labels, B, B, &loss);
}
static swiftmlp_status call_set_optimizer(swiftmlp_net *n)
{
    swiftmlp_optimizer o;
    swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAM, &o);
    return swiftmlp_set_optimizer(n, &o);
}
static swiftmlp_status call_get_optimizer(swiftmlp_net *n)
{
    swiftmlp_optimizer o;
    return swiftmlp_get_optimizer(n, &o);
}
static swiftmlp_status call_reset_optimizer(swiftmlp_net *n) { return swiftmlp_reset_optimizer(n); }
static swiftmlp_status call_set_learning_rate(swiftmlp_net *n) { return swiftmlp_set_learning_rate(n, 0.01); }
static swiftmlp_status call_optimizer_step_count(swiftmlp_net *n)
{
    uint64_t t;
    return swiftmlp_get_step_count(n, &t);
}
static swiftmlp_status call_optimizer_step(swiftmlp_net *n) { return swiftmlp_optimizer_step(n); }
static swiftmlp_status call_train_step(swiftmlp_net *n)
{
    double loss;
    return swiftmlp_train_step(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, &loss);
}
static swiftmlp_status call_fit(swiftmlp_net *n)
{
    swiftmlp_fit_result r;
    return swiftmlp_fit(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, NULL, &r);
}
static swiftmlp_status call_predict(swiftmlp_net *n)
{
    return swiftmlp_predict(n, SWIFTMLP_FLOAT64, k_x, B * N0, B, g_out, B * N2);
}
static swiftmlp_status call_evaluate(swiftmlp_net *n)
{
    double loss;
    return swiftmlp_evaluate(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, &loss);
}
static swiftmlp_status call_gradient_check(swiftmlp_net *n)
{
    swiftmlp_gradcheck g;
    return swiftmlp_gradient_check(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, 1e-5, &g);
}
static swiftmlp_status call_cached_rows(swiftmlp_net *n)
{
    size_t rows;
    return swiftmlp_get_cached_rows(n, &rows);
}
static swiftmlp_status call_check_batch(swiftmlp_net *n) { return swiftmlp_check_batch(n, B); }
static swiftmlp_status call_get_quantity(swiftmlp_net *n)
{
    return swiftmlp_get_quantity(n, SWIFTMLP_Q_G, 1, SWIFTMLP_FLOAT64, g_out, 64);
}
static swiftmlp_status call_save_size(swiftmlp_net *n)
{
    size_t size;
    return swiftmlp_save_size(n, 0, &size);
}
static swiftmlp_status call_save_buffer(swiftmlp_net *n)
{
    static unsigned char buf[65536];
    size_t written;
    return swiftmlp_save_buffer(n, 0, buf, sizeof buf, &written);
}
static char g_save_path[1200];
static swiftmlp_status call_save_file(swiftmlp_net *n) { return swiftmlp_save_file(n, 0, g_save_path); }
static swiftmlp_status call_get_activations(swiftmlp_net *n)
{
    swiftmlp_activation a[4];
    return swiftmlp_get_activations(n, a, 4);
}
static swiftmlp_status call_get_config(swiftmlp_net *n)
{
    swiftmlp_config c;
    swiftmlp_config_default(&c);
    return swiftmlp_get_config(n, &c);
}
static swiftmlp_status call_get_dtype(swiftmlp_net *n)
{
    swiftmlp_dtype d;
    return swiftmlp_get_dtype(n, &d);
}
static swiftmlp_status call_layer_count(swiftmlp_net *n)
{
    size_t l;
    return swiftmlp_get_layer_count(n, &l);
}
static swiftmlp_status call_get_sizes(swiftmlp_net *n)
{
    size_t s[4];
    return swiftmlp_get_sizes(n, s, 4);
}
static swiftmlp_status call_param_count(swiftmlp_net *n)
{
    size_t c;
    return swiftmlp_get_param_count(n, &c);
}
static swiftmlp_status call_layer_offsets(swiftmlp_net *n)
{
    size_t w, b;
    return swiftmlp_get_layer_offsets(n, 0, &w, &b);
}
static swiftmlp_status call_get_params(swiftmlp_net *n)
{
    return swiftmlp_get_params(n, SWIFTMLP_FLOAT64, g_params, NPARAMS);
}
/* {0, step, 2 step, ...}: NPARAMS values (valid until the next call). */
static const double *ramp(double step)
{
    static double values[NPARAMS];
    for (size_t i = 0; i < NPARAMS; i++) {
        values[i] = step * (double)i;
    }
    return values;
}
static swiftmlp_status call_set_params(swiftmlp_net *n)
{
    return swiftmlp_set_params(n, SWIFTMLP_FLOAT64, ramp(0.01), NPARAMS);
}
static swiftmlp_status call_get_grads(swiftmlp_net *n)
{
    return swiftmlp_get_grads(n, SWIFTMLP_FLOAT64, g_params, NPARAMS);
}
static swiftmlp_status call_set_grads(swiftmlp_net *n)
{
    return swiftmlp_set_grads(n, SWIFTMLP_FLOAT64, ramp(0.001), NPARAMS);
}
static swiftmlp_status call_get_layer(swiftmlp_net *n)
{
    return swiftmlp_get_layer(n, 0, SWIFTMLP_FLOAT64, g_w0, N1 * N0, g_b0, N1);
}
static swiftmlp_status call_set_layer(swiftmlp_net *n)
{
    double w[N1 * N0] = {0}, b[N1] = {0};
    return swiftmlp_set_layer(n, 0, SWIFTMLP_FLOAT64, w, N1 * N0, b, N1);
}
static swiftmlp_status call_get_layer_grads(swiftmlp_net *n)
{
    return swiftmlp_get_layer_grads(n, 0, SWIFTMLP_FLOAT64, g_w0, N1 * N0, g_b0, N1);
}

typedef struct api_fn {
    const char *name;
    swiftmlp_status (*call)(swiftmlp_net *);
} api_fn;

#define FN(name) {#name, call_##name}

/* Every function of the header that takes a swiftmlp_net (free aside). */
static const api_fn k_fns[] = {
    FN(forward),         FN(backward),       FN(step),          FN(backward_labels),
    FN(set_optimizer),   FN(get_optimizer),  FN(reset_optimizer), FN(optimizer_step_count),
    FN(optimizer_step),  FN(fit),            FN(predict),       FN(evaluate),
    FN(gradient_check),  FN(cached_rows),    FN(get_quantity),  FN(save_size),
    FN(save_buffer),     FN(save_file),      FN(get_activations), FN(get_config),
    FN(get_dtype),       FN(layer_count),    FN(get_sizes),     FN(param_count),
    FN(layer_offsets),   FN(get_params),     FN(set_params),    FN(get_grads),
    FN(get_layer),       FN(set_layer),      FN(get_layer_grads), FN(train_step),
    FN(set_learning_rate), FN(set_grads),   FN(check_batch),
};
enum { N_FNS = ARRAY_LEN(k_fns) };

/* Sanity: every call above succeeds or fails for an ordinary reason on a
 * LIVE network that has had a forward and backward — so the BAD_HANDLE
 * results below are about the handle, not the other arguments. */
static void test_every_call_accepts_a_live_network(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 3);
    assert_ok(call_set_optimizer(net));
    assert_ok(call_forward(net));
    assert_ok(call_backward(net));
    for (size_t i = 0; i < N_FNS; i++) {
        swiftmlp_status s = k_fns[i].call(net);
        if (s != SWIFTMLP_OK && s != SWIFTMLP_ERR_STATE && s != SWIFTMLP_ERR_INVALID_ARGUMENT) {
            print_error("swiftmlp_%s on a live network returned %d (%s): %s\n", k_fns[i].name,
                        (int)s, swiftmlp_status_string(s), swiftmlp_last_error());
            fail();
        }
        assert_int_not_equal(s, SWIFTMLP_ERR_BAD_HANDLE);
        /* keep a forward/backward in place for the next calls */
        assert_ok(call_forward(net));
        assert_ok(call_backward(net));
    }
    unlink(g_save_path); /* save_file wrote it; the other tests expect it absent */
    swiftmlp_free(net);
}

static void check_bad_handle(const api_fn *fn, swiftmlp_net *bad, const char *what)
{
    swiftmlp_status s = fn->call(bad);
    if (s != SWIFTMLP_ERR_BAD_HANDLE) {
        print_error("swiftmlp_%s(%s) returned %d (%s), expected SWIFTMLP_ERR_BAD_HANDLE; last_error: \"%s\"\n",
                    fn->name, what, (int)s, swiftmlp_status_string(s), swiftmlp_last_error());
        fail();
    }
    assert_last_error_set();
}

static void test_freed_handle(void **state)
{
    const api_fn *fn = *state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 3);
    swiftmlp_free(net);
    check_bad_handle(fn, net, "freed handle");
    /* still nothing at the save path */
    struct stat st;
    assert_int_not_equal(stat(g_save_path, &st), 0);
}

static void test_foreign_pointers(void **state)
{
    const api_fn *fn = *state;
    /* a stack variable */
    double on_stack[16] = {0};
    check_bad_handle(fn, (swiftmlp_net *)(void *)on_stack, "address of a stack variable");
    /* a heap block of junk */
    unsigned char *junk = malloc(256);
    assert_non_null(junk);
    for (size_t i = 0; i < 256; i++) {
        junk[i] = (unsigned char)(i * 37 + 11);
    }
    check_bad_handle(fn, (swiftmlp_net *)(void *)junk, "malloc'd junk");
    free(junk);
    /* a pointer into a live network, and a misaligned address */
    swiftmlp_net *live = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 3);
    check_bad_handle(fn, (swiftmlp_net *)(void *)((char *)(void *)live + 16), "live handle + 16");
    check_bad_handle(fn, (swiftmlp_net *)(void *)((char *)(void *)live + 1), "live handle + 1");
    check_bad_handle(fn, (swiftmlp_net *)(uintptr_t)0x10, "address 0x10");
    /* the live network itself is unaffected */
    size_t count = 0;
    assert_ok(swiftmlp_get_param_count(live, &count));
    assert_int_equal(count, NPARAMS);
    swiftmlp_free(live);
    struct stat st;
    assert_int_not_equal(stat(g_save_path, &st), 0);
}

/* ---- free ------------------------------------------------------------------ */

static void test_free_null_does_nothing(void **state)
{
    (void)state;
    swiftmlp_free(NULL);
}

static void test_double_free_is_harmless(void **state)
{
    (void)state;
    swiftmlp_net *keep = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 5);
    snapshot before = snapshot_params(keep);
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 3);
    swiftmlp_free(net);
    swiftmlp_free(net);
    swiftmlp_free(net);
    /* the freed handle stays dead */
    size_t count = 0;
    assert_fails(swiftmlp_get_param_count(net, &count), SWIFTMLP_ERR_BAD_HANDLE);
    /* other networks are untouched, new ones work */
    snapshot after = snapshot_params(keep);
    assert_same_snapshot(before, after, "parameters of another network");
    swiftmlp_net *fresh = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 3);
    assert_ok(call_forward(fresh));
    assert_ok(call_backward(fresh));
    assert_ok(call_step(fresh));
    swiftmlp_free(fresh);
    swiftmlp_free(keep);
    snapshot_free(&before);
    snapshot_free(&after);
}

static void test_double_free_of_a_loaded_network_is_harmless(void **state)
{
    (void)state;
    swiftmlp_net *net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 3);
    swiftmlp_net *loaded = reload_via_buffer(net);
    swiftmlp_free(loaded);
    swiftmlp_free(loaded);
    assert_fails(call_predict(loaded), SWIFTMLP_ERR_BAD_HANDLE);
    assert_ok(call_predict(net));
    swiftmlp_free(net);
}

static void test_free_of_foreign_pointers_is_harmless(void **state)
{
    (void)state;
    swiftmlp_net *keep = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 5);
    snapshot before = snapshot_params(keep);
    double on_stack[16];
    for (size_t i = 0; i < 16; i++) {
        on_stack[i] = 1.5 * (double)i;
    }
    swiftmlp_free((swiftmlp_net *)(void *)on_stack);
    for (size_t i = 0; i < 16; i++) {
        assert_true(on_stack[i] == 1.5 * (double)i); /* not written either */
    }
    unsigned char *junk = malloc(256);
    assert_non_null(junk);
    memset(junk, 0x5A, 256);
    swiftmlp_free((swiftmlp_net *)(void *)junk);
    for (size_t i = 0; i < 256; i++) {
        assert_int_equal(junk[i], 0x5A);
    }
    free(junk); /* still ours to free */
    swiftmlp_free((swiftmlp_net *)(void *)((char *)(void *)keep + 8));
    swiftmlp_free((swiftmlp_net *)(uintptr_t)0x10);
    /* keep is still live and unchanged */
    snapshot after = snapshot_params(keep);
    assert_same_snapshot(before, after, "parameters");
    assert_ok(call_predict(keep));
    swiftmlp_free(keep);
    snapshot_free(&before);
    snapshot_free(&after);
}

/* ---- every pointer value ----------------------------------------------------
 *
 * "Detected without reading its memory" holds for EVERY pointer value, not
 * only for plausible ones: the registry once used the keys 0 and 1 (the
 * inverted addresses -1 and ~1) as its empty and deleted markers and took
 * those two values for live networks. Each value below goes to every
 * function (free included), with live networks around and after thousands
 * of create/free cycles have left deleted slots everywhere in the registry.
 * Under AddressSanitizer (the asan build runs this suite) any read of such
 * memory is reported; in any build a dereference of -1 crashes. */

static int g_static_object;

/* Drives every function with `bad`, which is not a live network. */
static void check_every_function(swiftmlp_net *bad, const char *what)
{
    for (size_t i = 0; i < N_FNS; i++) {
        check_bad_handle(&k_fns[i], bad, what);
    }
    swiftmlp_free(bad); /* must do nothing (and not crash) */
}

/* Creates and frees networks so that the registry holds deleted slots
 * (tombstones) and grows and shrinks; `live` networks stay. */
static void churn(swiftmlp_net **live, size_t n_live, size_t cycles, uint64_t *rng)
{
    for (size_t c = 0; c < cycles; c++) {
        size_t k = (size_t)(splitmix64_next(rng) % n_live);
        swiftmlp_free(live[k]);
        live[k] = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, c);
    }
}

static void check_special_values(swiftmlp_net *live)
{
    const uintptr_t all = ~(uintptr_t)0;
    const struct { uintptr_t value; const char *what; } special[] = {
        {1, "1"}, {2, "2"}, {3, "3"}, {8, "8"}, {0x10, "0x10"}, {4096, "4096"},
        {all, "-1 (MAP_FAILED)"}, {all - 1, "~1 = -2 = ~0 - 1"}, {all - 2, "-3"},
        {all - 7, "-8"}, {all - 15, "-16"}, {(uintptr_t)1 << 63, "2^63"},
        {((uintptr_t)1 << 63) - 1, "2^63 - 1"}, {((uintptr_t)1 << 63) + 1, "2^63 + 1"},
        {(uintptr_t)0x00007fffffffffffULL, "top of user space"},
        {(uintptr_t)0x5555555555555555ULL, "0x5555..."}, {(uintptr_t)0xAAAAAAAAAAAAAAAAULL, "0xAAAA..."},
        {(uintptr_t)0xdeadbeefULL, "0xdeadbeef"}, {(uintptr_t)0x1001, "unaligned 0x1001"},
    };
    for (size_t i = 0; i < ARRAY_LEN(special); i++) {
        check_every_function((swiftmlp_net *)special[i].value, special[i].what);
    }
    double on_stack[8] = {0};
    check_every_function((swiftmlp_net *)(void *)on_stack, "a stack address");
    check_every_function((swiftmlp_net *)(void *)((char *)(void *)on_stack + 3), "an unaligned stack address");
    check_every_function((swiftmlp_net *)(void *)&g_static_object, "a static object");
    check_every_function((swiftmlp_net *)(void *)k_fns, "static constant data");
    void *block = malloc(64);
    assert_non_null(block);
    volatile uintptr_t freed = (uintptr_t)block; /* a number (volatile: no use-after-free warning) */
    free(block);
    check_every_function((swiftmlp_net *)freed, "freed heap memory");
    const ptrdiff_t into[] = {1, 2, 4, 7, 8, 16, 24, 32, 64, -8, -16};
    for (size_t i = 0; i < ARRAY_LEN(into); i++) {
        check_every_function((swiftmlp_net *)(void *)((char *)(void *)live + into[i]),
                             "a pointer into (or just before) a live network");
    }
    swiftmlp_net *gone = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 1);
    swiftmlp_free(gone);
    check_every_function(gone, "a freed network");
    /* NULL is its own case: NULL_POINTER, and free(NULL) does nothing */
    for (size_t i = 0; i < N_FNS; i++) {
        assert_int_equal(k_fns[i].call(NULL), SWIFTMLP_ERR_NULL_POINTER);
    }
    swiftmlp_free(NULL);
}

static void check_random_values(swiftmlp_net **live, size_t n_live, size_t count, uint64_t *rng)
{
    for (size_t i = 0; i < count; i++) {
        uintptr_t v = (uintptr_t)splitmix64_next(rng);
        /* every fourth value aligned, like real heap addresses */
        if (i % 4 == 0) {
            v &= ~(uintptr_t)15;
        }
        int is_live = v == 0;
        for (size_t k = 0; k < n_live; k++) {
            is_live |= v == (uintptr_t)(void *)live[k];
        }
        if (is_live) {
            continue; /* (probability about 2^-60) */
        }
        swiftmlp_net *bad = (swiftmlp_net *)v;
        const api_fn *fn = &k_fns[i % N_FNS];
        swiftmlp_status s = fn->call(bad);
        if (s != SWIFTMLP_ERR_BAD_HANDLE) {
            print_error("swiftmlp_%s(%#llx) returned %d (%s), expected SWIFTMLP_ERR_BAD_HANDLE\n",
                        fn->name, (unsigned long long)v, (int)s, swiftmlp_status_string(s));
            fail();
        }
        swiftmlp_free(bad);
    }
}

static void test_no_pointer_value_is_dereferenced(void **state)
{
    (void)state;
    enum { N_LIVE = 16 };
    swiftmlp_net *live[N_LIVE];
    for (size_t k = 0; k < N_LIVE; k++) {
        live[k] = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 100 + k);
    }
    swiftmlp_net *keep = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 99);
    snapshot before = snapshot_params(keep);
    uint64_t rng = 0x5EED15;
    /* before any free, then after many create/free cycles */
    check_special_values(live[0]);
    check_random_values(live, N_LIVE, 500000, &rng);
    churn(live, N_LIVE, 5000, &rng);
    check_special_values(live[1]);
    check_random_values(live, N_LIVE, 500000, &rng);
    /* the live networks all still work */
    for (size_t k = 0; k < N_LIVE; k++) {
        size_t count = 0;
        assert_ok(swiftmlp_get_param_count(live[k], &count));
        assert_int_equal(count, NPARAMS);
    }
    assert_params_still(keep, before, "parameters of a live network");
    swiftmlp_free(keep);
    for (size_t k = 0; k < N_LIVE; k++) {
        swiftmlp_free(live[k]);
    }
    struct stat st;
    assert_int_not_equal(stat(g_save_path, &st), 0);
}

/* ---- the test list ------------------------------------------------------ */

static char g_dir[1024];

int main(void)
{
    make_temp_dir(g_dir, sizeof g_dir);
    snprintf(g_save_path, sizeof g_save_path, "%s/never-written.safetensors", g_dir);

    static char names[2 * N_FNS][96];
    static struct CMUnitTest tests[2 * N_FNS + 7];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_every_call_accepts_a_live_network);
    for (size_t i = 0; i < N_FNS; i++) {
        snprintf(names[2 * i], sizeof names[0], "%s_with_freed_handle_returns_bad_handle",
                 k_fns[i].name);
        tests[n++] = (struct CMUnitTest){names[2 * i], test_freed_handle, NULL, NULL,
                                         (void *)&k_fns[i]};
    }
    for (size_t i = 0; i < N_FNS; i++) {
        snprintf(names[2 * i + 1], sizeof names[0], "%s_with_foreign_pointer_returns_bad_handle",
                 k_fns[i].name);
        tests[n++] = (struct CMUnitTest){names[2 * i + 1], test_foreign_pointers, NULL, NULL,
                                         (void *)&k_fns[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_free_null_does_nothing);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_double_free_is_harmless);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_double_free_of_a_loaded_network_is_harmless);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_free_of_foreign_pointers_is_harmless);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_no_pointer_value_is_dereferenced);
    return run_tests_then_remove_dir("test_misuse", tests, n, g_dir);
}
