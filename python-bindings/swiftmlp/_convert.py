"""Array conversion and shape checks: how the arguments of an MLP become the
C-contiguous arrays of the network's dtype the library reads.

Every check of a shape or size comes before any copy or conversion, so a
huge input (a broadcast view of a few numbers, say) raises TooLargeError or
BufferSizeError at once instead of being copied.  The library checks values
(finiteness, class-index range, call order); this module checks only what it
must know before it can hand the library a pointer: dimensions, widths and
the size of the copy it would make."""

from __future__ import annotations

import operator
import os
import sys
from ctypes import POINTER, c_void_p, cast

import numpy as np

from . import _lib
from ._errors import (BufferSizeError, DTypeError, InvalidArgumentError, NonFiniteError,
                      TooLargeError)
from ._lib import lib, raise_error

DTYPE_CODES = {np.dtype(np.float32): _lib.FLOAT32, np.dtype(np.float64): _lib.FLOAT64}
CODE_DTYPES = {code: dt for dt, code in DTYPE_CODES.items()}

#: The process's memory as an array of pointers starting at address 8:
#: WORDS[k] is the pointer stored at address 8 + 8k (read as an int, or None
#: for NULL; ctypes refuses to index a NULL base, hence 8).
WORDS = cast(8, POINTER(c_void_p))
#: flags.num bits of NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED
C_ALIGNED = 0x0001 | 0x0100


def _data_offset():
    """Where an ndarray object holds its data pointer, for address().

    NumPy's C API lays an array object out as PyArrayObject_fields: the
    PyObject header, then ``char *data`` (what PyArray_DATA() reads).  So on
    CPython the data pointer of array ``a`` is the pointer stored at
    ``id(a) + sizeof(PyObject)``, which WORDS reads more cheaply than
    ``a.ctypes.data``, read-only arrays included.  The offset is used only
    after it gave exactly the address NumPy reports (__array_interface__)
    for a set of probe arrays (owning, offset views, read-only, float32),
    and C_ALIGNED only after flags.num agreed with the flags on them; on
    another interpreter or layout it is None and address() uses
    ``a.ctypes.data``."""
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
            where = id(a) + offset
            if where % 8 or WORDS[(where - 8) >> 3] != a.__array_interface__["data"][0]:
                return None
        for a in probes + (misaligned, base.reshape(4, 6).T, base[::2]):
            flags = a.flags
            if ((flags.num & C_ALIGNED == C_ALIGNED)
                    != (flags.c_contiguous and flags.aligned)):
                return None
    except Exception:  # pragma: no cover - defensive
        return None
    return offset


#: See _data_offset(); None: prepared calls are off and address() uses a.ctypes.data.
DATA_OFFSET = _data_offset()
#: WORDS[(id(a) + DATA_BIAS) >> 3] is the data pointer of ndarray `a`.
DATA_BIAS = None if DATA_OFFSET is None else DATA_OFFSET - 8


def address(a: np.ndarray) -> int:
    """The address of an ndarray's data (an int, for a c_void_p parameter).
    The caller keeps `a` referenced during the call it passes the address
    to, which keeps the data alive: NumPy refuses resize() (with its default
    refcheck) of an array referenced from elsewhere."""
    if DATA_BIAS is not None:
        return WORDS[(id(a) + DATA_BIAS) >> 3]
    return a.ctypes.data  # pragma: no cover - not CPython or an unknown layout


def lookup(kind: str, table: dict, value) -> int:
    """The code of a name (activation, loss, init) in `table`."""
    if not isinstance(value, str):
        raise TypeError(f"{kind} must be a name (str), one of {', '.join(table)}; "
                        f"got {type(value).__name__}")
    code = table.get(value.strip().lower())
    if code is None:
        raise_error(InvalidArgumentError,
                    f"unknown {kind} {value!r}: use one of {', '.join(repr(k) for k in table)}")
    return code


def network_dtype(dtype) -> np.dtype:
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


def asarray(value, what: str) -> np.ndarray:
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


def readonly(a: np.ndarray) -> np.ndarray:
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
MEMORY_LIMIT = _physical_memory()


def check_copy(shape: tuple, dtype, what: str) -> None:
    """TooLargeError, with the numbers, if an array of `shape` and `dtype`
    that the wrapper is about to make would not fit in memory."""
    n = 1
    for d in shape:
        n *= int(d)
    nbytes = n * np.dtype(dtype).itemsize
    if nbytes > MEMORY_LIMIT:
        raise_error(TooLargeError,
                    f"{what}: an array of shape {tuple(int(d) for d in shape)} and dtype "
                    f"{np.dtype(dtype)} needs {nbytes} bytes, more than this machine's "
                    f"{MEMORY_LIMIT} bytes of memory")


def check_finite(a: np.ndarray, what: str) -> None:
    """NonFiniteError naming the first NaN or infinity of `a`.  Only for
    checks that must come before the library sees the data
    (swiftmlp.distributed); the library checks its inputs itself."""
    if not np.isfinite(a).all():
        idx = tuple(int(k) for k in np.argwhere(~np.isfinite(a))[0])
        raise_error(NonFiniteError, f"{what}{list(idx)} = {a[idx]!r} is not finite")


