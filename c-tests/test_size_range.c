/*
 * test_size_range.c — every size_t and uint64_t parameter of the header over
 * its whole range (include/swiftmlp.h, "Global rules", Integers).
 *
 * A C size_t reaches the Swift code as a signed Int, so 2^63 ... SIZE_MAX
 * arrived negative: fit read batch_size = SIZE_MAX as "-1" and refused it
 * ("batch size must be at least 1, got 18446744073709551615") although the
 * header says a batch larger than the data is the whole data. Now every
 * size_t goes through one conversion (Shim.swift, cSize) and each value has
 * the parameter's documented meaning.
 *
 * The table gives, for each parameter, the status at 0, 1, 2^31, 2^32,
 * 2^63 - 1, 2^63 and SIZE_MAX, every other argument valid. Besides the
 * status: a failing call sets a message that does not claim a non-zero value
 * is below 1 and shows no negative number, and leaves the parameters
 * bit-identical; a capacity larger than the buffer is only a promise (the
 * library writes what the call needs: ASan would see more). Values >= 2^63
 * must behave exactly as 2^63 - 1.
 */
#define _GNU_SOURCE
#include "model_test_util.h"

#include <sys/mman.h>

enum { N0 = 3, N1 = 4, N2 = 2, B = 2, NP = N1 * N0 + N1 + N2 * N1 + N2, NV = 7 };

static const size_t k_values[NV] = {
    0, 1, (size_t)1 << 31, (size_t)1 << 32, SIZE_MAX / 2, SIZE_MAX / 2 + 1, SIZE_MAX,
};
static const char *const k_value_names[NV] = {"0", "1", "2^31", "2^32", "2^63-1", "2^63", "SIZE_MAX"};

static const size_t k_sizes[] = {N0, N1, N2};
static const double k_x[B * N0] = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6};
static const double k_y[B * N2] = {0, 1, 1, 0};
static const int64_t k_labels[B] = {0, 1};

/* Output buffers: large enough for every call's real need. */
static double g_out[256];
static double g_out2[256];
static unsigned char g_bytes[1 << 16];

/* ---- the calls, one per parameter --------------------------------------- */

typedef swiftmlp_status (*call_fn)(swiftmlp_net *net, size_t v);

/* SIZE_CALL(name, call): the call_fn `name`, which returns call (of n and v). */
#define SIZE_CALL(name, call)                            \
    static swiftmlp_status name(swiftmlp_net *n, size_t v) \
    {                                                    \
        (void)n;                                         \
        return call;                                     \
    }

/* Where the calls write what no test reads. */
static double g_loss;
static swiftmlp_gradcheck g_gradcheck;
static swiftmlp_activation g_acts[8];
static size_t g_sizes[8];
static size_t g_w, g_b;
static const double k_p[NP] = {0.5};

SIZE_CALL(forward_x_len, swiftmlp_forward(n, SWIFTMLP_FLOAT64, k_x, v, B, g_out, B * N2))
SIZE_CALL(forward_batch, swiftmlp_forward(n, SWIFTMLP_FLOAT64, k_x, B * N0, v, g_out, B * N2))
SIZE_CALL(forward_y_cap, swiftmlp_forward(n, SWIFTMLP_FLOAT64, k_x, B * N0, B, g_out, v))
SIZE_CALL(backward_y_len, swiftmlp_backward(n, SWIFTMLP_FLOAT64, k_y, v, B, NULL))
SIZE_CALL(backward_batch, swiftmlp_backward(n, SWIFTMLP_FLOAT64, k_y, B * N2, v, NULL))
SIZE_CALL(backward_labels_len, swiftmlp_backward_labels(n, k_labels, v, B, NULL))
SIZE_CALL(backward_labels_batch, swiftmlp_backward_labels(n, k_labels, B, v, NULL))
SIZE_CALL(train_step_x_len, swiftmlp_train_step(n, SWIFTMLP_FLOAT64, k_x, v, k_y, B * N2, B, NULL))
SIZE_CALL(train_step_y_len, swiftmlp_train_step(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, v, B, NULL))
SIZE_CALL(train_step_batch, swiftmlp_train_step(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, v, NULL))

