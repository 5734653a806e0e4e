"""The results store: every trajectory of a sweep as one hive-partitioned Parquet dataset.

``DIR/results/algo=<a>/task=<t>/part-<run-id>.parquet`` holds one run's rows for one task, so
pandas, pyarrow and DuckDB read the whole sweep with one call and filter by algorithm and task
from the folder names alone (the ``algo`` and ``task`` columns come from the partitions, as
``pyarrow.parquet.write_to_dataset`` would leave them).  Each part is derived from the run's own
files (``trajectory.parquet``, ``config.json``), so the store can always be rebuilt from
``DIR/runs`` and a part is (re)written whenever it is missing.

Columns added to the run's trajectory columns:

``seed``, ``benchmark``, ``backend``, ``run_id``
    Which run the row belongs to.
``task_time``
    Simulated seconds in the unit budgets are given in: per task.  A multi-task search over T
    tasks shares one clock that T per-task budgets fill, so its ``end_time`` is divided by T;
    a single-task search has a clock of its own (``task_time == end_time``).  Curves of both
    kinds of algorithm are then comparable at equal spend per task.
``incumbent_arch``, ``incumbent_value``, ``incumbent_test_value``
    After this row: the architecture the search would return (the best fully evaluated one,
    ``kind`` in :data:`FULL_KINDS`, by search value, first one on ties, as
    :meth:`benchsim.algorithms.Searcher.recommend` does), its search value and its test value.
    -1/NaN before the first full evaluation.  Mini-batch estimates (``sampled_eval``) are noisy
    fitness, not results, so they never make an incumbent.  A search that returns one
    architecture for all its tasks (config ``resolved.shared_architecture``: JT-S) has one
    incumbent for all of them, chosen by the mean over the tasks (:func:`joint_incumbents`);
    each task's part then holds that architecture's value and test value on the task.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchsim._files import atomic_path, atomic_write_json

RESULTS = "results"
FULL_KINDS = ("evaluate", "full_eval")
"""Trajectory kinds that are full evaluations (a trained network, or the whole validation
split through shared weights); only these make an incumbent."""
RUNS_TABLE = "_runs.parquet"


def incumbents(
    kind: np.ndarray, arch: np.ndarray, value: np.ndarray, test_value: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best-so-far ``(arch, value, test_value)`` after each row of one task's rows in order.

    Only full evaluations (:data:`FULL_KINDS`) with a non-NaN value can improve the incumbent;
    an improvement must be strict, so the first of equal values stays (the base Searcher's
    rule).
    """
    n = len(value)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0), np.empty(0)
    ok = np.isin(kind, FULL_KINDS) & ~np.isnan(value)
    score = np.where(ok, value, -np.inf)
    previous = np.concatenate(([-np.inf], np.maximum.accumulate(score)[:-1]))
    improved = ok & (score > previous)
    last = np.maximum.accumulate(np.where(improved, np.arange(n), -1))
    has = last >= 0
    pick = np.where(has, last, 0)
    best_arch = np.where(has, arch[pick], -1).astype(np.int64)
    best_value = np.where(has, value[pick], np.nan)
    best_test = np.where(has, test_value[pick], np.nan)
    return best_arch, best_value, best_test


