"""Make ``import nats_bench`` / ``import nas_201_api`` load benchsim's drop-ins.

The hook is the module cache: :func:`install_hooks` puts :mod:`benchsim.compat.nats` into
``sys.modules`` under the name ``nats_bench`` (and :mod:`benchsim.compat.nb201` under
``nas_201_api``), which Python consults before any installed package, so a script's own
``from nats_bench import create`` gets the drop-in even where the official package is
installed.  The submodules the official tests and scripts import are hooked the same way
(:data:`HOOKED_MODULES`: ``nats_bench.api_topology``, ``.api_utils``, ``.genotype_utils``,
``nas_201_api.api_utils``, ``.api_201``); an official submodule already imported is hidden
while the hooks are in place, and any other submodule fails with Python's own "is not a
package" error.  :func:`uninstall_hooks` puts back whatever was there before.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

HOOKED_MODULES: dict[str, str] = {
    "nats_bench": "benchsim.compat.nats",
    "nas_201_api": "benchsim.compat.nb201",
}
"""Official package name -> the benchsim module that stands in for it."""
HOOKED_SUBMODULES: dict[str, str] = {
    "nats_bench.api_topology": "benchsim.compat.nats",
    "nats_bench.api_utils": "benchsim.compat.records",
    "nats_bench.genotype_utils": "benchsim.compat.genotypes",
    "nas_201_api.api_utils": "benchsim.compat.records",
    "nas_201_api.api_201": "benchsim.compat.nb201",
}
"""Official submodule name -> the benchsim module that stands in for it (each is also an
attribute of its drop-in package, as after ``import nats_bench.api_topology``)."""

_saved: dict[str, ModuleType | None] = {}


def install_hooks() -> list[str]:
    """Make the official module names import benchsim's drop-ins; returns the names hooked.

    Idempotent.  Example: ``install_hooks(); from nats_bench import create``.
    """
    for name, target in HOOKED_MODULES.items():
        module = importlib.import_module(target)
        current = sys.modules.get(name)
        if current is module:
            continue
        _saved.setdefault(name, current)
        sys.modules[name] = module
        for sub in [m for m in sys.modules if m.startswith(name + ".")]:
            _saved.setdefault(sub, sys.modules.pop(sub))  # the official submodules too
    for name, target in HOOKED_SUBMODULES.items():
        module = importlib.import_module(target)
        if sys.modules.get(name) is not module:
            _saved.setdefault(name, sys.modules.get(name))
            sys.modules[name] = module
    return list(HOOKED_MODULES)


def uninstall_hooks() -> None:
    """Restore the modules :func:`install_hooks` replaced (or remove the names)."""
    for name, previous in list(_saved.items()):
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
        del _saved[name]


@contextmanager
def hooks_installed() -> Iterator[list[str]]:
    """:func:`install_hooks` for the duration of a ``with`` block."""
    try:
        yield install_hooks()
    finally:
        uninstall_hooks()