/* fit: the callback cancels at the end of the first epoch when more are
 * asked for, and records what the progress said the total was. */
static size_t g_reported_epochs;
static int cancel_after_first_epoch(const swiftmlp_progress *p, void *user)
{
    (void)user;
    g_reported_epochs = p->epochs;
    return p->epoch_end && p->epochs > 1;
}
static swiftmlp_fit_options fit_options(void)
{
    swiftmlp_fit_options o;
    swiftmlp_fit_options_default(&o);
    o.progress = cancel_after_first_epoch;
    o.val_x = k_x;
    o.val_x_len = B * N0;
    o.val_y = k_y;
    o.val_y_len = B * N2;
    o.val_rows = B;
    return o;
}
static swiftmlp_status fit_with(swiftmlp_net *n, const swiftmlp_fit_options *o)
{
    g_reported_epochs = 0;
    return swiftmlp_fit(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, B, o, NULL);
}
static swiftmlp_status fit_x_len(swiftmlp_net *n, size_t v)
{
    swiftmlp_fit_options o = fit_options();
    return swiftmlp_fit(n, SWIFTMLP_FLOAT64, k_x, v, k_y, B * N2, B, &o, NULL);
}
static swiftmlp_status fit_y_len(swiftmlp_net *n, size_t v)
{
    swiftmlp_fit_options o = fit_options();
    return swiftmlp_fit(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, v, B, &o, NULL);
}
static swiftmlp_status fit_rows(swiftmlp_net *n, size_t v)
{
    swiftmlp_fit_options o = fit_options();
    return swiftmlp_fit(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, v, &o, NULL);
}
static swiftmlp_status fit_epochs(swiftmlp_net *n, size_t v)
{
    swiftmlp_fit_options o = fit_options();
    o.epochs = v;
    swiftmlp_status s = fit_with(n, &o);
    if (v > 0) {
        assert_int_equal(g_reported_epochs, v); /* the total asked for, as given */
    }
    return s;
}
/* fit_<field>: fit with that size field of the options set to v. */
#define FIT_FIELD(field)                                    \
    static swiftmlp_status fit_##field(swiftmlp_net *n, size_t v) \
    {                                                       \
        swiftmlp_fit_options o = fit_options();             \
        o.field = v;                                        \
        return fit_with(n, &o);                             \
    }
