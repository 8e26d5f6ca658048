"""The inference peers of the benchmark (run through bench/peers.py):
`predict` latency of one network on one batch, each peer in its own
process.

  predict-swiftmlp-py   MLP.predict(x)
  predict-onnxruntime   the same weights as an ONNX graph (MLP.to_onnx, built
                        with the onnx package), onnxruntime's CPU provider
  predict-torch         nn.Sequential(Linear, Sigmoid, ...) under
                        torch.inference_mode()
  predict-jax           jax.jit of the slides' forward loop

Each writes its outputs for the batch to spec["check_out"] (the
orchestrator compares them with the NumPy forward pass), then times calls;
one "step" is one call on the whole batch.
"""

from __future__ import annotations

import numpy as np

import common
from peers import jax_forward, jax_module, jax_params, run_timing, torch_model


def _timed(call, spec, dt):
    """Writes call()'s outputs to the check file, then times call()."""
    np.asarray(call(), dtype=dt).tofile(spec["check_out"])
    out = run_timing(call, spec)
    out["finite"] = bool(np.isfinite(np.asarray(call())).all())
    return out


def _net(spec):
    import swiftmlp
    sizes, batch, dt, p0, x, y = common.load_spec(spec)
    net = swiftmlp.MLP(sizes, dtype=dt, seed=0)
    net.set_flat_params(p0)
    return net, dt, x


def predict_swiftmlp_py(spec):
    net, dt, x = _net(spec)
    out = _timed(lambda: net.predict(x), spec, dt)
    net.close()
    return out


def predict_onnxruntime(spec):
    import onnxruntime as ort
    net, dt, x = _net(spec)
    model = net.to_onnx()
    net.close()
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    feed = {"input": x}
    out = _timed(lambda: sess.run(None, feed)[0], spec, dt)
    out["onnxruntime"] = {"version": ort.__version__, "providers": sess.get_providers()}
    return out


def predict_torch(spec):
    import torch
    sizes, batch, dt, p0, x, y = common.load_spec(spec)
    model = torch_model(sizes, p0, dt)
    tx = torch.from_numpy(x)

    def call():
        with torch.inference_mode():
            return model(tx).numpy()

    return _timed(call, spec, dt)


def predict_jax(spec):
    sizes, batch, dt, p0, x, y = common.load_spec(spec)
    jax, jnp = jax_module(dt)
    params, jx = jax_params(jnp, p0, sizes), jnp.asarray(x)
    fwd = jax.jit(lambda p, xx: jax_forward(jnp, p, xx)[-1])
    return _timed(lambda: jax.block_until_ready(fwd(params, jx)), spec, dt)


PEERS = {
    "predict-swiftmlp-py": predict_swiftmlp_py,
    "predict-onnxruntime": predict_onnxruntime,
    "predict-torch": predict_torch,
    "predict-jax": predict_jax,
}
