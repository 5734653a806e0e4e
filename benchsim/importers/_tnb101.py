"""TransNAS-Bench-101 ``.pth`` (``transnas-bench_v10141024.pth``) to benchsim tables.

The file (read by the official ``api/api.py`` of yawen-d/TransNASBench) is a torch pickle of::

    {"metrics_dict": {task: [metric, ...]}, "info_names": [...], "task_list": [7 tasks],
     "data": {"micro" | "macro": {arch_str: {task: {"metrics": {metric: [value per epoch]},
                                                    "model_info": {...}, "total_epochs": n}}}}}

One file holds both search spaces; each import writes one of them (``tnb101-micro`` or
``tnb101-macro``), indexed by :func:`benchsim.spaces.get_space` (``parse`` of the official
string).  Mapping:

* ``final``: every catalog metric is the official mode ``'best'``, the maximum over epochs
  (``get_single_metric(..., mode="best")``; for room_layout's ``*_neg_loss`` that is the lowest
  loss).  ``train_time_s`` is ``time_elapsed`` at the end of training: the training script logs
  the wall-clock time since the start of training after every epoch (``Timer.elapse_string``,
  ``HH:MM:SS``), so the total is its maximum.  ``naslib_valid`` and ``zen_score`` come from
  other sources and are NaN.
* ``epochs``: the raw value at every epoch (not the best so far), ``train_time_s`` = the
  cumulative ``time_elapsed``.  The file's losses (``*_loss``, ``*_l1_loss``) are not catalog
  metrics, and the table schema holds catalog metrics only, so they are not imported.  The
  benchmark trains each architecture once: that run is seed 0, and seed -1 (the mean over
  recorded seeds) repeats it so that seed-mean queries work as on NB201.
* ``seeds``: TNB101 records no per-seed metrics (``SEED_METRICS`` is empty), so no rows.

Model information (``inference_time``, params, FLOPs) is not a catalog metric and is not
imported.  Tasks outside the catalog, if a file had any, are ignored.

Reading needs PyTorch and unpickles the file with ``weights_only=False``, which can run code
named in it: import only a file downloaded from the official source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchsim.catalog import CATALOG
from benchsim.errors import DataError, InvalidArchitectureError, UnknownNameError
from benchsim.importers._io import progress as progress_bar
from benchsim.importers._io import sha256_file, torch_load
from benchsim.importers._tables import MEAN_SEED, TableBuilder
from benchsim.spaces import get_space
from benchsim.store import metric_columns

EXPECTED = "the official TransNAS-Bench-101 .pth (transnas-bench_v10141024.pth)"
SPACES = ("tnb101-micro", "tnb101-macro")
_NOT_IN_FILE = ("train_time_s", "naslib_valid", "zen_score")
EPOCH_COLUMNS = (
    *(m for m in metric_columns("tnb101-micro") if m not in _NOT_IN_FILE),
    "train_time_s",
)
"""Metric columns of the TNB101 ``epochs`` table: the file's catalog metrics, then time."""
_FILE_NAME = {
    **{m: m for m in EPOCH_COLUMNS if m != "train_time_s"},
    "train_time_s": "time_elapsed",
}
"""Our epoch column -> the file's metric name."""


def read_tnb101_pth(
    path: str | Path, *, space: str, benchmark: str | None = None, progress: bool = True
) -> dict[str, pd.DataFrame]:
    """Tables of one search space of a TransNAS-Bench-101 ``.pth`` file.

    Parameters
    ----------
    path
        The ``.pth`` file, unpickled with ``torch.load(weights_only=False)``: only pass a file
        you trust (downloaded from the official source), since unpickling can run code.
    space
        ``"tnb101-micro"`` or ``"tnb101-macro"``: the file holds both; read it once per space.
    benchmark
        Value of the ``benchmark`` column; default ``"<space>-pth"``.
    progress
        Show a progress bar over the architectures.

    Returns
    -------
    dict
        ``{"final", "seeds", "epochs"}`` DataFrames (see the module docstring for the mapping).

    Examples
    --------
    >>> path = "transnas-bench_v10141024.pth"
    >>> tables = read_tnb101_pth(path, space="tnb101-micro")  # doctest: +SKIP
    """
    return _read(Path(path).expanduser(), space, benchmark, progress)[0]