FIT_FIELD(batch_size)
FIT_FIELD(val_x_len)
FIT_FIELD(val_y_len)
FIT_FIELD(val_rows)
FIT_FIELD(struct_size)
static swiftmlp_status fit_patience(swiftmlp_net *n, size_t v)
{
    swiftmlp_fit_options o = fit_options();
    o.patience = v;
    o.epochs = 3;
    o.progress = NULL;
    return fit_with(n, &o);
}
SIZE_CALL(predict_x_len, swiftmlp_predict(n, SWIFTMLP_FLOAT64, k_x, v, B, g_out, B * N2))
SIZE_CALL(predict_rows, swiftmlp_predict(n, SWIFTMLP_FLOAT64, k_x, B * N0, v, g_out, B * N2))
SIZE_CALL(predict_y_cap, swiftmlp_predict(n, SWIFTMLP_FLOAT64, k_x, B * N0, B, g_out, v))
SIZE_CALL(evaluate_x_len, swiftmlp_evaluate(n, SWIFTMLP_FLOAT64, k_x, v, k_y, B * N2, B, &g_loss))
SIZE_CALL(evaluate_y_len, swiftmlp_evaluate(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, v, B, &g_loss))
SIZE_CALL(evaluate_rows, swiftmlp_evaluate(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, v, &g_loss))
SIZE_CALL(gradient_check_x_len, swiftmlp_gradient_check(n, SWIFTMLP_FLOAT64, k_x, v, k_y, B * N2, B, 1e-3, &g_gradcheck))
SIZE_CALL(gradient_check_y_len, swiftmlp_gradient_check(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, v, B, 1e-3, &g_gradcheck))
SIZE_CALL(gradient_check_batch, swiftmlp_gradient_check(n, SWIFTMLP_FLOAT64, k_x, B * N0, k_y, B * N2, v, 1e-3, &g_gradcheck))
SIZE_CALL(get_quantity_layer, swiftmlp_get_quantity(n, SWIFTMLP_Q_G, v, SWIFTMLP_FLOAT64, g_out, 256))
SIZE_CALL(get_quantity_out_cap, swiftmlp_get_quantity(n, SWIFTMLP_Q_G, 1, SWIFTMLP_FLOAT64, g_out, v))
SIZE_CALL(save_buffer_buf_cap, swiftmlp_save_buffer(n, 0, g_bytes, v, NULL))
SIZE_CALL(get_activations_cap, swiftmlp_get_activations(n, g_acts, v))
SIZE_CALL(get_sizes_cap, swiftmlp_get_sizes(n, g_sizes, v))
SIZE_CALL(layer_offsets_layer, swiftmlp_get_layer_offsets(n, v, &g_w, &g_b))
SIZE_CALL(get_params_cap, swiftmlp_get_params(n, SWIFTMLP_FLOAT64, g_out, v))
SIZE_CALL(set_params_len, swiftmlp_set_params(n, SWIFTMLP_FLOAT64, k_p, v))
SIZE_CALL(get_grads_cap, swiftmlp_get_grads(n, SWIFTMLP_FLOAT64, g_out, v))
SIZE_CALL(get_layer_layer, swiftmlp_get_layer(n, v, SWIFTMLP_FLOAT64, g_out, 256, g_out2, 256))
SIZE_CALL(get_layer_w_cap, swiftmlp_get_layer(n, 0, SWIFTMLP_FLOAT64, g_out, v, g_out2, 256))
SIZE_CALL(get_layer_b_cap, swiftmlp_get_layer(n, 0, SWIFTMLP_FLOAT64, g_out, 256, g_out2, v))
SIZE_CALL(get_layer_grads_layer, swiftmlp_get_layer_grads(n, v, SWIFTMLP_FLOAT64, g_out, 256, g_out2, 256))
SIZE_CALL(get_layer_grads_dw_cap, swiftmlp_get_layer_grads(n, 0, SWIFTMLP_FLOAT64, g_out, v, g_out2, 256))
SIZE_CALL(get_layer_grads_db_cap, swiftmlp_get_layer_grads(n, 0, SWIFTMLP_FLOAT64, g_out, 256, g_out2, v))
static const double k_w0[N1 * N0] = {0.25}, k_b0[N1] = {0.5};
static swiftmlp_status set_layer_layer(swiftmlp_net *n, size_t v)
{
    /* (layer 1 is 2 x 4) */
    return swiftmlp_set_layer(n, v, SWIFTMLP_FLOAT64, k_w0, v == 1 ? N2 * N1 : N1 * N0, k_b0, v == 1 ? N2 : N1);
}
SIZE_CALL(set_layer_w_len, swiftmlp_set_layer(n, 0, SWIFTMLP_FLOAT64, k_w0, v, k_b0, N1))
SIZE_CALL(set_layer_b_len, swiftmlp_set_layer(n, 0, SWIFTMLP_FLOAT64, k_w0, N1 * N0, k_b0, v))

/* create and create_with_config make their own network (freed at once). */
static swiftmlp_status created(swiftmlp_status s, swiftmlp_net **made)
{
    assert_true((s == SWIFTMLP_OK) == (*made != NULL));
    swiftmlp_free(*made);
    return s;
}
/* swiftmlp_create(sizes, n_sizes, float64, seed) of a network of its own. */
static swiftmlp_status create_status(const size_t *sizes, size_t n_sizes, uint64_t seed)
{
    swiftmlp_net *made = NOT_NULL_SENTINEL;
    swiftmlp_status s = swiftmlp_create(sizes, n_sizes, SWIFTMLP_FLOAT64, seed, &made);
    return created(s, &made);
}
SIZE_CALL(create_n_sizes, create_status(k_sizes, v, 1))
SIZE_CALL(create_size_0, create_status((const size_t[]){v, N1, N2}, 3, 1))
SIZE_CALL(create_size_last, create_status((const size_t[]){N0, N1, v}, 3, 1))
SIZE_CALL(create_seed, create_status(k_sizes, 3, (uint64_t)v))
static const swiftmlp_activation k_acts[2] = {SWIFTMLP_TANH, SWIFTMLP_SIGMOID};
static swiftmlp_config config(void)
{
    swiftmlp_config c = config_of(k_sizes, 3, k_acts, 2);
    return c;
}
static swiftmlp_status create_config(const swiftmlp_config *c)
{
    swiftmlp_net *made = NOT_NULL_SENTINEL;
    swiftmlp_status s = swiftmlp_create_with_config(c, &made);
    return created(s, &made);
}
/* create_with_config of config() after the statements `edit` (which use v). */
#define CONFIG_CALL(name, edit)                            \
    static swiftmlp_status name(swiftmlp_net *n, size_t v) \
    {                                                      \
        (void)n;                                           \
        swiftmlp_config c = config();                      \
        edit;                                              \
        return create_config(&c);                          \
    }
