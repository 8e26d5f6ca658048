"""The lecture slides' NumPy code, batched, as a plain transcription.

This is the reference the swiftmlp library is checked against.  It does not
import swiftmlp.  Shapes (batch-first, as on the slides):

    x          (B, N0)
    weights[l] (N_{l+1}, N_l)
    biases[l]  (N_{l+1},)
    g          (B, N_l) before iteration l
    y          (B, NL)

Everything is computed in the dtype of the arrays passed in.
"""

import math

import numpy as np


def sigmoid(f):
    return 1 / (1 + np.exp(-f))


def forward(weights, biases, x):
    """The slides' forward loop.  Returns the list of activations
    [g_0 = x, g_1, ..., g_L]; the network's output is the last one."""
    g = x
    activations = [g]
    for b, w in zip(biases, weights):
        f = (w @ g.T).T + b
        g = sigmoid(f)
        activations.append(g)
    return activations


def loss(g_L, y):
    """L = mean((g_L - y)**2), the mean over the batch AND the outputs."""
    return np.mean((g_L - y) ** 2)


def backward(weights, activations, y):
    """The slides' backward equations, batched.  Returns (dL_dW, dL_db), lists
    with one gradient per weight layer, shaped like weights and biases."""
    g_L = activations[-1]
    B, N_L = g_L.shape
    dL_dW = [None] * len(weights)
    dL_db = [None] * len(weights)

    # Output activations: dL/dg_L = 2/(B*N_L) (g_L - y)
    dL_dg = 2 / (B * N_L) * (g_L - y)
    for l in reversed(range(len(weights))):
        g = activations[l + 1]
        g_prev = activations[l]
        # Pre-activations: dL/df = dL/dg * g * (1 - g)
        dL_df = dL_dg * g * (1 - g)
        # Weights and biases: dL/dW = (dL/df)^T @ g_prev, dL/db = dL/df summed over the batch
        dL_dW[l] = dL_df.T @ g_prev
        dL_db[l] = dL_df.sum(axis=0)
        # Activations of the layer below: dL/dg_prev = dL/df @ W
        dL_dg = dL_df @ weights[l]
    return dL_dW, dL_db


def sgd_step(weights, biases, dL_dW, dL_db, lr):
    """Plain SGD: W -= lr * dL/dW, b -= lr * dL/db.  Returns new lists."""
    new_weights = [w - lr * dw for w, dw in zip(weights, dL_dW)]
    new_biases = [b - lr * db for b, db in zip(biases, dL_db)]
    return new_weights, new_biases


# ---------------------------------------------------------------------------
# Beyond the slides: every activation, loss and optimizer of swiftmlp 0.2,
# in the same plain style, written from the formulas in include/swiftmlp.h.
# The functions above (sigmoid everywhere, MSE, plain SGD) stay as they were:
# they are the slides' code.
# ---------------------------------------------------------------------------

def activation(name, f, slope=0.01):
    """g = act(f), elementwise (softmax: per row)."""
    if name == "sigmoid":
        return sigmoid(f)
    if name == "tanh":
        return np.tanh(f)
    if name == "relu":
        return np.where(f > 0, f, 0 * f)
    if name == "leaky_relu":
        return np.where(f > 0, f, slope * f)
    if name == "identity":
        return f
    if name == "softmax":
        # exp(f - max f) / sum exp(f - max f): the same value, never overflows
        e = np.exp(f - np.max(f, axis=1, keepdims=True))
        return e / np.sum(e, axis=1, keepdims=True)
    raise ValueError(name)


def activation_backward(name, dL_dg, f, g, slope=0.01):
    """dL/df from dL/dg (chain rule through g = act(f))."""
    if name == "sigmoid":
        return dL_dg * g * (1 - g)
    if name == "tanh":
        return dL_dg * (1 - g * g)
    if name == "relu":
        return np.where(f > 0, dL_dg, 0 * dL_dg)          # dg/df = 0 at f = 0
    if name == "leaky_relu":
        return np.where(f > 0, dL_dg, slope * dL_dg)
    if name == "identity":
        return dL_dg
    if name == "softmax":
        # dL/df_j = sum_k dL/dg_k dg_k/df_j = g_j (dL/dg_j - sum_k dL/dg_k g_k)
        s = np.sum(dL_dg * g, axis=1, keepdims=True)
        return g * (dL_dg - s)
    raise ValueError(name)


