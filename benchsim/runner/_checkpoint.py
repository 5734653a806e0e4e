"""Checkpoints of a run: data, not code; the history appended, never rewritten; every file
checked before it is read.

``DIR/checkpoint/`` holds:

* ``trajectory-000001.parquet``, ``-000002``, ...: the trajectory rows answered since the
  previous save, one part per save, so a save costs what happened since the last one, not the
  whole history (a run of a million evaluations used to pickle its whole trajectory again
  every minute);
* ``arrays-<save>-<ns>.npz``: the numpy arrays of the state (read with ``allow_pickle=False``);
* ``state-<save>-<ns>.json``: everything else (:mod:`._state_codec`: plain data, benchsim
  classes by name, nothing that can run code), the list of parts and the number of rows;
* ``SHA256SUMS``: the SHA-256 of each of those files (:mod:`._manifest`), written last by an
  atomic rename: the checkpoint's commit point.  Files it does not list (a killed save's) are
  ignored and deleted by the next save; a listed file that is missing or does not match is
  refused in one line (:class:`~benchsim.errors.CheckpointError`), never resumed.

The arrays and the state get a new name at every save, so the files the current manifest
lists are never overwritten: a save killed at any point leaves the previous checkpoint whole.

A ``checkpoint.pkl`` of an older benchsim is refused: unpickling a folder someone sent you
could execute arbitrary code.  So is a ``state.json`` without ``SHA256SUMS`` (the format before
checksums): it cannot be verified.
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

from benchsim._files import atomic_write_bytes, parquet_codec
from benchsim.errors import CheckpointError, ConfigError
from benchsim.runner._manifest import MANIFEST, commit, read_verified, sha256
from benchsim.runner._state_codec import CodecError, decode, encode
from benchsim.runner._trajectory import COLUMNS, TEXTS, Trajectory

FOLDER = "checkpoint"
FORMAT = "benchsim-checkpoint-2"
UNVERIFIABLE = "state.json"
"""The state file of the format before checksums (``benchsim-checkpoint-1``)."""
LEGACY = "checkpoint.pkl"


@dataclass
class SaveStats:
    """What checkpointing has cost this process so far."""

    count: int = 0
    seconds: float = 0.0
    bytes: int = 0


class Checkpointer:
    """Saves a run's state into ``out_dir/checkpoint`` (see the module docstring).

    ``parts`` maps the trajectory parts already saved to their SHA-256 (a resumed run's, from
    its manifest), so that a save hashes only the files it writes.
    """

    def __init__(self, out_dir: Path, parts: dict[str, str] | None = None, rows: int = 0) -> None:
        self.folder = Path(out_dir) / FOLDER
        self.parts = dict(parts or {})
        self.rows = rows
        self.stats = SaveStats()

    def save(self, state: Any) -> None:
        """Append the new trajectory rows as a part, write the rest of the state, then commit
        the checksums of all of it."""
        began = time.perf_counter()
        self.folder.mkdir(parents=True, exist_ok=True)
        traj: Trajectory = state.traj
        written = 0
        if len(traj) > self.rows:
            name = f"trajectory-{len(self.parts) + 1:06d}.parquet"
            sink = pa.BufferOutputStream()
            # Only the text columns dictionary-encoded, as the table holds them: encoding the
            # numbers too took twice as long (the most of a save) to be 4% smaller, and
            # writing the texts plain would first spell them out, a string a row.
            part = traj.table(self.rows)
            pq.write_table(
                part, sink, compression=parquet_codec(part.num_rows), use_dictionary=list(TEXTS)
            )
            data = sink.getvalue().to_pybytes()
            atomic_write_bytes(self.folder / name, data)
            written += len(data)
            self.parts[name] = sha256(data)
            self.rows = len(traj)
        state.traj = None  # the history is in the parts
        try:
            value, arrays = encode(state)
        finally:
            state.traj = traj
        stem = f"{self.stats.count + 1:06d}-{time.time_ns()}"
        arrays_name = f"arrays-{stem}.npz"
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        packed = buffer.getvalue()
        atomic_write_bytes(self.folder / arrays_name, packed)
        payload = {
            "format": FORMAT,
            "rows": self.rows,
            "parts": list(self.parts),
            "arrays": arrays_name,
            "state": value,
        }
        text = json.dumps(payload, allow_nan=True).encode()
        state_name = f"state-{stem}.json"
        atomic_write_bytes(self.folder / state_name, text)
        commit(
            self.folder,
            {**self.parts, arrays_name: sha256(packed), state_name: sha256(text)},
        )
        self.stats.count += 1
        self.stats.bytes += written + len(text) + len(packed)
        self.stats.seconds += time.perf_counter() - began

    def remove(self) -> None:
        """Delete the checkpoint (the run finished and wrote its results)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def has_checkpoint(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a checkpoint: a committed one (``SHA256SUMS``), or one that
    :func:`load` refuses in one line (an unverifiable or a pickled one of an older benchsim).

    A checkpoint folder without a manifest is a first save that was killed: no checkpoint.
    """
    folder = Path(out_dir) / FOLDER
    return any(
        path.is_file()
        for path in (folder / MANIFEST, folder / UNVERIFIABLE, Path(out_dir) / LEGACY)
    )


def discard_uncommitted(out_dir: Path) -> None:
    """Delete a checkpoint folder that holds no checkpoint (a first save killed before its
    ``SHA256SUMS``: nothing in it is verifiable), so the run can start again in its folder."""
    if not has_checkpoint(out_dir):
        shutil.rmtree(Path(out_dir) / FOLDER, ignore_errors=True)


def restart_fix(out_dir: Path) -> str:
    """What to do with a checkpoint that cannot be resumed: start the run again from its
    ``config.json`` (which ``--resume`` does once the checkpoint is gone)."""
    return (
        f"start the run again from its config.json: delete {Path(out_dir) / FOLDER} and run "
        f"`benchsim run --resume {out_dir}` (or delete the run folder)"
    )


def load(out_dir: Path, fix: str | None = None) -> tuple[Any, Checkpointer]:
    """The saved state (trajectory rebuilt from its parts) and a checkpointer that continues.

    Every file is checked against ``SHA256SUMS`` before any is parsed; a damaged, missing or
    edited one raises :class:`~benchsim.errors.CheckpointError`, whose message ends with
    ``fix`` (default: :func:`restart_fix`).
    """
    out_dir = Path(out_dir)
    fix = fix if fix is not None else restart_fix(out_dir)
    if (out_dir / LEGACY).is_file():
        raise ConfigError(
            f"{out_dir / LEGACY} is a checkpoint of an older benchsim, a pickle, which benchsim "
            "no longer loads (it could run code); start the run again in a new folder"
        )
    folder = out_dir / FOLDER
    if not (folder / MANIFEST).is_file():
        raise ConfigError(
            f"checkpoint {folder} has no {MANIFEST} (it was written by an older benchsim, "
            f"without checksums), so it cannot be verified and is not resumed; {fix}"
        )
    digests, files = read_verified(folder, fix)
    payload, where = _payload(folder, files, fix)
    try:
        with np.load(io.BytesIO(files[payload["arrays"]]), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        state = decode(payload["state"], arrays)
        traj = Trajectory()
        for part in payload["parts"]:
            table = pq.ParquetFile(pa.BufferReader(files[part])).read()  # no pandas
            if tuple(table.column_names) != COLUMNS:
                raise CodecError(f"{part} has columns {table.column_names}")
            traj.extend(table)
    except (OSError, KeyError, ValueError, TypeError, pa.ArrowException) as err:
        raise ConfigError(
            f"checkpoint {where} cannot be read by this benchsim "
            f"({type(err).__name__}: {str(err)[:120]}); {fix}"
        ) from None
    if len(traj) != payload["rows"]:
        raise CheckpointError(
            f"checkpoint {where} names {payload['rows']} trajectory rows, its parts hold "
            f"{len(traj)}",
            fix,
        )
    state.traj = traj
    parts = {name: digests[name] for name in payload["parts"]}
    return state, Checkpointer(out_dir, parts, len(traj))


def _payload(folder: Path, files: dict[str, bytes], fix: str) -> tuple[dict[str, Any], Path]:
    """The state file's JSON (files already verified), and its path; the files it names must be
    exactly those the manifest lists (an edited manifest is refused, not half-read)."""
    states = [name for name in files if name.startswith("state-") and name.endswith(".json")]
    if len(states) != 1:
        raise CheckpointError(
            f"checkpoint file {folder / MANIFEST} lists {len(states)} state files, not one", fix
        )
    where = folder / states[0]
    try:
        payload = json.loads(files[states[0]])
    except ValueError as err:
        raise CheckpointError(f"checkpoint file {where} is not JSON ({err})", fix) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else None
        raise ConfigError(
            f"checkpoint {where} is in format {found!r}, this benchsim reads {FORMAT!r}; {fix}"
        )
    try:
        named = {*payload["parts"], payload["arrays"], states[0]}
        int(payload["rows"])
    except (KeyError, TypeError, ValueError):
        raise CheckpointError(f"checkpoint file {where} lacks its list of files", fix) from None
    if named != set(files):
        raise CheckpointError(
            f"checkpoint file {folder / MANIFEST} lists {sorted(files)}, but {states[0]} names "
            f"{sorted(named)}",
            fix,
        )
    return payload, where
