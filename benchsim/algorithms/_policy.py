"""Numpy pieces shared by the RL searchers (REINFORCE, PPO) and XferNAS's surrogate.

Kept in numpy on purpose: the policies are a few hundred parameters, so torch would only add an
import (and a second source of randomness) to the table path.

* :class:`Adam`: Kingma & Ba (2015), Algorithm 1, with L2 weight decay added to the gradient as
  ``torch.optim.Adam(weight_decay=...)`` does.
* :class:`DecisionSampler`: sequential sampling of a space's choice tuple
  (``space.decisions``), with the choices that cannot lead to a member of the space masked out.
  In the cell spaces every tuple is a member and the mask is all true; in the TNB101 macro space
  (3,256 members among 5**6 tuples) a choice is allowed when some member starts with the prefix
  chosen so far.  Masking keeps every sampled tuple valid and the log-probability exact, so no
  penalty reward and no rejection loop (whose gradient would ignore the rejected mass) is needed.
* :class:`MovingAverage`: the bias-corrected exponential moving average that NAS-Bench-201's
  REINFORCE uses as its baseline.
* :func:`gae`: generalised advantage estimation (Schulman et al., 2016, Eq. 16).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchsim.spaces import SearchSpace


class Adam:
    """Adam over a list of numpy arrays, updated in place.

    Parameters
    ----------
    params
        The arrays to optimise (float64); :meth:`step` changes them in place.
    lr
        Step size; may be changed between steps (PPO decays it).
    betas, eps
        Adam's moment decay rates and denominator constant (Kingma & Ba defaults).
    weight_decay
        L2 coefficient added to each gradient (``grad + weight_decay * param``).
    """

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        self.params = list(params)
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        # One flat state vector: a step is a dozen numpy calls whatever the number of arrays
        # (the networks here are small enough that per-call overhead is the cost).
        sizes = [p.size for p in self.params]
        self._bounds = np.cumsum([0, *sizes])
        self.m = np.zeros(self._bounds[-1])
        self.v = np.zeros(self._bounds[-1])
        self.t = 0

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """One Adam update with ``grads`` (same shapes as the parameters, loss gradients)."""
        b1, b2 = self.betas
        self.t += 1
        g = np.concatenate([np.ravel(x) for x in grads])
        if self.weight_decay:
            g += self.weight_decay * np.concatenate([p.ravel() for p in self.params])
        self.m *= b1
        self.m += (1.0 - b1) * g
        self.v *= b2
        self.v += (1.0 - b2) * g * g
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        update = (self.lr / c1) * self.m / (np.sqrt(self.v / c2) + self.eps)
        for p, lo, hi in zip(self.params, self._bounds[:-1], self._bounds[1:], strict=True):
            p -= update[lo:hi].reshape(p.shape)


def masked_log_softmax(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis restricted to ``mask``; masked entries get ``-inf``."""
    z = np.where(mask, logits, -np.inf)
    top = np.max(z, axis=-1, keepdims=True)
    shifted = z - top
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def sample_index(probs: np.ndarray, rng: np.random.Generator) -> int:
    """One draw from a probability vector by inverse CDF (one uniform from ``rng``)."""
    cdf = np.cumsum(probs)
    pick = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    pick = min(pick, len(probs) - 1)
    while probs[pick] <= 0.0:  # float round-off at the top end can land on a masked entry
        pick -= 1
    return pick


def sample_indices(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw from each row of ``probs``: :func:`sample_index` row by row, vectorised
    (the same uniforms in the same order, so the same draws)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))
    picks = np.sum(cdf <= (u * cdf[:, -1])[:, None], axis=1)
    picks = np.minimum(picks, probs.shape[1] - 1)
    for i in np.flatnonzero(probs[np.arange(len(probs)), picks] <= 0.0):
        while probs[i, picks[i]] <= 0.0:  # round-off at the top end landed on a masked entry
            picks[i] -= 1
    return picks


class DecisionSampler:
    """Which choice of ``space.decisions`` may come next, given the choices made so far.

    ``mask(prefix)`` is a bool vector of length ``width`` (the largest number of options):
    false for options beyond ``decisions[t]`` and for options no member of the space starts with.
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.decisions = tuple(int(d) for d in space.decisions)
        self.steps = len(self.decisions)
        self.width = max(self.decisions)
        self.structural = np.arange(self.width)[None, :] < np.array(self.decisions)[:, None]
        self.full_product = int(np.prod(self.decisions)) == space.size
        self._masks: dict[tuple[int, ...], np.ndarray] = {}
        if not self.full_product:
            table = space.decision_table()
            for t in range(self.steps):
                for row in np.unique(table[:, : t + 1], axis=0):
                    prefix = tuple(int(c) for c in row[:t])
                    mask = self._masks.setdefault(prefix, np.zeros(self.width, dtype=bool))
                    mask[row[t]] = True

    def mask(self, prefix: Sequence[int]) -> np.ndarray:
        """Allowed options for decision ``len(prefix)`` after ``prefix``."""
        if self.full_product:
            return self.structural[len(prefix)]
        return self._masks[tuple(prefix)]

    def batch_mask(self, prefixes: np.ndarray) -> np.ndarray:
        """:meth:`mask` of each row of ``prefixes`` (n, t), as an (n, width) array."""
        if self.full_product:
            return np.broadcast_to(self.structural[prefixes.shape[1]], (len(prefixes), self.width))
        return np.stack([self._masks[tuple(p)] for p in prefixes.tolist()])

    def masks(self, choices: Sequence[int]) -> np.ndarray:
        """``(steps, width)`` masks met along a complete choice tuple."""
        return np.stack([self.mask(choices[:t]) for t in range(self.steps)])

    def index(self, choices: Sequence[int]) -> int:
        """Space index of a complete (valid) choice tuple."""
        return int(self.space.from_decisions(tuple(int(c) for c in choices)))


class MovingAverage:
    """Bias-corrected exponential moving average (NB201 ``ExponentialMovingAverage``).

    ``value = sum_k m^(n-k) (1-m) x_k / sum_k m^(n-k) (1-m)``: the first value is returned
    unshrunk instead of ``(1-m) x_1``, so the baseline is sensible from the first step.
    """

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self.numerator = 0.0
        self.denominator = 0.0

    def update(self, x: float) -> None:
        m = self.momentum
        self.numerator = m * self.numerator + (1.0 - m) * x
        self.denominator = m * self.denominator + (1.0 - m)

    def value(self) -> float:
        return self.numerator / self.denominator if self.denominator else 0.0


class RunningMoments:
    """Mean and standard deviation of every value seen so far (Welford's algorithm)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0

    def update(self, x: float) -> None:
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)

    @property
    def std(self) -> float:
        return float(np.sqrt(self.m2 / (self.n - 1))) if self.n > 1 else 0.0


def gae(
    rewards: np.ndarray, values: np.ndarray, dones: np.ndarray, gamma: float, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and value targets by GAE (Schulman et al., 2016, Eq. 16).

    ``delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)`` and
    ``A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}``; the transitions are consecutive
    and the last one must end an episode (``dones[-1]``), as every stored episode does here.
    Returns ``(advantages, advantages + values)``.
    """
    n = len(rewards)
    adv = np.zeros(n, dtype=np.float64)
    running = 0.0
    for t in range(n - 1, -1, -1):
        not_done = 0.0 if dones[t] else 1.0
        next_value = values[t + 1] if t + 1 < n else 0.0
        delta = rewards[t] + gamma * next_value * not_done - values[t]
        running = delta + gamma * lam * not_done * running
        adv[t] = running
    return adv, adv + values
