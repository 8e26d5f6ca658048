"""fit() with the first layer held transposed (Sources/SwiftMLP/
TransposedFirstLayer.swift): on an AVX-512 OpenBLAS core, for layers whose
forward product the BLAS layer would copy W transposed for (the digits'
[64, 128, 10] at batch >= 16), fit keeps W^T and (dL/dW)^T itself and writes
W and dL/dW back before anything reads them. It must be invisible: every
case here fits one network and replays the documented batches on a twin
with train_step() (test_fit.replay_fit), and the parameters, gradients and
losses must be the same bits, through a short last batch (which takes the
ordinary path), shuffling, weight decay, early stopping that restores the
best epoch, a step refused as non-finite (which leaves the last good step's
parameters and the refused batch's gradients), and a cancel between batches.

The suites run with OPENBLAS_CORETYPE=Haswell (no small kernels, so the
path is off), so the cases run in a fresh interpreter with SkylakeX forced,
as test_small_products.py does. On a CPU without AVX-512 the path does not
exist and they run on the CPU's own best core: fit must be the same
documented steps there too."""

import json
import os

from test_loader import BINDINGS_DIR, run_python
from test_small_products import avx512, core_env

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
CORE = "SkylakeX" if avx512() else None  # None: the CPU's own core

SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, TESTS_DIR)
import swiftmlp
from test_fit import SHUFFLE_OFFSET, SplitMix64, replay_fit

SIZES = [64, 128, 10]

def data(rows, dtype, seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(rows, SIZES[0])).astype(dtype),
            rng.uniform(size=(rows, SIZES[-1])).astype(dtype))

def same(a, b):
    return a.get_flat_params().tobytes() == b.get_flat_params().tobytes() and a.get_flat_grads().tobytes() == b.get_flat_grads().tobytes()

def case(name, dtype):
    seed = 11
    net, twin = swiftmlp.MLP(SIZES, dtype=dtype, seed=seed), swiftmlp.MLP(SIZES, dtype=dtype, seed=seed)
    out = {"name": name, "dtype": dtype}
    with net, twin:
        if name == "short last batch":
            x, y = data(100, dtype, 1)               # batches of 32, 32, 32, 4
            net.optimizer = twin.optimizer = swiftmlp.SGD(lr=0.5)
            hist = net.fit(x, y, epochs=3, batch_size=32, shuffle=False)
            losses, _ = replay_fit(twin, None, x, y, 3, 32, shuffle=False)
            out["loss"] = hist.loss == losses
        elif name == "shuffled, weight decay":
            x, y = data(90, dtype, 2)                # batches of 20, ..., 10
            net.optimizer = twin.optimizer = swiftmlp.SGD(lr=0.5, weight_decay=1e-3)
            hist = net.fit(x, y, epochs=3, batch_size=20)
            losses, _ = replay_fit(twin, SplitMix64(seed + SHUFFLE_OFFSET), x, y, 3, 20)
            out["loss"] = hist.loss == losses
        elif name == "early stopping restores the best epoch":
            x, y = data(96, dtype, 3)
            xv, yv = data(40, dtype, 4)
            net.optimizer = twin.optimizer = swiftmlp.SGD(lr=0.5)
            # min_delta larger than any change: epoch 0 stays the best, the
            # fit stops after epoch 1 and restores epoch 0's parameters
            hist = net.fit(x, y, epochs=5, batch_size=16, shuffle=False, validation_data=(xv, yv),
                           early_stopping={"patience": 1, "min_delta": 100.0})
            replay_fit(twin, None, x, y, 1, 16, shuffle=False)
            best = twin.get_flat_params()
            replay_fit(twin, None, x, y, 1, 16, shuffle=False)
            out["loss"] = hist.restored_best and hist.epochs_run == 2
            out["restored"] = net.get_flat_params().tobytes() == best.tobytes()
            out["grads"] = net.get_flat_grads().tobytes() == twin.get_flat_grads().tobytes()
            twin.set_flat_params(best)
        elif name == "non-finite step":
            x, y = data(96, dtype, 5)
            net.optimizer = twin.optimizer = swiftmlp.SGD(lr=0.5)
            net.fit(x, y, epochs=1, batch_size=32, shuffle=False)
            replay_fit(twin, None, x, y, 1, 32, shuffle=False)
            # a decay that overflows every parameter: the next fit's first
            # step is refused, after its backward wrote dL/dW^T
            decay = 1e300 if dtype == "float64" else 1e30
            net.optimizer = twin.optimizer = swiftmlp.SGD(lr=1e10, weight_decay=decay)
            try:
                net.fit(x, y, epochs=1, batch_size=32, shuffle=False)
                out["loss"] = False
            except swiftmlp.NonFiniteError as exc:
                out["loss"] = "epoch 0 batch 0" in str(exc)
            try:
                twin.train_step(x[:32], y[:32])
                out["twin_refused"] = False
            except swiftmlp.NonFiniteError:
                out["twin_refused"] = True
        elif name == "cancelled between batches":
            x, y = data(100, dtype, 6)
            net.optimizer = twin.optimizer = swiftmlp.SGD(lr=0.5)
            stop = lambda info: info["epoch"] == 1 and info["batch"] == 1
            hist = net.fit(x, y, epochs=3, batch_size=32, shuffle=False, callback=stop, report_batches=True)
            replay_fit(twin, None, x, y, 1, 32, shuffle=False)
            for s in (0, 32):                        # epoch 1, batches 0 and 1
                twin.train_step(x[s:s + 32], y[s:s + 32])
            out["loss"] = hist.cancelled
        elif name == "clipping":
            # max_grad_norm keeps fit off the transposed path (its norm's sum
            # would run in another order): the steps are train_step's bits.
            x, y = data(96, dtype, 7)
            net.optimizer = twin.optimizer = swiftmlp.SGD(lr=0.5, max_grad_norm=0.05)
            hist = net.fit(x, y, epochs=2, batch_size=32, shuffle=False)
            losses, _ = replay_fit(twin, None, x, y, 2, 32, shuffle=False)
            out["loss"] = hist.loss == losses
        out["same"] = same(net, twin)
        out["steps"] = [net.optimizer_steps, twin.optimizer_steps]
    out["blas"] = swiftmlp.blas_info()
    return out

