"""The training features of 0.6.0 (include/swiftmlp.h): changing the learning
rate without resetting the optimizer (swiftmlp_set_learning_rate,
MLP.learning_rate), learning-rate schedules in fit (swiftmlp_lr_schedule,
lr_schedule=), per-sample weights (swiftmlp_fit_options.sample_weight,
sample_weight=) and gradient clipping by global norm
(swiftmlp_optimizer.max_grad_norm, max_grad_norm=).

Each is checked against a NumPy transcription (reference.py) and against
PyTorch (torch.optim, torch.optim.lr_scheduler, autograd of a weighted loss,
torch.nn.utils.clip_grad_norm_), or against scikit-learn's own SGDOptimizer
for its schedules, in float64."""

import math

import numpy as np
import pytest
import torch

import reference as ref
import swiftmlp
from test_fit import SHUFFLE_OFFSET, SplitMix64
from test_parity import rel_err

torch.set_default_dtype(torch.float64)

SUITE = "training features"


@pytest.fixture(autouse=True, scope="module")
def torch_on_one_thread():
    """Tiny tensors: torch's intra-op threads would only contend with the
    library's for the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def split(flat, sizes):
    """Flat parameters -> ([W_l], [b_l]) in the documented layout."""
    weights, biases, pos = [], [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights.append(flat[pos:pos + n_in * n_out].reshape(n_out, n_in))
        pos += n_in * n_out
        biases.append(flat[pos:pos + n_out].copy())
        pos += n_out
    return weights, biases


def flatten(weights, biases):
    return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(weights, biases)])


TORCH_ACT = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
             "identity": torch.nn.Identity}


def torch_model(net, activations):
    """An nn.Sequential of Linear layers with the network's parameters; the
    output activation is left to the loss (BCE-with-logits, cross-entropy)
    or applied by torch_loss."""
    weights, biases = split(net.get_flat_params(), net.sizes)
    layers = []
    for l, (w, b) in enumerate(zip(weights, biases)):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w))
            lin.bias.copy_(torch.tensor(b))
        layers.append(lin)
        if l < len(weights) - 1:
            layers.append(TORCH_ACT[activations[l]]())
    return torch.nn.Sequential(*layers)


def torch_row_losses(loss, output_activation, f, y):
    """Each row's loss, as include/swiftmlp.h defines the losses."""
    if loss == "mse":
        g = torch.sigmoid(f) if output_activation == "sigmoid" else f
        return ((g - y) ** 2).mean(dim=1)
    if loss == "bce":
        return torch.nn.functional.binary_cross_entropy_with_logits(f, y, reduction="none").mean(dim=1)
    return torch.nn.functional.cross_entropy(f, y, reduction="none")


def torch_flat(model):
    return np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])


def torch_flat_grads(model):
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])


def data(rows, sizes, loss, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, sizes[0]))
    if loss == "cross_entropy":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=rows)]
    else:
        y = rng.uniform(size=(rows, sizes[-1]))
    return x, y


# ---- (a) changing the learning rate keeps the optimizer's state ---------------------

LR_CASES = {
    "sgd momentum": (lambda lr: swiftmlp.SGD(lr=lr, momentum=0.9, weight_decay=1e-3),
                     lambda lr: ref.SGD(lr, momentum=0.9, weight_decay=1e-3),
                     lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=1e-3)),
    "nesterov": (lambda lr: swiftmlp.SGD(lr=lr, momentum=0.8, nesterov=True),
                 lambda lr: ref.SGD(lr, momentum=0.8, nesterov=True),
                 lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.8, nesterov=True)),
    "adam": (lambda lr: swiftmlp.Adam(lr=lr, weight_decay=1e-2),
             lambda lr: ref.Adam(lr, weight_decay=1e-2),
             lambda p, lr: torch.optim.Adam(p, lr=lr, weight_decay=1e-2)),
    "adamw": (lambda lr: swiftmlp.AdamW(lr=lr),
              lambda lr: ref.AdamW(lr),
              lambda p, lr: torch.optim.AdamW(p, lr=lr)),
}


