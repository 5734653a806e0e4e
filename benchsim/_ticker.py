"""Plain progress lines, for output that is not a terminal.

A rich progress bar draws only on a terminal; in a log file, a pipe, CI or a batch job it
draws nothing, so a run of an hour printed nothing for an hour.  There, benchsim prints plain
lines instead, a few seconds apart: the first at once (so a log shows the work started), then
at most one every :data:`EVERY_S` seconds, each a complete sentence a log reader or ``grep``
can use (``benchsim run: 12,345 evaluations, 3.21 simulated GPU-h, 10 s``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

EVERY_S = 5.0
"""Seconds between two plain progress lines (``$BENCHSIM_PROGRESS_EVERY`` overrides it)."""
ENV_EVERY = "BENCHSIM_PROGRESS_EVERY"


def interval() -> float:
    """:data:`EVERY_S`, or ``$BENCHSIM_PROGRESS_EVERY`` when it is a number >= 0."""
    try:
        value = float(os.environ.get(ENV_EVERY, EVERY_S))
    except ValueError:
        return EVERY_S
    return value if value >= 0 else EVERY_S


def on_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal (where a rich bar draws)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Ticker:
    """Prints ``"<prefix>: <text>"`` lines on ``stream``, rate-limited.

    Parameters
    ----------
    prefix
        What speaks, e.g. ``"benchsim run"``.
    every
        Seconds between two lines (default :func:`interval`); the first line is never held.
    stream
        Where to write (default: ``sys.stderr`` at the time of each line, so that a test's
        captured stream is honoured).
    clock
        Monotonic seconds (a parameter so the rate limit can be tested without sleeping).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> ticks = iter([0.0, 0.0, 1.0, 6.0])  # made at 0; lines at 0, 1 (held) and 6
    >>> ticker = Ticker("demo", every=5, stream=out, clock=lambda: next(ticks))
    >>> for n in (1, 2, 3):
    ...     _ = ticker.line(f"{n} done")
    >>> print(out.getvalue(), end="")
    demo: 1 done
    demo: 3 done
    """

    def __init__(
        self,
        prefix: str,
        every: float | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefix = prefix
        self.every = interval() if every is None else every
        self._stream = stream
        self._clock = clock
        self._last: float | None = None
        self.started = clock()

    def due(self) -> bool:
        """Whether a line printed now would be shown (cheap: one clock read)."""
        return self._last is None or self._clock() - self._last >= self.every

    def line(self, text: str, *, force: bool = False) -> bool:
        """Print ``text`` if a line is due (or ``force``); return whether it was printed."""
        now = self._clock()
        if not force and self._last is not None and now - self._last < self.every:
            return False
        self._last = now
        stream = self._stream if self._stream is not None else sys.stderr
        print(f"{self.prefix}: {text}", file=stream, flush=True)
        return True

    def elapsed(self) -> float:
        """Seconds since the ticker was made."""
        return self._clock() - self.started
