"""Parity of every activation x loss x optimizer combination with the plain
NumPy transcription in reference.py, over 10 consecutive training steps.

Each case builds a 3-weight-layer network [N0, N1, N2, NL] with hidden
activations (h, h') and output activation o, configures an optimizer, runs
10 steps of forward / backward / net.step() in the library and the same 10
steps in reference.py, and compares after every step: the outputs, the loss,
every dL/dW and dL/db, the slides' quantities f, g, dL/df, dL/dg of every
layer (net.inspect()), and every parameter after the step (the optimizer's
state carried over the 10 steps, Adam's bias correction with t = 1..10).

Valid combinations (include/swiftmlp.h): softmax only on the output layer;
"bce" needs a sigmoid output and "cross_entropy" a softmax output; "mse"
takes any output.  So: 5 hidden activations x (6 outputs with mse + bce +
cross_entropy) = 40 combinations, each with 7 optimizer settings (SGD plain,
with momentum + weight decay, Nesterov; Adam, Adam with L2 weight decay and
other betas/eps; AdamW, AdamW with strong decay), in float64 and float32.
Cross-entropy targets cycle through class indices (swiftmlp_backward_labels),
one-hot rows and probability rows.

Error measure as in test_parity.py: per array, max|a - r| / max|r|.
Bounds: float64 <= 1e-12, float32 <= 1e-5.

float64: the library and the reference each follow their OWN trajectory for
all 10 steps (own parameters, gradients and optimizer state).

float32: the reference runs in float64.  At each step it starts from the
network's exact float32 parameters (a float32 value converts to float64
exactly), rounds every f, g, dL/dg, dL/df it keeps to float32 as the network
stores them (as test_parity.py does for parameters), and applies its own
optimizer -- its own momentum / Adam moments and step count, carried over
the 10 steps and rounded to float32 after each step -- to the network's
gradients; the result must match the network's parameters after its step.
Each float32 step is so checked against exact arithmetic, and the optimizer
recursion over 10 steps too.  An independent float32 trajectory cannot be
held to 1e-5, and not because of the library: Adam divides every gradient
element by its own running size, so an element whose true value is small
(1e-6 of the largest, say) but carries the float32 rounding error of a sum of
larger terms moves by a visibly different amount in float32 and float64
arithmetic, and the two trajectories then drift apart.

The data are kept where float32 can be held to 1e-5 of each array's largest
element, i.e. where no compared value is the small remainder of much larger
terms (then any float32 computation is off by ~1e-7 of the TERMS, which is
far more than 1e-5 of the small result).  So: the initial parameters are
moderate random values with biases away from 0 (positive before a ReLU),
inputs are N(0, 1), targets lie around a new random level at every step (so
that dL/db, a sum over the batch, keeps a clear mean), and in float32 a
batch (inputs and targets) is redrawn while well_conditioned() finds a sum
(f, dL/dW, dL/db, dL/dg), the output error g - y or the softmax backward
g (dg - sum dg g) cancelling to less than 1/MAX_CANCELLATION of its terms,
or a ReLU layer with almost no positive output.  In both dtypes a batch is
redrawn while a ReLU/leaky-ReLU pre-activation lies within 1e-4 of the kink
(where the two computations may pick different sides).  One quantity is
compared differently in float32: dL/dg of a BCE output, the plain formula
dL/df / (g (1 - g)), which loses all float32 precision as g approaches 1 (one
float32 ulp of g = 0.9999 is 0.06% of 1 - g); it is checked to be exactly
that formula evaluated on the network's own float32 g.  The initialisation
schemes themselves are checked bit for bit in test_seeding.py.
"""

import re

import numpy as np
import pytest

import reference
import swiftmlp

TOL = {"float64": 1e-12, "float32": 1e-5}
TINY = np.finfo(np.float64).tiny
STEPS = 10
SEED_BASE = 2024
SLOPE = 0.05  # a non-default leaky slope, so that it is really passed through

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
OUTPUTS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"]
COMBOS = ([(h, o, "mse") for h in HIDDEN for o in OUTPUTS]
          + [(h, "sigmoid", "bce") for h in HIDDEN]
          + [(h, "softmax", "cross_entropy") for h in HIDDEN])