@pytest.mark.parametrize("name", sorted(LR_CASES))
def test_learning_rate_change_keeps_the_optimizer_state(name, parity_recorder):
    """4 steps at lr 0.05, then net.learning_rate = 0.01 and 4 more: the same
    parameters as NumPy's and torch's optimizers whose lr was changed in
    place (their state kept), and the step count goes on to 8. A
    learning_rate setter that restarted the state (as assigning
    net.optimizer does) fails this from step 5 on."""
    make, make_ref, make_torch = LR_CASES[name]
    sizes, acts = [3, 5, 2], ["tanh", "sigmoid"]
    net = swiftmlp.MLP(sizes, activations=acts, seed=4)
    model = torch_model(net, acts)
    topt = make_torch(model.parameters(), 0.05)
    ropt = make_ref(0.05)
    weights, biases = split(net.get_flat_params(), sizes)
    net.optimizer = make(0.05)
    worst = 0.0
    for step in range(8):
        if step == 4:
            net.learning_rate = 0.01
            ropt.lr = 0.01
            for group in topt.param_groups:
                group["lr"] = 0.01
            assert net.learning_rate == 0.01 and net.optimizer == make(0.01)
        x, y = data(6, sizes, "mse", 100 + step)
        net.train_step(x, y)
        # NumPy
        fs, gs = ref.forward_general(weights, biases, x, acts)
        dW, db, _, _ = ref.backward_general(weights, fs, gs, y, acts, "mse")
        new = ropt.step(weights + biases, dW + db)
        weights, biases = new[:len(weights)], new[len(weights):]
        # torch
        topt.zero_grad()
        f = model(torch.from_numpy(x))
        torch_row_losses("mse", "sigmoid", f, torch.from_numpy(y)).mean().backward()
        topt.step()
        got = net.get_flat_params()
        err = max(rel_err(got, flatten(weights, biases)), rel_err(got, torch_flat(model)))
        assert err <= 1e-12, (name, step, err)
        worst = max(worst, err)
    assert net.optimizer_steps == 8
    parity_recorder("float64", "learning rate change", worst, name, suite=SUITE)


def test_learning_rate_bad_values_change_nothing():
    net = swiftmlp.MLP([2, 3, 1], seed=0)
    with pytest.raises(swiftmlp.StateError):
        net.learning_rate
    with pytest.raises(swiftmlp.StateError):
        net.learning_rate = 0.1
    net.optimizer = swiftmlp.Adam(lr=0.02)
    net.train_step(np.ones((2, 2)), np.zeros((2, 1)))
    for bad in (0.0, -0.1, math.nan, math.inf, -math.inf):
        with pytest.raises(swiftmlp.InvalidArgumentError, match="learning rate"):
            net.learning_rate = bad
    for bad in ("0.1", None, True):
        with pytest.raises(TypeError):
            net.learning_rate = bad
    assert net.optimizer == swiftmlp.Adam(lr=0.02) and net.optimizer_steps == 1


# ---- (b) learning-rate schedules ------------------------------------------------------

def fit_rates(schedule, epochs, lr0=0.1, rows=20, **kwargs):
    net = swiftmlp.MLP([3, 4, 1], seed=5)
    x, y = data(rows, [3, 4, 1], "mse", 7)
    hist = net.fit(x, y, epochs=epochs, batch_size=8, optimizer=swiftmlp.SGD(lr=lr0),
                   lr_schedule=schedule, **kwargs)
    assert net.learning_rate == lr0  # every fit ends with lr0 again
    return hist


def torch_rates(make_scheduler, epochs, lr0=0.1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr0)
    scheduler = make_scheduler(opt)
    rates = []
    for _ in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return rates


