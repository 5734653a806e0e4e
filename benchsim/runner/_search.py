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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchsim.algorithms._base import Job, Outcome, Searcher
from benchsim.errors import DeadlockError
from benchsim.runner._budget import Budget
from benchsim.runner._clock import SimClock
from benchsim.runner._execute import JobExecutor
from benchsim.runner._trajectory import Trajectory


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

    delivered = 0
    """Results the last :meth:`step` delivered (more than one for a batch)."""

    def step(
        self,
        searcher: Searcher,
        execute: Callable[[Job], Outcome],
        trajectory: Trajectory,
        on_result: Callable[[int, float], None] | None = None,
        most: int | None = None,
    ) -> bool:
        """Start jobs on free workers, then deliver the next result; False when finished.

        Where one worker runs without a time budget, the answers are lookups
        (``execute.batches``) and the searcher proposes evaluations no result can change
        (:meth:`~benchsim.algorithms.Searcher.ask_many`), it delivers up to ``most`` results
        at once (:meth:`_step_batch`): the same numbers, in the same order.
        """
        if self.done:
            return False
        self.delivered = 1
        if (
            most != 1
            and len(self.free_workers) == 1
            and not self.pending
            and not self.stopped
            and self.budget.seconds is None
            and getattr(execute, "batches", False)
        ):
            more = self._step_batch(searcher, execute, trajectory, on_result, most)
            if more is not None:
                return more
        budget, stats, clock, own_tasks = self.budget, self.stats, self.clock, self.own_tasks
        timed = budget.seconds is not None
        perf = time.perf_counter  # five clock readings a result: ask, answer, tell
        while self.free_workers and not self.stopped:
            if timed and clock.time() >= self._deadline():
                self.stopped = True
                break
            asked = perf()
            job = searcher.ask()
            answering = perf()
            stats.searcher_seconds += answering - asked
            if job is None:
                break
            if isinstance(job, str):  # FINISHED
                self.stopped = True
                break
            own = own_tasks is None or own_tasks.issuperset(job.tasks)
            size = job.size
            if (
                own
                and budget.evaluations is not None
                and stats.evaluations + size > budget.evaluations
            ):
                self.stopped = True
                break
            if own and self.budget_start is None:  # the search proper starts: so does its budget
                self.budget_start = stats.source_seconds = clock.time()
            outcome = execute(job)
            stats.backend_seconds += perf() - answering
            if own:
                stats.evaluations += size
            else:
                stats.source_evaluations += size
            worker = heapq.heappop(self.free_workers)
            start = clock.time()
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
        if timed and end > self._deadline():
            stats.dropped_after_deadline += 1 + len(self.pending)
            self.pending.clear()
            clock.advance_to(self._deadline())
            return self._finish()
        clock.advance_to(end)
        told = perf()
        searcher.tell(job, outcome)
        stats.searcher_seconds += perf() - told
        trajectory.add(self.search_id, job, outcome, worker, start, end)
        heapq.heappush(self.free_workers, worker)
        if on_result is not None:
            on_result(job.size, clock.time())
        return True

    def _step_batch(
        self,
        searcher: Searcher,
        execute: JobExecutor,
        trajectory: Trajectory,
        on_result: Callable[[int, float], None] | None,
        most: int | None,
    ) -> bool | None:
        """:meth:`step` for a batch of evaluations from :meth:`Searcher.ask_many`; ``None``
        when the searcher has none (the caller then asks one job).

        One worker runs, so job ``i`` starts when job ``i - 1`` ends: the start times are
        the clock's running sum of the costs, computed with the clock's own arithmetic (an
        evaluation budget counts them; no time budget can cut the batch short)."""
        budget, stats, clock = self.budget, self.stats, self.clock
        limit = BATCH if budget.evaluations is None else budget.evaluations - stats.evaluations
        limit = min(limit, BATCH if most is None else most)
        if limit < 1:
            return None  # the last ask: one job, as step() asks it
        perf = time.perf_counter
        asked = perf()
        batch = searcher.ask_many(limit)
        answering = perf()
        stats.searcher_seconds += answering - asked
        if batch is None:
            return None
        if isinstance(batch, str):  # FINISHED
            self.stopped = True
            self.delivered = 0
            return self._finish()
        task, archs = batch
        n = len(archs)
        if not 1 <= n <= limit:
            raise ValueError(
                f"algorithm {searcher.name!r} proposed {n} evaluations, asked for 1 to {limit}"
            )
        own = self.own_tasks is None or task in self.own_tasks
        if own and self.budget_start is None:
            self.budget_start = stats.source_seconds = clock.time()
        values, costs, source = execute.evaluate_many(task, archs)
        stats.backend_seconds += perf() - answering
        if own:
            stats.evaluations += n
        else:
            stats.source_evaluations += n
        starts, ends, now = _one_worker_times(clock.time(), costs)
        clock.set(now)
        told = perf()
        searcher.tell_many(task, archs, values, costs, source)
        stats.searcher_seconds += perf() - told
        worker = self.free_workers[0]
        trajectory.add_evaluations(
            self.search_id, task, source, worker, starts, ends, archs, values, costs
        )
        self.delivered = n
        if on_result is not None:
            on_result(n, now)
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


def _one_worker_times(now: float, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Start and end times of jobs run one after another from ``now``, and the clock after
    them, exactly as :meth:`SearchLoop.step` computes them one at a time: ``end = start +
    cost``, then ``SimClock.advance_to(end)``, whose ``now + max(0, end - now)`` is ``end``
    itself wherever the subtraction is exact (checked; else that recurrence is run)."""
    sums = np.cumsum(np.concatenate(([now], costs)))  # a running sum adds in order
    starts, ends = sums[:-1], sums[1:]
    if np.array_equal(starts + np.maximum(0.0, ends - starts), ends):
        return starts, ends, float(sums[-1])
    starts, ends = np.empty_like(costs), np.empty_like(costs)
    for i, cost in enumerate(costs.tolist()):
        starts[i], ends[i] = now, now + cost
        now += max(0.0, (now + cost) - now)
    return starts, ends, now


BATCH = 1024
"""Most evaluations :meth:`SearchLoop.step` delivers at once (random search: 256, what it
draws at a time)."""


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
