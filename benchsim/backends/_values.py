"""The value types of the backend contract (:mod:`.base`): the answers (:class:`Result`,
:class:`BatchResult`), the :data:`SeedLike` a question names its training seed by, how a
search's evaluation is answered (:class:`Protocol`) and what runs may rely on
(:class:`Traits`).

Kept apart from the contract so that it stays narrow, and so that the capability components
(:mod:`.weight_sharing`, :mod:`.task_distances`), which answer with them too, need nothing of
the benchmark they belong to.  :mod:`.base` re-exports them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np

from benchsim._checks import check_int
from benchsim.errors import ConfigError, UnknownMetricError

SeedLike = int | Literal["sample"] | None
"""``None``: the mean over recorded training seeds; an int: that recorded seed; ``"sample"``:
one recorded seed drawn with the benchmark's generator (as the official NB201 API's
``is_random=True`` does)."""


def check_seed(seed: object) -> None:
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


@dataclass(frozen=True)
class BatchResult:
    """Answers of :meth:`Benchmark.query_many`: ``values[i]`` and ``cost[i]`` per question.

    ``source`` says where weight-sharing answers come from (``WeightSharing.sampled_eval``):
    ``"recorded:<estimator>"`` (a recorded supernet estimate), ``"modelled:<estimator>"`` (the
    table's model of one), ``"live:supernet"`` (a trained supernet); empty for lookups.
    """

    values: np.ndarray
    cost: np.ndarray
    source: str = ""


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