@pytest.mark.parametrize("step_size,gamma", [(3, 0.5), (1, 0.9), (4, 0.1), (2, 1.0)])
def test_step_schedule_matches_torch_step_lr(step_size, gamma, parity_recorder):
    """history.lr is torch.optim.lr_scheduler.StepLR's sequence (torch
    multiplies by gamma step by step: within a few ulps) and exactly the
    closed form lr0 * gamma^floor(e / step_size). An off-by-one in the
    epoch (floor((e + 1) / step_size)) or gamma^e fails both."""
    epochs = 13
    hist = fit_rates(swiftmlp.StepLR(step_size, gamma), epochs)
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), epochs)
    err = rel_err(hist.lr, expected)
    assert err <= 1e-14, (hist.lr, expected)
    assert hist.lr == [ref.step_lr(0.1, step_size, gamma, e) for e in range(epochs)]
    parity_recorder("float64", "StepLR vs torch", err, f"step_size={step_size}", suite=SUITE)


@pytest.mark.parametrize("t_max,eta_min", [(5, 0.0), (4, 1e-3), (10, 0.05), (1, 0.0)])
def test_cosine_schedule_matches_torch_cosine_annealing(t_max, eta_min, parity_recorder):
    """history.lr is torch's CosineAnnealingLR sequence (its recursive form,
    within rounding) and exactly the closed form, past t_max as well; the
    epoch whose rate is 0 (eta_min 0 at e = t_max) trains without error."""
    epochs = 3 * t_max + 2
    hist = fit_rates(swiftmlp.CosineAnnealingLR(t_max, eta_min), epochs)
    expected = torch_rates(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=t_max, eta_min=eta_min), epochs)
    err = float(np.max(np.abs(np.array(hist.lr) - expected))) / 0.1
    assert err <= 1e-12, (hist.lr, expected)
    assert hist.lr == [ref.cosine_lr(0.1, t_max, eta_min, e) for e in range(epochs)]
    parity_recorder("float64", "CosineAnnealingLR vs torch", err, f"t_max={t_max}", suite=SUITE)


@pytest.mark.parametrize("power_t", [0.5, 0.25, 1.0, 0.0])
def test_invscaling_matches_sklearn(power_t):
    """scikit-learn's invscaling (its own SGDOptimizer.iteration_ends with
    time_step = samples seen): lr0 / (e * n + 1)^power_t, exactly. Counting
    t in batches or epochs instead of samples fails it."""
    hist = fit_rates(swiftmlp.InvScalingLR(power_t), 6, rows=20)
    expected, _ = ref.sklearn_schedule(0.1, "invscaling", 20, hist.loss, power_t=power_t)
    assert hist.lr == expected


def test_adaptive_divides_by_five_and_stops_as_sklearn():
    """tol 1.0 makes every epoch after the first 'no improvement'; with
    n_iter_no_change 1 the rate drops every second epoch: 1e-5, 2e-6,
    4e-7, and the fit stops at the trigger that finds lr <= 1e-6, after 7
    epochs of 50 (stopped_early). A '>=' for sklearn's '>' or a stop before
    dividing fails it."""
    hist = fit_rates(swiftmlp.AdaptiveLR(tol=1.0, n_iter_no_change=1), 50, lr0=1e-5)
    expected, stop = ref.sklearn_schedule(1e-5, "adaptive", 20, hist.loss, tol=1.0,
                                          n_iter_no_change=1)
    assert stop == hist.epochs_run == 7 and hist.stopped_early
    assert hist.lr == expected == [1e-5] * 3 + [1e-5 / 5] * 2 + [1e-5 / 5 / 5] * 2


def test_adaptive_on_a_plateau_matches_sklearn():
    """A real training curve: SGD at a large rate on noisy targets plateaus,
    the rate is divided several times, and the sequence of rates and the
    stopping epoch equal sklearn's replayed on the same losses."""
    net = swiftmlp.MLP([4, 8, 1], activations=["tanh", "identity"], seed=3)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(64, 4))
    y = x[:, :1] * 0.5 + rng.normal(size=(64, 1))
    hist = net.fit(x, y, epochs=200, batch_size=16, optimizer=swiftmlp.SGD(lr=0.05),
                   lr_schedule=swiftmlp.AdaptiveLR(tol=1e-3, n_iter_no_change=3))
    expected, stop = ref.sklearn_schedule(0.05, "adaptive", 64, hist.loss, tol=1e-3,
                                          n_iter_no_change=3)
    assert hist.lr == expected
    assert len(set(hist.lr)) >= 4  # the rate did drop, several times
    assert hist.epochs_run == stop and hist.stopped_early == (stop < 200)


