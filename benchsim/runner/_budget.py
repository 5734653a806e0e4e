"""Budgets: how much a search may spend, per task.

A budget string is either a number of evaluations (``"300"``) or simulated seconds with a unit
(``"12000s"``, ``"200m"``, ``"3.5h"``).  Budgets are per task: a multi-task searcher over T
tasks gets T times the budget on one clock; a single-task searcher gets the budget for each
task's own search.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from benchsim.errors import ConfigError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_PATTERN = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[smh]?)\s*$")


@dataclass(frozen=True)
class Budget:
    """At most ``evaluations`` answers and/or ``seconds`` of simulated time (None = no limit)."""

    evaluations: int | None = None
    seconds: float | None = None

    def scaled(self, factor: int) -> Budget:
        """The budget for ``factor`` tasks sharing one clock."""
        return Budget(
            evaluations=None if self.evaluations is None else self.evaluations * factor,
            seconds=None if self.seconds is None else self.seconds * factor,
        )

    def __str__(self) -> str:
        parts = []
        if self.evaluations is not None:
            parts.append(f"{self.evaluations} evaluations")
        if self.seconds is not None:
            parts.append(f"{self.seconds:g} simulated seconds")
        return " and ".join(parts) or "unlimited"


def parse_budget(text: str | int | float | None) -> Budget:
    """Parse ``"300"``, ``"12000s"``, ``"200m"``, ``"3.5h"`` or ``"300,12000s"`` (both limits).

    ``None`` means no runner-imposed limit (the algorithm stops itself, e.g. after its
    generations).
    """
    if text is None:
        return Budget()
    if isinstance(text, bool):
        raise ConfigError(f"budget == {text!r}, must be e.g. 300 (evaluations) or 12000s")
    if isinstance(text, (int, float)):
        text = str(text)
    evaluations: int | None = None
    seconds: float | None = None
    for part in str(text).split(","):
        match = _PATTERN.match(part)
        if not match:
            raise ConfigError(
                f"budget {text!r} does not parse; give evaluations (300), simulated time "
                "(12000s, 200m, 3.5h) or both (300,12000s)"
            )
        number, unit = float(match["num"]), match["unit"]
        if unit:
            seconds = number * _UNITS[unit]
        else:
            if not number.is_integer():
                raise ConfigError(f"budget {part!r}: a number of evaluations must be an integer")
            evaluations = int(number)
    if (evaluations is not None and evaluations < 1) or (
        seconds is not None and (seconds <= 0 or not math.isfinite(seconds))
    ):
        raise ConfigError(f"budget {text!r} cannot be met: it must allow at least one evaluation")
    return Budget(evaluations=evaluations, seconds=seconds)
