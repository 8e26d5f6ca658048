"""The :class:`MLP` class: a NumPy-friendly wrapper around one swiftmlp_net.

The class is assembled from one module per concern: _convert (array
conversion and shape checks), _training (forward, backward, step,
train_step, the optimizer), _fit (whole data sets), _layers (parameters,
gradients and the slides' quantities) and _files (model files).  This module
holds its configuration, its handle and its lifecycle."""

from __future__ import annotations

import os
import threading
from ctypes import byref, c_int, c_size_t, c_void_p

import numpy as np

from . import _lib, _optim
from ._convert import (CODE_DTYPES, DTYPE_CODES, Conversion, integer, lookup, network_dtype,
                       sequence_items)
from ._errors import InvalidArgumentError, StateError, TooLargeError
from ._files import Files, from_bytes, load
from ._fit import DataSets
from ._layers import Layers
from ._lib import lib, raise_error
from ._training import Training

__all__ = ["MLP", "ACTIVATIONS", "LOSSES", "INITS", "load", "from_bytes"]

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


class MLP(Training, DataSets, Layers, Files, Conversion):
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
      copy, no conversion (the library only reads it).  Once forward(),
      backward() or train_step() has checked a shape, its next calls with
      such arrays of the same shape (an exact np.ndarray, not a subclass)
      go to the library with the arguments prepared by that first call
      (swiftmlp._training.PreparedCall).

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
        dt = network_dtype(dtype)
        sizes_list = self._check_sizes(sizes)
        seed = self._check_seed(seed)
        act_codes = self._check_activations(activations)
        loss_code = lookup("loss", LOSSES, loss)
        init_code = lookup("init", INITS, init)
        slope = _optim._real(leaky_slope, "leaky_slope")  # finiteness: the library

        cfg = _lib.Config()
        lib.swiftmlp_config_default(byref(cfg))
        n = len(sizes_list)
        c_sizes = (c_size_t * max(n, 1))(*sizes_list)
        cfg.sizes, cfg.n_sizes = c_sizes, n
        cfg.dtype, cfg.seed = DTYPE_CODES[dt], seed
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
        self._handle = self._usable = None  # first: __del__ must work even if __init__ fails
        self._lock = threading.RLock()
        self._free = lib.swiftmlp_free  # kept for __del__ at interpreter shutdown
        self._fit_thread = None  # thread id while fit() runs (its callback must not re-enter)

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
        # The handle as the prepared calls pass it: None while the network
        # cannot be used (closed, or inside fit(), which holds the lock: only
        # its own callback can get here then).
        self._usable = handle.value
        got = _lib.Config()
        lib.swiftmlp_get_config(handle, byref(got))
        n_layers = int(got.n_sizes) - 1
        self._dtype = CODE_DTYPES[got.dtype]
        self._code = int(got.dtype)
        self._c_code = c_int(self._code)  # the prepared calls' dtype argument (never changed)
        self._init_calls()
        self._sizes = tuple(int(got.sizes[i]) for i in range(got.n_sizes))
        self._param_count = _lib.param_count(handle)
        self._seed = int(got.seed)
        self._activations = tuple(_ACTIVATION_NAMES[got.activations[i]]
                                  for i in range(got.n_activations))
        self._loss_code = int(got.loss)
        self._init_code = int(got.init)
        self._leaky_slope = float(got.leaky_slope)
        if len(self._activations) != n_layers:  # pragma: no cover
            self.close()
            raise RuntimeError(f"{function}: libswiftmlp reports {len(self._activations)} "
                               f"activations for {n_layers} layers")

    # ---- argument checks ---------------------------------------------------------

    @staticmethod
    def _check_sizes(sizes) -> list[int]:
        items = sequence_items(sizes, "sizes must be a sequence of integers, e.g. [784, 256, 10]")
        out = []
        for k, s in enumerate(items):
            v = integer(s, f"sizes[{k}] is a bool; layer sizes must be integers",
                        f"sizes[{k}] = {s!r} is not an integer")
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
        seed = integer(seed, "seed must be an integer",
                       f"seed must be an integer, not {type(seed).__name__}")
        if not 0 <= seed < 2 ** 64:
            raise_error(InvalidArgumentError, f"seed {seed} is outside 0..2**64-1")
        return seed

    @staticmethod
    def _check_activations(activations):
        """None, one name, or a sequence of names -> None or a list of codes.
        The count (1 or L) and the placement of softmax are checked by the library."""
        if activations is None:
            return None
        if isinstance(activations, str):
            return [lookup("activation", ACTIVATIONS, activations)]
        try:
            items = list(activations)
        except TypeError:
            raise TypeError("activations must be a name or a sequence of names, "
                            "e.g. ['relu', 'softmax']") from None
        return [lookup(f"activations[{k}]", ACTIVATIONS, a) for k, a in enumerate(items)]

    def _h(self) -> c_void_p:
        h = self._handle
        if h is None:
            raise_error(StateError, "this MLP has been closed")
        if self._fit_thread is not None and self._fit_thread == threading.get_ident():
            raise_error(StateError, "the network cannot be used from inside its own fit() "
                                    "callback (the library is still training it)")
        return h

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

    # ---- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Release the library memory.  Idempotent; the network is unusable after."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            h, self._handle, self._usable = self._handle, None, None
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
