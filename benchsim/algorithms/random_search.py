"""Random search: the baseline every NAS paper must beat (NAS-Bench-201 paper, Sec. 5)."""

from __future__ import annotations

from dataclasses import dataclass

from benchsim.algorithms._base import Evaluate, Job, Outcome, Searcher, register_algorithm


@register_algorithm("rs")
@dataclass
class RandomSearch(Searcher):
    """Evaluate uniformly random architectures until the budget is spent.

    Samples with replacement, as the official NB201 script does; the runner's budget stops it.
    """

    def ask(self) -> Job:
        task = self.problem_.tasks[0].name
        return Evaluate(task=task, arch=self.problem_.space.sample(self.rng_))

    def _tell(self, job: Job, outcome: Outcome) -> None:
        """Nothing to learn: the base class keeps the best result."""
