"""The lecture slides' NumPy code, batched, as a plain transcription.

This is the reference the swiftmlp library is checked against.  It does not
import swiftmlp.  Shapes (batch-first, as on the slides):

    x          (B, N0)
    weights[l] (N_{l+1}, N_l)
    biases[l]  (N_{l+1},)
    g          (B, N_l) before iteration l
    y          (B, NL)

Everything is computed in the dtype of the arrays passed in.
"""

import numpy as np


def sigmoid(f):
    return 1 / (1 + np.exp(-f))


def forward(weights, biases, x):
    """The slides' forward loop.  Returns the list of activations
    [g_0 = x, g_1, ..., g_L]; the network's output is the last one."""
    g = x
    activations = [g]
    for b, w in zip(biases, weights):
        f = (w @ g.T).T + b
        g = sigmoid(f)
        activations.append(g)
    return activations


def loss(g_L, y):
    """L = mean((g_L - y)**2), the mean over the batch AND the outputs."""
    return np.mean((g_L - y) ** 2)


def backward(weights, activations, y):
    """The slides' backward equations, batched.  Returns (dL_dW, dL_db), lists
    with one gradient per weight layer, shaped like weights and biases."""
    g_L = activations[-1]
    B, N_L = g_L.shape
    dL_dW = [None] * len(weights)
    dL_db = [None] * len(weights)

    # Output activations: dL/dg_L = 2/(B*N_L) (g_L - y)
    dL_dg = 2 / (B * N_L) * (g_L - y)
    for l in reversed(range(len(weights))):
        g = activations[l + 1]
        g_prev = activations[l]
        # Pre-activations: dL/df = dL/dg * g * (1 - g)
        dL_df = dL_dg * g * (1 - g)
        # Weights and biases: dL/dW = (dL/df)^T @ g_prev, dL/db = dL/df summed over the batch
        dL_dW[l] = dL_df.T @ g_prev
        dL_db[l] = dL_df.sum(axis=0)
        # Activations of the layer below: dL/dg_prev = dL/df @ W
        dL_dg = dL_df @ weights[l]
    return dL_dW, dL_db


def sgd_step(weights, biases, dL_dW, dL_db, lr):
    """Plain SGD: W -= lr * dL/dW, b -= lr * dL/db.  Returns new lists."""
    new_weights = [w - lr * dw for w, dw in zip(weights, dL_dW)]
    new_biases = [b - lr * db for b, db in zip(biases, dL_db)]
    return new_weights, new_biases
