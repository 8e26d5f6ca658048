"""The :class:`MLP` class: a NumPy-friendly wrapper around one swiftmlp_net."""

from __future__ import annotations

import ctypes
import operator
import os
import signal
import threading
from ctypes import POINTER, byref, c_double, c_int, c_int64, c_size_t, c_uint64, c_void_p

import numpy as np

from . import _lib, _optim
from ._errors import (BufferSizeError, CancelledError, DTypeError, InvalidArgumentError,
                      LayerIndexError, NonFiniteError, StateError, SwiftMLPError,
                      SwiftMLPIOError, TooLargeError)
from ._lib import lib, raise_error
from ._optim import EarlyStopping, GradientCheck, History

__all__ = ["MLP", "ACTIVATIONS", "LOSSES", "INITS", "load", "from_bytes"]

_DTYPE_CODES = {np.dtype(np.float32): _lib.FLOAT32, np.dtype(np.float64): _lib.FLOAT64}
_CODE_DTYPES = {code: dt for dt, code in _DTYPE_CODES.items()}

#: Activation names (and their swiftmlp_activation values).
ACTIVATIONS = {"sigmoid": _lib.SIGMOID, "tanh": _lib.TANH, "relu": _lib.RELU,
               "leaky_relu": _lib.LEAKY_RELU, "identity": _lib.IDENTITY,
               "softmax": _lib.SOFTMAX}
#: Loss names, aliases included (and their swiftmlp_loss values).
LOSSES = {"mse": _lib.LOSS_MSE, "bce": _lib.LOSS_BCE,
          "binary_cross_entropy": _lib.LOSS_BCE, "cross_entropy": _lib.LOSS_CROSS_ENTROPY}
#: Initialisation names, aliases included (and their swiftmlp_init values).
INITS = {"uniform": _lib.INIT_UNIFORM, "glorot": _lib.INIT_GLOROT, "xavier": _lib.INIT_GLOROT,
         "he": _lib.INIT_HE, "kaiming": _lib.INIT_HE}
# The canonical name of each value (what the read-back properties return).
_ACTIVATION_NAMES = {v: k for k, v in ACTIVATIONS.items()}
_LOSS_NAMES = {_lib.LOSS_MSE: "mse", _lib.LOSS_BCE: "bce",
               _lib.LOSS_CROSS_ENTROPY: "cross_entropy"}
_INIT_NAMES = {_lib.INIT_UNIFORM: "uniform", _lib.INIT_GLOROT: "glorot", _lib.INIT_HE: "he"}

# The slides' quantities: inspect() key -> swiftmlp_quantity.
_QUANTITIES = {"f": _lib.Q_F, "g": _lib.Q_G, "dL_df": _lib.Q_DL_DF, "dL_dg": _lib.Q_DL_DG}


class _UseOptimizer:
    """Default of step(lr=...): apply the configured optimizer."""

    def __repr__(self) -> str:
        return "<net.optimizer>"


_USE_OPTIMIZER = _UseOptimizer()

# The hot paths call these without errcheck and test the status inline
# (see _lib.unchecked).
_forward = _lib.unchecked("swiftmlp_forward")
_backward = _lib.unchecked("swiftmlp_backward")
_train_step = _lib.unchecked("swiftmlp_train_step")

_ndarray = np.ndarray
_from_address = c_void_p.from_address
# flags.num bits of NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED
_C_ALIGNED = 0x0001 | 0x0100


def _data_offset():
    """Where an ndarray object holds its data pointer, for _address().

    NumPy's C API lays an array object out as PyArrayObject_fields: the
    PyObject header, then ``char *data`` (what PyArray_DATA() reads).  So on
    CPython the data pointer of array ``a`` is the pointer stored at
    ``id(a) + sizeof(PyObject)``; reading it with ctypes costs about a tenth
    of ``a.__array_interface__['data'][0]`` and a third of
    ``byref(c_char.from_buffer(a))``, and works for read-only arrays too.
    The offset is used only after it gave exactly the address NumPy reports
    (__array_interface__) for a set of probe arrays (owning, offset views,
    read-only, float32); on another interpreter or layout it is None and
    _address() uses ``a.ctypes.data``."""
    import sys
    if sys.implementation.name != "cpython":
        return None
    offset = object.__basicsize__  # sizeof(PyObject): the header before `data`
    base = np.arange(24, dtype=np.float64)
    read_only = np.frombuffer(bytes(64), dtype=np.float64)[2:]
    probes = (base, base[5:], base.reshape(4, 6)[1:, :], read_only,
              np.empty((3, 5), dtype=np.float32), np.empty((0, 2)))
    misaligned = np.frombuffer(bytes(80), dtype=np.uint8)[1:73].view(np.float64)
    try:
        for a in probes:
            if _from_address(id(a) + offset).value != a.__array_interface__["data"][0]:
                return None
        # The fast paths test C-contiguity and alignment as flags.num bits.
        for a in probes + (misaligned, base.reshape(4, 6).T, base[::2]):
            flags = a.flags
            if ((flags.num & _C_ALIGNED == _C_ALIGNED)
                    != (flags.c_contiguous and flags.aligned)):
                return None
    except Exception:  # pragma: no cover - defensive
        return None
    return offset


#: See _data_offset(); None: the fast paths are off and _address() uses a.ctypes.data.
_DATA_OFFSET = _data_offset()


def _address(a: np.ndarray) -> int:
    """The address of an ndarray's data (an int, for a c_void_p parameter).
    The caller keeps `a` referenced during the call it passes the address
    to, which keeps the data alive: NumPy refuses resize() (with its default
    refcheck) of an array referenced from elsewhere."""
    if _DATA_OFFSET is not None:
        return _from_address(id(a) + _DATA_OFFSET).value
    return a.ctypes.data  # pragma: no cover - not CPython or an unknown layout


_empty = np.empty
_NO_FAST_ARGS = (None,) * 6  # matches no shape: the fast paths are not taken


def _fast_args(shapes: tuple, sizes: tuple, batch: int) -> tuple:
    """The cache of one fast path (train_step, forward, backward): the
    shape(s) the general path has just validated, the call's size_t
    arguments as c_size_t objects, and the batch size.

    The fast path of a method is taken when its arguments are ndarrays
    (exactly, not subclasses) of the network's dtype object, C-contiguous
    and aligned, with exactly these shapes: then every check of the general
    path would pass and every conversion be a no-op, so the call goes
    straight to the library with these prepared arguments (a c_size_t passed
    for a c_size_t parameter costs ctypes much less than an int).  Anything
    else takes the general path, which validates, converts and raises as
    documented, and refreshes this cache when its shapes change.  The tuple
    is replaced as a whole, never modified, so a thread reading it sees one
    consistent entry."""
    if _DATA_OFFSET is None:  # pragma: no cover - no fast data pointers
        return _NO_FAST_ARGS
    return (*shapes, *(c_size_t(n) for n in sizes), batch)


def _lookup(kind: str, table: dict, value) -> int:
    if not isinstance(value, str):
        raise TypeError(f"{kind} must be a name (str), one of {', '.join(table)}; "
                        f"got {type(value).__name__}")
    code = table.get(value.strip().lower())
    if code is None:
        raise_error(InvalidArgumentError,
                    f"unknown {kind} {value!r}: use one of {', '.join(repr(k) for k in table)}")
    return code


def _network_dtype(dtype) -> np.dtype:
    """Normalise the `dtype` argument of MLP(): float32 or float64, native order."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise_error(InvalidArgumentError,
                    f"unknown dtype {dtype!r}: use 'float32' or 'float64' ({exc})")
    if dt.kind == "f" and dt.itemsize in (4, 8):
        return np.dtype(np.float32 if dt.itemsize == 4 else np.float64)
    raise_error(InvalidArgumentError,
                f"unsupported dtype {dtype!r} ({dt}): a network is float32 or float64")


def _asarray(value, what: str) -> np.ndarray:
    """np.asarray(value), with what NumPy cannot read as one block of numbers
    (ragged nested lists) and masked arrays with masked entries (whose hidden
    values np.asarray would expose) rejected as InvalidArgumentError."""
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):
        raise_error(InvalidArgumentError,
                    f"{what}: a masked array with masked entries cannot be used (the "
                    f"values under the mask would be read); fill or drop them first")
    try:
        return np.asarray(value)
    except ValueError as exc:  # "inhomogeneous shape"
        raise_error(InvalidArgumentError,
                    f"{what}: cannot be read as an array of numbers ({exc})")


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 2 ** 62


#: The most bytes one array the wrapper makes (a copy, a conversion, an
#: output) may take: the machine's physical memory.  Larger ones could only
#: fail (MemoryError) or thrash; they raise TooLargeError first.
_MEMORY_LIMIT = _physical_memory()


def _check_copy(shape: tuple, dtype, what: str) -> None:
    """TooLargeError, with the numbers, if an array of `shape` and `dtype`
    that the wrapper is about to make would not fit in memory."""
    n = 1
    for d in shape:
        n *= int(d)
    nbytes = n * np.dtype(dtype).itemsize
    if nbytes > _MEMORY_LIMIT:
        raise_error(TooLargeError,
                    f"{what}: an array of shape {tuple(int(d) for d in shape)} and dtype "
                    f"{np.dtype(dtype)} needs {nbytes} bytes, more than this machine's "
                    f"{_MEMORY_LIMIT} bytes of memory")


def _count(value, name: str, minimum: int = 1) -> int:
    """An integer argument counted in size_t (epochs, batch_size)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, not a bool")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}") from None
    if v < minimum:
        raise_error(InvalidArgumentError, f"{name} must be >= {minimum}, got {v}")
    if v > _lib.SIZE_MAX:
        raise_error(InvalidArgumentError, f"{name} = {v} does not fit in size_t")
    return v


