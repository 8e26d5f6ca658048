"""The measurements beside the training cases: the GEMM peak, the step's
matrix products alone (bench/gemm_bound.c), swiftmlp's BLAS against
NumPy's in one process, fit() on the digits, the allocation check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

import common
from runner import BIN, HERE, ROOT, WORK, OtherLoad, child_env, log, rel, round_order, run_json, stats


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


#: fit() on the digits runs ~1000s of steps: rounding differences grow a little
FIT_TOL = {"float32": 1e-3, "float64": 1e-8}
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
