"""The query contract every backend meets (table lookups today, live training tomorrow).

A :class:`Benchmark` answers "train architecture ``arch`` on ``task`` and tell me ``metric``":
:meth:`Benchmark.query` for one question, :meth:`Benchmark.query_many` for a vector of them.
Every answer carries the cost in seconds of obtaining it (the recorded training time on the table
backend, real seconds on the live one) so a simulated clock can charge it, and says which split,
seed, epoch and schedule produced it.

Call sequence: ``bench = benchsim.benchmark("nb201")``; ``bench.tasks`` lists the tasks;
``bench.task_info(task)`` names the task's metrics, its search metric (validation) and its test
metric; then any number of ``query`` / ``query_many`` calls.  The public methods validate their
arguments and then call the private ``_query`` / ``_query_many`` hooks that subclasses implement.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal

import numpy as np

from benchsim._checks import check_int
from benchsim.catalog import TaskInfo
from benchsim.errors import (
    BackendError,
    ConfigError,
    UnknownMetricError,
    UnknownNameError,
    UnknownTaskError,
)
from benchsim.spaces import ArchLike, SearchSpace

SeedLike = int | Literal["sample"] | None
"""``None``: the mean over recorded training seeds; an int: that recorded seed; ``"sample"``:
one recorded seed drawn with the benchmark's generator (as the official NB201 API's
``is_random=True`` does)."""


def _check_seed(seed: object) -> None:
    """Raise :class:`ConfigError` unless ``seed`` is a :data:`SeedLike` (``None`` is checked
    by the caller, so the common case costs nothing)."""
    if isinstance(seed, str):
        if seed == "sample":
            return
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return
    raise ConfigError(f"seed == {seed!r}, must be None, an int or 'sample'")


@dataclass(frozen=True, init=False)
class Result:
    """One answered query.

    ``metrics`` maps each requested metric to its value; ``cost`` is the seconds it took (or, on
    the table backend, that the benchmark recorded) to obtain them.  ``seed`` is the training
    seed the values come from (``None`` = mean over recorded seeds), ``epoch`` the epoch
    (``None`` = end of the schedule) and ``schedule`` the schedule length in epochs.
    """

    arch: int
    task: str
    metrics: Mapping[str, float]
    cost: float
    seed: int | None = None
    epoch: int | None = None
    schedule: int | None = None

    def __init__(
        self,
        arch: int,
        task: str,
        metrics: Mapping[str, float],
        cost: float,
        seed: int | None = None,
        epoch: int | None = None,
        schedule: int | None = None,
    ) -> None:
        # Hand-written instead of the generated frozen ``__init__`` (one ``object.__setattr__``
        # per field): a table lookup is a few microseconds and building its Result was half of
        # it.  Same signature, still a frozen dataclass (``replace``, ``asdict`` and ``==`` work;
        # setting an attribute is refused, filling the new instance's dict is not).
        fields = self.__dict__
        fields["arch"] = arch
        fields["task"] = task
        fields["metrics"] = metrics
        fields["cost"] = cost
        fields["seed"] = seed
        fields["epoch"] = epoch
        fields["schedule"] = schedule

    def __getitem__(self, metric: str) -> float:
        try:
            return self.metrics[metric]
        except KeyError:
            raise UnknownMetricError(metric, self.metrics, "in this result") from None

    @property
    def value(self) -> float:
        """The value of the single metric asked for (the first one if several)."""
        return next(iter(self.metrics.values()))

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form (used by ``benchsim query``)."""
        return {
            "arch": self.arch,
            "task": self.task,
            "metrics": {k: (None if v != v else float(v)) for k, v in self.metrics.items()},
            "cost_s": float(self.cost),
            "seed": self.seed,
            "epoch": self.epoch,
            "schedule": self.schedule,
        }


def _probabilities(
    name: str, weights: Sequence[float] | np.ndarray | None, indices: np.ndarray
) -> np.ndarray | None:
    """``weights`` normalised to sum 1 (``None`` stays ``None``); one line if malformed."""
    if weights is None:
        return None
    try:
        probs = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        probs = np.full(1, np.nan)
    if probs.shape != indices.shape or not (probs >= 0).all() or probs.sum() <= 0:
        raise ConfigError(
            f"{name} {weights!r} must be one non-negative number per architecture "
            "with a positive sum"
        )
    return probs / probs.sum()


