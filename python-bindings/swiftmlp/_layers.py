"""Layer views and inspection: the parameters and gradients of an MLP, per
layer (net.weights[i], ...) and flat, their layout, and the slides'
quantities of the last training batch (quantity(), inspect())."""

from __future__ import annotations

import operator

import numpy as np

from . import _lib
from ._convert import address, readonly
from ._errors import BufferSizeError, InvalidArgumentError, LayerIndexError, StateError
from ._lib import lib, raise_error

# The slides' quantities: inspect() key -> swiftmlp_quantity.
QUANTITIES = {"f": _lib.Q_F, "g": _lib.Q_G, "dL_df": _lib.Q_DL_DF, "dL_dg": _lib.Q_DL_DG}


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


class Layers:
    """MLP methods: parameters, gradients and the slides' quantities."""

    def layer_offsets(self, layer: int) -> tuple:
        """(w_offset, b_offset): where W_layer and b_layer start in the flat
        get_flat_params()/get_flat_grads() arrays."""
        layer = _LayerArrays(self, "weights")._index(layer)
        with self._lock:
            return _lib.layer_offsets(self._h(), layer)

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
        if name not in QUANTITIES:
            raise_error(InvalidArgumentError,
                        f"unknown quantity {name!r}: use one of {', '.join(QUANTITIES)}")
        if isinstance(layer, (bool, np.bool_)):
            raise TypeError("layer must be an integer")
        layer = operator.index(layer)
        if not 0 <= layer <= self.num_layers:
            raise_error(LayerIndexError,
                        f"layer {layer} out of range: the slides' layers are 0 (the input) "
                        f"to L = {self.num_layers}")
        with self._lock:
            h = self._h()
            rows = _lib.cached_rows(h)
            out = np.empty((rows, self._sizes[layer]), dtype=self._dtype)
            lib.swiftmlp_get_quantity(h, QUANTITIES[name], layer, self._code,
                                      address(out), out.size)
        return readonly(out)

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
            _lib.cached_rows(self._h())  # StateError before any forward
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
            fn(self._h(), layer, self._code, address(w), w.size, address(b), b.size)
        return readonly(w), readonly(b)

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
            lib.swiftmlp_set_layer(h, layer, self._code, address(w), w.size,
                                   address(b), b.size)

    def set_layer(self, layer: int, weights, biases) -> None:
        """Replace W_layer and b_layer together (one library call)."""
        layer = _LayerArrays(self, "weights")._index(layer)
        self._set_layer(layer, w=weights, b=biases)

    def get_flat_params(self) -> np.ndarray:
        """All parameters as a read-only flat array of param_count elements, in
        the documented layout: for each layer W (row-major) then b."""
        out = np.empty(self._param_count, dtype=self._dtype)
        with self._lock:
            lib.swiftmlp_get_params(self._h(), self._code, address(out), out.size)
        return readonly(out)

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
            lib.swiftmlp_set_params(self._h(), self._code, address(flat), flat.size)

    def get_flat_grads(self) -> np.ndarray:
        """The gradients of the last backward() as a read-only flat array, in
        the parameter layout."""
        out = np.empty(self._param_count, dtype=self._dtype)
        with self._lock:
            lib.swiftmlp_get_grads(self._h(), self._code, address(out), out.size)
        return readonly(out)

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
            lib.swiftmlp_set_grads(self._h(), self._code, address(flat), flat.size)
