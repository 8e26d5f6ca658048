"""The 0.2 Python API: struct layouts, optimizers (read back, defaults,
step() vs step(lr), reset), the slides' quantities (inspect), copies, and two
documented promises of the header checked at their edges."""

import copy
import os
import pickle
import subprocess

import numpy as np
import pytest

import swiftmlp
from swiftmlp import _lib

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

STRUCTS = {
    "swiftmlp_config": _lib.Config,
    "swiftmlp_optimizer": _lib.Optimizer,
    "swiftmlp_progress": _lib.Progress,
    "swiftmlp_fit_options": _lib.FitOptions,
    "swiftmlp_fit_result": _lib.FitResult,
    "swiftmlp_gradcheck": _lib.GradCheck,
}


def test_struct_layouts_match_the_c_compiler(tmp_path):
    """sizeof and every field's offset, from the C compiler and the header."""
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "swiftmlp.h"',
             "int main(void) {"]
    for cname, cls in STRUCTS.items():
        lines.append(f'printf("{cname} %zu\\n", sizeof({cname}));')
        for field, _ in cls._fields_:
            lines.append(f'printf("{cname}.{field} %zu\\n", offsetof({cname}, {field}));')
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run(["cc", "-std=c99", "-I", os.path.join(REPO, "include"), "-o", str(exe),
                    str(src)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    from_c = dict(line.rsplit(" ", 1) for line in out.splitlines())
    for cname, cls in STRUCTS.items():
        assert int(from_c[cname]) == __import__("ctypes").sizeof(cls), cname
        for field, _ in cls._fields_:
            assert int(from_c[f"{cname}.{field}"]) == getattr(cls, field).offset, (cname, field)
    assert len(from_c) == len(STRUCTS) + sum(len(c._fields_) for c in STRUCTS.values())


# ---- optimizers ------------------------------------------------------------------

def test_python_defaults_are_the_library_defaults():
    with swiftmlp.MLP([2, 2]) as net:
        for name, expected in (("adam", swiftmlp.Adam()), ("adamw", swiftmlp.AdamW()),
                               ("sgd", swiftmlp.SGD(lr=0.01)), ("AdamW", swiftmlp.AdamW())):
            net.optimizer = name  # swiftmlp_optimizer_default
            assert net.optimizer == expected and type(net.optimizer) is type(expected)
    assert swiftmlp.AdamW().weight_decay == 0.01 and swiftmlp.Adam().weight_decay == 0.0
    assert swiftmlp.Adam() != swiftmlp.AdamW(weight_decay=0.0)  # different kinds


@pytest.mark.parametrize("opt", [
    swiftmlp.SGD(lr=0.25), swiftmlp.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    swiftmlp.Adam(lr=3e-4, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.02),
    swiftmlp.AdamW(lr=1e-2, betas=[0.5, 0.9], weight_decay=0.3),
], ids=repr)
def test_optimizer_is_read_back(opt):
    with swiftmlp.MLP([3, 4, 2]) as net:
        assert net.optimizer is None and net.optimizer_steps == 0
        net.optimizer = opt
        assert net.optimizer == opt
        assert isinstance(net.optimizer.lr, float)


def test_step_with_lr_is_plain_sgd_and_leaves_the_optimizer_alone():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
    with swiftmlp.MLP([3, 5, 2], seed=1) as a, swiftmlp.MLP([3, 5, 2], seed=1) as b:
        for net in (a, b):
            net.optimizer = swiftmlp.Adam(lr=0.05)
            net.train_step(x, y)
            net.train_step(x, y)  # Adam has state now (t = 2)
        a.forward(x)
        a.backward(y)
        before, grads = a.get_flat_params().copy(), a.get_flat_grads().copy()
        a.step(lr=0.1)
        np.testing.assert_array_equal(a.get_flat_params(), before - 0.1 * grads)
        assert a.optimizer_steps == 2
        # Adam's third step from here equals the third step of an optimizer
        # whose state the plain step never touched.
        b.set_flat_params(a.get_flat_params())
        for net in (a, b):
            net.forward(x)
            net.backward(y)
            net.step()
        assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()
        assert a.optimizer_steps == b.optimizer_steps == 3


def test_plain_sgd_optimizer_equals_step_lr():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    with swiftmlp.MLP([3, 5, 2], seed=2) as a, swiftmlp.MLP([3, 5, 2], seed=2) as b:
        a.optimizer = swiftmlp.SGD(lr=0.7)
        for _ in range(3):
            a.train_step(x, y)      # step() with the optimizer
            b.train_step(x, y, 0.7)  # step(lr)
        assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()
        assert a.optimizer_steps == 3 and b.optimizer_steps == 0


def test_reset_and_reassign_give_fresh_state():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    opt = swiftmlp.SGD(lr=0.1, momentum=0.9)
    with swiftmlp.MLP([3, 4, 2], seed=3) as a, swiftmlp.MLP([3, 4, 2], seed=3) as b:
        a.optimizer = opt
        for _ in range(3):
            a.train_step(x, y)
        for reset in (a.reset_optimizer, lambda: setattr(a, "optimizer", opt)):
            reset()
            assert a.optimizer_steps == 0 and a.optimizer == opt
            b.set_flat_params(a.get_flat_params())
            b.optimizer = opt  # fresh
            for _ in range(2):
                a.train_step(x, y)
                b.train_step(x, y)
            assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()


# ---- the slides' quantities ---------------------------------------------------------

def test_inspect_layout_and_read_only_arrays():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 3))
    with swiftmlp.MLP([3, 5, 4, 2], activations=["relu", "tanh", "softmax"],
                      loss="cross_entropy", seed=4) as net:
        out = net.forward(x)
        net.backward(rng.integers(0, 2, size=7))
        q = net.inspect()
        assert [e["layer"] for e in q] == [0, 1, 2, 3]
        assert q[0]["f"] is None and q[0]["dL_df"] is None and q[0]["dL_dg"] is None
        np.testing.assert_array_equal(q[0]["g"], x)  # g^(0) = x
        np.testing.assert_array_equal(q[3]["g"], out)
        for l, n in ((1, 5), (2, 4), (3, 2)):
            for key in ("f", "g", "dL_df", "dL_dg"):
                a = q[l][key]
                assert a.shape == (7, n) and a.dtype == net.dtype and not a.flags.writeable
                np.testing.assert_array_equal(a, net.quantity(key, l))
        # the slides' relations between them
        np.testing.assert_array_equal(q[1]["g"], np.maximum(q[1]["f"], 0))
        np.testing.assert_allclose(q[1]["f"], x @ net.weights[0].T + net.biases[0], rtol=1e-13)
        np.testing.assert_allclose(net.bias_grads[2], q[3]["dL_df"].sum(axis=0), rtol=1e-13)
        np.testing.assert_allclose(net.weight_grads[1], q[2]["dL_df"].T @ q[1]["g"], rtol=1e-13)
        np.testing.assert_allclose(q[2]["dL_dg"], q[3]["dL_df"] @ net.weights[2], rtol=1e-13)
        with pytest.raises(ValueError, match="read-only"):
            q[1]["f"][0, 0] = 1.0
        # still readable after a step, until the next forward
        net.step(lr=0.1)
        q_after = net.inspect()
        for l in range(1, 4):
            for key in ("f", "g", "dL_df", "dL_dg"):
                np.testing.assert_array_equal(q_after[l][key], q[l][key])


