"""Running swiftmlp.distributed under mpirun, for the tests (and the benchmark).

- The data of the equality runs: which rows every rank holds at every step
  (`shard_rows`, `local_batch`), generated the same way by the MPI worker
  (mpi_worker.py) and by the single-process reference in the tests.
- `run_mpi`: mpirun with a timeout.  A run that would hang (a rank waiting
  forever in a collective) is killed and reported as `MPITimeout`, so a
  test fails instead of blocking CI.  Every rank uses Open MPI's TCP
  transport (`--mca btl tcp,self`), on loopback by default.
- `TwoHosts`: two simulated hosts (network namespaces, each with its own
  UTS namespace and so its own hostname) joined by a veth pair with private
  addresses; mpirun runs in the first and starts the second's daemon
  through `ip netns exec` (a plm_rsh_agent script instead of ssh).  Set up
  on entry, torn down (processes, namespaces, links) on exit.

As root, Open MPI needs OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1: set here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
BINDINGS_DIR = os.path.dirname(TESTS_DIR)
WORKER = os.path.join(TESTS_DIR, "mpi_worker.py")

# ---- the equality runs' data ------------------------------------------------------

#: The network of the equality runs: two tanh layers and a softmax output,
#: cross-entropy (class-index targets).
SIZES = [6, 16, 8, 3]
ACTIVATIONS = ["tanh", "tanh", "softmax"]
LOSS = "cross_entropy"
SEED = 12345
STEPS = 20
#: name -> (kind, kwargs) of the optimizers compared.
OPTIMIZERS = {"sgd": ("SGD", {"lr": 0.2, "momentum": 0.9}),
              "adam": ("Adam", {"lr": 0.01})}
DTYPES = ("float64", "float32")
#: Layouts of the global batches over the ranks.
LAYOUTS = ("even", "uneven", "empty")
#: Relative tolerance on the parameters, max|p - p_ref| / max|p_ref|.
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def layouts_for(size: int) -> tuple:
    """An "empty" layout needs a second rank to hold the rows."""
    return LAYOUTS if size >= 2 else LAYOUTS[:2]


def shard_rows(layout: str, rank: int, size: int, step: int) -> int:
    """Rows rank `rank` of `size` holds in global step `step`.
    even: 6 each.  uneven: 1..9, different per rank and step.  empty: the
    last rank never has a row, and with 3 or more ranks rank 0 has none on
    odd steps either."""
    if layout == "even":
        return 6
    if layout == "uneven":
        return 1 + (rank * 7 + step * 3) % 9
    if layout == "empty":
        if rank == size - 1 or (size >= 3 and rank == 0 and step % 2 == 1):
            return 0
        return 1 + (rank * 5 + step) % 7
    raise ValueError(layout)


def local_batch(layout: str, rank: int, size: int, step: int, dtype: str):
    """(x, labels) of rank `rank` at `step`: deterministic rows."""
    rows = shard_rows(layout, rank, size, step)
    rng = np.random.default_rng([step, rank, size, LAYOUTS.index(layout)])
    x = rng.normal(size=(rows, SIZES[0])).astype(dtype)
    labels = rng.integers(0, SIZES[-1], size=rows)
    return x, labels


def global_batch(layout: str, size: int, step: int, dtype: str):
    """The ranks' local batches concatenated in rank order."""
    parts = [local_batch(layout, r, size, step, dtype) for r in range(size)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


#: The fit scenario: rows per rank (uneven; the last rank of several has
#: no training rows), validation rows (rank 0 has none), and fit's options.
FIT_ROWS = (37, 20, 11, 5)
FIT_VAL_ROWS = (0, 9, 15, 4)
FIT_EPOCHS, FIT_BATCH, FIT_LR, FIT_PATIENCE, FIT_SEED = 12, 8, 0.01, 2, 7


def fit_data(rank: int, size: int, dtype: str = "float64"):
    """(x, labels, x_val, labels_val) of rank `rank` of `size` in the fit scenario."""
    rng = np.random.default_rng([99, rank])
    rows = 0 if size > 1 and rank == size - 1 else FIT_ROWS[rank % len(FIT_ROWS)]
    vrows = FIT_VAL_ROWS[rank % len(FIT_VAL_ROWS)]
    x = rng.normal(size=(rows, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[-1], size=rows)
    xv = rng.normal(size=(vrows, SIZES[0])).astype(dtype)
    yv = rng.integers(0, SIZES[-1], size=vrows)
    return x, y, xv, yv


def make_optimizer(name: str):
    import swiftmlp
    kind, kwargs = OPTIMIZERS[name]
    return getattr(swiftmlp, kind)(**kwargs)


def make_net(dtype: str):
    import swiftmlp
    return swiftmlp.MLP(SIZES, dtype=dtype, seed=SEED, activations=ACTIVATIONS, loss=LOSS)


def relative_error(got: np.ndarray, ref: np.ndarray) -> float:
    """max |got - ref| / max |ref|, in float64."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    return float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))


# ---- launching -------------------------------------------------------------------

class MPITimeout(AssertionError):
    """mpirun did not finish in time (a hang): it and its ranks were killed."""


def mpi_env() -> dict:
    env = dict(os.environ)
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    # One BLAS thread per rank: up to 4 ranks share 2 cores.
    env.setdefault("SWIFTMLP_NUM_THREADS", "1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (BINDINGS_DIR, TESTS_DIR, env.get("PYTHONPATH", "")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def mpirun_args(np_: int, hosts=None) -> list:
    """mpirun and its options: `np_` ranks over TCP, on loopback when
    `hosts` is None, else over the TwoHosts pair."""
    args = ["mpirun", "-np", str(np_), "--oversubscribe", "--bind-to", "none",
            "--mca", "btl", "tcp,self"]
    if hosts is None:
        args += ["--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]
    else:
        args += hosts.mpirun_options(np_)
    return args


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGTERM to mpirun (which stops its ranks and daemons), then SIGKILL
    to its whole session if anything is left."""
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def run_mpi(np_: int, script_args: list, timeout: float, hosts=None) -> subprocess.CompletedProcess:
    """Run `python3 <script_args>` on `np_` ranks; raise MPITimeout (after
    killing everything) if it takes longer than `timeout` seconds, and
    AssertionError with the output if it fails."""
    cmd = mpirun_args(np_, hosts) + [sys.executable] + list(script_args)
    if hosts is not None:
        cmd = hosts.wrap_first(cmd)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=mpi_env(), start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        out, err = proc.communicate()
        raise MPITimeout(f"mpirun -np {np_} {' '.join(map(str, script_args))} did not finish "
                         f"within {timeout} s and was killed\nstdout:\n{out[-3000:]}\n"
                         f"stderr:\n{err[-3000:]}") from None
    if proc.returncode != 0:
        raise AssertionError(f"mpirun -np {np_} failed with exit status {proc.returncode}\n"
                             f"stdout:\n{out[-5000:]}\nstderr:\n{err[-5000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


# ---- two simulated hosts -----------------------------------------------------------

class TwoHosts:
    """Two network namespaces, each also in its own UTS namespace (its own
    hostname), joined by a veth pair with private addresses 10.218.N.1 and
    10.218.N.2 (N from the process id, so runs in parallel do not meet).
    mpirun runs in host A; Open MPI starts host B's daemon (orted) through
    `agent`, a plm_rsh_agent script that enters B's namespaces instead of
    using ssh.  Only addresses inside these namespaces are used."""

    def __init__(self):
        tag = os.getpid() % 100000
        self.ns = (f"smlp{tag}a", f"smlp{tag}b")
        self.links = (f"smlp{tag}va", f"smlp{tag}vb")
        subnet = 1 + os.getpid() % 250
        self.addrs = (f"10.218.{subnet}.1", f"10.218.{subnet}.2")
        self.cidr = f"10.218.{subnet}.0/24"
        self.hostnames = ("smlp-host-a", "smlp-host-b")
        self.dir = None

    def _ip(self, *args, check=True):
        return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)

    def __enter__(self) -> "TwoHosts":
        self.dir = tempfile.mkdtemp(prefix="smlp-hosts-")
        try:
            a, b = self.ns
            va, vb = self.links
            self._ip("netns", "add", a)
            self._ip("netns", "add", b)
            self._ip("link", "add", va, "type", "veth", "peer", "name", vb)
            self._ip("link", "set", va, "netns", a)
            self._ip("link", "set", vb, "netns", b)
            for ns, link, addr in ((a, va, self.addrs[0]), (b, vb, self.addrs[1])):
                self._ip("-n", ns, "addr", "add", f"{addr}/24", "dev", link)
                self._ip("-n", ns, "link", "set", link, "up")
                self._ip("-n", ns, "link", "set", "lo", "up")
            self.agent = os.path.join(self.dir, "agent.sh")
            with open(self.agent, "w") as fh:
                fh.write(f"""#!/bin/sh
# plm_rsh_agent for the simulated host B: "agent HOST COMMAND..." runs the
# command (Open MPI's orted) in B's network namespace and a fresh UTS
# namespace named {self.hostnames[1]}.
host="$1"; shift
[ "$host" = "{self.addrs[1]}" ] || {{ echo "agent: unknown host $host" >&2; exit 1; }}
exec ip netns exec {b} unshare --uts /bin/sh -c "hostname {self.hostnames[1]}; $*"
""")
            os.chmod(self.agent, 0o755)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def wrap_first(self, cmd: list) -> list:
        """`cmd` run in host A (its network namespace and a UTS namespace)."""
        quoted = " ".join("'" + c.replace("'", "'\\''") + "'" for c in cmd)
        return ["ip", "netns", "exec", self.ns[0], "unshare", "--uts", "/bin/sh", "-c",
                f"hostname {self.hostnames[0]}; exec {quoted}"]

    def mpirun_options(self, np_: int) -> list:
        per_host = -(-np_ // 2)
        return ["--host", f"{self.addrs[0]}:{per_host},{self.addrs[1]}:{per_host}",
                "--map-by", "node",
                "--mca", "plm_rsh_agent", self.agent,
                "--mca", "btl_tcp_if_include", self.cidr,
                "--mca", "oob_tcp_if_include", self.cidr]

    def link_bytes(self) -> int:
        """Bytes sent and received on host A's end of the veth pair."""
        out = self._ip("-n", self.ns[0], "-s", "link", "show", self.links[0]).stdout.split("\n")
        rx = int(out[3].split()[0])
        tx = int(out[5].split()[0])
        return rx + tx

    def __exit__(self, *exc) -> None:
        for ns in self.ns:
            pids = self._ip("netns", "pids", ns, check=False).stdout.split()
            for pid in pids:  # only processes started inside our namespaces
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
                self._ip("netns", "pids", ns, check=False).stdout.split() for ns in self.ns):
            time.sleep(0.05)
        self._ip("link", "del", self.links[0], check=False)  # if never moved
        for ns in self.ns:
            self._ip("netns", "del", ns, check=False)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
