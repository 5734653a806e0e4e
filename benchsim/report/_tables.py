"""The paper-style table: final metrics and anytime regret, per algorithm and task.

For each algorithm and task: mean ± sample std (n) over seeds of the final search metric and
the final test metric of the returned architecture (from ``_runs.parquet``), and the anytime
regret at fixed simulated times: the task's optimum test value over the whole table minus the
test value of the run's incumbent at that time (lower is better; 0 = the best architecture of
the benchmark).  Times are simulated seconds *per task* (``task_time``, see
:mod:`benchsim.sweep._store`), so single-task and multi-task algorithms are compared at equal
spend per task.  A run that ended before a time keeps its final incumbent; a run with no
incumbent yet at a time is left out of that cell (its n shows it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchsim.errors import ConfigError
from benchsim.report._load import SweepData

_TIME = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[smhd])\s*$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
DEFAULT_FRACTIONS = (0.25, 0.5, 1.0)


def parse_times(text: str) -> tuple[float, ...]:
    """Simulated times in seconds from ``"1h,3h,10h"`` (units s, m, h, d; each needs one).

    Examples
    --------
    >>> parse_times("30m,2h")
    (1800.0, 7200.0)
    """
    out = []
    for part in str(text).split(","):
        match = _TIME.match(part)
        if not match or float(match["num"]) <= 0:
            raise ConfigError(
                f"--times {text!r}: {part.strip()!r} is not a positive time with a unit; give "
                "e.g. 1h,3h,10h (units s, m, h, d)"
            )
        out.append(float(match["num"]) * _UNITS[match["unit"]])
    return tuple(sorted(set(out)))


def _round2(x: float) -> float:
    """``x`` rounded to two significant digits (readable column headers)."""
    if x <= 0:
        return x
    digits = 1 - math.floor(math.log10(x))
    return round(x, digits)


def default_times(data: SweepData) -> tuple[float, ...]:
    """25, 50 and 100% of the median run length (per-task simulated seconds), in whole seconds
    after rounding the hours to two significant digits."""
    lengths = data.curves.groupby(["run_id", "task"], observed=True)["task_time"].max()
    median = float(np.median(lengths.to_numpy())) if len(lengths) else 0.0
    if not median > 0:
        return ()
    return tuple(sorted({_round2(f * median / 3600) * 3600 for f in DEFAULT_FRACTIONS}))


def time_label(seconds: float) -> str:
    """``"1.5h"`` style label of a time in seconds."""
    return f"{seconds / 3600:.3g}h"


def incumbent_at(time: np.ndarray, value: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The incumbent's value at each of ``at`` (NaN before the first row), rows in time order."""
    idx = np.searchsorted(time, at, side="right") - 1
    out = np.where(idx >= 0, value[np.maximum(idx, 0)], np.nan)
    return out.astype(np.float64)


