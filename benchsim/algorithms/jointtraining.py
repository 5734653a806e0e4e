"""EMT-NAS's joint-training baselines JT-S and JT-D (Liao, Jin, Du; supplementary appendix D).

Appendix D compares EMT-NAS on C-10 and C-100 with two baselines whose "hyperparameters settings
... are the same as for EMT-NAS" (Table C):

* **JT-S**: "combine data from all tasks and train them together, but share the same
  architecture in the NAS";
* **JT-D**: "combine data from all tasks and jointly train them, and each task has individual
  architecture, but the supernet weight is shared across all tasks".

Both are EMT-NAS (:mod:`benchsim.algorithms.emtnas`, Algorithms 1-5, the same population size,
generations, operators, fitness rule and sampled evaluation) with Algorithm 3 replaced by joint
training: each generation asks for ONE :class:`~benchsim.algorithms.JointTrainPass`, one pass
over the union of the tasks' training data through one supernet that every task shares (a head
per task), with the tasks' mini-batches mixed in one random order and each mini-batch training
an individual of its own task picked by binary tournament (Alg. 3 line 4).  Where they differ:

* JT-D keeps one population of ``population_size`` individuals per task (Alg. 2), each scored
  on its own task (Alg. 4), and no knowledge transfer between them: ``rmp = 0`` (Alg. 5 line
  4 then never crosses parents of different tasks; each just mutates).  Setting ``rmp > 0``
  gives EMT-NAS's transfer on a jointly trained supernet, an ablation the paper does not run.
* JT-S keeps ONE population of ``population_size`` architectures, each used for every task:
  a joint pass trains it on every task's mini-batches, it is scored on a validation
  mini-batch of every task, and its fitness sample is the mean of those accuracies (Figure B:
  "JT-S fitness is averaged on C-10 and -100"; on other tasks the plain mean of their search
  metrics, which weighs metrics of different scales by their scales).  Each generation the
  fittest individual is evaluated on every task's whole validation split; the search returns
  the one whose mean of those values is the highest, for every task (result.json lists it per
  task, with that task's own value and test metric).  Alg. 5 with one population: every pair
  is crossed (``rmp`` cannot matter and must stay 0).

On a table the joint pass is answered by the emulated supernet, which models no effect of
joint training (docs/weight_sharing.md): there JT-D differs from EMT-NAS only by what its jobs
ask (no transfer, one training job per generation), and JT-S by its single population and
averaged fitness.  The live backend trains one real shared supernet on mixed mini-batches.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from benchsim.algorithms._base import Job, JointTrainPass, Outcome, SampledEval, register_algorithm
from benchsim.algorithms.emtnas import EMTNAS
from benchsim.errors import ConfigError


class _JointTraining(EMTNAS):
    """EMT-NAS with Alg. 3 answered by one joint pass over every task's data (module docstring)."""

    def _training_jobs(
        self, archs: list[tuple[int, ...]], weights: list[tuple[float, ...] | None]
    ) -> list[Job]:
        """One JointTrainPass: each task trains the individuals of the population scored on it."""
        rows = [self.row_of_[task] for task in self.tasks_]
        chosen = [weights[row] for row in rows]
        return [
            JointTrainPass(
                self.tasks_,
                tuple(archs[row] for row in rows),
                None if all(w is None for w in chosen) else tuple(chosen),
                planned_passes=self.generations,
            )
        ]


@register_algorithm("jt-d")
@dataclass
class JTD(_JointTraining):
    """JT-D: per-task architectures, one supernet trained jointly on every task's mini-batches.

    EMT-NAS's baseline of supplementary appendix D (Table C): EMT-NAS's settings and algorithm
    with ``rmp = 0`` (no cross-task mating) and Alg. 3 replaced by one
    :class:`~benchsim.algorithms.JointTrainPass` per generation; see
    :mod:`benchsim.algorithms.jointtraining`.

    Examples
    --------
    >>> from benchsim.runner import RunConfig, execute_run  # doctest: +SKIP
    >>> execute_run(RunConfig(algo="jt-d", params={"generations": 20}))  # doctest: +SKIP
    """

    rmp: float = 0.0


@register_algorithm("jt-s")
@dataclass
class JTS(_JointTraining):
    """JT-S: one architecture for all tasks, trained on their joint data, mean fitness.

    EMT-NAS's baseline of supplementary appendix D (Table C): one population of
    ``population_size`` architectures shared by every task, trained by one
    :class:`~benchsim.algorithms.JointTrainPass` per generation, scored by the mean of its
    tasks' sampled accuracies (Figure B); the returned architecture is the same for every task.
    See :mod:`benchsim.algorithms.jointtraining`.

    Examples
    --------
    >>> from benchsim.runner import RunConfig, execute_run  # doctest: +SKIP
    >>> execute_run(RunConfig(algo="jt-s", params={"generations": 20}))  # doctest: +SKIP
    """

    shared_architecture = True

    rmp: float = 0.0

    def _check_parameters(self) -> None:
        super()._check_parameters()
        if self.rmp != 0:
            raise ConfigError(
                f"rmp == {self.rmp!r} for jt-s, must be 0: its one population has no other "
                "task to mate with"
            )

    def _populations(self) -> tuple[tuple[str, ...], ...]:
        """One population, scored on every task."""
        return (self.tasks_,)

    def _setup(self) -> None:
        super()._setup()
        self.full_: dict[int, dict[str, deque[float]]] = {}  # arch -> task -> values in order
        self.joint_best_: tuple[int, float, dict[str, float]] | None = None

    def _told_full(self, job: SampledEval, outcome: Outcome) -> None:
        """Pair each task's whole-split value of an architecture with the other tasks' values
        of it in the order they come (first in, first out), and keep the best mean (the first
        on ties; NaN values are left out, as the base class leaves them out)."""
        value = float(outcome.values[0])
        if value != value:
            return
        arch = int(job.archs[0])
        queues = self.full_.setdefault(arch, {task: deque() for task in self.tasks_})
        queues[job.task].append(value)
        if all(queues.values()):
            values = {task: queue.popleft() for task, queue in queues.items()}
            mean = float(np.mean(list(values.values())))
            best = self.joint_best_
            if best is None or mean > best[1]:
                self.joint_best_ = (arch, mean, values)

    def recommend(self, task: str) -> tuple[int, float] | None:
        """The architecture with the best mean whole-split value over the tasks, with its value
        on ``task``; before any, the fittest individual and its (mean) sampled fitness."""
        best = getattr(self, "joint_best_", None)
        if best is not None:
            return best[0], best[2][task]
        if not hasattr(self, "population_"):
            return None
        archs = self.population_[0]
        fit = np.nan_to_num(self.fitness_[0, archs], nan=-np.inf)
        i = int(np.argmax(fit))
        return (int(archs[i]), float(fit[i])) if np.isfinite(fit[i]) else None
