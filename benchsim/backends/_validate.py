"""Validation of query arguments beyond a name lookup: the metrics of one
:meth:`~benchsim.backends.base.Benchmark.query`, and a
:meth:`~benchsim.backends.base.Benchmark.query_many` batch that names a task per question (task
codes from names or integers, and the one metric valid on all of them).

Apart from the contract so that it stays short; each runs once per call (``query`` caches its
outcome per task and metrics), never per question of a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from benchsim.catalog import TaskInfo
from benchsim.errors import ConfigError, UnknownTaskError


def metric_names(
    metric: str | Sequence[str] | None, resolve_metric: Callable[[str | None], str]
) -> tuple[str, ...]:
    """Validated metric tuple of one query: one name, a list of them, or ``None`` (the task's
    search metric), each through ``resolve_metric``."""
    if metric is None or isinstance(metric, str):
        names = [metric]
    elif isinstance(metric, (list, tuple)):
        names = list(metric)
    else:
        raise ConfigError(
            f"metric == {metric!r} has type {type(metric).__name__}; give a metric name, "
            "a list of names or None"
        )
    if not names:
        raise ConfigError("metric == [], give at least one metric name")
    return tuple(resolve_metric(m) for m in names)


def task_codes(
    tasks: Sequence[str] | np.ndarray,
    shape: tuple[int, ...],
    names: tuple[str, ...],
    resolve_task: Callable[[str], str],
    benchmark: str,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Integer task codes (positions in ``names``) of a batch of ``shape`` questions, and the
    codes present when finding them needed a pass anyway (``None`` otherwise)."""
    arr = np.asarray(tasks)
    n_tasks = len(names)
    if arr.shape != shape:
        raise ConfigError(
            f"tasks has shape {arr.shape}, must be a single name or match archs {shape}"
        )
    present: np.ndarray | None = None
    if arr.dtype.kind in "iu":
        codes = arr.astype(np.int64, copy=False)
        # One pass: a negative code viewed as unsigned is huge, so max() catches both.
        if codes.size and codes.view(np.uint64).max() >= n_tasks:
            raise UnknownTaskError(
                int(codes[(codes < 0) | (codes >= n_tasks)][0]),
                [f"{i}={t}" for i, t in enumerate(names)],
                f"code in benchmark {benchmark}",
            )
    elif arr.dtype.kind in "USO":
        uniq, inverse = np.unique(arr, return_inverse=True)
        resolved = [resolve_task(str(u)) for u in uniq]
        lookup = np.array([names.index(n) for n in resolved], dtype=np.int64)
        codes = lookup[inverse.reshape(arr.shape)]
        present = np.unique(lookup)
    else:
        raise ConfigError(
            f"tasks has dtype {arr.dtype}; give task names or integer task codes 0..{n_tasks - 1}"
        )
    return codes, present


def batch_metric(
    metric: str | None,
    codes: np.ndarray,
    present: np.ndarray | None,
    infos: list[TaskInfo],
    resolve_metric: Callable[[str, str | None], str],
) -> str:
    """The one metric a mixed-task batch asks for, valid on every task it holds.

    The cheap check against all tasks (``infos``, in code order) comes first; only when it
    fails does the batch get scanned for the tasks it really holds (an O(n) pass instead of a
    sort).
    """
    if metric is None and len({i.search_metric for i in infos}) == 1:
        return infos[0].search_metric
    if metric is not None and all(metric in i.metrics for i in infos):
        return metric
    if present is None:
        present = np.flatnonzero(np.bincount(codes.ravel(), minlength=len(infos)))
    held = [infos[int(i)] for i in present] or infos[:1]
    if metric is None:
        wanted = {i.search_metric for i in held}
        if len(wanted) > 1:
            listed = ", ".join(f"{i.name}: {i.search_metric}" for i in held)
            raise ConfigError(
                f"metric == None over tasks whose search metrics differ ({listed}); "
                "give metric explicitly"
            )
        return held[0].search_metric
    for info in held:
        resolve_metric(info.name, metric)
    return metric
