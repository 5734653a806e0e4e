"""One rich progress bar for a whole sweep: runs done of all, failures so far, time left."""

from __future__ import annotations

from typing import Any


class SweepProgress:
    """Context manager; :meth:`advance` after each finished run.  ``enabled=False``: silent."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self.failed = 0

    def start(self, total: int, done: int) -> None:
        """Show the bar for ``total`` runs, of which ``done`` are already finished."""
        if not self.enabled:
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
        if self._bar is not None:
            self._bar.update(self._task, advance=1, failed=self.failed)

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
            self._bar = None
