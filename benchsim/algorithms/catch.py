"""CATCH (Chen et al., 2020): context-based meta reinforcement learning for transferable NAS.

CATCH's search agent has three parts (arXiv 2007.09380, Sec. 3; TransNAS-Bench-101
supplementary, Sec. 5):

* a **controller**, PPO over the space's decisions, with the hyperparameters of benchsim's PPO
  baseline (:mod:`.ppo`: Adam, lr 0.01 decayed by 0.999 every 15 steps, clip 0.2, memory 100,
  gamma 0.99, GAE lambda 0.95, value coefficient 1, entropy coefficient 0.01; the same code,
  this class is a subclass), whose state also holds the task embedding ``z``;
* a **network evaluator**, an MLP predicting a network's reward from its code and ``z``
  (Adam, lr 0.0005), which screens the controller's samples epsilon-greedily: epsilon from 1.0,
  -0.025 every 4 steps during meta-training; from 0.5, -0.025 every 2 steps during adaptation;
* a **context encoder**, PEARL's probabilistic encoder (:mod:`._context`): each (architecture,
  reward) pair seen on a task gives a Gaussian factor, their product is the task's posterior
  ``q(z | c)``, trained through the evaluator's loss plus 0.1 x KL(q || N(0, I)) (Adam,
  lr 0.0005).

The agent is first **meta-trained** on source tasks (default: every task of
``problem.source_tasks``, i.e. all the benchmark's other tasks), then **adapted** on the target
task: the same loop, on the target, from the meta-trained weights, with the adaptation
schedule of epsilon.

One ask:

1. ``z ~ q(z | c)`` from the task's current context (the prior ``N(0, I)`` before any pair).
2. The controller samples ``n_candidates`` networks; those already asked on this task are
   dropped (another round is drawn while none is left, at most ``resample_rounds`` in all,
   then a repeat is allowed).  With probability epsilon the controller's first sample is asked
   (no screening); otherwise the one with the highest predicted reward.
3. The answer's reward is stored as a PPO episode of the chosen network (its transitions carry
   ``z``), the pair joins the task's context, and the evaluator and encoder take
   ``train_steps`` Adam steps.

Where the papers are silent, these are choices (each one a hyperparameter):

* Reward: the task's search metric (higher is better), standardised per task by the mean and
  standard deviation of all that task's answers so far, so accuracy in %, SSIM and negated
  losses share one scale: for PPO as in :mod:`.ppo` (at the time of the answer), for the
  evaluator's targets and the context's pairs with the task's current statistics.
* Meta-training budget: ``meta_queries`` evaluations per source task (default 50), in rounds
  of ``meta_episode`` (default 25) per task, the tasks in a random order each round.  With
  PPO's settings the controller converges fast: after 100 per task (600 episodes on TNB101)
  it samples so few distinct networks that adaptation repeats itself (18-33 distinct
  networks in 50 target queries on TNB101 micro, means over 10 seeds), after 50 it keeps
  44-48 on micro, 27-31 on macro (docs/catch.md).  Each
  round starts the task's acting context afresh (PEARL's ``clear_z``), so the controller and
  evaluator meet the near-empty contexts that adaptation starts from.  A step of the
  meta-training epsilon schedule is one meta-training evaluation, counted over all source
  tasks; a step of the adaptation schedule is one target evaluation.  Adaptation starts once
  every meta-training answer is in.
* Adaptation updates all three parts on the target's answers, as meta-training does; the
  evaluator and encoder keep training on the source tasks' data too (each Adam step: one
  context of 1 .. ``context_size`` answers per task with data, the size drawn per step, and
  ``batch_size`` answers to predict, their tasks drawn uniformly).  The learning-rate decay of
  the controller counts every evaluated network, source or target.
* Acting context: the current round's pairs of the task (the target: all its pairs), at most
  the ``context_size`` most recent.
* Networks: encoder MLP (code + reward) -> 2 x ``encoder_hidden`` ReLU -> mean and softplus
  variance of a ``latent_size`` factor (PEARL: 3 x 200 units, latent 5); evaluator MLP
  (code + ``z``) -> 2 x ``evaluator_hidden`` ReLU -> 1, mean squared error on the standardised
  reward; architecture code ``space.encode`` (one-hot per decision).  The controller's
  gradient does not reach the encoder (PEARL trains it through the critic only).

Budget: meta-training answers are :class:`~benchsim.algorithms.Evaluate` jobs on the source
tasks, recorded in the trajectory and charged there, not to the target's budget (as for
XferNAS; :class:`~benchsim.runner._search.SearchLoop`): ``n_sources * meta_queries`` of them
(300 on TNB101, 100 on NB201 with the defaults).  So any budget that buys one target
evaluation returns an architecture: the best evaluated on the target.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from benchsim._checks import Interval, ParameterConstraints, TaskNames, check_number
from benchsim.algorithms._base import Evaluate, Job, Outcome, Problem, register_algorithm
from benchsim.algorithms._context import MLP, ContextEncoder, evaluator_loss_and_grads
from benchsim.algorithms._policy import Adam, RunningMoments
from benchsim.algorithms.ppo import PPO
from benchsim.errors import ConfigError


def epsilon(step: int, start: float, decay: float, every: int) -> float:
    """``max(0, start - decay * (step // every))``: the evaluator's epsilon after ``step``
    steps (CATCH: meta-training 1.0 / 0.025 / 4, adaptation 0.5 / 0.025 / 2)."""
    return max(0.0, start - decay * (step // every))


@register_algorithm("catch")
@dataclass
class CATCH(PPO):
    """CATCH: PPO controller + network evaluator + context encoder; see the module docstring.

    The controller's parameters are :class:`~benchsim.algorithms.ppo.PPO`'s (same names, same
    defaults: the TransNAS-Bench-101 settings).

    Parameters
    ----------
    source_tasks
        Meta-training tasks; ``None`` = every task in ``problem.source_tasks``.
    meta_queries
        Evaluations per source task during meta-training (not in the papers).
    meta_episode
        Evaluations per source task per meta-training round; each round starts that task's
        acting context afresh.
    n_candidates
        Networks the controller samples for the evaluator to screen, per ask.
    resample_rounds
        Most rounds of ``n_candidates`` samples per ask: while a round holds only networks
        already asked on the task, another is drawn; after the last, a repeat is asked.
    latent_size
        Dimension of the task embedding ``z`` (PEARL's default 5).
    encoder_hidden, evaluator_hidden
        Width of the two hidden layers of the encoder and of the evaluator.
    encoder_lr, evaluator_lr
        Adam step sizes (TNB101 supplementary: 0.0005 each).
    kl_weight
        Weight of KL(q(z|c) || N(0, I)) in the encoder's loss (0.1).
    epsilon_start, epsilon_decay, epsilon_every
        Meta-training schedule of the evaluator's epsilon (1.0, -0.025 every 4 steps).
    adapt_epsilon_start, adapt_epsilon_decay, adapt_epsilon_every
        Adaptation schedule (0.5, -0.025 every 2 steps).
    train_steps
        Adam steps of evaluator and encoder after each answer.
    batch_size
        Answers predicted in one of those steps, each from a task drawn uniformly.
    context_size
        Most context pairs per task: a training step draws 1 .. ``context_size``; acting uses
        the most recent ones.
    """

    source_tasks: tuple[str, ...] | None = None
    meta_queries: int = 50
    meta_episode: int = 25
    n_candidates: int = 10
    resample_rounds: int = 10
    latent_size: int = 5
    encoder_hidden: int = 32
    evaluator_hidden: int = 64
    encoder_lr: float = 0.0005
    evaluator_lr: float = 0.0005
    kl_weight: float = 0.1
    epsilon_start: float = 1.0
    epsilon_decay: float = 0.025
    epsilon_every: int = 4
    adapt_epsilon_start: float = 0.5
    adapt_epsilon_decay: float = 0.025
    adapt_epsilon_every: int = 2
    train_steps: int = 5
    batch_size: int = 32
    context_size: int = 16

    _parameter_constraints: ClassVar[ParameterConstraints] = {
        **PPO._parameter_constraints,
        "source_tasks": [TaskNames("all other tasks")],
        "meta_queries": [Interval(0, integer=True)],
        "meta_episode": [Interval(1, integer=True)],
        "n_candidates": [Interval(1, integer=True)],
        "resample_rounds": [Interval(1, integer=True)],
        "latent_size": [Interval(1, integer=True)],
        "encoder_hidden": [Interval(1, integer=True)],
        "evaluator_hidden": [Interval(1, integer=True)],
        "encoder_lr": [Interval(0.0, low_open=True)],
        "evaluator_lr": [Interval(0.0, low_open=True)],
        "kl_weight": [Interval(0.0)],
        **{
            f"{prefix}{name}": [rule]
            for prefix in ("", "adapt_")
            for name, rule in (
                ("epsilon_start", Interval(0, 1)),
                ("epsilon_decay", Interval(0, 1)),
                ("epsilon_every", Interval(1, integer=True)),
            )
        },
        "train_steps": [Interval(0, integer=True)],
        "batch_size": [Interval(1, integer=True)],
        "context_size": [Interval(1, integer=True)],
    }

    @classmethod
    def smoke_params(cls) -> dict[str, Any]:
        """Four meta-training evaluations per source task, in rounds of two."""
        return {"meta_queries": 4, "meta_episode": 2}

    # ------------------------------------------------------------------ set-up
    def check_problem(self, problem: Problem) -> None:
        """Refuse, in one line, a search without source tasks or with unknown ones, and more
        meta-training queries per source task than the space has architectures."""
        self._sources(problem)

    def _sources(self, problem: Problem) -> list[str]:
        """The source tasks to meta-train on; a one-line error where there are none to have
        (CATCH would silently be PPO plus an untrained evaluator: ``meta_queries=0`` or
        ``source_tasks=[]`` says so explicitly) or a named one is not a source task."""
        offered = [t.name for t in problem.source_tasks]
        if not offered and self.source_tasks is None and self.meta_queries > 0:
            raise ConfigError(
                f"catch meta-trains on source tasks, and the search for "
                f"{problem.tasks[0].name!r} has none (the benchmark's other tasks); run with "
                "more tasks, or pass meta_queries=0 to adapt from scratch"
            )
        sources = list(offered) if self.source_tasks is None else list(self.source_tasks)
        unknown = [n for n in sources if n not in offered]
        if unknown:
            raise ConfigError(
                f"source_tasks {unknown} are not source tasks of this search; "
                f"allowed: {', '.join(offered) or '(none)'}"
            )
        space = problem.space  # set-up plans every query: bound it by what there is to ask
        check_number(
            "meta_queries", self.meta_queries, 0, space.size, integer=True,
            why=f"per source task, at most the {space.size:,} architectures of {space.name}",
        )  # fmt: skip
        return sources

    def _setup(self) -> None:
        problem, space = self.problem_, self.problem_.space
        sources = self._sources(problem)
        self._build_controller(context=self.latent_size)
        self.task_names_ = [*sources, problem.tasks[0].name]
        self.target_ = len(sources)
        n_tasks = len(self.task_names_)
        self.codes_ = space.encode(space.enumerate()).astype(np.float64)
        dim = self.codes_.shape[1]
        self.encoder_ = ContextEncoder(dim + 1, self.latent_size, self.encoder_hidden, self.rng_)
        self.evaluator_ = MLP(
            [dim + self.latent_size, self.evaluator_hidden, self.evaluator_hidden, 1], self.rng_
        )
        self.encoder_opt_ = Adam(self.encoder_.params, lr=self.encoder_lr)
        self.evaluator_opt_ = Adam(self.evaluator_.params, lr=self.evaluator_lr)
        # meta-training plan: (task, first of its round?) per evaluation
        self.plan_: deque[tuple[int, bool]] = deque()
        left = {k: self.meta_queries for k in range(len(sources))}
        while any(left.values()):
            for k in self.rng_.permutation(len(sources)).tolist():
                n = min(self.meta_episode, left[k])
                self.plan_.extend((k, i == 0) for i in range(n))
                left[k] -= n
        self.meta_left_ = len(self.plan_)
        self.meta_steps_ = 0
        self.adapt_steps_ = 0
        self.archs_: list[list[int]] = [[] for _ in range(n_tasks)]
        self.values_: list[list[float]] = [[] for _ in range(n_tasks)]
        self.moments_ = [RunningMoments() for _ in range(n_tasks)]
        self.round_start_ = [0] * n_tasks
        self.asked_ = np.zeros((n_tasks, space.size), dtype=bool)
        self.loss_ = float("nan")  # evaluator + KL loss of the last training step

    # ------------------------------------------------------------------ context
    def _standardised(self, k: int, values: np.ndarray) -> np.ndarray:
        moments = self.moments_[k]
        std = moments.std
        return (values - moments.mean) / (std if std > 0 else 1.0)

    def _pairs(self, k: int, archs: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Context pairs: each architecture's code and its standardised reward on task ``k``."""
        return np.concatenate([self.codes_[archs], self._standardised(k, values)[:, None]], 1)

    def posterior(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of task ``k``'s acting posterior (its round's recent pairs)."""
        start = max(self.round_start_[k], len(self.archs_[k]) - self.context_size)
        archs = np.array(self.archs_[k][start:], dtype=np.int64)
        values = np.array(self.values_[k][start:], dtype=np.float64)
        return self.encoder_.posterior(self._pairs(k, archs, values))

    def predict(self, archs: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The evaluator's predicted (standardised) reward of ``archs`` under embedding ``z``."""
        x = np.concatenate([self.codes_[archs], np.broadcast_to(z, (len(archs), len(z)))], 1)
        return self.evaluator_.forward(x)[0][:, 0]

    @property
    def meta_training(self) -> bool:
        """Whether meta-training jobs are still to be asked or answered."""
        return self.meta_left_ > 0

    def current_epsilon(self) -> float:
        """Epsilon of the next ask (meta-training or adaptation schedule)."""
        if self.plan_:
            return epsilon(
                self.meta_steps_, self.epsilon_start, self.epsilon_decay, self.epsilon_every
            )
        return epsilon(
            self.adapt_steps_,
            self.adapt_epsilon_start,
            self.adapt_epsilon_decay,
            self.adapt_epsilon_every,
        )

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Job | None:
        """Meta-training jobs first; wait for their answers; then target jobs."""
        if self.plan_:
            k, fresh = self.plan_[0]
            eps = self.current_epsilon()
            self.plan_.popleft()
            if fresh:
                self.round_start_[k] = len(self.archs_[k])
            self.meta_steps_ += 1
        elif self.meta_left_ > 0:
            return None
        else:
            k, eps = self.target_, self.current_epsilon()
            self.adapt_steps_ += 1
        return self._propose(k, eps)

    def _propose(self, k: int, eps: float) -> Evaluate:
        mu, var = self.posterior(k)
        z = mu + np.sqrt(var) * self.rng_.standard_normal(self.latent_size)
        explore = self.rng_.random() < eps
        for _ in range(self.resample_rounds):
            candidates = self.rollouts(self.n_candidates, z)
            fresh = [c for c in candidates if not self.asked_[k, c[0]]]
            if fresh:
                break
        pool = fresh or candidates
        if explore:  # the controller's own (first new) sample, unscreened
            arch, episode = pool[0]
        else:
            scores = self.predict(np.array([c[0] for c in pool]), z)
            arch, episode = pool[int(np.argmax(scores))]
        self.asked_[k, arch] = True
        self.pending_[(k, arch)].append(episode)
        return Evaluate(task=self.task_names_[k], arch=arch)

    def _tell(self, job: Job, outcome: Outcome) -> None:
        """PPO episode, context pair, evaluator and encoder steps."""
        k = self.task_names_.index(job.task)
        episode = self.pending_[(k, job.arch)].popleft()
        if not self.pending_[(k, job.arch)]:
            del self.pending_[(k, job.arch)]
        if k != self.target_:
            self.meta_left_ -= 1
        value = outcome.value
        if not math.isfinite(value):
            return
        self.episodes_ += 1
        self.moments_[k].update(value)
        self.archs_[k].append(int(job.arch))
        self.values_[k].append(float(value))
        self.remember(episode, float(self._standardised(k, np.array([value]))[0]))
        self.train(self.train_steps)

    # ------------------------------------------------------------------ evaluator + encoder
    def train(self, steps: int) -> None:
        """``steps`` Adam steps of evaluator and encoder on every task with answers.

        A step: for each such task a context of 1 .. ``context_size`` of its answers (one size
        per step), and ``batch_size`` answers to predict, each from a task drawn uniformly (so
        a target with five answers weighs as much as a source with a hundred).  Batches stay
        small on purpose: below the sizes at which BLAS goes multi-threaded, which on a busy
        host makes these tiny products an order of magnitude slower.
        """
        tasks = [k for k, a in enumerate(self.archs_) if a]
        if not tasks or steps == 0:
            return
        archs = [np.array(self.archs_[k], dtype=np.int64) for k in tasks]
        values = [self._standardised(k, np.array(self.values_[k])) for k in tasks]
        counts = np.array([len(a) for a in archs])
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        owner = np.repeat(np.arange(len(tasks)), counts)
        all_archs, all_values = np.concatenate(archs), np.concatenate(values)
        rng = self.rng_
        for _ in range(steps):
            size = int(rng.integers(1, self.context_size + 1))
            # a uniform subset of `size` answers per task (all if fewer): the smallest keys
            order = np.lexsort((rng.random(len(owner)), owner))
            ctx = order[(np.arange(len(order)) - offsets[owner]) < size]
            ctx_seg = owner[ctx]
            seg = rng.integers(len(tasks), size=self.batch_size)
            rows = offsets[seg] + (rng.random(self.batch_size) * counts[seg]).astype(np.int64)
            noise = rng.standard_normal((len(tasks), self.latent_size))
            self.loss_, g_enc, g_eval = evaluator_loss_and_grads(
                self.encoder_,
                self.evaluator_,
                np.concatenate([self.codes_[all_archs[ctx]], all_values[ctx, None]], 1),
                ctx_seg,
                self.codes_[all_archs[rows]],
                all_values[rows],
                seg,
                noise,
                self.kl_weight,
            )
            self.encoder_opt_.step(g_enc)
            self.evaluator_opt_.step(g_eval)
