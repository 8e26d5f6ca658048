"""swiftmlp: Python bindings for libswiftmlp, a multilayer perceptron whose
numeric core is written in Swift (C ABI: include/swiftmlp.h).

The lecture slides' network, one batch at a time:

    >>> import numpy as np, swiftmlp
    >>> with swiftmlp.MLP([2, 4, 1], dtype="float64", seed=0) as net:
    ...     y = net.forward(np.zeros((3, 2)))          # (3, 1)
    ...     loss = net.backward(np.ones((3, 1)))       # float
    ...     net.step(lr=0.5)                           # plain SGD

A classifier trained on a data set:

    >>> net = swiftmlp.MLP([64, 128, 10], activations=["relu", "softmax"],
    ...                    loss="cross_entropy", init="he", dtype="float32", seed=0)
    >>> hist = net.fit(X, labels, epochs=30, batch_size=32, optimizer=swiftmlp.Adam(lr=1e-3),
    ...                validation_data=(Xv, labels_v), early_stopping=5, progress=True)
    >>> P = net.predict(X)                             # (n, 10) probabilities
    >>> net.gradient_check(X[:8], labels[:8])          # largest relative error, ~1e-9
    >>> net.inspect()[1]["dL_df"]                      # the slides' dL/df^(1) of the last batch

Model files (safetensors; readable by safetensors.numpy and loadable into a
PyTorch nn.Sequential, see the README):

    >>> net.save("model.safetensors", optimizer_state=True)   # atomic
    >>> net2 = swiftmlp.load("model.safetensors")             # resumes training bit-identically
    >>> net3 = swiftmlp.from_bytes(net.to_bytes())

Threads: swiftmlp.get_num_threads() / set_num_threads(n), and
threadpoolctl's threadpool_limits(n) when threadpoolctl is installed.

The shared library is looked up in $SWIFTMLP_LIBRARY, then the package
directory (a wheel carries it there), then a checkout's build trees
(.build/release/, build/lib/); see swiftmlp._lib for details.
"""

from ._errors import (BadHandleError, BufferSizeError, BusyError, CancelledError, DTypeError,
                      FormatError, InvalidArgumentError, LayerIndexError, NonFiniteError,
                      NullPointerError, OutOfMemoryError, StateError, SwiftMLPError,
                      SwiftMLPIOError, TooLargeError)
from ._lib import (EXPECTED_VERSION_NUMBER, MAX_BATCH_ELEMENTS, MAX_LAYER_SIZE, MAX_PARAMS,
                   MAX_SIZES, MAX_THREADS, blas_info, get_num_threads, library_path,
                   set_num_threads, status_string, version, version_number)
from ._optim import (SGD, AdaptiveLR, Adam, AdamW, ConstantLR, CosineAnnealingLR, EarlyStopping,
                     GradientCheck, History, InvScalingLR, StepLR)
from .mlp import ACTIVATIONS, INITS, LOSSES, MLP, from_bytes, load

from ._threadpool import register as _register_threadpool
from ._version import __version__  # include/swiftmlp.h's, the one place it is written

_register_threadpool()

# Aliases with the C names of the limits.
SWIFTMLP_MAX_SIZES = MAX_SIZES
SWIFTMLP_MAX_LAYER_SIZE = MAX_LAYER_SIZE
SWIFTMLP_MAX_PARAMS = MAX_PARAMS
SWIFTMLP_MAX_BATCH_ELEMENTS = MAX_BATCH_ELEMENTS

__all__ = [
    "MLP", "load", "from_bytes", "SGD", "Adam", "AdamW", "EarlyStopping", "History",
    "GradientCheck", "ConstantLR", "InvScalingLR", "AdaptiveLR", "StepLR", "CosineAnnealingLR",
    "ACTIVATIONS", "LOSSES", "INITS",
    "version", "version_number", "status_string", "library_path", "blas_info", "__version__",
    "get_num_threads", "set_num_threads", "MAX_THREADS",
    "EXPECTED_VERSION_NUMBER",
    "MAX_SIZES", "MAX_LAYER_SIZE", "MAX_PARAMS", "MAX_BATCH_ELEMENTS",
    "SWIFTMLP_MAX_SIZES", "SWIFTMLP_MAX_LAYER_SIZE", "SWIFTMLP_MAX_PARAMS",
    "SWIFTMLP_MAX_BATCH_ELEMENTS",
    "SwiftMLPError", "NullPointerError", "InvalidArgumentError", "BufferSizeError",
    "DTypeError", "StateError", "TooLargeError", "OutOfMemoryError", "LayerIndexError",
    "NonFiniteError", "CancelledError", "FormatError", "SwiftMLPIOError", "BusyError",
    "BadHandleError",
]