def test_schedule_rates_are_those_the_steps_use():
    """fit(epochs=4, StepLR) without shuffling gives the same bits as four
    fit(epochs=1) calls with net.learning_rate set before each (Adam: the
    moments carry over between the one-epoch fits)."""
    x, y = data(30, [3, 6, 2], "mse", 9)
    a = swiftmlp.MLP([3, 6, 2], seed=8)
    b = swiftmlp.MLP([3, 6, 2], seed=8)
    hist = a.fit(x, y, epochs=4, batch_size=7, optimizer=swiftmlp.Adam(lr=0.02), shuffle=False,
                 lr_schedule=swiftmlp.StepLR(2, 0.3))
    b.optimizer = swiftmlp.Adam(lr=0.02)
    for rate in hist.lr:
        b.learning_rate = rate
        b.fit(x, y, epochs=1, batch_size=7, shuffle=False)
    assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()
    assert a.optimizer_steps == b.optimizer_steps == 20
    assert a.learning_rate == 0.02


def test_constant_schedule_changes_no_bit():
    x, y = data(25, [3, 6, 2], "mse", 10)
    a, b = swiftmlp.MLP([3, 6, 2], seed=2), swiftmlp.MLP([3, 6, 2], seed=2)
    ha = a.fit(x, y, epochs=3, batch_size=4, optimizer=swiftmlp.Adam(lr=0.01))
    hb = b.fit(x, y, epochs=3, batch_size=4, optimizer=swiftmlp.Adam(lr=0.01),
               lr_schedule=swiftmlp.ConstantLR())
    assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()
    assert ha.loss == hb.loss and ha.lr == hb.lr == [0.01] * 3


@pytest.mark.parametrize("make,error", [
    (lambda: swiftmlp.StepLR(0), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.StepLR(-1), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.StepLR(2, 0.0), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.StepLR(2, 1.5), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.StepLR(2, math.nan), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.StepLR(2.5), TypeError),
    (lambda: swiftmlp.StepLR(True), TypeError),
    (lambda: swiftmlp.CosineAnnealingLR(0), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.CosineAnnealingLR(5, -1e-3), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.CosineAnnealingLR(5, math.inf), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.InvScalingLR(-0.5), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.InvScalingLR(math.nan), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.InvScalingLR("0.5"), TypeError),
    (lambda: swiftmlp.AdaptiveLR(tol=-1.0), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.AdaptiveLR(n_iter_no_change=0), swiftmlp.InvalidArgumentError),
    (lambda: swiftmlp.AdaptiveLR(n_iter_no_change=2 ** 64), swiftmlp.InvalidArgumentError),
])
def test_bad_schedule_parameters(make, error):
    with pytest.raises(error):
        make()


