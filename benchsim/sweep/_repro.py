"""The reproducibility gate: a fixed set of small seeded table runs against golden trajectories.

``benchsim verify-repro`` re-runs :data:`REPRO_SET` (every registered algorithm on NB201 and
TransNAS-Bench-101 micro, small budgets, a few seconds in all) and compares each trajectory with
``tests/golden/repro.json``.  What is compared is a *canonical* hash of the trajectory's values,
not the Parquet bytes, so an upgrade of pyarrow (or a change of compression) does not count as
drift, while any change of what a search did does:

* each row becomes a JSON list of its values in column order; integers as integers, strings as
  strings, floats rounded to :data:`FLOAT_DIGITS` significant digits (so a last-bit difference of
  a sum on another CPU is not drift, a changed value is) and NaN/inf as text;
* a row's hash is the sha256 of that list; the trajectory's hash is the sha256 of the column
  names and all row hashes.

The golden file keeps, per run, its config, the trajectory hash, a 16-hex prefix of every row's
hash and the rows themselves without ``arch_str`` (derivable from ``arch``), so a drift report
names the run, the first step that differs and the values on both sides.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchsim.errors import ConfigError
from benchsim.sweep._spec import canonical

GOLDEN_FORMAT = "benchsim-repro-1"
FLOAT_DIGITS = 12
ROW_HASH_CHARS = 16
_NB201 = {"benchmark": "nb201", "tasks": ["cifar10", "cifar100"]}
_TNB = {"benchmark": "tnb101-micro", "tasks": ["class_scene", "class_object"]}
_SMALL_EMT = {"population_size": 4, "generations": 3}
_SMALL_LDNAS = {"baseline_evaluations": 3, "candidates": 2, "rounds": 3, "fuse_steps": 2,
                "patience": 2}  # fmt: skip
_MADE_UP = "REPRO INPUT: made-up distances (a table holds no images to compute them from)"
_LDNAS_NB201 = {"tasks": ["cifar10", "cifar100", "ImageNet16-120"],
                "mean": [[0, 0.3, 0.4], [0.9, 0, 0.2], [0.5, 0.6, 0]],
                "settings": {"about": _MADE_UP}}  # fmt: skip
_LDNAS_TNB = {"tasks": ["class_scene", "class_object", "room_layout", "jigsaw"],
              "mean": [[0, 0.2, 0.7, 0.9], [0.3, 0, 0.8, 0.6], [0.5, 0.9, 0, 0.4],
                       [0.6, 0.4, 0.3, 0]],
              "settings": {"about": _MADE_UP}}  # fmt: skip

REPRO_SET: dict[str, dict[str, Any]] = {
    "rs-nb201": {"algo": "rs", **_NB201, "seed": 0, "budget": "12"},
    "rea-nb201-2workers": {"algo": "rea", **_NB201, "seed": 1, "budget": "15", "workers": 2},
    "reinforce-nb201": {"algo": "reinforce", **_NB201, "seed": 2, "budget": "12"},
    "ppo-nb201": {"algo": "ppo", **_NB201, "seed": 3, "budget": "12"},
    "xfernas-nb201": {
        "algo": "xfernas",
        **_NB201,
        "seed": 4,
        "budget": "12",
        "params": {"source_evaluations": 4},
    },
    "emtnas-nb201": {"algo": "emtnas", **_NB201, "seed": 5, "params": _SMALL_EMT},
    "ktnas-nb201": {"algo": "ktnas", **_NB201, "seed": 6, "params": _SMALL_EMT},
    "emtnas-nb201-fewshot-modelled": {
        "algo": "emtnas",
        **_NB201,
        "seed": 7,
        "params": _SMALL_EMT,
        "backend_options": {"weight_sharing": "fewshot", "ws_source": "modelled"},
    },
    "emtnas-nb201-upper-bound": {
        "algo": "emtnas",
        **_NB201,
        "seed": 8,
        "params": _SMALL_EMT,
        "backend_options": {"weight_sharing": "standalone-upper-bound"},
    },
    "jt-s-nb201": {"algo": "jt-s", **_NB201, "seed": 9, "params": _SMALL_EMT},
    "jt-d-nb201": {"algo": "jt-d", **_NB201, "seed": 10, "params": _SMALL_EMT},
    "rs-tnb101-micro": {"algo": "rs", **_TNB, "seed": 0, "budget": "12"},
    "rea-tnb101-micro": {
        "algo": "rea",
        **_TNB,
        "seed": 1,
        "budget": "15",
        "params": {"population_size": 5, "sample_size": 3},
    },
    "emtnas-tnb101-micro": {"algo": "emtnas", **_TNB, "seed": 2, "params": _SMALL_EMT},
    "ktnas-tnb101-micro": {"algo": "ktnas", **_TNB, "seed": 3, "params": _SMALL_EMT},
    "ld-nas-nb201": {
        "algo": "ld-nas",
        **_NB201,
        "seed": 9,
        "params": {**_SMALL_LDNAS, "distances": _LDNAS_NB201},
    },
    "ld-nas-tnb101-micro": {
        "algo": "ld-nas",
        **_TNB,
        "seed": 4,
        "params": {
            **_SMALL_LDNAS,
            "distances": _LDNAS_TNB,
            "baseline_tasks": ["room_layout", "jigsaw"],
        },
    },
    "catch-tnb101-micro": {
        "algo": "catch",
        **_TNB,
        "seed": 4,
        "budget": "8",
        "params": {"meta_queries": 4, "meta_episode": 2},
    },
}
"""The runs of the gate: id -> RunConfig fields (table backend, tiny budgets)."""


def default_golden() -> Path:
    """``tests/golden/repro.json`` of the source tree this package was imported from."""
    import benchsim

    return Path(benchsim.__file__).resolve().parents[1] / "tests" / "golden" / "repro.json"


def _value(x: Any) -> Any:
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return x
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return float(f"{x:.{FLOAT_DIGITS}g}")


def canonical_rows(table: Any) -> tuple[list[str], list[list[Any]]]:
    """Column names and canonical row lists of a pyarrow trajectory table."""
    names = list(table.schema.names)
    columns = [table.column(n).to_pylist() for n in names]
    rows = [[_value(v) for v in row] for row in zip(*columns, strict=True)]
    return names, rows


def _sha(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def trajectory_digest(table: Any) -> tuple[str, list[str], list[str], list[list[Any]]]:
    """``(trajectory hash, row hashes, column names, canonical rows)`` of ``table``."""
    names, rows = canonical_rows(table)
    row_hashes = [_sha(row) for row in rows]
    return _sha({"columns": names, "rows": row_hashes}), row_hashes, names, rows


def _run(run_config: dict[str, Any]) -> tuple[Any, dict]:
    """The run's trajectory, and what of the data it ran on could explain a drift."""
    import dataclasses

    from benchsim.backends import benchmark
    from benchsim.runner import RunConfig, execute_run

    config = RunConfig(**run_config).validate()
    output = execute_run(config, None)
    bench = benchmark(config.benchmark)
    data = {
        "tables": output.config.get("data", {}).get("tables", {}),
        "tasks": {
            t: canonical(dataclasses.asdict(bench.task_info(t))) for t in output.config["tasks"]
        },
    }
    return output.trajectory, data


