"""Bad input for every entry point of the 0.2 API raises the right exception,
and a failed call changes nothing: parameters, gradients, the cached batch
(and its slide quantities), the optimizer, its state and step count.

The "primed" network has an optimizer that has taken steps (so it has
state), then a forward + backward; check_unchanged() verifies all of it,
including that the optimizer STATE survived (the next step equals the next
step of an untouched twin)."""

import ctypes
import math

import numpy as np
import pytest

import swiftmlp
from swiftmlp import (BufferSizeError, CancelledError, DTypeError, InvalidArgumentError,
                      LayerIndexError, NonFiniteError, NullPointerError, StateError)
from swiftmlp import _lib

SIZES = [4, 6, 3]
BATCH = 5


class Primed:
    def __init__(self, dtype, loss="cross_entropy"):
        acts = ["tanh", "softmax"] if loss == "cross_entropy" else ["tanh", "sigmoid"]
        self.make = lambda: swiftmlp.MLP(SIZES, dtype=dtype, seed=3, activations=acts,
                                         loss=loss, init="glorot")
        self.net, self.twin = self.make(), self.make()
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(BATCH, SIZES[0])).astype(dtype)
        self.labels = rng.integers(0, SIZES[-1], size=BATCH)
        self.y = np.eye(SIZES[-1], dtype=dtype)[self.labels]
        for net in (self.net, self.twin):
            net.optimizer = swiftmlp.Adam(lr=0.01, weight_decay=0.001)
            for _ in range(3):
                net.train_step(self.x, self.y)
            self.out = net.forward(self.x)
            self.loss = net.backward(self.y)
        self.params = self.net.get_flat_params().tobytes()
        self.grads = self.net.get_flat_grads().tobytes()
        self.quantities = self._quantities()

    def _quantities(self):
        return [{k: None if v is None or k == "layer" else v.tobytes() for k, v in e.items()}
                for e in self.net.inspect()]

    def check_unchanged(self):
        net = self.net
        assert net.get_flat_params().tobytes() == self.params
        assert net.get_flat_grads().tobytes() == self.grads
        assert self._quantities() == self.quantities
        assert net.optimizer == swiftmlp.Adam(lr=0.01, weight_decay=0.001)
        assert net.optimizer_steps == 3
        # The cached batch survived: backward reproduces loss and gradients.
        assert net.backward(self.y) == self.loss
        assert net.get_flat_grads().tobytes() == self.grads
        # The optimizer state survived: the next step is the twin's next step.
        net.step()
        self.twin.step()
        assert net.get_flat_params().tobytes() == self.twin.get_flat_params().tobytes()

    def close(self):
        self.net.close()
        self.twin.close()


@pytest.fixture(params=["float64", "float32"])
def primed(request):
    p = Primed(request.param)
    yield p
    p.close()


# ---- configuration ------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"activations": "relux"}, {"activations": ["relu", "softmaxx"]}, {"activations": ""},
    {"loss": "hinge"}, {"loss": "mae"}, {"loss": ""}, {"init": "normal"}, {"init": "lecun"},
], ids=lambda k: f"{list(k)[0]}={list(k.values())[0]!r}")
def test_unknown_names(kwargs):
    with pytest.raises(InvalidArgumentError, match="unknown"):
        swiftmlp.MLP(SIZES, **kwargs)


@pytest.mark.parametrize("kwargs", [{"activations": 2}, {"activations": ["relu", 5]},
                                    {"loss": None}, {"init": 0}, {"leaky_slope": "0.1"}])
def test_names_of_the_wrong_type(kwargs):
    with pytest.raises(TypeError):
        swiftmlp.MLP(SIZES, **kwargs)


