/*
 * fuzz_load.c — libFuzzer target: the bytes are a model file.
 *
 * swiftmlp_load_buffer(data, size) must return OK, FORMAT or OUT_OF_MEMORY
 * (and a NULL handle unless OK).  When it loads, the network is used:
 *   - its shape getters must agree with each other;
 *   - predict, forward and backward on a small finite batch (3 rows) must
 *     succeed;
 *   - save -> load -> save must reproduce the first save byte for byte (with
 *     and without the optimizer state), and the reloaded copy must hold the
 *     same parameters;
 *   - then everything is freed (LeakSanitizer checks that at exit).
 * The library is only ever given (pointer, length) pairs this harness owns
 * in full.
 */
#include <math.h>

#include "fuzz_common.h"

#define MAX_SIZES_SEEN 1025      /* SWIFTMLP_MAX_SIZES */
#define MAX_BATCH_ELEMS (1u << 20) /* skip the batch pass for wider networks */

static size_t g_sizes[MAX_SIZES_SEEN];

/* save(net, flags) into a new malloc'd buffer; returns NULL (and size 0) on failure. */
static unsigned char *save(const swiftmlp_net *net, uint32_t flags, size_t *size)
{
    *size = 0;
    size_t need = 0, written = 0;
    if (EXPECT(swiftmlp_save_size(net, flags, &need), SM(OK) | SM(ERR_OUT_OF_MEMORY)) != SWIFTMLP_OK)
        return NULL;
    FUZZ_ASSERT(need >= 16, "save_size %zu is too small for a safetensors file", need);
    unsigned char *buf = malloc(need);
    if (buf == NULL) return NULL;
    if (EXPECT(swiftmlp_save_buffer(net, flags, buf, need, &written), SM(OK) | SM(ERR_OUT_OF_MEMORY)) != SWIFTMLP_OK) {
        free(buf);
        return NULL;
    }
    FUZZ_ASSERT(written == need, "save_buffer wrote %zu bytes, save_size said %zu", written, need);
    *size = need;
    return buf;
}

/* The network's parameters as bytes. */
static void *params_of(const swiftmlp_net *net, swiftmlp_dtype dtype, size_t count, size_t *bytes)
{
    size_t es = dtype == SWIFTMLP_FLOAT32 ? 4 : 8;
    *bytes = count * es;
    void *p = malloc(*bytes ? *bytes : 1);
    if (p == NULL) return NULL;
    EXPECT(swiftmlp_get_params(net, dtype, p, count), SM(OK));
    return p;
}

/* save -> load -> save is a fixed point; the reloaded copy has the same parameters. */
static void check_round_trip(const swiftmlp_net *net, uint32_t flags, swiftmlp_dtype dtype, size_t count)
{
    size_t n1 = 0, n2 = 0, pb1 = 0, pb2 = 0;
    unsigned char *s1 = save(net, flags, &n1);
    if (s1 == NULL) return;
    swiftmlp_net *copy = NULL;
    swiftmlp_status st = EXPECT(swiftmlp_load_buffer(s1, n1, &copy), SM(OK) | SM(ERR_OUT_OF_MEMORY));
    if (st != SWIFTMLP_OK) {
        free(s1);
        return;
    }
    unsigned char *s2 = save(copy, flags, &n2);
    if (s2 != NULL) {
        FUZZ_ASSERT(n1 == n2 && memcmp(s1, s2, n1) == 0,
                    "save(load(save(x))) differs from save(x) (flags %u, %zu vs %zu bytes)", flags, n1, n2);
    }
    void *p1 = params_of(net, dtype, count, &pb1);
    void *p2 = params_of(copy, dtype, count, &pb2);
    if (p1 && p2) FUZZ_ASSERT(memcmp(p1, p2, pb1) == 0, "the reloaded copy has different parameters");
    free(p1);
    free(p2);
    free(s2);
    free(s1);
    swiftmlp_free(copy);
}

