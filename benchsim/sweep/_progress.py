"""One progress display for a whole sweep: runs done of all, failures so far, time left.

A rich bar on stderr when it is a terminal; elsewhere (a log, a batch job) a plain line a few
seconds apart (:class:`benchsim._ticker.Ticker`).
"""

from __future__ import annotations

import sys
from typing import Any

from benchsim._ticker import Ticker, on_terminal


class SweepProgress:
    """Context manager; :meth:`advance` after each finished run.  ``enabled=False``: silent."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self._ticker: Ticker | None = None
        self.failed = 0
        self.done = 0
        self.total = 0

    def start(self, total: int, done: int) -> None:
        """Show the bar for ``total`` runs, of which ``done`` are already finished."""
        if not self.enabled:
            return
        self.total, self.done = total, done
        if not on_terminal(sys.stderr):
            self._ticker = Ticker("benchsim sweep")
            self._line()
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("runs"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._bar.__enter__()
        self._task = self._bar.add_task("sweep", total=total, completed=done, failed=0)

    def advance(self, failed: bool) -> None:
        """One more run finished (``failed``: it failed)."""
        self.failed += int(failed)
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)
        if self._ticker is not None and self._ticker.due():
            self._line()

    def _line(self) -> None:
        if self._ticker is None:
            return
        self._ticker.line(
            f"{self.done} of {self.total} runs done, {self.failed} failed, "
            f"{self._ticker.elapsed():.0f} s"
        )

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None
