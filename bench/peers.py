"""One Python peer of the benchmark, in its own process (run by bench.py).

    python3 bench/peers.py PEER SPEC_JSON [SPEC_JSON...]

PEER is one of
  numpy-slides        the slides' NumPy code (bench/common.py), the reference
  torch               nn.Sequential(Linear, Sigmoid, ...), MSELoss('mean'), optim.SGD
  jax                 the slides' step in jax.numpy, jax.jit-compiled once
                      (jax_enable_x64 for float64)
  swiftmlp-py         swiftmlp.MLP.train_step(x, y) with net.optimizer = SGD(lr)
  swiftmlp-py-3call   net.forward(x); net.backward(y); net.step()
  swiftmlp-py-ctypes  swiftmlp_train_step called straight through ctypes (the C
                      ABI without the MLP wrapper; informative: what the binding costs)
  gemm                the machine's GEMM peak: NumPy matmul of two n x n matrices
  fit-swiftmlp        MLP.fit on scikit-learn's digits
  fit-numpy           a plain NumPy minibatch loop of the same network and epochs
  predict-*           inference latency (bench/predict_peers.py)

Each peer first runs the two-step parameter check (writes the parameters
after two steps with spec["check_lr"] to spec["check_out"]), then restarts
from the same initial parameters and times train steps.  The last line of
stdout is a JSON object with the results.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def blas_info():
    try:
        import threadpoolctl
        return [{k: d.get(k) for k in ("internal_api", "prefix", "version", "architecture",
                                       "num_threads", "threading_layer", "filepath")}
                for d in threadpoolctl.threadpool_info()]
    except Exception as exc:  # pragma: no cover
        return [{"error": repr(exc)}]


def run_timing(step, spec):
    steps, rates = common.time_steps(step, spec["seconds"], spec["repeats"])
    return {"steps_per_repeat": steps, "rates": rates}


# ---------------------------------------------------------------------------
# Peers
# ---------------------------------------------------------------------------

def peer_numpy(spec):
    sizes, batch, dt, p0, x, y = common.load_spec(spec)
    np.seterr(over="ignore")  # np.exp(-f) may overflow to inf; 1/(1+inf) = 0 is right

    flat = p0.copy()
    w, b = common.split_params(flat, sizes)
    for _ in range(spec["check_steps"]):
        common.slides_train_step(w, b, x, y, dt.type(spec["check_lr"]))
    common.join_params(w, b).astype(dt).tofile(spec["check_out"])

    flat = p0.copy()
    w, b = common.split_params(flat, sizes)
    lr = dt.type(spec["lr"])
    out = run_timing(lambda: common.slides_train_step(w, b, x, y, lr), spec)
    out["finite"] = bool(np.isfinite(flat).all())
    return out


def torch_threads():
    """torch's intra-op threads: the CPUs this process may use (2 on the
    2-core machine; 1 in the single-core machine class)."""
    return len(os.sched_getaffinity(0))


def torch_model(sizes, p0, dt):
    """nn.Sequential(Linear, Sigmoid, ...) holding the parameters p0."""
    import torch
    torch.set_num_threads(torch_threads())
    layers = []
    for l in range(len(sizes) - 1):
        layers += [torch.nn.Linear(sizes[l], sizes[l + 1]), torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers).to(torch.float32 if dt == np.float32 else torch.float64)
    w, b = common.split_params(p0, sizes)
    with torch.no_grad():
        for l, (wl, bl) in enumerate(zip(w, b)):
            model[2 * l].weight.copy_(torch.from_numpy(wl.copy()))
            model[2 * l].bias.copy_(torch.from_numpy(bl.copy()))
    return model


def peer_torch(spec):
    import torch
    sizes, batch, dt, p0, x, y = common.load_spec(spec)

    def build(lr):
        model = torch_model(sizes, p0, dt)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0, weight_decay=0.0)
        return model, opt

    loss_fn = torch.nn.MSELoss(reduction="mean")
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def make_step(model, opt):
        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(tx), ty)
            loss.backward()
            opt.step()
        return step

    model, opt = build(spec["check_lr"])
    step = make_step(model, opt)
    for _ in range(spec["check_steps"]):
        step()
    with torch.no_grad():
        ws = [model[2 * l].weight.numpy() for l in range(len(sizes) - 1)]
        bs = [model[2 * l].bias.numpy() for l in range(len(sizes) - 1)]
    common.join_params(ws, bs).astype(dt).tofile(spec["check_out"])

    model, opt = build(spec["lr"])
    out = run_timing(make_step(model, opt), spec)
    out["torch"] = {"version": torch.__version__, "num_threads": torch.get_num_threads(),
                    "interop_threads": torch.get_num_interop_threads(),
                    "mkldnn": bool(torch.backends.mkldnn.is_available())}
    with torch.no_grad():
        out["finite"] = all(bool(torch.isfinite(p).all()) for p in model.parameters())
    return out


def jax_module(dt):
    """jax and jax.numpy, float64 enabled for a float64 spec (before any
    array is made)."""
    import jax
    if dt == np.float64:
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return jax, jnp


def jax_forward(jnp, params, x):
    """The slides' forward loop in jax.numpy: every layer's g."""
    g = x
    acts = [g]
    for w, b in params:
        g = 1 / (1 + jnp.exp(-(g @ w.T + b)))
        acts.append(g)
    return acts


def jax_slides_step(jnp, params, x, y, lr):
    """The slides' backward equations and SGD step in jax.numpy (as
    common.slides_train_step): new parameters."""
    acts = jax_forward(jnp, params, x)
    g_l = acts[-1]
    dl_dg = 2 / (g_l.shape[0] * g_l.shape[1]) * (g_l - y)
    new = [None] * len(params)
    for l in reversed(range(len(params))):
        w, b = params[l]
        g = acts[l + 1]
        dl_df = dl_dg * g * (1 - g)
        if l > 0:
            dl_dg = dl_df @ w
        new[l] = (w - lr * (dl_df.T @ acts[l]), b - lr * dl_df.sum(axis=0))
    return new


def jax_params(jnp, p0, sizes):
    w, b = common.split_params(p0, sizes)
    return [(jnp.asarray(wl), jnp.asarray(bl)) for wl, bl in zip(w, b)]


def peer_jax(spec):
    """jax.jit of the slides' step, compiled once (the first, untimed step);
    each step waits for its result (block_until_ready), as a loop that
    reads the parameters or the loss would."""
    sizes, batch, dt, p0, x, y = common.load_spec(spec)
    jax, jnp = jax_module(dt)
    step_fn = jax.jit(lambda p, xx, yy, lr: jax_slides_step(jnp, p, xx, yy, lr), donate_argnums=0)
    jx, jy = jnp.asarray(x), jnp.asarray(y)
    state = {}

    def prepare(lr):
        state["p"], state["lr"] = jax_params(jnp, p0, sizes), jnp.asarray(lr, dtype=dt)

    def step():
        state["p"] = jax.block_until_ready(step_fn(state["p"], jx, jy, state["lr"]))

    prepare(spec["check_lr"])
    for _ in range(spec["check_steps"]):
        step()
    flat = common.join_params([np.asarray(w) for w, _ in state["p"]], [np.asarray(b) for _, b in state["p"]])
    flat.astype(dt).tofile(spec["check_out"])
    prepare(spec["lr"])
    out = run_timing(step, spec)
    out["jax"] = {"version": jax.__version__, "backend": jax.default_backend(),
                  "x64": bool(jax.config.jax_enable_x64)}
    out["finite"] = all(bool(jnp.isfinite(a).all()) for wb in state["p"] for a in wb)
    return out


def _swiftmlp():
    import swiftmlp
    return swiftmlp


def peer_swiftmlp_py(spec, three_calls=False):
    swiftmlp = _swiftmlp()
    sizes, batch, dt, p0, x, y = common.load_spec(spec)
    net = swiftmlp.MLP(sizes, dtype=dt, seed=0)

    def prepare(lr):
        net.set_flat_params(p0)
        net.optimizer = swiftmlp.SGD(lr=lr)

    if three_calls:
        def step():
            net.forward(x)
            net.backward(y)
            net.step()
    else:
        def step():
            net.train_step(x, y)

    prepare(spec["check_lr"])
    for _ in range(spec["check_steps"]):
        step()
    np.asarray(net.get_flat_params(), dtype=dt).tofile(spec["check_out"])

    prepare(spec["lr"])
    out = run_timing(step, spec)
    out["finite"] = bool(np.isfinite(net.get_flat_params()).all())
    out["swiftmlp"] = {"version": swiftmlp.version(), "library": str(swiftmlp.library_path)}
    net.close()
    return out


class _OptimizerStruct(__import__("ctypes").Structure):
    """struct swiftmlp_optimizer of include/swiftmlp.h."""
    import ctypes as _c
    _fields_ = [("struct_size", _c.c_size_t), ("kind", _c.c_int), ("lr", _c.c_double),
                ("momentum", _c.c_double), ("nesterov", _c.c_int), ("beta1", _c.c_double),
                ("beta2", _c.c_double), ("eps", _c.c_double), ("weight_decay", _c.c_double)]


def peer_swiftmlp_ctypes(spec):
    """The C ABI straight from ctypes: the cheapest way Python can drive the
    library (argument types declared once, pointers computed once)."""
    import ctypes
    from ctypes import POINTER, byref, c_double, c_int, c_size_t, c_uint64, c_void_p
    swiftmlp = _swiftmlp()
    path = swiftmlp.library_path() if callable(swiftmlp.library_path) else swiftmlp.library_path
    lib = ctypes.CDLL(str(path))
    sizes, batch, dt, p0, x, y = common.load_spec(spec)
    code = 1 if dt == np.float32 else 2

    def sig(name, restype, *args):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = restype, list(args)
        return fn

    create = sig("swiftmlp_create", c_int, POINTER(c_size_t), c_size_t, c_int, c_uint64, POINTER(c_void_p))
    free = sig("swiftmlp_free", None, c_void_p)
    set_params = sig("swiftmlp_set_params", c_int, c_void_p, c_int, c_void_p, c_size_t)
    get_params = sig("swiftmlp_get_params", c_int, c_void_p, c_int, c_void_p, c_size_t)
    opt_default = sig("swiftmlp_optimizer_default", c_int, c_int, POINTER(_OptimizerStruct))
    set_opt = sig("swiftmlp_set_optimizer", c_int, c_void_p, POINTER(_OptimizerStruct))
    train_step = sig("swiftmlp_train_step", c_int, c_void_p, c_int, c_void_p, c_size_t,
                     c_void_p, c_size_t, c_size_t, c_void_p)
    last_error = sig("swiftmlp_last_error", ctypes.c_char_p)

    def ok(status, what):
        if status != 0:
            raise RuntimeError(f"{what}: status {status}: {last_error().decode()}")

    c_sizes = (c_size_t * len(sizes))(*sizes)
    h = c_void_p()
    ok(create(c_sizes, len(sizes), code, 0, byref(h)), "swiftmlp_create")

    def prepare(lr):
        ok(set_params(h, code, p0.ctypes.data, p0.size), "swiftmlp_set_params")
        o = _OptimizerStruct()
        ok(opt_default(0, byref(o)), "swiftmlp_optimizer_default")
        o.lr = lr
        ok(set_opt(h, byref(o)), "swiftmlp_set_optimizer")

    xp, yp, xn, yn = x.ctypes.data, y.ctypes.data, x.size, y.size
    loss = c_double()
    lp = ctypes.addressof(loss)

    def step():
        if train_step(h, code, xp, xn, yp, yn, batch, lp) != 0:
            raise RuntimeError(f"swiftmlp_train_step: {last_error().decode()}")

    prepare(spec["check_lr"])
    for _ in range(spec["check_steps"]):
        step()
    got = np.empty_like(p0)
    ok(get_params(h, code, got.ctypes.data, got.size), "swiftmlp_get_params")
    got.tofile(spec["check_out"])

    prepare(spec["lr"])
    out = run_timing(step, spec)
    ok(get_params(h, code, got.ctypes.data, got.size), "swiftmlp_get_params")
    out["finite"] = bool(np.isfinite(got).all()) and bool(np.isfinite(loss.value))
    free(h)
    return out


def step_products(sizes, batch, dt, mm, wrap=None):
    """The matrix products of one training step of `sizes` at `batch` (those
    of bench/gemm_bound.c: per layer f = g_prev W^T, dW = df^T g_prev and,
    past the first layer, dg_prev = df W), through `mm(a, b, out)`, each
    into a preallocated output; `wrap` turns the NumPy arrays into the
    peer's own (torch: tensors sharing their memory). Returns (one step as a
    function, the layers' operands and outputs)."""
    rng = np.random.default_rng(1)

    def filled(*shape):
        return rng.uniform(0.01, 0.1, size=shape).astype(dt)

    layers = []
    g_prev = filled(batch, sizes[0])
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        f = filled(batch, n_out)
        layers.append(dict(w=filled(n_out, n_in), f=f, df=filled(batch, n_out), g_prev=g_prev,
                           dw=np.empty((n_out, n_in), dtype=dt), dg=np.empty((batch, n_in), dtype=dt)))
        g_prev = f
    if wrap is not None:
        layers = [{k: wrap(v) for k, v in y.items()} for y in layers]

    def step():
        for y in layers:
            mm(y["g_prev"], y["w"].T, y["f"])
        for i in range(len(layers) - 1, -1, -1):
            y = layers[i]
            mm(y["df"].T, y["g_prev"], y["dw"])
            if i > 0:
                mm(y["df"], y["w"], y["dg"])

    return step, layers


