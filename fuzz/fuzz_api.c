/*
 * fuzz_api.c — libFuzzer target: the bytes are a program of C ABI calls.
 *
 * Up to 64 operations on two network slots.  Each is framed as
 *     [opcode] [n] [n argument bytes]
 * (opcode bit 7 picks the slot, the low 7 bits mod 17 the operation; see the
 * enum at the end).  An operation draws its arguments from its own n bytes;
 * a reader that runs dry returns zeros, and a zero byte always picks the
 * plain valid choice (the network's dtype, the exact length, a non-NULL
 * pointer, finite data), so a short argument string means "valid call".
 * make_api_seeds.py writes seeds in this format.  Operations: create (plain or from a config with fuzzed sizes, dtype,
 * activations, loss, init, slope, struct_size), forward, backward,
 * backward_labels, step, set/get/reset optimizer, optimizer_step, train_step,
 * set_params, set_layer, the getters, save_size/save_buffer/load_buffer
 * (also of a corrupted copy), predict (up to 300 rows: the 256-row chunks),
 * evaluate, fit (with validation data and a cancelling callback),
 * gradient_check, free, probes of a freed handle, any 64-bit value as a
 * handle (OP_FORGED) and any 64-bit value for one size_t parameter of a
 * call (OP_SIZE).  Sizes stay small
 * (layers of at most 8 units, at most 4 sizes) so each input runs fast.
 *
 * Buffers: the harness only ever passes (pointer, length) pairs it owns in
 * full.  A length argument may be WRONG only in ways the library must notice
 * without reading past the buffer: the buffer is always allocated for the
 * claimed length (in elements of the claimed dtype; 8 bytes per element for
 * an unknown dtype), whether the claim is smaller or larger than what the
 * call needs; a NULL pointer comes with any length.
 *
 * Oracles, besides "no crash, no sanitizer report":
 *   - every status is one the header lists for that call, and
 *     swiftmlp_last_error() is "" after success and non-empty after failure;
 *   - a call whose arguments are all valid (as the harness tracks the
 *     network's state) succeeds, and one with a clearly invalid argument
 *     fails;
 *   - a failing call leaves the parameters bit-identical;
 *   - a saved buffer loads back, with the same parameters;
 *   - a freed or foreign handle gives SWIFTMLP_ERR_BAD_HANDLE; NULL gives
 *     SWIFTMLP_ERR_NULL_POINTER;
 *   - reading calls (get_params, predict, evaluate, gradient_check, save_*)
 *     leave the parameters unchanged;
 *   - any pointer value that is not a live network gives BAD_HANDLE and
 *     its free does nothing; a size_t of 2^63 or more gives the status of
 *     2^63 - 1.
 */
#include <float.h>
#include <math.h>

#include "fuzz_common.h"

/* ---- the byte reader ------------------------------------------------------ */
typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t u8(reader *r)
{
    if (r->n == 0) return 0;
    r->n--;
    return *r->p++;
}
static uint16_t u16(reader *r) { uint16_t a = u8(r); return (uint16_t)(a | (uint16_t)u8(r) << 8); }
static uint64_t u64(reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

/* A double: mostly from a table of meaningful values, sometimes raw bits. */
static double real(reader *r)
{
    static const double table[] = {
        0.0, 1.0, -1.0, 0.5, 1e-3, 0.01, 0.1, 0.9, 0.999, 1e-8, 2.0, 10.0, 1e10, -1e-3,
        NAN, INFINITY, -INFINITY, 1e308, DBL_MIN, 1e-300, 0.3, 100.0, -0.0, 1.5,
    };
    uint8_t b = u8(r);
    if (b < 224) return table[b % (sizeof table / sizeof table[0])];
    uint64_t bits = u64(r);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static int finite_ok(double v) { return isfinite(v); }

/* ---- what the harness knows about a network --------------------------------- */
enum { UNKNOWN = -1 };
typedef struct slot {
    swiftmlp_net *net;
    swiftmlp_dtype dtype;
    size_t sizes[4];
    size_t n_sizes; /* L + 1 */
    size_t params;
    int loss;       /* swiftmlp_loss */
    int fwd_rows;   /* rows of the cached forward usable by backward: 0 none, UNKNOWN */
    int q_rows;     /* rows of the last forward (quantities readable): 0 none, UNKNOWN */
    int dl_ready;   /* dL/df, dL/dg of that forward computed: 0/1/UNKNOWN */
    int grads;      /* a backward has run: 0/1/UNKNOWN */
    int fresh;      /* its gradients are not yet consumed by a step or parameter change: 0/1/UNKNOWN */
    int opt;        /* an optimizer is set: 0/1 */
} slot;

static slot g_slot[2];
static swiftmlp_net *g_stale; /* a handle freed by this input */

/* (An empty slot has n_sizes 0: 0 layers, 0 inputs, 0 outputs.) */
static size_t layers(const slot *s) { return s->n_sizes ? s->n_sizes - 1 : 0; }
static size_t n_in(const slot *s) { return s->sizes[0]; }
static size_t n_out(const slot *s) { return s->n_sizes ? s->sizes[s->n_sizes - 1] : 0; }
static size_t esize(swiftmlp_dtype d) { return d == SWIFTMLP_FLOAT32 ? 4 : 8; }

static void forget(slot *s)
{
    memset(s, 0, sizeof *s);
}

static void fill_shape(slot *s, const size_t *sizes, size_t n, swiftmlp_dtype dtype, int loss)
{
    memset(s->sizes, 0, sizeof s->sizes);
    memcpy(s->sizes, sizes, n * sizeof *sizes);
    s->n_sizes = n;
    s->dtype = dtype;
    s->loss = loss;
    s->params = 0;
    for (size_t l = 0; l + 1 < n; l++) s->params += sizes[l + 1] * sizes[l] + sizes[l + 1];
    s->fwd_rows = s->q_rows = 0;
    s->dl_ready = s->grads = s->fresh = 0;
}

/* The library's view of a slot must match the harness's. */
static void check_shape(const slot *s)
{
    size_t got[4], count = 0, nl = 0;
    swiftmlp_dtype dt = 0;
    EXPECT(swiftmlp_get_layer_count(s->net, &nl), SM(OK));
    FUZZ_ASSERT(nl == layers(s), "layer_count %zu, expected %zu", nl, layers(s));
    EXPECT(swiftmlp_get_sizes(s->net, got, 4), SM(OK));
    FUZZ_ASSERT(memcmp(got, s->sizes, s->n_sizes * sizeof(size_t)) == 0, "get_sizes differs");
    EXPECT(swiftmlp_get_param_count(s->net, &count), SM(OK));
    FUZZ_ASSERT(count == s->params, "param_count %zu, expected %zu", count, s->params);
    EXPECT(swiftmlp_get_dtype(s->net, &dt), SM(OK));
    FUZZ_ASSERT(dt == s->dtype, "get_dtype %d, expected %d", (int)dt, (int)s->dtype);
}

/* ---- buffers ------------------------------------------------------------------ */

/* A dtype argument: usually the network's, sometimes the other one, sometimes unknown. */
static swiftmlp_dtype pick_dtype(reader *r, swiftmlp_dtype own)
{
    uint8_t b = u8(r) % 16;
    if (b < 13) return own;
    if (b < 15) return own == SWIFTMLP_FLOAT32 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
    static const uint32_t bad[] = {0, 3, 0x7fffffffu};
    return (swiftmlp_dtype)bad[u8(r) % 3];
}

/* A count in 1..max, or 0 (invalid) for a byte >= 250. */
static size_t pick_count(reader *r, size_t max)
{
    uint8_t b = u8(r);
    return b >= 250 ? 0 : 1 + b % max;
}

/* A length/capacity argument around `need`. */
static size_t pick_len(reader *r, size_t need)
{
    uint8_t b = u8(r) % 16;
    switch (b) {
    case 12: return need > 0 ? need - 1 : 0;
    case 13: return need + 1;
    case 14: return 0;
    case 15: return need * 2 + 3;
    default: return need;
    }
}

/* malloc'd room for `len` elements of `dtype` (at least 1 byte). */
static void *alloc_elems(swiftmlp_dtype dtype, size_t len)
{
    size_t bytes = len * esize(dtype);
    void *p = malloc(bytes ? bytes : 1);
    if (p == NULL) abort();
    return p;
}

/* Fill with finite values from the reader; maybe plant one NaN/inf.  Returns 1 if all finite. */
static int fill_values(reader *r, swiftmlp_dtype dtype, void *buf, size_t len, int unit_range)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t b = u8(r);
        double v = unit_range ? (b % 2 ? 1.0 : 0.0) : ((double)b - 128.0) / 32.0;
        if (dtype == SWIFTMLP_FLOAT32) ((float *)buf)[i] = (float)v; else ((double *)buf)[i] = v;
    }
    if (len > 0 && u8(r) % 16 == 15) {
        size_t at = u8(r) % len;
        double bad = (u8(r) % 2) ? NAN : -INFINITY;
        if (dtype == SWIFTMLP_FLOAT32) ((float *)buf)[at] = (float)bad; else ((double *)buf)[at] = bad;
        return 0;
    }
    return 1;
}

/* The buffer pointer to pass: sometimes NULL (the library must refuse it before reading). */
static const void *maybe_null(reader *r, const void *p) { return (u8(r) % 32 == 31) ? NULL : p; }