def regret_frame(data: SweepData, times: tuple[float, ...]) -> pd.DataFrame:
    """One row per (run, task, time): ``algo, task, run_id, time_s, regret``."""
    if data.optimum is None or not times:
        return pd.DataFrame(columns=["algo", "task", "run_id", "time_s", "regret"])
    at = np.asarray(times, dtype=np.float64)
    frames = []
    for (algo, task, run), group in data.curves.groupby(
        ["algo", "task", "run_id"], observed=True, sort=False
    ):
        test = incumbent_at(
            group["task_time"].to_numpy(), group["incumbent_test_value"].to_numpy(), at
        )
        frames.append(
            pd.DataFrame(
                {
                    "algo": algo,
                    "task": task,
                    "run_id": run,
                    "time_s": at,
                    "regret": data.optimum[task] - test,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _stat(values: pd.Series | np.ndarray) -> dict[str, float | int | None]:
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    n = int(v.size)
    mean = float(v.mean()) if n else None
    std = float(v.std(ddof=1)) if n > 1 else None
    return {"mean": mean, "std": std, "n": n}


@dataclass
class ReportTable:
    """The numbers of the table; formats are in :mod:`benchsim.report._format`."""

    times: tuple[float, ...]
    rows: list[dict] = field(default_factory=list)
    not_ok: int = 0
    regret: bool = True
    report_tasks: tuple[str, ...] = ()

    def left_out(self) -> dict[str, int]:
        """Planned (run, task) rows the numbers do not include, by state."""
        out = dict.fromkeys(("failed", "incomplete", "missing"), 0)
        for row in self.rows:
            for state in out:
                out[state] += row["runs"][state]
        return out

    def left_out_line(self) -> str:
        """One sentence naming what is left out and where ('' when nothing is)."""
        parts = []
        for state, label in (
            ("failed", "failed"),
            ("incomplete", "did not finish"),
            ("missing", "were never run"),
        ):
            where = [
                f"{r['algo']}/{r['task']}: {r['runs'][state]}"
                for r in self.rows
                if r["runs"][state]
            ]
            if where:
                total = sum(r["runs"][state] for r in self.rows)
                parts.append(f"{total} {label} ({', '.join(where)})")
        if not parts:
            return ""
        return f"Left out of the numbers: (run, task) rows that {'; '.join(parts)}."


def build_table(
    data: SweepData,
    times: tuple[float, ...] | None = None,
    report_tasks: tuple[str, ...] = (),
) -> ReportTable:
    """Per algorithm and task: final search/test stats, optimum and regret at ``times``.

    ``times`` None: :func:`default_times`.  On a live backend there is no optimum and the
    regret columns are left out.  ``report_tasks``: also the returned architectures' recorded
    test metric on these tasks (a table backend only; :func:`cross_task_lookup`).
    """
    if times is None:
        times = default_times(data)
    has_regret = data.optimum is not None
    regrets = regret_frame(data, times) if has_regret else None
    lookup = cross_task_lookup(data, report_tasks) if report_tasks else None
    table = ReportTable(
        times=times if has_regret else (),
        not_ok=data.not_ok,
        regret=has_regret,
        report_tasks=tuple(report_tasks),
    )
    for algo in data.spec.algos:
        for task in data.spec.tasks:
            runs = data.runs[(data.runs["algo"] == algo) & (data.runs["task"] == task)]
            state = data.runs_state.get((algo, task), {"ok": len(runs)})
            counts = {s: int(state.get(s, 0)) for s in ("ok", "failed", "incomplete", "missing")}
            counts["planned"] = sum(counts.values())
            names = runs["search_metric_name"].dropna().unique()
            name = str(names[0]) if len(names) == 1 else data.search_metric.get(task)
            sources = (
                runs["search_metric_source"].dropna() if "search_metric_source" in runs else ()
            )
            supernet = sorted({s for s in sources if s and "standalone" not in s})
            if name is not None and supernet:  # a supernet's estimate: say whose
                name = f"{name} ({', '.join(supernet)})"
            row = {
                "algo": algo,
                "task": task,
                "search_metric": name,
                "search": _stat(runs["search_metric"]),
                "test_metric": data.test_metric.get(task),
                "test": _stat(runs["test_metric"]),
                "optimum": None if data.optimum is None else data.optimum[task],
                "regret": [],
                "runs": counts,
                "test_on": [],
            }
            if lookup is not None:
                archs = runs["arch"].to_numpy(dtype=np.float64)
                for other in report_tasks:
                    metric, values = lookup(archs, other)
                    row["test_on"].append({"task": other, "metric": metric, **_stat(values)})
            if regrets is not None:
                mine = regrets[(regrets["algo"] == algo) & (regrets["task"] == task)]
                for t in table.times:
                    row["regret"].append(
                        {"time_s": t, **_stat(mine.loc[mine["time_s"] == t, "regret"])}
                    )
            table.rows.append(row)
    return table


def cross_task_lookup(
    data: SweepData, tasks: tuple[str, ...]
) -> Callable[[np.ndarray, str], tuple[str, np.ndarray]]:
    """``lookup(archs, task) -> (test metric name, values)`` for the sweep's benchmark.

    Reporting an architecture on a task it was not searched on is a table lookup (the
    NAS-Bench-201 paper's table is one CIFAR-10 search reported on three datasets); on a live
    backend it would mean training every found architecture again, so it is refused.
    """
    from benchsim.backends import backend_info
    from benchsim.backends import benchmark as open_benchmark
    from benchsim.errors import UnknownTaskError

    if not backend_info(data.spec.backend).traits.free_test_lookups:
        raise ConfigError(
            f"--report-tasks needs a table backend; this sweep ran on {data.spec.backend!r} "
            "(report a found architecture elsewhere with `benchsim retrain`)"
        )
    bench = open_benchmark(data.spec.benchmark)
    for task in tasks:
        if task not in bench.tasks:
            raise UnknownTaskError(task, bench.tasks, f"in --report-tasks ({data.spec.benchmark})")

    def lookup(archs: np.ndarray, task: str) -> tuple[str, np.ndarray]:
        metric = bench.task_info(task).test_metric
        found = archs[~np.isnan(archs)].astype(np.int64)
        values = np.asarray(bench.query_many(found, task, metric).values, dtype=np.float64)
        return metric, values

    return lookup
