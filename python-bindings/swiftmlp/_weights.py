"""Plain weights files: a safetensors file without swiftmlp's metadata (for
example ``safetensors.torch.save_file(model.state_dict(), path)`` of an
``nn.Sequential`` of ``Linear`` and activation modules), loaded as a network
whose architecture the caller gives (``swiftmlp.load(path, activations=...)``).

The tensors are parsed by the ``safetensors`` package (needed for this path
only).  Layers are the ``<i>.weight`` / ``<i>.bias`` pairs in order of i
(any common prefix, such as ``model.``; swiftmlp's own ``layers.<l>.`` names
too); ``optimizer.*`` tensors of a swiftmlp file are ignored.  Every
metadata key takes the ``MLP`` constructor's default (seed 0, uniform init,
no optimizer); the library checks every value (finite) as it sets the layers.
"""

from __future__ import annotations

import os
import re
import stat

import numpy as np

from ._errors import FormatError, SwiftMLPIOError
from ._lib import raise_error

_LAYER_KEY = re.compile(r"^(.*?)(\d+)\.(weight|bias)$")


def _read_regular_file(path) -> bytes:
    """The file's bytes; never blocks on a FIFO or reads a device or directory."""
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise SwiftMLPIOError(f"cannot open {name!r}: {exc.strerror}", status=SwiftMLPIOError.status,
                              status_text="i/o error") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SwiftMLPIOError(f"{name!r} is not a regular file", status=SwiftMLPIOError.status,
                                  status_text="i/o error")
        chunks = []
        while chunk := os.read(fd, 1 << 24):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def layers_of(tensors: dict) -> list:
    """[(weight, bias), ...] in layer order from a name -> array dict, or FormatError."""
    found, prefixes = {}, set()
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            continue
        m = _LAYER_KEY.match(key)
        if m is None:
            raise_error(FormatError, f"tensor {key!r} is not a layer's weight or bias "
                                     f"(expected names such as '0.weight' or 'layers.0.bias')")
        prefixes.add(m.group(1))
        found.setdefault(int(m.group(2)), {})[m.group(3)] = value
    if not found:
        raise_error(FormatError, "the file holds no layer (no '<i>.weight' tensor)")
    if len(prefixes) > 1:
        raise_error(FormatError, f"tensor names have different prefixes: {sorted(prefixes)}")
    layers = []
    for index in sorted(found):
        pair = found[index]
        for part in ("weight", "bias"):
            if part not in pair:
                raise_error(FormatError, f"layer {index} has no {part} tensor")
        w, b = pair["weight"], pair["bias"]
        if w.ndim != 2 or b.ndim != 1 or b.shape[0] != w.shape[0]:
            raise_error(FormatError, f"layer {index}: weight {w.shape} and bias {b.shape} are not "
                                     f"(N_out, N_in) and (N_out,)")
        if layers and w.shape[1] != layers[-1][0].shape[0]:
            raise_error(FormatError, f"layer {index} takes {w.shape[1]} inputs, the layer before "
                                     f"gives {layers[-1][0].shape[0]}")
        layers.append((w, b))
    dtypes = {a.dtype for pair in layers for a in pair}
    if len(dtypes) != 1 or next(iter(dtypes)) not in (np.float32, np.float64):
        raise_error(FormatError, f"tensors must all be F32 or all F64, got {sorted(map(str, dtypes))}")
    return layers


def load_weights(path, activations, loss, leaky_slope, seed):
    """The network of a plain weights file with the given architecture."""
    try:
        from safetensors import SafetensorError
        from safetensors.numpy import load as load_safetensors
    except ImportError as exc:
        raise ImportError("swiftmlp: loading a plain weights file needs the safetensors "
                          "package (pip install safetensors)") from exc
    from .mlp import MLP

    data = _read_regular_file(path)
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError) as exc:
        raise_error(FormatError, f"{os.fspath(path)!r} is not a safetensors file: {exc}")
    layers = layers_of(tensors)
    sizes = [layers[0][0].shape[1]] + [w.shape[0] for w, _ in layers]
    net = MLP(sizes, dtype=layers[0][0].dtype, seed=seed, activations=activations,
              loss="mse" if loss is None else loss,
              **({} if leaky_slope is None else {"leaky_slope": leaky_slope}))
    for layer, (w, b) in enumerate(layers):
        net.set_layer(layer, w, b)
    return net
