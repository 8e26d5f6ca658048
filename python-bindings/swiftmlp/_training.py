"""Training one batch at a time (forward, backward, step, train_step) and the
optimizer, with the prepared library call they share.

The call order (backward needs a forward of the same batch, a step needs
gradients, train_step needs an optimizer) is the library's to enforce: its
SWIFTMLP_ERR_STATE and message are what the caller sees; the wrapper keeps
no record of the forward cache."""

from __future__ import annotations

from ctypes import POINTER, byref, c_double, c_int64, c_size_t

import numpy as np

from . import _lib, _optim
from ._convert import C_ALIGNED, DATA_BIAS, DATA_OFFSET, WORDS, address, asarray
from ._errors import StateError
from ._lib import lib

_ndarray = np.ndarray
_empty = np.empty


class _UseOptimizer:
    """Default of step(lr=...): apply the configured optimizer."""

    def __repr__(self) -> str:
        return "<net.optimizer>"


USE_OPTIMIZER = _UseOptimizer()


# The prepared calls (PreparedCall.kind), with their C argument order;
# swiftmlp_predict takes forward's arguments.
_FORWARD, _BACKWARD, _TRAIN_STEP = "swiftmlp_forward", "swiftmlp_backward", "swiftmlp_train_step"
_PREDICT = "swiftmlp_predict"


class PreparedCall:
    """One hot-path library call (swiftmlp_forward, _backward, _train_step or
    _predict) with its size arguments prepared for arrays of one set of shapes.

    ``run(net, a, b, None)`` calls the library at once when the ndarrays `a` (x,
    or backward's targets) and `b` (train_step's targets) are exactly
    np.ndarray, of the network's dtype object, C-contiguous, aligned and of
    the prepared shapes: then every check and conversion of the general path
    would be a no-op and the library can read them as they are.  Otherwise
    it returns None; the method then validates and converts its arguments,
    calls ``prepare`` with their shapes and sizes and ``run`` again with the
    entry prepare returned.  The prepared entry is one tuple, replaced as a
    whole and never modified, so a thread reading it sees one consistent
    entry.  The sizes are c_size_t objects, which ctypes passes to c_size_t
    parameters more cheaply than ints."""

    __slots__ = ("function", "kind", "prepared", "lock", "dtype", "code", "loss")

    def __init__(self, kind: str, net):
        self.function = _lib.unchecked(kind)  # the status is tested in run()
        self.kind = kind
        # The network's constants the call uses (not the network itself:
        # a reference back to it would make a cycle that delays its release).
        self.lock, self.dtype, self.code = net._lock, net._dtype, net._c_code
        # The loss out-parameter, passed as the c_double itself (ctypes passes
        # its address to the POINTER(c_double) parameter); read under the lock.
        self.loss = c_double()
        # (shape of a, shape of b or of forward's output, size arguments)
        self.prepared = (None, None, ())

    def prepare(self, shape_a, shape_b, sizes) -> tuple:
        """Remember the validated shapes; returns the new entry."""
        prepared = (shape_a, shape_b, tuple(c_size_t(n) for n in sizes))
        if DATA_OFFSET is not None:  # else no array matches (no cheap address)
            self.prepared = prepared
        return prepared

    def run(self, net, a, b, prepared):
        """The library call on `net` under its lock, raising its error:
        forward's or predict's output array, or the loss.  With `prepared` None, the
        prepared entry is used if `a` and `b` (None for forward and
        backward) match it, else the result is None."""
        if prepared is None:
            shape_a, shape_b, sizes = self.prepared
            dtype = self.dtype
            if (type(a) is not _ndarray or a.shape != shape_a or a.dtype is not dtype
                    or a.flags.num & C_ALIGNED != C_ALIGNED):
                return None
            if b is not None and (type(b) is not _ndarray or b.shape != shape_b
                                  or b.dtype is not dtype
                                  or b.flags.num & C_ALIGNED != C_ALIGNED):
                return None
            # (an entry is stored only when DATA_OFFSET is known: see address())
            pa = WORDS[(id(a) + DATA_BIAS) >> 3]
            pb = None if b is None else WORDS[(id(b) + DATA_BIAS) >> 3]
        else:
            shape_a, shape_b, sizes = prepared
            pa = address(a)
            pb = None if b is None else address(b)
        kind = self.kind
        with self.lock:
            h = net._usable
            if h is None:
                h = net._h().value  # StateError: closed, or inside fit()'s callback
            if kind is _TRAIN_STEP:
                status = self.function(h, self.code, pa, sizes[0], pb, sizes[1], sizes[2],
                                       self.loss)
            elif kind is _BACKWARD:
                status = self.function(h, self.code, pa, sizes[0], sizes[1], self.loss)
            else:
                y = _empty(shape_b, self.dtype)
                status = self.function(h, self.code, pa, sizes[0], sizes[1], address(y),
                                       sizes[2])
                if not status:
                    return y
            if status:
                _lib.raise_for_status(status, kind)
            return self.loss.value


