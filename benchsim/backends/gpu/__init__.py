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
>>> bench.weight_sharing.train_pass(  # doctest: +SKIP
...     "synthetic-shapes", [0, 7, 42], rng=np.random.default_rng(0))
0.41
"""

from __future__ import annotations

import importlib
from typing import Any

from benchsim.backends import register_backend, register_outline
from benchsim.backends.gpu._traits import LIVE_TRAITS

__all__ = [
    "GPU_SPACES",
    "FisherDistances",
    "FisherSettings",
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
    "task_distance",
]

_LAZY = {
    "GPU_SPACES": "benchmark",
    "FisherDistances": "_fisher",
    "FisherSettings": "_fisher",
    "GpuBenchmark": "benchmark",
    "GpuOutline": "_outline",
    "GpuSettings": "_settings",
    "RankCorrelation": "_ranking",
    "StandaloneNet": "_standalone",
    "StandaloneResult": "_standalone",
    "SuperNet": "_supernet",
    "load_from_supernet": "_standalone",
    "ranking_sample": "_ranking",
    "resolve_device": "_settings",
    "task_distance": "_fisher",
}
"""Public name -> the module defining it, imported on first use (they need torch): registering
the backend costs nothing, so listing backends or reading a gpu sweep's report needs no torch."""


@register_backend(
    "gpu", traits=LIVE_TRAITS, flags=("device", "smoke"), option_example="bn_eval=recalibrate"
)
def open_gpu(name: str, **options: Any):
    """Open the live benchmark over space ``name`` (:func:`._open.open_gpu`)."""
    from benchsim.backends.gpu._open import open_gpu as open_live

    return open_live(name, **options)


@register_outline("gpu")
def outline_gpu(name: str, **options: Any):
    """What :func:`open_gpu` would open, nothing built or loaded (:func:`._open.outline_gpu`)."""
    from benchsim.backends.gpu._open import outline_gpu as outline_live

    return outline_live(name, **options)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"benchsim.backends.gpu.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