def test_inspect_after_fit_shows_the_last_training_batch():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10, 3))
    labels = rng.integers(0, 2, size=10)
    with swiftmlp.MLP([3, 4, 2], activations=["tanh", "softmax"], loss="cross_entropy") as net:
        net.fit(x, labels, epochs=2, batch_size=4, optimizer="adam")
        q = net.inspect()
        assert q[0]["g"].shape == (2, 3)  # the last batch holds the remainder, 10 = 4+4+2
        rows = {tuple(r) for r in x}
        assert all(tuple(r) in rows for r in q[0]["g"])
        assert q[2]["dL_df"] is not None and q[1]["dL_dg"].shape == (2, 4)


# ---- copies ---------------------------------------------------------------------------

def test_pickle_and_deepcopy_keep_configuration_and_optimizer():
    with swiftmlp.MLP([3, 4, 2], activations=["leaky_relu", "softmax"], loss="cross_entropy",
                      init="he", leaky_slope=0.2, dtype="float32", seed=5) as net:
        net.optimizer = swiftmlp.AdamW(lr=0.02)
        for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
            with clone:
                assert (clone.activations, clone.loss, clone.init, clone.leaky_slope,
                        clone.seed, clone.dtype) == (net.activations, net.loss, net.init,
                                                     net.leaky_slope, net.seed, net.dtype)
                assert clone.get_flat_params().tobytes() == net.get_flat_params().tobytes()
                assert clone.optimizer == net.optimizer and clone.optimizer_steps == 0
        assert "leaky_relu" in repr(net) and "cross_entropy" in repr(net)


