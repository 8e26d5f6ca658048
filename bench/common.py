"""Shared definitions of the swiftmlp benchmark: workloads, FLOP counts, the
initial weights and data every peer starts from, the slides' NumPy code (the
reference peer), a per-sample NumPy transcription of FANN's online
backpropagation (to check the FANN peer), and the timing loop of the Python
peers.

Everything here is plain NumPy; it never imports swiftmlp or torch.
"""

from __future__ import annotations

import gc
import math
import os
import time

import numpy as np

# ---------------------------------------------------------------------------
# Workloads: sigmoid layers, MSE loss, plain SGD (the slides' network)
# ---------------------------------------------------------------------------

#: name -> (sizes, batch).  Display names are in LABELS.
WORKLOADS = {
    "tiny": ([2, 4, 1], 4),                          # XOR
    "small": ([64, 32, 10], 32),
    "mnist": ([784, 256, 128, 10], 64),
    "wide": ([1024, 2048, 2048, 1024], 256),
}
#: --smoke: the same four workloads, the two big ones shrunk (CI only checks
#: that the benchmark works; it never judges speed).
SMOKE_WORKLOADS = {
    "tiny": ([2, 4, 1], 4),
    "small": ([64, 32, 10], 32),
    "mnist": ([784, 32, 16, 10], 8),
    "wide": ([128, 256, 256, 128], 16),
}
LABELS = {"tiny": "tiny", "small": "small", "mnist": "mnist-ish", "wide": "wide",
          "predict-1": "predict mnist-ish B=1", "predict-64": "predict mnist-ish B=64"}


def label(name):
    """A workload's display name (sweep points are named by themselves)."""
    return LABELS.get(name, name)
DTYPES = ("float32", "float64")
SHORT_DTYPE = {"float32": "f32", "float64": "f64"}

#: FANN has no batch API: per-sample online training, tiny and small only.
FANN_WORKLOADS = ("tiny", "small")

#: Learning rate of the timed runs (any value gives the same speed; small
#: enough that thousands of steps on one batch stay far from saturation).
LR_TIME = 0.1

#: Parameter-equality tolerances after two steps (relative, max-norm).
PARAM_TOL = {"float32": 1e-4, "float64": 1e-10}


def flops_per_step(sizes, batch) -> int:
    """2*B*in*out per matrix product; three products per layer (forward,
    dL/dW, dL/dg of the layer below) except two for the first layer (no
    dL/dg of the input)."""
    total = 0
    for l in range(len(sizes) - 1):
        products = 2 if l == 0 else 3
        total += products * 2 * batch * sizes[l] * sizes[l + 1]
    return total


def forward_flops(sizes, batch) -> int:
    """2*B*in*out per layer: one product per layer (inference)."""
    return sum(2 * batch * sizes[l] * sizes[l + 1] for l in range(len(sizes) - 1))


def param_count(sizes) -> int:
    return sum(sizes[l] * sizes[l + 1] + sizes[l + 1] for l in range(len(sizes) - 1))


def theoretical_bytes(sizes, batch, dtype, optimizer_buffers=0) -> dict:
    """What a network must hold: parameters + gradients + optimizer state
    (plain SGD: none) + the per-batch activations the C ABI keeps readable
    (swiftmlp_get_quantity: g_0 = x, and f, g, dL/df, dL/dg of every layer)."""
    s = np.dtype(dtype).itemsize
    p = param_count(sizes)
    act = batch * (sizes[0] + 4 * sum(sizes[1:]))
    return {"params": p * s, "grads": p * s, "optimizer": optimizer_buffers * p * s,
            "activations": act * s,
            "total": (2 + optimizer_buffers) * p * s + act * s}


# ---------------------------------------------------------------------------
# Initial parameters and data: generated once by the orchestrator, written to
# raw files, read by every peer (Python and C)
# ---------------------------------------------------------------------------