/* ---- snapshots: a failing call must change nothing -------------------------- */
typedef struct snap {
    void *data;
    size_t bytes;
} snap;

static snap take(const slot *s)
{
    snap sn = {NULL, 0};
    if (s->net == NULL) return sn;
    sn.bytes = s->params * esize(s->dtype);
    sn.data = alloc_elems(s->dtype, s->params);
    EXPECT(swiftmlp_get_params(s->net, s->dtype, sn.data, s->params), SM(OK));
    return sn;
}

static void same_or_die(const slot *s, snap *before, const char *what)
{
    if (s->net != NULL && before->data != NULL) {
        snap after = take(s);
        FUZZ_ASSERT(after.bytes == before->bytes && memcmp(after.data, before->data, after.bytes) == 0,
                    "%s changed the parameters", what);
        free(after.data);
    }
    free(before->data);
    before->data = NULL;
}

/* ---- operations ---------------------------------------------------------------- */

static void op_create(reader *r, slot *s)
{
    static const size_t huge[] = {SWIFTMLP_MAX_LAYER_SIZE + 1, SIZE_MAX, (size_t)1 << 33, 0};
    size_t sizes[6];
    uint8_t shape = u8(r);
    size_t n = 2 + shape % 3;          /* 2..4 */
    if (shape >= 250) n = shape % 2;   /* 0 or 1: invalid */
    if (shape >= 240 && shape < 250) n = 5 + shape % 2; /* more than the slot tracks, still valid */
    int sizes_ok = n >= 2, too_big = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = u8(r);
        if (b >= 252) {
            sizes[i] = huge[b - 252];
            if (sizes[i] == 0) sizes_ok = 0; else too_big = 1;
        } else if (b >= 240) {
            sizes[i] = 0; /* invalid */
            sizes_ok = 0;
        } else {
            sizes[i] = 1 + b % 8;
        }
    }
    swiftmlp_dtype dtype = pick_dtype(r, (u8(r) & 1) ? SWIFTMLP_FLOAT32 : SWIFTMLP_FLOAT64);
    int dtype_ok = dtype == SWIFTMLP_FLOAT32 || dtype == SWIFTMLP_FLOAT64;
    uint64_t seed = u64(r);
    swiftmlp_net *net = (swiftmlp_net *)(uintptr_t)1;
    swiftmlp_status st;
    int loss = SWIFTMLP_LOSS_MSE;
    int surely_ok = sizes_ok && dtype_ok && !too_big;

    if (u8(r) % 2 == 0) {
        st = EXPECT(swiftmlp_create(sizes, n, dtype, seed, &net),
                    surely_ok ? SM(OK) : (SM(ERR_INVALID_ARGUMENT) | SM(ERR_TOO_LARGE) | SM(ERR_OUT_OF_MEMORY)));
    } else {
        swiftmlp_config cfg;
        EXPECT(swiftmlp_config_default(&cfg), SM(OK));
        FUZZ_ASSERT(cfg.struct_size == sizeof cfg && cfg.dtype == SWIFTMLP_FLOAT64 && cfg.loss == SWIFTMLP_LOSS_MSE,
                    "config_default gave unexpected defaults");
        cfg.sizes = sizes;
        cfg.n_sizes = n;
        cfg.dtype = dtype;
        cfg.seed = seed;
        swiftmlp_activation acts[6];
        size_t L = n >= 1 ? n - 1 : 0;
        uint8_t na = u8(r) % 4;
        size_t n_act = na == 0 ? 0 : na == 1 ? 1 : na == 2 ? L : L + 1;
        if (n_act > 6) n_act = 6;
        int acts_ok = n_act == 0 || n_act == 1 || n_act == L;
        int hidden_softmax = 0, out_act = SWIFTMLP_SIGMOID;
        for (size_t i = 0; i < n_act; i++) {
            uint8_t a = u8(r) % 8;
            acts[i] = (swiftmlp_activation)(a < 6 ? a : (a == 6 ? 6u : 0xffffffffu));
            if (a >= 6) acts_ok = 0;
        }
        if (n_act == 1 && L > 1 && acts[0] == SWIFTMLP_SOFTMAX) hidden_softmax = 1;
        if (n_act == L) {
            for (size_t i = 0; i + 1 < n_act; i++)
                if (acts[i] == SWIFTMLP_SOFTMAX) hidden_softmax = 1;
        }
        if (n_act >= 1) out_act = (int)acts[n_act == 1 ? 0 : n_act - 1];
        cfg.activations = (na == 0 || n_act == 0) ? NULL : acts;
        cfg.n_activations = n_act;
        if (na == 0 && u8(r) % 4 == 3) cfg.n_activations = 3; /* with NULL activations: not assumed either way */
        cfg.leaky_slope = (u8(r) % 4 == 3) ? real(r) : 0.01;
        uint8_t lb = u8(r) % 5;
        cfg.loss = (swiftmlp_loss)(lb < 3 ? lb : 7);
        uint8_t ib = u8(r) % 4;
        cfg.init = (swiftmlp_init)(ib < 3 ? ib : 9);
        if (u8(r) % 16 == 15) cfg.struct_size = sizeof cfg - 8;
        loss = (int)cfg.loss;
        int loss_ok = (lb == 0) || (lb == 1 && out_act == SWIFTMLP_SIGMOID) || (lb == 2 && out_act == SWIFTMLP_SOFTMAX);
        surely_ok = surely_ok && acts_ok && !hidden_softmax && loss_ok && ib < 3 && lb < 3 &&
                    cfg.struct_size == sizeof cfg && finite_ok(cfg.leaky_slope) &&
                    !(na == 0 && cfg.n_activations != 0);
        int surely_bad = !sizes_ok || !dtype_ok || too_big || lb >= 3 || ib >= 3 || cfg.struct_size != sizeof cfg ||
                         !finite_ok(cfg.leaky_slope) || (cfg.activations != NULL && !acts_ok) || hidden_softmax ||
                         !loss_ok;
        uint32_t fail = SM(ERR_INVALID_ARGUMENT) | SM(ERR_TOO_LARGE) | SM(ERR_OUT_OF_MEMORY);
        st = EXPECT(swiftmlp_create_with_config(&cfg, &net),
                    surely_ok ? SM(OK) : surely_bad ? fail : (fail | SM(OK)));
    }
    if (st != SWIFTMLP_OK) {
        FUZZ_ASSERT(net == NULL, "create failed but set a non-NULL handle");
        return;
    }
    FUZZ_ASSERT(net != NULL, "create returned OK and a NULL handle");
    if (n > 4) { /* valid, but wider than a slot: check it and let it go */
        swiftmlp_free(net);
        return;
    }
    if (s->net) {
        g_stale = s->net;
        swiftmlp_free(s->net);
    }
    forget(s);
    s->net = net;
    fill_shape(s, sizes, n, dtype, loss);
    check_shape(s);
}

static void op_forward(reader *r, slot *s)
{
    swiftmlp_dtype dt = pick_dtype(r, s->dtype);
    size_t batch = pick_count(r, 6);
    size_t x_len = pick_len(r, batch * n_in(s)), y_cap = pick_len(r, batch * n_out(s));
    void *x = alloc_elems(dt, x_len), *y = alloc_elems(dt, y_cap);
    int finite = fill_values(r, dt, x, x_len, 0);
    const void *xp = maybe_null(r, x);
    int ok = s->net && dt == s->dtype && batch >= 1 && xp && x_len == batch * n_in(s) &&
             y_cap >= batch * n_out(s) && finite;
    snap before = take(s);
    swiftmlp_status st = EXPECT(swiftmlp_forward(s->net, dt, xp, x_len, batch, y, y_cap),
                                ok ? (SM(OK) | SM(ERR_OUT_OF_MEMORY))
                                   : (s->net ? SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) |
                                                   SM(ERR_BUFFER_SIZE) | SM(ERR_NON_FINITE) | SM(ERR_TOO_LARGE)
                                             : SM(ERR_NULL_POINTER)));
    same_or_die(s, &before, "forward");
    if (st == SWIFTMLP_OK) {
        s->fwd_rows = s->q_rows = (int)batch;
        s->dl_ready = 0;
    }
    free(x);
    free(y);
}

/* What backward / backward_labels may return: OK only after a forward of
 * this batch (either when the harness lost track), `bad` for wrong
 * arguments. */
static uint32_t backward_allowed(const slot *s, int args_ok, size_t batch, uint32_t bad)
{
    if (!s->net) return SM(ERR_NULL_POINTER);
    if (args_ok && s->fwd_rows == (int)batch) return SM(OK);
    if (args_ok && s->fwd_rows == UNKNOWN) return SM(OK) | SM(ERR_STATE);
    if (args_ok) return SM(ERR_STATE);
    return bad;
}

/* A successful backward leaves fresh gradients and dL/d quantities. */
static void backward_done(slot *s, swiftmlp_status st)
{
    if (st == SWIFTMLP_OK) {
        s->grads = s->fresh = 1;
        s->dl_ready = 1;
    }
}

