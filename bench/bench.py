"""The swiftmlp benchmark's orchestrator (run it through bench/run.sh).

For every workload and dtype it writes the initial parameters and the batch
once (bench/results/work/), then runs each peer IN ITS OWN PROCESS, one at a
time: first the two-step parameter check, then warm-up and timed repeats.
It compares every peer's parameters after two steps with the slides' NumPy
code (FANN: with a per-sample NumPy transcription of fann_train), measures
the GEMM peak, fit() on the digits against a NumPy minibatch loop, runs the
allocation check, and writes bench/results/results.md, results.json and
ratios.png.

Exit status: 0 when every correctness check passed (speed targets are
reported, never judged by the exit status), 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
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

BATCH_PEERS = ["numpy-slides", "torch", "swiftmlp-py", "swiftmlp-py-3call", "swiftmlp-py-ctypes",
               "swiftmlp-c", "fann"]
PY_PEERS = {"numpy-slides", "torch", "swiftmlp-py", "swiftmlp-py-3call", "swiftmlp-py-ctypes"}
#: update (p - p0) tolerance, relative to the reference update: the check lr
#: makes the update about 2% of the largest parameter, so these match the
#: parameter tolerances (1e-4, 1e-10) with a margin
UPDATE_TOL = {"float32": 1e-2, "float64": 1e-7}
#: fit() on the digits runs ~1000s of steps: rounding differences grow a little
FIT_TOL = {"float32": 1e-3, "float64": 1e-8}
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def rel(path):
    return os.path.relpath(path, ROOT)


def log(msg=""):
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# Running peers
# ---------------------------------------------------------------------------

def child_env(extra=None):
    env = dict(os.environ)
    for v in OPENBLAS_VARS:
        env.pop(v, None)
    env["PYTHONPATH"] = os.path.join(ROOT, "python-bindings") + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if extra:
        env.update(extra)
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


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------

def environment(args):
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/cpuinfo") as fh:
            flags = next((l for l in fh if l.startswith("flags")), "")
            info["avx512f"] = " avx512f" in flags
    except OSError:
        pass
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    # what run.sh unset (it passes the original values on), and what is left
    info["openblas_env_unset"] = {v: os.environ.get(f"SWIFTMLP_BENCH_ORIG_{v}") for v in OPENBLAS_VARS}
    info["openblas_env_in_children"] = {v: child_env().get(v) for v in OPENBLAS_VARS}
    info["thread_env"] = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                         "MKL_NUM_THREADS")}
    # NumPy's BLAS, as a child process sees it
    probe = ("import json, numpy, threadpoolctl; a = numpy.ones((64, 64)); a @ a; "
             "print(json.dumps(threadpoolctl.threadpool_info()))")
    try:
        p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env=child_env(), timeout=120)
        info["numpy_blas"] = json.loads(p.stdout.strip().splitlines()[-1])
    except Exception as exc:  # threadpoolctl missing, ...
        info["numpy_blas"] = [{"error": repr(exc)}]
    # swiftmlp's BLAS (its private OpenBLAS copy), as the library reports it
    probe = ("import json, swiftmlp; "
             "print(json.dumps({'version': swiftmlp.version(), 'library': str(swiftmlp.library_path), "
             "'blas_info': swiftmlp.blas_info()}))")
    try:
        p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           env=child_env(), timeout=120)
        info["swiftmlp"] = json.loads(p.stdout.strip().splitlines()[-1])
        info["swiftmlp"]["library"] = rel(info["swiftmlp"]["library"])
    except Exception as exc:
        info["swiftmlp"] = {"error": repr(exc)}
    try:
        from importlib import metadata
        info["torch"] = metadata.version("torch")
    except Exception:
        info["torch"] = None
    try:
        info["git"] = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                                     text=True, cwd=ROOT).stdout.strip()
    except Exception:
        pass
    return info


def describe_environment(info):
    lines = []
    unset = info["openblas_env_unset"]
    was = ", ".join(f"{k}={v}" if v is not None else f"{k} (was not set)" for k, v in unset.items())
    left = {k: v for k, v in info["openblas_env_in_children"].items() if v is not None}
    lines.append(f"- OpenBLAS environment: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are UNSET for every "
                 f"benchmark process (`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`; before: {was})"
                 + (f" — WARNING, still set: {left}" if left else ""))
    for d in info.get("numpy_blas", []):
        if "error" in d:
            lines.append(f"- NumPy BLAS: unknown ({d['error']})")
        else:
            lines.append(f"- NumPy BLAS: {d.get('internal_api')} {d.get('version')}, core "
                         f"**{d.get('architecture')}**, {d.get('num_threads')} threads "
                         f"({d.get('threading_layer')})")
    sw = info.get("swiftmlp", {})
    if "error" in sw:
        lines.append(f"- swiftmlp: {sw['error']}")
    else:
        blas = sw.get("blas_info", "?")
        warn = ""
        if "core Prescott" in blas:
            warn = " — WARNING: OpenBLAS's generic SSE3 kernels"
        lines.append(f"- swiftmlp {sw.get('version')} ({sw.get('library')}) BLAS: {blas}{warn}")
    lines.append(f"- torch: {info.get('torch') or 'not installed'} (torch.set_num_threads(2))")
    lines.append(f"- CPU: {info.get('cpu', '?')}, {info.get('cpus')} logical CPUs, AVX-512: "
                 f"{info.get('avx512f')}; load average at start: "
                 + ", ".join(f"{x:.2f}" for x in info.get("loadavg_start", ())))
    te = {k: v for k, v in info["thread_env"].items() if v}
    lines.append(f"- thread variables: {te if te else 'none set (libraries use all CPUs)'}")
    lines.append(f"- Python {info['python']}, NumPy {info['numpy']}, git {info.get('git', '?')}, {info['date']}")
    return lines


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------

def prepare(name, sizes, batch, dtype, args):
    workdir = os.path.join(WORK, f"{name}-{common.SHORT_DTYPE[dtype]}")
    os.makedirs(workdir, exist_ok=True)
    dt = np.dtype(dtype)
    p0 = common.initial_params(sizes).astype(dt)
    x, y = common.make_data(name, sizes, batch)
    x, y = x.astype(dt), y.astype(dt)
    paths = common.spec_paths(workdir)
    p0.tofile(paths["params0"])
    x.tofile(paths["x"])
    y.tofile(paths["y"])
    spec = {"workload": name, "sizes": sizes, "batch": batch, "dtype": dtype, "workdir": workdir,
            "lr": common.LR_TIME, "check_lr": common.check_lr(p0, sizes, x, y), "check_steps": 2,
            "seconds": args.seconds, "repeats": args.repeats}
    # the reference result of the check: the slides' NumPy code, two steps
    np.seterr(over="ignore")
    flat = p0.copy()
    w, b = common.split_params(flat, sizes)
    for _ in range(spec["check_steps"]):
        common.slides_train_step(w, b, x, y, dt.type(spec["check_lr"]))
    common.join_params(w, b).astype(dt).tofile(os.path.join(workdir, "after-reference.bin"))
    return spec, p0, x, y


def evaluate_check(peer, spec, p0, x, y, ref_path):
    dt = spec["dtype"]
    out_path = spec["check_out"]
    if not os.path.exists(out_path):
        return {"ok": False, "note": "no parameters written"}
    got = np.fromfile(out_path, dtype=dt)
    if peer == "fann":
        lr = spec["fann_check_lr"]
        ref = common.fann_reference(p0, spec["sizes"], x, y, lr, spec["check_steps"], dt)
        c = common.compare(got, ref, p0)
        c["against"] = f"per-sample NumPy transcription of fann_train, {spec['check_steps']} epochs, lr {lr:g}"
        # FANN's forward with steepness 0.5 and 1.0 against the logistic sigmoid
        w, b = common.split_params(p0.astype(np.float64), spec["sizes"])
        logistic = common.slides_forward(w, b, x.astype(np.float64))[-1].ravel()
        for tag in ("05", "10"):
            f = out_path + ".fwd" + tag
            if os.path.exists(f):
                fw = np.fromfile(f, dtype=dt).astype(np.float64)
                c[f"forward_err_steepness_{tag[0]}.{tag[1]}"] = float(np.abs(fw - logistic).max())
        fwd_ok = c.get("forward_err_steepness_0.5", 1.0) <= (1e-5 if dt == "float32" else 1e-12)
    else:
        ref = np.fromfile(ref_path, dtype=dt)
        c = common.compare(got, ref, p0)
        c["against"] = (f"the slides' NumPy code run by the orchestrator, {spec['check_steps']} steps, "
                        f"lr {spec['check_lr']:g}")
        fwd_ok = True
    c["tol"] = common.PARAM_TOL[dt]
    c["update_tol"] = UPDATE_TOL[dt]
    c["ok"] = bool(c["finite"] and c["param_rel_err"] <= c["tol"] and c["update_rel_err"] <= c["update_tol"]
                   and fwd_ok)
    return c


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


def spec_for(peer, spec):
    s = dict(spec)
    s["check_out"] = os.path.join(spec["workdir"], f"after-{peer}.bin")
    if os.path.exists(s["check_out"]):
        os.remove(s["check_out"])
    if peer == "fann":
        b, n_out = spec["batch"], spec["sizes"][-1]
        s["fann_check_lr"] = float(2.0 ** round(math.log2(spec["check_lr"] * 2 / (b * n_out))))
    return s


def skip_reason(peer, name, dtype, args):
    if peer == "fann" and name not in common.FANN_WORKLOADS:
        return "n/a"
    if peer.startswith("swiftmlp-c@") and name not in ("mnist", "wide"):
        return "n/a"
    if peer == "torch" and not args.have_torch:
        return "torch not installed"
    if peer == "fann" and not os.path.exists(os.path.join(BIN, f"fann_driver_{common.SHORT_DTYPE[dtype]}")):
        return "FANN driver not built (libfann-dev missing)"
    return None


def execute(peer, s):
    """One peer on one workload, in its own process(es)."""
    if peer in PY_PEERS:
        return py_peer(peer, s)
    if peer == "swiftmlp-c":
        return c_peer(os.path.join(BIN, "swiftmlp_driver"), s, s["check_lr"], s["lr"],
                      preload=os.path.join(BIN, "alloc_count.so"))
    if peer.startswith("swiftmlp-c@"):
        # diagnostic only (--diagnose-coretype): the same driver with
        # OPENBLAS_CORETYPE forced, to show what the BLAS kernel choice costs
        return c_peer(os.path.join(BIN, "swiftmlp_driver"), s, s["check_lr"], s["lr"],
                      extra={"OPENBLAS_CORETYPE": peer.split("@", 1)[1]})
    if peer == "fann":
        return c_peer(os.path.join(BIN, f"fann_driver_{common.SHORT_DTYPE[s['dtype']]}"), s,
                      s["fann_check_lr"], s["lr"])
    raise ValueError(peer)


def record(peer, case, s, out, err, results, seconds):
    spec, p0, x, y = case["spec"], case["p0"], case["x"], case["y"]
    name, sizes, batch, dtype = spec["workload"], spec["sizes"], spec["batch"], spec["dtype"]
    flops = common.flops_per_step(sizes, batch)
    ref_path = os.path.join(spec["workdir"], "after-reference.bin")
    run = {"workload": name, "label": common.LABELS[name], "sizes": sizes, "batch": batch, "dtype": dtype,
           "peer": peer, "flops_per_step": flops}
    if err:
        run["error"] = err
        run["check"] = {"ok": False, "note": "peer failed"}
        log(f"  {peer:20s} ERROR: {err}")
        results["runs"].append(run)
        return
    st = stats(out["rates"])
    run["round_medians"] = out.get("round_medians")
    run.update({"steps_per_s": st, "samples_per_s": st["median"] * batch,
                "gflops": st["median"] * flops / 1e9, "steps_per_repeat": out["steps_per_repeat"],
                "finite": out.get("finite", True), "raw": {k: v for k, v in out.items() if k != "rates"},
                "rates": out["rates"]})
    if os.environ.get("SWIFTMLP_BENCH_FAULT") == peer and os.path.exists(s["check_out"]):
        # self-test of the benchmark: pretend this peer computed something else
        bad = np.fromfile(s["check_out"], dtype=dtype)
        bad[0] += 1e-3 * (abs(bad[0]) + 1)
        bad.tofile(s["check_out"])
    run["check"] = evaluate_check(peer, s, p0, x, y, ref_path)
    if peer == "numpy-slides":
        run["check"]["note"] = "reference"
    if not run["finite"]:
        run["check"]["ok"] = False
        run["check"]["note"] = "non-finite parameters after the timed steps"
    if "allocs" in out:
        run["allocs_per_step"] = out["allocs"] / max(1, out["timed_steps"])
    if "memory" in out:
        run["memory"] = out["memory"]
    run["other_load_cores"] = out.get("other_load_cores")
    run["disturbed"] = bool(out.get("other_load_cores") is not None
                            and out["other_load_cores"] > OtherLoad.DISTURBED)
    c = run["check"]
    cs = (("reference, " if c.get("note") == "reference" else "")
          + f"{'ok' if c['ok'] else 'FAIL'} (params {c.get('param_rel_err', float('nan')):.1e}, "
          f"update {c.get('update_rel_err', float('nan')):.1e})")
    ol = run["other_load_cores"]
    log(f"  {peer:20s} {st['median']:12.1f} steps/s  [{st['min']:.1f} .. {st['max']:.1f}]  "
        f"{run['samples_per_s']:12.4g} samples/s  {run['gflops']:8.3f} GFLOP/s  check {cs}"
        f"  ({seconds:.1f} s" + (f", other load {ol:.2f} cores" if ol is not None else "") + ")"
        + ("  DISTURBED" if run["disturbed"] else ""))
    results["runs"].append(run)


def header(case):
    spec = case["spec"]
    flops = common.flops_per_step(spec["sizes"], spec["batch"])
    log(f"\n== {common.LABELS[spec['workload']]} {spec['sizes']} B={spec['batch']} {spec['dtype']}: "
        f"{flops / 1e6:.4g} MFLOP/step, check lr {spec['check_lr']:g}")


def run_cases(cases, peers, args, results):
    """Full runs: every (workload, dtype, peer) in its own process, workload by
    workload.  --smoke: each Python peer runs all its cases in ONE process
    (saves torch's start-up time; smoke runs never judge speed)."""
    if not args.smoke:
        for case in cases:
            header(case)
            active = []
            for peer in peers:
                why = skip_reason(peer, case["spec"]["workload"], case["spec"]["dtype"], args)
                if why:
                    if why != "n/a":
                        results["runs"].append({"workload": case["spec"]["workload"], "dtype": case["spec"]["dtype"],
                                                "peer": peer, "skipped": why})
                    continue
                active.append(peer)
            run_rounds(case, active, args, results)
        return
    for peer in peers:
        log(f"\n== {peer} (smoke: all workloads)")
        todo = []
        for case in cases:
            why = skip_reason(peer, case["spec"]["workload"], case["spec"]["dtype"], args)
            if why:
                if why != "n/a":
                    results["runs"].append({"workload": case["spec"]["workload"], "dtype": case["spec"]["dtype"],
                                            "peer": peer, "skipped": why})
                continue
            todo.append((case, spec_for(peer, case["spec"])))
        t0 = time.time()
        if peer in PY_PEERS and todo:
            paths = []
            for case, s in todo:
                path = os.path.join(s["workdir"], f"spec-{peer}.json")
                with open(path, "w") as fh:
                    json.dump(s, fh)
                paths.append(path)
            outs = run_json_lines([sys.executable, os.path.join(HERE, "peers.py"), peer] + paths, len(todo))
        else:
            outs = [execute(peer, s) for case, s in todo]
        for (case, s), (out, err) in zip(todo, outs):
            log(f"  {common.LABELS[case['spec']['workload']]} {common.SHORT_DTYPE[case['spec']['dtype']]}:")
            record(peer, case, s, out, err, results, (time.time() - t0) / max(1, len(todo)))


def round_order(peers, rnd):
    """The peers' order in round rnd: as given in even rounds, reversed in
    odd ones, so that neither side of a ratio always runs first."""
    return list(peers) if rnd % 2 == 0 else list(reversed(peers))


def run_rounds(case, active, args, results):
    """The peers of one case in `args.rounds` rounds, each peer one process
    per round with its share of the repeats, the order reversed every other
    round: a slow or fast phase of the machine then falls on every peer, and
    a ratio between two peers is taken round by round (paired()). For the
    wide workload each round also measures the GEMM peak and the products
    alone (results["wide_rounds"]), so that the wide target is paired too."""
    spec = case["spec"]
    per_round = max(1, -(-args.repeats // args.rounds))
    outs = {p: [] for p in active}
    errs, secs, last = {}, {p: 0.0 for p in active}, {}
    for rnd in range(args.rounds):
        for peer in round_order(active, rnd):
            if peer in errs:
                continue
            sp = spec_for(peer, spec)
            sp["repeats"] = per_round
            t0 = time.time()
            out, err = execute(peer, sp)
            secs[peer] += time.time() - t0
            last[peer] = sp
            if err:
                errs[peer] = err
            else:
                outs[peer].append(out)
        if spec["workload"] == "wide" and "gemm" not in args.skip_set:
            wr = results.setdefault("wide_rounds", {}).setdefault(
                spec["dtype"], {k: [] for k in ("peak", "bound", "numpy_products", "torch_products")})
            g, gout, _ = measure_peak(args, spec["dtype"], per_round,
                                      step={"sizes": spec["sizes"], "batch": spec["batch"]})
            b = measure_bound(args, spec["sizes"], spec["batch"], spec["dtype"], per_round) \
                if "bound" not in args.skip_set else {}
            gout = gout or {}
            wr["peak"].append(g["median"] if g else None)
            wr["bound"].append(b["gflops"]["median"] if "gflops" in b else None)
            wr["numpy_products"].append(gout.get("numpy_products_gflops"))
            wr["torch_products"].append(gout.get("torch_products_gflops"))
            if gout.get("products_rel_diff") is not None:
                wr.setdefault("products_rel_diff", []).append(gout["products_rel_diff"])
            nan = float("nan")
            log(f"  round {rnd + 1}: GEMM peak {g['median'] if g else nan:.1f} GFLOP/s; the step's products alone: "
                f"swiftmlp {b['gflops']['median'] if 'gflops' in b else nan:.1f}, "
                f"NumPy {gout.get('numpy_products_gflops') or nan:.1f}, "
                f"torch {gout.get('torch_products_gflops') or nan:.1f} GFLOP/s")
    for peer in active:
        if peer in errs:
            record(peer, case, last[peer], None, errs[peer], results, secs[peer])
            continue
        o = outs[peer]
        merged = dict(o[-1])
        merged["rates"] = [r for x in o for r in x["rates"]]
        merged["round_medians"] = [float(np.median(x["rates"])) for x in o]
        merged["other_load_cores"] = max((x.get("other_load_cores") or 0.0) for x in o)
        if all("allocs" in x for x in o):
            merged["allocs"] = sum(x["allocs"] for x in o)
            merged["timed_steps"] = sum(x["timed_steps"] for x in o)
        record(peer, case, last[peer], merged, None, results, secs[peer])


def measure_peak(args, dtype, repeats, step=None):
    """The NumPy GEMM peak (peers.py gemm): (GFLOP/s stats, the peer's
    output, error). With step = {"sizes", "batch"} the same process also
    times that step's matrix products alone through NumPy and torch."""
    spec = {"n": args.gemm_n, "dtype": dtype, "seconds": args.seconds, "repeats": repeats, "workdir": WORK}
    if step:
        spec["step"] = step
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, f"spec-gemm-{dtype}.json")
    with open(path, "w") as fh:
        json.dump(spec, fh)
    out, err = run_json([sys.executable, os.path.join(HERE, "peers.py"), "gemm", path])
    if err:
        return None, None, err
    st = stats(out["rates"])
    return {k: v * out["flops_per_step"] / 1e9 for k, v in st.items() if k != "n"}, out, None


def run_gemm(args, results, wide=None):
    """The GEMM peak per dtype; with wide = (sizes, batch) also the wide
    step's products alone through NumPy and torch (in the same process)."""
    for dtype in common.DTYPES:
        g, out, err = measure_peak(args, dtype, args.repeats,
                                   step={"sizes": wide[0], "batch": wide[1]} if wide else None)
        if err:
            results["gemm"][dtype] = {"error": err}
            log(f"  GEMM {dtype}: ERROR {err}")
            continue
        ol = out.get("other_load_cores")
        results["gemm"][dtype] = {"n": args.gemm_n, "gflops": g, "torch_gflops": out.get("torch_gflops"),
                                  "finite": out.get("finite", True), "other_load_cores": ol,
                                  **{k: out[k] for k in ("numpy_products_gflops", "torch_products_gflops",
                                                         "products_rel_diff") if k in out},
                                  "disturbed": bool(ol is not None and ol > OtherLoad.DISTURBED)}
        log(f"  GEMM peak {dtype} (NumPy {args.gemm_n}x{args.gemm_n} matmul): {g['median']:.1f} GFLOP/s "
            f"[{g['min']:.1f} .. {g['max']:.1f}]"
            + (f"; torch.mm {out['torch_gflops']:.1f} GFLOP/s" if out.get("torch_gflops") else ""))
        if "numpy_products_gflops" in out:
            log(f"  the wide step's products alone {dtype}: NumPy {out['numpy_products_gflops']:.1f} GFLOP/s"
                + (f", torch {out['torch_products_gflops']:.1f} GFLOP/s (agree to {out['products_rel_diff']:.1e})"
                   if "torch_products_gflops" in out else ""))


def gemm_bound_cmd(mode, sizes, batch, dtype, seconds, repeats, *extra):
    """A bench/gemm_bound.c command line (mode "time" or "compare")."""
    return [os.path.join(BIN, "gemm_bound"), mode, "--dir", WORK, "--sizes", ",".join(map(str, sizes)),
            "--batch", str(batch), "--dtype", common.SHORT_DTYPE[dtype], "--seconds", repr(seconds),
            "--repeats", str(repeats), *extra]


def measure_bound(args, sizes, batch, dtype, repeats, seconds=None):
    """The step's matrix products alone (bench/gemm_bound.c): a dict with
    GFLOP/s and us/step stats, or {"error": ...}."""
    out, err = run_json(gemm_bound_cmd("time", sizes, batch, dtype, args.seconds if seconds is None else seconds,
                                       repeats))
    if err:
        return {"error": err}
    ol = out.get("other_load_cores")
    return bound_stats(sizes, batch, out["rates"], {"flops_per_step": out["flops_per_step"],
                                                    "threads": out["threads"], "other_load_cores": ol})


def bound_stats(sizes, batch, rates, like):
    """measure_bound's dict for these steps/s rates; flops_per_step, threads
    and other_load_cores as in `like` (a measure_bound result: the fit's
    rounds pool their repeats through this)."""
    st = stats(rates)
    g = {k: v * like["flops_per_step"] / 1e9 for k, v in st.items() if k != "n"}
    us = {"median": 1e6 / st["median"], "min": 1e6 / st["max"], "max": 1e6 / st["min"]}
    ol = like.get("other_load_cores")
    return {"sizes": sizes, "batch": batch, "rates": list(rates), "flops_per_step": like["flops_per_step"],
            "gflops": g, "us_per_step": us, "threads": like["threads"],
            "other_load_cores": ol, "disturbed": bool(ol is not None and ol > OtherLoad.DISTURBED)}


def run_bound(args, results, name, sizes, batch):
    """The step's matrix products alone, through swiftmlp's own BLAS layer
    (bench/gemm_bound.c): the ceiling of a whole training step of this
    network with this BLAS. Stored as results["bound"][name][dtype]."""
    for dtype in common.DTYPES:
        b = measure_bound(args, sizes, batch, dtype, args.repeats)
        results["bound"].setdefault(name, {})[dtype] = b
        if "error" in b:
            log(f"  products alone {name} {dtype}: ERROR {b['error']}")
            continue
        g, us = b["gflops"], b["us_per_step"]
        log(f"  products alone {name} {sizes} B={batch} {dtype}: {g['median']:.1f} GFLOP/s "
            f"[{g['min']:.1f} .. {g['max']:.1f}], {us['median']:.1f} us/step, {b['threads']} thread(s)")


def numpy_blas_library(results):
    """The file of NumPy's OpenBLAS, as the environment probe found it
    (threadpoolctl), or None."""
    for d in results["environment"].get("numpy_blas", []):
        if d.get("internal_api") == "openblas" and d.get("filepath"):
            return d["filepath"]
    return None


def run_blas_compare(args, results, sizes, batch):
    """The wide step's products through swiftmlp's BLAS layer and through
    NumPy's OpenBLAS (loaded with dlopen, its own threads), alternating in one
    process (`gemm_bound compare`): the two libraries compared in the same
    phase of the machine, which separate processes are not. Stored as
    results["blas_compare"][dtype]; outputs that differ between the two are a
    correctness failure."""
    lib = numpy_blas_library(results)
    if not lib:
        log("  skipped: NumPy's OpenBLAS was not found (threadpoolctl)")
        return
    rounds = 1 if args.smoke else 10
    for dtype in common.DTYPES:
        out, err = run_json(gemm_bound_cmd("compare", sizes, batch, dtype, min(args.seconds, 0.3), rounds,
                                           "--lib", lib))
        if err:
            results["blas_compare"][dtype] = {"error": err}
            log(f"  {dtype}: ERROR {err}")
            continue
        ratios = [a / b for a, b in zip(out["swiftmlp_gflops"], out["other_gflops"])]
        q1, med, q3 = (float(v) for v in np.percentile(ratios, [25, 50, 75]))
        c = {k: out[k] for k in ("swiftmlp_gflops", "other_gflops", "other_symbol", "other_core", "rel_diff",
                                 "agree", "steps_per_side")}
        c.update(library=os.path.basename(lib), ratios=ratios, median=med, q1=q1, q3=q3,
                 swiftmlp_median=float(np.median(out["swiftmlp_gflops"])),
                 other_median=float(np.median(out["other_gflops"])))
        results["blas_compare"][dtype] = c
        log(f"  {dtype}: swiftmlp's BLAS {c['swiftmlp_median']:.1f} GFLOP/s, NumPy's {c['other_median']:.1f} "
            f"(median of {rounds} rounds); swiftmlp ÷ NumPy round by round: median {med:.2f} "
            f"[q1 {q1:.2f} .. q3 {q3:.2f}]; outputs {'agree' if c['agree'] else 'DIFFER'} "
            f"({c['rel_diff']:.1e})")


FIT_SIZES, FIT_BATCH = [64, 128, 10], 32
FIT_ROWS = 1797  # scikit-learn's digits


def run_fit(args, results, with_products):
    """The two fit peers alternate, one process each per round, the order
    reversed every other round (NumPy loop, swiftmlp, swiftmlp, NumPy loop,
    ...), so that a slow or fast phase of the machine falls on both: the
    ratio is the median of the rounds' ratios (each the median NumPy-loop
    time over the median swiftmlp time of that round). With `with_products`
    each round also times the fit's matrix products alone (gemm_bound, a
    third process in the same order), and the bound on the ratio is taken
    round by round too: a products-alone run at another time of a run falls
    in another phase of the machine (one such run reported the products
    taking 97% of a fit whose profile puts them at ~60%)."""
    sizes = FIT_SIZES
    for dtype in common.DTYPES:
        spec = {"sizes": sizes, "dtype": dtype, "epochs": args.fit_epochs, "batch": FIT_BATCH, "lr": 2.0,
                "repeats": args.fit_repeats, "workdir": WORK}
        res = {"sizes": sizes, "dtype": dtype, "epochs": args.fit_epochs, "batch": FIT_BATCH, "lr": 2.0,
               "rounds": args.fit_rounds}
        times = {"fit-numpy": [], "fit-swiftmlp": []}
        round_ratios, failed = [], False
        products, product_rates = [], []  # per round: the products' us/step; every repeat's rate
        participants = ["fit-numpy", "fit-swiftmlp"] + (["products"] if with_products else [])
        for rnd in range(args.fit_rounds):
            medians = {}
            for peer in round_order(participants, rnd):
                if peer == "products":
                    # about as long as a fit process's timed repeats
                    pb = measure_bound(args, sizes, FIT_BATCH, dtype, 3, min(args.seconds, 0.3))
                    if "error" in pb:
                        log(f"  fit {dtype} products alone: ERROR {pb['error']}")
                        results["bound"].setdefault("fit", {})[dtype] = pb
                        participants.remove("products")
                        continue
                    last = pb  # its threads and FLOPs per step, for the pooled stats
                    products.append(pb["us_per_step"]["median"])
                    product_rates += pb["rates"]
                    continue
                spec["check_out"] = os.path.join(WORK, f"fit-{peer}-{dtype}.bin")
                path = os.path.join(WORK, f"spec-{peer}-{dtype}.json")
                with open(path, "w") as fh:
                    json.dump(spec, fh)
                out, err = run_json([sys.executable, os.path.join(HERE, "peers.py"), peer, path])
                if err:
                    res[peer] = {"error": err}
                    log(f"  fit {dtype} {peer}: ERROR {err}")
                    failed = True
                    break
                times[peer] += out["times"]
                medians[peer] = float(np.median(out["times"]))
                ol = max(out.get("other_load_cores") or 0.0, res.get(peer, {}).get("other_load_cores") or 0.0)
                res[peer] = {"seconds": stats(times[peer]), "accuracy": out["accuracy"], "finite": out["finite"],
                             "other_load_cores": ol, "disturbed": bool(ol > OtherLoad.DISTURBED)}
            if failed:
                break
            round_ratios.append(medians["fit-numpy"] / medians["fit-swiftmlp"])
            if len(products) == rnd + 1:
                # epochs x the full batches at the products-alone rate, the
                # last short batch left out (so the bound is if anything
                # too generous)
                secs = args.fit_epochs * (FIT_ROWS // FIT_BATCH) * products[-1] * 1e-6
                res.setdefault("products_rounds", []).append(
                    {"seconds": secs, "most": medians["fit-numpy"] / secs})
        if product_rates:
            pb = bound_stats(sizes, FIT_BATCH, product_rates, last)
            results["bound"].setdefault("fit", {})[dtype] = pb
            g = pb["gflops"]
            log(f"  fit {dtype} products alone: {g['median']:.1f} GFLOP/s [{g['min']:.1f} .. {g['max']:.1f}], "
                f"{pb['us_per_step']['median']:.1f} us/step over the rounds")
        if not failed:
            a = np.fromfile(os.path.join(WORK, f"fit-fit-swiftmlp-{dtype}.bin"), dtype=dtype)
            b = np.fromfile(os.path.join(WORK, f"fit-fit-numpy-{dtype}.bin"), dtype=dtype)
            p0 = common.initial_params(sizes).astype(dtype)
            c = common.compare(a, b, p0)
            c["tol"] = FIT_TOL[dtype]
            c["ok"] = bool(c["finite"] and c["param_rel_err"] <= c["tol"])
            res["check"] = c
            res["round_ratios"] = round_ratios
            res["ratio"] = float(np.median(round_ratios))
            log(f"  fit digits {dtype}: swiftmlp {res['fit-swiftmlp']['seconds']['median']:.3f} s, NumPy loop "
                f"{res['fit-numpy']['seconds']['median']:.3f} s -> {res['ratio']:.2f}x (rounds: "
                + ", ".join(f"{r:.2f}" for r in round_ratios) + f"); accuracy "
                f"{res['fit-swiftmlp']['accuracy']:.3f} / {res['fit-numpy']['accuracy']:.3f}; params "
                f"{'ok' if c['ok'] else 'FAIL'} ({c['param_rel_err']:.1e})")
        else:
            res["check"] = {"ok": False, "note": "a fit peer failed"}
        results["fit"][dtype] = res


def run_alloc_check(args, workloads, results):
    cmd = [os.path.join(BIN, "alloc_check"), "--steps", str(args.alloc_steps)]
    for name, (sizes, batch) in workloads.items():
        # 100 steps, but never much more than ~10 s of a workload's steps (wide:
        # ~1 s per step with slow BLAS kernels); the C driver also counts
        # allocations during all of its timed steps
        per_step = common.flops_per_step(sizes, batch) / 5e9
        steps = max(5, min(args.alloc_steps, int(10 / max(per_step, 1e-9))))
        cmd += ["--workload", f"{name}:{','.join(map(str, sizes))}:{batch}:{steps}"]
    t = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=1200)
    except subprocess.TimeoutExpired:
        results["alloc_check"] = {"command": " ".join([rel(cmd[0])] + cmd[1:]), "exit": None, "ok": False,
                                  "error": True, "stdout": "timeout", "stderr": ""}
        log("  alloc_check: TIMEOUT")
        return
    res = {"command": " ".join([rel(cmd[0])] + cmd[1:]), "exit": p.returncode,
           "stdout": p.stdout.strip(), "stderr": p.stderr.strip()[:6000].replace(ROOT + os.sep, ""),
           "seconds": time.time() - t}
    res["ok"] = p.returncode == 0
    res["error"] = p.returncode not in (0, 1)
    results["alloc_check"] = res
    for line in p.stdout.strip().splitlines():
        log("  " + line)
    if p.returncode == 1:
        # the first call stack, to say who allocates
        stack = [l for l in p.stderr.splitlines() if "(" in l][:8]
        for l in stack:
            log("    " + l)


# ---------------------------------------------------------------------------
# Targets, tables, chart
# ---------------------------------------------------------------------------

def find(results, wl, dt, peer):
    for r in results["runs"]:
        if r["workload"] == wl and r["dtype"] == dt and r["peer"] == peer and "steps_per_s" in r:
            return r
    return None


def paired(a, b):
    """a's steps/s ÷ b's, both runs of one case: the median of the rounds'
    ratios when both ran in the same rounds (run_rounds), else the ratio of
    the medians."""
    ra, rb = a.get("round_medians"), b.get("round_medians")
    if ra and rb and len(ra) == len(rb):
        return float(np.median([x / y for x, y in zip(ra, rb)]))
    return a["steps_per_s"]["median"] / b["steps_per_s"]["median"]


def wide_fraction(results, run, dt, key="peak"):
    """The wide C step's GFLOP/s ÷ the GEMM peak (key "peak") or ÷ the
    products alone ("bound"), round by round when the rounds measured them;
    None otherwise."""
    wr = results.get("wide_rounds", {}).get(dt, {}).get(key) or []
    rm = run.get("round_medians") if run else None
    if run and rm and len(wr) == len(rm) and all(wr):
        return float(np.median([m * run["flops_per_step"] / 1e9 / w for m, w in zip(rm, wr)]))
    return None


def best_python(results, wl, dt):
    cands = [find(results, wl, dt, p) for p in ("swiftmlp-py", "swiftmlp-py-3call")]
    cands = [c for c in cands if c]
    return max(cands, key=lambda r: r["samples_per_s"]) if cands else None


def gemm_peak(results, dtype):
    """The GEMM peak: the MEDIAN repeat of the NumPy matmul, the statistic the
    step rates compared with it are (medians of their repeats). The best
    repeat is not a cleaner limit on this kind of machine: repeats run faster
    as well as slower than the sustained rate (a 2-core VM: bursts of +35%
    over the median were seen), so best-versus-median would compare a burst
    with sustained speed. The table shows the best repeat too."""
    g = results["gemm"].get(dtype, {})
    return g["gflops"]["median"] if "gflops" in g else None


def fit_bound(results, dtype):
    """(seconds the fit's matrix products alone take, the largest NumPy-loop ÷
    fit ratio they leave) on the digits, each the median over the fit's
    rounds (run_fit: the products are timed in every round, the ratio is that
    round's NumPy loop over that round's products), or (None, None)."""
    rounds = results["fit"].get(dtype, {}).get("products_rounds") or []
    if not rounds:
        return None, None
    return (float(np.median([r["seconds"] for r in rounds])), float(np.median([r["most"] for r in rounds])))


PRODUCTS_AGREE = {"float32": 1e-4, "float64": 1e-12}  # NumPy vs torch, same products, same inputs


def wide_round_ratios(results, dt):
    """Per round of the wide workload, GFLOP/s of the GEMM peak, the step's
    products alone (through NumPy's BLAS, torch's, swiftmlp's) and the
    swiftmlp C step; and the medians of the round-by-round ratios that say
    where the step's distance to the peak comes from. {} without rounds."""
    wr = results.get("wide_rounds", {}).get(dt)
    c = find(results, "wide", dt, "swiftmlp-c")
    if not wr or not c or not c.get("round_medians"):
        return {}
    step = [m * c["flops_per_step"] / 1e9 for m in c["round_medians"]]
    rows = list(zip(wr["peak"], wr.get("numpy_products", []), wr.get("torch_products", []), wr["bound"], step))

    def med(i, j):
        r = [row[i] / row[j] for row in rows if row[i] and row[j]]
        return float(np.median(r)) if r else None

    return {"rows": rows, "ratios": {
        "numpy products ÷ peak": med(1, 0), "torch products ÷ peak": med(2, 0),
        "swiftmlp products ÷ NumPy products": med(3, 1), "swiftmlp products ÷ torch products": med(3, 2),
        "step ÷ swiftmlp products": med(4, 3), "step ÷ peak": med(4, 0)},
        "rel_diff": max(wr.get("products_rel_diff") or [0.0])}


def wide_rounds_section(results):
    L = []
    for dt in common.DTYPES:
        w = wide_round_ratios(results, dt)
        if not w:
            continue
        if not L:
            n = next((g["n"] for g in results["gemm"].values() if "n" in g), "n")
            L += ["", "## Wide: the step against its own matrix products, round by round", "",
                  "Each round measures, in this order and one process each: the GEMM peak (NumPy's "
                  f"{n}² matmul), then in the same process the wide step's matrix products alone (the "
                  "shapes of bench/gemm_bound.c, 3 per layer, 2 for the first) through NumPy's BLAS and "
                  "through torch's; "
                  "then the products alone through swiftmlp's BLAS layer (gemm_bound); the swiftmlp C step's "
                  "rate is that round's median. Ratios are medians of the round-by-round ratios.", ""]
        L += [f"{dt}:", "", "| round | GEMM peak | NumPy products | torch products | swiftmlp products | "
              "swiftmlp C step |", "|---:|---:|---:|---:|---:|---:|"]
        for i, row in enumerate(w["rows"]):
            L.append(f"| {i + 1} | " + " | ".join("–" if v is None else f"{v:.1f}" for v in row) + " |")
        L += ["", "| ratio (median of rounds) | value |", "|---|---:|"]
        L += [f"| {k} | {'–' if v is None else f'{v:.0%}'} |" for k, v in w["ratios"].items()]
        ok = w["rel_diff"] <= PRODUCTS_AGREE[dt]
        L += ["", f"NumPy's and torch's products agree: largest relative difference {w['rel_diff']:.1e} "
                  f"({'ok' if ok else '**FAIL**'}, ≤ {PRODUCTS_AGREE[dt]:.0e}).", ""]
    return L


def blas_compare_section(results):
    """The same-process comparison of the two BLAS libraries on the wide
    step's products (run_blas_compare)."""
    per = results.get("blas_compare") or {}
    if not per:
        return []
    L = ["", "## Wide: swiftmlp's BLAS and NumPy's on the step's products, in one process", "",
         "`gemm_bound compare`: the wide step's matrix products (3 per layer, 2 for the first) through swiftmlp's BLAS "
         "layer and through NumPy's OpenBLAS loaded with dlopen (its own threads), alternating in one process, "
         "the order reversed every other round; both must give the same outputs. Separate processes a minute "
         "apart differ by up to 1.5× on this VM; this compares the two libraries in the same phase of the "
         "machine.", "",
         "| dtype | rounds | swiftmlp's BLAS GFLOP/s | NumPy's GFLOP/s | swiftmlp ÷ NumPy (median of rounds) "
         "| [q1 .. q3] | NumPy's entry point, core | outputs |", "|---|---:|---:|---:|---:|---:|---|---|"]
    for dt, c in per.items():
        if "error" in c:
            L.append(f"| {dt} | ERROR {c['error']} | | | | | | |")
            continue
        L.append(f"| {dt} | {len(c['ratios'])} | {c['swiftmlp_median']:.1f} | {c['other_median']:.1f} | "
                 f"{c['median']:.0%} | [{c['q1']:.0%} .. {c['q3']:.0%}] | `{c['other_symbol']}`, "
                 f"{c['other_core']} | {'agree' if c['agree'] else '**DIFFER**'} ({c['rel_diff']:.1e}) |")
    return L


def add_ratios(results):
    for r in results["runs"]:
        if "samples_per_s" not in r:
            continue
        ref = find(results, r["workload"], r["dtype"], "numpy-slides")
        r["ratio_numpy"] = paired(r, ref) if ref else None
        peak = gemm_peak(results, r["dtype"])
        if peak:
            r["gemm_fraction"] = r["gflops"] / peak


def targets(results, smoke):
    T = []

    def add(name, value, need, unit, detail="", runs=()):
        met = None if value is None else value >= need
        disturbed = any(r and r.get("disturbed") for r in runs)
        if disturbed:
            detail = (detail + "; " if detail else "") + "⚠ disturbed by other load"
        T.append({"target": name, "value": value, "need": need, "unit": unit, "detail": detail,
                  "met": None if smoke else met, "disturbed": disturbed})

    for wl in ("tiny", "small"):
        for dt in common.DTYPES:
            c, f = find(results, wl, dt, "swiftmlp-c"), find(results, wl, dt, "fann")
            add(f"{common.LABELS[wl]} {common.SHORT_DTYPE[dt]}: swiftmlp C samples/s ÷ FANN samples/s",
                paired(c, f) if c and f else None, 2.0, "×",
                f"{fmt_rate(c['samples_per_s']) if c else '–'} vs {fmt_rate(f['samples_per_s']) if f else '–'}",
                runs=(c, f))
    for wl, need in (("tiny", 5.0), ("small", 3.0)):
        for dt in common.DTYPES:
            p, n = best_python(results, wl, dt), find(results, wl, dt, "numpy-slides")
            add(f"{common.LABELS[wl]} {common.SHORT_DTYPE[dt]}: swiftmlp Python ÷ numpy-slides (steps/s)",
                paired(p, n) if p and n else None, need, "×",
                f"best of train_step/3-call: {p['peer'] if p else '–'}", runs=(p, n))
    for dt, need_np, need_t in (("float32", 1.5, 1.5), ("float64", 2.5, 1.2)):
        p = best_python(results, "mnist", dt)
        n, t = find(results, "mnist", dt, "numpy-slides"), find(results, "mnist", dt, "torch")
        add(f"mnist-ish {common.SHORT_DTYPE[dt]}: swiftmlp Python ÷ numpy-slides",
            paired(p, n) if p and n else None, need_np, "×", runs=(p, n))
        add(f"mnist-ish {common.SHORT_DTYPE[dt]}: swiftmlp Python ÷ torch",
            paired(p, t) if p and t else None, need_t, "×", runs=(p, t))
    for dt in common.DTYPES:
        c, p = find(results, "wide", dt, "swiftmlp-c"), best_python(results, "wide", dt)
        g = gemm_peak(results, dt)
        frac = wide_fraction(results, c, dt) if c else None
        alone = wide_fraction(results, c, dt, "bound") if c else None
        if frac is None and c and g:
            frac = c["gflops"] / g
        add(f"wide {common.SHORT_DTYPE[dt]}: swiftmlp C GFLOP/s ÷ GEMM peak (round by round, median)",
            frac, 0.85, "",
            (f"{c['gflops']:.1f} GFLOP/s, GEMM peak {g:.1f} (medians); from Python {p['gflops'] / g:.0%}"
             + (f"; the step ÷ its products alone {alone:.0%}" if alone else "")
             + (f"; NumPy's own BLAS on the step's products {npr:.0%} of the peak"
                if (npr := wide_round_ratios(results, dt).get("ratios", {}).get("numpy products ÷ peak"))
                else "")
             + (f"; swiftmlp's BLAS ÷ NumPy's on those products, same process: {bc['median']:.0%}"
                if "median" in (bc := results["blas_compare"].get(dt, {})) else "")) if c and g and p else "",
            runs=(c, results["gemm"].get(dt)))
    # allocations
    ac = results.get("alloc_check") or {}
    per_step = [r.get("allocs_per_step") for r in results["runs"] if r["peer"] == "swiftmlp-c"
                and r.get("allocs_per_step") is not None]
    worst = max(per_step) if per_step else None
    if not ac:
        verdict, met = "alloc_check not run", None
    else:
        verdict = "alloc_check " + ("ERROR" if ac.get("error") else "passed" if ac.get("ok") else "FAILED")
        met = bool(ac.get("ok")) and (worst is None or worst == 0)
    T.append({"target": "zero heap allocations per step after the first (alloc_check: train_step and "
                        "forward+backward+optimizer_step; C driver's timed loop)",
              "value": worst, "need": 0, "unit": "allocs/step",
              "detail": verdict + (f"; worst timed loop {worst:.2f} allocs/step" if worst is not None else ""),
              "met": None if smoke else met})
    # memory
    for r in results["runs"]:
        if r["peer"] == "swiftmlp-c" and "memory" in r:
            m = r["memory"]
            limit = 1.10 * m["theory_bytes"] + 16 * 2 ** 20
            hwm = m["vmhwm_kib"] * 1024
            T.append({"target": f"peak memory {r['label']} {common.SHORT_DTYPE[r['dtype']]} (VmHWM ≤ 1.1 × theory + 16 MiB)",
                      "value": hwm / 2 ** 20, "need": limit / 2 ** 20, "unit": "MiB",
                      "detail": f"theory {m['theory_bytes'] / 2 ** 20:.1f} MiB; process RSS before the network "
                                f"{m['rss_before_net_kib'] / 1024:.1f} MiB",
                      "met": None if smoke else hwm <= limit, "lower_is_better": True})
    for dt in common.DTYPES:
        f = results["fit"].get(dt, {})
        secs, most = fit_bound(results, dt)
        rr = f.get("round_ratios") or []
        add(f"fit() digits {common.SHORT_DTYPE[dt]}: NumPy loop time ÷ swiftmlp fit time (median of the rounds)",
            f.get("ratio"), 5.0, "×",
            "; ".join(x for x in (
                ("rounds " + ", ".join(f"{r:.2f}" for r in rr)) if rr else "",
                f"the fit's matrix products alone, timed in the same rounds, take {secs:.3f} s: at most "
                f"{most:.2f}× (medians of the rounds)" if most else "") if x),
            runs=(f.get("fit-numpy"), f.get("fit-swiftmlp")))
    return T


def target_value(t):
    v = t["value"]
    if v is None:
        return "–"
    if t["unit"] == "×":
        return f"{v:.2f}×"
    if t["unit"] == "MiB":
        return f"{v:.1f} MiB"
    if t["unit"] == "allocs/step":
        return f"{v:g}"
    return f"{v:.0%}"


def target_need(t):
    if t["unit"] == "×":
        return f"≥ {t['need']:g}×"
    if t["unit"] == "MiB":
        return f"≤ {t['need']:.1f} MiB"
    if t["unit"] == "allocs/step":
        return "0"
    return f"≥ {t['need']:.0%}"


PEER_NOTES = {
    "numpy-slides": "the slides' NumPy code (reference)",
    "torch": "nn.Sequential Linear+Sigmoid, MSELoss, optim.SGD",
    "swiftmlp-py": "MLP.train_step(x, y), SGD optimizer",
    "swiftmlp-py-3call": "forward(x); backward(y); step()",
    "swiftmlp-py-ctypes": "swiftmlp_train_step via raw ctypes (no wrapper)",
    "swiftmlp-c": "swiftmlp_train_step loop in C",
    "fann": "fann_train per sample (online), 1 step = B samples",
    "swiftmlp-c@CORE": "diagnostic only: swiftmlp-c with OPENBLAS_CORETYPE=CORE forced (--diagnose-coretype)",
}


def markdown(results, info, smoke):
    L = ["# swiftmlp benchmark", ""]
    if smoke:
        L += ["**SMOKE RUN** (shrunk workloads, 1 short repeat): the numbers below say nothing about speed; "
              "only the correctness checks count.", ""]
    L += describe_environment(info)
    a = results["args"]
    L += [f"- timing: each peer in its own process, warm-up, then {a['repeats']} repeats of ~{a['seconds']} s; "
          f"median, with [min .. max] over the repeats",
          "- FLOPs per step: 2·B·in·out per matrix product, 3 products per layer (2 for the first)",
          f"- ⚠ = other processes used more than {OtherLoad.DISTURBED} CPU cores on average while that peer ran "
          f"(/proc/stat busy time minus the benchmark's own): with 2 cores and 2-thread BLAS, such numbers are "
          f"not meaningful; "
          + (f"**{sum(1 for r in results['runs'] if r.get('disturbed'))} of "
             f"{sum(1 for r in results['runs'] if 'steps_per_s' in r)} measurements were disturbed**"
             if any(r.get("disturbed") for r in results["runs"]) else "no measurement was disturbed"),
          f"- check: parameters after {2} steps from the same initial parameters vs the slides' NumPy code "
          f"(relative max-norm: params ≤ 1e-4 f32 / 1e-10 f64, and the update p − p0 ≤ 1e-2 / 1e-7); FANN vs a "
          f"per-sample NumPy transcription of fann_train", ""]
    L += ["## Throughput", "",
          "| workload | dtype | peer | steps/s (median) | [min .. max] | samples/s | GFLOP/s | × numpy-slides | "
          "% GEMM peak | check | allocs/step |",
          "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in results["runs"]:
        if "skipped" in r:
            L.append(f"| {common.LABELS[r['workload']]} | {r['dtype']} | {r['peer']} | skipped: {r['skipped']} |"
                     " | | | | | | |")
            continue
        if "error" in r:
            L.append(f"| {r['label']} | {r['dtype']} | {r['peer']} | ERROR | | | | | | FAIL | |")
            continue
        st = r["steps_per_s"]
        c = r["check"]
        cs = (f"{'ok' if c['ok'] else '**FAIL**'} {c.get('param_rel_err', float('nan')):.0e}")
        if c.get("note") == "reference":
            cs = "ref.; " + cs
        gf = r.get("gemm_fraction")
        warn = " ⚠" if r.get("disturbed") else ""
        L.append(f"| {r['label']} | {common.SHORT_DTYPE[r['dtype']]} | {r['peer']} | {fmt_rate(st['median'])}{warn} | "
                 f"[{fmt_rate(st['min'])} .. {fmt_rate(st['max'])}] | {fmt_rate(r['samples_per_s'])} | "
                 f"{r['gflops']:.3g} | {fmt_ratio(r.get('ratio_numpy'))} | "
                 f"{(f'{gf:.0%}' if gf is not None and r['workload'] == 'wide' else '')} | {cs} | "
                 f"{fmt_allocs(r.get('allocs_per_step'))} |")
    L += ["", "Peers: " + "; ".join(f"**{k}**: {v}" for k, v in PEER_NOTES.items()) + ".", ""]
    L += ["## GEMM peak (same run, measured just before the wide workload)", "",
          "The peak used for the wide target is the median repeat, the statistic of the step rates it is "
          "compared with; repeats here also run faster than the sustained rate (bursts), so the best repeat "
          "would compare a burst with sustained speed.", "",
          "| dtype | n | NumPy GFLOP/s (median) | [min .. max] | torch.mm GFLOP/s |",
          "|---|---:|---:|---:|---:|"]
    for dt, g in results["gemm"].items():
        if "error" in g:
            L.append(f"| {dt} | | ERROR | | |")
        else:
            tg = g.get("torch_gflops")
            L.append(f"| {dt} | {g['n']} | {g['gflops']['median']:.1f} | [{g['gflops']['min']:.1f} .. "
                     f"{g['gflops']['max']:.1f}] | {f'{tg:.1f}' if tg else '–'} |")
    L += ["", "## fit() on the digits vs a NumPy minibatch loop", "",
          "[64,128,10] sigmoid/MSE, plain SGD lr 2, batch 32, no shuffling (so both must end with the same "
          "parameters), 1797 samples.", "",
          "| dtype | epochs | swiftmlp fit (s) | NumPy loop (s) | NumPy ÷ swiftmlp | accuracy swiftmlp / NumPy | "
          "params check |", "|---|---:|---:|---:|---:|---|---|"]
    for dt, f in results["fit"].items():
        if "ratio" not in f:
            L.append(f"| {dt} | {f['epochs']} | ERROR | | | | FAIL |")
            continue
        c = f["check"]
        L.append(f"| {dt} | {f['epochs']} | {f['fit-swiftmlp']['seconds']['median']:.3f} | "
                 f"{f['fit-numpy']['seconds']['median']:.3f} | {f['ratio']:.2f}× | "
                 f"{f['fit-swiftmlp']['accuracy']:.3f} / {f['fit-numpy']['accuracy']:.3f} | "
                 f"{'ok' if c['ok'] else '**FAIL**'} {c['param_rel_err']:.0e} |")
    if results.get("bound"):
        L += ["", "## The step's matrix products alone", "",
              "`bench/gemm_bound.c`: the matrix products of one training step (f = g_prev W^T, dW = df^T g_prev, "
              "dg_prev = df W per layer) and nothing else, through swiftmlp's own BLAS layer compiled in "
              "(the same OpenBLAS archive, core, threads and splitting): what a whole step can reach with this "
              "BLAS. For wide, against the GEMM peak; for the digits (timed in every fit round, between the fit "
              "processes), the time the fit's products alone take and the largest NumPy-loop ÷ fit ratio that "
              "leaves, each the median over the rounds of that round's value.", "",
              "| network | dtype | GFLOP/s (median) | [min .. max] | µs/step | threads | bound |",
              "|---|---|---:|---:|---:|---:|---|"]
        for name, per in results["bound"].items():
            for dt, b in per.items():
                if "error" in b:
                    L.append(f"| {name} | {dt} | ERROR | | | | |")
                    continue
                if name == "wide":
                    g = gemm_peak(results, dt)
                    note = f"{b['gflops']['median'] / g:.0%} of the GEMM peak" if g else ""
                else:
                    secs, most = fit_bound(results, dt)
                    note = f"fit products {secs:.3f} s: at most {most:.2f}× the NumPy loop" if most else ""
                warn = " ⚠" if b.get("disturbed") else ""
                L.append(f"| {name} {b['sizes']} B={b['batch']} | {dt} | {b['gflops']['median']:.1f}{warn} | "
                         f"[{b['gflops']['min']:.1f} .. {b['gflops']['max']:.1f}] | "
                         f"{b['us_per_step']['median']:.1f} | {b['threads']} | {note} |")
    L += wide_rounds_section(results)
    L += blas_compare_section(results)
    ac = results.get("alloc_check", {})
    L += ["", "## Allocation check", "", f"`{ac.get('command', '')}` → exit {ac.get('exit')}", "", "```"]
    L += ac.get("stdout", "").splitlines()
    L += ["```"]
    if ac.get("exit") == 1:
        stack = [l for l in ac.get("stderr", "").splitlines()][:15]
        L += ["", "First allocation's call stack:", "", "```"] + stack + ["```"]
    L += ["", "## Targets", ""]
    if smoke:
        L += ["Not judged in a smoke run.", ""]
    L += ["| target | measured | needed | met |", "|---|---:|---:|---|"]
    for t in results["targets"]:
        met = "–" if t["met"] is None else ("yes" if t["met"] else "**NO**")
        det = f" ({t['detail']})" if t.get("detail") else ""
        L.append(f"| {t['target']}{det} | {target_value(t)} | {target_need(t)} | {met} |")
    fails = results["correctness_failures"]
    L += ["", "## Correctness", "", "All correctness checks passed." if not fails else
          "**FAILED:** " + "; ".join(fails)]
    if any(r["peer"] == "fann" and "check" in r and "forward_err_steepness_1.0" in r["check"] for r in results["runs"]):
        r = next(r for r in results["runs"] if r["peer"] == "fann" and "forward_err_steepness_1.0" in r.get("check", {}))
        L += ["", f"FANN_SIGMOID computes 1/(1+exp(-2·s·x)): with steepness s = 0.5 (the default, used here) its "
                  f"outputs differ from the logistic sigmoid by {r['check']['forward_err_steepness_0.5']:.1e}; "
                  f"with s = 1.0 by {r['check']['forward_err_steepness_1.0']:.2f} ({r['label']} {r['dtype']})."]
    return "\n".join(L) + "\n"


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = ["torch", "swiftmlp-py", "swiftmlp-py-3call", "swiftmlp-py-ctypes", "swiftmlp-c", "fann"]
    order += sorted({r["peer"] for r in results["runs"] if r["peer"].startswith("swiftmlp-c@")})
    peers = [p for p in order if any(r["peer"] == p and "ratio_numpy" in r for r in results["runs"])]
    groups = []
    for wl in ("tiny", "small", "mnist", "wide"):
        for dt in common.DTYPES:
            if any(r["workload"] == wl and r["dtype"] == dt and "ratio_numpy" in r for r in results["runs"]):
                groups.append((wl, dt))
    colors = {"numpy-slides": "#999999", "torch": "#ee4c2c", "swiftmlp-py": "#1f77b4", "swiftmlp-py-3call": "#9ecae1",
              "swiftmlp-py-ctypes": "#6baed6", "swiftmlp-c": "#08306b", "fann": "#2ca02c"}
    for p in peers:
        if "@" in p:
            colors[p] = "#9467bd"
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(15, 6), gridspec_kw={"width_ratios": [4, 1.3]})
    width = 0.8 / max(1, len(peers))
    for i, p in enumerate(peers):
        xs, ys, marks = [], [], []
        for k, (wl, dt) in enumerate(groups):
            r = find(results, wl, dt, p)
            if r and r.get("ratio_numpy"):
                xs.append(k + (i - (len(peers) - 1) / 2) * width)
                ys.append(r["ratio_numpy"])
                ref = find(results, wl, dt, "numpy-slides")
                marks.append("*" if r.get("disturbed") or (ref and ref.get("disturbed")) else "")
        ax.bar(xs, ys, width=width, label=p + (" (diagnostic)" if "@" in p else ""), color=colors.get(p),
               hatch="//" if "@" in p else None, edgecolor="white" if "@" in p else None)
        for xb, yb, mk in zip(xs, ys, marks):
            ax.text(xb, yb * 1.05, (f"{yb:.0f}" if yb >= 10 else f"{yb:.2g}") + mk, ha="center", va="bottom",
                    fontsize=6.5, rotation=90)
    ax.axhline(1.0, color="black", lw=1)
    ax.set_yscale("log")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{common.LABELS[w]}\n{common.SHORT_DTYPE[d]}" for w, d in groups])
    ax.set_ylabel("samples/s ÷ numpy-slides (log scale; 1 = the slides' NumPy code)")
    ax.set_title("Throughput relative to the slides' NumPy code (median of repeats)"
                 + ("\n* = disturbed by other load on the machine" if any(r.get("disturbed") for r in results["runs"])
                    else ""), fontsize=11)
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    ax.grid(axis="y", which="both", alpha=0.3)
    ymax = max([r.get("ratio_numpy") or 1 for r in results["runs"]] + [1])
    ymin = min([r.get("ratio_numpy") or 1 for r in results["runs"] if r.get("ratio_numpy")] + [1])
    ax.set_ylim(ymin / 2, ymax * 4)
    # wide: fraction of the GEMM peak
    wpeers = ["numpy-slides", "torch", "swiftmlp-py", "swiftmlp-c"] + [p for p in peers if "@" in p]
    labels, vals, cols, dmarks = [], [], [], []
    for dt in common.DTYPES:
        for p in wpeers:
            r = find(results, "wide", dt, p)
            if r and r.get("gemm_fraction") is not None:
                dmarks.append(bool(r.get("disturbed") or results["gemm"].get(dt, {}).get("disturbed")))
                labels.append(f"{p}\n{common.SHORT_DTYPE[dt]}")
                vals.append(r["gemm_fraction"] * 100)
                cols.append(colors.get(p, "#cccccc"))
    ax2.barh(range(len(vals)), vals, color=cols,
             hatch=["//" if "@" in l else None for l in labels] if vals else None)
    for k, v in enumerate(vals):
        ax2.text(v + 1, k, f"{v:.0f}%" + ("*" if dmarks[k] else ""), va="center", fontsize=8)
    ax2.axvline(85, color="black", ls="--", lw=1)
    if vals:
        ax2.text(85, len(vals) - 0.4, " 85% target", fontsize=8)
    else:
        ax2.text(50, 0.5, "no wide / GEMM data", ha="center", fontsize=9, transform=ax2.transData)
        ax2.set_ylim(0, 1)
    ax2.set_yticks(range(len(vals)))
    ax2.set_yticklabels(labels, fontsize=8)
    ax2.invert_yaxis()
    ax2.set_xlim(0, max([110] + [v * 1.2 for v in vals]))
    ax2.set_xlabel("% of NumPy GEMM peak (median repeat)")
    ax2.set_title("wide: GFLOP/s ÷ GEMM peak")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="quick CI mode: shrunk workloads, 1 short repeat")
    ap.add_argument("--seconds", type=float, default=None, help="target duration of one repeat (default 1.0)")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement (default 5)")
    ap.add_argument("--workloads", default="tiny,small,mnist,wide")
    ap.add_argument("--peers", default=",".join(BATCH_PEERS))
    ap.add_argument("--skip", default="", help="comma list of: gemm, fit, alloc, bound (the products-alone rows)")
    ap.add_argument("--diagnose-coretype", default="", metavar="CORE",
                    help="also run the C driver on mnist-ish and wide with OPENBLAS_CORETYPE=CORE "
                         "(e.g. SkylakeX): a labelled diagnostic row, not a peer")
    ap.add_argument("--strict-alloc", action="store_true",
                    help="count allocations after the first step as a correctness failure (exit 1)")
    args = ap.parse_args()
    smoke = args.smoke
    args.seconds = args.seconds if args.seconds is not None else (0.02 if smoke else 1.0)
    args.repeats = args.repeats if args.repeats is not None else (1 if smoke else 5)
    args.gemm_n = 512 if smoke else 4096
    args.fit_epochs = 2 if smoke else 30
    args.fit_repeats = 1 if smoke else 5
    args.fit_rounds = 1 if smoke else 5
    args.alloc_steps = 100
    all_wl = common.SMOKE_WORKLOADS if smoke else common.WORKLOADS
    wl_names = [w for w in args.workloads.split(",") if w]
    workloads = {w: all_wl[w] for w in wl_names}
    peers = [p for p in args.peers.split(",") if p]
    if args.diagnose_coretype:
        peers.append("swiftmlp-c@" + args.diagnose_coretype)
    skip = set(s for s in args.skip.split(",") if s)
    args.skip_set = skip
    args.rounds = 1 if smoke else 3
    os.makedirs(WORK, exist_ok=True)

    t_start = time.time()
    info = environment(args)
    args.have_torch = bool(info.get("torch"))
    log("# swiftmlp benchmark" + (" (SMOKE: shrunk workloads; speed is not judged)" if smoke else ""))
    for line in describe_environment(info):
        log(line)
    results = {"args": {k: v for k, v in vars(args).items()}, "smoke": smoke, "environment": info,
               "runs": [], "gemm": {}, "fit": {}, "alloc_check": {}, "bound": {}, "blas_compare": {}}

    cases = []
    for name, (sizes, batch) in workloads.items():
        for dtype in common.DTYPES:
            spec, p0, x, y = prepare(name, sizes, batch, dtype, args)
            cases.append({"spec": spec, "p0": p0, "x": x, "y": y})
    # the GEMM peak right before the wide workload (or at the end without it)
    before = [c for c in cases if c["spec"]["workload"] != "wide"]
    after = [c for c in cases if c["spec"]["workload"] == "wide"]
    run_cases(before, peers, args, results)
    if "gemm" not in skip:
        log("\n== GEMM peak")
        run_gemm(args, results, workloads.get("wide"))
        if "wide" in workloads and "bound" not in skip:
            log("\n== the wide step's matrix products alone (swiftmlp's BLAS layer)")
            run_bound(args, results, "wide", *workloads["wide"])
            log("\n== the wide step's products: swiftmlp's BLAS and NumPy's, alternating in one process")
            run_blas_compare(args, results, *workloads["wide"])
    if after:
        run_cases(after, peers, args, results)
    # table order: workload, dtype, peer
    order = {(c["spec"]["workload"], c["spec"]["dtype"]): i for i, c in enumerate(cases)}
    results["runs"].sort(key=lambda r: (order.get((r["workload"], r["dtype"]), 99),
                                        peers.index(r["peer"]) if r["peer"] in peers else 99))
    if "fit" not in skip:
        log("\n== fit() on the digits" + ("" if "bound" in skip else ", each round with its matrix products alone"))
        run_fit(args, results, "bound" not in skip)
    if "alloc" not in skip:
        log("\n== allocation check")
        run_alloc_check(args, workloads, results)

    add_ratios(results)
    results["targets"] = targets(results, smoke)
    fails = []
    for r in results["runs"]:
        if "skipped" in r:
            continue
        if "error" in r:
            fails.append(f"{r['workload']} {r['dtype']} {r['peer']}: peer failed")
        elif not r["check"]["ok"]:
            fails.append(f"{r['workload']} {r['dtype']} {r['peer']}: parameter check")
    for dt, g in results["gemm"].items():
        if "error" in g or not g.get("finite", True):
            fails.append(f"GEMM {dt} failed")
        if g.get("products_rel_diff", 0.0) > PRODUCTS_AGREE[dt]:
            fails.append(f"GEMM {dt}: NumPy's and torch's wide step products disagree")
    for dt, wr in results.get("wide_rounds", {}).items():
        if max(wr.get("products_rel_diff") or [0.0]) > PRODUCTS_AGREE[dt]:
            fails.append(f"wide {dt}: NumPy's and torch's step products disagree")
    for dt, c in results["blas_compare"].items():
        if "error" in c or not c.get("agree"):
            fails.append(f"wide {dt}: gemm_bound compare " + ("failed" if "error" in c else
                                                               "found swiftmlp's and NumPy's products different"))
    for dt, f in results["fit"].items():
        if not f.get("check", {}).get("ok"):
            fails.append(f"fit digits {dt}: parameter check")
    ac = results.get("alloc_check")
    if ac and (ac.get("error") or (args.strict_alloc and not ac.get("ok"))):
        fails.append("allocation check " + ("error" if ac.get("error") else "found allocations"))
    results["correctness_failures"] = fails
    try:
        results["environment"]["loadavg_end"] = os.getloadavg()
    except OSError:
        pass
    results["total_seconds"] = time.time() - t_start

    # a smoke run never overwrites the results of a full run
    out_dir = os.path.join(RESULTS, "smoke") if smoke else RESULTS
    os.makedirs(out_dir, exist_ok=True)
    md = markdown(results, info, smoke)
    with open(os.path.join(out_dir, "results.md"), "w") as fh:
        fh.write(md)
    with open(os.path.join(out_dir, "results.json"), "w") as fh:
        json.dump(results, fh, indent=1, default=str)
    try:
        chart(results, os.path.join(out_dir, "ratios.png"))
        png = rel(os.path.join(out_dir, "ratios.png"))
    except Exception as exc:
        png = f"(chart failed: {exc!r})"
    log("\n" + md)
    log(f"Wrote {rel(os.path.join(out_dir, 'results.md'))}, {rel(os.path.join(out_dir, 'results.json'))}, {png} "
        f"in {results['total_seconds']:.0f} s.")
    if fails:
        log("CORRECTNESS FAILURES: " + "; ".join(fails))
        return 1
    log("All correctness checks passed." + (" (smoke run: speed not judged)" if smoke else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
