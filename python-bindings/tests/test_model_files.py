"""Model files: save/load and to_bytes/from_bytes round trips, resuming training
bit-identically, pickling, interoperability with the safetensors package and
PyTorch, the malformed-file corpus of the C tests, and I/O faults."""

import copy
import os
import pickle
import re
import stat

import numpy as np
import pytest

import swiftmlp
from swiftmlp import FormatError, InvalidArgumentError, SwiftMLPError, SwiftMLPIOError

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(TESTS_DIR))
CORPUS_DIR = os.path.join(REPO_ROOT, "c-tests", "corpus")
CORPUS_EXPECTATIONS = os.path.join(REPO_ROOT, "c-tests", "test_model_corpus.c")
SHUFFLE_SALT = 0x6A09E667F3BCC909  # include/swiftmlp.h, swiftmlp_fit

# Configurations covering every dtype, activation, loss and init.
CONFIGS = [
    dict(sizes=[2, 4, 1], dtype="float64", seed=0),
    dict(sizes=[3, 5, 4, 2], dtype="float32", seed=7, activations=["tanh", "leaky_relu", "sigmoid"],
         loss="bce", init="glorot", leaky_slope=0.2),
    dict(sizes=[4, 6, 3], dtype="float64", seed=2 ** 64 - 1, activations=["relu", "softmax"],
         loss="cross_entropy", init="he"),
    dict(sizes=[3, 3, 2], dtype="float32", seed=11, activations="identity", loss="mse"),
]
OPTIMIZERS = [swiftmlp.Adam(lr=0.01), swiftmlp.AdamW(lr=0.02, weight_decay=0.05),
              swiftmlp.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
              swiftmlp.SGD(lr=0.3)]


def make(cfg):
    cfg = dict(cfg)
    return swiftmlp.MLP(cfg.pop("sizes"), **cfg)


def data(net, rows, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, net.sizes[0])).astype(net.dtype)
    if net.loss == "cross_entropy":
        y = np.eye(net.sizes[-1], dtype=net.dtype)[rng.integers(0, net.sizes[-1], rows)]
    else:
        y = rng.uniform(size=(rows, net.sizes[-1])).astype(net.dtype)
    return x, y


def config_of(net):
    return (net.sizes, net.dtype, net.activations, net.loss, net.init, net.leaky_slope, net.seed)


def params_bytes(net):
    return net.get_flat_params().tobytes()


# ---- round trips -------------------------------------------------------------------

@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c["sizes"])))
@pytest.mark.parametrize("optimizer", [None] + OPTIMIZERS, ids=repr)
@pytest.mark.parametrize("optimizer_state", [False, True])
def test_round_trip_through_file_and_bytes(tmp_path, cfg, optimizer, optimizer_state):
    with make(cfg) as net:
        rng = np.random.default_rng(1)
        net.set_flat_params(rng.normal(size=net.param_count))
        if optimizer is not None:
            net.optimizer = optimizer
            x, y = data(net, 6)
            net.train_step(x, y)
        path = tmp_path / "model.safetensors"
        net.save(path, optimizer_state=optimizer_state)
        blob = net.to_bytes(optimizer_state=optimizer_state)
        assert isinstance(blob, bytes)
        assert path.read_bytes() == blob  # the file holds exactly the to_bytes() bytes
        for clone in (swiftmlp.load(path), swiftmlp.load(str(path)), swiftmlp.from_bytes(blob),
                      swiftmlp.MLP.load(os.fsencode(path)), swiftmlp.MLP.from_bytes(blob)):
            with clone:
                assert type(clone) is swiftmlp.MLP
                assert config_of(clone) == config_of(net)
                assert params_bytes(clone) == params_bytes(net)  # bitwise
                for l in range(net.num_layers):
                    assert clone.weights[l].tobytes() == net.weights[l].tobytes()
                    assert clone.biases[l].tobytes() == net.biases[l].tobytes()
                assert clone.optimizer == net.optimizer  # hyperparameters, exactly
                expected_steps = net.optimizer_steps if optimizer_state else 0
                assert clone.optimizer_steps == expected_steps
                # Saving the copy again gives the same bytes.
                assert clone.to_bytes(optimizer_state=optimizer_state) == blob


