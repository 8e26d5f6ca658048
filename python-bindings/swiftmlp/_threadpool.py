"""swiftmlp's thread pool as threadpoolctl sees it.

scikit-learn and joblib limit native threads with threadpoolctl
(``threadpool_limits(1)``); registering this controller makes
``threadpoolctl.threadpool_info()`` list libswiftmlp and makes
``threadpool_limits(n)`` (also with ``user_api="blas"``: the pool runs matrix
products) call swiftmlp_set_num_threads.  threadpoolctl is optional: without
it (or with a version older than 3.5, which has no ``register``) nothing is
registered.
"""

from __future__ import annotations

import ctypes


def register() -> bool:
    """Register the controller with threadpoolctl; False if it is not available."""
    try:
        import threadpoolctl
    except ImportError:
        return False
    if not hasattr(threadpoolctl, "register"):
        return False

    class SwiftMLPController(threadpoolctl.LibController):
        """libswiftmlp's worker threads for matrix products."""

        user_api = "blas"
        internal_api = "swiftmlp"
        filename_prefixes = ("libswiftmlp",)
        check_symbols = ("swiftmlp_get_num_threads", "swiftmlp_set_num_threads",
                         "swiftmlp_version_string")

        def get_num_threads(self):
            fn = self.dynlib.swiftmlp_get_num_threads
            fn.restype, fn.argtypes = ctypes.c_size_t, []
            return int(fn())

        def set_num_threads(self, num_threads):
            fn = self.dynlib.swiftmlp_set_num_threads
            fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_size_t]
            # threadpool_limits(n) means "at most n": more than the library's
            # maximum (SWIFTMLP_MAX_THREADS, 64) is that maximum.
            return fn(max(1, min(int(num_threads), 64)))

        def get_version(self):
            fn = self.dynlib.swiftmlp_version_string
            fn.restype, fn.argtypes = ctypes.c_char_p, []
            return fn().decode("ascii", "replace")

    threadpoolctl.register(SwiftMLPController)
    return True
