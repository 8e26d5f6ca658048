"""ONNX export of a swiftmlp network (``MLP.to_onnx``), built with the
``onnx`` package (an optional dependency: ``pip install onnx``).

The graph is the network's forward pass, layer by layer:
``Gemm(g, W, b, transB=1)`` (f = g W^T + b, W stored as (N_out, N_in) as the
library holds it) followed by the layer's activation (Sigmoid, Tanh, Relu,
for leaky_relu Where(f > 0, f, f * leaky_slope) (onnxruntime's LeakyRelu
computes float64 in float32), nothing for identity, Softmax on the last
axis). Input ``input`` (batch, N0) and output ``output`` (batch, NL) have a
dynamic batch dimension named ``batch`` and the network's element type
(float32 or float64).
"""

from __future__ import annotations

import numpy as np

#: The opset used when none is asked for (Softmax works on one axis from 13).
DEFAULT_OPSET = 17
MIN_OPSET = 13

_ACTIVATION_OPS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softmax": "Softmax"}


def _onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError("swiftmlp: to_onnx needs the onnx package (pip install onnx)") from exc
    return onnx


def to_onnx(net, path=None, opset=None):
    """The network as an ONNX ModelProto, serialized: written to ``path``
    (returns None) or returned as bytes when ``path`` is None."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        opset = min(DEFAULT_OPSET, newest)
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) \
            or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset must be an integer from {MIN_OPSET} to {newest} "
                         f"(this onnx package's newest), got {opset!r}")
    elem = TensorProto.FLOAT if net.dtype == np.float32 else TensorProto.DOUBLE
    sizes = net.sizes
    nodes, initializers = [], []
    current = "input"
    for layer, activation in enumerate(net.activations):
        w, b = f"layers.{layer}.weight", f"layers.{layer}.bias"
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(net.weights[layer]), w))
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(net.biases[layer]), b))
        last = layer == len(sizes) - 2
        f = f"layers.{layer}.f"
        nodes.append(helper.make_node("Gemm", [current, w, b], [f], transB=1,
                                      name=f"layers.{layer}.gemm"))
        if activation == "identity":
            current = f
            continue
        out = "output" if last else f"layers.{layer}.g"
        name = f"layers.{layer}.{activation}"
        if activation == "leaky_relu":
            if not any(t.name == "zero" for t in initializers):
                initializers += [numpy_helper.from_array(np.zeros((), net.dtype), "zero"),
                                 numpy_helper.from_array(np.array(net.leaky_slope, net.dtype),
                                                         "leaky_slope")]
            nodes += [helper.make_node("Greater", [f, "zero"], [f"{name}.positive"], name=f"{name}.greater"),
                      helper.make_node("Mul", [f, "leaky_slope"], [f"{name}.scaled"], name=f"{name}.mul"),
                      helper.make_node("Where", [f"{name}.positive", f, f"{name}.scaled"], [out], name=name)]
        else:
            attrs = {"axis": -1} if activation == "softmax" else {}
            nodes.append(helper.make_node(_ACTIVATION_OPS[activation], [f], [out], name=name, **attrs))
        current = out
    if current != "output":  # an identity output layer
        nodes.append(helper.make_node("Identity", [current], ["output"], name="output"))
    graph = helper.make_graph(
        nodes, "swiftmlp",
        [helper.make_tensor_value_info("input", elem, ["batch", sizes[0]])],
        [helper.make_tensor_value_info("output", elem, ["batch", sizes[-1]])],
        initializer=initializers)
    opsets = [helper.make_opsetid("", int(opset))]
    # The oldest IR version that carries the opset, for the widest runtime support.
    model = helper.make_model(graph, opset_imports=opsets, producer_name="swiftmlp",
                              ir_version=helper.find_min_ir_version_for(opsets))
    model.doc_string = (f"swiftmlp MLP {list(sizes)}, activations {list(net.activations)}, "
                        f"trained with loss {net.loss}")
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString()
    if path is None:
        return data
    with open(path, "wb") as f:
        f.write(data)
    return None
