"""Refusals before any work: a budget no search can use, more workers than architectures.

A run checks these when it starts (:meth:`~benchsim.runner.run.Run.start`), before its output
folder exists, so a mistyped budget leaves nothing behind and costs no time.
"""

from __future__ import annotations

import math

import numpy as np

from benchsim._checks import check_int
from benchsim.backends.base import Benchmark
from benchsim.errors import ConfigError
from benchsim.runner._budget import Budget
from benchsim.runner._execute import task_protocols

REPEATS_ALLOWED = 100
"""A budget may ask for at most this many evaluations of every architecture of the space."""


def check_budget_scale(
    bench: Benchmark,
    tasks: tuple[str, ...],
    budget: Budget,
    override: dict,
    weight_sharing: bool = False,
) -> None:
    """Refuse, before any work, a budget that cannot buy one answer or that no search can use.

    Too small: a simulated-time budget below the cheapest answer the table can give on a task
    (the fastest architecture's evaluation under the protocol; for a ``weight_sharing``
    search, whose first job is a training pass, one epoch of it) would end the search with
    nothing evaluated.  Too large: more than
    :data:`REPEATS_ALLOWED` evaluations of every architecture, in evaluations or in the
    simulated time they cost, is unbounded work (memory and checkpoints grow with it) that
    no search of a finite space needs.  Time bounds need costs known ahead, so they are
    checked where the backend records them (``Traits.recorded_costs``).
    """
    size = bench.space.size
    limit = REPEATS_ALLOWED * size
    if budget.evaluations is not None and budget.evaluations > limit:
        raise ConfigError(
            f"budget of {budget.evaluations:,} evaluations per task is more than {REPEATS_ALLOWED} "
            f"evaluations of each of the {size:,} architectures of {bench.space.name}; allowed: "
            f"at most {limit:,}"
        )
    if budget.seconds is None or not bench.traits.recorded_costs:
        return
    protocols = task_protocols(bench, tasks, override)
    archs = np.arange(size)
    for task in tasks:
        info = bench.task_info(task)
        times = np.asarray(bench.query_many(archs, task, "train_time_s").values, dtype=np.float64)
        times = times[np.isfinite(times)]
        if times.size == 0:
            continue
        evaluation = times * protocols[task].cost_scale
        first = "training epoch" if weight_sharing else "evaluation"
        cheapest = float(times.min() / info.epochs if weight_sharing else evaluation.min())
        if budget.seconds < cheapest:
            raise ConfigError(
                f"budget of {budget.seconds:g} simulated seconds per task cannot buy one answer "
                f"on {task}: the fastest architecture's {first} costs {cheapest:.1f} s; give "
                f"at least {math.ceil(cheapest)}s"
            )
        everything = float(evaluation.sum()) * REPEATS_ALLOWED
        if budget.seconds > everything:
            raise ConfigError(
                f"budget of {budget.seconds:g} simulated seconds per task is more than "
                f"{REPEATS_ALLOWED} evaluations of every architecture of {task} would cost; "
                f"allowed: at most {everything:.3g}s"
            )


def check_workers(workers: int, bench: Benchmark) -> None:
    """Refuse more workers than the space has architectures: they could never all be busy
    with different ones, and each is a slot of the event loop held from the start (a worker
    count in the millions would hold the run silently before its first answer)."""
    size = bench.space.size
    check_int("workers", workers, 1, high=size, why=f"the architectures of {bench.space.name}")
