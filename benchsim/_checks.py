"""The value checks behind every public argument: one-line messages that name the parameter,
the value and the rule (``f"{name} == {value!r}, must be an integer >= 1"``).

Used by algorithms, backends, the runner, sweeps and the command line alike, so that the same
mistake reads the same everywhere; bools are never accepted as numbers.
"""

from __future__ import annotations

import math

import numpy as np

from benchsim.errors import BenchsimError, ConfigError


def check_number(
    name: str,
    value: object,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    allow_none: bool = False,
    error: type[BenchsimError] = ConfigError,
    why: str = "",
) -> None:
    """Raise a one-line ``error`` unless ``value`` is a number in the interval.

    ``low_open`` / ``high_open`` exclude the bound; ``integer`` demands an int (bools refused);
    ``allow_none`` accepts ``None`` too (and says so in the message); ``why`` says, after the
    rule, where a bound comes from (e.g. ``"the number of architectures of nb201"``).

    >>> check_number("size", 10**8, 2, 15625, integer=True, why="the architectures of nb201")
    Traceback (most recent call last):
    ...
    benchsim.errors.ConfigError: size == 100000000, must be an integer in [2, 15625] (the ...
    """
    if allow_none and value is None:
        return
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = isinstance(value, kinds) and not isinstance(value, (bool, np.bool_))
    if ok:
        x = float(value)  # type: ignore[arg-type]
        above = x > low if low_open else x >= low
        below = x < high if high_open else x <= high
        ok = math.isfinite(x) and above and below
    if not ok:
        what = "an integer" if integer else "a number"
        if high == math.inf:
            rule = f"{'>' if low_open else '>='} {low:g}"
        else:
            left, right = "(" if low_open else "[", ")" if high_open else "]"
            rule = f"in {left}{low:g}, {high:g}{right}"
        none = " or None" if allow_none else ""
        raise error(f"{name} == {value!r}, must be {what} {rule}{none}{f' ({why})' if why else ''}")


def check_int(
    name: str,
    value: object,
    low: int,
    *,
    allow_none: bool = False,
    error: type[BenchsimError] = ConfigError,
    high: float = math.inf,
    why: str = "",
) -> None:
    """Raise ``error`` unless ``value`` is an integer (not a bool) ``>= low`` and ``<= high``
    (or ``None`` when ``allow_none``); ``why`` as for :func:`check_number`."""
    check_number(name, value, low, high, integer=True, allow_none=allow_none, error=error, why=why)


def check_bool(name: str, value: object) -> None:
    """Raise :class:`ConfigError` unless ``value`` is ``True`` or ``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} == {value!r}, must be true or false")


def task_names(name: str, value: object, none_means: str) -> tuple[str, ...] | None:
    """``value`` as a tuple of task names, or ``None``; anything else is a one-line
    :class:`ConfigError` (a bare string is refused: ``"cifar100"`` is not a list of names).

    ``none_means`` says in the message what ``null`` stands for (e.g. "all other tasks").

    >>> task_names("source_tasks", ["cifar100"], "all other tasks")
    ('cifar100',)
    """
    if value is None:
        return None
    if (
        isinstance(value, str)
        or not isinstance(value, (list, tuple))
        or not all(isinstance(t, str) for t in value)
    ):
        raise ConfigError(
            f"{name} == {value!r}, must be a list of task names or null ({none_means})"
        )
    return tuple(value)
