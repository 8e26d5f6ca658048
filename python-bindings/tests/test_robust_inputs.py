"""Input robustness: every way an array can reach forward, backward,
train_step, predict, evaluate, fit, gradient_check and the parameter writes
(layouts, dtypes, byte orders, read-only and memory-mapped buffers, misaligned
data, wrong dimensions, nested lists) is either converted correctly -- the
result is bit-identical to the same call with a C-contiguous array of the
network's dtype -- or rejected with a specific SwiftMLPError subclass.  It is
never misread.  Also: usable arrays reach the library without a copy."""

import numpy as np
import pytest

import swiftmlp
from swiftmlp import BufferSizeError, DTypeError, InvalidArgumentError

# np.matrix is one of the inputs tried (it is deprecated, not gone).
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

SIZES = (3, 5, 2)
ROWS = 6


def new_net(dtype, **kwargs):
    net = swiftmlp.MLP(SIZES, dtype=dtype, seed=4, **kwargs)
    net.optimizer = swiftmlp.Adam(lr=0.05)
    return net


def base_arrays(dtype):
    """The canonical inputs: C-contiguous, aligned, native, the network's dtype."""
    rng = np.random.default_rng(7)
    dt = np.dtype(dtype)
    return {
        "x": rng.normal(size=(ROWS, SIZES[0])).astype(dt),
        "y": rng.uniform(size=(ROWS, SIZES[-1])).astype(dt),
        "w0": rng.normal(size=(SIZES[1], SIZES[0])).astype(dt),
        "b0": rng.normal(size=SIZES[1]).astype(dt),
        "params": rng.normal(size=SIZES[1] * SIZES[0] + SIZES[1] + SIZES[2] * SIZES[1]
                             + SIZES[2]).astype(dt),
    }


# ---- the calls under test: (name, which input varies, call) ----------------------------
# Each call gets the network, the varying input v and the canonical arrays a, and
# returns what it produced as comparable values (bytes, floats).

def _params(net):
    return net.get_flat_params().tobytes()


def _history(h):
    return (tuple(h.loss), tuple(h.val_loss), h.best_epoch, h.epochs_run)


OPS = {
    "forward.x": ("x", lambda net, v, a: net.forward(v).tobytes()),
    "call.x": ("x", lambda net, v, a: net(v).tobytes()),
    "backward.y": ("y", lambda net, v, a: (net.forward(a["x"]).tobytes(), net.backward(v),
                                           net.get_flat_grads().tobytes())),
    "train_step.x": ("x", lambda net, v, a: (net.train_step(v, a["y"]), _params(net))),
    "train_step.y": ("y", lambda net, v, a: (net.train_step(a["x"], v), _params(net))),
    "train_step_lr.x": ("x", lambda net, v, a: (net.train_step(v, a["y"], 0.5), _params(net))),
    "train_step_lr.y": ("y", lambda net, v, a: (net.train_step(a["x"], v, 0.5), _params(net))),
    "predict.x": ("x", lambda net, v, a: net.predict(v).tobytes()),
    "evaluate.x": ("x", lambda net, v, a: net.evaluate(v, a["y"])),
    "evaluate.y": ("y", lambda net, v, a: net.evaluate(a["x"], v)),
    "fit.x": ("x", lambda net, v, a: (_history(net.fit(v, a["y"], epochs=2, batch_size=4)),
                                      _params(net))),
    "fit.y": ("y", lambda net, v, a: (_history(net.fit(a["x"], v, epochs=2, batch_size=4)),
                                      _params(net))),
    "fit.val_x": ("x", lambda net, v, a: _history(net.fit(a["x"], a["y"], epochs=2,
                                                          validation_data=(v, a["y"])))),
    "fit.val_y": ("y", lambda net, v, a: _history(net.fit(a["x"], a["y"], epochs=2,
                                                          validation_data=(a["x"], v)))),
    "gradient_check.x": ("x", lambda net, v, a: net.gradient_check_details(v, a["y"]).index),
    "set_weights": ("w0", lambda net, v, a: (net.weights.__setitem__(0, v), _params(net))[1]),
    "set_biases": ("b0", lambda net, v, a: (net.biases.__setitem__(0, v), _params(net))[1]),
    "set_layer": ("w0", lambda net, v, a: (net.set_layer(0, v, a["b0"]), _params(net))[1]),
    "set_layer.b": ("b0", lambda net, v, a: (net.set_layer(0, a["w0"], v), _params(net))[1]),
    "set_params": ("params", lambda net, v, a: (net.set_flat_params(v), _params(net))[1]),
}
# Inputs whose number of dimensions is checked (else only the shape is).
NDIM_CHECKED = {"x", "y", "params"}


