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
 * All parameters live in one contiguous buffer of swiftmlp_get_param_count()
 * elements: for each weight layer l = 0..L-1 in order, W_l (N_{l+1}*N_l
 * elements, row-major) followed by b_l (N_{l+1} elements).  Gradients use
 * the same layout.  swiftmlp_get_layer_offsets() gives the element offsets.
 *
 * ------------------------------------------------------------------------
 * Global rules
 * ------------------------------------------------------------------------
 * - Every function that can fail returns a swiftmlp_status; results come
 *   back through out-parameters.  A failing call leaves the network exactly
 *   as it was (parameters, gradients and cached forward state).
 * - Pointers: every input pointer and every out-parameter that carries the
 *   call's result (a get_* value, evaluate's loss, gradient_check's out,
 *   save_size's size, the handle of create and load) is required: NULL gives
 *   SWIFTMLP_ERR_NULL_POINTER and changes nothing.  Out-parameters that are
 *   by-products of a call that changes or writes something -- the loss of
 *   backward, backward_labels and train_step, save_buffer's written, fit's
 *   result -- may be NULL: the call then does its work without reporting
 *   them.  A NULL net gives SWIFTMLP_ERR_NULL_POINTER (swiftmlp_free(NULL)
 *   does nothing).
 * - Buffer lengths and capacities are counted in ELEMENTS of the buffer's
 *   element type, never in bytes.  Every data-carrying call names the
 *   element type of the caller's buffers (swiftmlp_dtype); it must equal
 *   the network's type, otherwise SWIFTMLP_ERR_DTYPE.  No call converts
 *   between float and double silently.
 * - Layer indices are 0-based weight-layer indices, 0 <= layer < L.
 * - The library never prints, never exits and never aborts on bad input.
 * - Threads: separate networks are fully independent and may be used from
 *   different threads at the same time (the error message is thread-local;
 *   the only shared state is the set of live handles, behind a lock).
 *   On ONE network, the calls that only read it -- those taking a
 *   const swiftmlp_net *: the get_* calls, predict, evaluate, gradient_check,
 *   save_size, save_buffer, save_file -- may run on any number of threads at
 *   once, each with its own scratch.  A call that changes it -- those taking
 *   a swiftmlp_net *: forward, backward, backward_labels, step,
 *   optimizer_step, train_step, set_optimizer, set_learning_rate,
 *   reset_optimizer, set_params, set_layer, set_grads, fit -- returns
 *   SWIFTMLP_ERR_BUSY, changing nothing, if any other call on that network is
 *   running, and a reading call returns SWIFTMLP_ERR_BUSY while a changing
 *   one runs.  Calls never block and never race.  (forward caches the batch
 *   for backward, so it counts as changing: use predict for concurrent
 *   inference.)  swiftmlp_free may be called while calls on the network
 *   run on other threads: it returns at once, every later call with the
 *   pointer gives SWIFTMLP_ERR_BAD_HANDLE, and the calls already running
 *   finish normally; the memory is released when the last of them returns.
 * - Handles: a pointer that is not a live network (already freed, or never
 *   returned by swiftmlp_create, swiftmlp_create_with_config or swiftmlp_load_file/_buffer) is detected by every
 *   function without reading its memory and gives SWIFTMLP_ERR_BAD_HANDLE;
 *   swiftmlp_free of such a pointer (a double free) does nothing. This holds
 *   for every pointer value whatsoever (misaligned, (void *)-1, addresses of
 *   stack, static or freed memory, pointers into a live network): only the
 *   values of live networks are ever dereferenced. (Once a
 *   later create or load reuses the freed address, the old pointer names the
 *   new network: detection is a safety net, not a licence.)
 * - So besides the statuses each function lists, every function taking a
 *   net can return SWIFTMLP_ERR_BAD_HANDLE, and SWIFTMLP_ERR_BUSY under the
 *   thread rule above.
 * - Integers: every size_t parameter is accepted over its whole range.
 *   No size, count, index or capacity can reach 2^63, so values from 2^63
 *   to SIZE_MAX mean what 2^63 - 1 means (and messages show them as
 *   9223372036854775807): a length or count that large fails its size check
 *   (SWIFTMLP_ERR_BUFFER_SIZE, _TOO_LARGE, _LAYER_INDEX), a capacity is
 *   large enough, swiftmlp_fit_options' batch_size is the whole data and
 *   its epochs and patience are unlimited. uint64_t seeds take any value.
 * - Gradients are OVERWRITTEN by each backward (they do not accumulate), and
 *   by swiftmlp_set_grads, which puts in gradients computed elsewhere (for
 *   example summed across processes in data-parallel training).
 * - swiftmlp_forward caches the batch for backward; swiftmlp_step and any
 *   parameter write invalidate that cache (backward then needs a new
 *   forward), so gradients always belong to the current parameters.
 * - A step consumes the gradients: swiftmlp_step and swiftmlp_optimizer_step
 *   need a backward since the parameters last changed (by a step,
 *   train_step, fit, set_params or set_layer); without one they return
 *   SWIFTMLP_ERR_STATE and change nothing, so the same gradients are never
 *   applied twice. A refused step (SWIFTMLP_ERR_NON_FINITE) consumes
 *   nothing. The gradients stay readable (swiftmlp_get_grads) until the
 *   next backward.
 */
#ifndef SWIFTMLP_H
#define SWIFTMLP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions -------------------------------------------------------- */

/* The one place the version is written: CMake (project version, SONAME
 * libswiftmlp.so.MAJOR, swiftmlp.pc, swiftmlpConfigVersion.cmake), the
 * Python package's metadata and swiftmlp.__version__ read these three
 * lines. */

#define SWIFTMLP_VERSION_MAJOR 1
#define SWIFTMLP_VERSION_MINOR 1
#define SWIFTMLP_VERSION_PATCH 0
/** MAJOR*10000 + MINOR*100 + PATCH, comparable with swiftmlp_version_number(). */
#define SWIFTMLP_VERSION_NUMBER \
    (SWIFTMLP_VERSION_MAJOR * 10000 + SWIFTMLP_VERSION_MINOR * 100 + SWIFTMLP_VERSION_PATCH)
#define SWIFTMLP_STRINGIFY_(x) #x
#define SWIFTMLP_STRINGIFY(x) SWIFTMLP_STRINGIFY_(x)
/** "MAJOR.MINOR.PATCH", equal to swiftmlp_version_string() of a matching library. */
#define SWIFTMLP_VERSION_STRING                                      \
    SWIFTMLP_STRINGIFY(SWIFTMLP_VERSION_MAJOR) "." SWIFTMLP_STRINGIFY( \
        SWIFTMLP_VERSION_MINOR) "." SWIFTMLP_STRINGIFY(SWIFTMLP_VERSION_PATCH)

/* ---- Limits ---------------------------------------------------------- */

