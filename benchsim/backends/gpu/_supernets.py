"""The live backend's training state: datasets on the device and the supernets that share
weights across architectures, with their optimizers, schedules and generators.

:class:`Supernets` is what a :class:`~benchsim.backends.gpu.GpuBenchmark` trains and
evaluates: one supernet per task (or one shared by every task,
``share_weights_across_tasks``, or one formed by the first joint pass over some tasks) over the
cell space, each with a head per task it serves.  The benchmark's lookups
(:mod:`.benchmark`), its weight-sharing steps (:mod:`._weight_sharing`), its evaluations
(:mod:`._evaluate`), its stand-alone trainings (:mod:`._ranking`) and its checkpoints
(:mod:`._state`) all work on this one object, which imports none of them.

Every computation runs inside :meth:`Supernets.scope`: torch's process-wide determinism (and
cuDNN autotuning on CUDA) as the settings ask, restored afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import torch

from benchsim.backends.gpu._data import DeviceData
from benchsim.backends.gpu._ops import compile_ops, init_parameters
from benchsim.backends.gpu._outline import LiveConfig
from benchsim.backends.gpu._settings import torch_settings
from benchsim.backends.gpu._standalone import StandaloneResult
from benchsim.backends.gpu._state import STATE_FORMAT, to_cpu
from benchsim.backends.gpu._supernet import SuperNet
from benchsim.backends.gpu._train import make_optimizer
from benchsim.datasets import read_dataset
from benchsim.errors import ConfigError


class Supernets:
    """Datasets, supernets, optimizers, schedules and generators of one live benchmark.

    Parameters
    ----------
    config
        The validated configuration (:func:`~._outline.resolve_config`).
    seed
        Seed of the weights, data order, augmentation and the numpy generator.

    Attributes
    ----------
    data_
        Task name -> :class:`~._data.DeviceData` (the dataset on the device).
    groups_, nets_, optimizers_, total_steps_, steps_
        Per supernet: the tasks it serves (one head each), the network, its optimizer, the
        steps its schedule spans and the steps taken.
    net_of_
        Task -> (supernet number, head).
    passes_, train_seconds_
        Per task: training passes and real seconds of training so far.
    generator_, rng_
        The torch data generator (on the device) and the numpy generator (recalibration
        batches).
    standalone_
        Stand-alone trainings answered so far: (arch, task, epochs) -> (result, seconds).
    last_pass_
        What the last training pass did (task(s), loss, training accuracy).
    """

    def __init__(self, config: LiveConfig, seed: int) -> None:
        self.settings = config.settings
        self.device = config.device
        self.space = config.space
        self.seed_ = seed
        cuda = self.device.type == "cuda"
        s = self.settings
        self.amp_ = cuda if s.amp is None else bool(s.amp)
        self.channels_last_ = bool(s.channels_last)
        self.deterministic_ = (not cuda) if s.deterministic is None else bool(s.deterministic)
        self._cudnn_benchmark = (not self.deterministic_) if cuda else None
        self._paths = config.paths
        with self.scope():
            self._build()

    def scope(self) -> AbstractContextManager[None]:
        """torch's process-wide settings as this benchmark computes with them, restored on exit
        (:func:`~._settings.torch_settings`)."""
        return torch_settings(self.deterministic_, self._cudnn_benchmark)

    # ------------------------------------------------------------------ construction
    def _build(self) -> None:
        s = self.settings
        self.data_: dict[str, DeviceData] = {}
        for name, path in self._paths.items():
            self.data_[name] = DeviceData(read_dataset(path), self.device, self.channels_last_)
        self.tasks: tuple[str, ...] = tuple(self.data_)
        init_seed, data_seed, np_seed = np.random.SeedSequence(self.seed_).generate_state(3)
        groups = [tuple(self.data_)] if s.share_weights_across_tasks else [(t,) for t in self.data_]
        if s.share_weights_across_tasks:
            self.check_channels(groups[0], "share_weights_across_tasks")
        init = torch.Generator().manual_seed(int(init_seed))
        self.groups_: list[tuple[str, ...]] = []
        self.nets_: list[SuperNet] = []
        self.optimizers_: list[torch.optim.SGD] = []
        self.total_steps_: list[int] = []
        self.steps_: list[int] = []
        for tasks in groups:
            self.add_net(tasks, init)
        self.passes_ = dict.fromkeys(self.data_, 0)
        self.train_seconds_ = dict.fromkeys(self.data_, 0.0)
        self.generator_ = torch.Generator(device=self.device).manual_seed(int(data_seed))
        self.rng_ = np.random.default_rng(int(np_seed))
        self.standalone_: dict[tuple[int, str, int], tuple[StandaloneResult, float]] = {}
        self.last_pass_: dict[str, Any] = {}

    def add_net(self, tasks: tuple[str, ...], init: torch.Generator) -> None:
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
        self.index_nets()

    def index_nets(self) -> None:
        self.net_of_: dict[str, tuple[int, int]] = {
            t: (number, head)
            for number, tasks in enumerate(self.groups_)
            for head, t in enumerate(tasks)
        }

    def check_channels(self, tasks: Sequence[str], why: str) -> None:
        channels = {t: self.data_[t].in_channels for t in tasks}
        if len(set(channels.values())) > 1:
            raise ConfigError(f"{why} needs datasets with equal channel counts; got {channels}")

    def form_group(self, tasks: tuple[str, ...]) -> None:
        """Replace the (untrained) supernets of ``tasks`` by one they share, initialised from
        the seed and the tasks (so a resumed run forms the same one)."""
        self.check_channels(tasks, "a joint training pass")
        drop = {self.net_of_[t][0] for t in tasks}
        keep = [n for n in range(len(self.nets_)) if n not in drop]
        for name in ("groups_", "nets_", "optimizers_", "total_steps_", "steps_"):
            setattr(self, name, [getattr(self, name)[n] for n in keep])
        codes = [self.tasks.index(t) for t in tasks]
        seed = np.random.SeedSequence([self.seed_, 1, *codes]).generate_state(1)[0]
        self.add_net(tasks, torch.Generator().manual_seed(int(seed)))

    def batches_per_pass(self, task: str) -> int:
        """Full mini-batches in one pass over ``task``'s training split (the remainder of the
        shuffled split is dropped), capped by ``max_batches_per_pass``."""
        size = self.data_[task].size("train")
        count = max(size // self.settings.batch_size, 1)
        cap = self.settings.max_batches_per_pass
        return count if cap is None else min(count, cap)

    def genes(self, index: int) -> tuple[int, ...]:
        """The op position of each edge (string edge order) of architecture ``index``."""
        return tuple(self.space.to_decisions(int(index)))

    def signature(self) -> dict[str, object]:
        return {
            "space": self.space.name,
            "tasks": list(self.tasks),
            "device_type": self.device.type,
            "settings": dataclasses.asdict(self.settings),
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything that changes while training, as CPU copies (picklable, detached)."""
        return {
            "format": STATE_FORMAT,
            "signature": self.signature(),
            "groups": [list(tasks) for tasks in self.groups_],
            "nets": [to_cpu(net.state_dict()) for net in self.nets_],
            "optimizers": [to_cpu(opt.state_dict()) for opt in self.optimizers_],
            "steps": list(self.steps_),
            "passes": dict(self.passes_),
            "train_seconds": dict(self.train_seconds_),
            "generator": self.generator_.get_state().clone(),
            "rng": self.rng_.bit_generator.state,
            "standalone": dict(self.standalone_),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; refuses a state of another configuration."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ConfigError(f"not a gpu backend state (expected format {STATE_FORMAT!r})")
        if state["signature"] != self.signature():
            raise ConfigError(
                "gpu backend state was saved with another space, tasks, device type or settings "
                f"({state['signature']}); this benchmark has {self.signature()}"
            )
        groups = [tuple(tasks) for tasks in state.get("groups", self.groups_)]
        for tasks in groups:  # supernets formed by joint passes: form them the same way
            if len(tasks) > 1 and tasks not in self.groups_:
                self.form_group(tasks)
        if sorted(groups) != sorted(self.groups_):
            raise ConfigError(
                f"gpu backend state has the supernets {groups}; this benchmark has "
                f"{self.groups_} and cannot form them"
            )
        order = [self.groups_.index(tasks) for tasks in groups]
        for name in ("groups_", "nets_", "optimizers_", "total_steps_"):
            setattr(self, name, [getattr(self, name)[n] for n in order])
        self.index_nets()
        for net, saved in zip(self.nets_, state["nets"], strict=True):
            net.load_state_dict(saved)
        for opt, saved in zip(self.optimizers_, state["optimizers"], strict=True):
            opt.load_state_dict(saved)
        self.steps_ = list(state["steps"])
        self.passes_ = dict(state["passes"])
        self.train_seconds_ = dict(state["train_seconds"])
        self.generator_.set_state(state["generator"])
        self.rng_.bit_generator.state = state["rng"]
        self.standalone_ = dict(state.get("standalone", {}))
