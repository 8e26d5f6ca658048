"""The version, read from the macros of include/swiftmlp.h: the one place it
is written (the C library, CMake, pkg-config and the package metadata read
the same three lines).

An installed package carries a copy of the header as swiftmlp/swiftmlp.h; a
checkout (PYTHONPATH=python-bindings) reads include/swiftmlp.h, an unpacked
source distribution native/include/swiftmlp.h (setup.py runs this file).
"""

from __future__ import annotations

import os
import re

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_BINDINGS_DIR = os.path.dirname(_PACKAGE_DIR)
_HEADERS = [
    ("an installed package", os.path.join(_PACKAGE_DIR, "swiftmlp.h")),
    ("a checkout", os.path.join(os.path.dirname(_BINDINGS_DIR), "include", "swiftmlp.h")),
    ("a source distribution", os.path.join(_BINDINGS_DIR, "native", "include", "swiftmlp.h")),
]


def header_path() -> str:
    """The header this package belongs with (the first of _HEADERS that exists)."""
    for _, path in _HEADERS:
        if os.path.isfile(path):
            return path
    tried = "; ".join(f"{path} ({where})" for where, path in _HEADERS)
    raise ImportError(f"swiftmlp: cannot find its header to read the version: tried {tried}")


def read_version(path: str) -> tuple[int, int, int]:
    """(MAJOR, MINOR, PATCH) from the SWIFTMLP_VERSION_* macros of the header at path."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parts = []
    for name in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(rf"^#define SWIFTMLP_VERSION_{name} (\d+)$", text, re.MULTILINE)
        if m is None:
            raise ImportError(f"swiftmlp: {path} has no '#define SWIFTMLP_VERSION_{name} N' line")
        parts.append(int(m.group(1)))
    return parts[0], parts[1], parts[2]


VERSION_MAJOR, VERSION_MINOR, VERSION_PATCH = read_version(header_path())
__version__ = f"{VERSION_MAJOR}.{VERSION_MINOR}.{VERSION_PATCH}"
