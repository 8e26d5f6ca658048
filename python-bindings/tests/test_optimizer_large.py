"""Optimizer steps on a network large enough that the step is split over
the library's threads (2^15 parameters and more; Adam from 2^12): every
optimizer against reference.py, the same bits for any thread count, and a
refused step that changes nothing even when only the part of the buffer that
another thread handles would overflow.

The network [320, 128, 10] has 42,378 parameters (> 2^15 = 32,768), so every
optimizer is split when the library runs 2 threads (SWIFTMLP_NUM_THREADS; the
default is the CPUs the process may use, at most 8).
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import reference
import swiftmlp

SIZES = [320, 128, 10]
BATCH = 16
STEPS = 4
TOL = {"float64": 1e-12, "float32": 1e-6}

OPTIMIZERS = {
    "sgd": (swiftmlp.SGD(lr=0.5), lambda: reference.SGD(lr=0.5)),
    "sgd_wd": (swiftmlp.SGD(lr=0.5, weight_decay=0.1), lambda: reference.SGD(lr=0.5, weight_decay=0.1)),
    "momentum": (swiftmlp.SGD(lr=0.2, momentum=0.9, weight_decay=0.01),
                 lambda: reference.SGD(lr=0.2, momentum=0.9, weight_decay=0.01)),
    "nesterov": (swiftmlp.SGD(lr=0.2, momentum=0.8, nesterov=True),
                 lambda: reference.SGD(lr=0.2, momentum=0.8, nesterov=True)),
    "adam": (swiftmlp.Adam(lr=0.01, weight_decay=0.02), lambda: reference.Adam(lr=0.01, weight_decay=0.02)),
    "adamw": (swiftmlp.AdamW(lr=0.01, betas=(0.8, 0.99), weight_decay=0.3),
              lambda: reference.AdamW(lr=0.01, betas=(0.8, 0.99), weight_decay=0.3)),
}


def test_the_network_is_above_the_split_threshold():
    with swiftmlp.MLP(SIZES) as net:
        assert net.param_count >= 1 << 15


def batches(dtype):
    rng = np.random.default_rng(77)
    for _ in range(STEPS):
        x = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
        y = rng.uniform(0.1, 0.9, (BATCH, SIZES[-1])).astype(dtype)
        yield x, y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_step_equals_the_reference_optimizer(name, dtype):
    """Step by step: the reference optimizer applied to the network's
    parameters and gradients (its own state carried over the steps) gives the
    network's parameters after its step. The reference runs in the network's
    dtype: NumPy rounds each operation to float32 as the library does, with
    the Python-float coefficients (1 - b1, 1 - b1^t, ...) rounded once, so
    float32 is held as tightly as float64."""
    lib_opt, make_ref = OPTIMIZERS[name]
    ref = make_ref()
    with swiftmlp.MLP(SIZES, dtype=dtype, seed=5) as net:
        net.optimizer = lib_opt
        for x, y in batches(dtype):
            before = net.get_flat_params()
            net.forward(x)
            net.backward(y)
            grads = net.get_flat_grads()
            net.step()
            (expected,) = ref.step([before], [grads])
            assert expected.dtype == np.dtype(dtype)
            got = net.get_flat_params()
            err = np.max(np.abs(got.astype(np.float64) - expected)) / np.max(np.abs(expected))
            assert err <= TOL[dtype], f"{name} {dtype}: relative error {err:.3g}"
            assert not np.array_equal(got, before), "the step moved nothing"


RUN_ALL = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import swiftmlp
    from test_optimizer_large import OPTIMIZERS, SIZES, batches
    out = {"threads": swiftmlp.blas_info()}
    for dtype in ("float64", "float32"):
        for name, (opt, _) in OPTIMIZERS.items():
            with swiftmlp.MLP(SIZES, dtype=dtype, seed=9) as net:
                net.optimizer = opt
                for x, y in batches(dtype):
                    net.train_step(x, y)
                out[f"{name}-{dtype}"] = net.get_flat_params().tobytes().hex()
    print(json.dumps(out))
""")


def run_with_threads(threads):
    env = dict(os.environ, SWIFTMLP_NUM_THREADS=str(threads))
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = os.pathsep.join([here, os.path.dirname(here), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", RUN_ALL, here], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def test_the_same_bits_on_one_thread_and_on_two():
    one, two = run_with_threads(1), run_with_threads(2)
    assert "1 thread" in one["threads"], one["threads"]
    assert "2 threads" in two["threads"], two["threads"]
    for key in one:
        if key != "threads":
            assert one[key] == two[key], f"{key}: the parameters differ between 1 and 2 threads"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_an_overflow_in_the_last_parameter_alone_is_refused_and_changes_nothing(name, dtype):
    """Only the last parameter (the output layer's last bias: the far end of
    the buffer, another thread's part) overflows; the step is refused and the
    parameters and the optimizer state are exactly as before."""
    lib_opt, _ = OPTIMIZERS[name]
    # Weight decay of 1e6 multiplies a parameter by about -1e6 per step (SGD:
    # p - lr (g + wd p); AdamW: p (1 - lr wd) first): finite for the network's
    # parameters, an overflow for one near the largest finite value.
    if isinstance(lib_opt, swiftmlp.SGD):
        opt = swiftmlp.SGD(lr=1.0, momentum=lib_opt.momentum, nesterov=lib_opt.nesterov, weight_decay=1e6)
    else:
        opt = swiftmlp.AdamW(lr=1.0, betas=lib_opt.betas, weight_decay=1e6)
    huge = float(np.finfo(dtype).max) / 2
    x, y = next(batches(dtype))
    with swiftmlp.MLP(SIZES, dtype=dtype, seed=3) as net:
        net.optimizer = opt
        net.train_step(x, y)                 # some optimizer state
        params = net.get_flat_params().copy()
        assert np.isfinite(params).all() and np.abs(params).max() < huge / 1e7
        params[-1] = huge                    # the output saturates: finite gradients
        net.set_flat_params(params)
        steps = net.optimizer_steps
        state_before = net.to_bytes(optimizer_state=True)
        with pytest.raises(swiftmlp.NonFiniteError):
            net.train_step(x, y)
        assert np.isfinite(net.get_flat_grads()).all()
        assert np.array_equal(net.get_flat_params(), params)
        assert net.to_bytes(optimizer_state=True) == state_before
        assert net.optimizer_steps == steps
