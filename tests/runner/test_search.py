"""The event loop on synthetic jobs: ordering, workers, budgets (no backend involved)."""

from dataclasses import dataclass

import numpy as np
import pytest

from benchsim.algorithms import FINISHED, Evaluate, Outcome, Searcher
from benchsim.runner import Budget
from benchsim.runner._search import DeadlockError, Trajectory, run_search


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
    assert len(traj.step) == 7


def test_time_budget_drops_results_after_the_deadline():
    searcher = _setup(Scripted(n=100))
    traj = Trajectory()
    stats = run_search(searcher, _execute([4.0] * 100), Budget(seconds=10.0), 1, traj)
    assert len(traj.step) == 2  # results at t=4 and t=8; the one ending at t=12 is dropped
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
