"""Turn a searcher's jobs into backend calls, and say how an evaluation is charged.

The evaluation protocol is a property of the run, not of the algorithm: which training seed an
:class:`~benchsim.algorithms.Evaluate` reads (``seed``), which schedule (``schedule``: on the
live backend, train the architecture alone for that many epochs) and what fraction of the
recorded training time it is charged (``cost_scale``): a
:class:`~benchsim.backends.base.Protocol`.  Backends propose one per task
(``Benchmark.evaluation_protocol``); a config file may override it.
"""

from __future__ import annotations

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
from benchsim.backends.base import Benchmark, Protocol

__all__ = ["JobExecutor", "Protocol"]

_EMPTY = np.empty(0, dtype=np.float64)


class JobExecutor:
    """Answers jobs through the backend contract only (no backend-specific branches)."""

    def __init__(
        self, bench: Benchmark, protocols: dict[str, Protocol], rng: np.random.Generator
    ) -> None:
        self.bench = bench
        self.protocols = protocols
        self.rng = rng

    def __call__(self, job: Job) -> Outcome:
        if isinstance(job, Evaluate):
            proto = self.protocols[job.task]
            result = self.bench.query(
                job.arch, job.task, proto.metric, seed=proto.seed, schedule=proto.schedule
            )
            return Outcome(
                values=np.array([result.value], dtype=np.float64),
                cost=float(result.cost) * proto.cost_scale,
                source=proto.source,
            )
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
