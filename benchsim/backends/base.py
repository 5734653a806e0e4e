"""The lookup contract every backend meets, and the capabilities a benchmark may compose.

A :class:`Benchmark` answers "train architecture ``arch`` on ``task`` and tell me ``metric``":
:meth:`Benchmark.query` for one question, :meth:`Benchmark.query_many` for a vector of them.
Every answer carries the cost in seconds of obtaining it (the recorded training time on the table
backend, real seconds on the live one) so a simulated clock can charge it, and says which split,
seed, epoch and schedule produced it.

Call sequence: ``bench = benchsim.benchmark("nb201")``; ``bench.tasks`` lists the tasks;
``bench.task_info(task)`` names the task's metrics, its search metric (validation) and its test
metric; then any number of ``query`` / ``query_many`` calls.  The public methods validate their
arguments and then call the private ``_query`` / ``_query_many`` hooks that subclasses implement.
``bench.evaluation_protocol(task)`` says how a search's evaluation is answered (a
:class:`Protocol`), ``bench.traits`` what the runner and reports may rely on (:class:`Traits`).

What a benchmark can do beyond lookups is a component it composes, ``None`` where it cannot:
``bench.weight_sharing`` (:class:`~benchsim.backends.weight_sharing.WeightSharing`: training
passes and supernet estimates) and ``bench.task_distances``
(:class:`~benchsim.backends.task_distances.TaskDistances`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress

import numpy as np

from benchsim._checks import check_int
from benchsim.backends._validate import batch_metric, metric_names, task_codes
from benchsim.backends._values import BatchResult, Protocol, Result, SeedLike, Traits, check_seed
from benchsim.backends.task_distances import TaskDistances
from benchsim.backends.weight_sharing import WeightSharing
from benchsim.catalog import TaskInfo
from benchsim.errors import BackendError, ConfigError, UnknownMetricError, UnknownTaskError
from benchsim.spaces import ArchLike, SearchSpace


class Benchmark(ABC):
    """A multi-task benchmark over one search space; see the module docstring for the sequence.

    A new backend writes a subclass that sets ``backend`` (its registered name), ``name``,
    ``space`` and ``_tasks`` (a mapping name -> :class:`TaskInfo`) and implements the two
    abstract hooks :meth:`_query` and :meth:`_query_many`; then registers an ``open`` function
    with :func:`benchsim.backends.register_backend` in a subpackage of
    :mod:`benchsim.backends`.  Everything else has a default that a backend overrides only if
    it can do more: :meth:`evaluation_protocol`, :meth:`provenance`, :meth:`answer_notes`,
    :meth:`check_run`, :meth:`state_dict` / :meth:`load_state_dict` (checkpoints, including
    its components' state) and :attr:`traits`; it sets :attr:`weight_sharing` /
    :attr:`task_distances` to the components it offers.
    """

    backend: str = ""
    name: str
    space: SearchSpace
    _tasks: Mapping[str, TaskInfo]
    _resolved_queries: dict | None = None
    traits: Traits = Traits()
    """What runs may rely on (:class:`Traits`): as registered, devices added by a live one."""
    weight_sharing: WeightSharing | None = None
    """Training passes and supernet estimates (EMT-NAS's jobs); ``None``: not offered."""
    task_distances: TaskDistances | None = None
    """Distances between tasks from their data (LD-NAS); ``None``: not offered."""

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
            name = self.resolve_task(task)
            metrics = metric_names(metric, lambda m: self.resolve_metric(name, m))
            with suppress(TypeError):  # unhashable task or metric: valid, just not cached
                cache[key] = (name, metrics)
        space = self.space
        index = arch if type(arch) is int and 0 <= arch < space.size else space.index(arch)
        kind = type(seed)
        if seed is not None and kind is not int and not (kind is str and seed == "sample"):
            check_seed(seed)  # the common seeds cost two comparisons, not a call
        return self._query(index, name, metrics, epoch=epoch, seed=seed, schedule=schedule)

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
        return self._evaluator(*self._evaluated(task, metric, seed), seed, schedule)

    def _evaluated(self, task: str, metric: str | None, seed: SeedLike) -> tuple[str, str]:
        """The canonical task and its one metric of an evaluator; the seed checked."""
        name = self.resolve_task(task)
        metrics = metric_names(metric, lambda m: self.resolve_metric(name, m))
        if len(metrics) != 1:
            raise ConfigError(f"metric == {metric!r}: an evaluator answers one metric")
        if seed is not None:
            check_seed(seed)
        return name, metrics[0]

    def _evaluator(
        self, task: str, metric: str, seed: SeedLike, schedule: int | None
    ) -> Callable[[ArchLike], tuple[float, float]]:
        """Hook: the function :meth:`evaluator` returns (default: one :meth:`query` a call)."""
        query = self.query

        def answer(arch: ArchLike) -> tuple[float, float]:
            result = query(arch, task, metric, seed=seed, schedule=schedule)
            return result.metrics[metric], result.cost

        return answer

    def batch_evaluator(
        self,
        task: str,
        metric: str | None = None,
        *,
        seed: SeedLike = None,
        schedule: int | None = None,
    ) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
        """:meth:`evaluator` for many architectures at once: a function ``archs -> (values,
        costs)`` (int64 indices in, float64 arrays out) that answers and draws exactly as the
        same sequence of :meth:`evaluator` calls would, in one call; ``None`` where this
        backend has no such path (a live backend trains one architecture at a time).

        What lets a random search of a million evaluations cost little more than its
        lookups (the runner asks it for a searcher's :meth:`~benchsim.algorithms.Searcher.ask_many`
        batches).  Backends with one override :meth:`_batch_evaluator`.
        """
        return self._batch_evaluator(*self._evaluated(task, metric, seed), seed, schedule)

    def _batch_evaluator(
        self, task: str, metric: str, seed: SeedLike, schedule: int | None
    ) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
        """Hook: the function :meth:`batch_evaluator` returns (default: none)."""
        return None

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
        if isinstance(tasks, str):
            name = self.resolve_task(tasks)
            resolved = self.resolve_metric(name, metric)
            codes: np.ndarray | int = self.tasks.index(name)
        else:
            names = self.tasks
            codes, present = task_codes(tasks, indices.shape, names, self.resolve_task, self.name)
            infos = list(self._tasks.values())
            resolved = batch_metric(metric, codes, present, infos, self.resolve_metric)
        if seed is not None:
            check_seed(seed)
        return self._query_many(indices, codes, resolved, seed=seed)

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
        name = self.resolve_task(task)
        (resolved,) = metric_names(metric, lambda m: self.resolve_metric(name, m))
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

    def evaluation_protocol(self, task: str) -> Protocol:
        """How a search's "evaluate this architecture" is answered on ``task`` by default
        (:class:`Protocol`): the search metric, full training, the reported cost."""
        info = self.task_info(task)
        return Protocol(info.search_metric, note="full training, reported cost")

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

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: tasks {', '.join(self.tasks)}>"
