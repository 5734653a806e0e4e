"""The training curve of an emulated supernet: how far its estimates are from converged.

A supernet that has had little training ranks architectures worse than a converged one and
scores them all lower.  How much worse depends on the training it has *had*, not on what the
search plans, so the emulation (:mod:`._weight_sharing`) measures training in SGD steps:
every training pass over a task's data is ``ceil(train examples / batch size)`` steps.  Steps,
not epochs, because the published measurements only agree in steps: a supernet trained with
batch 64 ranks within 0.05 of converged after 50 epochs (about 20,000 steps), one trained with
batch 512 still improves until about 500 epochs (about 40,000 steps); in epochs the two differ
tenfold (docs/weight_sharing.md, "Training").

Both curves (rank agreement and value level) are Weibull distribution functions of the steps,

    fraction(n) = start + (1 - start) * (1 - exp(-(n / scale) ** shape)),

``fraction(0) = start``, rising to 1.  The *shape* says how sharply the curve rises (``1``: at
once, then saturating; larger: a wait, then a steep rise); it is the one thing only the live
backend's CPU measurement gives (``benchmarks/ws_training_curve.py``).  The *scale* (when the
curve rises) is anchored on a published measurement, :func:`anchored_scale`: the curve passes
through the measured fraction at the measured number of steps.
"""

from __future__ import annotations

import math

import numpy as np

_SCALES = np.geomspace(0.005, 20.0, 300)
_SHAPES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
"""The time constants and shapes :func:`fit_curve` considers."""


def training_fraction(
    steps: float | np.ndarray, scale: float, start: float = 0.0, shape: float = 1.0
):
    """``fraction(steps)`` of the module docstring (negative steps count as none)."""
    n = np.maximum(np.asarray(steps, dtype=np.float64), 0.0)
    rise = -np.expm1(-((n / float(scale)) ** float(shape)))
    out = start + (1.0 - start) * rise
    return float(out) if np.ndim(out) == 0 else out


def anchored_scale(steps: float, fraction: float, shape: float, start: float = 0.0) -> float:
    """The scale of a curve of ``shape`` that reaches ``fraction`` after ``steps`` steps.

    Solves ``training_fraction(steps, scale, start, shape) == fraction`` for the scale; a
    steep curve (large shape) is insensitive to the exact fraction of a nearly converged anchor.
    """
    rise = (fraction - start) / (1.0 - start)
    if not 0.0 < rise < 1.0:
        raise ValueError(f"an anchor needs start < fraction < 1, got {fraction!r}")
    return float(steps) / (-math.log1p(-rise)) ** (1.0 / float(shape))


def fit_curve(x: np.ndarray, y: np.ndarray, start: float = 0.0) -> tuple[float, float]:
    """Least-squares ``(scale, shape)`` of a curve ``start + (1 - start) W(x) / W(1)`` through
    the points ``(x, y)``, ``x`` a fraction of a measured run that ends converged.

    The live backend's measurement (``benchmarks/ws_training_curve.py``) is one run whose last
    point is converged by definition, hence the rescaling to end at 1.  A grid search
    (deterministic, no optimiser state): the measured curves are short and noisy, and only
    when and how sharply they rise matters.
    """
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(y, dtype=np.float64)
    best, error = (1.0, 1.0), np.inf
    for k in _SHAPES:
        for s in _SCALES:
            rise = -np.expm1(-((x / s) ** k)) / -np.expm1(-((1.0 / s) ** k))
            e = float(np.sum((start + (1.0 - start) * rise - y) ** 2))
            if e < error:
                best, error = (float(s), float(k)), e
    return best