def _keep(a):
    return a


def forward_general(weights, biases, x, activations, slope=0.01, store=_keep):
    """The slides' forward loop with one activation per layer.  Returns
    (fs, gs): fs = [None, f_1, ..., f_L], gs = [g_0 = x, g_1, ..., g_L].

    store(a) is applied to each f and g as it is kept (a float32 network keeps
    them in float32: store = round to float32; the default keeps them as they are)."""
    g = x
    fs, gs = [None], [g]
    for b, w, act in zip(biases, weights, activations):
        f = store((w @ g.T).T + b)
        g = store(activation(act, f, slope))
        fs.append(f)
        gs.append(g)
    return fs, gs


def log1p_exp_neg_abs(f):
    return np.log1p(np.exp(-np.abs(f)))


def logsumexp(f):
    m = np.max(f, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(f - m), axis=1, keepdims=True))


def loss_general(loss_name, f_L, g_L, y):
    """The loss of a batch (header, swiftmlp_loss):
    mse: 1/(B N) sum (g - y)^2
    bce: 1/(B N) sum max(f,0) - f y + log(1 + exp(-|f|))   (from the logits f)
    cross_entropy: 1/B sum_rows -sum_j y_j (f_j - logsumexp(f))"""
    B, N = g_L.shape
    if loss_name == "mse":
        return np.sum((g_L - y) ** 2) / (B * N)
    if loss_name == "bce":
        return np.sum(np.maximum(f_L, 0) - f_L * y + log1p_exp_neg_abs(f_L)) / (B * N)
    if loss_name == "cross_entropy":
        log_softmax = f_L - logsumexp(f_L)
        return np.sum(-y * log_softmax) / B
    raise ValueError(loss_name)


def loss_backward(loss_name, f_L, g_L, y, output_activation, slope=0.01, store=_keep):
    """(dL/dg_L, dL/df_L) of the output layer.
    mse: dL/dg = 2/(B N) (g - y), then the output activation's backward.
    bce (sigmoid output): dL/df = (g - y)/(B N); dL/dg = dL/df / (g (1 - g)).
    cross_entropy (softmax output): dL/df = (g sum_j y_j - y)/B; dL/dg = -y/(B g)."""
    B, N = g_L.shape
    if loss_name == "mse":
        dL_dg = store(2 / (B * N) * (g_L - y))
        return dL_dg, store(activation_backward(output_activation, dL_dg, f_L, g_L, slope))
    if loss_name == "bce":
        dL_df = (g_L - y) / (B * N)
        return store(dL_df / (g_L * (1 - g_L))), store(dL_df)
    if loss_name == "cross_entropy":
        dL_df = (g_L * np.sum(y, axis=1, keepdims=True) - y) / B
        return store(-y / (B * g_L)), store(dL_df)
    raise ValueError(loss_name)


def backward_general(weights, fs, gs, y, activations, loss_name, slope=0.01, store=_keep):
    """The slides' backward equations with any activation and loss.
    Returns (dL_dW, dL_db, dL_df, dL_dg): gradients per weight layer, and the
    per-layer quantities as lists indexed like the slides ([None, layer 1..L]).
    store: as in forward_general, applied to each dL/dg and dL/df kept."""
    L = len(weights)
    dL_dW, dL_db = [None] * L, [None] * L
    dL_dfs, dL_dgs = [None] * (L + 1), [None] * (L + 1)
    dL_dg, dL_df = loss_backward(loss_name, fs[L], gs[L], y, activations[L - 1], slope, store)
    for l in reversed(range(1, L + 1)):
        if l < L:
            dL_df = store(activation_backward(activations[l - 1], dL_dg, fs[l], gs[l], slope))
        dL_dgs[l], dL_dfs[l] = dL_dg, dL_df
        dL_dW[l - 1] = dL_df.T @ gs[l - 1]
        dL_db[l - 1] = dL_df.sum(axis=0)
        dL_dg = store(dL_df @ weights[l - 1])
    return dL_dW, dL_db, dL_dfs, dL_dgs