@pytest.mark.parametrize("sizes,activations,loss", [
    ([4, 6, 3], ["softmax", "softmax"], "cross_entropy"),   # softmax on a hidden layer
    ([4, 6, 3], "softmax", "mse"),                           # one name = every layer
    ([4, 6, 5, 3], ["relu", "softmax", "identity"], "mse"),
    ([4, 6, 3], ["relu", "relu"], "bce"),                    # BCE without a sigmoid output
    ([4, 6, 3], ["sigmoid", "softmax"], "bce"),
    ([4, 6, 3], "tanh", "binary_cross_entropy"),
    ([4, 6, 3], ["relu", "sigmoid"], "cross_entropy"),       # CE without a softmax output
    ([4, 6, 3], None, "cross_entropy"),                      # (sigmoid everywhere)
    ([4, 6, 3], [], "mse"),                                  # wrong number of activations
    ([4, 6, 3], ["relu", "relu", "relu"], "mse"),
    ([4, 6, 5, 3], ["relu", "sigmoid"], "mse"),
])
def test_invalid_configurations_are_rejected_by_the_library(sizes, activations, loss):
    with pytest.raises(InvalidArgumentError) as info:
        swiftmlp.MLP(sizes, activations=activations, loss=loss)
    assert info.value.function == "swiftmlp_create_with_config"
    assert info.value.message


@pytest.mark.parametrize("slope", [math.nan, math.inf, -math.inf])
def test_non_finite_leaky_slope(slope):
    with pytest.raises(InvalidArgumentError) as info:
        swiftmlp.MLP(SIZES, activations="leaky_relu", leaky_slope=slope)
    assert info.value.function == "swiftmlp_create_with_config"


def test_configuration_is_read_back():
    with swiftmlp.MLP([3, 5, 4, 2], activations=["leaky_relu", "Tanh", "softmax"],
                      loss="cross_entropy", init="xavier", leaky_slope=0.2, seed=99) as net:
        assert net.activations == ("leaky_relu", "tanh", "softmax")
        assert net.loss == "cross_entropy" and net.init == "glorot"
        assert net.leaky_slope == 0.2 and net.seed == 99
    with swiftmlp.MLP([3, 2], activations="relu", loss="mse", init="kaiming") as net:
        assert net.activations == ("relu",) and net.init == "he"
    with swiftmlp.MLP([3, 2, 1], loss="binary_cross_entropy") as net:
        assert net.activations == ("sigmoid", "sigmoid") and net.loss == "bce"
        assert net.init == "uniform" and net.leaky_slope == 0.01 and net.seed == 0


# ---- optimizers -------------------------------------------------------------------

BAD_OPTIMIZERS = [
    swiftmlp.SGD(lr=0.0), swiftmlp.SGD(lr=-0.1), swiftmlp.SGD(lr=math.nan),
    swiftmlp.SGD(lr=math.inf), swiftmlp.SGD(lr=0.1, momentum=-0.1),
    swiftmlp.SGD(lr=0.1, momentum=1.0), swiftmlp.SGD(lr=0.1, momentum=math.nan),
    swiftmlp.SGD(lr=0.1, nesterov=True), swiftmlp.SGD(lr=0.1, weight_decay=-1e-3),
    swiftmlp.SGD(lr=0.1, weight_decay=math.inf),
    swiftmlp.Adam(lr=0.0), swiftmlp.Adam(lr=-1e-3), swiftmlp.Adam(lr=math.inf),
    swiftmlp.Adam(betas=(0.0, 0.999)), swiftmlp.Adam(betas=(1.0, 0.999)),
    swiftmlp.Adam(betas=(0.9, 1.0)), swiftmlp.Adam(betas=(0.9, 0.0)),
    swiftmlp.Adam(betas=(math.nan, 0.999)), swiftmlp.Adam(betas=(0.9, 1.5)),
    swiftmlp.Adam(eps=0.0), swiftmlp.Adam(eps=-1e-8), swiftmlp.Adam(eps=math.inf),
    swiftmlp.Adam(weight_decay=-0.1), swiftmlp.Adam(weight_decay=math.nan),
    swiftmlp.AdamW(lr=0.0), swiftmlp.AdamW(betas=(0.9, -0.5)), swiftmlp.AdamW(eps=math.nan),
    swiftmlp.AdamW(weight_decay=-0.01), swiftmlp.AdamW(weight_decay=math.inf),
]


