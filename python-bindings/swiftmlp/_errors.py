"""Exceptions of the swiftmlp bindings: one class per swiftmlp_status.

Every error the bindings raise on purpose is a :class:`SwiftMLPError`.  Each
status of the C ABI has its own subclass, and the same class is raised whether
the problem was caught by the Python wrapper before calling the library (for
example a wrong array shape) or reported by the library itself.  The classes
also derive from the matching built-in exception (``ValueError``,
``IndexError``, ``MemoryError``, ...) so that generic ``except`` clauses work.
"""

from __future__ import annotations

__all__ = [
    "SwiftMLPError",
    "NullPointerError",
    "InvalidArgumentError",
    "BufferSizeError",
    "DTypeError",
    "StateError",
    "TooLargeError",
    "OutOfMemoryError",
    "LayerIndexError",
    "NonFiniteError",
    "CancelledError",
    "FormatError",
    "SwiftMLPIOError",
    "BusyError",
    "BadHandleError",
    "error_for_status",
]

# The pinned status values of include/swiftmlp.h (enum swiftmlp_status).
OK = 0
ERR_NULL_POINTER = 1
ERR_INVALID_ARGUMENT = 2
ERR_BUFFER_SIZE = 3
ERR_DTYPE = 4
ERR_STATE = 5
ERR_TOO_LARGE = 6
ERR_OUT_OF_MEMORY = 7
ERR_LAYER_INDEX = 8
ERR_NON_FINITE = 9
ERR_CANCELLED = 10
ERR_FORMAT = 11
ERR_IO = 12
ERR_BUSY = 13
ERR_BAD_HANDLE = 14

# status -> its class, filled by SwiftMLPError.__init_subclass__.
_BY_STATUS: dict = {}


class SwiftMLPError(Exception):
    """Base class of every swiftmlp error.

    Attributes:
        status:  the swiftmlp_status code (int) this error corresponds to.
        message: the detailed message (the library's swiftmlp_last_error()
                 text when the library reported the error).
        status_text: the short swiftmlp_status_string() text ("invalid argument").
        function: the C function that failed, or None when the Python wrapper
                 rejected the input before calling the library.
    """

    status: int = -1
    status_text: str = "unknown status"

    def __init_subclass__(cls, status: int | None = None, text: str | None = None, **kwargs):
        """``class XError(SwiftMLPError, status=ERR_X, text="..."):`` pins the
        class to a status: error_for_status builds it for that code."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status, cls.status_text = status, text
            _BY_STATUS[status] = cls

    def __init__(self, message: str = "", status: int | None = None,
                 status_text: str | None = None, function: str | None = None):
        if status is not None:
            self.status = int(status)
        if status_text is not None:
            self.status_text = status_text
        self.message = message
        self.function = function
        super().__init__(message)

    def __str__(self) -> str:
        text = self.message or self.status_text
        # The library's messages usually start with the function name already.
        where = f"{self.function}: " if self.function and not text.startswith(self.function) else ""
        return f"{where}{text} [status {self.status}: {self.status_text}]"


class NullPointerError(SwiftMLPError, status=ERR_NULL_POINTER, text="null pointer"):
    """SWIFTMLP_ERR_NULL_POINTER: a required pointer was NULL (a wrapper bug)."""


class InvalidArgumentError(SwiftMLPError, ValueError, status=ERR_INVALID_ARGUMENT, text="invalid argument"):
    """SWIFTMLP_ERR_INVALID_ARGUMENT: a value is out of its domain
    (a size of 0, an empty batch, a bad learning rate, an unknown dtype, ...)."""


class BufferSizeError(SwiftMLPError, ValueError, status=ERR_BUFFER_SIZE, text="buffer size mismatch"):
    """SWIFTMLP_ERR_BUFFER_SIZE: an array does not have the shape the call needs."""


class DTypeError(SwiftMLPError, TypeError, status=ERR_DTYPE, text="element type mismatch"):
    """SWIFTMLP_ERR_DTYPE: an array's element type cannot be used with the network."""


