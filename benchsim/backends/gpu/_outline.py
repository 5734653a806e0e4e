"""The live backend's configuration, checked and resolved without building anything.

:func:`resolve_config` is the one place that validates what :class:`~.GpuBenchmark` is opened
with (space, datasets, device, settings) and finds the dataset files.  :class:`GpuOutline` uses
it to name a benchmark's space and tasks cheaply (see :func:`benchsim.backends.outline`): a
sweep's parent process needs those names, and a real open would copy every dataset onto the
device and build the supernets.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from benchsim.backends.base import Traits
from benchsim.backends.gpu._settings import GpuSettings, resolve_device
from benchsim.backends.gpu._traits import LIVE_TRAITS
from benchsim.datasets import DatasetSpec, ensure_dataset, resolve_dataset
from benchsim.errors import ConfigError, UnknownNameError, UnknownTaskError
from benchsim.spaces import SearchSpace, get_space

GPU_SPACES = ("nb201", "tnb101-micro")
DEFAULT_DATASETS = ("cifar10", "cifar100")
SMOKE_DATASETS = ("synthetic-shapes", "synthetic-shapes-b")


@dataclass(frozen=True)
class LiveConfig:
    """A validated live-backend configuration: what to build, where, from which files."""

    space: SearchSpace
    specs: tuple[DatasetSpec, ...]
    settings: GpuSettings
    device: torch.device
    paths: dict[str, Path]
    requested_device: str | None = None


def resolve_config(
    space: str,
    datasets: Sequence[str] | str | None,
    *,
    device: str | torch.device | None,
    smoke: bool,
    root: str | Path | None,
    generate: bool,
    options: dict[str, Any],
) -> LiveConfig:
    """Check every argument (one-line errors) and locate the dataset files.

    A missing synthetic dataset is generated when ``generate``; a missing real one raises with
    the ``benchsim data prepare`` command that makes it.
    """
    if space not in GPU_SPACES:
        raise UnknownNameError("gpu backend space", space, GPU_SPACES)
    if isinstance(datasets, str):
        datasets = (datasets,)
    names = tuple(datasets) if datasets else (SMOKE_DATASETS if smoke else DEFAULT_DATASETS)
    specs = tuple(resolve_dataset(n) for n in names)
    if len({s.name for s in specs}) != len(specs):
        raise ConfigError(f"datasets == {names!r} names a dataset twice")
    settings = GpuSettings.from_options(smoke=smoke, **options)
    resolved = resolve_device(device)
    paths = {s.name: ensure_dataset(s.name, root, generate=generate) for s in specs}
    requested = None if device is None else str(device)
    return LiveConfig(get_space(space), specs, settings, resolved, paths, requested)


def live_traits(config: LiveConfig) -> Traits:
    """The live backend's :data:`LIVE_TRAITS` with its devices: one GPU per run on CUDA,
    :func:`device_slots`."""
    slots = device_slots(config)
    return replace(
        LIVE_TRAITS,
        gpus_per_run=int(config.device.type == "cuda"),
        device_slots=None if slots is None else tuple(slots),
    )


def device_slots(config: LiveConfig) -> list[str] | None:
    """The CUDA devices a local pool of runs may spread over, one per worker in turn.

    Only when the device was left to choose (unset, or plain ``cuda``): the visible GPUs, as
    ``CUDA_VISIBLE_DEVICES`` names them.  ``None`` when runs use the CPU or a device the user
    named (``cuda:1``: every run there).
    """
    if config.device.type != "cuda" or config.requested_device not in (None, "cuda"):
        return None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible:
        return [d.strip() for d in visible.split(",") if d.strip()]
    return [str(i) for i in range(torch.cuda.device_count())]


class GpuOutline:
    """Space and tasks of a live benchmark, without its data or networks."""

    def __init__(self, name: str, config: LiveConfig) -> None:
        self.name = name
        self.space = config.space
        self.config = config

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.config.specs)

    @property
    def traits(self) -> Traits:
        """See :func:`live_traits`."""
        return live_traits(self.config)

    def resolve_task(self, task: str) -> str:
        """Canonical name of ``task`` among the datasets (names and aliases, any case)."""
        if isinstance(task, str):
            folded = task.lower()
            for spec in self.config.specs:
                if folded == spec.name.lower() or folded in (a.lower() for a in spec.aliases):
                    return spec.name
        raise UnknownTaskError(task, self.tasks, f"in benchmark {self.name} (gpu)")

    def __repr__(self) -> str:
        return f"<GpuOutline {self.name!r}: tasks {', '.join(self.tasks)}>"
