"""Search spaces: NAS-Bench-201 cells, TransNAS-Bench-101 micro cells and macro networks.

Use :func:`get_space` to obtain one by name; spaces are stateless and cached.  A space class
registers itself with ``@register_space(name)`` in a public module of this package (found on
the first lookup, no list to keep).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from benchsim._registry import Registry
from benchsim.spaces._base import ArchLike, SearchSpace

SPACES: Registry[type[SearchSpace]] = Registry("search space", discover="benchsim.spaces")
"""Name -> :class:`SearchSpace` class."""

SPACE_NAMES = ("nb201", "tnb101-micro", "tnb101-macro")
"""The built-in spaces (a test checks that these are exactly the registered ones)."""


def register_space(name: str) -> Callable[[type[SearchSpace]], type[SearchSpace]]:
    """Class decorator: make a :class:`SearchSpace` available as ``name``; duplicates refused."""
    return SPACES.register(name)


@cache
def get_space(name: str) -> SearchSpace:
    """The search space registered as ``name``; an unknown name lists the known ones."""
    return SPACES.get(name)()


__all__ = ["SPACES", "SPACE_NAMES", "ArchLike", "SearchSpace", "get_space", "register_space"]
