"""Locating and loading libswiftmlp, and the ctypes declarations of its C ABI.

Search order (the first library that loads AND has the expected version wins):

1. ``$SWIFTMLP_LIBRARY`` -- an explicit path to the shared library.  When this
   variable is set it is the ONLY candidate: a library the user named
   explicitly is never silently replaced by another one found elsewhere.
2. the package directory: ``swiftmlp/libswiftmlp.so*`` (for wheels / installs
   that ship the library next to the Python files).
3. the repository's build trees, relative to this file's checkout:
   ``.build/release/libswiftmlp.so`` (SwiftPM, ``swift build -c release
   --product swiftmlp``), then ``build/lib/libswiftmlp.so`` (CMake's copy).
4. the dynamic loader's own search (``libswiftmlp.so.MAJOR``: LD_LIBRARY_PATH,
   ldconfig cache), for a system-wide install.

If nothing loads, an ImportError lists every path tried and why each failed.

Every function of include/swiftmlp.h is declared here with explicit argtypes
and restype; every status-returning function gets an errcheck that turns a
non-zero status into the matching :mod:`swiftmlp._errors` exception carrying
the status code, swiftmlp_status_string() and swiftmlp_last_error().  The
structs of the header (swiftmlp_config, swiftmlp_optimizer, swiftmlp_progress,
swiftmlp_fit_options, swiftmlp_fit_result, swiftmlp_gradcheck) are mirrored
as ctypes Structures with the same field order and types, so ctypes lays them
out as the C compiler does (the library also checks each struct_size).

The hot paths (forward, backward, train_step) call second function objects
without the errcheck (``unchecked(name)``) and test the status themselves; a
non-zero status raises the same exception through ``raise_for_status``.
Their prepared calls (swiftmlp._training.PreparedCall) pass the handle and
data pointers as ints, the dtype and sizes as prepared c_int/c_size_t objects
and the loss as the c_double itself: the conversions ctypes does cheapest for
these argtypes.

The functions whose C names are being renamed are called only through the
wrappers at the end of this file (param_count, layer_offsets, cached_rows,
step_count, save_file), each naming its C function once besides its
signature entry (swiftmlp_get_layer_count has only its entry: nothing calls it).

The version is checked right after loading, before the other symbols are
declared, so an older or newer library is reported as a version mismatch
rather than as a missing symbol.
"""

from __future__ import annotations

import ctypes
import glob
import operator
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_int64,
                    c_size_t, c_uint, c_uint32, c_uint64, c_void_p)

from . import _errors
from ._version import VERSION_MAJOR, VERSION_MINOR, VERSION_PATCH

# ---- Constants mirrored from include/swiftmlp.h ------------------------------
#: The ABI version this wrapper was written against (SWIFTMLP_VERSION_NUMBER).
EXPECTED_VERSION_NUMBER = VERSION_MAJOR * 10000 + VERSION_MINOR * 100 + VERSION_PATCH

MAX_SIZES = 1025
MAX_LAYER_SIZE = 16777216
MAX_PARAMS = 268435456
MAX_BATCH_ELEMENTS = 268435456
MAX_THREADS = 64

FLOAT32 = 1
FLOAT64 = 2

# enum swiftmlp_activation (pinned values)
SIGMOID, TANH, RELU, LEAKY_RELU, IDENTITY, SOFTMAX = 0, 1, 2, 3, 4, 5
# enum swiftmlp_loss
LOSS_MSE, LOSS_BCE, LOSS_CROSS_ENTROPY = 0, 1, 2
# enum swiftmlp_init
INIT_UNIFORM, INIT_GLOROT, INIT_HE = 0, 1, 2
# enum swiftmlp_optimizer_kind
OPT_SGD, OPT_ADAM, OPT_ADAMW = 0, 1, 2
# enum swiftmlp_lr_schedule
LR_CONSTANT, LR_INVSCALING, LR_ADAPTIVE, LR_STEP, LR_COSINE = 0, 1, 2, 3, 4
# enum swiftmlp_quantity
Q_F, Q_G, Q_DL_DF, Q_DL_DG = 0, 1, 2, 3
# enum swiftmlp_save_flags
SAVE_DEFAULT, SAVE_OPTIMIZER_STATE = 0, 1