@pytest.mark.parametrize("opt", BAD_OPTIMIZERS, ids=repr)
def test_invalid_optimizer_hyperparameters_keep_the_previous_optimizer(primed, opt):
    with pytest.raises(InvalidArgumentError) as info:
        primed.net.optimizer = opt
    assert info.value.function == "swiftmlp_set_optimizer"
    primed.check_unchanged()


@pytest.mark.parametrize("opt", BAD_OPTIMIZERS[:3] + BAD_OPTIMIZERS[10:13], ids=repr)
def test_invalid_optimizer_in_fit_changes_nothing(primed, opt):
    with pytest.raises(InvalidArgumentError):
        primed.net.fit(primed.x, primed.labels, epochs=1, optimizer=opt)
    primed.check_unchanged()


@pytest.mark.parametrize("value,exc", [("rmsprop", InvalidArgumentError),
                                       ("", InvalidArgumentError),
                                       (0.1, TypeError), (None, TypeError),
                                       (object(), TypeError)])
def test_unknown_or_wrong_optimizer(primed, value, exc):
    with pytest.raises(exc):
        primed.net.optimizer = value
    if value is not None:
        with pytest.raises(exc):
            primed.net.fit(primed.x, primed.labels, epochs=1, optimizer=value)
    primed.check_unchanged()


@pytest.mark.parametrize("make", [lambda: swiftmlp.SGD(lr="x"), lambda: swiftmlp.SGD(lr=True),
                                  lambda: swiftmlp.SGD(lr=0.1, nesterov=1),
                                  lambda: swiftmlp.Adam(betas=0.9),
                                  lambda: swiftmlp.Adam(eps=None)])
def test_optimizer_arguments_of_the_wrong_type(make):
    with pytest.raises(TypeError):
        make()


@pytest.mark.parametrize("betas", [(0.9,), (0.9, 0.99, 0.999)])
def test_betas_must_be_a_pair(betas):
    with pytest.raises(InvalidArgumentError):
        swiftmlp.Adam(betas=betas)


def test_optimizer_step_and_reset_without_an_optimizer():
    with swiftmlp.MLP(SIZES, seed=1) as net:
        net.forward(np.zeros((1, 4)))
        net.backward(np.zeros((1, 3)))
        params = net.get_flat_params().tobytes()
        assert net.optimizer is None and net.optimizer_steps == 0
        with pytest.raises(StateError, match="no optimizer is set") as info:
            net.step()
        assert info.value.function == "swiftmlp_optimizer_step"
        with pytest.raises(StateError):
            net.reset_optimizer()
        with pytest.raises(StateError, match="needs an optimizer") as info:
            net.fit(np.zeros((2, 4)), np.zeros((2, 3)), epochs=1)
        assert info.value.function == "swiftmlp_fit"
        assert net.get_flat_params().tobytes() == params
        net.backward(np.zeros((1, 3)))  # the cache survived


def test_optimizer_step_before_backward():
    with swiftmlp.MLP(SIZES, seed=1) as net:
        net.optimizer = "sgd"
        with pytest.raises(StateError):
            net.step()
        net.forward(np.zeros((1, 4)))
        with pytest.raises(StateError):
            net.step()
        assert net.optimizer_steps == 0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("how", ["step(lr)", "step()", "train_step"])
