"""Weight sharing, a capability a benchmark may offer: ``bench.weight_sharing``.

A weight-sharing search (EMT-NAS, KTNAS, JT-S / JT-D, LD-NAS's FUSE) never trains an
architecture alone: it trains one supernet whose weights all architectures share and reads
estimates from it.  A benchmark that can answer such questions composes a :class:`WeightSharing`
component (the table's supernet emulation, :mod:`benchsim.backends.table._emulation`; the live
backend's supernets, :mod:`benchsim.backends.gpu._weight_sharing`); one that cannot leaves
``bench.weight_sharing`` as ``None``, and the runner tells a searcher so before it asks
(``Problem.capabilities``).

Call sequence: any number of :meth:`WeightSharing.train_pass`,
:meth:`WeightSharing.joint_train_pass` and :meth:`WeightSharing.sampled_eval` calls, in the
order a search asks them; each public method validates its arguments against the benchmark's
space and task names, then calls the hook (``_train_pass``, ``_joint_train_pass``,
``_sampled_eval``) that a component implements.  A component answers by the training its
supernet has had: ``planned_passes`` is the search's plan, for a learning-rate schedule at
most, never a measure of training done.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from benchsim._checks import check_int
from benchsim.backends._values import BatchResult
from benchsim.errors import ConfigError
from benchsim.spaces import SearchSpace


def _planned(passes: int | None) -> int | None:
    """A search's planned number of passes, checked (>= 1, or ``None``: no plan given)."""
    check_int("planned_passes", passes, 1, allow_none=True)
    return None if passes is None else int(passes)


def _probabilities(
    name: str, weights: Sequence[float] | np.ndarray | None, indices: np.ndarray
) -> np.ndarray | None:
    """``weights`` normalised to sum 1 (``None`` stays ``None``); one line if malformed."""
    if weights is None:
        return None
    try:
        probs = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        probs = np.full(1, np.nan)
    if probs.shape != indices.shape or not (probs >= 0).all() or probs.sum() <= 0:
        raise ConfigError(
            f"{name} {weights!r} must be one non-negative number per architecture "
            "with a positive sum"
        )
    return probs / probs.sum()


def joint_group(
    tasks: Sequence[str],
    group_of: Callable[[str], tuple[str, ...]],
    trained: Callable[[str], bool],
) -> tuple[str, ...] | None:
    """Which supernet a joint pass over ``tasks`` trains, by the rule both backends follow.

    ``group_of(t)``: the tasks sharing ``t``'s supernet now; ``trained(t)``: whether that
    supernet has trained yet.  Returns the group when all ``tasks`` already share one supernet;
    ``None`` when a new one must be formed for exactly them (allowed only while none of them has
    trained: weights trained apart cannot become one supernet); otherwise a one-line
    :class:`ConfigError`.
    """
    groups = {group_of(t) for t in tasks}
    if len(groups) == 1:
        return next(iter(groups))
    listed = ", ".join(tasks)
    for task in tasks:
        if trained(task):
            raise ConfigError(
                f"joint_train_pass over {listed}: {task} was already trained in a supernet of "
                "its own; a joint pass needs tasks that share one supernet from their first "
                "training step"
            )
        left_out = [t for t in group_of(task) if t not in tasks]
        if left_out:
            raise ConfigError(
                f"joint_train_pass over {listed}: {task} shares its supernet with "
                f"{', '.join(left_out)}, which this pass leaves out; give all of them"
            )
    return None


