"""REINFORCE (Williams, 1992) as NAS-Bench-201's non-weight-sharing baseline runs it.

The policy is one vector of softmax logits per decision (NB201: 6 edges x 5 ops), initialised
``1e-3 * N(0, 1)``.  Each step samples one architecture, evaluates it, and takes one Adam step
on ``-(R - b) * log pi(a)`` where ``R`` is the search metric (validation accuracy) and ``b`` an
exponential moving average of the rewards (momentum 0.9) updated with ``R`` before the
advantage is taken, exactly as ``exps/NAS-Bench-201-algos/reinforce.py`` of D-X-Y/AutoDL-Projects
does.  The search returns the best evaluated architecture (the script's ``max(trace)``).

Learning rate: the sources differ.  The NB201 README runs ``REINFORCE.sh 0.5``, the script's
header comment 0.001, its grid (``hps/GRID-RL.sh``) 0.01 to 0.5, and NATS-Bench's
``exps/NATS-algos/reinforce.py`` (the same baseline on the same topology space, the successor
paper) uses 0.01 for every dataset.  The default is 0.01; it is a hyperparameter.

Other spaces: the decisions are ``space.decisions``.  Where some choice tuples are not members
(the TNB101 macro space), options that no member continues are masked out while sampling (see
:class:`~benchsim.algorithms._policy.DecisionSampler`), so every sample is valid and
``log pi(a)`` is the exact log-probability of what was sampled.  In the cell spaces nothing is
masked and the policy is NB201's.

With several workers a result may arrive after other architectures were sampled; its gradient
is then taken at the current logits (the score function of the action actually sampled).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from benchsim._checks import Interval, ParameterConstraints
from benchsim.algorithms._base import Evaluate, Job, Outcome, Searcher, register_algorithm
from benchsim.algorithms._policy import (
    Adam,
    DecisionSampler,
    MovingAverage,
    masked_log_softmax,
    sample_index,
)


@register_algorithm("reinforce")
@dataclass
class Reinforce(Searcher):
    """Policy-gradient search with independent softmax logits per decision.

    Parameters
    ----------
    learning_rate
        Adam step size (NATS-Bench's 0.01; see the module docstring for the other sources).
    ema_momentum
        Momentum of the moving-average reward baseline (NB201 script: 0.9).
    init_scale
        Standard deviation of the initial logits (NB201: ``1e-3 * torch.randn``).
    """

    learning_rate: float = 0.01
    ema_momentum: float = 0.9
    init_scale: float = 1e-3

    _parameter_constraints: ClassVar[ParameterConstraints] = {
        "learning_rate": [Interval(0.0, low_open=True)],
        "ema_momentum": [Interval(0.0, 1.0, high_open=True)],
        "init_scale": [Interval(0.0)],
    }

    def _setup(self) -> None:
        self.sampler_ = DecisionSampler(self.problem_.space)
        shape = (self.sampler_.steps, self.sampler_.width)
        self.logits_ = self.init_scale * self.rng_.standard_normal(shape)
        self.optimizer_ = Adam([self.logits_], lr=self.learning_rate)
        self.baseline_ = MovingAverage(self.ema_momentum)
        self.pending_: defaultdict[int, deque[tuple[int, ...]]] = defaultdict(deque)
        self.steps_ = 0

    # ------------------------------------------------------------------ policy
    def probabilities(self, prefix: tuple[int, ...] = ()) -> np.ndarray:
        """Probabilities of the options of decision ``len(prefix)`` after ``prefix``."""
        t = len(prefix)
        return np.exp(masked_log_softmax(self.logits_[t], self.sampler_.mask(prefix)))

    def sample_choices(self) -> tuple[int, ...]:
        """One choice tuple from the policy, decision by decision."""
        choices: list[int] = []
        for _ in range(self.sampler_.steps):
            choices.append(sample_index(self.probabilities(tuple(choices)), self.rng_))
        return tuple(choices)

    def log_prob_grad(self, choices: tuple[int, ...]) -> np.ndarray:
        """Gradient of ``log pi(choices)`` with respect to the logits: ``onehot(a_t) - pi_t``."""
        masks = self.sampler_.masks(choices)
        probs = np.exp(masked_log_softmax(self.logits_, masks))
        grad = -probs
        grad[np.arange(self.sampler_.steps), list(choices)] += 1.0
        return grad

    # ------------------------------------------------------------------ ask / tell
    def ask(self) -> Job:
        """Sample one architecture from the current policy (one REINFORCE step per answer)."""
        choices = self.sample_choices()
        arch = self.sampler_.index(choices)
        self.pending_[arch].append(choices)
        return Evaluate(task=self.problem_.tasks[0].name, arch=arch)

    def _tell(self, job: Job, outcome: Outcome) -> None:
        """Update the baseline with the reward, then one Adam step on the policy loss."""
        choices = self.pending_[job.arch].popleft()
        reward = outcome.value
        if not math.isfinite(reward):  # a missing table value teaches nothing
            return
        self.baseline_.update(reward)
        advantage = reward - self.baseline_.value()
        # loss = -advantage * log pi(a); its gradient is -advantage * d log pi / d logits
        self.optimizer_.step([-advantage * self.log_prob_grad(choices)])
        self.steps_ += 1
