"""The :class:`MLP` class: a NumPy-friendly wrapper around one swiftmlp_net."""

from __future__ import annotations

import operator
import os
import threading
from ctypes import byref, c_double, c_int, c_size_t, c_void_p

import numpy as np

from . import _lib
from ._errors import (BufferSizeError, DTypeError, InvalidArgumentError, LayerIndexError,
                      NonFiniteError, StateError, TooLargeError)
from ._lib import lib, raise_error

__all__ = ["MLP"]

_DTYPE_CODES = {np.dtype(np.float32): _lib.FLOAT32, np.dtype(np.float64): _lib.FLOAT64}
_CODE_DTYPES = {code: dt for dt, code in _DTYPE_CODES.items()}


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


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


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
    """A multilayer perceptron with sigmoid activations and MSE loss, computed
    by libswiftmlp (Swift).

    ``MLP(sizes, dtype="float64", seed=0)`` creates a network with layer sizes
    ``[N0, N1, ..., NL]`` (at least two entries; L = len(sizes) - 1 weight
    layers).  ``dtype`` is ``"float32"``/``np.float32`` or
    ``"float64"``/``np.float64``.  ``seed`` (an int in 0..2**64-1) makes the
    initial parameters bit-identical on every run; ``seed=None`` draws a
    random seed.

    Math (see include/swiftmlp.h): ``f_l = g_{l-1} @ W_l.T + b_l``,
    ``g_l = sigmoid(f_l)``, ``L = mean((g_L - y)**2)`` over batch and outputs,
    plain SGD ``W -= lr * dL/dW``.

    Input conversion policy (forward x, backward y, parameter writes):

    * Arrays must be 2-D ``(batch, features)``.  A 1-D array is NOT taken as
      a single sample (it would be ambiguous when N0 == 1); use
      ``x[None, :]`` or ``x.reshape(1, -1)``.
    * Lists, ints, bools and float16/float32 are converted to the network's
      dtype.  For a float32 network float64 input is ACCEPTED and rounded to
      float32 (NumPy's usual "same_kind" casting; the values are rounded to
      the precision the network computes in anyway).  A finite value that
      overflows float32 raises NonFiniteError.  Complex, object and string
      arrays raise DTypeError.
    * Fortran-ordered, strided, non-native-byte-order and read-only arrays are
      copied to a C-contiguous array first; the caller's array is never
      modified.

    Every array read from the network (``weights[i]``, ``biases[i]``,
    ``weight_grads[i]``, ``bias_grads[i]``, ``get_params()``,
    ``get_grads()``) is a fresh READ-ONLY copy, so an in-place write such as
    ``net.weights[0][0, 0] = 1.0`` raises instead of being silently lost;
    write with ``net.weights[0] = W`` or ``set_params()`` (``.copy()`` gives a
    writable array).  ``forward()`` returns a new writable array owned by the
    caller.

    The network holds library memory: release it with ``close()`` (idempotent)
    or use ``with MLP(...) as net:``.  A closed network raises StateError.
    Calls on one network are serialised by an internal lock, so sharing a
    network between threads is safe (but not parallel).
    """

    def __init__(self, sizes, dtype="float64", seed: int | None = 0):
        self._handle = None  # set first: __del__ must work even if __init__ fails
        self._lock = threading.RLock()
        self._free = lib.swiftmlp_free  # kept for __del__ at interpreter shutdown
        self._fwd_batch = None  # batch of the last forward, while its cache is valid

        dt = _network_dtype(dtype)
        sizes_list = self._check_sizes(sizes)
        seed = self._check_seed(seed)

        n = len(sizes_list)
        c_sizes = (c_size_t * max(n, 1))(*sizes_list)
        handle = c_void_p()
        lib.swiftmlp_create(c_sizes, n, _DTYPE_CODES[dt], seed, byref(handle))
        if not handle.value:  # pragma: no cover - a library contract violation
            raise RuntimeError("swiftmlp_create returned OK but no handle")
        self._handle = handle

        # Read the shape back from the library (and cache it: it never changes).
        code = c_int()
        lib.swiftmlp_get_dtype(handle, byref(code))
        n_layers = c_size_t()
        lib.swiftmlp_layer_count(handle, byref(n_layers))
        got_sizes = (c_size_t * (n_layers.value + 1))()
        lib.swiftmlp_get_sizes(handle, got_sizes, n_layers.value + 1)
        count = c_size_t()
        lib.swiftmlp_param_count(handle, byref(count))

        self._dtype = _CODE_DTYPES[code.value]
        self._code = code.value
        self._sizes = tuple(int(s) for s in got_sizes)
        self._param_count = int(count.value)
        self._seed = seed
        if self._dtype != dt or list(self._sizes) != sizes_list:  # pragma: no cover
            self.close()
            raise RuntimeError("libswiftmlp reports a different shape than requested")

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

    def _h(self) -> c_void_p:
        h = self._handle
        if h is None:
            raise_error(StateError, "this MLP has been closed")
        return h

    def _as_input(self, value, what: str, ndim: int | None = None) -> np.ndarray:
        """`value` as a C-contiguous array of the network's dtype (see the policy
        in the class docstring).  Never returns the caller's array if it would
        need to be changed; may return it unchanged when it is already usable
        (the library only reads it)."""
        arr = np.asarray(value)
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
        # np.ascontiguousarray copies strided, Fortran-order and byte-swapped
        # arrays (and returns 0-d input as 1-d: reshape keeps the caller's shape,
        # so a scalar never passes for a 1-element array).
        if arr.dtype == self._dtype:
            return np.ascontiguousarray(arr).reshape(arr.shape)
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
    def _ptr(a: np.ndarray) -> c_void_p:
        # Only ever called with arrays made C-contiguous of the network dtype
        # just before; the element count passed alongside is always a.size.
        assert a.flags.c_contiguous
        return c_void_p(a.ctypes.data)

    # ---- shape and type ---------------------------------------------------------

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
        """The seed the initial parameters were drawn with."""
        return self._seed

    @property
    def closed(self) -> bool:
        return self._handle is None

    def layer_offsets(self, layer: int) -> tuple:
        """(w_offset, b_offset): where W_layer and b_layer start in the flat
        get_params()/get_grads() arrays."""
        layer = _LayerArrays(self, "weights")._index(layer)
        w_off, b_off = c_size_t(), c_size_t()
        with self._lock:
            lib.swiftmlp_layer_offsets(self._h(), layer, byref(w_off), byref(b_off))
        return int(w_off.value), int(b_off.value)

    # ---- training ------------------------------------------------------------------

    def forward(self, x) -> np.ndarray:
        """Forward pass of a batch.  x: (B, N0) array-like, B >= 1.
        Returns a new (B, NL) array of the network's dtype (owned by the caller).
        The batch is cached for the following backward()."""
        x = self._as_input(x, "x", ndim=2)
        batch, width = x.shape
        n0, nl = self._sizes[0], self._sizes[-1]
        if batch == 0:
            raise_error(InvalidArgumentError, f"x is an empty batch (shape {x.shape}); "
                                              f"the batch size must be >= 1")
        if width != n0:
            raise_error(BufferSizeError,
                        f"x has shape {x.shape}: {width} features per sample, but the "
                        f"network's input size N0 is {n0}")
        if batch * sum(self._sizes) > _lib.MAX_BATCH_ELEMENTS:
            # Checked before allocating y, which could be enormous.
            raise_error(TooLargeError,
                        f"batch {batch} x (N0+...+NL = {sum(self._sizes)}) activations "
                        f"exceed SWIFTMLP_MAX_BATCH_ELEMENTS = {_lib.MAX_BATCH_ELEMENTS}; "
                        f"use smaller batches")
        y = np.empty((batch, nl), dtype=self._dtype)
        with self._lock:
            lib.swiftmlp_forward(self._h(), self._code, self._ptr(x), x.size, batch,
                                 self._ptr(y), y.size)
            self._fwd_batch = batch
        return y

    __call__ = forward

    def backward(self, y_true) -> float:
        """Backward pass for the batch of the last forward(): computes and stores
        every gradient and returns the loss mean((g_L - y_true)**2) as a float.
        y_true: (B, NL) array-like with B the batch of the last forward."""
        y = self._as_input(y_true, "y_true", ndim=2)
        nl = self._sizes[-1]
        loss = c_double()
        with self._lock:
            h = self._h()
            if self._fwd_batch is None:
                raise_error(StateError,
                            "backward() needs a forward() first (since the network was "
                            "created, or since its parameters last changed by step() or "
                            "a parameter write)")
            if y.shape != (self._fwd_batch, nl):
                raise_error(BufferSizeError if y.shape[0] == self._fwd_batch else StateError,
                            f"y_true has shape {y.shape}, but the last forward() was a "
                            f"batch of {self._fwd_batch} and the network has {nl} outputs: "
                            f"expected ({self._fwd_batch}, {nl})")
            lib.swiftmlp_backward(h, self._code, self._ptr(y), y.size, y.shape[0],
                                  byref(loss))
        return float(loss.value)

    def step(self, lr: float) -> None:
        """One plain SGD step with the gradients of the last backward():
        W -= lr * dL/dW, b -= lr * dL/db.  lr must be finite and >= 0.
        Invalidates the forward cache (backward() then needs a new forward())."""
        if isinstance(lr, (bool, np.bool_)):
            raise TypeError("lr must be a real number")
        try:
            lr = float(lr)
        except (TypeError, ValueError):
            raise TypeError(f"lr must be a real number, not {type(lr).__name__}") from None
        with self._lock:
            # The domain (finite, >= 0) and call order are checked by the library.
            lib.swiftmlp_step(self._h(), lr)
            self._fwd_batch = None

    def train_step(self, x, y_true, lr: float) -> float:
        """forward(x), backward(y_true), step(lr); returns the loss before the step."""
        with self._lock:
            self.forward(x)
            loss = self.backward(y_true)
            self.step(lr)
        return loss

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
            w = self._as_input(w, f"weights[{layer}]")
            if w.shape != wshape:
                raise_error(BufferSizeError,
                            f"weights[{layer}] must have shape {wshape} "
                            f"(N_out={wshape[0]}, N_in={wshape[1]}), got {w.shape}")
        if b is not None:
            b = self._as_input(b, f"biases[{layer}]")
            if b.shape != bshape:
                raise_error(BufferSizeError,
                            f"biases[{layer}] must have shape {bshape}, got {b.shape}")
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

    def get_params(self) -> np.ndarray:
        """All parameters as a read-only flat array of param_count elements, in
        the documented layout: for each layer W (row-major) then b."""
        out = np.empty(self._param_count, dtype=self._dtype)
        with self._lock:
            lib.swiftmlp_get_params(self._h(), self._code, self._ptr(out), out.size)
        return _readonly(out)

    def set_params(self, flat) -> None:
        """Replace all parameters from a 1-D array of exactly param_count
        elements (layout of get_params()).  Non-finite values raise
        NonFiniteError and change nothing."""
        flat = self._as_input(flat, "params", ndim=1)
        if flat.size != self._param_count:
            raise_error(BufferSizeError,
                        f"params has {flat.size} elements, the network has "
                        f"{self._param_count} parameters")
        with self._lock:
            lib.swiftmlp_set_params(self._h(), self._code, self._ptr(flat), flat.size)
            self._fwd_batch = None

    def get_grads(self) -> np.ndarray:
        """The gradients of the last backward() as a read-only flat array, in
        the parameter layout."""
        out = np.empty(self._param_count, dtype=self._dtype)
        with self._lock:
            lib.swiftmlp_get_grads(self._h(), self._code, self._ptr(out), out.size)
        return _readonly(out)

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

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"{self._param_count} params"
        return (f"MLP(sizes={list(self._sizes)}, dtype={self._dtype.name!r}, "
                f"seed={self._seed})  # {state}")

    # ---- copying / pickling -------------------------------------------------------

    def __reduce__(self):
        # Pickle/copy the parameters, never the raw handle (a copied handle
        # would be freed twice).  The copy has no forward cache or gradients.
        return (_restore, (self._sizes, self._dtype.name, self._seed, self.get_params()))


def _restore(sizes, dtype, seed, params):
    net = MLP(sizes, dtype=dtype, seed=seed)
    net.set_params(params)
    return net