def test_a_step_that_would_overflow_is_refused(dtype, how):
    """NonFiniteError, and parameters, gradients and optimizer state unchanged."""
    with swiftmlp.MLP([1, 1], dtype=dtype, activations="identity") as net:
        net.set_flat_params([0.0, 0.0])
        lr = 1e308 if dtype == "float64" else 1e300  # float32: lr itself overflows
        net.optimizer = swiftmlp.SGD(lr=lr, momentum=0.5)
        net.forward([[1.0]])
        net.backward([[-1.0]])  # dL/dW = dL/db = 2 (g - y) = 2: the step gives -inf
        grads = net.get_flat_grads().tobytes()
        with pytest.raises(NonFiniteError) as info:
            if how == "step(lr)":
                net.step(lr=lr)
            elif how == "step()":
                net.step()
            else:
                net.train_step([[1.0]], [[-1.0]])
        # train_step(x, y) without lr is one swiftmlp_train_step call.
        assert info.value.function == {"step(lr)": "swiftmlp_step",
                                       "step()": "swiftmlp_optimizer_step",
                                       "train_step": "swiftmlp_train_step"}[how]
        np.testing.assert_array_equal(net.get_flat_params(), [0.0, 0.0])
        assert net.get_flat_grads().tobytes() == grads
        assert net.optimizer_steps == 0
        # ... and the momentum buffer is still zero: a sane step is the plain one.
        net.optimizer = swiftmlp.SGD(lr=0.5, momentum=0.5)
        net.forward([[1.0]])
        net.backward([[-1.0]])
        net.step()
        np.testing.assert_array_equal(net.get_flat_params(), [-1.0, -1.0])


# ---- class-index targets ------------------------------------------------------------

@pytest.mark.parametrize("labels", [[0, 1, 2, 3, 0], [-1, 0, 0, 0, 0], [0, 0, 0, 0, 2 ** 40]])
def test_class_indices_out_of_range_in_backward(primed, labels):
    with pytest.raises(InvalidArgumentError) as info:
        primed.net.backward(np.array(labels))
    assert info.value.function == "swiftmlp_backward_labels"  # the library's check
    primed.check_unchanged()


def test_class_index_beyond_int64(primed):
    with pytest.raises(InvalidArgumentError):
        primed.net.backward(np.array([0, 0, 0, 0, 2 ** 63], dtype=np.uint64))
    primed.check_unchanged()


@pytest.mark.parametrize("labels", [[0, 1, 2, 3, 0], [-1, 0, 0, 0, 0]])
def test_class_indices_out_of_range_elsewhere(primed, labels):
    x, labels = primed.x, np.array(labels)
    with pytest.raises(InvalidArgumentError, match="out of range"):
        primed.net.fit(x, labels, epochs=1)
    with pytest.raises(InvalidArgumentError, match="out of range"):
        primed.net.fit(x, primed.labels, epochs=1, validation_data=(x, labels))
    with pytest.raises(InvalidArgumentError, match="out of range"):
        primed.net.evaluate(x, labels)
    with pytest.raises(InvalidArgumentError, match="out of range"):
        primed.net.gradient_check(x, labels)
    primed.check_unchanged()


@pytest.mark.parametrize("labels", [np.zeros(BATCH), np.zeros(BATCH, dtype=bool),
                                    np.array(["a"] * BATCH)], ids=["float", "bool", "str"])
def test_class_indices_must_be_integers(primed, labels):
    with pytest.raises(DTypeError):
        primed.net.backward(labels)
    with pytest.raises(DTypeError):
        primed.net.fit(primed.x, labels, epochs=1)
    primed.check_unchanged()


def test_wrong_number_of_class_indices(primed):
    with pytest.raises(StateError):
        primed.net.backward(primed.labels[:-1])
    with pytest.raises(BufferSizeError):
        primed.net.fit(primed.x, primed.labels[:-1], epochs=1)
    primed.check_unchanged()


def test_class_indices_need_cross_entropy():
    p = Primed("float64", loss="mse")
    try:
        with pytest.raises(InvalidArgumentError):
            p.net.backward(p.labels)
        with pytest.raises(InvalidArgumentError):
            p.net.fit(p.x, p.labels, epochs=1)
        p.check_unchanged()
    finally:
        p.close()


