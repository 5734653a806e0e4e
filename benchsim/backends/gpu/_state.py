"""What a run records and resumes: provenance and the backend's complete training state.

Mixed into :class:`~benchsim.backends.gpu.GpuBenchmark`.  :meth:`StateMixin.state_dict` holds
everything that training changes (supernet weights and BN statistics, optimizer momenta,
schedule position, passes and seconds per task, the torch data Generator, the numpy Generator
and the standalone trainings answered so far), as CPU copies, so the runner can pickle it into
its checkpoint; :meth:`StateMixin.load_state_dict` into a benchmark built with the same
configuration then continues bit for bit (on the CPU; on CUDA up to its non-deterministic kernels),
supernets formed by joint training passes included (they are formed again, then loaded).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from benchsim.backends.gpu._settings import device_name
from benchsim.errors import ConfigError

STATE_FORMAT = "benchsim-gpu-state-1"


if TYPE_CHECKING:  # the mixin's ``self`` is the benchmark it is mixed into
    from benchsim.backends.gpu.benchmark import GpuBenchmark as _Live
else:
    _Live = object


class StateMixin(_Live):
    """Provenance, ``state_dict`` and ``load_state_dict`` of the gpu benchmark."""

    def provenance(self) -> dict[str, object]:
        """Dataset files and checksums, device, torch version, settings and seed."""
        if getattr(self, "_provenance", None) is None:
            files = {name: file_record(path) for name, path in self._paths.items()}
            self._provenance = {
                "backend": "gpu",
                "space": self.space.name,
                "datasets": files,
                "device": device_name(self.device),
                "torch": torch.__version__,
                "cuda": torch.version.cuda,
                "seed": self.seed_,
                "smoke": self.smoke,
                "settings": dataclasses.asdict(self.settings),
                "resolved": {
                    "amp": self.amp_,
                    "channels_last": self.channels_last_,
                    "deterministic": self.deterministic_,
                    "batches_per_pass": {t: self.batches_per_pass(t) for t in self.tasks},
                },
            }
        return dict(self._provenance)

    def _signature(self) -> dict[str, object]:
        return {
            "space": self.space.name,
            "tasks": list(self.tasks),
            "device_type": self.device.type,
            "settings": dataclasses.asdict(self.settings),
        }

    def state_dict(self) -> dict[str, Any]:
        """Everything that changes while training, as CPU copies (picklable, detached)."""
        return {
            "format": STATE_FORMAT,
            "signature": self._signature(),
            "groups": [list(tasks) for tasks in self.groups_],
            "nets": [to_cpu(net.state_dict()) for net in self.nets_],
            "optimizers": [to_cpu(opt.state_dict()) for opt in self.optimizers_],
            "steps": list(self.steps_),
            "passes": dict(self.passes_),
            "train_seconds": dict(self.train_seconds_),
            "generator": self.generator_.get_state().clone(),
            "rng": self.rng_.bit_generator.state,
            "standalone": dict(self.standalone_),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; refuses a state of another configuration."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ConfigError(f"not a gpu backend state (expected format {STATE_FORMAT!r})")
        if state["signature"] != self._signature():
            raise ConfigError(
                "gpu backend state was saved with another space, tasks, device type or settings "
                f"({state['signature']}); this benchmark has {self._signature()}"
            )
        groups = [tuple(tasks) for tasks in state.get("groups", self.groups_)]
        for tasks in groups:  # supernets formed by joint passes: form them the same way
            if len(tasks) > 1 and tasks not in self.groups_:
                self._form_group(tasks)
        if sorted(groups) != sorted(self.groups_):
            raise ConfigError(
                f"gpu backend state has the supernets {groups}; this benchmark has "
                f"{self.groups_} and cannot form them"
            )
        order = [self.groups_.index(tasks) for tasks in groups]
        for name in ("groups_", "nets_", "optimizers_", "total_steps_"):
            setattr(self, name, [getattr(self, name)[n] for n in order])
        self._index_nets()
        for net, saved in zip(self.nets_, state["nets"], strict=True):
            net.load_state_dict(saved)
        for opt, saved in zip(self.optimizers_, state["optimizers"], strict=True):
            opt.load_state_dict(saved)
        self.steps_ = list(state["steps"])
        self.passes_ = dict(state["passes"])
        self.train_seconds_ = dict(state["train_seconds"])
        self.generator_.set_state(state["generator"])
        self.rng_.bit_generator.state = state["rng"]
        self.standalone_ = dict(state.get("standalone", {}))


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
