"""Weight sharing on a table (``bench.weight_sharing``): what a supernet would answer, at the
recorded cost.

EMT-NAS asks a backend to train a population for one pass over a task's data (Algorithm 3) and
to estimate each individual from one validation mini-batch (Algorithm 4).  A table cannot train,
so the answers come from a supernet *emulation* (:mod:`._weight_sharing`, docs/weight_sharing.md)
and only the costs come from the recorded training times:

* ``train_pass``: advances the task's emulated supernet by one pass over its training data,
  ``ceil(train examples / batch size)`` SGD steps (its estimates improve along the training
  curve, by the training done: the search's ``planned_passes`` does not enter).  Cost: each
  mini-batch trains one individual, chosen with probability ``weights`` (uniform by default),
  so the expected cost is ``sum_i w_i * epoch_time_i`` with ``epoch_time_i = train_time_s_i /
  epochs`` of the task's standard schedule.  The expectation is charged (no sampling), so
  the clock stays deterministic.
* ``joint_train_pass`` (EMT-NAS's JT-S / JT-D): the tasks' supernets become one shared
  supernet, and the pass over the union of their data advances it by one pass over every
  task's data; each task's estimate then follows the same curve as under ``train_pass`` (no
  joint-training effect is modelled, see docs/weight_sharing.md).  Cost: the sum over the
  tasks of what each task's share of the pass would cost as a ``train_pass``.
* ``sampled_eval``: the supernet's estimate of each architecture at the current training state,
  measured on one random validation mini-batch (binomial noise), or on the whole validation
  split when ``batch_size`` is None (no batch noise).  Never the stand-alone value, unless the
  estimator ``standalone-upper-bound`` is chosen explicitly.  Cost: one forward pass over the
  examples, ``epoch_time * examples / train_size / 3`` (a forward pass costs about a third of
  a training step; ``train_size`` from the catalog, 50,000 where the source does not say).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from benchsim._checks import check_number
from benchsim._linalg import dot
from benchsim.backends.base import BatchResult, Benchmark
from benchsim.backends.table._layout import FinalColumns
from benchsim.backends.table._weight_sharing import (
    DEFAULT_TRAIN_SIZE,
    SupernetEmulator,
    TaskData,
)
from benchsim.backends.table._ws_model import supernet_fit
from benchsim.backends.weight_sharing import WeightSharing

_FORWARD_FRACTION = 1.0 / 3.0
TIME = "train_time_s"


class TableWeightSharing(WeightSharing):
    """A table benchmark's weight-sharing steps: a :class:`SupernetEmulator`'s answers, the
    recorded training times as costs (module docstring).

    Parameters
    ----------
    bench
        The table benchmark it belongs to (task names and infos).
    final
        The table's mapped final columns (stand-alone values, recorded supernet estimates,
        training times).
    emulator
        The run's emulation state (settings, training per task, drawn estimates).
    """

    def __init__(self, bench: Benchmark, final: FinalColumns, emulator: SupernetEmulator) -> None:
        super().__init__(bench.space, bench.resolve_task)
        self.bench = bench
        self.final = final
        self.emulator = emulator
        self._data: dict[str, TaskData] = {}

    def describe(self) -> dict[str, Any]:
        """How weight-sharing jobs are answered (settings; per task: recorded or modelled, and
        how trained its supernet is)."""
        return self.emulator.describe()

    def check_tasks(self, tasks: Sequence[str]) -> list[str]:
        """Build the tasks' converged supernet estimates now: an unreachable ``ws_tau`` is
        refused before a run writes anything; warns where a setting has no effect."""
        names = [self.resolve_task(task) for task in tasks]
        return self.emulator.check_tasks([self.task_data(name) for name in names])

    # ------------------------------------------------------------------ public estimates
    def supernet_estimate(
        self,
        archs: Sequence[Any] | np.ndarray,
        task: str,
        *,
        epochs: float | None = None,
    ) -> np.ndarray:
        """The emulated supernet's whole-split estimate of ``archs`` on ``task``.

        ``epochs`` is the training to answer for, in passes over the task's training data
        (``None``: what the task's supernet has had in this run; ``math.inf``: converged).
        What ``sampled_eval(batch_size=None)`` answers, without the cost and without advancing
        anything.
        """
        name = self.resolve_task(task)
        indices = self.space.indices(archs)
        if epochs != np.inf:  # math.inf (converged) is allowed; other numbers must be finite
            check_number("epochs", epochs, 0.0, allow_none=True)
        values, _ = self.emulator.estimates(self.task_data(name), indices, epochs)
        return values

    # ------------------------------------------------------------------ hooks
    def task_data(self, task: str) -> TaskData:
        """The columns the emulator reads for ``task`` (views of the mapped table)."""
        cache = self._data
        data = cache.get(task)
        if data is None:
            info = self.bench.task_info(task)
            code = self.bench.tasks.index(task)
            size = self.space.size
            block = slice(code * size, (code + 1) * size)
            final = self.final
            truth = final.column(info.search_metric)[block]
            recorded = None
            estimator = self.emulator.settings.estimator
            if estimator in ("oneshot", "fewshot"):
                column = supernet_fit(estimator).column
                if column in info.metrics and column in final.names:
                    recorded = final.column(column)[block]
            data = cache[task] = TaskData(
                name=task,
                code=code,
                metric=info.search_metric,
                truth=truth,
                recorded=recorded,
                space=self.space,
                epochs=info.epochs,
                train_size=info.train_size,
            )
        return data

    def _epoch_times(self, task: str, indices: np.ndarray) -> np.ndarray:
        """Recorded time of one epoch of each of ``indices`` (validated upstream)."""
        info = self.bench.task_info(task)
        size = self.space.size
        low = self.bench.tasks.index(task) * size
        total = self.final.column(TIME)[low : low + size][indices]
        return np.asarray(total, dtype=np.float64) / float(info.epochs)

    def _pass_cost(self, task: str, indices: np.ndarray, weights: np.ndarray | None) -> float:
        """Expected recorded time of one pass over ``task``'s data (module docstring)."""
        times = self._epoch_times(task, indices)
        if weights is None:
            return float(np.mean(times))
        return dot(weights, times)

    def _train_pass(
        self,
        task: str,
        indices: np.ndarray,
        *,
        rng: np.random.Generator,
        weights: np.ndarray | None,
        planned_passes: int | None,
    ) -> float:
        self.emulator.note_pass(task)
        return self._pass_cost(task, indices, weights)

    def _joint_train_pass(
        self,
        tasks: tuple[str, ...],
        indices: list[np.ndarray],
        *,
        rng: np.random.Generator,
        weights: list[np.ndarray | None],
        planned_passes: int | None,
    ) -> float:
        self.emulator.note_joint_pass(tasks)
        return sum(
            self._pass_cost(task, index, w)
            for task, index, w in zip(tasks, indices, weights, strict=True)
        )

    def _sampled_eval(
        self, task: str, indices: np.ndarray, *, rng: np.random.Generator, batch_size: int | None
    ) -> BatchResult:
        info = self.bench.task_info(task)
        data = self.task_data(task)
        emulator = self.emulator
        values, source = emulator.estimates(data, indices)
        epoch_times = self._epoch_times(task, indices)
        train_size = info.train_size or DEFAULT_TRAIN_SIZE
        if batch_size is None:  # the whole validation split: the estimate itself
            examples = info.valid_size or train_size
        else:
            examples = batch_size
            values = emulator.batch_noise(data, values, batch_size, rng)
        cost = epoch_times * (examples / train_size) * _FORWARD_FRACTION
        return BatchResult(values=np.asarray(values, dtype=np.float64), cost=cost, source=source)