def joint_group(
    tasks: Sequence[str],
    group_of: Callable[[str], tuple[str, ...]],
    trained: Callable[[str], bool],
) -> tuple[str, ...] | None:
    """Which supernet a joint pass over ``tasks`` trains, by the rule both backends follow.

    ``group_of(t)``: the tasks sharing ``t``'s supernet now; ``trained(t)``: whether that
    supernet has trained yet.  Returns the group when all ``tasks`` already share one supernet;
    ``None`` when a new one must be formed for exactly them (allowed only while none of them has
    trained: weights trained apart cannot become one supernet); otherwise a one-line
    :class:`ConfigError`.
    """
    groups = {group_of(t) for t in tasks}
    if len(groups) == 1:
        return next(iter(groups))
    listed = ", ".join(tasks)
    for task in tasks:
        if trained(task):
            raise ConfigError(
                f"joint_train_pass over {listed}: {task} was already trained in a supernet of "
                "its own; a joint pass needs tasks that share one supernet from their first "
                "training step"
            )
        left_out = [t for t in group_of(task) if t not in tasks]
        if left_out:
            raise ConfigError(
                f"joint_train_pass over {listed}: {task} shares its supernet with "
                f"{', '.join(left_out)}, which this pass leaves out; give all of them"
            )
    return None


@dataclass(frozen=True)
class BatchResult:
    """Answers of :meth:`Benchmark.query_many`: ``values[i]`` and ``cost[i]`` per question.

    ``source`` says where weight-sharing answers come from (:meth:`Benchmark.sampled_eval`):
    ``"recorded:<estimator>"`` (a recorded supernet estimate), ``"modelled:<estimator>"`` (the
    table's model of one), ``"live:supernet"`` (a trained supernet); empty for lookups.
    """

    values: np.ndarray
    cost: np.ndarray
    source: str = ""


@dataclass(frozen=True)
class Traits:
    """How a backend's runs are scheduled and recorded: the one place the runner, sweeps and
    reports ask, instead of comparing backend names.

    Attributes
    ----------
    tabular
        Answers are free lookups in recorded tables: a simulated clock (checkpoints by wall
        time), test metrics recorded for every trajectory row, a table optimum for regret.
    gpus_per_run
        GPUs one run occupies (what a Ray sweep reserves per run).
    device_slots
        GPUs a local pool of runs may spread its workers over; ``None``: runs need none.
    """

    tabular: bool = False
    gpus_per_run: int = 0
    device_slots: tuple[str, ...] | None = None


