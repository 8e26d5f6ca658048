"""swiftmlp.get_num_threads / set_num_threads and the threadpoolctl controller:
threadpool_info() lists libswiftmlp, threadpool_limits() reaches its pool."""

import os

import numpy as np
import pytest
import threadpoolctl

import swiftmlp


@pytest.fixture
def restore_threads():
    before = swiftmlp.get_num_threads()
    yield before
    swiftmlp.set_num_threads(before)


def _swiftmlp_entries():
    return [i for i in threadpoolctl.threadpool_info() if i["internal_api"] == "swiftmlp"]


def test_set_and_get_round_trip(restore_threads):
    for n in (1, 3, swiftmlp.MAX_THREADS, np.int64(2)):
        swiftmlp.set_num_threads(n)
        assert swiftmlp.get_num_threads() == n
        assert f", {n} thread" in swiftmlp.blas_info()


@pytest.mark.parametrize("bad", [0, -1, swiftmlp.MAX_THREADS + 1, 2 ** 63, 2 ** 64, 2 ** 70])
def test_out_of_range_counts_are_refused_unchanged(restore_threads, bad):
    swiftmlp.set_num_threads(2)
    with pytest.raises(swiftmlp.InvalidArgumentError, match=f"got {bad}"):
        swiftmlp.set_num_threads(bad)
    assert swiftmlp.get_num_threads() == 2


@pytest.mark.parametrize("bad", [1.0, "2", None, True])
def test_non_integer_counts_are_refused(restore_threads, bad):
    with pytest.raises(swiftmlp.InvalidArgumentError, match="must be an integer"):
        swiftmlp.set_num_threads(bad)
    assert swiftmlp.get_num_threads() == restore_threads


def test_threadpool_info_lists_the_library():
    entries = _swiftmlp_entries()
    assert len(entries) == 1, threadpoolctl.threadpool_info()
    entry = entries[0]
    assert os.path.realpath(entry["filepath"]) == os.path.realpath(swiftmlp.library_path)
    assert entry["user_api"] == "blas" and entry["prefix"] == "libswiftmlp"
    assert entry["num_threads"] == swiftmlp.get_num_threads()
    assert entry["version"] == swiftmlp.version()


@pytest.mark.parametrize("kwargs", [{}, {"user_api": "blas"}])
def test_threadpool_limits_reach_the_pool_and_are_undone(restore_threads, kwargs):
    swiftmlp.set_num_threads(3)
    with threadpoolctl.threadpool_limits(limits=1, **kwargs):
        assert swiftmlp.get_num_threads() == 1
        assert _swiftmlp_entries()[0]["num_threads"] == 1
    assert swiftmlp.get_num_threads() == 3


def test_threadpool_limits_above_the_maximum_mean_the_maximum(restore_threads):
    with threadpoolctl.threadpool_limits(limits=1000):
        assert swiftmlp.get_num_threads() == swiftmlp.MAX_THREADS


def test_training_gives_the_same_bits_under_any_limit(restore_threads):
    # Products of >= 2^20 multiply-adds are split over the threads: the split
    # never changes the arithmetic.
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 256)), rng.random((64, 128))

    def trained():
        with swiftmlp.MLP([256, 512, 128], dtype="float64", seed=3) as net:
            for _ in range(3):
                net.forward(x)
                net.backward(y)
                net.step(lr=0.5)
            return net.get_flat_params().copy()

    swiftmlp.set_num_threads(4)
    split = trained()
    with threadpoolctl.threadpool_limits(limits=1):
        alone = trained()
    assert np.array_equal(split, alone)