def test_a_bad_lr_schedule_or_weight_changes_nothing():
    """fit refuses a bad lr_schedule or sample_weight before it sets the
    optimizer it was given or trains."""
    net = swiftmlp.MLP([3, 4, 1], seed=1)
    x, y = data(10, [3, 4, 1], "mse", 1)
    net.fit(x, y, epochs=1, batch_size=4, optimizer=swiftmlp.SGD(lr=0.1, momentum=0.5))
    before = net.get_flat_params()
    bad_calls = [
        (dict(lr_schedule="step"), TypeError),
        (dict(lr_schedule=torch.optim.lr_scheduler.StepLR), TypeError),
        (dict(sample_weight=np.ones(9)), swiftmlp.BufferSizeError),
        (dict(sample_weight=np.ones((10, 1))), swiftmlp.InvalidArgumentError),
        (dict(sample_weight=np.ones(())), swiftmlp.InvalidArgumentError),
        (dict(sample_weight=np.r_[np.ones(9), -1.0]), swiftmlp.InvalidArgumentError),
        (dict(sample_weight=np.r_[np.ones(9), np.nan]), swiftmlp.NonFiniteError),
        (dict(sample_weight=np.r_[np.ones(9), np.inf]), swiftmlp.NonFiniteError),
        (dict(sample_weight=np.zeros(10)), swiftmlp.InvalidArgumentError),
        (dict(sample_weight=np.array(["a"] * 10)), swiftmlp.DTypeError),
    ]
    # (with a new optimizer the wrapper checks the weights' values first; with
    # the current one the library does)
    for kwargs, error in bad_calls:
        for optimizer in (swiftmlp.Adam(), None):
            with pytest.raises(error):
                net.fit(x, y, epochs=1, batch_size=4, optimizer=optimizer, **kwargs)
            assert net.optimizer == swiftmlp.SGD(lr=0.1, momentum=0.5)
            assert net.optimizer_steps == 3
            assert net.get_flat_params().tobytes() == before.tobytes()


# ---- (c) per-sample weights -------------------------------------------------------------

WEIGHT_CASES = {
    "mse sigmoid": ([4, 6, 3], ["tanh", "sigmoid"], "mse"),
    "mse identity": ([4, 6, 3], ["relu", "identity"], "mse"),
    "bce": ([4, 5, 3], ["tanh", "sigmoid"], "bce"),
    "cross_entropy": ([4, 6, 3], ["sigmoid", "softmax"], "cross_entropy"),
}


def weighted_net(case, seed=6):
    sizes, acts, loss = WEIGHT_CASES[case]
    return swiftmlp.MLP(sizes, activations=acts, loss=loss, seed=seed), sizes, acts, loss


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_weighted_loss_and_gradients_match_numpy_and_torch(case, parity_recorder):
    """One batch of 12 rows with weights in [0, 3) (two of them 0): the loss
    (history.loss) and the gradients it leaves (get_flat_grads) equal the
    NumPy transcription of sum_i w_i l_i / sum_i w_i and torch's autograd of
    that weighted loss. Scaling the gradient by 1/B instead of w_i/W, or
    dividing by B instead of sum w, fails it."""
    net, sizes, acts, loss = weighted_net(case)
    x, y = data(12, sizes, loss, 21)
    w = np.random.default_rng(22).uniform(0, 3, size=12)
    w[[3, 8]] = 0.0
    weights, biases = split(net.get_flat_params(), sizes)
    model = torch_model(net, acts)
    hist = net.fit(x, y, epochs=1, batch_size=12, shuffle=False, optimizer=swiftmlp.SGD(lr=0.1),
                   sample_weight=w)
    grads = net.get_flat_grads()
    ref_loss, dW, db = ref.weighted_gradients(weights, biases, x, y, w, acts, loss)
    tw = torch.from_numpy(w)
    tl = torch_row_losses(loss, acts[-1], model(torch.from_numpy(x)), torch.from_numpy(y))
    t_loss = (tw * tl).sum() / tw.sum()
    t_loss.backward()
    errs = {"numpy grads": rel_err(grads, flatten(dW, db)),
            "torch grads": rel_err(grads, torch_flat_grads(model)),
            "numpy loss": abs(hist.loss[0] - ref_loss) / ref_loss,
            "torch loss": abs(hist.loss[0] - t_loss.item()) / t_loss.item()}
    assert max(errs.values()) <= 1e-12, errs
    for what, err in errs.items():
        parity_recorder("float64", f"weighted {what}", err, case, suite=SUITE)


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_all_ones_weights_give_the_unweighted_loss(case):
    net_a, sizes, _, loss = weighted_net(case)
    net_b, _, _, _ = weighted_net(case)
    x, y = data(10, sizes, loss, 3)
    ha = net_a.fit(x, y, epochs=1, batch_size=10, optimizer=swiftmlp.SGD(lr=0.1))
    hb = net_b.fit(x, y, epochs=1, batch_size=10, optimizer=swiftmlp.SGD(lr=0.1),
                   sample_weight=np.ones(10))
    assert rel_err(net_b.get_flat_grads(), net_a.get_flat_grads()) <= 1e-14
    assert abs(hb.loss[0] - ha.loss[0]) <= 1e-15 * ha.loss[0]
    # and weights scale-free: 2.5 everywhere is the same loss
    net_c, _, _, _ = weighted_net(case)
    hc = net_c.fit(x, y, epochs=1, batch_size=10, optimizer=swiftmlp.SGD(lr=0.1),
                   sample_weight=np.full(10, 2.5))
    assert rel_err(net_c.get_flat_grads(), net_a.get_flat_grads()) <= 1e-14


