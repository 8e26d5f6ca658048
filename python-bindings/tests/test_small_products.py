"""The forward product f = x W^T of a mid-sized layer on an AVX-512 OpenBLAS
core (SkylakeX, Cooperlake): Sources/CSwiftMLPKernels/gemm.c copies the
smaller operand transposed into one of its shared scratch slots (x when the
batch is smaller than the layer's outputs, else W) and runs OpenBLAS's small
TT or NN kernel, because the small-matrix permit refuses that product as it
comes (a "TN" product with M*N > 1200). The test suites run with OPENBLAS_CORETYPE=Haswell (no small
kernels), so these cases run in fresh interpreters with the AVX-512 cores
forced, on shapes that take the path (batch >= 16, at most 100^3
multiply-adds) and around it: tile tails in both dimensions (sizes that are
not multiples of 16 or 8), a batch below 16, a layer with M*N <= 1200, and
worker threads that exit while the library stays loaded (the slots outlive
them).

Every quantity is compared with the slides' NumPy code (reference.py) in
float64 at tight tolerances, and with the same network on the Haswell core.
On a CPU without AVX-512 the path does not exist: the same cases run on the
CPU's own best core (OPENBLAS_CORETYPE unset), where these products take the
library's AVX2 kernels (small_gemm.c) or OpenBLAS's, against the same
references."""

import json

import numpy as np
import pytest

import reference
from test_loader import BINDINGS_DIR, run_python


def avx512():
    try:
        with open("/proc/cpuinfo") as fh:
            return any(line.startswith("flags") and " avx512f" in line for line in fh)
    except OSError:
        return False


def forced_cores(avx512_cores):
    """The cores to force: the AVX-512 ones where the CPU has AVX-512, else
    [None], the CPU's own best core (OPENBLAS_CORETYPE unset)."""
    return avx512_cores if avx512() else [None]


def core_env(core):
    """run_python's environment change and removals for `core` (None: the
    CPU's own best core)."""
    if core is None:
        return {}, ("OPENBLAS_L2_SIZE", "OPENBLAS_CORETYPE")
    return {"OPENBLAS_CORETYPE": core}, ("OPENBLAS_L2_SIZE",)


# (sizes, batch): [64,128,10] at 32 is the digits network (the first layer
# takes the path, the second does not: M*N = 320); 130 and 70 leave tile
# tails (130 = 8*16 + 2, 70 = 4*16 + 6 = 8*8 + 6); batch 8 stays on the
# old path; batch 16 is the smallest that takes the new one. These copy x;
# [70, 40, 10] at 48 copies W (48 rows >= 40 outputs).
SHAPES = [([64, 128, 10], 32), ([70, 130, 10], 33), ([64, 128, 10], 16), ([64, 128, 10], 8),
          ([33, 47, 200, 3], 20), ([70, 40, 10], 48)]

SCRIPT = """
import json, threading
import numpy as np
import swiftmlp
cases = json.loads(CASES)
out = []
for sizes, batch, dtype in cases:
    rng = np.random.default_rng(len(sizes) * 1000 + batch)
    x = rng.normal(size=(batch, sizes[0])).astype(dtype)
    y = rng.uniform(size=(batch, sizes[-1])).astype(dtype)
    with swiftmlp.MLP(sizes, dtype=dtype, seed=7) as net:
        w0 = [np.array(w, dtype=np.float64) for w in net.weights]
        b0 = [np.array(b, dtype=np.float64) for b in net.biases]
        net.forward(x)
        f = [np.array(q["f"], dtype=np.float64).tolist() for q in net.inspect()[1:]]
        loss = net.backward(y)
        dw = [np.array(g, dtype=np.float64).tolist() for g in net.weight_grads]
        net.optimizer = swiftmlp.SGD(lr=0.5)
        for _ in range(3):
            net.train_step(x, y)
        after = [np.array(w, dtype=np.float64).tolist() for w in net.weights]
    # the same forward on threads that end (the scratch slots outlive them)
    results = []
    def work():
        with swiftmlp.MLP(sizes, dtype=dtype, seed=7) as other:
            results.append(np.array(other.forward(x), dtype=np.float64).tolist())
    threads = [threading.Thread(target=work) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    out.append({"w0": [w.tolist() for w in w0], "b0": [b.tolist() for b in b0], "f": f, "loss": loss,
                "dw": dw, "after": after, "thread_outputs": results, "blas": swiftmlp.blas_info()})
print(json.dumps(out))
"""


def run_on_core(core, cases):
    """SCRIPT in a fresh interpreter with OPENBLAS_CORETYPE=core (the core is
    chosen once per process; None: unset), on the library the suite uses."""
    env, remove = core_env(core)
    proc = run_python(f"CASES = {json.dumps(json.dumps(cases))}\n" + SCRIPT, BINDINGS_DIR, env, remove=remove)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


TOL = {"float64": 1e-12, "float32": 2e-5}


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("core", forced_cores(["SkylakeX", "Cooperlake"]))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mid_sized_forward_products_match_the_slides(core, dtype):
    cases = [(sizes, batch, dtype) for sizes, batch in SHAPES]
    got = run_on_core(core, cases)
    haswell = run_on_core("Haswell", cases)
    tol = TOL[dtype]
    for (sizes, batch, _), r, h in zip(cases, got, haswell):
        assert core is None or f"core {core}" in r["blas"], r["blas"]
        rng = np.random.default_rng(len(sizes) * 1000 + batch)
        x = rng.normal(size=(batch, sizes[0])).astype(dtype).astype(np.float64)
        y = rng.uniform(size=(batch, sizes[-1])).astype(dtype).astype(np.float64)
        w = [np.array(a) for a in r["w0"]]
        b = [np.array(a) for a in r["b0"]]
        acts = reference.forward(w, b, x)
        for layer, f in enumerate(r["f"]):
            want = acts[layer] @ w[layer].T + b[layer]
            assert rel(f, want) <= tol, (sizes, batch, layer)
        assert abs(r["loss"] - reference.loss(acts[-1], y)) <= tol * abs(r["loss"])
        dw, _ = reference.backward(w, acts, y)
        for got_dw, want_dw in zip(r["dw"], dw):
            assert rel(got_dw, want_dw) <= 50 * tol, (sizes, batch)
        for t in r["thread_outputs"]:
            assert rel(t, acts[-1]) <= tol, (sizes, batch)
        # and the same network on a core without the small kernels
        assert rel(r["f"][0], h["f"][0]) <= tol
        assert rel(r["after"][0], h["after"][0]) <= 50 * tol
