"""Run an unmodified script against the drop-in APIs (``benchsim compat run``).

The script runs in this process, as ``python SCRIPT ARGS`` would run it (``__name__`` is
``"__main__"``, ``sys.argv`` is ``[SCRIPT, *ARGS]``, the script's folder is first on
``sys.path``), with :func:`~benchsim.compat.install_hooks` in place, so its
``import nats_bench`` / ``import nas_201_api`` load benchsim's drop-ins.  The run's settings
(benchmark, seed, emulations) reach the script's ``create(...)`` through the
``BENCHSIM_COMPAT_*`` environment variables, set for the run only.  What the official scripts
import beyond benchsim is taken care of here too (:mod:`._script_deps`): torchvision imports
beside a CPU-only torch, and a missing ``xautodl`` / ``torchvision`` is one line naming the
install command.  Everything is restored afterwards.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchsim.compat._config import (
    EMULATIONS,
    ENV_BENCHMARK,
    ENV_EMULATE,
    ENV_SEED,
    PROCESS_COUNTS,
    CompatSettings,
)
from benchsim.compat._hooks import install_hooks, uninstall_hooks
from benchsim.compat._script_deps import TorchvisionImportFix, missing_package_error
from benchsim.errors import ConfigError


@dataclass
class RunRecord:
    """What a :func:`run_script` run used and how many answers each emulation gave."""

    script: str
    args: list[str]
    benchmark: str
    seed: int
    emulate: list[str]
    exit_code: int = 0
    wall_s: float = 0.0
    emulated_answers: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form, with each emulation's label."""
        return {
            "script": self.script,
            "args": self.args,
            "benchmark": self.benchmark,
            "seed": self.seed,
            "emulate": self.emulate,
            "labels": {name: EMULATIONS[name] for name in self.emulate},
            "emulated_answers": self.emulated_answers,
            "exit_code": self.exit_code,
            "wall_s": round(self.wall_s, 3),
        }

    def summary(self) -> str:
        """One line for stderr."""
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.emulated_answers.items()))
        emulated = f"emulated answers (labelled): {counts}" if counts else "no emulated answers"
        return (
            f"benchsim compat: {Path(self.script).name} exited {self.exit_code} after "
            f"{self.wall_s:.1f} s; answered by benchsim {self.benchmark!r} (seed {self.seed}); "
            f"{emulated}"
        )


def run_script(
    script: str | os.PathLike[str],
    args: Sequence[str] = (),
    *,
    emulate: str | Iterable[str] | None = None,
    seed: int | None = None,
    benchmark: str | None = None,
) -> RunRecord:
    """Run ``script`` with ``args`` against the drop-ins; returns its :class:`RunRecord`.

    A ``SystemExit`` of the script becomes ``exit_code``; a missing ``xautodl`` /
    ``torchvision`` raises :class:`~benchsim.errors.ConfigError` with the install command; any
    other exception propagates.
    """
    path = Path(script)
    if not path.is_file():
        raise ConfigError(f"script {str(path)!r} is not a file; give the path of a Python script")
    settings = CompatSettings.resolve(
        "nb201",
        benchmark=benchmark,
        seed=seed,
        emulate=emulate if emulate is not None else os.environ.get(ENV_EMULATE),
    )
    names = sorted(settings.emulate)
    record = RunRecord(str(path), list(args), settings.benchmark, settings.seed, names)
    env = {ENV_EMULATE: ",".join(names) or "none"}
    if seed is not None:
        env[ENV_SEED] = str(seed)
    if benchmark is not None:
        env[ENV_BENCHMARK] = benchmark
    saved_env = {k: os.environ.get(k) for k in env}
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    before = dict(PROCESS_COUNTS)
    began = time.perf_counter()
    os.environ.update(env)
    sys.argv = [str(path), *args]
    sys.path.insert(0, str(path.resolve().parent))
    install_hooks()
    fix = TorchvisionImportFix()
    sys.meta_path.insert(0, fix)
    try:
        runpy.run_path(str(path), run_name="__main__")
    except ModuleNotFoundError as err:
        missing = missing_package_error(err, path)
        if missing is None:
            raise
        raise missing from None
    except SystemExit as stop:
        code = stop.code
        record.exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
    finally:
        sys.meta_path.remove(fix)
        uninstall_hooks()
        sys.argv, sys.path[:] = saved_argv, saved_path
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        record.wall_s = time.perf_counter() - began
        record.emulated_answers = {
            k: v - before.get(k, 0) for k, v in PROCESS_COUNTS.items() if v > before.get(k, 0)
        }
    return record
