"""Value checks shared by algorithms and backends: one-line :class:`ConfigError` messages."""

from __future__ import annotations

import math

import numpy as np

from benchsim.errors import ConfigError


def check_number(
    name: str,
    value: object,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> None:
    """Raise a one-line :class:`ConfigError` unless ``value`` is a number in the interval.

    ``low_open`` / ``high_open`` exclude the bound; ``integer`` demands an int (bools refused).
    """
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = isinstance(value, kinds) and not isinstance(value, (bool, np.bool_))
    if ok:
        x = float(value)  # type: ignore[arg-type]
        above = x > low if low_open else x >= low
        below = x < high if high_open else x <= high
        ok = math.isfinite(x) and above and below
    if not ok:
        what = "an integer" if integer else "a number"
        left = "(" if low_open else "["
        right = ")" if high_open or high == math.inf else "]"
        upper = "inf" if high == math.inf else f"{high:g}"
        raise ConfigError(f"{name} == {value!r}, must be {what} in {left}{low:g}, {upper}{right}")


def check_int(name: str, value: object, low: int) -> None:
    """Raise :class:`ConfigError` unless ``value`` is an integer (not a bool) ``>= low``."""
    check_number(name, value, low, integer=True)