static void op_backward(reader *r, slot *s)
{
    swiftmlp_dtype dt = pick_dtype(r, s->dtype);
    size_t batch = (u8(r) % 4 == 3) ? u8(r) % 7 : (s->fwd_rows > 0 ? (size_t)s->fwd_rows : 1);
    size_t y_len = pick_len(r, batch * n_out(s));
    void *y = alloc_elems(dt, y_len);
    int finite = fill_values(r, dt, y, y_len, 1);
    const void *yp = maybe_null(r, y);
    int args_ok = s->net && dt == s->dtype && batch >= 1 && yp && y_len == batch * n_out(s) && finite;
    uint32_t allowed = backward_allowed(s, args_ok, batch,
                                        SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) |
                                            SM(ERR_BUFFER_SIZE) | SM(ERR_NON_FINITE) | SM(ERR_STATE));
    double loss = -1;
    snap before = take(s);
    swiftmlp_status st = EXPECT(swiftmlp_backward(s->net, dt, yp, y_len, batch, (u8(r) & 1) ? &loss : NULL), allowed);
    same_or_die(s, &before, "backward");
    backward_done(s, st);
    free(y);
}

static void op_backward_labels(reader *r, slot *s)
{
    size_t batch = (u8(r) % 4 == 3) ? u8(r) % 7 : (s->fwd_rows > 0 ? (size_t)s->fwd_rows : 1);
    size_t len = pick_len(r, batch);
    int64_t *labels = malloc((len ? len : 1) * sizeof *labels);
    if (!labels) abort();
    int in_range = 1;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = u8(r);
        size_t nl = s->net ? n_out(s) : 9;
        labels[i] = b < 250 ? (int64_t)(b % nl)                       /* in range */
                  : b < 253 ? (int64_t)(nl + (size_t)(b - 250))       /* one past the end and beyond */
                  : b == 253 ? -1 : b == 254 ? INT64_MAX : INT64_MIN;
        if (!s->net || labels[i] < 0 || (size_t)labels[i] >= n_out(s)) in_range = 0;
    }
    const int64_t *lp = maybe_null(r, labels);
    int args_ok = s->net && batch >= 1 && lp && len == batch && in_range && s->loss == SWIFTMLP_LOSS_CROSS_ENTROPY;
    uint32_t allowed = backward_allowed(s, args_ok, batch,
                                        SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_BUFFER_SIZE) |
                                            SM(ERR_STATE));
    double loss;
    snap before = take(s);
    swiftmlp_status st = EXPECT(swiftmlp_backward_labels(s->net, lp, len, batch, &loss), allowed);
    same_or_die(s, &before, "backward_labels");
    backward_done(s, st);
    free(labels);
}

static void op_step(reader *r, slot *s)
{
    double lr = real(r);
    int lr_ok = finite_ok(lr) && lr >= 0;
    uint32_t allowed;
    if (!s->net) allowed = SM(ERR_NULL_POINTER);
    else if (!lr_ok) allowed = SM(ERR_INVALID_ARGUMENT) | SM(ERR_STATE);
    else if (s->fresh == 1) allowed = SM(OK) | SM(ERR_NON_FINITE);
    else if (s->fresh == 0) allowed = SM(ERR_STATE); /* no backward, or its gradients consumed */
    else allowed = SM(OK) | SM(ERR_STATE) | SM(ERR_NON_FINITE);
    snap before = take(s);
    swiftmlp_status st = EXPECT(swiftmlp_step(s->net, lr), allowed);
    if (st != SWIFTMLP_OK) same_or_die(s, &before, "a failed step");
    free(before.data);
    if (st == SWIFTMLP_OK) s->fwd_rows = s->fresh = 0;
}

static void op_set_optimizer(reader *r, slot *s)
{
    swiftmlp_optimizer o;
    uint8_t kb = u8(r) % 4;
    swiftmlp_optimizer_kind kind = (swiftmlp_optimizer_kind)(kb < 3 ? kb : 5);
    if (kb < 3) {
        EXPECT(swiftmlp_optimizer_default(kind, &o), SM(OK));
    } else {
        EXPECT(swiftmlp_optimizer_default(kind, &o), SM(ERR_INVALID_ARGUMENT));
        EXPECT(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o), SM(OK));
        o.kind = kind;
    }
    uint8_t which = u8(r);
    if (which & 1) o.lr = real(r);
    if (which & 2) o.momentum = real(r);
    if (which & 4) o.nesterov = u8(r) % 3;
    if (which & 8) o.beta1 = real(r);
    if (which & 16) o.beta2 = real(r);
    if (which & 32) o.eps = real(r);
    if (which & 64) o.weight_decay = real(r);
    if ((which & 128) && u8(r) % 4 == 0) o.struct_size = sizeof o + 8;
    if (u8(r) % 8 == 7) o.max_grad_norm = real(r);
    if (fuzz_avoid("optimizer-nonfinite-unused")) {
        /* Known bug: a non-finite value in a field the kind does not use is
           accepted, saved, and then refused by load_buffer. */
        if (kind == SWIFTMLP_OPT_SGD) {
            if (!finite_ok(o.beta1)) o.beta1 = 0.9;
            if (!finite_ok(o.beta2)) o.beta2 = 0.999;
            if (!finite_ok(o.eps)) o.eps = 1e-8;
        } else if (!finite_ok(o.momentum)) {
            o.momentum = 0;
        }
    }
    int in01_b1 = o.beta1 > 0 && o.beta1 < 1, in01_b2 = o.beta2 > 0 && o.beta2 < 1;
    int common = o.struct_size == sizeof o && kb < 3 && finite_ok(o.lr) && o.lr > 0 &&
                 finite_ok(o.weight_decay) && o.weight_decay >= 0 &&
                 finite_ok(o.max_grad_norm) && o.max_grad_norm >= 0;
    int sgd_ok = o.momentum >= 0 && o.momentum < 1 && !(o.nesterov && !(o.momentum > 0));
    int adam_ok = in01_b1 && in01_b2 && finite_ok(o.eps) && o.eps > 0;
    int core_ok = common && (kind == SWIFTMLP_OPT_SGD ? sgd_ok : adam_ok);
    int others_ok = kind == SWIFTMLP_OPT_SGD ? adam_ok : sgd_ok;
    const swiftmlp_optimizer *op = maybe_null(r, &o);
    uint32_t fail = SM(ERR_INVALID_ARGUMENT);
    uint32_t allowed = !s->net || !op ? SM(ERR_NULL_POINTER)
                     : !core_ok ? fail
                     : others_ok ? (SM(OK) | SM(ERR_OUT_OF_MEMORY))
                                 : (SM(OK) | SM(ERR_OUT_OF_MEMORY) | fail);
    swiftmlp_status st = EXPECT(swiftmlp_set_optimizer(s->net, op), allowed);
    if (st == SWIFTMLP_OK) {
        s->opt = 1;
        swiftmlp_optimizer back;
        EXPECT(swiftmlp_get_optimizer(s->net, &back), SM(OK));
        FUZZ_ASSERT(back.kind == o.kind && (back.lr == o.lr) && back.struct_size == sizeof back,
                    "get_optimizer does not return what set_optimizer took");
        uint64_t steps = 1;
        EXPECT(swiftmlp_get_step_count(s->net, &steps), SM(OK));
        FUZZ_ASSERT(steps == 0, "a fresh optimizer has step count %llu", (unsigned long long)steps);
    }
}

static void op_optimizer_misc(reader *r, slot *s)
{
    uint8_t which = u8(r) % 5;
    snap before = take(s);
    if (which == 4) {
        double lr = real(r);
        EXPECT(swiftmlp_set_learning_rate(s->net, lr),
               !s->net ? SM(ERR_NULL_POINTER)
               : !s->opt ? SM(ERR_STATE)
               : finite_ok(lr) && lr > 0 ? SM(OK) : SM(ERR_INVALID_ARGUMENT));
    } else if (which == 0) {
        uint32_t allowed = !s->net ? SM(ERR_NULL_POINTER)
                         : s->opt && s->fresh == 1 ? SM(OK) | SM(ERR_NON_FINITE)
                         : s->opt && s->fresh == UNKNOWN ? SM(OK) | SM(ERR_NON_FINITE) | SM(ERR_STATE)
                         : SM(ERR_STATE);
        swiftmlp_status st = EXPECT(swiftmlp_optimizer_step(s->net), allowed);
        if (st == SWIFTMLP_OK) {
            s->fwd_rows = s->fresh = 0;
            free(before.data);
            return;
        }
    } else if (which == 1) {
        EXPECT(swiftmlp_reset_optimizer(s->net), !s->net ? SM(ERR_NULL_POINTER) : s->opt ? SM(OK) : SM(ERR_STATE));
        if (s->net && s->opt) {
            uint64_t steps = 1;
            EXPECT(swiftmlp_get_step_count(s->net, &steps), SM(OK));
            FUZZ_ASSERT(steps == 0, "step count %llu after reset_optimizer", (unsigned long long)steps);
        }
    } else if (which == 2) {
        swiftmlp_optimizer o;
        EXPECT(swiftmlp_get_optimizer(s->net, &o), !s->net ? SM(ERR_NULL_POINTER) : s->opt ? SM(OK) : SM(ERR_STATE));
    } else {
        uint64_t steps;
        EXPECT(swiftmlp_get_step_count(s->net, (u8(r) % 8 == 7) ? NULL : &steps),
               s->net ? SM(OK) | SM(ERR_NULL_POINTER) : SM(ERR_NULL_POINTER));
    }
    same_or_die(s, &before, "an optimizer call");
}

