"""Assemble an importer's values into the three tables of ``data/README.md``.

Every importer produces the same shapes as the data installer, so the table backend cannot tell
an imported benchmark from an installed one:

* ``final``: a complete grid, ``len(tasks) x space.size`` rows ordered by task (catalog order)
  then ``arch_index``, one float64 column per catalog metric; NaN wherever the file has no
  value (an architecture it does not contain, a metric it does not record).
* ``seeds``: one row per recorded (task, architecture, training seed), the
  :data:`~benchsim.catalog.SEED_METRICS` columns.
* ``epochs``: one row per recorded (task, architecture, schedule, seed, epoch); seed ``-1`` is
  the mean over the recorded seeds.  Rows whose values are all NaN are not recorded rows and are
  dropped.

:class:`TableBuilder` keeps the grid in one preallocated array and the epoch curves as blocks,
so an import of all 15,625 NB201 architectures costs a few numpy concatenations, not millions
of DataFrame appends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from benchsim.catalog import CATALOG
from benchsim.spaces import SearchSpace
from benchsim.store import final_frame, metric_columns, seed_metric_columns

MEAN_SEED = -1
"""``seed`` value of the rows holding the mean over the recorded seeds."""


class TableBuilder:
    """Collects values for one benchmark folder and builds its table dict.

    Call :meth:`set_final`, :meth:`add_seed` and :meth:`add_epochs` in any order, then
    :meth:`build` once.

    Parameters
    ----------
    benchmark
        Value of the ``benchmark`` column (the target folder name).
    space
        The search space; its ``name`` selects the catalog and its ``format`` gives ``arch_str``.
    epoch_columns
        Metric columns of the ``epochs`` table, in order: catalog metrics only (the store's
        schema refuses any other column).
    """

    def __init__(self, benchmark: str, space: SearchSpace, epoch_columns: Sequence[str]) -> None:
        self.benchmark = benchmark
        self.space = space
        self.tasks = tuple(CATALOG[space.name])
        self.columns = metric_columns(space.name)
        self.seed_columns = seed_metric_columns(space.name)
        self.epoch_columns = tuple(epoch_columns)
        self._col = {name: j for j, name in enumerate(self.columns)}
        self._task = {name: t for t, name in enumerate(self.tasks)}
        self._final = np.full((len(self.tasks), space.size, len(self.columns)), np.nan)
        self._seeds: list[tuple[int, int, int, tuple[float, ...]]] = []
        self._blocks: list[tuple[int, int, int, np.ndarray, np.ndarray]] = []

    def epoch_slot(self, column: str) -> int:
        """Position of ``column`` in the last axis of :meth:`add_epochs` values."""
        return self.epoch_columns.index(column)

    def set_final(self, task: str, index: int, values: Mapping[str, float]) -> None:
        """Final (end of the standard schedule, seed-mean) values of one architecture."""
        row = self._final[self._task[task], index]
        allowed = CATALOG[self.space.name][task].metrics
        for name, value in values.items():
            if name not in allowed:  # a converter bug, not user input
                raise KeyError(f"metric {name!r} is not in the catalog of task {task}")
            row[self._col[name]] = value

    def add_seed(self, task: str, index: int, seed: int, values: Mapping[str, float]) -> None:
        """Per-seed final values; a seed whose values are all NaN is not recorded and skipped."""
        row = tuple(float(values.get(name, np.nan)) for name in self.seed_columns)
        if not all(np.isnan(row)):
            self._seeds.append((self._task[task], index, seed, row))

    def add_epochs(
        self, task: str, index: int, schedule: int, seeds: Sequence[int], values: np.ndarray
    ) -> None:
        """Curves of one architecture and schedule: ``values[s, epoch, column]`` for seed ``s``.

        ``values`` has shape ``(len(seeds), schedule, len(epoch_columns))``; include the mean
        as seed :data:`MEAN_SEED` where the importer records it.
        """
        values = np.asarray(values, dtype=np.float64)
        expected = (len(seeds), schedule, len(self.epoch_columns))
        if values.shape != expected:  # a converter bug, not user input
            raise ValueError(f"epoch block has shape {values.shape}, expected {expected}")
        order = np.argsort(np.asarray(seeds), kind="stable")
        seeds_arr = np.asarray(seeds, dtype=np.int16)[order]
        self._blocks.append((self._task[task], index, schedule, seeds_arr, values[order]))

    # ------------------------------------------------------------------ building
    def build(self) -> dict[str, pd.DataFrame]:
        """The ``{"final", "seeds", "epochs"}`` DataFrames (``benchmark`` and ``task`` are
        categorical columns, one byte a row; the store writes them as strings)."""
        return {
            "final": self._build_final(),
            "seeds": self._build_seeds(),
            "epochs": self._build_epochs(),
        }

    def _build_final(self) -> pd.DataFrame:
        """The grid through the store's :func:`final_frame`, so its layout is the installer's."""
        values = {
            task: {
                m: self._final[t, :, self._col[m]] for m in CATALOG[self.space.name][task].metrics
            }
            for t, task in enumerate(self.tasks)
        }
        arch_str = [self.space.format(i) for i in range(self.space.size)]
        frame = final_frame(self.space.name, arch_str, values)
        codes = np.repeat(np.arange(len(self.tasks)), self.space.size)
        frame["task"] = pd.Categorical.from_codes(codes, self.tasks)
        frame.insert(0, "benchmark", _constant(self.benchmark, len(frame)))
        return frame

    def _build_seeds(self) -> pd.DataFrame:
        rows = sorted(self._seeds, key=lambda r: (r[0], r[1], r[2]))
        values = np.asarray([r[3] for r in rows], dtype=np.float64)
        columns = {
            "benchmark": _constant(self.benchmark, len(rows)),
            "task": pd.Categorical.from_codes([r[0] for r in rows], self.tasks),
            "arch_index": np.asarray([r[1] for r in rows], dtype=np.int32),
            "seed": np.asarray([r[2] for r in rows], dtype=np.int16),
        }
        values = values.reshape(len(rows), len(self.seed_columns))
        columns.update({name: values[:, j] for j, name in enumerate(self.seed_columns)})
        return pd.DataFrame(columns)

    def _build_epochs(self) -> pd.DataFrame:
        """Blocks in key order, written column by column into one array (one copy of the data)."""
        blocks: list = sorted(self._blocks, key=lambda b: (b[0], b[1], b[2]))
        self._blocks = []  # the sorted list holds the only references from here on
        sizes = [b[4].shape[0] * b[4].shape[1] for b in blocks]
        total, n_cols = sum(sizes), len(self.epoch_columns)
        values = np.empty((n_cols, total))
        keys = np.empty((5, total), dtype=np.int32)  # task, arch, schedule, seed, epoch
        start = 0
        for i, size in enumerate(sizes):
            task, arch, schedule, seeds, block = blocks[i]
            blocks[i] = None  # free each block once copied: peak memory stays near one copy
            stop = start + size
            values[:, start:stop] = block.reshape(size, n_cols).T
            keys[:3, start:stop] = np.array([[task], [arch], [schedule]])
            keys[3, start:stop] = np.repeat(seeds, schedule)
            keys[4, start:stop] = np.tile(np.arange(schedule), len(seeds))
            start = stop
        keep = ~np.isnan(values).all(axis=0)
        if not keep.all():  # rows with no value at all are not recorded rows
            values, keys = values[:, keep], keys[:, keep]
        columns = {
            "benchmark": _constant(self.benchmark, keys.shape[1]),
            "task": pd.Categorical.from_codes(keys[0], self.tasks),
            "arch_index": keys[1],
            "schedule": keys[2].astype(np.int16),
            "seed": keys[3].astype(np.int16),
            "epoch": keys[4].astype(np.int16),
        }
        columns.update({name: values[j] for j, name in enumerate(self.epoch_columns)})
        return pd.DataFrame(columns, copy=False)


def _constant(value: str, n: int) -> pd.Categorical:
    """A column of ``n`` copies of ``value`` (categorical: one byte a row, not a string)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [value])
