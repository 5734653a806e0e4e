"""NAS-Bench-201 training records (``ArchResults`` / ``ResultsCount``) to benchsim rows.

The NATS-Bench topology "simple" files and the NAS-Bench-201 ``.pth`` files store the same
records, as written by ``ArchResults.state_dict()`` of the official API: per schedule (``hp``
``"12"`` or ``"200"``) an ``all_results`` dict keyed by ``(dataset, seed)`` whose values hold
per-epoch ``train_acc1es`` / ``train_times`` (keyed by epoch) and ``eval_acc1es`` keyed
``"<split>@<epoch>"``.  This module is the one place
that maps them to the catalog (``benchsim/catalog.py``), so both importers
agree by construction.

Mapping (the official ``get_more_info`` semantics, one benchsim task per dataset):

==========================  ==================================  =========================
column                      cifar10                             cifar100, ImageNet16-120
==========================  ==================================  =========================
``train_acc``               ``cifar10-valid`` train             train
``valid_acc``               ``cifar10-valid`` ``x-valid``       ``x-valid``
``test_acc``                ``cifar10`` ``ori-test``            ``x-test``
``valtest_acc``             -                                   ``ori-test``
``valid_setting_test_acc``  ``cifar10-valid`` ``ori-test``      -
``train_time_s``            ``cifar10-valid`` train times       train times
``params_mb``               ``cifar10-valid`` params            params
``nats_latency_ms``         ``cifar10-valid`` latency           latency
``<column>_eval_time_s``    that column's set's eval times      that column's set's
==========================  ==================================  =========================

``train_time_s`` in ``epochs`` is the training time up to and including that epoch (the API's
``train-all-time``), so at the last epoch it is the schedule's total, the value in ``final``.
Each ``<column prefix>_eval_time_s`` is the same sum over the set's recorded evaluation times
(the API's ``<set>-all-time``), held at the epochs where the set's accuracy is (the API
answers neither elsewhere); ``nats_latency_ms`` is the runs' mean latency, in milliseconds
(seconds in the API).
The files also record per-epoch losses; they are not imported because the table schema holds
catalog metrics only (``benchsim/store/_schema.py``).  Where the 200-epoch files evaluate a
split only after the last epoch (``x-valid``/``x-test`` of cifar100 and ImageNet16-120,
``ori-test`` of ``cifar10-valid``), the other epochs are NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from benchsim.catalog import CATALOG, SEED_METRICS
from benchsim.errors import DataError
from benchsim.importers._tables import MEAN_SEED, TableBuilder

EPOCH_COLUMNS = (
    "train_acc",
    "valid_acc",
    "test_acc",
    "valtest_acc",
    "valid_setting_test_acc",
    "train_time_s",
    "valid_eval_time_s",
    "test_eval_time_s",
    "valtest_eval_time_s",
    "valid_setting_test_eval_time_s",
)
"""Metric columns of the NB201 ``epochs`` table (all catalog metrics the files record)."""

SCHEDULES = ("12", "200")
"""The official ``hp`` keys: two separate cosine schedules of 12 and 200 epochs."""

FINAL_SCHEDULE = "200"


@dataclass(frozen=True)
class _Source:
    train: str
    evals: tuple[tuple[str, str, str], ...]  # (column prefix, dataset, split name)

    @property
    def datasets(self) -> frozenset[str]:
        return frozenset({self.train, *(ds for _, ds, _ in self.evals)})


_SOURCES = {
    "cifar10": _Source(
        "cifar10-valid",
        (
            ("valid", "cifar10-valid", "x-valid"),
            ("valid_setting_test", "cifar10-valid", "ori-test"),
            ("test", "cifar10", "ori-test"),
        ),
    ),
    **{
        ds: _Source(
            ds, (("valid", ds, "x-valid"), ("test", ds, "x-test"), ("valtest", ds, "ori-test"))
        )
        for ds in ("cifar100", "ImageNet16-120")
    },
}
_COL = {name: j for j, name in enumerate(EPOCH_COLUMNS)}


@cache
def _eval_keys(split: str, epochs: int) -> tuple[str, ...]:
    return tuple(f"{split}@{e}" for e in range(epochs))


def _state(obj: Any) -> Any:
    """The state dict of an ``ArchResults``/``ResultsCount`` object, or ``obj`` if already one."""
    if isinstance(obj, Mapping):
        return obj
    if callable(getattr(obj, "state_dict", None)):
        return obj.state_dict()
    return vars(obj) if hasattr(obj, "__dict__") else obj


def _series(record: Any, keys: Sequence[Any], where: str) -> np.ndarray:
    """Values of ``record[k]`` for each key as float64 (NaN where absent or None)."""
    if isinstance(record, Mapping):
        get = record.get
        values = [get(key) for key in keys]
    elif isinstance(record, Sequence) and not isinstance(record, str):  # per-epoch lists
        values = [*record[: len(keys)], *[None] * (len(keys) - len(record))]
    else:
        return np.full(len(keys), np.nan)
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next(v for v in values if not isinstance(v, (int, float, np.number, type(None))))
        raise DataError(f"{where} holds {bad!r} where a number belongs") from None


def _field(record: Mapping[str, Any], key: str, where: str) -> Any:
    try:
        return record[key]
    except (KeyError, TypeError):
        raise DataError(
            f"{where} has no {key!r}; expected a NAS-Bench-201 ArchResults/ResultsCount record"
        ) from None


def add_architecture(
    builder: TableBuilder, index: int, schedules: Mapping[str, Any], where: str
) -> None:
    """Add one architecture's records (``{"12": ArchResults state, "200": ...}``) to ``builder``.

    ``where`` names the source for error messages, e.g. the file's path.
    """
    unknown = sorted(set(map(str, schedules)) - set(SCHEDULES))
    if unknown:
        raise DataError(
            f"{where} has schedules {unknown}; expected only {list(SCHEDULES)} "
            "(the NAS-Bench-201 topology space; NATS-Bench sss files have '01'/'12'/'90')"
        )
    official = builder.space.format(index)
    for hp, raw in schedules.items():
        state = _state(raw)
        at = f"{where} (architecture {index}, hp {hp})"
        arch_str = state.get("arch_str") if isinstance(state, Mapping) else None
        if arch_str not in (None, official):
            raise DataError(
                f"{at} is {arch_str!r}, but architecture {index} of NAS-Bench-201 is {official!r}"
            )
        runs = _field(state, "all_results", at)
        if not isinstance(runs, Mapping):
            raise DataError(f"{at}: 'all_results' is a {type(runs).__name__}, expected a dict")
        _add_schedule(builder, index, str(hp), {k: _state(v) for k, v in runs.items()}, at)


def _add_schedule(
    builder: TableBuilder, index: int, hp: str, runs: Mapping[Any, Any], at: str
) -> None:
    epochs = int(hp)
    steps = range(epochs)
    for key, run in runs.items():
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], (int, np.integer))):
            raise DataError(f"{at}: run key {key!r} is not a (dataset, seed) pair")
        if not isinstance(run, Mapping):
            raise DataError(f"{at}: run {key!r} is a {type(run).__name__}, expected a dict")
    for task, source in _SOURCES.items():
        seeds = sorted({int(s) for ds, s in runs if ds in source.datasets})
        if not seeds:
            continue
        block = np.full((len(seeds) + 1, epochs, len(EPOCH_COLUMNS)), np.nan)
        params: list[float] = []
        latencies: list[float] = []
        for s, seed in enumerate(seeds, start=1):
            run = runs.get((source.train, seed))
            if run is not None:
                _check_epochs(run, epochs, f"{at} run ({source.train}, {seed})")
                at_run = f"{at} run ({source.train}, {seed})"
                block[s, :, _COL["train_acc"]] = _series(run.get("train_acc1es"), steps, at_run)
                times = _series(run.get("train_times"), steps, at_run)
                block[s, :, _COL["train_time_s"]] = np.cumsum(times)
                if run.get("params") is not None:
                    params.append(_number(run["params"], f"{at_run} params"))
                latency = _latency(run.get("latency"), f"{at_run} latency")
                if latency is not None:
                    latencies.append(latency)
            for prefix, dataset, split in source.evals:
                run = runs.get((dataset, seed))
                if run is None:
                    continue
                _check_epochs(run, epochs, f"{at} run ({dataset}, {seed})")
                keys = _eval_keys(split, epochs)
                where = f"{at} run ({dataset}, {seed})"
                accuracy = _series(run.get("eval_acc1es"), keys, where)
                block[s, :, _COL[f"{prefix}_acc"]] = accuracy
                seconds = np.cumsum(_series(run.get("eval_times"), keys, where))
                seconds[np.isnan(accuracy)] = np.nan  # held where the set was evaluated
                block[s, :, _COL[f"{prefix}_eval_time_s"]] = seconds
        with warnings.catch_warnings():  # all-NaN cells stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            block[0] = np.nanmean(block[1:], axis=0)
        builder.add_epochs(task, index, epochs, [MEAN_SEED, *seeds], block)
        if hp == FINAL_SCHEDULE:
            _add_final(builder, task, index, seeds, block[:, -1, :], params, latencies)


def _add_final(
    builder: TableBuilder,
    task: str,
    index: int,
    seeds: Sequence[int],
    last: np.ndarray,
    params: Sequence[float],
    latencies: Sequence[float],
) -> None:
    """Final values: the last epoch of the 200-epoch schedule, seed mean (row 0 of ``last``);
    parameters and latency are the means over the training runs (``get_compute_costs``)."""
    metrics = CATALOG["nb201"][task].metrics
    values = {name: last[0, j] for name, j in _COL.items() if name in metrics}
    values["params_mb"] = float(np.mean(params)) if params else np.nan
    values["nats_latency_ms"] = float(np.mean(latencies)) * 1000.0 if latencies else np.nan
    builder.set_final(task, index, values)
    for s, seed in enumerate(seeds, start=1):
        per_seed = {name: last[s, _COL[name]] for name in SEED_METRICS["nb201"][task]}
        builder.add_seed(task, index, seed, per_seed)


def _latency(value: Any, where: str) -> float | None:
    """One run's latency in seconds as ``ResultsCount.get_latency`` gives it (the mean of the
    recorded list), ``None`` where none was measured (the API's ``-1``, dropped from its
    means, as ``ArchResults.get_compute_costs`` drops values that are not positive)."""
    if value is None:
        return None
    values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    seconds = [_number(v, where) for v in values]
    mean = sum(seconds) / len(seconds) if seconds else -1.0
    return mean if mean > 0 else None


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where} is {value!r}, expected a number") from None


def _check_epochs(run: Mapping[str, Any], epochs: int, where: str) -> None:
    recorded = run.get("epochs")
    if recorded is not None and _number(recorded, f"{where} epochs") != epochs:
        raise DataError(f"{where} has {recorded} epochs, but its schedule hp is {epochs}")