@dataclass
class ReproCheck:
    """The verdict on one golden run: ``status`` is ``ok`` or ``drift``."""

    run: str
    status: str
    message: str
    seconds: float


def _golden_entry(run_config: dict[str, Any], data_by_benchmark: dict) -> dict[str, Any]:
    table, data = _run(run_config)
    shared = data_by_benchmark.setdefault(run_config["benchmark"], {"tables": {}, "tasks": {}})
    shared["tables"] = data["tables"]
    shared["tasks"].update(data["tasks"])
    digest, row_hashes, names, rows = trajectory_digest(table)
    keep = [i for i, n in enumerate(names) if n != "arch_str"]
    return {
        "config": run_config,
        "sha256": digest,
        "columns": names,
        "row_hashes": [h[:ROW_HASH_CHARS] for h in row_hashes],
        "rows": [[row[i] for i in keep] for row in rows],
    }


def regenerate(path: Path | None = None) -> Path:
    """Run :data:`REPRO_SET` and write the golden file (deliberately: see docs/experiments.md)."""
    from benchsim.sweep._store import atomic_json

    path = Path(path) if path is not None else default_golden()
    data: dict[str, Any] = {}
    runs = {name: _golden_entry(config, data) for name, config in REPRO_SET.items()}
    payload = {
        "format": GOLDEN_FORMAT,
        "about": "benchsim verify-repro golden trajectories; regenerate only on purpose with "
        "`benchsim verify-repro --regenerate` (see docs/experiments.md)",
        "float_digits": FLOAT_DIGITS,
        "data": data,
        "runs": runs,
    }
    text = _compact(payload)
    atomic_json(path, payload, text=text)
    return path


_INNER_LIST = re.compile(r"\[([^\[\]{}]*)\]")