def test_raw_backward_labels_on_a_non_cross_entropy_network():
    p = Primed("float64", loss="mse")
    try:
        labels = np.zeros(BATCH, dtype=np.int64)
        with pytest.raises(InvalidArgumentError) as info:
            _lib.lib.swiftmlp_backward_labels(p.net._handle, labels.ctypes.data_as(
                ctypes.POINTER(ctypes.c_int64)), BATCH, BATCH, None)
        assert "cross" in info.value.message.lower()
        p.check_unchanged()
    finally:
        p.close()


# ---- fit ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["empty", "y_rows", "y_width", "x_width", "x_1d",
                                  "val_rows", "val_width", "val_not_pair", "val_empty"])
def test_fit_shapes(primed, case):
    x, y = primed.x, primed.y
    kwargs = {}
    exc = BufferSizeError
    if case == "empty":
        x, y, exc = x[:0], y[:0], InvalidArgumentError
    elif case == "y_rows":
        y = y[:-1]
    elif case == "y_width":
        y = np.zeros((BATCH, SIZES[-1] + 1))
    elif case == "x_width":
        x = np.zeros((BATCH, SIZES[0] - 1))
    elif case == "x_1d":
        x, exc = x[0], InvalidArgumentError
    elif case == "val_rows":
        kwargs["validation_data"] = (x, y[:-2])
    elif case == "val_width":
        kwargs["validation_data"] = (x[:, :-1], y)
    elif case == "val_not_pair":
        kwargs["validation_data"], exc = (x, y, y), TypeError
    elif case == "val_empty":
        kwargs["validation_data"], exc = (x[:0], y[:0]), InvalidArgumentError
    with pytest.raises(exc):
        primed.net.fit(x, y, epochs=1, **kwargs)
    with pytest.raises(exc):  # also when a new optimizer is passed: it is not applied
        primed.net.fit(x, y, epochs=1, optimizer=swiftmlp.SGD(lr=0.1), **kwargs)
    primed.check_unchanged()


