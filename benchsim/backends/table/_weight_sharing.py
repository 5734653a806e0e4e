"""What a weight-sharing supernet would answer, emulated on a table (docs/weight_sharing.md).

A weight-sharing search (EMT-NAS, KTNAS) never sees stand-alone results: it sees a supernet's
estimates, which rank architectures far worse (Kendall tau about 0.44 on NB201 CIFAR-10, about
zero among the best cells) and improve as the shared weights train.  :class:`SupernetEmulator`
answers ``sampled_eval`` with such estimates:

* **converged estimate** per task: the *recorded* supernet estimate where the table has one
  (nb201 cifar10: ``oneshot_acc`` / ``fewshot_acc``, from a real trained supernet), else a
  *modelled* one (:mod:`._ws_model`, fitted to the recorded supernet, drawn once per run and
  task from the run's seed, calibrated to the target Kendall tau);
* **training**: a supernet is as trained as its training was.  Each training pass over a
  task's data adds ``ceil(train examples / batch size)`` SGD steps to that task's supernet
  (whatever the search *plans*: the plan does not enter).  After ``n`` steps the estimate's
  Kendall tau against the stand-alone metric is ``m(n)`` times the converged estimate's, its
  normal score ``c s + sqrt(1 - c^2) eta`` (``eta``: the untrained supernet's own ordering,
  fixed per run; ``c`` gives that tau under a Gaussian copula) and its value
  ``low + k(n) (v - low)``; ``m`` and ``k`` are :func:`~._ws_curve.training_fraction` curves
  anchored on published supernet measurements (``supernet_model.json``, docs);
* **joint training** (EMT-NAS's JT-S / JT-D, :meth:`SupernetEmulator.note_joint_pass`): the
  tasks of a joint pass share one supernet from then on, and each pass over the union of their
  data counts as one pass over every one of them, so each task's estimate follows the curve
  above exactly as a supernet of its own would after as much training on its data.  Nothing
  else changes: no effect of training on several tasks' data (transfer or interference) is
  modelled, since none has been measured (docs/weight_sharing.md);
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
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from benchsim._checks import check_int, check_number
from benchsim.backends.table._ws_curve import training_fraction
from benchsim.backends.table._ws_fit import normal_scores
from benchsim.backends.table._ws_model import (
    model_file,
    modelled_estimate,
    space_genes,
    supernet_fit,
)
from benchsim.backends.table._ws_stats import normal_cdf
from benchsim.backends.weight_sharing import joint_group
from benchsim.errors import ConfigError, UnknownNameError
from benchsim.spaces import SearchSpace

UPPER_BOUND = "standalone-upper-bound"
ESTIMATORS = ("oneshot", "fewshot", UPPER_BOUND)
SOURCES = ("recorded", "modelled")
OPTIONS = {
    "weight_sharing": "estimator",
    "ws_source": "source",
    "ws_tau": "tau",
    "ws_structure": "structure",
    "ws_rank_steps": "rank_scale",
    "ws_rank_shape": "rank_shape",
    "ws_level_steps": "level_scale",
    "ws_level_shape": "level_shape",
    "ws_level_start": "level_start",
    "ws_batch_size": "batch_size",
    "ws_train_size": "train_size",
    "ws_example_sd": "example_sd",
}
"""Backend option name (``--backend-option NAME=VALUE``) -> :class:`WeightSharingSettings` field."""
REMOVED_OPTIONS = {
    "ws_planned_passes": "a supernet's training is now the passes it had, whatever the search "
    "plans; ws_batch_size and ws_train_size set how many steps a pass is",
    "ws_rank_time_constant": "the curves are in SGD steps now: use ws_rank_steps",
    "ws_level_time_constant": "the curves are in SGD steps now: use ws_level_steps",
}
"""Options of earlier versions, refused with what replaced them."""
CURVE_SETTINGS = (
    "rank_scale",
    "rank_shape",
    "level_scale",
    "level_shape",
    "level_start",
    "batch_size",
)
"""The settings of the training curves (defaults in ``supernet_model.json``)."""
PARTLY_TRAINED = "partly-trained"
"""Suffix of the source label of an answer from a supernet short of its converged estimate."""


JOINT_NOTE = (
    "one supernet shared by these tasks, trained on their mixed mini-batches; emulated by each "
    "task's own estimate after as much training on its data (no joint-training effect modelled)"
)
"""What the table says of a jointly trained supernet's answers (``answers.weight_sharing``)."""