def initial_params(sizes, seed=20240601) -> np.ndarray:
    """Flat float64 parameters in swiftmlp's layout (per layer W row-major,
    then b), uniform in [-1/sqrt(N_in), 1/sqrt(N_in)) like PyTorch's
    nn.Linear default.  float32 peers use these values rounded to float."""
    rng = np.random.default_rng(seed)
    parts = []
    for l in range(len(sizes) - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        bound = 1.0 / math.sqrt(n_in)
        parts.append(rng.uniform(-bound, bound, size=n_out * n_in))
        parts.append(rng.uniform(-bound, bound, size=n_out))
    return np.concatenate(parts)


def make_data(name, sizes, batch, seed=7):
    """(x, y) in float64: XOR for tiny; uniform inputs in [0, 1) with one-hot
    targets (<= 16 outputs) or uniform targets otherwise."""
    if name == "tiny" and sizes[0] == 2 and sizes[-1] == 1 and batch == 4:
        x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
        y = np.array([[0], [1], [1], [0]], dtype=np.float64)
        return x, y
    rng = np.random.default_rng(seed + sum(sizes) + batch)
    x = rng.uniform(0.0, 1.0, size=(batch, sizes[0]))
    n_out = sizes[-1]
    if n_out <= 16:
        y = np.zeros((batch, n_out))
        y[np.arange(batch), rng.integers(0, n_out, size=batch)] = 1.0
    else:
        y = rng.uniform(0.0, 1.0, size=(batch, n_out))
    return x, y


def split_params(flat, sizes):
    """Flat layout -> (weights, biases) lists of views."""
    weights, biases, o = [], [], 0
    for l in range(len(sizes) - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        weights.append(flat[o:o + n_out * n_in].reshape(n_out, n_in))
        o += n_out * n_in
        biases.append(flat[o:o + n_out])
        o += n_out
    return weights, biases


def join_params(weights, biases) -> np.ndarray:
    return np.concatenate([np.concatenate([np.asarray(w).ravel(), np.asarray(b).ravel()])
                           for w, b in zip(weights, biases)])


def spec_paths(workdir):
    return {k: os.path.join(workdir, f"{k}.bin") for k in ("params0", "x", "y")}


def load_spec(spec: dict):
    """(sizes, batch, dtype, params0, x, y) of a spec written by the orchestrator."""
    dt = np.dtype(spec["dtype"])
    paths = spec_paths(spec["workdir"])
    sizes, batch = spec["sizes"], spec["batch"]
    p0 = np.fromfile(paths["params0"], dtype=dt)
    x = np.fromfile(paths["x"], dtype=dt).reshape(batch, sizes[0])
    y = np.fromfile(paths["y"], dtype=dt).reshape(batch, sizes[-1])
    assert p0.size == param_count(sizes)
    return sizes, batch, dt, p0, x, y


# ---------------------------------------------------------------------------
# The slides' NumPy code (the reference peer, ratio 1.0)
# ---------------------------------------------------------------------------

def slides_forward(weights, biases, x):
    """The slides' forward loop, batched as on the slides."""
    g = x
    activations = [g]
    for b, w in zip(biases, weights):
        f = (w @ g.T).T + b
        g = 1 / (1 + np.exp(-f))
        activations.append(g)
    return activations


def slides_backward(weights, activations, y):
    """The slides' backward equations, batched.  dL/dg of the input is not
    computed (nothing needs it; skipping it makes the reference faster, so
    every ratio against it is conservative).  Returns (dL_dW, dL_db, loss)."""
    g_L = activations[-1]
    B, N_L = g_L.shape
    n = len(weights)
    dL_dW, dL_db = [None] * n, [None] * n
    dL_dg = 2 / (B * N_L) * (g_L - y)
    for l in reversed(range(n)):
        g = activations[l + 1]
        dL_df = dL_dg * g * (1 - g)
        dL_dW[l] = dL_df.T @ activations[l]
        dL_db[l] = dL_df.sum(axis=0)
        if l > 0:
            dL_dg = dL_df @ weights[l]
    return dL_dW, dL_db


def slides_sgd(weights, biases, dL_dW, dL_db, lr):
    """Plain SGD, in place: W -= lr * dL/dW, b -= lr * dL/db."""
    for w, dw in zip(weights, dL_dW):
        w -= lr * dw
    for b, db in zip(biases, dL_db):
        b -= lr * db


def slides_train_step(weights, biases, x, y, lr):
    acts = slides_forward(weights, biases, x)
    dW, db = slides_backward(weights, acts, y)
    slides_sgd(weights, biases, dW, db, lr)


def check_lr(params0, sizes, x, y, target=0.02) -> float:
    """A power-of-two learning rate for the two-step parameter check such that
    the first step moves the largest parameter by about `target` of the
    largest initial parameter: the check then compares sizeable updates (a
    peer that skipped or mis-scaled the step would fail it), and a power of
    two is exact in float32, float64 and FANN's float learning rate."""
    w, b = split_params(params0.astype(np.float64).copy(), sizes)
    acts = slides_forward(w, b, x.astype(np.float64))
    dW, db = slides_backward(w, acts, y.astype(np.float64))
    gmax = max(max(float(np.abs(d).max()) for d in dW), max(float(np.abs(d).max()) for d in db))
    pmax = float(np.abs(params0).max())
    if gmax == 0:
        return 1.0
    return float(2.0 ** round(math.log2(target * pmax / gmax)))


def compare(got, ref, p0) -> dict:
    """Relative max-norm errors of the parameters and of the update (p - p0)."""
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    p0 = np.asarray(p0, dtype=np.float64)
    if got.shape != ref.shape:
        return {"param_rel_err": float("inf"), "update_rel_err": float("inf"),
                "finite": False}
    denom = float(np.abs(ref).max()) or 1.0
    du_ref = ref - p0
    udenom = float(np.abs(du_ref).max()) or 1.0
    return {"param_rel_err": float(np.abs(got - ref).max() / denom),
            "update_rel_err": float(np.abs((got - p0) - du_ref).max() / udenom),
            "update_size": float(np.abs(du_ref).max() / denom),
            "finite": bool(np.isfinite(got).all())}


# ---------------------------------------------------------------------------
# FANN's online backpropagation (fann_train), per sample, in NumPy
# ---------------------------------------------------------------------------

def fann_reference(params0, sizes, x, y, lr, epochs, dtype):
    """What FANN 2.2's fann_train computes for each sample in turn, with
    FANN_SIGMOID (steepness 0.5), FANN_ERRORFUNC_LINEAR, momentum 0:
      forward:   s = clamp(0.5 * (W g + b), +-300); g = 1/(1 + exp(-2 s))
                 (= the logistic sigmoid of W g + b)
      output:    e = g'(g_L) * (y - g_L)
      hidden:    e_prev = (W^T e) * g'(g_prev)
      update:    W += lr * e g_prev^T, b += lr * e   (all layers, old e's)
    where FANN's derivative clips its argument: g'(v) = 2*0.5*c*(1-c),
    c = clip(v, 0.01f, 0.99f).  This is gradient descent on
    0.5 * sum((g - y)^2) per sample (no 2/(B*N) factor, no batch mean)."""
    dt = np.dtype(dtype)
    w, b = split_params(np.asarray(params0, dtype=dt).copy(), sizes)
    lo, hi = dt.type(np.float32(0.01)), dt.type(np.float32(0.99))
    half, two, one = dt.type(0.5), dt.type(2.0), dt.type(1.0)
    lr = dt.type(lr)

    def deriv(v):
        c = np.clip(v, lo, hi)
        return (two * half * c) * (one - c)

    xs, ys = np.asarray(x, dtype=dt), np.asarray(y, dtype=dt)
    for _ in range(epochs):
        for i in range(xs.shape[0]):
            gs = [xs[i]]
            for wl, bl in zip(w, b):
                s = np.clip(half * (wl @ gs[-1] + bl), dt.type(-300), dt.type(300))
                gs.append(one / (one + np.exp(-two * s)))
            e = [None] * len(w)
            e[-1] = deriv(gs[-1]) * (ys[i] - gs[-1])
            for l in range(len(w) - 1, 0, -1):
                e[l - 1] = (w[l].T @ e[l]) * deriv(gs[l])
            for l in range(len(w)):
                t = e[l] * lr
                w[l] += np.outer(t, gs[l])
                b[l] += t
    return join_params(w, b)


# ---------------------------------------------------------------------------
# Timing (Python peers; the C drivers do the same in C)
# ---------------------------------------------------------------------------

def time_steps(step, seconds, repeats, warmup_seconds=None, min_warmup_steps=3):
    """Warm up, choose a step count so that one repeat lasts about `seconds`,
    then time `repeats` repeats.  Returns (steps_per_repeat, [steps/s per repeat])."""
    if warmup_seconds is None:
        warmup_seconds = min(0.5, max(0.05, seconds / 4))
    step()  # the first step (allocations, lazy initialisation) is never timed
    n, t0 = 0, time.perf_counter()
    while True:
        step()
        n += 1
        el = time.perf_counter() - t0
        if n >= min_warmup_steps and el >= warmup_seconds:
            break
    per_step = el / n
    steps = max(1, int(round(seconds / per_step)))
    rates = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            t = time.perf_counter()
            for _ in range(steps):
                step()
            rates.append(steps / (time.perf_counter() - t))
    finally:
        if gc_was:
            gc.enable()
    return steps, rates
