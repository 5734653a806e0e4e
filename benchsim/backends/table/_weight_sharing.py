"""What a weight-sharing supernet would answer, emulated on a table (docs/weight_sharing.md).

A weight-sharing search (EMT-NAS, KTNAS) never sees stand-alone results: it sees a supernet's
estimates, which rank architectures far worse (Kendall tau about 0.44 on NB201 CIFAR-10, about
zero among the best cells) and improve as the shared weights train.  :class:`SupernetEmulator`
answers ``sampled_eval`` with such estimates:

* **converged estimate** per task: the *recorded* supernet estimate where the table has one
  (nb201 cifar10: ``oneshot_acc`` / ``fewshot_acc``, from a real trained supernet), else a
  *modelled* one (:mod:`._ws_model`, fitted to the recorded supernet, drawn once per run and
  task from the run's seed, calibrated to the target Kendall tau);
* **training**: after ``n`` of the ``N`` planned passes (``x = n / N``) the estimate's normal
  score is ``c s + sqrt(1 - c^2) eta`` (``eta``: the untrained supernet's own ordering, fixed
  per run) and its value ``low + k (v - low)``, with ``c`` and ``k`` from
  :func:`~._ws_curve.training_fraction` and the constants measured on the live backend;
* **joint training** (EMT-NAS's JT-S / JT-D, :meth:`SupernetEmulator.note_joint_pass`): the
  tasks of a joint pass share one supernet from then on, and each pass over the union of their
  data counts as one pass for every one of them, so each task's estimate follows the curve
  above exactly as a supernet of its own would after as many passes.  Nothing else changes:
  no effect of training on several tasks' data (transfer or interference) is modelled, since
  none has been measured (docs/weight_sharing.md);
* **mini-batch noise**: a rate metric (``*_acc``, ``*_top1``, ``*_top5``) is the share of
  ``Binomial(batch, value / 100)``; any other metric (mIoU, SSIM, negated loss) the same
  binomial on its position in the task's stand-alone range ``[low, high]`` (or Gaussian with
  ``example_sd / sqrt(batch)`` when that per-example spread is given).  The whole validation
  split (``batch_size=None``) has no batch noise.

``standalone-upper-bound`` keeps the old behaviour under a name that says what it is: the
recorded stand-alone value (seed mean) plus batch noise, as if the supernet were perfect.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from benchsim._checks import check_int, check_number
from benchsim.backends.base import joint_group
from benchsim.backends.table._ws_curve import training_fraction
from benchsim.backends.table._ws_model import (
    model_file,
    modelled_estimate,
    space_genes,
    supernet_fit,
)
from benchsim.errors import UnknownNameError
from benchsim.spaces import SearchSpace

UPPER_BOUND = "standalone-upper-bound"
ESTIMATORS = ("oneshot", "fewshot", UPPER_BOUND)
SOURCES = ("recorded", "modelled")
OPTIONS = {
    "weight_sharing": "estimator",
    "ws_source": "source",
    "ws_tau": "tau",
    "ws_structure": "structure",
    "ws_rank_time_constant": "rank_time_constant",
    "ws_rank_shape": "rank_shape",
    "ws_level_time_constant": "level_time_constant",
    "ws_level_shape": "level_shape",
    "ws_level_start": "level_start",
    "ws_planned_passes": "planned_passes",
    "ws_example_sd": "example_sd",
}
"""Backend option name (``--backend-option NAME=VALUE``) -> :class:`WeightSharingSettings` field."""
CURVE_SETTINGS = (
    "rank_time_constant",
    "rank_shape",
    "level_time_constant",
    "level_shape",
    "level_start",
)
"""The settings of the training curves (measured defaults in ``supernet_model.json``)."""


JOINT_NOTE = (
    "one supernet shared by these tasks, trained on their mixed mini-batches; emulated by each "
    "task's own estimate after as many passes over its data (no joint-training effect modelled)"
)
"""What the table says of a jointly trained supernet's answers (``answers.weight_sharing``)."""

_CONVERGED = 1.0 - 1e-6
"""A training fraction this close to 1 answers the converged estimate itself (a last-digit
difference would only break the recorded estimate's ties)."""


def is_rate(metric: str) -> bool:
    """Whether ``metric`` is a per-example success percentage (binomial noise applies)."""
    return metric.endswith(("_acc", "_top1", "_top5"))


