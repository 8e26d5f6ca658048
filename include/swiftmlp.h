/*
 * swiftmlp.h — the stable C ABI of libswiftmlp, a multilayer perceptron whose
 * numeric core is written in Swift.
 *
 * ------------------------------------------------------------------------
 * The math (exactly the lecture slides on backpropagation, batched as in
 * their NumPy code; arrays are row-major and batch-first)
 * ------------------------------------------------------------------------
 * A network has layer sizes [N0, N1, ..., NL] (L >= 1 weight layers).
 * Weight layer l (0-based index l = slide layer l+1) has
 *     W: N_{l+1} x N_l  (row-major),   b: N_{l+1}
 * Forward, for a batch x of shape (B, N0):
 *     g_0 = x
 *     f_l = g_{l-1} @ W_l^T + b_l        (B, N_l)
 *     g_l = sigmoid(f_l)                 (B, N_l)
 * Loss, the mean over the batch AND the outputs:
 *     L = mean((g_L - y)^2) = 1/(B*NL) * sum_{i,j} (g_L[i,j] - y[i,j])^2
 *     (PyTorch: torch.nn.MSELoss(reduction='mean') on the sigmoid outputs.)
 * Backward:
 *     dL/dg_L = 2/(B*NL) * (g_L - y)
 *     dL/df_l = dL/dg_l * g_l * (1 - g_l)
 *     dL/dW_l = (dL/df_l)^T @ g_{l-1}    (N_l x N_{l-1})
 *     dL/db_l = sum over the batch of dL/df_l
 *     dL/dg_{l-1} = dL/df_l @ W_l
 * Step (plain SGD):  W -= lr * dL/dW,  b -= lr * dL/db.
 * The sigmoid is evaluated in a form that never overflows: f = +-1000 gives
 * exactly 1 or 0 and finite gradients.
 *
 * ------------------------------------------------------------------------
 * Parameter layout
 * ------------------------------------------------------------------------
 * All parameters live in one contiguous buffer of swiftmlp_param_count()
 * elements: for each weight layer l = 0..L-1 in order, W_l (N_{l+1}*N_l
 * elements, row-major) followed by b_l (N_{l+1} elements).  Gradients use
 * the same layout.  swiftmlp_layer_offsets() gives the element offsets.
 *
 * ------------------------------------------------------------------------
 * Global rules
 * ------------------------------------------------------------------------
 * - Every function that can fail returns a swiftmlp_status; results come
 *   back through out-parameters.  A failing call leaves the network exactly
 *   as it was (parameters, gradients and cached forward state).
 * - Buffer lengths and capacities are counted in ELEMENTS of the buffer's
 *   element type, never in bytes.  Every data-carrying call names the
 *   element type of the caller's buffers (swiftmlp_dtype); it must equal
 *   the network's type, otherwise SWIFTMLP_ERR_DTYPE.  No call converts
 *   between float and double silently.
 * - Layer indices are 0-based weight-layer indices, 0 <= layer < L.
 * - The library never prints, never exits and never aborts on bad input.
 * - Threads: separate networks are fully independent and may be used from
 *   different threads at the same time; the library has no global mutable
 *   state (the error message is thread-local).  One network must not be
 *   used by two threads at the same time without the caller's own locking.
 * - Gradients are OVERWRITTEN by each backward (they do not accumulate).
 * - swiftmlp_forward caches the batch for backward; swiftmlp_step and any
 *   parameter write invalidate that cache (backward then needs a new
 *   forward), so gradients always belong to the current parameters.
 */
#ifndef SWIFTMLP_H
#define SWIFTMLP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions -------------------------------------------------------- */

#define SWIFTMLP_VERSION_MAJOR 0
#define SWIFTMLP_VERSION_MINOR 1
#define SWIFTMLP_VERSION_PATCH 0
/** MAJOR*10000 + MINOR*100 + PATCH, comparable with swiftmlp_version_number(). */
#define SWIFTMLP_VERSION_NUMBER \
    (SWIFTMLP_VERSION_MAJOR * 10000 + SWIFTMLP_VERSION_MINOR * 100 + SWIFTMLP_VERSION_PATCH)

/* ---- Limits ---------------------------------------------------------- */

