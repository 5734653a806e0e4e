"""The live backend: a weight-sharing NB201 supernet answering the benchmark contract.

:class:`GpuBenchmark` trains instead of looking up; it composes its training state
(:class:`~._supernets.Supernets`) with the two capabilities it offers,
``bench.weight_sharing`` (:mod:`._weight_sharing`) and ``bench.task_distances``
(:mod:`._task_distances`).  Tasks are image datasets (see
:mod:`benchsim.datasets`), one supernet per task (or one shared, ``share_weights_across_tasks``,
or one formed by the first joint pass over some tasks) over the cell space of ``space`` (NB201's
five ops or TransNAS-Bench-101 micro's four):

* ``weight_sharing`` (EMT-NAS's steps, :mod:`._weight_sharing`): ``train_pass`` (Algorithm 3:
  one pass over the task's training split, each mini-batch training one architecture's path),
  ``joint_train_pass`` (JT-S / JT-D, appendix D: one pass over several tasks' splits through one
  supernet, a head per task) and ``sampled_eval`` (Algorithm 4: each architecture's accuracy
  on one random validation mini-batch).  Cost: real seconds.
* ``task_distances.task_distance`` (LD-NAS, :mod:`._task_distances`): the log-determinant
  distance from source tasks to a target, from epsilon-approximation networks trained on the
  datasets (:mod:`._fisher`).  Cost: real seconds of the new work.
* :meth:`query`: ``valid_acc`` / ``test_acc`` / ``train_acc`` of an architecture through the
  supernet on the whole split, ``train_time_s`` = real seconds of training on the task so far;
  ``Result.epoch`` is the 0-based number of the last completed pass (-1 before any).  With
  ``schedule=E``: the architecture trained alone for E epochs instead (what a search's
  ``Evaluate`` gets by default, see ``evaluate`` in :class:`~._settings.GpuSettings`).

Randomness: architecture choices and evaluation batches come from the Generator the caller
passes; data order and augmentation from the backend's own ``torch.Generator`` (on the device),
initial weights from a CPU generator, all derived from ``seed``.  Two CPU runs with the same
seed and calls give identical numbers; :meth:`state_dict` / :meth:`load_state_dict` capture all
of it (weights, optimizer, schedule position, generator states) for an exact resume.  torch's
process-wide settings (deterministic algorithms, cuDNN autotuning) are set for each call and
restored after it (:meth:`~._supernets.Supernets.scope`), never left changed by opening.

Example
-------
>>> import benchsim
>>> bench = benchsim.benchmark(  # doctest: +SKIP
...     "nb201", backend="gpu", device="cpu", smoke=True, seed=0,
...     datasets=("synthetic-shapes", "synthetic-shapes-b"))
>>> bench.weight_sharing.train_pass(  # doctest: +SKIP
...     "synthetic-shapes", [0, 1, 2], rng=np.random.default_rng(0))
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchsim._checks import check_int
from benchsim.backends.base import (
    BatchResult,
    Benchmark,
    Protocol,
    Result,
    SeedLike,
    TaskInfo,
    Traits,
)
from benchsim.backends.gpu._evaluate import split_accuracy
from benchsim.backends.gpu._outline import (
    GPU_SPACES,
    SMOKE_DATASETS,
    live_traits,
    resolve_config,
)
from benchsim.backends.gpu._ranking import (
    RankCorrelation,
    kendall_tau,
    standalone_train,
    table_kendall_tau,
)
from benchsim.backends.gpu._settings import device_name, synchronize
from benchsim.backends.gpu._standalone import StandaloneResult
from benchsim.backends.gpu._state import file_record
from benchsim.backends.gpu._supernets import Supernets
from benchsim.backends.gpu._task_distances import LiveTaskDistances
from benchsim.backends.gpu._weight_sharing import LiveWeightSharing
from benchsim.datasets import resolve_dataset
from benchsim.errors import FidelityError

__all__ = ["GPU_SPACES", "SMOKE_DATASETS", "GpuBenchmark"]

METRICS = ("train_acc", "valid_acc", "test_acc", "train_time_s")
_SPLIT_OF = {"train_acc": "train", "valid_acc": "valid", "test_acc": "test"}


class GpuBenchmark(Benchmark):
    """Live weight-sharing benchmark; see the module docstring for what each call does.

    Parameters
    ----------
    space
        ``"nb201"`` or ``"tnb101-micro"`` (the cell space; the NB201 skeleton is used for both).
    datasets
        Task names = dataset names (default ``cifar10, cifar100``; with ``smoke``, the two
        synthetic sets).  Real datasets must be prepared first (``benchsim data prepare``).
    device
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (``None``: CUDA when available).
    seed
        Seed of the weights, data order and augmentation (``None``: fresh entropy, recorded in
        :meth:`provenance`).
    smoke
        Tiny network and few batches per pass (see :data:`~._settings.SMOKE`).
    root
        Folder of the dataset files (default ``$BENCHSIM_HOME/datasets``).
    generate
        Generate a missing synthetic dataset (real ones are never fetched).
    **options
        Any :class:`~._settings.GpuSettings` field.

    Attributes
    ----------
    supernets
        The training state (:class:`~._supernets.Supernets`): datasets on the device,
        supernets, optimizers, schedules, generators.
    weight_sharing
        :class:`~._weight_sharing.LiveWeightSharing`.
    task_distances
        :class:`~._task_distances.LiveTaskDistances`.
    """

    backend = "gpu"

    def __init__(
        self,
        space: str = "nb201",
        datasets: Sequence[str] | None = None,
        *,
        device: str | torch.device | None = None,
        seed: int | None = 0,
        smoke: bool = False,
        root: str | Path | None = None,
        generate: bool = True,
        **options: Any,
    ) -> None:
        config = resolve_config(
            space, datasets, device=device, smoke=smoke, root=root, generate=generate,
            options=options,
        )  # fmt: skip
        self.settings = config.settings
        self.device = config.device
        self.space = config.space
        self.name = space
        self.smoke = smoke
        self.seed_ = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
        self._paths = config.paths
        self._config = config
        self.supernets = Supernets(config, self.seed_)
        self._tasks = {name: self._task_info(name) for name in self.supernets.tasks}
        self.weight_sharing = LiveWeightSharing(self.supernets, self.resolve_task)
        self.task_distances = LiveTaskDistances(self.supernets, self.resolve_task)

    def _task_info(self, name: str) -> TaskInfo:
        spec = resolve_dataset(name)
        data = self.supernets.data_[name]
        return TaskInfo(
            name=name,
            metrics=METRICS,
            search_metric="valid_acc",
            test_metric="test_acc",
            epochs=self.settings.epochs,
            description=(
                f"live supernet ({self.settings.bn_eval} BN) accuracy on {name}: "
                f"{spec.split_note}; train_acc on the un-augmented training split; "
                "train_time_s = real seconds of supernet training on this task so far"
            ),
            aliases=spec.aliases,
            train_size=data.size("train"),
        )

    @property
    def traits(self) -> Traits:
        """Not simulated; a CUDA device per run, over the visible GPUs (:func:`live_traits`)."""
        return live_traits(self._config)

    def batches_per_pass(self, task: str) -> int:
        """Full mini-batches in one pass over ``task``'s training split (the remainder of the
        shuffled split is dropped), capped by ``max_batches_per_pass``."""
        return self.supernets.batches_per_pass(self.resolve_task(task))

    def genes(self, index: int) -> tuple[int, ...]:
        """The op position of each edge (string edge order) of architecture ``index``."""
        return self.supernets.genes(index)

    # ------------------------------------------------------------------ checks of the supernet
    def split_accuracy(self, arch: Any, task: str, split: str = "valid") -> float:
        """Supernet accuracy (%) of ``arch`` on a whole split of ``task`` (``bn_eval`` mode;
        :func:`~._evaluate.split_accuracy`)."""
        task, index = self.resolve_task(task), self.space.index(arch)
        with self.supernets.scope():
            return split_accuracy(self.supernets, index, task, split)

    def standalone_train(
        self,
        arch: Any,
        task: str,
        epochs: int | None = None,
        *,
        seed: int | None = None,
        init: str = "scratch",
        on_epoch: Callable[[int, int], None] | None = None,
    ) -> StandaloneResult:
        """Train ``arch`` alone on ``task`` for ``epochs`` passes and test it
        (:func:`~._ranking.standalone_train`: NB201's recipe, its own generators)."""
        task, index = self.resolve_task(task), self.space.index(arch)
        with self.supernets.scope():
            return standalone_train(
                self.supernets, index, task, epochs, seed=seed, init=init, on_epoch=on_epoch
            )

    def kendall_tau(
        self, archs: Sequence[Any] | np.ndarray, task: str, reference_values: Sequence[float]
    ) -> RankCorrelation:
        """Kendall's tau between the supernet's ``valid_acc`` of ``archs`` and references
        (:func:`~._ranking.kendall_tau`)."""
        task, indices = self.resolve_task(task), self.space.indices(archs)
        with self.supernets.scope():
            return kendall_tau(self.supernets, indices, task, reference_values)

    def table_kendall_tau(
        self,
        archs: Sequence[Any] | np.ndarray,
        task: str,
        *,
        table: Benchmark,
        table_task: str | None = None,
        metric: str = "valid_acc",
    ) -> RankCorrelation:
        """Kendall's tau between the supernet's ``valid_acc`` and ``table``'s, a table
        benchmark of the same space the caller opened (:func:`~._ranking.table_kendall_tau`)."""
        task, indices = self.resolve_task(task), self.space.indices(archs)
        with self.supernets.scope():
            return table_kendall_tau(
                self.supernets, indices, task, table, table_task=table_task, metric=metric
            )

    # ------------------------------------------------------------------ queries
    def _query(
        self,
        index: int,
        task: str,
        metrics: tuple[str, ...],
        *,
        epoch: int | None,
        seed: SeedLike,
        schedule: int | None,
    ) -> Result:
        """``schedule=None``: the supernet as trained so far; ``schedule=E``: the architecture
        trained alone for E epochs (once per architecture, task and E; later asks reuse it)."""
        if epoch is not None or seed is not None:
            raise FidelityError(
                f"the gpu backend trains rather than looks up: epoch == {epoch!r} and seed == "
                f"{seed!r} must be None (schedule=E trains the architecture alone for E epochs)"
            )
        if schedule is not None:
            check_int("schedule", schedule, 1, allow_none=True, error=FidelityError)
            return self._standalone_answer(index, task, metrics, schedule)
        nets = self.supernets
        began = time.perf_counter()
        values: dict[str, float] = {}
        with nets.scope():
            for metric in metrics:
                if metric == "train_time_s":
                    values[metric] = nets.train_seconds_[task]
                else:
                    values[metric] = split_accuracy(nets, index, task, _SPLIT_OF[metric])
            synchronize(self.device)
        return Result(
            arch=int(index),
            task=task,
            metrics=values,
            cost=time.perf_counter() - began,
            seed=None,
            epoch=nets.passes_[task] - 1,
            schedule=self.settings.epochs,
        )

    def _standalone_answer(
        self, index: int, task: str, metrics: tuple[str, ...], epochs: int
    ) -> Result:
        """Metrics of ``index`` trained alone for ``epochs`` (cached); cost: its real seconds."""
        key = (int(index), task, int(epochs))
        done = self.supernets.standalone_
        if key not in done:
            began = time.perf_counter()
            trained = self.standalone_train(int(index), task, int(epochs))
            done[key] = (trained, time.perf_counter() - began)
        trained, seconds = done[key]
        return Result(
            arch=int(index),
            task=task,
            metrics={m: float(getattr(trained, m)) for m in metrics},
            cost=seconds,
            seed=trained.seed,
            epoch=epochs - 1,
            schedule=epochs,
        )

    def _query_many(
        self, indices: np.ndarray, task_codes: np.ndarray | int, metric: str, *, seed: SeedLike
    ) -> BatchResult:
        codes = np.broadcast_to(np.asarray(task_codes, dtype=np.int64), indices.shape)
        values = np.empty(indices.shape, dtype=np.float64)
        cost = np.empty(indices.shape, dtype=np.float64)
        for pos in np.ndindex(indices.shape):
            result = self._query(
                int(indices[pos]),
                self.tasks[int(codes[pos])],
                (metric,),
                epoch=None,
                seed=seed,
                schedule=None,
            )
            values[pos], cost[pos] = result.value, result.cost
        return BatchResult(values=values, cost=cost)

    # ------------------------------------------------------------------ protocol and records
    def evaluation_protocol(self, task: str) -> Protocol:
        """How an ``Evaluate`` is answered: training alone for ``evaluate_epochs`` (default) or
        the supernet's accuracy (``evaluate="supernet"``), charged real seconds either way."""
        metric = self.task_info(task).search_metric
        s = self.settings
        if s.evaluate == "standalone":
            note = (
                f"each architecture trained alone for {s.evaluate_epochs} epochs (cosine "
                "schedule), its valid_acc; charged the real seconds"
            )
            return Protocol(metric, None, 1.0, note, s.evaluate_epochs, "live:standalone")
        note = (
            f"supernet valid_acc on the full validation split ({s.bn_eval} BN), charged the "
            "real seconds of evaluating it"
        )
        return Protocol(metric, None, 1.0, note, None, "live:supernet")

    def answer_notes(self) -> dict[str, object]:
        """Which tasks share a supernet (after a run: as joint passes left them)."""
        return {"supernets": [list(tasks) for tasks in self.supernets.groups_]}

    def provenance(self) -> dict[str, object]:
        """Dataset files and checksums, device, torch version, settings and seed."""
        if getattr(self, "_provenance", None) is None:
            nets = self.supernets
            files = {name: file_record(path) for name, path in self._paths.items()}
            self._provenance = {
                "backend": "gpu",
                "space": self.space.name,
                "datasets": files,
                "device": device_name(self.device),
                "torch": torch.__version__,
                "cuda": torch.version.cuda,
                "seed": self.seed_,
                "smoke": self.smoke,
                "settings": dataclasses.asdict(self.settings),
                "resolved": {
                    "amp": nets.amp_,
                    "channels_last": nets.channels_last_,
                    "deterministic": nets.deterministic_,
                    "batches_per_pass": {t: self.batches_per_pass(t) for t in self.tasks},
                },
            }
        return dict(self._provenance)

    def state_dict(self) -> dict[str, Any]:
        """Everything that changes while training (:meth:`Supernets.state_dict`)."""
        return self.supernets.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; refuses a state of another configuration."""
        self.supernets.load_state_dict(state)

    def __repr__(self) -> str:
        return (
            f"<GpuBenchmark {self.name!r} on {self.device}: tasks {', '.join(self.tasks)}"
            f"{' (smoke)' if self.smoke else ''}>"
        )
