"""Bad input raises the right exception, and a failed call changes nothing.

Most tests run on a "primed" network (one forward + backward done) and end
with check_unchanged(): parameters and gradients are bit-identical to before,
and the cached forward is intact (backward on the original targets still
gives the same loss and gradients).
"""

import ctypes
import math

import numpy as np
import pytest

import swiftmlp
from swiftmlp import (BufferSizeError, DTypeError, InvalidArgumentError, LayerIndexError,
                      NonFiniteError, NullPointerError, StateError, SwiftMLPError,
                      TooLargeError)

SIZES = [3, 5, 2]
BATCH = 4


class Primed:
    def __init__(self, dtype):
        self.net = swiftmlp.MLP(SIZES, dtype=dtype, seed=7)
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(BATCH, SIZES[0])).astype(dtype)
        self.y = rng.uniform(size=(BATCH, SIZES[-1])).astype(dtype)
        self.out = self.net.forward(self.x)
        self.loss = self.net.backward(self.y)
        self.params = self.net.get_flat_params().copy()
        self.grads = self.net.get_flat_grads().copy()

    def check_unchanged(self):
        net = self.net
        np.testing.assert_array_equal(net.get_flat_params(), self.params)
        np.testing.assert_array_equal(net.get_flat_grads(), self.grads)
        # The forward cache survived: backward works and reproduces the same results.
        assert net.backward(self.y) == self.loss
        np.testing.assert_array_equal(net.get_flat_grads(), self.grads)
        np.testing.assert_array_equal(net.forward(self.x), self.out)


@pytest.fixture(params=["float64", "float32"])
def primed(request):
    p = Primed(request.param)
    yield p
    p.net.close()


# ---- creation ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "int32", "banana", np.complex128, "f2", object])
def test_wrong_dtype(dtype):
    with pytest.raises(InvalidArgumentError):
        swiftmlp.MLP(SIZES, dtype=dtype)


@pytest.mark.parametrize("sizes", [[], [5], (7,)])
def test_fewer_than_two_sizes(sizes):
    with pytest.raises(InvalidArgumentError) as info:
        swiftmlp.MLP(sizes)
    assert info.value.status == 2 and info.value.function == "swiftmlp_create_with_config"


@pytest.mark.parametrize("sizes", [[0, 2], [3, 0, 2], [3, 4, 0]])
def test_zero_size(sizes):
    with pytest.raises(InvalidArgumentError):
        swiftmlp.MLP(sizes)


def test_negative_size():
    with pytest.raises(InvalidArgumentError):
        swiftmlp.MLP([3, -1, 2])


@pytest.mark.parametrize("sizes", [
    [swiftmlp.MAX_LAYER_SIZE + 1, 1],          # one layer above SWIFTMLP_MAX_LAYER_SIZE
    [2 ** 14, 2 ** 14, 2],                     # > SWIFTMLP_MAX_PARAMS parameters
    [2 ** 63, 2 ** 63],                        # size_t overflow of N_out * N_in
    [2 ** 64 - 1, 2],                          # SIZE_MAX
    [2 ** 64, 2],                              # does not even fit in size_t
    [1] * (swiftmlp.MAX_SIZES + 1),            # too many layers
], ids=["layer", "params", "overflow", "size_max", "above_size_t", "n_sizes"])
def test_huge_sizes(sizes):
    with pytest.raises(TooLargeError):
        swiftmlp.MLP(sizes)


@pytest.mark.parametrize("sizes", [[2.5, 3], "abc", [True, 2], None, 5])
def test_non_integer_sizes(sizes):
    with pytest.raises(TypeError):
        swiftmlp.MLP(sizes)


@pytest.mark.parametrize("seed,exc", [(-1, InvalidArgumentError), (2 ** 64, InvalidArgumentError),
                                      (1.5, TypeError), ("0", TypeError)])
def test_bad_seed(seed, exc):
    with pytest.raises(exc):
        swiftmlp.MLP(SIZES, seed=seed)


# ---- forward --------------------------------------------------------------------

def test_empty_batch(primed):
    with pytest.raises(InvalidArgumentError):
        primed.net.forward(np.zeros((0, SIZES[0])))
    primed.check_unchanged()


