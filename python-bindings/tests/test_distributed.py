"""swiftmlp.distributed over MPI (mpirun, Open MPI's TCP transport):
N ranks train exactly as one process would on the concatenated batches.

- np = 1, 2, 3, 4 (oversubscribed) on loopback: 20 steps of SGD with
  momentum and of Adam, float64 and float32, with even, uneven and empty
  shards; the parameters equal a single-process run over the same global
  batches to 1e-12 (float64) / 1e-5 (float32) relative, and every rank's
  model (parameters and optimizer state) is bit-identical.
- The same between two simulated hosts (network namespaces with their own
  hostnames, a veth pair, mpirun over TCP), np = 2 and 4.
- fit: shuffling, global validation loss, early stopping with
  restore_best, a checkpoint written by rank 0 only, resuming with load.
- Errors on one rank reach every rank as the same exception.
- A run that would hang is killed by the timeout and fails the test.

Every mpirun has a timeout (MPITimeout), so no test can block CI.
"""

import os
import pickle
import subprocess
import time

import numpy as np
import pytest

import mpi_support as ms
import swiftmlp

#: Generous for 4 oversubscribed ranks on 2 busy cores: a run takes 3-6 s.
TIMEOUT = 90

EQUALITY_REPORT = {}  # (where, np, dtype) -> largest relative error


def run_worker(tmp_path, np_, scenarios, hosts=None, timeout=TIMEOUT):
    out = tmp_path / f"np{np_}"
    out.mkdir()
    ms.run_mpi(np_, [ms.WORKER, str(out), *scenarios], timeout=timeout, hosts=hosts)
    results = []
    for r in range(np_):
        with open(out / f"rank-{r}.pkl", "rb") as fh:
            results.append(pickle.load(fh))
    return out, results


def single_process(dtype, opt, layout, size):
    """The reference: one process, the same 20 global batches."""
    net = ms.make_net(dtype)
    net.optimizer = ms.make_optimizer(opt)
    losses = []
    for step in range(ms.STEPS):
        x, labels = ms.global_batch(layout, size, step, dtype)
        net.forward(x)
        losses.append(net.backward(labels))
        net.step()
    return net, losses


def check_equality(results, size, where):
    worst = {}
    for key, first in results[0]["equality"].items():
        dtype, opt, layout = key
        # every rank holds the same bits: parameters and optimizer state
        for r in range(1, size):
            assert results[r]["equality"][key]["model"] == first["model"], \
                f"{where} np={size} {key}: rank {r}'s model differs from rank 0's"
            assert results[r]["equality"][key]["losses"] == first["losses"]
        ref, ref_losses = single_process(dtype, opt, layout, size)
        ref_params = np.array(ref.get_flat_params())
        init = np.array(ms.make_net(dtype).get_flat_params())
        assert ms.relative_error(ref_params, init) > 1e-2, "the reference did not train"
        err = ms.relative_error(first["params"], ref_params)
        tol = ms.TOLERANCE[dtype]
        assert err <= tol, (f"{where} np={size} {dtype} {opt} {layout}: parameters differ "
                            f"from one process by {err:.3e} relative (tolerance {tol})")
        assert first["steps"] == ms.STEPS == ref.optimizer_steps
        np.testing.assert_allclose(first["losses"], ref_losses, rtol=100 * tol)
        worst[dtype] = max(worst.get(dtype, 0.0), err)
    expected = {(d, o, l) for d in ms.DTYPES for o in ms.OPTIMIZERS for l in ms.layouts_for(size)}
    assert set(results[0]["equality"]) == expected
    for dtype, err in worst.items():
        EQUALITY_REPORT[(where, size, dtype)] = err
        print(f"\n{where} np={size} {dtype}: largest relative parameter error {err:.3e}")


@pytest.mark.parametrize("np_", [1, 2, 3, 4])
def test_n_ranks_on_loopback_equal_one_process(tmp_path, np_):
    _, results = run_worker(tmp_path, np_, ["equality"])
    check_equality(results, np_, "loopback")