def validation_pair(validation_data) -> tuple:
    """fit's validation_data as the pair (x_val, y_val)."""
    try:
        xv, yv = validation_data
    except (TypeError, ValueError):
        raise TypeError("validation_data must be a pair (x_val, y_val)") from None
    return xv, yv


def integer(value, bool_message: str, type_message: str) -> int:
    """operator.index(value); TypeError(bool_message) for a bool (which Python
    counts as an integer), TypeError(type_message) for a non-integer."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(bool_message)
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(type_message) from None


def sequence_items(value, message: str) -> tuple:
    """The items of a sequence argument; TypeError(message) for a str or bytes
    (a sequence of characters, never what is meant) or a non-iterable."""
    if isinstance(value, (str, bytes)):
        raise TypeError(message)
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(message) from None


def count(value, name: str, minimum: int = 1) -> int:
    """An integer argument counted in size_t (epochs, batch_size)."""
    v = integer(value, f"{name} must be an integer, not a bool",
                f"{name} must be an integer, not {type(value).__name__}")
    if v < minimum:
        raise_error(InvalidArgumentError, f"{name} must be >= {minimum}, got {v}")
    if v > _lib.SIZE_MAX:
        raise_error(InvalidArgumentError, f"{name} = {v} does not fit in size_t")
    return v


class Conversion:
    """The MLP's input conversion (its policy is in the MLP docstring).
    Uses the network's _dtype, _sizes and _loss_code."""

    def _as_input(self, value, what: str, ndim: int | None = None, check=None) -> np.ndarray:
        """`value` as a C-contiguous array of the network's dtype.  Never
        returns the caller's array if it would need to be changed; may return
        it unchanged when it is already usable (the library only reads it).

        The number of dimensions is checked here, then `check(arr)` (the
        caller's shape, row and size checks, which raise), then the bound on
        the copy itself (check_copy), all before any copy."""
        if type(value) is np.ndarray and value.dtype == self._dtype:
            flags = value.flags
            if flags.c_contiguous and flags.aligned and (ndim is None or value.ndim == ndim):
                if check is not None:
                    check(value)
                return value
        arr = asarray(value, what)
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
            check_copy(arr.shape, self._dtype, what)
            return np.array(arr, order="C", copy=True).reshape(arr.shape)
        check_copy(arr.shape, self._dtype, what)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.ascontiguousarray(arr, dtype=self._dtype).reshape(arr.shape)
        if arr.dtype.kind == "f" and arr.dtype.itemsize > self._dtype.itemsize:
            overflow = np.isinf(out) & np.isfinite(arr)
            if overflow.any():
                idx = tuple(int(k) for k in np.argwhere(overflow)[0])
                raise_error(NonFiniteError,
                            f"{what}{list(idx)} = {arr[idx]!r} overflows {self._dtype}")
        return out

    def _is_labels(self, arr: np.ndarray) -> bool:
        """Whether targets `arr` are class indices (1-D, cross-entropy network)."""
        return self._loss_code == _lib.LOSS_CROSS_ENTROPY and arr.ndim == 1

    def _targets(self, value, what: str, rows: int, x_what: str) -> np.ndarray:
        """Dense (rows, NL) targets of the network's dtype, for `rows` rows of
        x (named x_what in messages); the shape is checked before any copy.
        For a cross-entropy network a 1-D integer array is taken as class
        indices and converted to one-hot rows (range checked here, as the
        one-hot rows cannot say it)."""
        arr = asarray(value, what)
        if self._is_labels(arr):
            self._check_target_shape((arr.shape[0], self._sizes[-1]), rows, what, x_what)
            check_copy((arr.shape[0], self._sizes[-1]), self._dtype, f"{what} as one-hot rows")
            labels = self._as_labels(arr, what, check_range=True)
            dense = np.zeros((labels.size, self._sizes[-1]), dtype=self._dtype)
            dense[np.arange(labels.size), labels] = 1
            return dense
        return self._as_input(value, what, ndim=2,
                              check=lambda a: self._check_target_shape(a.shape, rows, what,
                                                                       x_what))

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
            check_copy(arr.shape, np.int64, what)
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

    def _batch_rows(self, x: np.ndarray, what: str = "x") -> int:
        """_rows, and the batch accepted by the library (forward, train_step,
        gradient_check: one batch held in its cache), asked with
        swiftmlp_check_batch before the batch is copied or converted: its
        status and message are the ones the call itself would give."""
        batch = self._rows(x, what)
        with self._lock:
            lib.swiftmlp_check_batch(self._h(), batch)
        return batch

    def _check_target_shape(self, shape: tuple, rows: int, what: str, x_what: str) -> None:
        nl = self._sizes[-1]
        if shape != (rows, nl):
            raise_error(BufferSizeError,
                        f"{what} has shape {shape} but {x_what} has {rows} rows and the "
                        f"network has {nl} outputs: expected ({rows}, {nl})"
                        + (" or class indices of shape (%d,)" % rows
                           if self._loss_code == _lib.LOSS_CROSS_ENTROPY else ""))

    def _check_output_width(self, y: np.ndarray, what: str) -> None:
        """backward()'s dense targets: NL columns (their rows are the
        library's to check against its last forward)."""
        nl = self._sizes[-1]
        if y.shape[1] != nl:
            raise_error(BufferSizeError,
                        f"{what} has shape {y.shape}, but the network has {nl} outputs: "
                        f"expected (batch, {nl})")