@dataclass(frozen=True)
class WeightSharingSettings:
    """How the table answers weight-sharing jobs; ``None`` = the measured default.

    Attributes
    ----------
    estimator
        ``"oneshot"`` (default) or ``"fewshot"``: a supernet of that kind (recorded on nb201
        cifar10, modelled elsewhere); ``"standalone-upper-bound"``: the stand-alone values, as
        if the supernet ranked perfectly (an upper bound, never what a real search sees).
    source
        ``"recorded"``: use the table's recorded estimate where it has one, the model elsewhere;
        ``"modelled"``: the model everywhere (a fresh supernet per seed, also on cifar10).
    tau
        Target Kendall tau-b of a modelled converged estimate against the stand-alone search
        metric (default: the recorded supernet's, 0.442 one-shot / 0.525 few-shot).
    structure
        Share of the modelled error that architectures with common operations share (default:
        the recorded supernet's, about 0.46).
    rank_time_constant, rank_shape, level_time_constant, level_shape, level_start
        The training curves (:func:`~._ws_curve.training_fraction`) of rank agreement and of
        the value level (default: measured on the live backend, ``supernet_model.json``).
    planned_passes
        Passes after which a supernet counts as converged (default: what the search announces,
        EMT-NAS its generations; else the task's schedule length in epochs).
    example_sd
        Per-example standard deviation, in the metric's units, of a metric that is not a rate
        (default: the binomial rule of the module docstring).
    """

    estimator: str = "oneshot"
    source: str = "recorded"
    tau: float | None = None
    structure: float | None = None
    rank_time_constant: float | None = None
    rank_shape: float | None = None
    level_time_constant: float | None = None
    level_shape: float | None = None
    level_start: float | None = None
    planned_passes: int | None = None
    example_sd: float | None = None

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise UnknownNameError("weight_sharing estimator", self.estimator, ESTIMATORS)
        if self.source not in SOURCES:
            raise UnknownNameError("ws_source", self.source, SOURCES)
        optional = [
            ("ws_tau", self.tau, 0.0, 1.0, True),
            ("ws_structure", self.structure, 0.0, 1.0, False),
            ("ws_rank_time_constant", self.rank_time_constant, 0.0, np.inf, True),
            ("ws_rank_shape", self.rank_shape, 0.0, np.inf, True),
            ("ws_level_time_constant", self.level_time_constant, 0.0, np.inf, True),
            ("ws_level_shape", self.level_shape, 0.0, np.inf, True),
            ("ws_level_start", self.level_start, 0.0, 1.0, False),
            ("ws_example_sd", self.example_sd, 0.0, np.inf, True),
        ]
        for name, value, low, high, low_open in optional:
            if value is not None:
                check_number(name, value, low, high, low_open=low_open)
        if self.planned_passes is not None:
            check_int("ws_planned_passes", self.planned_passes, 1)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> WeightSharingSettings:
        """Settings from backend options (``weight_sharing``, ``ws_*``); others are refused."""
        for key in options:
            if key not in OPTIONS:
                raise UnknownNameError("table backend option", key, [*OPTIONS, "root", "progress"])
        return cls(**{OPTIONS[k]: v for k, v in options.items()})

    def options(self) -> dict[str, Any]:
        """The backend options that give these settings (defaults left out)."""
        names = {field: option for option, field in OPTIONS.items()}
        default = asdict(WeightSharingSettings())
        return {names[k]: v for k, v in asdict(self).items() if v != default[k]}

    def resolved(self) -> dict[str, Any]:
        """Every setting with its effective value (measured defaults filled in)."""
        out: dict[str, Any] = {"estimator": self.estimator}
        if self.estimator == UPPER_BOUND:
            return {**out, "note": "stand-alone values: an upper bound, no supernet"}
        fit, curve = supernet_fit(self.estimator), model_file()["training"]
        return {
            **out,
            "source": self.source,
            "tau": fit.tau if self.tau is None else float(self.tau),
            "structure": fit.structure if self.structure is None else float(self.structure),
            **{name: _default(getattr(self, name), curve[name]) for name in CURVE_SETTINGS},
            "planned_passes": self.planned_passes,
            "example_sd": self.example_sd,
            "training_curve": f"{curve['provisional']} ({curve['results']})",
        }


