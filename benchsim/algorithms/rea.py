"""Regularized evolution (REA; Real et al., AAAI 2019), as NAS-Bench-201 and TNB101 run it.

Aging evolution: a queue of the ``population_size`` most recent architectures; each cycle
samples ``sample_size`` of them, mutates the best one (one edge's op, or for the TNB101 macro
space: add, delete or change a module) and pushes the child, dropping the oldest.  The first
``population_size`` evaluations are random.  Settings: NB201 paper (population 10, sample 3,
``R-EA.sh cifar10 3 -1``); TNB101 supplementary Sec. 5 (population 10, sample 10, 50
architectures).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from operator import itemgetter
from typing import ClassVar

from benchsim._checks import Interval, ParameterConstraints
from benchsim.algorithms._base import (
    Evaluate,
    Job,
    Outcome,
    Problem,
    Searcher,
    check_population,
    register_algorithm,
)
from benchsim.errors import ConfigError


@register_algorithm("rea")
@dataclass
class RegularizedEvolution(Searcher):
    """Aging evolution; see the module docstring."""

    population_size: int = 10
    sample_size: int = 3

    _parameter_constraints: ClassVar[ParameterConstraints] = {
        "population_size": [Interval(2, integer=True)],
        "sample_size": [Interval(1, integer=True)],
    }

    def _check_parameters(self) -> None:
        if self.sample_size > self.population_size:
            raise ConfigError(
                f"sample_size == {self.sample_size}, must be in 1..population_size "
                f"({self.population_size})"
            )

    @classmethod
    def smoke_params(cls) -> dict:
        """A population of four, tournaments of two."""
        return {"population_size": 4, "sample_size": 2}

    paper_defaults: ClassVar[
        dict[str, dict[str, int]]
    ] = {  # NB201's population 10, sample 3; TNB101's 10 / 10
        "nb201": {"population_size": 10, "sample_size": 3},
        "tnb101-micro": {"population_size": 10, "sample_size": 10},
        "tnb101-macro": {"population_size": 10, "sample_size": 10},
    }

    def check_problem(self, problem: Problem) -> None:
        """Refuse a population larger than the space: its random start alone would have to
        repeat architectures, and evolution would never begin within any sane budget."""
        check_population(self.population_size, problem.space)

    def _setup(self) -> None:
        self.population_: deque[tuple[int, float]] = deque()
        self.started_ = 0

    def ask(self) -> Job:
        space, task = self.problem_.space, self.problem_.tasks[0].name
        if self.started_ < self.population_size or not self.population_:
            self.started_ += 1
            return Evaluate(task=task, arch=space.sample(self.rng_))
        members = self.population_
        picks = self.rng_.choice(
            len(members), size=min(self.sample_size, len(members)), replace=False
        )
        parent = max([members[i] for i in picks.tolist()], key=itemgetter(1))
        self.started_ += 1
        return Evaluate(task=task, arch=space.mutate(parent[0], self.rng_))

    def _tell(self, job: Job, outcome: Outcome) -> None:
        self.population_.append((job.arch, outcome.value))
        while len(self.population_) > self.population_size:
            self.population_.popleft()
