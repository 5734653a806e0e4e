"""A run's configuration: parsed from flags and/or a TOML/YAML file, validated, written back.

Every key is checked: an unknown top-level key or hyperparameter is refused with its name and the
allowed ones, so a typo in a config file never silently falls back to a default.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from benchsim._checks import check_int
from benchsim.errors import ConfigError


@dataclass
class RunConfig:
    """Everything that determines a run (together with the data checksums it records).

    ``budget`` is per task (see :mod:`benchsim.runner._budget`); ``None`` = the algorithm's
    default for the benchmark.  ``params`` are the algorithm's hyperparameters (defaults filled
    in at resolution).  ``protocol`` may override, for all tasks, ``seed`` (None, int or
    "sample"), ``cost_scale`` and ``schedule`` of :class:`~benchsim.runner._execute.Protocol`.
    """

    algo: str = "emtnas"
    backend: str = "table"
    benchmark: str = "nb201"
    tasks: tuple[str, ...] | None = None
    seed: int = 0
    budget: str | None = None
    workers: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    backend_options: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> RunConfig:
        check_int("seed", self.seed, 0)
        check_int("workers", self.workers, 1)
        if self.tasks is not None:
            if isinstance(self.tasks, str):
                self.tasks = tuple(t.strip() for t in self.tasks.split(",") if t.strip())
            self.tasks = tuple(self.tasks)
            if not self.tasks:
                raise ConfigError("tasks == (), give at least one task")
            if len(set(self.tasks)) != len(self.tasks):
                raise ConfigError(f"tasks {list(self.tasks)} lists a task twice")
        unknown = set(self.protocol) - {"seed", "cost_scale", "schedule"}
        if unknown:
            raise ConfigError(
                f"unknown protocol key(s) {sorted(unknown)}; allowed: seed, cost_scale, schedule"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["tasks"] = list(self.tasks) if self.tasks is not None else None
        return out


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) or JSON config into a dict."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            f"config file {str(path)!r} is a folder; give a .toml, .yaml or .json file (a run "
            "folder's config is DIR/config.json; to continue a run use --resume DIR)"
        )
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    text = path.read_text()
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise ConfigError(
                f"config file {str(path)!r} has suffix {suffix!r}; allowed: .toml, .yaml, .yml, "
                ".json"
            )
    except ConfigError:
        raise
    except Exception as err:  # parser errors differ per format; report one line
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"config file {str(path)!r} does not parse: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a table/mapping at top level")
    return data


def merge_config(file_values: dict[str, Any], overrides: dict[str, Any]) -> RunConfig:
    """A :class:`RunConfig` from a file's values overridden by flags (``None`` = not given)."""
    allowed = {f.name for f in fields(RunConfig)}
    # Files written back by a run also carry resolved/provenance sections: accept and ignore.
    informational = {"resolved", "versions", "data", "answers", "command"}
    unknown = set(file_values) - allowed - informational
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    values = {k: v for k, v in file_values.items() if k in allowed}
    for key, value in overrides.items():
        if value is not None:
            values[key] = value
    for key in ("params", "protocol", "backend_options"):
        if key in values and not isinstance(values[key], dict):
            raise ConfigError(f"config key {key!r} must be a table/mapping")
    return RunConfig(**values).validate()
