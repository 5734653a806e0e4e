"""Turn a searcher's jobs into backend calls, and say how an evaluation is charged.

The evaluation protocol is a property of the run, not of the algorithm: which training seed an
:class:`~benchsim.algorithms.Evaluate` reads (``seed``), which schedule (``schedule``: on the
live backend, train the architecture alone for that many epochs) and what fraction of the
recorded training time it is charged (``cost_scale``).  Backends propose a default per task
(``Benchmark.evaluation_protocol``); a config file may override both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from benchsim.algorithms._base import (
    Evaluate,
    Job,
    JointTrainPass,
    Outcome,
    SampledEval,
    TaskDistance,
    TrainPass,
)
from benchsim.backends.base import Benchmark, SeedLike

_EMPTY = np.empty(0, dtype=np.float64)


@dataclass(frozen=True)
class Protocol:
    """How one task's :class:`Evaluate` jobs are answered and charged."""

    metric: str
    seed: SeedLike = None
    cost_scale: float = 1.0
    note: str = ""
    schedule: int | None = None
    source: str = "standalone"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class JobExecutor:
    """Answers jobs through the backend contract only (no backend-specific branches)."""

    def __init__(
        self, bench: Benchmark, protocols: dict[str, Protocol], rng: np.random.Generator
    ) -> None:
        self.bench = bench
        self.protocols = protocols
        self.rng = rng
        self._evaluators: dict[str, Callable[[int], Outcome]] = {}

    def __call__(self, job: Job) -> Outcome:
        if isinstance(job, Evaluate):
            evaluate = self._evaluators.get(job.task) or self._evaluator(job.task)
            return evaluate(job.arch)
        if isinstance(job, SampledEval):
            batch = self.bench.sampled_eval(
                job.task, np.asarray(job.archs), rng=self.rng, batch_size=job.batch_size
            )
            return Outcome(
                values=np.asarray(batch.values, dtype=np.float64),
                cost=float(np.sum(batch.cost)),
                source=batch.source,
            )
        if isinstance(job, TrainPass):
            cost = self.bench.train_pass(
                job.task,
                np.asarray(job.archs),
                rng=self.rng,
                weights=job.weights,
                planned_passes=job.planned_passes,
            )
            return Outcome(values=_EMPTY, cost=cost)
        if isinstance(job, TaskDistance):
            batch = self.bench.task_distance(
                job.task, job.sources, repeats=job.repeats, rng=self.rng
            )
            return Outcome(
                values=np.asarray(batch.values, dtype=np.float64),
                cost=float(np.sum(batch.cost)),
                source=batch.source,
            )
        if isinstance(job, JointTrainPass):
            cost = self.bench.joint_train_pass(
                job.tasks,
                [np.asarray(archs) for archs in job.archs],
                rng=self.rng,
                weights=job.weights,
                planned_passes=job.planned_passes,
            )
            return Outcome(values=_EMPTY, cost=cost)
        raise TypeError(f"a searcher returned {job!r}, which is not a job")

    def _evaluator(self, task: str) -> Callable[[int], Outcome]:
        """``arch -> Outcome`` for :class:`Evaluate` jobs on ``task``, under its protocol: the
        backend's :meth:`~benchsim.backends.base.Benchmark.evaluator` (made on the task's
        first job; a search asks the same question over and over)."""
        proto = self.protocols[task]
        lookup = self.bench.evaluator(task, proto.metric, seed=proto.seed, schedule=proto.schedule)
        scale, source, array, float64 = proto.cost_scale, proto.source, np.array, np.float64

        def evaluate(arch: int) -> Outcome:
            value, cost = lookup(arch)
            return Outcome(array([value], dtype=float64), float(cost) * scale, source)

        self._evaluators[task] = evaluate
        return evaluate
