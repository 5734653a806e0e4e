"""Opening the live backend: its ``open`` and ``outline`` functions (they import torch)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchsim.backends.gpu._outline import GpuOutline, resolve_config
from benchsim.backends.gpu.benchmark import GPU_SPACES, GpuBenchmark
from benchsim.errors import UnknownNameError


def _check_space(name: str) -> None:
    if name not in GPU_SPACES:
        raise UnknownNameError(
            "benchmark", name, GPU_SPACES, "for the gpu backend (it trains cell spaces)"
        )


def open_gpu(
    name: str,
    *,
    seed: int | None = 0,
    install: bool = True,
    mirror: str | Path | None = None,
    datasets: Sequence[str] | None = None,
    device: str | None = None,
    smoke: bool = False,
    root: str | Path | None = None,
    **options: Any,
) -> GpuBenchmark:
    """Open the live benchmark over space ``name`` (see :class:`GpuBenchmark`).

    ``install`` lets a missing synthetic dataset be generated (real datasets are the user's to
    prepare with ``benchsim data prepare``); ``mirror`` is not used by this backend.
    """
    _check_space(name)
    return GpuBenchmark(
        name,
        datasets,
        device=device,
        seed=seed,
        smoke=smoke,
        root=root,
        generate=install,
        **options,
    )


def outline_gpu(
    name: str,
    *,
    seed: int | None = 0,
    install: bool = True,
    mirror: str | Path | None = None,
    datasets: Sequence[str] | None = None,
    device: str | None = None,
    smoke: bool = False,
    root: str | Path | None = None,
    **options: Any,
) -> GpuOutline:
    """What :func:`open_gpu` would open, checked the same way but with nothing built or loaded."""
    _check_space(name)
    config = resolve_config(
        name, datasets, device=device, smoke=smoke, root=root, generate=install, options=options
    )
    return GpuOutline(name, config)