/** Most entries in a sizes array (so at most SWIFTMLP_MAX_SIZES-1 weight layers). */
#define SWIFTMLP_MAX_SIZES 1025
/** Largest single layer size N_l. */
#define SWIFTMLP_MAX_LAYER_SIZE 16777216
/** Most parameters (weights + biases) a network may hold: 2^28 elements. */
#define SWIFTMLP_MAX_PARAMS 268435456
/** Most cached activation elements per batch, batch * (N0 + ... + NL): 2^28. */
#define SWIFTMLP_MAX_BATCH_ELEMENTS 268435456
/** Most threads swiftmlp_set_num_threads accepts. */
#define SWIFTMLP_MAX_THREADS 64

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
    SWIFTMLP_ERR_NON_FINITE = 9,        /**< an input value is NaN or infinite, or a step would make a parameter or optimizer state so */
    SWIFTMLP_ERR_CANCELLED = 10,        /**< swiftmlp_fit was cancelled by its progress callback */
    SWIFTMLP_ERR_FORMAT = 11,           /**< a model file or buffer is malformed or of an unsupported version */
    SWIFTMLP_ERR_IO = 12,               /**< reading or writing a file failed */
    SWIFTMLP_ERR_BUSY = 13,             /**< another thread is using the network in a conflicting way */
    SWIFTMLP_ERR_BAD_HANDLE = 14        /**< net is not a live network (already freed, or not from swiftmlp) */
} swiftmlp_status;

/** Element types. The values are pinned. */
typedef enum swiftmlp_dtype {
    SWIFTMLP_FLOAT32 = 1,  /**< C float  (IEEE-754 binary32) */
    SWIFTMLP_FLOAT64 = 2   /**< C double (IEEE-754 binary64) */
} swiftmlp_dtype;

/** Activations, one per weight layer. The values are pinned. */
typedef enum swiftmlp_activation {
    SWIFTMLP_SIGMOID = 0,     /**< g = 1/(1+exp(-f)); the slides, the default */
    SWIFTMLP_TANH = 1,        /**< g = tanh(f) */
    SWIFTMLP_RELU = 2,        /**< g = max(f, 0); dg/df = 0 at f = 0 */
    SWIFTMLP_LEAKY_RELU = 3,  /**< g = f for f > 0, else slope*f (swiftmlp_config.leaky_slope) */
    SWIFTMLP_IDENTITY = 4,    /**< g = f */
    SWIFTMLP_SOFTMAX = 5      /**< g_j = exp(f_j)/sum_k exp(f_k) per row; output layer only */
} swiftmlp_activation;

/**
 * Losses. The values are pinned. B = batch, N = output size, g = outputs,
 * f = output pre-activations (logits), y = targets.
 * - SWIFTMLP_LOSS_MSE: L = 1/(B*N) sum (g - y)^2 — the slides, the default.
 *   PyTorch: nn.MSELoss(reduction='mean')(g, y).
 * - SWIFTMLP_LOSS_BCE: L = 1/(B*N) sum -(y log g + (1-y) log(1-g)), evaluated
 *   from the logits as max(f,0) - f*y + log(1 + exp(-|f|)); needs a sigmoid
 *   output layer; dL/df = (g - y)/(B*N).
 *   PyTorch: nn.BCEWithLogitsLoss(reduction='mean')(f, y).
 * - SWIFTMLP_LOSS_CROSS_ENTROPY: L = 1/B sum_rows -sum_j y_j log softmax(f)_j,
 *   log softmax = f - logsumexp(f); needs a softmax output layer; targets are
 *   one-hot or probability rows (swiftmlp_backward) or class indices
 *   (swiftmlp_backward_labels); dL/df = (g * sum_j y_j - y)/B.
 *   PyTorch: nn.CrossEntropyLoss(reduction='mean')(f, y or labels).
 * Both fused losses stay finite for logits of any finite size (1e4 included).
 * Their dL/dg_L, readable through swiftmlp_get_quantity, is the plain
 * formula and is infinite or NaN where g saturates to exactly 0 or 1.
 */
typedef enum swiftmlp_loss {
    SWIFTMLP_LOSS_MSE = 0,
    SWIFTMLP_LOSS_BCE = 1,
    SWIFTMLP_LOSS_CROSS_ENTROPY = 2
} swiftmlp_loss;

/**
 * Parameter initialisation. The values are pinned. All draw
 * u = (next() >> 11) * 2^-53 from one SplitMix64 seeded with the seed, layer
 * by layer, W row-major then b:
 * - SWIFTMLP_INIT_UNIFORM: W and b = (2u - 1)/sqrt(N_in) (PyTorch nn.Linear's default; the default).
 * - SWIFTMLP_INIT_GLOROT:  W = (2u - 1)*sqrt(6/(N_in + N_out)), b = 0 (no draws).
 * - SWIFTMLP_INIT_HE:      W = (2u - 1)*sqrt(6/N_in), b = 0 (no draws).
 */
typedef enum swiftmlp_init {
    SWIFTMLP_INIT_UNIFORM = 0,
    SWIFTMLP_INIT_GLOROT = 1,
    SWIFTMLP_INIT_HE = 2
} swiftmlp_init;

/**
 * Optimizers. The values are pinned. Per parameter p with gradient dp,
 * t = optimizer steps taken including this one:
 * - SGD:   d = dp + weight_decay*p; with momentum > 0: buf = momentum*buf + d,
 *          d = nesterov ? d + momentum*buf : buf; then p -= lr*d.  (torch.optim.SGD)
 * - ADAM:  d = dp + weight_decay*p; m = b1*m + (1-b1)*d; v = b2*v + (1-b2)*d^2;
 *          p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps).     (torch.optim.Adam)
 * - ADAMW: p *= 1 - lr*weight_decay, then ADAM with d = dp.       (torch.optim.AdamW)
 * With max_grad_norm > 0, every optimizer step (swiftmlp_optimizer_step,
 * swiftmlp_train_step, swiftmlp_fit) first clips the gradients by their
 * global norm, as torch.nn.utils.clip_grad_norm_(params, max_grad_norm):
 *     total = sqrt(sum over every parameter of dp^2)   (summed in double),
 *     coef  = min(1, max_grad_norm / (total + 1e-6)),
 *     dp    = coef * dp   (coef rounded to the element type)
 * and then applies the formulas above to that dp. The gradients the network
 * holds (swiftmlp_get_grads) stay unclipped, so a refused step changes
 * nothing. swiftmlp_step, the slides' plain step, ignores the configured
 * optimizer and so never clips.
 */
typedef enum swiftmlp_optimizer_kind {
    SWIFTMLP_OPT_SGD = 0,
    SWIFTMLP_OPT_ADAM = 1,
    SWIFTMLP_OPT_ADAMW = 2
} swiftmlp_optimizer_kind;