@pytest.mark.parametrize("width", [SIZES[0] - 1, SIZES[0] + 1])
def test_wrong_x_width(primed, width):
    with pytest.raises(BufferSizeError):
        primed.net.forward(np.zeros((BATCH, width)))
    primed.check_unchanged()


@pytest.mark.parametrize("shape", [(), (SIZES[0],), (1, BATCH, SIZES[0])])
def test_wrong_x_ndim(primed, shape):
    with pytest.raises(InvalidArgumentError):
        primed.net.forward(np.zeros(shape))
    primed.check_unchanged()


@pytest.mark.parametrize("x", [np.zeros((BATCH, SIZES[0]), dtype=np.complex128),
                               np.full((BATCH, SIZES[0]), "a"),
                               np.empty((BATCH, SIZES[0]), dtype=object)],
                         ids=["complex", "str", "object"])
def test_wrong_x_dtype(primed, x):
    with pytest.raises(DTypeError):
        primed.net.forward(x)
    primed.check_unchanged()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_x(primed, bad):
    x = primed.x.copy()
    x[BATCH - 1, SIZES[0] - 1] = bad
    with pytest.raises(NonFiniteError) as info:
        primed.net.forward(x)
    assert isinstance(info.value, ValueError)
    assert info.value.function == "swiftmlp_forward"  # detected by the library
    primed.check_unchanged()


def test_float64_value_overflowing_float32_network():
    with swiftmlp.MLP(SIZES, dtype="float32") as net:
        with pytest.raises(NonFiniteError, match="overflows float32"):
            net.forward(np.full((1, SIZES[0]), 1e39))


def test_batch_too_large_is_rejected_before_allocating():
    # 64 * (1 + 2**22) activations > SWIFTMLP_MAX_BATCH_ELEMENTS = 2**28; the
    # 1 GiB output array is never allocated.
    with swiftmlp.MLP([1, 2 ** 22], dtype="float32") as net:
        with pytest.raises(TooLargeError):
            net.forward(np.zeros((64, 1), dtype=np.float32))


# ---- backward ------------------------------------------------------------------

def test_backward_before_forward():
    with swiftmlp.MLP(SIZES) as net:
        with pytest.raises(StateError):
            net.backward(np.zeros((BATCH, SIZES[-1])))


def test_backward_after_step_needs_new_forward(primed):
    primed.net.step(0.1)
    with pytest.raises(StateError):
        primed.net.backward(primed.y)


def test_backward_after_parameter_write_needs_new_forward(primed):
    primed.net.weights[0] = primed.net.weights[0]
    with pytest.raises(StateError):
        primed.net.backward(primed.y)


@pytest.mark.parametrize("batch", [BATCH - 1, BATCH + 1])
def test_backward_with_different_batch(primed, batch):
    with pytest.raises(StateError):
        primed.net.backward(np.zeros((batch, SIZES[-1])))
    primed.check_unchanged()


def test_backward_wrong_y_width(primed):
    with pytest.raises(BufferSizeError):
        primed.net.backward(np.zeros((BATCH, SIZES[-1] + 1)))
    primed.check_unchanged()


def test_backward_wrong_y_ndim(primed):
    with pytest.raises(InvalidArgumentError):
        primed.net.backward(np.zeros(BATCH * SIZES[-1]))
    primed.check_unchanged()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_y(primed, bad):
    y = primed.y.copy()
    y[0, 0] = bad
    with pytest.raises(NonFiniteError):
        primed.net.backward(y)
    primed.check_unchanged()


# ---- step -------------------------------------------------------------------------

@pytest.mark.parametrize("lr", [-0.1, -math.inf, math.nan, math.inf, -1e-300])
def test_bad_learning_rate(primed, lr):
    with pytest.raises(InvalidArgumentError) as info:
        primed.net.step(lr)
    assert info.value.function == "swiftmlp_step"
    primed.check_unchanged()


@pytest.mark.parametrize("lr", ["0.1x", None, [0.1]])
def test_learning_rate_not_a_number(primed, lr):
    with pytest.raises(TypeError):
        primed.net.step(lr)
    primed.check_unchanged()