def _default(value: float | None, measured: object) -> float:
    return float(measured) if value is None else float(value)  # type: ignore[arg-type]


@dataclass
class TaskEstimate:
    """One task's converged estimate and everything a per-call answer needs."""

    values: np.ndarray
    scores: np.ndarray
    sorted_values: np.ndarray
    untrained: np.ndarray
    low: float
    high: float
    source: str
    note: dict[str, Any]


@dataclass(frozen=True)
class TaskData:
    """What the emulator reads from the table for one task (all index-ordered)."""

    name: str
    code: int
    metric: str
    truth: np.ndarray
    recorded: np.ndarray | None
    space: SearchSpace
    epochs: int


class SupernetEmulator:
    """Per-run state of the emulation: training passes per task and the drawn estimates.

    ``entropy`` seeds every draw (one ``SeedSequence`` child per task), so a run's estimates
    depend on its seed only; :meth:`state_dict` holds the pass counters and which tasks share a
    supernet (the estimates are re-drawn identically from ``entropy`` after a resume).
    """

    def __init__(self, settings: WeightSharingSettings, entropy: int) -> None:
        self.settings = settings
        self.entropy = int(entropy)
        self.passes_: dict[str, int] = {}
        self.planned_: dict[str, int] = {}
        self.joint_: dict[str, tuple[str, ...]] = {}
        self.joint_passes_: dict[str, int] = {}
        self._estimates: dict[str, TaskEstimate] = {}

    @functools.cached_property
    def resolved(self) -> dict[str, Any]:
        """:meth:`WeightSharingSettings.resolved`, read on first use (opening stays cheap)."""
        return self.settings.resolved()

    # ------------------------------------------------------------------ training state
    def note_pass(self, task: str, planned: int | None) -> None:
        """One training pass of ``task``'s shared weights (``planned``: the search's plan)."""
        self.passes_[task] = self.passes_.get(task, 0) + 1
        if planned is not None:
            self.planned_[task] = int(planned)

    def group_of(self, task: str) -> tuple[str, ...]:
        """The tasks whose supernet ``task``'s is (itself alone until a joint pass)."""
        return self.joint_.get(task, (task,))

    def note_joint_pass(self, tasks: tuple[str, ...], planned: int | None) -> None:
        """One pass over the union of ``tasks``' data through the supernet they share.

        The first joint pass over tasks that each have an untrained supernet of their own forms
        the shared one (:func:`~benchsim.backends.base.joint_group` refuses anything else, as
        the live backend does).  Each task's data is passed over once, so each task counts one
        pass (its estimate then moves along the training curve as a per-task supernet's would:
        no joint-training effect is modelled).
        """
        group = joint_group(tasks, self.group_of, lambda t: self.passes_.get(t, 0) > 0)
        if group is None:
            group = tuple(tasks)
            self.joint_.update(dict.fromkeys(group, group))
        for task in tasks:
            self.note_pass(task, planned)
            self.joint_passes_[task] = self.joint_passes_.get(task, 0) + 1

    def progress(self, task: str, epochs: int) -> float:
        """``x = passes / planned`` in ``[0, 1]`` (see :class:`WeightSharingSettings`)."""
        planned = self.settings.planned_passes or self.planned_.get(task) or epochs
        return min(self.passes_.get(task, 0) / planned, 1.0)

    def state_dict(self) -> dict[str, Any]:
        return {
            "passes": dict(self.passes_),
            "planned": dict(self.planned_),
            "joint": {task: list(group) for task, group in self.joint_.items()},
            "joint_passes": dict(self.joint_passes_),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.passes_ = dict(state["passes"])
        self.planned_ = dict(state["planned"])
        self.joint_ = {task: tuple(group) for task, group in state.get("joint", {}).items()}
        self.joint_passes_ = dict(state.get("joint_passes", {}))

    # ------------------------------------------------------------------ answers
    def estimates(
        self, data: TaskData, indices: np.ndarray, progress: float | None = None
    ) -> tuple[np.ndarray, str]:
        """The supernet's whole-split estimates of ``indices`` and their source label.

        ``progress``: the training state ``x`` to answer for (default: the run's current one).
        """
        est = self._estimate(data)
        if self.settings.estimator == UPPER_BOUND:
            return est.values[indices], est.source
        x = self.progress(data.name, data.epochs) if progress is None else float(progress)
        r = self.resolved
        c = float(training_fraction(x, r["rank_time_constant"], 0.0, r["rank_shape"]))
        k = float(
            training_fraction(x, r["level_time_constant"], r["level_start"], r["level_shape"])
        )
        if c >= _CONVERGED and k >= _CONVERGED:  # a supernet this close to its plan: done
            return est.values[indices], est.source
        from scipy.special import ndtr  # imported on first use: opening a table stays cheap

        score = c * est.scores[indices] + np.sqrt(1.0 - c * c) * est.untrained[indices]
        grid = (np.arange(est.sorted_values.size) + 0.5) / est.sorted_values.size
        value = np.interp(ndtr(score), grid, est.sorted_values)
        return est.low + k * (value - est.low), est.source

    def batch_noise(
        self,
        data: TaskData,
        values: np.ndarray,
        batch_size: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """``values`` as measured on one random validation mini-batch of ``batch_size``."""
        if is_rate(data.metric):
            p = np.clip(np.nan_to_num(values, nan=0.0) / 100.0, 0.0, 1.0)
            return rng.binomial(batch_size, p) / batch_size * 100.0
        est = self._estimate(data)
        if self.settings.example_sd is not None:
            noise = rng.standard_normal(values.shape)
            return values + float(self.settings.example_sd) / np.sqrt(batch_size) * noise
        span = est.high - est.low
        u = np.clip(np.nan_to_num((values - est.low) / span, nan=0.0), 0.0, 1.0)
        return est.low + span * rng.binomial(batch_size, u) / batch_size

    def describe(self) -> dict[str, Any]:
        """Resolved settings plus, per task whose estimate exists, where it came from (and, for
        a jointly trained supernet, with which tasks and what that changes)."""
        tasks = {name: dict(est.note) for name, est in self._estimates.items()}
        for name, group in self.joint_.items():
            tasks.setdefault(name, {})["joint"] = {
                "tasks": list(group),
                "joint_passes": self.joint_passes_.get(name, 0),
                "passes": self.passes_.get(name, 0),
                "note": JOINT_NOTE,
            }
        return {**self.resolved, "tasks": tasks}

    # ------------------------------------------------------------------ converged estimates
    def _estimate(self, data: TaskData) -> TaskEstimate:
        est = self._estimates.get(data.name)
        if est is None:
            est = self._estimates[data.name] = self._build(data)
        return est

    def _build(self, data: TaskData) -> TaskEstimate:
        """Draw (once per run and task) the converged estimate and the untrained ordering."""
        from benchsim.backends.table._ws_fit import normal_scores  # scipy, on first use

        seq = np.random.SeedSequence(self.entropy, spawn_key=(data.code,))
        rng = np.random.default_rng(seq)
        untrained = rng.standard_normal(data.truth.size)
        r = self.resolved
        name = self.settings.estimator
        if name == UPPER_BOUND:
            values, source = data.truth, f"recorded:{UPPER_BOUND}"
            note: dict[str, Any] = {"source": source, "values": f"stand-alone {data.metric}"}
        elif self.settings.source == "recorded" and _usable(data.recorded):
            values, source = data.recorded, f"recorded:{name}"
            column = supernet_fit(name).column
            note = {"source": source, "values": f"{column} (recorded supernet estimate)"}
        else:
            fit = supernet_fit(name)
            model = modelled_estimate(
                data.truth,
                space_genes(data.space),
                data.space.decisions,
                fit,
                target_tau=r["tau"],
                structure=r["structure"],
                rng=rng,
                task=data.name,
            )
            values, source = model.values, f"modelled:{name}"
            note = {
                "source": source,
                "values": f"modelled from the recorded {fit.column} fit",
                "target_tau": r["tau"],
                "tau": model.tau,
                "t": model.t,
            }
        values = np.asarray(values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        truth = data.truth[np.isfinite(data.truth)]
        return TaskEstimate(
            values=values,
            scores=normal_scores(values),
            sorted_values=np.sort(finite),
            untrained=untrained,
            low=float(truth.min()),
            high=float(truth.max()),
            source=source,
            note=note,
        )


def _usable(recorded: np.ndarray | None) -> bool:
    """A recorded estimate is used only where the table has it for every architecture."""
    return recorded is not None and bool(np.isfinite(recorded).all())
