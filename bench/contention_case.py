"""The contention case: the swiftmlp C step (float32, mnist-ish and wide)
with the product split over the library's workers (its default thread
count) against the same step on one thread (SWIFTMLP_NUM_THREADS=1), on the
idle machine and with one competing busy process (a Python spin loop) pinned
to CPU 0, started before and stopped after the busy half of the case. Both
variants run in the same rounds, the order reversed every other round; the
ratio split ÷ 1-thread is the median of the rounds' ratios. Every process
also passes the two-step parameter check.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from cases import evaluate_check, spec_for
from runner import BIN, apply_fault, c_peer, log, round_order

WORKLOADS = ("mnist", "wide")
DTYPE = "float32"
VARIANTS = {"1-thread": {"SWIFTMLP_NUM_THREADS": "1"}, "split": {"SWIFTMLP_NUM_THREADS": None}}
#: the busy process: pins itself to CPU 0, then spins until terminated
SPINNER = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass\n"


def run_contention(cases, args, results):
    """results["contention"][workload] = {"idle": ..., "busy": ...}, each with
    the rounds' steps/s of both variants and the median of split ÷ 1-thread."""
    driver = os.path.join(BIN, "swiftmlp_driver")
    per_round = max(1, -(-args.repeats // args.rounds))
    for case in cases:
        spec = case["spec"]
        if spec["workload"] not in WORKLOADS or spec["dtype"] != DTYPE:
            continue
        res = results["contention"].setdefault(spec["workload"], {})
        for cond in ("idle", "busy"):
            spin = subprocess.Popen([sys.executable, "-c", SPINNER]) if cond == "busy" else None
            try:
                res[cond] = _rounds(driver, case, args.rounds, per_round)
            finally:
                if spin:
                    spin.terminate()
                    spin.wait()
            c = res[cond]
            log(f"  contention {spec['workload']} {cond}: split {c.get('split', '–')} steps/s, 1-thread "
                f"{c.get('1-thread', '–')} -> split ÷ 1-thread {c.get('ratio') or float('nan'):.2f} "
                f"(rounds: {', '.join(f'{r:.2f}' for r in c.get('round_ratios', []))})"
                + ("" if c["ok"] else f"  FAILED: {c.get('error', 'parameter check')}"))


def _rounds(driver, case, rounds, per_round):
    spec = case["spec"]
    medians = {v: [] for v in VARIANTS}
    res = {"ok": True, "checks": []}
    for rnd in range(rounds):
        for variant in round_order(list(VARIANTS), rnd):
            s = spec_for("swiftmlp-c", spec)
            s["repeats"] = per_round
            out, err = c_peer(driver, s, s["check_lr"], s["lr"], extra=VARIANTS[variant])
            if err:
                return {"ok": False, "error": f"{variant}: {err}"}
            apply_fault("contention", s["check_out"], spec["dtype"])
            chk = evaluate_check("swiftmlp-c", s, case["p0"], case["x"], case["y"],
                                 os.path.join(spec["workdir"], "after-reference.bin"))
            res["checks"].append({"variant": variant, "ok": chk["ok"], "param_rel_err": chk.get("param_rel_err")})
            res["ok"] = res["ok"] and chk["ok"]
            medians[variant].append(float(np.median(out["rates"])))
            res["other_load_cores"] = max(res.get("other_load_cores") or 0.0, out.get("other_load_cores") or 0.0)
    res["rounds"] = medians
    res["round_ratios"] = [a / b for a, b in zip(medians["split"], medians["1-thread"])]
    res["ratio"] = float(np.median(res["round_ratios"]))
    res.update({v: f"{float(np.median(m)):.4g}" for v, m in medians.items()})
    return res


def section(results):
    """The report's section on the contention case."""
    if not results.get("contention"):
        return []
    L = ["", "## Contention: the split step against one thread, idle and with a busy process on CPU 0", "",
         "swiftmlp C step, float32, the library's default thread count (split) against "
         "`SWIFTMLP_NUM_THREADS=1`; busy = one Python spin loop pinned to CPU 0 for the whole busy half. "
         "Ratio = median over the rounds of split ÷ 1-thread (steps/s). Other load: the most CPU cores other "
         "processes used during one of the case's processes (the spinner counts: ~1 when busy); \"idle\" "
         "means no spinner, on a shared machine not an idle one.", "",
         "| workload | machine | split steps/s | 1-thread steps/s | split ÷ 1-thread | rounds | other load | check |",
         "|---|---|---:|---:|---:|---|---:|---|"]
    cells = [(wl, cond, c) for wl, conds in results["contention"].items() for cond, c in conds.items()]
    for wl, cond, c in cells:
        L.append(f"| {wl} | {cond} | ERROR | | | | | FAIL |" if "ratio" not in c else
                 f"| {wl} | {cond} | {c['split']} | {c['1-thread']} | {c['ratio']:.2f}× | "
                 + ", ".join(f"{r:.2f}" for r in c["round_ratios"])
                 + f" | {c['other_load_cores']:.2f} | {'ok' if c['ok'] else '**FAIL**'} |")
    return L
