"""TransNAS-Bench-101 tables (micro and macro) from NASGraph's CSVs and NASLib's zips.

NASGraph's ``transbench101_<task>.csv`` has 7,352 rows per task: rows 0-3,255 are the macro
space in its official order (= our macro index), rows 3,256-7,351 the micro space in
lexicographic string order (= our micro index, base-4 op_indices).  Every metric column is the
best over epochs (official API mode 'best'), except the ``*loss`` columns, which are the worst
and are therefore never read; room_layout's metric is the negated L2 loss (``*_neg_loss``,
higher is better), which *is* a best-mode column.  ``time_elapsed`` becomes ``train_time_s``.

``naslib_valid`` and ``zen_score`` come from NASLib's zips keyed by op_indices (the last-epoch
validation value, so it differs from the best-mode ``valid_*``; their rank correlation is
0.89-1.0 per task).  The sources hold no per-seed or per-epoch values: ``seeds`` and
``epochs`` are written empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from benchsim.catalog import CATALOG
from benchsim.errors import DataError
from benchsim.store import _archs, _schema
from benchsim.store._builders import register_builder
from benchsim.store._sources import read_csv, read_naslib_zen_zip

NASGRAPH_ROWS = 7352
ROWS = {"tnb101-macro": slice(0, 3256), "tnb101-micro": slice(3256, NASGRAPH_ROWS)}
NASLIB_SPACE = {"tnb101-micro": "transbench101_micro", "tnb101-macro": "transbench101_macro"}
NASLIB_FILE = {"tnb101-micro": "naslib.tnb101_micro_zen", "tnb101-macro": "naslib.tnb101_macro_zen"}
_NOT_NASGRAPH = {"train_time_s": "time_elapsed", "naslib_valid": None, "zen_score": None}


def convert(name: str, files: Mapping[str, Path]) -> dict[str, pd.DataFrame]:
    """Build the ``final`` frame (and empty ``seeds``/``epochs``) of ``tnb101-micro|macro``.

    ``files`` maps manifest ids (``"nasgraph.tnb101.jigsaw"`` ...) to verified local paths.
    """
    size = _archs.space_size(name)
    rows = ROWS[name]
    if rows.stop - rows.start != size:
        raise DataError(f"{name} has {size} architectures but NASGraph holds {rows}")
    strings = _archs.arch_strings(name)
    values: dict[str, dict[str, np.ndarray]] = {}
    for task, info in CATALOG[name].items():
        path = files[f"nasgraph.tnb101.{task}"]
        columns = {m: _NOT_NASGRAPH.get(m, m) for m in info.metrics}
        needed = [c for c in columns.values() if c is not None]
        if any(c.endswith("loss") and not c.endswith("neg_loss") for c in needed):
            raise DataError(f"{task}: a worst-over-epochs *loss column was asked for")
        frame = read_csv(path, [*needed, "file_id"], rows=NASGRAPH_ROWS)
        if not (frame["file_id"].to_numpy() == np.arange(NASGRAPH_ROWS)).all():
            raise DataError(f"{path.name}: file_id is not 0..{NASGRAPH_ROWS - 1} in order")
        part = frame.iloc[rows]
        values[task] = {m: part[c].to_numpy(np.float64) for m, c in columns.items() if c}
    _naslib(files[NASLIB_FILE[name]], name, values)
    final = _schema.final_frame(name, strings, values)
    return {"final": final, "seeds": None, "epochs": None}


def _naslib(path: Path, name: str, values: dict[str, dict[str, np.ndarray]]) -> None:
    """``naslib_valid`` and ``zen_score`` per task, placed by op_indices."""
    keys = _archs.op_index_keys(name)
    records = read_naslib_zen_zip(path, NASLIB_SPACE[name])
    for task in CATALOG[name]:
        rows = records[records["task"] == task]
        pos = _archs.lookup(keys, rows["op_indices"].to_numpy(), f"{path.name} {task}")
        for column in ("naslib_valid", "zen_score"):
            col = np.full(len(keys), np.nan)
            col[pos] = rows[column].to_numpy()
            values[task][column] = col


@register_builder("tnb101-micro")
def convert_micro(files: Mapping[str, Path]) -> dict[str, pd.DataFrame]:
    """The tnb101-micro builder (:func:`convert`)."""
    return convert("tnb101-micro", files)


@register_builder("tnb101-macro")
def convert_macro(files: Mapping[str, Path]) -> dict[str, pd.DataFrame]:
    """The tnb101-macro builder (:func:`convert`)."""
    return convert("tnb101-macro", files)
