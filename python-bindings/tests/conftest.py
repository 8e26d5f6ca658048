"""pytest configuration for the swiftmlp bindings.

Makes `import swiftmlp` work without installing (python-bindings/ on sys.path)
and `import reference` work (tests/ on sys.path), and reports the largest
library-vs-reference error per dtype at the end of the session (and, when
$SWIFTMLP_PARITY_REPORT names a file, writes it there as JSON).
"""

import json
import os
import sys

import pytest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
BINDINGS_DIR = os.path.dirname(TESTS_DIR)
for _p in (BINDINGS_DIR, TESTS_DIR):
    if _p not in sys.path:
        sys.path.insert(0, _p)

# suite name -> {quantity: largest relative error seen}; the suite is the dtype
# name for the slides' suite (test_parity.py), "<dtype> training combos" for
# test_reference_parity_training.py.
PARITY_MAX_ERRORS: dict = {}
# suite name -> {quantity: where that largest error was seen (if told)}
PARITY_WHERE: dict = {}


def record_parity_error(dtype_name: str, quantity: str, err: float, where: str = "",
                        suite: str = "") -> None:
    if suite:
        dtype_name = f"{dtype_name} {suite}"
    per_dtype = PARITY_MAX_ERRORS.setdefault(dtype_name, {})
    if err > per_dtype.get(quantity, -1.0):
        per_dtype[quantity] = float(err)
        PARITY_WHERE.setdefault(dtype_name, {})[quantity] = where


@pytest.fixture(scope="session")
def parity_recorder():
    return record_parity_error


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not PARITY_MAX_ERRORS:
        return
    tr = terminalreporter
    tr.section("swiftmlp parity vs. NumPy reference (largest relative error)")
    for dtype_name in sorted(PARITY_MAX_ERRORS):
        per = PARITY_MAX_ERRORS[dtype_name]
        worst_q = max(per, key=per.get)
        where = PARITY_WHERE.get(dtype_name, {}).get(worst_q)
        tr.write_line(f"{dtype_name}: largest {per[worst_q]:.3e} (in {worst_q}"
                      + (f"; {where})" if where else ")"))
        tr.write_line("    " + ", ".join(f"{q}={e:.2e}" for q, e in sorted(per.items())))
    path = os.environ.get("SWIFTMLP_PARITY_REPORT")
    if path:
        with open(path, "w") as fh:
            json.dump(PARITY_MAX_ERRORS, fh, indent=2, sort_keys=True)
        tr.write_line(f"written to {path}")
