"""Every size and shape check happens before any copy or conversion
(issue 15): a huge input -- a broadcast view of a few numbers -- raises
TooLargeError (with the numbers) or BufferSizeError at once, never
MemoryError and never after a large copy.

The wrapper used to copy (or convert) an input to a C-contiguous array of
the network's dtype first and check its rows afterwards: a broadcast of 720
MB was copied (1.7 s) before TooLargeError, and one of 2^40 rows raised
NumPy's MemoryError.  Each case here runs under tracemalloc (NumPy reports
its array data to it) and must allocate less than 16 MB and take well
under a second."""

import time
import tracemalloc

import numpy as np
import pytest

import swiftmlp
from swiftmlp import BufferSizeError, TooLargeError

SIZES = (3, 5, 2)          # N0 + N1 + N2 = 10 activations per row
HUGE = 2 ** 40             # rows: no machine holds a copy
OVER_BATCH = 30_000_000    # rows: 720 MB as float64, above the batch limit of 2^28 / 10 rows
PEAK_LIMIT = 16 << 20      # bytes (error reporting itself allocates some)


def bcast(rows, cols, dtype=np.float64):
    """A (rows, cols) view of one number: nothing allocated."""
    return np.broadcast_to(np.array(1, dtype=dtype), (rows, cols))


def new_net(dtype="float64", **kwargs):
    net = swiftmlp.MLP(SIZES, dtype=dtype, seed=1, **kwargs)
    net.optimizer = swiftmlp.SGD(lr=0.1)
    return net


def raises_fast(exc, fn, *needles):
    """fn() raises exc, quickly and without allocating; its message holds needles."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(exc) as info:
            fn()
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not isinstance(info.value, MemoryError)
    assert peak < PEAK_LIMIT, f"{peak} bytes allocated before the error"
    assert elapsed < 0.5, f"took {elapsed:.2f} s"
    for needle in needles:
        assert needle in str(info.value), (needle, str(info.value))
    return info.value


# (what, call(net, x, y)) for every call that takes an input batch or data set.
CALLS = {
    "forward": lambda net, x, y: net.forward(x),
    "train_step": lambda net, x, y: net.train_step(x, y),
    "train_step_lr": lambda net, x, y: net.train_step(x, y, 0.1),
    "predict": lambda net, x, y: net.predict(x),
    "evaluate": lambda net, x, y: net.evaluate(x, y),
    "fit": lambda net, x, y: net.fit(x, y, epochs=1),
    "gradient_check": lambda net, x, y: net.gradient_check(x, y),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("in_dtype", [np.float64, np.float32, np.int64])
def test_huge_broadcast_input_raises_too_large(call, in_dtype):
    net = new_net()
    x, y = bcast(HUGE, 3, in_dtype), bcast(HUGE, 2, in_dtype)
    raises_fast(TooLargeError, lambda: CALLS[call](net, x, y), str(HUGE))
    np.testing.assert_array_equal(net.get_flat_params(), new_net().get_flat_params())


@pytest.mark.parametrize("call", ["forward", "train_step", "train_step_lr", "gradient_check"])
def test_batch_over_the_limit_is_not_copied(call):
    # The case: 720 MB as float64, above SWIFTMLP_MAX_BATCH_ELEMENTS.
    net = new_net()
    x, y = bcast(OVER_BATCH, 3), bcast(OVER_BATCH, 2)
    raises_fast(TooLargeError, lambda: CALLS[call](net, x, y), str(OVER_BATCH),
                "SWIFTMLP_MAX_BATCH_ELEMENTS")


@pytest.mark.parametrize("call", sorted(CALLS))
def test_wrong_width_is_caught_before_a_copy(call):
    net = new_net()
    x, y = bcast(HUGE, 4), bcast(HUGE, 2)
    raises_fast(BufferSizeError, lambda: CALLS[call](net, x, y), "4")


@pytest.mark.parametrize("call", ["train_step", "evaluate", "fit", "gradient_check"])
def test_huge_targets_for_a_small_batch_are_caught_before_a_copy(call):
    net = new_net()
    x = np.full((4, 3), 0.5)
    raises_fast(BufferSizeError, lambda: CALLS[call](net, x, bcast(HUGE, 2, np.float32)), str(HUGE))


def test_huge_class_indices_are_caught_before_a_copy():
    net = new_net(activations=["tanh", "softmax"], loss="cross_entropy")
    x = np.full((4, 3), 0.5)
    labels = np.broadcast_to(np.int32(1), (HUGE,))
    for fn in (lambda: net.train_step(x, labels), lambda: net.evaluate(x, labels),
               lambda: net.fit(x, labels, epochs=1)):
        raises_fast(BufferSizeError, fn, str(HUGE))
    # backward(): whether the rows match the last forward is the library's to
    # say, after the conversion; the conversion itself is refused first.
    net.forward(x)
    raises_fast(TooLargeError, lambda: net.backward(labels), str(HUGE))


def test_huge_backward_targets_are_caught_before_a_copy():
    net = new_net()
    net.forward(np.full((4, 3), 0.5))
    # (rows against the last forward: the library's check, after the conversion)
    raises_fast(TooLargeError, lambda: net.backward(bcast(HUGE, 2, np.float32)), str(HUGE))
    raises_fast(BufferSizeError, lambda: net.backward(bcast(4, 2 ** 30, np.float32)), str(2 ** 30))


def test_huge_validation_data_is_caught_before_a_copy():
    net = new_net()
    x, y = np.full((4, 3), 0.5), np.full((4, 2), 0.5)
    raises_fast(TooLargeError, lambda: net.fit(x, y, epochs=1,
                                               validation_data=(bcast(HUGE, 3, np.float32),
                                                                bcast(HUGE, 2, np.float32))),
                str(HUGE))
    raises_fast(BufferSizeError, lambda: net.fit(x, y, epochs=1,
                                                 validation_data=(x, bcast(HUGE, 2, np.float32))),
                str(HUGE))


def test_huge_parameter_writes_are_caught_before_a_copy():
    net = new_net()
    raises_fast(BufferSizeError, lambda: net.set_flat_params(np.broadcast_to(np.float32(0.5), (HUGE,))),
                str(HUGE))
    raises_fast(BufferSizeError, lambda: net.set_layer(0, bcast(HUGE, 3, np.float32), np.zeros(5)),
                str(HUGE))
    raises_fast(BufferSizeError, lambda: net.set_layer(0, np.zeros((5, 3)),
                                                      np.broadcast_to(np.float32(0.5), (HUGE,))),
                str(HUGE))


def test_usable_broadcasts_still_work():
    # A broadcast the library can be given (after a copy) still trains and
    # predicts exactly like its materialised copy.
    x = bcast(64, 3)
    y = bcast(64, 2)
    a, b = new_net(), new_net()
    a.fit(x, y, epochs=2, batch_size=16)
    b.fit(np.ascontiguousarray(x), np.ascontiguousarray(y), epochs=2, batch_size=16)
    np.testing.assert_array_equal(a.get_flat_params(), b.get_flat_params())
    np.testing.assert_array_equal(a.predict(x), b.predict(np.ascontiguousarray(x)))


def test_huge_model_bytes_are_not_copied():
    # A non-contiguous uint8 view the loader would have to copy first.
    view = np.broadcast_to(np.uint8(0), (HUGE,))
    raises_fast(TooLargeError, lambda: swiftmlp.from_bytes(view), str(HUGE))