/* The whole-vector argument of set_params and set_grads, drawn from r:
 * dtype, length and values in buf (owned), arg = buf or NULL, and the
 * statuses the call may return. */
typedef struct flat_arg {
    swiftmlp_dtype dt;
    size_t len;
    void *buf;
    const void *arg;
    uint32_t allowed;
} flat_arg;

static flat_arg pick_flat_arg(reader *r, const slot *s)
{
    flat_arg a;
    a.dt = pick_dtype(r, s->dtype);
    a.len = pick_len(r, s->params);
    a.buf = alloc_elems(a.dt, a.len);
    int finite = fill_values(r, a.dt, a.buf, a.len, 0);
    a.arg = maybe_null(r, a.buf);
    int ok = s->net && a.dt == s->dtype && a.arg && a.len == s->params && finite;
    a.allowed = !s->net ? SM(ERR_NULL_POINTER)
                : ok    ? SM(OK)
                        : SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) | SM(ERR_BUFFER_SIZE) |
                           SM(ERR_NON_FINITE);
    return a;
}

static void op_set_params(reader *r, slot *s)
{
    flat_arg a = pick_flat_arg(r, s);
    void *p = a.buf;
    snap before = take(s);
    swiftmlp_status st = EXPECT(swiftmlp_set_params(s->net, a.dt, a.arg, a.len), a.allowed);
    if (st == SWIFTMLP_OK) {
        snap after = take(s);
        FUZZ_ASSERT(memcmp(after.data, p, after.bytes) == 0, "get_params after set_params differs");
        free(after.data);
        free(before.data);
        s->fwd_rows = s->fresh = 0;
    } else {
        same_or_die(s, &before, "a failed set_params");
    }
    free(p);
}

/* set_grads: on success get_grads reads the values back and a step may use
 * them; on failure parameters and gradients are unchanged (and a network
 * without gradients still has none). */
static void op_set_grads(reader *r, slot *s)
{
    flat_arg a = pick_flat_arg(r, s);
    void *g = a.buf;
    snap before = take(s);
    void *grads_before = NULL;
    if (s->net && s->grads == 1) {
        grads_before = alloc_elems(s->dtype, s->params);
        EXPECT(swiftmlp_get_grads(s->net, s->dtype, grads_before, s->params), SM(OK));
    }
    swiftmlp_status st = EXPECT(swiftmlp_set_grads(s->net, a.dt, a.arg, a.len), a.allowed);
    if (s->net) {
        void *now = alloc_elems(s->dtype, s->params);
        swiftmlp_status got = swiftmlp_get_grads(s->net, s->dtype, now, s->params);
        if (st == SWIFTMLP_OK) {
            FUZZ_ASSERT(got == SWIFTMLP_OK && memcmp(now, g, s->params * esize(s->dtype)) == 0,
                        "get_grads after set_grads differs");
            s->grads = s->fresh = 1; /* a step may consume them */
        } else if (grads_before != NULL) {
            FUZZ_ASSERT(got == SWIFTMLP_OK && memcmp(now, grads_before, s->params * esize(s->dtype)) == 0,
                        "a failed set_grads changed the gradients");
        } else if (s->grads == 0) {
            FUZZ_ASSERT(got == SWIFTMLP_ERR_STATE, "a failed set_grads left gradients behind");
        }
        free(now);
    }
    same_or_die(s, &before, "set_grads");
    free(grads_before);
    free(g);
}

static void op_set_layer(reader *r, slot *s)
{
    size_t layer = u8(r) % 5;
    int layer_ok = s->net && layer < layers(s);
    size_t wn = layer_ok ? s->sizes[layer + 1] * s->sizes[layer] : 4, bn = layer_ok ? s->sizes[layer + 1] : 2;
    swiftmlp_dtype dt = pick_dtype(r, s->dtype);
    size_t w_len = pick_len(r, wn), b_len = pick_len(r, bn);
    void *w = alloc_elems(dt, w_len), *b = alloc_elems(dt, b_len);
    int finite = fill_values(r, dt, w, w_len, 0); /* two statements: the reader's order is fixed */
    finite &= fill_values(r, dt, b, b_len, 0);
    const void *wp = maybe_null(r, w), *bp = maybe_null(r, b);
    int ok = layer_ok && dt == s->dtype && wp && bp && w_len == wn && b_len == bn && finite;
    snap before = take(s);
    swiftmlp_status st = EXPECT(swiftmlp_set_layer(s->net, layer, dt, wp, w_len, bp, b_len),
                                !s->net ? SM(ERR_NULL_POINTER)
                                : ok ? SM(OK)
                                     : SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) |
                                           SM(ERR_LAYER_INDEX) | SM(ERR_BUFFER_SIZE) | SM(ERR_NON_FINITE));
    if (st == SWIFTMLP_OK) {
        free(before.data);
        s->fwd_rows = s->fresh = 0;
        void *w2 = alloc_elems(dt, wn), *b2 = alloc_elems(dt, bn);
        EXPECT(swiftmlp_get_layer(s->net, layer, dt, w2, wn, b2, bn), SM(OK));
        FUZZ_ASSERT(memcmp(w2, w, wn * esize(dt)) == 0 && memcmp(b2, b, bn * esize(dt)) == 0,
                    "get_layer after set_layer differs");
        free(w2);
        free(b2);
    } else {
        same_or_die(s, &before, "a failed set_layer");
    }
    free(w);
    free(b);
}

static void op_get(reader *r, slot *s)
{
    uint8_t which = u8(r) % 9;
    swiftmlp_dtype dt = pick_dtype(r, s->dtype);
    int dt_ok = dt == s->dtype;
    uint32_t null_only = SM(ERR_NULL_POINTER);
    snap before = take(s);
    switch (which) {
    case 0:
    case 1: { /* get_params / get_grads */
        size_t cap = pick_len(r, s->params);
        void *out = alloc_elems(dt, cap);
        void *op = (void *)maybe_null(r, out);
        int ok = s->net && dt_ok && op && cap >= s->params;
        uint32_t fail = SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) | SM(ERR_BUFFER_SIZE);
        if (which == 0) {
            EXPECT(swiftmlp_get_params(s->net, dt, op, cap), !s->net ? null_only : ok ? SM(OK) : fail);
        } else {
            uint32_t allowed = !s->net ? null_only
                             : !ok ? fail | SM(ERR_STATE)
                             : s->grads == 1 ? SM(OK) : s->grads == 0 ? SM(ERR_STATE) : SM(OK) | SM(ERR_STATE);
            EXPECT(swiftmlp_get_grads(s->net, dt, op, cap), allowed);
        }
        free(out);
        break;
    }
    case 2:
    case 3: { /* get_layer / get_layer_grads */
        size_t layer = u8(r) % 5;
        int layer_ok = s->net && layer < layers(s);
        size_t wn = layer_ok ? s->sizes[layer + 1] * s->sizes[layer] : 4, bn = layer_ok ? s->sizes[layer + 1] : 2;
        size_t wc = pick_len(r, wn), bc = pick_len(r, bn);
        void *w = alloc_elems(dt, wc), *b = alloc_elems(dt, bc);
        int ok = layer_ok && dt_ok && wc >= wn && bc >= bn;
        uint32_t fail = SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) | SM(ERR_LAYER_INDEX) | SM(ERR_BUFFER_SIZE);
        if (which == 2) {
            EXPECT(swiftmlp_get_layer(s->net, layer, dt, w, wc, b, bc), !s->net ? null_only : ok ? SM(OK) : fail);
        } else {
            uint32_t allowed = !s->net ? null_only
                             : !ok ? fail | SM(ERR_STATE)
                             : s->grads == 1 ? SM(OK) : s->grads == 0 ? SM(ERR_STATE) : SM(OK) | SM(ERR_STATE);
            EXPECT(swiftmlp_get_layer_grads(s->net, layer, dt, w, wc, b, bc), allowed);
        }
        free(w);
        free(b);
        break;
    }
    case 4: { /* get_quantity */
        uint8_t qb = u8(r) % 5;
        swiftmlp_quantity q = (swiftmlp_quantity)(qb < 4 ? qb : 11);
        size_t layer = u8(r) % 6;
        size_t rows = s->q_rows > 0 ? (size_t)s->q_rows : 1;
        size_t width = (s->net && layer < s->n_sizes) ? s->sizes[layer] : 1;
        size_t cap = pick_len(r, rows * width);
        void *out = alloc_elems(dt, cap);
        int shape_ok = s->net && qb < 4 && layer <= layers(s) && (layer > 0 || q == SWIFTMLP_Q_G) && dt_ok;
        int have = s->q_rows > 0 && (qb < 2 || s->dl_ready == 1);
        int ok = shape_ok && have && cap >= rows * width;
        int maybe = shape_ok && (s->q_rows == UNKNOWN || (s->q_rows > 0 && qb >= 2 && s->dl_ready == UNKNOWN));
        uint32_t fail = SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) | SM(ERR_LAYER_INDEX) | SM(ERR_STATE) |
                        SM(ERR_BUFFER_SIZE);
        EXPECT(swiftmlp_get_quantity(s->net, q, layer, dt, out, cap),
               !s->net ? null_only : ok ? SM(OK) : maybe ? fail | SM(OK) : fail);
        free(out);
        break;
    }
    case 5: { /* cached_rows */
        size_t rows = 12345;
        swiftmlp_status st = EXPECT(swiftmlp_get_cached_rows(s->net, &rows),
                                    !s->net ? null_only : s->q_rows > 0 ? SM(OK) : s->q_rows == 0 ? SM(ERR_STATE)
                                                                                   : SM(OK) | SM(ERR_STATE));
        if (st == SWIFTMLP_OK && s->q_rows > 0)
            FUZZ_ASSERT(rows == (size_t)s->q_rows, "cached_rows %zu, expected %d", rows, s->q_rows);
        break;
    }
    case 6: { /* get_config + get_activations */
        swiftmlp_config cfg;
        if (EXPECT(swiftmlp_get_config(s->net, &cfg), !s->net ? null_only : SM(OK)) == SWIFTMLP_OK) {
            FUZZ_ASSERT(cfg.n_sizes == s->n_sizes && memcmp(cfg.sizes, s->sizes, s->n_sizes * sizeof(size_t)) == 0 &&
                            cfg.n_activations == layers(s) && (int)cfg.loss == s->loss,
                        "get_config disagrees");
        }
        size_t cap = pick_len(r, s->net ? layers(s) : 1);
        swiftmlp_activation *acts = malloc((cap ? cap : 1) * sizeof *acts);
        if (!acts) abort();
        EXPECT(swiftmlp_get_activations(s->net, acts, cap),
               !s->net ? null_only : cap >= layers(s) ? SM(OK) : SM(ERR_BUFFER_SIZE));
        free(acts);
        break;
    }
    case 7: { /* get_sizes with a fuzzed capacity, layer_offsets with a fuzzed layer */
        size_t cap = pick_len(r, s->n_sizes), *sz = malloc((cap ? cap : 1) * sizeof *sz);
        if (!sz) abort();
        EXPECT(swiftmlp_get_sizes(s->net, sz, cap),
               !s->net ? null_only : cap >= s->n_sizes ? SM(OK) : SM(ERR_BUFFER_SIZE));
        free(sz);
        size_t layer = u8(r) % 6, wo, bo;
        EXPECT(swiftmlp_get_layer_offsets(s->net, layer, &wo, &bo),
               !s->net ? null_only : layer < layers(s) ? SM(OK) : SM(ERR_LAYER_INDEX));
        break;
    }
    default: { /* NULL out-parameters */
        EXPECT(swiftmlp_get_param_count(s->net, NULL), SM(ERR_NULL_POINTER));
        EXPECT(swiftmlp_get_dtype(s->net, NULL), SM(ERR_NULL_POINTER));
        EXPECT(swiftmlp_save_size(s->net, 0, NULL), SM(ERR_NULL_POINTER));
        break;
    }
    }
    same_or_die(s, &before, "a getter");
}

