"""Ranks, Kendall's tau-b, the normal distribution and a root finder for the supernet model.

The emulation draws a modelled supernet estimate on the first weight-sharing job of a run
(:mod:`._ws_model`): ranks, normal scores, a dozen Kendall taus and a root search; a partly
trained supernet's answers go through the normal distribution function.  ``scipy.stats``,
``scipy.optimize`` and ``scipy.special`` would cost about half a second to import for that,
more than the rest of a default EMT-NAS run.  These versions use numpy and the standard
library:

* ranks are small integers or halves, exact in floating point however they are computed;
* tau-b is a ratio of integer pair counts, computed with scipy's formula (the same number);
* :func:`brent_root` takes the same steps as ``scipy.optimize.brentq`` (Brent's method in the
  form of scipy's ``brentq.c``), so it stops at the same ``t``;
* :func:`normal_cdf` and :func:`normal_quantile` come from ``math.erf``/``math.erfc`` and
  ``statistics.NormalDist``: within a few units in the last place of ``scipy.special.ndtr`` /
  ``ndtri``.  A rank never changes; of the default EMT-NAS run's 13,198 answers, 14 (partly
  trained supernet estimates) differ from what scipy gave, by one unit in the last place
  (1.4e-14), and its result.json and every golden run are unchanged.

``tests/backends/table/test_ws_stats.py`` compares each with scipy.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import numpy as np

_SQRT_HALF = math.sqrt(0.5)


def stable_order(x: np.ndarray) -> np.ndarray:
    """``np.argsort(x, kind="stable")`` (ties in index order), at the speed of the default sort.

    numpy's stable sort of floats is a merge sort, several times slower than its default one;
    sorting integer keys ``dense rank * n + index`` instead gives the same order.
    """
    x = np.asarray(x)
    n = x.size
    order = np.argsort(x)
    ordered = x[order]
    if n < 2 or not (ordered[1:] == ordered[:-1]).any():
        return order  # no ties: the order is the stable one
    dense = np.empty(n, dtype=np.int64)
    dense[order] = np.concatenate(([0], np.cumsum(ordered[1:] != ordered[:-1])))
    return np.sort(dense * n + np.arange(n)) % n


def ordinal_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks ``1..n``, ties broken by position (``scipy.stats.rankdata(method="ordinal")``)."""
    ranks = np.empty(np.size(x), dtype=np.int64)
    ranks[stable_order(x)] = np.arange(1, ranks.size + 1)
    return ranks


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks ``1..n``, tied values sharing their mean rank (``rankdata(method="average")``)."""
    x = np.asarray(x)
    n = x.size
    order = np.argsort(x)
    ordered = x[order]
    first = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.diff(np.append(first, n))
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(first + 1 + (counts - 1) / 2, counts)
    return ranks


def _dense(x: np.ndarray) -> np.ndarray:
    """Dense ranks ``0..k-1`` of ``x`` (equal values share one)."""
    return np.unique(x, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _tied_pairs(dense: np.ndarray) -> int:
    counts = np.bincount(dense)
    return int((counts * (counts - 1) // 2).sum())


def _inversions(a: np.ndarray) -> int:
    """Pairs ``i < j`` with ``a[i] > a[j]`` of a non-negative integer sequence.

    Sorting stably by the top bits of the values, then by one bit more, moves each element by
    the number of pairs that the new bit inverts (a 0 passes the 1s before it in its group,
    a 1 the 0s after it), so the count is half the total movement over all bits: one sort of
    ``(prefix, position)`` keys per bit, ``O(n log n)`` numpy work and no Python loop over the
    values.
    """
    n = a.size
    if n < 2:
        return 0
    shift = int(n - 1).bit_length()
    bits = int(a.max()).bit_length()
    dtype = np.int32 if bits + shift < 31 else np.int64
    a = a.astype(dtype)
    position = np.arange(n, dtype=dtype)
    mask = (1 << shift) - 1
    before = position  # everything shares the empty prefix: sequence order
    moved = 0
    for bit in range(bits - 1, -1, -1):
        keys = np.sort(((a >> bit) << shift) | position)
        after = np.empty(n, dtype=dtype)
        after[keys & mask] = position
        moved += int(np.abs(before - after).sum(dtype=np.int64))
        before = after
    return moved // 2


def kendall_tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two equally long 1-d arrays; NaN when either holds a NaN or is
    constant (``scipy.stats.kendalltau(x, y).statistic``, bit for bit)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise ValueError(f"kendall_tau needs arrays of one length, got {x.size} and {y.size}")
    if x.size < 2 or np.isnan(x).any() or np.isnan(y).any():
        return math.nan
    dx, dy = _dense(x), _dense(y)
    width = int(dy.max()) + 1
    joint = np.sort(dx * width + dy)
    # sorted by x, then y: a discordant pair is an inversion of the y ranks in that order
    discordant = _inversions(joint % width)
    n = x.size
    total = n * (n - 1) // 2
    runs = np.diff(np.flatnonzero(np.concatenate(([True], joint[1:] != joint[:-1], [True]))))
    both = int((runs * (runs - 1) // 2).sum())
    x_ties, y_ties = _tied_pairs(dx), _tied_pairs(dy)
    if x_ties == total or y_ties == total:
        return math.nan
    numerator = total - x_ties - y_ties + both - 2 * discordant
    tau = numerator / np.sqrt(total - x_ties) / np.sqrt(total - y_ties)
    return float(min(1.0, max(-1.0, tau)))


def _cdf(x: float) -> float:
    z = x * _SQRT_HALF
    if abs(z) < _SQRT_HALF:  # near the centre erf is the accurate one, in the tails erfc
        return 0.5 + 0.5 * math.erf(z)
    tail = 0.5 * math.erfc(abs(z))
    return 1.0 - tail if z > 0 else tail


def normal_cdf(x: np.ndarray | float) -> np.ndarray:
    """The standard normal distribution function, element-wise (``scipy.special.ndtr``)."""
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    out = np.fromiter(map(_cdf, flat.tolist()), dtype=np.float64, count=flat.size)
    return out.reshape(np.shape(x))


def normal_quantile(p: np.ndarray) -> np.ndarray:
    """The standard normal quantile function, element-wise (``scipy.special.ndtri``): -inf at
    0, inf at 1, NaN outside ``[0, 1]``."""
    import statistics  # on first use: opening a table imports this module, not that one

    flat = np.asarray(p, dtype=np.float64).reshape(-1)
    inverse = statistics.NormalDist().inv_cdf
    inside = (flat > 0) & (flat < 1)
    out = np.full(flat.size, np.nan)
    out[flat == 0], out[flat == 1] = -np.inf, np.inf
    out[inside] = np.fromiter(map(inverse, flat[inside].tolist()), dtype=np.float64)
    return out.reshape(np.shape(p))


RTOL = 4 * sys.float_info.epsilon
"""``scipy.optimize.brentq``'s default (and smallest allowed) relative tolerance."""