/** The slides' per-layer quantities of the last batch (swiftmlp_get_quantity). Pinned. */
typedef enum swiftmlp_quantity {
    SWIFTMLP_Q_F = 0,      /**< pre-activations f^(l), layers 1..L */
    SWIFTMLP_Q_G = 1,      /**< activations g^(l), layers 0..L (g^(0) = x) */
    SWIFTMLP_Q_DL_DF = 2,  /**< dL/df^(l), layers 1..L */
    SWIFTMLP_Q_DL_DG = 3   /**< dL/dg^(l), layers 1..L */
} swiftmlp_quantity;

/**
 * Everything fixed at creation (swiftmlp_create_with_config). Fill it with
 * swiftmlp_config_default first, then set fields: struct_size lets later
 * versions of the library tell which version of this struct a caller has.
 */
typedef struct swiftmlp_config {
    size_t struct_size;                      /**< sizeof(swiftmlp_config) */
    const size_t *sizes;                     /**< [N0, ..., NL], borrowed during the call */
    size_t n_sizes;
    swiftmlp_dtype dtype;                    /**< default SWIFTMLP_FLOAT64 */
    uint64_t seed;                           /**< default 0 */
    const swiftmlp_activation *activations;  /**< 1 entry (every layer) or L entries; NULL = sigmoid everywhere */
    size_t n_activations;
    double leaky_slope;                      /**< default 0.01; finite */
    swiftmlp_loss loss;                      /**< default SWIFTMLP_LOSS_MSE */
    swiftmlp_init init;                      /**< default SWIFTMLP_INIT_UNIFORM */
} swiftmlp_config;

/** An optimizer and its hyperparameters (see swiftmlp_optimizer_kind).
 *  Every field must be finite, also those the kind does not use. */
typedef struct swiftmlp_optimizer {
    size_t struct_size;            /**< sizeof(swiftmlp_optimizer) */
    swiftmlp_optimizer_kind kind;
    double lr;                     /**< finite, > 0 */
    double momentum;               /**< SGD: 0 <= momentum < 1 */
    int nesterov;                  /**< SGD: non-zero for Nesterov momentum (needs momentum > 0) */
    double beta1, beta2;           /**< Adam/AdamW: each in (0, 1) */
    double eps;                    /**< Adam/AdamW: finite, > 0 */
    double weight_decay;           /**< finite, >= 0: L2 (SGD, Adam) or decoupled (AdamW) */
    double max_grad_norm;          /**< finite, >= 0: clip the gradients' global norm to this before
                                        each step (see swiftmlp_optimizer_kind); 0 = off, the default.
                                        Since 0.6.0. */
} swiftmlp_optimizer;

/** What swiftmlp_fit reports to its callback (valid during the call only). */
typedef struct swiftmlp_progress {
    size_t epoch, epochs;          /**< 0-based epoch, and the total asked for */
    size_t batch, n_batches;       /**< 0-based batch; batch == n_batches at an epoch's end */
    double batch_loss;             /**< loss of the batch just trained (NaN at an epoch's end) */
    double train_loss;             /**< mean training loss of the epoch so far */
    double val_loss;               /**< at an epoch's end with validation data, else NaN */
    int epoch_end;                 /**< non-zero at the end of an epoch */
    double lr;                     /**< the learning rate of this epoch's steps (see swiftmlp_lr_schedule). Since 0.6.0. */
} swiftmlp_progress;

/** Return non-zero to cancel the fit (it then returns SWIFTMLP_ERR_CANCELLED). */
typedef int (*swiftmlp_progress_fn)(const swiftmlp_progress *progress, void *user_data);

/**
 * Learning-rate schedules of swiftmlp_fit (swiftmlp_fit_options.lr_schedule).
 * The values are pinned. At the start of every epoch fit sets the
 * optimizer's lr to the schedule's rate for that epoch, from lr0 = the
 * optimizer's lr when the fit starts and e = the 0-based epoch of this fit
 * (every schedule gives lr0 at e = 0; swiftmlp_progress.lr reports the
 * rate). When fit returns, however it ends, the optimizer's lr is lr0 again
 * (its moments, momentum buffers and step count advance as usual): each fit
 * starts its schedule anew. The rate may reach 0 (cosine with eta_min 0),
 * which fit's steps accept.
 * - SWIFTMLP_LR_CONSTANT: lr0 (scikit-learn's learning_rate="constant"; the default).
 * - SWIFTMLP_LR_INVSCALING: lr0 / (t + 1)^power_t with t = e * rows, the rows
 *   trained on in this fit before epoch e (scikit-learn's "invscaling":
 *   SGDOptimizer.iteration_ends(time_step) after each epoch).
 * - SWIFTMLP_LR_ADAPTIVE: scikit-learn's "adaptive" (MLP _fit_stochastic
 *   without early_stopping: _update_no_improvement_count, then
 *   SGDOptimizer.trigger_stopping). After each epoch, with its training loss
 *   (swiftmlp_progress.train_loss at the epoch's end): if loss > best - lr_tol
 *   then count += 1, else count = 0; if loss < best then best = loss (best
 *   starts at +inf, count at 0); then if count > n_iter_no_change: if the
 *   current lr <= 1e-6 the fit stops (swiftmlp_fit_result.stopped_early = 1),
 *   else lr /= 5 and count = 0. lr_tol is sklearn's tol, n_iter_no_change
 *   its n_iter_no_change.
 * - SWIFTMLP_LR_STEP: lr0 * gamma^floor(e / step_size)
 *   (torch.optim.lr_scheduler.StepLR(step_size, gamma), stepped once per epoch).
 * - SWIFTMLP_LR_COSINE: eta_min + (lr0 - eta_min) * (1 + cos(pi * e / t_max)) / 2
 *   (torch.optim.lr_scheduler.CosineAnnealingLR(T_max=t_max, eta_min), in its
 *   closed form; it goes on past t_max as that formula does).
 */
typedef enum swiftmlp_lr_schedule {
    SWIFTMLP_LR_CONSTANT = 0,
    SWIFTMLP_LR_INVSCALING = 1,
    SWIFTMLP_LR_ADAPTIVE = 2,
    SWIFTMLP_LR_STEP = 3,
    SWIFTMLP_LR_COSINE = 4
} swiftmlp_lr_schedule;

