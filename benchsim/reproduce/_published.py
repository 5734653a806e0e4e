"""The published numbers (``published.toml``), parsed once, each with its source."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from benchsim.errors import DataError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

PUBLISHED_FILE = Path(__file__).with_name("published.toml")


@dataclass(frozen=True)
class Published:
    """A paper's table: ``results[algo][task] = (mean, std)`` over ``runs`` runs."""

    name: str
    paper: str
    table: str
    runs: int
    protocol: str
    source: str
    results: dict[str, dict[str, tuple[float, float]]]

    def describe(self) -> dict[str, object]:
        """Where the numbers come from, as written beside every comparison."""
        return {
            "paper": self.paper,
            "table": self.table,
            "runs": self.runs,
            "protocol": self.protocol,
            "source": self.source,
        }


@cache
def published(name: str) -> Published:
    """The entry ``name`` of ``published.toml``."""
    with PUBLISHED_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    entry = data.get(name)
    if not isinstance(entry, dict):
        raise DataError(f"{PUBLISHED_FILE.name} has no entry {name!r}")
    try:
        results = {
            algo: {task: (float(v[0]), float(v[1])) for task, v in tasks.items()}
            for algo, tasks in entry["results"].items()
        }
        return Published(
            name=name,
            paper=str(entry["paper"]),
            table=str(entry["table"]),
            runs=int(entry["runs"]),
            protocol=str(entry["protocol"]),
            source=str(entry["source"]),
            results=results,
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DataError(f"{PUBLISHED_FILE.name} entry {name!r} is malformed ({exc})") from None