@pytest.mark.parametrize("where", ["x", "y", "val_x", "val_y"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_fit_non_finite_data(primed, where, bad):
    x, y = primed.x.copy(), primed.y.copy()
    xv, yv = x.copy(), y.copy()
    {"x": x, "y": y, "val_x": xv, "val_y": yv}[where][2, 1] = bad
    for optimizer in (None, swiftmlp.SGD(lr=0.1)):
        with pytest.raises(NonFiniteError) as info:
            primed.net.fit(x, y, epochs=1, validation_data=(xv, yv), optimizer=optimizer)
        # One pass over the data, the library's, also with a new optimizer
        # (which travels in the options and is set only after the check).
        assert info.value.function == "swiftmlp_fit"
    primed.check_unchanged()


def test_fit_non_finite_data_is_also_refused_by_the_library(primed):
    """The raw swiftmlp_fit checks the data itself (nothing changes)."""
    net = primed.net
    x = primed.x.copy()
    x[0, 0] = np.nan
    y = primed.y
    opts = _lib.FitOptions()
    _lib.lib.swiftmlp_fit_options_default(ctypes.byref(opts))
    with pytest.raises(NonFiniteError) as info:
        _lib.lib.swiftmlp_fit(net._handle, net._code, x.ctypes.data, x.size, y.ctypes.data,
                              y.size, BATCH, ctypes.byref(opts), None)
    assert info.value.function == "swiftmlp_fit"
    primed.check_unchanged()


@pytest.mark.parametrize("kwargs,exc", [
    ({"epochs": 0}, InvalidArgumentError), ({"epochs": -1}, InvalidArgumentError),
    ({"epochs": 1.5}, TypeError), ({"epochs": True}, TypeError),
    ({"epochs": 1, "batch_size": 0}, InvalidArgumentError),
    ({"epochs": 1, "batch_size": -3}, InvalidArgumentError),
    ({"epochs": 1, "batch_size": "32"}, TypeError),
    ({"epochs": 1, "early_stopping": 0}, InvalidArgumentError),
    ({"epochs": 1, "early_stopping": -2}, InvalidArgumentError),
    ({"epochs": 1, "early_stopping": 2.5}, TypeError),
    ({"epochs": 1, "early_stopping": {"patience": 2, "min_delta": -0.1}}, InvalidArgumentError),
    ({"epochs": 1, "early_stopping": {"patience": 2, "min_delta": math.nan}},
     InvalidArgumentError),
    ({"epochs": 1, "early_stopping": {"patience": 2, "delta": 0.1}}, TypeError),
    ({"epochs": 1, "early_stopping": {"min_delta": 0.1}}, TypeError),
    ({"epochs": 1, "shuffle": "yes"}, TypeError),
    ({"epochs": 1, "callback": 5}, TypeError),
])
def test_fit_bad_options(primed, kwargs, exc):
    with pytest.raises(exc):
        primed.net.fit(primed.x, primed.labels, optimizer=swiftmlp.SGD(lr=0.5), **kwargs)
    primed.check_unchanged()


def test_raw_fit_struct_size_and_validation_checks(primed):
    net, x, y = primed.net, primed.x, primed.y
    opts = _lib.FitOptions()
    _lib.lib.swiftmlp_fit_options_default(ctypes.byref(opts))
    assert (opts.epochs, opts.batch_size, opts.shuffle, opts.restore_best,
            opts.report_batches, opts.patience) == (1, 32, 1, 1, 1, 0)
    assert opts.struct_size == ctypes.sizeof(_lib.FitOptions)

    def fit(o):
        _lib.lib.swiftmlp_fit(net._handle, net._code, x.ctypes.data, x.size, y.ctypes.data,
                              y.size, BATCH, ctypes.byref(o), None)

    # Neither this header's size nor 1.0's (8 bytes less: no `optimizer`).
    for wrong in (opts.struct_size - 16, opts.struct_size + 8):
        bad = _lib.FitOptions.from_buffer_copy(opts)
        bad.struct_size = wrong
        with pytest.raises(InvalidArgumentError):
            fit(bad)
    bad = _lib.FitOptions.from_buffer_copy(opts)
    bad.val_x, bad.val_x_len, bad.val_rows = x.ctypes.data, x.size, BATCH  # val_y missing
    with pytest.raises(NullPointerError):
        fit(bad)
    bad.val_y, bad.val_y_len, bad.val_rows = y.ctypes.data, y.size, 0
    with pytest.raises(InvalidArgumentError):
        fit(bad)
    bad = _lib.FitOptions.from_buffer_copy(opts)
    bad.min_delta = -1.0
    with pytest.raises(InvalidArgumentError):
        fit(bad)
    with pytest.raises(BufferSizeError):
        _lib.lib.swiftmlp_fit(net._handle, net._code, x.ctypes.data, x.size - 1,
                              y.ctypes.data, y.size, BATCH, ctypes.byref(opts), None)
    primed.check_unchanged()


def test_raw_fit_cancelled_by_its_callback_reports_cancelled(primed):
    net, x, y = primed.net, primed.x, primed.y
    seen = []

    def on_progress(p, _user):
        seen.append((p.contents.epoch, p.contents.batch))
        return 1

    cb = _lib.PROGRESS_FN(on_progress)
    opts = _lib.FitOptions()
    _lib.lib.swiftmlp_fit_options_default(ctypes.byref(opts))
    opts.epochs, opts.batch_size, opts.progress = 3, 2, cb
    result = _lib.FitResult()
    with pytest.raises(CancelledError) as info:
        _lib.lib.swiftmlp_fit(net._handle, net._code, x.ctypes.data, x.size, y.ctypes.data,
                              y.size, BATCH, ctypes.byref(opts), ctypes.byref(result))
    assert info.value.status == 10 and info.value.function == "swiftmlp_fit"
    assert seen == [(0, 0)]
    assert result.cancelled == 1 and result.epochs_run == 0
    assert net.optimizer_steps == 4  # the one step before the callback


# ---- predict / evaluate -------------------------------------------------------------------

@pytest.mark.parametrize("what", ["predict", "evaluate"])
def test_predict_and_evaluate_bad_input(primed, what):
    net, x = primed.net, primed.x

    def call(xx, yy=None):
        return net.predict(xx) if what == "predict" else net.evaluate(
            xx, primed.y[:len(xx)] if yy is None else yy)

    with pytest.raises(InvalidArgumentError):
        call(x[:0])
    with pytest.raises(BufferSizeError):
        call(np.zeros((2, SIZES[0] + 1)))
    with pytest.raises(InvalidArgumentError):
        call(x[0])
    with pytest.raises(DTypeError):
        call(np.zeros((2, SIZES[0]), dtype=complex))
    bad = x.copy()
    bad[1, 1] = np.inf
    with pytest.raises(NonFiniteError):
        call(bad)
    if what == "evaluate":
        with pytest.raises(BufferSizeError):
            call(x, primed.y[:-1])
        y = primed.y.copy()
        y[0, 0] = np.nan
        with pytest.raises(NonFiniteError) as info:
            call(x, y)
        assert info.value.function == "swiftmlp_evaluate"
    primed.check_unchanged()


# ---- the slides' quantities ------------------------------------------------------------

def test_inspect_before_forward_and_before_backward():
    with swiftmlp.MLP(SIZES, seed=0) as net:
        with pytest.raises(StateError):
            net.inspect()
        with pytest.raises(StateError):
            net.quantity("g", 0)
        x = np.ones((2, SIZES[0]))
        net.forward(x)
        q = net.inspect()
        assert len(q) == 3 and q[0]["g"].shape == (2, 4)
        assert all(e["dL_df"] is None and e["dL_dg"] is None for e in q)
        with pytest.raises(StateError):
            net.quantity("dL_df", 1)
        net.backward(np.zeros((2, 3)))
        assert all(e["dL_df"] is not None for e in net.inspect()[1:])
        net.forward(x[:1])  # a new forward: its backward has not run yet
        assert net.inspect()[2]["dL_dg"] is None


def test_quantity_bad_arguments(primed):
    net = primed.net
    with pytest.raises(InvalidArgumentError):
        net.quantity("dL_dx", 1)
    with pytest.raises(LayerIndexError):
        net.quantity("g", 3)
    with pytest.raises(LayerIndexError):
        net.quantity("f", -1)
    with pytest.raises(LayerIndexError) as info:
        net.quantity("f", 0)  # layer 0 is the input: only g
    assert info.value.function == "swiftmlp_get_quantity"
    with pytest.raises(TypeError):
        net.quantity("g", 1.0)
    primed.check_unchanged()


def test_raw_get_quantity_checks(primed):
    net = primed.net
    out = np.zeros(BATCH * 6, dtype=net.dtype)
    get = _lib.lib.swiftmlp_get_quantity
    with pytest.raises(InvalidArgumentError):
        get(net._handle, 4, 1, net._code, out.ctypes.data, out.size)  # unknown quantity
    with pytest.raises(BufferSizeError):
        get(net._handle, _lib.Q_G, 1, net._code, out.ctypes.data, out.size - 1)
    other = _lib.FLOAT32 if net._code == _lib.FLOAT64 else _lib.FLOAT64
    with pytest.raises(swiftmlp.DTypeError):
        get(net._handle, _lib.Q_G, 1, other, out.ctypes.data, out.size)
    with pytest.raises(NullPointerError):
        get(net._handle, _lib.Q_G, 1, net._code, None, out.size)
    primed.check_unchanged()


# ---- gradient check -----------------------------------------------------------------------

@pytest.mark.parametrize("h,exc", [(0.0, InvalidArgumentError), (-1e-3, InvalidArgumentError),
                                   (math.nan, InvalidArgumentError),
                                   (math.inf, InvalidArgumentError),
                                   ("1e-3", TypeError), (None, TypeError)])
def test_gradient_check_bad_h(primed, h, exc):
    with pytest.raises(exc) as info:
        primed.net.gradient_check(primed.x, primed.labels, h=h)
    if exc is InvalidArgumentError:
        assert info.value.function == "swiftmlp_gradient_check"
    primed.check_unchanged()


def test_gradient_check_bad_data(primed):
    net, x, y = primed.net, primed.x, primed.y
    with pytest.raises(InvalidArgumentError):
        net.gradient_check(x[:0], y[:0])
    with pytest.raises(BufferSizeError):
        net.gradient_check(x, y[:-1])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NonFiniteError):
        net.gradient_check(bad, y)
    primed.check_unchanged()


# ---- raw ABI: configs and optimizers --------------------------------------------------

def test_raw_config_checks():
    lib = _lib.lib
    sizes = (ctypes.c_size_t * 3)(4, 6, 3)

    def create(**fields):
        cfg = _lib.Config()
        lib.swiftmlp_config_default(ctypes.byref(cfg))
        cfg.sizes, cfg.n_sizes = sizes, 3
        for k, v in fields.items():
            setattr(cfg, k, v)
        handle = ctypes.c_void_p()
        try:
            lib.swiftmlp_create_with_config(ctypes.byref(cfg), ctypes.byref(handle))
        finally:
            lib.swiftmlp_free(handle)
        return handle

    cfg = _lib.Config()
    lib.swiftmlp_config_default(ctypes.byref(cfg))
    assert (cfg.struct_size, cfg.dtype, cfg.seed, cfg.n_activations, cfg.leaky_slope,
            cfg.loss, cfg.init) == (ctypes.sizeof(_lib.Config), _lib.FLOAT64, 0, 0, 0.01,
                                    _lib.LOSS_MSE, _lib.INIT_UNIFORM)
    assert not cfg.sizes and not cfg.activations
    create()  # fine
    with pytest.raises(InvalidArgumentError):
        create(struct_size=ctypes.sizeof(_lib.Config) + 8)
    for bad in ({"loss": 3}, {"init": 3}, {"loss": -1}, {"dtype": 3}):
        with pytest.raises(InvalidArgumentError):
            create(**bad)
    acts = (ctypes.c_int * 2)(_lib.RELU, 6)  # 6: no such activation
    with pytest.raises(InvalidArgumentError):
        create(activations=acts, n_activations=2)
    with pytest.raises(InvalidArgumentError):  # activations NULL is fine only with any count
        create(activations=(ctypes.c_int * 1)(_lib.RELU), n_activations=0)
    with pytest.raises(NullPointerError):
        lib.swiftmlp_create_with_config(None, ctypes.byref(ctypes.c_void_p()))


def test_raw_optimizer_checks():
    lib = _lib.lib
    opt = _lib.Optimizer()
    with pytest.raises(InvalidArgumentError):
        lib.swiftmlp_optimizer_default(3, ctypes.byref(opt))
    with pytest.raises(NullPointerError):
        lib.swiftmlp_optimizer_default(_lib.OPT_SGD, None)
    lib.swiftmlp_optimizer_default(_lib.OPT_ADAMW, ctypes.byref(opt))
    assert (opt.kind, opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weight_decay) == (
        _lib.OPT_ADAMW, 1e-3, 0.9, 0.999, 1e-8, 0.01)
    with swiftmlp.MLP(SIZES) as net:
        net.optimizer = swiftmlp.SGD(lr=0.3)
        bad = _lib.Optimizer.from_buffer_copy(opt)
        bad.struct_size = 8
        with pytest.raises(InvalidArgumentError):
            lib.swiftmlp_set_optimizer(net._handle, ctypes.byref(bad))
        bad = _lib.Optimizer.from_buffer_copy(opt)
        bad.kind = 7
        with pytest.raises(InvalidArgumentError):
            lib.swiftmlp_set_optimizer(net._handle, ctypes.byref(bad))
        with pytest.raises(NullPointerError):
            lib.swiftmlp_set_optimizer(net._handle, None)
        assert net.optimizer == swiftmlp.SGD(lr=0.3)
