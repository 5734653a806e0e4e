"""Writing a run's outputs atomically: config.json, trajectory.parquet, result.json.

Each file is written to a temporary name in the output folder and renamed into place, so an
interrupted run never leaves a truncated file, and ``result.json`` (written last) marks a
complete run.  ``trajectory.parquet`` is written without timestamps or pandas metadata, so the
same seed gives a byte-identical file.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchsim.errors import ConfigError
from benchsim.runner._search import Trajectory


def prepare_out_dir(out: str | Path, create: bool = True) -> Path:
    """Create ``out`` or accept it empty; refuse a non-empty folder (nothing is overwritten).

    ``create=False`` only checks, so that a run can refuse bad input before leaving a folder.
    """
    path = Path(out)
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"--out {str(path)!r} is a file; give a new or empty folder")
        if any(path.iterdir()):
            raise ConfigError(f"--out {str(path)!r} {_holds(path)} (nothing was overwritten)")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _holds(path: Path) -> str:
    """What a non-empty output folder holds, and what to do about it."""
    if (path / "result.json").is_file():
        return "holds a finished run (result.json); give a new or empty folder"
    if (path / "checkpoint.pkl").is_file():
        return f"holds an interrupted run; continue it with `benchsim run --resume {path}`"
    if (path / "config.json").is_file():
        return (
            "holds a run that stopped before its first checkpoint; start it again from its "
            f"config.json with `benchsim run --resume {path}`, or delete the folder"
        )
    return "is not empty; give a new or empty folder"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, payload: Any) -> None:
    text = json.dumps(payload, indent=2, sort_keys=False, default=json_default) + "\n"
    atomic_write_bytes(path, text.encode())


def json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def trajectory_table(
    traj: Trajectory, arch_str: list[str], test_value: np.ndarray | None
) -> pa.Table:
    """The trajectory as an Arrow table with a fixed schema."""
    columns = {
        "step": pa.array(np.asarray(traj.step, dtype=np.int64)),
        "search": pa.array(np.asarray(traj.search, dtype=np.int16)),
        "task": pa.array(traj.task, pa.string()),
        "kind": pa.array(traj.kind, pa.string()),
        "worker": pa.array(np.asarray(traj.worker, dtype=np.int16)),
        "start_time": pa.array(np.asarray(traj.start_time, dtype=np.float64)),
        "end_time": pa.array(np.asarray(traj.end_time, dtype=np.float64)),
        "arch": pa.array(np.asarray(traj.arch, dtype=np.int64)),
        "arch_str": pa.array(arch_str, pa.string()),
        "value": pa.array(np.asarray(traj.value, dtype=np.float64)),
        "cost": pa.array(np.asarray(traj.cost, dtype=np.float64)),
        "source": pa.array(traj.source, pa.string()),
    }
    if test_value is not None:
        columns["test_value"] = pa.array(np.asarray(test_value, dtype=np.float64))
    return pa.table(columns)


def write_trajectory(path: Path, table: pa.Table) -> None:
    """Atomic, deterministic Parquet write (no timestamps, no pandas metadata)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd", write_statistics=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that can change a run's numbers."""
    out = {"python": sys.version.split()[0]}
    for name in ("benchsim", "numpy", "pyarrow", "pandas", "scipy", "networkx", "torch"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out
