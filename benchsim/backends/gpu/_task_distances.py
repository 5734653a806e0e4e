"""Task distances on the live backend (``bench.task_distances``): LD-NAS's log-determinant
distance from source tasks to a target, computed from the datasets the benchmark holds
(:mod:`._fisher`; networks and Fisher diagonals computed once per run and task)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from benchsim.backends.base import BatchResult
from benchsim.backends.gpu._fisher import FisherDistances, FisherSettings
from benchsim.backends.gpu._supernets import Supernets
from benchsim.backends.task_distances import TaskDistances


class LiveTaskDistances(TaskDistances):
    """d[source -> target] from the tasks' images on the benchmark's device.

    Parameters
    ----------
    nets
        The benchmark's training state (its datasets, settings, seed and device).
    resolve_task
        The benchmark's task-name resolution.
    """

    def __init__(self, nets: Supernets, resolve_task: Callable[[str], str]) -> None:
        super().__init__(resolve_task)
        self.nets = nets
        self.fisher_: FisherDistances | None = None  # built on first use

    def _task_distance(
        self,
        target: str,
        sources: tuple[str, ...],
        *,
        repeats: int,
        rng: np.random.Generator | None,
    ) -> BatchResult:
        """Mean over ``repeats`` of d[source -> target] (:mod:`._fisher`), seeded by the
        backend's seed, not ``rng``: a pair's distance does not depend on which search asks
        first.  Networks and Fisher diagonals are kept for the run (not in checkpoints: a
        resumed run computes them again, to the same values on the CPU)."""
        nets = self.nets
        with nets.scope():
            if self.fisher_ is None:
                s = nets.settings
                settings = FisherSettings(
                    epochs=s.distance_epochs,
                    fisher_samples=s.distance_samples,
                    max_batches=s.max_batches_per_pass,
                )
                self.fisher_ = FisherDistances(nets.data_, settings, nets.seed_, nets.device)
            before = self.fisher_.seconds
            mean, _ = self.fisher_.distances_to(target, sources, repeats)
            seconds = self.fisher_.seconds - before
        cost = np.full(len(sources), seconds / len(sources))
        return BatchResult(values=mean, cost=cost, source="live:fisher")
