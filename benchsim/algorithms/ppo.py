"""PPO (Schulman et al., 2017) as TransNAS-Bench-101's RL baseline (supplementary Sec. 5).

Architecture generation is a sequential decision process over ``space.decisions``: step ``t``
chooses option ``a_t`` of decision ``t``; the episode ends after the last decision with the
architecture's search metric as the only reward.  Settings from the TNB101 supplementary:
Adam with learning rate 0.01 decayed by 0.999 every 15 steps, clip 0.2, memory 100, discount
0.99, GAE lambda 0.95, value coefficient 1, entropy coefficient 0.01.

Where the paper is silent (each choice is a hyperparameter):

* State ``s_t``: one-hot of the position ``t`` followed by the one-hot of every choice made so
  far (zeros for decisions still open), so the policy is autoregressive.  Network: a shared
  ``tanh`` layer of ``hidden_size`` units, one softmax head per decision and a linear value
  head.  The shared layer is what makes the value coefficient matter.
* Options that no member of the space continues are masked (TNB101 macro; see
  :class:`~benchsim.algorithms._policy.DecisionSampler`), so every episode yields a member.
* "Memory 100" is read as a rollout memory of 100 transitions (decision steps): when it holds
  at least ``memory_size`` transitions, PPO runs ``epochs`` full-batch passes over it and
  clears it (on-policy).  With six decisions that is an update every 17 architectures: two
  within TNB101's 50 evaluations, about five within NB201's 12000 s.  A step of the
  learning-rate schedule is one evaluated architecture:
  ``lr = learning_rate * lr_decay ** (episodes // lr_decay_every)``.
* Rewards are standardised by the mean and standard deviation of all rewards seen so far, so
  the entropy coefficient weighs the same against accuracy (%), SSIM or a negated loss;
  advantages are standardised per update (``normalize_advantages``), as in OpenAI baselines.
* ``epochs = 10`` passes per update (stable-baselines3's default).

The search returns the best evaluated architecture.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from benchsim._checks import Boolean, Interval, ParameterConstraints
from benchsim._linalg import matmul
from benchsim.algorithms._base import Evaluate, Job, Outcome, Searcher, register_algorithm
from benchsim.algorithms._policy import (
    Adam,
    DecisionSampler,
    RunningMoments,
    gae,
    masked_log_softmax,
    sample_indices,
)

Batch = dict[str, np.ndarray]
"""Transitions: ``x`` (n, features), ``step``, ``mask`` (n, width), ``action``, ``logp`` (old),
``adv``, ``ret``."""


class ActorCritic:
    """Shared ``tanh`` layer, one policy head per decision, one value head (see the module).

    ``context`` extra input features are appended to every state (CATCH's task embedding
    ``z``; zero for plain PPO, whose states are the position and the choices made).
    """

    def __init__(
        self, steps: int, width: int, hidden: int, rng: np.random.Generator, context: int = 0
    ) -> None:
        self.steps, self.width, self.context = steps, width, context
        self.features = steps + steps * width + context
        self.w1 = rng.standard_normal((hidden, self.features)) / math.sqrt(self.features)
        self.b1 = np.zeros(hidden)
        self.wp = 0.01 * rng.standard_normal((steps, width, hidden)) / math.sqrt(hidden)
        self.bp = np.zeros((steps, width))
        self.wv = np.zeros(hidden)
        self.bv = np.zeros(1)

    @property
    def params(self) -> list[np.ndarray]:
        return [self.w1, self.b1, self.wp, self.bp, self.wv, self.bv]

    def state(self, prefix: tuple[int, ...], context: np.ndarray | None = None) -> np.ndarray:
        """Features of the state after ``prefix``: position one-hot, then the choices made,
        then ``context`` (length ``self.context``)."""
        x = np.zeros(self.features)
        x[len(prefix)] = 1.0
        for k, choice in enumerate(prefix):
            x[self.steps + k * self.width + choice] = 1.0
        if self.context:
            x[self.features - self.context :] = context
        return x

    def states(self, prefixes: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """:meth:`state` of each row of ``prefixes`` (n, t): n prefixes of one length."""
        n, t = prefixes.shape
        x = np.zeros((n, self.features))
        x[:, t] = 1.0
        rows = np.arange(n)
        for k in range(t):
            x[rows, self.steps + k * self.width + prefixes[:, k]] = 1.0
        if self.context:
            x[:, self.features - self.context :] = context
        return x

    def forward(self, x: np.ndarray, step: np.ndarray, mask: np.ndarray):
        """Hidden activations, masked log-probabilities and values of a batch of states."""
        h = np.tanh(matmul(x, self.w1.T) + self.b1)
        logits = np.einsum("nwh,nh->nw", self.wp[step], h) + self.bp[step]
        return h, masked_log_softmax(logits, mask), matmul(h, self.wv) + self.bv[0]

    def loss_and_grads(
        self, batch: Batch, clip: float, value_coef: float, entropy_coef: float
    ) -> tuple[float, list[np.ndarray]]:
        """PPO loss ``-L^CLIP + c1 L^VF - c2 H`` (Schulman et al., 2017, Eq. 9) and its gradients.

        ``L^CLIP = mean(min(r A, clip(r, 1-eps, 1+eps) A))`` (Eq. 7) with ``r`` the ratio of
        new to old action probabilities; ``L^VF = mean((V - R)^2)``; ``H`` the mean entropy.
        """
        x, step, mask, action = batch["x"], batch["step"], batch["mask"], batch["action"]
        adv, ret = batch["adv"], batch["ret"]
        n = len(action)
        rows = np.arange(n)
        h, logp_all, value = self.forward(x, step, mask)
        probs = np.exp(logp_all)
        plogp = np.where(mask, probs * np.where(mask, logp_all, 0.0), 0.0)
        entropy = -plogp.sum(axis=1)
        ratio = np.exp(logp_all[rows, action] - batch["logp"])
        clipped = np.clip(ratio, 1.0 - clip, 1.0 + clip)
        surrogate = np.minimum(ratio * adv, clipped * adv)
        loss = (
            -surrogate.mean()
            + value_coef * np.mean((value - ret) ** 2)
            - entropy_coef * entropy.mean()
        )
        # gradients: the clipped branch is flat, so only unclipped terms pass a gradient
        active = np.where(adv >= 0, ratio <= 1.0 + clip, ratio >= 1.0 - clip)
        d_logp = -(adv * ratio * active) / n
        d_logits = -d_logp[:, None] * probs
        d_logits[rows, action] += d_logp
        d_logits += (entropy_coef / n) * (plogp + probs * entropy[:, None])
        d_value = 2.0 * value_coef * (value - ret) / n
        g_wp = np.zeros_like(self.wp)
        g_bp = np.zeros_like(self.bp)
        np.add.at(g_wp, step, np.einsum("nw,nh->nwh", d_logits, h))
        np.add.at(g_bp, step, d_logits)
        d_h = np.einsum("nwh,nw->nh", self.wp[step], d_logits) + d_value[:, None] * self.wv
        d_pre = d_h * (1.0 - h * h)
        grads = [
            matmul(d_pre.T, x),
            d_pre.sum(0),
            g_wp,
            g_bp,
            matmul(h.T, d_value),
            np.array([d_value.sum()]),
        ]
        return float(loss), grads


@register_algorithm("ppo")
@dataclass
class PPO(Searcher):
    """Proximal policy optimisation over the space's decisions; see the module docstring.

    Parameters
    ----------
    learning_rate, lr_decay, lr_decay_every
        Adam step size 0.01, times 0.999 every 15 evaluated architectures (TNB101 Sec. 5).
    clip
        ``epsilon`` of the clipped objective (0.2).
    memory_size
        Transitions (decision steps) collected before each update (100).
    gamma, gae_lambda
        Discount (0.99) and GAE lambda (0.95).
    value_coef, entropy_coef
        Weights of the value loss (1) and of the entropy bonus (0.01).
    epochs
        Full-batch passes per update (not in the paper; stable-baselines3's 10).
    hidden_size
        Width of the shared ``tanh`` layer (not in the paper).
    normalize_advantages
        Standardise advantages per update (not in the paper; OpenAI baselines' practice).
    """

    learning_rate: float = 0.01
    lr_decay: float = 0.999
    lr_decay_every: int = 15
    clip: float = 0.2
    memory_size: int = 100
    gamma: float = 0.99
    gae_lambda: float = 0.95
    value_coef: float = 1.0
    entropy_coef: float = 0.01
    epochs: int = 10
    hidden_size: int = 64
    normalize_advantages: bool = True

    _parameter_constraints: ClassVar[ParameterConstraints] = {
        "learning_rate": [Interval(0.0, low_open=True)],
        "lr_decay": [Interval(0.0, 1.0, low_open=True)],
        "lr_decay_every": [Interval(1, integer=True)],
        "clip": [Interval(0.0, 1.0, low_open=True, high_open=True)],
        "memory_size": [Interval(1, integer=True)],
        "gamma": [Interval(0.0, 1.0)],
        "gae_lambda": [Interval(0.0, 1.0)],
        "value_coef": [Interval(0.0)],
        "entropy_coef": [Interval(0.0)],
        "epochs": [Interval(1, integer=True)],
        "hidden_size": [Interval(1, integer=True)],
        "normalize_advantages": [Boolean()],
    }

    def _setup(self) -> None:
        self._build_controller()

    def _build_controller(self, context: int = 0) -> None:
        """Policy network, optimiser, reward statistics and memory (``context``: extra state
        features, see :class:`ActorCritic`)."""
        self.sampler_ = DecisionSampler(self.problem_.space)
        self.net_ = ActorCritic(
            self.sampler_.steps, self.sampler_.width, self.hidden_size, self.rng_, context
        )
        self.optimizer_ = Adam(self.net_.params, lr=self.learning_rate)
        self.rewards_ = RunningMoments()
        self.memory_: list[Batch] = []
        self.pending_: defaultdict[Any, deque[Batch]] = defaultdict(deque)
        self.episodes_ = 0
        self.updates_ = 0

    # ------------------------------------------------------------------ episodes
    def rollout(self, context: np.ndarray | None = None) -> tuple[int, Batch]:
        """Sample one architecture decision by decision; return it and its transitions."""
        return self.rollouts(1, context)[0]

    def rollouts(self, n: int, context: np.ndarray | None = None) -> list[tuple[int, Batch]]:
        """``n`` independent episodes of the current policy, sampled side by side (one batched
        forward pass per decision; at each decision the draws go in episode order)."""
        net, sampler = self.net_, self.sampler_
        steps, rows = sampler.steps, np.arange(n)
        choices = np.zeros((n, steps), dtype=np.int64)
        xs = np.zeros((n, steps, net.features))
        masks = np.zeros((n, steps, sampler.width), dtype=bool)
        logps, values = np.zeros((n, steps)), np.zeros((n, steps))
        for t in range(steps):
            x = net.states(choices[:, :t], context)
            mask = sampler.batch_mask(choices[:, :t])
            _, logp_all, value = net.forward(x, np.full(n, t), mask)
            choices[:, t] = sample_indices(np.exp(logp_all), self.rng_)
            xs[:, t], masks[:, t], values[:, t] = x, mask, value
            logps[:, t] = logp_all[rows, choices[:, t]]
        return [
            (
                sampler.index(choices[i].tolist()),
                {
                    "x": xs[i],
                    "step": np.arange(steps),
                    "mask": masks[i],
                    "action": choices[i],
                    "logp": logps[i],
                    "value": values[i],
                },
            )
            for i in range(n)
        ]

    def ask(self) -> Job:
        """Sample one architecture from the current policy."""
        arch, episode = self.rollout()
        self.pending_[arch].append(episode)
        return Evaluate(task=self.problem_.tasks[0].name, arch=arch)

    def _tell(self, job: Job, outcome: Outcome) -> None:
        """Store the finished episode; update the policy when the memory is full."""
        episode = self.pending_[job.arch].popleft()
        reward = outcome.value
        if not math.isfinite(reward):
            return
        self.episodes_ += 1
        self.rewards_.update(reward)
        std = self.rewards_.std
        self.remember(episode, (reward - self.rewards_.mean) / (std if std > 0 else 1.0))

    def remember(self, episode: Batch, reward: float) -> None:
        """Store an episode whose (standardised) final reward is ``reward``; update the policy
        when the memory holds ``memory_size`` transitions."""
        rewards = np.zeros(len(episode["action"]))
        rewards[-1] = reward
        dones = np.zeros(len(rewards), dtype=bool)
        dones[-1] = True
        episode["adv"], episode["ret"] = gae(
            rewards, episode["value"], dones, self.gamma, self.gae_lambda
        )
        self.memory_.append(episode)
        if sum(len(e["action"]) for e in self.memory_) >= self.memory_size:
            self.update()

    def update(self) -> None:
        """``epochs`` full-batch Adam steps on the PPO loss over the memory, then clear it."""
        batch = {key: np.concatenate([e[key] for e in self.memory_]) for key in self.memory_[0]}
        if self.normalize_advantages and len(batch["adv"]) > 1:
            adv = batch["adv"]
            batch["adv"] = (adv - adv.mean()) / (adv.std() + 1e-8)
        decays = self.episodes_ // self.lr_decay_every
        self.optimizer_.lr = self.learning_rate * self.lr_decay**decays
        for _ in range(self.epochs):
            _, grads = self.net_.loss_and_grads(
                batch, self.clip, self.value_coef, self.entropy_coef
            )
            self.optimizer_.step(grads)
        self.memory_.clear()
        self.updates_ += 1
