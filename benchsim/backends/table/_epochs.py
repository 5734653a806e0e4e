"""``epochs.parquet`` as dense learning curves, read per task on its first per-epoch query.

One :class:`Curves` per (task, schedule): the architectures the table covers there, the seeds
(``-1`` = the mean over seeds, as the schema stores it) and, per metric with any value, a
float64 array ``[n_archs, n_seeds, schedule]`` (NaN where nothing is recorded).  A schedule is a
separate run (NB201's 12-epoch schedule is not the first 12 epochs of the 200-epoch one), so
schedules never mix.  :meth:`EpochTable.describe` says what a task has, for error messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchsim.backends.table._read import open_parquet, read_rows
from benchsim.errors import CorruptDataError

_KEYS = ("benchmark", "task", "arch_index", "schedule", "seed", "epoch")
MEAN_SEED = -1


@dataclass(frozen=True)
class Curves:
    """Learning curves of one task under one schedule (see the module docstring)."""

    schedule: int
    archs: np.ndarray
    slot: np.ndarray
    seeds: tuple[int, ...]
    present: np.ndarray
    last_epoch: int
    values: dict[str, np.ndarray]

    def coverage(self, size: int) -> str:
        """Which architectures are covered, in words ('' when all of them are)."""
        n = len(self.archs)
        if n == size:
            return ""
        if n and self.archs[0] == 0 and self.archs[-1] == n - 1:
            return f"archs 0-{n - 1} only"
        return f"{n} of {size} archs"

    def describe(self, size: int) -> str:
        """E.g. ``"200 (epochs 0-199, archs 0-199 only; train_acc, valid_acc)"``."""
        parts = [f"epochs 0-{self.last_epoch}"]
        if cover := self.coverage(size):
            parts.append(cover)
        seeds = [s for s in self.seeds if s != MEAN_SEED]
        if seeds:
            mean = "mean and " if MEAN_SEED in self.seeds else ""
            parts.append(f"{mean}seeds {', '.join(map(str, seeds))}")
        return f"{self.schedule} ({', '.join(parts)}; {', '.join(self.values)})"


class EpochTable:
    """Lazy reader of one benchmark's ``epochs.parquet``; curves are cached per task."""

    def __init__(
        self,
        path: Path,
        tasks: tuple[str, ...],
        size: int,
        fix: str,
        verify: Callable[[Path], None] | None = None,
    ) -> None:
        self.path, self.tasks, self.size, self.fix = path, tasks, size, fix
        self.verify = verify
        self._file = None
        self._tasks: dict[str, dict[int, Curves]] = {}

    def curves(self, task: str) -> dict[int, Curves]:
        """Schedule length -> :class:`Curves` for ``task`` (empty if it has none)."""
        found = self._tasks.get(task)
        if found is None:
            found = self._tasks[task] = self._load(task)
        return found

    def describe(self, task: str) -> str:
        """One phrase listing the task's schedules, for error messages."""
        curves = self.curves(task)
        if not curves:
            return f"task {task} records no per-epoch values (final values only: epoch=None)"
        listed = [c.describe(self.size) for c in curves.values()]
        joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + f" and {listed[-1]}"
        word = "schedule" if len(listed) == 1 else "schedules"
        return f"task {task} records {word} {joined}"

    def _load(self, task: str) -> dict[int, Curves]:
        path, fix = self.path, self.fix
        if self._file is None:
            self._file = open_parquet(path, fix, self.verify)
        metrics = [c for c in self._file.schema_arrow.names if c not in _KEYS]
        wanted = dict.fromkeys(("arch_index", "schedule", "seed", "epoch"), np.int64)
        table = read_rows(
            self._file,
            path,
            {**wanted, **dict.fromkeys(metrics, np.float64)},
            self.tasks,
            fix,
            task=task,
        )
        arch, schedule, seed, epoch = (table[k] for k in wanted)
        bad = (arch < 0) | (arch >= self.size) | (epoch < 0) | (epoch >= schedule)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise CorruptDataError(
                f"{path} row (task {task}, arch_index {arch[r]}, schedule {schedule[r]}, "
                f"epoch {epoch[r]}) is out of range; {fix}"
            )
        columns = {m: table[m] for m in metrics}
        out: dict[int, Curves] = {}
        for length in np.unique(schedule).tolist():
            rows = np.flatnonzero(schedule == length)
            archs, a = np.unique(arch[rows], return_inverse=True)
            seeds, s = np.unique(seed[rows], return_inverse=True)
            e = epoch[rows]
            shape = (len(archs), len(seeds), length)
            flat = np.ravel_multi_index((a, s, e), shape)
            if np.unique(flat).size != flat.size:
                raise CorruptDataError(f"{path} records an epoch of task {task} twice; {fix}")
            values = {}
            for metric, column in columns.items():
                picked = column[rows]
                if np.isnan(picked).all():
                    continue
                dense = np.full(shape, np.nan)
                dense.flat[flat] = picked
                values[metric] = dense
            present = np.zeros(shape[:2], dtype=bool)
            present[a, s] = True
            slot = np.full(self.size, -1, dtype=np.int64)
            slot[archs] = np.arange(len(archs))
            out[int(length)] = Curves(
                schedule=int(length),
                archs=archs,
                slot=slot,
                seeds=tuple(int(x) for x in seeds),
                present=present,
                last_epoch=int(e.max()),
                values=values,
            )
        return out