static void op_save_load(reader *r, slot *s, slot *other)
{
    uint8_t fb = u8(r) % 6;
    uint32_t flags = fb < 4 ? (fb & 1) : (fb == 4 ? 2u : 0x80000000u);
    size_t size = 0;
    snap before = take(s);
    swiftmlp_status st = EXPECT(swiftmlp_save_size(s->net, flags, &size),
                                !s->net ? SM(ERR_NULL_POINTER) : fb < 4 ? SM(OK) : SM(ERR_INVALID_ARGUMENT));
    if (st != SWIFTMLP_OK) {
        same_or_die(s, &before, "save_size");
        return;
    }
    size_t cap = pick_len(r, size), written = 7;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) abort();
    st = EXPECT(swiftmlp_save_buffer(s->net, flags, buf, cap, &written),
                cap >= size ? SM(OK) : SM(ERR_BUFFER_SIZE));
    same_or_die(s, &before, "save_buffer");
    if (st != SWIFTMLP_OK) {
        FUZZ_ASSERT(written == size, "save_buffer with a short buffer reported %zu needed, save_size %zu", written, size);
        free(buf);
        return;
    }
    FUZZ_ASSERT(written == size, "save_buffer wrote %zu, save_size %zu", written, size);

    uint8_t how = u8(r) % 4;
    if (how == 3) { /* a corrupted copy: any outcome but a crash; a handle is freed at once */
        size_t len = size;
        if (u8(r) & 1) len = size ? u16(r) % size : 0;
        if (len > 0 && (u8(r) & 1)) buf[u16(r) % len] ^= (unsigned char)(1u << (u8(r) % 8));
        swiftmlp_net *bad = NULL;
        st = EXPECT(swiftmlp_load_buffer(len ? buf : (const void *)"", len, &bad),
                    SM(OK) | SM(ERR_FORMAT) | SM(ERR_OUT_OF_MEMORY));
        if (st == SWIFTMLP_OK) swiftmlp_free(bad);
        else FUZZ_ASSERT(bad == NULL, "a failed load left a handle");
        free(buf);
        return;
    }
    swiftmlp_net *copy = NULL;
    st = EXPECT(swiftmlp_load_buffer(buf, size, &copy), SM(OK) | SM(ERR_OUT_OF_MEMORY));
    free(buf);
    if (st != SWIFTMLP_OK) return;
    slot fresh = *s;
    fresh.net = copy;
    fresh.fwd_rows = fresh.q_rows = 0;
    fresh.dl_ready = fresh.grads = fresh.fresh = 0;
    check_shape(&fresh);
    snap a = take(s), b = take(&fresh);
    FUZZ_ASSERT(a.bytes == b.bytes && memcmp(a.data, b.data, a.bytes) == 0, "a loaded copy has different parameters");
    free(a.data);
    free(b.data);
    if (other->net) {
        g_stale = other->net;
        swiftmlp_free(other->net);
    }
    *other = fresh;
}

static void op_predict(reader *r, slot *s)
{
    uint8_t rb = u8(r);
    /* 1..7, or 0, or 250..295 (more than one 256-row chunk) */
    size_t rows = rb < 200 ? 1 + (size_t)rb % 7 : rb < 210 ? 0 : (size_t)250 + rb % 46;
    swiftmlp_dtype dt = pick_dtype(r, s->dtype);
    size_t x_len = pick_len(r, rows * n_in(s)), y_cap = pick_len(r, rows * n_out(s));
    void *x = alloc_elems(dt, x_len), *y = alloc_elems(dt, y_cap);
    int finite = fill_values(r, dt, x, x_len, 0);
    const void *xp = maybe_null(r, x);
    int ok = s->net && dt == s->dtype && rows >= 1 && xp && x_len == rows * n_in(s) && finite;
    uint32_t fail = SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) | SM(ERR_BUFFER_SIZE) |
                    SM(ERR_NON_FINITE);
    snap before = take(s);
    if ((u8(r) & 1) == 0) {
        EXPECT(swiftmlp_predict(s->net, dt, xp, x_len, rows, y, y_cap),
               !s->net ? SM(ERR_NULL_POINTER) : ok && y_cap >= rows * n_out(s) ? SM(OK) | SM(ERR_OUT_OF_MEMORY) : fail);
    } else {
        size_t t_len = pick_len(r, rows * n_out(s));
        void *t = alloc_elems(dt, t_len);
        int tf = fill_values(r, dt, t, t_len, 1);
        double loss;
        double *lp = (u8(r) % 16 == 15) ? NULL : &loss;
        ok = ok && tf && t_len == rows * n_out(s) && lp;
        EXPECT(swiftmlp_evaluate(s->net, dt, xp, x_len, t, t_len, rows, lp),
               !s->net ? SM(ERR_NULL_POINTER) : ok ? SM(OK) | SM(ERR_OUT_OF_MEMORY) : fail);
        free(t);
    }
    same_or_die(s, &before, "predict/evaluate");
    free(x);
    free(y);
}

typedef struct fit_cb {
    int calls, cancel_at;
    slot *other; /* the callback may use OTHER networks */
} fit_cb;

static int on_progress(const swiftmlp_progress *p, void *user)
{
    fit_cb *cb = user;
    FUZZ_ASSERT(p != NULL && p->epoch < p->epochs && p->batch <= p->n_batches, "bad progress report");
    if (cb->other && cb->other->net) {
        size_t n;
        EXPECT(swiftmlp_get_param_count(cb->other->net, &n), SM(OK));
    }
    return ++cb->calls == cb->cancel_at;
}