def joint_incumbents(
    task: np.ndarray,
    kind: np.ndarray,
    arch: np.ndarray,
    value: np.ndarray,
    test_value: np.ndarray,
    tasks: list[str],
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per task, ``(arch, value, test_value)`` of one shared incumbent after each row (all
    tasks' rows, in order), as JT-S's :meth:`~benchsim.algorithms.jointtraining.JTS.recommend`
    chooses it.

    Each task's full evaluations of an architecture are paired with the other tasks' of the
    same architecture in the order they come (first in, first out); a complete set is scored
    by the mean of its values, and only a strictly better mean changes the incumbent.
    """
    n = len(value)
    waiting: dict[int, dict[str, list[int]]] = {}
    best_mean = -np.inf
    best: dict[str, int] | None = None  # task -> row of the incumbent's value there
    pick = {t: np.full(n, -1, dtype=np.int64) for t in tasks}
    full = np.isin(kind, FULL_KINDS) & ~np.isnan(value)
    for i in range(n):
        if full[i] and task[i] in pick:
            rows = waiting.setdefault(int(arch[i]), {t: [] for t in tasks})
            rows[str(task[i])].append(i)
            if all(rows.values()):
                chosen = {t: queue.pop(0) for t, queue in rows.items()}
                mean = float(np.mean([value[j] for j in chosen.values()]))
                if mean > best_mean:
                    best_mean, best = mean, chosen
        if best is not None:
            for t in tasks:
                pick[t][i] = best[t]
    out = {}
    for t in tasks:
        has = pick[t] >= 0
        rows = np.where(has, pick[t], 0)
        out[t] = (
            np.where(has, arch[rows], -1).astype(np.int64),
            np.where(has, value[rows], np.nan),
            np.where(has, test_value[rows], np.nan),
        )
    return out


def run_parts(
    run_folder: Path, run_id: str, config: dict | None = None, table: pa.Table | None = None
) -> dict[str, pa.Table]:
    """One table per task of a finished run, with the columns of the module docstring.

    ``config`` and ``table`` (the run's config.json content and trajectory, e.g. from the
    :class:`~benchsim.runner.RunOutput` just returned) save reading them back from the folder.
    """
    if config is None:
        config = json.loads((run_folder / "config.json").read_text())
    if table is None:
        table = pq.read_table(run_folder / "trajectory.parquet")
    tasks = list(config["tasks"])
    shared = len(tasks) if config.get("resolved", {}).get("multi_task") else 1
    n = table.num_rows
    col = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.schema.names}
    test = col.get("test_value", np.full(n, np.nan))
    out: dict[str, pa.Table] = {}
    task_col = col["task"].astype(str)
    kind = col["kind"].astype(str)
    joint = None
    if config.get("resolved", {}).get("shared_architecture"):
        joint = joint_incumbents(task_col, kind, col["arch"], col["value"], test, tasks)
    for task in tasks:
        rows = np.flatnonzero(task_col == task)
        part = table.take(pa.array(rows, pa.int64())).drop_columns(["task"])
        if joint is not None:
            arch, value, best_test = (column[rows] for column in joint[task])
        else:
            arch, value, best_test = incumbents(
                kind[rows], col["arch"][rows], col["value"][rows], test[rows]
            )
        m = len(rows)
        if "test_value" not in part.schema.names:
            part = part.append_column("test_value", pa.array(np.full(m, np.nan)))
        extra = {
            "seed": pa.array(np.full(m, int(config["seed"]), dtype=np.int64)),
            "benchmark": pa.repeat(pa.scalar(config["benchmark"], pa.string()), m),
            "backend": pa.repeat(pa.scalar(config["backend"], pa.string()), m),
            "run_id": pa.repeat(pa.scalar(run_id, pa.string()), m),
            "task_time": pa.array(col["end_time"][rows] / shared),
            "incumbent_arch": pa.array(arch),
            "incumbent_value": pa.array(value),
            "incumbent_test_value": pa.array(best_test),
        }
        for name, values in extra.items():
            part = part.append_column(name, values)
        out[task] = part
    return out


def part_path(results: Path, algo: str, task: str, run_id: str) -> Path:
    """Where one run's rows for one task live in the dataset."""
    return results / f"algo={algo}" / f"task={task}" / f"part-{run_id}.parquet"


def write_run_parts(
    run_folder: Path,
    results: Path,
    algo: str,
    run_id: str,
    *,
    only_missing: bool = False,
    config: dict | None = None,
    table: pa.Table | None = None,
) -> int:
    """Write the run's parts into ``results``; returns how many files were written.

    Files are written under a name starting with ``.`` (which dataset readers skip) and renamed
    into place, so a reader never sees half a part.  ``config``/``table``: see :func:`run_parts`.
    """
    if config is None:
        config = json.loads((run_folder / "config.json").read_text())
    targets = {t: part_path(results, algo, t, run_id) for t in config["tasks"]}
    if only_missing and all(p.is_file() for p in targets.values()):
        return 0
    written = 0
    for task, part in run_parts(run_folder, run_id, config, table).items():
        path = targets[task]
        if only_missing and path.is_file():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_parquet(path, part)
        written += 1
    return written


def _atomic_parquet(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", store_schema=False)


RUN_COLUMNS = {
    "run_id": pa.string(),
    "algo": pa.string(),
    "tasks": pa.string(),
    "seed": pa.int64(),
    "task": pa.string(),
    "status": pa.string(),
    "arch": pa.int64(),
    "arch_str": pa.string(),
    "search_metric_name": pa.string(),
    "search_metric": pa.float64(),
    "search_metric_source": pa.string(),
    "test_metric_name": pa.string(),
    "test_metric": pa.float64(),
    "evaluations": pa.int64(),
    "task_seconds": pa.float64(),
    "simulated_seconds": pa.float64(),
    "wall_seconds": pa.float64(),
    "config_hash": pa.string(),
    "error": pa.string(),
}
"""Schema of ``_runs.parquet``; ``status`` is ``ok``, ``failed`` or ``incomplete``."""


def write_runs_table(path: Path, rows: list[dict]) -> None:
    """Write ``_runs.parquet`` (one row per run and task) atomically."""
    columns = {
        name: pa.array([row.get(name) for row in rows], type=kind)
        for name, kind in RUN_COLUMNS.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_parquet(path, pa.table(columns))


def task_seconds(run_folder: Path, shared: int) -> dict[str, float]:
    """Per-task simulated time of each task's last result (see ``task_time``), one read."""
    import pyarrow.compute as pc

    table = pq.read_table(run_folder / "trajectory.parquet", columns=["task", "end_time"])
    grouped = table.group_by("task").aggregate([("end_time", "max")])
    tasks = grouped.column("task").to_pylist()
    ends = pc.divide(grouped.column("end_time_max"), float(shared)).to_pylist()
    return dict(zip(tasks, ends, strict=True))


def atomic_json(path: Path, payload: object, text: str | None = None) -> None:
    """Write ``payload`` as indented JSON (or ``text`` as given) atomically, making the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, payload, text)
