"""Turn a searcher's jobs into backend calls, through one table of job kinds.

:data:`KINDS` says, for each kind of job (:data:`benchsim.algorithms.JOBS`), which part of a
benchmark answers it (the lookup contract itself, or a capability component:
``bench.weight_sharing``, ``bench.task_distances``) and how; :func:`capabilities` reads it to
tell a searcher beforehand which kinds this benchmark answers, and :class:`JobExecutor`
dispatches through it.  A new job kind is a class in :mod:`benchsim.algorithms._base` and a row
here (a test checks that every job has one).

The evaluation protocol is a property of the run, not of the algorithm: which training seed an
:class:`~benchsim.algorithms.Evaluate` reads (``seed``), which schedule (``schedule``: on the
live backend, train the architecture alone for that many epochs) and what fraction of the
recorded training time it is charged (``cost_scale``): a
:class:`~benchsim.backends.base.Protocol`.  Backends propose one per task
(``Benchmark.evaluation_protocol``); a config file may override it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

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
from benchsim.errors import BackendError

__all__ = ["KINDS", "JobExecutor", "JobKind", "Protocol", "capabilities", "task_protocols"]

_EMPTY = np.empty(0, dtype=np.float64)


def _evaluate(run: JobExecutor, bench: Benchmark) -> Callable[[Evaluate], Outcome]:
    """Evaluations through the backend's :meth:`~benchsim.backends.base.Benchmark.evaluator`,
    one per task under its protocol, made on the task's first job (a search asks the same
    question over and over: the names and seed are checked once)."""
    lookups: dict[str, tuple[Callable[[int], tuple[float, float]], float, str]] = {}
    array, float64 = np.array, np.float64

    def lookup_of(task: str) -> tuple[Callable[[int], tuple[float, float]], float, str]:
        proto = run.protocols[task]
        found = bench.evaluator(task, proto.metric, seed=proto.seed, schedule=proto.schedule)
        lookups[task] = (found, proto.cost_scale, proto.source)
        return lookups[task]

    def answer(job: Evaluate) -> Outcome:
        lookup, scale, source = lookups.get(job.task) or lookup_of(job.task)
        value, cost = lookup(job.arch)
        return Outcome(array([value], dtype=float64), float(cost) * scale, source)

    return answer


def _each(answer: Callable[[JobExecutor, Any, Any], Outcome]) -> Callable[..., Any]:
    """A kind's answer factory from ``answer(executor, answerer, job)``."""
    return lambda run, answerer: partial(answer, run, answerer)


def _sampled_eval(run: JobExecutor, ws: Any, job: SampledEval) -> Outcome:
    batch = ws.sampled_eval(job.task, np.asarray(job.archs), rng=run.rng, batch_size=job.batch_size)
    return Outcome(
        values=np.asarray(batch.values, dtype=np.float64),
        cost=float(np.sum(batch.cost)),
        source=batch.source,
    )


def _train_pass(run: JobExecutor, ws: Any, job: TrainPass) -> Outcome:
    cost = ws.train_pass(
        job.task,
        np.asarray(job.archs),
        rng=run.rng,
        weights=job.weights,
        planned_passes=job.planned_passes,
    )
    return Outcome(values=_EMPTY, cost=cost)


def _joint_train_pass(run: JobExecutor, ws: Any, job: JointTrainPass) -> Outcome:
    cost = ws.joint_train_pass(
        job.tasks,
        [np.asarray(archs) for archs in job.archs],
        rng=run.rng,
        weights=job.weights,
        planned_passes=job.planned_passes,
    )
    return Outcome(values=_EMPTY, cost=cost)


def _task_distance(run: JobExecutor, distances: Any, job: TaskDistance) -> Outcome:
    batch = distances.task_distance(job.task, job.sources, repeats=job.repeats, rng=run.rng)
    return Outcome(
        values=np.asarray(batch.values, dtype=np.float64),
        cost=float(np.sum(batch.cost)),
        source=batch.source,
    )


@dataclass(frozen=True)
class JobKind:
    """How the runner answers one kind of job.

    Attributes
    ----------
    component
        The benchmark attribute that answers it (``None``: the benchmark's lookup contract).
    answer
        ``answer(executor, answerer)``: the function that answers a job of this kind
        (``job -> Outcome``), built once per run.
    refusal
        What a search that asks it of a benchmark without the component is told.
    """

    component: str | None
    answer: Callable[[JobExecutor, Any], Callable[[Any], Outcome]]
    refusal: str = ""