SIZE_MAX = 2 ** (8 * ctypes.sizeof(c_size_t)) - 1

ENV_VAR = "SWIFTMLP_LIBRARY"
_SONAME = f"libswiftmlp.so.{VERSION_MAJOR}"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# python-bindings/swiftmlp -> python-bindings -> repository root (in a checkout)
_REPO_ROOT = os.path.dirname(os.path.dirname(_PACKAGE_DIR))
_IN_CHECKOUT = os.path.isfile(os.path.join(_REPO_ROOT, "Package.swift"))


def candidate_paths() -> list[tuple[str, str]]:
    """The (origin, path) pairs the loader tries, in order."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return [(f"${ENV_VAR}", explicit)]
    found: list[tuple[str, str]] = []
    in_package = sorted(glob.glob(os.path.join(_PACKAGE_DIR, "libswiftmlp.so*")))
    if in_package:
        found.extend(("package directory", p) for p in in_package)
    else:
        found.append(("package directory", os.path.join(_PACKAGE_DIR, "libswiftmlp.so*")))
    if _IN_CHECKOUT:
        # SwiftPM's build first: CMake only copies it, so it is never older.
        found.append(("SwiftPM build tree",
                      os.path.join(_REPO_ROOT, ".build", "release", "libswiftmlp.so")))
        found.append(("CMake build tree",
                      os.path.join(_REPO_ROOT, "build", "lib", "libswiftmlp.so")))
    found.append(("dynamic loader search", _SONAME))
    return found


# ---- Structs (include/swiftmlp.h; C enums are int) ---------------------------

class Config(Structure):
    """struct swiftmlp_config."""
    _fields_ = [("struct_size", c_size_t),
                ("sizes", POINTER(c_size_t)),
                ("n_sizes", c_size_t),
                ("dtype", c_int),
                ("seed", c_uint64),
                ("activations", POINTER(c_int)),
                ("n_activations", c_size_t),
                ("leaky_slope", c_double),
                ("loss", c_int),
                ("init", c_int)]


class Optimizer(Structure):
    """struct swiftmlp_optimizer."""
    _fields_ = [("struct_size", c_size_t),
                ("kind", c_int),
                ("lr", c_double),
                ("momentum", c_double),
                ("nesterov", c_int),
                ("beta1", c_double),
                ("beta2", c_double),
                ("eps", c_double),
                ("weight_decay", c_double),
                ("max_grad_norm", c_double)]


class Progress(Structure):
    """struct swiftmlp_progress."""
    _fields_ = [("epoch", c_size_t),
                ("epochs", c_size_t),
                ("batch", c_size_t),
                ("n_batches", c_size_t),
                ("batch_loss", c_double),
                ("train_loss", c_double),
                ("val_loss", c_double),
                ("epoch_end", c_int),
                ("lr", c_double)]


#: typedef int (*swiftmlp_progress_fn)(const swiftmlp_progress *, void *)
PROGRESS_FN = CFUNCTYPE(c_int, POINTER(Progress), c_void_p)


class FitOptions(Structure):
    """struct swiftmlp_fit_options."""
    _fields_ = [("struct_size", c_size_t),
                ("epochs", c_size_t),
                ("batch_size", c_size_t),
                ("shuffle", c_int),
                ("val_x", c_void_p),
                ("val_x_len", c_size_t),
                ("val_y", c_void_p),
                ("val_y_len", c_size_t),
                ("val_rows", c_size_t),
                ("patience", c_size_t),
                ("min_delta", c_double),
                ("restore_best", c_int),
                ("progress", PROGRESS_FN),
                ("user_data", c_void_p),
                ("report_batches", c_int),
                ("lr_schedule", c_int),
                ("power_t", c_double),
                ("lr_tol", c_double),
                ("n_iter_no_change", c_size_t),
                ("step_size", c_size_t),
                ("gamma", c_double),
                ("t_max", c_size_t),
                ("eta_min", c_double),
                ("sample_weight", c_void_p),
                ("sample_weight_len", c_size_t),
                ("optimizer", POINTER(Optimizer))]


class FitResult(Structure):
    """struct swiftmlp_fit_result."""
    _fields_ = [("epochs_run", c_size_t),
                ("best_epoch", c_size_t),
                ("best_loss", c_double),
                ("final_train_loss", c_double),
                ("final_val_loss", c_double),
                ("stopped_early", c_int),
                ("cancelled", c_int),
                ("restored_best", c_int)]


class GradCheck(Structure):
    """struct swiftmlp_gradcheck."""
    _fields_ = [("max_rel_error", c_double),
                ("index", c_size_t),
                ("analytic", c_double),
                ("numeric", c_double)]


# ---- Declarations ------------------------------------------------------------

class _Status(c_int):
    """Marker type: a swiftmlp_status return value (checked by errcheck)."""


def _status_error(lib, status: int, function: str) -> _errors.SwiftMLPError:
    """The exception for a non-zero status, with swiftmlp_last_error().  Must be
    called on the thread that made the failing call, before any other
    status-returning swiftmlp call (the message is thread-local)."""
    message = (lib.swiftmlp_last_error() or b"").decode("utf-8", "replace")
    text = (lib.swiftmlp_status_string(status) or b"").decode("utf-8", "replace")
    return _errors.error_for_status(status, message, text, function)


def _make_errcheck(lib):
    def errcheck(result, func, args):
        # `result` is an int (c_int restype).  swiftmlp_last_error() is
        # thread-local and we are still on the calling thread, right after the
        # call, so it describes exactly this failure.
        status = int(result)
        if status == _errors.OK:
            return args
        raise _status_error(lib, status, func.__name__)

    return errcheck


# name: (restype, argtypes); restype _Status means "c_int + errcheck".
_SIGNATURES = {
    # ---- Library information
    "swiftmlp_version_number": (c_uint, []),
    "swiftmlp_version_string": (c_char_p, []),
    "swiftmlp_status_string": (c_char_p, [c_int]),
    "swiftmlp_last_error": (c_char_p, []),
    "swiftmlp_blas_info": (c_char_p, []),
    "swiftmlp_get_num_threads": (c_size_t, []),
    "swiftmlp_set_num_threads": (_Status, [c_size_t]),
    # ---- Lifecycle
    "swiftmlp_create": (_Status, [POINTER(c_size_t), c_size_t, c_int, c_uint64,
                                  POINTER(c_void_p)]),
    "swiftmlp_config_default": (_Status, [POINTER(Config)]),
    "swiftmlp_create_with_config": (_Status, [POINTER(Config), POINTER(c_void_p)]),
    "swiftmlp_free": (None, [c_void_p]),
    # ---- Training
    "swiftmlp_forward": (_Status, [c_void_p, c_int, c_void_p, c_size_t, c_size_t,
                                   c_void_p, c_size_t]),
    "swiftmlp_backward": (_Status, [c_void_p, c_int, c_void_p, c_size_t, c_size_t,
                                    POINTER(c_double)]),
    "swiftmlp_step": (_Status, [c_void_p, c_double]),
    "swiftmlp_backward_labels": (_Status, [c_void_p, POINTER(c_int64), c_size_t, c_size_t,
                                           POINTER(c_double)]),
    "swiftmlp_train_step": (_Status, [c_void_p, c_int, c_void_p, c_size_t, c_void_p, c_size_t,
                                      c_size_t, POINTER(c_double)]),
    # ---- Optimizers
    "swiftmlp_optimizer_default": (_Status, [c_int, POINTER(Optimizer)]),
    "swiftmlp_set_optimizer": (_Status, [c_void_p, POINTER(Optimizer)]),
    "swiftmlp_get_optimizer": (_Status, [c_void_p, POINTER(Optimizer)]),
    "swiftmlp_set_learning_rate": (_Status, [c_void_p, c_double]),
    "swiftmlp_reset_optimizer": (_Status, [c_void_p]),
    "swiftmlp_get_step_count": (_Status, [c_void_p, POINTER(c_uint64)]),
    "swiftmlp_optimizer_step": (_Status, [c_void_p]),
    # ---- Whole data sets
    "swiftmlp_fit_options_default": (_Status, [POINTER(FitOptions)]),
    "swiftmlp_fit": (_Status, [c_void_p, c_int, c_void_p, c_size_t, c_void_p, c_size_t,
                               c_size_t, POINTER(FitOptions), POINTER(FitResult)]),
    "swiftmlp_predict": (_Status, [c_void_p, c_int, c_void_p, c_size_t, c_size_t,
                                   c_void_p, c_size_t]),
    "swiftmlp_evaluate": (_Status, [c_void_p, c_int, c_void_p, c_size_t, c_void_p, c_size_t,
                                    c_size_t, POINTER(c_double)]),
    "swiftmlp_gradient_check": (_Status, [c_void_p, c_int, c_void_p, c_size_t, c_void_p,
                                          c_size_t, c_size_t, c_double, POINTER(GradCheck)]),
    # ---- The slides' quantities
    "swiftmlp_get_cached_rows": (_Status, [c_void_p, POINTER(c_size_t)]),
    "swiftmlp_check_batch": (_Status, [c_void_p, c_size_t]),
    "swiftmlp_get_quantity": (_Status, [c_void_p, c_int, c_size_t, c_int, c_void_p,
                                        c_size_t]),
    # ---- Saving and loading
    "swiftmlp_save_size": (_Status, [c_void_p, c_uint32, POINTER(c_size_t)]),
    "swiftmlp_save_buffer": (_Status, [c_void_p, c_uint32, c_void_p, c_size_t,
                                       POINTER(c_size_t)]),
    "swiftmlp_save_file": (_Status, [c_void_p, c_uint32, c_char_p]),
    "swiftmlp_load_buffer": (_Status, [c_void_p, c_size_t, POINTER(c_void_p)]),
    "swiftmlp_load_file": (_Status, [c_char_p, POINTER(c_void_p)]),
    # ---- Shape and type
    "swiftmlp_get_activations": (_Status, [c_void_p, POINTER(c_int), c_size_t]),
    "swiftmlp_get_config": (_Status, [c_void_p, POINTER(Config)]),
    "swiftmlp_get_dtype": (_Status, [c_void_p, POINTER(c_int)]),
    "swiftmlp_get_layer_count": (_Status, [c_void_p, POINTER(c_size_t)]),
    "swiftmlp_get_sizes": (_Status, [c_void_p, POINTER(c_size_t), c_size_t]),
    "swiftmlp_get_param_count": (_Status, [c_void_p, POINTER(c_size_t)]),
    "swiftmlp_get_layer_offsets": (_Status, [c_void_p, c_size_t, POINTER(c_size_t),
                                         POINTER(c_size_t)]),
    # ---- Parameters and gradients
    "swiftmlp_get_params": (_Status, [c_void_p, c_int, c_void_p, c_size_t]),
    "swiftmlp_set_params": (_Status, [c_void_p, c_int, c_void_p, c_size_t]),
    "swiftmlp_get_grads": (_Status, [c_void_p, c_int, c_void_p, c_size_t]),
    "swiftmlp_set_grads": (_Status, [c_void_p, c_int, c_void_p, c_size_t]),
    "swiftmlp_get_layer": (_Status, [c_void_p, c_size_t, c_int, c_void_p, c_size_t,
                                     c_void_p, c_size_t]),
    "swiftmlp_set_layer": (_Status, [c_void_p, c_size_t, c_int, c_void_p, c_size_t,
                                     c_void_p, c_size_t]),
    "swiftmlp_get_layer_grads": (_Status, [c_void_p, c_size_t, c_int, c_void_p,
                                           c_size_t, c_void_p, c_size_t]),
}


def _declare_version(lib) -> None:
    """Declare swiftmlp_version_number alone (enough for the version check).

    Raises AttributeError if the symbol is missing.
    """
    fn = lib.swiftmlp_version_number
    fn.restype, fn.argtypes = _SIGNATURES["swiftmlp_version_number"]


def _declare(lib) -> None:
    """Set argtypes/restype (and errcheck) on every function of the header.

    Raises AttributeError naming the first missing symbol.
    """
    for name in ("swiftmlp_status_string", "swiftmlp_last_error"):
        restype, argtypes = _SIGNATURES[name]
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, argtypes
    errcheck = _make_errcheck(lib)
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        if restype is _Status:
            fn.restype = c_int
            fn.errcheck = errcheck
        else:
            fn.restype = restype


def _version_text(number: int) -> str:
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def _check_version(lib, path: str) -> None:
    got = int(lib.swiftmlp_version_number())
    # 0.x: major and minor must match (a minor bump may change the ABI);
    # any patch release of the same major.minor is accepted.
    if got // 100 != EXPECTED_VERSION_NUMBER // 100:
        raise ImportError(
            f"swiftmlp: version mismatch: the library at {path} is version "
            f"{_version_text(got)} (swiftmlp_version_number() = {got}), but these "
            f"Python bindings were written for {_version_text(EXPECTED_VERSION_NUMBER)} "
            f"(= {EXPECTED_VERSION_NUMBER}); rebuild the library or use matching bindings"
        )


def load_library():
    """Find, load, declare and version-check libswiftmlp. Returns (CDLL, path)."""
    failures: list[str] = []
    for origin, path in candidate_paths():
        is_name_only = os.sep not in path
        if not is_name_only and not os.path.exists(path):
            failures.append(f"  {path} ({origin}): no such file")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            failures.append(f"  {path} ({origin}): cannot be loaded: {exc}")
            continue
        try:
            _declare_version(lib)
        except AttributeError as exc:
            failures.append(f"  {path} ({origin}): not a usable libswiftmlp "
                            f"(missing symbol: {exc})")
            continue
        _check_version(lib, path)  # a mismatch is a hard error, not "try the next"
        try:
            _declare(lib)
        except AttributeError as exc:
            failures.append(f"  {path} ({origin}): not a usable libswiftmlp "
                            f"(missing symbol: {exc})")
            continue
        return lib, path
    explicit = os.environ.get(ENV_VAR)
    hint = (f"${ENV_VAR} is set, so no other location was searched; fix or unset it."
            if explicit else
            f"Install a wheel that carries it (bash scripts/wheel.sh), build it with "
            f"`swift build -c release --product swiftmlp` in the repository root, or set "
            f"${ENV_VAR} to the path of libswiftmlp.so.")
    raise ImportError("swiftmlp: could not load libswiftmlp. Tried:\n"
                      + "\n".join(failures) + "\n" + hint)


lib, library_path = load_library()


def unchecked(name: str):
    """A second ctypes function object for the status-returning function
    `name`, with the same argtypes but NO errcheck: for the hot paths
    (forward, backward, train_step), which test the returned status inline and
    call raise_for_status() when it is not 0 (saves the errcheck call, about
    half a microsecond).  ``lib.<name>`` itself keeps its errcheck."""
    restype, argtypes = _SIGNATURES[name]
    if restype is not _Status:  # pragma: no cover - a wrapper bug
        raise TypeError(f"{name} does not return a swiftmlp_status")
    fn = lib[name]  # indexing makes a new function object (attribute access caches one)
    fn.argtypes, fn.restype = argtypes, c_int
    return fn


def raise_for_status(status: int, function: str) -> None:
    """Raise the exception of a non-zero status returned by an unchecked()
    function, right after that call on the same thread."""
    raise _status_error(lib, int(status), function)


def raise_error(cls: type, message: str) -> None:
    """Raise a wrapper-detected error of class `cls` with the library's status text."""
    text = (lib.swiftmlp_status_string(cls.status) or b"").decode("utf-8", "replace")
    raise cls(message, status=cls.status, status_text=text or None)