def test_step_before_any_backward():
    with swiftmlp.MLP(SIZES) as net:
        before = net.get_flat_params().copy()
        with pytest.raises(StateError):
            net.step(0.1)
        np.testing.assert_array_equal(net.get_flat_params(), before)


# ---- parameters -------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(SIZES[0], SIZES[1]), (SIZES[1], SIZES[0] + 1),
                                   (SIZES[1] * SIZES[0],), (1, SIZES[1], SIZES[0])])
def test_weights_assignment_wrong_shape(primed, shape):
    with pytest.raises(BufferSizeError):
        primed.net.weights[0] = np.zeros(shape)
    primed.check_unchanged()


@pytest.mark.parametrize("shape", [(SIZES[1] + 1,), (1, SIZES[1]), ()])
def test_biases_assignment_wrong_shape(primed, shape):
    with pytest.raises(BufferSizeError):
        primed.net.biases[0] = np.zeros(shape)
    primed.check_unchanged()


def test_scalar_is_not_a_one_element_bias():
    with swiftmlp.MLP([2, 1]) as net:
        with pytest.raises(BufferSizeError):
            net.biases[0] = 0.5
        with pytest.raises(BufferSizeError):
            net.weights[0] = [0.5, 0.5, 0.5]


def test_weights_assignment_non_finite(primed):
    w = np.array(primed.net.weights[1])
    w[-1, -1] = np.nan
    with pytest.raises(NonFiniteError):
        primed.net.weights[1] = w
    primed.check_unchanged()


def test_set_params_wrong_length(primed):
    with pytest.raises(BufferSizeError):
        primed.net.set_flat_params(np.zeros(primed.net.param_count - 1))
    with pytest.raises(BufferSizeError):
        primed.net.set_flat_params(np.zeros(primed.net.param_count + 1))
    with pytest.raises(InvalidArgumentError):
        primed.net.set_flat_params(np.zeros((1, primed.net.param_count)))
    primed.check_unchanged()


def test_set_params_non_finite_writes_nothing(primed):
    p = np.array(primed.params)
    p[:] = 0.5
    p[-1] = np.inf
    with pytest.raises(NonFiniteError):
        primed.net.set_flat_params(p)
    primed.check_unchanged()


@pytest.mark.parametrize("attr", ["weights", "biases", "weight_grads", "bias_grads"])
@pytest.mark.parametrize("index", [len(SIZES) - 1, 99, -len(SIZES)])
def test_layer_index_out_of_range(primed, attr, index):
    with pytest.raises(LayerIndexError) as info:
        getattr(primed.net, attr)[index]
    assert isinstance(info.value, IndexError)
    primed.check_unchanged()


def test_layer_index_out_of_range_on_write_and_offsets(primed):
    with pytest.raises(IndexError):
        primed.net.weights[2] = np.zeros((2, 5))
    with pytest.raises(LayerIndexError):
        primed.net.biases[-3] = np.zeros(2)
    with pytest.raises(LayerIndexError):
        primed.net.layer_offsets(2)
    primed.check_unchanged()


def test_layer_index_not_an_integer(primed):
    with pytest.raises(TypeError):
        primed.net.weights[0.0]
    with pytest.raises(TypeError):
        primed.net.weights["0"]


def test_gradients_are_not_assignable(primed):
    with pytest.raises(TypeError):
        primed.net.weight_grads[0] = np.zeros((5, 3))
    with pytest.raises(TypeError):
        primed.net.bias_grads[0] = np.zeros(5)
    primed.check_unchanged()


def test_gradients_before_any_backward():
    with swiftmlp.MLP(SIZES) as net:
        with pytest.raises(StateError):
            net.get_flat_grads()
        with pytest.raises(StateError):
            net.weight_grads[0]
        net.forward(np.zeros((1, SIZES[0])))
        with pytest.raises(StateError):
            net.bias_grads[1]


# ---- read-only results --------------------------------------------------------------

@pytest.mark.parametrize("read", [
    lambda net: net.weights[0], lambda net: net.biases[1],
    lambda net: net.weight_grads[1], lambda net: net.bias_grads[0],
    lambda net: net.get_flat_params(), lambda net: net.get_flat_grads(),
    lambda net: next(iter(net.weights)), lambda net: net.weights[-1:][0],
], ids=["weights", "biases", "weight_grads", "bias_grads", "get_flat_params", "get_flat_grads",
        "iter", "slice"])
