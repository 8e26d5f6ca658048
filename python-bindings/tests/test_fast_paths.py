"""The prepared calls of train_step, forward, backward and predict
(swiftmlp._training.PreparedCall): once a call has validated a shape, later
calls with ndarrays of that shape go straight to the library.  Every input
the general path would convert or reject must still be converted or
rejected exactly alike (same result bits, same exception and message) on a
network whose calls are prepared, and the wrapper must keep no reference to
the caller's arrays."""

import sys

import numpy as np
import pytest

import swiftmlp
from swiftmlp import BufferSizeError, DTypeError, NonFiniteError, StateError
from swiftmlp import _convert

import test_robust_inputs as robust

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

FAST_OPS = ["forward.x", "call.x", "backward.y", "train_step.x", "train_step.y",
            "train_step_lr.x", "train_step_lr.y", "predict.x"]


def robust_split(flat, sizes):
    """The documented layout: per layer W (out, in) row-major, then b (out,)."""
    w, b, o = [], [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w.append(flat[o:o + n_in * n_out].reshape(n_out, n_in)); o += n_in * n_out
        b.append(flat[o:o + n_out]); o += n_out
    return w, b


def primed_net(dtype, a):
    """A network whose four fast paths hold the shapes of the canonical arrays."""
    net = robust.new_net(dtype)
    net.train_step(a["x"], a["y"])
    net.forward(a["x"])
    net.backward(a["y"])
    net.predict(a["x"])
    return net


def test_the_fast_paths_are_on():
    if sys.implementation.name != "cpython":  # pragma: no cover
        pytest.skip("the data-pointer read is CPython's layout")
    assert _convert.DATA_OFFSET is not None
    a = robust.base_arrays("float64")
    with primed_net("float64", a) as net:
        assert net._step_call.prepared[:2] == (a["x"].shape, a["y"].shape)
        assert net._forward_call.prepared[:2] == (a["x"].shape, (robust.ROWS, robust.SIZES[-1]))
        assert net._backward_call.prepared[0] == a["y"].shape
        assert net._predict_call.prepared[:2] == (a["x"].shape, (robust.ROWS, robust.SIZES[-1]))
        net.forward(a["x"])
        for call, x, y in ((net._step_call, a["x"], a["y"]), (net._forward_call, a["x"], None),
                           (net._backward_call, a["y"], None), (net._predict_call, a["x"], None)):
            assert call.run(net, x, y, None) is not None  # taken without conversion
        for array in (a["x"], a["y"], np.frombuffer(a["x"].tobytes(), a["x"].dtype)):
            assert _convert.address(array) == array.ctypes.data


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", [v for v in robust.SAME_VALUES if v != "memmap_r_fortran"])
@pytest.mark.parametrize("op", FAST_OPS)
def test_every_layout_on_a_primed_network_is_bit_identical(tmp_path, dtype, op, variant):
    which, call = robust.OPS[op]
    a = robust.base_arrays(dtype)
    if variant.startswith("memmap"):
        v = robust.SAME_VALUES[variant](a[which], tmp_path)
    else:
        v = robust.SAME_VALUES[variant](a[which])
    with primed_net(dtype, a) as ref, primed_net(dtype, a) as net:
        assert call(net, v, a) == call(ref, a[which], a)
        # and again: a variant never primes the fast path into misreading it
        assert call(net, v, a) == call(ref, a[which], a)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("other", ["float32", "float64", "float16", "int64", "bool"])
@pytest.mark.parametrize("op", FAST_OPS)
def test_other_dtypes_on_a_primed_network_are_converted(dtype, other, op):
    which, call = robust.OPS[op]
    a = robust.base_arrays(dtype)
    src = np.abs(a[which]) * 3 if np.dtype(other).kind in "iub" else a[which]
    v = src.astype(other)
    with primed_net(dtype, a) as ref, primed_net(dtype, a) as net:
        assert call(net, v, a) == call(ref, v.astype(dtype), a)


def _error(fn):
    with pytest.raises(swiftmlp.SwiftMLPError) as info:
        fn()
    return type(info.value), str(info.value)


BAD = {
    "complex": (DTypeError, lambda a, w: a[w].astype(np.complex128)),
    "nan": (NonFiniteError, lambda a, w: np.where(np.arange(a[w].size).reshape(a[w].shape) == 3,
                                                  np.nan, a[w]).astype(a[w].dtype)),
    "inf": (NonFiniteError, lambda a, w: np.full_like(a[w], np.inf)),
    "fewer_rows": (None, lambda a, w: a[w][:-1].copy()),
    "wider": (BufferSizeError, lambda a, w: np.hstack([a[w], a[w]])),
    "1d": (swiftmlp.InvalidArgumentError, lambda a, w: a[w].ravel().copy()),
    "3d": (swiftmlp.InvalidArgumentError, lambda a, w: a[w][None].copy()),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("op", ["forward.x", "backward.y", "train_step.x", "train_step.y",
                                "predict.x"])
def test_bad_input_on_a_primed_network_raises_as_on_a_fresh_one(dtype, bad, op):
    which, call = robust.OPS[op]
    exc, make = BAD[bad]
    a = robust.base_arrays(dtype)
    v = make(a, which)
    if op in ("forward.x", "predict.x") and bad == "fewer_rows":
        # Not bad: a forward or predict of fewer rows is valid. The primed
        # network (its fast path holds the full shape) gives what the
        # general path gives.
        with primed_net(dtype, a) as net:
            params = net.get_flat_params().copy()
            out = net.forward(v) if op == "forward.x" else net.predict(v)
            w, b = robust_split(params, net.sizes)
            g = v
            for wl, bl in zip(w, b):
                g = 1 / (1 + np.exp(-(g @ wl.T + bl)))
            np.testing.assert_allclose(out, g, rtol=1e-5 if dtype == "float32" else 1e-13)
            assert out.shape == (len(v), net.sizes[-1])
        return
    with primed_net(dtype, a) as net, robust.new_net(dtype) as fresh:
        before = net.get_flat_params().tobytes()
        got = _error(lambda: call(net, v, a))
        if op == "backward.y":
            fresh.forward(a["x"])  # the primed network's last forward
            got_fresh = _error(lambda: fresh.backward(v))
        else:
            got_fresh = _error(lambda: call(fresh, v, a))
        assert got == got_fresh
        if exc is not None:
            assert got[0] is exc
        assert net.get_flat_params().tobytes() == before


@pytest.mark.parametrize("op", ["forward.x", "backward.y", "train_step.x", "predict.x"])
def test_a_closed_primed_network_raises_state_error(op):
    which, call = robust.OPS[op]
    a = robust.base_arrays("float64")
    net = primed_net("float64", a)
    net.close()
    with pytest.raises(StateError, match="closed"):
        call(net, a[which], a)


def test_backward_after_a_forward_of_another_batch_size_is_refused_as_before():
    a = robust.base_arrays("float64")
    with primed_net("float64", a) as net, robust.new_net("float64") as fresh:
        net.forward(a["x"][:2])
        fresh.forward(a["x"][:2])
        assert _error(lambda: net.backward(a["y"])) == _error(lambda: fresh.backward(a["y"]))
        net.train_step(a["x"], a["y"])  # a step invalidates the forward cache
        fresh.train_step(a["x"], a["y"])
        assert _error(lambda: net.backward(a["y"])) == _error(lambda: fresh.backward(a["y"]))


def test_the_fast_paths_are_refused_inside_a_fit_callback():
    a = robust.base_arrays("float64")
    seen = []
    with primed_net("float64", a) as net:
        def callback(info):
            for fn in (lambda: net.train_step(a["x"], a["y"]), lambda: net.forward(a["x"]),
                       lambda: net.backward(a["y"]), lambda: net.predict(a["x"])):
                with pytest.raises(StateError, match="fit"):
                    fn()
                seen.append(1)
        net.fit(a["x"], a["y"], epochs=1, callback=callback)
    assert len(seen) == 4


def test_each_call_reads_the_array_it_is_given():
    """No data pointer (or data) is remembered between calls: new arrays of
    the same shape, and arrays changed in place, are read afresh."""
    a = robust.base_arrays("float64")
    rng = np.random.default_rng(1)
    with primed_net("float64", a) as net, primed_net("float64", a) as ref:
        for _ in range(5):
            x = rng.normal(size=a["x"].shape)
            y = rng.uniform(size=a["y"].shape)
            assert net.train_step(x, y) == ref.train_step(x.tolist(), y.tolist())
            x[...] = rng.normal(size=x.shape)
            assert net.train_step(x, y) == ref.train_step(x.tolist(), y.tolist())
            np.testing.assert_array_equal(net.forward(x), ref.forward(x.tolist()))
            np.testing.assert_array_equal(net.predict(x), ref.predict(x.tolist()))
        assert net.get_flat_params().tobytes() == ref.get_flat_params().tobytes()


def test_no_reference_to_the_callers_arrays_is_kept():
    """resize() (which NumPy refuses for an array referenced elsewhere, or with
    a weak reference) still works after the array went through every fast path."""
    a = robust.base_arrays("float64")
    with primed_net("float64", a) as net:
        x, y = a["x"].copy(), a["y"].copy()
        net.train_step(x, y)
        net.forward(x)
        net.backward(y)
        net.predict(x)
        x.resize((2 * x.shape[0], x.shape[1]))
        y.resize((2 * y.shape[0], y.shape[1]))