def status_string(status: int) -> str:
    """swiftmlp_status_string(status): a short static description of a status code."""
    status = int(status)
    if not -(2 ** 31) <= status < 2 ** 31:
        return "unknown status"
    return lib.swiftmlp_status_string(status).decode("utf-8", "replace")


def version() -> str:
    """The loaded library's version string, e.g. "0.4.0"."""
    return lib.swiftmlp_version_string().decode("utf-8", "replace")


def version_number() -> int:
    """The loaded library's MAJOR*10000 + MINOR*100 + PATCH."""
    return int(lib.swiftmlp_version_number())


def blas_info() -> str:
    """How the library multiplies matrices: its private OpenBLAS copy's
    version and kernels ("core"), and the threads a large product is split
    over (see docs/openblas.md)."""
    return lib.swiftmlp_blas_info().decode("utf-8", "replace")


def get_num_threads() -> int:
    """The threads a matrix product may use, the calling thread included
    (swiftmlp_get_num_threads): by default $SWIFTMLP_NUM_THREADS, else the
    CPUs this process may use, at most 8.  threadpoolctl sees it too."""
    return int(lib.swiftmlp_get_num_threads())


def set_num_threads(threads: int) -> None:
    """Let matrix products use `threads` threads (1 to MAX_THREADS), for the
    whole process (swiftmlp_set_num_threads).  threadpoolctl's
    threadpool_limits() does the same through the registered controller."""
    try:
        count = operator.index(threads)
    except TypeError:
        count = None
    if count is None or isinstance(threads, bool):
        raise_error(_errors.InvalidArgumentError,
                    f"threads must be an integer, got {type(threads).__name__}")
    if not 0 <= count <= SIZE_MAX:  # not a size_t; the library checks the range
        raise_error(_errors.InvalidArgumentError,
                    f"threads must be 1 to {MAX_THREADS}, got {count}")
    lib.swiftmlp_set_num_threads(count)


