"""What the benchmark ran on: the CPU (model, family, model number), the
OpenBLAS cores of NumPy and of swiftmlp, the thread variables, and the
machine class (default, avx2, single-core) every process runs in."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys

import numpy as np

from runner import CLASS, OPENBLAS_VARS, ROOT, child_env, rel


def cpu_info():
    """The first processor of /proc/cpuinfo: model name, vendor, family, model
    number, stepping, and whether it has AVX-512F and AVX2."""
    keys = {"model name": "cpu", "vendor_id": "vendor", "cpu family": "family", "model": "model",
            "stepping": "stepping"}
    info = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if not line.strip():
                    break
                k, _, v = (p.strip() for p in line.partition(":"))
                if k in keys:
                    info[keys[k]] = v
                elif k == "flags":
                    info["avx512f"], info["avx2"] = "avx512f" in v.split(), "avx2" in v.split()
    except OSError:
        pass
    return info


def have_modules():
    """Which optional peers' packages are installed (without importing them)."""
    from importlib import metadata
    have = {}
    for mod in ("torch", "jax", "onnxruntime", "onnx"):
        try:
            have[mod] = metadata.version(mod)
        except metadata.PackageNotFoundError:
            have[mod] = None
    have["onnxruntime"] = have["onnxruntime"] if have["onnx"] else None  # the graph is built with onnx
    return have


def environment(args):
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__,
            "machine": platform.machine(), "cpus": os.cpu_count(), **cpu_info(),
            "affinity": sorted(os.sched_getaffinity(0)), "machine_class": CLASS["name"],
            "class_env": dict(CLASS["env"]), "packages": have_modules()}
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    # what run.sh unset (it passes the original values on), and what is left
    info["openblas_env_unset"] = {v: os.environ.get(f"SWIFTMLP_BENCH_ORIG_{v}") for v in OPENBLAS_VARS}
    info["openblas_env_in_children"] = {v: child_env().get(v) for v in OPENBLAS_VARS}
    info["thread_env"] = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                         "MKL_NUM_THREADS", "SWIFTMLP_NUM_THREADS")}
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
    info["torch"] = info["packages"]["torch"]
    try:
        info["git"] = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                                     text=True, cwd=ROOT).stdout.strip()
    except Exception:
        pass
    return info


def describe_environment(info):
    cls = info.get("machine_class", "default")
    lines = [f"- **machine class: {cls}**" + {
        "default": " (this machine as it is)",
        "avx2": " — every process runs with SWIFTMLP_CPU=avx2 (the library's AVX2 kernels) and "
                "OPENBLAS_CORETYPE=Haswell (OpenBLAS's AVX2 kernels)",
        "single-core": " — every process runs on CPU 0 only (the orchestrator's affinity, inherited: "
                       "`taskset -c 0`)"}.get(cls, "")]
    unset = info["openblas_env_unset"]
    was = ", ".join(f"{k}={v}" if v is not None else f"{k} (was not set)" for k, v in unset.items())
    left = {k: v for k, v in info["openblas_env_in_children"].items() if v is not None}
    lines.append(f"- OpenBLAS environment: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are UNSET for every "
                 f"benchmark process (`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`; before: {was})"
                 + (f"; then set by the machine class: {left}" if left and cls == "avx2" else
                    f" — WARNING, still set: {left}" if left else ""))
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
    pk = info.get("packages", {})
    lines.append(f"- torch: {pk.get('torch') or 'not installed'} (torch.set_num_threads(usable CPUs)); jax: "
                 f"{pk.get('jax') or 'not installed'}; onnxruntime: {pk.get('onnxruntime') or 'not installed'} "
                 f"(onnx {pk.get('onnx') or 'not installed'})")
    lines.append(f"- CPU: {info.get('cpu', '?')} ({info.get('vendor', '?')}, family {info.get('family', '?')}, "
                 f"model {info.get('model', '?')}, stepping {info.get('stepping', '?')}), {info.get('cpus')} "
                 f"logical CPUs ({len(info.get('affinity', ()))} usable by the benchmark), AVX-512: "
                 f"{info.get('avx512f')}, AVX2: {info.get('avx2')}; load average at start: "
                 + ", ".join(f"{x:.2f}" for x in info.get("loadavg_start", ())))
    te = {k: v for k, v in info["thread_env"].items() if v}
    lines.append(f"- thread variables: {te if te else 'none set (libraries use all CPUs)'}")
    lines.append(f"- Python {info['python']}, NumPy {info['numpy']}, git {info.get('git', '?')}, {info['date']}")
    return lines
