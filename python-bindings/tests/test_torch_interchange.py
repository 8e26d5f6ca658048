"""PyTorch interchange (swiftmlp.torch.to_module / from_module) and plain
weights files (safetensors.torch.save_file of a state_dict) loaded with
swiftmlp.load(path, activations=...): bit-exact round trips, torch computing
the same outputs, and every module or file that cannot be represented
refused with its name."""

import os

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import swiftmlp
from swiftmlp import torch as st

ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]


def make_net(dtype, hidden="tanh", out="softmax"):
    return swiftmlp.MLP([5, 8, 6, 3], dtype=dtype, seed=2, activations=[hidden, hidden, out],
                        init="he", leaky_slope=0.05)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", ACTS)
@pytest.mark.parametrize("out", ["softmax", "sigmoid", "identity"])
def test_round_trip_is_bit_exact_and_torch_computes_the_same(dtype, hidden, out):
    net = make_net(dtype, hidden, out)
    module = st.to_module(net)
    assert [type(m).__name__ for m in module][::2] == ["Linear"] * 3
    state = module.state_dict()
    for layer in range(3):
        assert np.array_equal(state[f"{2 * layer}.weight"].numpy(), net.weights[layer])
        assert np.array_equal(state[f"{2 * layer}.bias"].numpy(), net.biases[layer])
    x = np.random.default_rng(0).standard_normal((7, 5)).astype(dtype)
    with torch.no_grad():
        got = module(torch.from_numpy(x)).numpy()
    ref = net.predict(x)
    assert got.dtype == ref.dtype
    assert np.max(np.abs(got - ref)) <= (1e-6 if dtype == "float32" else 1e-13) * np.max(np.abs(ref))
    back = st.from_module(module, loss=net.loss)
    assert back.sizes == net.sizes and back.activations == net.activations
    assert back.dtype == net.dtype and back.loss == net.loss
    if hidden == "leaky_relu":
        assert back.leaky_slope == net.leaky_slope
    assert back.get_flat_params().tobytes() == net.get_flat_params().tobytes()


def test_linear_after_linear_is_an_identity_layer():
    module = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2), nn.Sigmoid()).double()
    net = st.from_module(module)
    assert net.activations == ("identity", "sigmoid")
    x = np.ones((2, 3))
    with torch.no_grad():
        assert np.allclose(module(torch.from_numpy(x)).numpy(), net.predict(x), rtol=1e-14)


@pytest.mark.parametrize("module,message", [
    (nn.Sequential(nn.Linear(2, 3), nn.Dropout()), "'1' (Dropout"),
    (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.BatchNorm1d(3)), "'2' (BatchNorm1d"),
    (nn.Sequential(nn.Linear(2, 3, bias=False)), "'0' (Linear) has no bias"),
    (nn.Sequential(nn.ReLU(), nn.Linear(2, 3)), "'0' (ReLU) comes before the first Linear"),
    (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Tanh()), "'2' (Tanh) is a second activation"),
    (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), "'1' (Linear) takes 4 inputs"),
    (nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)), "'1' (Softmax(dim=0))"),
    (nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.1), nn.Linear(3, 2), nn.LeakyReLU(0.2)),
     "'3' (LeakyReLU) has negative_slope 0.2"),
    (nn.Sequential(nn.Linear(2, 3).half()), "float32 or all float64"),
    (nn.Sequential(), "no Linear layer"),
    (nn.Linear(2, 3), "needs an nn.Sequential"),
])
def test_modules_that_cannot_be_represented_are_refused(module, message):
    with pytest.raises(ValueError, match=f"from_module: .*{message}".replace("(", r"\(").replace(")", r"\)")):
        st.from_module(module)


