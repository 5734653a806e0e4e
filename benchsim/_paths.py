"""Where benchsim keeps its cache: ``$BENCHSIM_HOME`` (default ``~/.cache/benchsim``)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "BENCHSIM_HOME"
ENV_MIRROR = "BENCHSIM_DATA_MIRROR"


def home() -> Path:
    """The cache root; created lazily by whoever writes into it."""
    value = os.environ.get(ENV_HOME)
    return Path(value).expanduser() if value else Path.home() / ".cache" / "benchsim"


def tables_dir() -> Path:
    """Folder holding one sub-folder of Parquet tables per benchmark."""
    return home() / "tables"


def downloads_dir() -> Path:
    """Folder where verified source files are kept after download."""
    return home() / "downloads"


def datasets_dir() -> Path:
    """Folder holding the HDF5 image datasets of the live backend."""
    return home() / "datasets"