def test_returned_arrays_are_read_only(primed, read):
    a = read(primed.net)
    assert not a.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        a.flat[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        a += 1.0
    primed.check_unchanged()


def test_in_place_write_to_weights_is_not_silently_lost(primed):
    with pytest.raises(ValueError):
        primed.net.weights[0][0, 0] = 1.0
    primed.check_unchanged()


# ---- closed network -------------------------------------------------------------

@pytest.mark.parametrize("use", [
    lambda n: n.forward(np.zeros((1, SIZES[0]))),
    lambda n: n.backward(np.zeros((1, SIZES[-1]))),
    lambda n: n.step(0.1),
    lambda n: n.weights[0],
    lambda n: n.biases.__setitem__(0, np.zeros(SIZES[1])),
    lambda n: n.bias_grads[0],
    lambda n: n.get_flat_params(),
    lambda n: n.set_flat_params(np.zeros(n.param_count)),
    lambda n: n.get_flat_grads(),
    lambda n: n.layer_offsets(0),
    lambda n: n.__enter__(),
    lambda n: list(n.weights),
], ids=["forward", "backward", "step", "weights", "set_biases", "bias_grads", "get_flat_params",
        "set_flat_params", "get_flat_grads", "layer_offsets", "enter", "iterate"])
def test_use_after_close(use):
    net = swiftmlp.MLP(SIZES)
    net.forward(np.zeros((1, SIZES[0])))
    net.backward(np.zeros((1, SIZES[-1])))
    net.close()
    with pytest.raises(StateError, match="closed"):
        use(net)
    net.close()  # still idempotent
    assert net.closed


# ---- the library's own checks, through the raw ABI ------------------------------------
# The wrapper rejects most of these before calling C; here the library itself
# must reject them (defence in depth), and the errcheck must map the status.

lib = swiftmlp._lib.lib
F32, F64 = swiftmlp._lib.FLOAT32, swiftmlp._lib.FLOAT64


def _ptr(a):
    return ctypes.c_void_p(a.ctypes.data)


def test_raw_backward_with_different_batch_is_state_error(primed):
    net = primed.net
    y = np.zeros((BATCH - 1, SIZES[-1]), dtype=net.dtype)
    code = F64 if net.dtype == np.float64 else F32
    with pytest.raises(StateError) as info:
        lib.swiftmlp_backward(net._handle, code, _ptr(y), y.size, BATCH - 1, None)
    assert info.value.function == "swiftmlp_backward"
    assert info.value.message  # swiftmlp_last_error() text
    assert info.value.status_text == swiftmlp.status_string(5)
    primed.check_unchanged()


def test_raw_wrong_dtype_code_is_dtype_error(primed):
    net = primed.net
    wrong = F32 if net.dtype == np.float64 else F64
    x = np.zeros((1, SIZES[0]), dtype=np.float64 if wrong == F64 else np.float32)
    y = np.zeros((1, SIZES[-1]), dtype=x.dtype)
    with pytest.raises(DTypeError):
        lib.swiftmlp_forward(net._handle, wrong, _ptr(x), x.size, 1, _ptr(y), y.size)
    primed.check_unchanged()


def test_raw_unknown_dtype_code_is_invalid_argument(primed):
    net = primed.net
    x = np.zeros((1, SIZES[0]), dtype=np.float64)
    y = np.zeros((1, SIZES[-1]), dtype=np.float64)
    with pytest.raises(InvalidArgumentError):
        lib.swiftmlp_forward(net._handle, 3, _ptr(x), x.size, 1, _ptr(y), y.size)
    primed.check_unchanged()


def test_raw_buffer_sizes(primed):
    net = primed.net
    code = F64 if net.dtype == np.float64 else F32
    x = np.zeros((2, SIZES[0]), dtype=net.dtype)
    y = np.zeros((2, SIZES[-1]), dtype=net.dtype)
    with pytest.raises(BufferSizeError):  # x_len != batch * N0
        lib.swiftmlp_forward(net._handle, code, _ptr(x), x.size - 1, 2, _ptr(y), y.size)
    with pytest.raises(BufferSizeError):  # y_cap < batch * NL
        lib.swiftmlp_forward(net._handle, code, _ptr(x), x.size, 2, _ptr(y), y.size - 1)
    p = np.zeros(net.param_count, dtype=net.dtype)
    with pytest.raises(BufferSizeError):
        lib.swiftmlp_get_params(net._handle, code, _ptr(p), p.size - 1)
    with pytest.raises(BufferSizeError):
        lib.swiftmlp_set_params(net._handle, code, _ptr(p), p.size - 1)
    primed.check_unchanged()


def test_raw_null_pointers(primed):
    net = primed.net
    code = F64 if net.dtype == np.float64 else F32
    x = np.zeros((1, SIZES[0]), dtype=net.dtype)
    with pytest.raises(NullPointerError):
        lib.swiftmlp_forward(None, code, _ptr(x), x.size, 1, _ptr(x), x.size)
    with pytest.raises(NullPointerError):
        lib.swiftmlp_forward(net._handle, code, None, x.size, 1, _ptr(x), x.size)
    with pytest.raises(NullPointerError):
        lib.swiftmlp_step(None, 0.1)
    with pytest.raises(NullPointerError):
        lib.swiftmlp_create(None, 2, F64, 0, ctypes.byref(ctypes.c_void_p()))
    lib.swiftmlp_free(None)  # documented no-op
    primed.check_unchanged()


def test_raw_layer_index(primed):
    net = primed.net
    code = F64 if net.dtype == np.float64 else F32
    w = np.zeros(100, dtype=net.dtype)
    with pytest.raises(LayerIndexError):
        lib.swiftmlp_get_layer(net._handle, 2, code, _ptr(w), w.size, _ptr(w), w.size)
    with pytest.raises(LayerIndexError):
        lib.swiftmlp_get_layer(net._handle, 2 ** 64 - 1, code, _ptr(w), w.size, _ptr(w), w.size)
    primed.check_unchanged()


def test_status_strings_and_last_error():
    texts = {code: swiftmlp.status_string(code) for code in range(15)}
    assert texts[0] == "ok"
    assert len(set(texts.values())) == 15
    assert not any("unknown" in t for t in texts.values())
    assert swiftmlp.status_string(15) == "unknown status"
    assert swiftmlp.status_string(12345) == "unknown status"
    assert swiftmlp.status_string(-1) == "unknown status"
    assert swiftmlp.status_string(2 ** 40) == "unknown status"
    with pytest.raises(SwiftMLPError) as info:
        swiftmlp.MLP([3])
    assert info.value.message  # the library said which argument
    # After a successful status-returning call the message is "".
    with swiftmlp.MLP([1, 1]):
        assert lib.swiftmlp_last_error() == b""


def test_every_status_maps_to_its_class():
    from swiftmlp._errors import error_for_status
    classes = [None, NullPointerError, InvalidArgumentError, BufferSizeError, DTypeError,
               StateError, TooLargeError, swiftmlp.OutOfMemoryError, LayerIndexError,
               NonFiniteError, swiftmlp.CancelledError, swiftmlp.FormatError,
               swiftmlp.SwiftMLPIOError, swiftmlp.BusyError, swiftmlp.BadHandleError]
    for code in range(1, 15):
        err = error_for_status(code, "m")
        assert type(err) is classes[code] and err.status == code and err.message == "m"
        assert isinstance(err, SwiftMLPError)
        # The class's default status text is the library's.
        assert classes[code].status_text == swiftmlp.status_string(code), code
    assert isinstance(error_for_status(7), MemoryError)
    assert isinstance(error_for_status(8), IndexError)
    assert isinstance(error_for_status(9), ValueError)
    assert isinstance(error_for_status(11), ValueError)
    assert isinstance(error_for_status(12), OSError)
    assert isinstance(error_for_status(13), RuntimeError)
    io = error_for_status(12, "swiftmlp_load_file: cannot open", function="swiftmlp_load_file")
    assert io.errno is None and io.filename is None and "cannot open" in str(io)
    assert type(error_for_status(77)) is SwiftMLPError