# ---- variants with the same values ------------------------------------------------------

def _misaligned(a):
    raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(raw.data, dtype=a.dtype, count=a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


def _strided_last(a):
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


def _strided_first(a):
    tall = np.zeros((2 * a.shape[0],) + a.shape[1:], dtype=a.dtype)
    tall[::2] = a
    return tall[::2]


def _negative(a):
    return np.flip(np.flip(a).copy())


def _read_only(a):
    out = a.copy()
    out.flags.writeable = False
    return out


def _memmap(mode):
    def make(a, tmp_path):
        path = tmp_path / f"mm_{mode}_{a.ndim}.bin"
        a.tofile(path)
        out = np.memmap(path, dtype=a.dtype, mode=mode, shape=a.shape)
        assert isinstance(out, np.memmap)
        return out
    return make


def _big_endian(a):
    out = a.astype(a.dtype.newbyteorder(">"))
    assert not out.dtype.isnative
    return out


def _masked_without_masked_values(a):
    return np.ma.masked_array(a, mask=np.zeros(a.shape, dtype=bool))


SAME_VALUES = {
    "fortran": lambda a: np.asfortranarray(a),
    "strided_last_axis": _strided_last,
    "strided_first_axis": _strided_first,
    "negative_strides": _negative,
    "read_only": _read_only,
    "misaligned": _misaligned,
    "big_endian": _big_endian,
    "list": lambda a: a.tolist(),
    "tuple": lambda a: tuple(map(tuple, a)) if a.ndim == 2 else tuple(a),
    "list_of_arrays": lambda a: list(a),
    "matrix": lambda a: np.asmatrix(a),
    "masked_nothing_masked": _masked_without_masked_values,
    "memmap_r": _memmap("r"),
    "memmap_c": _memmap("c"),
    "memmap_r_fortran": None,  # built in the test (needs order="F")
}
ONLY_2D = {"strided_first_axis", "fortran", "matrix", "memmap_r_fortran"}


def _same_value_cases():
    for op, (which, _) in OPS.items():
        for name in SAME_VALUES:
            if name in ONLY_2D and which in ("b0", "params"):
                continue
            yield op, name


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("op,variant", list(_same_value_cases()))
def test_layouts_and_buffers_give_bit_identical_results(tmp_path, dtype, op, variant):
    which, call = OPS[op]
    a = base_arrays(dtype)
    if variant == "memmap_r_fortran":
        path = tmp_path / "f.bin"
        np.asfortranarray(a[which]).T.tofile(path)  # column-major bytes
        v = np.memmap(path, dtype=a[which].dtype, mode="r", shape=a[which].shape, order="F")
    elif variant.startswith("memmap"):
        v = SAME_VALUES[variant](a[which], tmp_path)
    else:
        v = SAME_VALUES[variant](a[which])
    before = np.array(v, copy=True) if not isinstance(v, (list, tuple)) else None
    with new_net(dtype) as ref, new_net(dtype) as net:
        expected = call(ref, a[which], a)
        got = call(net, v, a)
        assert got == expected
    if before is not None:  # the caller's array is never written
        np.testing.assert_array_equal(np.asarray(v), before)


# ---- other dtypes: converted (as NumPy's astype) or rejected ------------------------------

def _converted(dtype_from):
    def make(a):
        src = np.abs(a) * 3 if np.dtype(dtype_from).kind in "iub" else a
        v = src.astype(dtype_from)
        return v, v.astype(a.dtype)  # (the input, the array the library must see)
    return make


CONVERTED = {
    "float64_or_float32": None,  # the other float type: filled in below
    "float16": _converted(np.float16),
    "longdouble": _converted(np.longdouble),
    "int64": _converted(np.int64),
    "int8": _converted(np.int8),
    "uint16": _converted(np.uint16),
    "bool": _converted(np.bool_),
    "big_endian_other_float": None,
    "int_list": None,
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", list(CONVERTED))
@pytest.mark.parametrize("op", list(OPS))
def test_other_real_dtypes_are_converted_like_astype(dtype, variant, op):
    which, call = OPS[op]
    a = base_arrays(dtype)
    base = a[which]
    other = np.float32 if dtype == "float64" else np.float64
    if variant == "float64_or_float32":
        v, seen = _converted(other)(base)
    elif variant == "big_endian_other_float":
        v = base.astype(np.dtype(other).newbyteorder(">"))
        seen = v.astype(base.dtype)
    elif variant == "int_list":
        ints = np.rint(base * 4).astype(np.int64)
        v, seen = ints.tolist(), ints.astype(base.dtype)
    else:
        v, seen = CONVERTED[variant](base)
    assert seen.flags.c_contiguous and seen.dtype == base.dtype
    with new_net(dtype) as ref, new_net(dtype) as net:
        expected = call(ref, seen, {**a, which: seen})
        got = call(net, v, {**a, which: seen})
        assert got == expected


def _rejects(which):
    a = base_arrays("float64")[which]
    yield "complex128", a.astype(np.complex128), DTypeError
    yield "complex64", a.astype(np.complex64), DTypeError
    yield "complex_list", (a + 1j).tolist(), DTypeError
    yield "object", a.astype(object), DTypeError
    yield "str", a.astype(str), DTypeError
    yield "bytes", a.astype("S8"), DTypeError
    yield "datetime64", np.zeros(a.shape, dtype="datetime64[s]"), DTypeError
    yield "timedelta64", np.zeros(a.shape, dtype="timedelta64[s]"), DTypeError
    yield "structured", np.zeros(a.shape, dtype=[("f", "f8")]), DTypeError
    yield "none_in_list", [[None] * a.shape[-1]] * 2 if a.ndim == 2 else [None] * a.size, \
        DTypeError
    masked = np.ma.masked_array(a, mask=np.zeros(a.shape, dtype=bool))
    masked.mask.flat[0] = True
    yield "masked", masked, InvalidArgumentError
    if a.ndim == 2:
        ragged = a.tolist()
        ragged[1] = ragged[1][:-1]
        yield "ragged_list", ragged, InvalidArgumentError
    ndim_error = InvalidArgumentError if which in NDIM_CHECKED else BufferSizeError
    yield "0-d", np.array(1.0), ndim_error
    yield "3-d", a[None], ndim_error
    if a.ndim == 2:
        yield "1-d", a.ravel(), ndim_error
        yield "one_row_1-d", a[0], ndim_error
    else:
        yield "2-d", a[None], ndim_error
    yield "scalar", 0.5, ndim_error


def _reject_cases():
    for op, (which, _) in OPS.items():
        for name, value, exc in _rejects(which):
            yield pytest.param(op, value, exc, id=f"{op}-{name}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("op,value,exc", list(_reject_cases()))
def test_unusable_inputs_are_rejected_and_change_nothing(dtype, op, value, exc):
    which, call = OPS[op]
    a = base_arrays(dtype)
    with new_net(dtype) as net:
        net.forward(a["x"])
        net.backward(a["y"])
        state = (net.get_flat_params().tobytes(), net.get_flat_grads().tobytes(), net.optimizer_steps)
        with pytest.raises(exc) as info:
            call(net, value, a)
        assert isinstance(info.value, swiftmlp.SwiftMLPError)
        assert info.value.message and info.value.message in str(info.value)
        if op.startswith("backward"):
            return  # its forward() ran first, by design of the call
        assert (net.get_flat_params().tobytes(), net.get_flat_grads().tobytes(),
                net.optimizer_steps) == state


# ---- the fast path: usable arrays are not copied -------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_usable_arrays_reach_the_library_without_a_copy(tmp_path, dtype):
    a = base_arrays(dtype)
    with new_net(dtype) as net:
        for which, ndim in (("x", 2), ("y", 2), ("params", 1)):
            arr = a[which]
            assert net._as_input(arr, which, ndim=ndim) is arr
            ro = _read_only(arr)
            assert net._as_input(ro, which, ndim=ndim) is ro
            mm = _memmap("r")(arr, tmp_path)
            assert np.shares_memory(net._as_input(mm, which, ndim=ndim), mm)
        # ... and everything else is copied into a usable array.
        for make in (np.asfortranarray, _strided_last, _negative, _misaligned, _big_endian):
            v = make(a["x"])
            got = net._as_input(v, "x", ndim=2)
            assert got.flags.c_contiguous and got.flags.aligned and got.dtype == net.dtype
            assert got.dtype.isnative and not np.shares_memory(got, v)
            assert got.tobytes() == a["x"].tobytes()


def test_a_one_row_slice_of_a_wider_array_is_read_correctly():
    """x[2:3] of a C array is contiguous; x[:, 1:4] of a wider one is not."""
    rng = np.random.default_rng(3)
    wide = rng.normal(size=(8, 7))
    with new_net("float64") as net:
        for v in (wide[2:3, 1:4], wide[:, 1:4], wide[::3, 4:], wide[5:6, ::2][:, :3]):
            np.testing.assert_array_equal(net.forward(v), net.forward(np.array(v, order="C")))


# ---- class indices (cross-entropy) -----------------------------------------------------------

def _ce_net(dtype):
    net = swiftmlp.MLP(SIZES, dtype=dtype, seed=4, activations=["tanh", "softmax"],
                       loss="cross_entropy")
    net.optimizer = swiftmlp.Adam(lr=0.05)
    return net


LABELS = np.array([0, 1, 1, 0, 1, 0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", [
    "int64", "int32", "uint8", "big_endian_int64", "strided", "read_only", "list", "tuple",
    "negative", "one_hot_rows", "one_hot_int_rows"])
@pytest.mark.parametrize("op", ["backward", "train_step", "train_step_lr", "fit", "evaluate"])
def test_class_indices_in_any_integer_layout(dtype, variant, op):
    wide = np.zeros(2 * LABELS.size, dtype=np.int64)
    wide[::2] = LABELS
    v = {"int64": LABELS, "int32": LABELS.astype(np.int32), "uint8": LABELS.astype(np.uint8),
         "big_endian_int64": LABELS.astype(">i8"), "strided": wide[::2],
         "read_only": _read_only(LABELS), "list": LABELS.tolist(), "tuple": tuple(LABELS),
         "negative": _negative(LABELS), "one_hot_rows": np.eye(2)[LABELS],
         "one_hot_int_rows": np.eye(2, dtype=np.int64)[LABELS]}[variant]
    x = base_arrays(dtype)["x"]

    def run(net, labels):
        if op == "backward":
            net.forward(x)
            return net.backward(labels), net.get_flat_grads().tobytes()
        if op == "train_step":
            return net.train_step(x, labels), _params(net)
        if op == "train_step_lr":
            return net.train_step(x, labels, 0.3), _params(net)
        if op == "fit":
            return _history(net.fit(x, labels, epochs=2, batch_size=4)), _params(net)
        return net.evaluate(x, labels)

    with _ce_net(dtype) as ref, _ce_net(dtype) as net:
        assert run(net, v) == run(ref, LABELS)


@pytest.mark.parametrize("labels,exc", [
    (LABELS.astype(np.float64), DTypeError),
    (LABELS.astype(bool), DTypeError),
    (LABELS.astype(np.complex128), DTypeError),
    (LABELS + 1, InvalidArgumentError),       # 2 is out of range for 2 outputs
    (LABELS - 1, InvalidArgumentError),       # -1
    (LABELS[:-1], swiftmlp.SwiftMLPError),    # wrong count
    # 2-D (1, 6): dense targets of the wrong shape (backward(): a batch other
    # than the last forward's is a StateError, as in the library)
    (LABELS[None], (BufferSizeError, swiftmlp.StateError)),
])
@pytest.mark.parametrize("op", ["train_step", "train_step_lr", "backward", "fit"])
def test_bad_class_indices_are_rejected(labels, exc, op):
    x = base_arrays("float64")["x"]
    with _ce_net("float64") as net:
        before = _params(net)
        with pytest.raises(exc):
            if op == "train_step":
                net.train_step(x, labels)
            elif op == "train_step_lr":
                net.train_step(x, labels, 0.3)
            elif op == "backward":
                net.forward(x)
                net.backward(labels)
            else:
                net.fit(x, labels, epochs=1)
        assert _params(net) == before and net.optimizer_steps == 0


# ---- shapes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_train_step_shape_errors(dtype):
    a = base_arrays(dtype)
    with new_net(dtype) as net:
        before = _params(net)
        for x, y, exc in ((a["x"][:, :2], a["y"], BufferSizeError),
                          (a["x"], a["y"][:-1], BufferSizeError),
                          (a["x"], a["y"][:, :1], BufferSizeError),
                          (a["x"][:0], a["y"][:0], InvalidArgumentError),
                          (a["x"].T, a["y"], BufferSizeError)):
            with pytest.raises(exc):
                net.train_step(x, y)
        assert _params(net) == before and net.optimizer_steps == 0


def test_train_step_without_an_optimizer_is_refused_by_the_library():
    with swiftmlp.MLP(SIZES) as net:
        a = base_arrays("float64")
        with pytest.raises(swiftmlp.StateError, match="no optimizer is set") as info:
            net.train_step(a["x"], a["y"])
        assert info.value.function == "swiftmlp_train_step"
        # Nothing changed: no forward cache was left behind.
        with pytest.raises(swiftmlp.StateError):
            net.backward(a["y"])
        net.train_step(a["x"], a["y"], 0.1)  # plain SGD needs no optimizer


@pytest.mark.parametrize("where", ["x", "y"])
def test_train_step_non_finite_data_changes_nothing(where):
    a = base_arrays("float64")
    with new_net("float64") as net:
        net.forward(a["x"])
        before = (_params(net), net.optimizer_steps, net.quantity("g", 0).tobytes())
        bad = a[where].copy()
        bad[1, 1] = np.nan
        args = (bad, a["y"]) if where == "x" else (a["x"], bad)
        with pytest.raises(swiftmlp.NonFiniteError):
            net.train_step(*args)
        assert (_params(net), net.optimizer_steps, net.quantity("g", 0).tobytes()) == before
        net.backward(a["y"])  # the earlier forward's cache is still there


def test_train_step_refused_step_leaves_this_batch_for_backward():
    with swiftmlp.MLP([1, 1], activations="identity") as net:
        net.set_flat_params([0.0, 0.0])
        net.optimizer = swiftmlp.SGD(lr=1e308)
        with pytest.raises(swiftmlp.NonFiniteError):
            net.train_step([[1.0]], [[-1.0]])
        np.testing.assert_array_equal(net.get_flat_params(), [0.0, 0.0])
        # The library keeps this batch's forward cache and gradients.
        assert net.backward([[-1.0]]) == 1.0
        np.testing.assert_array_equal(net.get_flat_grads(), [2.0, 2.0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_train_step_equals_the_three_calls_for_every_optimizer(dtype):
    a = base_arrays(dtype)
    for opt in (swiftmlp.SGD(lr=0.2), swiftmlp.SGD(lr=0.1, momentum=0.9, nesterov=True),
                swiftmlp.Adam(lr=0.01), swiftmlp.AdamW(lr=0.01)):
        with new_net(dtype) as one, new_net(dtype) as three:
            one.optimizer = three.optimizer = opt
            for _ in range(4):
                loss = one.train_step(a["x"], a["y"])
                three.forward(a["x"])
                assert three.backward(a["y"]) == loss
                three.step()
            assert _params(one) == _params(three)
            assert one.optimizer_steps == three.optimizer_steps == 4
            # The forward cache is invalidated by the step in both.
            for net in (one, three):
                with pytest.raises(swiftmlp.StateError):
                    net.backward(a["y"])