static void op_fit(reader *r, slot *s, slot *other)
{
    swiftmlp_dtype dt = pick_dtype(r, s->dtype);
    size_t rows = pick_count(r, 20);
    size_t x_len = pick_len(r, rows * n_in(s)), y_len = pick_len(r, rows * n_out(s));
    void *x = alloc_elems(dt, x_len), *y = alloc_elems(dt, y_len);
    int finite = fill_values(r, dt, x, x_len, 0);
    finite &= fill_values(r, dt, y, y_len, 1);
    swiftmlp_fit_options fo;
    EXPECT(swiftmlp_fit_options_default(&fo), SM(OK));
    fo.epochs = pick_count(r, 3);
    fo.batch_size = pick_count(r, 25);
    fo.shuffle = u8(r) % 2;
    fo.patience = u8(r) % 3;
    fo.min_delta = (u8(r) % 8 == 7) ? real(r) : 0.0;
    fo.restore_best = u8(r) % 2;
    fo.report_batches = u8(r) % 2;
    fit_cb cb = {0, 0, other};
    if (u8(r) % 2) {
        fo.progress = on_progress;
        fo.user_data = &cb;
        cb.cancel_at = u8(r) % 8; /* 0: never */
    }
    void *vx = NULL, *vy = NULL;
    int val_ok = 1;
    if (u8(r) % 3 == 0) {
        size_t vr = 1 + u8(r) % 5;
        size_t vxl = pick_len(r, vr * n_in(s)), vyl = pick_len(r, vr * n_out(s));
        vx = alloc_elems(dt, vxl);
        vy = alloc_elems(dt, vyl);
        val_ok = fill_values(r, dt, vx, vxl, 0);
        val_ok &= fill_values(r, dt, vy, vyl, 1);
        val_ok = val_ok && vxl == vr * n_in(s) && vyl == vr * n_out(s);
        fo.val_x = vx;
        fo.val_x_len = vxl;
        fo.val_y = vy;
        fo.val_y_len = vyl;
        fo.val_rows = vr;
    }
    int sched_ok = 1;
    if (u8(r) % 4 == 3) {
        uint8_t k = u8(r) % 6; /* 5: not a schedule */
        fo.lr_schedule = (swiftmlp_lr_schedule)k;
        fo.power_t = real(r);
        fo.lr_tol = real(r);
        fo.n_iter_no_change = u8(r) % 3;
        fo.step_size = u8(r) % 3;
        fo.gamma = real(r);
        fo.t_max = u8(r) % 3;
        fo.eta_min = real(r);
        sched_ok = k == 0 ? 1
                 : k == 1 ? finite_ok(fo.power_t) && fo.power_t >= 0
                 : k == 2 ? finite_ok(fo.lr_tol) && fo.lr_tol >= 0 && fo.n_iter_no_change >= 1
                 : k == 3 ? fo.step_size >= 1 && finite_ok(fo.gamma) && fo.gamma > 0 && fo.gamma <= 1
                 : k == 4 ? fo.t_max >= 1 && finite_ok(fo.eta_min) && fo.eta_min >= 0
                          : 0;
    }
    void *w = NULL;
    int w_ok = 1;
    if (u8(r) % 4 == 3) {
        size_t wl = pick_len(r, rows);
        w = alloc_elems(dt, wl);
        w_ok = fill_values(r, dt, w, wl, 1) && wl == rows;
        double total = 0;
        for (size_t i = 0; w_ok && i < wl; i++) total += dt == SWIFTMLP_FLOAT32 ? ((float *)w)[i] : ((double *)w)[i];
        w_ok = w_ok && total > 0;
        fo.sample_weight = maybe_null(r, w);
        fo.sample_weight_len = wl;
        w_ok = w_ok && fo.sample_weight != NULL;
    }
    int use_default = u8(r) % 8 == 7;
    int ok = s->net && dt == s->dtype && rows >= 1 && x_len == rows * n_in(s) && y_len == rows * n_out(s) && finite &&
             s->opt && (use_default || (fo.epochs >= 1 && fo.batch_size >= 1 && val_ok &&
                                        finite_ok(fo.min_delta) && fo.min_delta >= 0 && sched_ok && w_ok));
    uint32_t allowed = !s->net ? SM(ERR_NULL_POINTER)
                     : ok ? SM(OK) | SM(ERR_CANCELLED) | SM(ERR_NON_FINITE) | SM(ERR_OUT_OF_MEMORY)
                          : SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) | SM(ERR_BUFFER_SIZE) |
                                SM(ERR_NON_FINITE) | SM(ERR_STATE) | SM(ERR_TOO_LARGE) | SM(ERR_OUT_OF_MEMORY) |
                                SM(ERR_CANCELLED) | SM(OK);
    swiftmlp_fit_result res;
    swiftmlp_status st = EXPECT(swiftmlp_fit(s->net, dt, x, x_len, y, y_len, rows, use_default ? NULL : &fo,
                                             (u8(r) & 1) ? &res : NULL),
                                allowed);
    if (ok && st == SWIFTMLP_ERR_CANCELLED) FUZZ_ASSERT(cb.cancel_at > 0, "fit cancelled without being asked");
    if (s->net && st != SWIFTMLP_ERR_INVALID_ARGUMENT && st != SWIFTMLP_ERR_DTYPE && st != SWIFTMLP_ERR_BUFFER_SIZE &&
        st != SWIFTMLP_ERR_STATE && st != SWIFTMLP_ERR_NULL_POINTER) {
        /* It trained (some of) the way: the harness no longer knows the caches. */
        s->fwd_rows = s->q_rows = UNKNOWN;
        s->dl_ready = s->grads = s->fresh = UNKNOWN;
    }
    free(x);
    free(y);
    free(vx);
    free(vy);
    free(w);
}

/* A batch for x/y calls: a dtype, a row count up to max_batch, x and y of
 * (possibly wrong) lengths, filled with (possibly non-finite) values. */
typedef struct xy {
    swiftmlp_dtype dt;
    size_t batch, x_len, y_len;
    void *x, *y;
    int finite; /* every value of x and y is finite */
} xy;

static xy pick_xy(reader *r, slot *s, size_t max_batch)
{
    xy d;
    d.dt = pick_dtype(r, s->dtype);
    d.batch = pick_count(r, max_batch);
    d.x_len = pick_len(r, d.batch * n_in(s));
    d.y_len = pick_len(r, d.batch * n_out(s));
    d.x = alloc_elems(d.dt, d.x_len);
    d.y = alloc_elems(d.dt, d.y_len);
    d.finite = fill_values(r, d.dt, d.x, d.x_len, 0);
    d.finite &= fill_values(r, d.dt, d.y, d.y_len, 1);
    return d;
}

static void xy_free(xy *d)
{
    free(d->x);
    free(d->y);
}

static void op_gradcheck(reader *r, slot *s)
{
    xy d = pick_xy(r, s, 3);
    double h = (u8(r) % 4 == 3) ? real(r) : 1e-5;
    int ok = s->net && d.dt == s->dtype && d.batch >= 1 && d.x_len == d.batch * n_in(s) &&
             d.y_len == d.batch * n_out(s) && d.finite && finite_ok(h) && h > 0;
    swiftmlp_gradcheck gc;
    snap before = take(s);
    EXPECT(swiftmlp_gradient_check(s->net, d.dt, d.x, d.x_len, d.y, d.y_len, d.batch, h, &gc),
           !s->net ? SM(ERR_NULL_POINTER)
           : ok ? SM(OK) | SM(ERR_OUT_OF_MEMORY) | SM(ERR_NON_FINITE)
                : SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) | SM(ERR_BUFFER_SIZE) |
                      SM(ERR_NON_FINITE) | SM(ERR_TOO_LARGE));
    same_or_die(s, &before, "gradient_check");
    xy_free(&d);
}

static void op_train_step(reader *r, slot *s)
{
    xy d = pick_xy(r, s, 6);
    const void *xp = maybe_null(r, d.x), *yp = maybe_null(r, d.y);
    double loss;
    double *lp = (u8(r) % 8 == 7) ? NULL : &loss;
    int args_ok = s->net && d.dt == s->dtype && d.batch >= 1 && xp && yp && d.x_len == d.batch * n_in(s) &&
                  d.y_len == d.batch * n_out(s) && d.finite;
    uint32_t allowed = !s->net ? SM(ERR_NULL_POINTER)
                     : args_ok && s->opt ? SM(OK) | SM(ERR_NON_FINITE) | SM(ERR_OUT_OF_MEMORY)
                     : args_ok ? SM(ERR_STATE)
                               : SM(ERR_NULL_POINTER) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_DTYPE) |
                                     SM(ERR_BUFFER_SIZE) | SM(ERR_NON_FINITE) | SM(ERR_STATE);
    snap before = take(s);
    swiftmlp_status st = EXPECT(swiftmlp_train_step(s->net, d.dt, xp, d.x_len, yp, d.y_len, d.batch, lp), allowed);
    if (st == SWIFTMLP_OK) {
        free(before.data);
        s->fwd_rows = 0; /* the step invalidated the cache */
        s->q_rows = (int)d.batch;
        s->dl_ready = s->grads = 1;
        s->fresh = 0;    /* and consumed the gradients */
    } else {
        same_or_die(s, &before, "a failed train_step");
        if (st == SWIFTMLP_ERR_NON_FINITE && args_ok) {
            /* The step was refused; the cache and gradients hold this batch. */
            s->fwd_rows = UNKNOWN;
            s->q_rows = (int)d.batch;
            s->dl_ready = s->grads = s->fresh = 1;
        }
    }
    xy_free(&d);
}

static void op_free(slot *s)
{
    if (s->net) g_stale = s->net;
    swiftmlp_free(s->net); /* NULL is fine */
    forget(s);
}

static void op_stale(reader *r)
{
    /* A freed handle (unless its address is live again) and a foreign pointer. */
    swiftmlp_net *p = g_stale;
    size_t n;
    unsigned char foreign[64];
    memset(foreign, u8(r), sizeof foreign);
    if (p && p != g_slot[0].net && p != g_slot[1].net) {
        EXPECT(swiftmlp_get_layer_count(p, &n), SM(ERR_BAD_HANDLE));
        EXPECT(swiftmlp_predict(p, SWIFTMLP_FLOAT64, foreign, 1, 1, foreign, 1), SM(ERR_BAD_HANDLE));
        swiftmlp_free(p); /* a double free does nothing */
    }
    EXPECT(swiftmlp_get_layer_count((swiftmlp_net *)(void *)foreign, &n), SM(ERR_BAD_HANDLE));
    swiftmlp_free((swiftmlp_net *)(void *)foreign);
}