class WeightSharing(ABC):
    """The weight-sharing steps of one benchmark (see the module docstring for the sequence).

    Parameters
    ----------
    space
        The benchmark's search space (architectures are validated against it).
    resolve_task
        The benchmark's :meth:`~benchsim.backends.base.Benchmark.resolve_task`: canonical task
        names, one-line errors for unknown ones.
    """

    def __init__(self, space: SearchSpace, resolve_task: Callable[[str], str]) -> None:
        self.space = space
        self.resolve_task = resolve_task

    def train_pass(
        self,
        task: str,
        archs: Sequence[int] | np.ndarray,
        *,
        rng: np.random.Generator,
        weights: Sequence[float] | None = None,
        planned_passes: int | None = None,
    ) -> float:
        """One pass over ``task``'s training data, each mini-batch training one of ``archs``.

        EMT-NAS's sampled training (Algorithm 3 of its supplementary).  ``weights`` are the
        per-mini-batch selection probabilities of the architectures (uniform if ``None``);
        ``planned_passes`` is how many passes the search plans for this task's shared weights
        (a learning-rate schedule may use it; the table's emulation does not: a supernet is as
        trained as the passes it had).
        Returns the cost in seconds: real training time on a live backend, the recorded time of
        one training epoch of the architectures involved on a table.
        """
        name = self.resolve_task(task)
        indices = self.space.indices(archs)
        if indices.size == 0:
            raise ConfigError("train_pass got no architectures; give at least one")
        probs = _probabilities("weights", weights, indices)
        planned = _planned(planned_passes)
        return float(
            self._train_pass(name, indices, rng=rng, weights=probs, planned_passes=planned)
        )

    def joint_train_pass(
        self,
        tasks: Sequence[str],
        archs: Sequence[Sequence[int] | np.ndarray],
        *,
        rng: np.random.Generator,
        weights: Sequence[Sequence[float] | None] | None = None,
        planned_passes: int | None = None,
    ) -> float:
        """One pass over the union of ``tasks``' training data through one shared supernet.

        The joint training of EMT-NAS's JT-S / JT-D baselines (supplementary appendix D):
        every mini-batch of every task once, the tasks' mini-batches mixed in one random order
        (drawn with ``rng``), a mini-batch of ``tasks[i]`` training one of ``archs[i]`` through
        that task's head, chosen with the probabilities ``weights[i]`` (uniform where
        ``weights`` or its entry is ``None``).  The tasks train one supernet: the one they
        already share, else one formed for them now, which needs every one of them untrained
        so far (:func:`joint_group`); a joint pass over tasks trained apart is refused.
        Returns the cost in seconds (real training time live; on a table, the recorded epoch
        times of every task's share, as if each task had had its own :meth:`train_pass`).
        """
        if isinstance(tasks, str) or not isinstance(tasks, (list, tuple)):
            raise ConfigError(
                f"tasks == {tasks!r}, must be a list of task names (one per architecture list)"
            )
        names = tuple(self.resolve_task(t) for t in tasks)
        if not names:
            raise ConfigError("joint_train_pass got no tasks; give at least one")
        twice = sorted({t for t in names if names.count(t) > 1})
        if twice:
            raise ConfigError(f"joint_train_pass got task {twice[0]} twice; give each task once")
        if isinstance(archs, (str, np.ndarray)) or len(archs) != len(names):
            raise ConfigError(
                f"joint_train_pass got {len(archs)} architecture lists for {len(names)} tasks; "
                "give one list per task"
            )
        indices = [self.space.indices(a) for a in archs]
        for name, index in zip(names, indices, strict=True):
            if index.size == 0:
                raise ConfigError(
                    f"joint_train_pass got no architectures for {name}; give at least one"
                )
        if weights is None:
            weights = [None] * len(names)
        elif isinstance(weights, (str, np.ndarray)) or len(weights) != len(names):
            raise ConfigError(
                f"joint_train_pass got {len(weights)} weight lists for {len(names)} tasks; give "
                "one per task (None: uniform)"
            )
        probs = [
            _probabilities(f"weights of {name}", w, index)
            for name, w, index in zip(names, weights, indices, strict=True)
        ]
        planned = _planned(planned_passes)
        return float(
            self._joint_train_pass(names, indices, rng=rng, weights=probs, planned_passes=planned)
        )

    def sampled_eval(
        self,
        task: str,
        archs: Sequence[int] | np.ndarray,
        *,
        rng: np.random.Generator,
        batch_size: int | None = 256,
    ) -> BatchResult:
        """Search-metric estimate of each of ``archs`` from one random validation mini-batch.

        EMT-NAS's sampled evaluating (Algorithm 4).  ``batch_size=None`` evaluates on the whole
        validation split instead (Algorithm 1 line 12).  Returns one value and one cost per
        architecture, and the answers' ``source``: always a supernet's estimate (trained on a
        live backend, recorded or modelled on a table), never the stand-alone value.
        """
        name = self.resolve_task(task)
        indices = self.space.indices(archs)
        check_int("batch_size", batch_size, 1, allow_none=True)
        size = None if batch_size is None else int(batch_size)
        return self._sampled_eval(name, indices, rng=rng, batch_size=size)

    @abstractmethod
    def _train_pass(
        self,
        task: str,
        indices: np.ndarray,
        *,
        rng: np.random.Generator,
        weights: np.ndarray | None,
        planned_passes: int | None,
    ) -> float:
        """Hook: see :meth:`train_pass`."""

    @abstractmethod
    def _sampled_eval(
        self, task: str, indices: np.ndarray, *, rng: np.random.Generator, batch_size: int | None
    ) -> BatchResult:
        """Hook: see :meth:`sampled_eval` (the answers' ``source`` says where they come
        from)."""

    @abstractmethod
    def _joint_train_pass(
        self,
        tasks: tuple[str, ...],
        indices: list[np.ndarray],
        *,
        rng: np.random.Generator,
        weights: list[np.ndarray | None],
        planned_passes: int | None,
    ) -> float:
        """Hook: see :meth:`joint_train_pass` (arguments validated: canonical distinct task
        names, one non-empty index array and one normalised probability array or ``None`` per
        task)."""