# ---- Functions called through one place each ---------------------------------
# Each wrapper is the only caller of its C function (see the module docstring).

def _read(function, net, ctype=c_size_t) -> int:
    """The one number `function(net, &out)` writes."""
    out = ctype()
    function(net, ctypes.byref(out))
    return int(out.value)


def param_count(net) -> int:
    """swiftmlp_get_param_count: the number of parameters of `net`."""
    return _read(lib.swiftmlp_get_param_count, net)


def layer_offsets(net, layer: int) -> tuple:
    """swiftmlp_get_layer_offsets: where W_layer and b_layer start in the flat arrays."""
    w_off, b_off = c_size_t(), c_size_t()
    lib.swiftmlp_get_layer_offsets(net, layer, ctypes.byref(w_off), ctypes.byref(b_off))
    return int(w_off.value), int(b_off.value)


def cached_rows(net) -> int:
    """swiftmlp_get_cached_rows: the rows of the last training batch (StateError before any)."""
    return _read(lib.swiftmlp_get_cached_rows, net)


def step_count(net) -> int:
    """swiftmlp_get_step_count: optimizer steps since it was set or reset."""
    return _read(lib.swiftmlp_get_step_count, net, c_uint64)


def save_file(net, flags: int, path: bytes) -> None:
    """swiftmlp_save_file: write `net`'s model file to `path` atomically."""
    lib.swiftmlp_save_file(net, flags, path)
