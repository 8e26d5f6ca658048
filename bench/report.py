"""The report of a run: results.md (tables, sections, targets) and
ratios.png."""

from __future__ import annotations

import common
import contention_case
import sweeps
from runner import SPREAD_FLAG, OtherLoad, fmt_allocs, fmt_rate, fmt_ratio
from machine import describe_environment
from targets import (PRODUCTS_AGREE, find, fit_bound, gemm_peak, paired, target_need, target_value,
                     wide_round_ratios)


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


def inference_section(results):
    """predict latency per batch and peer, and swiftmlp Python's lead."""
    rows = [r for r in results["runs"] if r["peer"].startswith("predict-") and "steps_per_s" in r]
    if not rows:
        return []
    L = ["", "## Inference: predict latency, mnist-ish, float32", "",
         "One call on the whole batch; latency = 1 ÷ the median calls/s; × = that peer's latency ÷ swiftmlp "
         "Python's (round by round). Outputs checked against the NumPy forward pass in float64 (≤ 1e-5).", "",
         "| batch | peer | latency µs (median) | [min .. max] | peer ÷ swiftmlp-py | output check |",
         "|---:|---|---:|---:|---:|---|"]
    for r in rows:
        st = r["steps_per_s"]
        ours = find(results, r["workload"], r["dtype"], "predict-swiftmlp-py")
        c = r["check"]
        L.append(f"| {r['batch']} | {r['peer'][8:]} | {1e6 / st['median']:.1f} | [{1e6 / st['max']:.1f} .. "
                 f"{1e6 / st['min']:.1f}] | {fmt_ratio(paired(ours, r) if ours else None)} | "
                 f"{'ok' if c['ok'] else '**FAIL**'} {c.get('output_abs_err', float('nan')):.0e} |")
    return L


PEER_NOTES = {
    "numpy-slides": "the slides' NumPy code (reference)",
    "torch": "nn.Sequential Linear+Sigmoid, MSELoss, optim.SGD",
    "jax": "the slides' step in jax.numpy, jax.jit once (jax_enable_x64 for f64), block_until_ready per step",
    "swiftmlp-py": "MLP.train_step(x, y), SGD optimizer",
    "swiftmlp-py-3call": "forward(x); backward(y); step()",
    "swiftmlp-py-ctypes": "swiftmlp_train_step via raw ctypes (no wrapper)",
    "swiftmlp-c": "swiftmlp_train_step loop in C",
    "fann": "fann_train per sample (online), 1 step = B samples",
    "predict-*": "one predict call on the batch (steps/s = calls/s): swiftmlp MLP.predict (py) and "
                 "swiftmlp_predict (c), onnxruntime (MLP.to_onnx graph, CPU provider), torch under "
                 "inference_mode, jax.jit of the forward loop; outputs checked against the NumPy forward pass",
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
          f"Spread = (max − min) ÷ median of the peer's per-process medians (one process per round); "
          f"⚠ when above {SPREAD_FLAG:.0%}: "
          + (", ".join(f"{r['label']} {r['dtype']} {r['peer']} {r['spread']:.0%}" for r in results["runs"]
                       if r.get("spread_flag")) or "none") + ".", "",
          "| workload | dtype | peer | steps/s (median) | [min .. max] | spread | samples/s | GFLOP/s | "
          "× numpy-slides | % GEMM peak | check | allocs/step |",
          "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in results["runs"]:
        if "skipped" in r:
            L.append(f"| {common.label(r['workload'])} | {r['dtype']} | {r['peer']} | skipped: {r['skipped']} |"
                     " | | | | | | | |")
            continue
        if "error" in r:
            L.append(f"| {r['label']} | {r['dtype']} | {r['peer']} | ERROR | | | | | | | FAIL | |")
            continue
        st = r["steps_per_s"]
        c = r["check"]
        cs = (f"{'ok' if c['ok'] else '**FAIL**'} {c.get('param_rel_err', float('nan')):.0e}")
        if c.get("note") == "reference":
            cs = "ref.; " + cs
        gf = r.get("gemm_fraction")
        warn = " ⚠" if r.get("disturbed") else ""
        sp = "" if r.get("spread") is None else f"{r['spread']:.0%}" + (" ⚠" if r.get("spread_flag") else "")
        L.append(f"| {r['label']} | {common.SHORT_DTYPE[r['dtype']]} | {r['peer']} | {fmt_rate(st['median'])}{warn} | "
                 f"[{fmt_rate(st['min'])} .. {fmt_rate(st['max'])}] | "
                 f"{sp} | {fmt_rate(r['samples_per_s'])} | "
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
    L += inference_section(results)
    L += contention_case.section(results)
    if results.get("sweeps"):
        least, ahead = sweeps.worst(results)
        L += ["", "## Sweeps", "", "Per point in `sweeps.md`, plotted in `sweeps.png` (log-log). Smallest "
              "swiftmlp Python ÷ peer: " + ("–" if least is None else f"{least:.2f}×")
              + (f"; a peer is ahead at: {ahead}" if ahead else "; swiftmlp leads at every point") + "."]
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

    order = ["torch", "jax", "swiftmlp-py", "swiftmlp-py-3call", "swiftmlp-py-ctypes", "swiftmlp-c", "fann"]
    order += sorted({r["peer"] for r in results["runs"] if r["peer"].startswith("swiftmlp-c@")})
    peers = [p for p in order if any(r["peer"] == p and "ratio_numpy" in r for r in results["runs"])]
    groups = []
    for wl in ("tiny", "small", "mnist", "wide"):
        for dt in common.DTYPES:
            if any(r["workload"] == wl and r["dtype"] == dt and "ratio_numpy" in r for r in results["runs"]):
                groups.append((wl, dt))
    colors = {"numpy-slides": "#999999", "torch": "#ee4c2c", "jax": "#ff7f0e", "swiftmlp-py": "#1f77b4", "swiftmlp-py-3call": "#9ecae1",
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
    ax.set_xticklabels([f"{common.label(w)}\n{common.SHORT_DTYPE[d]}" for w, d in groups])
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
    wpeers = ["numpy-slides", "torch", "jax", "swiftmlp-py", "swiftmlp-c"] + [p for p in peers if "@" in p]
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
