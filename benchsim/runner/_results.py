"""Writing a run's outputs atomically: config.json, trajectory.parquet, result.json.

Each file is written to a temporary name in the output folder and renamed into place, so an
interrupted run never leaves a truncated file, and ``result.json`` (written last) marks a
complete run.  ``trajectory.parquet`` is written without timestamps or pandas metadata, so the
same seed gives a byte-identical file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from benchsim._files import (
    atomic_parquet,
    atomic_write_bytes,
    atomic_write_json,
    check_output_path,
    json_default,
    package_versions,
    parquet_codec,
)
from benchsim.errors import ConfigError
from benchsim.runner._checkpoint import has_checkpoint


def prepare_out_dir(out: str | Path, create: bool = True) -> Path:
    """Create ``out`` or accept it empty; refuse a non-empty folder (nothing is overwritten).

    ``create=False`` only checks, so that a run can refuse bad input before leaving a folder.
    """
    path = check_output_path(out, "--out", folder=True)
    if path.exists() and any(path.iterdir()):
        raise ConfigError(f"--out {str(path)!r} {_holds(path)} (nothing was overwritten)")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _holds(path: Path) -> str:
    """What a non-empty output folder holds, and what to do about it."""
    if (path / "result.json").is_file():
        return "holds a finished run (result.json); give a new or empty folder"
    if has_checkpoint(path):
        return f"holds an interrupted run; continue it with `benchsim run --resume {path}`"
    if (path / "config.json").is_file():
        return (
            "holds a run that stopped before its first checkpoint; start it again from its "
            f"config.json with `benchsim run --resume {path}`, or delete the folder"
        )
    return "is not empty; give a new or empty folder"


def write_trajectory(path: Path, table: pa.Table) -> None:
    """Atomic, deterministic Parquet write (no timestamps, no pandas metadata).

    The table's text columns are dictionary-encoded in memory (:meth:`Trajectory.to_arrow`)
    and in the file (:data:`DICTIONARY_COLUMNS`); without the Arrow schema in the file they
    read back as plain strings (``pd.read_parquet`` gives string columns, not categoricals
    that sort by first use), as trajectory files always have.
    """
    atomic_parquet(
        path,
        table,
        compression=parquet_codec(table.num_rows),
        write_statistics=True,
        store_schema=False,
        use_dictionary=[name for name in DICTIONARY_COLUMNS if name in table.schema.names],
    )


DICTIONARY_COLUMNS = ("task", "kind", "arch_str", "source")
"""Columns Parquet dictionary-encodes: the texts, as the table holds them.  The numbers are
not tried: for a million rows the writer would hold a dictionary of mostly distinct values
and the indices into it (12 bytes a row of a run's peak memory) before giving up on most."""


__all__ = [
    "atomic_write_bytes",
    "atomic_write_json",
    "json_default",
    "package_versions",
    "prepare_out_dir",
    "write_trajectory",
]