_NO_WEIGHT_SHARING = "backend {backend} does not support weight-sharing steps"
KINDS: dict[type, JobKind] = {
    Evaluate: JobKind(None, _evaluate),
    SampledEval: JobKind("weight_sharing", _each(_sampled_eval), _NO_WEIGHT_SHARING),
    TrainPass: JobKind("weight_sharing", _each(_train_pass), _NO_WEIGHT_SHARING),
    JointTrainPass: JobKind("weight_sharing", _each(_joint_train_pass), _NO_WEIGHT_SHARING),
    TaskDistance: JobKind(
        "task_distances",
        _each(_task_distance),
        "backend {backend} holds no task data (images) to compute task distances from; give "
        "the algorithm a distance file made by `benchsim task-distance --tasks A,B,... --out "
        "FILE`",
    ),
}
"""Job class -> :class:`JobKind`: the one table of what answers each kind of job."""


def task_protocols(bench: Benchmark, tasks: tuple[str, ...], override: dict) -> dict[str, Protocol]:
    """Each task's evaluation protocol: the backend's, with the config's overrides."""
    return {task: bench.evaluation_protocol(task).overridden(override) for task in tasks}


def _answerer(bench: Benchmark, kind: JobKind) -> Any:
    return bench if kind.component is None else getattr(bench, kind.component, None)


def capabilities(bench: Benchmark) -> frozenset[str]:
    """The job kinds ``bench`` answers (what :attr:`Problem.capabilities` tells a searcher)."""
    return frozenset(job.kind for job, kind in KINDS.items() if _answerer(bench, kind) is not None)


class JobExecutor:
    """Answers jobs through the backend contract and its components only (no backend-specific
    branches): each job goes to the answer its kind's row of :data:`KINDS` names."""

    def __init__(
        self, bench: Benchmark, protocols: dict[str, Protocol], rng: np.random.Generator
    ) -> None:
        self.bench = bench
        self.protocols = protocols
        self.rng = rng
        self._answers: dict[type, Callable[[Job], Outcome]] = {}
        self._batch: dict[str, tuple[Any, float, str]] = {}
        for job, kind in KINDS.items():
            answerer = _answerer(bench, kind)
            if answerer is None:
                message = kind.refusal.format(backend=bench.backend or type(bench).__name__)
                self._answers[job] = partial(_refuse, message)
            else:
                self._answers[job] = kind.answer(self, answerer)

    @property
    def batches(self) -> bool:
        """Whether the run may answer a searcher's :meth:`~benchsim.algorithms.Searcher.ask_many`
        batches together (:meth:`evaluate_many`): where answers are charged on a simulated
        clock (lookups).  A live backend's answer is real training, and each result is
        delivered, and can be checkpointed, on its own."""
        return self.bench.traits.simulated_time

    def evaluate_many(self, task: str, archs: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        """``(values, costs, source)`` of evaluating ``archs`` on ``task`` under its protocol:
        what as many :class:`~benchsim.algorithms.Evaluate` jobs would be answered, in one
        backend call where the backend has a
        :meth:`~benchsim.backends.base.Benchmark.batch_evaluator`."""
        found = self._batch.get(task)
        if found is None:
            proto = self.protocols[task]
            lookup = self.bench.batch_evaluator(
                task, proto.metric, seed=proto.seed, schedule=proto.schedule
            )
            found = self._batch[task] = (lookup, proto.cost_scale, proto.source)
        lookup, scale, source = found
        if lookup is None:  # one answer at a time, as the jobs would get
            outcomes = [self(Evaluate(task, arch)) for arch in archs.tolist()]
            values = np.array([outcome.values[0] for outcome in outcomes], dtype=np.float64)
            costs = np.array([outcome.cost for outcome in outcomes], dtype=np.float64)
            return values, costs, source
        values, costs = lookup(archs)
        return values, costs * scale, source

    def __call__(self, job: Job) -> Outcome:
        answer = self._answers.get(type(job))
        if answer is None:
            raise TypeError(f"a searcher returned {job!r}, which is not a job")
        return answer(job)


def _refuse(message: str, job: Job) -> Outcome:
    raise BackendError(message)
