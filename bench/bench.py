"""The swiftmlp benchmark's orchestrator (run it through bench/run.sh).

For every workload and dtype it writes the initial parameters and the batch
once (bench/results/work/), then runs each peer IN ITS OWN PROCESS, one at a
time: first the two-step parameter check, then warm-up and timed repeats.
It compares every peer's parameters after two steps with the slides' NumPy
code (FANN: with a per-sample NumPy transcription of fann_train), measures
the GEMM peak, fit() on the digits against a NumPy minibatch loop, predict
latency against onnxruntime, torch and jax, the contention case, runs the
allocation check, optionally the sweeps, and writes results.md,
results.json and ratios.png (sweeps.md, sweeps.png).

The modules: runner (processes, environment, machine classes), machine
(what it ran on), cases (training and predict cases in rounds, checks),
measure (GEMM peak, products alone, fit, allocations), contention_case,
sweeps, targets, report, multirun (--runs N).

Exit status: 0 when every correctness check passed (speed targets are
reported, never judged by the exit status), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import contention_case  # noqa: E402
import multirun  # noqa: E402
import report  # noqa: E402
import sweeps  # noqa: E402
from cases import BATCH_PEERS, PREDICT_PEERS, prepare, run_cases  # noqa: E402
from machine import describe_environment, environment  # noqa: E402
from measure import run_alloc_check, run_blas_compare, run_bound, run_fit, run_gemm  # noqa: E402
from runner import MACHINE_CLASSES, RESULTS, WORK, log, rel, set_machine_class  # noqa: E402
from targets import PRODUCTS_AGREE, add_ratios, targets  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="quick CI mode: shrunk workloads, 1 short repeat")
    ap.add_argument("--seconds", type=float, default=None, help="target duration of one repeat (default 1.0)")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per measurement (default 5)")
    ap.add_argument("--workloads", default="tiny,small,mnist,wide")
    ap.add_argument("--peers", default=",".join(BATCH_PEERS))
    ap.add_argument("--skip", default="",
                    help="comma list of: gemm, fit, alloc, bound (the products-alone rows), predict, contention")
    ap.add_argument("--diagnose-coretype", default="", metavar="CORE",
                    help="also run the C driver on mnist-ish and wide with OPENBLAS_CORETYPE=CORE "
                         "(e.g. SkylakeX): a labelled diagnostic row, not a peer")
    ap.add_argument("--strict-alloc", action="store_true",
                    help="count allocations after the first step as a correctness failure (exit 1)")
    ap.add_argument("--machine-class", default="default", choices=sorted(MACHINE_CLASSES),
                    help="avx2: every process with SWIFTMLP_CPU=avx2 and OPENBLAS_CORETYPE=Haswell; "
                         "single-core: every process on CPU 0 (taskset -c 0). Results go to "
                         "bench/results/CLASS/")
    ap.add_argument("--sweeps", action="store_true",
                    help="also the width and batch sweeps (sweeps.md, sweeps.png; always on in --smoke, tiny)")
    ap.add_argument("--runs", type=int, default=1,
                    help="the whole benchmark N times in a row, then combined.md: per target the worst of the runs")
    ap.add_argument("--out-dir", default=None, help="where the results go (default bench/results[/CLASS][/smoke])")
    argv = sys.argv[1:]
    args = ap.parse_args()
    smoke = args.smoke
    out_dir = args.out_dir or os.path.join(
        RESULTS, *([] if args.machine_class == "default" else [args.machine_class]), *(["smoke"] if smoke else []))
    if args.runs > 1:
        return multirun.run_many(strip_runs(argv), args.runs, out_dir)
    set_machine_class(args.machine_class)
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
    args.sweep_seconds = args.seconds if smoke else 0.25
    args.sweep_repeats = 1 if smoke else 3
    os.makedirs(WORK, exist_ok=True)

    t_start = time.time()
    info = environment(args)
    args.have = info["packages"]
    log("# swiftmlp benchmark" + (" (SMOKE: shrunk workloads; speed is not judged)" if smoke else ""))
    for line in describe_environment(info):
        log(line)
    results = {"args": {k: v for k, v in vars(args).items()}, "smoke": smoke, "environment": info,
               "runs": [], "gemm": {}, "fit": {}, "alloc_check": {}, "bound": {}, "blas_compare": {},
               "contention": {}, "sweeps": {}}

    cases = []
    for name, (sizes, batch) in workloads.items():
        for dtype in common.DTYPES:
            spec, p0, x, y = prepare(name, sizes, batch, dtype, args)
            cases.append({"spec": spec, "p0": p0, "x": x, "y": y})
    # the GEMM peak right before the wide workload (or at the end without it;
    # --smoke: after all of them, so that each Python peer starts once)
    before = [c for c in cases if smoke or c["spec"]["workload"] != "wide"]
    after = [c for c in cases if not smoke and c["spec"]["workload"] == "wide"]
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
    if "predict" not in skip and "mnist" in all_wl:
        predict_cases = []
        for name, batch in (("predict-1", 1), ("predict-64", 64)):
            spec, p0, x, y = prepare(name, all_wl["mnist"][0], batch, "float32", args)
            predict_cases.append({"spec": spec, "p0": p0, "x": x, "y": y})
        run_cases(predict_cases, PREDICT_PEERS, args, results)
    if "contention" not in skip:
        log("\n== contention: the split step against one thread, idle and with a busy process on CPU 0")
        contention_case.run_contention(cases, args, results)
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
    if args.sweeps or smoke:
        sweeps.run_sweeps(args, results)

    add_ratios(results)
    results["targets"] = targets(results, smoke)
    results["correctness_failures"] = failures(results, args)
    try:
        results["environment"]["loadavg_end"] = os.getloadavg()
    except OSError:
        pass
    results["total_seconds"] = time.time() - t_start
    return write(results, info, out_dir)


def strip_runs(argv):
    """argv without --runs N / --runs=N (multirun adds its own)."""
    out, skip_next = [], False
    for a in argv:
        if skip_next:
            skip_next = False
        elif a == "--runs":
            skip_next = True
        elif not a.startswith("--runs="):
            out.append(a)
    return out


def failures(results, args):
    """Every failed correctness check of the run, as text."""
    fails = []
    runs = results["runs"] + [r for sw in results["sweeps"].values() for r in sw["runs"]]
    for r in runs:
        if "skipped" in r:
            continue
        if "error" in r:
            fails.append(f"{r['workload']} {r['dtype']} {r['peer']}: peer failed")
        elif not r["check"]["ok"]:
            fails.append(f"{r['workload']} {r['dtype']} {r['peer']}: " +
                         ("output check" if r["peer"].startswith("predict-") else "parameter check"))
    for wl, conds in results["contention"].items():
        for cond, c in conds.items():
            if not c.get("ok"):
                fails.append(f"contention {wl} {cond}: " + c.get("error", "parameter check")[:200])
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
    return fails


def write(results, info, out_dir):
    """results.md, results.json, ratios.png (and the sweeps' files) into
    out_dir (a smoke run's never overwrite a full run's); the exit status."""
    smoke = results["smoke"]
    fails = results["correctness_failures"]
    os.makedirs(out_dir, exist_ok=True)
    md = report.markdown(results, info, smoke)
    with open(os.path.join(out_dir, "results.md"), "w") as fh:
        fh.write(md)
    with open(os.path.join(out_dir, "results.json"), "w") as fh:
        json.dump(results, fh, indent=1, default=str)
    try:
        report.chart(results, os.path.join(out_dir, "ratios.png"))
        png = rel(os.path.join(out_dir, "ratios.png"))
    except Exception as exc:
        png = f"(chart failed: {exc!r})"
    if results["sweeps"]:
        with open(os.path.join(out_dir, "sweeps.md"), "w") as fh:
            fh.write(sweeps.markdown(results))
        try:
            sweeps.plot(results, os.path.join(out_dir, "sweeps.png"))
        except Exception as exc:
            png += f"; sweeps chart failed: {exc!r}"
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
