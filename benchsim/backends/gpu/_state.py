"""What a run records and resumes, at the bottom of the live backend: the checkpoint format,
CPU copies of tensors, and a dataset file's provenance record.

:meth:`~._supernets.Supernets.state_dict` holds everything that training changes (supernet
weights and BN statistics, optimizer momenta, schedule position, passes and seconds per task,
the torch data Generator, the numpy Generator and the standalone trainings answered so far), as
:func:`to_cpu` copies, so the runner can pickle it into its checkpoint;
:meth:`~._supernets.Supernets.load_state_dict` into a benchmark built with the same
configuration then continues bit for bit (on the CPU; on CUDA up to its non-deterministic
kernels), supernets formed by joint training passes included (they are formed again, then
loaded).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

STATE_FORMAT = "benchsim-gpu-state-1"


def to_cpu(obj: Any) -> Any:
    """Deep copy of a (nested) state dict with every tensor detached, cloned, on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_cpu(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(to_cpu(v) for v in obj)
    return obj


def file_record(path: Path) -> dict[str, object]:
    """Path, size, SHA-256 and source checksum of a dataset file, for provenance."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    record: dict[str, object] = {
        "path": str(path),
        "bytes": path.stat().st_size,
        "sha256": digest.hexdigest(),
    }
    try:
        import h5py

        with h5py.File(path, "r") as f:
            record["source_sha256"] = str(f.attrs.get("source_sha256", ""))
            record["split_note"] = str(f.attrs.get("split_note", ""))
    except (ImportError, OSError):
        pass
    return record
