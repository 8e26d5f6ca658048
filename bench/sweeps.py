"""How cost grows (--sweeps): the training step of swiftmlp from Python,
numpy-slides, torch and jax, float32,

  width: hidden width 16 -> 4096 (three hidden layers, [784, w, w, w, 10]) at B = 64
  batch: B = 1 -> 4096 at the mnist-ish sizes [784, 256, 128, 10]

point by point, each peer in its own process per point (the peers' order
reversed at every other point, so that they run next to each other in time
and neither side of a ratio always runs first; --smoke: each peer's points
in one process), every point with the two-step parameter check; written to
sweeps.md (per point: steps/s, GFLOP/s, swiftmlp ÷ every peer) and
sweeps.png (log-log, one line per peer).
"""

from __future__ import annotations

import argparse

import common
from cases import prepare, run_cases
from runner import fmt_rate, log

PEERS = ["swiftmlp-py", "numpy-slides", "torch", "jax"]
SWIFTMLP = "swiftmlp-py"
DTYPE = "float32"


def points(kind, smoke):
    """[(name, sizes, batch)] of one sweep; --smoke: two small points."""
    if kind == "width":
        widths = [16, 32] if smoke else [2 ** k for k in range(4, 13)]
        return [(f"width-{w}", [784, w, w, w, 10], 8 if smoke else 64) for w in widths]
    sizes = common.SMOKE_WORKLOADS["mnist"][0] if smoke else common.WORKLOADS["mnist"][0]
    batches = [1, 8] if smoke else [2 ** k for k in range(0, 13)]
    return [(f"batch-{b}", sizes, b) for b in batches]


def run_sweeps(args, results):
    """Both sweeps into results["sweeps"][kind] = {"x": [...], "runs": [...]}
    (--smoke: each peer runs the points of both sweeps in one process)."""
    cases, one = {}, argparse.Namespace(**{**vars(args), "rounds": 1, "repeats": args.sweep_repeats})
    for kind in ("width", "batch"):
        pts = points(kind, args.smoke)
        log(f"\n== sweep: {kind} " + ", ".join(str(p[2] if kind == "batch" else p[1][1]) for p in pts))
        cases[kind] = []
        for name, sizes, batch in pts:
            spec, p0, x, y = prepare(name, sizes, batch, DTYPE, args)
            spec["seconds"], spec["repeats"] = args.sweep_seconds, args.sweep_repeats
            cases[kind].append({"spec": spec, "p0": p0, "x": x, "y": y})
        first = pts[0]
        what = (f"hidden width w ([{first[1][0]}, w, w, w, {first[1][-1]}], B = {first[2]})" if kind == "width"
                else f"batch B ({first[1]})")
        results["sweeps"][kind] = {"x": [p[2] if kind == "batch" else p[1][1] for p in pts], "what": what,
                                   "names": [p[0] for p in pts], "runs": []}
        for k, case in enumerate(cases[kind] if not args.smoke else ()):
            run_cases([case], PEERS if k % 2 == 0 else PEERS[::-1], one, results["sweeps"][kind])
    if args.smoke:
        sub = {"runs": []}
        run_cases(cases["width"] + cases["batch"], PEERS, args, sub)
        for r in sub["runs"]:
            results["sweeps"][r["workload"].split("-")[0]]["runs"].append(r)


def _rate(sweep, name, peer, key="median"):
    for r in sweep["runs"]:
        if r["workload"] == name and r["peer"] == peer and "steps_per_s" in r:
            return r["steps_per_s"][key], r["gflops"]
    return None, None


def ratios(sweep):
    """[(x, {peer: swiftmlp steps/s ÷ peer's})] per point."""
    out = []
    for x, name in zip(sweep["x"], sweep["names"]):
        s, _ = _rate(sweep, name, SWIFTMLP)
        r = {}
        for p in PEERS[1:]:
            v, _ = _rate(sweep, name, p)
            if s and v:
                r[p] = s / v
        out.append((x, r))
    return out


def worst(results):
    """(the smallest swiftmlp ÷ peer ratio over both sweeps, where a peer
    overtakes swiftmlp as text), or (None, "")."""
    least, ahead = None, []
    for kind, sweep in results.get("sweeps", {}).items():
        for x, r in ratios(sweep):
            for p, v in r.items():
                least = v if least is None else min(least, v)
                if v < 1.0:
                    ahead.append(f"{kind} {x}: {p} {1 / v:.2f}×")
    return least, "; ".join(ahead)


def markdown(results):
    """sweeps.md: per sweep and point, every peer's steps/s and GFLOP/s and
    swiftmlp ÷ that peer."""
    a = results["args"]
    L = ["# swiftmlp benchmark: sweeps", "",
         f"Training step ({DTYPE}, sigmoid/MSE/SGD), steps/s (median of the repeats) and GFLOP/s; "
         f"**{SWIFTMLP} ÷ peer** (steps/s) per point: < 1 marks where that peer is ahead. Each peer "
         "runs each point in its own process, next to the others (the order reversed at every other "
         f"point), {a['sweep_repeats']} repeat(s) of {a['sweep_seconds']} s.", ""]
    for kind, sweep in results.get("sweeps", {}).items():
        L += [f"## {kind} sweep: {sweep['what']}", "",
              f"| {kind} | " + " | ".join(f"{p} steps/s (GFLOP/s)" for p in PEERS) + " | "
              + " | ".join(f"÷ {p}" for p in PEERS[1:]) + " |",
              "|---:|" + "---:|" * (2 * len(PEERS) - 1)]
        for (x, r), name in zip(ratios(sweep), sweep["names"]):
            cells = []
            for p in PEERS:
                v, g = _rate(sweep, name, p)
                cells.append("–" if v is None else f"{fmt_rate(v)} ({g:.3g})")
            cells += ["–" if p not in r else (f"**{r[p]:.2f}×**" if r[p] < 1 else f"{r[p]:.2f}×")
                      for p in PEERS[1:]]
            L.append(f"| {x} | " + " | ".join(cells) + " |")
        L.append("")
    least, ahead = worst(results)
    L += [f"Smallest {SWIFTMLP} ÷ peer over both sweeps: " + ("–" if least is None else f"{least:.2f}×")
          + (f"; a peer is ahead at: {ahead}" if ahead else "; swiftmlp leads at every point"), ""]
    return "\n".join(L) + "\n"


def plot(results, path):
    """sweeps.png: per sweep, steps/s and GFLOP/s against the swept size,
    log-log, one line per peer."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = results.get("sweeps", {})
    fig, axes = plt.subplots(len(sweeps), 2, figsize=(12, 4.5 * len(sweeps)), squeeze=False)
    for row, (kind, sweep) in zip(axes, sweeps.items()):
        for col, (ax, what) in enumerate(zip(row, ("steps/s", "GFLOP/s"))):
            for p in PEERS:
                pts = [(x, _rate(sweep, n, p)[col]) for x, n in zip(sweep["x"], sweep["names"])]
                pts = [(x, v) for x, v in pts if v]
                if pts:
                    ax.plot(*zip(*pts), marker="o", label=p, lw=2.2 if p == SWIFTMLP else 1.2)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel(sweep["what"])
            ax.set_ylabel(what)
            ax.set_title(f"{kind} sweep, {DTYPE}: {what}")
            ax.grid(which="both", alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