class SGD:
    """torch.optim.SGD as in the header: d = dp + wd p; with momentum:
    buf = momentum buf + d, d = d + momentum buf (nesterov) or buf; p -= lr d."""

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.lr, self.momentum, self.nesterov, self.weight_decay = lr, momentum, nesterov, weight_decay
        self.buf = None

    def step(self, params, grads):
        """params, grads: lists of arrays; returns the new parameters."""
        if self.buf is None:
            self.buf = [np.zeros_like(p) for p in params]
        new = []
        for i, (p, dp) in enumerate(zip(params, grads)):
            d = dp + self.weight_decay * p
            if self.momentum > 0:
                self.buf[i] = self.momentum * self.buf[i] + d
                d = d + self.momentum * self.buf[i] if self.nesterov else self.buf[i]
            new.append(p - self.lr * d)
        return new

    def state(self):
        return [] if self.buf is None else [self.buf]


class Adam:
    """torch.optim.Adam as in the header: d = dp + wd p;
    m = b1 m + (1-b1) d; v = b2 v + (1-b2) d^2;
    p -= lr (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps).
    decoupled=True is AdamW: p *= 1 - lr wd first, then Adam with d = dp."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.weight_decay, self.decoupled = weight_decay, decoupled
        self.m = self.v = None
        self.t = 0

    def step(self, params, grads):
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        new = []
        for i, (p, dp) in enumerate(zip(params, grads)):
            if self.decoupled:
                p = p * (1 - self.lr * self.weight_decay)
                d = dp
            else:
                d = dp + self.weight_decay * p
            self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * d
            self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * d ** 2
            m_hat = self.m[i] / (1 - self.b1 ** self.t)
            v_hat = self.v[i] / (1 - self.b2 ** self.t)
            new.append(p - self.lr * m_hat / (np.sqrt(v_hat) + self.eps))
        return new

    def state(self):
        return [] if self.m is None else [self.m, self.v]


def AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    return Adam(lr, betas, eps, weight_decay, decoupled=True)


class SplitMix64:
    """The generator the header documents (initialisation, fit's shuffles)."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def unit(self):
        """u = (next() >> 11) * 2^-53, in [0, 1)."""
        return (self.next() >> 11) * 2.0 ** -53


def splitmix64_init(sizes, seed, init="uniform"):
    """The documented initialisation (header, swiftmlp_init): one SplitMix64
    seeded with `seed`, layer by layer, W row-major then b, each draw
    u = (next() >> 11) * 2^-53;
    uniform: W and b = (2u - 1)/sqrt(N_in);
    glorot:  W = (2u - 1) sqrt(6/(N_in + N_out)), b = 0 (no draws);
    he:      W = (2u - 1) sqrt(6/N_in), b = 0 (no draws).
    Returns the flat float64 parameters (layout of get_flat_params())."""
    next_u = SplitMix64(seed).unit
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        if init == "uniform":
            root = np.sqrt(np.float64(n_in))
            out.extend((2.0 * next_u() - 1.0) / root for _ in range(n_out * n_in + n_out))
        else:
            scale = np.sqrt(6.0 / (n_in + n_out)) if init == "glorot" else np.sqrt(6.0 / n_in)
            out.extend((2.0 * next_u() - 1.0) * scale for _ in range(n_out * n_in))
            out.extend(0.0 for _ in range(n_out))
    return np.array(out, dtype=np.float64)


# ---- Training features of 0.6.0 (include/swiftmlp.h: swiftmlp_fit_options,
# ---- swiftmlp_lr_schedule, swiftmlp_optimizer.max_grad_norm) -----------------

def row_losses(loss_name, f_L, g_L, y):
    """Each row's loss l_i (B,): mse and bce the mean over the row's N
    outputs, cross_entropy -sum_j y_ij log softmax(f_i)_j."""
    if loss_name == "mse":
        return np.mean((g_L - y) ** 2, axis=1)
    if loss_name == "bce":
        return np.mean(np.maximum(f_L, 0) - f_L * y + log1p_exp_neg_abs(f_L), axis=1)
    if loss_name == "cross_entropy":
        return np.sum(-y * (f_L - logsumexp(f_L)), axis=1)
    raise ValueError(loss_name)


def weighted_loss(loss_name, f_L, g_L, y, w):
    """scikit-learn's weighted mean: L = sum_i w_i l_i / sum_i w_i."""
    return np.sum(w * row_losses(loss_name, f_L, g_L, y)) / np.sum(w)


def weighted_loss_backward(loss_name, f_L, g_L, y, w, output_activation, slope=0.01):
    """(dL/dg_L, dL/df_L) of the weighted loss: row i's unweighted 1/B
    replaced by w_i / W, W = sum w.
    mse: dL/dg = 2 w_i/(W N) (g - y), then the output activation's backward.
    bce: dL/df = w_i/(W N) (g - y).   cross_entropy: dL/df = w_i/W (g sum_j y_j - y)."""
    B, N = g_L.shape
    k = (w / np.sum(w))[:, None]
    if loss_name == "mse":
        dL_dg = 2 * k / N * (g_L - y)
        return dL_dg, activation_backward(output_activation, dL_dg, f_L, g_L, slope)
    if loss_name == "bce":
        dL_df = k / N * (g_L - y)
        return dL_df / (g_L * (1 - g_L)), dL_df
    if loss_name == "cross_entropy":
        dL_df = k * (g_L * np.sum(y, axis=1, keepdims=True) - y)
        return -k * y / g_L, dL_df
    raise ValueError(loss_name)


def weighted_gradients(weights, biases, x, y, w, activations, loss_name, slope=0.01):
    """(loss, dL_dW, dL_db) of the weighted loss of a batch: the slides'
    backward from the weighted output derivative."""
    fs, gs = forward_general(weights, biases, x, activations, slope)
    L = len(weights)
    dL_dg, dL_df = weighted_loss_backward(loss_name, fs[L], gs[L], y, w, activations[-1], slope)
    dL_dW, dL_db = [None] * L, [None] * L
    for l in reversed(range(1, L + 1)):
        if l < L:
            dL_df = activation_backward(activations[l - 1], dL_dg, fs[l], gs[l], slope)
        dL_dW[l - 1] = dL_df.T @ gs[l - 1]
        dL_db[l - 1] = dL_df.sum(axis=0)
        dL_dg = dL_df @ weights[l - 1]
    return weighted_loss(loss_name, fs[L], gs[L], y, w), dL_dW, dL_db


def clip_grad_norm(grads, max_norm):
    """torch.nn.utils.clip_grad_norm_: total = ||all gradients||_2,
    coef = min(1, max_norm / (total + 1e-6)); returns the scaled gradients
    and total."""
    total = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
    coef = min(1.0, max_norm / (total + 1e-6))
    return [g * coef for g in grads], total


def step_lr(lr0, step_size, gamma, epoch):
    """torch.optim.lr_scheduler.StepLR's rate of an epoch, closed form."""
    return lr0 * gamma ** (epoch // step_size)


def cosine_lr(lr0, t_max, eta_min, epoch):
    """torch.optim.lr_scheduler.CosineAnnealingLR's closed form."""
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2


def sklearn_schedule(lr0, schedule, n_samples, losses, tol=1e-4, n_iter_no_change=10,
                     power_t=0.5):
    """A transcription of scikit-learn's MLP _fit_stochastic (without
    early_stopping) for the learning rate alone: given each epoch's training
    loss, the rate every epoch trains with and the number of epochs run
    before the loop stops (len(losses) if it does not).  The optimizer is
    scikit-learn's own SGDOptimizer (iteration_ends, trigger_stopping);
    _update_no_improvement_count is transcribed.  Only "adaptive" stops
    here: sklearn's tol-based convergence stop of the other schedules is the
    estimator's business, not the schedule's."""
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer
    opt = SGDOptimizer([np.zeros(1)], learning_rate_init=lr0, lr_schedule=schedule,
                       power_t=power_t)
    t, best_loss, no_improvement = 0, np.inf, 0
    lrs = []
    for loss in losses:
        lrs.append(opt.learning_rate)
        t += n_samples
        # _update_no_improvement_count(early_stopping=False)
        if loss > best_loss - tol:
            no_improvement += 1
        else:
            no_improvement = 0
        if loss < best_loss:
            best_loss = loss
        opt.iteration_ends(t)
        if no_improvement > n_iter_no_change and schedule == "adaptive":
            if opt.trigger_stopping("", False):
                return lrs, len(lrs)
            no_improvement = 0
    return lrs, len(lrs)
