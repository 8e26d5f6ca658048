"""Can splitting a step over swiftmlp's threads lose to one thread?

Times ``MLP.train_step`` (plain SGD) of the mnist-ish and wide workloads, float32
and float64, in fresh processes with ``SWIFTMLP_NUM_THREADS=1`` and ``=2``, on
the machine as it is ("idle") and with one competing busy process pinned to CPU
0 ("busy": ``taskset -c 0 python3 -c 'while 1: pass'``).  The 1- and 2-thread
processes alternate, so a change in the machine's load hits both alike.  Each
process reports its best mean step time over a few repeats; a case reports the
median over its processes and their spread ((max - min) / median).

The claim checked (thread_pool.c): the 2-thread step is at least as fast as the
1-thread step when busy, and faster when idle.

    python3 bench/contention.py [--procs 5] [--workloads mnist,wide] [--loads idle,busy] [--json]

``measure()`` returns the results as a dict (bench/bench.py can call it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BINDINGS = os.path.join(os.path.dirname(HERE), "python-bindings")
sys.path.insert(0, HERE)
from common import WORKLOADS  # noqa: E402

#: workload -> (repeats, steps per repeat) of each process.
TIMING = {"tiny": (5, 3000), "small": (5, 3000), "mnist": (5, 300), "wide": (3, 3)}

# One process's measurement: the best mean step time (us) over the repeats.
CHILD = r"""
import json, sys, time
import numpy as np
import swiftmlp
sizes, batch, dtype, repeats, steps = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (batch, sizes[0])).astype(dtype)
y = rng.uniform(0, 1, (batch, sizes[-1])).astype(dtype)
net = swiftmlp.MLP(sizes, dtype=dtype, seed=0)
net.optimizer = swiftmlp.SGD(lr=0.01)
for _ in range(max(3, steps // 10)):
    net.train_step(x, y)
best = float("inf")
for _ in range(repeats):
    t0 = time.perf_counter()
    for _ in range(steps):
        net.train_step(x, y)
    best = min(best, (time.perf_counter() - t0) / steps)
print(json.dumps({"us": best * 1e6, "threads": swiftmlp.get_num_threads(), "blas": swiftmlp.blas_info()}))
"""


def one_process(workload: str, dtype: str, threads: int) -> dict:
    sizes, batch = WORKLOADS[workload]
    repeats, steps = TIMING[workload]
    env = dict(os.environ, SWIFTMLP_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (BINDINGS, env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([sizes, batch, dtype, repeats, steps])],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"contention: the {workload} {dtype} process failed:\n{out.stderr}")
    return json.loads(out.stdout)


class Competitor:
    """One busy process pinned to CPU 0 while the block runs."""

    def __enter__(self):
        cmd = [sys.executable, "-c", "while 1: pass"]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "0"] + cmd
        self.proc = subprocess.Popen(cmd)
        time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def summary(times: list[float]) -> dict:
    med = statistics.median(times)
    return {"median_us": med, "min_us": min(times), "max_us": max(times),
            "spread": (max(times) - min(times)) / med, "processes": times}


def measure(procs: int = 5, workloads=("mnist", "wide"), dtypes=("float32", "float64"),
            loads=("idle", "busy")) -> dict:
    """{"cases": {"<workload> <dtype> <idle|busy>": {"1": summary, "2": summary,
    "speedup": median1 / median2, "holds": bool}}, "load": loadavg, "blas": text}."""
    cases, blas, load_before = {}, "", os.getloadavg()
    for load in loads:
        for workload in workloads:
            for dtype in dtypes:
                times = {1: [], 2: []}
                for _ in range(procs):
                    for threads in (1, 2):
                        if load == "busy":
                            with Competitor():
                                r = one_process(workload, dtype, threads)
                        else:
                            r = one_process(workload, dtype, threads)
                        times[threads].append(r["us"])
                        blas = r["blas"] if threads == 2 else blas
                one, two = summary(times[1]), summary(times[2])
                speedup = one["median_us"] / two["median_us"]
                # idle: the split must gain; busy: it must not lose.
                holds = speedup > 1.0 if load == "idle" else speedup >= 1.0
                cases[f"{workload} {dtype} {load}"] = {"1": one, "2": two, "speedup": speedup, "holds": holds}
    return {"cases": cases, "load_before": load_before, "blas": blas, "procs": procs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--procs", type=int, default=5, help="fresh processes per thread count and case")
    ap.add_argument("--workloads", default="mnist,wide")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--loads", default="idle,busy", help="idle, busy or both")
    ap.add_argument("--json", action="store_true", help="print the dict as JSON")
    args = ap.parse_args()
    res = measure(args.procs, args.workloads.split(","), args.dtypes.split(","), args.loads.split(","))
    if args.json:
        print(json.dumps(res, indent=1))
        return
    print(f"{res['blas']}; load average at start {res['load_before'][0]:.2f}; {args.procs} processes per cell")
    print(f"{'case':<24} {'1 thread us (spread)':>22} {'2 threads us (spread)':>22} {'1/2':>6}  holds")
    for name, c in res["cases"].items():
        one, two = c["1"], c["2"]
        print(f"{name:<24} {one['median_us']:>13.0f} ({one['spread']:5.1%}) {two['median_us']:>13.0f} "
              f"({two['spread']:5.1%}) {c['speedup']:6.2f}  {'yes' if c['holds'] else 'NO'}")


if __name__ == "__main__":
    main()
