"""ONNX export (MLP.to_onnx): the graph passes onnx.checker, has named input
and output with a dynamic batch, and onnxruntime computes net.predict to
rounding for every activation, in float32 and float64."""

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import swiftmlp
from test_loader import BINDINGS_DIR

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]
OUTPUT = ["sigmoid", "softmax", "identity", "tanh", "relu", "leaky_relu"]
TOL = {"float32": 1e-6, "float64": 1e-12}


def run_onnx(data: bytes, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x})[0]


def rel_err(a, r) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - r)) / max(np.max(np.abs(r)), 1e-300))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", OUTPUT)
def test_onnxruntime_equals_predict(dtype, hidden, output):
    net = swiftmlp.MLP([6, 9, 7, 4], dtype=dtype, seed=3, activations=[hidden, hidden, output],
                       init="he", leaky_slope=0.07)
    data = net.to_onnx()
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["input"]
    assert [o.name for o in model.graph.output] == ["output"]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 6
    rng = np.random.default_rng(1)
    for batch in (1, 13):  # the batch dimension is dynamic
        x = (2 * rng.standard_normal((batch, 6))).astype(dtype)
        got = run_onnx(data, x)
        assert got.dtype == np.dtype(dtype) and got.shape == (batch, 4)
        err = rel_err(got, net.predict(x).astype(np.float64))
        assert err <= TOL[dtype], err


def test_a_different_weight_is_noticed():
    # The comparison can fail: one weight changed after export.
    net = swiftmlp.MLP([3, 5, 2], dtype="float64", seed=0, activations=["tanh", "identity"])
    data = net.to_onnx()
    w = np.array(net.weights[1])
    w[0, 0] += 1e-9
    net.weights[1] = w
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert rel_err(run_onnx(data, x), net.predict(x)) > TOL["float64"]


def test_path_writes_the_same_model(tmp_path):
    net = swiftmlp.MLP([2, 3, 1], seed=0)
    path = tmp_path / "net.onnx"
    assert net.to_onnx(path) is None
    assert path.read_bytes() == net.to_onnx()


@pytest.mark.parametrize("opset", [13, 17, onnx.defs.onnx_opset_version()])
def test_opsets(opset):
    net = swiftmlp.MLP([2, 3, 3], seed=0, activations=["relu", "softmax"])
    model = onnx.load_from_string(net.to_onnx(opset=opset))
    assert model.opset_import[0].version == opset
    x = np.ones((2, 2))
    assert rel_err(run_onnx(net.to_onnx(opset=opset), x), net.predict(x)) <= 1e-12


@pytest.mark.parametrize("opset", [12, 0, onnx.defs.onnx_opset_version() + 1, 17.0, "17", True])
def test_bad_opset_is_refused(opset):
    net = swiftmlp.MLP([2, 1], seed=0)
    with pytest.raises(ValueError, match="opset must be an integer from 13"):
        net.to_onnx(opset=opset)


def test_missing_onnx_package_is_named():
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import swiftmlp\n"
            "try:\n    swiftmlp.MLP([2, 1]).to_onnx()\n"
            "except ImportError as e:\n    print('IMPORT-ERROR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=BINDINGS_DIR).stdout
    assert "IMPORT-ERROR" in out and "pip install onnx" in out, out