# name: (library optimizer, reference optimizer factory)
OPTIMIZERS = {
    "sgd": (swiftmlp.SGD(lr=0.1), lambda: reference.SGD(lr=0.1)),
    "sgd_momentum_wd": (swiftmlp.SGD(lr=0.05, momentum=0.9, weight_decay=0.01),
                        lambda: reference.SGD(lr=0.05, momentum=0.9, weight_decay=0.01)),
    "sgd_nesterov": (swiftmlp.SGD(lr=0.05, momentum=0.8, nesterov=True),
                     lambda: reference.SGD(lr=0.05, momentum=0.8, nesterov=True)),
    "adam": (swiftmlp.Adam(lr=0.01), lambda: reference.Adam(lr=0.01)),
    "adam_wd": (swiftmlp.Adam(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
                lambda: reference.Adam(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    "adamw": (swiftmlp.AdamW(lr=0.01), lambda: reference.AdamW(lr=0.01)),
    "adamw_strong": (swiftmlp.AdamW(lr=0.03, betas=(0.5, 0.9), weight_decay=0.5),
                     lambda: reference.AdamW(lr=0.03, betas=(0.5, 0.9), weight_decay=0.5)),
}


def rel_err(a, r) -> float:
    a = np.asarray(a, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    assert a.shape == r.shape, (a.shape, r.shape)
    return float(np.max(np.abs(a - r)) / max(float(np.max(np.abs(r))), TINY))


def targets(rng, loss, batch, n_out, step):
    """(dense float64 targets, what to pass to backward).

    Each step draws its targets around a new random per-output level, so
    that the output error keeps a clear mean over the batch: otherwise the
    biases learn the mean within a few steps and dL/db (a sum over the batch)
    becomes a near-total cancellation of much larger per-sample terms, which
    no float32 computation can deliver to 1e-5 of its own (small) size."""
    if loss == "cross_entropy":
        freq = rng.dirichlet(np.full(n_out, 0.5))  # skewed class frequencies
        labels = rng.choice(n_out, size=batch, p=freq)
        if step % 3 == 0:  # class indices -> swiftmlp_backward_labels
            return np.eye(n_out)[labels], labels
        if step % 3 == 1:  # one-hot rows
            dense = np.eye(n_out)[labels]
            return dense, dense
        probs = rng.uniform(0.0, 1.0, size=(batch, n_out)) * (0.1 + freq)  # probability rows
        probs /= probs.sum(axis=1, keepdims=True)
        return probs, probs
    level = rng.uniform(0.2, 1.0, size=n_out)
    y = level + rng.uniform(-0.15, 0.15, size=(batch, n_out))
    if loss == "bce":
        y = np.clip(y, 0.0, 1.0)
    return y, y


def to_dtype(a, dtype):
    """Round to the network's dtype and back to float64 (exact)."""
    return np.asarray(a, dtype=dtype).astype(np.float64)


KINKED = {"relu", "leaky_relu"}
MAX_CANCELLATION = 25.0


def cancellation(terms_abs_sum, result) -> float:
    """How much larger the sum of the terms' magnitudes is than the result,
    for the array's largest elements: max(sum|terms|) / max|sum|."""
    return float(np.max(terms_abs_sum)) / max(float(np.max(np.abs(result))), TINY)


def well_conditioned(weights, fs, gs, dL_dfs, dL_dgs, y, activations, loss, float32: bool) -> bool:
    """The batch is usable (module docstring): no ReLU pre-activation near the
    kink; for float32 also ReLU layers with real positive outputs, and no
    quantity that is the small remainder of much larger terms (more than
    MAX_CANCELLATION times larger): the sums f, dL/dW, dL/db, dL/dg, the
    output error g - y of the loss, and the softmax backward g (dg - sum dg g)."""
    L = len(weights)
    for l in range(1, L + 1):
        if activations[l - 1] in KINKED and np.min(np.abs(fs[l])) <= 1e-4:
            return False
    if not float32:
        return True
    g_L = gs[L]
    if loss == "cross_entropy":
        checks = [(np.abs(g_L) * np.abs(y).sum(axis=1, keepdims=True) + np.abs(y),
                   g_L * y.sum(axis=1, keepdims=True) - y)]
    else:
        checks = [(np.abs(g_L) + np.abs(y), g_L - y)]
    if loss == "mse" and activations[L - 1] == "softmax":
        dg = dL_dgs[L]
        s = np.abs(dg * g_L).sum(axis=1, keepdims=True)
        checks.append((np.abs(g_L) * (np.abs(dg) + s), dL_dfs[L]))
    for l in range(1, L + 1):
        f, g, df, g_prev, w = fs[l], gs[l], dL_dfs[l], gs[l - 1], weights[l - 1]
        if activations[l - 1] in KINKED and np.max(g) <= 0.05 * np.max(np.abs(f)):
            return False
        checks += [
            (np.abs(g_prev) @ np.abs(w).T, f),               # f = g_prev W^T + b
            (np.abs(df).T @ np.abs(g_prev), df.T @ g_prev),  # dL/dW
            (np.abs(df).sum(axis=0), df.sum(axis=0)),        # dL/db
        ]
        if l > 1:
            checks.append((np.abs(df) @ np.abs(w), df @ w))  # dL/dg of the layer below
    return all(cancellation(t, r) <= MAX_CANCELLATION for t, r in checks)


def run_case(hidden, output, loss, opt_name, dtype, record):
    index = COMBOS.index((hidden, output, loss)) * len(OPTIMIZERS) + list(OPTIMIZERS).index(opt_name)
    rng = np.random.default_rng(SEED_BASE + index + (0 if dtype == "float64" else 100000))
    hidden2 = HIDDEN[(HIDDEN.index(hidden) + 1) % len(HIDDEN)]
    activations = [hidden, hidden2, output]
    sizes = [int(rng.integers(2, 9)), int(rng.integers(2, 12)), int(rng.integers(2, 12)),
             int(rng.integers(2, 7))]
    batch = int(rng.integers(1, 17))
    init = ["uniform", "glorot", "he"][index % 3]
    lib_opt, make_ref_opt = OPTIMIZERS[opt_name]
    ref_opt = make_ref_opt()
    label = f"{activations}/{loss}/{opt_name}/{dtype} sizes={sizes} batch={batch}"
    tol = TOL[dtype]
    slope = float(np.asarray(SLOPE, dtype=dtype))  # the slope the network computes with
    L = len(sizes) - 1
    sync = dtype == "float32"  # see the module docstring
    store = (lambda a: to_dtype(a, dtype)) if sync else (lambda a: a)

    with swiftmlp.MLP(sizes, dtype=dtype, seed=index, activations=activations, loss=loss,
                      init=init, leaky_slope=SLOPE) as net:
        assert net.activations == tuple(activations) and net.loss == loss
        for l in range(L):
            net.weights[l] = rng.normal(0.0, 0.8 / np.sqrt(sizes[l]), size=(sizes[l + 1], sizes[l]))
            sign = 1.0 if activations[l] in KINKED else rng.choice([-1.0, 1.0], size=sizes[l + 1])
            net.biases[l] = sign * rng.uniform(0.2, 0.8, size=sizes[l + 1])
        net.optimizer = lib_opt
        assert net.optimizer == lib_opt and net.optimizer_steps == 0
        weights = [np.array(w, dtype=np.float64) for w in net.weights]
        biases = [np.array(b, dtype=np.float64) for b in net.biases]
        for step in range(STEPS):
            if sync:
                weights = [np.array(w, dtype=np.float64) for w in net.weights]
                biases = [np.array(b, dtype=np.float64) for b in net.biases]
            for _attempt in range(200):
                x = to_dtype(rng.normal(0.0, 1.0, size=(batch, sizes[0])), dtype)
                y_dense, y_pass = targets(rng, loss, batch, sizes[-1], step)
                y_dense = to_dtype(y_dense, dtype)
                fs, gs = reference.forward_general(weights, biases, x, activations, slope, store)
                dL_dW, dL_db, dL_dfs, dL_dgs = reference.backward_general(
                    weights, fs, gs, y_dense, activations, loss, slope, store)
                if well_conditioned(weights, fs, gs, dL_dfs, dL_dgs, y_dense, activations, loss, sync):
                    break
            else:  # pragma: no cover
                raise AssertionError(f"{label}: no well-conditioned batch in 200 draws")
            if y_pass.dtype.kind == "f":
                y_pass = y_dense.astype(dtype)

            out = net.forward(x.astype(dtype))
            loss_value = net.backward(y_pass)
            ref_loss = reference.loss_general(loss, fs[L], gs[L], y_dense)

            errors = {"output": rel_err(out, gs[L]),
                      "loss": abs(loss_value - ref_loss) / max(abs(ref_loss), TINY)}
            for l in range(L):
                errors[f"dW[{l}]"] = rel_err(net.weight_grads[l], dL_dW[l])
                errors[f"db[{l}]"] = rel_err(net.bias_grads[l], dL_db[l])
            quantities = net.inspect()
            assert len(quantities) == L + 1
            errors["g[0]"] = rel_err(quantities[0]["g"], x)
            for l in range(1, L + 1):
                errors[f"f[{l}]"] = rel_err(quantities[l]["f"], fs[l])
                errors[f"g[{l}]"] = rel_err(quantities[l]["g"], gs[l])
                errors[f"dL_df[{l}]"] = rel_err(quantities[l]["dL_df"], dL_dfs[l])
                errors[f"dL_dg[{l}]"] = rel_err(quantities[l]["dL_dg"], dL_dgs[l])
            if sync and loss == "bce":
                g_own = np.array(quantities[L]["g"], dtype=np.float64)
                plain = (g_own - y_dense) / y_dense.size / (g_own * (1 - g_own))
                errors[f"dL_dg[{L}]"] = rel_err(quantities[L]["dL_dg"], plain)

            if sync:  # the optimizer update of the network's own gradients
                grads = ([np.array(g, dtype=np.float64) for g in net.weight_grads]
                         + [np.array(g, dtype=np.float64) for g in net.bias_grads])
            else:
                grads = dL_dW + dL_db
            net.step()  # the configured optimizer
            assert net.optimizer_steps == step + 1
            new = ref_opt.step(weights + biases, grads)
            if sync:  # the network stores float32 parameters and state
                new = [to_dtype(p, dtype) for p in new]
                for buffers in ref_opt.state():
                    buffers[:] = [to_dtype(s, dtype) for s in buffers]
            weights, biases = new[:L], new[L:]
            for l in range(L):
                errors[f"W_after_step[{l}]"] = rel_err(net.weights[l], weights[l])
                errors[f"b_after_step[{l}]"] = rel_err(net.biases[l], biases[l])

            for quantity, err in errors.items():
                record(dtype, re.sub(r"\[\d+\]", "", quantity), err,
                       where=f"{label}, step {step + 1}", suite="training combos")
            bad = {q: e for q, e in errors.items() if not e <= tol}
            assert not bad, f"{label}, step {step + 1}: errors above {tol}: {bad}"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("hidden,output,loss", COMBOS,
                         ids=[f"{h}-{o}-{l}" for h, o, l in COMBOS])
def test_training_parity(hidden, output, loss, opt_name, dtype, parity_recorder):
    run_case(hidden, output, loss, opt_name, dtype, parity_recorder)


def test_combination_list_is_complete():
    """Every activation appears as hidden and output activation, every loss
    with every valid output, every optimizer kind is used."""
    assert {o for _, o, _ in COMBOS} == set(swiftmlp.ACTIVATIONS)
    assert {h for h, _, _ in COMBOS} == set(swiftmlp.ACTIVATIONS) - {"softmax"}
    assert {l for _, _, l in COMBOS} == {"mse", "bce", "cross_entropy"}
    assert len(COMBOS) == 40
    kinds = {type(opt) for opt, _ in OPTIMIZERS.values()}
    assert kinds == {swiftmlp.SGD, swiftmlp.Adam, swiftmlp.AdamW}
    assert any(o.momentum > 0 and not o.nesterov for o, _ in OPTIMIZERS.values()
               if isinstance(o, swiftmlp.SGD))
    assert any(isinstance(o, swiftmlp.SGD) and o.nesterov for o, _ in OPTIMIZERS.values())
    assert any(isinstance(o, swiftmlp.SGD) and o.weight_decay > 0 for o, _ in OPTIMIZERS.values())
    assert any(type(o) is swiftmlp.Adam and o.weight_decay > 0 for o, _ in OPTIMIZERS.values())