/** Options of swiftmlp_fit; fill with swiftmlp_fit_options_default first. */
typedef struct swiftmlp_fit_options {
    size_t struct_size;            /**< sizeof(swiftmlp_fit_options) */
    size_t epochs;                 /**< >= 1; default 1 (SIZE_MAX: until cancelled or stopped early) */
    size_t batch_size;             /**< >= 1; default 32; larger than the data (up to SIZE_MAX) = the whole data */
    int shuffle;                   /**< default 1: reshuffle rows every epoch (see swiftmlp_fit) */
    const void *val_x;             /**< validation inputs (val_rows, N0), or NULL for none */
    size_t val_x_len;
    const void *val_y;             /**< validation targets (val_rows, NL), dense */
    size_t val_y_len;
    size_t val_rows;
    size_t patience;               /**< early stopping after this many epochs without improvement; 0 = off (default); any size_t */
    double min_delta;              /**< improvement threshold, finite >= 0; default 0 */
    int restore_best;              /**< default 1: with early stopping, end with the best epoch's parameters */
    swiftmlp_progress_fn progress; /**< may be NULL */
    void *user_data;               /**< passed to progress */
    int report_batches;            /**< default 1: call progress after every batch; 0: at epoch ends only */
    /* Since 0.6.0. Only the chosen schedule's parameters are checked. */
    swiftmlp_lr_schedule lr_schedule; /**< default SWIFTMLP_LR_CONSTANT (see swiftmlp_lr_schedule) */
    double power_t;                /**< INVSCALING: finite, >= 0; default 0.5 */
    double lr_tol;                 /**< ADAPTIVE: finite, >= 0; default 1e-4 */
    size_t n_iter_no_change;       /**< ADAPTIVE: >= 1; default 10 */
    size_t step_size;              /**< STEP: >= 1; default 1 */
    double gamma;                  /**< STEP: in (0, 1]; default 0.1 */
    size_t t_max;                  /**< COSINE: >= 1; default 1 */
    double eta_min;                /**< COSINE: finite, >= 0; default 0 */
    /** Per-row weights (rows elements of the network's element type, the
     *  dtype of x), or NULL (default) for none: every row weighs 1, the loss
     *  is the plain mean. Each must be finite and >= 0 and they must not all
     *  be 0. A batch's loss is then scikit-learn's weighted mean
     *  sum_i w_i l_i / sum_i w_i, l_i row i's loss (MSE, BCE: the mean over
     *  its NL outputs; cross-entropy: -sum_j y_ij log softmax(f_i)_j), and
     *  the gradients are those of that loss (all-ones weights give the
     *  unweighted loss). A batch whose weights sum to 0 takes no step: it is
     *  reported with batch_loss NaN, its rows do not count in the epoch's
     *  train_loss, and the optimizer's step count does not advance for it.
     *  Validation losses are unweighted. Read during the call only. */
    const void *sample_weight;
    size_t sample_weight_len;      /**< must equal rows when sample_weight is set; 0 when it is NULL */
    /** Since 1.1.0. NULL (default): train with the configured optimizer and
     *  its state. Otherwise this optimizer (checked as by
     *  swiftmlp_set_optimizer) replaces the configured one, with fresh state,
     *  once the data and every other argument have been checked: a fit
     *  refused for its arguments or data keeps the previous optimizer and
     *  state. Read during the call only. A caller built with the 1.0 header
     *  passes the 1.0 struct_size and gets NULL. */
    const swiftmlp_optimizer *optimizer;
} swiftmlp_fit_options;

/** What swiftmlp_fit did. */
typedef struct swiftmlp_fit_result {
    size_t epochs_run;             /**< completed epochs */
    size_t best_epoch;             /**< 0-based epoch with the best monitored loss (valid if epochs_run > 0) */
    double best_loss;              /**< that loss (validation loss if given, else training loss) */
    double final_train_loss;       /**< last completed epoch's training loss, NaN if none */
    double final_val_loss;         /**< last completed epoch's validation loss, NaN if none */
    int stopped_early;             /**< early stopping ended the fit */
    int cancelled;                 /**< the callback cancelled the fit */
    int restored_best;             /**< parameters were reset to the best epoch's */
} swiftmlp_fit_result;

/** The outcome of swiftmlp_gradient_check: the worst parameter. */
typedef struct swiftmlp_gradcheck {
    double max_rel_error;  /**< max_i |a_i - n_i| / max(|a_i|, |n_i|, 1e-6 * max_k |a_k|) */
    size_t index;          /**< flat parameter index of that parameter */
    double analytic;       /**< a_i, from backward (in float64) */
    double numeric;        /**< n_i, the extrapolated central difference (see swiftmlp_gradient_check) */
} swiftmlp_gradcheck;

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

/**
 * How this library multiplies matrices, as static text, for example
 * "OpenBLAS 0.3.21 (private copy), core Cooperlake (replacing OpenBLAS's
 * Prescott fallback), CPU level avx512, 2 threads for products of >= 1048576
 * multiply-adds".
 *
 * docs/openblas.md describes the private OpenBLAS copy, its threads and
 * its kernel choice (a core OPENBLAS_CORETYPE names that this CPU cannot
 * run is refused, and the text says so: "core Haswell (replacing
 * OPENBLAS_CORETYPE's SkylakeX: this CPU lacks AVX-512)"); docs/cpu.md the
 * CPU level, which the environment variable SWIFTMLP_CPU=avx2|baseline
 * lowers.
 *
 * Never NULL; never free it: the text for each thread count is written
 * once and stays valid until the library is unloaded. Thread-safe. The
 * first call (or the first matrix product) sets up the BLAS layer as
 * described.
 */
const char *swiftmlp_blas_info(void);

/**
 * The number of threads a matrix product (and a large element-wise pass or
 * optimizer step) may use, the calling thread included: >= 1.
 *
 * This is the one process-wide setting of the library (swiftmlp_blas_info
 * describes the rest). Built against a shared OpenBLAS instead of its
 * private copy, it is that OpenBLAS's own thread count.
 * Never fails. Thread-safe. The first call sets up the BLAS layer.
 */
size_t swiftmlp_get_num_threads(void);

/**
 * Let matrix products use `threads` threads, the calling thread included
 * (1 <= threads <= SWIFTMLP_MAX_THREADS; 1 runs everything on the calling
 * thread). Worker threads beyond the count sleep; missing ones are started
 * here. For Python users, threadpoolctl's threadpool_limits() calls this.
 *
 * Results depend only on the thread count (products and element-wise passes
 * are split in as many parts), so a network trained with one count and with
 * another may differ in the last bits.
 *
 * Threads: may be called from any thread at any time, also while other
 * threads train. A product or pass already running finishes in the parts it
 * started with; the next one uses the new count. The setting outlives every
 * network and survives fork() in the child.
 *
 * Returns SWIFTMLP_OK;
 *   SWIFTMLP_ERR_INVALID_ARGUMENT: threads is 0 or > SWIFTMLP_MAX_THREADS;
 *   SWIFTMLP_ERR_OUT_OF_MEMORY: a worker thread could not be started.
 * On failure the count is unchanged.
 */