def test_two_hosts_over_tcp_equal_one_process(tmp_path):
    with ms.TwoHosts() as hosts:
        for np_ in (2, 4):
            before = hosts.link_bytes()
            _, results = run_worker(tmp_path, np_, ["equality"], hosts=hosts)
            # the ranks ran on both hosts, and talked over the veth pair
            names = [r["host"] for r in results]
            assert set(names) == set(hosts.hostnames), names
            assert hosts.link_bytes() - before > 100_000
            check_equality(results, np_, "two hosts")
    # torn down: no namespace or link left
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert hosts.ns[0] not in listed and hosts.ns[1] not in listed


# ---- fit and errors: one mpirun with 3 ranks -------------------------------------

@pytest.fixture(scope="module")
def three_ranks(tmp_path_factory):
    out, results = run_worker(tmp_path_factory.mktemp("mpi"), 3, ["fit", "errors"])
    return out, results


def replay_fit(size):
    """fit's documented batches and early stopping, in one process."""
    data = [ms.fit_data(r, size) for r in range(size)]
    net = ms.make_net("float64")
    net.optimizer = swiftmlp.Adam(lr=ms.FIT_LR)
    n_batches = max(-(-len(d[0]) // ms.FIT_BATCH) for d in data)
    xv = np.concatenate([d[2] for d in data])
    yv = np.concatenate([d[3] for d in data])
    loss, val_loss, best, best_epoch, wait, best_params = [], [], np.inf, None, 0, None
    for epoch in range(ms.FIT_EPOCHS):
        orders = [np.random.default_rng([ms.FIT_SEED, r, epoch]).permutation(len(data[r][0]))
                  for r in range(size)]
        weighted = seen = 0
        for k in range(n_batches):
            idx = [o[k * ms.FIT_BATCH:(k + 1) * ms.FIT_BATCH] for o in orders]
            x = np.concatenate([d[0][i] for d, i in zip(data, idx)])
            y = np.concatenate([d[1][i] for d, i in zip(data, idx)])
            net.forward(x)
            weighted += net.backward(y) * len(x)
            seen += len(x)
            net.step()
        loss.append(weighted / seen)
        val_loss.append(net.evaluate(xv, yv))
        if best_epoch is None or val_loss[-1] < best:
            best, best_epoch, wait, best_params = val_loss[-1], epoch, 0, net.get_flat_params()
        else:
            wait += 1
        if wait >= ms.FIT_PATIENCE:
            break
    restored = best_epoch != len(loss) - 1
    if restored:
        net.set_flat_params(best_params)
    return net, loss, val_loss, best_epoch, restored


def test_fit_equals_one_process_with_validation_early_stopping_and_checkpoint(three_ranks):
    out, results = three_ranks
    fits = [r["fit"] for r in results]
    ref, loss, val_loss, best_epoch, restored = replay_fit(3)
    h = fits[0]["history"]
    assert h["epochs_run"] == len(loss) and h["best_epoch"] == best_epoch
    assert h["stopped_early"] and h["epochs_run"] < ms.FIT_EPOCHS and h["epochs_run"] > 2
    assert h["restored_best"] == restored
    np.testing.assert_allclose(h["loss"], loss, rtol=1e-12)
    np.testing.assert_allclose(h["val_loss"], val_loss, rtol=1e-12)
    assert ms.relative_error(fits[0]["params"], ref.get_flat_params()) <= 1e-12
    for f in fits[1:]:
        assert f["history"] == h
        assert f["model"] == fits[0]["model"]
    # only rank 0 showed progress: a bar over every epoch's batches
    assert f"epoch {h['epochs_run']}/{ms.FIT_EPOCHS}" in fits[0]["progress"]
    assert [f["progress"] for f in fits[1:]] == ["", ""]
    # only rank 0 saved: once per epoch, and once more after restoring the best
    assert [f["saves"] for f in fits] == [h["epochs_run"] + int(restored), 0, 0]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("rank-")) == \
        ["checkpoint.safetensors"]
    # every rank resumed from rank 0's checkpoint: the final model, state included
    for f in fits:
        assert f["resumed_model"] == fits[0]["model"]


#: case -> (exception class, rank it came from; None: found on every rank)
EXPECTED_ERRORS = {
    "bad_width": ("BufferSizeError", 2),
    "nan_input": ("NonFiniteError", 0),
    "bad_label": ("InvalidArgumentError", 2),
    "not_an_array": ("DTypeError", 0),
    "overflowing_step": ("NonFiniteError", 0),
    "save_fails": ("SwiftMLPIOError", 0),
    "different_optimizers": ("InvalidArgumentError", None),
    "different_fit_optimizers": ("InvalidArgumentError", None),
    "no_rows": ("InvalidArgumentError", None),
    "different_networks": ("InvalidArgumentError", None),
    "after": None,
}


def test_an_error_on_one_rank_is_the_same_exception_on_every_rank(three_ranks):
    _, results = three_ranks
    errs = [r["errors"] for r in results]
    for case, expected in EXPECTED_ERRORS.items():
        seen = [e[case] for e in errs]
        assert seen[1:] == seen[:-1], f"{case}: the ranks raised different things: {seen}"
        if expected is None:
            assert seen[0] is None, f"{case}: {seen[0]}"
            continue
        name, rank = expected
        assert seen[0] is not None, f"{case}: nothing was raised"
        assert seen[0][0] == name, f"{case}: {seen[0]}"
        assert seen[0][2] == rank, f"{case}: came from rank {seen[0][2]}, expected {rank}"
    assert "missing-dir" in errs[0]["save_fails"][1]
    assert "rank 2's network differs" in errs[0]["different_networks"][1]
    # the refused step changed nothing anywhere, and afterwards the ranks
    # are still equal and in step
    assert all(e["unchanged_after_refused_step"] for e in errs)
    assert all(e["model_after"] == errs[0]["model_after"] for e in errs)


def test_a_run_that_would_hang_fails_through_the_timeout(tmp_path):
    start = time.monotonic()
    with pytest.raises(ms.MPITimeout, match="did not finish within 6 s"):
        run_worker(tmp_path, 2, ["hang"], timeout=6)
    assert time.monotonic() - start < 30
    # nothing of that run is left
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(tmp_path) not in ps


def test_set_grads_then_step_equals_backward_then_step():
    """MLP.set_flat_grads: a step with set gradients is the step a backward's give."""
    x, labels = ms.global_batch("uneven", 3, 0, "float64")
    a, b = ms.make_net("float64"), ms.make_net("float64")
    a.optimizer = b.optimizer = swiftmlp.Adam(lr=0.01)
    a.forward(x)
    a.backward(labels)
    b.set_flat_grads(a.get_flat_grads())
    a.step()
    b.step()
    assert a.to_bytes(optimizer_state=True) == b.to_bytes(optimizer_state=True)


@pytest.mark.parametrize("bad, error", [
    (np.zeros(5), swiftmlp.BufferSizeError),
    (np.full(275, np.nan), swiftmlp.NonFiniteError),
    (np.zeros((275, 1)), swiftmlp.InvalidArgumentError),
    (np.array(["x"] * 275), swiftmlp.DTypeError),
])
def test_set_grads_refuses_bad_input_and_changes_nothing(bad, error):
    net = ms.make_net("float32")
    assert net.param_count == 275
    net.optimizer = swiftmlp.SGD(lr=0.1)
    with pytest.raises(error):
        net.set_flat_grads(bad)
    with pytest.raises(swiftmlp.StateError):  # still no gradients to step with
        net.step()
    g = np.linspace(-1, 1, 275)
    net.set_flat_grads(g)
    np.testing.assert_array_equal(net.get_flat_grads(), g.astype(np.float32))
    with pytest.raises(swiftmlp.NonFiniteError):
        net.set_flat_grads(np.where(np.arange(275) == 274, np.inf, g))
    np.testing.assert_array_equal(net.get_flat_grads(), g.astype(np.float32))
