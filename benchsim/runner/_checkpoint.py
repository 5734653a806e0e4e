"""Checkpoints of a run: data, not code, and the history appended, never rewritten.

``DIR/checkpoint/`` holds:

* ``trajectory-000001.parquet``, ``-000002``, ...: the trajectory rows answered since the
  previous save, one part per save, so a save costs what happened since the last one, not the
  whole history (a run of a million evaluations used to pickle its whole trajectory again
  every minute);
* ``arrays-<n>.npz``: the numpy arrays of the state (read with ``allow_pickle=False``);
* ``state.json``: everything else (:mod:`._state_codec`: plain data, benchsim classes by name,
  nothing that can run code), the list of parts and the number of rows; written last, by an
  atomic rename, so it always names complete files.  Parts or arrays that a killed save left
  behind are not named by it and are ignored (and replaced).

A ``checkpoint.pkl`` of an older benchsim is refused: unpickling a folder someone sent you
could execute arbitrary code.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchsim._files import atomic_write_bytes
from benchsim.errors import ConfigError
from benchsim.runner._search import COLUMNS, Trajectory
from benchsim.runner._state_codec import CodecError, decode, encode

FOLDER = "checkpoint"
STATE = "state.json"
FORMAT = "benchsim-checkpoint-1"
LEGACY = "checkpoint.pkl"


@dataclass
class SaveStats:
    """What checkpointing has cost this process so far."""

    count: int = 0
    seconds: float = 0.0
    bytes: int = 0


class Checkpointer:
    """Saves a run's state into ``out_dir/checkpoint`` (see the module docstring)."""

    def __init__(self, out_dir: Path, parts: list[str] | None = None, rows: int = 0) -> None:
        self.folder = Path(out_dir) / FOLDER
        self.parts = list(parts or [])
        self.rows = rows
        self.stats = SaveStats()

    def save(self, state: Any) -> None:
        """Append the new trajectory rows as a part, then write the rest of the state."""
        began = time.perf_counter()
        self.folder.mkdir(parents=True, exist_ok=True)
        traj: Trajectory = state.traj
        written = 0
        if len(traj) > self.rows:
            name = f"trajectory-{len(self.parts) + 1:06d}.parquet"
            sink = pa.BufferOutputStream()
            pq.write_table(traj.table(self.rows), sink, compression="zstd")
            data = sink.getvalue().to_pybytes()
            atomic_write_bytes(self.folder / name, data)
            written += len(data)
            self.parts.append(name)
            self.rows = len(traj)
        state.traj = None  # the history is in the parts
        try:
            value, arrays = encode(state)
        finally:
            state.traj = traj
        arrays_name = f"arrays-{self.stats.count + 1:06d}-{time.time_ns()}.npz"
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(self.folder / arrays_name, buffer.getvalue())
        payload = {
            "format": FORMAT,
            "rows": self.rows,
            "parts": self.parts,
            "arrays": arrays_name,
            "state": value,
        }
        text = json.dumps(payload, allow_nan=True).encode()
        atomic_write_bytes(self.folder / STATE, text)
        for old in self.folder.glob("arrays-*.npz"):  # only the one state.json names is kept
            if old.name != arrays_name:
                old.unlink(missing_ok=True)
        self.stats.count += 1
        self.stats.bytes += written + len(text) + buffer.getbuffer().nbytes
        self.stats.seconds += time.perf_counter() - began

    def remove(self) -> None:
        """Delete the checkpoint (the run finished and wrote its results)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def has_checkpoint(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a checkpoint of this benchsim (or a refused legacy one)."""
    return (Path(out_dir) / FOLDER / STATE).is_file() or (Path(out_dir) / LEGACY).is_file()


def load(out_dir: Path) -> tuple[Any, Checkpointer]:
    """The saved state (trajectory rebuilt from its parts) and a checkpointer that continues."""
    out_dir = Path(out_dir)
    if (out_dir / LEGACY).is_file():
        raise ConfigError(
            f"{out_dir / LEGACY} is a checkpoint of an older benchsim, a pickle, which benchsim "
            "no longer loads (it could run code); start the run again in a new folder"
        )
    folder = out_dir / FOLDER
    where = str(folder / STATE)
    try:
        payload = json.loads((folder / STATE).read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"checkpoint {where!r} is unreadable: {type(err).__name__}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ConfigError(f"checkpoint {where!r} is not a benchsim run checkpoint ({FORMAT})")
    try:
        with np.load(folder / payload["arrays"], allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        state = decode(payload["state"], arrays)
        traj = Trajectory()
        for part in payload["parts"]:
            table = pq.read_table(folder / part)
            if tuple(table.column_names) != COLUMNS:
                raise CodecError(f"{part} has columns {table.column_names}")
            traj.extend(table)
    except (OSError, KeyError, ValueError, TypeError, pa.ArrowException) as err:
        raise ConfigError(
            f"checkpoint {where!r} is damaged ({type(err).__name__}: {str(err)[:80]})"
        ) from None
    if len(traj) != payload["rows"]:
        raise ConfigError(
            f"checkpoint {where!r} names {payload['rows']} trajectory rows, its parts hold "
            f"{len(traj)}"
        )
    state.traj = traj
    return state, Checkpointer(out_dir, payload["parts"], len(traj))
