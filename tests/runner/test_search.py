"""The event loop on synthetic jobs: ordering, workers, budgets, batches (no backend)."""

from dataclasses import dataclass

import numpy as np
import pytest

from benchsim.algorithms import FINISHED, Evaluate, Outcome, Searcher
from benchsim.runner import Budget
from benchsim.runner._clock import SimClock
from benchsim.runner._search import DeadlockError, SearchLoop, _one_worker_times, run_search
from benchsim.runner._trajectory import Trajectory


@dataclass
class Scripted(Searcher):
    """Asks for architectures 0..n-1 in order; records the order results arrive in."""

    n: int = 5

    def _setup(self):
        self.next_ = 0
        self.told_ = []

    def ask(self):
        if self.next_ >= self.n:
            return FINISHED
        self.next_ += 1
        return Evaluate(task="t", arch=self.next_ - 1)

    def _tell(self, job, outcome):
        self.told_.append(job.arch)


def _execute(costs):
    def execute(job):
        return Outcome(values=np.array([float(job.arch)]), cost=costs[job.arch])

    return execute


def _setup(searcher):
    searcher.setup(problem=None, rng=np.random.default_rng(0))
    return searcher


def test_one_worker_runs_jobs_back_to_back():
    searcher = _setup(Scripted(n=3))
    traj = Trajectory()
    stats = run_search(searcher, _execute([1.0, 2.0, 3.0]), Budget(), 1, traj)
    assert searcher.told_ == [0, 1, 2]
    assert list(traj.start_time) == [0.0, 1.0, 3.0]
    assert list(traj.end_time) == [1.0, 3.0, 6.0]
    assert stats.simulated_seconds == 6.0
    assert searcher.recommend("t") == (2, 2.0)


def test_two_workers_deliver_in_finish_time_order():
    searcher = _setup(Scripted(n=3))
    traj = Trajectory()
    stats = run_search(searcher, _execute([5.0, 1.0, 1.0]), Budget(), 2, traj)
    # arch 1 finishes at t=1 on worker 1, arch 2 then starts on worker 1 and ends at t=2,
    # arch 0 ends at t=5 on worker 0.
    assert searcher.told_ == [1, 2, 0]
    assert list(traj.worker) == [1, 1, 0]
    assert stats.simulated_seconds == 5.0


def test_evaluation_budget_stops_before_exceeding():
    searcher = _setup(Scripted(n=100))
    traj = Trajectory()
    stats = run_search(searcher, _execute([1.0] * 100), Budget(evaluations=7), 1, traj)
    assert stats.evaluations == 7
    assert len(traj) == 7


def test_time_budget_drops_results_after_the_deadline():
    searcher = _setup(Scripted(n=100))
    traj = Trajectory()
    stats = run_search(searcher, _execute([4.0] * 100), Budget(seconds=10.0), 1, traj)
    assert len(traj) == 2  # results at t=4 and t=8; the one ending at t=12 is dropped
    assert stats.dropped_after_deadline == 1
    assert stats.simulated_seconds == 10.0


def test_waiting_with_nothing_outstanding_is_a_clear_error():
    @dataclass
    class Stuck(Searcher):
        def ask(self):
            return None

        def _tell(self, job, outcome):
            pass

    with pytest.raises(DeadlockError, match="asked to wait"):
        run_search(_setup(Stuck()), _execute([1.0]), Budget(), 1, Trajectory())


# ---------------------------------------------------------------------- batches (ask_many)
@dataclass
class Batched(Scripted):
    """:class:`Scripted`, which may also propose its next architectures at once."""

    def ask_many(self, limit):
        if self.next_ >= self.n:
            return FINISHED
        archs = np.arange(self.next_, min(self.n, self.next_ + limit), dtype=np.int64)
        self.next_ += archs.size
        self.asked_many_ = getattr(self, "asked_many_", 0) + 1
        return "t", archs


class Lookups:
    """An executor answering from arrays, in batches too (what the runner's gives a table)."""

    batches = True

    def __init__(self, values, costs):
        self.values, self.costs = np.asarray(values, float), np.asarray(costs, float)

    def __call__(self, job):
        return Outcome(np.array([self.values[job.arch]]), float(self.costs[job.arch]), "lookup")

    def evaluate_many(self, task, archs):
        return self.values[archs], self.costs[archs], "lookup"