def test_history_behaves_like_a_record_and_a_dict():
    h = swiftmlp.History(loss=[1.0, 0.5], val_loss=[], best_epoch=1, best_loss=0.5,
                         epochs_run=2)
    assert h["loss"] is h.loss and h["best_epoch"] == 1
    assert h.as_dict()["stopped_early"] is False
    with pytest.raises(KeyError):
        h["accuracy"]


# ---- the header's promises at their edges --------------------------------------------

@pytest.mark.parametrize("dtype,big", [("float32", 3e38), ("float64", 1e308)])
@pytest.mark.parametrize("targets", ["one_hot", "labels", "probabilities"])
def test_cross_entropy_stays_finite_for_any_finite_logits(dtype, big, targets):
    """Header, swiftmlp_loss: "Both fused losses stay finite for logits of any
    finite size".  Logits (big, -big) and target class 0: the loss is
    logsumexp(f) - f_0 = 0 exactly (probability rows: 0.75 * 0 + 0.25 * 2 big
    overflows, so only 'finite or +inf, never NaN' is asked there)."""
    with swiftmlp.MLP([1, 2], dtype=dtype, activations="softmax", loss="cross_entropy") as net:
        net.set_flat_params([big, -big, 0.0, 0.0])
        y = {"one_hot": np.array([[1.0, 0.0]]), "labels": np.array([0]),
             "probabilities": np.array([[0.75, 0.25]])}[targets]
        net.forward([[1.0]])
        loss = net.backward(y)
        loss_eval = net.evaluate([[1.0]], y)
        if targets == "probabilities":
            assert not np.isnan(loss) and not np.isnan(loss_eval)
        else:
            assert loss == 0.0 and loss_eval == 0.0
        assert np.all(np.isfinite(net.get_flat_grads()))


@pytest.mark.parametrize("optimizer", [swiftmlp.Adam, swiftmlp.AdamW])
def test_float32_adam_first_step_is_lr_to_float32_precision(optimizer):
    """At t = 1 from zero state the header's Adam gives m/(1-b1) = d and
    v/(1-b2) = d^2 exactly, so every parameter moves by lr * d / (|d| + eps):
    here lr (eps is negligible).  A float32 network should deliver that to a
    few float32 ulps (1e-6 is ~8 ulps).  The float64 network does (checked too)."""
    for dtype in ("float64", "float32"):
        with swiftmlp.MLP([1, 1], dtype=dtype, activations="identity") as net:
            net.set_flat_params([0.0, 0.0])
            net.optimizer = optimizer(lr=0.5, betas=(0.9, 0.999), eps=1e-12, weight_decay=0.0)
            net.forward([[1.0]])
            net.backward([[-0.5]])  # dL/dW = dL/db = 2 (0 - (-0.5)) = 1
            net.step()
            moved = -np.asarray(net.get_flat_params(), dtype=np.float64)
            np.testing.assert_allclose(moved, 0.5, rtol=1e-6, atol=0,
                                       err_msg=f"{dtype}: the first Adam step moved by {moved}")