/** Most entries in a sizes array (so at most SWIFTMLP_MAX_SIZES-1 weight layers). */
#define SWIFTMLP_MAX_SIZES 1025
/** Largest single layer size N_l. */
#define SWIFTMLP_MAX_LAYER_SIZE 16777216
/** Most parameters (weights + biases) a network may hold: 2^28 elements. */
#define SWIFTMLP_MAX_PARAMS 268435456
/** Most cached activation elements per batch, batch * (N0 + ... + NL): 2^28. */
#define SWIFTMLP_MAX_BATCH_ELEMENTS 268435456

/* ---- Types ----------------------------------------------------------- */

/** Opaque network handle. Create with swiftmlp_create, release with swiftmlp_free. */
typedef struct swiftmlp_net swiftmlp_net;

/** Status codes. The values are pinned and will never be renumbered. */
typedef enum swiftmlp_status {
    SWIFTMLP_OK = 0,                    /**< success */
    SWIFTMLP_ERR_NULL_POINTER = 1,      /**< a required pointer argument was NULL */
    SWIFTMLP_ERR_INVALID_ARGUMENT = 2,  /**< a value is out of its domain (size 0, batch 0, bad lr, unknown dtype, ...) */
    SWIFTMLP_ERR_BUFFER_SIZE = 3,       /**< a buffer length/capacity does not fit the shape the call needs */
    SWIFTMLP_ERR_DTYPE = 4,             /**< the buffers' element type is not the network's */
    SWIFTMLP_ERR_STATE = 5,             /**< call order: backward without a matching forward, gradients before backward, ... */
    SWIFTMLP_ERR_TOO_LARGE = 6,         /**< sizes overflow or exceed a SWIFTMLP_MAX_* limit */
    SWIFTMLP_ERR_OUT_OF_MEMORY = 7,     /**< an allocation failed */
    SWIFTMLP_ERR_LAYER_INDEX = 8,       /**< layer index >= number of weight layers */
    SWIFTMLP_ERR_NON_FINITE = 9         /**< an input value is NaN or infinite */
} swiftmlp_status;

/** Element types. The values are pinned. */
typedef enum swiftmlp_dtype {
    SWIFTMLP_FLOAT32 = 1,  /**< C float  (IEEE-754 binary32) */
    SWIFTMLP_FLOAT64 = 2   /**< C double (IEEE-754 binary64) */
} swiftmlp_dtype;

/* ---- Library information -------------------------------------------- */

/**
 * The version of the loaded library, MAJOR*10000 + MINOR*100 + PATCH.
 * Compare with SWIFTMLP_VERSION_NUMBER to detect a header/library mismatch.
 * Never fails. Thread-safe.
 */
unsigned swiftmlp_version_number(void);

/**
 * The version of the loaded library as static text, e.g. "0.1.0".
 * Never NULL; the caller must not free it. Thread-safe.
 */
const char *swiftmlp_version_string(void);

/**
 * A short static description of a status code ("ok", "null pointer", ...).
 * Unknown codes give "unknown status". Never NULL; never free it. Thread-safe.
 */
const char *swiftmlp_status_string(swiftmlp_status status);

/**
 * The detailed message of the most recent status-returning swiftmlp call
 * made on the calling thread: which argument, which sizes.  It is "" when
 * that call succeeded.
 * Thread-local: calls on other threads do not change it.  The pointer is
 * owned by the library and stays valid until the next status-returning
 * swiftmlp call on this thread (copy the text to keep it).  Never NULL.
 */
const char *swiftmlp_last_error(void);

/* ---- Lifecycle ------------------------------------------------------- */

/**
 * Create a network with layer sizes sizes[0..n_sizes-1] = [N0, ..., NL].
 *
 * Parameters are initialised uniformly in [-1/sqrt(N_in), 1/sqrt(N_in))
 * (W and b of each layer; N_in = that layer's input size) from a per-network
 * SplitMix64 generator seeded with `seed`: the same seed and sizes give
 * bit-identical parameters on every platform and run (float32 networks round
 * the same float64 draws to float).  Draw order: layer by layer, W row-major
 * then b, each value u = (next() >> 11) * 2^-53, param = (2u - 1)/sqrt(N_in).
 *
 * @param sizes    in: n_sizes layer sizes, each 1..SWIFTMLP_MAX_LAYER_SIZE.
 * @param n_sizes  2..SWIFTMLP_MAX_SIZES.
 * @param dtype    element type of the network: SWIFTMLP_FLOAT32 or SWIFTMLP_FLOAT64.
 * @param seed     initialisation seed.
 * @param out      out: receives the new handle; set to NULL on failure.
 *                 The caller owns the handle and releases it with swiftmlp_free.
 * @return SWIFTMLP_OK;
 *         SWIFTMLP_ERR_NULL_POINTER (sizes or out NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (n_sizes < 2, a size of 0, unknown dtype);
 *         SWIFTMLP_ERR_TOO_LARGE (a limit above exceeded, or size arithmetic overflow);
 *         SWIFTMLP_ERR_OUT_OF_MEMORY.
 * Thread-safe (touches no shared state).
 */