print(json.dumps([case(name, dtype) for dtype in ("float64", "float32") for name in CASES]))
"""

CASES = ["short last batch", "shuffled, weight decay", "early stopping restores the best epoch",
         "non-finite step", "cancelled between batches", "clipping"]


def test_fit_holding_the_first_layer_transposed_is_the_documented_steps():
    code = f"TESTS_DIR = {TESTS_DIR!r}\nCASES = {json.dumps(CASES)}\n" + SCRIPT
    env, remove = core_env(CORE)
    proc = run_python(code, BINDINGS_DIR, env, remove=remove)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == 2 * len(CASES)
    for r in results:
        assert CORE is None or f"core {CORE}" in r["blas"], r["blas"]
        assert r["loss"] is True, r
        assert r["same"] is True, r
        if r["name"] == "early stopping restores the best epoch":
            assert r["restored"] is True and r["grads"] is True, r
        elif r["name"] == "non-finite step":
            assert r["twin_refused"] is True and r["steps"] == [0, 0], r
        else:
            assert r["steps"][0] == r["steps"][1], r


WEIGHTED_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, TESTS_DIR)
import swiftmlp
import reference as ref
from test_parity import rel_err
from test_training_features import replay_weighted

rng = np.random.default_rng(8)
x, y = rng.normal(size=(100, 64)), rng.uniform(size=(100, 10))
w = rng.uniform(0, 2, size=100)
w[32:64] = 0.0                                   # without shuffling: a batch that weighs nothing
out = []
for shuffle in (False, True):
    net = swiftmlp.MLP([64, 128, 10], seed=11)
    params, losses, steps = replay_weighted(net, x, y, w, 2, 32, ["sigmoid", "sigmoid"], "mse",
                                            lambda: ref.SGD(0.5), shuffle_seed=11 if shuffle else None)
    hist = net.fit(x, y, epochs=2, batch_size=32, shuffle=shuffle, optimizer=swiftmlp.SGD(lr=0.5),
                   sample_weight=w)
    out.append({"shuffle": shuffle, "params": rel_err(net.get_flat_params(), params),
                "loss": rel_err(hist.loss, losses), "steps": [net.optimizer_steps, steps]})
print(json.dumps({"blas": swiftmlp.blas_info(), "cases": out}))
"""


def test_weighted_fit_holding_the_first_layer_transposed_matches_numpy():
    """Sample weights change only the loss's dL/df, so fit keeps the first
    layer transposed with them: the result still equals the NumPy replay
    of the weighted fit (zero-weight batch skipped, shuffled or not)."""
    code = f"TESTS_DIR = {TESTS_DIR!r}\n" + WEIGHTED_SCRIPT
    env, remove = core_env(CORE)
    proc = run_python(code, BINDINGS_DIR, env, remove=remove)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert CORE is None or f"core {CORE}" in result["blas"], result["blas"]
    for case in result["cases"]:
        assert case["params"] <= 1e-12 and case["loss"] <= 1e-12, case
        assert case["steps"][0] == case["steps"][1], case