class Benchmark(ABC):
    """A multi-task benchmark over one search space; see the module docstring for the sequence.

    A new backend writes a subclass that sets ``backend`` (its registered name), ``name``,
    ``space`` and ``_tasks`` (a mapping name -> :class:`TaskInfo`) and implements the two
    abstract hooks :meth:`_query` and :meth:`_query_many`; then registers an ``open`` function
    with :func:`benchsim.backends.register_backend` in a subpackage of
    :mod:`benchsim.backends`.  Everything else has a default that a backend overrides only if
    it can do more: :meth:`_train_pass` / :meth:`_sampled_eval` / :meth:`_joint_train_pass`
    (weight-sharing steps; the default refuses them), :meth:`_task_distance` (task distances
    from the tasks' data; the default refuses), :meth:`evaluation_protocol`,
    :meth:`provenance`, :meth:`answer_notes`, :meth:`state_dict` / :meth:`load_state_dict`
    (checkpoints) and :attr:`traits` (devices).  The public methods validate and then call the
    hooks.
    """

    backend: str = ""
    name: str
    space: SearchSpace
    _tasks: Mapping[str, TaskInfo]
    _resolved_queries: dict | None = None

    # ------------------------------------------------------------------ tasks and metrics
    @property
    def tasks(self) -> tuple[str, ...]:
        """Canonical names of the tasks this benchmark answers for, in a fixed order."""
        return tuple(self._tasks)

    def task_info(self, task: str) -> TaskInfo:
        """:class:`TaskInfo` of ``task`` (canonical name or alias)."""
        return self._tasks[self.resolve_task(task)]

    def resolve_task(self, task: str) -> str:
        """Canonical name of ``task``; raises :class:`UnknownTaskError` listing the tasks."""
        if isinstance(task, str):
            if task in self._tasks:
                return task
            folded = task.lower()
            for info in self._tasks.values():
                if folded == info.name.lower() or folded in (a.lower() for a in info.aliases):
                    return info.name
        raise UnknownTaskError(task, self.tasks, f"in benchmark {self.name}")

    def resolve_metric(self, task: str, metric: str | None) -> str:
        """Validated metric name; ``None`` means the task's search metric."""
        info = self.task_info(task)
        if metric is None:
            return info.search_metric
        if metric not in info.metrics:
            raise UnknownMetricError(metric, info.metrics, f"for task {info.name} of {self.name}")
        return metric

    # ------------------------------------------------------------------ queries
    def query(
        self,
        arch: ArchLike,
        task: str,
        metric: str | Sequence[str] | None = None,
        *,
        epoch: int | None = None,
        seed: SeedLike = None,
        schedule: int | None = None,
    ) -> Result:
        """Metrics of one architecture on one task, with the cost of obtaining them.

        Parameters
        ----------
        arch
            Index, official string, or NASLib op_indices.
        task
            Task name (see :attr:`tasks`).
        metric
            One metric, a list of them, or ``None`` for the task's search metric.
        epoch
            0-based epoch of the schedule; ``None`` = the end of the schedule.
        seed
            See :data:`SeedLike`.
        schedule
            Schedule length in epochs (NB201: 200, or 12 for the separate short schedule);
            ``None`` = the task's standard schedule.

        Examples
        --------
        >>> bench = benchmark("nb201")  # doctest: +SKIP
        >>> bench.query(0, "cifar10", "test_acc")["test_acc"]  # doctest: +SKIP
        85.86333333333334
        """
        # Validation is the same for every call with the same (task, metric), so its outcome
        # is cached: a table lookup costs microseconds and re-resolving names would dominate.
        cache = self._resolved_queries
        if cache is None:
            cache = self._resolved_queries = {}
        try:
            key = (task, metric if metric is None or isinstance(metric, str) else tuple(metric))
            name, metrics = cache[key]
        except (KeyError, TypeError):
            name, metrics = self._resolve_query(task, metric)
            with suppress(TypeError):  # unhashable task or metric: valid, just not cached
                cache[key] = (name, metrics)
        space = self.space
        index = arch if type(arch) is int and 0 <= arch < space.size else space.index(arch)
        kind = type(seed)
        if seed is not None and kind is not int and not (kind is str and seed == "sample"):
            _check_seed(seed)  # the common seeds cost two comparisons, not a call
        return self._query(index, name, metrics, epoch=epoch, seed=seed, schedule=schedule)

    def _resolve_query(
        self, task: str, metric: str | Sequence[str] | None
    ) -> tuple[str, tuple[str, ...]]:
        """Canonical task name and validated metric tuple of one :meth:`query` call."""
        name = self.resolve_task(task)
        if metric is None or isinstance(metric, str):
            names = [metric]
        elif isinstance(metric, (list, tuple)):
            names = list(metric)
        else:
            raise ConfigError(
                f"metric == {metric!r} has type {type(metric).__name__}; give a metric name, "
                "a list of names or None"
            )
        if not names:
            raise ConfigError("metric == [], give at least one metric name")
        return name, tuple(self.resolve_metric(name, m) for m in names)

    def evaluator(
        self,
        task: str,
        metric: str | None = None,
        *,
        seed: SeedLike = None,
        schedule: int | None = None,
    ) -> Callable[[ArchLike], tuple[float, float]]:
        """A function ``arch -> (value, cost)`` that answers as :meth:`query` does, for a
        search that asks the same task, metric and protocol over and over.

        The names and the seed are checked once, here; each call then costs the lookup alone
        (a table answers in well under a microsecond instead of building a :class:`Result`).
        Calls answer and draw (``seed="sample"``) exactly as the same sequence of
        :meth:`query` calls would.  Backends with a faster path override :meth:`_evaluator`.
        """
        name, metrics = self._resolve_query(task, metric)
        if len(metrics) != 1:
            raise ConfigError(f"metric == {metric!r}: an evaluator answers one metric")
        if seed is not None:
            _check_seed(seed)
        return self._evaluator(name, metrics[0], seed, schedule)

    def _evaluator(
        self, task: str, metric: str, seed: SeedLike, schedule: int | None
    ) -> Callable[[ArchLike], tuple[float, float]]:
        """Hook: the function :meth:`evaluator` returns (default: one :meth:`query` a call)."""
        query = self.query

        def answer(arch: ArchLike) -> tuple[float, float]:
            result = query(arch, task, metric, seed=seed, schedule=schedule)
            return result.metrics[metric], result.cost

        return answer

    def query_many(
        self,
        archs: Sequence[ArchLike] | np.ndarray,
        tasks: str | Sequence[str] | np.ndarray,
        metric: str | None = None,
        *,
        seed: SeedLike = None,
    ) -> BatchResult:
        """Vectorised :meth:`query` of final metrics.

        ``tasks`` is one task name for all questions, or an array with one entry per question:
        task names, or integer task codes (positions in :attr:`tasks`, the fastest form).
        Only final (end-of-schedule) values are served here; per-epoch questions go to
        :meth:`query`.  With ``metric=None`` every task in the batch must share its search
        metric (TransNAS-Bench-101's tasks do not: name the metric there).
        """
        if (
            type(archs) is np.ndarray
            and archs.dtype == np.int64
            and (archs.size == 0 or archs.view(np.uint64).max() < self.space.size)
        ):
            indices = archs  # already valid: one pass (negatives wrap to huge when unsigned)
        else:
            indices = self.space.indices(archs)
        n_tasks = len(self._tasks)
        if isinstance(tasks, str):
            name = self.resolve_task(tasks)
            resolved = self.resolve_metric(name, metric)
            codes: np.ndarray | int = self.tasks.index(name)
        else:
            arr = np.asarray(tasks)
            if arr.shape != indices.shape:
                raise ConfigError(
                    f"tasks has shape {arr.shape}, must be a single name or match archs "
                    f"{indices.shape}"
                )
            present: np.ndarray | None = None
            if arr.dtype.kind in "iu":
                codes = arr.astype(np.int64, copy=False)
                # One pass: a negative code viewed as unsigned is huge, so max() catches both.
                if codes.size and codes.view(np.uint64).max() >= n_tasks:
                    raise UnknownTaskError(
                        int(codes[(codes < 0) | (codes >= n_tasks)][0]),
                        [f"{i}={t}" for i, t in enumerate(self.tasks)],
                        f"code in benchmark {self.name}",
                    )
            elif arr.dtype.kind in "USO":
                uniq, inverse = np.unique(arr, return_inverse=True)
                names = [self.resolve_task(str(u)) for u in uniq]
                lookup = np.array([self.tasks.index(n) for n in names], dtype=np.int64)
                codes = lookup[inverse.reshape(arr.shape)]
                present = np.unique(lookup)
            else:
                raise ConfigError(
                    f"tasks has dtype {arr.dtype}; give task names or integer task codes "
                    f"0..{n_tasks - 1}"
                )
            resolved = self._batch_metric(metric, codes, present)
        if seed is not None:
            _check_seed(seed)
        return self._query_many(indices, codes, resolved, seed=seed)

    def _batch_metric(
        self, metric: str | None, codes: np.ndarray, present: np.ndarray | None
    ) -> str:
        """The one metric a mixed-task batch asks for, valid on every task it holds.

        The cheap check against all tasks comes first; only when it fails does the batch get
        scanned for the tasks it really holds (an O(n) pass instead of a sort).
        """
        infos = list(self._tasks.values())
        if metric is None and len({i.search_metric for i in infos}) == 1:
            return infos[0].search_metric
        if metric is not None and all(metric in i.metrics for i in infos):
            return metric
        if present is None:
            present = np.flatnonzero(np.bincount(codes.ravel(), minlength=len(infos)))
        held = [infos[int(i)] for i in present] or infos[:1]
        if metric is None:
            wanted = {i.search_metric for i in held}
            if len(wanted) > 1:
                listed = ", ".join(f"{i.name}: {i.search_metric}" for i in held)
                raise ConfigError(
                    f"metric == None over tasks whose search metrics differ ({listed}); "
                    "give metric explicitly"
                )
            return held[0].search_metric
        for info in held:
            self.resolve_metric(info.name, metric)
        return metric

    def recorded_seeds(
        self,
        arch: ArchLike,
        task: str,
        metric: str | None = None,
        *,
        schedule: int | None = None,
    ) -> tuple[int, ...]:
        """Training seeds whose final value of ``metric`` (default: the task's search metric)
        the benchmark records for ``arch`` on ``task`` under ``schedule``, ascending: the ints
        :meth:`query` accepts as ``seed`` there.  ``()`` where only the seed mean is recorded
        (what a backend without per-seed data says, the default).

        Examples
        --------
        >>> benchmark("nb201").recorded_seeds(0, "cifar10", "valid_acc")  # doctest: +SKIP
        (0, 1, 2)
        """
        name, (resolved,) = self._resolve_query(task, metric)
        index = (
            arch if type(arch) is int and 0 <= arch < self.space.size else self.space.index(arch)
        )
        check_int("schedule", schedule, 1, allow_none=True)
        return self._recorded_seeds(index, name, resolved, schedule)

    def _recorded_seeds(
        self, index: int, task: str, metric: str, schedule: int | None
    ) -> tuple[int, ...]:
        """Hook of :meth:`recorded_seeds` (validated arguments); no per-seed data by default."""
        return ()

    @abstractmethod
    def _query(
        self,
        index: int,
        task: str,
        metrics: tuple[str, ...],
        *,
        epoch: int | None,
        seed: SeedLike,
        schedule: int | None,
    ) -> Result:
        """Answer one validated question."""

    @abstractmethod
    def _query_many(
        self, indices: np.ndarray, task_codes: np.ndarray | int, metric: str, *, seed: SeedLike
    ) -> BatchResult:
        """Answer validated vectorised questions (``task_codes`` int or int64 array)."""

    # ------------------------------------------------------------------ weight-sharing steps
    def train_pass(
        self,
        task: str,
        archs: Sequence[int] | np.ndarray,
        *,
        rng: np.random.Generator,
        weights: Sequence[float] | None = None,
        planned_passes: int | None = None,
    ) -> float:
        """One pass over ``task``'s training data, each mini-batch training one of ``archs``.

        EMT-NAS's sampled training (Algorithm 3 of its supplementary).  ``weights`` are the
        per-mini-batch selection probabilities of the architectures (uniform if ``None``);
        ``planned_passes`` is how many passes the search plans for this task's shared weights
        (a learning-rate schedule may use it; the table's emulation does not: a supernet is as
        trained as the passes it had).
        Returns the cost in seconds: real training time on a live backend, the recorded time of
        one training epoch of the architectures involved on a table.
        """
        name = self.resolve_task(task)
        indices = self.space.indices(archs)
        if indices.size == 0:
            raise ConfigError("train_pass got no architectures; give at least one")
        probs = _probabilities("weights", weights, indices)
        check_int("planned_passes", planned_passes, 1, allow_none=True)
        planned = None if planned_passes is None else int(planned_passes)
        return float(
            self._train_pass(name, indices, rng=rng, weights=probs, planned_passes=planned)
        )

    def joint_train_pass(
        self,
        tasks: Sequence[str],
        archs: Sequence[Sequence[int] | np.ndarray],
        *,
        rng: np.random.Generator,
        weights: Sequence[Sequence[float] | None] | None = None,
        planned_passes: int | None = None,
    ) -> float:
        """One pass over the union of ``tasks``' training data through one shared supernet.

        The joint training of EMT-NAS's JT-S / JT-D baselines (supplementary appendix D):
        every mini-batch of every task once, the tasks' mini-batches mixed in one random order
        (drawn with ``rng``), a mini-batch of ``tasks[i]`` training one of ``archs[i]`` through
        that task's head, chosen with the probabilities ``weights[i]`` (uniform where
        ``weights`` or its entry is ``None``).  The tasks train one supernet: the one they
        already share, else one formed for them now, which needs every one of them untrained
        so far (:func:`joint_group`); a joint pass over tasks trained apart is refused.
        Returns the cost in seconds (real training time live; on a table, the recorded epoch
        times of every task's share, as if each task had had its own :meth:`train_pass`).
        """
        if isinstance(tasks, str) or not isinstance(tasks, (list, tuple)):
            raise ConfigError(
                f"tasks == {tasks!r}, must be a list of task names (one per architecture list)"
            )
        names = tuple(self.resolve_task(t) for t in tasks)
        if not names:
            raise ConfigError("joint_train_pass got no tasks; give at least one")
        twice = sorted({t for t in names if names.count(t) > 1})
        if twice:
            raise ConfigError(f"joint_train_pass got task {twice[0]} twice; give each task once")
        if isinstance(archs, (str, np.ndarray)) or len(archs) != len(names):
            raise ConfigError(
                f"joint_train_pass got {len(archs)} architecture lists for {len(names)} tasks; "
                "give one list per task"
            )
        indices = [self.space.indices(a) for a in archs]
        for name, index in zip(names, indices, strict=True):
            if index.size == 0:
                raise ConfigError(
                    f"joint_train_pass got no architectures for {name}; give at least one"
                )
        if weights is None:
            weights = [None] * len(names)
        elif isinstance(weights, (str, np.ndarray)) or len(weights) != len(names):
            raise ConfigError(
                f"joint_train_pass got {len(weights)} weight lists for {len(names)} tasks; give "
                "one per task (None: uniform)"
            )
        probs = [
            _probabilities(f"weights of {name}", w, index)
            for name, w, index in zip(names, weights, indices, strict=True)
        ]
        check_int("planned_passes", planned_passes, 1, allow_none=True)
        planned = None if planned_passes is None else int(planned_passes)
        return float(
            self._joint_train_pass(names, indices, rng=rng, weights=probs, planned_passes=planned)
        )

    def sampled_eval(
        self,
        task: str,
        archs: Sequence[int] | np.ndarray,
        *,
        rng: np.random.Generator,
        batch_size: int | None = 256,
    ) -> BatchResult:
        """Search-metric estimate of each of ``archs`` from one random validation mini-batch.

        EMT-NAS's sampled evaluating (Algorithm 4).  ``batch_size=None`` evaluates on the whole
        validation split instead (Algorithm 1 line 12).  Returns one value and one cost per
        architecture, and the answers' ``source``: always a supernet's estimate (trained on a
        live backend, recorded or modelled on a table), never the stand-alone value.
        """
        name = self.resolve_task(task)
        indices = self.space.indices(archs)
        check_int("batch_size", batch_size, 1, allow_none=True)
        size = None if batch_size is None else int(batch_size)
        return self._sampled_eval(name, indices, rng=rng, batch_size=size)

    def _train_pass(
        self,
        task: str,
        indices: np.ndarray,
        *,
        rng: np.random.Generator,
        weights: np.ndarray | None,
        planned_passes: int | None,
    ) -> float:
        """Hook: see :meth:`train_pass`."""
        raise BackendError(f"backend {type(self).__name__} does not support weight-sharing steps")

    def _sampled_eval(
        self, task: str, indices: np.ndarray, *, rng: np.random.Generator, batch_size: int | None
    ) -> BatchResult:
        """Hook: see :meth:`sampled_eval`."""
        raise BackendError(f"backend {type(self).__name__} does not support weight-sharing steps")

    def _joint_train_pass(
        self,
        tasks: tuple[str, ...],
        indices: list[np.ndarray],
        *,
        rng: np.random.Generator,
        weights: list[np.ndarray | None],
        planned_passes: int | None,
    ) -> float:
        """Hook: see :meth:`joint_train_pass` (arguments validated: canonical distinct task
        names, one non-empty index array and one normalised probability array or ``None`` per
        task)."""
        raise BackendError(f"backend {type(self).__name__} does not support joint training passes")

    # ------------------------------------------------------------------ task distances
    def task_distance(
        self,
        target: str,
        sources: Sequence[str],
        *,
        repeats: int = 1,
        rng: np.random.Generator | None = None,
    ) -> BatchResult:
        """Distance from each of ``sources`` to ``target``, computed from the tasks' data.

        LD-NAS's log-determinant task distance (Le et al., Eq. 2-3): ``values[k]`` is the mean
        over ``repeats`` repeated initialisations of d[sources[k] -> target], ``cost`` the
        seconds spent per source.  Only a backend that holds the tasks' data (the live
        backend's images) can answer; the default refuses, and :meth:`supports` says so
        beforehand.
        """
        name = self.resolve_task(target)
        if isinstance(sources, str) or not sources:
            raise ConfigError(f"sources == {sources!r}, must be a non-empty list of task names")
        names = tuple(self.resolve_task(t) for t in sources)
        check_int("repeats", repeats, 1)
        return self._task_distance(name, names, repeats=int(repeats), rng=rng)

    def _task_distance(
        self,
        target: str,
        sources: tuple[str, ...],
        *,
        repeats: int,
        rng: np.random.Generator | None,
    ) -> BatchResult:
        """Hook: see :meth:`task_distance`."""
        raise BackendError(
            f"backend {self.backend or type(self).__name__} holds no task data (images) to "
            "compute task distances from; give the algorithm a distance file made by "
            "`benchsim task-distance --tasks A,B,... --out FILE`"
        )

    def supports(self, job: str) -> bool:
        """Whether this backend answers ``job``: ``"evaluate"`` (always), ``"train_pass"``,
        ``"sampled_eval"`` and ``"joint_train_pass"`` (weight-sharing steps),
        ``"task_distance"``.

        Read from which hooks the backend's class overrides, so a new backend declares nothing.
        """
        hooks = {
            "evaluate": "_query",
            "train_pass": "_train_pass",
            "sampled_eval": "_sampled_eval",
            "joint_train_pass": "_joint_train_pass",
            "task_distance": "_task_distance",
        }
        if job not in hooks:
            raise UnknownNameError("job kind", job, tuple(hooks))
        if job == "evaluate":
            return True
        return getattr(type(self), hooks[job]) is not getattr(Benchmark, hooks[job])

    def capabilities(self) -> frozenset[str]:
        """Every job kind :meth:`supports` (what the runner tells a searcher)."""
        kinds = ("evaluate", "train_pass", "sampled_eval", "joint_train_pass", "task_distance")
        return frozenset(k for k in kinds if self.supports(k))

    def evaluation_protocol(self, task: str) -> dict[str, object]:
        """Default way a search's "evaluate this architecture" is answered on ``task``.

        Keys: ``seed`` (see :data:`SeedLike`), ``cost_scale`` (fraction of the reported cost
        charged), ``note`` (one line saying what the protocol is, stored with the run) and
        ``source`` (a short label of where the answers come from, in every trajectory row).
        """
        return {
            "seed": None,
            "cost_scale": 1.0,
            "note": "full training, reported cost",
            "source": "standalone",
        }

    def provenance(self) -> dict[str, object]:
        """What a run must record to be reproducible from this backend (e.g. data checksums)."""
        return {}

    def answer_notes(self) -> dict[str, object]:
        """What shaped this backend's answers beyond its data, for a run's records.

        The table backend says how it emulates weight sharing (estimator, settings, and per
        task whether the estimate is recorded or modelled, with the model's Kendall tau); the
        runner writes this to ``config.json`` before the search and ``result.json`` after it.
        """
        return {}

    def check_run(self, tasks: Sequence[str]) -> list[str]:
        """Refuse, before a run writes anything, settings this backend cannot honour on
        ``tasks`` (raise a :class:`~benchsim.errors.BenchsimError`); return one-line warnings
        about settings that have no effect there.  Nothing to check by default."""
        return []

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, object] | None:
        """Everything a resumed run needs to get the same answers next (generators, trained
        weights, emulated supernets); ``None``: the backend has no state of its own."""
        return None

    def load_state_dict(self, state: dict[str, object] | None) -> None:
        """Restore :meth:`state_dict` output (a backend without state accepts ``None``)."""
        if state is not None:
            raise BackendError(
                f"backend {type(self).__name__} keeps no state, but a checkpoint holds one"
            )

    # ------------------------------------------------------------------ scheduling
    @property
    def traits(self) -> Traits:
        """How runs on this benchmark are scheduled and recorded (:class:`Traits`): whether it
        is tabular (declared once, where the backend registers), and what devices it uses."""
        from benchsim.backends import backend_info

        return Traits(tabular=backend_info(self.backend).tabular)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: tasks {', '.join(self.tasks)}>"
