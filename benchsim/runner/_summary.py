"""What a finished run reports: ``result.json``'s content and its trajectory table.

Both are read from the run's :class:`~benchsim.runner._trajectory.Trajectory`, its searchers'
recommendations and spending, and the benchmark: the test metric of each found architecture
under its task's protocol, where its search value came from (stand-alone training or a
supernet's estimate, never left unsaid), and on a table the recorded test metric of every row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from benchsim.backends.base import Benchmark, Protocol
from benchsim.runner._config import RunConfig
from benchsim.runner._search import SearchStats
from benchsim.runner._trajectory import TRAINING_KINDS, Trajectory

NOT_ANSWERS = (*TRAINING_KINDS, "task_distance")
"""Trajectory kinds that answer no architecture (not counted as evaluations)."""


def summarise(
    bench: Benchmark,
    config: RunConfig,
    protocols: dict[str, Protocol],
    recommendations: dict[str, tuple[int, float] | None],
    traj: Trajectory,
    stats: list[SearchStats],
    owner: dict[str, int],
) -> dict[str, Any]:
    """result.json's content; the test metric is read under the task's evaluation protocol
    (its schedule: on the live backend, the same standalone training an evaluation got).

    ``owner`` maps each task to the search that searched it: a task's evaluations are those
    of its own search (another search may have asked about it as a source task)."""
    tasks = tuple(protocols)
    searches = traj.numbers("search")
    counts = {
        task: int(
            np.count_nonzero(
                traj.rows(lambda t, kind, _, task=task: t == task and kind not in NOT_ANSWERS)
                & (searches == owner.get(task, -1))
            )
        )
        for task in tasks
    }
    per_task: dict[str, Any] = {}
    for task in tasks:
        rec = recommendations.get(task)
        info = bench.task_info(task)
        if rec is None:
            per_task[task] = {
                "arch": None,
                "arch_str": None,
                "search_metric": None,
                "test_metric": None,
                "evaluations": counts[task],
            }
            continue
        arch, value = rec
        test = bench.query(arch, task, info.test_metric, schedule=protocols[task].schedule).value
        source = _source_of(traj, task, int(arch), float(value))
        per_task[task] = {
            "arch": int(arch),
            "arch_str": bench.space.format(int(arch)),
            "search_metric": float(value),
            "search_metric_name": search_metric_label(info.search_metric, source),
            "search_metric_source": source,
            **({} if _standalone(source) else {"search_metric_estimates": info.search_metric}),
            "test_metric": float(test),
            "test_metric_name": info.test_metric,
            "test_metric_on": _cross_task(bench, int(arch), task),
            "evaluations": counts[task],
        }
    return {
        "algo": config.algo,
        "backend": config.backend,
        "benchmark": config.benchmark,
        "seed": config.seed,
        "tasks": per_task,
        "simulated_seconds": float(sum(s.simulated_seconds for s in stats)),
        "source_tasks": {
            "evaluations": int(sum(s.source_evaluations for s in stats)),
            "simulated_seconds": float(sum(s.source_seconds for s in stats)),
        },
        "searcher_seconds": round(sum(s.searcher_seconds for s in stats), 6),
        "wall_seconds": None,
    }


def _standalone(source: str | None) -> bool:
    """Whether a search value labelled ``source`` is the stand-alone metric itself (a
    lookup, a stand-alone training, or the upper bound that answers stand-alone values)."""
    return not source or "standalone" in source


def search_metric_label(metric: str, source: str | None) -> str:
    """What a run's search value is, by the trajectory label of where it came from: the
    stand-alone ``metric`` itself, or a supernet's estimate of it (recorded, modelled, partly
    trained or live), or a mini-batch fitness built from such estimates (a search stopped
    before any whole-split evaluation).  Never the bare metric name for an estimate."""
    if _standalone(source):
        return metric
    if source.startswith("fitness:"):
        return f"mini-batch fitness from supernet estimates of {metric}"
    return f"supernet estimate of {metric}"


def _cross_task(bench: Benchmark, arch: int, searched: str) -> dict[str, dict[str, Any]]:
    """The found architecture's recorded test metric on every other task of a table benchmark
    (how the NAS-Bench-201 paper reports one CIFAR-10 search on three datasets); ``{}`` on a
    live backend, where it would mean training the architecture on each task."""
    if not bench.traits.free_test_lookups:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for task in bench.tasks:
        if task == searched:
            continue
        metric = bench.task_info(task).test_metric
        value = float(bench.query_many(np.asarray([arch]), task, metric).values[0])
        out[task] = {"name": metric, "value": None if value != value else value}
    return out


def _source_of(traj: Trajectory, task: str, arch: int, value: float) -> str | None:
    """Where the recommended architecture's search value came from (the trajectory's label:
    stand-alone training, a recorded or a modelled supernet estimate, ...).

    A search cut short before any full evaluation recommends by its mini-batch fitness:
    ``"fitness:<label>"`` then.
    """
    labels, codes = traj.labels, traj.numbers("label")
    here = traj.numbers("arch") == arch
    full = traj.rows(lambda t, kind, _: t == task and kind in ("evaluate", "full_eval"))
    rows = np.flatnonzero(full & here & (traj.numbers("value") == value))
    if rows.size:
        return labels[codes[rows[-1]]][2]
    rows = np.flatnonzero(traj.rows(lambda t, kind, _: t == task and kind == "sampled_eval") & here)
    return f"fitness:{labels[codes[rows[-1]]][2]}" if rows.size else None


def trajectory_table(bench: Benchmark, traj: Trajectory) -> pa.Table:
    """The run's trajectory table: with each architecture's string and, on a table, the
    recorded test metric of each row's architecture on its task."""
    test_value = None
    if bench.traits.free_test_lookups and len(traj):
        # known[label, arch]: the test metric of every architecture on the label's task, and
        # NaN in the last place, which arch -1 (a row without an architecture) reads.
        known = np.full((len(traj.labels), bench.space.size + 1), np.nan)
        everything = bench.space.enumerate()
        for task in dict.fromkeys(label[0] for label in traj.labels):
            metric = bench.task_info(task).test_metric
            rows = [i for i, label in enumerate(traj.labels) if label[0] == task]
            known[rows, :-1] = bench.query_many(everything, task, metric).values
        test_value = known[traj.numbers("label"), traj.numbers("arch")]
    return traj.to_arrow(bench.space.format, test_value, bench.space.size)