def _read(
    path: Path, space_name: str, benchmark: str | None, progress: bool
) -> tuple[dict[str, pd.DataFrame], list[dict]]:
    if space_name not in SPACES:
        raise UnknownNameError("search space", space_name, SPACES, "of a TransNAS-Bench-101 file")
    db = torch_load(path, EXPECTED)
    archs = _space_records(path, db, space_name.split("-")[1])
    space = get_space(space_name)
    builder = TableBuilder(benchmark or f"{space_name}-pth", space, EPOCH_COLUMNS)
    indexed = []
    for arch in archs:
        try:
            indexed.append((space.parse(arch), arch))
        except (InvalidArchitectureError, TypeError, AttributeError) as err:
            raise DataError(
                f"{path}: {arch!r} is not a {space_name} architecture ({err})"
            ) from None
    for index, arch in progress_bar(
        sorted(indexed), f"reading {space_name}", progress, len(indexed)
    ):
        record = archs[arch]
        if not isinstance(record, Mapping):
            raise DataError(
                f"{path}: record of {arch!r} is a {type(record).__name__}, expected a dict"
            )
        for task in CATALOG[space_name]:
            if task in record:
                _add_task(builder, task, index, record[task], f"{path} {arch} {task}")
    source = {"kind": "tnb101-pth", "path": str(path.resolve()), "sha256": sha256_file(path)}
    return builder.build(), [source]


def _space_records(path: Path, db: Any, key: str) -> Mapping[str, Any]:
    """``db["data"][key]``, with a one-line error for every other shape."""
    if not isinstance(db, Mapping):
        raise DataError(f"{path} holds a {type(db).__name__}; expected {EXPECTED}")
    if "data" not in db:
        if "meta_archs" in db and "arch2infos" in db:
            raise DataError(f"{path} is a NAS-Bench-201 file; use kind nb201-pth, not tnb101-pth")
        raise DataError(
            f"{path} has no 'data' key (keys: {sorted(map(str, db))[:6]}); expected {EXPECTED}"
        )
    data = db["data"]
    if not isinstance(data, Mapping) or key not in data:
        found = sorted(map(str, data)) if isinstance(data, Mapping) else type(data).__name__
        raise DataError(f"{path}: 'data' has no {key!r} space (found {found}); expected {EXPECTED}")
    archs = data[key]
    if not isinstance(archs, Mapping):
        raise DataError(f"{path}: data[{key!r}] is a {type(archs).__name__}, expected a dict")
    return archs


def _add_task(builder: TableBuilder, task: str, index: int, record: Any, where: str) -> None:
    metrics = record.get("metrics") if isinstance(record, Mapping) else None
    if not isinstance(metrics, Mapping):
        raise DataError(f"{where} has no 'metrics' dict; expected {EXPECTED}")
    curves = {
        column: _floats(metrics[name], where, name)
        for column, name in _FILE_NAME.items()
        if name in metrics
    }
    total = record.get("total_epochs")
    recorded = np.nan if total is None else _value(total, where, "total_epochs")
    epochs = max([int(recorded) if np.isfinite(recorded) else 0, *map(len, curves.values())])
    if epochs == 0:
        return
    block = np.full((1, epochs, len(EPOCH_COLUMNS)), np.nan)
    for name, curve in curves.items():
        block[0, : len(curve), builder.epoch_slot(name)] = curve
    builder.add_epochs(task, index, epochs, [MEAN_SEED, 0], np.concatenate([block, block]))
    final = {}
    for name in CATALOG[builder.space.name][task].metrics:
        curve = curves.get(name)
        if curve is not None and not np.isnan(curve).all():
            final[name] = float(np.nanmax(curve))  # mode 'best'; time: the cumulative total
    builder.set_final(task, index, final)


def _floats(values: Any, where: str, name: str) -> np.ndarray:
    """A metric list as float64; ``HH:MM:SS`` strings (as the training log writes time) in s."""
    if not isinstance(values, (Sequence, np.ndarray)) or isinstance(values, (str, bytes)):
        raise DataError(f"{where}: metric {name!r} is a {type(values).__name__}, expected a list")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.asarray([_value(v, where, name) for v in values], dtype=np.float64)
    if array.ndim != 1:
        raise DataError(f"{where}: metric {name!r} has shape {array.shape}, expected one per epoch")
    return array


def _value(value: Any, where: str, name: str) -> float:
    if value is None:
        return np.nan
    if isinstance(value, str) and ":" in value:
        try:
            seconds = 0.0
            for part in value.strip("[] ").split(":"):
                seconds = seconds * 60 + float(part)
            return seconds
        except ValueError:
            pass
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: metric {name!r} holds {value!r}, expected a number") from None