# ---- plain weights files -----------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_state_dict_file_loads_with_the_architecture(tmp_path, dtype):
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3), nn.Softmax(dim=-1)).to(dtype)
    path = tmp_path / "model.safetensors"
    save_file(module.state_dict(), str(path))
    net = swiftmlp.load(path, activations=["tanh", "softmax"], loss="cross_entropy")
    assert net.sizes == (4, 6, 3) and net.activations == ("tanh", "softmax")
    assert net.loss == "cross_entropy" and net.dtype == (np.float32 if dtype == torch.float32 else np.float64)
    for layer, index in enumerate((0, 2)):
        assert np.array_equal(net.weights[layer], module[index].weight.detach().numpy())
        assert np.array_equal(net.biases[layer], module[index].bias.detach().numpy())
    # Defaults for every metadata key the file lacks: MLP()'s.
    assert net.seed == 0 and net.init == "uniform" and net.optimizer is None
    # And it trains on.
    net.fit(np.zeros((4, 4)), np.array([0, 1, 2, 0]), epochs=1, optimizer="sgd")


def test_a_swiftmlp_file_loads_with_the_architecture_ignoring_optimizer_state(tmp_path):
    net = make_net("float64", "relu", "sigmoid")
    net.fit(np.ones((4, 5)), np.ones((4, 3)) / 2, epochs=2, optimizer=swiftmlp.Adam())
    path = tmp_path / "m.safetensors"
    net.save(path, optimizer_state=True)
    plain = swiftmlp.load(path, activations=["relu", "relu", "sigmoid"], leaky_slope=0.05)
    assert plain.get_flat_params().tobytes() == net.get_flat_params().tobytes()


def _write(path, tensors):
    save_file({k: torch.from_numpy(v) for k, v in tensors.items()}, str(path))


W = np.ones((3, 2))
B = np.zeros(3)


@pytest.mark.parametrize("tensors,message", [
    ({"0.weight": W}, "layer 0 has no bias"),
    ({"0.weight": W, "0.bias": B, "extra": np.zeros(1)}, "tensor 'extra' is not a layer"),
    ({"0.weight": W, "0.bias": np.zeros(2)}, r"weight \(3, 2\) and bias \(2,\)"),
    ({"0.weight": W, "0.bias": B, "2.weight": np.ones((1, 4)), "2.bias": np.zeros(1)},
     "layer 2 takes 4 inputs"),
    ({"0.weight": W, "0.bias": B.astype(np.float32)}, "must all be F32 or all F64"),
    ({"a.0.weight": W, "a.0.bias": B, "b.2.weight": np.ones((1, 3)), "b.2.bias": np.zeros(1)},
     "different prefixes"),
    ({}, "no layer"),
])
def test_malformed_weights_files_are_format_errors(tmp_path, tensors, message):
    path = tmp_path / "w.safetensors"
    _write(path, tensors)
    with pytest.raises(swiftmlp.FormatError, match=message):
        swiftmlp.load(path, activations=["sigmoid"])


def test_not_a_safetensors_file_is_a_format_error(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{bad}")
    with pytest.raises(swiftmlp.FormatError, match="not a safetensors file"):
        swiftmlp.load(path, activations=["sigmoid"])


def test_non_finite_weights_are_refused_by_the_library(tmp_path):
    path = tmp_path / "w.safetensors"
    _write(path, {"0.weight": np.full((3, 2), np.nan), "0.bias": B})
    with pytest.raises(swiftmlp.NonFiniteError):
        swiftmlp.load(path, activations=["sigmoid"])


def test_a_fifo_or_directory_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        with pytest.raises(swiftmlp.SwiftMLPIOError, match="not a regular file"):
            swiftmlp.load(path, activations=["sigmoid"])
    with pytest.raises(swiftmlp.SwiftMLPIOError, match="cannot open"):
        swiftmlp.load(tmp_path / "missing", activations=["sigmoid"])


def test_architecture_keywords_need_activations(tmp_path):
    with pytest.raises(swiftmlp.InvalidArgumentError, match="give activations too"):
        swiftmlp.load(tmp_path / "x", loss="mse")
