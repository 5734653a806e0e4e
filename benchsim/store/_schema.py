"""The table schema of data/README.md as code: column sets, and checks that turn frames into
Arrow tables with exactly those columns and dtypes.

Shared by the installer's converters and by the importers, so an imported table cannot differ
from an installed one in anything but its values.  Every check raises a one-line
:class:`~benchsim.errors.DataError` that names the table, the column or row, and the rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from benchsim.errors import DataError, UnknownNameError
from benchsim.store import _archs

FINAL_KEYS = ("benchmark", "task", "arch_index", "arch_str")
SEEDS_KEYS = ("benchmark", "task", "arch_index", "seed")
EPOCHS_KEYS = ("benchmark", "task", "arch_index", "schedule", "seed", "epoch")
_INT_TYPES = {"arch_index": np.int32, "seed": np.int16, "schedule": np.int16, "epoch": np.int16}


def task_infos(space: str) -> dict:
    """Catalog entry of a space: task name -> :class:`~benchsim.backends.base.TaskInfo`.

    Imported on first use, on purpose: the table backend imports :mod:`benchsim.store` to
    install on first use, so the store must not import :mod:`benchsim.backends` while it is
    itself being imported.
    """
    from benchsim.catalog import CATALOG

    if space not in CATALOG:
        raise UnknownNameError("search space", space, CATALOG, "for a benchsim table")
    return CATALOG[space]


def seed_metrics(space: str) -> dict[str, tuple[str, ...]]:
    """``SEED_METRICS[space]``: task -> metrics that ``seeds.parquet`` records per seed."""
    from benchsim.catalog import SEED_METRICS

    task_infos(space)
    return SEED_METRICS.get(space, {})


def _ordered_union(groups: Sequence[Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for group in groups for name in group))


def tasks_of(space: str) -> tuple[str, ...]:
    """Task names of a space, in catalog order (the row-block order of ``final.*``)."""
    return tuple(task_infos(space))


def metric_columns(space: str) -> tuple[str, ...]:
    """Metric columns of ``final.*``: every task's catalog metrics, in first-seen order."""
    return _ordered_union([info.metrics for info in task_infos(space).values()])


def seed_metric_columns(space: str) -> tuple[str, ...]:
    """Metric columns of ``seeds.parquet``: the union of ``SEED_METRICS[space]``."""
    return _ordered_union(list(seed_metrics(space).values()))


def final_frame(
    space: str, arch_str: Sequence[str], values: Mapping[str, Mapping[str, np.ndarray]]
) -> pd.DataFrame:
    """The complete ``final`` grid of a space, NaN wherever ``values`` has no entry.

    Parameters
    ----------
    space
        Search-space name (its catalog entry gives the tasks and metrics).
    arch_str
        Official string of every index, in index order.
    values
        ``values[task][metric]``: one float array of length ``len(arch_str)`` per column a
        source provides.  A metric the catalog does not list for that task is refused, so a
        converter or importer cannot invent a column.
    """
    infos = task_infos(space)
    tasks, size = tuple(infos), len(arch_str)
    for task, metrics in values.items():
        if task not in infos:
            raise UnknownNameError("task", task, tasks, f"in the {space} catalog")
        for metric, arr in metrics.items():
            if metric not in infos[task].metrics:
                raise UnknownNameError("metric", metric, infos[task].metrics, f"for {task}")
            if np.shape(arr) != (size,):
                raise DataError(f"{task}/{metric}: shape {np.shape(arr)}, expected ({size},)")
    data: dict[str, np.ndarray] = {
        "task": np.repeat(np.array(tasks, dtype=object), size),
        "arch_index": np.tile(np.arange(size, dtype=np.int32), len(tasks)),
        "arch_str": np.tile(np.asarray(arch_str, dtype=object), len(tasks)),
    }
    for metric in metric_columns(space):
        col = np.full(len(tasks) * size, np.nan)
        for t, task in enumerate(tasks):
            if metric in values.get(task, {}):
                col[t * size : (t + 1) * size] = np.asarray(values[task][metric], dtype=np.float64)
        data[metric] = col
    return pd.DataFrame(data)


# ---------------------------------------------------------------------- column checks
def _column_set(
    frame: pd.DataFrame, table: str, keys: Sequence[str], metrics: Sequence[str], exact: bool
) -> list[str]:
    """Check the column set; return the metric columns present, in catalog order."""
    present = set(frame.columns)
    missing = [k for k in keys if k != "benchmark" and k not in present]
    if exact:
        missing += [m for m in metrics if m not in present]
    extra = [c for c in frame.columns if c not in keys and c not in metrics]
    if missing or extra:
        raise DataError(
            f"{table}: columns missing {missing}, unexpected {extra}; allowed: {[*keys, *metrics]}"
        )
    return [m for m in metrics if m in present]


