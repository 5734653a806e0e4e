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
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, replace

import numpy as np

from benchsim._checks import check_int
from benchsim.backends._results import BatchResult, Result, SeedLike, check_seed
from benchsim.backends._validate import batch_metric, metric_names, task_codes
from benchsim.backends.task_distances import TaskDistances
from benchsim.backends.weight_sharing import WeightSharing
from benchsim.catalog import TaskInfo
from benchsim.errors import BackendError, ConfigError, UnknownMetricError, UnknownTaskError
from benchsim.spaces import ArchLike, SearchSpace


@dataclass(frozen=True)
class Traits:
    """What the runner, sweeps, reports and command line know of a backend, one facet per
    decision: the one place they ask, instead of comparing backend names or reading one flag
    for unrelated things.

    A backend declares its facets once, as the value it registers
    (:func:`benchsim.backends.register_backend`), which is also what its benchmarks answer
    (a live backend adds the devices it was opened on).

    Attributes
    ----------
    simulated_time
        Answers are charged recorded seconds on a simulated clock: a run reports simulated
        GPU-hours and its progress in simulated time (else real seconds of real work).
    checkpoint_at_milestones
        A searcher's milestone (an EMT-NAS generation) costs real minutes: a run saves a
        checkpoint at each one, not only by wall time.
    recorded_costs
        Every architecture's cost is known before a run: a time budget that cannot buy one
        answer, or that no search of the space could spend, is refused up front.
    free_test_lookups
        The test metric of any architecture on any task is a free lookup: recorded for every
        trajectory row, and for a found architecture on the benchmark's other tasks
        (``result.json``'s ``test_metric_on``, ``benchsim report --report-tasks``).
    recorded_optimum
        The best test value over the whole space is known: reports give regret against it.
    tasks_are_datasets
        A run's tasks name the datasets the backend opens (passed as ``datasets``), so a run
        without tasks searches all it was opened with (else the catalog's default tasks).
    gpus_per_run
        GPUs one run occupies (what a Ray sweep reserves per run).
    device_slots
        GPUs a local pool of runs may spread its workers over; ``None``: runs need none.
    """

    simulated_time: bool = False
    checkpoint_at_milestones: bool = False
    recorded_costs: bool = False
    free_test_lookups: bool = False
    recorded_optimum: bool = False
    tasks_are_datasets: bool = False
    gpus_per_run: int = 0
    device_slots: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Protocol:
    """How a search's "evaluate this architecture" is answered on one task, and charged.

    A property of the run, not of the algorithm: the backend proposes one per task
    (:meth:`Benchmark.evaluation_protocol`), a run's config may override ``seed``,
    ``cost_scale`` and ``schedule`` (:meth:`overridden`), and ``config.json`` records it.

    Attributes
    ----------
    metric
        The metric an evaluation reads (the task's search metric).
    seed
        Which recorded training seed (:data:`SeedLike`).
    cost_scale
        Fraction of the reported cost charged (NB201's 12-epoch proxy: 12 / 200).
    note
        One line saying what the protocol is.
    schedule
        Schedule length in epochs (the live backend trains the architecture alone for that
        many); ``None``: the task's standard one.
    source
        Where the answers come from, in every trajectory row (``recorded:standalone``, ...).
    """

    metric: str
    seed: SeedLike = None
    cost_scale: float = 1.0
    note: str = ""
    schedule: int | None = None
    source: str = "standalone"

    def __post_init__(self) -> None:
        scale = self.cost_scale
        if not isinstance(scale, (int, float)) or not scale > 0:
            raise ConfigError(f"protocol cost_scale == {scale!r}, must be a number > 0")
        object.__setattr__(self, "cost_scale", float(scale))
        check_int("protocol schedule", self.schedule, 1, allow_none=True)
        if self.seed is not None:
            check_seed(self.seed)

    def overridden(self, override: Mapping[str, object]) -> Protocol:
        """This protocol with a run config's ``seed`` / ``cost_scale`` / ``schedule``, its
        note saying which were overridden."""
        if not override:
            return self
        changes = dict(override)
        changes["note"] = f"{self.note} (overridden: {sorted(override)})"
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


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
        if seed is not None:
            check_seed(seed)
        return self._query(index, name, metrics, epoch=epoch, seed=seed, schedule=schedule)

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
