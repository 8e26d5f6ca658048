"""Per-call overhead of MLP.train_step on the slides' [2, 4, 1] network, batch 4.

    PYTHONPATH=python-bindings python3 python-bindings/examples/bench_train_step.py

Prints microseconds per call (CPU time of this process, the best of many
repeats, so that other load on the machine disturbs it less) for:
train_step(x, y) (one swiftmlp_train_step call), train_step(x, y, lr) (forward,
backward, step(lr)), forward(x), and the bare ctypes call of
swiftmlp_train_step without the wrapper (the library's own share).
"""

import argparse
import time
import timeit
from ctypes import byref, c_double

import numpy as np

import swiftmlp
from swiftmlp import _lib


def best_us(fn, number, repeat):
    return min(timeit.repeat(fn, number=number, repeat=repeat, timer=time.process_time)) \
        / number * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=4000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=60, help="timings (the best is shown)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 2))
    y = rng.uniform(size=(4, 1))
    with swiftmlp.MLP([2, 4, 1], seed=0) as net:
        net.optimizer = swiftmlp.SGD(lr=0.1)
        raw = _lib.unchecked("swiftmlp_train_step")
        h, xp, yp, loss = net._handle, x.ctypes.data, y.ctypes.data, c_double()
        ref = byref(loss)
        cases = {
            "train_step(x, y)": lambda: net.train_step(x, y),
            "train_step(x, y, lr)": lambda: net.train_step(x, y, 0.1),
            "forward(x)": lambda: net.forward(x),
            "bare swiftmlp_train_step": lambda: raw(h, _lib.FLOAT64, xp, 8, yp, 4, 4, ref),
        }
        for name, fn in cases.items():
            print(f"{name:28s} {best_us(fn, args.number, args.repeat):6.2f} us/call")


if __name__ == "__main__":
    main()