def replay_weighted(net, x, y, w, epochs, batch_size, acts, loss, make_ref, shuffle_seed=None):
    """The documented fit with sample weights, in NumPy: batches in the
    (shuffled) order, a batch whose weights sum to 0 skipped, the epoch's
    loss the mean over the trained rows. Returns (params, losses, steps)."""
    weights, biases = split(net.get_flat_params(), net.sizes)
    opt = make_ref()
    rows = len(x)
    order = list(range(rows))
    gen = SplitMix64(shuffle_seed + SHUFFLE_OFFSET) if shuffle_seed is not None else None
    losses, steps = [], 0
    for _ in range(epochs):
        if gen is not None:
            for i in range(rows - 1, 0, -1):
                j = gen.next() % (i + 1)
                order[i], order[j] = order[j], order[i]
        total, seen = 0.0, 0
        for start in range(0, rows, batch_size):
            idx = order[start:start + batch_size]
            if np.sum(w[idx]) == 0:
                continue
            l, dW, db = ref.weighted_gradients(weights, biases, x[idx], y[idx], w[idx], acts, loss)
            new = opt.step(weights + biases, dW + db)
            weights, biases = new[:len(weights)], new[len(weights):]
            total += l * len(idx)
            seen += len(idx)
            steps += 1
        losses.append(total / seen)
    return flatten(weights, biases), losses, steps


@pytest.mark.parametrize("shuffle", [False, True])
def test_weighted_fit_skips_batches_that_weigh_nothing(shuffle, parity_recorder):
    """Three epochs in batches of 4 of 16 rows; rows 4..7 weigh 0, so
    without shuffling the second batch of each epoch takes no step (the step
    count is 9, not 12) and does not count in the epoch's loss; shuffled,
    the weights travel with their rows (gathered in the same order). Adam,
    against the NumPy replay."""
    net, sizes, acts, loss = weighted_net("cross_entropy", seed=12)
    x, y = data(16, sizes, loss, 31)
    w = np.random.default_rng(32).uniform(0.5, 2, size=16)
    w[4:8] = 0.0
    make = lambda: ref.Adam(0.01, weight_decay=1e-3)  # noqa: E731
    params, losses, steps = replay_weighted(net, x, y, w, 3, 4, acts, loss, make,
                                            shuffle_seed=12 if shuffle else None)
    hist = net.fit(x, y, epochs=3, batch_size=4, shuffle=shuffle,
                   optimizer=swiftmlp.Adam(lr=0.01, weight_decay=1e-3), sample_weight=w)
    err = rel_err(net.get_flat_params(), params)
    assert err <= 1e-12
    assert rel_err(hist.loss, losses) <= 1e-12
    assert net.optimizer_steps == steps
    if not shuffle:
        assert steps == 9
    parity_recorder("float64", "weighted fit params", err, f"shuffle={shuffle}", suite=SUITE)


def test_weighted_fit_float32_follows_float64():
    x, y = data(40, [4, 6, 3], "mse", 5)
    w = np.random.default_rng(6).uniform(0, 2, size=40)
    nets = [swiftmlp.MLP([4, 6, 3], dtype=d, seed=1) for d in ("float32", "float64")]
    for n in nets:
        n.fit(x, y, epochs=2, batch_size=8, optimizer=swiftmlp.SGD(lr=0.5), sample_weight=w)
    assert rel_err(nets[0].get_flat_params(), nets[1].get_flat_params()) <= 1e-5


