"""A supernet's converged estimate where none is recorded: the fitted model, drawn per run.

Only nb201 cifar10 has recorded supernet estimates.  For every other task the emulation draws
an estimate from the model that :mod:`._ws_fit` fitted to a recorded supernet, on normal
scores (``z``: the architecture's stand-alone rank on the task; ``s``: its supernet rank):

    s = g_t(z) + noise_t * residual_sd * e,       e = sqrt(a) A + sqrt(p) P + sqrt(r) R

* ``g_t`` moves from the identity (``t = 0``: the stand-alone ranking itself) to the fitted mean
  curve ``g`` (``t = 1``), ``g_t(z) = (1 - t) z + t g(z)``, and ``noise_t = max(t - 1, 0)``
  scales the error in from there (``t = 2``: the fitted error level).
* ``A`` is additive in the architecture's decisions (one N(0, 1) effect per decision and
  choice), ``P`` sums one effect per pair of decisions, ``R`` is independent per architecture;
  each is standardised over the space, and ``a, p, r`` are the fitted shares (``structure =
  a + p``, the part of the error that architectures with common operations share).  All effects
  are drawn once per run and task, so repeated evaluations of an architecture agree with each
  other (as with a real supernet) and not with the stand-alone value.
* ``t`` is solved for (Brent's method, :func:`._ws_stats.brent_root`) so that Kendall's tau-b
  of the resulting values against the stand-alone metric equals the target (default: the
  recorded supernet's own tau), on this task and these draws.
* Values: the rank quantile ``q`` of ``s`` read off the recorded estimates' normalised quantile
  function ``U`` (clipped to ``[0, 1]``), ``value = low + (high - low) U(q)`` with ``low, high``
  the task's stand-alone minimum and maximum: a supernet's scale (lower and wider than
  stand-alone training).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path

import numpy as np

from benchsim.backends.table._ws_stats import brent_root, kendall_tau, ordinal_ranks
from benchsim.errors import ConfigError, DataError
from benchsim.spaces import SearchSpace

MODEL_FILE = Path(__file__).with_name("supernet_model.json")
MAX_NOISE = 60.0
"""Largest ``t - 1`` the calibration tries: the error 60 times the fitted level (tau ~ 0)."""


@dataclass(frozen=True)
class SupernetFit:
    """One estimator's fitted parameters (see :mod:`._ws_fit` for their meaning)."""

    name: str
    column: str
    tau: float
    curve_z: np.ndarray
    curve_s: np.ndarray
    additive: float
    pairwise: float
    idiosyncratic: float
    residual_sd: float
    value_quantiles: np.ndarray

    @property
    def structure(self) -> float:
        """Share of the error shared by architectures with common operations."""
        return self.additive + self.pairwise


@cache
def model_file() -> dict[str, object]:
    """The packaged ``supernet_model.json`` (fits and measured training curve), parsed once."""
    try:
        return json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{MODEL_FILE} is unreadable ({exc}); reinstall benchsim") from None


@cache
def supernet_fit(name: str) -> SupernetFit:
    """The fit of estimator ``name`` (``"oneshot"`` or ``"fewshot"``)."""
    raw = model_file()["estimators"][name]
    shares = raw["error_shares"]
    return SupernetFit(
        name=name,
        column=raw["column"],
        tau=float(raw["tau"]),
        curve_z=np.asarray(raw["mean_curve"]["z"], dtype=np.float64),
        curve_s=np.asarray(raw["mean_curve"]["s"], dtype=np.float64),
        additive=float(shares["additive"]),
        pairwise=float(shares["pairwise"]),
        idiosyncratic=float(shares["idiosyncratic"]),
        residual_sd=float(raw["residual_sd"]),
        value_quantiles=np.asarray(raw["value_quantiles"], dtype=np.float64),
    )


@cache
def space_genes(space: SearchSpace) -> np.ndarray:
    """``genes[i]`` = the decision tuple of architecture ``i`` (built once per space)."""
    return space.decision_table()


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


def structured_error(
    genes: np.ndarray,
    radix: tuple[int, ...],
    fit: SupernetFit,
    structure: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """``e`` of the module docstring: unit-variance error, ``structure`` of it shared.

    The fitted additive:pairwise ratio splits ``structure``; the rest is independent.
    """
    n = genes.shape[0]
    additive = np.zeros(n)
    for j, r in enumerate(radix):
        additive += rng.standard_normal(r)[genes[:, j]]
    pairwise = np.zeros(n)
    for a, b in combinations(range(len(radix)), 2):
        pairwise += rng.standard_normal(radix[a] * radix[b])[genes[:, a] * radix[b] + genes[:, b]]
    rest = rng.standard_normal(n)
    shared = fit.additive + fit.pairwise
    a_share = structure * (fit.additive / shared if shared > 0 else 0.5)
    p_share = structure - a_share
    return (
        np.sqrt(a_share) * _standardise(additive)
        + np.sqrt(p_share) * _standardise(pairwise)
        + np.sqrt(1.0 - structure) * _standardise(rest)
    )


@dataclass(frozen=True)
class ModelledEstimate:
    """A modelled converged estimate of one task (values in the search metric's units)."""

    values: np.ndarray
    tau: float
    t: float


def modelled_estimate(
    truth: np.ndarray,
    genes: np.ndarray,
    radix: tuple[int, ...],
    fit: SupernetFit,
    *,
    target_tau: float,
    structure: float,
    rng: np.random.Generator,
    task: str,
) -> ModelledEstimate:
    """Draw the error, then solve for ``t`` so that tau(values, truth) == ``target_tau``.

    ``truth`` may hold NaN (architectures a partly covered table lacks): they get NaN.
    Raises :class:`ConfigError` naming the reachable range when the target is out of it.
    """
    from benchsim.backends.table._ws_fit import normal_scores

    finite = np.isfinite(truth)
    y = truth[finite]
    n = y.size
    z = normal_scores(y)
    error = fit.residual_sd * structured_error(genes[finite], radix, fit, structure, rng)
    mean = np.interp(z, fit.curve_z, fit.curve_s)
    low, high = float(y.min()), float(y.max())
    grid = np.linspace(0.0, 1.0, fit.value_quantiles.size)
    # A supernet may score the worst cell a little below the worst stand-alone value (one-shot:
    # 8.8 % against 9.7 % on cifar10); on other tasks the floor is the task's own minimum, so a
    # percentage never goes negative.
    scale = np.clip(fit.value_quantiles, 0.0, 1.0)

    def values_at(t: float) -> np.ndarray:
        s = (1.0 - min(t, 1.0)) * z + min(t, 1.0) * mean + max(t - 1.0, 0.0) * error
        q = (ordinal_ranks(s) - 0.5) / n
        return low + (high - low) * np.interp(q, grid, scale)

    def tau_at(t: float) -> float:
        return kendall_tau(values_at(t), y)

    top, bottom = tau_at(0.0), tau_at(1.0 + MAX_NOISE)
    if not bottom <= target_tau <= top:
        # rounded inwards, so the range shown never seems to hold the refused value
        low, high = math.ceil(bottom * 1000) / 1000, math.floor(top * 1000) / 1000
        raise ConfigError(
            f"ws_tau == {target_tau!r} cannot be reached on task {task}: the model's Kendall "
            f"tau there goes from {low:.3f} to {high:.3f}; give a ws_tau in that range"
        )
    t = brent_root(lambda t: tau_at(t) - target_tau, 0.0, 1.0 + MAX_NOISE, xtol=1e-3)
    out = np.full(truth.shape, np.nan)
    out[finite] = values_at(t)
    return ModelledEstimate(values=out, tau=tau_at(t), t=t)
