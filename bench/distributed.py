"""Data-parallel training over MPI: what it costs here, and a model of what
it would do on a cluster.

    python3 bench/distributed.py            # ~3-5 min on 2 cores; needs root
                                            # (the second "host" is a network namespace)
    python3 bench/distributed.py --smoke    # small networks, loopback only, seconds

Measured (float32, sigmoid layers, MSE, plain SGD lr 0.01, as bench.py's
workloads; B = rows per rank per step):
- samples/s of swiftmlp.distributed.DataParallel.train_step for mnist-ish
  [784,256,128,10] B=64 and wide [1024,2048,2048,1024] B=256 at np=1 (one
  BLAS thread, and two) and np=2 (one thread per rank), on loopback and
  between two network namespaces (tests/mpi_support.TwoHosts);
- the time of one gradient allreduce (param_count + 3 float32, MPI_SUM,
  in place) and of a 1-element allreduce (latency), on loopback and
  between the namespaces;
- the single-process step (MLP.train_step, no MPI) at B and 4B, and the
  data-parallel bookkeeping of a step (get_flat_grads, scale, divide, set_flat_grads).

Model (printed, and the README's "Data-parallel training over MPI"): on N
hosts a ring allreduce of S bytes takes t_ar(N) = 2 (N-1) a + 2 (N-1)/N S/bw
and the step's second, 1-element allreduce (the error check) log2(N) a
(a = one message's latency: the namespaces' 1-element allreduce at np=2,
one exchange; bw = the network's nominal 10 or 100 Gb/s); a step takes
t_c(B) + d + t_ar(N) + t_chk(N) (compute, bookkeeping d, the allreduces;
no overlap), so throughput = N B / step and efficiency = t_c(B) / step
against N independent single-process trainers. t_c(B) = c0 + c1 B is
fitted to the steps at B and 4B; efficiency >= 80% needs
B >= (4 (d + t_ar + t_chk) - c0) / c1 rows per host.

Output: a markdown report on stdout and in bench/results/distributed.md,
everything in bench/results/distributed.json (gitignored).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, "python-bindings"), os.path.join(ROOT, "python-bindings", "tests")]

NETWORKS = {"mnist-ish": ([784, 256, 128, 10], 64), "wide": ([1024, 2048, 2048, 1024], 256)}
SMOKE_NETWORKS = {"small": ([64, 32, 10], 32), "medium": ([128, 256, 64], 64)}


# ---- the MPI side ------------------------------------------------------------------

def worker(names: list, smoke: bool) -> None:
    import numpy as np
    from mpi4py import MPI
    import swiftmlp
    from swiftmlp import _lib
    from swiftmlp.distributed import DataParallel

    comm = MPI.COMM_WORLD
    nets = SMOKE_NETWORKS if smoke else NETWORKS

    def timed(fn, reps, with_min=False):
        """Median (and minimum) over reps of the slowest rank's time of fn()."""
        out = []
        for _ in range(reps):
            comm.Barrier()
            t0 = time.perf_counter()
            fn()
            t = time.perf_counter() - t0
            out.append(comm.allreduce(t, op=MPI.MAX))
        return (statistics.median(out), min(out)) if with_min else statistics.median(out)

    # One message's latency: a 1-element allreduce, before any network
    # exists (the median, and the minimum: the machine may be shared).
    one = np.zeros(1, dtype=np.float32)
    lat = []
    for _ in range(300):
        comm.Barrier()
        t0 = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, one)
        lat.append(comm.allreduce(time.perf_counter() - t0, op=MPI.MAX))
    results = {}
    for name in names:
        sizes, batch = nets[name]
        reps = 10 if smoke else (100 if sizes[1] < 1000 else 8)
        rng = np.random.default_rng(comm.rank)
        net = swiftmlp.MLP(sizes, dtype="float32", seed=0)
        net.optimizer = swiftmlp.SGD(lr=0.01)
        dp = DataParallel(net, comm)
        x = rng.random((batch, sizes[0]), dtype=np.float32)
        y = rng.random((batch, sizes[-1]), dtype=np.float32)
        for _ in range(2):
            dp.train_step(x, y)
        r = {"sizes": sizes, "batch": batch, "params": net.param_count}
        r["dp_step"], r["dp_step_min"] = timed(lambda: dp.train_step(x, y), reps, True)
        r["samples_per_s"] = comm.size * batch / r["dp_step"]
        buf = np.zeros(net.param_count + 3, dtype=np.float32)
        r["allreduce_bytes"] = buf.nbytes
        for _ in range(2):
            comm.Allreduce(MPI.IN_PLACE, buf)
        r["allreduce"], r["allreduce_min"] = timed(lambda: comm.Allreduce(MPI.IN_PLACE, buf),
                                                   max(reps, 10), True)
        if comm.size == 1:
            # the single-process step at B and 4B, and the bookkeeping
            for rows, key in ((batch, "step_b"), (4 * batch, "step_4b")):
                xs = rng.random((rows, sizes[0]), dtype=np.float32)
                ys = rng.random((rows, sizes[-1]), dtype=np.float32)
                net.train_step(xs, ys)
                r[key] = timed(lambda: net.train_step(xs, ys), max(3, reps // (1 if rows == batch else 4)))
            n = net.param_count
            g = np.zeros(n + 3, dtype=np.float32)

            def bookkeeping():
                with net._lock:
                    _lib.lib.swiftmlp_get_grads(net._h(), net._code, g.ctypes.data, n)
                g[:n] *= batch
                g[:n] /= batch
                net.set_flat_grads(g[:n])
            r["bookkeeping"] = timed(bookkeeping, reps)
        results[name] = r
        net.close()
    if comm.rank == 0:
        print("RESULT " + json.dumps({"size": comm.size, "processor": MPI.Get_processor_name(),
                                      "threads": swiftmlp.get_num_threads(),
                                      "allreduce_1": statistics.median(lat),
                                      "allreduce_1_min": min(lat),
                                      "loadavg": os.getloadavg(), "networks": results}),
              flush=True)


# ---- the orchestrator ----------------------------------------------------------------

def cpu() -> dict:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    info = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("Model name", "CPU family", "Model", "CPU(s)"):
            info[key.strip()] = value.strip()
    return info


def launch(np_: int, threads: int, names: list, smoke: bool, hosts=None) -> dict:
    import mpi_support as ms
    os.environ["SWIFTMLP_NUM_THREADS"] = str(threads)
    try:
        res = ms.run_mpi(np_, [os.path.abspath(__file__), "--worker", "--networks", ",".join(names)]
                         + (["--smoke"] if smoke else []), timeout=1800, hosts=hosts)
    finally:
        del os.environ["SWIFTMLP_NUM_THREADS"]
    line = next(l for l in res.stdout.splitlines() if l.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def ring_allreduce(n_hosts: int, nbytes: int, latency: float, gbit: float) -> float:
    bw = gbit * 1e9 / 8
    return 2 * (n_hosts - 1) * latency + 2 * (n_hosts - 1) / n_hosts * nbytes / bw


def model(single: dict, ns: dict) -> dict:
    """Predictions per network (see the module's docstring)."""
    out = {}
    for name, r in single["networks"].items():
        b = r["batch"]
        c1 = (r["step_4b"] - r["step_b"]) / (3 * b)
        c0 = r["step_b"] - c1 * b
        d = r["bookkeeping"]
        latency = ns["allreduce_1"]
        rows = {}
        for gbit in (10, 100):
            for hosts in (8, 64):
                t_ar = ring_allreduce(hosts, r["allreduce_bytes"], latency, gbit)
                t_chk = math.ceil(math.log2(hosts)) * latency
                step = r["step_b"] + d + t_ar + t_chk
                need = (4 * (d + t_ar + t_chk) - c0) / c1 if c1 > 0 else float("inf")
                rows[f"{hosts} hosts, {gbit} Gb/s"] = {
                    "allreduce_s": t_ar, "samples_per_s": hosts * b / step,
                    "efficiency": r["step_b"] / step, "batch_for_80pct": max(1, int(need) + 1)}
        out[name] = {"c0": c0, "c1": c1, "bookkeeping": d, "latency": latency, "predictions": rows}
    return out


def report(data: dict) -> str:
    c = data["cpu"]
    cpu_text = f"{c.get('Model name')} (family {c.get('CPU family')}, model {c.get('Model')}, {c.get('CPU(s)')} CPUs)"
    lines = [f"CPU: {cpu_text}", "",
             "| network | B/rank | params | run | ranks x threads | step ms median / min | "
             "samples/s (median step) | gradient allreduce ms median / min (bytes) |",
             "|---|---|---|---|---|---|---|---|"]
    for label, run in data["runs"].items():
        for name, r in run["networks"].items():
            lines.append(
                f"| {name} {r['sizes']} | {r['batch']} | {r['params']} | {label} | "
                f"{run['size']} x {run['threads']} | {r['dp_step'] * 1e3:.2f} / "
                f"{r['dp_step_min'] * 1e3:.2f} | {r['samples_per_s']:.0f} | "
                + (f"{r['allreduce'] * 1e3:.3f} / {r['allreduce_min'] * 1e3:.3f} "
                   f"({r['allreduce_bytes']})" if run["size"] > 1 else "-")
                + " |")
    lines += ["", "1-element allreduce (latency), median / min over 300, and the load average "
              "(1, 5, 15 min) at the end of each run:", ""]
    for label, run in data["runs"].items():
        load = ", ".join(f"{v:.1f}" for v in run["loadavg"])
        lat = (f"{run['allreduce_1'] * 1e6:.1f} / {run['allreduce_1_min'] * 1e6:.1f} us"
               if run["size"] > 1 else "-")
        lines.append(f"- {label}: {lat}; load {load}")
    single = data["runs"]["loopback np=1, 1 thread"]
    lines += ["", "Single process, 1 thread (MLP.train_step, no MPI), and the data-parallel "
              "bookkeeping of a step (get_flat_grads, scale, divide, set_flat_grads):", "",
              "| network | step at B ms | step at 4B ms | bookkeeping ms |", "|---|---|---|---|"]
    for name, r in single["networks"].items():
        lines.append(f"| {name} | {r['step_b'] * 1e3:.2f} | {r['step_4b'] * 1e3:.2f} | "
                     f"{r['bookkeeping'] * 1e3:.3f} |")
    if "model" in data:
        lines += ["", "Model (ring allreduce, latency from the namespaces, nominal bandwidth; "
                  "B per host as measured):", "",
                  "| network | hosts, network | allreduce ms | samples/s | efficiency | "
                  "B/host for 80% |", "|---|---|---|---|---|---|"]
        for name, m in data["model"].items():
            for key, p in m["predictions"].items():
                lines.append(f"| {name} | {key} | {p['allreduce_s'] * 1e3:.2f} | "
                             f"{p['samples_per_s']:.0f} | {p['efficiency'] * 100:.0f}% | "
                             f"{p['batch_for_80pct']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="small networks, loopback only")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--networks", default=None, help="comma-separated subset")
    args = ap.parse_args()
    nets = SMOKE_NETWORKS if args.smoke else NETWORKS
    names = args.networks.split(",") if args.networks else list(nets)
    if args.worker:
        worker(names, args.smoke)
        return
    import mpi_support as ms
    data = {"cpu": cpu(), "smoke": args.smoke, "runs": {}}
    print(f"CPU: {data['cpu']}", flush=True)
    plan = [("loopback np=1, 1 thread", 1, 1, False), ("loopback np=1, 2 threads", 1, 2, False),
            ("loopback np=2, 1 thread each", 2, 1, False)]
    if not args.smoke:
        plan.append(("two namespaces np=2, 1 thread each", 2, 1, True))
    for label, np_, threads, two_hosts in plan:
        print(f"== {label}", flush=True)
        if two_hosts:
            with ms.TwoHosts() as hosts:
                data["runs"][label] = launch(np_, threads, names, args.smoke, hosts)
        else:
            data["runs"][label] = launch(np_, threads, names, args.smoke)
    if not args.smoke:
        data["model"] = model(data["runs"]["loopback np=1, 1 thread"],
                              data["runs"]["two namespaces np=2, 1 thread each"])
    text = report(data)
    print(text)
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    suffix = "-smoke" if args.smoke else ""
    with open(os.path.join(out, f"distributed{suffix}.json"), "w") as fh:
        json.dump(data, fh, indent=2)
    with open(os.path.join(out, f"distributed{suffix}.md"), "w") as fh:
        fh.write(text + "\n")
    # A smoke run checks that everything ran and measured something finite.
    for run in data["runs"].values():
        for r in run["networks"].values():
            assert 0 < r["dp_step"] < float("inf") and r["samples_per_s"] > 0, r


if __name__ == "__main__":
    main()
