"""The event loop of one search: ask/tell against K simulated workers on one clock.

Like syne-tune's simulator backend: a free worker asks the searcher for a job, the backend
answers it at once (a lookup, or real training on the live backend), and the answer is delivered
at ``start + cost`` on the simulated clock.  Results are told in finish-time order, so with
``workers > 1`` a searcher sees them asynchronously, as on a real cluster.  A result that would
arrive after a simulated-time budget is dropped (it was not paid for in time), and no job is
started once an evaluation budget is spent.
"""

from __future__ import annotations

import heapq
import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from benchsim.algorithms._base import Evaluate, Job, Outcome, Searcher
from benchsim.errors import DeadlockError
from benchsim.runner._budget import Budget
from benchsim.runner._clock import SimClock

TRAINING_KINDS = ("train_pass", "joint_pass")
"""Trajectory kinds of training passes (no architecture, no value: only a cost)."""


COLUMNS = (
    "step", "search", "task", "kind", "worker", "start_time", "end_time", "arch", "value",
    "cost", "source",
)  # fmt: skip
"""The trajectory's columns, in order (the written table adds ``arch_str``, ``test_value``)."""
_NUMERIC = {
    "step": "q", "search": "h", "worker": "h", "start_time": "d", "end_time": "d",
    "arch": "q", "value": "d", "cost": "d",
}  # fmt: skip
_NUMPY = {"q": np.int64, "h": np.int16, "d": np.float64}


class Trajectory:
    """Columns of every answered job (one row per architecture answered; a training pass has
    one row per task it trained, arch -1 and value NaN: a ``train_pass`` one, a joint pass one
    per task, each with an equal share of its cost; a task-distance job one row per source task
    with ``arch`` -1, the distance as ``value`` and ``source`` naming the source task).

    Numbers live in compact :class:`array.array` columns (8 bytes a value, not a Python
    object each), texts in lists of shared strings, so a run of a million evaluations holds
    its history in tens of megabytes.  :meth:`table` gives rows as Arrow (what a checkpoint
    appends, a part at a time), :meth:`extend` takes them back.
    """

    def __init__(self) -> None:
        for name in COLUMNS:
            setattr(self, name, array(_NUMERIC[name]) if name in _NUMERIC else [])

    def __len__(self) -> int:
        return len(self.step)

    def add(
        self, search: int, job: Job, outcome: Outcome, worker: int, start: float, end: float
    ) -> None:
        kind = job.label
        sources = None
        if kind in TRAINING_KINDS:
            tasks = list(job.tasks)
            archs, values = [-1] * len(tasks), [float("nan")] * len(tasks)
        elif kind == "task_distance":
            archs, values = [-1] * len(job.sources), outcome.values.tolist()
            tasks = [job.task] * len(archs)
            sources = [f"{outcome.source} from {name}" for name in job.sources]
        else:
            archs = [job.arch] if isinstance(job, Evaluate) else list(job.archs)
            values = outcome.values.tolist()
            tasks = [job.task] * len(archs)
        n = len(archs)
        first = len(self.step)
        self.step.extend(range(first, first + n))
        self.search.extend([search] * n)
        self.task.extend(tasks)
        self.kind.extend([kind] * n)
        self.worker.extend([worker] * n)
        self.start_time.extend([start] * n)
        self.end_time.extend([end] * n)
        self.arch.extend(archs)
        self.value.extend(values)
        self.cost.extend([outcome.cost / n] * n)
        self.source.extend(sources or [outcome.source] * n)

    def column(self, name: str, start: int = 0) -> np.ndarray | list:
        """Rows ``start:`` of one column: a numpy array for numbers, a list for texts."""
        values = getattr(self, name)
        if name in _NUMERIC:
            return np.frombuffer(values, dtype=_NUMPY[values.typecode])[start:].copy()
        return values[start:]

    def table(self, start: int = 0) -> pa.Table:
        """Rows ``start:`` as an Arrow table of :data:`COLUMNS`."""
        return pa.table(
            {
                name: pa.array(self.column(name, start), None if name in _NUMERIC else pa.string())
                for name in COLUMNS
            }
        )

    def extend(self, table: pa.Table) -> None:
        """Append the rows of a :meth:`table` (a checkpoint's parts, on resume)."""
        for name in COLUMNS:
            values = table.column(name)
            if name in _NUMERIC:
                numbers = values.to_numpy().astype(_NUMPY[_NUMERIC[name]])
                getattr(self, name).frombytes(numbers.tobytes())
            else:
                getattr(self, name).extend(values.to_pylist())


