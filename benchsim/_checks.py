"""The value checks behind every public argument: one-line messages that name the parameter,
the value and the rule (``f"{name} == {value!r}, must be an integer >= 1"``).

Used by algorithms, backends, the runner, sweeps and the command line alike, so that the same
mistake reads the same everywhere; bools are never accepted as numbers.  Two forms, one rule
each: a check called where the value arrives (:func:`check_number`, :func:`check_int`, ...),
and constraints declared once per parameter and checked together by
:func:`validate_parameters` (scikit-learn's ``_parameter_constraints`` idea: an algorithm
declares ``{"population_size": [Interval(2, integer=True)], "batch_size":
[Interval(1, integer=True), None], ...}`` and its base class checks them all).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    rule, where a bound comes from (e.g. ``"the number of architectures of nb201"``).  The rule
    is an :class:`Interval`'s, as a declared constraint states it.

    >>> check_number("size", 10**8, 2, 15625, integer=True, why="the architectures of nb201")
    Traceback (most recent call last):
    ...
    benchsim.errors.ConfigError: size == 100000000, must be an integer in [2, 15625] (the ...
    """
    if allow_none and value is None:
        return
    interval = Interval(low, high, low_open=low_open, high_open=high_open, integer=integer)
    if not interval.accepts(value):
        none = " or None" if allow_none else ""
        rule = f"{interval.describe()}{none}{f' ({why})' if why else ''}"
        raise error(f"{name} == {value!r}, must be {rule}")


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


# ---------------------------------------------------------------------- declared constraints
class Constraint(ABC):
    """One way a parameter's value may be valid (a parameter lists one or more)."""

    @abstractmethod
    def accepts(self, value: object) -> bool:
        """Whether ``value`` satisfies this constraint."""

    @abstractmethod
    def describe(self) -> str:
        """The rule, as the message's ``must be ...`` states it."""

    def convert(self, value: Any) -> Any:
        """The value to store once accepted (as given, unless a constraint normalises it)."""
        return value


@dataclass(frozen=True)
class Interval(Constraint):
    """A finite number in ``[low, high]`` (``low_open`` / ``high_open`` exclude a bound);
    ``integer``: an int.  Bools are never numbers."""

    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def accepts(self, value: object) -> bool:
        kinds = (int, np.integer) if self.integer else (int, float, np.integer, np.floating)
        if not isinstance(value, kinds) or isinstance(value, (bool, np.bool_)):
            return False
        x = float(value)  # type: ignore[arg-type]
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return math.isfinite(x) and above and below

    def describe(self) -> str:
        what = "an integer" if self.integer else "a number"
        if self.high == math.inf:
            return f"{what} {'>' if self.low_open else '>='} {self.low:g}"
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f"{what} in {left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class Options(Constraint):
    """One of ``values`` (strings)."""

    values: tuple[str, ...]

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and value in self.values

    def describe(self) -> str:
        return f"one of {', '.join(self.values)}"


@dataclass(frozen=True)
class Boolean(Constraint):
    """``True`` or ``False`` (numpy's bool too)."""

    def accepts(self, value: object) -> bool:
        return isinstance(value, (bool, np.bool_))

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """An instance of one of ``types``, described as ``what``."""

    types: tuple[type, ...]
    what: str

    def accepts(self, value: object) -> bool:
        return isinstance(value, self.types)

    def describe(self) -> str:
        return self.what


@dataclass(frozen=True)
class TaskNames(Constraint):
    """A list (or tuple) of task names, stored as a tuple (a bare string is not a list);
    ``None`` too, standing for ``none_means``."""

    none_means: str

    def accepts(self, value: object) -> bool:
        if value is None:
            return True
        return isinstance(value, (list, tuple)) and all(isinstance(t, str) for t in value)

    def describe(self) -> str:
        return f"a list of task names or null ({self.none_means})"

    def convert(self, value: Any) -> Any:
        return None if value is None else tuple(value)


ParameterConstraints = Mapping[str, Sequence["Constraint | None"]]
"""Parameter name -> the constraints it may satisfy (any one; ``None`` in the list: ``None``
is valid too)."""


def validate_parameters(
    constraints: ParameterConstraints, params: Mapping[str, Any], caller: str
) -> dict[str, Any]:
    """Check each of ``params`` against its declared constraints; return them as stored
    (:meth:`Constraint.convert`).

    A value is valid when any of its parameter's constraints accepts it; a parameter without
    declared constraints is not checked (as in scikit-learn, a contract test checks that every
    registered algorithm declares them all).  The first invalid value raises one line,
    ``"population_size == 1 for algorithm rea, must be an integer >= 2"`` (``caller`` names
    whose parameter it is).

    >>> validate_parameters({"n": [Interval(1, integer=True), None]}, {"n": 0}, "algorithm x")
    Traceback (most recent call last):
    ...
    benchsim.errors.ConfigError: n == 0 for algorithm x, must be an integer >= 1 or None
    """
    out = {}
    for name, value in params.items():
        allowed = constraints.get(name)
        if allowed is None:
            out[name] = value
            continue
        if value is None and None in allowed:
            out[name] = None
            continue
        found = next((c for c in allowed if c is not None and c.accepts(value)), None)
        if found is None:
            rule = " or ".join("None" if c is None else c.describe() for c in allowed)
            raise ConfigError(f"{name} == {value!r:.80} for {caller}, must be {rule}")
        out[name] = found.convert(value)
    return out