def peer_gemm(spec):
    """The GEMM peak: NumPy's n x n matmul (and torch.mm's, informative).
    With spec["step"] = {"sizes", "batch"} also the step's matrix products
    alone through NumPy's BLAS and through torch's, in this same process: what
    the peak's own BLAS (and torch's) reach on the step's shapes."""
    n, dt = spec["n"], np.dtype(spec["dtype"])
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dt)
    b = rng.standard_normal((n, n)).astype(dt)
    c = np.empty((n, n), dtype=dt)
    out = run_timing(lambda: np.matmul(a, b, out=c), spec)
    out["flops_per_step"] = 2 * n ** 3
    out["finite"] = bool(np.isfinite(c).all())
    step_spec = spec.get("step")
    reps = max(1, spec["repeats"] // 2 + 1)
    if step_spec:
        sizes, batch = step_spec["sizes"], step_spec["batch"]
        flops = common.flops_per_step(sizes, batch)
        step, np_layers = step_products(sizes, batch, dt, lambda x, y, o: np.matmul(x, y, out=o))
        _, rates = common.time_steps(step, spec["seconds"], reps)
        out["numpy_products_gflops"] = float(np.median(rates)) * flops / 1e9
    try:
        import torch
        torch.set_num_threads(torch_threads())
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        tc = torch.empty_like(ta)
        _, rates = common.time_steps(lambda: torch.mm(ta, tb, out=tc), spec["seconds"], reps)
        out["torch_gflops"] = float(np.median(rates)) * 2 * n ** 3 / 1e9
        if step_spec:
            step, t_layers = step_products(sizes, batch, dt, lambda x, y, o: torch.mm(x, y, out=o),
                                           torch.from_numpy)
            _, rates = common.time_steps(step, spec["seconds"], reps)
            out["torch_products_gflops"] = float(np.median(rates)) * flops / 1e9
            # the same products from the same inputs: the two must agree
            # (f, dW, and dg_prev past the first layer)
            out["products_rel_diff"] = max(
                float(np.max(np.abs(t[k].numpy() - y[k])) / np.max(np.abs(y[k])))
                for i, (t, y) in enumerate(zip(t_layers, np_layers))
                for k in (("f", "dw", "dg") if i else ("f", "dw")))
    except ImportError:
        pass
    return out


# ---------------------------------------------------------------------------
# fit() on the digits vs a plain NumPy minibatch loop (same network, epochs,
# batches; no shuffling, so the two must end with the same parameters)
# ---------------------------------------------------------------------------

def _digits(dt):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data / 16.0).astype(dt)
    y = np.zeros((len(d.target), 10), dtype=dt)
    y[np.arange(len(d.target)), d.target] = 1
    return x, y, d.target