# ---- (d) gradient clipping by global norm -----------------------------------------------

CLIP_CASES = {
    "sgd": (lambda: swiftmlp.SGD(lr=0.5, max_grad_norm=0.05),
            lambda: ref.SGD(0.5),
            lambda p: torch.optim.SGD(p, lr=0.5)),
    "sgd momentum wd": (lambda: swiftmlp.SGD(lr=0.3, momentum=0.9, weight_decay=1e-2, max_grad_norm=0.05),
                        lambda: ref.SGD(0.3, momentum=0.9, weight_decay=1e-2),
                        lambda p: torch.optim.SGD(p, lr=0.3, momentum=0.9, weight_decay=1e-2)),
    "adam": (lambda: swiftmlp.Adam(lr=0.01, max_grad_norm=0.05),
             lambda: ref.Adam(0.01),
             lambda p: torch.optim.Adam(p, lr=0.01)),
    "adamw": (lambda: swiftmlp.AdamW(lr=0.01, weight_decay=0.1, max_grad_norm=0.05),
              lambda: ref.AdamW(0.01, weight_decay=0.1),
              lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", sorted(CLIP_CASES))
def test_clipping_in_lockstep_with_numpy_and_torch(name, parity_recorder):
    """30 train_step() calls with max_grad_norm 0.05 against NumPy
    (reference.clip_grad_norm, then the optimizer) and torch (backward,
    clip_grad_norm_, step), parameters compared after every step. The small
    SGD network is one the fused step would take without clipping. Most
    steps clip (total > 0.05) and some need not: both branches run."""
    make, make_ref, make_torch = CLIP_CASES[name]
    sizes, acts = [3, 4, 2], ["tanh", "sigmoid"]
    net = swiftmlp.MLP(sizes, activations=acts, seed=9)
    model = torch_model(net, acts)
    topt, ropt = make_torch(model.parameters()), make_ref()
    weights, biases = split(net.get_flat_params(), sizes)
    net.optimizer = make()
    worst, clipped = 0.0, 0
    for step in range(30):
        x, y = data(5, sizes, "mse", 300 + step)
        y *= 0.2 + 0.03 * step  # targets drifting up: gradients of varied size
        net.train_step(x, y)
        fs, gs = ref.forward_general(weights, biases, x, acts)
        dW, db, _, _ = ref.backward_general(weights, fs, gs, y, acts, "mse")
        raw = net.get_flat_grads()
        assert rel_err(raw, flatten(dW, db)) <= 1e-13  # the held gradients stay unclipped
        grads, total = ref.clip_grad_norm(dW + db, 0.05)
        clipped += total > 0.05
        new = ropt.step(weights + biases, grads)
        weights, biases = new[:len(weights)], new[len(weights):]
        topt.zero_grad()
        torch_row_losses("mse", "sigmoid", model(torch.from_numpy(x)), torch.from_numpy(y)).mean().backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.05)
        topt.step()
        got = net.get_flat_params()
        err = max(rel_err(got, flatten(weights, biases)), rel_err(got, torch_flat(model)))
        assert err <= 1e-12, (name, step, err)
        worst = max(worst, err)
    assert 0 < clipped < 30, clipped
    parity_recorder("float64", "clipping lockstep", worst, name, suite=SUITE)


@pytest.mark.parametrize("opt", [swiftmlp.SGD(lr=0.5, max_grad_norm=0.1),
                                 swiftmlp.Adam(lr=0.01, max_grad_norm=0.1)])
def test_clipping_is_the_same_through_fit_train_step_and_step(opt):
    """fit (no shuffling), train_step and forward/backward/step() clip
    alike: the same bits."""
    sizes = [64, 32, 10]
    x, y = data(64, sizes, "mse", 4)
    nets = [swiftmlp.MLP(sizes, seed=3) for _ in range(3)]
    for n in nets:
        n.optimizer = opt
    nets[0].fit(x, y, epochs=2, batch_size=16, shuffle=False)
    for _ in range(2):
        for s in range(0, 64, 16):
            nets[1].train_step(x[s:s + 16], y[s:s + 16])
            nets[2].forward(x[s:s + 16])
            nets[2].backward(y[s:s + 16])
            nets[2].step()
    ref_bits = nets[0].get_flat_params().tobytes()
    assert all(n.get_flat_params().tobytes() == ref_bits for n in nets[1:])


def test_a_max_norm_never_reached_changes_no_bit():
    x, y = data(20, [3, 5, 2], "mse", 8)
    a, b = swiftmlp.MLP([3, 5, 2], seed=4), swiftmlp.MLP([3, 5, 2], seed=4)
    a.fit(x, y, epochs=2, batch_size=5, optimizer=swiftmlp.Adam(lr=0.01))
    b.fit(x, y, epochs=2, batch_size=5, optimizer=swiftmlp.Adam(lr=0.01, max_grad_norm=1e6))
    assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()


def test_clipping_is_saved_and_loaded(tmp_path):
    net = swiftmlp.MLP([2, 3, 1], seed=0)
    net.optimizer = swiftmlp.AdamW(max_grad_norm=0.25)
    back = swiftmlp.from_bytes(net.to_bytes())
    assert back.optimizer == swiftmlp.AdamW(max_grad_norm=0.25)
    net.optimizer = swiftmlp.AdamW()
    assert b"max_grad_norm" not in net.to_bytes()  # files without clipping keep their bytes


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
@pytest.mark.parametrize("cls", [swiftmlp.SGD, swiftmlp.Adam, swiftmlp.AdamW])
def test_bad_max_grad_norm_keeps_the_previous_optimizer(cls, bad):
    net = swiftmlp.MLP([2, 3, 1], seed=0)
    net.optimizer = swiftmlp.SGD(lr=0.1)
    kwargs = {"lr": 0.1} if cls is swiftmlp.SGD else {}
    with pytest.raises(swiftmlp.InvalidArgumentError, match="max grad norm"):
        net.optimizer = cls(max_grad_norm=bad, **kwargs)
    with pytest.raises(TypeError):
        cls(max_grad_norm="1", **kwargs)
    assert net.optimizer == swiftmlp.SGD(lr=0.1)


def test_clipping_a_norm_whose_square_overflows():
    """Gradients near 1e200 (targets of 1e200 through an identity output):
    the sum of squares overflows a double, so the norm is taken of the
    gradients divided by their largest magnitude; the step is then the
    finite clipped one (NumPy with the same scaled norm). Without that
    branch the coefficient would be max_norm / inf = 0 and nothing would move."""
    sizes, acts = [3, 4, 2], ["tanh", "identity"]
    net = swiftmlp.MLP(sizes, activations=acts, seed=2)
    x, _ = data(4, sizes, "mse", 1)
    y = np.full((4, 2), 1e200)
    weights, biases = split(net.get_flat_params(), sizes)
    net.optimizer = swiftmlp.SGD(lr=0.5, max_grad_norm=2.0)
    net.train_step(x, y)
    fs, gs = ref.forward_general(weights, biases, x, acts)
    dW, db, _, _ = ref.backward_general(weights, fs, gs, y, acts, "mse")
    flat = flatten(dW, db)
    with np.errstate(over="ignore"):
        assert np.isinf(np.sum(flat ** 2))
    largest = np.max(np.abs(flat))
    total = largest * np.sqrt(np.sum((flat / largest) ** 2))
    expected = flatten(weights, biases) - 0.5 * flat * min(1.0, 2.0 / (total + 1e-6))
    assert rel_err(net.get_flat_params(), expected) <= 1e-12
    assert np.linalg.norm(net.get_flat_params() - flatten(weights, biases)) == pytest.approx(1.0, rel=1e-12)
