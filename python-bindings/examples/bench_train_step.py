"""Per-call overhead of MLP.train_step: the slides' [2, 4, 1] network with batch 4
("tiny") and [64, 32, 10] with batch 32 ("small"), float32 and float64.

    PYTHONPATH=python-bindings python3 python-bindings/examples/bench_train_step.py
    PYTHONPATH=python-bindings python3 python-bindings/examples/bench_train_step.py \\
        --workloads tiny --dtypes float64 --repeat 60

Prints microseconds per call (CPU time of this process; the median of the
repeats, and the best, which other load on the machine disturbs less) for:
train_step(x, y) (one swiftmlp_train_step call), train_step(x, y, lr) (forward,
backward, step(lr)), forward(x), and the bare ctypes call of
swiftmlp_train_step without the wrapper (the library's own share, plus what
ctypes itself costs).  The cases of one workload are interleaved repeat by
repeat, so that a burst of load on the machine disturbs all of them alike.
"""

import argparse
import statistics
import time
import timeit
from ctypes import byref, c_double

import numpy as np

import swiftmlp
from swiftmlp import _lib

WORKLOADS = {"tiny": ([2, 4, 1], 4), "small": ([64, 32, 10], 32)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=4000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=30, help="timings per case")
    parser.add_argument("--workloads", default="tiny,small", help="tiny,small")
    parser.add_argument("--dtypes", default="float32,float64", help="float32,float64")
    args = parser.parse_args()

    print(f"{'workload':16s} {'case':28s} {'median':>8s} {'best':>8s}  us/call")
    for wname in args.workloads.split(","):
        sizes, batch = WORKLOADS[wname]
        for dname in args.dtypes.split(","):
            dt = np.dtype(dname)
            rng = np.random.default_rng(0)
            x = rng.normal(size=(batch, sizes[0])).astype(dt)
            y = rng.uniform(size=(batch, sizes[-1])).astype(dt)
            with swiftmlp.MLP(sizes, dtype=dt, seed=0) as net:
                net.optimizer = swiftmlp.SGD(lr=0.1)
                raw = _lib.unchecked("swiftmlp_train_step")
                code = _lib.FLOAT32 if dt == np.float32 else _lib.FLOAT64
                h, xp, yp, loss = net._handle, x.ctypes.data, y.ctypes.data, c_double()
                ref = byref(loss)
                cases = {
                    "train_step(x, y)": lambda: net.train_step(x, y),
                    "train_step(x, y, lr)": lambda: net.train_step(x, y, 0.1),
                    "forward(x)": lambda: net.forward(x),
                    "bare swiftmlp_train_step":
                        lambda: raw(h, code, xp, x.size, yp, y.size, batch, ref),
                }
                times = {name: [] for name in cases}
                for fn in cases.values():  # warm-up
                    fn()
                for _ in range(args.repeat):
                    for name, fn in cases.items():
                        t = timeit.timeit(fn, number=args.number, timer=time.process_time)
                        times[name].append(t / args.number * 1e6)
                for name, ts in times.items():
                    print(f"{wname + ' ' + dname:16s} {name:28s} {statistics.median(ts):8.2f} "
                          f"{min(ts):8.2f}")


if __name__ == "__main__":
    main()