swiftmlp_status swiftmlp_set_num_threads(size_t threads);

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
 * The network is the slides': sigmoid on every layer, MSE loss. For other
 * activations, losses or initialisations use swiftmlp_create_with_config.
 *
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
 * Fill a swiftmlp_config with the defaults (struct_size set, no sizes,
 * float64, seed 0, sigmoid everywhere, slope 0.01, MSE, uniform init).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (config NULL). Thread-safe.
 */
swiftmlp_status swiftmlp_config_default(swiftmlp_config *config);

/**
 * Create a network from a configuration (see swiftmlp_config and
 * swiftmlp_create, whose rules for sizes, dtype and seed apply).
 *
 * @param config  in: borrowed during the call.
 * @param out     out: the new handle, NULL on failure; free with swiftmlp_free.
 * @return as swiftmlp_create, plus SWIFTMLP_ERR_INVALID_ARGUMENT for:
 *         struct_size != sizeof(swiftmlp_config); n_activations not 1 or L
 *         (with activations non-NULL); an unknown activation, loss or init
 *         value; softmax on a hidden layer; BCE without a sigmoid output or
 *         cross-entropy without a softmax output; a non-finite leaky_slope.
 * Thread-safe.
 */
swiftmlp_status swiftmlp_create_with_config(const swiftmlp_config *config, swiftmlp_net **out);

/**
 * Release a network and all its memory. swiftmlp_free(NULL) does nothing, and
 * so does a pointer that is not a live network (a double free).
 * Ownership: the handle is invalid afterwards; calls with it give
 * SWIFTMLP_ERR_BAD_HANDLE until a later create or load reuses the address.
 * Threads: may be called while other threads' calls on the same network run
 * (see "Global rules"): it does not wait for them; they finish normally and
 * the last one to return releases the memory. Never fails.
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
 * @param x      in: rows * N0 elements, row-major (rows, N0). Not retained.
 * @param x_len  number of elements in x; must equal rows * N0.
 * @param rows   the batch size B >= 1.
 * @param y      out: receives rows * NL elements, row-major (rows, NL).
 * @param y_cap  capacity of y in elements; must be >= rows * NL.
 * @return SWIFTMLP_OK;
 *         SWIFTMLP_ERR_NULL_POINTER (net, x or y NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (rows 0, unknown dtype);
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_NON_FINITE (x holds NaN or infinity);
 *         SWIFTMLP_ERR_TOO_LARGE (rows * (N0+...+NL) > SWIFTMLP_MAX_BATCH_ELEMENTS);
 *         SWIFTMLP_ERR_OUT_OF_MEMORY.
 * On failure the network, including the cache of the previous forward, is unchanged.
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_forward(swiftmlp_net *net, swiftmlp_dtype dtype,
                                 const void *x, size_t x_len, size_t rows,
                                 void *y, size_t y_cap);

/**
 * Backward pass for the batch of the last forward: computes the loss and
 * overwrites every gradient (see the math above).
 *
 * @param net    the network.
 * @param dtype  element type of y; must be the network's.
 * @param y      in: targets, rows * NL elements, row-major (rows, NL).
 * @param y_len  number of elements in y; must equal rows * NL.
 * @param rows   must equal the rows of the last swiftmlp_forward.
 * @param loss   out (may be NULL): the loss L of that batch, as double.
 * @return SWIFTMLP_OK;
 *         SWIFTMLP_ERR_NULL_POINTER (net or y NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (rows 0, unknown dtype);
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_NON_FINITE (y holds NaN or infinity);
 *         SWIFTMLP_ERR_STATE (no forward since creation or since the
 *             parameters last changed, or rows differs from that forward's).
 * Allocates nothing.  On failure gradients and loss are untouched.
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_backward(swiftmlp_net *net, swiftmlp_dtype dtype,
                                  const void *y, size_t y_len, size_t rows,
                                  double *loss);

/**
 * One plain SGD step with the gradients of the last backward (or those
 * swiftmlp_set_grads put in): W -= lr * dL/dW, b -= lr * dL/db.
 * Invalidates the forward cache.  It ignores any configured optimizer (whose
 * state and step count it leaves alone).  A step that would make a parameter NaN or infinite (for example
 * an lr that overflows float on a float32 network) is refused.
 *
 * @param net  the network.
 * @param lr   learning rate, finite and >= 0.
 * @return SWIFTMLP_OK;
 *         SWIFTMLP_ERR_NULL_POINTER (net NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (lr negative, NaN or infinite);
 *         SWIFTMLP_ERR_STATE (no backward or swiftmlp_set_grads since the parameters
 *             last changed: the gradients were already consumed by a step, see
 *             "Global rules");
 *         SWIFTMLP_ERR_NON_FINITE (refused; parameters unchanged).
 * Allocates nothing.
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_step(swiftmlp_net *net, double lr);

/**
 * Backward pass with class-index targets, for cross-entropy networks: the
 * same as swiftmlp_backward with one-hot rows, without building them.
 *
 * @param labels      in: rows entries, each 0 <= label < NL.
 * @param labels_len  must equal rows.
 * @param rows        must equal the rows of the last swiftmlp_forward.
 * @param loss        out (may be NULL).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net or labels NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (rows 0, a label out of range, the
 *         loss is not cross-entropy); SWIFTMLP_ERR_BUFFER_SIZE; SWIFTMLP_ERR_STATE (as swiftmlp_backward).
 * Allocates nothing. On failure gradients are untouched.
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_backward_labels(swiftmlp_net *net, const int64_t *labels, size_t labels_len,
                                         size_t rows, double *loss);

/**
 * Fill a swiftmlp_optimizer with the defaults of a kind: SGD lr 0.01, no
 * momentum; Adam lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay; AdamW
 * the same with weight decay 0.01; no gradient clipping (max_grad_norm 0).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT (unknown kind).
 * Thread-safe.
 */
swiftmlp_status swiftmlp_optimizer_default(swiftmlp_optimizer_kind kind, swiftmlp_optimizer *optimizer);

/**
 * Configure the optimizer that swiftmlp_optimizer_step and swiftmlp_fit
 * apply, with fresh state (t = 0, zero moments/momentum). Allocates the
 * state here (up to 2 parameter-sized buffers), never in a step.
 *
 * @param optimizer  in: copied.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER;
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (struct_size != sizeof(swiftmlp_optimizer),
 *             unknown kind, a hyperparameter outside its documented domain);
 *         SWIFTMLP_ERR_OUT_OF_MEMORY. On failure the previous optimizer is kept.
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_set_optimizer(swiftmlp_net *net, const swiftmlp_optimizer *optimizer);

/**
 * Read the configured optimizer back.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_STATE (none set).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_optimizer(const swiftmlp_net *net, swiftmlp_optimizer *optimizer);

/**
 * Change the configured optimizer's learning rate, keeping its state: the
 * momentum buffers, Adam's moments and the step count are untouched (unlike
 * swiftmlp_set_optimizer, which starts them afresh). The next step uses lr.
 * A changing call under the thread rule.
 * @param lr  finite, > 0.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT
 *         (lr <= 0, NaN or infinite); SWIFTMLP_ERR_STATE (no optimizer set).
 *         On failure nothing changes. Since 0.6.0.
 */
