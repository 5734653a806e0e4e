"""Reading the long Parquet tables (``seeds``, ``epochs``) into numpy, without pandas.

pyarrow imports pandas (about a third of a second and 60 MB) from several innocent-looking
calls: ``pyarrow.parquet.read_table`` (through ``pyarrow.dataset``), ``Array.to_numpy`` and any
conversion of Python objects (``pa.array([...])``, a Python scalar given to a compute kernel).
So this module uses :class:`pyarrow.parquet.ParquetFile`, reads value buffers directly, maps
task names through a dictionary encoding, and filters with numpy.  Row groups whose min/max
statistics exclude the wanted task are not read at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchsim._arrow import to_numbers
from benchsim.errors import CorruptDataError


def open_parquet(
    path: Path, fix: str, verify: Callable[[Path], None] | None = None
) -> pq.ParquetFile:
    """Open ``path`` (footer only); any failure is a one-line :class:`CorruptDataError`.

    ``verify`` (e.g. the check against ``meta.json``'s SHA-256) runs first when the file exists.
    The ``task`` column is read dictionary-encoded, as Parquet stores it: encoding it after the
    read would import ``pyarrow.compute`` (22 ms) in every process that reads per-seed values.
    """
    if verify is not None and path.exists():
        verify(path)
    try:
        return pq.ParquetFile(str(path), read_dictionary=["task"])
    except (OSError, pa.ArrowException) as exc:
        reason = "missing" if not path.exists() else f"not a readable Parquet file ({exc})"
        raise CorruptDataError(f"{path} is {reason}; {fix}") from None


def read_rows(
    pf: pq.ParquetFile,
    path: Path,
    columns: dict[str, type],
    tasks: Sequence[str],
    fix: str,
    task: str | None = None,
) -> dict[str, np.ndarray]:
    """Numeric ``columns`` (name -> numpy dtype) plus ``"task"`` as int64 positions in
    ``tasks``, of every row or only of the rows of ``task``."""
    names = pf.schema_arrow.names
    missing = [c for c in ["task", *columns] if c not in names]
    if missing:
        raise CorruptDataError(f"{path} lacks column(s) {missing}; {fix}")
    groups = range(pf.num_row_groups)
    if task is not None:
        position = names.index("task")
        groups = [g for g in groups if _may_hold(pf.metadata.row_group(g).column(position), task)]
    try:
        parts = [pf.read_row_group(g, columns=["task", *columns]) for g in groups]
    except (OSError, pa.ArrowException) as exc:
        raise CorruptDataError(f"{path} cannot be read ({exc}); {fix}") from None
    codes = [_codes(p["task"], tasks, path, fix) for p in parts]
    out = {"task": np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)}
    for name, dtype in columns.items():
        chunks = [_numbers(p[name], dtype, name, path) for p in parts]
        out[name] = np.concatenate(chunks) if chunks else np.empty(0, dtype=dtype)
    if task is not None:
        keep = out["task"] == list(tasks).index(task)
        out = {k: v[keep] for k, v in out.items()}
    return out


def _may_hold(column_meta: pq.ColumnChunkMetaData, task: str) -> bool:
    """False only when the row group's statistics prove it holds no row of ``task``."""
    stats = column_meta.statistics
    if stats is None or not stats.has_min_max:
        return True
    low, high = stats.min, stats.max
    if isinstance(low, bytes):
        low, high = low.decode(), high.decode()
    return low <= task <= high


def _numbers(column: pa.ChunkedArray | pa.Array, dtype: type, name: str, path: Path) -> np.ndarray:
    """One numeric column as numpy ``dtype`` (:func:`~benchsim._arrow.to_numbers`); float
    nulls become NaN, a column that is not numbers or holds missing integers is an error."""
    try:
        return to_numbers(column, dtype)
    except pa.ArrowException:
        raise CorruptDataError(
            f"{path} column {name!r} has type {column.type}, expected a number"
        ) from None
    except ValueError:
        raise CorruptDataError(
            f"{path} column {name!r} has {column.null_count} missing keys"
        ) from None


def _codes(column: pa.ChunkedArray, tasks: Sequence[str], path: Path, fix: str) -> np.ndarray:
    """Position in ``tasks`` of each row's task name; a name not in ``tasks`` is an error."""
    arr = column.combine_chunks()
    encoded = arr if pa.types.is_dictionary(arr.type) else arr.dictionary_encode()
    if encoded.null_count:
        raise CorruptDataError(f"{path} has rows without a task; {fix}")
    names = encoded.dictionary.to_pylist()
    unknown = [n for n in names if n not in tasks]
    if unknown:
        raise CorruptDataError(
            f"{path} has rows of task {unknown[0]!r}, not one of {list(tasks)}; {fix}"
        )
    lookup = np.array([list(tasks).index(n) for n in names], dtype=np.int64)
    return lookup[_numbers(encoded.indices, np.int64, "task", path)]
