"""The live backend: a weight-sharing NB201 supernet answering the benchmark contract.

:class:`GpuBenchmark` trains instead of looking up.  Tasks are image datasets (see
:mod:`benchsim.datasets`), one supernet per task (or one shared, ``share_weights_across_tasks``,
or one formed by the first joint pass over some tasks) over the cell space of ``space`` (NB201's
five ops or TransNAS-Bench-101 micro's four):

* :meth:`train_pass` (EMT-NAS Algorithm 3): one pass over the task's training split; every
  mini-batch trains the path of one architecture drawn from the given ones with the given
  probabilities, with the caller's ``numpy.random.Generator``.  Cost: real seconds.
* :meth:`joint_train_pass` (EMT-NAS's JT-S / JT-D, appendix D): one pass over the union of
  several tasks' training splits through one supernet with a head per task; the tasks'
  mini-batches come in one random order, each training an architecture of its own task.  The
  first joint pass over tasks with untrained supernets of their own replaces those by one
  shared supernet (initialised from ``seed`` and the tasks).  Cost: real seconds.
* :meth:`sampled_eval` (Algorithm 4): each architecture's accuracy (%) on one random
  validation mini-batch of its own.  Cost: real seconds per architecture.
* :meth:`task_distance` (LD-NAS): the log-determinant distance from source tasks to a target,
  from epsilon-approximation networks trained on the datasets (:mod:`._fisher`; networks and
  Fisher diagonals computed once per run and task).  Cost: real seconds of the new work.
* :meth:`query`: ``valid_acc`` / ``test_acc`` / ``train_acc`` of an architecture through the
  supernet on the whole split, ``train_time_s`` = real seconds of training on the task so far;
  ``Result.epoch`` is the 0-based number of the last completed pass (-1 before any).  With
  ``schedule=E``: the architecture trained alone for E epochs instead (what a search's
  ``Evaluate`` gets by default, see ``evaluate`` in :class:`~._settings.GpuSettings`).

Randomness: architecture choices and evaluation batches come from the Generator the caller
passes; data order and augmentation from the backend's own ``torch.Generator`` (on the device),
initial weights from a CPU generator, all derived from ``seed``.  Two CPU runs with the same
seed and calls give identical numbers; :meth:`state_dict` / :meth:`load_state_dict` capture all
of it (weights, optimizer, schedule position, generator states) for an exact resume.

Example
-------
>>> import benchsim
>>> bench = benchsim.benchmark(  # doctest: +SKIP
...     "nb201", backend="gpu", device="cpu", smoke=True, seed=0,
...     datasets=("synthetic-shapes", "synthetic-shapes-b"))
>>> bench.train_pass("synthetic-shapes", [0, 1, 2], rng=np.random.default_rng(0))  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
    joint_group,
)
from benchsim.backends.gpu._data import DeviceData
from benchsim.backends.gpu._evaluate import EvaluationMixin
from benchsim.backends.gpu._ops import compile_ops, init_parameters
from benchsim.backends.gpu._outline import (
    GPU_SPACES,
    SMOKE_DATASETS,
    live_traits,
    resolve_config,
)
from benchsim.backends.gpu._ranking import RankingMixin, StandaloneResult
from benchsim.backends.gpu._settings import Stopwatch, synchronize
from benchsim.backends.gpu._state import StateMixin
from benchsim.backends.gpu._supernet import SuperNet
from benchsim.backends.gpu._train import make_optimizer, train_batches, train_steps
from benchsim.datasets import read_dataset, resolve_dataset
from benchsim.errors import ConfigError, FidelityError

__all__ = ["GPU_SPACES", "SMOKE_DATASETS", "GpuBenchmark"]

METRICS = ("train_acc", "valid_acc", "test_acc", "train_time_s")
_SPLIT_OF = {"train_acc": "train", "valid_acc": "valid", "test_acc": "test"}


class GpuBenchmark(EvaluationMixin, RankingMixin, StateMixin, Benchmark):
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
        cuda = self.device.type == "cuda"
        s = self.settings
        self.amp_ = cuda if s.amp is None else bool(s.amp)
        self.channels_last_ = bool(s.channels_last)
        self.deterministic_ = (not cuda) if s.deterministic is None else bool(s.deterministic)
        if self.deterministic_:
            torch.use_deterministic_algorithms(True, warn_only=True)
        if cuda:
            torch.backends.cudnn.benchmark = not self.deterministic_
        self._build()

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        s = self.settings
        self.data_: dict[str, DeviceData] = {}
        for name, path in self._paths.items():
            self.data_[name] = DeviceData(read_dataset(path), self.device, self.channels_last_)
        self._tasks = {name: self._task_info(name) for name in self.data_}
        init_seed, data_seed, np_seed = np.random.SeedSequence(self.seed_).generate_state(3)
        groups = [tuple(self.data_)] if s.share_weights_across_tasks else [(t,) for t in self.data_]
        if s.share_weights_across_tasks:
            self._check_channels(groups[0], "share_weights_across_tasks")
        init = torch.Generator().manual_seed(int(init_seed))
        self.groups_: list[tuple[str, ...]] = []
        self.nets_: list[SuperNet] = []
        self.optimizers_: list[torch.optim.SGD] = []
        self.total_steps_: list[int] = []
        self.steps_: list[int] = []
        for tasks in groups:
            self._add_net(tasks, init)
        self.passes_ = dict.fromkeys(self.data_, 0)
        self.train_seconds_ = dict.fromkeys(self.data_, 0.0)
        self.generator_ = torch.Generator(device=self.device).manual_seed(int(data_seed))
        self.rng_ = np.random.default_rng(int(np_seed))
        self.standalone_: dict[tuple[int, str, int], tuple[StandaloneResult, float]] = {}
        self.fisher_: Any = None  # task distances (a FisherDistances), built on first use

    def _add_net(self, tasks: tuple[str, ...], init: torch.Generator) -> None:
        """A new supernet shared by ``tasks`` (one head each), its optimizer and schedule."""
        s = self.settings
        net = SuperNet(
            self.space.ops,
            in_channels=self.data_[tasks[0]].in_channels,
            channels=s.channels,
            cells_per_stage=s.cells_per_stage,
            head_classes=[self.data_[t].num_classes for t in tasks],
            affine=s.affine,
        )
        init_parameters(net, init)
        net.to(self.device)
        if self.channels_last_:
            net.to(memory_format=torch.channels_last)
        if s.compile:
            compile_ops(net, s.compile_backend)
        self.groups_.append(tuple(tasks))
        self.nets_.append(net)
        self.optimizers_.append(make_optimizer(net, s))
        self.total_steps_.append(s.epochs * sum(self.batches_per_pass(t) for t in tasks))
        self.steps_.append(0)
        self._index_nets()

    def _index_nets(self) -> None:
        self.net_of_: dict[str, tuple[int, int]] = {
            t: (number, head)
            for number, tasks in enumerate(self.groups_)
            for head, t in enumerate(tasks)
        }

    def _check_channels(self, tasks: Sequence[str], why: str) -> None:
        channels = {t: self.data_[t].in_channels for t in tasks}
        if len(set(channels.values())) > 1:
            raise ConfigError(f"{why} needs datasets with equal channel counts; got {channels}")

    def _form_group(self, tasks: tuple[str, ...]) -> None:
        """Replace the (untrained) supernets of ``tasks`` by one they share, initialised from
        the seed and the tasks (so a resumed run forms the same one)."""
        self._check_channels(tasks, "a joint training pass")
        drop = {self.net_of_[t][0] for t in tasks}
        keep = [n for n in range(len(self.nets_)) if n not in drop]
        for name in ("groups_", "nets_", "optimizers_", "total_steps_", "steps_"):
            setattr(self, name, [getattr(self, name)[n] for n in keep])
        codes = [self.tasks.index(t) for t in tasks]
        seed = np.random.SeedSequence([self.seed_, 1, *codes]).generate_state(1)[0]
        self._add_net(tasks, torch.Generator().manual_seed(int(seed)))

    def _task_info(self, name: str) -> TaskInfo:
        spec = resolve_dataset(name)
        data = self.data_[name]
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
        """Not tabular; a CUDA device per run, over the visible GPUs (:func:`live_traits`)."""
        return live_traits(self._config)

    def batches_per_pass(self, task: str) -> int:
        """Full mini-batches in one pass over ``task``'s training split (the remainder of the
        shuffled split is dropped), capped by ``max_batches_per_pass``."""
        size = self.data_[self.resolve_task(task)].size("train")
        count = max(size // self.settings.batch_size, 1)
        cap = self.settings.max_batches_per_pass
        return count if cap is None else min(count, cap)

    def genes(self, index: int) -> tuple[int, ...]:
        """The op position of each edge (string edge order) of architecture ``index``."""
        return tuple(self.space.to_decisions(int(index)))

    # ------------------------------------------------------------------ weight-sharing steps
    def _train_pass(
        self,
        task: str,
        indices: np.ndarray,
        *,
        rng: np.random.Generator,
        weights: np.ndarray | None,
        planned_passes: int | None,
    ) -> float:
        # ``planned_passes`` is not used: the cosine schedule spans the ``epochs`` setting.
        number, head = self.net_of_[task]
        net, data, s = self.nets_[number], self.data_[task], self.settings
        n_batches = self.batches_per_pass(task)
        picks = rng.choice(indices.size, size=n_batches, p=weights)
        path = [self.genes(indices[k]) for k in picks]
        start, total = self.steps_[number], self.total_steps_[number]
        lrs = [s.lr_at(start + b, total) for b in range(n_batches)]
        began = time.perf_counter()
        order = data.order("train", self.generator_)
        loss, correct, seen = train_steps(
            net,
            lambda b, x: net(x, path[b], head),
            data,
            order,
            batch_size=min(s.batch_size, data.size("train")),
            lrs=lrs,
            optimizer=self.optimizers_[number],
            generator=self.generator_,
            amp=self.amp_,
        )
        loss_value, correct_value = torch.stack([loss, correct.to(loss.dtype)]).tolist()
        synchronize(self.device)
        seconds = time.perf_counter() - began
        self.steps_[number] = start + n_batches
        self.passes_[task] += 1
        self.train_seconds_[task] += seconds
        self.last_pass_ = {
            "task": task,
            "loss": loss_value / n_batches,
            "train_acc": 100.0 * correct_value / max(seen, 1),
        }
        return seconds

    def _joint_train_pass(
        self,
        tasks: tuple[str, ...],
        indices: list[np.ndarray],
        *,
        rng: np.random.Generator,
        weights: list[np.ndarray | None],
        planned_passes: int | None,
    ) -> float:
        """One pass over every task's training batches in one mixed order, one supernet.

        The order of the tasks' batches is a random permutation (``rng``) of ``batches_per_pass``
        batches of each task; each task's images come in its own shuffled order, and its batches
        train architectures drawn (``rng``) from its ``indices`` through its head.  The schedule
        position and the optimizer are the shared supernet's; the seconds are shared out over the
        tasks by their batch counts (``train_time_s``)."""
        # ``planned_passes`` is not used: the cosine schedule spans the ``epochs`` setting.
        group = joint_group(
            tasks,
            lambda t: self.groups_[self.net_of_[t][0]],
            lambda t: self.steps_[self.net_of_[t][0]] > 0,
        )
        if group is None:
            self._form_group(tasks)
        number = self.net_of_[tasks[0]][0]
        net, s = self.nets_[number], self.settings
        counts = [self.batches_per_pass(t) for t in tasks]
        mixed = rng.permutation(np.repeat(np.arange(len(tasks)), counts))
        paths = [
            [self.genes(index[k]) for k in rng.choice(index.size, size=n, p=w)]
            for index, n, w in zip(indices, counts, weights, strict=True)
        ]
        start, total = self.steps_[number], self.total_steps_[number]
        lrs = [s.lr_at(start + b, total) for b in range(mixed.size)]
        began = time.perf_counter()
        datas = [self.data_[t] for t in tasks]
        heads = [self.net_of_[t][1] for t in tasks]
        orders = [data.order("train", self.generator_) for data in datas]
        sizes = [min(s.batch_size, data.size("train")) for data in datas]
        position = np.zeros(len(tasks), dtype=np.int64)
        plan = []  # per step: (task position k, its batch number j)
        for k in mixed.tolist():
            plan.append((k, int(position[k])))
            position[k] += 1

        def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
            k, j = plan[step]
            index = orders[k][j * sizes[k] : (j + 1) * sizes[k]]
            return datas[k].augmented(index, self.generator_)

        def forward(step: int, x: torch.Tensor) -> torch.Tensor:
            k, j = plan[step]
            return net(x, paths[k][j], heads[k])

        loss, correct, seen = train_batches(
            net, forward, batch, lrs=lrs, optimizer=self.optimizers_[number],
            device=self.device, amp=self.amp_,
        )  # fmt: skip
        loss_value, correct_value = torch.stack([loss, correct.to(loss.dtype)]).tolist()
        synchronize(self.device)
        seconds = time.perf_counter() - began
        self.steps_[number] = start + mixed.size
        for task, n in zip(tasks, counts, strict=True):
            self.passes_[task] += 1
            self.train_seconds_[task] += seconds * n / mixed.size
        self.last_pass_ = {
            "task": "+".join(tasks),
            "tasks": tasks,
            "order": [tasks[k] for k in mixed.tolist()],
            "batches": dict(zip(tasks, counts, strict=True)),
            "loss": loss_value / mixed.size,
            "train_acc": 100.0 * correct_value / max(seen, 1),
        }
        return seconds

    def _sampled_eval(
        self, task: str, indices: np.ndarray, *, rng: np.random.Generator, batch_size: int | None
    ) -> BatchResult:
        """Algorithm 4: each architecture on its own random validation batch, or on the whole
        validation split when ``batch_size`` is None (Algorithm 1, line 12)."""
        if indices.size == 0:
            return BatchResult(values=np.zeros(0), cost=np.zeros(0), source="live:supernet")
        number, head = self.net_of_[task]
        net, data = self.nets_[number], self.data_[task]
        valid = data.splits["valid"]
        # Every random draw first, then one host-to-device copy each (a copy per architecture
        # would wait for the device every time).
        eval_index = None
        if batch_size is not None:
            size = min(batch_size, valid.numel())
            picks = np.stack([rng.choice(valid.numel(), size=size, replace=False) for _ in indices])
            eval_index = valid[torch.from_numpy(picks).to(self.device)]
        recal = None
        if self._recal:
            positions = np.stack([self._recal_positions(task, rng) for _ in indices])
            recal = data.splits["train"][torch.from_numpy(positions).to(self.device)]
        correct, seen = [], []
        watch = Stopwatch(self.device)
        with self._bn_context(net) as reset:
            for k, index in enumerate(indices):
                genes = self.genes(index)
                extra = None if recal is None else recal[k]
                if eval_index is None:
                    hits, count = self._split_correct(net, genes, head, data, "valid", reset, extra)
                else:
                    hits = self._correct(net, genes, head, data, eval_index[k], reset, extra)
                    count = int(eval_index.shape[1])
                correct.append(hits)
                seen.append(count)
                watch.mark()
        counts = torch.stack(correct).double().cpu().numpy()
        values = 100.0 * counts / np.maximum(np.asarray(seen, dtype=np.float64), 1.0)
        return BatchResult(
            values=values, cost=np.asarray(watch.intervals()), source="live:supernet"
        )

    # ------------------------------------------------------------------ task distances
    def _task_distance(
        self,
        target: str,
        sources: tuple[str, ...],
        *,
        repeats: int,
        rng: np.random.Generator | None,
    ) -> BatchResult:
        """Mean over ``repeats`` of d[source -> target] (:mod:`._fisher`), seeded by the
        backend's seed, not ``rng``: a pair's distance does not depend on which search asks
        first.  Networks and Fisher diagonals are kept for the run (not in checkpoints: a
        resumed run computes them again, to the same values on the CPU)."""
        from benchsim.backends.gpu._fisher import FisherDistances, FisherSettings

        if self.fisher_ is None:
            s = self.settings
            settings = FisherSettings(
                epochs=s.distance_epochs,
                fisher_samples=s.distance_samples,
                max_batches=s.max_batches_per_pass,
            )
            self.fisher_ = FisherDistances(self.data_, settings, self.seed_, self.device)
        before = self.fisher_.seconds
        mean, _ = self.fisher_.distances_to(target, sources, repeats)
        seconds = self.fisher_.seconds - before
        cost = np.full(len(sources), seconds / len(sources))
        return BatchResult(values=mean, cost=cost, source="live:fisher")

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
        began = time.perf_counter()
        values: dict[str, float] = {}
        for metric in metrics:
            if metric == "train_time_s":
                values[metric] = self.train_seconds_[task]
            else:
                values[metric] = self.split_accuracy(index, task, _SPLIT_OF[metric])
        synchronize(self.device)
        return Result(
            arch=int(index),
            task=task,
            metrics=values,
            cost=time.perf_counter() - began,
            seed=None,
            epoch=self.passes_[task] - 1,
            schedule=self.settings.epochs,
        )

    def _standalone_answer(
        self, index: int, task: str, metrics: tuple[str, ...], epochs: int
    ) -> Result:
        """Metrics of ``index`` trained alone for ``epochs`` (cached); cost: its real seconds."""
        key = (int(index), task, int(epochs))
        if key not in self.standalone_:
            began = time.perf_counter()
            trained = self.standalone_train(int(index), task, int(epochs))
            self.standalone_[key] = (trained, time.perf_counter() - began)
        trained, seconds = self.standalone_[key]
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
        return {"supernets": [list(tasks) for tasks in self.groups_]}

    def __repr__(self) -> str:
        return (
            f"<GpuBenchmark {self.name!r} on {self.device}: tasks {', '.join(self.tasks)}"
            f"{' (smoke)' if self.smoke else ''}>"
        )
