"""Real data: scikit-learn's bundled handwritten digits (1797 8x8 images, 10
classes; shipped inside the package, no download), a fixed stratified 80/20
split, standardised with the training set's statistics, and a
[64, 128, 10] network (ReLU or sigmoid hidden layer, softmax output,
cross-entropy, Adam) trained with fit().  The test accuracy must be >= 97 %
and fit + predict must take <= 60 s (it takes about a second)."""

import time

import numpy as np
import pytest
from sklearn.datasets import load_digits  # scikit-learn: scripts/deps.sh installs it
from sklearn.model_selection import train_test_split

import swiftmlp


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x_train, x_test, l_train, l_test = train_test_split(
        data.data, data.target, test_size=0.2, random_state=0, stratify=data.target)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0  # pixels that are always 0 in the training set
    return (x_train - mean) / std, l_train, (x_test - mean) / std, l_test


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", ["relu", "sigmoid"])
def test_digits_accuracy_and_time(digits, hidden, dtype):
    x_train, l_train, x_test, l_test = digits
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert np.bincount(l_test).min() >= 35  # stratified: every class in the test set
    with swiftmlp.MLP([64, 128, 10], activations=[hidden, "softmax"], loss="cross_entropy",
                      init="he" if hidden == "relu" else "glorot", dtype=dtype, seed=0) as net:
        start = time.perf_counter()
        hist = net.fit(x_train, l_train, epochs=30, batch_size=32,
                       optimizer=swiftmlp.Adam(lr=1e-3 if hidden == "relu" else 2e-3))
        probabilities = net.predict(x_test)
        elapsed = time.perf_counter() - start

        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == l_test))
        print(f"digits {hidden}/{dtype}: test accuracy {accuracy:.2%}, fit + predict "
              f"{elapsed:.2f} s, final training loss {hist.loss[-1]:.4f}")
        assert accuracy >= 0.97, f"test accuracy {accuracy:.2%}"
        assert elapsed <= 60.0, f"fit + predict took {elapsed:.1f} s"
        assert probabilities.shape == (360, 10)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
        assert hist.epochs_run == 30 and hist.loss[-1] < hist.loss[0] / 10
        assert net.evaluate(x_test, l_test) < 0.2
