"""LD-NAS (Le, Soltani, Ravier, Tarokh): search the space of the closest task, with FUSE.

Algorithm 1 of ld-nas-fisher-task-distance.txt, run as a single-task searcher on the target
task ``t`` of the problem:

1. **Baselines** (Sec. 3: "for each baseline task, the best architecture ... [is] known ... can
   be performed using the random search method").  The baseline set B is ``baseline_tasks``
   (default: every source task of the problem).  Each baseline's best architecture is the best
   of ``baseline_evaluations`` random architectures evaluated on it: ordinary
   :class:`~benchsim.algorithms.Evaluate` jobs on that task, recorded in the trajectory and
   charged on the clock to the *baseline* task, as XferNAS's source phase is (the runner's
   budget counts only the target's jobs, and a time budget starts with the first target job).
2. **Task similarity** (lines 14-16).  ``d[b, t]`` for every b in B: read from ``distances``
   (a file written by ``benchsim task-distance``, or its JSON content), or, when ``distances``
   is not given and the backend can compute them (the live backend, which holds the images),
   asked as one :class:`~benchsim.algorithms.TaskDistance` job over ``distance_repeats``
   initialisations (the paper: 10).  On a table, which holds no images, a missing
   ``distances`` is refused at set-up with the command that makes the file.  The closest
   baseline is ``b* = argmin_b d[b, t]`` (ties: the first in B's order).
3. **Reduced space** ``S_b*`` (line 18; Sec. 4: "we apply cell structure and the operations of
   Task 7").  Cell spaces (NB201, TNB101-micro; the cell structure is fixed): every cell whose
   six edges use only operations that ``b*``'s best cell uses (``none`` counts as an operation
   when that cell has it).  TNB101-macro (the paper has no macro space; our reading): networks
   with as many modules as ``b*``'s best network, whose module types are among its types.  The
   best architecture itself is always a member.
4. **FUSE** (lines 7-12 and 17-20).  Round 1 fuses ``candidates`` (C, the paper: 5) random
   members; each later round fuses the incumbent ``c*`` and C new members (drawn without
   replacement, members never fused before first).  A round alternates, for at most
   ``fuse_steps`` steps (the authors' NAS_FUSE.py: 10 stages) or until the mixing weights
   ``p = softmax(alpha)`` converge (no ``p_c`` moves by more than ``alpha_tol``):

   * weight step (line 10): one :class:`~benchsim.algorithms.TrainPass` over the target's
     training data in which each mini-batch trains candidate ``c`` with probability ``p_c``;
   * alpha step (line 11): one :class:`~benchsim.algorithms.SampledEval` of the candidates on
     the validation data (``batch_size``; ``None``, the default: the whole split, as the
     authors' coefficient training reads the whole validation loader), then
     ``alpha_c <- alpha_c + alpha_step * p_c * (v_c - sum_k p_k v_k) / s``.

   ``alpha`` starts at ``1/|C|`` (the paper's input).  The round keeps ``c* = argmax alpha``
   (Sec. 3.2; ties: the incumbent, listed first) and evaluates it on the whole validation split
   (shared weights: a forward pass).  The search stops after ``rounds`` rounds (the paper: 200
   iterations), when the incumbent has won ``patience`` rounds in a row ("the best
   architecture converges"), or at once when the reduced space has one member only.  It returns
   the final ``c*`` with its whole-split value.

What is approximated, and why.  FUSE trains the candidates as separate networks whose logits
are mixed, ``c_bar(X) = sum_c p_c c(X)`` (Eq. 4), and updates ``alpha`` by gradient descent on
the validation loss of the mixture.  benchsim's jobs ask a backend about architectures of one
weight-sharing supernet (:class:`TrainPass`, :class:`SampledEval`), which the live backend
answers by training and the table by its supernet emulation (never stand-alone values), so:

* weights: the gradient of the mixture's loss reaches candidate ``c``'s weights scaled by
  ``p_c``; sampling candidate ``c`` for a mini-batch with probability ``p_c`` gives each the
  same expected share of training.  Candidates share the supernet's weights, and training
  accumulates over rounds (the authors' code re-initialised the candidates every round);
* alpha: the mixture's cross-entropy is bounded by the ``p``-weighted candidates' losses
  (Jensen: ``-log`` is convex), and the candidates' validation estimates ``v_c`` (the search
  metric, higher is better) stand in for their negated losses.  The update is one gradient
  step on that bound, ``-sum_c p_c v_c / s``; ``s`` is the standard deviation of every
  estimate of this search so far (1 before two exist), so ``alpha_step`` is free of the
  metric's unit (accuracy in %, SSIM, negated L2 loss).

:class:`~benchsim.algorithms.TrainPass` announces no ``planned_passes``: the search's length is
set by its stopping criteria, so backends measure training progress against the task's
standard schedule.  Defaults where the paper is silent: 100 baseline evaluations (XferNAS's
source budget), ``patience`` 20, ``alpha_step`` 1, ``alpha_tol`` 0.01.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from benchsim._checks import (
    InstanceOf,
    Interval,
    ParameterConstraints,
    TaskNames,
)
from benchsim._linalg import dot
from benchsim.algorithms._base import (
    FINISHED,
    Evaluate,
    Job,
    Outcome,
    Problem,
    SampledEval,
    Searcher,
    TaskDistance,
    TrainPass,
    register_algorithm,
)
from benchsim.algorithms._multitask import gene_operators
from benchsim.distances import load_distances
from benchsim.errors import ConfigError
from benchsim.spaces import SearchSpace
from benchsim.spaces._cell import CellSpace

MAKE_DISTANCES = "benchsim task-distance --tasks {tasks} --out FILE"


def reduced_space(space: SearchSpace, best: int) -> np.ndarray:
    """Members of ``space`` built from ``best``'s operations (see step 3 of the module).

    >>> from benchsim.spaces import get_space
    >>> nb201 = get_space("nb201")
    >>> best = nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+"
    ...                    "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    >>> reduced_space(nb201, best).size  # two operations on six edges
    64
    """
    genes = gene_operators(space).genes.astype(np.int64)
    mine = genes[int(best)]
    if isinstance(space, CellSpace):
        return np.flatnonzero(np.isin(genes, np.unique(mine)).all(axis=1))
    # Macro: decisions are module slots, 0 = no module.  Same depth, module types a subset.
    depth = (genes > 0).sum(axis=1)
    types = np.unique(mine[mine > 0])
    inside = np.isin(genes, np.concatenate([[0], types])).all(axis=1)
    return np.flatnonzero(inside & (depth == int((mine > 0).sum())))


@register_algorithm("ld-nas")
@dataclass
class LDNAS(Searcher):
    """LD-NAS: the closest task's operations define the space, FUSE searches it (module doc).

    Parameters
    ----------
    distances
        A distance file (``benchsim task-distance ... --out FILE``) or its JSON content;
        ``None``: ask the backend (possible on the live backend only).
    baseline_tasks
        The baseline set B; ``None`` = every source task of the problem.
    baseline_evaluations
        Random architectures evaluated per baseline to find its best one.
    distance_repeats
        Initialisations a :class:`TaskDistance` job averages over (the paper: 10).
    candidates
        C: new candidates per FUSE round (the paper: 5).
    rounds, patience
        Stopping criteria: most rounds (the paper: 200 iterations); rounds the incumbent must
        win in a row.
    fuse_steps, alpha_tol
        At most this many weight/alpha alternations per round; fewer once no mixing weight
        moves by more than ``alpha_tol``.
    alpha_step
        Step size of the alpha update (in units of the estimates' standard deviation).
    batch_size
        Validation examples of an alpha step (``None``: the whole validation split).
    """

    distances: Any = None
    baseline_tasks: tuple[str, ...] | None = None
    baseline_evaluations: int = 100
    distance_repeats: int = 10
    candidates: int = 5
    rounds: int = 200
    patience: int = 20
    fuse_steps: int = 10
    alpha_tol: float = 0.01
    alpha_step: float = 1.0
    batch_size: int | None = None

    _parameter_constraints: ClassVar[ParameterConstraints] = {
        "distances": [InstanceOf((str, Mapping), "a distance file path or its JSON content"), None],
        "baseline_tasks": [TaskNames("every source task")],
        "baseline_evaluations": [Interval(1, integer=True)],
        "distance_repeats": [Interval(1, integer=True)],
        "candidates": [Interval(1, integer=True)],
        "rounds": [Interval(1, integer=True)],
        "patience": [Interval(1, integer=True)],
        "fuse_steps": [Interval(1, integer=True)],
        "alpha_tol": [Interval(0.0)],
        "alpha_step": [Interval(0.0, low_open=True)],
        "batch_size": [Interval(1, integer=True), None],
    }

    def _check_parameters(self) -> None:
        if self.distances is not None:
            load_distances(self.distances)  # a bad file is refused now, before any work

    stops_itself = True  # rounds, patience, or nothing new left to fuse

    @classmethod
    def smoke_params(cls) -> dict[str, Any]:
        """Two evaluations per baseline, one distance repeat, two short rounds of 2 + 1."""
        return {"baseline_evaluations": 2, "distance_repeats": 1, "candidates": 2,
                "rounds": 2, "fuse_steps": 2}  # fmt: skip

    @classmethod
    def required_inputs(cls) -> dict[str, str]:
        """``distances`` on a table (its backend holds no images to compute them from)."""
        return {"distances": "a task distance file (`benchsim task-distance`) over the tasks"}

    # ------------------------------------------------------------------ set-up
    def check_problem(self, problem: Problem) -> None:
        """Refuse, before the run writes anything, a search without baselines or distances."""
        self._inputs(problem)

    def _inputs(self, problem: Problem) -> tuple[tuple[str, ...], dict[str, float] | None]:
        """The baseline tasks and, when given as a file, d[b -> target] for each of them."""
        space, target = problem.space, problem.tasks[0].name
        offered = [t.name for t in problem.source_tasks]
        names = offered if self.baseline_tasks is None else list(self.baseline_tasks)
        unknown = [n for n in names if n not in offered]
        if unknown:
            raise ConfigError(
                f"baseline_tasks {unknown} are not source tasks of this search; "
                f"allowed: {', '.join(offered) or '(none)'}"
            )
        if not names:
            raise ConfigError(
                f"ld-nas needs at least one baseline task besides {target}; this "
                "benchmark offers none (give the run more tasks)"
            )
        distances: dict[str, float] | None = None
        if self.distances is not None:
            matrix = load_distances(self.distances)
            missing = [t for t in (*names, target) if t not in matrix.tasks]
            if missing:
                raise ConfigError(
                    f"distances hold no row/column for {missing}; the matrix has tasks "
                    f"{list(matrix.tasks)}; make one with "
                    + MAKE_DISTANCES.format(tasks=",".join((*names, target)))
                )
            distances = {b: matrix.distance(b, target) for b in names}
        elif "task_distance" not in problem.capabilities:
            raise ConfigError(
                f"ld-nas needs distances=FILE on space {space.name} (its backend "
                "holds no images to compute task distances from): make the file with `"
                + MAKE_DISTANCES.format(tasks=",".join((*names, target)))
                + "` where the datasets are (or write one, docs/ldnas.md) and pass "
                "--param distances=FILE"
            )
        n = self.baseline_evaluations
        if n > space.size:
            raise ConfigError(
                f"baseline_evaluations == {n} is more than the {space.size} architectures "
                f"of {space.name}"
            )
        return tuple(names), distances

    def _setup(self) -> None:
        problem, space = self.problem_, self.problem_.space
        self.target_ = problem.tasks[0].name
        self.baselines_, self.distances_ = self._inputs(problem)
        names, n = self.baselines_, self.baseline_evaluations
        self.queue_: deque[Job] = deque(
            Evaluate(task=b, arch=int(a))
            for b in names
            for a in self.rng_.choice(space.size, size=n, replace=False)
        )
        self.waiting_ = len(self.queue_)  # answers still to come before the next phase
        self.closest_: str | None = None
        self.space_: np.ndarray | None = None  # the reduced space S_b*
        self.fused_ = np.zeros(space.size, dtype=bool)  # ever a FUSE candidate
        self.round_ = 0
        self.wins_ = 0  # rounds in a row the incumbent kept its place
        self.incumbent_: int | None = None
        self.incumbent_value_ = float("nan")
        self.cands_: tuple[int, ...] = ()
        self.alpha_ = np.zeros(0)
        self.step_ = 0
        self.estimates_: list[float] = []  # every alpha-step estimate of this search
        self.last_values_: np.ndarray | None = None  # the latest alpha step's estimates
        self.phase_ = "weights"
        self.done_ = False

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Job | str | None:
        """Baseline evaluations, the distance job, then one FUSE job at a time."""
        if self.queue_:
            return self.queue_.popleft()
        if self.waiting_ > 0:
            return None
        if self.done_:
            return FINISHED
        self.waiting_ = 1
        if self.space_ is None:  # all baselines answered: the distances are next
            if self.distances_ is None:
                return TaskDistance(self.target_, self.baselines_, self.distance_repeats)
            self._reduce()
        return self._next_fuse_job()

    def _tell(self, job: Job, outcome: Outcome) -> None:
        self.waiting_ -= 1
        if isinstance(job, Evaluate):
            return  # a baseline answer (the base class keeps each task's best)
        if isinstance(job, TaskDistance):
            self.distances_ = dict(zip(job.sources, outcome.values.tolist(), strict=True))
            self._reduce()
            return
        if isinstance(job, TrainPass):
            self.phase_ = "alpha"
            return
        if self.phase_ == "winner":  # the round's c* on the whole validation split
            self.incumbent_value_ = float(outcome.value)
            self._end_round()
            return
        self._alpha_step(np.asarray(outcome.values, dtype=np.float64))

    def recommend(self, task: str) -> tuple[int, float] | None:
        """The last round's ``c*`` and its whole-split value; before any round has ended (a
        budget cut short), the leading candidate and its latest estimate."""
        if task != getattr(self, "target_", None):
            return super().recommend(task)
        if self.incumbent_ is not None and self.incumbent_value_ == self.incumbent_value_:
            return self.incumbent_, self.incumbent_value_
        if self.cands_ and self.last_values_ is not None:  # no round has ended yet
            k = int(np.argmax(self.alpha_))
            return self.cands_[k], float(self.last_values_[k])
        return None

    def milestone(self) -> int | None:
        """The FUSE round (a live run checkpoints as it advances)."""
        return getattr(self, "round_", None)

    # ------------------------------------------------------------------ Algorithm 1
    def _reduce(self) -> None:
        """Line 16 (closest baseline) and line 18 (its reduced space)."""
        order = sorted(
            self.baselines_, key=lambda b: (self.distances_[b], self.baselines_.index(b))
        )
        with_best = [b for b in order if b in self.best_]
        self.closest_ = with_best[0] if with_best else order[0]
        best = self.best_.get(self.closest_)
        space = self.problem_.space
        self.space_ = space.enumerate() if best is None else reduced_space(space, best[0])
        self._start_round()

    def _start_round(self) -> None:
        """Line 18: C new members (never fused first) plus the incumbent; alpha = 1/|C|."""
        members = self.space_
        if self.incumbent_ is not None:
            members = members[members != self.incumbent_]
        fresh = members[~self.fused_[members]]
        picked = self.rng_.permutation(fresh)[: self.candidates]
        if picked.size < self.candidates:
            old = np.setdiff1d(members, picked)
            more = self.rng_.permutation(old)[: self.candidates - picked.size]
            picked = np.concatenate([picked, more])
        self.fused_[picked] = True
        head = () if self.incumbent_ is None else (self.incumbent_,)
        self.cands_ = (*head, *(int(a) for a in picked))
        self.alpha_ = np.full(len(self.cands_), 1.0 / len(self.cands_))
        self.last_values_ = None
        self.step_ = 0
        self.phase_ = "weights"
        self.round_ += 1

    def _next_fuse_job(self) -> Job:
        if self.phase_ == "weights":  # line 10
            weights = tuple(_softmax(self.alpha_).tolist())
            return TrainPass(self.target_, self.cands_, weights)
        if self.phase_ == "alpha":  # line 11
            return SampledEval(self.target_, self.cands_, self.batch_size)
        return SampledEval(self.target_, (self.cands_[int(np.argmax(self.alpha_))],), None)

    def _alpha_step(self, values: np.ndarray) -> None:
        """One descent step on the emulated validation loss (module docstring)."""
        self.last_values_ = values
        finite = np.isfinite(values)
        self.estimates_.extend(values[finite].tolist())
        scale = float(np.std(self.estimates_)) if len(self.estimates_) > 1 else 0.0
        scale = scale if scale > 0 else 1.0
        p = _softmax(self.alpha_)
        v = np.where(finite, values, np.min(values[finite]) if finite.any() else 0.0)
        before = p
        self.alpha_ = self.alpha_ + self.alpha_step * p * (v - dot(p, v)) / scale
        self.step_ += 1
        moved = float(np.max(np.abs(_softmax(self.alpha_) - before)))
        converged = moved <= self.alpha_tol or len(self.cands_) == 1
        self.phase_ = "winner" if converged or self.step_ >= self.fuse_steps else "weights"

    def _end_round(self) -> None:
        """Line 12 (keep c*), then the stopping criteria of line 17."""
        winner = self.cands_[int(np.argmax(self.alpha_))]
        kept = self.incumbent_ is not None and winner == self.incumbent_
        self.wins_ = self.wins_ + 1 if kept else 0
        self.incumbent_ = winner
        alone = self.space_.size <= 1  # nothing to fuse the incumbent with
        if self.round_ >= self.rounds or self.wins_ >= self.patience or alone:
            self.done_ = True
            return
        self._start_round()


def _softmax(alpha: np.ndarray) -> np.ndarray:
    z = np.exp(alpha - np.max(alpha))
    return z / z.sum()