def _strings(frame: pd.DataFrame, column: str, table: str) -> np.ndarray:
    values = frame[column].to_numpy(dtype=object)
    bad = np.flatnonzero([not isinstance(v, str) or not v for v in values])
    if bad.size:
        raise DataError(f"{table}: {column} row {bad[0]} is {values[bad[0]]!r}, must be a string")
    return values


def _ints(frame: pd.DataFrame, column: str, table: str, low: int, high: int) -> np.ndarray:
    """Integer column checked to lie in ``low..high-1``, as int64."""
    dtype = frame[column].dtype
    if not pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        raise DataError(f"{table}: {column} has dtype {dtype}, must be an integer type")
    values = frame[column].to_numpy(dtype=np.int64)
    bad = np.flatnonzero((values < low) | (values >= high))
    if bad.size:
        raise DataError(
            f"{table}: {column} row {bad[0]} is {values[bad[0]]}, must be in {low}..{high - 1}"
        )
    return values


def _floats(frame: pd.DataFrame, column: str, table: str) -> np.ndarray:
    dtype = frame[column].dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        raise DataError(f"{table}: {column} has dtype {dtype}, must be float (NaN = no value)")
    return np.ascontiguousarray(frame[column].to_numpy(dtype=np.float64, na_value=np.nan))


def _check_benchmark_column(frame: pd.DataFrame, benchmark: str, table: str) -> None:
    if "benchmark" in frame.columns and len(frame):
        values = frame["benchmark"].to_numpy(dtype=object)
        bad = np.flatnonzero(values != benchmark)
        if bad.size:
            raise DataError(
                f"{table}: benchmark row {bad[0]} is {values[bad[0]]!r}, must be {benchmark!r}"
            )


def _task_codes(frame: pd.DataFrame, tasks: Sequence[str], table: str) -> np.ndarray:
    values = _strings(frame, "task", table)
    codes = pd.Index(tasks).get_indexer(pd.Index(values, dtype=object))
    if (codes < 0).any():
        raise UnknownNameError("task", values[codes < 0][0], tasks, f"in table {table}")
    return codes.astype(np.int64)


def _only_listed(
    codes: np.ndarray,
    values: np.ndarray,
    column: str,
    lists: Mapping[str, Sequence[str]],
    table: str,
) -> None:
    """A metric may hold values only on rows of tasks whose list names it."""
    for code, (task, allowed) in enumerate(lists.items()):
        if column in allowed:
            continue
        rows = codes == code
        if rows.any() and not np.isnan(values[rows]).all():
            raise DataError(
                f"{table}: column {column} has values for task {task}, which does not list it; "
                f"allowed there: {list(allowed)}"
            )


def _arrow(benchmark: str, columns: Mapping[str, np.ndarray]) -> pa.Table:
    """Arrow table from numpy columns: no validity bitmaps, so NaN stays NaN (never null)."""
    n = len(next(iter(columns.values())))
    arrays = {"benchmark": pa.array(np.full(n, benchmark, dtype=object), type=pa.string())}
    for name, values in columns.items():
        if name in _INT_TYPES:
            arrays[name] = pa.array(values.astype(_INT_TYPES[name]))
        elif values.dtype == object:
            arrays[name] = pa.array(values, type=pa.string())
        else:
            arrays[name] = pa.array(np.ascontiguousarray(values, dtype=np.float64))
    return pa.table(arrays)