class Training:
    """MLP methods: forward, backward, step, train_step and the optimizer."""

    def _init_calls(self) -> None:
        """The prepared calls, once the network's dtype is known."""
        self._forward_call = PreparedCall(_FORWARD, self)
        self._backward_call = PreparedCall(_BACKWARD, self)
        self._step_call = PreparedCall(_TRAIN_STEP, self)
        self._predict_call = PreparedCall(_PREDICT, self)

    def forward(self, x) -> np.ndarray:
        """Forward pass of a batch.  x: (B, N0) array-like, B >= 1.
        Returns a new (B, NL) array of the network's dtype (owned by the caller).
        The batch is cached for the following backward() (and inspect())."""
        call = self._forward_call
        y = call.run(self, x, None, None)
        if y is None:
            # (the batch limit is checked before x is copied and y allocated)
            x = self._as_input(x, "x", ndim=2, check=self._batch_rows)
            batch, nl = x.shape[0], self._sizes[-1]
            y = call.run(self, x, None, call.prepare(x.shape, (batch, nl),
                                                     (x.size, batch, batch * nl)))
        return y

    __call__ = forward

    def backward(self, y_true) -> float:
        """Backward pass for the batch of the last forward(): computes and stores
        every gradient and returns the batch's loss as a float.

        y_true: (B, NL) array-like with B the batch of the last forward; for a
        cross-entropy network also a 1-D integer array of B class indices
        (swiftmlp_backward_labels).  Without a forward of that batch since the
        parameters last changed, the library's StateError."""
        call = self._backward_call
        loss = call.run(self, y_true, None, None)
        if loss is None:
            arr = asarray(y_true, "y_true")
            if self._is_labels(arr):
                labels = self._as_labels(arr, "y_true", check_range=False)  # range: the library
                out = c_double()
                with self._lock:
                    lib.swiftmlp_backward_labels(self._h(),
                                                 labels.ctypes.data_as(POINTER(c_int64)),
                                                 labels.size, labels.size, byref(out))
                return float(out.value)
            y = self._as_input(arr, "y_true", ndim=2,
                               check=lambda a: self._check_output_width(a, "y_true"))
            loss = call.run(self, y, None, call.prepare(y.shape, None, (y.size, y.shape[0])))
        return loss

    def step(self, lr=USE_OPTIMIZER) -> None:
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
        if lr is USE_OPTIMIZER:
            with self._lock:
                lib.swiftmlp_optimizer_step(self._h())
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

    def train_step(self, x, y_true, lr=USE_OPTIMIZER) -> float:
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
        if lr is not USE_OPTIMIZER:
            with self._lock:
                self.forward(x)
                loss = self.backward(y_true)
                self.step(lr)
            return loss
        call = self._step_call
        loss = call.run(self, x, y_true, None)
        if loss is None:
            x = self._as_input(x, "x", ndim=2, check=self._batch_rows)
            batch = x.shape[0]
            y = self._targets(y_true, "y_true", batch, "x")  # class indices -> one-hot rows
            loss = call.run(self, x, y, call.prepare(x.shape, y.shape, (x.size, y.size, batch)))
        return loss

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
        with self._lock:
            return _lib.step_count(self._h())