def brent_root(
    f: Callable[[float], float], a: float, b: float, xtol: float, rtol: float = RTOL
) -> float:
    """A root of ``f`` in ``[a, b]`` (where ``f`` changes sign) by Brent's method.

    The steps are those of ``scipy.optimize.brentq`` with its defaults (``rtol`` ``4 * eps``,
    100 iterations): inverse quadratic or secant steps while they shrink the bracket fast
    enough, bisection otherwise.  Raises :class:`ValueError` when ``f(a)`` and ``f(b)`` have the
    same sign or the search does not converge.
    """
    f_a, f_b = f(a), f(b)
    if f_a * f_b > 0:
        raise ValueError(f"f({a}) and f({b}) have the same sign: no root is bracketed")
    if f_a == 0:
        return a
    if f_b == 0:
        return b
    previous, f_previous, current, f_current = a, f_a, b, f_b
    blk, f_blk, step, last_step = 0.0, 0.0, 0.0, 0.0
    for _ in range(100):
        if f_previous * f_current < 0:  # the bracket is [previous, current]
            blk, f_blk = previous, f_previous
            step = last_step = current - previous
        if abs(f_blk) < abs(f_current):  # keep the best point as ``current``
            previous, current, blk = current, blk, current
            f_previous, f_current, f_blk = f_current, f_blk, f_current
        tol = (xtol + rtol * abs(current)) / 2
        half = (blk - current) / 2
        if f_current == 0 or abs(half) < tol:
            return current
        bisect = True
        if abs(last_step) > tol and abs(f_current) < abs(f_previous):
            if previous == blk:  # secant
                trial = -f_current * (current - previous) / (f_current - f_previous)
            else:  # inverse quadratic
                d_prev = (f_previous - f_current) / (previous - current)
                d_blk = (f_blk - f_current) / (blk - current)
                trial = (
                    -f_current
                    * (f_blk * d_blk - f_previous * d_prev)
                    / (d_blk * d_prev * (f_blk - f_previous))
                )
            if 2 * abs(trial) < min(abs(last_step), 3 * abs(half) - tol):
                last_step, step = step, trial
                bisect = False
        if bisect:
            last_step = step = half
        previous, f_previous = current, f_current
        current += step if abs(step) > tol else (tol if half > 0 else -tol)
        f_current = f(current)
    raise ValueError(f"no root found in [{a}, {b}] within 100 iterations")