/* ---- forged handles and the whole size_t range (issue 15) -------------------
 *
 * OP_FORGED: any pointer value as a handle -- raw 64-bit values, the special
 * values around the registry's old markers (-1, ~1, ...), offsets from a
 * live or freed handle -- given to a function taking a net, then freed: the
 * call must return BAD_HANDLE (NULL_POINTER for NULL) and the free do
 * nothing; both networks stay intact.
 *
 * OP_SIZE: one size_t parameter of one call set to a fuzzed 64-bit value,
 * every other argument valid for the slot's network (the harness owns every
 * buffer in full for the valid sizes, so a fuzzed length or count can only
 * be refused and a fuzzed capacity only over-promise). Oracles: a status the
 * call may return, the message rules, a failing call changes nothing, and a
 * value of 2^63 or more behaves exactly as 2^63 - 1 (the header's rule).
 */
static double g_in[8 * 8 * 4], g_out[8 * 8 * 4], g_out2[8 * 8 * 4];
static int64_t g_labels[4];

static swiftmlp_status call_with_handle(swiftmlp_net *n, unsigned which)
{
    size_t sz = 0, sizes[8];
    uint64_t t;
    double loss;
    swiftmlp_optimizer o;
    swiftmlp_config c;
    swiftmlp_gradcheck g;
    swiftmlp_activation acts[8];
    swiftmlp_dtype dt;
    static unsigned char buf[1 << 12];
    swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o);
    switch (which % 32) {
    case 0: return swiftmlp_forward(n, SWIFTMLP_FLOAT64, g_in, 1, 1, g_out, 1);
    case 1: return swiftmlp_backward(n, SWIFTMLP_FLOAT64, g_in, 1, 1, &loss);
    case 2: return swiftmlp_step(n, 0.1);
    case 3: return swiftmlp_backward_labels(n, g_labels, 1, 1, &loss);
    case 4: return swiftmlp_set_optimizer(n, &o);
    case 5: return swiftmlp_get_optimizer(n, &o);
    case 6: return swiftmlp_reset_optimizer(n);
    case 7: return swiftmlp_get_step_count(n, &t);
    case 8: return swiftmlp_optimizer_step(n);
    case 9: return swiftmlp_train_step(n, SWIFTMLP_FLOAT64, g_in, 1, g_in, 1, 1, &loss);
    case 10: return swiftmlp_fit(n, SWIFTMLP_FLOAT64, g_in, 1, g_in, 1, 1, NULL, NULL);
    case 11: return swiftmlp_predict(n, SWIFTMLP_FLOAT64, g_in, 1, 1, g_out, 1);
    case 12: return swiftmlp_evaluate(n, SWIFTMLP_FLOAT64, g_in, 1, g_in, 1, 1, &loss);
    case 13: return swiftmlp_gradient_check(n, SWIFTMLP_FLOAT64, g_in, 1, g_in, 1, 1, 1e-3, &g);
    case 14: return swiftmlp_get_cached_rows(n, &sz);
    case 15: return swiftmlp_get_quantity(n, SWIFTMLP_Q_G, 0, SWIFTMLP_FLOAT64, g_out, 1);
    case 16: return swiftmlp_save_size(n, 0, &sz);
    case 17: return swiftmlp_save_buffer(n, 0, buf, sizeof buf, &sz);
    case 18: return swiftmlp_save_file(n, 0, "/nonexistent-dir/never-written");
    case 19: return swiftmlp_get_activations(n, acts, 8);
    case 20: swiftmlp_config_default(&c); return swiftmlp_get_config(n, &c);
    case 21: return swiftmlp_get_dtype(n, &dt);
    case 22: return swiftmlp_get_layer_count(n, &sz);
    case 23: return swiftmlp_get_sizes(n, sizes, 8);
    case 24: return swiftmlp_get_param_count(n, &sz);
    case 25: return swiftmlp_get_layer_offsets(n, 0, &sz, &sz);
    case 26: return swiftmlp_get_params(n, SWIFTMLP_FLOAT64, g_out, 1);
    case 27: return swiftmlp_set_params(n, SWIFTMLP_FLOAT64, g_in, 1);
    case 28: return swiftmlp_get_grads(n, SWIFTMLP_FLOAT64, g_out, 1);
    case 29: return swiftmlp_get_layer(n, 0, SWIFTMLP_FLOAT64, g_out, 1, g_out2, 1);
    case 30: return swiftmlp_set_layer(n, 0, SWIFTMLP_FLOAT64, g_in, 1, g_in, 1);
    default: return swiftmlp_get_layer_grads(n, 0, SWIFTMLP_FLOAT64, g_out, 1, g_out2, 1);
    }
}

static void op_forged(reader *r, slot *s)
{
    static const uint64_t special[] = {
        0, 1, 2, 3, 8, 16, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 2, UINT64_MAX - 7,
        UINT64_MAX - 15, (uint64_t)1 << 63, ((uint64_t)1 << 63) - 1, 0x00007fffffffffffULL,
        0x5555555555555555ULL, 0xAAAAAAAAAAAAAAAAULL,
    };
    uint8_t how = u8(r);
    uint64_t v;
    switch (how % 4) {
    case 0: v = special[u8(r) % (sizeof special / sizeof special[0])]; break;
    case 1: v = (uint64_t)(uintptr_t)(void *)s->net + (uint64_t)(int64_t)(int8_t)u8(r); break;
    case 2: v = (uint64_t)(uintptr_t)(void *)g_stale + (uint64_t)(int64_t)(int8_t)u8(r); break;
    default: v = u64(r); break;
    }
    swiftmlp_net *p = (swiftmlp_net *)(uintptr_t)v;
    if (p != NULL && (p == g_slot[0].net || p == g_slot[1].net)) return; /* a live network */
    unsigned which = u8(r);
    snap a = take(&g_slot[0]), b = take(&g_slot[1]);
    EXPECT(call_with_handle(p, which), p == NULL ? SM(ERR_NULL_POINTER) : SM(ERR_BAD_HANDLE));
    swiftmlp_free(p); /* must do nothing */
    same_or_die(&g_slot[0], &a, "a call with a forged handle");
    same_or_die(&g_slot[1], &b, "a call with a forged handle");
}

/* The allowed statuses of a call with one fuzzed size_t: what a size
 * argument can earn (no BAD_HANDLE, BUSY, NULL_POINTER, DTYPE). */
#define SIZE_STATUSES (SM(OK) | SM(ERR_INVALID_ARGUMENT) | SM(ERR_BUFFER_SIZE) | SM(ERR_TOO_LARGE) | \
                       SM(ERR_LAYER_INDEX) | SM(ERR_STATE) | SM(ERR_NON_FINITE) | SM(ERR_OUT_OF_MEMORY) | \
                       SM(ERR_CANCELLED) | SM(ERR_FORMAT))

static int cancel_at_first_epoch_end(const swiftmlp_progress *p, void *user)
{
    (void)user;
    return p->epoch_end;
}

/* Call `which` on s's network with its size_t parameter `param` = v (rows 2
 * elsewhere); *changing is set when the call may change the network. */
