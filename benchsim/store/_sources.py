"""Readers for the source formats more than one converter meets: NASLib zips and pickles.

Pickles are read with an unpickler that resolves only the few globals the pinned files use
(numpy array reconstruction), after the file's SHA-256 has been checked, so a swapped file can
neither run code nor slip through.  HELP's ``.pt`` files are zip archives whose ``data.pkl`` is
a plain list: they are read with zipfile + pickle, without torch (whose ``torch.load`` changed
its defaults in 2.6 and is not a dependency of the installer).
"""

from __future__ import annotations

import io
import json
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchsim.errors import DataError

ZEN_FAILED = -1e8
"""NASLib's Zen-score value for a network it could not score (no path from input to output).
It is a marker, not a measurement, so the converters store NaN instead."""

_TUPLE_CHARS = str.maketrans("", "", "(), ")
"""Characters :func:`read_naslib_zen_zip` strips from ``"(4, 0, 3, 1, 4, 3)"`` -> ``"403143"``."""

_NUMPY_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only an allow-list of ``(module, name)`` globals."""

    def __init__(self, data: bytes, allowed: set[tuple[str, str]], source: str) -> None:
        super().__init__(io.BytesIO(data))
        self._allowed, self._source = allowed, source

    def find_class(self, module: str, name: str):
        if (module, name) not in self._allowed:
            raise DataError(
                f"{self._source}: pickle asks for {module}.{name}, which a benchsim source never "
                f"needs; the file is not the pinned one"
            )
        if module == "numpy.core.multiarray":  # numpy 2 moved it; avoid the deprecation shim
            module = "numpy._core.multiarray" if hasattr(np, "_core") else module
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise DataError(f"{self._source}: pickle references external storage {pid!r}")


def load_pickle(path: Path, *, numpy: bool = False) -> object:
    """Unpickle a verified file; ``numpy=True`` allows numpy arrays, else builtins only."""
    allowed = _NUMPY_GLOBALS if numpy else set()
    try:
        return _RestrictedUnpickler(path.read_bytes(), allowed, path.name).load()
    except (pickle.UnpicklingError, EOFError) as exc:
        raise DataError(f"{path.name}: not a readable pickle ({exc})") from None


def load_pt_list(path: Path) -> object:
    """The object in a torch ``.pt`` zip whose ``data.pkl`` holds only builtins (no tensors)."""
    try:
        with zipfile.ZipFile(path) as zf:
            member = next((n for n in zf.namelist() if n.endswith("/data.pkl")), None)
            if member is None:
                raise DataError(f"{path.name}: no data.pkl inside; not a torch zip archive")
            data = zf.read(member)
    except zipfile.BadZipFile:
        raise DataError(f"{path.name}: not a zip archive (torch >= 1.6 .pt format)") from None
    try:
        return _RestrictedUnpickler(data, set(), path.name).load()
    except (pickle.UnpicklingError, EOFError) as exc:
        raise DataError(f"{path.name}: data.pkl is not a readable pickle ({exc})") from None


def read_naslib_zen_zip(path: Path, search_space: str) -> pd.DataFrame:
    """All records of a NASLib ``*_zen.zip`` benchmark file.

    The zip holds ``zen/benchmark--<search_space>--<task>--<start>.json`` chunks, each a list of
    ``{"idx", "arch": "(d, d, ...)", "zen": {"score", "time"}, "val_accuracy"}``.

    Returns
    -------
    pandas.DataFrame
        Columns ``task``, ``op_indices`` (digit string), ``naslib_valid`` (``val_accuracy``) and
        ``zen_score`` (NaN where NASLib wrote :data:`ZEN_FAILED`).
    """
    pattern = re.compile(rf"zen/benchmark--{re.escape(search_space)}--([\w-]+)--\d+\.json")
    tasks: list[str] = []
    archs: list[str] = []
    vals: list[float] = []
    zens: list[float] = []
    with zipfile.ZipFile(path) as zf:
        for name in sorted(zf.namelist()):
            if name.endswith("/"):
                continue
            match = pattern.fullmatch(name)
            if match is None:
                raise DataError(f"{path.name}: unexpected member {name!r} (not {search_space})")
            try:
                records = json.loads(zf.read(name))
                archs += [r["arch"] for r in records]
                vals += [r["val_accuracy"] for r in records]
                zens += [r["zen"]["score"] for r in records]
            except (KeyError, TypeError, ValueError) as exc:
                raise DataError(f"{path.name}:{name}: malformed record ({exc!r})") from None
            tasks += [match[1]] * len(records)
    op_indices = np.array([str(a).translate(_TUPLE_CHARS) for a in archs], dtype=object)
    bad = [a for a, o in zip(archs, op_indices, strict=True) if not o.isdigit()][:1]
    if bad:
        raise DataError(f"{path.name}: arch {bad[0]!r} is not a tuple of op numbers")
    out = pd.DataFrame(
        {
            "task": tasks,
            "op_indices": op_indices,
            "naslib_valid": np.asarray(vals, dtype=np.float64),
            "zen_score": np.asarray(zens, dtype=np.float64),
        }
    )
    out.loc[out["zen_score"] == ZEN_FAILED, "zen_score"] = np.nan
    return out


def _exact_floats() -> dict[str, str]:
    """``read_csv`` arguments that parse every decimal to the nearest double, as Python's
    ``float`` does.  pandas does so by default from 3.1 on (and deprecates the argument);
    before that its default parser is off by one bit on some 17-digit values
    (``3.6058499999999998`` became ``3.60585``), and a numpy 1.x environment gets such a
    pandas (3.1 needs numpy 2), so its tables, and the runs on them, would differ."""
    major, minor = (int(part) for part in pd.__version__.split(".")[:2])
    return {} if (major, minor) >= (3, 1) else {"float_precision": "round_trip"}


def read_csv(path: Path, columns: list[str], rows: int | None = None, **kw) -> pd.DataFrame:
    """Read a CSV and check it has ``columns`` (and ``rows`` rows), naming what is missing.

    Floats are parsed exactly, whatever the pandas version (:func:`_exact_floats`)."""
    try:
        frame = pd.read_csv(path, **{**_exact_floats(), **kw})
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path.name}: not a readable CSV ({exc})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path.name}: lacks columns {missing}; has {list(frame.columns)}")
    if rows is not None and len(frame) != rows:
        raise DataError(f"{path.name}: has {len(frame)} rows, expected {rows}")
    return frame
