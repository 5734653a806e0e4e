"""Search spaces: NAS-Bench-201 cells, TransNAS-Bench-101 micro cells and macro networks.

Use :func:`get_space` to obtain one by name; spaces are stateless and cached.
"""

from __future__ import annotations

from functools import cache

from benchsim.errors import UnknownNameError
from benchsim.spaces._base import ArchLike, SearchSpace

SPACE_NAMES = ("nb201", "tnb101-micro", "tnb101-macro")


@cache
def get_space(name: str) -> SearchSpace:
    """The search space registered as ``name`` (one of :data:`SPACE_NAMES`)."""
    if name == "nb201":
        from benchsim.spaces.nb201 import NB201Space

        return NB201Space()
    if name == "tnb101-micro":
        from benchsim.spaces.tnb101_micro import TNB101MicroSpace

        return TNB101MicroSpace()
    if name == "tnb101-macro":
        from benchsim.spaces.tnb101_macro import TNB101MacroSpace

        return TNB101MacroSpace()
    raise UnknownNameError("search space", name, SPACE_NAMES)


__all__ = ["SPACE_NAMES", "ArchLike", "SearchSpace", "get_space"]
