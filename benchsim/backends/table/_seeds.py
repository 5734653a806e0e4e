"""``seeds.parquet`` as dense arrays, read on the first query that names a seed.

The long table (one row per task x architecture x training seed) becomes, per metric, a float64
array ``[n_tasks * size, max_seeds]`` whose row is the same ``task * size + arch`` as in
``final.arrow``; unrecorded slots are NaN, ``counts[row]`` says how many slots are real and
``seed_ids[row, k]`` which training seed slot ``k`` holds.  That keeps a single lookup and a
vectorised ``seed="sample"`` draw (``k = floor(u * counts[rows])``) free of Python loops.

Building the arrays takes tens of milliseconds, more than a whole random-search run, so
:func:`read_seed_table` keeps them per process: every benchmark opened on the same unchanged
file (a sweep worker's runs, one after the other) shares one read-only copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchsim.backends.table._read import open_parquet, read_rows
from benchsim.errors import CorruptDataError

_KEYS = ("benchmark", "task", "arch_index", "seed")


class SeedTable:
    """Per-seed values of one benchmark.

    Attributes
    ----------
    counts
        int64 ``[n_tasks * size]``: recorded seeds per (task, architecture) row.
    seed_ids
        int64 ``[n_tasks * size, max_seeds]``: the training seed in each slot (-1 past
        ``counts``), ascending within a row.
    values
        metric -> float64 ``[n_tasks * size, max_seeds]``, NaN where nothing is recorded.
    metrics_by_task
        task -> metrics with at least one per-seed value on that task.
    seeds_by_task
        task -> sorted training seeds recorded anywhere on that task.
    """

    def __init__(
        self,
        path: Path,
        tasks: tuple[str, ...],
        size: int,
        fix: str,
        verify: Callable[[Path], None] | None = None,
    ) -> None:
        pf = open_parquet(path, fix, verify)
        metrics = [c for c in pf.schema_arrow.names if c not in _KEYS]
        wanted = {"arch_index": np.int64, "seed": np.int64, **dict.fromkeys(metrics, np.float64)}
        table = read_rows(pf, path, wanted, tasks, fix)
        codes, arch, seed = table["task"], table["arch_index"], table["seed"]
        if arch.size and (arch.min() < 0 or arch.max() >= size):
            raise CorruptDataError(f"{path} has arch_index outside 0..{size - 1}; {fix}")
        n_rows = len(tasks) * size
        rows = codes * size + arch
        order = None if _ascending(rows, seed) else np.lexsort((seed, rows))
        if order is not None:
            rows, seed = rows[order], seed[order]
        if rows.size > 1 and ((rows[1:] == rows[:-1]) & (seed[1:] == seed[:-1])).any():
            raise CorruptDataError(f"{path} records a (task, arch_index, seed) twice; {fix}")
        self.counts = np.bincount(rows, minlength=n_rows).astype(np.int64)
        width = max(int(self.counts.max(initial=0)), 1)
        slot = np.arange(rows.size) - (np.cumsum(self.counts) - self.counts)[rows]
        cells = rows * width + slot  # positions in the flattened [n_rows, width] arrays
        self.seed_ids = _dense(cells, seed, n_rows, width, -1)
        self.values: dict[str, np.ndarray] = {}
        for metric in metrics:
            column = table[metric] if order is None else table[metric][order]
            self.values[metric] = _dense(cells, column, n_rows, width, np.nan)
        sorted_codes = rows // size
        self.metrics_by_task: dict[str, tuple[str, ...]] = {}
        self.seeds_by_task: dict[str, tuple[int, ...]] = {}
        for code, task in enumerate(tasks):
            block = slice(code * size, (code + 1) * size)
            self.metrics_by_task[task] = tuple(
                m for m in metrics if not np.isnan(self.values[m][block]).all()
            )
            self.seeds_by_task[task] = tuple(_distinct(seed[sorted_codes == code]).tolist())
        for array in (self.counts, self.seed_ids, *self.values.values()):
            array.setflags(write=False)  # shared by every benchmark open on this file

    def recorded(self, row: int) -> list[int]:
        """Training seeds recorded for one (task, architecture) row."""
        return self.seed_ids[row, : self.counts[row]].tolist()

    def slots_of(self, rows: np.ndarray, seed: int) -> np.ndarray:
        """Slot of training seed ``seed`` in each row, -1 where that row lacks it."""
        match = self.seed_ids[rows] == seed
        return np.where(match.any(axis=-1), match.argmax(axis=-1), -1)


def _ascending(rows: np.ndarray, seed: np.ndarray) -> bool:
    """Whether the rows already come ordered by (row, seed), as benchsim writes
    ``seeds.parquet``: the sort is then skipped (a tenth of the read)."""
    if rows.size < 2:
        return True
    step = rows[1:] - rows[:-1]
    return bool(((step > 0) | ((step == 0) & (seed[1:] > seed[:-1]))).all())


def _dense(
    cells: np.ndarray, values: np.ndarray, n_rows: int, width: int, empty: float
) -> np.ndarray:
    """``values`` placed at flat positions ``cells`` of a ``[n_rows, width]`` array of
    ``empty``, in the dtype of ``values``."""
    dense = np.full(n_rows * width, empty, dtype=values.dtype)
    dense[cells] = values
    return dense.reshape(n_rows, width)


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, which in numpy 2.4 first imports ``numpy.ma`` (13 ms, a sixth
    of a sweep worker's first run, to check for a masked array)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered


_READ: dict[str, tuple[tuple, SeedTable]] = {}
"""Per file path: the identity of the file and the arrays read from it (one entry a path)."""


def read_seed_table(
    path: Path,
    tasks: tuple[str, ...],
    size: int,
    fix: str,
    verify: Callable[[Path], None] | None = None,
) -> SeedTable:
    """The :class:`SeedTable` of ``path``, read once per process while the file is unchanged.

    ``verify`` runs on every call (a verified, unchanged file costs one ``stat``); the file's
    size, times and inode, which any write changes, decide whether the arrays are read again.
    """
    if verify is not None and path.exists():
        verify(path)
    try:
        stat = os.stat(path)
    except OSError:
        return SeedTable(path, tasks, size, fix, verify)  # its one-line error names the file
    key = str(Path(path).resolve())
    identity = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, tasks, size)
    held = _READ.get(key)
    if held is not None and held[0] == identity:
        return held[1]
    table = SeedTable(path, tasks, size, fix)
    _READ[key] = (identity, table)
    return table
