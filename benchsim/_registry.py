"""One registry for everything chosen by name: algorithms, spaces, table builders, backends.

A :class:`Registry` maps names to objects filled by a decorator (timm's ``_registry.py``
idea), refuses a second object under a taken name the same way everywhere, and answers an
unknown name with the list of known ones.  Built-in entries are registered by importing the
modules that define them; ``discover`` names the package whose modules are imported (found
with :mod:`pkgutil`, so a new module registers itself by existing, no hand-kept list), on the
first lookup, so ``import benchsim`` stays cheap.

Examples
--------
>>> shapes = Registry("shape")
>>> @shapes.register("square")
... def square(side: float) -> float:
...     return side * side
>>> shapes.get("square")(3.0)
9.0
>>> shapes.names()
('square',)
>>> shapes.get("circle")
Traceback (most recent call last):
...
benchsim.errors.UnknownNameError: unknown shape 'circle'; allowed: square
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from benchsim.errors import ConfigError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object of one ``kind`` ("algorithm", "search space", ...).

    Parameters
    ----------
    kind
        What the names name, for messages.
    discover
        A package (dotted name) whose public modules are imported on the first lookup, so
        that their ``register`` decorators run; modules whose name starts with ``_`` are not
        entries and are skipped.  ``None``: entries are registered explicitly.
    prefix
        Import only the modules of ``discover`` whose name starts with it (private ones too:
        ``"_convert_"`` finds the table builders).
    packages_only
        Import only the subpackages of ``discover`` (backends are packages).
    """

    def __init__(
        self,
        kind: str,
        discover: str | None = None,
        *,
        prefix: str = "",
        packages_only: bool = False,
    ):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._discover = discover
        self._prefix = prefix
        self._packages_only = packages_only
        self._discovered = discover is None

    # ------------------------------------------------------------------ filling
    def register(self, name: str) -> Callable[[T], T]:
        """Decorator putting its argument under ``name``; a taken name is refused."""

        def decorate(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorate

    def add(self, name: str, obj: T) -> None:
        """Put ``obj`` under ``name``; the same object again (a re-import) is accepted."""
        held = self._entries.get(name)
        if held is not None and not _same(held, obj):
            raise ConfigError(
                f"{self.kind} {name!r} is already registered ({_origin(held)}); choose another name"
            )
        self._entries[name] = obj

    def remove(self, name: str) -> None:
        """Take ``name`` out (a test's or a plugin's temporary entry); absent names are fine."""
        self._entries.pop(name, None)

    # ------------------------------------------------------------------ reading
    def get(self, name: str) -> T:
        """The entry ``name``; an unknown name lists the known ones."""
        if not isinstance(name, str) or name not in self._entries:
            self._load()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.kind, name, self.names()) from None

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted (built-in ones discovered first)."""
        self._load()
        return tuple(sorted(self._entries))

    def module_names(self) -> tuple[str, ...]:
        """Names of the modules ``discover`` would import, without importing them."""
        if self._discover is None:
            return ()
        return module_names(self._discover, prefix=self._prefix, packages_only=self._packages_only)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _load(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for module in self.module_names():
            importlib.import_module(f"{self._discover}.{module}")


def module_names(package: str, *, prefix: str = "", packages_only: bool = False) -> tuple[str, ...]:
    """Modules of ``package`` (public ones, or those starting with ``prefix``), found on disk
    without importing ``package`` itself (the command line lists backends this way)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return ()
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules(spec.submodule_search_locations)
            if (info.name.startswith(prefix) if prefix else info.name[0] != "_")
            and (info.ispkg or not packages_only)
        )
    )


def _same(held: object, new: object) -> bool:
    """The same entry: the object itself, an equal one, or a class/function of the same
    ``module.qualname`` (a module imported a second time defines new but equal objects)."""
    if held is new or held == new:
        return True
    return hasattr(held, "__qualname__") and _origin(held) == _origin(new)


def _origin(obj: object) -> str:
    """``module.qualname`` of a class or function, else of the object's type."""
    target = obj if hasattr(obj, "__qualname__") else type(obj)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', '?')}"
