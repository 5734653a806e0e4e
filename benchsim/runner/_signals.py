"""Ctrl-C, SIGTERM and SIGHUP as one request: stop at the next safe point, after a checkpoint.

A run or a sweep is stopped by more than Ctrl-C (SIGINT): a batch scheduler preempting a job
and ``docker stop`` send SIGTERM, a dropped SSH session SIGHUP.  Left to their default action,
those two end the process at once and lose the work since the last checkpoint (up to a
minute), so :class:`StopSignals` treats all three alike for the duration of a ``with`` block:

* the first one is only recorded (:attr:`StopSignals.signum`) and reported to ``on_first``;
  the loop that owns the block checks it at its next safe point, checkpoints and stops;
* a second one gets what it would have got without the block (the handler that was installed
  before it): a second Ctrl-C raises ``KeyboardInterrupt`` as Python's own handler does, a
  second SIGTERM ends the process, an ignored signal stays ignored; a sweep's worker process,
  which its sweep ends, only records them (``escalate=False``), so that the copy of a Ctrl-C
  forwarded by the sweep does not abort the checkpoint the terminal's copy started;
* leaving the block restores the previous handlers, so the library never leaves one behind.

Handlers can only be installed from the main thread; elsewhere (a run inside a thread) the
block does nothing, as a signal is delivered to the main thread anyway.  A signal whose current
handler was not set from Python (``signal.getsignal`` returns None) is left alone: it could not
be put back.  The process then exits with 128 + the signal's number (:func:`exit_code`), the
shell's convention for "ended by that signal": 130, 143, 129.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, ClassVar

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that stop a run or a sweep after a checkpoint (no SIGHUP on Windows)."""


def exit_code(signum: int) -> int:
    """The exit status of a process stopped by ``signum``: 128 + its number."""
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    """``2`` -> ``"SIGINT (Ctrl-C)"``, ``15`` -> ``"SIGTERM"``: for messages."""
    name = signal.Signals(signum).name
    return f"{name} (Ctrl-C)" if signum == signal.SIGINT else name


class StopSignals:
    """Record the first of SIGINT / SIGTERM / SIGHUP while the block runs (module docstring).

    Parameters
    ----------
    on_first
        Called with the signal's number when the first one arrives, inside the signal
        handler: it may forward the request (a sweep tells its worker processes) or raise to
        leave a blocking wait (a sweep waiting for runs).
    escalate
        Whether a second signal gets the previous handler's action; ``False`` only records
        (a sweep's worker process, which its sweep ends).

    A block opened inside another one that was already asked to stop starts stopped: a run
    that a sweep worker begins just after its stop signal arrived stops at its first result
    instead of running to its end.
    """

    _open: ClassVar[list[StopSignals]] = []

    def __init__(
        self, on_first: Callable[[int], None] | None = None, *, escalate: bool = True
    ) -> None:
        self.on_first = on_first
        self.escalate = escalate
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def raised(self) -> bool:
        """Whether a stop was asked for."""
        return self.signum is not None

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        if StopSignals._open and StopSignals._open[-1].signum is not None:
            self.signum = StopSignals._open[-1].signum
        for signum in STOP_SIGNALS:
            previous = signal.getsignal(signum)
            if previous is None:  # set outside Python: it could not be restored
                continue
            signal.signal(signum, self._handle)
            self._previous[signum] = previous
        StopSignals._open.append(self)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            if self.on_first is not None:
                self.on_first(signum)
            return
        if not self.escalate:
            return
        previous = self._previous.get(signum, signal.SIG_DFL)
        if previous == signal.SIG_IGN:
            return
        if previous == signal.SIG_DFL:  # end the process as the signal would have
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        previous(signum, frame)  # e.g. Python's SIGINT handler: KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()
        if self in StopSignals._open:
            StopSignals._open.remove(self)