swiftmlp_status swiftmlp_create(const size_t *sizes, size_t n_sizes, swiftmlp_dtype dtype,
                                uint64_t seed, swiftmlp_net **out);

/**
 * Release a network and all its memory. swiftmlp_free(NULL) does nothing.
 * The handle must not be used afterwards. Not to be called while another
 * thread uses the same network.
 */
void swiftmlp_free(swiftmlp_net *net);

/* ---- Training -------------------------------------------------------- */

/**
 * Forward pass of a batch: y = g_L for x.
 *
 * Caches x and every f_l, g_l for a following swiftmlp_backward.  The first
 * call with a batch larger than any before allocates the cache; later calls
 * with that batch or a smaller one allocate nothing.
 *
 * @param net    the network.
 * @param dtype  element type of x and y; must be the network's.
 * @param x      in: batch * N0 elements, row-major (batch, N0). Not retained.
 * @param x_len  number of elements in x; must equal batch * N0.
 * @param batch  B >= 1.
 * @param y      out: receives batch * NL elements, row-major (batch, NL).
 * @param y_cap  capacity of y in elements; must be >= batch * NL.
 * @return SWIFTMLP_OK;
 *         SWIFTMLP_ERR_NULL_POINTER (net, x or y NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (batch 0, unknown dtype);
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_NON_FINITE (x holds NaN or infinity);
 *         SWIFTMLP_ERR_TOO_LARGE (batch * (N0+...+NL) > SWIFTMLP_MAX_BATCH_ELEMENTS);
 *         SWIFTMLP_ERR_OUT_OF_MEMORY.
 * On failure the network, including the cache of the previous forward, is unchanged.
 */
swiftmlp_status swiftmlp_forward(swiftmlp_net *net, swiftmlp_dtype dtype,
                                 const void *x, size_t x_len, size_t batch,
                                 void *y, size_t y_cap);

/**
 * Backward pass for the batch of the last forward: computes the loss and
 * overwrites every gradient (see the math above).
 *
 * @param net    the network.
 * @param dtype  element type of y; must be the network's.
 * @param y      in: targets, batch * NL elements, row-major (batch, NL).
 * @param y_len  number of elements in y; must equal batch * NL.
 * @param batch  must equal the batch of the last swiftmlp_forward.
 * @param loss   out (may be NULL): the loss L of that batch, as double.
 * @return SWIFTMLP_OK;
 *         SWIFTMLP_ERR_NULL_POINTER (net or y NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (batch 0, unknown dtype);
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_NON_FINITE (y holds NaN or infinity);
 *         SWIFTMLP_ERR_STATE (no forward since creation or since the
 *             parameters last changed, or batch differs from that forward's).
 * Allocates nothing.  On failure gradients and loss are untouched.
 */
swiftmlp_status swiftmlp_backward(swiftmlp_net *net, swiftmlp_dtype dtype,
                                  const void *y, size_t y_len, size_t batch,
                                  double *loss);

/**
 * One plain SGD step with the gradients of the last backward:
 * W -= lr * dL/dW, b -= lr * dL/db.  Invalidates the forward cache.
 *
 * @param net  the network.
 * @param lr   learning rate, finite and >= 0.
 * @return SWIFTMLP_OK;
 *         SWIFTMLP_ERR_NULL_POINTER (net NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (lr negative, NaN or infinite);
 *         SWIFTMLP_ERR_STATE (no backward has run yet).
 * Allocates nothing.
 */
swiftmlp_status swiftmlp_step(swiftmlp_net *net, double lr);

/* ---- Shape and type -------------------------------------------------- */

/**
 * The element type of the network.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net or dtype NULL).
 */
