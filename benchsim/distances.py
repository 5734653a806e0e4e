"""Task distance matrices: what ``benchsim task-distance`` writes and LD-NAS reads.

A :class:`DistanceMatrix` holds the asymmetric log-determinant distances of Le et al.
(ld-nas-fisher-task-distance.txt, Eq. 2-3) between a set of tasks, as the paper's Figure 1 shows
them: ``mean[i, j]`` (and ``std[i, j]`` over repeated initialisations of the
epsilon-approximation networks) is the distance **from** task ``tasks[i]`` (a baseline, the row)
**to** task ``tasks[j]`` (the target, the column).  The diagonal is 0 and every entry >= 0.

This module only stores, checks, reads and writes matrices (numpy and json, no torch); they are
computed by :func:`benchsim.backends.gpu.task_distance` from the tasks' data.  A file is JSON::

    {"format": "benchsim-task-distance-1",
     "tasks": ["a", "b"],
     "mean": [[0, d_ab], [d_ba, 0]],      # row = from (baseline), column = to (target)
     "std":  [[0, s_ab], [s_ba, 0]],      # optional (zeros)
     "repeats": 10,                       # optional (1)
     "per_repeat": [...],                 # optional: one matrix per repeat
     "settings": {...}, "approximation": {...}, "provenance": {...}}   # optional records

with a CSV of the same numbers next to it (``source,target,mean,std``).  A matrix written by hand
(tasks without images, such as TransNAS-Bench-101's) needs only ``tasks`` and ``mean``.

Example
-------
>>> m = DistanceMatrix.from_dict({"tasks": ["a", "b", "c"],
...                               "mean": [[0, 1, 3], [2, 0, 1], [5, 4, 0]]})
>>> m.distance("c", "a"), m.closest("a")
(5.0, 'b')
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchsim.errors import ConfigError, UnknownNameError

FORMAT = "benchsim-task-distance-1"
ORIENTATION = (
    "mean[i][j] is the distance from task i (row: the baseline) to task j (column: the target)"
)


@dataclass(frozen=True, eq=False)
class DistanceMatrix:
    """Distances between ``tasks``: ``mean[i, j]`` = d[tasks[i] -> tasks[j]] (see the module).

    Attributes
    ----------
    tasks
        Task names, in row/column order.
    mean, std
        ``(n, n)`` float arrays: the mean and the standard deviation over ``repeats``.
    repeats
        Repeated initialisations the statistics are over (the paper: 10).
    per_repeat
        ``(repeats, n, n)`` values behind ``mean``/``std`` (``None`` when not recorded).
    settings
        How the distances were computed (networks, training, Fisher samples, sigma, ...).
    approximation
        Per task, the epsilon-approximation networks' validation accuracy (mean, std).
    provenance
        Data checksums, device, package versions, seed.
    """

    tasks: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    repeats: int = 1
    per_repeat: np.ndarray | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    approximation: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ lookups
    def index(self, task: str) -> int:
        """Row/column of ``task``; an unknown name lists the matrix's tasks."""
        try:
            return self.tasks.index(task)
        except ValueError:
            raise UnknownNameError("task", task, self.tasks, "in the distance matrix") from None

    def distance(self, source: str, target: str) -> float:
        """d[source -> target]: how far ``source``'s network is from ``target``'s, on its data."""
        return float(self.mean[self.index(source), self.index(target)])

    def closest(self, target: str, candidates: Sequence[str] | None = None) -> str:
        """The candidate with the smallest d[candidate -> target] (Algorithm 1, line 16).

        ``candidates`` default to every other task; ties go to the first in their order.
        """
        names = [t for t in self.tasks if t != target] if candidates is None else list(candidates)
        names = [t for t in names if t != target]
        if not names:
            raise ConfigError(f"no candidate task other than the target {target!r} to choose from")
        values = [self.distance(t, target) for t in names]
        return names[int(np.argmin(values))]

    # ------------------------------------------------------------------ conversion
    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see the module docstring)."""
        out: dict[str, Any] = {
            "format": FORMAT,
            "orientation": ORIENTATION,
            "tasks": list(self.tasks),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "repeats": int(self.repeats),
        }
        if self.per_repeat is not None:
            out["per_repeat"] = self.per_repeat.tolist()
        for key in ("settings", "approximation", "provenance"):
            out[key] = dict(getattr(self, key))
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "distances") -> DistanceMatrix:
        """Check and build a matrix from its JSON form; ``where`` names the source in errors.

        Raises :class:`ConfigError` (one line) unless ``tasks`` are distinct names and ``mean``
        (and ``std`` if given) is a square matrix of finite numbers >= 0 with a zero diagonal.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{where} must be a JSON object with 'tasks' and 'mean' (got {type(data).__name__})"
            )
        fmt = data.get("format", FORMAT)
        if fmt != FORMAT:
            raise ConfigError(f"{where} has format {fmt!r}; expected {FORMAT!r}")
        tasks = data.get("tasks")
        if (
            not isinstance(tasks, (list, tuple))
            or not tasks
            or not all(isinstance(t, str) and t for t in tasks)
        ):
            raise ConfigError(f"{where}: 'tasks' must be a non-empty list of task names")
        if len(set(tasks)) != len(tasks):
            raise ConfigError(f"{where}: 'tasks' {list(tasks)} lists a task twice")
        n = len(tasks)
        mean = _matrix(data.get("mean"), n, where, "mean")
        for i in range(n):
            if mean[i, i] != 0.0:
                raise ConfigError(
                    f"{where}: mean[{i}][{i}] (from {tasks[i]} to itself) is {mean[i, i]:g}; "
                    "a task's distance to itself must be 0"
                )
        std = (
            np.zeros_like(mean)
            if data.get("std") is None
            else _matrix(data["std"], n, where, "std")
        )
        repeats = data.get("repeats", 1)
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise ConfigError(f"{where}: 'repeats' == {repeats!r}, must be an integer >= 1")
        per_repeat = data.get("per_repeat")
        if per_repeat is not None:
            values = np.asarray(per_repeat, dtype=np.float64)
            if values.shape != (repeats, n, n):
                raise ConfigError(
                    f"{where}: 'per_repeat' has shape {values.shape}, expected "
                    f"{(repeats, n, n)} (repeats x tasks x tasks)"
                )
            per_repeat = values
        records = {}
        for key in ("settings", "approximation", "provenance"):
            value = data.get(key) or {}
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: {key!r} must be a JSON object")
            records[key] = dict(value)
        return cls(tuple(tasks), mean, std, repeats, per_repeat, **records)

    # ------------------------------------------------------------------ files
    def write(self, path: str | Path) -> tuple[Path, Path]:
        """Write ``path`` (JSON) and the CSV next to it (same stem); return both paths."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        table = path.with_suffix(".csv")
        with table.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source", "target", "mean", "std", "repeats"])
            for i, source in enumerate(self.tasks):
                for j, target in enumerate(self.tasks):
                    writer.writerow(
                        [source, target, repr(float(self.mean[i, j])),
                         repr(float(self.std[i, j])), self.repeats]
                    )  # fmt: skip
        return path, table


def _matrix(value: Any, n: int, where: str, name: str) -> np.ndarray:
    """A validated ``(n, n)`` float array of finite numbers >= 0."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name!r} must be a {n}x{n} matrix of numbers") from None
    if array.shape != (n, n):
        raise ConfigError(
            f"{where}: {name!r} has shape {array.shape}, expected ({n}, {n}) for {n} tasks"
        )
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise ConfigError(
            f"{where}: {name}[{i}][{j}] == {float(array[i, j])!r}, must be a finite number >= 0"
        )
    return array


