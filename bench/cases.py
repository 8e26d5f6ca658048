"""The training cases: one (workload, dtype) per case, every peer in its
own process per round, the order reversed every other round; the two-step
parameter check of every peer against the slides' NumPy code."""

from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np

import common
from runner import (BIN, HERE, SPREAD_FLAG, WORK, OtherLoad, apply_fault, c_args, c_peer, log, py_peer,
                    round_order, run_json, run_json_lines, spread, stats)
from measure import measure_bound, measure_peak


BATCH_PEERS = ["numpy-slides", "torch", "jax", "swiftmlp-py", "swiftmlp-py-3call", "swiftmlp-py-ctypes",
               "swiftmlp-c", "fann"]
#: update (p - p0) tolerance, relative to the reference update: the check lr
#: makes the update about 2% of the largest parameter, so these match the
#: parameter tolerances (1e-4, 1e-10) with a margin
UPDATE_TOL = {"float32": 1e-2, "float64": 1e-7}
#: the inference peers (bench/predict_peers.py; predict-swiftmlp-c: the C driver)
PREDICT_PEERS = ["predict-swiftmlp-py", "predict-swiftmlp-c", "predict-onnxruntime", "predict-torch", "predict-jax"]
#: a predict peer's outputs against the NumPy forward pass in float64
#: (absolute: the outputs are sigmoids, in (0, 1))
PREDICT_TOL = {"float32": 1e-5, "float64": 1e-12}
#: what a peer needs installed (args.have, from machine.environment)
PY_PEERS = {"numpy-slides", "torch", "jax", "swiftmlp-py", "swiftmlp-py-3call", "swiftmlp-py-ctypes",
            *PREDICT_PEERS} - {"predict-swiftmlp-c"}
NEEDS = {"torch": "torch", "jax": "jax", "predict-torch": "torch", "predict-jax": "jax",
         "predict-onnxruntime": "onnxruntime"}


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
            "seconds": args.seconds, "repeats": args.repeats, "flops": common.flops_per_step(sizes, batch)}
    if name.startswith("predict"):
        # the reference of an inference peer: the forward pass in float64
        w, b = common.split_params(p0.astype(np.float64), sizes)
        common.slides_forward(w, b, x.astype(np.float64))[-1].tofile(os.path.join(workdir, "after-reference.bin"))
        spec["flops"] = common.forward_flops(sizes, batch)
        return spec, p0, x, y
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
    if peer.startswith("predict-"):
        err = float(np.abs(got.astype(np.float64) - np.fromfile(ref_path)).max())
        return {"ok": bool(np.isfinite(got).all() and err <= PREDICT_TOL[dt]), "output_abs_err": err,
                "param_rel_err": err, "update_rel_err": 0.0, "tol": PREDICT_TOL[dt],
                "against": "the NumPy forward pass in float64"}
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
    if peer in NEEDS and not args.have.get(NEEDS[peer]):
        return f"{NEEDS[peer]} not installed"
    if peer == "fann" and not os.path.exists(os.path.join(BIN, f"fann_driver_{common.SHORT_DTYPE[dtype]}")):
        return "FANN driver not built (libfann-dev missing)"
    return None


def execute(peer, s):
    """One peer on one workload, in its own process(es)."""
    if peer in PY_PEERS:
        return py_peer(peer, s)
    if peer == "predict-swiftmlp-c":
        return run_json([os.path.join(BIN, "swiftmlp_driver"), "predict"] + c_args(s) + [
            "--out", s["check_out"], "--seconds", repr(s["seconds"]), "--repeats", str(s["repeats"])])
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
    flops = spec["flops"]
    ref_path = os.path.join(spec["workdir"], "after-reference.bin")
    run = {"workload": name, "label": common.label(name), "sizes": sizes, "batch": batch, "dtype": dtype,
           "peer": peer, "flops_per_step": flops}
    if err:
        run["error"] = err
        run["check"] = {"ok": False, "note": "peer failed"}
        log(f"  {peer:20s} ERROR: {err}")
        results["runs"].append(run)
        return
    st = stats(out["rates"])
    run["round_medians"] = out.get("round_medians")
    run["spread"] = spread(run["round_medians"])
    run["spread_flag"] = bool(run["spread"] is not None and run["spread"] > SPREAD_FLAG)
    run.update({"steps_per_s": st, "samples_per_s": st["median"] * batch,
                "gflops": st["median"] * flops / 1e9, "steps_per_repeat": out["steps_per_repeat"],
                "finite": out.get("finite", True), "raw": {k: v for k, v in out.items() if k != "rates"},
                "rates": out["rates"]})
    apply_fault(peer, s["check_out"], dtype)
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
        + ("  DISTURBED" if run["disturbed"] else "")
        + (f"  SPREAD {run['spread']:.0%} across processes" if run["spread_flag"] else ""))
    results["runs"].append(run)


def header(case):
    spec = case["spec"]
    flops = spec["flops"]
    log(f"\n== {common.label(spec['workload'])} {spec['sizes']} B={spec['batch']} {spec['dtype']}: "
        f"{flops / 1e6:.4g} MFLOP/step, check lr {spec['check_lr']:g}")


def active_peers(case, peers, args, results):
    """The peers that run this case; the skipped ones are recorded (those
    that do not apply to the workload at all are left out silently)."""
    spec, active = case["spec"], []
    for peer in peers:
        why = skip_reason(peer, spec["workload"], spec["dtype"], args)
        if why and why != "n/a":
            results["runs"].append({"workload": spec["workload"], "dtype": spec["dtype"], "peer": peer,
                                    "skipped": why})
        if not why:
            active.append(peer)
    return active


def run_cases(cases, peers, args, results, batched=None):
    """Full runs: every (workload, dtype, peer) in its own process per round
    (run_rounds), workload by workload. Batched (--smoke, the sweeps): each
    Python peer runs all its cases in ONE process (saves the start-up time of
    torch and jax; such runs pair no rounds)."""
    if not (args.smoke if batched is None else batched):
        for case in cases:
            header(case)
            run_rounds(case, active_peers(case, peers, args, results), args, results)
        return
    for peer in peers:
        log(f"\n== {peer} (all workloads in one process)")
        todo = [(case, spec_for(peer, case["spec"])) for case in cases
                if peer in active_peers(case, [peer], args, results)]
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
            log(f"  {common.label(case['spec']['workload'])} {common.SHORT_DTYPE[case['spec']['dtype']]}:")
            record(peer, case, s, out, err, results, (time.time() - t0) / max(1, len(todo)))


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