class _LayerArrays:
    """The sequence behind ``net.weights``, ``net.biases``, ``net.weight_grads``
    and ``net.bias_grads``: indexable by weight-layer index (negative indices
    count from the end), with ``len()`` and iteration.  Every read returns a new
    READ-ONLY copy; writing (only for weights and biases) copies into the
    network.
    """

    __slots__ = ("_net", "_kind")

    def __init__(self, net: "MLP", kind: str):
        self._net = net
        self._kind = kind  # "weights", "biases", "weight_grads", "bias_grads"

    def __len__(self) -> int:
        return self._net.num_layers

    def _index(self, i) -> int:
        try:
            i = operator.index(i)
        except TypeError:
            raise TypeError(f"layer indices must be integers, not {type(i).__name__}") from None
        n = self._net.num_layers
        if not -n <= i < n:
            raise_error(LayerIndexError,
                        f"{self._kind}[{i}]: layer index out of range; the network has "
                        f"{n} weight layer{'s' if n != 1 else ''} (valid: {-n}..{n - 1})")
        return i % n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        layer = self._index(i)
        grads = self._kind in ("weight_grads", "bias_grads")
        w, b = self._net._get_layer(layer, grads=grads)
        return w if self._kind in ("weights", "weight_grads") else b

    def __setitem__(self, i, value) -> None:
        if self._kind not in ("weights", "biases"):
            raise TypeError(f"net.{self._kind} is read-only: gradients are computed by "
                            f"backward(), not assigned")
        if isinstance(i, slice):
            raise TypeError(f"net.{self._kind}: assign one layer at a time")
        layer = self._index(i)
        if self._kind == "weights":
            self._net._set_layer(layer, w=value)
        else:
            self._net._set_layer(layer, b=value)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return f"<{self._kind} of {self._net!r}: {len(self)} layers>"


