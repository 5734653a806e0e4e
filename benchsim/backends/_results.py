"""The values a benchmark answers with: :class:`Result`, :class:`BatchResult`, and the
:data:`SeedLike` a question names its training seed by.

Kept apart from the contract (:mod:`.base`) so that the capability components
(:mod:`.weight_sharing`, :mod:`.task_distances`), which answer with them too, need nothing of
the benchmark they belong to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from benchsim.errors import ConfigError, UnknownMetricError

SeedLike = int | Literal["sample"] | None
"""``None``: the mean over recorded training seeds; an int: that recorded seed; ``"sample"``:
one recorded seed drawn with the benchmark's generator (as the official NB201 API's
``is_random=True`` does)."""

_set_attribute = object.__setattr__


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
        # it.  Same signature, still a frozen dataclass (``replace``, ``asdict`` and ``==`` work).
        _set_attribute(
            self,
            "__dict__",
            {
                "arch": arch,
                "task": task,
                "metrics": metrics,
                "cost": cost,
                "seed": seed,
                "epoch": epoch,
                "schedule": schedule,
            },
        )

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
