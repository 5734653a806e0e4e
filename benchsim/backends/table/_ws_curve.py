"""The training curve of an emulated supernet: how far its estimates are from converged.

A supernet that has had few training passes ranks architectures worse than a converged one
and scores them all lower.  The emulation (:mod:`._weight_sharing`) follows one family of
curves for both, in the fraction ``x = passes / planned`` of the passes a search plans, a
Weibull distribution function rescaled to end at 1:

    fraction(x) = start + (1 - start) * W(x) / W(1),   W(x) = 1 - exp(-(x / s) ** k)

``fraction(0) = start``, ``fraction(1) = 1``, increasing in ``x`` for every ``s, k > 0``; ``s``
(the time constant) says when the curve rises, ``k`` (the shape) how sharply: ``k = 1`` rises
at once and saturates (an exponential), larger ``k`` waits and then rises steeply, as a
supernet does when it needs a number of steps before it learns anything.  ``s``, ``k`` and
``start`` are fitted to the live backend's measured curves by
``benchmarks/ws_training_curve.py`` with :func:`fit_curve`.
"""

from __future__ import annotations

import numpy as np

_SCALES = np.geomspace(0.005, 20.0, 300)
_SHAPES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
"""The time constants and shapes :func:`fit_curve` considers."""


def training_fraction(
    x: float | np.ndarray, time_constant: float, start: float = 0.0, shape: float = 1.0
):
    """``fraction(x)`` of the module docstring; ``x`` is clipped to ``[0, 1]``."""
    x = np.clip(x, 0.0, 1.0)
    s, k = float(time_constant), float(shape)
    rise = -np.expm1(-((x / s) ** k)) / -np.expm1(-((1.0 / s) ** k))
    return start + (1.0 - start) * rise


def fit_curve(x: np.ndarray, y: np.ndarray, start: float = 0.0) -> tuple[float, float]:
    """Least-squares ``(time_constant, shape)`` of :func:`training_fraction` through
    the points ``(x, y)``.

    A grid search (deterministic, no optimiser state): the measured curves are short and noisy,
    and the emulation only needs when and how sharply they rise.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    best, error = (1.0, 1.0), np.inf
    for k in _SHAPES:
        for s in _SCALES:
            e = float(np.sum((training_fraction(x, s, start, k) - y) ** 2))
            if e < error:
                best, error = (float(s), float(k)), e
    return best