@dataclass
class SearchStats:
    """What one search spent."""

    simulated_seconds: float = 0.0
    evaluations: int = 0
    searcher_seconds: float = 0.0
    backend_seconds: float = 0.0
    dropped_after_deadline: int = 0
    source_evaluations: int = 0
    """Answers on source tasks (a transfer method's prior knowledge): charged to those tasks,
    not to this search's budget."""
    source_seconds: float = 0.0
    """Simulated time before this search's own first job started (its source phase)."""


class SearchLoop:
    """Resumable state of one search's event loop (picklable between two results).

    ``step()`` runs until the next result is told (or the search ends) and returns whether
    there is more to do; :func:`run_search` simply loops.  Between two ``step`` calls the whole
    state (clock, outstanding jobs, free workers, counters) is plain data, so a checkpoint can
    pickle it together with the searcher and resume exactly.
    """

    own_tasks: frozenset[str] | None = None
    budget_start: float | None = 0.0

    def __init__(
        self,
        budget: Budget,
        workers: int,
        search_id: int = 0,
        own_tasks: frozenset[str] | None = None,
    ) -> None:
        self.budget = budget
        self.search_id = search_id
        self.own_tasks = own_tasks
        self.budget_start = 0.0 if own_tasks is None else None
        self.clock = SimClock()
        self.stats = SearchStats()
        self.pending: list[tuple[float, int, int, float, Job, Outcome]] = []
        self.free_workers = list(range(workers))
        self.seq = 0
        self.stopped = False
        self.done = False

    def step(
        self,
        searcher: Searcher,
        execute: Callable[[Job], Outcome],
        trajectory: Trajectory,
        on_result: Callable[[int, float], None] | None = None,
    ) -> bool:
        """Start jobs on free workers, then deliver the next result; False when finished."""
        if self.done:
            return False
        budget, stats, perf = self.budget, self.stats, time.perf_counter
        while self.free_workers and not self.stopped:
            if budget.seconds is not None and self.clock.time() >= self._deadline():
                self.stopped = True
                break
            t0 = perf()
            job = searcher.ask()
            stats.searcher_seconds += perf() - t0
            if job is None:
                break
            if isinstance(job, str):  # FINISHED
                self.stopped = True
                break
            own = self.own_tasks is None or all(t in self.own_tasks for t in job.tasks)
            if (
                own
                and budget.evaluations is not None
                and stats.evaluations + job.size > budget.evaluations
            ):
                self.stopped = True
                break
            if own and self.budget_start is None:  # the search proper starts: so does its budget
                self.budget_start = stats.source_seconds = self.clock.time()
            t0 = perf()
            outcome = execute(job)
            stats.backend_seconds += perf() - t0
            if own:
                stats.evaluations += job.size
            else:
                stats.source_evaluations += job.size
            worker = heapq.heappop(self.free_workers)
            start = self.clock.time()
            heapq.heappush(
                self.pending, (start + outcome.cost, self.seq, worker, start, job, outcome)
            )
            self.seq += 1
        if not self.pending:
            if not self.stopped:
                raise DeadlockError(
                    f"algorithm {searcher.name!r} asked to wait while no job was outstanding"
                )
            return self._finish()
        end, _, worker, start, job, outcome = heapq.heappop(self.pending)
        if budget.seconds is not None and end > self._deadline():
            stats.dropped_after_deadline += 1 + len(self.pending)
            self.pending.clear()
            self.clock.advance_to(self._deadline())
            return self._finish()
        self.clock.advance_to(end)
        t0 = perf()
        searcher.tell(job, outcome)
        stats.searcher_seconds += perf() - t0
        trajectory.add(self.search_id, job, outcome, worker, start, end)
        heapq.heappush(self.free_workers, worker)
        if on_result is not None:
            on_result(job.size, self.clock.time())
        return True

    def _deadline(self) -> float:
        """When a time budget runs out: ``budget.seconds`` after the search's own first job
        (source-task answers before it are a transfer method's prior knowledge, charged to
        those tasks); never while only source jobs have run."""
        if self.budget_start is None or self.budget.seconds is None:
            return math.inf
        return self.budget_start + self.budget.seconds

    def _finish(self) -> bool:
        self.done = True
        self.stats.simulated_seconds = self.clock.time()
        return False


def run_search(
    searcher: Searcher,
    execute: Callable[[Job], Outcome],
    budget: Budget,
    workers: int,
    trajectory: Trajectory,
    search_id: int = 0,
    on_result: Callable[[int, float], None] | None = None,
    own_tasks: frozenset[str] | None = None,
) -> SearchStats:
    """Drive ``searcher`` until it finishes or the budget is spent; fill ``trajectory``."""
    loop = SearchLoop(budget, workers, search_id, own_tasks)
    while loop.step(searcher, execute, trajectory, on_result):
        pass
    return loop.stats


def spawn_generators(seed: int, n: int) -> list[np.random.Generator]:
    """``n`` independent Generators derived from one integer seed (SeedSequence.spawn)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]
