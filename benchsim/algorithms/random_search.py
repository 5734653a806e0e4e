"""Random search: the baseline every NAS paper must beat (NAS-Bench-201 paper, Sec. 5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from benchsim._checks import Boolean, ParameterConstraints
from benchsim.algorithms._base import (
    FINISHED,
    Evaluate,
    Job,
    Outcome,
    Searcher,
    register_algorithm,
)


@register_algorithm("rs")
@dataclass
class RandomSearch(Searcher):
    """Evaluate uniformly random architectures until the budget is spent.

    ``replace=True`` (default) samples with replacement, as the official NB201 script does;
    the runner's budget stops it.  ``replace=False`` never repeats an architecture (a random
    permutation of the space, drawn once): the sampler of papers that count "evaluations
    until the optimum is found"; it stops by itself when the space is exhausted.
    """

    replace: bool = True

    _parameter_constraints: ClassVar[ParameterConstraints] = {"replace": [Boolean()]}
    drawn_ = ()  # not a hyperparameter; a checkpoint saved before drawing ahead has none

    def _setup(self) -> None:
        self.order_ = None if self.replace else self.problem_.space.enumerate()
        if self.order_ is not None:
            self.rng_.shuffle(self.order_)
        self.next_ = 0
        self.drawn_: list[int] = []  # drawn ahead (with replacement), the next one last

    def ask(self) -> Job | str:
        task = self.problem_.tasks[0].name
        if self.order_ is None:
            # Drawn DRAW_AHEAD at a time: one call for an array of draws gives the same
            # numbers as that many calls for one (numpy fills both alike), at a fraction of
            # the cost; what was drawn ahead is kept in the checkpoint with the generator.
            if not self.drawn_:
                self.drawn_ = self.problem_.space.sample(self.rng_, DRAW_AHEAD)[::-1].tolist()
            return Evaluate(task, self.drawn_.pop())
        if self.next_ >= self.order_.size:
            return FINISHED
        arch = int(self.order_[self.next_])
        self.next_ += 1
        return Evaluate(task=task, arch=arch)

    def ask_many(self, limit: int) -> tuple[str, np.ndarray] | str:
        """The next ``limit`` architectures at most (those drawn ahead, with replacement): no
        result changes what random search asks."""
        task = self.problem_.tasks[0].name
        if self.order_ is None:
            if not self.drawn_:
                self.drawn_ = self.problem_.space.sample(self.rng_, DRAW_AHEAD)[::-1].tolist()
            n = min(limit, len(self.drawn_))
            archs = np.array(self.drawn_[-n:][::-1], dtype=np.int64)
            del self.drawn_[-n:]
            return task, archs
        if self.next_ >= self.order_.size:
            return FINISHED
        archs = self.order_[self.next_ : self.next_ + limit].astype(np.int64)
        self.next_ += archs.size
        return task, archs

    def _tell(self, job: Job, outcome: Outcome) -> None:
        """Nothing to learn: the base class keeps the best result."""

    def _tell_many(
        self, task: str, archs: np.ndarray, values: np.ndarray, costs: np.ndarray, source: str
    ) -> None:
        """Nothing to learn."""


DRAW_AHEAD = 256
"""Architectures :class:`RandomSearch` draws per call of the generator."""
