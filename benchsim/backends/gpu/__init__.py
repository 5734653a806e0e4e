"""The live backend ``"gpu"``: a weight-sharing NB201 supernet trained on image datasets.

``benchsim.benchmark("nb201", backend="gpu", datasets=(...), device="cuda")`` opens a
:class:`GpuBenchmark`; the benchmark name picks the cell space (``nb201`` or
``tnb101-micro``).  This package needs torch and h5py (``pip install 'benchsim[gpu]'``); it is
imported only when the gpu backend is asked for, so the table backend works without them.

Example
-------
>>> import benchsim, numpy as np
>>> bench = benchsim.benchmark(  # doctest: +SKIP
...     "nb201", backend="gpu", device="cpu", smoke=True, seed=0,
...     datasets=("synthetic-shapes", "synthetic-shapes-b"))
>>> bench.train_pass("synthetic-shapes", [0, 7, 42], rng=np.random.default_rng(0))  # doctest: +SKIP
0.41
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchsim.backends import register_backend, register_outline
from benchsim.backends.gpu._outline import GpuOutline, resolve_config
from benchsim.backends.gpu._ranking import RankCorrelation, StandaloneResult, ranking_sample
from benchsim.backends.gpu._settings import GpuSettings, resolve_device
from benchsim.backends.gpu._standalone import StandaloneNet, load_from_supernet
from benchsim.backends.gpu._supernet import SuperNet
from benchsim.backends.gpu.benchmark import GPU_SPACES, GpuBenchmark
from benchsim.errors import UnknownNameError

__all__ = [
    "GPU_SPACES",
    "GpuBenchmark",
    "GpuOutline",
    "GpuSettings",
    "RankCorrelation",
    "StandaloneNet",
    "StandaloneResult",
    "SuperNet",
    "load_from_supernet",
    "open_gpu",
    "outline_gpu",
    "ranking_sample",
    "resolve_device",
]


def _check_space(name: str) -> None:
    if name not in GPU_SPACES:
        raise UnknownNameError(
            "benchmark", name, GPU_SPACES, "for the gpu backend (it trains cell spaces)"
        )


@register_backend("gpu")
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


@register_outline("gpu")
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