CONFIG_CALL(config_struct_size, c.struct_size = v)
/* (activations dropped, else n_activations must follow n_sizes) */
CONFIG_CALL(config_n_sizes, c.n_sizes = v; c.activations = NULL; c.n_activations = 0)
CONFIG_CALL(config_n_activations, c.n_activations = v)
CONFIG_CALL(config_size_1, c.sizes = ((const size_t[]){N0, v, N2}))
CONFIG_CALL(config_seed, c.seed = (uint64_t)v)
static swiftmlp_status set_optimizer_struct_size(swiftmlp_net *n, size_t v)
{
    swiftmlp_optimizer o;
    swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAM, &o);
    o.struct_size = v;
    return swiftmlp_set_optimizer(n, &o);
}

/* load_buffer: a valid model at the start of a reservation of 2^32 + 2^16
 * zero bytes, so that the lengths up to 2^32 are memory the caller owns
 * (larger ones cannot be; the library must refuse them unread). */
static unsigned char *g_region;
static size_t g_region_len;
static swiftmlp_status load_buffer_len(swiftmlp_net *n, size_t v)
{
    size_t size = 0;
    assert_ok(swiftmlp_save_size(n, 0, &size));
    assert_true(size <= (1u << 16));
    assert_ok(swiftmlp_save_buffer(n, 0, g_region, size, NULL));
    swiftmlp_net *made = NOT_NULL_SENTINEL;
    swiftmlp_status s = swiftmlp_load_buffer(g_region, v, &made);
    return created(s, &made);
}

/* ---- the table ---------------------------------------------------------- */

#define OK SWIFTMLP_OK
#define INV SWIFTMLP_ERR_INVALID_ARGUMENT
#define BS SWIFTMLP_ERR_BUFFER_SIZE
#define TL SWIFTMLP_ERR_TOO_LARGE
#define ST SWIFTMLP_ERR_STATE
#define LI SWIFTMLP_ERR_LAYER_INDEX
#define FMT SWIFTMLP_ERR_FORMAT
#define CAN SWIFTMLP_ERR_CANCELLED

typedef enum { PLAIN, CROSS_ENTROPY } net_kind;

typedef struct row {
    const char *name;
    call_fn call;
    net_kind kind;
    swiftmlp_status expect[NV]; /* at 0, 1, 2^31, 2^32, 2^63-1, 2^63, SIZE_MAX */
} row;