_CONVERGED = 1.0 - 1e-6
"""A training fraction this close to 1 answers the converged estimate itself (a last-digit
difference would only break the recorded estimate's ties)."""
FLOOR_TOLERANCE = 1e-3
"""A cell whose stand-alone metric is within this share of the task's range of its minimum is
at the floor: chance, an output that does not depend on the input (NB201: the 341 cells with
no path of operations from input to output)."""
DEFAULT_TRAIN_SIZE = 50_000
"""Training examples per epoch of a task whose catalog entry does not say (TNB101)."""


def is_rate(metric: str) -> bool:
    """Whether ``metric`` is a per-example success percentage (binomial noise applies)."""
    return metric.endswith(("_acc", "_top1", "_top5"))


@dataclass(frozen=True)
class WeightSharingSettings:
    """How the table answers weight-sharing jobs; ``None`` = the default.

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
        metric (default: the recorded supernet's, 0.442 one-shot / 0.525 few-shot).  It has no
        effect on a task with a recorded estimate (``source="recorded"``).
    structure
        Share of the modelled error that architectures with common operations share (default:
        the recorded supernet's, about 0.46).
    rank_scale, rank_shape, level_scale, level_shape, level_start
        The training curves (:func:`~._ws_curve.training_fraction`, in SGD steps) of rank
        agreement and of the value level (default: ``supernet_model.json``: shapes measured on
        the live backend, scales anchored on published supernets).
    batch_size
        Mini-batch size of the supernet's training, so ``ceil(train_size / batch_size)`` steps
        per pass (default 128: EMT-NAS's official configuration).
    train_size
        Training examples per pass of every task (default: the catalog's ``train_size`` of the
        task, 50,000 where it does not say).
    example_sd
        Per-example standard deviation, in the metric's units, of a metric that is not a rate
        (default: the binomial rule of the module docstring).
    """

    estimator: str = "oneshot"
    source: str = "recorded"
    tau: float | None = None
    structure: float | None = None
    rank_scale: float | None = None
    rank_shape: float | None = None
    level_scale: float | None = None
    level_shape: float | None = None
    level_start: float | None = None
    batch_size: int | None = None
    train_size: int | None = None
    example_sd: float | None = None

    def __post_init__(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise UnknownNameError("weight_sharing estimator", self.estimator, ESTIMATORS)
        if self.source not in SOURCES:
            raise UnknownNameError("ws_source", self.source, SOURCES)
        optional = [
            ("ws_tau", self.tau, 0.0, 1.0, True),
            ("ws_structure", self.structure, 0.0, 1.0, False),
            ("ws_rank_steps", self.rank_scale, 0.0, np.inf, True),
            ("ws_rank_shape", self.rank_shape, 0.0, np.inf, True),
            ("ws_level_steps", self.level_scale, 0.0, np.inf, True),
            ("ws_level_shape", self.level_shape, 0.0, np.inf, True),
            ("ws_level_start", self.level_start, 0.0, 1.0, False),
            ("ws_example_sd", self.example_sd, 0.0, np.inf, True),
        ]
        for name, value, low, high, low_open in optional:
            if value is not None:
                check_number(name, value, low, high, low_open=low_open)
        check_int("ws_batch_size", self.batch_size, 1, allow_none=True)
        check_int("ws_train_size", self.train_size, 1, allow_none=True)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> WeightSharingSettings:
        """Settings from backend options (``weight_sharing``, ``ws_*``); others are refused."""
        for key in options:
            if key in REMOVED_OPTIONS:
                raise ConfigError(
                    f"table backend option {key} was removed: {REMOVED_OPTIONS[key]} "
                    "(docs/weight_sharing.md)"
                )
            if key not in OPTIONS:
                raise UnknownNameError("table backend option", key, [*OPTIONS, "root", "progress"])
        return cls(**{OPTIONS[k]: v for k, v in options.items()})

    def options(self) -> dict[str, Any]:
        """The backend options that give these settings (defaults left out)."""
        names = {field: option for option, field in OPTIONS.items()}
        default = asdict(WeightSharingSettings())
        return {names[k]: v for k, v in asdict(self).items() if v != default[k]}

    def resolved(self) -> dict[str, Any]:
        """Every setting with its effective value (defaults filled in)."""
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
            "train_size": self.train_size,
            "default_train_size": DEFAULT_TRAIN_SIZE,
            "example_sd": self.example_sd,
            "training_curve": curve["about"],
        }