def _compact(payload: dict[str, Any]) -> str:
    """Indented JSON with every innermost list on one line: one trajectory row per line."""
    text = json.dumps(payload, indent=1)
    text = _INNER_LIST.sub(lambda m: "[" + ",".join(p.strip() for p in m[1].split(",")) + "]", text)
    if json.loads(text) != payload:  # a string holding a comma or bracket would break this
        text = json.dumps(payload, indent=1)
    return text + "\n"


def load_golden(path: Path | None = None) -> dict[str, Any]:
    """The golden file, checked for its format; one clear line when it is missing."""
    path = Path(path) if path is not None else default_golden()
    if not path.is_file():
        raise ConfigError(
            f"golden file {str(path)!r} does not exist; give --golden PATH (the file is "
            "tests/golden/repro.json in the source tree) or create it with --regenerate"
        )
    data = json.loads(path.read_text())
    if data.get("format") != GOLDEN_FORMAT:
        raise ConfigError(f"{str(path)!r} is not a {GOLDEN_FORMAT} golden file")
    return data


def _describe(names: list[str], row: list[Any] | None) -> str:
    if row is None:
        return "no row"
    shown = [n for n in names if n != "arch_str"]
    return ", ".join(f"{n}={v}" for n, v in zip(shown, row, strict=False))


def _data_note(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Say when the installed data, not the code, may explain a drift."""
    notes = []
    if old.get("tables") and old["tables"] != new["tables"]:
        notes.append("the benchmark table files differ from those the golden file was made with")
    for task, info in old.get("tasks", {}).items():
        if not info:  # not recorded
            continue
        now = new["tasks"].get(task, {})
        changed = sorted(k for k in set(info) | set(now) if info.get(k) != now.get(k))
        if changed:
            notes.append(
                f"the installed catalog entry of task {task} differs in {', '.join(changed)} "
                "(reinstall the tables: benchsim data install --force)"
            )
    return f" ({'; '.join(notes)})" if notes else ""


def compare(name: str, golden: dict[str, Any], golden_data: dict[str, Any]) -> ReproCheck:
    """Re-run one golden run and say whether, and where first, it drifted.

    ``golden_data`` is what the golden file recorded of the run's benchmark data (table
    checksums, catalog entries of its tasks): a difference is named in the drift message.
    """
    t0 = time.perf_counter()
    table, data = _run(golden["config"])
    digest, row_hashes, names, rows = trajectory_digest(table)
    seconds = time.perf_counter() - t0
    if digest == golden["sha256"]:
        return ReproCheck(name, "ok", f"{name}: ok ({len(rows)} rows, {digest[:12]})", seconds)
    old = {
        "tables": golden_data.get("tables", {}),
        "tasks": {t: golden_data.get("tasks", {}).get(t, {}) for t in data["tasks"]},
    }
    data_note = _data_note(old, data)
    if names != golden["columns"]:
        return ReproCheck(
            name,
            "drift",
            f"{name}: trajectory columns changed: now {names}, golden {golden['columns']}"
            + data_note,
            seconds,
        )
    golden_hashes = golden["row_hashes"]
    step = next(
        (
            i
            for i, (a, b) in enumerate(zip(row_hashes, golden_hashes, strict=False))
            if a[: len(b)] != b
        ),
        min(len(row_hashes), len(golden_hashes)),
    )
    keep = [i for i, n in enumerate(names) if n != "arch_str"]
    now_row = [rows[step][i] for i in keep] if step < len(rows) else None
    old_row = golden["rows"][step] if step < len(golden["rows"]) else None
    return ReproCheck(
        name,
        "drift",
        f"{name}: trajectories diverge at step {step} of {len(golden_hashes)} golden rows "
        f"(now {len(rows)}): golden [{_describe(names, old_row)}] vs now "
        f"[{_describe(names, now_row)}]" + data_note,
        seconds,
    )


def verify(path: Path | None = None, only: tuple[str, ...] = ()) -> list[ReproCheck]:
    """Check every golden run (or those named in ``only``) against a fresh run."""
    golden = load_golden(path)
    runs = golden["runs"]
    unknown = [n for n in only if n not in runs]
    if unknown:
        raise ConfigError(f"unknown golden run(s) {', '.join(unknown)}; allowed: {', '.join(runs)}")
    data = golden.get("data", {})
    checks = [
        compare(name, runs[name], data.get(runs[name]["config"]["benchmark"], {}))
        for name in (only or tuple(runs))
    ]
    if not only:
        for name, config in REPRO_SET.items():
            if name not in runs or runs[name]["config"] != config:
                what = "is not in" if name not in runs else "has another config than"
                checks.append(
                    ReproCheck(
                        name,
                        "drift",
                        f"{name}: the gate's run {what} the golden file; regenerate it",
                        0.0,
                    )
                )
    return checks
