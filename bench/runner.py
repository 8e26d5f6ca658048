"""Running the benchmark's peers, each in its own process: the environment
every child gets (OpenBLAS variables unset, or the machine class's), the
other load on the machine while a peer ran, the JSON a peer prints, and the
statistics and number formats shared by the report."""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import common  # noqa: E402

RESULTS = os.path.join(HERE, "results")
BIN = os.path.join(RESULTS, "bin")
WORK = os.path.join(RESULTS, "work")


OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

#: --machine-class: what every benchmark process runs with. "avx2" forces the
#: library's AVX2 kernels and OpenBLAS's Haswell core (the one case where
#: OPENBLAS_CORETYPE is set); "single-core" pins the orchestrator, and so
#: every process it starts, to CPU 0 (taskset -c 0).
MACHINE_CLASSES = {
    "default": {"env": {}, "cpus": None},
    "avx2": {"env": {"SWIFTMLP_CPU": "avx2", "OPENBLAS_CORETYPE": "Haswell"}, "cpus": None},
    "single-core": {"env": {}, "cpus": {0}},
}
#: the class of this run (bench.py sets it before the first child starts)
CLASS = {"name": "default", **MACHINE_CLASSES["default"]}


def set_machine_class(name):
    """Every process started from now on runs in machine class `name`."""
    CLASS.update(name=name, **MACHINE_CLASSES[name])
    if CLASS["cpus"]:
        os.sched_setaffinity(0, CLASS["cpus"])  # inherited by every child


def round_order(peers, rnd):
    """The peers' order in round rnd: as given in even rounds, reversed in
    odd ones, so that neither side of a ratio always runs first."""
    return list(peers) if rnd % 2 == 0 else list(reversed(peers))


#: a case whose processes' medians differ by more than this (max - min over
#: the median) is flagged in the report
SPREAD_FLAG = 0.20


def spread(values):
    """(max - min) / median of one case's per-process medians; None for
    fewer than two processes."""
    v = [x for x in values or () if x]
    if len(v) < 2:
        return None
    return (max(v) - min(v)) / float(np.median(v))


def apply_fault(peer, path, dtype):
    """SWIFTMLP_BENCH_FAULT=<peer>: the benchmark's self-test; pretends that
    peer computed something else (its check output, perturbed), which its
    check must catch."""
    if os.environ.get("SWIFTMLP_BENCH_FAULT") == peer and os.path.exists(path):
        bad = np.fromfile(path, dtype=dtype)
        bad[0] += 1e-3 * (abs(bad[0]) + 1)
        bad.tofile(path)


def rel(path):
    return os.path.relpath(path, ROOT)


def log(msg=""):
    print(msg, flush=True)


def child_env(extra=None):
    """The environment of every benchmark process: OpenBLAS's variables
    unset (or the machine class's), python-bindings on PYTHONPATH, `extra`
    on top."""
    env = dict(os.environ)
    for v in OPENBLAS_VARS:
        env.pop(v, None)
    env.update(CLASS["env"])
    env["PYTHONPATH"] = os.path.join(ROOT, "python-bindings") + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for k, v in (extra or {}).items():  # None: removed from the environment
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


class OtherLoad:
    """How much CPU OTHER processes used while a peer ran: the machine's busy
    time (/proc/stat, steal included) minus this process's and its children's
    CPU time, divided by the wall time, in cores. A peer's threads spinning on
    a core that another process wants make such runs meaningless, so runs
    with more than DISTURBED cores are flagged."""

    DISTURBED = 0.25

    @staticmethod
    def _busy():
        try:
            with open("/proc/stat") as fh:
                f = [int(v) for v in fh.readline().split()[1:]]
            # user nice system idle iowait irq softirq steal ...
            return (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] if len(f) > 7 else 0)) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    @staticmethod
    def _own():
        import resource
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    def __enter__(self):
        self.t, self.busy, self.own = time.time(), self._busy(), self._own()
        return self

    def __exit__(self, *exc):
        wall = time.time() - self.t
        busy = self._busy()
        self.cores = None
        if busy is not None and self.busy is not None and wall > 0:
            self.cores = max(0.0, (busy - self.busy - (self._own() - self.own)) / wall)
        return False


def run_json(cmd, env=None, timeout=900):
    """Runs cmd, returns (dict from its last stdout line, error text or None)."""
    t = time.time()
    try:
        with OtherLoad() as load:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env or child_env(), timeout=timeout,
                               cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None, f"timeout after {timeout} s: {' '.join(shlex.quote(c) for c in cmd)}"
    wall = time.time() - t
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if p.returncode != 0 or not lines:
        tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-15:])
        return None, f"exit {p.returncode}: {' '.join(shlex.quote(c) for c in cmd)}\n{tail}"
    try:
        out = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        return None, f"bad output ({exc}): {lines[-1][:300]}"
    out["wall_seconds"] = wall
    out["other_load_cores"] = load.cores
    if p.stderr.strip():
        out["stderr"] = p.stderr.strip()[-4000:]
    return out, None


def run_json_lines(cmd, n, timeout=1800):
    """Runs a peer over n specs in one process: n (dict, error) pairs."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return [(None, f"timeout after {timeout} s")] * n
    outs = []
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                continue
            outs.append((None, d["error"]) if "error" in d else (d, None))
    tail = "\n".join(p.stderr.strip().splitlines()[-15:])
    while len(outs) < n:
        outs.append((None, f"exit {p.returncode}: no result\n{tail}"))
    return outs[:n]


def py_peer(peer, spec):
    path = os.path.join(spec["workdir"], f"spec-{peer}.json")
    with open(path, "w") as fh:
        json.dump(spec, fh)
    return run_json([sys.executable, os.path.join(HERE, "peers.py"), peer, path])


def c_args(spec):
    return ["--dir", spec["workdir"], "--sizes", ",".join(map(str, spec["sizes"])),
            "--batch", str(spec["batch"]), "--dtype", common.SHORT_DTYPE[spec["dtype"]]]


def c_peer(exe, spec, check_lr, lr, preload=None, extra=None):
    """check run then time run of a C driver; returns (merged dict, error)."""
    chk, err = run_json([exe, "check"] + c_args(spec) + [
        "--check-lr", repr(check_lr), "--check-steps", str(spec["check_steps"]), "--out", spec["check_out"]],
        env=child_env(extra))
    if err:
        return None, err
    extra = dict(extra or {})
    if preload:
        extra["LD_PRELOAD"] = preload
    out, err = run_json([exe, "time"] + c_args(spec) + [
        "--lr", repr(lr), "--seconds", repr(spec["seconds"]), "--repeats", str(spec["repeats"])],
        env=child_env(extra))
    if err:
        return None, err
    out["check_run"] = chk
    return out, None


def stats(rates):
    r = np.asarray(rates, dtype=float)
    q1, med, q3 = np.percentile(r, [25, 50, 75])
    return {"median": float(med), "min": float(r.min()), "max": float(r.max()),
            "q1": float(q1), "q3": float(q3), "n": int(r.size)}


def fmt_rate(v):
    if v is None or not math.isfinite(v):
        return "–"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def fmt_allocs(v):
    return "" if v is None else f"{v:g}"


def fmt_ratio(v):
    if v is None or not math.isfinite(v):
        return "–"
    return f"{v:.3g}×"
