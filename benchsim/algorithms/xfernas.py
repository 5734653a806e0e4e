"""XferNAS (Wistuba, 2019): NAO's search with a transfer network as performance predictor.

The predictor of task ``i`` is ``f_i = f_u + r_i`` (Eq. 4-5): a universal network shared by all
tasks plus a residual network per task, trained jointly on every task's observations (Eq. 7;
Adam, learning rate 1e-3, weight decay 1e-4) -- see :mod:`._transfer_net`.  Candidates come from
gradient ascent on an architecture code, ``z <- z + eta * d f_target / d z`` (Eq. 8, ``eta``
= 10), started in phase 1 from the architectures best on the source tasks and in phase 2 from
those best on the target task; 33 target architectures are evaluated (Sec. 2.3).

Run as a single-task searcher on the target task:

1. Source knowledge.  ``source_evaluations`` random architectures per source task (default 100
   each, the paper had 200; default tasks: all ``problem.source_tasks``) are asked as ordinary
   :class:`~benchsim.algorithms.Evaluate` jobs, so the trajectory records them and the runner
   charges them like any evaluation.  As in the paper (Sec. 4.2), each architecture is
   evaluated on exactly one source task.
2. After the last source result the network is fitted (``fit_steps``), then each target result
   refits it (``refit_steps``, warm start).
3. Each ask: from each of the ``n_starts`` best starting points, ascend Eq. 8 until the decoded
   architecture is new; evaluate the candidate with the highest predicted target value.

Where the paper is silent or its parts do not fit a finite table (each choice a hyperparameter):

* Code and decoder.  NAO's LSTM auto-encoder maps architectures to codes and back; on a finite
  space the code is ``space.encode`` (one-hot per decision) and the decoder is a
  nearest-neighbour lookup over every member's code.  That decoder is exact, so the
  reconstruction loss of Eq. 6 is zero and only Eq. 7 is trained.
* "Step size large enough to get a new architecture": steps of ``step_size`` are repeated (at
  most ``max_ascent_steps``) until the nearest member is neither the start nor already
  evaluated/pending on the target task; otherwise the nearest such member to the final code.
* Targets are standardised per task (mean 0, standard deviation 1 over that task's
  observations), so accuracy in %, SSIM and negated losses share one universal function.
* Phase 2 starts once ``phase1_evaluations`` target results have arrived.

Budget: every source evaluation is a real :class:`Evaluate` job, recorded in the trajectory
and charged its cost on the simulated clock, but on the *source* task: the runner's budget is
per task and counts only the search's own (target) task, and a time budget starts with the
first target job (:class:`~benchsim.runner._search.SearchLoop`).  The source phase is bounded by
XferNAS's own ``source_evaluations`` (its documented budget: ``n_sources * source_evaluations``
answers, 200 on NB201 with the defaults, 600 on TNB101), and ``result.json`` reports it apart
(``source_tasks``: evaluations and simulated seconds).  So any budget that buys one target
evaluation returns an architecture.  Without a budget XferNAS stops itself after
``target_evaluations`` target answers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from benchsim._checks import Interval, ParameterConstraints, TaskNames, check_number
from benchsim._linalg import matmul
from benchsim.algorithms._base import (
    FINISHED,
    Evaluate,
    Job,
    Outcome,
    Problem,
    Searcher,
    register_algorithm,
)
from benchsim.algorithms._policy import Adam
from benchsim.algorithms._transfer_net import TransferNet
from benchsim.errors import ConfigError


@register_algorithm("xfernas")
@dataclass
class XferNAS(Searcher):
    """Transfer NAS with a universal + residual predictor; see the module docstring.

    Parameters
    ----------
    source_tasks
        Source task names; ``None`` = every task in ``problem.source_tasks``.
    source_evaluations
        Random architectures evaluated per source task (the paper used 200 per task, Sec. 4.2).
    target_evaluations
        Target evaluations before stopping (paper: 33); ``None`` = until the runner's budget.
    phase1_evaluations
        Target results after which starting points come from the target task (phase 2).
    n_starts
        Starting points per candidate (each gives one candidate; the best predicted is asked).
    step_size, max_ascent_steps
        ``eta`` of Eq. 8 (paper: 10) and the most steps taken to reach a new architecture.
    hidden_size, hidden_layers, residual_hidden_size
        Universal network (ReLU MLP) and residual networks (one hidden layer each).
    learning_rate, weight_decay
        Adam settings of the paper (1e-3, 1e-4).
    fit_steps, refit_steps
        Adam steps of the first fit and of each warm-started refit.
    batch_size
        Observations per Adam step, drawn at random (``None``: all).  Not in the paper; small
        batches keep a step cheap (and below BLAS's multi-threading sizes, which on a busy
        host made full-batch steps twenty times slower).
    """

    source_tasks: tuple[str, ...] | None = None
    source_evaluations: int = 100
    target_evaluations: int | None = 33
    phase1_evaluations: int = 10
    n_starts: int = 5
    step_size: float = 10.0
    max_ascent_steps: int = 20
    hidden_size: int = 64
    hidden_layers: int = 2
    residual_hidden_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    fit_steps: int = 1000
    refit_steps: int = 100
    batch_size: int | None = 64

    _parameter_constraints: ClassVar[ParameterConstraints] = {
        "source_tasks": [TaskNames("all other tasks")],
        "source_evaluations": [Interval(0, integer=True)],
        "target_evaluations": [Interval(1, integer=True), None],
        "phase1_evaluations": [Interval(0, integer=True)],
        "n_starts": [Interval(1, integer=True)],
        "step_size": [Interval(0.0, low_open=True)],
        "max_ascent_steps": [Interval(1, integer=True)],
        "hidden_size": [Interval(1, integer=True)],
        "hidden_layers": [Interval(1, integer=True)],
        "residual_hidden_size": [Interval(1, integer=True)],
        "learning_rate": [Interval(0.0, low_open=True)],
        "weight_decay": [Interval(0.0)],
        "fit_steps": [Interval(1, integer=True)],
        "refit_steps": [Interval(0, integer=True)],
        "batch_size": [Interval(1, integer=True), None],
    }

    stops_itself = True  # sources + ``target_evaluations`` (module docstring)

    @classmethod
    def smoke_params(cls) -> dict[str, Any]:
        """Four evaluations per source task and four on the target, two of them random."""
        return {"source_evaluations": 4, "target_evaluations": 4, "phase1_evaluations": 2}

    # ------------------------------------------------------------------ set-up
    def check_problem(self, problem: Problem) -> None:
        """Refuse, before the run writes anything, source tasks the search does not offer and
        more source evaluations than the space has architectures to draw them from."""
        self._sources(problem)

    def _sources(self, problem: Problem) -> list[str]:
        """The source tasks, each given ``source_evaluations`` distinct architectures (one
        draw without replacement over all of them, so their total is bounded by the space)."""
        space = problem.space
        offered = [t.name for t in problem.source_tasks]
        names = list(offered) if self.source_tasks is None else list(self.source_tasks)
        unknown = [n for n in names if n not in offered]
        if unknown:
            raise ConfigError(
                f"source_tasks {unknown} are not source tasks of this search; "
                f"allowed: {', '.join(offered) or '(none)'}"
            )
        if names:
            most = space.size // len(names)
            check_number(
                "source_evaluations", self.source_evaluations, 0, most, integer=True,
                why=f"each of {len(names)} source tasks gets its own architectures, of the "
                f"{space.size:,} of {space.name}",
            )  # fmt: skip
        return names

    def _setup(self) -> None:
        space, problem = self.problem_.space, self.problem_
        names = self._sources(problem)
        total = len(names) * self.source_evaluations
        self.target_ = problem.tasks[0].name
        self.task_ids_ = {name: k for k, name in enumerate([*names, self.target_])}
        archs = self.rng_.choice(space.size, size=total, replace=False)
        self.source_queue_ = deque(
            Evaluate(task=name, arch=int(a))
            for k, name in enumerate(names)
            for a in archs[k * self.source_evaluations : (k + 1) * self.source_evaluations]
        )
        self.source_left_ = total
        self.codes_ = space.encode(space.enumerate()).astype(np.float64)
        self.half_norms_ = 0.5 * np.einsum("ij,ij->i", self.codes_, self.codes_)
        self.obs_: list[tuple[int, int, float]] = []  # (task id, arch, value)
        self.target_asked_ = 0
        self.target_results_ = 0
        self.excluded_ = np.zeros(space.size, dtype=bool)  # evaluated or pending on the target
        self.net_: TransferNet | None = None
        self.loss_ = float("nan")  # training loss (Eq. 7 / n) after the last fit
        self.stale_ = True

    # ------------------------------------------------------------------ surrogate
    def training_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Codes, per-task standardised values and task ids of every finite observation."""
        task = np.array([o[0] for o in self.obs_], dtype=np.int64)
        arch = np.array([o[1] for o in self.obs_], dtype=np.int64)
        y = np.array([o[2] for o in self.obs_], dtype=np.float64)
        for k in np.unique(task):
            sel = task == k
            std = y[sel].std() if sel.sum() > 1 else 0.0
            y[sel] = (y[sel] - y[sel].mean()) / (std if std > 0 else 1.0)
        return self.codes_[arch], y, task

    def fit(self) -> None:
        """Fit (first call) or refit (warm start) the transfer network on Eq. 7."""
        z, y, task = self.training_data()
        steps = self.refit_steps
        if self.net_ is None:
            self.net_ = TransferNet(
                self.codes_.shape[1],
                len(self.task_ids_),
                self.hidden_size,
                self.hidden_layers,
                self.residual_hidden_size,
                self.rng_,
            )
            self.optimizer_ = Adam(
                self.net_.params, lr=self.learning_rate, weight_decay=self.weight_decay
            )
            steps = self.fit_steps
        if len(y):
            self.loss_ = self.net_.fit(
                z, y, task, steps, self.optimizer_, self.batch_size, self.rng_
            )
        self.stale_ = False

    def predict(self, archs: np.ndarray) -> np.ndarray:
        """Predicted (standardised) target value of architectures."""
        return self.net_.predict(self.codes_[archs], self.task_ids_[self.target_])

    # ------------------------------------------------------------------ Eq. 8 + decoding
    def decode(self, z: np.ndarray, forbidden: np.ndarray | None = None) -> int:
        """Nearest member to code ``z`` (Euclidean), skipping ``forbidden`` ones if given."""
        score = matmul(self.codes_, z) - self.half_norms_
        if forbidden is not None:
            score = np.where(forbidden, -np.inf, score)
        return int(np.argmax(score))

    def ascend(self, start: int) -> int:
        """Eq. 8 from ``start``'s code until it decodes to a new architecture (-1: none left)."""
        forbidden = self.excluded_.copy()
        forbidden[start] = True
        if forbidden.all():
            return -1
        target = self.task_ids_[self.target_]
        z = self.codes_[start].copy()
        for _ in range(self.max_ascent_steps):
            z += self.step_size * self.net_.input_gradient(z, target)[0]
            arch = self.decode(z)
            if not forbidden[arch]:
                return arch
        return self.decode(z, forbidden)

    def starting_points(self) -> list[int]:
        """Phase 1: best source architectures; phase 2: best target ones (``n_starts``)."""
        target = self.task_ids_[self.target_]
        phase2 = self.target_results_ >= max(self.phase1_evaluations, 1)
        _, y, task = self.training_data()
        archs = np.array([o[1] for o in self.obs_], dtype=np.int64)
        sel = (task == target) if phase2 else (task != target)
        if not sel.any():  # no source tasks: start from the target results, else at random
            sel = np.ones(len(archs), dtype=bool)
        order = np.argsort(-y[sel], kind="stable")
        starts: list[int] = []
        for a in archs[sel][order]:
            if int(a) not in starts:
                starts.append(int(a))
            if len(starts) == self.n_starts:
                break
        if not starts:
            starts.append(int(self.rng_.integers(self.problem_.space.size)))
        return starts

    def propose(self) -> int:
        """The candidate with the highest predicted target value (-1: space exhausted)."""
        candidates = sorted({self.ascend(s) for s in self.starting_points()} - {-1})
        if not candidates:
            return -1
        values = self.predict(np.array(candidates))
        return candidates[int(np.argmax(values))]

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Job | str | None:
        """Source jobs first; wait for their results; then one target candidate per ask."""
        if self.source_queue_:
            return self.source_queue_.popleft()
        if self.source_left_ > 0:
            return None
        if self.target_evaluations is not None and self.target_asked_ >= self.target_evaluations:
            return FINISHED
        if self.stale_:
            self.fit()
        arch = self.propose()
        if arch < 0:
            return FINISHED
        self.excluded_[arch] = True
        self.target_asked_ += 1
        return Evaluate(task=self.target_, arch=arch)

    def _tell(self, job: Job, outcome: Outcome) -> None:
        """Record the observation; a target result makes the network stale."""
        value = outcome.value
        if job.task == self.target_:
            self.target_results_ += 1
            self.stale_ = True
        else:
            self.source_left_ -= 1
        if math.isfinite(value):
            self.obs_.append((self.task_ids_[job.task], job.arch, value))
