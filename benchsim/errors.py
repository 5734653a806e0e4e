"""Every error benchsim raises on purpose.

All of them derive from :class:`BenchsimError`, so the CLI can turn any of them into one line on
stderr and exit code 2 (bad input) or 1 (a failure that is not the user's input), and library
users can catch one base class.  Messages name the bad value, the rule and what is allowed,
in the style of scikit-learn's ``f"{name} == {x}, must be >= {min_val}."``.
"""

from __future__ import annotations

from collections.abc import Iterable


def _allowed(values: Iterable[object], limit: int = 12) -> str:
    """Format a list of allowed values compactly for an error message."""
    items = [str(v) for v in values]
    if len(items) > limit:
        items = [*items[:limit], f"... ({len(items) - limit} more)"]
    return ", ".join(items)


class BenchsimError(Exception):
    """Base class of all benchsim errors. ``exit_code`` is what the CLI exits with."""

    exit_code = 2


class InvalidArchitectureError(BenchsimError, ValueError):
    """An architecture string, index or op list that is not in the search space."""


class UnknownNameError(BenchsimError, KeyError):
    """A name (task, metric, benchmark, algorithm, op, ...) that is not registered.

    Parameters
    ----------
    kind
        What was looked up, e.g. ``"task"``.
    name
        The value the user gave.
    allowed
        The names that would have worked; they are listed in the message.
    context
        Optional phrase saying where, e.g. ``"in benchmark nb201"``.
    """

    def __init__(
        self, kind: str, name: object, allowed: Iterable[object], context: str = ""
    ) -> None:
        self.kind, self.name, self.allowed = kind, name, tuple(allowed)
        where = f" {context}" if context else ""
        super().__init__(f"unknown {kind} {name!r}{where}; allowed: {_allowed(self.allowed)}")

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])


class UnknownTaskError(UnknownNameError):
    """A task (dataset) that the benchmark does not carry."""

    def __init__(self, name: object, allowed: Iterable[object], context: str = "") -> None:
        super().__init__("task", name, allowed, context)


class UnknownMetricError(UnknownNameError):
    """A metric that the task does not carry."""

    def __init__(self, name: object, allowed: Iterable[object], context: str = "") -> None:
        super().__init__("metric", name, allowed, context)


class FidelityError(BenchsimError, ValueError):
    """An epoch, schedule or seed that the table does not record.

    ``arch`` is the architecture the refusal is about, ``None`` when it holds for every
    architecture of the task (a property of the table: a metric without per-seed values, a
    schedule not recorded), so callers can tell the two apart without reading the message.
    """

    def __init__(self, message: str, arch: int | None = None) -> None:
        super().__init__(message)
        self.arch = arch

    def __reduce__(self) -> tuple:  # the field survives pickling (a sweep worker's error)
        return (type(self), (self.args[0], self.arch))


class DataError(BenchsimError):
    """Data the user pointed benchsim at that is missing or not what was asked for: a mirror
    folder that does not exist, a file to import of another kind, a table not installed.

    Exit code 2: the input named the wrong thing.  Damaged data is :class:`CorruptDataError`.
    """


class CorruptDataError(DataError):
    """Data whose bytes are not what benchsim recorded or pinned: a table file modified or
    truncated since it was installed, an unreadable ``meta.json``, a source file whose SHA-256
    is not the manifest's.

    Exit code 1: not bad input (the command was right; the disk holds the wrong bytes), a
    failure whose message names the file and the command that repairs it.
    """

    exit_code = 1


class ChecksumError(CorruptDataError):
    """A file whose SHA-256 is not the one the manifest pins."""


class ConfigError(BenchsimError, ValueError):
    """A bad configuration value, budget or option."""


class BackendError(BenchsimError):
    """A backend cannot serve the request (no CUDA, no dataset, ...)."""


class CodecError(ConfigError):
    """A state that the checkpoint codec cannot write, or a file that is not one it wrote."""


class CheckpointError(BenchsimError):
    """A checkpoint whose files do not match the SHA-256 recorded when it was saved (damaged on
    disk, or edited), or that lacks them: it is never resumed.

    Exit code 1: not a bad command line but a damaged file.  ``detail`` says which file and
    what is wrong with it; the message adds what to do (start the run again from its
    ``config.json``), which differs between ``benchsim run`` and a sweep.
    """

    exit_code = 1

    def __init__(self, detail: str, fix: str = "") -> None:
        super().__init__(f"{detail}; {fix}" if fix else detail)  # one argument: picklable
        self.detail = detail


class RunInterrupted(BenchsimError):
    """Ctrl-C, SIGTERM or SIGHUP (or ``stop_after``): the run saved a checkpoint and stopped
    cleanly.

    The exit code is the shell's convention for a process ended by the signal, 128 + its
    number: 130 for Ctrl-C (SIGINT, also ``stop_after``), 143 for SIGTERM, 129 for SIGHUP.
    """

    exit_code = 130

    def __init__(self, message: str, signum: int = 2) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


class IncompleteReproduction(BenchsimError):
    """Some runs of a reproduction failed or were interrupted: no table is made from them."""

    exit_code = 1


class DeadlockError(BenchsimError, RuntimeError):
    """The searcher asked to wait although no job was outstanding (an algorithm bug)."""

    exit_code = 1


class EmptyResultError(BenchsimError):
    """A run ended without an architecture for some task (its budget bought no full
    evaluation there).  Its files are written; ``output`` holds what it produced."""

    exit_code = 1

    def __init__(self, message: str, output: object = None) -> None:
        super().__init__(message)
        self.output = output


class UnavailableError(FidelityError, KeyError):
    """A value a drop-in API (:mod:`benchsim.compat`) would return that benchsim's data does not
    hold: the message names the call, the key and what is available instead.

    Also a ``KeyError``, so that code reading a missing key of an official result dict with
    ``except KeyError`` keeps working.
    """

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0])


class BenchsimWarning(UserWarning):
    """A setting or input that benchsim accepts but that does not do what it may seem to (e.g.
    ``ws_tau`` on a task whose supernet estimate is recorded).  The CLI prints it as one
    ``warning: ...`` line on stderr."""