swiftmlp_status swiftmlp_set_learning_rate(swiftmlp_net *net, double lr);

/**
 * Zero the optimizer's state and step count, keeping its hyperparameters.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_STATE (none set).
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_reset_optimizer(swiftmlp_net *net);

/**
 * The number of optimizer steps since the optimizer was set or reset (t).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_step_count(const swiftmlp_net *net, uint64_t *steps);

/**
 * One step of the configured optimizer with the last backward's gradients
 * (or those swiftmlp_set_grads put in); t advances by one. Invalidates the
 * forward cache. Allocates nothing.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER;
 *         SWIFTMLP_ERR_STATE (no optimizer set, or no backward or set_grads since
 *             the parameters last changed: the gradients were already consumed);
 *         SWIFTMLP_ERR_NON_FINITE (the step would make a parameter NaN or
 *             infinite: refused, parameters and optimizer state unchanged).
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_optimizer_step(swiftmlp_net *net);

/**
 * One whole training step in one call: forward on x, backward with dense
 * targets y, then a step of the configured optimizer (for the slides' plain
 * SGD, configure SWIFTMLP_OPT_SGD with momentum 0 and weight decay 0: the
 * step is then exactly swiftmlp_step's). The same as the three calls, with
 * less per-call overhead.
 *
 * @param x, x_len  rows*N0 inputs.   @param y, y_len  rows*NL dense targets.
 * @param loss      out (may be NULL): the batch's loss.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_BAD_HANDLE;
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (rows 0, unknown dtype); SWIFTMLP_ERR_DTYPE;
 *         SWIFTMLP_ERR_BUFFER_SIZE; SWIFTMLP_ERR_NON_FINITE (x or y non-finite: nothing
 *         changed; or the step would make a parameter non-finite: parameters and
 *         optimizer state unchanged, the cache and gradients hold this batch);
 *         SWIFTMLP_ERR_STATE (no optimizer set); SWIFTMLP_ERR_TOO_LARGE;
 *         SWIFTMLP_ERR_OUT_OF_MEMORY; SWIFTMLP_ERR_BUSY.
 * Allocates nothing after the first call with a batch size.
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_train_step(swiftmlp_net *net, swiftmlp_dtype dtype,
                                    const void *x, size_t x_len, const void *y, size_t y_len,
                                    size_t rows, double *loss);

/**
 * Fill swiftmlp_fit_options with the defaults (see its fields).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER. Thread-safe.
 */
swiftmlp_status swiftmlp_fit_options_default(swiftmlp_fit_options *options);

/**
 * Train on a data set with the configured optimizer (or options->optimizer,
 * set once everything is checked): each fit starts from the
 * row order 0..rows-1; at the start of every epoch (if options->shuffle) the
 * current order is shuffled by Fisher-Yates, i from rows-1 down to 1 swapping
 * i and j = next() % (i+1), with the network's own shuffle generator
 * (SplitMix64 seeded with seed + 0x6A09E667F3BCC909; it carries over from one
 * fit to the next, so the same seed and the same calls give the same
 * batches); the order is cut into batches of batch_size rows (the
 * last one holds the remainder), and each batch gets forward, backward,
 * optimizer step. After each epoch the validation loss is computed (without
 * touching the training state) and early stopping is applied.
 *
 * @param x, x_len  inputs (rows, N0); x_len must equal rows*N0.
 * @param y, y_len  dense targets (rows, NL); y_len must equal rows*NL. For
 *                  cross-entropy: one-hot or probability rows.
 * @param rows      >= 1.
 * @param options   in: borrowed during the call (NULL = defaults). Validation
 *                  data needs both val_x and val_y (one alone: NULL_POINTER)
 *                  and val_rows >= 1 (0: INVALID_ARGUMENT).
 * @param result    out (may be NULL): filled on SWIFTMLP_OK and SWIFTMLP_ERR_CANCELLED.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_CANCELLED (the callback returned non-zero;
 *             the network holds the parameters after the last completed step);
 *         SWIFTMLP_ERR_NULL_POINTER (also: sample_weight NULL with
 *             sample_weight_len != 0); SWIFTMLP_ERR_INVALID_ARGUMENT (rows 0,
 *             epochs 0, batch_size 0, bad min_delta, struct_size neither this
 *             version's sizeof nor 1.0's, unknown dtype,
 *             unknown lr_schedule, a parameter of the chosen schedule outside its
 *             domain, a negative sample weight, sample weights all 0);
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE (also: sample_weight_len != rows);
 *         SWIFTMLP_ERR_NON_FINITE
 *             (data or a sample weight holds NaN/inf: nothing changed; or a step would make a
 *             parameter non-finite: training stopped at the last good step);
 *         SWIFTMLP_ERR_STATE (no optimizer set nor given); SWIFTMLP_ERR_TOO_LARGE;
 *         SWIFTMLP_ERR_OUT_OF_MEMORY; for options->optimizer, the statuses of
 *         swiftmlp_set_optimizer.
 * Allocates its buffers once at the start. The callback must not call
 * functions of the same network.
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_fit(swiftmlp_net *net, swiftmlp_dtype dtype,
                             const void *x, size_t x_len, const void *y, size_t y_len, size_t rows,
                             const swiftmlp_fit_options *options, swiftmlp_fit_result *result);

/**
 * Outputs g_L for rows inputs, in chunks of at most 256 rows through a
 * separate inference buffer: the training cache (what backward and
 * swiftmlp_get_quantity see), gradients and optimizer state are untouched.
 * @param x_len  must equal rows*N0.   @param y_cap  must be >= rows*NL.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT (rows 0,
 *         unknown dtype); SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE; SWIFTMLP_ERR_NON_FINITE;
 *         SWIFTMLP_ERR_TOO_LARGE; SWIFTMLP_ERR_OUT_OF_MEMORY.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_predict(const swiftmlp_net *net, swiftmlp_dtype dtype,
                                 const void *x, size_t x_len, size_t rows, void *y, size_t y_cap);

/**
 * The loss of rows inputs and dense targets, computed like swiftmlp_predict
 * (training state untouched).
 * @return as swiftmlp_predict; loss must not be NULL.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_evaluate(const swiftmlp_net *net, swiftmlp_dtype dtype,
                                  const void *x, size_t x_len, const void *y, size_t y_len,
                                  size_t rows, double *loss);

/**
 * Compare the analytic gradients of the current parameters on the batch
 * (x, y) with finite differences, in float64 whatever the network's type:
 * the check runs on a float64 copy and leaves this network exactly as it
 * was. The numeric gradient is Richardson's extrapolation
 * n = (4 D(h/2) - D(h)) / 3 of central differences
 * D(d) = (L(p + d) - L(p - d)) / (2d): its truncation error is O(h^4), so a
 * step large enough to keep rounding in L negligible can be used. Costs four
 * forward passes per parameter. A ReLU kink within about h of a
 * pre-activation makes any difference quotient meaningless there.
 *
 * @param h    difference step, finite and > 0 (1e-3 suits most networks).
 * @param out  out: the worst parameter (see swiftmlp_gradcheck).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT (rows 0, bad h,
 *         unknown dtype); SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE; SWIFTMLP_ERR_NON_FINITE;
 *         SWIFTMLP_ERR_TOO_LARGE; SWIFTMLP_ERR_OUT_OF_MEMORY.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_gradient_check(const swiftmlp_net *net, swiftmlp_dtype dtype,
                                        const void *x, size_t x_len, const void *y, size_t y_len,
                                        size_t rows, double h, swiftmlp_gradcheck *out);

/* ---- The slides' quantities -------------------------------------------- */