static swiftmlp_status call_with_size(slot *s, unsigned which, size_t v, int *changing)
{
    swiftmlp_net *n = s->net;
    swiftmlp_dtype dt = s->dtype;
    size_t n0 = n_in(s), nl = n_out(s), P = s->params, B = 2;
    size_t w0 = s->sizes[1] * s->sizes[0], b0 = s->sizes[1], sz = 0;
    double loss;
    swiftmlp_gradcheck g;
    swiftmlp_fit_options fo;
    swiftmlp_optimizer o;
    static size_t sizes_out[8];
    static swiftmlp_activation acts[8];
    static unsigned char buf[1 << 16];
    *changing = 0;
    swiftmlp_fit_options_default(&fo);
    fo.epochs = 2;
    fo.progress = cancel_at_first_epoch_end;
    switch (which % 40) {
    case 0: *changing = 1; return swiftmlp_forward(n, dt, g_in, v, B, g_out, B * nl);
    case 1: *changing = 1; return swiftmlp_forward(n, dt, g_in, B * n0, v, g_out, B * nl);
    case 2: *changing = 1; return swiftmlp_forward(n, dt, g_in, B * n0, B, g_out, v);
    case 3: *changing = 1; return swiftmlp_backward(n, dt, g_in, v, B, &loss);
    case 4: *changing = 1; return swiftmlp_backward(n, dt, g_in, B * nl, v, &loss);
    case 5: *changing = 1; return swiftmlp_backward_labels(n, g_labels, v, B, &loss);
    case 6: *changing = 1; return swiftmlp_backward_labels(n, g_labels, B, v, &loss);
    case 7: *changing = 1; return swiftmlp_train_step(n, dt, g_in, v, g_in, B * nl, B, &loss);
    case 8: *changing = 1; return swiftmlp_train_step(n, dt, g_in, B * n0, g_in, v, B, &loss);
    case 9: *changing = 1; return swiftmlp_train_step(n, dt, g_in, B * n0, g_in, B * nl, v, &loss);
    case 10: *changing = 1; return swiftmlp_fit(n, dt, g_in, v, g_in, B * nl, B, &fo, NULL);
    case 11: *changing = 1; return swiftmlp_fit(n, dt, g_in, B * n0, g_in, v, B, &fo, NULL);
    case 12: *changing = 1; return swiftmlp_fit(n, dt, g_in, B * n0, g_in, B * nl, v, &fo, NULL);
    case 13: *changing = 1; fo.epochs = v; return swiftmlp_fit(n, dt, g_in, B * n0, g_in, B * nl, B, &fo, NULL);
    case 14: *changing = 1; fo.batch_size = v; return swiftmlp_fit(n, dt, g_in, B * n0, g_in, B * nl, B, &fo, NULL);
    case 15: *changing = 1; fo.patience = v; return swiftmlp_fit(n, dt, g_in, B * n0, g_in, B * nl, B, &fo, NULL);
    case 16: case 17: case 18:
        *changing = 1;
        fo.val_x = g_in; fo.val_x_len = B * n0; fo.val_y = g_in; fo.val_y_len = B * nl; fo.val_rows = B;
        if (which % 40 == 16) fo.val_x_len = v;
        else if (which % 40 == 17) fo.val_y_len = v;
        else fo.val_rows = v;
        return swiftmlp_fit(n, dt, g_in, B * n0, g_in, B * nl, B, &fo, NULL);
    case 19: *changing = 1; fo.struct_size = v; return swiftmlp_fit(n, dt, g_in, B * n0, g_in, B * nl, B, &fo, NULL);
    case 20: return swiftmlp_predict(n, dt, g_in, v, B, g_out, B * nl);
    case 21: return swiftmlp_predict(n, dt, g_in, B * n0, v, g_out, B * nl);
    case 22: return swiftmlp_predict(n, dt, g_in, B * n0, B, g_out, v);
    case 23: return swiftmlp_evaluate(n, dt, g_in, B * n0, g_in, B * nl, v, &loss);
    case 24: return swiftmlp_gradient_check(n, dt, g_in, B * n0, g_in, B * nl, v, 1e-3, &g);
    case 25: return swiftmlp_get_quantity(n, SWIFTMLP_Q_G, v, dt, g_out, sizeof g_out / sizeof g_out[0] / 2);
    case 26: return swiftmlp_get_quantity(n, SWIFTMLP_Q_G, 0, dt, g_out, v);
    case 27: return swiftmlp_save_buffer(n, 0, buf, v, &sz);
    case 28: return swiftmlp_get_activations(n, acts, v);
    case 29: return swiftmlp_get_sizes(n, sizes_out, v);
    case 30: return swiftmlp_get_layer_offsets(n, v, &sz, &sz);
    case 31: return swiftmlp_get_params(n, dt, g_out, v);
    case 32: *changing = 1; return swiftmlp_set_params(n, dt, g_in, v);
    case 33: return swiftmlp_get_grads(n, dt, g_out, v);
    case 34: return swiftmlp_get_layer(n, v, dt, g_out, P, g_out2, P);
    case 35: return swiftmlp_get_layer(n, 0, dt, g_out, v, g_out2, b0);
    case 36: return swiftmlp_get_layer_grads(n, 0, dt, g_out, w0, g_out2, v);
    case 37: *changing = 1; return swiftmlp_set_layer(n, v, dt, g_in, w0, g_in, b0);
    case 38: *changing = 1; return swiftmlp_set_layer(n, 0, dt, g_in, w0, g_in, v);
    default:
        swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o);
        o.struct_size = v;
        *changing = 1;
        return swiftmlp_set_optimizer(n, &o);
    }
}

static void op_size(reader *r, slot *s)
{
    static const uint64_t special[] = {
        0, 1, 2, 3, (uint64_t)1 << 31, (uint64_t)1 << 32, (uint64_t)1 << 62, ((uint64_t)1 << 63) - 1,
        (uint64_t)1 << 63, ((uint64_t)1 << 63) + 1, UINT64_MAX - 1, UINT64_MAX, 16, 120, 72,
    };
    if (s->net == NULL) return;
    unsigned which = u8(r);
    uint8_t how = u8(r);
    size_t v = (how & 1) ? (size_t)u64(r) : (size_t)special[(how >> 1) % (sizeof special / sizeof special[0])];
    /* the inputs, targets and parameters: 0.25 in the network's dtype */
    if (s->dtype == SWIFTMLP_FLOAT32) {
        float *f = (float *)(void *)g_in;
        for (size_t i = 0; i < 2 * (sizeof g_in / sizeof g_in[0]); i++) f[i] = 0.25f;
    } else {
        for (size_t i = 0; i < sizeof g_in / sizeof g_in[0]; i++) g_in[i] = 0.25;
    }
    for (int i = 0; i < 4; i++) g_labels[i] = 0;
    snap before = take(s);
    int changing = 0;
    swiftmlp_status st = EXPECT(call_with_size(s, which, v, &changing), SIZE_STATUSES);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", swiftmlp_last_error());
    /* Refused before it started: a validation failure. Anything else from a
     * changing call (OK, CANCELLED, and NON_FINITE or OUT_OF_MEMORY from fit
     * or train_step, which ran forward and backward, and for fit maybe some
     * steps, before the step they refused) may have changed the network. */
    int refused = st == SWIFTMLP_ERR_INVALID_ARGUMENT || st == SWIFTMLP_ERR_BUFFER_SIZE ||
                  st == SWIFTMLP_ERR_TOO_LARGE || st == SWIFTMLP_ERR_LAYER_INDEX || st == SWIFTMLP_ERR_STATE ||
                  st == SWIFTMLP_ERR_FORMAT || (!changing && st != SWIFTMLP_OK);
    if (refused) {
        same_or_die(s, &before, "a call refused for a size_t argument");
        if (v > SIZE_MAX / 2) {
            /* the same as 2^63 - 1 */
            before = take(s);
            swiftmlp_status again = EXPECT(call_with_size(s, which, SIZE_MAX / 2, &changing), SIZE_STATUSES);
            FUZZ_ASSERT(again == st, "size_t %zu gave %d (%s) but 2^63 - 1 gives %d (\"%s\")", v, (int)st, msg,
                        (int)again, swiftmlp_last_error());
            same_or_die(s, &before, "a call refused for a size_t argument");
        }
    } else {
        free(before.data);
        if (changing) {
            /* the harness no longer knows the caches and gradients */
            s->fwd_rows = s->q_rows = UNKNOWN;
            s->dl_ready = s->grads = s->fresh = UNKNOWN;
            if (which % 40 >= 39) {
                uint64_t steps = 1;
                EXPECT(swiftmlp_get_step_count(s->net, &steps), SM(OK));
                s->opt = 1;
            }
        }
    }
}

enum { /* the opcodes (make_api_seeds.py has the same list) */
    OP_CREATE, OP_FORWARD, OP_BACKWARD, OP_BACKWARD_LABELS, OP_STEP, OP_SET_OPTIMIZER, OP_OPTIMIZER_MISC,
    OP_SET_PARAMS, OP_SET_LAYER, OP_GET, OP_SAVE_LOAD, OP_PREDICT, OP_FIT, OP_GRADCHECK, OP_FREE, OP_STALE,
    OP_TRAIN_STEP, OP_FORGED, OP_SIZE, OP_SET_GRADS,
    N_OPS
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    memset(g_slot, 0, sizeof g_slot);
    g_stale = NULL;
    for (int i = 0; i < 64 && r.n > 0; i++) {
        /* [opcode: bit 7 = slot, low bits % N_OPS] [n] [n argument bytes] */
        uint8_t opb = u8(&r);
        size_t n = u8(&r);
        if (n > r.n) n = r.n;
        reader a = {r.p, n};
        r.p += n;
        r.n -= n;
        slot *s = &g_slot[(opb >> 7) & 1], *other = &g_slot[!((opb >> 7) & 1)];
        int op = (opb & 0x7f) % N_OPS;
        /* Without a network in the slot, an operation is a NULL-handle probe. */
        switch (op) {
        case OP_CREATE: op_create(&a, s); break;
        case OP_FORWARD: op_forward(&a, s); break;
        case OP_BACKWARD: op_backward(&a, s); break;
        case OP_BACKWARD_LABELS: op_backward_labels(&a, s); break;
        case OP_STEP: op_step(&a, s); break;
        case OP_SET_OPTIMIZER: op_set_optimizer(&a, s); break;
        case OP_OPTIMIZER_MISC: op_optimizer_misc(&a, s); break;
        case OP_SET_PARAMS: op_set_params(&a, s); break;
        case OP_SET_LAYER: op_set_layer(&a, s); break;
        case OP_GET: op_get(&a, s); break;
        case OP_SAVE_LOAD: op_save_load(&a, s, other); break;
        case OP_PREDICT: op_predict(&a, s); break;
        case OP_FIT: op_fit(&a, s, other); break;
        case OP_GRADCHECK: op_gradcheck(&a, s); break;
        case OP_FREE: op_free(s); break;
        case OP_STALE: op_stale(&a); break;
        case OP_TRAIN_STEP: op_train_step(&a, s); break;
        case OP_FORGED: op_forged(&a, s); break;
        case OP_SIZE: op_size(&a, s); break;
        default: op_set_grads(&a, s); break;
        }
    }
    op_free(&g_slot[0]);
    op_free(&g_slot[1]);
    return 0;
}