def _fit_result(times, params, x, labels, sizes, dt):
    w, b = common.split_params(params.astype(dt), sizes)
    pred = common.slides_forward(w, b, x)[-1]
    return {"times": times, "accuracy": float((pred.argmax(1) == labels).mean()),
            "finite": bool(np.isfinite(params).all())}


def peer_fit_swiftmlp(spec):
    swiftmlp = _swiftmlp()
    dt = np.dtype(spec["dtype"])
    x, y, labels = _digits(dt)
    sizes = spec["sizes"]
    p0 = common.initial_params(sizes).astype(dt)
    net = swiftmlp.MLP(sizes, dtype=dt, seed=0)
    times = []
    for r in range(spec["repeats"] + 1):       # the first fit is a warm-up
        net.set_flat_params(p0)
        t = time.perf_counter()
        net.fit(x, y, epochs=spec["epochs"], batch_size=spec["batch"],
                optimizer=swiftmlp.SGD(lr=spec["lr"]), shuffle=False)
        el = time.perf_counter() - t
        if r:
            times.append(el)
    params = np.asarray(net.get_flat_params())
    params.astype(dt).tofile(spec["check_out"])
    net.close()
    return _fit_result(times, params, x, labels, sizes, dt)


def peer_fit_numpy(spec):
    dt = np.dtype(spec["dtype"])
    np.seterr(over="ignore")
    x, y, labels = _digits(dt)
    sizes, bs, lr = spec["sizes"], spec["batch"], dt.type(spec["lr"])
    p0 = common.initial_params(sizes).astype(dt)
    n = x.shape[0]
    times = []
    for r in range(spec["repeats"] + 1):
        flat = p0.copy()
        w, b = common.split_params(flat, sizes)
        t = time.perf_counter()
        for _ in range(spec["epochs"]):
            for s in range(0, n, bs):
                common.slides_train_step(w, b, x[s:s + bs], y[s:s + bs], lr)
        el = time.perf_counter() - t
        if r:
            times.append(el)
    flat.tofile(spec["check_out"])
    return _fit_result(times, flat, x, labels, sizes, dt)