/**
 * The number of rows of the last training batch (what swiftmlp_get_quantity returns).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_STATE (no forward yet).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_cached_rows(const swiftmlp_net *net, size_t *rows);

/**
 * Check a batch size against this network's limit without touching
 * anything: the check swiftmlp_forward, swiftmlp_train_step and
 * swiftmlp_gradient_check make of rows, with the same status and message,
 * for a caller that would copy or convert a batch before passing it.
 * Since 1.1.0.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (rows 0);
 *         SWIFTMLP_ERR_TOO_LARGE (rows * (N0+...+NL) > SWIFTMLP_MAX_BATCH_ELEMENTS).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_check_batch(const swiftmlp_net *net, size_t rows);

/**
 * Copy one of the slides' quantities of the last training batch: f^(l),
 * g^(l), dL/df^(l) or dL/dg^(l), shape (rows, N_l) row-major. Layer l counts
 * as on the slides: 0 is the input (only g, = x), L the output. f and g are
 * there after a forward; dL/df and dL/dg after a backward following it.
 * They stay readable after a step or parameter write, until the next forward.
 *
 * @param out, out_cap  receives rows*N_l elements.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT
 *         (unknown quantity or dtype); SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_LAYER_INDEX (l > L,
 *         or l = 0 with a quantity other than g); SWIFTMLP_ERR_STATE; SWIFTMLP_ERR_BUFFER_SIZE.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_quantity(const swiftmlp_net *net, swiftmlp_quantity quantity, size_t layer,
                                      swiftmlp_dtype dtype, void *out, size_t out_cap);

/* ---- Saving and loading ---------------------------------------------- */

/* Model files are safetensors files; docs/model-format.md specifies their
 * tensors, metadata and what loading validates. */

/** Flags of the save functions (a bitwise OR). The values are pinned. */
typedef enum swiftmlp_save_flags {
    SWIFTMLP_SAVE_DEFAULT = 0,
    SWIFTMLP_SAVE_OPTIMIZER_STATE = 1  /**< also save the optimizer's moments/momentum and step count */
} swiftmlp_save_flags;

/**
 * The size in bytes of the model file the network saves to with these flags
 * (the first call of the two-call pattern; see swiftmlp_save_buffer).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_BAD_HANDLE;
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (unknown flag bits); SWIFTMLP_ERR_BUSY.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_save_size(const swiftmlp_net *net, swiftmlp_save_flags flags, size_t *size);

/**
 * Write the model file into a caller buffer.
 * @param buf      out: receives swiftmlp_save_size() bytes.
 * @param buf_cap  capacity of buf in bytes.
 * @param written  out (may be NULL): bytes written; on SWIFTMLP_ERR_BUFFER_SIZE, the size needed.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_BAD_HANDLE;
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (unknown flag bits); SWIFTMLP_ERR_BUFFER_SIZE (nothing written);
 *         SWIFTMLP_ERR_BUSY.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_save_buffer(const swiftmlp_net *net, swiftmlp_save_flags flags, void *buf,
                                     size_t buf_cap, size_t *written);

/**
 * Save the model to a file, atomically: path holds either its old contents
 * or the complete new file, and nothing else is left beside it. On Linux the
 * bytes go to an unnamed file (O_TMPFILE) in the same directory, which is
 * flushed (fsync) and linked to path when path does not exist, or else
 * linked to a hidden name ".NAME.swiftmlp-XXXXXXXXXXXX" and renamed over
 * path; then the directory is fsynced. A save killed at any point leaves no
 * trace, with one exception: replacing a file, a kill between that link and
 * the rename (two consecutive system calls after all writing and flushing,
 * some microseconds) leaves the hidden name holding the complete new model.
 * Where the file system lacks O_TMPFILE (or /proc is not mounted) the bytes
 * are written under the hidden name itself, which a kill while writing
 * leaves behind. On any failure nothing is left and whatever was at path is
 * untouched. A new file gets the permissions open(path, O_CREAT, 0666) would
 * give under the process's umask; an existing file keeps its mode (and, where
 * the process may set them, its owner and group). A path that exists and is
 * not a regular file (a directory, a device such as /dev/full) is refused; a
 * symbolic link is followed (the file it points to is replaced).
 * @param path  NUL-terminated file name.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_BAD_HANDLE;
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (unknown flag bits, empty path);
 *         SWIFTMLP_ERR_IO (with the reason: missing directory, permission, disk full...);
 *         SWIFTMLP_ERR_BUSY.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_save_file(const swiftmlp_net *net, swiftmlp_save_flags flags, const char *path);

/**
 * Create a network from a model file held in memory (docs/model-format.md
 * says what is validated). The buffer is only read during the call.
 * @param out  out: the new handle, NULL on failure; free with swiftmlp_free.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_FORMAT;
 *         SWIFTMLP_ERR_OUT_OF_MEMORY.
 * Thread-safe.
 */
swiftmlp_status swiftmlp_load_buffer(const void *buf, size_t buf_len, swiftmlp_net **out);

/**
 * Create a network from a model file. Never blocks and reads nothing but a
 * regular file: the file is opened without waiting (O_NONBLOCK), its type
 * checked on the open descriptor, and a FIFO, device, directory or socket
 * refused before any read; a symbolic link is followed (a loop is an error);
 * a file that is longer or shorter than its size when opened (a /proc file
 * growing while read) is refused.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT
 *         (empty path); SWIFTMLP_ERR_IO (missing, unreadable, a directory,
 *         not a regular file, a symbolic link loop, changed while read; the
 *         message says which); SWIFTMLP_ERR_FORMAT;
 *         SWIFTMLP_ERR_OUT_OF_MEMORY.
 * Thread-safe.
 */
swiftmlp_status swiftmlp_load_file(const char *path, swiftmlp_net **out);

