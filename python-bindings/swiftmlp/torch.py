"""PyTorch interchange: a swiftmlp network as a ``torch.nn.Sequential`` and
back (torch is an optional dependency).

The module is ``Sequential(Linear, activation, Linear, activation, ...)``:
layer l's ``Linear`` at index 2l, its activation at 2l + 1 (``nn.Identity``
for identity), so its ``state_dict`` names the weights ``<2l>.weight`` /
``<2l>.bias``, as a swiftmlp model file's ``layers.<l>.`` tensors renamed.
Weights are copied exactly, in the network's dtype.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .mlp import MLP

__all__ = ["to_module", "from_module"]

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def _activation_module(name: str, slope: float) -> nn.Module:
    return {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "identity": nn.Identity}[name]() \
        if name not in ("leaky_relu", "softmax") else \
        nn.LeakyReLU(negative_slope=slope) if name == "leaky_relu" else nn.Softmax(dim=-1)


def to_module(net: MLP) -> nn.Sequential:
    """The equivalent ``nn.Sequential`` (weights copied, same dtype); its
    output equals ``net.predict``."""
    dtype = _TORCH_DTYPES[np.dtype(net.dtype)]
    modules = []
    for layer, activation in enumerate(net.activations):
        linear = nn.Linear(net.sizes[layer], net.sizes[layer + 1], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(net.weights[layer])))
            linear.bias.copy_(torch.from_numpy(np.array(net.biases[layer])))
        modules += [linear, _activation_module(activation, net.leaky_slope)]
    return nn.Sequential(*modules)


def _activation_name(name: str, module: nn.Module, slope: list) -> str:
    """The swiftmlp activation of an activation module, or ValueError naming it."""
    kinds = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu", nn.Identity: "identity"}
    if type(module) in kinds:
        return kinds[type(module)]
    if type(module) is nn.LeakyReLU:
        if slope and slope[0] != module.negative_slope:
            raise ValueError(f"from_module: module '{name}' (LeakyReLU) has negative_slope "
                             f"{module.negative_slope}, an earlier one {slope[0]}: swiftmlp "
                             f"networks have one slope")
        slope[:] = [module.negative_slope]
        return "leaky_relu"
    if type(module) is nn.Softmax and module.dim in (-1, 1):
        return "softmax"
    raise ValueError(f"from_module: cannot represent module '{name}' ({module!r}); swiftmlp "
                     f"layers are Linear (with bias) followed by Sigmoid, Tanh, ReLU, "
                     f"LeakyReLU, Identity or Softmax(dim=-1)")


def from_module(module: nn.Module, loss: str = "mse", seed: int = 0) -> MLP:
    """A swiftmlp ``MLP`` with the architecture and weights of ``module``: an
    ``nn.Sequential`` of ``Linear`` layers (with bias; float32 or float64),
    each optionally followed by one activation module.  Anything else is
    refused with a ValueError naming the module.  ``loss`` and ``seed`` are
    the network's (a module has neither)."""
    if not isinstance(module, nn.Sequential):
        raise ValueError(f"from_module: needs an nn.Sequential, got {type(module).__name__}")
    linears, activations, slope = [], [], []
    for name, child in module.named_children():
        if isinstance(child, nn.Linear) and type(child) is nn.Linear:
            if child.bias is None:
                raise ValueError(f"from_module: module '{name}' (Linear) has no bias")
            if linears and len(activations) < len(linears):
                activations.append("identity")  # Linear right after Linear
            linears.append((name, child))
        elif not linears:
            raise ValueError(f"from_module: module '{name}' ({type(child).__name__}) comes "
                             f"before the first Linear")
        elif len(activations) == len(linears):
            raise ValueError(f"from_module: module '{name}' ({type(child).__name__}) is a "
                             f"second activation after Linear '{linears[-1][0]}'")
        else:
            activations.append(_activation_name(name, child, slope))
    if not linears:
        raise ValueError("from_module: the module has no Linear layer")
    if len(activations) < len(linears):
        activations.append("identity")
    dtypes = {child.weight.dtype for _, child in linears} | {child.bias.dtype for _, child in linears}
    if len(dtypes) != 1 or next(iter(dtypes)) not in (torch.float32, torch.float64):
        raise ValueError(f"from_module: parameters must all be float32 or all float64, got "
                         f"{sorted(str(d) for d in dtypes)}")
    sizes = [linears[0][1].in_features]
    for name, child in linears:
        if child.in_features != sizes[-1]:
            raise ValueError(f"from_module: module '{name}' (Linear) takes {child.in_features} "
                             f"inputs, the layer before gives {sizes[-1]}")
        sizes.append(child.out_features)
    dtype = "float32" if next(iter(dtypes)) == torch.float32 else "float64"
    net = MLP(sizes, dtype=dtype, seed=seed, activations=activations, loss=loss,
              **({"leaky_slope": slope[0]} if slope else {}))
    for layer, (_, child) in enumerate(linears):
        net.set_layer(layer, child.weight.detach().cpu().numpy(), child.bias.detach().cpu().numpy())
    return net
