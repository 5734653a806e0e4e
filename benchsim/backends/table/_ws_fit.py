"""Fitting the supernet-estimate model to a recorded supernet (the few-shot-NAS files).

The model (docs/weight_sharing.md, :mod:`._ws_model`) describes a supernet's converged estimate
of every architecture through its *normal score*: ``z`` is the normal score of the
architecture's rank under stand-alone training (the task's search metric), ``s`` that of its
rank under the supernet.  Fitted from one recorded supernet (``oneshot_acc`` or ``fewshot_acc``
of nb201 cifar10 against the stand-alone ``valid_acc``):

* ``mean_curve``: ``E[s | z]`` as a piecewise-linear curve through the means of bins of ``z``
  (:data:`MEAN_CURVE_EDGES`: tenths in the middle, finer at both ends where the shape matters).
  A real supernet's curve rises, peaks around the median and falls among the best cells: that
  is what makes its ranking of the top architectures worthless (Kendall tau about zero among
  the best hundred of NB201, negative among the best thousand).
* ``error_shares``: how the residual ``s - E[s | z]`` splits into a part additive in the
  architecture's operations (one effect per decision and choice), a part from pairs of
  decisions, and an idiosyncratic rest, by nested least squares.  A real supernet's error is
  not noise: about half of it is shared by architectures with common operations.
* ``residual_sd``: the residual's standard deviation.
* ``value_quantiles``: the recorded estimates' quantile function (101 points), normalised to
  the task's stand-alone range ``[min, max]`` of the search metric, so that a modelled task gets
  values on a supernet's scale (lower and wider spread than stand-alone training).
* ``tau``: Kendall's tau-b of the recorded estimate against the stand-alone metric: the default
  target of the model on tasks without a recorded supernet.

``scripts/fit_supernet_model.py`` runs :func:`fit_supernet` on the installed table and writes
``supernet_model.json``; a test re-fits and compares, so the packaged numbers stay the data's.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from benchsim.backends.table._ws_stats import average_ranks, kendall_tau, normal_quantile

MEAN_CURVE_EDGES = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99,
                    0.995, 1.0)  # fmt: skip
"""Quantiles of ``z`` bounding the bins of the mean curve."""
VALUE_QUANTILES = 101


def normal_scores(values: np.ndarray) -> np.ndarray:
    """``ndtri((rank - 0.5) / n)`` with average ranks for ties; NaN stays NaN."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    finite = np.isfinite(values)
    n = int(finite.sum())
    if n:
        out[finite] = normal_quantile((average_ranks(values[finite]) - 0.5) / n)
    return out


def gene_features(genes: np.ndarray, radix: tuple[int, ...], pairs: bool) -> np.ndarray:
    """One-hot design matrix of the decisions (``pairs``: of every pair of decisions)."""
    if not pairs:
        blocks = [np.eye(r)[genes[:, j]] for j, r in enumerate(radix)]
    else:
        blocks = [
            np.eye(radix[a] * radix[b])[genes[:, a] * radix[b] + genes[:, b]]
            for a, b in combinations(range(len(radix)), 2)
        ]
    return np.concatenate(blocks, axis=1)


def _least_squares_fit(y: np.ndarray, design: np.ndarray) -> np.ndarray:
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return design @ beta


def mean_curve(z: np.ndarray, s: np.ndarray, edges: tuple[float, ...] = MEAN_CURVE_EDGES):
    """Knots ``(z_k, s_k)``: mean ``z`` and mean ``s`` of the bins of ``z`` between the
    quantiles ``edges``."""
    order = np.argsort(z, kind="stable")
    cuts = np.round(np.asarray(edges[1:-1]) * z.size).astype(np.int64)
    parts = np.split(order, cuts)
    return (
        np.array([z[p].mean() for p in parts]),
        np.array([s[p].mean() for p in parts]),
    )


def fit_supernet(
    estimate: np.ndarray, truth: np.ndarray, genes: np.ndarray, radix: tuple[int, ...]
) -> dict[str, object]:
    """The model's parameters from one recorded supernet (see the module docstring).

    Parameters
    ----------
    estimate
        The supernet's accuracy of every architecture (index order).
    truth
        The stand-alone search metric of the same architectures.
    genes
        ``genes[i]`` = the decision tuple of architecture ``i``.
    radix
        The number of choices of each decision.
    """
    z, s = normal_scores(truth), normal_scores(estimate)
    knots_z, knots_s = mean_curve(z, s)
    residual = s - np.interp(z, knots_z, knots_s)
    additive = _least_squares_fit(residual, gene_features(genes, radix, pairs=False))
    rest = residual - additive
    pairwise = _least_squares_fit(rest, gene_features(genes, radix, pairs=True))
    parts = np.array([additive.var(), pairwise.var(), (rest - pairwise).var()])
    low, high = float(np.min(truth)), float(np.max(truth))
    quantiles = np.quantile(estimate, np.linspace(0.0, 1.0, VALUE_QUANTILES))
    return {
        "tau": kendall_tau(estimate, truth),
        "mean_curve": {"z": knots_z.tolist(), "s": knots_s.tolist()},
        "error_shares": {
            "additive": float(parts[0] / parts.sum()),
            "pairwise": float(parts[1] / parts.sum()),
            "idiosyncratic": float(parts[2] / parts.sum()),
        },
        "residual_sd": float(residual.std()),
        "value_quantiles": ((quantiles - low) / (high - low)).tolist(),
    }
