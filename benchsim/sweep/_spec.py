"""What a sweep is: its specification, the seed/param syntax, and where each run lives.

A sweep is the cross product ``algorithms x seeds`` of runs over one benchmark and one task list.
Each run is one :func:`~benchsim.runner.execute_run` call, single-task and multi-task algorithms
alike (the runner gives a single-task algorithm one search per task itself).  The spec is stored
in ``DIR/sweep.json``; only its :meth:`SweepSpec.key` decides whether a folder belongs to the
same sweep, so the executor and the number of jobs may change between two invocations.

Layout of a sweep folder::

    DIR/sweep.json                                 the spec (written once)
    DIR/runs/<algo>/<task+task>/seed=<n>/          what `benchsim run` writes, per run
    DIR/failures/<run-id>.json                     error of a failed run (removed on success)
    DIR/results/algo=<a>/task=<t>/part-<run-id>.parquet   all trajectories (hive partitions)
    DIR/results/_runs.parquet                      one row per run and task

The run table's name starts with ``_`` so that readers of the dataset skip it (the Hive/Spark
convention for a dataset's metadata files): ``pandas.read_parquet("DIR/results")`` returns the
trajectories only.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchsim.errors import ConfigError

SPEC_FILE = "sweep.json"
SPEC_FORMAT = "benchsim-sweep-1"
MAX_SEEDS = 10_000
"""The most seeds one sweep takes.  Planning costs about 0.1 ms per run (10,000 seeds: about
a second), and no published protocol comes near it (NAS-Bench-201: 500 runs per method); a
larger study is split into sweeps of its own."""
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds from ``"0-99"``, ``"0,3,5"`` or ``"0-9,20-29"``, in ascending order.

    A seed listed twice is refused rather than silently merged: an overlap such as
    ``"0-9,5"`` is far more likely a typo than an intention.

    Examples
    --------
    >>> parse_seeds("0-2,7")
    (0, 1, 2, 7)
    """
    ranges: list[range] = []
    parts = str(text).split(",")
    for part in parts:
        match = _RANGE.match(part.strip())
        if not match:
            raise ConfigError(
                f"--seeds {text!r} does not parse at {part.strip()!r}; give integers >= 0 and "
                "ranges, e.g. 0-99, 0,3,5 or 0-9,20-29"
            )
        low = int(match[1])
        high = int(match[2]) if match[2] is not None else low
        if high < low:
            raise ConfigError(f"--seeds range {part.strip()!r} is empty; write it low-high")
        ranges.append(range(low, high + 1))
    count = sum(len(r) for r in ranges)  # counted before any list of that length is made
    if count > MAX_SEEDS:
        raise ConfigError(
            f"--seeds {text!r} is {count:,} seeds, more than the {MAX_SEEDS:,} one sweep takes; "
            "split the study into several sweeps (each its own --out)"
        )
    seeds = [seed for r in ranges for seed in r]
    seen: set[int] = set()
    for seed in seeds:
        if seed in seen:
            raise ConfigError(f"--seeds {text!r} lists seed {seed} twice")
        seen.add(seed)
    return tuple(sorted(seeds))


def format_seeds(seeds: tuple[int, ...]) -> str:
    """The shortest range text for ``seeds`` (inverse of :func:`parse_seeds`)."""
    out: list[str] = []
    i = 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        out.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return ",".join(out)


