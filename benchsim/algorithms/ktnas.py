"""KTNAS: evolutionary multi-task NAS with architecture embedding and transfer rank.

Zhang & Liu (ktnas-summary.txt): EMT-NAS's multi-task evolution (reused unchanged from
:class:`~benchsim.algorithms.emtnas.EMTNAS`: Algorithms 1-4 and the skeleton of Algorithm 5) plus
two uses of node2vec architecture embeddings that aim at *positive* transfer:

* **Predictor-guided cross-task mating** ("uses a node2vec-based embedding to predict
  performance and guide cross-task mating").  A ridge regression per task maps embeddings to the
  task's sampled fitness observed so far.  When Alg. 5 mates parents of two different tasks, the
  mate from the source task is the best-predicted *for the first parent's task* among
  ``mate_candidates`` random source-task individuals (the random mate included).
* **Transfer rank** (an instance-based classifier against "ranking disorder").  A child of a
  cross-task crossover joins its target task (the skill factor it inherited) only if at least
  ``admit_threshold`` of its ``transfer_k`` nearest neighbours (cosine similarity of
  embeddings) among the target task's evaluated architectures rank well there, i.e. reach the
  ``rank_quantile`` quantile of those architectures' fitness (the median by default: the
  instances are labelled top half vs bottom half).  A rejected child is replaced by a mutation
  of its same-task parent, the child Alg. 5 line 14 would have bred without transfer.
  ``transfers_`` counts admitted and rejected children per target task.

Embeddings: node2vec on the space's union graph, mean-pooled per architecture and cached (see
:mod:`benchsim.algorithms._embedding`); they are a fixed property of the space, seeded by
``embedding_seed``, not by the search.  Defaults where the summary is silent: 32 dimensions,
16-step walks, 40 walks per node, p = q = 1 (unbiased walks), window 4; ridge alpha 1;
4 mate candidates; k = 5; threshold 0.5.  All EMT-NAS settings (K = 20, T, RMP, p_m) are kept.

Measured on NB201 cifar10 + cifar100 (30 seeds, 10 and 30 generations, stand-alone answers, i.e.
the table's ``standalone-upper-bound``): the same test accuracy as EMT-NAS within noise, with
about 85-90% of cross-task children admitted; the CIFAR tasks rank architectures alike, so there
is little negative transfer for the filter to remove.  With the emulated one-shot supernet
(300 generations, 30 seeds) it is again level with EMT-NAS (docs/compare_nb201.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from benchsim._checks import Interval, ParameterConstraints
from benchsim.algorithms._base import Problem, register_algorithm
from benchsim.algorithms._embedding import (
    EmbeddingSettings,
    architecture_embeddings,
    check_available,
)
from benchsim.algorithms._predictor import RidgePredictor, transfer_votes, unit_rows
from benchsim.algorithms.emtnas import EMTNAS, Brood


@register_algorithm("ktnas")
@dataclass
class KTNAS(EMTNAS):
    """EMT-NAS plus embedding-based mate choice and transfer rank; see the module docstring."""

    embedding_dim: int = 32
    walk_length: int = 16
    num_walks: int = 40
    walk_p: float = 1.0
    walk_q: float = 1.0
    walk_window: int = 4
    embedding_seed: int = 0
    ridge_alpha: float = 1.0
    mate_candidates: int = 4
    transfer_k: int = 5
    rank_quantile: float = 0.5
    admit_threshold: float = 0.5

    _parameter_constraints: ClassVar[ParameterConstraints] = {
        **EMTNAS._parameter_constraints,
        "embedding_dim": [Interval(1, integer=True)],
        "walk_length": [Interval(2, integer=True)],
        "num_walks": [Interval(1, integer=True)],
        "walk_p": [Interval(0.0, low_open=True)],
        "walk_q": [Interval(0.0, low_open=True)],
        "walk_window": [Interval(1, integer=True)],
        "embedding_seed": [Interval(0, integer=True)],
        "ridge_alpha": [Interval(0.0, low_open=True)],
        "mate_candidates": [Interval(1, integer=True)],
        "transfer_k": [Interval(1, integer=True)],
        "rank_quantile": [Interval(0.0, 1.0)],
        "admit_threshold": [Interval(0.0, 1.0)],
    }

    def embedding_settings(self) -> EmbeddingSettings:
        """The node2vec settings these hyperparameters select."""
        return EmbeddingSettings(
            dimensions=self.embedding_dim,
            walk_length=self.walk_length,
            num_walks=self.num_walks,
            p=self.walk_p,
            q=self.walk_q,
            window=self.walk_window,
            seed=self.embedding_seed,
        )

    def check_problem(self, problem: Problem) -> None:
        """EMT-NAS's checks, and node2vec installed unless the embedding is cached."""
        super().check_problem(problem)
        check_available(problem.space, self.embedding_settings())

    def _setup(self) -> None:
        space = self.problem_.space
        self.embedding_ = architecture_embeddings(space, self.embedding_settings())
        self.unit_ = unit_rows(self.embedding_)
        n = len(self.problem_.tasks)
        self.predictors_ = [RidgePredictor(self.ridge_alpha) for _ in range(n)]
        self.transfers_ = np.zeros((n, 2), dtype=np.int64)  # per target task: admitted, rejected
        super()._setup()

    def _make_offspring(self) -> np.ndarray:
        """Refit each task's predictor on its evaluated architectures, then breed (Alg. 5)."""
        for row, predictor in enumerate(self.predictors_):
            seen = np.flatnonzero(self.samples_[row] > 0)
            predictor.fit(self.embedding_[seen], self.fitness_[row, seen])
        return super()._make_offspring()

    def _choose_mates(self, p1: np.ndarray, p2: np.ndarray, transfer: np.ndarray) -> np.ndarray:
        """Best-predicted source-task mate for each cross-task pair (see the module docstring)."""
        extra = self.mate_candidates - 1
        pairs = np.flatnonzero(transfer)
        if extra == 0 or pairs.size == 0:
            return p2
        k = self.population_.shape[1]
        flat = self.population_.ravel()
        source = p2[pairs] // k
        drawn = source[:, None] * k + self.rng_.integers(k, size=(pairs.size, extra))
        candidates = np.concatenate([p2[pairs, None], drawn], axis=1)
        out = p2.copy()
        target = p1[pairs] // k
        for row, predictor in enumerate(self.predictors_):
            mine = target == row
            if not predictor.fitted or not mine.any():
                continue
            cand = candidates[mine]
            score = predictor.predict(self.embedding_[flat[cand].ravel()]).reshape(cand.shape)
            out[pairs[mine]] = cand[np.arange(cand.shape[0]), np.argmax(score, axis=1)]
        return out

    def _screen(self, brood: Brood) -> Brood:
        """Transfer rank: admit cross-task children predicted to rank well, else re-breed."""
        cross = np.flatnonzero(brood.cross_task)
        if cross.size == 0:
            return brood
        admit = np.ones(cross.size, dtype=bool)
        for row in range(self.population_.shape[0]):
            mine = brood.tau[cross] == row
            if not mine.any():
                continue
            seen = np.flatnonzero(self.samples_[row] > 0)
            fit = self.fitness_[row, seen]
            finite = fit[np.isfinite(fit)]
            if finite.size == 0:
                continue  # nothing evaluated on the target yet: no evidence against transfer
            bar = np.quantile(finite, self.rank_quantile)
            votes = transfer_votes(
                self.unit_[brood.arch[cross[mine]]], self.unit_[seen], fit >= bar, self.transfer_k
            )
            admit[mine] = votes >= self.admit_threshold
            self.transfers_[row] += (int(admit[mine].sum()), int((~admit[mine]).sum()))
        rejected = cross[~admit]
        if rejected.size:
            arch = brood.arch.copy()
            arch[rejected] = self.operators_.mutate(
                brood.home[rejected], self.mutation_prob, self.rng_
            )
            brood = Brood(arch=arch, tau=brood.tau, cross_task=brood.cross_task, home=brood.home)
        return brood
