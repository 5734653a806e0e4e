"""Finding and opening one installed table folder (``$BENCHSIM_HOME/tables/<name>/``).

Everything here runs when a :class:`~benchsim.backends.table.TableBenchmark` opens, so it only
reads ``meta.json`` and the footer of ``final.arrow``: the Arrow file is memory-mapped and each
metric column becomes a read-only numpy view of the mapped pages the first time it is asked
for.  Nothing is copied, pandas is never imported and the Parquet files are not touched (see
``_seeds.py`` and ``_epochs.py`` for the lazily read per-seed and per-epoch tables).

Every problem with a folder is a :class:`~benchsim.errors.CorruptDataError` (exit 1; a missing
folder: :class:`~benchsim.errors.DataError`) whose one line names the
file, what is wrong and the command that fixes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc

from benchsim._integrity import check_file
from benchsim.catalog import CATALOG, TaskInfo
from benchsim.errors import CorruptDataError, DataError

SCHEMA_VERSION = 1
META_SUM = "meta.json.sha256"
_TASK_FIELDS = {f.name for f in fields(TaskInfo)}


def install_hint(name: str) -> str:
    """The command that (re)creates table folder ``name``."""
    if name in CATALOG:
        return f"run `benchsim data install {name}`"
    return f"re-import it with `benchsim data import ... --name {name}`"


def repair_hint(name: str) -> str:
    """The command that replaces a modified or damaged table folder ``name``."""
    if name in CATALOG:
        return f"repair it with `benchsim data install {name} --force`"
    return f"re-import it with `benchsim data import ... --name {name}`"


def verify_meta(folder: Path, name: str) -> None:
    """Check ``meta.json`` against ``meta.json.sha256`` (it holds the other files' hashes)."""
    fix = repair_hint(name)
    sums = folder / META_SUM
    try:
        expected = sums.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise CorruptDataError(
            f"{sums} is missing or unreadable, so {folder / 'meta.json'} cannot be checked "
            f"(a table written by an older benchsim, or a damaged one); {fix}"
        ) from None
    check_file(folder / "meta.json", expected, recorded_in=sums.name, fix=fix)


def verify_table_file(path: Path, tables: Mapping[str, object], name: str) -> None:
    """Check one table file against the SHA-256 that ``meta.json`` recorded for it."""
    expected = tables.get(path.name) if isinstance(tables, Mapping) else None
    fix = repair_hint(name)
    if not isinstance(expected, str):
        raise CorruptDataError(
            f"{path.parent / 'meta.json'} records no SHA-256 of {path.name}; {fix}"
        )
    check_file(path, expected, recorded_in="meta.json", fix=fix)


def installed_names(root: Path) -> list[str]:
    """Names of the complete table folders under ``root`` (``meta.json`` marks complete)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "meta.json").is_file())


@dataclass(frozen=True)
class Meta:
    """The parts of ``meta.json`` the backend uses."""

    benchmark: str
    space: str
    tasks: dict[str, TaskInfo]
    raw: Mapping[str, object]


def read_meta(folder: Path, name: str) -> Meta:
    """Parse and check ``folder/meta.json``; a missing folder is reported as not installed."""
    path = folder / "meta.json"
    if not path.is_file():
        raise DataError(
            f"benchmark {name!r} is not installed: {path} does not exist; {install_hint(name)}"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptDataError(
            f"{path} is unreadable ({exc}); delete {folder} and {install_hint(name)}"
        ) from None
    if not isinstance(raw, dict):
        raise CorruptDataError(
            f"{path} holds no JSON object; delete {folder} and {install_hint(name)}"
        )
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise CorruptDataError(
            f"{path} has schema_version {version!r}, this benchsim reads {SCHEMA_VERSION}; "
            f"delete {folder} and {install_hint(name)}"
        )
    space = raw.get("space")
    if not isinstance(space, str):
        raise CorruptDataError(
            f"{path} names no search space; delete {folder} and {install_hint(name)}"
        )
    tasks = _task_infos(raw.get("tasks"), str(space), path, folder, name)
    return Meta(benchmark=str(raw.get("benchmark", name)), space=space, tasks=tasks, raw=raw)


def _task_infos(
    entries: object, benchmark: str, path: Path, folder: Path, name: str
) -> dict[str, TaskInfo]:
    """TaskInfo per task from meta.json's ``tasks`` (catalog entries, or bare catalog names)."""
    fix = f"delete {folder} and {install_hint(name)}"
    if isinstance(entries, dict):
        entries = [{"name": k, **v} if isinstance(v, dict) else k for k, v in entries.items()]
    if not isinstance(entries, list) or not entries:
        raise CorruptDataError(f"{path} lists no tasks; {fix}")
    out: dict[str, TaskInfo] = {}
    for entry in entries:
        if isinstance(entry, str):
            info = CATALOG.get(benchmark, {}).get(entry)
            if info is None:
                raise CorruptDataError(
                    f"{path} names task {entry!r} that no catalog describes; {fix}"
                )
        elif isinstance(entry, dict):
            kept = {k: v for k, v in entry.items() if k in _TASK_FIELDS}
            for key in ("metrics", "aliases"):
                if key in kept:
                    kept[key] = tuple(kept[key])
            try:
                info = TaskInfo(**kept)
            except TypeError as exc:
                raise CorruptDataError(
                    f"{path} has a malformed task entry ({exc}); {fix}"
                ) from None
            current = CATALOG.get(benchmark, {}).get(info.name)
            if current is not None and current.metrics == info.metrics:
                # Same columns: the code's catalog is authoritative for the task's description
                # (epochs, split sizes, ...), so a table built by an older benchsim cannot
                # silently change how costs are charged.
                info = current
        else:
            raise CorruptDataError(
                f"{path} has a task entry {entry!r} that is not an object; {fix}"
            )
        for metric in (info.search_metric, info.test_metric):
            if metric not in info.metrics:
                raise CorruptDataError(
                    f"{path}: task {info.name} names metric {metric!r} it does not carry; {fix}"
                )
        out[info.name] = info
    return out


class FinalColumns:
    """``final.arrow`` memory-mapped; :meth:`column` gives zero-copy float64 views.

    Opening reads the file footer and the ``arch_index`` column (to check the row order the
    schema promises: task-major, then architecture index); metric columns are mapped on first
    use and cached.  The views are read-only and keep the mapping alive as long as they live.
    """

    def __init__(self, path: Path, name: str, n_tasks: int, size: int) -> None:
        self.path, self._name = path, name
        self._fix = f"delete {path.parent} and {install_hint(name)}"
        try:
            reader = pa.ipc.open_file(pa.memory_map(str(path), "r"))
            batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
        except (OSError, pa.ArrowException) as exc:
            reason = "missing" if not path.exists() else f"not a readable Arrow file ({exc})"
            raise CorruptDataError(f"{path} is {reason}; {self._fix}") from None
        self._schema = reader.schema
        self._batches = batches
        self._cache: dict[str, np.ndarray] = {}
        rows = sum(b.num_rows for b in batches)
        if rows != n_tasks * size:
            raise CorruptDataError(
                f"{path} has {rows} rows, the schema needs {n_tasks} tasks x {size} "
                f"architectures = {n_tasks * size}; {self._fix}"
            )
        index = self._array("arch_index", np.int32).reshape(n_tasks, size)
        if not (index == np.arange(size, dtype=np.int32)).all():
            raise CorruptDataError(
                f"{path} rows are not ordered by task, then arch_index 0..{size - 1}; {self._fix}"
            )

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in the file."""
        return tuple(self._schema.names)

    def column(self, metric: str) -> np.ndarray:
        """Read-only float64 view of one metric column (all tasks, row ``task * size + i``)."""
        arr = self._cache.get(metric)
        if arr is None:
            arr = self._cache[metric] = self._array(metric, np.float64)
        return arr

    def _array(self, name: str, dtype: type) -> np.ndarray:
        """Zero-copy numpy view of a column's value buffer (copied only if the file is chunked).

        ``pyarrow.Array.to_numpy`` would import pandas (a third of a second) on first use;
        viewing the value buffer directly needs nothing but the checks below.
        """
        if self._schema.get_field_index(name) < 0:
            raise CorruptDataError(f"{self.path} lacks column {name!r}; {self._fix}")
        want = pa.from_numpy_dtype(dtype)
        parts = []
        for batch in self._batches:
            col = batch.column(name)
            if col.type != want:
                raise CorruptDataError(
                    f"{self.path} column {name!r} has type {col.type}, the schema needs {want}; "
                    f"{self._fix}"
                )
            if col.null_count:
                raise CorruptDataError(
                    f"{self.path} column {name!r} holds {col.null_count} Arrow nulls where the "
                    f"schema stores NaN; {self._fix}"
                )
            itemsize = np.dtype(dtype).itemsize
            parts.append(
                np.frombuffer(
                    col.buffers()[1], dtype=dtype, count=len(col), offset=col.offset * itemsize
                )
            )
        if len(parts) == 1:
            return parts[0]
        out = np.concatenate(parts)
        out.flags.writeable = False
        return out
