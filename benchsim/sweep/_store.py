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
    kinds of algorithm are then comparable at equal spend per task.  A search that first works
    on source or baseline tasks (XferNAS, LD-NAS: those answers are charged to those tasks and
    not budgeted) starts its searched tasks' clock with the first job on them, as its budget
    does, so ``task_time`` counts from there (:func:`budget_start`).
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
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchsim._arrow import column, numbers, repeated, take_rows, to_numbers, to_strings
from benchsim._files import atomic_parquet, atomic_write_json, parquet_codec

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


def budget_start(task: np.ndarray, start_time: np.ndarray, tasks: list[str]) -> float:
    """Simulated time at which the first job on one of the searched ``tasks`` started.

    0 for an ordinary search; for one with a source phase (XferNAS's source answers, LD-NAS's
    baselines) the time that phase took, which the runner does not charge to the searched
    tasks' budget (``result.json`` ``source_tasks.simulated_seconds``).
    """
    own = np.isin(task, np.asarray(tasks, dtype=object))
    return float(start_time[own].min()) if own.any() else 0.0


def run_parts(
    run_folder: Path, run_id: str, config: dict | None = None, table: pa.Table | None = None
) -> dict[str, pa.Table]:
    """One table per task of a finished run, with the columns of the module docstring.

    ``config`` and ``table`` (the run's config.json content and trajectory, e.g. from the
    :class:`~benchsim.runner.RunOutput` just returned) save reading them back from the folder.
    Built without pandas (:mod:`benchsim._arrow`), which a worker would otherwise import.
    """
    if config is None:
        config = json.loads((run_folder / "config.json").read_text())
    if table is None:
        table = _read_trajectory(run_folder)
    tasks = list(config["tasks"])
    shared = len(tasks) if config.get("resolved", {}).get("multi_task") else 1
    n = table.num_rows
    task_col = to_strings(table.column("task"))
    kind = to_strings(table.column("kind"))
    arch_col = to_numbers(table.column("arch"), np.int64)
    value_col = to_numbers(table.column("value"), np.float64)
    end_col = to_numbers(table.column("end_time"), np.float64)
    has_test = "test_value" in table.schema.names
    test = to_numbers(table.column("test_value"), np.float64) if has_test else np.full(n, np.nan)
    start = budget_start(task_col, to_numbers(table.column("start_time"), np.float64), tasks)
    joint = None
    if config.get("resolved", {}).get("shared_architecture"):
        joint = joint_incumbents(task_col, kind, arch_col, value_col, test, tasks)
    out: dict[str, pa.Table] = {}
    for task in tasks:
        rows = np.flatnonzero(task_col == task)
        part = take_rows(table, rows).drop_columns(["task"])
        if joint is not None:
            arch, value, best_test = (values[rows] for values in joint[task])
        else:
            arch, value, best_test = incumbents(
                kind[rows], arch_col[rows], value_col[rows], test[rows]
            )
        m = len(rows)
        if not has_test:
            part = part.append_column("test_value", numbers(np.full(m, np.nan)))
        extra = {
            "seed": numbers(np.full(m, int(config["seed"]), dtype=np.int64)),
            "benchmark": repeated(config["benchmark"], m),
            "backend": repeated(config["backend"], m),
            "run_id": repeated(run_id, m),
            "task_time": numbers((end_col[rows] - start) / shared, np.float64),
            "incumbent_arch": numbers(arch, np.int64),
            "incumbent_value": numbers(value, np.float64),
            "incumbent_test_value": numbers(best_test, np.float64),
        }
        for name, values in extra.items():
            part = part.append_column(name, values)
        out[task] = part
    return out


def _read_trajectory(run_folder: Path, columns: list[str] | None = None) -> pa.Table:
    """A run's ``trajectory.parquet`` (``pq.read_table`` would import pandas)."""
    return pq.ParquetFile(run_folder / "trajectory.parquet").read(columns=columns)


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
    atomic_parquet(path, table, compression=parquet_codec(table.num_rows), store_schema=False)


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
        name: column([row.get(name) for row in rows], kind) for name, kind in RUN_COLUMNS.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_parquet(path, pa.table(columns))


def task_seconds(run_folder: Path, shared: int) -> dict[str, float]:
    """Per-task simulated time of each task's last result (see ``task_time``), one read."""
    table = _read_trajectory(run_folder, ["task", "start_time", "end_time"])
    config = json.loads((run_folder / "config.json").read_text())
    return task_seconds_of(table, list(config["tasks"]), shared)


def task_seconds_of(table: pa.Table, tasks: list[str], shared: int) -> dict[str, float]:
    """:func:`task_seconds` of a trajectory table in memory: per task of the trajectory, its
    last result's ``end_time`` less the :func:`budget_start` of ``tasks``, over ``shared``."""
    task = to_strings(table.column("task"))
    ends = to_numbers(table.column("end_time"), np.float64)
    start = budget_start(task, to_numbers(table.column("start_time"), np.float64), tasks)
    return {
        str(name): float((ends[task == name].max() - start) / float(shared))
        for name in dict.fromkeys(task.tolist())
    }


def run_table_rows(
    run_id: str,
    algo: str,
    seed: int,
    tasks: list[str],
    result: dict[str, Any],
    config: dict[str, Any],
    seconds: dict[str, float],
) -> list[dict[str, Any]]:
    """The ``_runs.parquet`` rows (one per task) of a finished run, from its result.json and
    config.json content and its :func:`task_seconds`."""
    from benchsim.sweep._plan import config_hash

    base = {"run_id": run_id, "algo": algo, "tasks": "+".join(tasks), "seed": seed}
    digest = config_hash(config)
    rows = []
    for task in tasks:
        per = result["tasks"][task]
        rows.append(
            {
                **base,
                "task": task,
                "status": "ok",
                **{key: per.get(key) for key in RESULT_KEYS},
                "task_seconds": seconds.get(task),
                "simulated_seconds": result.get("simulated_seconds"),
                "wall_seconds": result.get("wall_seconds"),
                "config_hash": digest,
            }
        )
    return rows


RESULT_KEYS = (
    "arch",
    "arch_str",
    "search_metric_name",
    "search_metric",
    "search_metric_source",
    "test_metric_name",
    "test_metric",
    "evaluations",
)
"""The keys of a task's entry in result.json that ``_runs.parquet`` keeps."""


def atomic_json(path: Path, payload: object, text: str | None = None) -> None:
    """Write ``payload`` as indented JSON (or ``text`` as given) atomically, making the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, payload, text)