def test_save_accepts_str_bytes_and_pathlike_and_overwrites_atomically(tmp_path):
    with swiftmlp.MLP([2, 4, 1], seed=3) as a, swiftmlp.MLP([2, 4, 1], seed=4) as b:
        target = tmp_path / "m.safetensors"
        a.save(str(target))
        b.save(os.fsencode(target))  # replaces the file
        assert swiftmlp.load(target).to_bytes() == b.to_bytes()
        a.save(target)
        assert target.read_bytes() == a.to_bytes()
        assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]  # no temporary left
        # A symbolic link is followed: the file it points to is replaced.
        link = tmp_path / "link.safetensors"
        link.symlink_to(target)
        b.save(link)
        assert link.is_symlink() and target.read_bytes() == b.to_bytes()


def test_without_an_optimizer_the_state_flag_changes_nothing():
    with swiftmlp.MLP([2, 4, 1]) as net:
        assert net.to_bytes(optimizer_state=True) == net.to_bytes()
        with swiftmlp.from_bytes(net.to_bytes(True)) as clone:
            assert clone.optimizer is None


def test_metadata_is_the_documented_one(tmp_path):
    from safetensors import safe_open
    with swiftmlp.MLP([3, 5, 2], dtype="float32", seed=9, activations=["leaky_relu", "sigmoid"],
                      loss="bce", init="he", leaky_slope=0.125) as net:
        net.optimizer = swiftmlp.AdamW(lr=0.003, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.02)
        net.train_step(*data(net, 4))
        net.save(tmp_path / "m.safetensors", optimizer_state=True)
        with safe_open(str(tmp_path / "m.safetensors"), "numpy") as f:
            meta = f.metadata()
            keys = set(f.keys())
    assert meta == {
        "format": "swiftmlp", "format_version": "1", "dtype": "float32", "sizes": "3,5,2",
        "activations": "leaky_relu,sigmoid", "leaky_slope": "0.125",
        "loss": "binary_cross_entropy", "init": "he", "seed": "9",
        "shuffle_state": str((9 + SHUFFLE_SALT) % 2 ** 64),
        "optimizer": "adamw", "optimizer_lr": "0.003", "optimizer_momentum": "0.0",
        "optimizer_nesterov": "0", "optimizer_beta1": "0.8", "optimizer_beta2": "0.99",
        "optimizer_eps": "1e-07", "optimizer_weight_decay": "0.02", "optimizer_steps": "1",
    }
    assert keys == {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                    "optimizer.m", "optimizer.v"}


# ---- resuming training -------------------------------------------------------------

def _train(net, batches):
    return [net.train_step(x, y) for x, y in batches]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS[:3], ids=repr)
def test_training_resumes_bit_identically_with_the_optimizer_state(tmp_path, dtype, optimizer):
    """Train k steps (and a fit epoch, which advances the shuffle generator),
    save with the state, load, then train the original and every copy m more
    steps with train_step and 2 more epochs with fit: identical parameters,
    losses and histories."""
    with swiftmlp.MLP([3, 6, 2], dtype=dtype, seed=5, activations=["tanh", "sigmoid"]) as net:
        X, Y = data(net, 23, seed=2)
        batches = [(X[i:i + 4], Y[i:i + 4]) for i in range(0, 20, 4)]
        net.optimizer = optimizer
        _train(net, batches[:3])  # k = 3
        net.fit(X, Y, epochs=1, batch_size=5)
        assert net.optimizer_steps == 3 + 5
        net.save(tmp_path / "resume.safetensors", optimizer_state=True)
        copies = [swiftmlp.load(tmp_path / "resume.safetensors"),
                  swiftmlp.from_bytes(net.to_bytes(optimizer_state=True)),
                  pickle.loads(pickle.dumps(net)), copy.deepcopy(net)]
        # Control: without the state the moments restart from zero.
        stateless = swiftmlp.from_bytes(net.to_bytes())
        assert stateless.optimizer == net.optimizer and stateless.optimizer_steps == 0

        losses = _train(net, batches)  # m = 5
        hist = net.fit(X, Y, epochs=2, batch_size=5)
        for c in copies:
            with c:
                assert _train(c, batches) == losses
                h = c.fit(X, Y, epochs=2, batch_size=5)
                assert h.loss == hist.loss and h.as_dict() == hist.as_dict()
                assert params_bytes(c) == params_bytes(net)
                assert c.optimizer_steps == net.optimizer_steps == 3 + 5 + 5 + 10
        with stateless:
            _train(stateless, batches)
            assert params_bytes(stateless) != params_bytes(net)


