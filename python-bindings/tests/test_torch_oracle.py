"""PyTorch as a second oracle for training: every optimizer (SGD, SGD with
momentum, Nesterov, Adam, AdamW; each with and without weight decay) x
every loss (MSE on a sigmoid output, BCE on a sigmoid output,
cross-entropy on a softmax output) x two hidden activations (tanh, relu):
100 train_step() calls in lockstep with torch.optim on the same initial
weights and the same batches, in float64, the parameters compared after
EVERY step (largest |difference| over largest |torch parameter|, the
suites' relative error) within 1e-10, and the batch losses too.

The NumPy transcription (reference.py) is the project's own reading of the
formulas; this is PyTorch's, with its own operation order (Adam's
denominator sqrt(v)/sqrt(1 - b2^t) + eps, addcdiv, fused weight decay), so
the agreement is to rounding, not to the bit. test_the_oracle_can_fail
runs the same comparison with one hyperparameter wrong on the torch side
and requires it to fail."""

import zlib

import numpy as np
import pytest
import torch

import swiftmlp
from test_parity import rel_err

STEPS = 100


@pytest.fixture(autouse=True, scope="module")
def torch_on_one_thread():
    """These tensors are tiny: torch's intra-op threads only contend with
    the library's for the cores (cross-entropy's backward took 16 ms a step
    on 2 busy cores, 0.2 ms on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)



TOLERANCE = 1e-10
SIZES = [5, 8, 6, 3]
BATCH = 8
ROWS = 64

# name -> (swiftmlp optimizer, torch optimizer factory)
OPTIMIZERS = {
    "sgd": (swiftmlp.SGD(lr=0.2), lambda p: torch.optim.SGD(p, lr=0.2)),
    "sgd+wd": (swiftmlp.SGD(lr=0.2, weight_decay=1e-2),
               lambda p: torch.optim.SGD(p, lr=0.2, weight_decay=1e-2)),
    "momentum": (swiftmlp.SGD(lr=0.05, momentum=0.9),
                 lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "momentum+wd": (swiftmlp.SGD(lr=0.05, momentum=0.9, weight_decay=1e-2),
                    lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-2)),
    "nesterov": (swiftmlp.SGD(lr=0.05, momentum=0.8, nesterov=True),
                 lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    "nesterov+wd": (swiftmlp.SGD(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-2),
                    lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True,
                                              weight_decay=1e-2)),
    "adam": (swiftmlp.Adam(lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2)),
    "adam+wd": (swiftmlp.Adam(lr=1e-2, betas=(0.8, 0.99), weight_decay=1e-2),
                lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.8, 0.99), weight_decay=1e-2)),
    "adamw": (swiftmlp.AdamW(lr=1e-2, weight_decay=0.0),
              lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.0)),
    "adamw+wd": (swiftmlp.AdamW(lr=1e-2, betas=(0.85, 0.995), eps=1e-7, weight_decay=5e-2),
                 lambda p: torch.optim.AdamW(p, lr=1e-2, betas=(0.85, 0.995), eps=1e-7,
                                             weight_decay=5e-2)),
}

# name -> (output activation, swiftmlp loss)
LOSSES = {"mse": ("sigmoid", "mse"), "bce": ("sigmoid", "bce"),
          "cross_entropy": ("softmax", "cross_entropy")}
HIDDEN = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}


def torch_twin(net, hidden):
    """nn.Sequential(Linear, act, Linear, act, Linear) holding net's
    parameters; the output activation belongs to the loss."""
    layers = []
    for l in range(net.num_layers):
        w, b = net.weights[l], net.biases[l]
        lin = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w))
            lin.bias.copy_(torch.tensor(b))
        layers.append(lin)
        if l < net.num_layers - 1:
            layers.append(HIDDEN[hidden]())
    return torch.nn.Sequential(*layers)


def torch_loss(loss, logits, y, labels):
    if loss == "mse":
        return torch.nn.functional.mse_loss(torch.sigmoid(logits), y)
    if loss == "bce":
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
    return torch.nn.functional.cross_entropy(logits, labels)


def lockstep(opt_name, loss_name, hidden, steps=STEPS, torch_optimizer=None):
    """Trains a swiftmlp network and its torch twin side by side; returns
    the relative parameter error after each step and the largest loss error."""
    output, loss = LOSSES[loss_name]
    opt, make_torch = OPTIMIZERS[opt_name]
    make_torch = torch_optimizer or make_torch
    seed = zlib.crc32(f"{opt_name}/{loss_name}/{hidden}".encode()) % 1000
    net = swiftmlp.MLP(SIZES, activations=[hidden, hidden, output], loss=loss, seed=seed)
    model = torch_twin(net, hidden)
    topt = make_torch(model.parameters())
    net.optimizer = opt
    rng = np.random.default_rng(seed)
    x_all = rng.normal(size=(ROWS, SIZES[0]))
    labels_all = rng.integers(0, SIZES[-1], size=ROWS)
    y_all = (np.eye(SIZES[-1])[labels_all] if loss == "cross_entropy"
             else rng.uniform(size=(ROWS, SIZES[-1])))
    errors, loss_err = [], 0.0
    for _ in range(steps):
        idx = rng.choice(ROWS, size=BATCH, replace=False)
        x, y = x_all[idx], y_all[idx]
        got_loss = net.train_step(x, y)
        topt.zero_grad()
        t_loss = torch_loss(loss, model(torch.tensor(x)), torch.tensor(y), torch.tensor(labels_all[idx]))
        t_loss.backward()
        topt.step()
        expected = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
        errors.append(rel_err(net.get_flat_params(), expected))
        loss_err = max(loss_err, abs(got_loss - t_loss.item()) / abs(t_loss.item()))
    return errors, loss_err


@pytest.mark.parametrize("hidden", sorted(HIDDEN))
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_lockstep_with_torch_optim(opt_name, loss_name, hidden, parity_recorder):
    errors, loss_err = lockstep(opt_name, loss_name, hidden)
    for step, err in enumerate(errors):
        assert err <= TOLERANCE, f"step {step + 1}: parameters differ by {err:.3e} relative"
    assert loss_err <= TOLERANCE, loss_err
    where = f"{opt_name}/{loss_name}/{hidden}"
    parity_recorder("float64", "parameters", max(errors), where, suite="vs torch.optim, 100 steps")
    parity_recorder("float64", "loss", loss_err, where, suite="vs torch.optim, 100 steps")


@pytest.mark.parametrize("opt_name,wrong", [
    ("adam", lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.9, 0.998))),
    ("adamw+wd", lambda p: torch.optim.AdamW(p, lr=1e-2, betas=(0.85, 0.995), eps=1e-7,
                                             weight_decay=4.9e-2)),
    ("nesterov", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8)),
    ("momentum+wd", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-2,
                                              dampening=1e-3)),
])
def test_the_oracle_can_fail(opt_name, wrong):
    """The lockstep comparison with one hyperparameter wrong on the torch
    side (beta2 0.998 for 0.999, weight decay 4.9e-2 for 5e-2, no Nesterov,
    a dampening of 1e-3) exceeds the tolerance within the 100 steps."""
    errors, _ = lockstep(opt_name, "mse", "tanh", torch_optimizer=wrong)
    assert max(errors) > TOLERANCE * 100, max(errors)