def _default(value: float | None, measured: object) -> float:
    return float(measured) if value is None else float(value)  # type: ignore[arg-type]


@dataclass
class TaskEstimate:
    """One task's converged estimate and everything a per-call answer needs."""

    values: np.ndarray
    scores: np.ndarray
    sorted_values: np.ndarray
    quantiles: np.ndarray
    untrained: np.ndarray
    low: float
    high: float
    tau: float
    source: str
    note: dict[str, Any]
    at_floor: np.ndarray


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
    train_size: int | None = None


@dataclass(frozen=True)
class TrainingState:
    """How trained a task's supernet is: the training it had and where that puts it on the
    curves (:meth:`SupernetEmulator.training`)."""

    epochs: float
    steps: float
    rank: float
    level: float

    @property
    def converged(self) -> bool:
        return self.rank >= _CONVERGED and self.level >= _CONVERGED


class SupernetEmulator:
    """Per-run state of the emulation: training per task and the drawn estimates.

    ``entropy`` seeds every draw (one ``SeedSequence`` child per task), so a run's estimates
    depend on its seed only; :meth:`state_dict` holds the epochs of training per task and which
    tasks share a supernet (the estimates are re-drawn identically from ``entropy`` after a
    resume).
    """

    def __init__(self, settings: WeightSharingSettings, entropy: int) -> None:
        self.settings = settings
        self.entropy = int(entropy)
        self.epochs_: dict[str, float] = {}
        self.joint_: dict[str, tuple[str, ...]] = {}
        self.joint_passes_: dict[str, int] = {}
        self._estimates: dict[str, TaskEstimate] = {}
        self._data: dict[str, TaskData] = {}

    @functools.cached_property
    def resolved(self) -> dict[str, Any]:
        """:meth:`WeightSharingSettings.resolved`, read on first use (opening stays cheap)."""
        return self.settings.resolved()

    # ------------------------------------------------------------------ training state
    def note_pass(self, task: str, epochs: float = 1.0) -> None:
        """``epochs`` passes over ``task``'s training data through its supernet (a
        ``train_pass`` is one)."""
        self.epochs_[task] = self.epochs_.get(task, 0.0) + float(epochs)

    def group_of(self, task: str) -> tuple[str, ...]:
        """The tasks whose supernet ``task``'s is (itself alone until a joint pass)."""
        return self.joint_.get(task, (task,))

    def note_joint_pass(self, tasks: tuple[str, ...]) -> None:
        """One pass over the union of ``tasks``' data through the supernet they share.

        The first joint pass over tasks that each have an untrained supernet of their own forms
        the shared one (:func:`~benchsim.backends.weight_sharing.joint_group` refuses anything
        else, as the live backend does).  Each task's data is passed over once, so each task
        counts one epoch (its estimate then moves along the training curve as a per-task
        supernet's would: no joint-training effect is modelled).
        """
        group = joint_group(tasks, self.group_of, lambda t: self.epochs_.get(t, 0.0) > 0)
        if group is None:
            group = tuple(tasks)
            self.joint_.update(dict.fromkeys(group, group))
        for task in tasks:
            self.note_pass(task)
            self.joint_passes_[task] = self.joint_passes_.get(task, 0) + 1

    def steps_per_epoch(self, data: TaskData) -> int:
        """SGD steps of one pass over ``data``'s training set (``ceil(examples / batch)``)."""
        size = self.settings.train_size or data.train_size or DEFAULT_TRAIN_SIZE
        return math.ceil(size / self.resolved["batch_size"])

    def training(self, data: TaskData, epochs: float | None = None) -> TrainingState:
        """Where ``data``'s supernet stands after ``epochs`` of training (default: what it has
        had in this run): its SGD steps and its rank and level fractions of converged."""
        done = self.epochs_.get(data.name, 0.0) if epochs is None else float(epochs)
        steps = done * self.steps_per_epoch(data)
        r = self.resolved
        rank = training_fraction(steps, r["rank_scale"], 0.0, r["rank_shape"])
        level = training_fraction(steps, r["level_scale"], r["level_start"], r["level_shape"])
        return TrainingState(epochs=done, steps=steps, rank=float(rank), level=float(level))

    def state_dict(self) -> dict[str, Any]:
        return {
            "epochs": dict(self.epochs_),
            "joint": {task: list(group) for task, group in self.joint_.items()},
            "joint_passes": dict(self.joint_passes_),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        # a checkpoint of an earlier version counted passes (one epoch each)
        epochs = state.get("epochs", state.get("passes", {}))
        self.epochs_ = {task: float(value) for task, value in epochs.items()}
        self.joint_ = {task: tuple(group) for task, group in state.get("joint", {}).items()}
        self.joint_passes_ = dict(state.get("joint_passes", {}))

    # ------------------------------------------------------------------ answers
    def estimates(
        self, data: TaskData, indices: np.ndarray, epochs: float | None = None
    ) -> tuple[np.ndarray, str]:
        """The supernet's whole-split estimates of ``indices`` and their source label.

        ``epochs``: the training to answer for (default: what the task's supernet has had;
        ``math.inf``: converged).  The label is the converged estimate's (``recorded:oneshot``,
        ``modelled:oneshot``, ...) once training has reached it, else
        ``modelled:<estimator>-partly-trained``: a number the training curve made.
        """
        est = self._estimate(data)
        if self.settings.estimator == UPPER_BOUND:
            return est.values[indices], est.source
        state = self.training(data, epochs)
        if state.converged:
            return est.values[indices], est.source
        c = _rank_agreement(state.rank, est.tau)
        score = c * est.scores[indices] + math.sqrt(1.0 - c * c) * est.untrained[indices]
        value = np.interp(normal_cdf(score), est.quantiles, est.sorted_values)
        # a cell whose output cannot depend on its input is at chance in any supernet, trained
        # or not: the untrained ordering never lifts it
        value = np.where(est.at_floor[indices], est.values[indices], value)
        label = f"modelled:{self.settings.estimator}-{PARTLY_TRAINED}"
        return est.low + state.level * (value - est.low), label

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

    def check_tasks(self, tasks: list[TaskData]) -> list[str]:
        """Refuse an unreachable ``ws_tau`` before a run writes anything (by building the
        modelled estimates now); returns warnings about settings without effect.

        Only a set ``ws_tau`` can be out of reach, so with the default nothing is built here
        (a run that never asks the supernet pays nothing)."""
        if self.settings.estimator == UPPER_BOUND or self.settings.tau is None:
            return []
        warnings = []
        for data in tasks:
            est = self._estimate(data)
            if self.settings.tau is not None and est.source.startswith("recorded:"):
                warnings.append(
                    f"ws_tau={self.settings.tau:g} has no effect on {data.name}: its supernet "
                    f"estimate is recorded ({est.note['values']}); add "
                    "--backend-option ws_source=modelled to model it there too"
                )
        return warnings

    def describe(self) -> dict[str, Any]:
        """Resolved settings plus, per task whose estimate exists, where it came from, how
        trained its supernet is, and (for a jointly trained supernet) with which tasks."""
        tasks = {}
        for name, est in self._estimates.items():
            tasks[name] = dict(est.note)
            if self.settings.estimator != UPPER_BOUND:
                tasks[name]["training"] = self._training_note(name, est)
        for name, group in self.joint_.items():
            tasks.setdefault(name, {})["joint"] = {
                "tasks": list(group),
                "joint_passes": self.joint_passes_.get(name, 0),
                "epochs": self.epochs_.get(name, 0.0),
                "note": JOINT_NOTE,
            }
        return {**self.resolved, "tasks": tasks}

    def _training_note(self, name: str, est: TaskEstimate) -> dict[str, Any]:
        data = self._data[name]
        state = self.training(data)
        return {
            "epochs": state.epochs,
            "steps": state.steps,
            "steps_per_epoch": self.steps_per_epoch(data),
            "rank_fraction": round(state.rank, 6),
            "level_fraction": round(state.level, 6),
            "converged": state.converged,
            "expected_tau": round(state.rank * est.tau, 6),
            "converged_tau": round(est.tau, 6),
            "answers": est.source
            if state.converged
            else f"modelled:{self.settings.estimator}-{PARTLY_TRAINED} (training curve)",
        }

    # ------------------------------------------------------------------ converged estimates
    def _estimate(self, data: TaskData) -> TaskEstimate:
        est = self._estimates.get(data.name)
        if est is None:
            est = self._estimates[data.name] = self._build(data)
            self._data[data.name] = data
        return est

    def _build(self, data: TaskData) -> TaskEstimate:
        """Draw (once per run and task) the converged estimate and the untrained ordering."""
        seq = np.random.SeedSequence(self.entropy, spawn_key=(data.code,))
        rng = np.random.default_rng(seq)
        untrained = rng.standard_normal(data.truth.size)
        r = self.resolved
        name = self.settings.estimator
        if name == UPPER_BOUND:
            values, source, tau = data.truth, f"recorded:{UPPER_BOUND}", 1.0
            note: dict[str, Any] = {"source": source, "values": f"stand-alone {data.metric}"}
        elif self.settings.source == "recorded" and _usable(data.recorded):
            values, source = data.recorded, f"recorded:{name}"
            fit = supernet_fit(name)
            tau = fit.tau  # the fit's own measurement of this recorded estimate
            note = {"source": source, "values": f"{fit.column} (recorded supernet estimate)"}
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
            values, source, tau = model.values, f"modelled:{name}", model.tau
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
        low, high = float(truth.min()), float(truth.max())
        return TaskEstimate(
            values=values,
            scores=normal_scores(values),
            sorted_values=np.sort(finite),
            quantiles=(np.arange(finite.size) + 0.5) / finite.size,
            untrained=untrained,
            low=low,
            high=high,
            tau=float(tau),
            source=source,
            note=note,
            at_floor=data.truth <= low + FLOOR_TOLERANCE * (high - low),
        )


def _rank_agreement(fraction: float, converged_tau: float) -> float:
    """The weight ``c`` of the converged scores that gives Kendall tau ``fraction *
    converged_tau`` against the stand-alone metric.

    Under a Gaussian copula tau and the correlation rho of normal scores are tied by
    ``rho = sin(pi tau / 2)``; mixing the converged scores (correlation ``rho_conv``) with an
    independent ordering scales the correlation by ``c``, so ``c = sin(pi tau / 2) /
    sin(pi tau_conv / 2)``.  (``benchmarks/ws_fidelity.py`` measures how close the achieved tau
    comes.)
    """
    if converged_tau <= 0.0:
        return float(fraction)
    target = math.sin(math.pi * fraction * converged_tau / 2.0)
    return min(target / math.sin(math.pi * converged_tau / 2.0), 1.0)


def _usable(recorded: np.ndarray | None) -> bool:
    """A recorded estimate is used only where the table has it for every architecture."""
    return recorded is not None and bool(np.isfinite(recorded).all())