# ---------------------------------------------------------------------- the three tables
def final_table(frame: pd.DataFrame, benchmark: str, space: str) -> pa.Table:
    """Validated ``final`` table: complete grid by task then arch_index, catalog columns."""
    infos = task_infos(space)
    tasks, size = tuple(infos), _archs.space_size(space)
    metrics = _column_set(frame, "final", FINAL_KEYS, metric_columns(space), exact=True)
    if len(frame) != len(tasks) * size:
        raise DataError(
            f"final: {len(frame)} rows, must be the complete grid of {len(tasks)} tasks x "
            f"{size} architectures = {len(tasks) * size} rows (NaN where a source has no value)"
        )
    _check_benchmark_column(frame, benchmark, "final")
    codes = _task_codes(frame, tasks, "final")
    index = _ints(frame, "arch_index", "final", 0, size)
    expected_codes = np.repeat(np.arange(len(tasks)), size)
    expected_index = np.tile(np.arange(size), len(tasks))
    wrong = np.flatnonzero((codes != expected_codes) | (index != expected_index))
    if wrong.size:
        r = int(wrong[0])
        raise DataError(
            f"final: row {r} is ({tasks[codes[r]]}, {index[r]}), expected "
            f"({tasks[r // size]}, {r % size}): rows go by task in catalog order, then arch_index"
        )
    arch_str = _strings(frame, "arch_str", "final")
    blocks = arch_str.reshape(len(tasks), size)
    reference = _archs.arch_strings(space)
    mismatch = np.flatnonzero((blocks != reference).any(axis=0))
    if mismatch.size:
        i = int(mismatch[0])
        found = next(s for s in blocks[:, i] if s != reference[i])
        raise DataError(
            f"final: arch_str of index {i} is {found!r} but should be {reference[i]!r} "
            f"(the official {space} string, the same on every task)"
        )
    columns: dict[str, np.ndarray] = {
        "task": np.array(tasks, dtype=object)[codes],
        "arch_index": index,
        "arch_str": arch_str,
    }
    lists = {task: info.metrics for task, info in infos.items()}
    for metric in metrics:
        columns[metric] = _floats(frame, metric, "final")
        _only_listed(codes, columns[metric], metric, lists, "final")
    return _arrow(benchmark, columns)


def _long_table(
    frame: pd.DataFrame,
    benchmark: str,
    space: str,
    table: str,
    keys: Sequence[str],
    metrics: Sequence[str],
    exact: bool,
    lists: Mapping[str, Sequence[str]],
) -> pa.Table:
    """Validated long table (seeds or epochs), sorted by its keys in catalog task order."""
    tasks, size = tasks_of(space), _archs.space_size(space)
    present = _column_set(frame, table, keys, metrics, exact)
    _check_benchmark_column(frame, benchmark, table)
    columns = {
        "task": _task_codes(frame, tasks, table),
        "arch_index": _ints(frame, "arch_index", table, 0, size),
    }
    if "schedule" in keys:
        columns["schedule"] = _ints(frame, "schedule", table, 1, 2**15)
    columns["seed"] = _ints(frame, "seed", table, -1, 2**15)
    if "epoch" in keys:
        columns["epoch"] = _ints(frame, "epoch", table, 0, 2**15)
        late = np.flatnonzero(columns["epoch"] >= columns["schedule"])
        if late.size:
            r = int(late[0])
            raise DataError(
                f"{table}: row {r} has epoch {columns['epoch'][r]} >= schedule "
                f"{columns['schedule'][r]}; epochs are 0-based"
            )
    names = [k for k in keys if k != "benchmark"]
    order = np.lexsort([columns[k] for k in reversed(names)])
    out = {k: columns[k][order] for k in names}
    if len(order) > 1:
        matrix = np.stack([out[k] for k in names], axis=1)
        dup = np.flatnonzero((matrix[1:] == matrix[:-1]).all(axis=1))
        if dup.size:
            key = dict(zip(names, matrix[dup[0]].tolist(), strict=True))
            key["task"] = tasks[key["task"]]
            raise DataError(f"{table}: key {key} appears more than once; keys must be unique")
    codes = out["task"]
    out["task"] = np.array(tasks, dtype=object)[codes]
    for metric in present:
        out[metric] = _floats(frame, metric, table)[order]
        _only_listed(codes, out[metric], metric, {t: lists.get(t, ()) for t in tasks}, table)
    return _arrow(benchmark, out)


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    dtypes = {c: _INT_TYPES.get(c, np.float64) for c in columns}
    return pd.DataFrame({c: pd.Series(dtype=object if c == "task" else dtypes[c]) for c in columns})


def seeds_table(frame: pd.DataFrame | None, benchmark: str, space: str) -> pa.Table:
    """Validated ``seeds`` table; ``None`` means the sources carry no per-seed values."""
    metrics = seed_metric_columns(space)
    frame = _empty([*SEEDS_KEYS[1:], *metrics]) if frame is None else frame
    lists = seed_metrics(space)
    return _long_table(frame, benchmark, space, "seeds", SEEDS_KEYS, metrics, True, lists)


def epochs_table(frame: pd.DataFrame | None, benchmark: str, space: str) -> pa.Table:
    """Validated ``epochs`` table; its metric columns may be any subset of the catalog's."""
    frame = _empty(EPOCHS_KEYS[1:]) if frame is None else frame
    lists = {task: info.metrics for task, info in task_infos(space).items()}
    metrics = metric_columns(space)
    return _long_table(frame, benchmark, space, "epochs", EPOCHS_KEYS, metrics, False, lists)