def test_a_copy_trains_like_the_original_but_independently():
    with swiftmlp.MLP([2, 4, 1], seed=1) as net:
        net.optimizer = swiftmlp.Adam(lr=0.05)
        x, y = data(net, 4)
        net.train_step(x, y)
        clone = copy.copy(net)
        assert clone._handle.value != net._handle.value
        net.train_step(x, y)
        assert params_bytes(clone) != params_bytes(net)
        clone.train_step(x, y)
        assert params_bytes(clone) == params_bytes(net)
        # No forward cache is copied: backward needs a forward first.
        net.forward(x)
        with pytest.raises(swiftmlp.StateError):
            copy.deepcopy(net).backward(y)
        clone.close()


def test_old_pickles_still_load():
    # What swiftmlp 0.3.0 wrote before model files existed (MLP.__reduce__ then).
    from swiftmlp.mlp import _restore
    params = np.arange(17, dtype=np.float64) / 17
    blob = pickle.dumps((_restore, ((2, 4, 1), "float64", 3, params,
                                    {"activations": ["sigmoid", "sigmoid"], "loss": "mse",
                                     "init": "uniform", "leaky_slope": 0.01},
                                    swiftmlp.SGD(lr=0.5))))
    func, args = pickle.loads(blob)
    with func(*args) as net:
        np.testing.assert_array_equal(net.get_flat_params(), params)
        assert net.optimizer == swiftmlp.SGD(lr=0.5)


def test_closed_network_cannot_be_saved_or_pickled(tmp_path):
    net = swiftmlp.MLP([2, 2])
    net.close()
    for use in (lambda: net.save(tmp_path / "x"), lambda: net.to_bytes(),
                lambda: pickle.dumps(net), lambda: copy.deepcopy(net)):
        with pytest.raises(swiftmlp.StateError, match="closed"):
            use()
    assert os.listdir(tmp_path) == []


# ---- from_bytes inputs -------------------------------------------------------------

def test_from_bytes_accepts_every_bytes_like_object():
    with swiftmlp.MLP([3, 4, 2], seed=8) as net:
        blob = net.to_bytes()
        arr = np.frombuffer(blob, dtype=np.uint8)
        wide = np.zeros(2 * len(blob), dtype=np.uint8)
        wide[::2] = arr
        ro = arr.copy()
        ro.flags.writeable = False
        for data_ in (blob, bytearray(blob), memoryview(blob), memoryview(bytearray(blob)),
                      arr, ro, wide[::2], np.asfortranarray(arr),
                      memoryview(wide)[::2],  # non-contiguous memoryview
                      memoryview(blob).cast("c"), memoryview(blob).cast("b")):
            with swiftmlp.from_bytes(data_) as clone:
                assert params_bytes(clone) == params_bytes(net), type(data_)


@pytest.mark.parametrize("bad,exc", [
    ("model.safetensors", TypeError),                    # a str is a path, not bytes
    (12, TypeError),
    (None, TypeError),
    (np.zeros(8, dtype=np.float64), swiftmlp.DTypeError),
    (np.zeros(8, dtype=np.int8), swiftmlp.DTypeError),
    (np.zeros((2, 4), dtype=np.uint8), InvalidArgumentError),
    (memoryview(np.zeros(3)), swiftmlp.DTypeError),
])
def test_from_bytes_rejects_what_is_not_bytes(bad, exc):
    with pytest.raises(exc):
        swiftmlp.from_bytes(bad)


@pytest.mark.parametrize("blob", [b"", b"\0", bytes(8), bytes(7), b"\xff" * 64],
                         ids=["empty", "1", "8", "7", "ff"])
