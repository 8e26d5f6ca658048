"""Model files: save(), to_bytes(), load(), from_bytes() (safetensors, see
include/swiftmlp.h "Saving and loading"), to_onnx() and pickling."""

from __future__ import annotations

import ctypes
import os
from ctypes import byref, c_size_t, c_void_p

import numpy as np

from . import _lib
from ._convert import check_copy
from ._errors import DTypeError, InvalidArgumentError, SwiftMLPIOError
from ._lib import lib, raise_error


class Files:
    """MLP methods: saving and loading model files, and ONNX export."""

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
                _lib.save_file(h, flags, encoded)

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


def load(path, *, activations=None, loss=None, leaky_slope=None, seed=0):
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
    from .mlp import MLP
    return MLP._from_handle(handle, "swiftmlp_load_file")


_EMPTY = ctypes.create_string_buffer(1)  # a valid address for a 0-byte model


def from_bytes(data):
    """A new network from a model file held in memory (MLP.to_bytes(), or a
    file's contents): bytes, bytearray, memoryview (or any object with the
    buffer protocol whose items are bytes), or a 1-D NumPy uint8 array
    (swiftmlp_load_buffer; the data is only read, never kept).  A malformed
    model raises FormatError with the library's message."""
    buf = _model_buffer(data)
    handle = c_void_p()
    address = buf.ctypes.data if buf.size else _EMPTY
    lib.swiftmlp_load_buffer(address, buf.size, byref(handle))
    from .mlp import MLP
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
            check_copy(data.shape, np.uint8, "model bytes")
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
        check_copy((view.nbytes,), np.uint8, "model bytes")
        view = memoryview(view.tobytes())
    return np.frombuffer(view, dtype=np.uint8)
