"""--runs N: the whole benchmark N times in a row, each run a fresh
bench.py process writing into OUT/run-K/, then OUT/combined.md and
combined.json: per target the WORST value over the runs (the smallest ratio;
for memory the largest), met only when it is met in every run, and every
run's value beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from runner import HERE, log, rel
from targets import target_need, target_value


def run_many(argv, n, out_dir):
    """Runs bench.py N times with argv (without --runs); returns the exit
    status: 1 when any run failed a correctness check."""
    rcs, dirs = [], []
    for k in range(1, n + 1):
        d = os.path.join(out_dir, f"run-{k}")
        log(f"\n######## run {k} of {n} -> {rel(d)}")
        rcs.append(subprocess.run([sys.executable, os.path.join(HERE, "bench.py")] + argv
                                  + ["--runs", "1", "--out-dir", d]).returncode)
        dirs.append(d)
    md, combined = combine(dirs)
    with open(os.path.join(out_dir, "combined.md"), "w") as fh:
        fh.write(md)
    with open(os.path.join(out_dir, "combined.json"), "w") as fh:
        json.dump(combined, fh, indent=1)
    log("\n" + md)
    log(f"Wrote {rel(os.path.join(out_dir, 'combined.md'))} and combined.json; exit statuses {rcs}")
    return 1 if any(rc != 0 for rc in rcs) else 0


def combine(dirs):
    """(markdown, dict) of the worst of the runs in dirs, target by target."""
    runs = []
    for d in dirs:
        try:
            with open(os.path.join(d, "results.json")) as fh:
                runs.append(json.load(fh))
        except (OSError, json.JSONDecodeError):
            runs.append(None)
    order, per = [], {}
    for k, r in enumerate(runs):
        for t in (r or {}).get("targets", []):
            if t["target"] not in per:
                order.append(t["target"])
                per[t["target"]] = [None] * len(runs)
            per[t["target"]][k] = t
    rows = []
    for name in order:
        ts = per[name]
        vals = [t["value"] for t in ts if t and t["value"] is not None]
        like = next(t for t in ts if t)
        worst = None
        if vals:
            worst = max(vals) if like.get("lower_is_better") else min(vals)
        mets = [t["met"] if t else None for t in ts]
        rows.append({"target": name, "worst": worst, "need": like["need"], "unit": like["unit"],
                     "strict": like.get("strict", False), "values": [t["value"] if t else None for t in ts],
                     "met_in_all": all(m is True for m in mets) if any(m is not None for m in mets) else None})
    env = next((r["environment"] for r in runs if r), {})
    L = ["# swiftmlp benchmark: the worst of {} runs".format(len(runs)), "",
         f"- machine class: {env.get('machine_class', '?')}; CPU {env.get('cpu', '?')} (family "
         f"{env.get('family', '?')}, model {env.get('model', '?')}), {env.get('cpus', '?')} logical CPUs",
         "- runs: " + ", ".join(rel(d) for d in dirs)
         + "; failed runs: " + (", ".join(str(k + 1) for k, r in enumerate(runs) if r is None) or "none"), "",
         "| target | worst | needed | met in every run | " + " | ".join(f"run {k + 1}" for k in range(len(runs)))
         + " |", "|---|---:|---:|---|" + "---:|" * len(runs)]
    for row in rows:
        fmt = {"unit": row["unit"], "need": row["need"], "strict": row["strict"]}
        met = "–" if row["met_in_all"] is None else ("yes" if row["met_in_all"] else "**NO**")
        L.append(f"| {row['target']} | {target_value(dict(fmt, value=row['worst']))} | {target_need(fmt)} | {met} | "
                 + " | ".join(target_value(dict(fmt, value=v)) for v in row["values"]) + " |")
    return "\n".join(L) + "\n", {"runs": [rel(d) for d in dirs], "targets": rows}
