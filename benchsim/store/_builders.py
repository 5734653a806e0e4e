"""Table builders by benchmark name: ``BUILDERS.get("nb201")(files) -> frames``.

A builder turns the verified source files of one benchmark (manifest id -> local path) into the
``final``, ``seeds`` and ``epochs`` frames that :func:`~benchsim.store.write_tables` writes.
Each ``_convert_*`` module registers its own with :func:`register_builder`; they are imported
on the first lookup (they need pandas), so nothing here is loaded before an install.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchsim._registry import Registry

if TYPE_CHECKING:
    import pandas as pd

    Builder = Callable[[Mapping[str, Path]], dict[str, pd.DataFrame]]
else:  # pandas is imported by the builders themselves, at install time only
    Builder = Callable[[Mapping[str, Path]], dict[str, Any]]

BUILDERS: Registry[Builder] = Registry("table builder", "benchsim.store", prefix="_convert_")
"""Benchmark name -> :data:`Builder`."""


def register_builder(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering the builder of benchmark ``name``; duplicates refused."""
    return BUILDERS.register(name)
