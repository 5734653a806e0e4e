"""EMT-NAS: evolutionary multi-tasking NAS with implicit knowledge transfer (Liao, Jin, Du).

One population of ``population_size`` (K) individuals per task, each carrying its task as skill
factor tau; all tasks evolve together and exchange genes when parents of different tasks mate.
Algorithm numbers refer to the supplementary material (``emt-nas-supplementary.txt``):

1. Alg. 2: K random architectures per task.
2. Alg. 3 (sampled training): one :class:`TrainPass` per task over that task's individuals; each
   mini-batch trains the individual a binary tournament picks (``weights``).
3. Alg. 4 (sampled evaluating): one :class:`SampledEval` per task, each individual scored on one
   random validation mini-batch of ``batch_size``.
4. Each later generation (Alg. 1 lines 6-12): offspring by Alg. 5, TrainPass on parents and
   offspring, SampledEval of the offspring, environmental selection of the top K per task, and
   a whole-validation-split :class:`SampledEval` (``batch_size=None``) of each task's best
   individual (shared weights, so a forward pass, not a training run).  The run stops itself
   after ``generations`` (T, counting the initial one, as Alg. 1 does); no runner budget needed.

Choices where the supplementary is silent (each a hyperparameter):

* Fitness (Eq. 2 of the main paper, which is not available here), ``fitness_update``:
  ``"log"`` (default) is the official implementation's rule (PengLiao12/EMT-NAS,
  ``gnas/genetic_algorithm/genetic.py`` ``update_current_individual_fitness``, read through
  the search tool): the initial population's fitness is its sampled accuracy; a child of
  generation ``g`` (1-based, as here) gets ``f = f_parent + (acc - f_parent) * log_T(g)``,
  ``T = generations``, where ``f_parent`` is the fitness of the parent whose task it inherited
  (:func:`~benchsim.algorithms._multitask.inherit_fitness`): early children mostly inherit,
  late ones are judged on their own mini-batch.  Parents keep their fitness.  ``"ema"`` is the
  moving average benchsim used before, ``f <- m f + (1 - m) acc`` with
  ``m = fitness_momentum`` over an architecture's samples (first sample: ``f = acc``).  Two
  things of the official code are not copied: its per-child accuracy is a running mean over
  all children evaluated before it (``cnn_utils.evaluate_individual_list`` never resets its
  counters), and its parents are drawn fitness-proportionally; here each child's sample is
  its own mini-batch and parents are drawn as ``parent_selection`` says.
  Weights are shared per task, so an individual is identified by (task, architecture).
  Alg. 1 line 9 samples only the offspring.  ``resample_parents=True`` also re-samples every
  surviving parent each generation (SampledEval over P_t and O_t; under ``"log"`` a parent is
  its own home); over 30 NB201 seeds (moving average, stand-alone answers) it gained 0.1-0.3
  points at 20 generations and nothing at 50, so the default keeps line 9 as written.
* Parent selection (Alg. 5 line 3 says only "select two individuals"): uniform random (the
  default), or ``parent_selection="tournament"`` (binary, within a task).
* Binary tournaments in Alg. 3 over individuals without a fitness yet (fresh offspring): a
  coin flip (see :func:`~benchsim.algorithms._multitask.tournament_weights`).
* Crossover probability (Table E) applies to the pairs line 4 admits to crossover.
* Mutation: each gene is redrawn uniformly with probability p_m (Table F); in a space where a
  redrawn gene may leave the space (TNB101-macro), one legal ``space.mutate`` edit with the
  probability that some gene would be redrawn (see :class:`~._multitask.GeneOperators`).
* ``distinct_survivors`` (default False, as the supplementary does not deduplicate): keep each
  architecture once before its copies.  Over 30 seeds on NB201 at 20 and 50 generations (with
  stand-alone answers) the two settings gave the same test accuracy within noise.
* RMP (Alg. 5 line 4) is not given in the supplementary's tables; the default 0.3 is the
  random mating probability common in multifactorial evolution (MFEA).
* ``batch_size`` 256: a typical validation mini-batch (Alg. 4 does not give one).

Settings from the supplementary: K = 20 (Table D), crossover probability 1.0 (Table E),
mutation probability 0.02 per gene (Table F), T = 300 on CIFAR (Table G); on TNB101 we use
T = 100, the supplementary's MedMNIST setting (C.1) for smaller problems.  The line-12
evaluation is the shared weights' estimate on the whole validation split (on a table: the
emulated supernet's, docs/weight_sharing.md; never the stand-alone value unless the upper
bound is asked for); the recommendation is the best such value (:meth:`EMTNAS.recommend`).
Every :class:`TrainPass` announces ``planned_passes = generations``.

The joint-training baselines of appendix D (Table C), JT-S and JT-D, are this class with
other populations and training jobs (:mod:`benchsim.algorithms.jointtraining`): the hooks
:meth:`EMTNAS._populations` (which tasks a population is scored on) and
:meth:`EMTNAS._training_jobs` (Alg. 3's jobs) are what they override.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from benchsim._checks import (
    Boolean,
    Interval,
    Options,
    ParameterConstraints,
)
from benchsim.algorithms._base import (
    FINISHED,
    Job,
    JointTrainPass,
    Outcome,
    Problem,
    SampledEval,
    Searcher,
    TrainPass,
    check_population,
    register_algorithm,
)
from benchsim.algorithms._multitask import (
    gene_operators,
    inherit_fitness,
    select_survivors,
    tournament_weights,
    update_fitness,
)

PARENT_SELECTIONS = ("random", "tournament")
FITNESS_UPDATES = ("log", "ema")


@dataclass
class Brood:
    """Children of one round of Alg. 5, before they are shared out over the tasks.

    ``arch[i]`` has skill factor ``tau[i]``; ``cross_task[i]`` says whether its parents came
    from different tasks and were recombined (a transfer), and ``home[i]`` is the parent whose
    task it inherited (the "same-task parent").
    """

    arch: np.ndarray
    tau: np.ndarray
    cross_task: np.ndarray
    home: np.ndarray


@register_algorithm("emtnas")
@dataclass
class EMTNAS(Searcher):
    """Evolutionary multi-task NAS; see the module docstring for the algorithm and defaults.

    Examples
    --------
    >>> from benchsim.runner import RunConfig, execute_run  # doctest: +SKIP
    >>> execute_run(RunConfig(algo="emtnas", params={"generations": 20}))  # doctest: +SKIP
    """

    multi_task = True

    population_size: int = 20
    generations: int = 300
    rmp: float = 0.3
    crossover_prob: float = 1.0
    mutation_prob: float = 0.02
    fitness_update: str = "log"
    fitness_momentum: float = 0.5
    batch_size: int = 256
    parent_selection: str = "random"
    distinct_survivors: bool = False
    resample_parents: bool = False

    _parameter_constraints: ClassVar[ParameterConstraints] = {
        "population_size": [Interval(2, integer=True)],
        "generations": [Interval(2, integer=True)],  # Alg. 1: generation 1 is P_1 itself
        "rmp": [Interval(0.0, 1.0)],
        "crossover_prob": [Interval(0.0, 1.0)],
        "mutation_prob": [Interval(0.0, 1.0)],
        "fitness_update": [Options(FITNESS_UPDATES)],
        "fitness_momentum": [Interval(0.0, 1.0, high_open=True)],
        "batch_size": [Interval(1, integer=True)],
        "parent_selection": [Options(PARENT_SELECTIONS)],
        "distinct_survivors": [Boolean()],
        "resample_parents": [Boolean()],
    }

    stops_itself = True  # after ``generations``: no runner budget
    paper_defaults: ClassVar[
        dict[str, dict[str, int]]
    ] = {  # T = 300 on NB201 (Table G, CIFAR); 100 on TNB101 (MedMNIST, C.1)
        "nb201": {"generations": 300},
        "tnb101-micro": {"generations": 100},
        "tnb101-macro": {"generations": 100},
    }

    @classmethod
    def smoke_params(cls) -> dict[str, Any]:
        """The initial population and one generation of four individuals per task."""
        return {"generations": 2, "population_size": 4}

    # ------------------------------------------------------------------ life cycle
    def check_problem(self, problem: Problem) -> None:
        """Refuse a population larger than the space (Alg. 2 draws it whole at set-up, so a
        huge one would hold the run silently before its first job)."""
        check_population(self.population_size, problem.space)

    def _setup(self) -> None:
        space, k = self.problem_.space, self.population_size
        self.tasks_ = tuple(spec.name for spec in self.problem_.tasks)
        self.groups_ = self._populations()
        self.row_of_ = {task: row for row, group in enumerate(self.groups_) for task in group}
        n = len(self.groups_)
        self.operators_ = gene_operators(space)
        self.fitness_ = np.full((n, space.size), np.nan)
        self.samples_ = np.zeros((n, space.size), dtype=np.int32)
        # Alg. 2: K random individuals per task, skill factor = the task's row.
        self.population_ = np.stack([np.asarray(space.sample(self.rng_, k)) for _ in range(n)])
        self.offspring_: np.ndarray | None = None
        self.offspring_home_: np.ndarray | None = None  # the parent each child inherited from
        self.sampled_homes_: dict[int, np.ndarray] = {}  # per row: homes of the queued sample
        self.sampled_: dict[int, dict[str, np.ndarray]] = {}  # per row: its tasks' answers so far
        self.generation_ = 1
        self.queue_: deque[Job] = deque()
        self.waiting_ = 0  # TrainPass/SampledEval handed out or queued, not yet told
        self.evaluating_ = 0  # whole-split SampledEval jobs handed out, not yet told
        self.done_ = False
        self._queue_training()

    def ask(self) -> Job | str | None:
        """The next ready job; ``None`` while a generation's results are outstanding.

        All tasks' jobs of one phase are ready at once, so with several workers the tasks'
        TrainPass (and then SampledEval) jobs run side by side.
        """
        if self.queue_:
            job = self.queue_.popleft()
            if isinstance(job, SampledEval) and job.full:
                self.evaluating_ += 1
            return job
        if self.done_ and self.evaluating_ == 0 and self.waiting_ == 0:
            return FINISHED
        return None

    def _tell(self, job: Job, outcome: Outcome) -> None:
        if isinstance(job, SampledEval) and job.full:
            self.evaluating_ -= 1
            self._told_full(job, outcome)
            return
        self.waiting_ -= 1
        if isinstance(job, (TrainPass, JointTrainPass)):
            # Alg. 1 line 4 / 9: the new individuals are scored with the updated weights.
            for task in job.tasks:
                self._queue_sampling(task)
            return
        row = self.row_of_[job.task]
        answers = self.sampled_.setdefault(row, {})
        answers[job.task] = outcome.values
        if len(answers) == len(self.groups_[row]):  # every task of the population answered
            del self.sampled_[row]
            values = (
                outcome.values
                if len(answers) == 1
                else np.mean([answers[task] for task in self.groups_[row]], axis=0)
            )
            self._update_fitness(row, job.archs, values)
        if self.waiting_ == 0:
            self._end_generation()

    def _queue_sampling(self, task: str) -> None:
        """Alg. 1 line 4 / 9 for ``task``: a SampledEval of its population's new individuals."""
        row = self.row_of_[task]
        if self.offspring_ is None:
            fresh = homes = self.population_[row]
        elif self.resample_parents:
            fresh = np.concatenate([self.population_[row], self.offspring_[row]])
            homes = np.concatenate([self.population_[row], self.offspring_home_[row]])
        else:
            fresh, homes = self.offspring_[row], self.offspring_home_[row]
        self.sampled_homes_[row] = homes
        self.queue_.append(SampledEval(task, tuple(fresh.tolist()), self.batch_size))
        self.waiting_ += 1

    def _update_fitness(self, row: int, archs: tuple[int, ...], values: np.ndarray) -> None:
        """Alg. 4 line 8: fold one sampled accuracy per individual into population ``row``."""
        fitness, samples = self.fitness_[row], self.samples_[row]
        if self.fitness_update == "ema":
            update_fitness(fitness, samples, archs, values, self.fitness_momentum)
        else:  # the official log_T rule (the initial population has no parent: f = its sample)
            weight = np.log(self.generation_) / np.log(self.generations)
            homes = self.sampled_homes_.pop(row)
            inherit_fitness(fitness, samples, archs, homes, values, weight)

    def _told_full(self, job: SampledEval, outcome: Outcome) -> None:
        """Hook: a whole-split evaluation arrived (the base class has already considered it
        for :meth:`recommend`)."""

    def recommend(self, task: str) -> tuple[int, float] | None:
        """Best fully evaluated individual (Alg. 1 line 14); before any whole-split
        answer (a run cut short by a budget), the fittest individual and its sampled fitness."""
        best = super().recommend(task)
        if best is not None or not hasattr(self, "population_"):
            return best
        row = self.row_of_[task]
        archs = self.population_[row]
        fit = np.nan_to_num(self.fitness_[row, archs], nan=-np.inf)
        i = int(np.argmax(fit))
        return (int(archs[i]), float(fit[i])) if np.isfinite(fit[i]) else None

    # ------------------------------------------------------------------ Algorithm 1
    def _populations(self) -> tuple[tuple[str, ...], ...]:
        """Hook: the tasks each population is scored on, one tuple per population (row).

        EMT-NAS: one population per task (its skill factor).  A population scored on several
        tasks gets the mean of their sampled accuracies as its fitness sample (JT-S).
        """
        return tuple((task,) for task in self.tasks_)

    def _queue_training(self) -> None:
        """Alg. 1 lines 3 / 8: train every population's parents and offspring."""
        archs, weights = [], []
        for row in range(len(self.groups_)):
            pool = self.population_[row]
            if self.offspring_ is not None:
                pool = np.concatenate([pool, self.offspring_[row]])
            fit = self.fitness_[row, pool]
            weights.append(None if np.isnan(fit).all() else tuple(tournament_weights(fit).tolist()))
            archs.append(tuple(pool.tolist()))
        jobs = self._training_jobs(archs, weights)
        self.queue_.extend(jobs)
        self.waiting_ += len(jobs)

    def _training_jobs(
        self, archs: list[tuple[int, ...]], weights: list[tuple[float, ...] | None]
    ) -> list[Job]:
        """Hook: Alg. 3's jobs, given each population's individuals and binary-tournament
        selection probabilities (``None`` before any fitness).  EMT-NAS: one TrainPass per
        task over its own population."""
        return [
            TrainPass(group[0], pool, w, planned_passes=self.generations)
            for group, pool, w in zip(self.groups_, archs, weights, strict=True)
        ]

    def milestone(self) -> int | None:
        """The current generation (the runner checkpoints a live run as it advances)."""
        return getattr(self, "generation_", None)

    def _end_generation(self) -> None:
        """Alg. 1 lines 10-12, then the next generation's offspring (lines 6-7) or the end."""
        if self.offspring_ is not None:
            k = self.population_size
            for row, group in enumerate(self.groups_):
                pool = np.concatenate([self.population_[row], self.offspring_[row]])
                keep = select_survivors(pool, self.fitness_[row, pool], k, self.distinct_survivors)
                self.population_[row] = pool[keep]
                # Line 12: the best individual on the whole validation split, shared weights.
                for task in group:
                    self.queue_.append(SampledEval(task, (int(pool[keep[0]]),), None))
        if self.generation_ >= self.generations:
            self.done_ = True
            self.offspring_ = self.offspring_home_ = None
            return
        self.generation_ += 1
        self.offspring_ = self._make_offspring()
        self._queue_training()

    # ------------------------------------------------------------------ Algorithm 5
    def _make_offspring(self) -> np.ndarray:
        """Alg. 5: mate pairs of P_t until every task has K offspring; returns shape (N, K).

        Pairs are drawn in vectorised rounds; each round's children are shared out in the order
        they were bred, a task taking children until it has K (lines 18-19).  The parent each
        child inherited its task from is kept in ``offspring_home_`` (the official fitness
        update starts from that parent's fitness).
        """
        n, k = self.population_.shape
        out = np.empty((n, k), dtype=np.int64)
        home = np.empty((n, k), dtype=np.int64)
        filled = np.zeros(n, dtype=np.int64)
        pairs = n * k  # 2NK children a round: one round almost always fills every task
        while (filled < k).any():
            brood = self._breed(pairs)
            for row in range(n):
                need = k - filled[row]
                if need:
                    mine = brood.tau == row
                    got = brood.arch[mine][:need]
                    out[row, filled[row] : filled[row] + got.size] = got
                    home[row, filled[row] : filled[row] + got.size] = brood.home[mine][:need]
                    filled[row] += got.size
        self.offspring_home_ = home
        return out

    def _pick_parents(self, pairs: int) -> tuple[np.ndarray, np.ndarray]:
        """Alg. 5 line 3: positions (into the flattened population) of two parents.

        ``"random"``: two different individuals, uniformly.  ``"tournament"``: each parent wins
        a binary tournament between a uniformly drawn individual and a rival from the same
        task (fitness scales differ between tasks, so only same-task fitness is compared).
        """
        n, k = self.population_.shape
        size, rng = n * k, self.rng_
        if self.parent_selection == "tournament":
            fit = self.fitness_[np.arange(n)[:, None], self.population_].ravel()
            fit = np.where(fit == fit, fit, -np.inf)
            drawn = rng.integers(size, size=(2, pairs))
            rival = (drawn // k) * k + rng.integers(k, size=(2, pairs))
            won = np.where(fit[drawn] >= fit[rival], drawn, rival)
            return won[0], won[1]
        first = rng.integers(size, size=pairs)
        second = rng.integers(size - 1, size=pairs)
        return first, second + (second >= first)

    def _breed(self, pairs: int) -> Brood:
        """Lines 3-17 of Alg. 5 for ``pairs`` pairs at once; children interleaved pair by pair."""
        rng, ops = self.rng_, self.operators_
        k = self.population_.shape[1]
        flat = self.population_.ravel()
        p1, p2 = self._pick_parents(pairs)
        tau1, tau2 = p1 // k, p2 // k
        same = tau1 == tau2
        crossed = same | (rng.random(pairs) < self.rmp)
        if self.crossover_prob < 1.0:
            crossed &= rng.random(pairs) < self.crossover_prob
        p2 = self._choose_mates(p1, p2, crossed & ~same)
        tau2 = p2 // k
        a1, a2 = flat[p1], flat[p2]
        q1, q2 = ops.crossover(a1, a2, crossed, rng)
        children = ops.mutate(np.stack([q1, q2], axis=1).ravel(), self.mutation_prob, rng)
        swap = crossed & (rng.random(pairs) < 0.5)  # lines 8-12: random inheritance of tau
        tau = np.stack([np.where(swap, tau2, tau1), np.where(swap, tau1, tau2)], axis=1).ravel()
        home = np.stack([np.where(swap, a2, a1), np.where(swap, a1, a2)], axis=1).ravel()
        cross_task = np.repeat(crossed & ~same, 2)
        return self._screen(Brood(arch=children, tau=tau, cross_task=cross_task, home=home))

    def _choose_mates(self, p1: np.ndarray, p2: np.ndarray, transfer: np.ndarray) -> np.ndarray:
        """Hook: the second parent of each pair (EMT-NAS keeps the random one)."""
        return p2

    def _screen(self, brood: Brood) -> Brood:
        """Hook: filter the children before they join the offspring (EMT-NAS keeps all)."""
        return brood