def parse_param_items(items: tuple[str, ...] | list[str]) -> dict[str, dict[str, Any]]:
    """``--param`` items: ``name=value`` (every algorithm that has ``name``) or ``algo.name=value``.

    Returns ``{"*": {...}, "<algo>": {...}}``.  Values are JSON when they parse (``20``,
    ``0.5``, ``true``, ``"text"``), else kept as text, as ``benchsim run --param`` does.
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                f"--param {item!r} must look like name=value or algo.name=value "
                "(e.g. population_size=20 or rea.sample_size=5)"
            )
        scope, dot, name = key.rpartition(".")
        scope = scope if dot else "*"
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(scope, {})[name] = value
    return out


@dataclass(frozen=True)
class SweepSpec:
    """Everything that decides which runs a sweep holds and how each is configured.

    ``tasks`` are canonical task names (resolved by the benchmark before the spec is stored);
    ``params`` maps ``"*"`` or an algorithm name to hyperparameter overrides.
    """

    algos: tuple[str, ...]
    seeds: tuple[int, ...]
    benchmark: str
    tasks: tuple[str, ...]
    backend: str = "table"
    budget: str | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    backend_options: dict[str, Any] = field(default_factory=dict)

    def params_for(self, algo: str, allowed: set[str]) -> dict[str, Any]:
        """Overrides for ``algo``: the shared ones it knows, then its own (which win)."""
        shared = {k: v for k, v in self.params.get("*", {}).items() if k in allowed}
        return {**shared, **self.params.get(algo, {})}

    def key(self) -> dict[str, Any]:
        """The canonical identity: two specs with equal keys hold the same runs."""
        return canonical(
            {
                "algos": sorted(self.algos),
                "seeds": sorted(self.seeds),
                "benchmark": self.benchmark,
                "tasks": list(self.tasks),
                "backend": self.backend,
                "budget": self.budget,
                "params": self.params,
                "backend_options": self.backend_options,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form stored in ``sweep.json`` (algorithm order and seed ranges kept readable)."""
        return {
            "format": SPEC_FORMAT,
            "algos": list(self.algos),
            "seeds": format_seeds(self.seeds),
            "benchmark": self.benchmark,
            "tasks": list(self.tasks),
            "backend": self.backend,
            "budget": self.budget,
            "params": self.params,
            "backend_options": self.backend_options,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepSpec:
        """Inverse of :meth:`to_dict`; a file of another format is refused."""
        if not isinstance(data, dict) or data.get("format") != SPEC_FORMAT:
            raise ConfigError(f"not a benchsim sweep spec (format must be {SPEC_FORMAT!r})")
        return cls(
            algos=tuple(data["algos"]),
            seeds=parse_seeds(data["seeds"]),
            benchmark=data["benchmark"],
            tasks=tuple(data["tasks"]),
            backend=data["backend"],
            budget=data["budget"],
            params=dict(data.get("params") or {}),
            backend_options=dict(data.get("backend_options") or {}),
        )

    def runs(self) -> list[tuple[str, int]]:
        """``(algo, seed)`` of every run, seed-major so that early results cover every algo."""
        return [(algo, seed) for seed in self.seeds for algo in self.algos]


def canonical(value: Any) -> Any:
    """``value`` as plain JSON data (tuples -> lists, numpy scalars -> Python numbers)."""
    return json.loads(json.dumps(value, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, (np.generic, np.ndarray)):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot put a {type(value).__name__} into a sweep spec")


def content_hash(value: Any) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces) of ``value``."""
    text = json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def run_id(algo: str, tasks: tuple[str, ...] | list[str], seed: int) -> str:
    """File-name-safe id of one run, e.g. ``rea__cifar10+cifar100__seed7``."""
    return f"{algo}__{'+'.join(tasks)}__seed{seed}"


def run_dir(out: Path, algo: str, tasks: tuple[str, ...] | list[str], seed: int) -> Path:
    """``DIR/runs/<algo>/<tasks joined by '+'>/seed=<n>``."""
    return Path(out) / "runs" / algo / "+".join(tasks) / f"seed={seed}"


def load_spec(out: Path) -> SweepSpec:
    """The spec stored in ``out``; a clear error when ``out`` is not a sweep folder."""
    path = Path(out) / SPEC_FILE
    if not path.is_file():
        raise ConfigError(_not_a_sweep(Path(out)))
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{str(path)!r} is unreadable: {type(err).__name__}") from None
    return SweepSpec.from_dict(data)


def _not_a_sweep(out: Path) -> str:
    """Why ``out`` holds no sweep, and what to do: a single run's folder (of ``benchsim run``,
    or one run inside a sweep) is told apart from a folder holding neither."""
    if not out.exists():
        return f"{str(out)!r} does not exist; give a sweep folder (`benchsim sweep --out DIR`)"
    if (out / "config.json").is_file():
        root = next((p for p in out.resolve().parents if (p / SPEC_FILE).is_file()), None)
        if root is not None:
            return (
                f"{str(out)!r} is one run of the sweep in {str(root)!r}; report the whole sweep "
                f"with `benchsim report {root}`"
            )
        summary = (
            f"its summary is {out / 'result.json'}"
            if (out / "result.json").is_file()
            else f"it has not finished (continue it with `benchsim run --resume {out}`)"
        )
        return (
            f"{str(out)!r} is a single run's folder (`benchsim run`), not a sweep: {summary}; "
            "`benchsim report` reads a sweep folder (`benchsim sweep --out DIR`)"
        )
    return (
        f"{str(out)!r} is not a sweep folder (no {SPEC_FILE}); run `benchsim sweep --out {out}` "
        "first"
    )
