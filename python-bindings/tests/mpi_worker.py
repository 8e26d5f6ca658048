"""The MPI side of test_distributed.py: run under mpirun, every rank runs
the scenarios named on the command line and writes what it saw to
OUT_DIR/rank-<rank>.pkl (a dict scenario -> results), which the test
compares with single-process runs.

    mpirun -np N python3 mpi_worker.py OUT_DIR SCENARIO...

Scenarios: equality, fit, errors, hang (see each function).
"""

import io
import os
import pickle
import socket
import sys
import time

import numpy as np
from mpi4py import MPI

import mpi_support as ms
import swiftmlp
from swiftmlp.distributed import DataParallel

comm = MPI.COMM_WORLD


def equality():
    """20 steps of every optimizer x dtype x layout: the final model bytes
    (parameters and optimizer state) and the losses of every step."""
    out = {}
    for dtype in ms.DTYPES:
        for opt in ms.OPTIMIZERS:
            for layout in ms.layouts_for(comm.size):
                net = ms.make_net(dtype)
                if comm.rank != 0:
                    # Every rank but 0 starts elsewhere: DataParallel copies rank 0's.
                    net.set_flat_params(np.zeros(net.param_count))
                net.optimizer = ms.make_optimizer(opt)
                dp = DataParallel(net, comm)
                losses = []
                for step in range(ms.STEPS):
                    x, labels = ms.local_batch(layout, comm.rank, comm.size, step, dtype)
                    losses.append(dp.train_step(x, labels))
                out[(dtype, opt, layout)] = {
                    "params": np.array(net.get_flat_params()),
                    "model": net.to_bytes(optimizer_state=True),
                    "steps": net.optimizer_steps,
                    "losses": losses,
                }
                net.close()
    return out


def fit(out_dir):
    """fit with shuffling, validation, early stopping with restore_best and
    a checkpoint; counts every rank's saves."""
    net = ms.make_net("float64")
    if comm.rank != 0:
        net.set_flat_params(np.ones(net.param_count))  # DataParallel copies rank 0's
    dp = DataParallel(net, comm)
    saves = []
    real_save = net.save

    def counting_save(path, optimizer_state=False):
        saves.append(path)
        real_save(path, optimizer_state=optimizer_state)
    net.save = counting_save
    x, y, xv, yv = ms.fit_data(comm.rank, comm.size)
    path = os.path.join(out_dir, "checkpoint.safetensors")
    stderr, sys.stderr = sys.stderr, io.StringIO()  # what the progress bar writes
    try:
        hist = dp.fit(x, y, epochs=ms.FIT_EPOCHS, batch_size=ms.FIT_BATCH,
                      optimizer=swiftmlp.Adam(lr=ms.FIT_LR), validation_data=(xv, yv),
                      early_stopping={"patience": ms.FIT_PATIENCE, "restore_best": True},
                      seed=ms.FIT_SEED, checkpoint=path, progress=True)
    finally:
        stderr, sys.stderr = sys.stderr, stderr
    result = {"history": hist.as_dict(), "params": np.array(net.get_flat_params()),
              "model": net.to_bytes(optimizer_state=True), "saves": len(saves),
              "progress": stderr.getvalue()}
    # Resuming: every rank loads rank 0's checkpoint.
    resumed = swiftmlp.distributed.load(path, comm)
    result["resumed_model"] = resumed.to_bytes(optimizer_state=True)
    return result


def _outcome(fn):
    """What fn() raised: (class name, str, rank attribute), or None."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return (type(exc).__name__, str(exc), getattr(exc, "rank", None))
    return None


def errors(out_dir):
    """A failure on one rank reaches every rank as the same exception: each
    case runs on every rank, and the ranks continue together afterwards."""
    size, rank = comm.size, comm.rank
    net = ms.make_net("float32")
    net.optimizer = swiftmlp.SGD(lr=0.1)
    dp = DataParallel(net, comm)
    x, labels = ms.local_batch("even", rank, size, 0, "float32")
    out = {}
    last = size - 1
    # 1. rank `last` passes x of the wrong width
    out["bad_width"] = _outcome(lambda: dp.train_step(x[:, :4] if rank == last else x, labels))
    # 2. a NaN in rank 0's rows
    bad = x.copy()
    if rank == 0:
        bad[1, 2] = np.nan
    out["nan_input"] = _outcome(lambda: dp.train_step(bad, labels))
    # 3. a class index out of range on rank `last`
    out["bad_label"] = _outcome(lambda: dp.train_step(x, np.where(rank == last, 99, labels)))
    # 4. not an array on rank 0 (a Python-level error)
    out["not_an_array"] = _outcome(lambda: dp.train_step(x if rank else "abc", labels))
    # 5. a step that would overflow float32: refused on every rank alike
    net.optimizer = swiftmlp.SGD(lr=1e30, weight_decay=1e30)
    before = net.to_bytes(optimizer_state=True)
    out["overflowing_step"] = _outcome(lambda: dp.train_step(x, labels))
    out["unchanged_after_refused_step"] = net.to_bytes(optimizer_state=True) == before
    net.optimizer = swiftmlp.SGD(lr=0.1)
    # 6. rank 0 cannot write the checkpoint
    out["save_fails"] = _outcome(lambda: dp.save(os.path.join(out_dir, "missing-dir", "m.st")))
    # 7. fit with optimizers that differ between ranks
    net.optimizer = swiftmlp.SGD(lr=0.1 if rank else 0.2)
    out["different_optimizers"] = _outcome(lambda: dp.fit(x, labels, epochs=1))
    # 8. ... also when passed to fit
    out["different_fit_optimizers"] = _outcome(
        lambda: dp.fit(x, labels, epochs=1, optimizer=swiftmlp.Adam(lr=1e-3 * (1 + rank))))
    # 9. no rank has a row
    out["no_rows"] = _outcome(lambda: dp.train_step(x[:0], labels[:0]))
    # 10. a different network on the last rank
    other = swiftmlp.MLP([6, 4, 3] if rank == last else [6, 5, 3], dtype="float32")
    out["different_networks"] = _outcome(lambda: DataParallel(other, comm))
    # 11. afterwards the ranks still train together
    net.optimizer = swiftmlp.SGD(lr=0.1)
    out["after"] = _outcome(lambda: dp.train_step(x, labels))
    out["model_after"] = net.to_bytes(optimizer_state=True)
    return out


def hang():
    """Would hang: rank 0 waits in a barrier the others never reach."""
    if comm.rank == 0:
        comm.Barrier()
    else:
        time.sleep(3600)


def main():
    out_dir, scenarios = sys.argv[1], sys.argv[2:]
    results = {"host": socket.gethostname(), "processor": MPI.Get_processor_name(),
               "size": comm.size}
    for name in scenarios:
        if name == "equality":
            results[name] = equality()
        elif name == "fit":
            results[name] = fit(out_dir)
        elif name == "errors":
            results[name] = errors(out_dir)
        elif name == "hang":
            hang()
        else:
            raise SystemExit(f"unknown scenario {name}")
    with open(os.path.join(out_dir, f"rank-{comm.rank}.pkl"), "wb") as fh:
        pickle.dump(results, fh)


if __name__ == "__main__":
    main()
