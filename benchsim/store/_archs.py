"""Architecture keys the sources use, mapped to our dense index through the search spaces.

Sources name architectures three ways: by row position (official order), by official string,
or by NASLib ``op_indices``.  :mod:`benchsim.spaces` owns all three mappings; this module turns
them into vectorised lookups (one :class:`pandas.Index` per space, built once per process) so
a converter places 15,625 rows with one ``get_indexer`` call instead of 15,625
``from_op_indices`` calls.  The converters cross-check the spaces against the sources' own
strings and refuse to write a table when they disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd

from benchsim.errors import DataError
from benchsim.spaces import get_space


def space_size(name: str) -> int:
    """Number of architectures of a space."""
    return int(get_space(name).size)


@cache
def arch_strings(name: str) -> np.ndarray:
    """Official string of every index of a space, in index order (object array)."""
    found = get_space(name)
    return np.array([found.format(i) for i in range(found.size)], dtype=object)


@cache
def op_index_keys(name: str) -> pd.Index:
    """NASLib op_indices (digit strings) of every index of a space, in index order.

    ``op_index_keys(name).get_indexer(keys)`` is the vectorised ``space.from_op_indices``.
    """
    found = get_space(name)
    return pd.Index([found.to_op_indices(i) for i in range(found.size)])


def lookup(keys: pd.Index, wanted: Sequence[str], source: str) -> np.ndarray:
    """Index of each of ``wanted`` in ``keys``; the source must hold every key exactly once."""
    positions = keys.get_indexer(pd.Index(wanted, dtype=object))
    if (positions < 0).any():
        bad = list(pd.Index(wanted, dtype=object)[positions < 0][:3])
        raise DataError(f"{source}: architecture keys {bad} are not in the search space")
    distinct = len(np.unique(positions))
    if distinct != len(positions) or len(positions) != len(keys):
        raise DataError(
            f"{source}: holds {len(positions)} rows for {distinct} distinct architectures; "
            f"expected each of the {len(keys)} exactly once"
        )
    return positions