class MLP:
    """A multilayer perceptron computed by libswiftmlp (Swift).

    ``MLP(sizes, dtype="float64", seed=0, *, activations=None, loss="mse",
    init="uniform", leaky_slope=0.01)`` creates a network with layer sizes
    ``[N0, N1, ..., NL]`` (at least two entries; L = len(sizes) - 1 weight
    layers).  The defaults are the lecture slides' network: sigmoid on every
    layer, MSE loss, PyTorch-style uniform initialisation.

    * ``dtype``: ``"float32"``/``np.float32`` or ``"float64"``/``np.float64``.
    * ``seed``: an int in 0..2**64-1; the same seed gives bit-identical
      initial parameters (and fit() shuffles) on every run and platform, and
      the same bytes as the C and Swift APIs.  ``seed=None`` draws a random seed.
    * ``activations``: one name for every layer or a list of L names, from
      "sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"
      (softmax only on the output layer).  None = sigmoid everywhere.
    * ``loss``: "mse" (mean over batch and outputs), "bce" (alias
      "binary_cross_entropy"; needs a sigmoid output, computed from the
      logits), "cross_entropy" (needs a softmax output; targets are one-hot or
      probability rows, or a 1-D integer array of class indices).
    * ``init``: "uniform" (W, b ~ U(-1/sqrt(N_in), 1/sqrt(N_in))),
      "glorot" (alias "xavier"), "he" (alias "kaiming"); the last two set b = 0.
    * ``leaky_slope``: the slope of "leaky_relu" for f <= 0.

    The configuration is validated by the library (InvalidArgumentError) and
    readable back: ``net.activations``, ``net.loss``, ``net.init``,
    ``net.leaky_slope``, ``net.seed``.

    Math (include/swiftmlp.h): ``f_l = g_{l-1} @ W_l.T + b_l``,
    ``g_l = act_l(f_l)``, the loss of ``g_L``; ``step(lr)`` is the slides'
    plain SGD ``W -= lr * dL/dW``; ``step()`` applies ``net.optimizer``.

    Input conversion policy (x, targets, parameter writes):

    * Arrays must be 2-D ``(batch, features)``.  A 1-D array is NOT taken as
      a single sample (it would be ambiguous when N0 == 1); use
      ``x[None, :]`` or ``x.reshape(1, -1)``.  The one exception: with
      loss="cross_entropy", a 1-D INTEGER array of targets is read as class
      indices (0 <= index < NL).
    * Lists, ints, bools and float16/float32 are converted to the network's
      dtype.  For a float32 network float64 input is ACCEPTED and rounded to
      float32 (NumPy's usual "same_kind" casting; the values are rounded to
      the precision the network computes in anyway).  A finite value that
      overflows float32 raises NonFiniteError.  Complex, object and string
      arrays raise DTypeError.
    * Fortran-ordered, strided, misaligned and non-native-byte-order arrays
      are copied to a C-contiguous array first; the caller's array is never
      modified.  Ragged nested lists and masked arrays with masked entries
      raise InvalidArgumentError.
    * An ndarray that is already C-contiguous, aligned, of the network's
      dtype in native byte order and of the right dimensions (read-only and
      memory-mapped ones included) is passed to the library as it is: no
      copy, no conversion (the library only reads it).  This is the fast
      path of forward(), backward() and train_step(); once a call has
      checked a shape, the next calls with such arrays of the same shape
      (an exact np.ndarray, not a subclass) go to the library with
      arguments prepared by that first call.

    Every array read from the network (``weights[i]``, ``biases[i]``,
    ``weight_grads[i]``, ``bias_grads[i]``, ``get_flat_params()``,
    ``get_flat_grads()``, the arrays of ``inspect()``) is a fresh READ-ONLY copy,
    so an in-place write such as ``net.weights[0][0, 0] = 1.0`` raises
    instead of being silently lost; write with ``net.weights[0] = W`` or
    ``set_flat_params()`` (``.copy()`` gives a writable array).  ``forward()`` and
    ``predict()`` return new writable arrays owned by the caller.

    The network holds library memory: release it with ``close()`` (idempotent)
    or use ``with MLP(...) as net:``.  A closed network raises StateError.
    Calls on one network are serialised by an internal lock, so sharing a
    network between threads is safe (but not parallel); the library's own
    BusyError is only seen by code calling the C functions directly.

    Model files: ``net.save(path)`` / ``swiftmlp.load(path)`` and
    ``net.to_bytes()`` / ``swiftmlp.from_bytes(data)`` (safetensors, readable
    by the safetensors package and PyTorch).  Pickling and copy.deepcopy go
    through the same bytes, optimizer state included.
    """

    def __init__(self, sizes, dtype="float64", seed: int | None = 0, *,
                 activations=None, loss: str = "mse", init: str = "uniform",
                 leaky_slope: float = 0.01):
        self._init_state()
        dt = _network_dtype(dtype)
        sizes_list = self._check_sizes(sizes)
        seed = self._check_seed(seed)
        act_codes = self._check_activations(activations)
        loss_code = _lookup("loss", LOSSES, loss)
        init_code = _lookup("init", INITS, init)
        slope = _optim._real(leaky_slope, "leaky_slope")  # finiteness: the library

        cfg = _lib.Config()
        lib.swiftmlp_config_default(byref(cfg))
        n = len(sizes_list)
        c_sizes = (c_size_t * max(n, 1))(*sizes_list)
        cfg.sizes, cfg.n_sizes = c_sizes, n
        cfg.dtype, cfg.seed = _DTYPE_CODES[dt], seed
        if act_codes is not None:
            c_acts = (c_int * max(len(act_codes), 1))(*act_codes)
            cfg.activations, cfg.n_activations = c_acts, len(act_codes)
        cfg.leaky_slope, cfg.loss, cfg.init = slope, loss_code, init_code
        handle = c_void_p()
        lib.swiftmlp_create_with_config(byref(cfg), byref(handle))
        self._adopt(handle, "swiftmlp_create_with_config")
        if (self._dtype != dt or list(self._sizes) != sizes_list):  # pragma: no cover
            self.close()
            raise RuntimeError("libswiftmlp reports a different configuration than requested")

    def _init_state(self) -> None:
        """The Python-side state, before there is a handle."""
        self._handle = None  # set first: __del__ must work even if __init__ fails
        self._lock = threading.RLock()
        self._free = lib.swiftmlp_free  # kept for __del__ at interpreter shutdown
        self._fwd_batch = None  # batch of the last forward, while its cache is valid
        self._fit_thread = None  # thread id while fit() runs (its callback must not re-enter)
        # The loss out-parameter of the hot paths, reused under the lock
        # (passed as the c_double itself: ctypes passes its address to the
        # POINTER(c_double) parameter, cheaper than a byref() object).
        self._loss_out = c_double()
        # The fast paths of train_step, forward and backward (see
        # _fast_args): the shapes last validated and the ctypes arguments
        # that go with them.
        self._step_args = self._fwd_args = self._bwd_args = _NO_FAST_ARGS

    @classmethod
    def _from_handle(cls, handle: c_void_p, function: str) -> "MLP":
        """An MLP owning a handle that swiftmlp_load_file/_buffer returned."""
        net = cls.__new__(cls)
        net._init_state()
        net._adopt(handle, function)
        return net

    def _adopt(self, handle: c_void_p, function: str) -> None:
        """Take ownership of a new handle and read its configuration back
        (cached: it never changes)."""
        if not handle.value:  # pragma: no cover - a library contract violation
            raise RuntimeError(f"{function} returned OK but no handle")
        self._handle = handle
        self._handle_int = handle.value  # for the fast paths, which check _handle first
        got = _lib.Config()
        lib.swiftmlp_get_config(handle, byref(got))
        count = c_size_t()
        lib.swiftmlp_get_param_count(handle, byref(count))
        n_layers = int(got.n_sizes) - 1
        self._dtype = _CODE_DTYPES[got.dtype]
        self._code = int(got.dtype)
        self._c_code = c_int(self._code)  # the fast paths' dtype argument (never changed)
        self._sizes = tuple(int(got.sizes[i]) for i in range(got.n_sizes))
        self._param_count = int(count.value)
        self._seed = int(got.seed)
        self._activations = tuple(_ACTIVATION_NAMES[got.activations[i]]
                                  for i in range(got.n_activations))
        self._loss_code = int(got.loss)
        self._init_code = int(got.init)
        self._leaky_slope = float(got.leaky_slope)
        self._size_sum = sum(self._sizes)
        if len(self._activations) != n_layers:  # pragma: no cover
            self.close()
            raise RuntimeError(f"{function}: libswiftmlp reports {len(self._activations)} "
                               f"activations for {n_layers} layers")

    # ---- argument checks ---------------------------------------------------------

    @staticmethod
    def _check_sizes(sizes) -> list[int]:
        if isinstance(sizes, (str, bytes)):
            raise TypeError("sizes must be a sequence of integers, e.g. [784, 256, 10]")
        try:
            items = list(sizes)
        except TypeError:
            raise TypeError("sizes must be a sequence of integers, e.g. [784, 256, 10]") from None
        out = []
        for k, s in enumerate(items):
            if isinstance(s, (bool, np.bool_)):
                raise TypeError(f"sizes[{k}] is a bool; layer sizes must be integers")
            try:
                v = operator.index(s)
            except TypeError:
                raise TypeError(f"sizes[{k}] = {s!r} is not an integer") from None
            if v < 0:
                raise_error(InvalidArgumentError,
                            f"sizes[{k}] = {v}: layer sizes must be >= 1")
            if v > _lib.SIZE_MAX:
                raise_error(TooLargeError,
                            f"sizes[{k}] = {v} does not fit in size_t "
                            f"(SWIFTMLP_MAX_LAYER_SIZE = {_lib.MAX_LAYER_SIZE})")
            out.append(v)
        # n < 2, a size of 0 and the SWIFTMLP_MAX_* limits are checked by the library.
        return out

    @staticmethod
    def _check_seed(seed) -> int:
        if seed is None:
            return int.from_bytes(os.urandom(8), "little")
        if isinstance(seed, (bool, np.bool_)):
            raise TypeError("seed must be an integer")
        try:
            seed = operator.index(seed)
        except TypeError:
            raise TypeError(f"seed must be an integer, not {type(seed).__name__}") from None
        if not 0 <= seed < 2 ** 64:
            raise_error(InvalidArgumentError, f"seed {seed} is outside 0..2**64-1")
        return seed

    def _as_input(self, value, what: str, ndim: int | None = None, check=None) -> np.ndarray:
        """`value` as a C-contiguous array of the network's dtype (see the policy
        in the class docstring).  Never returns the caller's array if it would
        need to be changed; may return it unchanged when it is already usable
        (the library only reads it).

        Every check of its shape and size comes BEFORE any copy or
        conversion: the number of dimensions here, then `check(arr)` (the
        caller's shape, row and size checks, which raise), then the bound on
        the copy itself (_check_copy).  So a huge input -- a broadcast view
        of a few numbers, say -- raises TooLargeError or BufferSizeError at
        once instead of being copied (or raising MemoryError)."""
        # Fast path: an ndarray the library can read as it is (C-contiguous,
        # aligned, the network's dtype in native byte order, the right number
        # of dimensions) is passed without a copy or any conversion.
        if type(value) is np.ndarray and value.dtype == self._dtype:
            flags = value.flags
            if flags.c_contiguous and flags.aligned and (ndim is None or value.ndim == ndim):
                if check is not None:
                    check(value)
                return value
        arr = _asarray(value, what)
        if arr.dtype.kind not in "biuf":
            raise_error(DTypeError,
                        f"{what}: cannot use an array of dtype {arr.dtype} "
                        f"(need real numbers; the network is {self._dtype})")
        if ndim is not None and arr.ndim != ndim:
            hint = ""
            if ndim == 2 and arr.ndim == 1:
                hint = " (for a single sample use a[None, :] or a.reshape(1, -1))"
            raise_error(InvalidArgumentError,
                        f"{what} must be a {ndim}-D array, got {arr.ndim}-D with shape "
                        f"{arr.shape}{hint}")
        if check is not None:
            check(arr)
        # Strided, Fortran-order and misaligned arrays are copied (a fresh array
        # is aligned); byte-swapped ones are converted below (their dtype is
        # not the network's).  reshape keeps the caller's shape, so a 0-d
        # scalar never passes for a 1-element array.
        if arr.dtype == self._dtype:
            if arr.flags.c_contiguous and arr.flags.aligned:
                return arr
            _check_copy(arr.shape, self._dtype, what)
            return np.array(arr, order="C", copy=True).reshape(arr.shape)
        _check_copy(arr.shape, self._dtype, what)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.ascontiguousarray(arr, dtype=self._dtype).reshape(arr.shape)
        if arr.dtype.kind == "f" and arr.dtype.itemsize > self._dtype.itemsize:
            overflow = np.isinf(out) & np.isfinite(arr)
            if overflow.any():
                idx = tuple(int(k) for k in np.argwhere(overflow)[0])
                raise_error(NonFiniteError,
                            f"{what}{list(idx)} = {arr[idx]!r} overflows {self._dtype}")
        return out

    @staticmethod
    def _ptr(a: np.ndarray):
        # Only ever called with arrays made C-contiguous (and aligned) of the
        # network dtype just before; the element count passed alongside is
        # always a.size.
        assert a.flags.c_contiguous and a.flags.aligned
        return _address(a)

    @staticmethod
    def _check_activations(activations):
        """None, one name, or a sequence of names -> None or a list of codes.
        The count (1 or L) and the placement of softmax are checked by the library."""
        if activations is None:
            return None
        if isinstance(activations, str):
            return [_lookup("activation", ACTIVATIONS, activations)]
        try:
            items = list(activations)
        except TypeError:
            raise TypeError("activations must be a name or a sequence of names, "
                            "e.g. ['relu', 'softmax']") from None
        return [_lookup(f"activations[{k}]", ACTIVATIONS, a) for k, a in enumerate(items)]

    def _h(self) -> c_void_p:
        h = self._handle
        if h is None:
            raise_error(StateError, "this MLP has been closed")
        if self._fit_thread is not None and self._fit_thread == threading.get_ident():
            raise_error(StateError, "the network cannot be used from inside its own fit() "
                                    "callback (the library is still training it)")
        return h

    def _targets(self, value, what: str, rows: int, x_what: str) -> np.ndarray:
        """Dense (rows, NL) targets of the network's dtype, for `rows` rows of
        x (named x_what in messages); the shape is checked before any copy.
        For a cross-entropy network a 1-D integer array is taken as class
        indices and converted to one-hot rows (range checked here)."""
        arr = _asarray(value, what)
        if self._loss_code == _lib.LOSS_CROSS_ENTROPY and arr.ndim == 1:
            self._check_target_shape((arr.shape[0], self._sizes[-1]), rows, what, x_what)
            _check_copy((arr.shape[0], self._sizes[-1]), self._dtype, f"{what} as one-hot rows")
            labels = self._as_labels(arr, what, check_range=True)
            dense = np.zeros((labels.size, self._sizes[-1]), dtype=self._dtype)
            dense[np.arange(labels.size), labels] = 1
            return dense
        return self._as_input(value, what, ndim=2,
                              check=lambda a: self._check_target_rows(a, rows, what, x_what))

    def _as_labels(self, arr: np.ndarray, what: str, check_range: bool) -> np.ndarray:
        """A 1-D integer array of class indices as C-contiguous int64."""
        if arr.dtype.kind not in "iu":
            raise_error(DTypeError,
                        f"{what}: a 1-D target array holds class indices and must be of an "
                        f"integer dtype, got {arr.dtype} (for one-hot or probability "
                        f"targets pass a 2-D (batch, {self._sizes[-1]}) array)")
        nl = self._sizes[-1]
        if arr.size and arr.dtype.kind == "u" and int(arr.max()) > np.iinfo(np.int64).max:
            raise_error(InvalidArgumentError, f"{what}: class index {int(arr.max())} is out of "
                                              f"range 0..{nl - 1}")
        if not (arr.dtype == np.int64 and arr.flags.c_contiguous):
            _check_copy(arr.shape, np.int64, what)
        labels = np.ascontiguousarray(arr, dtype=np.int64)
        if check_range and labels.size:
            bad = np.flatnonzero((labels < 0) | (labels >= nl))
            if bad.size:
                k = int(bad[0])
                raise_error(InvalidArgumentError,
                            f"{what}[{k}] = {int(labels[k])}: class index out of range "
                            f"0..{nl - 1} (the network has {nl} outputs)")
        return labels

    def _rows(self, x: np.ndarray, what: str = "x") -> int:
        """Check a 2-D input's width; returns its row count (>= 1)."""
        rows, width = x.shape
        if rows == 0:
            raise_error(InvalidArgumentError, f"{what} is empty (shape {x.shape}); at least "
                                              f"one row is needed")
        if width != self._sizes[0]:
            raise_error(BufferSizeError,
                        f"{what} has shape {x.shape}: {width} features per sample, but the "
                        f"network's input size N0 is {self._sizes[0]}")
        return rows

    @staticmethod
    def _no_forward() -> None:
        raise_error(StateError,
                    "backward() needs a forward() first (since the network was "
                    "created, or since its parameters last changed by step(), fit() "
                    "or a parameter write)")

    def _check_backward_shape(self, y: np.ndarray, fwd) -> None:
        """backward()'s dense targets against the last forward's batch `fwd`."""
        if fwd is None:
            self._no_forward()
        nl = self._sizes[-1]
        if y.shape != (fwd, nl):
            raise_error(BufferSizeError if y.shape[0] == fwd else StateError,
                        f"y_true has shape {y.shape}, but the last forward() was a "
                        f"batch of {fwd} and the network has {nl} outputs: "
                        f"expected ({fwd}, {nl})")

    def _check_labels_shape(self, labels: np.ndarray, fwd) -> None:
        """backward()'s class indices against the last forward's batch `fwd`."""
        if fwd is None:
            self._no_forward()
        if labels.shape != (fwd,):
            raise_error(StateError,
                        f"y_true holds {labels.size} class indices, but the last "
                        f"forward() was a batch of {fwd}")

    def _batch_rows(self, x: np.ndarray, what: str = "x") -> int:
        """_rows, and the batch within SWIFTMLP_MAX_BATCH_ELEMENTS (forward,
        train_step, gradient_check: one batch held in the library's cache)."""
        batch = self._rows(x, what)
        if batch * self._size_sum > _lib.MAX_BATCH_ELEMENTS:
            raise_error(TooLargeError,
                        f"batch {batch} x (N0+...+NL = {self._size_sum}) activations "
                        f"exceed SWIFTMLP_MAX_BATCH_ELEMENTS = {_lib.MAX_BATCH_ELEMENTS}; "
                        f"use smaller batches")
        return batch

    def _check_target_rows(self, y: np.ndarray, rows: int, what: str, x_what: str) -> None:
        self._check_target_shape(y.shape, rows, what, x_what)

    def _check_target_shape(self, shape: tuple, rows: int, what: str, x_what: str) -> None:
        nl = self._sizes[-1]
        if shape != (rows, nl):
            raise_error(BufferSizeError,
                        f"{what} has shape {shape} but {x_what} has {rows} rows and the "
                        f"network has {nl} outputs: expected ({rows}, {nl})"
                        + (" or class indices of shape (%d,)" % rows
                           if self._loss_code == _lib.LOSS_CROSS_ENTROPY else ""))

    # ---- shape, type and configuration -------------------------------------------

    @property
    def sizes(self) -> tuple:
        """The layer sizes (N0, ..., NL)."""
        return self._sizes

    @property
    def dtype(self) -> np.dtype:
        """The network's element type, np.dtype('float32') or np.dtype('float64')."""
        return self._dtype

    @property
    def num_layers(self) -> int:
        """The number of weight layers L = len(sizes) - 1."""
        return len(self._sizes) - 1

    @property
    def param_count(self) -> int:
        """The number of parameters (weights + biases) = number of gradient elements."""
        return self._param_count

    @property
    def seed(self) -> int:
        """The seed the initial parameters were drawn with (swiftmlp_get_config)."""
        return self._seed

    @property
    def activations(self) -> tuple:
        """The activation name of every weight layer (L names), e.g. ('relu', 'softmax')."""
        return self._activations

    @property
    def loss(self) -> str:
        """The loss: 'mse', 'bce' or 'cross_entropy' (canonical names)."""
        return _LOSS_NAMES[self._loss_code]

    @property
    def init(self) -> str:
        """The initialisation: 'uniform', 'glorot' or 'he' (canonical names)."""
        return _INIT_NAMES[self._init_code]

    @property
    def leaky_slope(self) -> float:
        """The slope of 'leaky_relu' for f <= 0 (stored even when unused)."""
        return self._leaky_slope

    @property
    def closed(self) -> bool:
        return self._handle is None

    def layer_offsets(self, layer: int) -> tuple:
        """(w_offset, b_offset): where W_layer and b_layer start in the flat
        get_flat_params()/get_flat_grads() arrays."""
        layer = _LayerArrays(self, "weights")._index(layer)
        w_off, b_off = c_size_t(), c_size_t()
        with self._lock:
            lib.swiftmlp_get_layer_offsets(self._h(), layer, byref(w_off), byref(b_off))
        return int(w_off.value), int(b_off.value)

    # ---- training, one batch at a time ----------------------------------------

    def forward(self, x) -> np.ndarray:
        """Forward pass of a batch.  x: (B, N0) array-like, B >= 1.
        Returns a new (B, NL) array of the network's dtype (owned by the caller).
        The batch is cached for the following backward() (and inspect())."""
        if type(x) is _ndarray:
            # Fast path: an input of the shape last validated (see _fast_args).
            a = self._fwd_args
            if (x.shape == a[0] and x.dtype is self._dtype
                    and x.flags.num & _C_ALIGNED == _C_ALIGNED):
                y = _empty(a[1], self._dtype)
                with self._lock:
                    if self._handle is None or self._fit_thread is not None:
                        self._h()  # StateError: closed, or inside fit()'s callback
                    status = _forward(self._handle_int, self._c_code,
                                      _from_address(id(x) + _DATA_OFFSET).value, a[2], a[3],
                                      _from_address(id(y) + _DATA_OFFSET).value, a[4])
                    if status:
                        _lib.raise_for_status(status, "swiftmlp_forward")
                    self._fwd_batch = a[5]
                return y
        # (the batch limit is checked before x is copied and y allocated)
        x = self._as_input(x, "x", ndim=2, check=self._batch_rows)
        batch = x.shape[0]
        out_shape = (batch, self._sizes[-1])
        if x.shape != self._fwd_args[0]:
            self._fwd_args = _fast_args((x.shape, out_shape),
                                        (x.size, batch, batch * self._sizes[-1]), batch)
        y = np.empty(out_shape, dtype=self._dtype)
        with self._lock:
            status = _forward(self._h(), self._code, _address(x), x.size, batch, _address(y),
                              y.size)
            if status:
                _lib.raise_for_status(status, "swiftmlp_forward")
            self._fwd_batch = batch
        return y

    __call__ = forward

    def backward(self, y_true) -> float:
        """Backward pass for the batch of the last forward(): computes and stores
        every gradient and returns the batch's loss as a float.

        y_true: (B, NL) array-like with B the batch of the last forward; for a
        cross-entropy network also a 1-D integer array of B class indices
        (swiftmlp_backward_labels)."""
        if type(y_true) is _ndarray:
            # Fast path: dense targets of the shape last validated (see _fast_args).
            a = self._bwd_args
            if (y_true.shape == a[0] and y_true.dtype is self._dtype
                    and y_true.flags.num & _C_ALIGNED == _C_ALIGNED):
                with self._lock:
                    if self._handle is None or self._fit_thread is not None:
                        self._h()  # StateError: closed, or inside fit()'s callback
                    if self._fwd_batch == a[3]:
                        status = _backward(self._handle_int, self._c_code,
                                           _from_address(id(y_true) + _DATA_OFFSET).value,
                                           a[1], a[2], self._loss_out)
                        if status:
                            _lib.raise_for_status(status, "swiftmlp_backward")
                        return self._loss_out.value
                # no forward() of this batch size: the checks below say what is wrong
        arr = _asarray(y_true, "y_true")
        use_labels = self._loss_code == _lib.LOSS_CROSS_ENTROPY and arr.ndim == 1
        # The shape is checked against the forward's batch before any copy
        # or conversion (and again under the lock, where it counts).
        fwd = self._fwd_batch
        if use_labels:
            if arr.dtype.kind in "iu":  # (other dtypes: DTypeError from _as_labels)
                self._check_labels_shape(arr, fwd)
            labels = self._as_labels(arr, "y_true", check_range=False)  # range: the library
        else:
            y = self._as_input(y_true, "y_true", ndim=2,
                               check=lambda a: self._check_backward_shape(a, fwd))
        with self._lock:
            h = self._h()
            if use_labels:
                self._check_labels_shape(labels, self._fwd_batch)
                loss = c_double()
                lib.swiftmlp_backward_labels(h, labels.ctypes.data_as(POINTER(c_int64)),
                                             labels.size, labels.size, byref(loss))
                return float(loss.value)
            self._check_backward_shape(y, self._fwd_batch)
            if y.shape != self._bwd_args[0]:
                self._bwd_args = _fast_args((y.shape,), (y.size, y.shape[0]), y.shape[0])
            status = _backward(h, self._code, _address(y), y.size, y.shape[0], self._loss_out)
            if status:
                _lib.raise_for_status(status, "swiftmlp_backward")
            return self._loss_out.value

    def step(self, lr=_USE_OPTIMIZER) -> None:
        """One parameter update with the gradients of the last backward().

        * ``net.step()`` applies the configured optimizer ``net.optimizer``
          (swiftmlp_optimizer_step; SGD with momentum, Adam, AdamW, ...) and
          advances ``net.optimizer_steps``.  StateError if no optimizer is set.
        * ``net.step(lr=0.1)`` is the slides' plain SGD step
          ``W -= lr * dL/dW, b -= lr * dL/db`` (swiftmlp_step), REGARDLESS of
          any configured optimizer, whose state and step count it leaves
          alone.  lr must be finite and >= 0.

        A step that would make a parameter NaN or infinite raises
        NonFiniteError and changes nothing.  Invalidates the forward cache
        (backward() then needs a new forward()).
        """
        if lr is _USE_OPTIMIZER:
            with self._lock:
                h = self._h()
                try:
                    lib.swiftmlp_optimizer_step(h)
                except StateError:
                    if self.optimizer is None:
                        raise_error(StateError,
                                    "step() without lr applies net.optimizer, but none is "
                                    "set: assign e.g. net.optimizer = swiftmlp.SGD(lr=0.1), "
                                    "or call step(lr=...) for a plain SGD step")
                    raise
                self._fwd_batch = None
            return
        if isinstance(lr, (bool, np.bool_)) or lr is None:
            raise TypeError("lr must be a real number (call step() without arguments to "
                            "apply net.optimizer)")
        try:
            lr = float(lr)
        except (TypeError, ValueError):
            raise TypeError(f"lr must be a real number, not {type(lr).__name__}") from None
        with self._lock:
            # The domain (finite, >= 0) and call order are checked by the library.
            lib.swiftmlp_step(self._h(), lr)
            self._fwd_batch = None

    def train_step(self, x, y_true, lr=_USE_OPTIMIZER) -> float:
        """One training step on the batch (x, y_true); returns the batch's loss
        (before the step) as a float.

        * ``net.train_step(x, y)`` runs forward, backward and one step of the
          configured optimizer ``net.optimizer`` in ONE library call
          (swiftmlp_train_step; the same result as the three calls, with less
          overhead).  StateError if no optimizer is set.  For the slides'
          plain SGD configure ``net.optimizer = swiftmlp.SGD(lr=...)``.
        * ``net.train_step(x, y, lr)`` is ``forward(x); backward(y); step(lr)``:
          the slides' plain SGD step regardless of any configured optimizer
          (whose state and step count it leaves alone), as step(lr).

        y_true: (B, NL) targets; for a cross-entropy network also a 1-D
        integer array of B class indices.  Inputs follow the conversion
        policy of the class; a C-contiguous array of the network's dtype is
        passed to the library without a copy.  On failure nothing changes,
        except that a step refused because it would make a parameter
        non-finite (NonFiniteError) leaves this batch's forward cache and
        gradients in place, as the library documents.  Like step(), a
        successful call invalidates the forward cache.
        """
        if lr is _USE_OPTIMIZER and type(x) is _ndarray and type(y_true) is _ndarray:
            # Fast path: arrays of the shapes last validated (see _fast_args).
            a = self._step_args
            dt = self._dtype
            if (x.shape == a[0] and y_true.shape == a[1] and x.dtype is dt
                    and y_true.dtype is dt and x.flags.num & _C_ALIGNED == _C_ALIGNED
                    and y_true.flags.num & _C_ALIGNED == _C_ALIGNED):
                with self._lock:
                    if self._handle is None or self._fit_thread is not None:
                        self._h()  # StateError: closed, or inside fit()'s callback
                    status = _train_step(self._handle_int, self._c_code,
                                         _from_address(id(x) + _DATA_OFFSET).value, a[2],
                                         _from_address(id(y_true) + _DATA_OFFSET).value, a[3],
                                         a[4], self._loss_out)
                    if status:
                        self._train_step_failed(status, x, y_true, a[5])
                    self._fwd_batch = None
                    return self._loss_out.value
        if lr is not _USE_OPTIMIZER:
            with self._lock:
                self.forward(x)
                loss = self.backward(y_true)
                self.step(lr)
            return loss
        x = self._as_input(x, "x", ndim=2, check=self._batch_rows)
        batch = x.shape[0]
        y = self._targets(y_true, "y_true", batch, "x")  # class indices -> one-hot rows
        if x.shape != self._step_args[0] or y.shape != self._step_args[1]:
            self._step_args = _fast_args((x.shape, y.shape), (x.size, y.size, batch), batch)
        with self._lock:
            status = _train_step(self._h(), self._code, _address(x), x.size, _address(y),
                                 y.size, batch, self._loss_out)
            if status:
                self._train_step_failed(status, x, y, batch)
            self._fwd_batch = None
            return self._loss_out.value

    def _train_step_failed(self, status: int, x: np.ndarray, y: np.ndarray, batch: int):
        """Raise the error of a failed swiftmlp_train_step (under the lock)."""
        try:
            _lib.raise_for_status(status, "swiftmlp_train_step")
        except NonFiniteError:
            # Non-finite data changes nothing; a refused step leaves this
            # batch's cache and gradients (backward() may follow).
            if np.isfinite(x).all() and np.isfinite(y).all():
                self._fwd_batch = batch
            raise
        except StateError:
            if self.optimizer is None:
                raise_error(StateError,
                            "train_step() without lr applies net.optimizer, but none is set: "
                            "assign e.g. net.optimizer = swiftmlp.SGD(lr=0.1), or call "
                            "train_step(x, y, lr=...) for a plain SGD step")
            raise

    # ---- optimizer ---------------------------------------------------------------

    @property
    def optimizer(self):
        """The optimizer that step() and fit() apply: a swiftmlp.SGD, Adam or
        AdamW read back from the library, or None if none was set.

        ``net.optimizer = swiftmlp.Adam(lr=1e-3)`` (or a name: "sgd", "adam",
        "adamw" for the library's defaults) configures it with FRESH state
        (step count 0, zero momentum/moments), even if it equals the current
        one.  The hyperparameters are validated by the library: a bad value
        raises InvalidArgumentError and keeps the previous optimizer and its
        state."""
        s = _lib.Optimizer()
        with self._lock:
            try:
                lib.swiftmlp_get_optimizer(self._h(), byref(s))
            except StateError:
                if self._handle is None:  # pragma: no cover - _h() raised above
                    raise
                return None
        return _optim.from_struct(s)

    @optimizer.setter
    def optimizer(self, value) -> None:
        if value is None:
            raise TypeError("an optimizer cannot be removed; assign swiftmlp.SGD(...), "
                            "swiftmlp.Adam(...) or swiftmlp.AdamW(...)")
        s = _optim.to_struct(value)
        with self._lock:
            lib.swiftmlp_set_optimizer(self._h(), byref(s))

    @property
    def learning_rate(self) -> float:
        """The configured optimizer's learning rate (StateError without one).

        Assigning it (``net.learning_rate = 1e-4``, swiftmlp_set_learning_rate)
        changes only the rate: unlike assigning ``net.optimizer``, the
        momentum buffers, Adam moments and step count are kept.  The value
        must be finite and > 0 (InvalidArgumentError otherwise, changing
        nothing)."""
        s = _lib.Optimizer()
        with self._lock:
            lib.swiftmlp_get_optimizer(self._h(), byref(s))
        return float(s.lr)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        lr = _optim._real(value, "learning_rate")
        with self._lock:
            lib.swiftmlp_set_learning_rate(self._h(), lr)

    def reset_optimizer(self) -> None:
        """Zero the optimizer's state (momentum, Adam moments) and step count,
        keeping its hyperparameters.  StateError if no optimizer is set."""
        with self._lock:
            lib.swiftmlp_reset_optimizer(self._h())

    @property
    def optimizer_steps(self) -> int:
        """Optimizer steps (t) since the optimizer was set or reset; 0 without one."""
        n = c_uint64()
        with self._lock:
            lib.swiftmlp_get_step_count(self._h(), byref(n))
        return int(n.value)

    # ---- whole data sets ---------------------------------------------------------

    def _finite(self, a: np.ndarray, what: str) -> None:
        if not np.isfinite(a).all():
            idx = tuple(int(k) for k in np.argwhere(~np.isfinite(a))[0])
            raise_error(NonFiniteError, f"{what}{list(idx)} = {a[idx]!r} is not finite")

    def fit(self, x, y, epochs, batch_size=32, optimizer=None, validation_data=None,
            early_stopping=None, shuffle=True, progress=False, callback=None,
            report_batches=False, lr_schedule=None, sample_weight=None) -> History:
        """Train on a data set (swiftmlp_fit): per epoch the rows are reshuffled
        (``shuffle=True``, with the network's own generator seeded from
        ``seed``: the same seed and calls give the same batches), cut into
        batches of ``batch_size`` rows (the last holds the remainder; a batch
        size above the row count means the whole set), and each batch gets
        forward, backward and one optimizer step.

        x:  (n, N0) inputs, n >= 1.
        y:  (n, NL) targets; for loss="cross_entropy" also a 1-D integer array
            of n class indices (converted to one-hot rows here).
        epochs:     >= 1.     batch_size: >= 1.
        optimizer:  an SGD/Adam/AdamW (or "sgd"/"adam"/"adamw"): set as
            ``net.optimizer`` (FRESH state) before training, once every other
            argument has been checked.  None (default) keeps training with
            the current ``net.optimizer`` and its state (so a second fit()
            continues where the first stopped); if none is set, StateError.
        validation_data: (x_val, y_val), evaluated after every epoch without
            touching the training state.
        early_stopping: None (off), an int patience, a dict
            ``{"patience": 5, "min_delta": 0.0, "restore_best": True}`` or a
            swiftmlp.EarlyStopping: stop after `patience` epochs without an
            improvement of the validation loss (the training loss without
            validation data) by more than min_delta; with restore_best the
            network ends with the parameters of its best epoch.
        progress:   True shows a tqdm progress bar on stderr (one tick per
            batch, the epoch's running training loss and the last validation
            loss as postfix).
        callback:   called as ``callback(info)`` with a dict (epoch, epochs,
            batch, n_batches, batch_loss, train_loss, val_loss, epoch_end;
            epochs and batches 0-based, batch == n_batches at an epoch's end)
            after every epoch, and also after every batch when
            ``report_batches=True``.  Returning True (any truthy value)
            cancels the fit after the current step: fit() then returns
            normally with ``history.cancelled`` set and the network holds the
            parameters of the last step.  The callback must not use this
            network (StateError).  If it raises, the fit is cancelled and
            the exception is re-raised from fit().

        lr_schedule: None (the optimizer's lr every epoch) or a schedule:
            swiftmlp.ConstantLR(), InvScalingLR(power_t), AdaptiveLR(tol,
            n_iter_no_change), StepLR(step_size, gamma) or
            CosineAnnealingLR(t_max, eta_min) (formulas in swiftmlp._optim
            and include/swiftmlp.h, swiftmlp_lr_schedule), applied at the
            start of every epoch from the optimizer's lr when fit starts;
            fit ends with that lr set again.  ``history.lr`` lists the rate
            of every epoch.
        sample_weight: None or n finite weights >= 0, not all 0 (1-D): each
            batch's loss is the weighted mean sum_i w_i l_i / sum_i w_i of
            its rows' losses (scikit-learn's definition; all ones = the
            plain loss), and the gradients are that loss's.  A batch whose
            weights sum to 0 takes no step and does not count in the
            epoch's loss.  Validation losses are unweighted.

        Ctrl-C (KeyboardInterrupt) is honoured at the next epoch end (after
        every batch with progress=True or report_batches=True): the fit is
        cancelled cleanly, the network holds the parameters of the last
        completed step, and KeyboardInterrupt propagates.

        Returns a swiftmlp.History (loss, val_loss, best_epoch, best_loss,
        epochs_run, stopped_early, cancelled, restored_best).

        Bad arguments (shapes, n = 0, mismatched lengths, NaN/inf in the data,
        out-of-range class indices, epochs or batch_size < 1, a bad optimizer)
        raise before anything changes.  A step that would make a parameter
        non-finite stops the training with NonFiniteError; the network keeps
        the parameters of the last good step (the exception's ``history``
        attribute holds the epochs completed before).
        """
        # ---- check everything before changing anything
        x = self._as_input(x, "x", ndim=2, check=self._rows)
        rows = x.shape[0]
        y = self._targets(y, "y", rows, "x")
        epochs = _count(epochs, "epochs")
        batch_size = _count(batch_size, "batch_size")
        weights = self._sample_weight(sample_weight, rows)
        stopping = EarlyStopping.parse(early_stopping)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError("shuffle must be True or False")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        val = None
        if validation_data is not None:
            try:
                xv, yv = validation_data
            except (TypeError, ValueError):
                raise TypeError("validation_data must be a pair (x_val, y_val)") from None
            xv = self._as_input(xv, "validation x", ndim=2,
                                check=lambda a: self._rows(a, "validation x"))
            val_rows = xv.shape[0]
            yv = self._targets(yv, "validation y", val_rows, "validation x")
            val = (xv, yv, val_rows)
        # NaN/inf are rejected by the library too; checked here first so that a
        # bad data set cannot replace the optimizer (below) and then fail.
        self._finite(x, "x")
        self._finite(y, "y")
        if val is not None:
            self._finite(val[0], "validation x")
            self._finite(val[1], "validation y")
        opt_struct = _optim.to_struct(optimizer) if optimizer is not None else None
        bar = None
        if progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                raise ImportError("fit(progress=True) needs tqdm: pip install tqdm") from None

        opts = _lib.FitOptions()
        lib.swiftmlp_fit_options_default(byref(opts))
        opts.epochs, opts.batch_size, opts.shuffle = epochs, batch_size, int(bool(shuffle))
        _optim.schedule_options(lr_schedule, opts)
        if weights is not None:
            opts.sample_weight, opts.sample_weight_len = weights.ctypes.data, weights.size
        if val is not None:
            opts.val_x, opts.val_x_len = val[0].ctypes.data, val[0].size
            opts.val_y, opts.val_y_len = val[1].ctypes.data, val[1].size
            opts.val_rows = val[2]
        if stopping is not None:
            opts.patience = stopping.patience
            opts.min_delta = stopping.min_delta
            opts.restore_best = int(stopping.restore_best)
        # Per-batch reports only when something uses them (a Python call per
        # batch costs a few microseconds); epoch ends always, for the history.
        opts.report_batches = int(bool(progress) or (callback is not None and bool(report_batches)))

        n_batches = -(-rows // min(batch_size, rows))
        history = History()
        raised = []  # an exception from inside the callback, re-raised after the fit
        has_val = val is not None

        interrupted = []  # set by the SIGINT handler installed below

        def on_progress(p_ptr, _user_data):
            try:
                if interrupted:
                    return 1
                p = p_ptr.contents
                epoch_end = bool(p.epoch_end)
                if epoch_end:
                    history.loss.append(float(p.train_loss))
                    history.lr.append(float(p.lr))
                    if has_val:
                        history.val_loss.append(float(p.val_loss))
                if bar is not None:
                    if epoch_end:
                        post = {"loss": f"{p.train_loss:.4g}"}
                        if has_val:
                            post["val_loss"] = f"{p.val_loss:.4g}"
                        bar.set_postfix(post, refresh=True)
                    else:
                        if p.batch == 0:
                            bar.set_description(f"epoch {p.epoch + 1}/{p.epochs}", refresh=False)
                        post = {"loss": f"{p.train_loss:.4g}"}
                        if has_val and history.val_loss:
                            post["val_loss"] = f"{history.val_loss[-1]:.4g}"
                        bar.set_postfix(post, refresh=False)
                        bar.update(1)
                if callback is not None and (epoch_end or report_batches):
                    info = {"epoch": int(p.epoch), "epochs": int(p.epochs),
                            "batch": int(p.batch), "n_batches": int(p.n_batches),
                            "batch_loss": float(p.batch_loss),
                            "train_loss": float(p.train_loss),
                            "val_loss": float(p.val_loss), "epoch_end": epoch_end}
                    if callback(info):
                        return 1
                return 1 if interrupted else 0
            except BaseException as exc:  # noqa: B902 - KeyboardInterrupt included
                raised.append(exc)
                return 1

        c_callback = _lib.PROGRESS_FN(on_progress)  # kept alive by this frame during the call
        opts.progress = c_callback
        result = _lib.FitResult()
        failure = None
        with self._lock:
            h = self._h()
            if opt_struct is not None:
                lib.swiftmlp_set_optimizer(h, byref(opt_struct))
            elif self.optimizer is None:
                raise_error(StateError,
                            "fit() needs an optimizer: pass optimizer=swiftmlp.Adam() (or "
                            "SGD(lr=...), AdamW(), 'adam', ...) or set net.optimizer first")
            if progress:
                bar = tqdm(total=epochs * n_batches, unit="batch", dynamic_ncols=True,
                           desc=f"epoch 1/{epochs}")
            # Ctrl-C: Python runs a signal handler only between bytecodes, that is
            # inside this callback, possibly before its `try`; an exception
            # escaping a ctypes callback would be lost.  So while the library
            # trains, SIGINT only sets a flag, the callback cancels the fit, and
            # KeyboardInterrupt is raised once swiftmlp_fit has returned.
            previous_handler = None
            if (threading.current_thread() is threading.main_thread()
                    and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
                previous_handler = signal.signal(signal.SIGINT,
                                                 lambda signum, frame: interrupted.append(signum))
            self._fit_thread = threading.get_ident()
            try:
                lib.swiftmlp_fit(h, self._code, self._ptr(x), x.size, self._ptr(y), y.size,
                                 rows, byref(opts), byref(result))
            except CancelledError:
                pass  # result is filled; an exception from the callback is re-raised below
            except SwiftMLPError as exc:
                failure = exc
            finally:
                if previous_handler is not None:
                    signal.signal(signal.SIGINT, previous_handler)
                self._fit_thread = None
                self._fwd_batch = None  # every step invalidates the forward cache
                if bar is not None:
                    bar.close()
        del c_callback  # the library holds no reference after swiftmlp_fit returned
        if failure is not None:
            history.epochs_run = len(history.loss)
            failure.history = history
            raise failure
        if raised:
            raise raised[0]
        if interrupted:
            raise KeyboardInterrupt
        history.epochs_run = int(result.epochs_run)
        if history.epochs_run > 0:
            history.best_epoch = int(result.best_epoch)
            history.best_loss = float(result.best_loss)
        history.stopped_early = bool(result.stopped_early)
        history.cancelled = bool(result.cancelled)
        history.restored_best = bool(result.restored_best)
        return history

    def _sample_weight(self, value, rows: int):
        """fit's sample_weight as a C-contiguous 1-D array of the network's
        dtype, or None: its shape is checked before any copy, then its values
        (finite, >= 0, not all 0), as the library would, so that fit() refuses
        bad weights before it changes anything."""
        if value is None:
            return None
        arr = _asarray(value, "sample_weight")
        if arr.ndim != 1 or arr.shape[0] != rows:
            raise_error(BufferSizeError if arr.ndim == 1 else InvalidArgumentError,
                        f"sample_weight must be 1-D with one weight per row ({rows},), "
                        f"got shape {arr.shape}")
        w = self._as_input(arr, "sample_weight", ndim=1)
        self._finite(w, "sample_weight")
        if (w < 0).any():
            k = int(np.flatnonzero(w < 0)[0])
            raise_error(InvalidArgumentError, f"sample_weight[{k}] = {w[k]!r} is negative")
        if not (w > 0).any():
            raise_error(InvalidArgumentError,
                        "sample_weight is 0 for every row: no row would train")
        return w

    def predict(self, x) -> np.ndarray:
        """The outputs g_L for every row of x (n, N0), as a new (n, NL) array
        (probabilities for a softmax or sigmoid output).  Computed in chunks
        through a separate buffer (swiftmlp_predict): the training batch that
        backward() and inspect() see, the gradients and the optimizer state
        are untouched."""
        def check(a):
            self._rows(a, "x")
            _check_copy((a.shape[0], self._sizes[-1]), self._dtype, "predict's output")
        x = self._as_input(x, "x", ndim=2, check=check)
        rows = x.shape[0]
        y = np.empty((rows, self._sizes[-1]), dtype=self._dtype)
        with self._lock:
            lib.swiftmlp_predict(self._h(), self._code, self._ptr(x), x.size, rows,
                                 self._ptr(y), y.size)
        return y

    def evaluate(self, x, y) -> float:
        """The loss of the data set (x, y) (y: dense targets, or class indices
        for cross-entropy), as a float; like predict(), touches no training
        state (swiftmlp_evaluate)."""
        x = self._as_input(x, "x", ndim=2, check=self._rows)
        rows = x.shape[0]
        y = self._targets(y, "y", rows, "x")
        loss = c_double()
        with self._lock:
            lib.swiftmlp_evaluate(self._h(), self._code, self._ptr(x), x.size, self._ptr(y),
                                  y.size, rows, byref(loss))
        return float(loss.value)

    def gradient_check_details(self, x, y, h: float = 1e-3) -> GradientCheck:
        """Compare backward's gradients of the current parameters on the batch
        (x, y) (y: dense targets, or class indices for cross-entropy) with
        finite differences, in float64 on a copy (swiftmlp_gradient_check):
        the network is left exactly as it was.  The numeric gradient is
        Richardson's extrapolation (4 D(h/2) - D(h)) / 3 of central
        differences D(d) = (L(p + d) - L(p - d)) / (2d), accurate to O(h^4),
        so h = 1e-3 (the default) keeps both truncation and rounding
        negligible.  h must be finite and > 0.  Four forward passes per
        parameter.  A ReLU kink within about h of a pre-activation makes any
        difference quotient meaningless there.  Returns the worst parameter
        as a swiftmlp.GradientCheck (error, flat index, analytic and numeric
        values, and which layer, "W"/"b" and position it is)."""
        x = self._as_input(x, "x", ndim=2, check=self._batch_rows)
        rows = x.shape[0]
        y = self._targets(y, "y", rows, "x")
        h = _optim._real(h, "h")  # finite and > 0: checked by the library
        out = _lib.GradCheck()
        with self._lock:
            lib.swiftmlp_gradient_check(self._h(), self._code, self._ptr(x), x.size,
                                        self._ptr(y), y.size, rows, h, byref(out))
        index = int(out.index)
        layer, kind, position = self._locate(index)
        return GradientCheck(float(out.max_rel_error), index, float(out.analytic),
                             float(out.numeric), layer, kind, position)

    def gradient_check(self, x, y, h: float = 1e-3) -> float:
        """The largest relative error between backward's gradients and finite
        differences on the batch (x, y):
        max_i |a_i - n_i| / max(|a_i|, |n_i|, 1e-6 * max_k |a_k|).
        Around 1e-8 or less means the gradients are right.  Leaves the network
        unchanged.  See gradient_check_details() (which also says which
        parameter is worst) for h and the method."""
        return self.gradient_check_details(x, y, h).max_rel_error

    def _locate(self, index: int):
        for layer in range(self.num_layers):
            n_in, n_out = self._sizes[layer], self._sizes[layer + 1]
            w_off, b_off = self.layer_offsets(layer)
            if w_off <= index < b_off:
                return layer, "W", divmod(index - w_off, n_in)
            if b_off <= index < b_off + n_out:
                return layer, "b", (index - b_off,)
        raise IndexError(f"parameter index {index} out of range")  # pragma: no cover

    # ---- the slides' quantities ----------------------------------------------

    def quantity(self, name: str, layer: int) -> np.ndarray:
        """One of the slides' quantities of the last training batch, as a
        read-only (B, N_layer) array: name "f" (pre-activations f^(l)), "g"
        (activations g^(l)), "dL_df" or "dL_dg"; layer counted as on the
        slides, 0 = the input (only "g", = x) .. L = the output.  f and g
        exist after a forward(), dL_df and dL_dg after a backward() following
        it (StateError otherwise); they stay readable after a step, until the
        next forward().  predict() and evaluate() do not change them."""
        if name not in _QUANTITIES:
            raise_error(InvalidArgumentError,
                        f"unknown quantity {name!r}: use one of {', '.join(_QUANTITIES)}")
        if isinstance(layer, (bool, np.bool_)):
            raise TypeError("layer must be an integer")
        layer = operator.index(layer)
        if not 0 <= layer <= self.num_layers:
            raise_error(LayerIndexError,
                        f"layer {layer} out of range: the slides' layers are 0 (the input) "
                        f"to L = {self.num_layers}")
        with self._lock:
            h = self._h()
            rows = c_size_t()
            lib.swiftmlp_get_cached_rows(h, byref(rows))
            out = np.empty((rows.value, self._sizes[layer]), dtype=self._dtype)
            lib.swiftmlp_get_quantity(h, _QUANTITIES[name], layer, self._code,
                                      self._ptr(out), out.size)
        return _readonly(out)

    def inspect(self) -> list:
        """The slides' quantities of the last training batch (the last
        forward(), or the last batch of fit()), indexed like the slides:
        ``net.inspect()[l]`` is layer l, for l = 0..L (so the list has L + 1
        entries and ``inspect()[l]["f"]`` is f^(l)).  Each entry is a dict

            {"layer": l, "f": f^(l), "g": g^(l), "dL_df": dL/df^(l), "dL_dg": dL/dg^(l)}

        of read-only (B, N_l) arrays.  Entry 0 is the input: "g" is x
        (g^(0) = x) and the other three are None.  dL_df and dL_dg are None
        until a backward() follows the last forward().  Before any forward()
        raises StateError.  For BCE and cross-entropy, dL_dg of the output
        layer is the plain formula (inf/NaN where g is exactly 0 or 1); the
        backward pass itself uses the fused dL_df."""
        with self._lock:
            h = self._h()
            rows = c_size_t()
            lib.swiftmlp_get_cached_rows(h, byref(rows))  # StateError before any forward
            entries = [{"layer": 0, "f": None, "g": self.quantity("g", 0),
                        "dL_df": None, "dL_dg": None}]
            for layer in range(1, self.num_layers + 1):
                entry = {"layer": layer, "f": self.quantity("f", layer),
                         "g": self.quantity("g", layer)}
                try:
                    entry["dL_df"] = self.quantity("dL_df", layer)
                    entry["dL_dg"] = self.quantity("dL_dg", layer)
                except StateError:
                    entry["dL_df"] = entry["dL_dg"] = None
                entries.append(entry)
        return entries

    # ---- parameters and gradients ------------------------------------------------

    @property
    def weights(self) -> _LayerArrays:
        """net.weights[i]: read-only copy of W_i, shape (N_{i+1}, N_i).
        net.weights[i] = W copies W into layer i (shape checked, dtype policy
        as for inputs)."""
        return _LayerArrays(self, "weights")

    @property
    def biases(self) -> _LayerArrays:
        """net.biases[i]: read-only copy of b_i, shape (N_{i+1},); assignable."""
        return _LayerArrays(self, "biases")

    @property
    def weight_grads(self) -> _LayerArrays:
        """net.weight_grads[i]: read-only copy of dL/dW_i of the last backward()."""
        return _LayerArrays(self, "weight_grads")

    @property
    def bias_grads(self) -> _LayerArrays:
        """net.bias_grads[i]: read-only copy of dL/db_i of the last backward()."""
        return _LayerArrays(self, "bias_grads")

    def _layer_shapes(self, layer: int):
        n_in, n_out = self._sizes[layer], self._sizes[layer + 1]
        return (n_out, n_in), (n_out,)

    def _get_layer(self, layer: int, grads: bool):
        wshape, bshape = self._layer_shapes(layer)
        w = np.empty(wshape, dtype=self._dtype)
        b = np.empty(bshape, dtype=self._dtype)
        fn = lib.swiftmlp_get_layer_grads if grads else lib.swiftmlp_get_layer
        with self._lock:
            fn(self._h(), layer, self._code, self._ptr(w), w.size, self._ptr(b), b.size)
        return _readonly(w), _readonly(b)

    def _set_layer(self, layer: int, w=None, b=None) -> None:
        wshape, bshape = self._layer_shapes(layer)
        if w is not None:
            def check_w(a):
                if a.shape != wshape:
                    raise_error(BufferSizeError,
                                f"weights[{layer}] must have shape {wshape} "
                                f"(N_out={wshape[0]}, N_in={wshape[1]}), got {a.shape}")
            w = self._as_input(w, f"weights[{layer}]", check=check_w)
        if b is not None:
            def check_b(a):
                if a.shape != bshape:
                    raise_error(BufferSizeError,
                                f"biases[{layer}] must have shape {bshape}, got {a.shape}")
            b = self._as_input(b, f"biases[{layer}]", check=check_b)
        with self._lock:
            h = self._h()
            if w is None or b is None:
                cur_w, cur_b = self._get_layer(layer, grads=False)
                w = cur_w if w is None else w
                b = cur_b if b is None else b
            lib.swiftmlp_set_layer(h, layer, self._code, self._ptr(w), w.size,
                                   self._ptr(b), b.size)
            self._fwd_batch = None

    def set_layer(self, layer: int, weights, biases) -> None:
        """Replace W_layer and b_layer together (one library call)."""
        layer = _LayerArrays(self, "weights")._index(layer)
        self._set_layer(layer, w=weights, b=biases)

    def get_flat_params(self) -> np.ndarray:
        """All parameters as a read-only flat array of param_count elements, in
        the documented layout: for each layer W (row-major) then b."""
        out = np.empty(self._param_count, dtype=self._dtype)
        with self._lock:
            lib.swiftmlp_get_params(self._h(), self._code, self._ptr(out), out.size)
        return _readonly(out)

    def set_flat_params(self, flat) -> None:
        """Replace all parameters from a 1-D array of exactly param_count
        elements (layout of get_flat_params()).  Non-finite values raise
        NonFiniteError and change nothing."""
        def check(a):
            if a.size != self._param_count:
                raise_error(BufferSizeError,
                            f"params has {a.size} elements, the network has "
                            f"{self._param_count} parameters")
        flat = self._as_input(flat, "params", ndim=1, check=check)
        with self._lock:
            lib.swiftmlp_set_params(self._h(), self._code, self._ptr(flat), flat.size)
            self._fwd_batch = None

    def get_flat_grads(self) -> np.ndarray:
        """The gradients of the last backward() as a read-only flat array, in
        the parameter layout."""
        out = np.empty(self._param_count, dtype=self._dtype)
        with self._lock:
            lib.swiftmlp_get_grads(self._h(), self._code, self._ptr(out), out.size)
        return _readonly(out)

    def set_flat_grads(self, flat) -> None:
        """Replace all gradients from a 1-D array of exactly param_count
        elements (layout of get_grads()), as if a backward() had computed
        them: the next step() (or step(lr)) applies them (swiftmlp_set_grads).
        Data-parallel training (swiftmlp.distributed) sets the gradients
        combined across processes this way.  Needs no forward()/backward()
        before it; parameters, optimizer state and the forward cache are
        unchanged.  Non-finite values raise NonFiniteError and change
        nothing; input conversion follows the class's policy."""
        flat = self._as_input(flat, "grads", ndim=1)
        if flat.size != self._param_count:
            raise_error(BufferSizeError,
                        f"grads has {flat.size} elements, the network has "
                        f"{self._param_count} parameters")
        with self._lock:
            lib.swiftmlp_set_grads(self._h(), self._code, self._ptr(flat), flat.size)

    # ---- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Release the library memory.  Idempotent; the network is unusable after."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            h, self._handle = self._handle, None
            self._fwd_batch = None
            if h is not None:
                self._free(h)

    def __enter__(self) -> "MLP":
        self._h()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # Fallback only: prefer close() / `with`.
        try:
            self.close()
        except Exception:
            pass

    def _config_kwargs(self) -> dict:
        return {"activations": list(self._activations), "loss": self.loss, "init": self.init,
                "leaky_slope": self._leaky_slope}

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"{self._param_count} params"
        extra = ""
        if set(self._activations) != {"sigmoid"}:
            extra += f", activations={list(self._activations)!r}"
        if self.loss != "mse":
            extra += f", loss={self.loss!r}"
        if self.init != "uniform":
            extra += f", init={self.init!r}"
        return (f"MLP(sizes={list(self._sizes)}, dtype={self._dtype.name!r}, "
                f"seed={self._seed}{extra})  # {state}")

    # ---- saving and loading ----------------------------------------------------

    def save(self, path, optimizer_state: bool = False) -> None:
        """Save the network to a model file (safetensors, see the README and
        include/swiftmlp.h "Saving and loading"), ATOMICALLY
        (swiftmlp_save_file): the bytes go to an unnamed temporary file in
        the same directory, which is flushed and then linked or renamed to
        `path`; `path` holds the old or the new model and nothing else is
        left, even if the process is killed (but for a window of some
        microseconds documented in include/swiftmlp.h).  A new file gets mode
        0666 under the umask; an existing one keeps its mode.

        path: str, bytes or os.PathLike.  A path that exists and is not a
            regular file (a directory, a device) is refused; a symbolic link is
            followed.
        optimizer_state: also save the optimizer's state (momentum or Adam
            moments, step count) so that training resumes bit-identically
            after load().  The configuration, the parameters, the optimizer's
            hyperparameters and fit()'s shuffle generator are always saved;
            the forward cache and gradients never are.

        Raises SwiftMLPIOError (an OSError; missing directory, permission,
        disk full, ...), InvalidArgumentError (empty path, NUL byte).
        """
        flags = _save_flags(optimizer_state)
        encoded = _encode_path(path)
        with self._lock:
            h = self._h()
            with _io_error_names(path):
                lib.swiftmlp_save_file(h, flags, encoded)

    def to_onnx(self, path=None, opset=None):
        """The network's forward pass as an ONNX model (needs the onnx
        package): written to ``path``, or returned as bytes when ``path`` is
        None.  Input "input" and output "output", (batch, N) with a dynamic
        batch, in the network's dtype; ``opset`` defaults to 17 (13 or newer).
        onnxruntime's output equals predict() to rounding (swiftmlp._onnx)."""
        from ._onnx import to_onnx
        return to_onnx(self, path, opset)

    def to_bytes(self, optimizer_state: bool = False) -> bytes:
        """The model file save() would write, as bytes (swiftmlp_save_size and
        swiftmlp_save_buffer).  swiftmlp.from_bytes() reads it back; so does
        safetensors.numpy.load(). See save() for optimizer_state."""
        flags = _save_flags(optimizer_state)
        size, written = c_size_t(), c_size_t()
        with self._lock:
            h = self._h()
            lib.swiftmlp_save_size(h, flags, byref(size))
            buf = ctypes.create_string_buffer(size.value)
            lib.swiftmlp_save_buffer(h, flags, buf, size.value, byref(written))
        if written.value != size.value:  # pragma: no cover - a library contract violation
            raise RuntimeError(f"swiftmlp_save_buffer wrote {written.value} bytes, "
                               f"swiftmlp_save_size announced {size.value}")
        return buf.raw

    @classmethod
    def load(cls, path) -> "MLP":
        """A new network from a model file (swiftmlp_load_file); the same as
        swiftmlp.load(path)."""
        return load(path)

    @classmethod
    def from_bytes(cls, data) -> "MLP":
        """A new network from a model file held in memory (swiftmlp_load_buffer);
        the same as swiftmlp.from_bytes(data)."""
        return from_bytes(data)

    # ---- copying / pickling -------------------------------------------------------

    def __reduce__(self):
        # Pickle/copy the whole model as its model-file bytes, optimizer state
        # included (configuration, parameters, optimizer hyperparameters and
        # state, fit()'s shuffle generator), never the raw handle (a copied
        # handle would be freed twice).  Training a copy continues exactly as
        # training the original would.  The forward cache and gradients are
        # not copied (a copy needs a forward() before backward()).
        return (_from_model_bytes, (self.to_bytes(optimizer_state=True),))


def _from_model_bytes(data: bytes) -> MLP:
    """Unpickle an MLP (see MLP.__reduce__)."""
    return from_bytes(data)


def _restore(sizes, dtype, seed, params, config=None, optimizer=None):
    # Unpickles MLPs pickled by swiftmlp 0.2/0.3.0 before model files existed.
    net = MLP(sizes, dtype=dtype, seed=seed, **(config or {}))
    net.set_flat_params(params)
    if optimizer is not None:
        net.optimizer = optimizer
    return net


def _save_flags(optimizer_state) -> int:
    if not isinstance(optimizer_state, (bool, np.bool_)):
        raise TypeError(f"optimizer_state must be True or False, not "
                        f"{type(optimizer_state).__name__}")
    return _lib.SAVE_OPTIMIZER_STATE if optimizer_state else _lib.SAVE_DEFAULT


def _encode_path(path) -> bytes:
    """A file-system path (str, bytes, os.PathLike) as the bytes the OS sees
    (os.fsencode: undecodable bytes of a str path survive)."""
    if isinstance(path, (bytearray, memoryview, np.ndarray)):
        raise TypeError(f"a path must be str, bytes or os.PathLike, not {type(path).__name__} "
                        f"(for a model held in memory use swiftmlp.from_bytes)")
    try:
        encoded = os.fsencode(os.fspath(path))
    except TypeError:
        raise TypeError(f"a path must be str, bytes or os.PathLike, not "
                        f"{type(path).__name__}") from None
    if b"\0" in encoded:
        # ctypes would cut the name at the NUL and use another file.
        raise_error(InvalidArgumentError,
                    f"path {path!r:.80} contains a NUL byte (for a model held in memory use "
                    f"swiftmlp.from_bytes)")
    return encoded


class _io_error_names:
    """Context manager: a SwiftMLPIOError raised inside gets ``filename = path``."""

    def __init__(self, path):
        self._path = path

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and isinstance(exc, SwiftMLPIOError):
            exc.filename = os.fspath(self._path)
        return False


def load(path, *, activations=None, loss=None, leaky_slope=None, seed=0) -> MLP:
    """A new network from a model file written by MLP.save() (or by any
    safetensors writer following the documented layout), with its
    configuration, parameters, optimizer and, if saved, optimizer state
    (swiftmlp_load_file).  path: str, bytes or os.PathLike.

    Everything is validated before it is trusted: a malformed file raises
    FormatError (a ValueError) with the library's message naming the
    problem; a missing or unreadable path, a directory, a device, a FIFO, a
    socket, a symbolic link loop or a file that changes while read (a /proc
    file) raises SwiftMLPIOError (an OSError), without blocking.

    With ``activations`` (and optionally ``loss``, ``leaky_slope``, ``seed``)
    the file may be a plain weights file instead, such as PyTorch's
    ``safetensors.torch.save_file(model.state_dict(), path)`` of an
    nn.Sequential: its ``<i>.weight``/``<i>.bias`` tensors become the layers
    and everything else takes MLP()'s defaults (swiftmlp._weights; needs the
    safetensors package)."""
    if activations is not None:
        from ._weights import load_weights
        return load_weights(path, activations, loss, leaky_slope, seed)
    if (loss, leaky_slope) != (None, None):
        raise_error(InvalidArgumentError, "load(): loss and leaky_slope describe a plain weights "
                                          "file's architecture: give activations too")
    encoded = _encode_path(path)
    handle = c_void_p()
    with _io_error_names(path):
        lib.swiftmlp_load_file(encoded, byref(handle))
    return MLP._from_handle(handle, "swiftmlp_load_file")


_EMPTY = ctypes.create_string_buffer(1)  # a valid address for a 0-byte model


def from_bytes(data) -> MLP:
    """A new network from a model file held in memory (MLP.to_bytes(), or a
    file's contents): bytes, bytearray, memoryview (or any object with the
    buffer protocol whose items are bytes), or a 1-D NumPy uint8 array
    (swiftmlp_load_buffer; the data is only read, never kept).  A malformed
    model raises FormatError with the library's message."""
    buf = _model_buffer(data)
    handle = c_void_p()
    address = buf.ctypes.data if buf.size else _EMPTY
    lib.swiftmlp_load_buffer(address, buf.size, byref(handle))
    return MLP._from_handle(handle, "swiftmlp_load_buffer")


def _model_buffer(data) -> np.ndarray:
    """The bytes of a model as a C-contiguous uint8 array (no copy when they
    already are contiguous)."""
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise_error(DTypeError, f"model bytes: a NumPy array must have dtype uint8, got "
                                    f"{data.dtype} (use arr.view(np.uint8) for raw bytes)")
        if data.ndim != 1:
            raise_error(InvalidArgumentError, f"model bytes: a NumPy array must be 1-D, got "
                                              f"shape {data.shape}")
        if not data.flags.c_contiguous:
            _check_copy(data.shape, np.uint8, "model bytes")
        return np.ascontiguousarray(data)
    if isinstance(data, (str, os.PathLike)):
        raise TypeError(f"from_bytes() needs the model's bytes, not a {type(data).__name__} "
                        f"(to read a file use swiftmlp.load(path))")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"from_bytes() needs bytes, bytearray, memoryview or a uint8 array, "
                        f"not {type(data).__name__}") from None
    if view.itemsize != 1:
        raise_error(DTypeError, f"model bytes: a buffer of {view.itemsize}-byte items (format "
                                f"{view.format!r}); pass bytes (e.g. memoryview.cast('B'))")
    if not view.c_contiguous:
        _check_copy((view.nbytes,), np.uint8, "model bytes")
        view = memoryview(view.tobytes())
    return np.frombuffer(view, dtype=np.uint8)
