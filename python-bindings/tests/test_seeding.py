"""The same seed gives the same parameter BYTES from C, Python and Swift.

C:      build/examples/dump_params (examples/dump_params.c, built by CMake:
        bash scripts/build.sh)
Swift:  .build/release/swiftmlp-dump-params (Sources/swiftmlp-dump-params:
        swift build -c release --product swiftmlp-dump-params, also done by
        scripts/build.sh)
Python: MLP(...).get_flat_params().tobytes()

Both programs take `<f32|f64> <seed> <uniform|glorot|he> <size0> <size1> ...`
and print the parameters' bytes as one line of lowercase hex.  A missing
program is a test FAILURE (with the command that builds it), never a skip.
All three must also equal the documented SplitMix64 draws (reference.py).
"""

import os
import subprocess

import numpy as np
import pytest

import reference
import swiftmlp

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRAMS = {
    "C": (os.path.join(REPO, "build", "examples", "dump_params"),
          "bash scripts/build.sh  (or: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && "
          "cmake --build build --target dump_params)"),
    "Swift": (os.path.join(REPO, ".build", "release", "swiftmlp-dump-params"),
              "swift build -c release --product swiftmlp-dump-params  (or: bash scripts/build.sh)"),
}
CASES = [
    ([3, 5, 2], 0),
    ([7, 1], 42),
    ([2, 4, 4, 3], 2 ** 64 - 1),
    ([64, 128, 10], 12345),
    ([1, 1], 1),
]


def dump(language: str, dtype: str, seed: int, init: str, sizes) -> bytes:
    path, how = PROGRAMS[language]
    if not os.path.isfile(path):
        pytest.fail(f"the {language} dump program {os.path.relpath(path, REPO)} is missing; "
                    f"build it in the repository root with: {how}")
    arg = {"float32": "f32", "float64": "f64"}[dtype]
    proc = subprocess.run([path, arg, str(seed), init] + [str(s) for s in sizes],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{path} failed: {proc.stdout} {proc.stderr}"
    return bytes.fromhex(proc.stdout.strip())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("init", ["uniform", "glorot", "he"])
@pytest.mark.parametrize("sizes,seed", CASES)
def test_c_python_swift_parameters_are_bit_identical(sizes, seed, init, dtype):
    with swiftmlp.MLP(sizes, dtype=dtype, seed=seed, init=init) as net:
        from_python = net.get_flat_params().tobytes()
        assert net.seed == seed and net.init == init
    from_c = dump("C", dtype, seed, init, sizes)
    from_swift = dump("Swift", dtype, seed, init, sizes)
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    assert len(from_python) == n_params * np.dtype(dtype).itemsize
    assert from_c == from_python, "C and Python parameters differ"
    assert from_swift == from_python, "Swift and Python parameters differ"
    expected = reference.splitmix64_init(sizes, seed, init).astype(dtype)
    assert expected.tobytes() == from_python, "not the documented SplitMix64 draws"


def test_other_seed_other_bytes():
    a = dump("C", "float64", 1, "he", [4, 3])
    b = dump("C", "float64", 2, "he", [4, 3])
    assert a != b
    with swiftmlp.MLP([4, 3], seed=2, init="he") as net:
        assert net.get_flat_params().tobytes() == b


def test_activations_and_loss_do_not_change_the_draws():
    """Only sizes, dtype, seed and init matter for the initial parameters."""
    with swiftmlp.MLP([5, 6, 3], seed=9, init="glorot") as plain, \
            swiftmlp.MLP([5, 6, 3], seed=9, init="glorot", activations=["relu", "softmax"],
                         loss="cross_entropy") as other:
        assert plain.get_flat_params().tobytes() == other.get_flat_params().tobytes()