static void exercise(swiftmlp_net *net)
{
    swiftmlp_dtype dtype = 0;
    size_t n_layers = 0, count = 0;
    EXPECT(swiftmlp_get_dtype(net, &dtype), SM(OK));
    FUZZ_ASSERT(dtype == SWIFTMLP_FLOAT32 || dtype == SWIFTMLP_FLOAT64, "loaded dtype %d", (int)dtype);
    EXPECT(swiftmlp_get_layer_count(net, &n_layers), SM(OK));
    FUZZ_ASSERT(n_layers >= 1 && n_layers + 1 <= MAX_SIZES_SEEN, "loaded %zu layers", n_layers);
    EXPECT(swiftmlp_get_sizes(net, g_sizes, n_layers), SM(ERR_BUFFER_SIZE));
    EXPECT(swiftmlp_get_sizes(net, g_sizes, n_layers + 1), SM(OK));
    EXPECT(swiftmlp_get_param_count(net, &count), SM(OK));

    size_t expect_count = 0, width = 0;
    for (size_t l = 0; l <= n_layers; l++) {
        FUZZ_ASSERT(g_sizes[l] >= 1 && g_sizes[l] <= SWIFTMLP_MAX_LAYER_SIZE, "size[%zu] = %zu", l, g_sizes[l]);
        width += g_sizes[l];
    }
    for (size_t l = 0; l < n_layers; l++) {
        size_t w_off = 0, b_off = 0;
        EXPECT(swiftmlp_get_layer_offsets(net, l, &w_off, &b_off), SM(OK));
        FUZZ_ASSERT(w_off == expect_count, "layer %zu: w_offset %zu, expected %zu", l, w_off, expect_count);
        expect_count += g_sizes[l + 1] * g_sizes[l];
        FUZZ_ASSERT(b_off == expect_count, "layer %zu: b_offset %zu, expected %zu", l, b_off, expect_count);
        expect_count += g_sizes[l + 1];
    }
    FUZZ_ASSERT(count == expect_count, "param_count %zu, the sizes give %zu", count, expect_count);
    EXPECT(swiftmlp_get_layer_offsets(net, n_layers, &(size_t){0}, &(size_t){0}), SM(ERR_LAYER_INDEX));

    swiftmlp_config cfg;
    EXPECT(swiftmlp_get_config(net, &cfg), SM(OK));
    FUZZ_ASSERT(cfg.n_sizes == n_layers + 1 && cfg.n_activations == n_layers && cfg.dtype == dtype,
                "get_config disagrees with the getters");
    FUZZ_ASSERT(memcmp(cfg.sizes, g_sizes, (n_layers + 1) * sizeof(size_t)) == 0, "get_config sizes differ");

    /* A small finite batch through predict, forward and backward. */
    const size_t rows = 3, n0 = g_sizes[0], nl = g_sizes[n_layers];
    if (rows * width <= MAX_BATCH_ELEMS) {
        size_t es = dtype == SWIFTMLP_FLOAT32 ? 4 : 8;
        unsigned char *x = malloc(rows * n0 * es), *y = malloc(rows * nl * es), *t = malloc(rows * nl * es);
        if (x && y && t) {
            for (size_t i = 0; i < rows * n0; i++) {
                double v = (double)((i * 37) % 17) / 8.0 - 1.0;
                if (dtype == SWIFTMLP_FLOAT32) ((float *)x)[i] = (float)v; else ((double *)x)[i] = v;
            }
            for (size_t i = 0; i < rows * nl; i++) { /* one-hot rows: valid targets for every loss */
                double v = (i % nl) == (i / nl) % nl ? 1.0 : 0.0;
                if (dtype == SWIFTMLP_FLOAT32) ((float *)t)[i] = (float)v; else ((double *)t)[i] = v;
            }
            EXPECT(swiftmlp_predict(net, dtype, x, rows * n0, rows, y, rows * nl), SM(OK) | SM(ERR_OUT_OF_MEMORY));
            if (EXPECT(swiftmlp_forward(net, dtype, x, rows * n0, rows, y, rows * nl),
                       SM(OK) | SM(ERR_OUT_OF_MEMORY)) == SWIFTMLP_OK) {
                double loss = 0;
                EXPECT(swiftmlp_backward(net, dtype, t, rows * nl, rows, &loss), SM(OK));
                size_t crows = 0;
                EXPECT(swiftmlp_get_cached_rows(net, &crows), SM(OK));
                FUZZ_ASSERT(crows == rows, "cached_rows %zu after a forward of %zu rows", crows, rows);
            }
        }
        free(x);
        free(y);
        free(t);
    }

    /* Round trips with and without the optimizer state. */
    check_round_trip(net, SWIFTMLP_SAVE_DEFAULT, dtype, count);
    check_round_trip(net, SWIFTMLP_SAVE_OPTIMIZER_STATE, dtype, count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char empty[1];
    swiftmlp_net *net = (swiftmlp_net *)(uintptr_t)1; /* must be overwritten */
    /* libFuzzer may pass NULL for an empty input; keep the pointer valid. */
    const void *buf = data != NULL ? (const void *)data : (const void *)empty;
    swiftmlp_status st = EXPECT(swiftmlp_load_buffer(buf, size, &net),
                                SM(OK) | SM(ERR_FORMAT) | SM(ERR_OUT_OF_MEMORY));
    if (st != SWIFTMLP_OK) {
        FUZZ_ASSERT(net == NULL, "load_buffer failed with %d but left a non-NULL handle", (int)st);
        return 0;
    }
    FUZZ_ASSERT(net != NULL, "load_buffer returned OK and a NULL handle");
    exercise(net);
    swiftmlp_free(net);
    return 0;
}