/* ---- Shape and type -------------------------------------------------- */

/**
 * The activation of every weight layer (L entries).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_BUFFER_SIZE (cap < L).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_activations(const swiftmlp_net *net, swiftmlp_activation *activations,
                                         size_t activations_cap);

/**
 * The configuration the network was created with (sizes and activations
 * point into the network and stay valid until swiftmlp_free; n_activations = L).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_config(const swiftmlp_net *net, swiftmlp_config *config);


/**
 * The element type of the network.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net or dtype NULL).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_dtype(const swiftmlp_net *net, swiftmlp_dtype *dtype);

/**
 * The number of weight layers L (the sizes array has L+1 entries).
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net or n_layers NULL).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_layer_count(const swiftmlp_net *net, size_t *n_layers);

/**
 * Copy the layer sizes [N0, ..., NL] into sizes.
 * @param sizes      out: receives L+1 entries.
 * @param sizes_cap  capacity of sizes; must be >= L+1.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_BUFFER_SIZE.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_sizes(const swiftmlp_net *net, size_t *sizes, size_t sizes_cap);

/**
 * The number of parameters (= number of gradient elements), sum over layers
 * of N_out*N_in + N_out.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net or count NULL).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_param_count(const swiftmlp_net *net, size_t *count);

/**
 * Element offsets of W_layer and b_layer in the flat parameter (and gradient) buffer.
 * @param w_offset  out: offset of W_layer (N_out*N_in elements, row-major).
 * @param b_offset  out: offset of b_layer (N_out elements); = w_offset + N_out*N_in.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_LAYER_INDEX.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_layer_offsets(const swiftmlp_net *net, size_t layer,
                                       size_t *w_offset, size_t *b_offset);

/* ---- Parameters and gradients ------------------------------------------ */

/**
 * Copy all parameters, in the documented layout, into out.
 * @param dtype    element type of out; must be the network's.
 * @param out      out: receives swiftmlp_get_param_count() elements.
 * @param out_cap  capacity of out in elements; must be >= swiftmlp_get_param_count().
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT
 *         (unknown dtype); SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_params(const swiftmlp_net *net, swiftmlp_dtype dtype,
                                    void *out, size_t out_cap);

/**
 * Replace all parameters with the contents of in (documented layout).
 * Invalidates the forward cache.
 * @param in      in: exactly swiftmlp_get_param_count() elements. Not retained.
 * @param in_len  must equal swiftmlp_get_param_count().
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT
 *         (unknown dtype); SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_NON_FINITE (then nothing is written).
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_set_params(swiftmlp_net *net, swiftmlp_dtype dtype,
                                    const void *in, size_t in_len);

/**
 * Copy all gradients of the last backward, in the parameter layout, into out.
 * @param out_cap  must be >= swiftmlp_get_param_count().
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT;
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_BUFFER_SIZE;
 *         SWIFTMLP_ERR_STATE (no backward has run yet).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_grads(const swiftmlp_net *net, swiftmlp_dtype dtype,
                                   void *out, size_t out_cap);

/**
 * Replace all gradients with the contents of grads (the parameter layout),
 * as if a backward of the current parameters had computed them: the next
 * swiftmlp_step or swiftmlp_optimizer_step applies them. They count as fresh
 * gradients exactly as a backward's do, so every rule about stepping with
 * the last backward's gradients applies to them in the same way. Needs no
 * forward or backward before it. Parameters, the optimizer and its state,
 * and the forward cache (with the slides' quantities of its batch) are left
 * as they were; swiftmlp_get_grads and swiftmlp_get_layer_grads read the
 * new values.
 *
 * Data-parallel training (the pattern of Horovod and PyTorch DDP; the
 * README's "Data-parallel training over MPI", examples/train_mpi.c): every
 * process holds the same parameters; each runs forward and backward on its
 * own b_r rows of the global batch of B = sum b_r rows, which gives the mean
 * gradient over those rows; the processes sum b_r * gradient (a rank with
 * no rows adds zeros) and divide by B, which is the mean gradient over the
 * whole batch; each process sets it here and steps. The gradients are copied
 * out (swiftmlp_get_grads) into a buffer the caller owns, reduced in place
 * there (MPI_Allreduce with MPI_IN_PLACE) and copied back with this call.
 * No call hands out a pointer into the network's own buffers: writes
 * outside a call could neither be checked (finite values, the thread rule)
 * nor leave the network unchanged on failure.
 *
 * @param dtype     element type of grads; must be the network's.
 * @param grads     in: exactly swiftmlp_get_param_count() elements. Not retained.
 * @param grads_len must equal swiftmlp_get_param_count().
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER (net or grads NULL);
 *         SWIFTMLP_ERR_INVALID_ARGUMENT (unknown dtype); SWIFTMLP_ERR_DTYPE;
 *         SWIFTMLP_ERR_BUFFER_SIZE (grads_len is not the parameter count);
 *         SWIFTMLP_ERR_NON_FINITE (a value is NaN or infinite).
 *         On failure nothing is written: the previous gradients, and whether
 *         a step may use them, are unchanged.
 * Changes the network (see the thread rule). Allocates nothing.
 */
swiftmlp_status swiftmlp_set_grads(swiftmlp_net *net, swiftmlp_dtype dtype,
                                   const void *grads, size_t grads_len);

/**
 * Copy W_layer (N_out x N_in, row-major) and b_layer (N_out) out of the network.
 * @param w      out: N_out*N_in elements.   @param w_cap  must be >= N_out*N_in.
 * @param b      out: N_out elements.        @param b_cap  must be >= N_out.
 * @return SWIFTMLP_OK; SWIFTMLP_ERR_NULL_POINTER; SWIFTMLP_ERR_INVALID_ARGUMENT;
 *         SWIFTMLP_ERR_DTYPE; SWIFTMLP_ERR_LAYER_INDEX; SWIFTMLP_ERR_BUFFER_SIZE.
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
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
 * Threads: a changing call; it runs alone on the network, else
 * SWIFTMLP_ERR_BUSY (see "Global rules").
 */
swiftmlp_status swiftmlp_set_layer(swiftmlp_net *net, size_t layer, swiftmlp_dtype dtype,
                                   const void *w, size_t w_len, const void *b, size_t b_len);

/**
 * Copy dL/dW_layer and dL/db_layer of the last backward.
 * @return as swiftmlp_get_layer, plus SWIFTMLP_ERR_STATE (no backward has run yet).
 * Threads: a reading call; others may read the network at the same time
 * (see "Global rules").
 */
swiftmlp_status swiftmlp_get_layer_grads(const swiftmlp_net *net, size_t layer, swiftmlp_dtype dtype,
                                         void *dw, size_t dw_cap, void *db, size_t db_cap);

#ifdef __cplusplus
}
#endif

#endif /* SWIFTMLP_H */
