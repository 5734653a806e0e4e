"""Backends answer queries: ``"table"`` (recorded benchmark tables) and ``"gpu"`` (live).

:func:`benchmark` is the entry point (re-exported as :func:`benchsim.benchmark`).  Backends
register themselves with :func:`register_backend`; the built-in ones live in modules imported
on first use, so ``import benchsim`` stays cheap and a backend whose optional dependencies are
missing (torch for ``"gpu"``) fails only when it is asked for.

:func:`outline` answers "which space and tasks would this benchmark have?" without opening it:
a sweep's parent process needs the task names, and opening the live backend there would load
every dataset onto the GPU and build supernets only to throw them away.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

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
    "live_options",
    "outline",
    "register_backend",
    "register_outline",
]

BACKENDS: dict[str, Callable[..., Benchmark]] = {}
"""Backend name -> factory ``f(name, *, seed, install, mirror, **kwargs) -> Benchmark``."""

_BUILTIN_MODULES = {"table": "benchsim.backends.table", "gpu": "benchsim.backends.gpu"}
"""Modules that register the built-in backends when imported."""

F = TypeVar("F", bound=Callable[..., Benchmark])


class Outline(Protocol):
    """What :func:`outline` returns: the part of :class:`Benchmark` that names things.

    A :class:`Benchmark` is itself an outline; a backend whose opening is expensive registers
    a cheaper one with :func:`register_outline`.
    """

    name: str

    @property
    def space(self) -> Any: ...

    @property
    def tasks(self) -> tuple[str, ...]: ...

    @property
    def is_tabular(self) -> bool: ...

    @property
    def gpus_per_run(self) -> int: ...

    def device_slots(self) -> list[str] | None: ...

    def resolve_task(self, task: str) -> str: ...


OUTLINES: dict[str, Callable[..., Outline]] = {}
"""Backend name -> ``f(name, **kwargs) -> Outline`` for backends that are expensive to open."""


def register_backend(name: str) -> Callable[[F], F]:
    """Decorator registering a backend factory under ``name``; a duplicate name is refused."""

    def decorate(factory: F) -> F:
        if name in BACKENDS and BACKENDS[name] is not factory:
            raise ConfigError(f"backend {name!r} is already registered; choose another name")
        BACKENDS[name] = factory
        return factory

    return decorate


def register_outline(name: str) -> Callable[[Callable[..., Outline]], Callable[..., Outline]]:
    """Decorator registering backend ``name``'s cheap :func:`outline` function."""

    def decorate(function: Callable[..., Outline]) -> Callable[..., Outline]:
        OUTLINES[name] = function
        return function

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


def live_options(
    backend: str, tasks: tuple[str, ...] | list[str] | None, options: dict[str, Any]
) -> dict[str, Any]:
    """``options`` for opening ``backend`` for a run over ``tasks``.

    A live backend trains on datasets, so a run's tasks name them (``datasets``) unless the
    options already do; a table backend carries its tasks and takes the options as they are.
    """
    options = dict(options)
    if backend != "table" and tasks and "datasets" not in options:
        options["datasets"] = tuple(tasks)
    return options


def outline(
    name: str = "nb201",
    *,
    backend: str = "table",
    **kwargs: Any,
) -> Outline:
    """Space, task names and kind of benchmark ``name`` on ``backend``, opened only if cheap.

    Takes :func:`benchmark`'s arguments and validates them the same way (an unknown dataset,
    option or device fails here, in one line).  For the gpu backend nothing is loaded and no
    network is built; a missing synthetic dataset is generated once here, so that parallel
    workers do not race to write it.  Other backends are simply opened.
    """
    _factory(backend)  # imports a built-in backend (registering its outline); checks the name
    function = OUTLINES.get(backend)
    if function is None:
        return benchmark(name, backend=backend, **kwargs)
    try:
        return function(name, **kwargs)
    except TypeError as exc:
        if "unexpected keyword argument" not in str(exc):
            raise
        raise ConfigError(f"backend {backend!r} does not accept option(s) {exc}") from None
