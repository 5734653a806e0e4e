"""Read what a sweep stored, the way any other tool would: Parquet files and the spec.

The report needs three things: the per-run finals (``results/_runs.parquet``), the anytime
curves (the hive-partitioned trajectories, reduced to the incumbent columns) and, where the
backend records it (``Traits.recorded_optimum``), each task's optimum test value over the whole
space (the reference of the regret).  Nothing here depends on how the runs were executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from benchsim.backends import backend_info
from benchsim.errors import ConfigError
from benchsim.sweep._spec import SweepSpec, load_spec
from benchsim.sweep._store import RESULTS, RUNS_TABLE

CURVE_COLUMNS = ["run_id", "task_time", "incumbent_value", "incumbent_test_value"]


@dataclass
class SweepData:
    """A sweep's results in memory.

    Attributes
    ----------
    spec
        The sweep's specification (algorithm and task order for tables and plots).
    runs
        ``_runs.parquet`` restricted to finished runs (``status == "ok"``).
    curves
        Per trajectory row: ``algo``, ``task``, ``run_id``, ``task_time``, ``incumbent_value``,
        ``incumbent_test_value``; rows of a run are in step order.
    optimum
        Task -> best test value of any architecture in the table; ``None`` for a live backend.
    test_metric, search_metric
        Task -> metric name.
    not_ok
        Number of (run, task) rows that failed or did not finish (left out of everything).
    runs_state
        (algo, task) -> counts of the sweep's planned (run, task) rows by state: ``ok``,
        ``failed``, ``incomplete`` (started, not finished) and ``missing`` (planned, never
        recorded), so the table can say what it leaves out.
    """

    spec: SweepSpec
    runs: pd.DataFrame
    curves: pd.DataFrame
    optimum: dict[str, float] | None
    test_metric: dict[str, str]
    search_metric: dict[str, str]
    not_ok: int
    runs_state: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)


def read_curves(results: Path) -> pd.DataFrame:
    """The incumbent columns of every trajectory, with ``algo`` and ``task`` from the folders.

    Only the rows a step function needs are kept: the first and last row of each (run, task)
    and every row where the incumbent changes.  A multi-task search writes a row per mini-batch
    estimate (tens of thousands per run), almost none of which move the incumbent, so this keeps
    a 400-run sweep's curves in a few MB instead of a GB of Python strings.
    """
    partitioning = ds.partitioning(
        pa.schema([("algo", pa.string()), ("task", pa.string())]), flavor="hive"
    )
    dataset = ds.dataset(results, format="parquet", partitioning=partitioning)
    kept = []
    # Every part file holds one (run, task), and a record batch never spans two files.
    for batch in dataset.to_batches(
        columns=["algo", "task", *CURVE_COLUMNS], batch_readahead=4, fragment_readahead=2
    ):
        if batch.num_rows:
            kept.append(batch.filter(pa.array(_changes(batch))))
    if not kept:
        return pd.DataFrame(columns=["algo", "task", *CURVE_COLUMNS])
    curves = pa.Table.from_batches(kept).to_pandas()
    for name in ("algo", "task", "run_id"):
        curves[name] = curves[name].astype("category")
    return curves


def _changes(batch: pa.RecordBatch) -> np.ndarray:
    """Mask of a batch's first and last row and of every row where the incumbent changes."""
    value = batch.column("incumbent_test_value").to_numpy(zero_copy_only=False)
    keep = np.ones(len(value), dtype=bool)
    same = (value[1:] == value[:-1]) | (np.isnan(value[1:]) & np.isnan(value[:-1]))
    keep[1:-1] = ~same[:-1]
    return keep


def table_optimum(benchmark: str, tasks: tuple[str, ...]) -> tuple[dict[str, float], dict]:
    """Best test value over the whole space per task, and the test metric's name per task."""
    from benchsim.backends import benchmark as open_benchmark

    bench = open_benchmark(benchmark)
    archs = bench.space.enumerate()
    optimum, names = {}, {}
    for task in tasks:
        metric = bench.task_info(task).test_metric
        values = np.asarray(bench.query_many(archs, task, metric).values, dtype=np.float64)
        optimum[task] = float(np.nanmax(values))
        names[task] = metric
    return optimum, names


def load_sweep(out: str | Path) -> SweepData:
    """Everything :func:`~benchsim.report.build_table` and the plots need from ``out``."""
    out = Path(out)
    spec = load_spec(out)
    results = out / RESULTS
    runs_path = results / RUNS_TABLE
    if not runs_path.is_file():
        raise ConfigError(
            f"{str(out)!r} has no {RESULTS}/{RUNS_TABLE}; re-run the same `benchsim sweep` "
            "command to finish (or rebuild) the results"
        )
    runs = pd.read_parquet(runs_path)
    ok = runs[runs["status"] == "ok"].reset_index(drop=True)
    if ok.empty:
        raise ConfigError(f"no run in {str(out)!r} has finished; nothing to report")
    curves = read_curves(results)
    curves = curves[curves["run_id"].isin(set(ok["run_id"]))].reset_index(drop=True)
    named = ok.dropna(subset=["test_metric_name", "search_metric_name"])
    test_metric = dict(zip(named["task"], named["test_metric_name"], strict=True))
    search_metric = dict(zip(named["task"], named["search_metric_name"], strict=True))
    optimum = None
    if backend_info(spec.backend).traits.recorded_optimum:
        optimum, names = table_optimum(spec.benchmark, spec.tasks)
        test_metric = {**names, **test_metric}
    return SweepData(
        spec=spec,
        runs=ok,
        curves=curves,
        optimum=optimum,
        test_metric=test_metric,
        search_metric=search_metric,
        not_ok=int((runs["status"] != "ok").sum()),
        runs_state=runs_state(spec, runs),
    )


STATES = ("ok", "failed", "incomplete", "missing")


def runs_state(spec: SweepSpec, runs: pd.DataFrame) -> dict[tuple[str, str], dict[str, int]]:
    """Counts per (algo, task) of the planned (run, task) rows by state (see :class:`SweepData`)."""
    out = {}
    for algo in spec.algos:
        for task in spec.tasks:
            mine = runs[(runs["algo"] == algo) & (runs["task"] == task)]
            counts = {s: int((mine["status"] == s).sum()) for s in STATES[:3]}
            counts["missing"] = max(len(spec.seeds) - int(mine["seed"].nunique()), 0)
            out[(algo, task)] = counts
    return out
