"""Re-train a finished search's architectures from scratch, as papers report them.

A weight-sharing search ends with each task's best architecture judged by the supernet; the
number a paper reports is that architecture trained alone (EMT-NAS Table C: "test accuracy after
retraining").  :func:`retrain_run` reads a run folder (``config.json`` and ``result.json`` of
``benchsim run``, either backend), trains each task's architecture with the live backend's
:meth:`~benchsim.backends.gpu.GpuBenchmark.standalone_train` (NB201's recipe unless the options
say otherwise), and writes ``retrain.json`` into the folder.  The file is rewritten atomically
after every task, so an interrupted re-training keeps what it finished and a second call with
the same settings continues with the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchsim._checks import check_int
from benchsim._files import atomic_write_json, check_output_path, package_versions
from benchsim.errors import ConfigError

RETRAIN_FILE = "retrain.json"
EpochHook = Callable[[str, int, int], None]
"""``hook(task, epochs_done, epochs)`` after every epoch."""


def _read_run(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config.json`` and ``result.json`` of a finished run, or one clear error."""
    files = {}
    for name in ("config.json", "result.json"):
        path = folder / name
        if not path.is_file():
            raise ConfigError(
                f"{str(folder)!r} is not a finished benchsim run (no {name}); give the --out "
                "folder of a completed `benchsim run`"
            )
        try:
            files[name] = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise ConfigError(f"{str(path)!r} is unreadable: {type(err).__name__}") from None
    return files["config.json"], files["result.json"]


def _live_options(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The live backend's options: a live run's own (so smoke stays smoke), then overrides."""
    from benchsim.backends.gpu.benchmark import GpuBenchmark

    same = config.get("backend") == GpuBenchmark.backend  # a run on this backend: its options
    options = dict(config.get("backend_options") or {}) if same else {}
    options.pop("datasets", None)
    return {**options, **overrides}


def retrain_run(
    run_dir: str | Path,
    *,
    epochs: int | None = None,
    tasks: tuple[str, ...] | None = None,
    options: dict[str, Any] | None = None,
    out: str | Path | None = None,
    on_epoch: EpochHook | None = None,
) -> dict[str, Any]:
    """Train each task's recommended architecture of the run in ``run_dir`` alone; record it.

    Parameters
    ----------
    run_dir
        Output folder of a finished ``benchsim run`` (table or gpu backend) over a cell space
        the live backend trains (``nb201``, ``tnb101-micro``); its tasks name the datasets.
    epochs
        Training epochs (default: the backend's ``epochs`` setting, NB201's 200).
    tasks
        Only these tasks (default: every task of the run with a recommendation).
    options
        Live-backend options (``device``, ``channels``, ...) over the run's own.
    out
        The record file (default ``run_dir/retrain.json``).  One left by a call with other
        settings is refused, never overwritten.
    on_epoch
        Progress hook, ``on_epoch(task, done, epochs)``.

    Returns
    -------
    dict
        What ``retrain.json`` holds: per task the architecture, its search-time values and the
        re-trained train/valid/test accuracy, seconds and images/s, plus settings and versions.
    """
    from benchsim.backends import benchmark

    folder = Path(run_dir)
    config, result = _read_run(folder)
    chosen = {t: row for t, row in result["tasks"].items() if row.get("arch") is not None}
    if tasks is not None:
        unknown = [t for t in tasks if t not in result["tasks"]]
        if unknown:
            raise ConfigError(
                f"task {unknown[0]!r} is not a task of this run; allowed: "
                f"{', '.join(result['tasks'])}"
            )
        chosen = {t: row for t, row in chosen.items() if t in tasks}
    if not chosen:
        raise ConfigError(f"the run in {str(folder)!r} recommends no architecture to re-train")
    if epochs is not None:
        check_int("epochs", epochs, 1)
    bench = benchmark(
        config["benchmark"],
        backend="gpu",
        seed=int(config["seed"]),
        datasets=tuple(chosen),
        **_live_options(config, dict(options or {})),
    )
    epochs = bench.settings.epochs if epochs is None else epochs
    signature = {
        "epochs": epochs,
        "settings": bench.provenance()["settings"],
        "seed": bench.seed_,
        "device_type": bench.device.type,
    }
    path = Path(out) if out is not None else folder / RETRAIN_FILE
    check_output_path(path, "--out", folder=False, parents=False)  # before any training
    record = _previous(path, signature) or {
        **signature,
        "run": {k: config.get(k) for k in ("algo", "backend", "benchmark", "seed")},
        "tasks": {},
    }
    record["device"] = bench.provenance()["device"]
    record["versions"] = package_versions()
    record["data"] = bench.provenance()["datasets"]
    for task, row in chosen.items():
        if task in record["tasks"]:
            continue  # finished by an earlier, interrupted call with the same settings
        hook = None if on_epoch is None else (lambda done, total, t=task: on_epoch(t, done, total))
        trained = bench.standalone_train(row["arch"], task, epochs, on_epoch=hook)
        record["tasks"][task] = {
            "arch": int(row["arch"]),
            "arch_str": bench.space.format(int(row["arch"])),
            "search_metric": row.get("search_metric"),
            "search_test_metric": row.get("test_metric"),
            "train_acc": trained.train_acc,
            "valid_acc": trained.valid_acc,
            "test_acc": trained.test_acc,
            "train_time_s": trained.train_time_s,
            "images_per_s": trained.images_per_s,
            "seed": trained.seed,
        }
        atomic_write_json(path, record)
    return record


def _previous(path: Path, signature: dict[str, Any]) -> dict[str, Any] | None:
    """An earlier record made with the same settings (its tasks are kept); ``None`` if there is
    none; a record of other settings raises rather than being overwritten."""
    if not path.exists():
        return None
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = None
    if not isinstance(old, dict) or "tasks" not in old:
        raise ConfigError(f"{str(path)!r} exists and is not a retrain record; give another --out")
    differs = [key for key, value in signature.items() if old.get(key) != value]
    if differs:
        raise ConfigError(
            f"{str(path)!r} holds a re-training with other {', '.join(differs)}; give another "
            "--out FILE, or delete it to start over"
        )
    return old