def test_from_bytes_of_garbage_is_a_format_error(blob):
    with pytest.raises(FormatError) as info:
        swiftmlp.from_bytes(blob)
    assert isinstance(info.value, ValueError)
    assert info.value.function == "swiftmlp_load_buffer"
    assert info.value.message.startswith("swiftmlp_load_buffer: ")


def test_truncated_or_extended_model_bytes_are_rejected():
    with swiftmlp.MLP([2, 4, 1]) as net:
        blob = net.to_bytes()
    for bad in (blob[:-1], blob[:8], blob[:len(blob) // 2], blob + b"\0"):
        with pytest.raises(FormatError):
            swiftmlp.from_bytes(bad)


@pytest.mark.parametrize("value", [1, "yes", None, 1.0])
def test_optimizer_state_must_be_a_bool(tmp_path, value):
    with swiftmlp.MLP([2, 2]) as net:
        with pytest.raises(TypeError):
            net.to_bytes(optimizer_state=value)
        with pytest.raises(TypeError):
            net.save(tmp_path / "m", optimizer_state=value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("path,exc", [
    ("", InvalidArgumentError),
    ("bad\0name", InvalidArgumentError),
    (b"bad\0name", InvalidArgumentError),
    (12, TypeError),
    (None, TypeError),
    (bytearray(b"m.safetensors"), TypeError),
])
def test_bad_paths(tmp_path, monkeypatch, path, exc):
    monkeypatch.chdir(tmp_path)
    with swiftmlp.MLP([2, 2]) as net:
        with pytest.raises(exc):
            net.save(path)
    with pytest.raises(exc):
        swiftmlp.load(path)
    assert os.listdir(tmp_path) == []


def test_a_path_with_bytes_that_are_not_utf8_names_that_file(tmp_path):
    """Linux file names are bytes: b"caf\\xff" must save to and load from exactly
    that name (a str path with surrogate escapes is the same name)."""
    with swiftmlp.MLP([2, 4, 1], seed=2) as net:
        name = os.path.join(os.fsencode(tmp_path), b"caf\xff.safetensors")
        net.save(name)
        assert os.listdir(os.fsencode(tmp_path)) == [b"caf\xff.safetensors"]
        with swiftmlp.load(os.fsdecode(name)) as clone:
            assert params_bytes(clone) == params_bytes(net)


def test_saving_to_a_non_utf8_name_leaves_other_files_alone(tmp_path):
    """b"\xff" and the UTF-8 name "\ufffd" are different files: saving to the
    first must not replace the second (nor load read it)."""
    with swiftmlp.MLP([2, 4, 1], seed=2) as a, swiftmlp.MLP([2, 4, 1], seed=3) as b:
        directory = os.fsencode(tmp_path)
        other = os.path.join(directory, "caf\ufffd.safetensors".encode())
        a.save(other)
        b.save(os.path.join(directory, b"caf\xff.safetensors"))
        with swiftmlp.load(other) as again:
            assert params_bytes(again) == params_bytes(a)
        assert sorted(os.listdir(directory)) == sorted([b"caf\xff.safetensors",
                                                        "caf\ufffd.safetensors".encode()])


# ---- safetensors interoperability ----------------------------------------------------

@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(map(str, c["sizes"])))
def test_safetensors_numpy_reads_swiftmlp_files(tmp_path, cfg):
    from safetensors.numpy import load, load_file
    with make(cfg) as net:
        net.optimizer = swiftmlp.Adam()
        net.train_step(*data(net, 3))
        net.save(tmp_path / "m.safetensors", optimizer_state=True)
        for tensors in (load_file(str(tmp_path / "m.safetensors")),
                        load(net.to_bytes(optimizer_state=True))):
            expected_names = {f"layers.{l}.{k}" for l in range(net.num_layers)
                              for k in ("weight", "bias")} | {"optimizer.m", "optimizer.v"}
            assert set(tensors) == expected_names
            for l in range(net.num_layers):
                w, b = tensors[f"layers.{l}.weight"], tensors[f"layers.{l}.bias"]
                assert w.shape == (net.sizes[l + 1], net.sizes[l]) and b.shape == (net.sizes[l + 1],)
                assert w.dtype == net.dtype == b.dtype
                assert w.tobytes() == net.weights[l].tobytes()
                assert b.tobytes() == net.biases[l].tobytes()
            for k in ("optimizer.m", "optimizer.v"):
                assert tensors[k].shape == (net.param_count,) and tensors[k].dtype == net.dtype
            assert np.any(tensors["optimizer.m"] != 0) and np.all(tensors["optimizer.v"] >= 0)


def _documented_metadata(dtype, sizes, activations, loss="mse", init="uniform", seed=0,
                         leaky_slope="0.01"):
    return {"format": "swiftmlp", "format_version": "1", "dtype": dtype,
            "sizes": ",".join(map(str, sizes)), "activations": ",".join(activations),
            "leaky_slope": leaky_slope, "loss": loss, "init": init, "seed": str(seed),
            "shuffle_state": str((seed + SHUFFLE_SALT) % 2 ** 64)}


@pytest.mark.parametrize("dtype,np_dtype", [("float64", np.float64), ("float32", np.float32)])
def test_a_file_written_by_safetensors_loads(tmp_path, dtype, np_dtype):
    from safetensors.numpy import save, save_file
    rng = np.random.default_rng(4)
    sizes = [3, 5, 2]
    tensors = {}
    for l in range(2):
        tensors[f"layers.{l}.weight"] = rng.normal(size=(sizes[l + 1], sizes[l])).astype(np_dtype)
        tensors[f"layers.{l}.bias"] = rng.normal(size=sizes[l + 1]).astype(np_dtype)
    meta = _documented_metadata(dtype, sizes, ["tanh", "sigmoid"], seed=7)
    save_file(tensors, str(tmp_path / "ext.safetensors"), metadata=meta)
    for net in (swiftmlp.load(tmp_path / "ext.safetensors"),
                swiftmlp.from_bytes(save(tensors, metadata=meta))):
        with net:
            assert net.sizes == tuple(sizes) and net.dtype == np.dtype(np_dtype)
            assert net.activations == ("tanh", "sigmoid") and net.seed == 7
            assert net.optimizer is None
            for l in range(2):
                assert net.weights[l].tobytes() == tensors[f"layers.{l}.weight"].tobytes()
                assert net.biases[l].tobytes() == tensors[f"layers.{l}.bias"].tobytes()
            # The same as a fresh network with those parameters, fit() shuffles included.
            with swiftmlp.MLP(sizes, dtype=dtype, seed=7, activations=["tanh", "sigmoid"]) as ref:
                for l in range(2):
                    ref.set_layer(l, tensors[f"layers.{l}.weight"], tensors[f"layers.{l}.bias"])
                x, y = data(ref, 9)
                h_ref = ref.fit(x, y, epochs=2, batch_size=2, optimizer="adam")
                h = net.fit(x, y, epochs=2, batch_size=2, optimizer="adam")
                assert h.loss == h_ref.loss and params_bytes(net) == params_bytes(ref)


def test_optimizer_state_survives_a_safetensors_rewrite(tmp_path):
    """Read a swiftmlp file with safetensors, write it again with safetensors
    (its own layout and padding), load: training continues bit-identically."""
    from safetensors import safe_open
    from safetensors.numpy import save_file
    with swiftmlp.MLP([3, 4, 2], seed=1, activations=["relu", "softmax"],
                      loss="cross_entropy") as net:
        net.optimizer = swiftmlp.SGD(lr=0.2, momentum=0.8)
        x, y = data(net, 6)
        for _ in range(4):
            net.train_step(x, y)
        net.save(tmp_path / "a.safetensors", optimizer_state=True)
        with safe_open(str(tmp_path / "a.safetensors"), "numpy") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        assert set(tensors) >= {"optimizer.momentum"} and meta["optimizer_steps"] == "4"
        save_file(tensors, str(tmp_path / "b.safetensors"), metadata=meta)
        with swiftmlp.load(tmp_path / "b.safetensors") as clone:
            assert clone.optimizer_steps == 4
            for _ in range(3):
                assert clone.train_step(x, y) == net.train_step(x, y)
            assert params_bytes(clone) == params_bytes(net)


# ---- PyTorch ---------------------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:  # a missing dependency is a failure, never a skip
        pytest.fail("PyTorch is needed for the interoperability tests: run "
                    "`bash scripts/deps.sh` (or `python3 -m pip install torch`)")
    return torch


def _torch_module(torch, name, slope):
    return {"sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU(),
            "leaky_relu": torch.nn.LeakyReLU(slope), "identity": torch.nn.Identity(),
            "softmax": torch.nn.Softmax(dim=1)}[name]


def _torch_sequential(torch, net):
    modules = []
    for l in range(net.num_layers):
        modules.append(torch.nn.Linear(net.sizes[l], net.sizes[l + 1]))
        modules.append(_torch_module(torch, net.activations[l], net.leaky_slope))
    seq = torch.nn.Sequential(*modules)
    return seq.to(torch.float64 if net.dtype == np.float64 else torch.float32)


def _renamed_for_torch(tensors):
    """The documented rename: "layers.<l>." -> "<2l>." (optimizer.* dropped)."""
    out = {}
    for k, v in tensors.items():
        m = re.fullmatch(r"layers\.(\d+)\.(weight|bias)", k)
        if m:
            out[f"{2 * int(m.group(1))}.{m.group(2)}"] = v
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pytorch_sequential_loads_a_swiftmlp_file(tmp_path, dtype):
    """The slides' network in PyTorch: nn.Sequential(Linear, Sigmoid, Linear,
    Sigmoid) loads the file's state dict and computes the same outputs, loss
    and gradients."""
    torch = _torch()
    from safetensors.numpy import load_file
    from safetensors.torch import load_file as torch_load_file
    with swiftmlp.MLP([2, 4, 1], dtype=dtype, seed=0) as net:
        net.optimizer = swiftmlp.SGD(lr=0.5)
        x, y = data(net, 4)
        for _ in range(3):
            net.train_step(x, y)  # parameters that are not the initial ones
        path = str(tmp_path / "slides.safetensors")
        net.save(path)
        seq = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Sigmoid(),
                                  torch.nn.Linear(4, 1), torch.nn.Sigmoid())
        seq = seq.to(torch.float64 if dtype == "float64" else torch.float32)
        via_numpy = {k: torch.from_numpy(v) for k, v in _renamed_for_torch(load_file(path)).items()}
        via_torch = _renamed_for_torch(torch_load_file(path))
        for state in (via_numpy, via_torch):
            seq.load_state_dict(state, strict=True)
            xt = torch.from_numpy(x.copy())
            out = seq(xt)
            tol = 1e-12 if dtype == "float64" else 1e-6
            ours = net.forward(x)
            np.testing.assert_allclose(out.detach().numpy(), ours, rtol=tol, atol=0)
            loss = torch.nn.MSELoss(reduction="mean")(out, torch.from_numpy(y.copy()))
            seq.zero_grad()
            loss.backward()
            assert abs(loss.item() - net.backward(y)) <= tol * abs(loss.item())
            for l in range(2):
                g_ref = seq[2 * l].weight.grad.numpy()
                np.testing.assert_allclose(net.weight_grads[l], g_ref, rtol=0,
                                           atol=tol * np.abs(g_ref).max())
                gb_ref = seq[2 * l].bias.grad.numpy()
                np.testing.assert_allclose(net.bias_grads[l], gb_ref, rtol=0,
                                           atol=tol * np.abs(gb_ref).max())


@pytest.mark.parametrize("cfg", [
    dict(sizes=[3, 6, 5, 4], activations=["tanh", "leaky_relu", "softmax"], loss="cross_entropy",
         leaky_slope=0.1),
    dict(sizes=[4, 5, 3], activations=["relu", "identity"]),
], ids=["tanh-leaky-softmax", "relu-identity"])
def test_pytorch_forward_equals_for_other_activations(tmp_path, cfg):
    torch = _torch()
    from safetensors.torch import load_file as torch_load_file
    with swiftmlp.MLP(cfg.pop("sizes"), dtype="float64", seed=3, **cfg) as net:
        net.set_flat_params(np.random.default_rng(0).normal(size=net.param_count))
        net.save(tmp_path / "m.safetensors")
        seq = _torch_sequential(torch, net)
        seq.load_state_dict(_renamed_for_torch(torch_load_file(str(tmp_path / "m.safetensors"))))
        x, _ = data(net, 7)
        np.testing.assert_allclose(seq(torch.from_numpy(x)).detach().numpy(), net.forward(x),
                                   rtol=1e-12, atol=1e-300)


def test_a_pytorch_model_saved_with_safetensors_loads_into_swiftmlp(tmp_path):
    torch = _torch()
    from safetensors.torch import save_file
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 3), torch.nn.Sigmoid()).double()
    tensors = {}
    for k, v in seq.state_dict().items():
        index, kind = k.split(".")
        tensors[f"layers.{int(index) // 2}.{kind}"] = v.contiguous()
    meta = _documented_metadata("float64", [5, 8, 3], ["tanh", "sigmoid"], seed=0)
    save_file(tensors, str(tmp_path / "from_torch.safetensors"), metadata=meta)
    with swiftmlp.load(tmp_path / "from_torch.safetensors") as net:
        x = np.random.default_rng(1).normal(size=(6, 5))
        np.testing.assert_allclose(net.forward(x), seq(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-12, atol=0)


# ---- the malformed-file corpus of the C tests ----------------------------------------

def _corpus_files(prefix):
    names = sorted(n for n in os.listdir(CORPUS_DIR)
                   if n.startswith(prefix) and n.endswith(".safetensors"))
    assert names, f"no {prefix}*.safetensors in {CORPUS_DIR}"
    return names


def _expected_messages():
    """stem -> the substring the C test requires of last_error (test_model_corpus.c)."""
    with open(CORPUS_EXPECTATIONS) as fh:
        text = fh.read()
    table = {}
    for stem, message in re.findall(r'BAD\("(\w+)",\s*"((?:[^"\\]|\\.)*)"\)', text):
        table[stem] = message.encode().decode("unicode_escape")
    return table


EXPECTED_MESSAGES = _expected_messages()


@pytest.mark.parametrize("name", _corpus_files("bad_"))
def test_every_malformed_corpus_file_is_a_format_error(name):
    path = os.path.join(CORPUS_DIR, name)
    stem = name[:-len(".safetensors")]
    expected = EXPECTED_MESSAGES.get(stem)
    assert expected, f"{stem} has no expected message in c-tests/test_model_corpus.c"
    with open(path, "rb") as fh:
        blob = fh.read()
    for load, function, arg in ((swiftmlp.load, "swiftmlp_load_file", path),
                                (swiftmlp.from_bytes, "swiftmlp_load_buffer", blob)):
        with pytest.raises(FormatError) as info:
            load(arg)
        err = info.value
        assert isinstance(err, ValueError) and isinstance(err, SwiftMLPError)
        assert err.status == 11 and err.function == function
        # The library's own message, naming the problem, is what str() shows.
        assert err.message.startswith(function + ": ")
        assert expected in err.message, (err.message, expected)
        assert err.message in str(err)
        assert "[status 11: malformed model]" in str(err)


@pytest.mark.parametrize("name", _corpus_files("valid_"))
def test_valid_corpus_files_load_with_their_contents(name):
    from safetensors import safe_open
    path = os.path.join(CORPUS_DIR, name)
    with safe_open(path, "numpy") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    with open(path, "rb") as fh:
        blob = fh.read()
    for net in (swiftmlp.load(path), swiftmlp.from_bytes(blob)):
        with net:
            assert net.dtype.name == meta["dtype"]
            assert ",".join(map(str, net.sizes)) == meta["sizes"]
            assert ",".join(net.activations) == meta["activations"]
            assert net.seed == int(meta["seed"])
            for l in range(net.num_layers):
                assert net.weights[l].tobytes() == tensors[f"layers.{l}.weight"].tobytes()
                assert net.biases[l].tobytes() == tensors[f"layers.{l}.bias"].tobytes()
            if "optimizer" in meta:
                assert type(net.optimizer).__name__.lower() == meta["optimizer"]
                assert net.optimizer.lr == float(meta["optimizer_lr"])
                assert net.optimizer_steps == int(meta["optimizer_steps"])
            else:
                assert net.optimizer is None
            # Saving with the state reproduces the tensors.
            if "optimizer_steps" in meta:
                from safetensors.numpy import load as st_load
                again = st_load(net.to_bytes(optimizer_state=True))
                assert set(again) == set(tensors)
                for k in tensors:
                    assert again[k].tobytes() == tensors[k].tobytes(), k
            x = np.zeros((2, net.sizes[0]), dtype=net.dtype)
            assert np.isfinite(net.predict(x)).all()


@pytest.mark.parametrize("name", _corpus_files("edge_"))
def test_edge_corpus_files_load_or_are_format_errors_and_then_work(name):
    path = os.path.join(CORPUS_DIR, name)
    try:
        net = swiftmlp.load(path)
    except FormatError as err:
        assert err.message
        return
    with net:
        x = np.zeros((3, net.sizes[0]), dtype=net.dtype)
        y = np.full((3, net.sizes[-1]), 1.0 / net.sizes[-1], dtype=net.dtype)
        assert np.isfinite(net.forward(x)).all()
        net.backward(y)
        if net.optimizer is not None:
            try:
                net.step()
            except swiftmlp.NonFiniteError:
                pass  # an extreme state may refuse the step; it must not crash
        assert np.isfinite(net.get_flat_params()).all()
        assert swiftmlp.from_bytes(net.to_bytes(optimizer_state=True)).sizes == net.sizes


# ---- I/O faults ------------------------------------------------------------------------

def test_load_of_a_missing_path_or_a_directory_is_an_io_error(tmp_path):
    for path in (tmp_path / "missing.safetensors", tmp_path / "no" / "dir" / "m.safetensors",
                 tmp_path):
        with pytest.raises(SwiftMLPIOError) as info:
            swiftmlp.load(path)
        err = info.value
        assert isinstance(err, OSError) and isinstance(err, SwiftMLPError)
        assert err.status == 12 and err.function == "swiftmlp_load_file"
        assert err.filename == os.fspath(path)
        assert str(path) in err.message and err.message in str(err)
    with pytest.raises(OSError):  # catchable as a plain OSError
        swiftmlp.load(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full"])
def test_load_of_a_device_is_an_io_error(device):
    with pytest.raises(SwiftMLPIOError, match="not a regular file"):
        swiftmlp.load(device)


def test_save_into_a_missing_directory_creates_nothing(tmp_path):
    with swiftmlp.MLP([2, 4, 1]) as net:
        target = tmp_path / "missing" / "m.safetensors"
        with pytest.raises(SwiftMLPIOError) as info:
            net.save(target)
        assert isinstance(info.value, OSError) and info.value.filename == os.fspath(target)
        assert "no such file or directory" in info.value.message
        assert not (tmp_path / "missing").exists()
        assert os.listdir(tmp_path) == []


def test_save_over_a_directory_is_refused_and_leaves_it(tmp_path):
    with swiftmlp.MLP([2, 4, 1]) as net:
        (tmp_path / "d").mkdir()
        (tmp_path / "d" / "keep").write_text("x")
        with pytest.raises(SwiftMLPIOError, match="not a regular file"):
            net.save(tmp_path / "d")
        assert os.listdir(tmp_path / "d") == ["keep"]
        assert sorted(os.listdir(tmp_path)) == ["d"]


def test_save_to_dev_full_fails_and_leaves_the_device_alone():
    before = os.stat("/dev/full")
    assert stat.S_ISCHR(before.st_mode)
    with swiftmlp.MLP([2, 4, 1]) as net:
        with pytest.raises(SwiftMLPError) as info:
            net.save("/dev/full")
        assert isinstance(info.value, SwiftMLPIOError)
        after = os.stat("/dev/full")
        assert stat.S_ISCHR(after.st_mode)
        assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
        assert not [n for n in os.listdir("/dev") if n.startswith("full") and n != "full"]


def test_failed_save_keeps_the_previous_file(tmp_path):
    with swiftmlp.MLP([2, 4, 1], seed=1) as a, swiftmlp.MLP([2, 4, 1], seed=2) as b:
        target = tmp_path / "m.safetensors"
        a.save(target)
        before = target.read_bytes()
        with pytest.raises(SwiftMLPIOError):  # its "directory" is a regular file
            b.save(target / "inside")
        assert target.read_bytes() == before
        assert os.listdir(tmp_path) == ["m.safetensors"]