def _searched(searcher, execute, budget, workers=1):
    traj = Trajectory()
    stats = run_search(_setup(searcher), execute, budget, workers, traj)
    return traj, stats


@pytest.mark.parametrize("budget", [Budget(), Budget(evaluations=37), Budget(evaluations=1)])
def test_a_batch_delivers_what_one_job_at_a_time_does(budget):
    """Values with NaN and ties, costs from 0 to 1e9: same rows, times, best and tells."""
    rng = np.random.default_rng(4)
    values = rng.choice([0.5, 0.7, 0.9, np.nan], size=60)
    costs = rng.choice([0.0, 1e-9, 0.1, 3.7, 1e9], size=60)
    one, batched = Lookups(values, costs), Lookups(values, costs)
    one.batches = False
    a, a_stats = _searched(Batched(n=60), batched, budget)
    b, b_stats = _searched(Batched(n=60), one, budget)
    np.testing.assert_equal(a.table().to_pydict(), b.table().to_pydict())
    assert a_stats.simulated_seconds == b_stats.simulated_seconds
    assert a_stats.evaluations == b_stats.evaluations == (budget.evaluations or 60)
    first, second = Batched(n=60), Batched(n=60)
    run_search(_setup(first), batched, budget, 1, Trajectory())
    run_search(_setup(second), one, budget, 1, Trajectory())
    assert first.asked_many_ >= 1 and not hasattr(second, "asked_many_")
    assert first.told_ == second.told_  # the default _tell_many tells each in order
    assert first.recommend("t") == second.recommend("t")
    best = np.nanargmax(values[: budget.evaluations or 60])  # the first of the largest
    assert first.recommend("t") == (int(best), float(values[best]))


def test_a_step_delivers_at_most_what_it_is_asked():
    traj = Trajectory()
    searcher = _setup(Batched(n=10))
    loop = SearchLoop(Budget(), 1)
    execute = Lookups(np.arange(10.0), np.ones(10))
    assert loop.step(searcher, execute, traj, most=3) and loop.delivered == 3
    assert loop.step(searcher, execute, traj, most=1) and loop.delivered == 1
    assert loop.step(searcher, execute, traj) and loop.delivered == 6
    assert not loop.step(searcher, execute, traj)
    assert list(traj.arch) == list(range(10)) and list(traj.end_time) == list(range(1, 11))


@pytest.mark.parametrize("workers, budget", [(2, Budget()), (1, Budget(seconds=20.0))])
def test_many_workers_or_a_time_budget_ask_one_job_at_a_time(workers, budget):
    """Results overlap, or a deadline may cut the batch: ask_many is never called."""
    searcher = Batched(n=30)
    _searched(searcher, Lookups(np.zeros(30), np.ones(30)), budget, workers)
    assert not hasattr(searcher, "asked_many_")


def test_a_batch_larger_than_asked_is_refused():
    class Greedy(Batched):
        def ask_many(self, limit):
            return "t", np.arange(limit + 1)

    with pytest.raises(ValueError, match="proposed 6 evaluations, asked for 1 to 5"):
        _searched(Greedy(n=10), Lookups(np.zeros(10), np.ones(10)), Budget(evaluations=5))


def test_one_worker_times_are_the_clocks_own_arithmetic():
    """The running sum, and the recurrence where it would differ (a NaN cost)."""
    rng = np.random.default_rng(0)
    for costs in (
        rng.exponential(1e4, size=5000),
        np.array([1e-300, 1e300, 0.1, 0.2, 0.3, 1e-17, 5e15, 1.0]),
        np.array([2.0, np.nan, 3.0, 0.5]),
    ):
        for now in (0.0, 0.1, 12345.678):
            clock, starts, ends = SimClock(now), [], []
            for cost in costs.tolist():
                start = clock.time()
                starts.append(start)
                ends.append(start + cost)
                clock.advance_to(start + cost)
            got = _one_worker_times(now, costs)
            np.testing.assert_array_equal(got[0], starts)
            np.testing.assert_array_equal(got[1], ends)
            assert got[2] == clock.time()
