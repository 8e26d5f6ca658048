"""train_step on small networks takes a fused path (Network+FusedStep.swift:
every product below the BLAS threshold, MSE on a sigmoid output, plain SGD).
It must leave the network exactly as forward + backward + step do: same
loss, parameters, gradients and cached slide quantities, bit for bit."""

import numpy as np
import pytest

import swiftmlp

CASES = [
    ([2, 4, 1], ["sigmoid"]),
    ([3, 5, 4, 2], ["tanh", "leaky_relu", "sigmoid"]),
    ([4, 8, 3], ["relu", "sigmoid"]),
    ([1, 1], ["sigmoid"]),
    ([6, 7, 5, 3], ["sigmoid"]),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes,acts", CASES)
@pytest.mark.parametrize("batch", [1, 3, 4, 8])
def test_fused_train_step_equals_the_three_calls(dtype, sizes, acts, batch):
    rng = np.random.default_rng(batch * 31 + len(sizes))
    x = rng.normal(size=(batch, sizes[0])).astype(dtype)
    y = rng.uniform(size=(batch, sizes[-1])).astype(dtype)
    kw = dict(activations=acts, loss="mse", dtype=dtype, seed=3)
    with swiftmlp.MLP(sizes, **kw) as one, swiftmlp.MLP(sizes, **kw) as three:
        one.optimizer = three.optimizer = swiftmlp.SGD(lr=0.3)
        for _ in range(3):
            loss = one.train_step(x, y)
            three.forward(x)
            assert three.backward(y) == loss
            np.testing.assert_array_equal(one.get_flat_grads(), three.get_flat_grads())
            q1, q3 = one.inspect(), three.inspect()
            for a, b in zip(q1, q3):
                for key in a:
                    np.testing.assert_array_equal(a[key], b[key], err_msg=key)
            three.step()
            np.testing.assert_array_equal(one.get_flat_params(), three.get_flat_params())
