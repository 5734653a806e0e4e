"""The two learned parts of KTNAS on architecture embeddings: a performance predictor per task
and the transfer-rank classifier.

Both are small and closed-form, so refitting them every generation costs microseconds:

* :class:`RidgePredictor`: ridge regression (with intercept) of a task's fitness on the
  embeddings of the architectures evaluated on it so far.
* :func:`transfer_votes`: an instance-based (k-nearest-neighbour, cosine similarity) classifier
  whose instances are the target task's evaluated architectures, labelled "ranks well" when
  their fitness reaches a quantile of the target's current population.  A candidate's vote is
  the fraction of its k nearest instances that rank well.
"""

from __future__ import annotations

import numpy as np

from benchsim._linalg import dot, matmul, solve_spd


class RidgePredictor:
    """Ridge regression ``y ~ X w + b``, solved in closed form on centred data.

    Parameters
    ----------
    alpha
        L2 penalty on ``w`` (the embeddings are standardised, so one scale fits all spaces).
    """

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.coef_: np.ndarray | None = None
        self.intercept_ = 0.0

    def fit(self, features: np.ndarray, targets: np.ndarray) -> RidgePredictor:
        """Fit on ``features`` (n, d) and ``targets`` (n,); NaN targets are ignored."""
        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(targets, dtype=np.float64)
        ok = np.isfinite(y)
        x, y = x[ok], y[ok]
        if y.size == 0:
            self.coef_, self.intercept_ = None, 0.0
            return self
        x_mean, y_mean = x.mean(axis=0), y.mean()
        xc = x - x_mean
        gram = matmul(xc.T, xc) + self.alpha * np.eye(x.shape[1])
        self.coef_ = solve_spd(gram, matmul(xc.T, y - y_mean))
        self.intercept_ = float(y_mean - dot(x_mean, self.coef_))
        return self

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` has seen at least one observation."""
        return self.coef_ is not None

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predicted fitness of each row of ``features``."""
        if self.coef_ is None:
            raise ValueError("RidgePredictor.predict called before fit")
        return matmul(np.asarray(features, dtype=np.float64), self.coef_) + self.intercept_


def unit_rows(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), for cosine similarity by dot product."""
    x = np.asarray(features, dtype=np.float64)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def transfer_votes(
    candidates: np.ndarray, instances: np.ndarray, good: np.ndarray, k: int
) -> np.ndarray:
    """Fraction of each candidate's ``k`` most cosine-similar instances labelled ``good``.

    Parameters
    ----------
    candidates
        Unit-length embeddings of the candidates, shape ``(c, d)``.
    instances
        Unit-length embeddings of the labelled instances, shape ``(n, d)``.
    good
        Label of each instance (True: it ranks well on the target task).
    k
        Neighbours consulted; ``min(k, n)`` when fewer instances exist.  Ties in similarity are
        broken by instance order (stable), so the vote is deterministic.

    Returns
    -------
    numpy.ndarray
        One vote in ``[0, 1]`` per candidate; all ones when there are no instances yet (no
        evidence against a transfer).
    """
    c = candidates.shape[0]
    n = instances.shape[0]
    if n == 0:
        return np.ones(c)
    k = min(k, n)
    similarity = matmul(candidates, instances.T)
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return np.asarray(good, dtype=np.float64)[nearest].mean(axis=1)