#define ROW(fn, kind, ...) {#fn, fn, kind, {__VA_ARGS__}}
static const row k_rows[] = {
    ROW(forward_x_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(forward_batch, PLAIN, INV, BS, TL, TL, TL, TL, TL),
    ROW(forward_y_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(backward_y_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(backward_batch, PLAIN, INV, ST, TL, TL, TL, TL, TL),
    ROW(backward_labels_len, CROSS_ENTROPY, BS, BS, BS, BS, BS, BS, BS),
    ROW(backward_labels_batch, CROSS_ENTROPY, INV, ST, TL, TL, TL, TL, TL),
    ROW(train_step_x_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(train_step_y_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(train_step_batch, PLAIN, INV, BS, TL, TL, TL, TL, TL),
    ROW(fit_x_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(fit_y_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(fit_rows, PLAIN, INV, BS, BS, BS, BS, BS, BS),
    ROW(fit_epochs, PLAIN, INV, OK, CAN, CAN, CAN, CAN, CAN),
    ROW(fit_batch_size, PLAIN, INV, OK, OK, OK, OK, OK, OK),
    ROW(fit_patience, PLAIN, OK, OK, OK, OK, OK, OK, OK),
    ROW(fit_val_x_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(fit_val_y_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(fit_val_rows, PLAIN, INV, BS, BS, BS, BS, BS, BS),
    ROW(fit_struct_size, PLAIN, INV, INV, INV, INV, INV, INV, INV),
    ROW(predict_x_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(predict_rows, PLAIN, INV, BS, BS, BS, TL, TL, TL),
    ROW(predict_y_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(evaluate_x_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(evaluate_y_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(evaluate_rows, PLAIN, INV, BS, BS, BS, BS, BS, BS),
    ROW(gradient_check_x_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(gradient_check_y_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(gradient_check_batch, PLAIN, INV, BS, TL, TL, TL, TL, TL),
    ROW(get_quantity_layer, PLAIN, OK, OK, LI, LI, LI, LI, LI),
    ROW(get_quantity_out_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(save_buffer_buf_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(load_buffer_len, PLAIN, FMT, FMT, FMT, FMT, FMT, FMT, FMT),
    ROW(get_activations_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(get_sizes_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(layer_offsets_layer, PLAIN, OK, OK, LI, LI, LI, LI, LI),
    ROW(get_params_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(set_params_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(get_grads_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(get_layer_layer, PLAIN, OK, OK, LI, LI, LI, LI, LI),
    ROW(get_layer_w_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(get_layer_b_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(get_layer_grads_layer, PLAIN, OK, OK, LI, LI, LI, LI, LI),
    ROW(get_layer_grads_dw_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(get_layer_grads_db_cap, PLAIN, BS, BS, OK, OK, OK, OK, OK),
    ROW(set_layer_layer, PLAIN, OK, OK, LI, LI, LI, LI, LI),
    ROW(set_layer_w_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(set_layer_b_len, PLAIN, BS, BS, BS, BS, BS, BS, BS),
    ROW(create_n_sizes, PLAIN, INV, INV, TL, TL, TL, TL, TL),
    ROW(create_size_0, PLAIN, INV, OK, TL, TL, TL, TL, TL),
    ROW(create_size_last, PLAIN, INV, OK, TL, TL, TL, TL, TL),
    ROW(create_seed, PLAIN, OK, OK, OK, OK, OK, OK, OK),
    ROW(config_struct_size, PLAIN, INV, INV, INV, INV, INV, INV, INV),
    ROW(config_n_sizes, PLAIN, INV, INV, TL, TL, TL, TL, TL),
    ROW(config_n_activations, PLAIN, INV, OK, INV, INV, INV, INV, INV),
    ROW(config_size_1, PLAIN, INV, OK, TL, TL, TL, TL, TL),
    ROW(config_seed, PLAIN, OK, OK, OK, OK, OK, OK, OK),
    ROW(set_optimizer_struct_size, PLAIN, INV, INV, INV, INV, INV, INV, INV),
};

/* A [3, 4, 2] float64 network with an SGD optimizer, after a forward and a
 * backward (so that every call has what it needs). */
static swiftmlp_net *fixture(net_kind kind)
{
    swiftmlp_net *net = NULL;
    if (kind == CROSS_ENTROPY) {
        swiftmlp_config c = config();
        const swiftmlp_activation acts[2] = {SWIFTMLP_TANH, SWIFTMLP_SOFTMAX};
        c.activations = acts;
        c.loss = SWIFTMLP_LOSS_CROSS_ENTROPY;
        assert_ok(swiftmlp_create_with_config(&c, &net));
    } else {
        net = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, 7);
    }
    set_default_optimizer(net, SWIFTMLP_OPT_SGD);
    assert_ok(swiftmlp_forward(net, SWIFTMLP_FLOAT64, k_x, B * N0, B, g_out, B * N2));
    assert_ok(swiftmlp_backward(net, SWIFTMLP_FLOAT64, k_y, B * N2, B, NULL));
    return net;
}

static void check_message(const row *r, size_t i)
{
    const char *msg = swiftmlp_last_error();
    int wrong = msg[0] == '\0';
    if (k_values[i] != 0) {
        /* the bug: a non-zero value read as negative, "must be at least 1" */
        wrong |= strstr(msg, "at least 1") != NULL || strstr(msg, " is 0") != NULL;
    }
    for (const char *p = msg; *p; p++) {
        wrong |= p[0] == '-' && p[1] >= '0' && p[1] <= '9' && (p == msg || p[-1] == ' ');
    }
    if (wrong) {
        print_error("%s at %s: wrong message \"%s\"\n", r->name, k_value_names[i], msg);
        fail();
    }
}

static void test_row(void **state)
{
    const row *r = *state;
    for (size_t i = 0; i < NV; i++) {
        swiftmlp_net *net = fixture(r->kind);
        snapshot before = snapshot_params(net);
        swiftmlp_status s = r->call(net, k_values[i]);
        if (s != r->expect[i]) {
            print_error("%s at %s (%zu) returned %d (%s), expected %d (%s); last_error \"%s\"\n",
                        r->name, k_value_names[i], k_values[i], (int)s, swiftmlp_status_string(s),
                        (int)r->expect[i], swiftmlp_status_string(r->expect[i]), swiftmlp_last_error());
            fail();
        }
        if (s != SWIFTMLP_OK && s != SWIFTMLP_ERR_CANCELLED) {
            check_message(r, i);
            assert_params_still(net, before, "parameters");
        }
        snapshot_free(&before); /* a no-op where assert_params_still freed it */
        swiftmlp_free(net);
    }
}

/* fit with batch_size >= rows is exactly fit with batch_size = rows. */
static void test_fit_batch_size_above_rows_is_the_whole_data(void **state)
{
    (void)state;
    swiftmlp_net *ref = fixture(PLAIN);
    swiftmlp_fit_options o = fit_options();
    o.epochs = 1;
    o.batch_size = B;
    assert_ok(fit_with(ref, &o));
    for (size_t i = 2; i < NV; i++) {
        swiftmlp_net *net = fixture(PLAIN);
        o.batch_size = k_values[i];
        assert_ok(fit_with(net, &o));
        assert_same_params(net, ref);
        swiftmlp_free(net);
    }
    swiftmlp_free(ref);
}

/* seeds: the whole uint64_t range, each value its own initialisation. */
static void test_seeds_over_the_whole_range(void **state)
{
    (void)state;
    swiftmlp_net *a = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, (uint64_t)1 << 63);
    swiftmlp_net *b = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, ((uint64_t)1 << 63) - 1);
    swiftmlp_net *c = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, UINT64_MAX);
    swiftmlp_net *c2 = create_net(k_sizes, 3, SWIFTMLP_FLOAT64, UINT64_MAX);
    assert_params_differ(a, b);
    assert_params_differ(a, c);
    assert_same_params(c, c2);
    swiftmlp_config got;
    assert_ok(swiftmlp_get_config(c, &got));
    assert_true(got.seed == UINT64_MAX);
    swiftmlp_free(a);
    swiftmlp_free(b);
    swiftmlp_free(c);
    swiftmlp_free(c2);
}

int main(void)
{
    g_region_len = ((size_t)1 << 32) + ((size_t)1 << 16);
    g_region = mmap(NULL, g_region_len, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (g_region == MAP_FAILED) {
        fprintf(stderr, "mmap of %zu bytes failed\n", g_region_len);
        return 1;
    }
    enum { N_ROWS = ARRAY_LEN(k_rows) };
    static struct CMUnitTest tests[N_ROWS + 2];
    size_t n = 0;
    for (size_t i = 0; i < N_ROWS; i++) {
        tests[n++] = (struct CMUnitTest){k_rows[i].name, test_row, NULL, NULL, (void *)&k_rows[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_fit_batch_size_above_rows_is_the_whole_data);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_seeds_over_the_whole_range);
    int failed = _cmocka_run_group_tests("test_size_range", tests, n, NULL, NULL);
    munmap(g_region, g_region_len);
    return failed;
}
