"""Write one benchmark's table folder: validated, atomically, ``meta.json`` last.

Layout and rules: data/README.md.  The write happens in two phases so that a failure leaves
either the previous complete install or nothing:

1. every file (``final.parquet``, ``final.arrow``, ``seeds.parquet``, ``epochs.parquet``, then
   ``meta.json`` with their SHA-256s and ``meta.json.sha256`` with its own) is written and
   hashed under a temporary name in the target folder; an error here deletes the temporaries
   and, if this call created the folder, the folder;
2. the old ``meta.json`` is removed (the folder no longer counts as installed), each table file
   is renamed into place with :func:`os.replace`, and the new ``meta.json`` is renamed last.

Both phases run holding the folder's lock (:mod:`benchsim.store._lock`), so two processes
writing one table take turns instead of renaming their files over each other's.

Every file the table backend reads is checked against these hashes when it is first used
(:mod:`benchsim._integrity`), so a modified or damaged table never answers a query.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from benchsim._integrity import remember
from benchsim._paths import tables_dir
from benchsim._version import __version__
from benchsim.errors import ConfigError, DataError, UnknownNameError
from benchsim.store import _archs, _schema
from benchsim.store._fetch import sha256_of
from benchsim.store._lock import holding

SCHEMA_VERSION = 1
TABLE_FILES = ("final.parquet", "final.arrow", "seeds.parquet", "epochs.parquet")
META_FILE = "meta.json"
META_SUM = "meta.json.sha256"
"""The SHA-256 of ``meta.json`` (which cannot hold its own), checked on every open."""
TABLE_NAMES = ("final", "seeds", "epochs")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_benchmark_name(benchmark: str) -> str:
    """A benchmark name is a folder name: letters, digits, ``.``, ``_``, ``-`` (max 64)."""
    if not isinstance(benchmark, str) or not _NAME.fullmatch(benchmark):
        raise ConfigError(
            f"benchmark name {benchmark!r} is not a valid table folder name; use letters, "
            f"digits, '.', '_' or '-', starting with a letter or digit (e.g. 'nb201-nats')"
        )
    return benchmark


def write_tables(
    benchmark: str,
    space: str,
    tables: Mapping[str, pd.DataFrame | None],
    sources: list[dict],
    root: Path | None = None,
) -> Path:
    """Validate and write the table folder ``<root>/<benchmark>/``; return the folder.

    Used by the installer (``benchmark == space``) and by the importers (a benchmark of its own,
    e.g. ``"nb201-nats"`` over space ``"nb201"``), so both produce identical schemas.

    Parameters
    ----------
    benchmark
        Folder name and value of the ``benchmark`` column.
    space
        Search space whose catalog entry fixes the tasks and metric columns.
    tables
        ``"final"`` (required: the complete grid, see :func:`~benchsim.store.final_frame`),
        and optionally ``"seeds"`` and ``"epochs"`` (missing or ``None``: written empty).  A
        ``benchmark`` column may be left out; it is filled in.
    sources
        JSON-serialisable description of every source file used (path + sha256 at least),
        recorded in ``meta.json`` so a table can be traced to the bytes it came from.
    root
        Parent folder; default ``$BENCHSIM_HOME/tables``.

    Raises
    ------
    DataError
        A table breaks the schema (message names the table, column or row and the rule).
    ConfigError
        A bad benchmark name, or sources that are not JSON.
    """
    check_benchmark_name(benchmark)
    _schema.task_infos(space)  # raises UnknownNameError for an unknown space
    unknown = [k for k in tables if k not in TABLE_NAMES]
    if unknown:
        raise UnknownNameError("table", unknown[0], TABLE_NAMES, "in write_tables(tables=...)")
    if tables.get("final") is None:
        raise DataError(f"write_tables({benchmark!r}): the 'final' table is required")
    final = _schema.final_table(tables["final"], benchmark, space)
    arrays = {
        "final.parquet": final,
        "final.arrow": _arrow_twin(final, benchmark, space),
        "seeds.parquet": _schema.seeds_table(tables.get("seeds"), benchmark, space),
        "epochs.parquet": _schema.epochs_table(tables.get("epochs"), benchmark, space),
    }
    try:
        sources_json = json.loads(json.dumps(list(sources)))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"sources must be JSON-serialisable dicts ({exc})") from None

    parent = Path(root) if root is not None else tables_dir()
    with holding(parent, benchmark, f"writing the {benchmark} tables"):
        return _write_folder(parent / benchmark, arrays, benchmark, space, sources_json)


def _write_folder(
    folder: Path, arrays: dict[str, pa.Table], benchmark: str, space: str, sources: list
) -> Path:
    """Phases 1 and 2 of the module docstring, under the folder's lock."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temps: dict[str, Path] = {}
    try:
        for name, table in arrays.items():
            temps[name] = _write_temp(folder, name, tag, lambda p, t=table, n=name: _dump(n, t, p))
        meta = {
            "schema_version": SCHEMA_VERSION,
            "benchmark": benchmark,
            "space": space,
            "size": _archs.space_size(space),
            "tasks": [asdict(info) for info in _schema.task_infos(space).values()],
            "sources": sources,
            "tables": {name: sha256_of(path) for name, path in temps.items()},
            "rows": {name: arrays[name].num_rows for name in arrays},
            "benchsim_version": __version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        text = json.dumps(meta, indent=1) + "\n"
        temps[META_FILE] = _write_temp(folder, META_FILE, tag, lambda p: p.write_text(text))
        meta_digest = sha256_of(temps[META_FILE])
        temps[META_SUM] = _write_temp(
            folder, META_SUM, tag, lambda p: p.write_text(meta_digest + "\n")
        )
        (folder / META_FILE).unlink(missing_ok=True)
        for name in (*TABLE_FILES, META_SUM, META_FILE):
            os.replace(temps[name], folder / name)
            del temps[name]
        for name, digest in (*meta["tables"].items(), (META_FILE, meta_digest)):
            remember(folder / name, digest)  # hashed as written: the first open need not
    except BaseException:
        for path in temps.values():
            path.unlink(missing_ok=True)
        if created or not (folder / META_FILE).exists():
            _discard(folder, created)
        raise
    return folder


def _discard(folder: Path, created: bool) -> None:
    """Remove what a failed write left: the whole folder if this call made it."""
    if created:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for name in (*TABLE_FILES, META_SUM):  # an older install whose meta.json is already gone
        (folder / name).unlink(missing_ok=True)


def _write_temp(folder: Path, name: str, tag: str, write: Callable[[Path], object]) -> Path:
    """Write through ``write`` to a hidden temporary in ``folder`` and flush it to disk."""
    path = folder / f".{name}.{tag}.tmp"
    try:
        write(path)
        with path.open("rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _dump(name: str, table: pa.Table, path: Path) -> None:
    if name.endswith(".arrow"):
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    else:
        pq.write_table(table, path, compression="zstd")


def _arrow_twin(final: pa.Table, benchmark: str, space: str) -> pa.Table:
    """``arch_index`` + metric columns of ``final``, one chunk each and no validity bitmaps.

    Built from numpy arrays (``pa.array(ndarray)``), so a reader can memory-map the file and
    take each column with ``to_numpy(zero_copy_only=True)``.  The schema metadata says how rows
    are laid out (``row = task_position * size + arch_index``).
    """
    names = ["arch_index", *_schema.metric_columns(space)]
    columns = {}
    for name in names:
        values = final.column(name).to_numpy()
        columns[name] = pa.array(np.ascontiguousarray(values))
    tasks = list(_schema.tasks_of(space))
    metadata = {
        "benchmark": benchmark,
        "space": space,
        "size": str(_archs.space_size(space)),
        "tasks": json.dumps(tasks),
    }
    return pa.table(columns).replace_schema_metadata(metadata)