swiftmlp_status swiftmlp_get_dtype(const swiftmlp_net *net, swiftmlp_dtype *dtype);

/**
 * The number of weight layers L (the sizes array has L+1 entries).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net or n_layers NULL).
 */
swiftmlp_status swiftmlp_layer_count(const swiftmlp_net *net, size_t *n_layers);

/**
 * Copy the layer sizes [N0, ..., NL] into sizes.
 * @param sizes      out: receives L+1 entries.
 * @param sizes_cap  capacity of sizes; must be >= L+1.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_BUFFER_SIZE.
 */
swiftmlp_status swiftmlp_get_sizes(const swiftmlp_net *net, size_t *sizes, size_t sizes_cap);

/**
 * The number of parameters (= number of gradient elements), sum over layers
 * of N_out*N_in + N_out.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net or count NULL).
 */
swiftmlp_status swiftmlp_param_count(const swiftmlp_net *net, size_t *count);

/**
 * Element offsets of W_layer and b_layer in the flat parameter (and gradient) buffer.
 * @param w_offset  out: offset of W_layer (N_out*N_in elements, row-major).
 * @param b_offset  out: offset of b_layer (N_out elements); = w_offset + N_out*N_in.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_LAYER_INDEX.
 */
swiftmlp_status swiftmlp_layer_offsets(const swiftmlp_net *net, size_t layer,
                                       size_t *w_offset, size_t *b_offset);

/* ---- Parameters and gradients ------------------------------------------ */

/**
 * Copy all parameters, in the documented layout, into out.
 * @param dtype    element type of out; must be the network's.
 * @param out      out: receives swiftmlp_param_count() elements.
 * @param out_cap  capacity of out in elements; must be >= swiftmlp_param_count().
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT
 *         (unknown dtype); SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE.
 */
swiftmlp_status swiftmlp_get_params(const swiftmlp_net *net, swiftmlp_dtype dtype,
                                    void *out, size_t out_cap);

/**
 * Replace all parameters with the contents of in (documented layout).
 * Invalidates the forward cache.
 * @param in      in: exactly swiftmlp_param_count() elements. Not retained.
 * @param in_len  must equal swiftmlp_param_count().
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT
 *         (unknown dtype); SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_NON_FINITE (then nothing is written).
 */
swiftmlp_status swiftmlp_set_params(swiftmlp_net *net, swiftmlp_dtype dtype,
                                    const void *in, size_t in_len);

/**
 * Copy all gradients of the last backward, in the parameter layout, into out.
 * @param out_cap  must be >= swiftmlp_param_count().
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT;
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_STATE (no backward has run yet).
 */
swiftmlp_status swiftmlp_get_grads(const swiftmlp_net *net, swiftmlp_dtype dtype,
                                   void *out, size_t out_cap);

/**
 * Copy W_layer (N_out x N_in, row-major) and b_layer (N_out) out of the network.
 * @param w      out: N_out*N_in elements.   @param w_cap  must be >= N_out*N_in.
 * @param b      out: N_out elements.        @param b_cap  must be >= N_out.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT;
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_LAYER_INDEX; SWIFTMLP_ERR_BUFFER_SIZE.
 */
swiftmlp_status swiftmlp_get_layer(const swiftmlp_net *net, size_t layer, swiftmlp_dtype dtype,
                                   void *w, size_t w_cap, void *b, size_t b_cap);

/**
 * Replace W_layer and b_layer. Invalidates the forward cache.
 * @param w      in: N_out*N_in elements.   @param w_len  must equal N_out*N_in.
 * @param b      in: N_out elements.        @param b_len  must equal N_out.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT;
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_LAYER_INDEX; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_NON_FINITE (then nothing is written).
 */
swiftmlp_status swiftmlp_set_layer(swiftmlp_net *net, size_t layer, swiftmlp_dtype dtype,
                                   const void *w, size_t w_len, const void *b, size_t b_len);

/**
 * Copy dL/dW_layer and dL/db_layer of the last backward.
 * @return as swiftmlp_get_layer, plus SWIFTMLP_ERR_STATE (no backward has run yet).
 */
swiftmlp_status swiftmlp_get_layer_grads(const swiftmlp_net *net, size_t layer, swiftmlp_dtype dtype,
                                         void *dw, size_t dw_cap, void *db, size_t db_cap);

#ifdef __cplusplus
}
#endif

#endif /* SWIFTMLP_H */
