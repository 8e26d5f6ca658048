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

typedef struct snapshot {
    void *data;    /* NULL when not taken */
    size_t bytes;
} snapshot;

/* All parameters of net as raw bytes (of the network's own dtype). */
static inline snapshot snapshot_params(const swiftmlp_net *net)
{
    snapshot s = {NULL, 0};
    swiftmlp_dtype dtype;
    size_t count = 0;
    assert_ok(swiftmlp_get_dtype(net, &dtype));
    assert_ok(swiftmlp_get_param_count(net, &count));
    s.bytes = count * dtype_size(dtype);
    s.data = malloc(s.bytes);
    assert_non_null(s.data);
    assert_ok(swiftmlp_get_params(net, dtype, s.data, count));
    return s;
}

/* All gradients of net as raw bytes (a backward must have run). */
static inline snapshot snapshot_grads(const swiftmlp_net *net)
{
    snapshot s = {NULL, 0};
    swiftmlp_dtype dtype;
    size_t count = 0;
    assert_ok(swiftmlp_get_dtype(net, &dtype));
    assert_ok(swiftmlp_get_param_count(net, &count));
    s.bytes = count * dtype_size(dtype);
    s.data = malloc(s.bytes);
    assert_non_null(s.data);
    assert_ok(swiftmlp_get_grads(net, dtype, s.data, count));
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

/* Convenience: create a network and fail the test if that fails. */
static inline swiftmlp_net *create_net(const size_t *sizes, size_t n_sizes, swiftmlp_dtype dtype,
                                       uint64_t seed)
{
    swiftmlp_net *net = NULL;
    assert_ok(swiftmlp_create(sizes, n_sizes, dtype, seed, &net));
    assert_non_null(net);
    return net;
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

#endif /* SWIFTMLP_TEST_UTIL_H */