def read_distances(path: str | Path) -> DistanceMatrix:
    """Read a distance file (JSON, see the module docstring); one-line errors."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"distance file {str(path)!r} does not exist; make one with "
            "`benchsim task-distance --tasks A,B,... --out FILE`"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"distance file {str(path)!r} is not JSON: {first}") from None
    return DistanceMatrix.from_dict(data, where=f"distance file {str(path)!r}")


def load_distances(value: str | Path | Mapping[str, Any] | DistanceMatrix) -> DistanceMatrix:
    """A matrix from a file path, from its JSON content (a mapping), or as is."""
    if isinstance(value, DistanceMatrix):
        return value
    if isinstance(value, Mapping):
        return DistanceMatrix.from_dict(value)
    if isinstance(value, (str, Path)):
        return read_distances(value)
    raise ConfigError(
        f"distances == {value!r:.80}, must be a distance file path or its JSON content"
    )


def statistics(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over the first axis (sample std, ddof = 1; 0 for one)."""
    values = np.asarray(values, dtype=np.float64)
    mean = values.mean(axis=0)
    std = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.zeros_like(mean)
    return mean, std


def log_det_distance(
    fisher_source: np.ndarray, fisher_target: np.ndarray, sigma: float, normalize: bool = True
) -> float:
    """Eq. 2 with diagonal Fisher matrices (their entries are the eigenvalues, Eq. 3).

    ``d = | mean_i log(F_b,i + sigma^2) - mean_j log(F_t,j + sigma^2) |`` over the ``n``
    entries of the source network's diagonal Fisher on the target's data and the ``m`` of the
    target network's.  ``normalize`` divides each Fisher by its trace first, as the authors'
    code does (``lephuoccat/Fisher-Information-NAS``), so the distance compares the shapes of
    the two spectra and not the networks' overall confidence.

    >>> f = np.array([1.0, 2.0, 3.0])
    >>> log_det_distance(f, f, 1e-5)
    0.0
    """
    source = np.asarray(fisher_source, dtype=np.float64).ravel()
    target = np.asarray(fisher_target, dtype=np.float64).ravel()
    if normalize:
        source = source / max(source.sum(), np.finfo(np.float64).tiny)
        target = target / max(target.sum(), np.finfo(np.float64).tiny)
    s2 = float(sigma) ** 2
    return abs(float(np.log(source + s2).mean() - np.log(target + s2).mean()))
