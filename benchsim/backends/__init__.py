"""Backends answer queries: ``"table"`` (recorded benchmark tables) and ``"gpu"`` (live).

:func:`benchmark` is the entry point (re-exported as :func:`benchsim.benchmark`).  Backends
register themselves with :func:`register_backend`; the built-in ones live in modules imported
on first use, so ``import benchsim`` stays cheap and a backend whose optional dependencies are
missing (torch for ``"gpu"``) fails only when it is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from benchsim.backends.base import BatchResult, Benchmark, Result, SeedLike, TaskInfo
from benchsim.errors import BackendError, ConfigError, UnknownNameError

__all__ = [
    "BACKENDS",
    "BatchResult",
    "Benchmark",
    "Result",
    "SeedLike",
    "TaskInfo",
    "available_backends",
    "benchmark",
    "register_backend",
]

BACKENDS: dict[str, Callable[..., Benchmark]] = {}
"""Backend name -> factory ``f(name, *, seed, install, mirror, **kwargs) -> Benchmark``."""

_BUILTIN_MODULES = {"table": "benchsim.backends.table", "gpu": "benchsim.backends.gpu"}
"""Modules that register the built-in backends when imported."""

F = TypeVar("F", bound=Callable[..., Benchmark])


def register_backend(name: str) -> Callable[[F], F]:
    """Decorator registering a backend factory under ``name``; a duplicate name is refused."""

    def decorate(factory: F) -> F:
        if name in BACKENDS and BACKENDS[name] is not factory:
            raise ConfigError(f"backend {name!r} is already registered; choose another name")
        BACKENDS[name] = factory
        return factory

    return decorate


def available_backends() -> list[str]:
    """Names :func:`benchmark` accepts as ``backend``."""
    return sorted({*_BUILTIN_MODULES, *BACKENDS})


def _factory(backend: str) -> Callable[..., Benchmark]:
    if backend not in BACKENDS and isinstance(backend, str) and backend in _BUILTIN_MODULES:
        try:
            importlib.import_module(_BUILTIN_MODULES[backend])
        except ImportError as exc:
            raise BackendError(
                f"backend {backend!r} cannot be loaded ({exc}); the gpu backend needs the "
                "extra: pip install 'benchsim[gpu]'"
            ) from None
    if backend not in BACKENDS:
        raise UnknownNameError("backend", backend, available_backends())
    return BACKENDS[backend]


def benchmark(
    name: str = "nb201",
    *,
    backend: str = "table",
    seed: int | None = 0,
    install: bool = True,
    mirror: str | Path | None = None,
    **kwargs: Any,
) -> Benchmark:
    """Open benchmark ``name`` on ``backend``.

    Parameters
    ----------
    name
        ``"nb201"``, ``"tnb101-micro"``, ``"tnb101-macro"``, or an imported table's name.
    backend
        ``"table"`` (recorded values, simulated cost) or ``"gpu"`` (live training).
    seed
        Seed of the benchmark's generator (``seed="sample"`` queries draw from it).
    install
        Install missing built-in tables from the pinned sources (table backend).
    mirror
        Offline mirror of the sources (default ``$BENCHSIM_DATA_MIRROR``, else download).
    **kwargs
        Passed to the backend's factory (table: ``root``, ``progress``).

    Examples
    --------
    >>> import benchsim
    >>> bench = benchsim.benchmark("nb201")  # doctest: +SKIP
    >>> bench.query(0, "cifar10", "test_acc").value  # doctest: +SKIP
    85.86333333333334
    """
    factory = _factory(backend)
    try:
        return factory(name, seed=seed, install=install, mirror=mirror, **kwargs)
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise ConfigError(f"backend {backend!r} does not accept option(s) {exc}") from None
