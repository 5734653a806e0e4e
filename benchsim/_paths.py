"""Where benchsim keeps its cache: ``$BENCHSIM_HOME`` (default ``~/.cache/benchsim``)."""

from __future__ import annotations

import os
from pathlib import Path

from benchsim.errors import ConfigError

ENV_HOME = "BENCHSIM_HOME"
ENV_MIRROR = "BENCHSIM_DATA_MIRROR"


def home() -> Path:
    """The cache root, as an absolute path; created lazily by whoever writes into it.

    A relative ``$BENCHSIM_HOME`` is taken from the current directory once, here, so every
    path benchsim prints or records (``benchsim data path``, a run's data provenance, a
    sweep's worker processes) names the same folder wherever it is read.  A value that is a
    file, or lies under one, is refused in one line: nothing could be installed there.
    """
    value = os.environ.get(ENV_HOME)
    path = Path(value).expanduser() if value else Path.home() / ".cache" / "benchsim"
    path = Path(os.path.abspath(path))
    if not path.is_dir():
        _check_folder(path, value)
    return path


def _check_folder(path: Path, value: str | None) -> None:
    """Refuse a cache root that is a file or lies under one (a missing folder is fine)."""
    blocker = next((p for p in (path, *path.parents) if p.exists()), None)
    if blocker is None or blocker.is_dir():
        return
    origin = f"${ENV_HOME} {path}" if value else f"the cache folder {path} (${ENV_HOME} unset)"
    where = "is a file" if blocker == path else f"lies under {blocker}, which is a file"
    raise ConfigError(
        f"{origin} {where}, not a folder; point ${ENV_HOME} at a folder (it is created when "
        "missing)"
    )


def tables_dir() -> Path:
    """Folder holding one sub-folder of Parquet tables per benchmark."""
    return home() / "tables"


def downloads_dir() -> Path:
    """Folder where verified source files are kept after download."""
    return home() / "downloads"


def datasets_dir() -> Path:
    """Folder holding the HDF5 image datasets of the live backend."""
    return home() / "datasets"
