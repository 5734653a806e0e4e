"""Vectorised building blocks of the evolutionary multi-task searchers (EMT-NAS, KTNAS).

Everything here works on whole populations as numpy arrays, so one generation costs a handful of
array operations instead of a Python loop per individual:

* :class:`GeneOperators`: uniform crossover and per-gene mutation over a space's decision tuples
  (Algorithm 5 of the EMT-NAS supplementary, lines 5-7 and 14-15).
* :func:`tournament_weights`: the probability that binary tournament selection picks each
  individual (Algorithm 3, line 4), which the backend turns into one individual per mini-batch.
* :func:`update_fitness` and :func:`inherit_fitness`: how an individual's sampled accuracies
  become its fitness (Algorithm 4, line 8; Eq. 2 of the main paper).
* :func:`select_survivors`: environmental selection of the top K (Algorithm 1, line 11).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from benchsim.spaces import SearchSpace


class GeneOperators:
    """Crossover and mutation of many architectures at once, on their decision tuples.

    A space is *dense* when every tuple of choices (``space.decisions``) is a member, as in the
    cell spaces of NB201 and TNB101-micro.  There both operators are pure array arithmetic: a
    mixed-radix code of the genes indexes a lookup table back to the architecture index.  In a
    sparse space (TNB101-macro: networks of 4-6 modules with constraints) a resampled gene
    usually leaves the space, so the operators fall back to the space's own ``crossover`` and
    ``mutate`` for each individual.

    Parameters
    ----------
    space
        The search space; its decision tuples are read once (build with :func:`gene_operators`,
        which caches one instance per space).
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.radix = np.asarray(space.decisions, dtype=np.int64)
        genes = space.decision_table()
        weights = np.cumprod(np.concatenate([self.radix[1:], [1]])[::-1])[::-1]
        self.weights = weights.astype(np.int64)
        self.genes = genes.astype(np.uint8 if self.radix.max() <= 256 else np.int64)
        n_codes = int(np.prod(self.radix))
        self.index_of_code = np.full(n_codes, -1, dtype=np.int64)
        self.index_of_code[genes @ self.weights] = np.arange(space.size, dtype=np.int64)
        self.dense = n_codes == space.size

    @property
    def n_genes(self) -> int:
        """Number of genes (decisions) per architecture."""
        return len(self.radix)

    def _to_index(self, genes: np.ndarray) -> np.ndarray:
        return self.index_of_code[genes.astype(np.int64) @ self.weights]

    def crossover(
        self, a: np.ndarray, b: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Two children per pair ``(a[i], b[i])``: recombined where ``mask``, copies elsewhere.

        Dense spaces: uniform crossover, each gene from either parent with probability 0.5 and
        the two children complementary (the same operator as ``CellSpace.crossover``).  Sparse
        spaces: ``space.crossover`` per recombined pair.
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        if not self.dense:
            c1, c2 = a.copy(), b.copy()
            for i in np.flatnonzero(mask):
                c1[i], c2[i] = self.space.crossover(int(a[i]), int(b[i]), rng)
            return c1, c2
        genes_a, genes_b = self.genes[a], self.genes[b]
        take_a = (rng.random(genes_a.shape) < 0.5) | ~np.asarray(mask, dtype=bool)[:, None]
        child_1 = np.where(take_a, genes_a, genes_b)
        child_2 = np.where(take_a, genes_b, genes_a)
        return self._to_index(child_1), self._to_index(child_2)

    def mutate(self, archs: np.ndarray, prob: float, rng: np.random.Generator) -> np.ndarray:
        """Per-gene mutation: each gene is redrawn uniformly with probability ``prob``.

        A redrawn gene may come out unchanged (nothing forces a change, as in the EMT-NAS
        setting "mutation probability 0.02 per gene").  Sparse spaces: with the probability
        that at least one gene would be redrawn, ``1 - (1 - prob) ** n_genes``, the individual
        takes one ``space.mutate`` step (one legal edit), so the expected rate of change stays
        comparable while every child remains a member.
        """
        archs = np.asarray(archs, dtype=np.int64)
        if not self.dense:
            out = archs.copy()
            hit = rng.random(archs.shape) < 1.0 - (1.0 - prob) ** self.n_genes
            for i in np.flatnonzero(hit):
                out[i] = self.space.mutate(int(archs[i]), rng)
            return out
        genes = self.genes[archs]
        hit = rng.random(genes.shape) < prob
        drawn = (rng.random(genes.shape) * self.radix).astype(genes.dtype)
        return self._to_index(np.where(hit, drawn, genes))


@lru_cache(maxsize=8)
def gene_operators(space: SearchSpace) -> GeneOperators:
    """The :class:`GeneOperators` of ``space``, built once per process (spaces are immutable)."""
    return GeneOperators(space)


def tournament_weights(fitness: np.ndarray) -> np.ndarray:
    """Probability that binary tournament selection returns each individual.

    A tournament draws two *different* individuals uniformly and keeps the fitter one, so
    ``P(i) = 2 / (M (M - 1)) * sum_{j != i} w_ij`` with ``w_ij`` 1 if ``i`` is fitter, 0 if
    ``j`` is, and 0.5 for a tie or when either fitness is unknown (``NaN``: an offspring not yet
    evaluated, decided by a coin flip).  With no fitness known the weights are uniform.

    Parameters
    ----------
    fitness
        One value per individual, ``NaN`` where unknown.

    Returns
    -------
    numpy.ndarray
        Probabilities summing to 1 (one per individual).
    """
    f = np.asarray(fitness, dtype=np.float64)
    m = f.size
    if m == 1:
        return np.ones(1)
    wins = (f[:, None] > f[None, :]).astype(np.float64)
    losses = f[:, None] < f[None, :]
    wins += 0.5 * ~((wins > 0) | losses)  # ties and unknowns (NaN compares False both ways)
    np.fill_diagonal(wins, 0.0)
    return wins.sum(axis=1) * (2.0 / (m * (m - 1)))


def update_fitness(
    fitness: np.ndarray,
    counts: np.ndarray,
    archs: np.ndarray,
    values: np.ndarray,
    momentum: float,
) -> None:
    """Fold new sampled accuracies into the running fitness, in place.

    ``fitness[a] <- momentum * fitness[a] + (1 - momentum) * value`` when ``a`` was sampled
    before, ``fitness[a] <- value`` the first time; ``counts[a]`` counts the samples.  An
    architecture listed ``r`` times in one batch (copies of one architecture in the offspring)
    is folded in list order, exactly as if the values had arrived one by one, in closed form:
    ``f <- m^r f0 + sum_j (1 - m) m^(r-1-j) v_j``, where ``f0`` is the old fitness, or ``v_0``
    for a first sample (which makes the first value count fully).
    """
    archs = np.asarray(archs, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    if archs.size == 0:
        return
    order = np.argsort(archs, kind="stable")
    uniq, start, repeats = np.unique(archs[order], return_index=True, return_counts=True)
    group = np.repeat(np.arange(uniq.size), repeats)
    later = (np.arange(archs.size) - start[group]).astype(np.float64)  # position in group
    m = float(momentum)
    ordered = values[order]
    decay = m ** (repeats[group] - 1 - later)
    folded = np.bincount(group, weights=(1.0 - m) * decay * ordered, minlength=uniq.size)
    base = np.where(counts[uniq] > 0, fitness[uniq], ordered[start])
    fitness[uniq] = m**repeats * base + folded
    counts[uniq] += repeats.astype(counts.dtype)


def inherit_fitness(
    fitness: np.ndarray,
    counts: np.ndarray,
    archs: np.ndarray,
    homes: np.ndarray,
    values: np.ndarray,
    weight: float,
) -> None:
    """EMT-NAS's official fitness update, in place: ``f = f_home + (value - f_home) * weight``.

    The official implementation (PengLiao12/EMT-NAS ``gnas/genetic_algorithm/genetic.py``,
    ``update_current_individual_fitness``) scores a child from one mini-batch as its parent's
    fitness moved towards the sampled accuracy by ``weight = log_T(i + 1)``, with ``i`` the
    0-based generation and ``T`` the number of generations: early children mostly inherit,
    late ones are judged on their own sample.  ``homes[j]`` is the parent ``archs[j]`` inherited
    its task from (itself for a re-sampled parent); parents' fitness is read before any update
    (the official code reads a snapshot), and where ``archs`` repeats an architecture the last
    value wins, as the official dictionary update does.  A home without a fitness (NaN) lets
    the value count fully.
    """
    archs = np.asarray(archs, dtype=np.int64)
    if archs.size == 0:
        return
    base = fitness[np.asarray(homes, dtype=np.int64)]
    values = np.asarray(values, dtype=np.float64)
    new = np.where(base == base, base + (values - base) * float(weight), values)
    fitness[archs] = new  # numpy assigns repeated indices in order: the last one wins
    np.add.at(counts, archs, 1)


def select_survivors(archs: np.ndarray, fitness: np.ndarray, k: int, distinct: bool) -> np.ndarray:
    """Positions (into ``archs``) of the ``k`` fittest individuals, best first.

    Ties keep the earlier position (parents are listed before offspring, so an offspring must
    be strictly better to displace an equal parent).  ``NaN`` fitness ranks last.  With
    ``distinct`` every architecture is taken once before any copy of it is (copies only fill
    up when fewer than ``k`` distinct architectures exist), which stops one architecture from
    taking over the population through its duplicates.
    """
    archs = np.asarray(archs)
    f = np.asarray(fitness, dtype=np.float64)
    f = np.where(f == f, f, -np.inf)  # NaN last
    position = np.arange(archs.size)
    if distinct:
        _, first = np.unique(archs, return_index=True)
        copy = np.ones(archs.size, dtype=bool)
        copy[first] = False
        order = np.lexsort((position, -f, copy))
    else:
        order = np.lexsort((position, -f))
    return order[:k]
