"""Writing results so that no reader ever sees half a file, and what a result records of its
environment.

Every result file benchsim writes (``config.json``, ``result.json``, checkpoints, a sweep's
Parquet parts, ``reproduce.*``, ``retrain.json``) goes through :func:`atomic_path`: written to a
temporary file in the same folder, flushed, then renamed over the target, so an interrupted
write leaves the previous file or none.  The temporary file gets the mode ``open()`` would have
given (``mkstemp`` alone makes it 0600 and hides results from the rest of a group).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchsim.errors import ConfigError


def _umask_mode() -> int:
    """0o666 minus the umask: what ``open()`` would give."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path next to ``path`` to write; renamed over ``path`` when the block ends
    without an exception, removed when it raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, _umask_mode())
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


WRITE_BUFFER = 1 << 20
"""Bytes :func:`atomic_parquet` gathers before each system call."""


def atomic_parquet(path: Path, table: Any, **options: Any) -> None:
    """Write the Arrow ``table`` to ``path`` as Parquet (``options``: those of
    :func:`pyarrow.parquet.write_table`), atomically (:func:`atomic_path`) and through a
    buffer of :data:`WRITE_BUFFER` bytes.

    Arrow's file sink writes each page header, page and piece of the footer with a system call
    of its own: 84 for a sweep part, 38 for a small trajectory, 0.06 ms a file.  The bytes are
    the same."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp, pa.output_stream(str(tmp), buffer_size=WRITE_BUFFER) as sink:
        pq.write_table(table, sink, **options)


def check_output_path(path: str | Path, option: str, *, folder: bool, parents: bool = True) -> Path:
    """Refuse, before any work, an output path nothing can be written to (one line each).

    ``folder``: the path is a folder to create or fill (else a file to write).  Refused: a
    folder that is a file, a file that is a folder, any path lying under a file, and with
    ``parents=False`` a file whose folder does not exist (left to the caller to create when
    ``parents`` is true).  ``option`` names the flag in the message (``"--out"``).
    """
    path = Path(path)
    if path.exists():
        if folder and not path.is_dir():
            raise ConfigError(f"{option} {str(path)!r} is a file; give a new or empty folder")
        if not folder and path.is_dir():
            raise ConfigError(f"{option} {str(path)!r} is a folder; give a file path")
        return path
    full = Path(os.path.abspath(path))
    blocker = next(p for p in full.parents if p.exists())  # the root at the latest
    if not blocker.is_dir():
        raise ConfigError(
            f"{option} {str(path)!r} lies under {str(blocker)!r}, which is a file, not a "
            f"folder; give a path in a folder"
        )
    if not parents and blocker != full.parent:
        raise ConfigError(
            f"{option} {str(path)!r}: its folder {str(full.parent)!r} does not exist; create "
            "it first, or give a path in an existing folder"
        )
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename)."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_json(path: Path, payload: Any, text: str | None = None) -> None:
    """Write ``payload`` as indented JSON (or ``text`` as given) atomically."""
    if text is None:
        text = json.dumps(payload, indent=2, default=json_default) + "\n"
    atomic_write_bytes(path, text.encode())


ZSTD_FROM_ROWS = 10_000
"""Result tables from this many rows up are written with zstd, smaller ones with snappy."""


def parquet_codec(rows: int) -> str:
    """The Parquet compression for a result table of ``rows`` rows.

    zstd sets up a compression context for every column chunk (about 0.3 ms for a 13-column
    table): for a run's small trajectory and its sweep parts that was 1.1 ms of a 7.5 ms
    random-search run (15 % of a sweep), to save a few kilobytes.  From
    :data:`ZSTD_FROM_ROWS` rows (half a megabyte) zstd's files are a third smaller than
    snappy's for a quarter more time, and the size is what counts.  Any Parquet reader reads
    both; values are the same either way.
    """
    return "zstd" if rows >= ZSTD_FROM_ROWS else "snappy"


def json_default(value: Any) -> Any:
    """JSON for numpy values, sets, tuples and paths (``json.dumps(default=...)``)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


RECORDED_PACKAGES = ("benchsim", "numpy", "pyarrow", "pandas", "scipy", "networkx", "torch")
"""The packages whose versions a result records (they can change a run's numbers)."""


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that can change a run's numbers.

    Read once per process (a sweep worker records them for every run), from the names of the
    installed ``<name>-<version>.dist-info`` folders (the installed-project layout every wheel
    installer writes), or the ``PKG-INFO`` of a checkout's ``<name>.egg-info`` (an editable
    install), so neither the packages nor :mod:`importlib.metadata` (~6-20 ms with its
    METADATA parsing) are imported; a project installed otherwise is looked up through
    :mod:`importlib.metadata`.
    """
    return dict(_versions())


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    found = _dist_info_versions()
    out = [("python", sys.version.split()[0])]
    for name in RECORDED_PACKAGES:
        if name not in found:
            continue  # not installed
        version = found[name] or _metadata_version(name)
        if version is not None:
            out.append((name, version))
    return tuple(out)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _dist_info_versions() -> dict[str, str | None]:
    """Installed recorded package -> version, first on ``sys.path`` wins (as for imports): the
    version in its ``.dist-info`` folder name or in its ``.egg-info`` folder's ``PKG-INFO``,
    or None where neither says (then read through :mod:`importlib.metadata`)."""
    wanted = {_normalise(n): n for n in RECORDED_PACKAGES}
    found: dict[str, str | None] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for item in names:
            stem, dot, kind = item.rpartition(".")
            if kind not in ("dist-info", "egg-info", "egg") or not dot:
                continue
            project, _, version = stem.partition("-")
            name = wanted.get(_normalise(project))
            if name is None or name in found:
                continue
            if kind == "dist-info":
                found[name] = version or None
            elif kind == "egg-info":  # e.g. a checkout's `pip install -e .`
                found[name] = _pkg_info_version(Path(entry or ".", item))
            else:
                found[name] = None
    return found


def _pkg_info_version(egg_info: Path) -> str | None:
    """The ``Version:`` header of an ``.egg-info`` folder's ``PKG-INFO`` (what
    :mod:`importlib.metadata` would read, after importing itself and the email parser)."""
    try:
        with (egg_info / "PKG-INFO").open(encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Version:"):
                    return line.partition(":")[2].strip() or None
                if not line.strip():
                    break  # the headers end at the first blank line
    except OSError:
        pass
    return None


def _metadata_version(name: str) -> str | None:
    import importlib.metadata  # only for a project without a dist-info folder

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
