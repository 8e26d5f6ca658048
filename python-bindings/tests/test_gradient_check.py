"""net.gradient_check: backward's gradients agree with finite differences
(Richardson-extrapolated central differences in float64, see the header) for
every activation x loss combination, and the check leaves the network exactly
as it was."""

import numpy as np
import pytest

import reference
import swiftmlp
from test_reference_parity_training import COMBOS, HIDDEN, KINKED

BOUND = 1e-6


def random_case(hidden, output, loss, dtype, seed):
    rng = np.random.default_rng(seed)
    hidden2 = HIDDEN[(HIDDEN.index(hidden) + 2) % len(HIDDEN)]
    activations = [hidden, hidden2, output]
    sizes = [int(rng.integers(2, 7)), int(rng.integers(2, 8)), int(rng.integers(2, 8)),
             int(rng.integers(2, 6))]
    batch = int(rng.integers(1, 9))
    net = swiftmlp.MLP(sizes, dtype=dtype, seed=seed, activations=activations, loss=loss,
                       init=["uniform", "glorot", "he"][seed % 3], leaky_slope=0.1)
    for l in range(3):  # biases away from 0, positive before a ReLU (no dead layer)
        sign = 1.0 if activations[l] in KINKED else rng.choice([-1.0, 1.0], size=sizes[l + 1])
        net.biases[l] = sign * rng.uniform(0.1, 0.6, size=sizes[l + 1])
    weights = [np.array(w, np.float64) for w in net.weights]
    biases = [np.array(b, np.float64) for b in net.biases]
    # A ReLU kink within about h of a pre-activation makes any difference
    # quotient meaningless there (header): draw inputs away from the kinks.
    for _ in range(1000):
        x = rng.normal(0.0, 1.0, size=(batch, sizes[0])).astype(dtype)
        fs, _ = reference.forward_general(weights, biases, x.astype(np.float64), activations, 0.1)
        if all(np.min(np.abs(fs[l + 1])) > 0.02 for l in range(3) if activations[l] in KINKED):
            break
    else:  # pragma: no cover
        raise AssertionError("no input batch away from the ReLU kinks")
    n_out = sizes[-1]
    if loss == "cross_entropy":
        if seed % 2:
            y = rng.integers(0, n_out, size=batch)  # class indices
        else:
            y = rng.uniform(size=(batch, n_out))
            y /= y.sum(axis=1, keepdims=True)
            y = y.astype(dtype)
    else:
        y = rng.uniform(0.0, 1.0, size=(batch, n_out)).astype(dtype)
    return net, x, y


def snapshot(net, x, y):
    """Everything a gradient check must not change."""
    quantities = net.inspect()
    return {"params": net.get_flat_params().tobytes(), "grads": net.get_flat_grads().tobytes(),
            "quantities": [{k: (None if v is None or k == "layer" else v.tobytes())
                            for k, v in e.items()} for e in quantities],
            "steps": net.optimizer_steps, "optimizer": net.optimizer}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("hidden,output,loss", COMBOS, ids=[f"{h}-{o}-{l}" for h, o, l in COMBOS])
def test_gradient_check_every_activation_and_loss(hidden, output, loss, dtype):
    seed = COMBOS.index((hidden, output, loss)) + (0 if dtype == "float64" else 1000)
    net, x, y = random_case(hidden, output, loss, dtype, seed)
    with net:
        net.optimizer = swiftmlp.Adam(lr=0.01)
        net.forward(x)
        loss_before = net.backward(y)
        net.step()  # optimizer state and a step count the check must keep
        net.forward(x)
        loss_before = net.backward(y)
        before = snapshot(net, x, y)

        err = net.gradient_check(x, y)
        assert 0.0 <= err <= BOUND, f"{net!r}: gradient check error {err:.3e}"

        details = net.gradient_check_details(x, y)
        assert details.max_rel_error == err
        assert 0 <= details.index < net.param_count
        w_off, b_off = net.layer_offsets(details.layer)
        if details.kind == "W":
            row, col = details.position
            assert details.index == w_off + row * net.sizes[details.layer] + col
        else:
            assert details.kind == "b" and details.index == b_off + details.position[0]
        # The analytic value is backward's gradient of that parameter (the
        # check computes it in float64, from the same float32 parameters for
        # a float32 network), and the numeric one agrees with it.
        own = float(net.get_flat_grads()[details.index])
        scale = float(np.max(np.abs(net.get_flat_grads())))
        assert abs(details.analytic - own) <= (1e-12 if dtype == "float64" else 1e-5) * scale
        assert abs(details.numeric - details.analytic) <= BOUND * max(
            abs(details.analytic), abs(details.numeric), 1e-6 * float(np.max(np.abs(net.get_flat_grads()))))

        # Nothing changed: parameters, gradients, the cached batch and its
        # quantities, the optimizer and its step count.
        assert snapshot(net, x, y) == before
        assert net.backward(y) == loss_before  # the forward cache is intact
        assert net.get_flat_grads().tobytes() == before["grads"]


def test_gradient_check_before_any_forward_leaves_no_cache():
    net, x, y = random_case("tanh", "sigmoid", "mse", "float64", 3)
    with net:
        params = net.get_flat_params().copy()
        assert net.gradient_check(x, y) <= BOUND
        np.testing.assert_array_equal(net.get_flat_params(), params)
        with pytest.raises(swiftmlp.StateError):
            net.inspect()  # still no forward on the network itself
        with pytest.raises(swiftmlp.StateError):
            net.get_flat_grads()
