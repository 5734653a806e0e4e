"""Forward and backward passes of a ReLU multilayer perceptron in numpy.

XferNAS's universal network and CATCH's evaluator and context encoder are small MLPs trained
by hand-written Adam on the table path, where torch is not a dependency; this is the one copy of
their layer arithmetic (the gradient checks in tests/algorithms cover both users).
"""

from __future__ import annotations

import numpy as np

from benchsim._linalg import matmul


def relu_mlp_forward(
    weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Output of ReLU hidden layers and a linear last layer (``w`` is (out, in)), and every
    layer's input (``acts[0] = x``, then each layer's output) for :func:`relu_mlp_backward`."""
    acts = [x]
    last = len(weights) - 1
    for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
        pre = matmul(acts[-1], w.T) + b
        acts.append(pre if k == last else np.maximum(pre, 0.0))
    return acts[-1], acts


def relu_mlp_backward(
    weights: list[np.ndarray], d_out: np.ndarray, acts: list[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Gradients of ``sum(d_out * output)``: per-layer weights, per-layer biases, the input."""
    g_w, g_b = [], []
    d = d_out
    for k in range(len(weights) - 1, -1, -1):
        g_w.append(matmul(d.T, acts[k]))
        g_b.append(d.sum(0))
        d = matmul(d, weights[k])
        if k > 0:
            d = d * (acts[k] > 0)
    return g_w[::-1], g_b[::-1], d
