"""Data-parallel training over MPI (mpi4py): several processes, on one
machine or many, train one network as if a single process trained it on
the concatenated batches.

    from mpi4py import MPI
    import swiftmlp
    from swiftmlp.distributed import DataParallel

    net = swiftmlp.MLP([784, 256, 10], activations=["relu", "softmax"],
                       loss="cross_entropy", dtype="float32")
    dp = DataParallel(net, MPI.COMM_WORLD)      # rank 0's parameters everywhere
    x, y = my_shard(MPI.COMM_WORLD.rank)        # this rank's rows
    history = dp.fit(x, y, epochs=10, batch_size=64, optimizer=swiftmlp.Adam(),
                     validation_data=(xv, yv), early_stopping=3,
                     checkpoint="model.safetensors", progress=True)

Run it with ``mpirun -np 4 python3 train.py`` (the README's "Data-parallel
training over MPI" has the details, across hosts too).

What a step does (the pattern of Horovod and PyTorch DDP): every rank holds
the same parameters and optimizer state; rank r runs forward and backward on
its b_r rows of the global batch, which gives the mean gradient g_r over its
rows; one MPI allreduce sums b_r * g_r (zeros from a rank without rows)
together with b_r and b_r * loss_r; every rank divides by B = sum b_r, which
is the mean gradient over all B rows, puts it in with MLP.set_flat_grads and
applies the same optimizer step.  A mean of the ranks' means would be wrong
when the shards differ in size.  Parameters and optimizer state stay
bit-identical on every rank; they equal a single process's training on the
concatenated batches up to rounding (the sums run in another order).

Errors: every collective step first lets each rank finish its local part
(checking input, forward, backward, step, saving), then all ranks learn
whether any failed, and if one did, EVERY rank raises the same exception
(same class, same message, with a note naming the rank it came from; the
attribute ``rank`` holds it), so no rank is left waiting in a collective.
The calls of this module are collective: every rank of the communicator
must make the same calls in the same order.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

try:
    from mpi4py import MPI
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("swiftmlp.distributed needs mpi4py (pip install mpi4py) and an MPI "
                      "library such as Open MPI (Debian: openmpi-bin libopenmpi-dev)") from exc

from . import _errors, _lib
from ._convert import check_finite, count, validation_pair
from ._errors import InvalidArgumentError, StateError, SwiftMLPError
from ._lib import lib, raise_error
from ._optim import EarlyStopping, History
from .mlp import MLP, from_bytes

__all__ = ["DataParallel", "DistributedError", "load"]


class DistributedError(SwiftMLPError, RuntimeError):
    """An exception raised on another rank whose class cannot be rebuilt
    here (not a swiftmlp error nor a built-in exception): its class name and
    message are in the text."""

    status_text = "error on another rank"


# ---- agreeing on errors ------------------------------------------------------

def _describe(exc: BaseException, rank: int) -> dict:
    """What other ranks need to raise the same exception."""
    cls = type(exc)
    desc = {"rank": rank, "module": cls.__module__, "name": cls.__qualname__}
    if isinstance(exc, SwiftMLPError):
        desc.update(message=exc.message, status=exc.status, status_text=exc.status_text,
                    function=exc.function, filename=getattr(exc, "filename", None))
    else:
        desc["args"] = tuple(a if isinstance(a, (str, int, float)) else str(a) for a in exc.args)
        desc["text"] = str(exc)
    return desc


def _rebuild(desc: dict, size: int) -> BaseException:
    """The exception `desc` describes (see _describe)."""
    name, module = desc["name"], desc["module"]
    exc = None
    if "message" in desc:
        cls = getattr(_errors, name, None) or (DistributedError if name == "DistributedError"
                                               else None)
        if isinstance(cls, type) and issubclass(cls, SwiftMLPError):
            exc = cls(desc["message"], desc["status"], desc["status_text"], desc["function"])
            if desc.get("filename") is not None:
                exc.filename = desc["filename"]
    elif module == "builtins":
        cls = getattr(builtins, name, None)
        if isinstance(cls, type) and issubclass(cls, Exception):
            try:
                exc = cls(*desc["args"])
            except Exception:
                exc = None
    if exc is None:
        exc = DistributedError(f"{module}.{name}: {desc.get('text', desc.get('message', ''))}")
    exc.rank = desc["rank"]
    if hasattr(exc, "add_note"):
        exc.add_note(f"(raised on rank {desc['rank']} of {size}; every rank raises it)")
    return exc


def _raise_agreed(comm, error: BaseException | None) -> None:
    """Collective: the first failing rank's exception, raised on every rank
    (call it when some rank failed, or always at a check point)."""
    found = comm.allgather(None if error is None else _describe(error, comm.rank))
    first = next((d for d in found if d is not None), None)
    if first is None:
        return
    exc = _rebuild(first, comm.size)
    if error is not None and first["rank"] == comm.rank:
        raise exc from error
    raise exc


def _check(comm, error: BaseException | None) -> None:
    """Collective: raise on every rank if `error` is set on any (one small
    allreduce when none is)."""
    flag = np.array([0 if error is None else 1], dtype=np.int32)
    comm.Allreduce(MPI.IN_PLACE, flag, op=MPI.MAX)
    if flag[0]:
        _raise_agreed(comm, error)


def _run(comm, fn):
    """Collective: fn() on this rank; if it raised here or on another rank,
    every rank raises the same exception."""
    try:
        result, error = fn(), None
    except Exception as exc:  # noqa: BLE001 - every error must reach the other ranks
        result, error = None, exc
    _check(comm, error)
    return result


def _comm(comm):
    if comm is None:
        return MPI.COMM_WORLD
    if not isinstance(comm, MPI.Intracomm):
        raise TypeError(f"comm must be an mpi4py intracommunicator (MPI.COMM_WORLD, ...), "
                        f"not {type(comm).__name__}")
    return comm


# ---- the data-parallel network ------------------------------------------------

class DataParallel:
    """Data-parallel training of one :class:`swiftmlp.MLP` over the ranks of
    an MPI communicator (default MPI.COMM_WORLD).

    ``DataParallel(net, comm=None, root=0)`` is collective: it checks that
    every rank's network has the same configuration (sizes, dtype,
    activations, loss, leaky slope) and copies the root's parameters to
    every rank (MPI broadcast), so that all ranks start equal.  The
    optimizer is set by fit(optimizer=...) on every rank alike, or must
    already be the same on every rank (checked: hyperparameters and step
    count).  To resume from a checkpoint load it on every rank with
    :func:`load`, which gives every rank the root's file, optimizer state
    included.

    Every method is collective: all ranks call it, in the same order, each
    with its own rows (any number, 0 included).
    """

    def __init__(self, net: MLP, comm=None, root: int = 0):
        if not isinstance(net, MLP):
            raise TypeError(f"net must be a swiftmlp.MLP, not {type(net).__name__}")
        self.comm = comm = _comm(comm)
        root = operator.index(root)
        if not 0 <= root < comm.size:
            raise_error(InvalidArgumentError,
                        f"root {root} is not a rank of the communicator (size {comm.size})")
        self.net, self.root = net, root
        self._last_total = 0

        def signature():
            return (net.sizes, net.dtype.name, net.activations, net.loss, net.leaky_slope)
        sig = _run(comm, signature)
        sigs = comm.allgather(sig)
        for r, s in enumerate(sigs):
            if s != sigs[root]:
                raise_error(InvalidArgumentError,
                            f"DataParallel: rank {r}'s network differs from rank {root}'s "
                            f"(sizes, dtype, activations, loss, leaky_slope: {s} vs "
                            f"{sigs[root]}); every rank must create the same network")
        p = _run(comm, lambda: np.array(net.get_flat_params()))
        comm.Bcast(p, root=root)
        _run(comm, lambda: None if comm.rank == root else net.set_flat_params(p))
        n = net.param_count
        # The allreduce buffer: sum b_r g_r (n), then b_r, b_r * loss_r and
        # a failure count, in the network's dtype.
        self._buf = np.zeros(n + 3, dtype=net.dtype)
        self._n = n
        # Row counts travel in the network's element type: exact up to
        # 2^24 in float32.
        self._max_rows = 2 ** 24 if net.dtype == np.float32 else 2 ** 53

    @property
    def rank(self) -> int:
        return self.comm.rank

    @property
    def size(self) -> int:
        return self.comm.size

    # ---- one step ------------------------------------------------------------

    def _local_rows(self, x, y):
        """This rank's rows as arrays of the network's dtype (rows may be 0)."""
        net = self.net

        def width(a):  # before any copy (0 rows are allowed here)
            if a.shape[1] != net.sizes[0]:
                raise_error(_errors.BufferSizeError,
                            f"x has {a.shape[1]} columns, the network has {net.sizes[0]} inputs")
        xa = net._as_input(x, "x", ndim=2, check=width)
        rows = xa.shape[0]
        ya = net._targets(y, "y", rows, "x")
        if rows * self.size > self._max_rows:
            raise_error(_errors.TooLargeError,
                        f"{rows} rows on each of {self.size} ranks exceed the "
                        f"{self._max_rows} rows a {net.dtype} step counts exactly")
        return xa, ya, rows

    def _step(self, x, y) -> tuple[float, int]:
        """One data-parallel step; (global loss, global rows)."""
        net, comm, buf, n = self.net, self.comm, self._buf, self._n
        error = None
        try:
            xa, ya, rows = self._local_rows(x, y)
            if net.optimizer is None:
                raise_error(StateError, "no optimizer is set: pass optimizer= to fit() or "
                                        "set net.optimizer on every rank")
            buf[:] = 0
            if rows:
                net.forward(xa)
                loss = net.backward(ya)
                with net._lock:
                    lib.swiftmlp_get_grads(net._h(), net._code, buf.ctypes.data, n)
                buf[:n] *= rows
                buf[n] = rows
                buf[n + 1] = loss * rows
        except Exception as exc:  # noqa: BLE001 - reported to every rank below
            error = exc
            buf[:] = 0
            buf[n + 2] = 1
        comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
        if buf[n + 2]:
            _raise_agreed(comm, error)
        total = int(buf[n])
        if total == 0:
            raise_error(InvalidArgumentError,
                        "no rank has a row in this batch: a step needs at least one")
        buf[:n] /= buf[n]

        def apply():
            net.set_flat_grads(buf[:n])
            net.step()
        _run(comm, apply)
        return float(buf[n + 1]) / total, total

    def train_step(self, x, y) -> float:
        """One training step on the global batch made of every rank's rows
        (x, y) (any number of rows on a rank, 0 included; at least one in
        all): forward and backward here, the gradients combined over the
        ranks, one step of net.optimizer on every rank.  Returns the global
        batch's loss (the row-weighted mean of the ranks' losses), the same
        on every rank.  y: (rows, NL) targets, or class indices for a
        cross-entropy network."""
        return self._step(x, y)[0]

    # ---- evaluation ----------------------------------------------------------

    def evaluate(self, x, y) -> float:
        """The loss over every rank's rows (x, y), as one process would
        compute it on all of them (training state untouched)."""
        net, comm = self.net, self.comm
        acc = np.zeros(3)
        error = None
        try:
            xa, ya, rows = self._local_rows(x, y)
            if rows:
                acc[0] = net.evaluate(xa, ya) * rows
                acc[1] = rows
        except Exception as exc:  # noqa: BLE001
            error = exc
            acc[:] = (0, 0, 1)
        comm.Allreduce(MPI.IN_PLACE, acc, op=MPI.SUM)
        if acc[2]:
            _raise_agreed(comm, error)
        if acc[1] == 0:
            raise_error(InvalidArgumentError, "evaluate: no rank has a row")
        return float(acc[0] / acc[1])

    # ---- saving --------------------------------------------------------------

    def save(self, path, optimizer_state: bool = True) -> None:
        """The root writes the model file, atomically (MLP.save); the other
        ranks write nothing. A failure (SwiftMLPIOError, ...) is raised on
        every rank."""
        _run(self.comm, lambda: self.net.save(path, optimizer_state=optimizer_state)
             if self.comm.rank == self.root else None)

    # ---- whole data sets -----------------------------------------------------

    def _agree_optimizer(self, optimizer) -> None:
        """Set `optimizer` (if given) on every rank; then every rank's
        optimizer and step count must be the root's."""
        net, comm = self.net, self.comm
        if optimizer is not None:
            _run(comm, lambda: setattr(net, "optimizer", optimizer))
        state = _run(comm, lambda: (repr(net.optimizer), net.optimizer_steps))
        states = comm.allgather(state)
        if states[0][0] == "None":
            raise_error(StateError, "fit() needs an optimizer: pass optimizer=... or set "
                                    "net.optimizer on every rank")
        for r, s in enumerate(states):
            if s != states[self.root]:
                raise_error(InvalidArgumentError,
                            f"rank {r}'s optimizer {s[0]} after {s[1]} steps differs from rank "
                            f"{self.root}'s {states[self.root][0]} after {states[self.root][1]} "
                            f"steps: pass optimizer= to start every rank fresh, or load the "
                            f"same checkpoint with swiftmlp.distributed.load")

    def fit(self, x, y, epochs, batch_size=32, optimizer=None, validation_data=None,
            early_stopping=None, shuffle=True, seed=0, progress=False,
            checkpoint=None) -> History:
        """Train on every rank's rows (x, y): the data-parallel MLP.fit.

        Each rank cuts its rows (reshuffled every epoch with ``shuffle``: the
        permutation np.random.default_rng([seed, rank, epoch])) into batches
        of ``batch_size`` rows; global step k trains on the k-th batches of
        all ranks together (``train_step``), so a global batch holds up to
        size * batch_size rows.  An epoch has as many steps as the rank with
        the most rows needs; ranks that run out contribute no rows (uneven
        and empty shards are fine).

        optimizer: set on every rank with fresh state (None: keep every
            rank's current one, which must agree).
        validation_data: (x_val, y_val), this rank's validation rows (any
            number); the validation loss is the global one (``evaluate``).
        early_stopping: as MLP.fit, decided on the global losses, so every
            rank stops after the same epoch; restore_best restores the best
            epoch's parameters on every rank.
        progress: a tqdm bar on the root only.
        checkpoint: a path the root saves the model to (optimizer state
            included, atomically) after every epoch and at the end.

        Returns a swiftmlp.History of the global losses, the same on every
        rank.  Errors are raised on every rank (see the module's notes).
        """
        net, comm = self.net, self.comm

        def check_args():
            xa, ya, rows = self._local_rows(x, y)
            val = None
            if validation_data is not None:
                xv, yv = validation_pair(validation_data)
                val = self._local_rows(xv, yv)[:2]
            e = count(epochs, "epochs")
            bs = count(batch_size, "batch_size")
            stopping = EarlyStopping.parse(early_stopping)
            if not isinstance(shuffle, (bool, np.bool_)):
                raise TypeError("shuffle must be True or False")
            rng_seed = operator.index(seed)
            if rng_seed < 0:
                raise_error(InvalidArgumentError, f"seed must be >= 0, got {rng_seed}")
            check_finite(xa, "x")
            check_finite(ya, "y")
            if val is not None:
                check_finite(val[0], "validation x")
                check_finite(val[1], "validation y")
            return xa, ya, rows, val, e, bs, stopping, rng_seed
        xa, ya, rows, val, epochs, batch_size, stopping, seed = _run(comm, check_args)
        all_rows = comm.allgather(rows)
        if sum(all_rows) == 0:
            raise_error(InvalidArgumentError, "fit: no rank has a training row")
        with_val = comm.allgather(val is not None)
        if any(with_val) and not all(with_val):
            raise_error(InvalidArgumentError,
                        "fit: validation_data must be given on every rank or on none "
                        "(a rank without validation rows passes empty arrays)")
        self._agree_optimizer(optimizer)
        n_batches = max(math.ceil(r / batch_size) for r in all_rows)

        def make_bar():
            if not progress:
                return None
            tqdm = _tqdm()  # ImportError on every rank alike
            if comm.rank != self.root:
                return None
            return tqdm(total=epochs * n_batches, unit="batch", dynamic_ncols=True,
                        desc=f"epoch 1/{epochs}")
        bar = _run(comm, make_bar)

        history = History()
        best_params = None
        keep_best = stopping is not None and stopping.restore_best
        best, wait = math.inf, 0
        try:
            for epoch in range(epochs):
                order = (np.random.default_rng([seed, comm.rank, epoch]).permutation(rows)
                         if shuffle else np.arange(rows))
                weighted, seen = 0.0, 0
                if bar is not None:
                    bar.set_description(f"epoch {epoch + 1}/{epochs}", refresh=False)
                for k in range(n_batches):
                    idx = order[k * batch_size:(k + 1) * batch_size]
                    loss, total = self._step(xa[idx], ya[idx])
                    weighted += loss * total
                    seen += total
                    if bar is not None:
                        bar.set_postfix({"loss": f"{weighted / seen:.4g}"}, refresh=False)
                        bar.update(1)
                train_loss = weighted / seen
                history.loss.append(train_loss)
                monitored = train_loss
                if val is not None:
                    monitored = self.evaluate(*val)
                    history.val_loss.append(monitored)
                if bar is not None:
                    post = {"loss": f"{train_loss:.4g}"}
                    if val is not None:
                        post["val_loss"] = f"{monitored:.4g}"
                    bar.set_postfix(post, refresh=True)
                min_delta = stopping.min_delta if stopping is not None else 0.0
                if history.best_epoch is None or monitored < best - min_delta:
                    best, history.best_epoch, history.best_loss, wait = monitored, epoch, monitored, 0
                    if keep_best:
                        best_params = np.array(net.get_flat_params())
                else:
                    wait += 1
                history.epochs_run = epoch + 1
                if checkpoint is not None:
                    self.save(checkpoint)
                if stopping is not None and wait >= stopping.patience:
                    history.stopped_early = True
                    break
            if keep_best and history.best_epoch != history.epochs_run - 1:
                _run(comm, lambda: net.set_flat_params(best_params))
                history.restored_best = True
                if checkpoint is not None:
                    self.save(checkpoint)
        finally:
            if bar is not None:
                bar.close()
        return history


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("fit(progress=True) needs tqdm: pip install tqdm") from None
    return tqdm


def load(path, comm=None, root: int = 0) -> MLP:
    """Collective: the root reads the model file at `path` and every rank
    gets a network built from the same bytes (configuration, parameters,
    optimizer and its state): the way to resume data-parallel training from
    a checkpoint. A failure (missing file, malformed model) is raised on
    every rank."""
    comm = _comm(comm)

    def read():
        if comm.rank != root:
            return None
        with open(path, "rb") as fh:
            return fh.read()
    data = _run(comm, read)
    data = comm.bcast(data, root=root)
    return _run(comm, lambda: from_bytes(data))