PEERS = {
    "numpy-slides": peer_numpy,
    "torch": peer_torch,
    "jax": peer_jax,
    "swiftmlp-py": peer_swiftmlp_py,
    "swiftmlp-py-3call": lambda s: peer_swiftmlp_py(s, three_calls=True),
    "swiftmlp-py-ctypes": peer_swiftmlp_ctypes,
    "gemm": peer_gemm,
    "fit-swiftmlp": peer_fit_swiftmlp,
    "fit-numpy": peer_fit_numpy,
}


def main():
    """PEER SPEC [SPEC...]: one JSON line per spec (several specs in one process
    only in --smoke runs, to save the start-up time of torch)."""
    peer = sys.argv[1]
    if peer.startswith("predict-"):
        import predict_peers
        PEERS.update(predict_peers.PEERS)
    for spec_path in sys.argv[2:]:
        with open(spec_path) as fh:
            spec = json.load(fh)
        try:
            out = PEERS[peer](spec)
        except Exception:
            import traceback
            print(json.dumps({"peer": peer, "error": traceback.format_exc()[-3000:]}), flush=True)
            continue
        out["peer"] = peer
        out["pid"] = os.getpid()
        out["python"] = platform.python_version()
        out["numpy"] = np.__version__
        out["blas"] = blas_info()
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
