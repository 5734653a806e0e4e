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

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from typing import Protocol as Interface

from benchsim._registry import Registry
from benchsim.backends.base import (
    BatchResult,
    Benchmark,
    Protocol,
    Result,
    SeedLike,
    TaskInfo,
    Traits,
)
from benchsim.errors import BackendError, UnknownNameError

__all__ = [
    "BACKENDS",
    "BackendInfo",
    "BatchResult",
    "Benchmark",
    "Outline",
    "Protocol",
    "Result",
    "SeedLike",
    "TaskInfo",
    "Traits",
    "available_backends",
    "backend_info",
    "benchmark",
    "live_options",
    "outline",
    "register_backend",
    "register_outline",
]

F = TypeVar("F", bound=Callable[..., Benchmark])
NO_TRAITS = Traits()
"""Every facet off: a backend that declares none."""


class Outline(Interface):
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
    def traits(self) -> Traits: ...

    def resolve_task(self, task: str) -> str: ...


@dataclass(frozen=True)
class BackendInfo:
    """What the command line, runner, sweeps and reports know of a backend by its name.

    Declared once, by the backend's :func:`register_backend`; nothing outside the backend's
    package compares backend names.

    Attributes
    ----------
    name
        The registered name (``--backend``).
    open
        ``open(name, *, seed, install, mirror, **options) -> Benchmark``.
    traits
        The backend's :class:`Traits` (what its benchmarks' ``traits`` are, devices aside):
        read by a report or a sweep's parent without opening anything.
    flags
        Options the command line offers as flags of their own (``--device``, ``--smoke``).
    option_example
        An example ``--backend-option`` value, for messages.
    """

    name: str
    open: Callable[..., Benchmark]
    traits: Traits = NO_TRAITS
    flags: tuple[str, ...] = ()
    option_example: str = ""


BACKENDS: Registry[BackendInfo] = Registry(
    "backend", discover="benchsim.backends", packages_only=True
)
"""Backend name -> :class:`BackendInfo`; each subpackage of :mod:`benchsim.backends` registers
its own on the first lookup (a backend is a package; its heavy dependencies load only when it
is opened)."""

OUTLINES: Registry[Callable[..., Outline]] = Registry("backend outline")
"""Backend name -> ``f(name, **kwargs) -> Outline`` for backends that are expensive to open."""


def register_backend(
    name: str,
    *,
    traits: Traits = NO_TRAITS,
    flags: tuple[str, ...] = (),
    option_example: str = "",
) -> Callable[[F], F]:
    """Decorator registering a backend's ``open`` function and what it is (:class:`BackendInfo`);
    a taken name is refused."""

    def decorate(factory: F) -> F:
        BACKENDS.add(name, BackendInfo(name, factory, traits, tuple(flags), option_example))
        return factory

    return decorate


def register_outline(name: str) -> Callable[[Callable[..., Outline]], Callable[..., Outline]]:
    """Decorator registering backend ``name``'s cheap :func:`outline` function."""
    return OUTLINES.register(name)


def available_backends() -> list[str]:
    """Names :func:`benchmark` accepts as ``backend`` (the built-in ones without importing
    them: ``benchsim --help`` lists them)."""
    return sorted({*BACKENDS.module_names(), *BACKENDS.names()})


def backend_info(backend: str) -> BackendInfo:
    """:class:`BackendInfo` of ``backend``; an unknown name lists the known ones."""
    return BACKENDS.get(backend)


def _call(backend: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` with the two ways a backend's opening fails made one line:
    an option it does not take (found by binding its signature before calling, so a
    ``TypeError`` raised inside the backend is never mistaken for one), an optional dependency
    missing."""
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError:
        parameters = inspect.signature(function).parameters
        takes = [n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY]
        unknown = sorted(set(kwargs) - set(parameters)) or ["(positional)"]
        raise UnknownNameError(
            "backend option", unknown[0], takes, f"of backend {backend!r}"
        ) from None
    try:
        return function(*args, **kwargs)
    except ImportError as exc:
        raise BackendError(
            f"backend {backend!r} cannot be loaded ({exc}); install its extra (the gpu "
            "backend: pip install 'benchsim[gpu]')"
        ) from None


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
    info = backend_info(backend)
    return _call(backend, info.open, name, seed=seed, install=install, mirror=mirror, **kwargs)


def live_options(
    backend: str, tasks: tuple[str, ...] | list[str] | None, options: dict[str, Any]
) -> dict[str, Any]:
    """``options`` for opening ``backend`` for a run over ``tasks``.

    A live backend trains on datasets, so a run's tasks name them (``datasets``) unless the
    options already do; a table backend carries its tasks and takes the options as they are.
    """
    options = dict(options)
    if backend_info(backend).traits.tasks_are_datasets and tasks and "datasets" not in options:
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
    backend_info(backend)  # imports a built-in backend (registering its outline); checks the name
    if backend not in OUTLINES:
        return benchmark(name, backend=backend, **kwargs)
    return _call(backend, OUTLINES.get(backend), name, **kwargs)
