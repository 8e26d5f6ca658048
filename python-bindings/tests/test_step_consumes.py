"""A step consumes the gradients (issue 15; include/swiftmlp.h, "Global
rules"): a second step(lr) or step() without a new backward() raises
StateError and changes nothing -- parameters, optimizer state, step count.
It used to apply the same gradients again, to the new parameters."""

import numpy as np
import pytest

import swiftmlp
from swiftmlp import StateError

X = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [0.7, -0.8, 0.9]])
Y = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])


def new_net(optimizer=None):
    net = swiftmlp.MLP((3, 5, 2), seed=2)
    net.optimizer = optimizer or swiftmlp.Adam(lr=0.01)
    return net


def assert_refused_unchanged(net, call):
    params = net.get_flat_params().copy()
    state = net.to_bytes(optimizer_state=True)
    steps = net.optimizer_steps
    with pytest.raises(StateError, match="backward"):
        call()
    np.testing.assert_array_equal(net.get_flat_params(), params)
    assert net.to_bytes(optimizer_state=True) == state
    assert net.optimizer_steps == steps


@pytest.mark.parametrize("first", ["plain", "optimizer"])
def test_second_step_without_backward_is_refused(first):
    net = new_net(swiftmlp.SGD(lr=0.1, momentum=0.9))
    net.forward(X)
    net.backward(Y)
    grads = net.get_flat_grads().copy()
    if first == "plain":
        net.step(lr=0.1)
    else:
        net.step()
    assert_refused_unchanged(net, lambda: net.step(lr=0.1))
    assert_refused_unchanged(net, lambda: net.step())
    np.testing.assert_array_equal(net.get_flat_grads(), grads)  # still readable
    net.forward(X)
    net.backward(Y)
    net.step()  # a new backward allows the next step


def test_train_step_and_fit_consume_the_gradients():
    for make in (lambda: new_net(), lambda: new_net(swiftmlp.SGD(lr=0.1))):
        net = make()
        net.train_step(X, Y)
        assert_refused_unchanged(net, lambda: net.step())
        assert_refused_unchanged(net, lambda: net.step(lr=0.1))
    net = new_net()
    net.forward(X)
    net.backward(Y)
    net.fit(X, Y, epochs=1)
    assert_refused_unchanged(net, lambda: net.step())


def test_parameter_writes_consume_the_gradients():
    net = new_net()
    net.forward(X)
    net.backward(Y)
    net.set_flat_params(net.get_flat_params() * 0.5)
    assert_refused_unchanged(net, lambda: net.step())
    net.forward(X)
    net.backward(Y)
    net.weights[0] = np.zeros((5, 3))
    assert_refused_unchanged(net, lambda: net.step(lr=0.1))