class StateError(SwiftMLPError, RuntimeError, status=ERR_STATE, text="call out of order"):
    """SWIFTMLP_ERR_STATE: wrong call order (backward without a matching forward,
    gradients before any backward, ...) or use of a closed network."""


class TooLargeError(SwiftMLPError, ValueError, status=ERR_TOO_LARGE, text="too large"):
    """SWIFTMLP_ERR_TOO_LARGE: sizes overflow or exceed a SWIFTMLP_MAX_* limit."""


class OutOfMemoryError(SwiftMLPError, MemoryError, status=ERR_OUT_OF_MEMORY, text="out of memory"):
    """SWIFTMLP_ERR_OUT_OF_MEMORY: an allocation inside the library failed."""


class LayerIndexError(SwiftMLPError, IndexError, status=ERR_LAYER_INDEX, text="layer index out of range"):
    """SWIFTMLP_ERR_LAYER_INDEX: a weight-layer index is out of range."""


class NonFiniteError(SwiftMLPError, ValueError, status=ERR_NON_FINITE, text="non-finite value"):
    """SWIFTMLP_ERR_NON_FINITE: an input value is NaN or infinite, or a step
    would make a parameter so (the step is then refused and changes nothing)."""


class CancelledError(SwiftMLPError, status=ERR_CANCELLED, text="cancelled"):
    """SWIFTMLP_ERR_CANCELLED: swiftmlp_fit was cancelled by its progress callback.

    :meth:`swiftmlp.MLP.fit` never raises it: a callback that returns True
    ends the fit normally with ``history.cancelled`` set, and an exception
    raised by the callback (KeyboardInterrupt included) is re-raised as itself.
    Only direct calls of the raw C function see this class."""


class FormatError(SwiftMLPError, ValueError, status=ERR_FORMAT, text="malformed model"):
    """SWIFTMLP_ERR_FORMAT: a model file or buffer is malformed or of an
    unsupported version (swiftmlp.load, swiftmlp.from_bytes).  The message is
    the library's, naming the problem (e.g. "header length ... exceeds the
    limit", "unknown activation \"gelu\"")."""


class SwiftMLPIOError(SwiftMLPError, OSError, status=ERR_IO, text="i/o error"):
    """SWIFTMLP_ERR_IO: reading or writing a model file failed (a missing
    file or directory, a directory or device where a regular file is needed,
    no permission, disk full, ...).  Also an ``OSError``; ``filename`` is the
    path (``errno`` is None: the library reports the reason as text)."""

    def __init__(self, message: str = "", status: int | None = None,
                 status_text: str | None = None, function: str | None = None,
                 filename=None):
        super().__init__(message, status, status_text, function)
        self.filename = filename


class BusyError(SwiftMLPError, RuntimeError, status=ERR_BUSY, text="network busy"):
    """SWIFTMLP_ERR_BUSY: another thread was using the network in a conflicting
    way, so the library refused the call and changed nothing.  The MLP class
    serialises its own calls with a lock, so only code that calls the C
    functions directly (or another library sharing the handle) sees it."""


class BadHandleError(SwiftMLPError, status=ERR_BAD_HANDLE, text="bad handle"):
    """SWIFTMLP_ERR_BAD_HANDLE: the pointer is not a live network (already freed,
    or not from swiftmlp).  The MLP class never passes a freed handle (a
    closed MLP raises StateError); only direct C calls see it."""


def error_for_status(status: int, message: str = "", status_text: str | None = None,
                     function: str | None = None) -> SwiftMLPError:
    """Build (not raise) the exception for a non-zero status code.

    Unknown codes give a plain :class:`SwiftMLPError` carrying the code.
    """
    cls = _BY_STATUS.get(int(status), SwiftMLPError)
    return cls(message, status=int(status), status_text=status_text, function=function)
