"""The installer's progress display: one rich bar over files and steps, plus download bytes.

Shown on stderr when asked for: a rich bar on a terminal; elsewhere (logs, pipes, CI) plain
lines a few seconds apart (:class:`benchsim._ticker.Ticker`): the step under way and, during a
download, its bytes, so a slow install never sits silent.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as _RichProgress

from benchsim._ticker import Ticker, on_terminal


class Progress:
    """Context manager: ``step(text)`` advances the file bar; ``byte_bar`` serves pooch.

    Parameters
    ----------
    enabled
        Draw anything at all (also requires stderr to be a terminal).
    total
        Number of steps (files + conversions).
    """

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = bool(enabled) and on_terminal(sys.stderr)
        self.total = total
        self._rich: _RichProgress | None = None
        self._task = None
        self._started = False
        self._done = 0
        self._ticker = Ticker("benchsim data") if enabled and not self.enabled else None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._rich = _RichProgress(
                TextColumn("benchsim data"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._rich.start()
            self._task = self._rich.add_task("", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rich is not None:
            if self._started:
                self._rich.advance(self._task)
            self._rich.stop()

    def step(self, text: str) -> None:
        """Mark the previous step done and show ``text`` as the current one."""
        if self._rich is not None:
            if self._started:
                self._rich.advance(self._task)
            self._rich.update(self._task, description=text)
        self._done += int(self._started)
        self._started = True
        if self._ticker is not None:
            self._ticker.line(f"step {self._done + 1} of {self.total}: {text}")

    def byte_bar(self, name: str) -> _ByteBar | _PlainBytes | None:
        """A pooch-compatible byte counter for one download, or ``None`` when hidden."""
        if self._ticker is not None:
            return _PlainBytes(self._ticker, name)
        if self._rich is None:
            return None
        return _ByteBar(self._rich, name)


class _PlainBytes:
    """The pooch byte-counter calls as plain lines (bytes so far, when a line is due)."""

    def __init__(self, ticker: Ticker, name: str) -> None:
        self._ticker, self._name = ticker, name
        self.total: float | None = None
        self._count = 0.0

    def update(self, n: float) -> None:
        self._count += n
        if self._ticker.due():
            of = f" of {self.total / 1e6:.1f}" if self.total else ""
            self._ticker.line(f"  {self._name}: {self._count / 1e6:.1f}{of} MB downloaded")

    def reset(self) -> None:
        self._count = 0.0

    def close(self) -> None:
        """Nothing to take down."""


class _ByteBar:
    """Adapter giving pooch's ``HTTPDownloader(progressbar=...)`` the tqdm calls it makes.

    The bar's row appears when pooch sets ``total`` (a download starts), so a file found
    already downloaded leaves no empty row behind.
    """

    def __init__(self, rich: _RichProgress, name: str) -> None:
        self._rich, self._name = rich, name
        self._total: float | None = None
        self._task = None

    @property
    def total(self) -> float | None:
        return self._total

    @total.setter
    def total(self, value: float) -> None:
        self._total = value or None
        if self._task is None:
            self._task = self._rich.add_task(f"  {self._name}", total=self._total)
        else:
            self._rich.update(self._task, total=self._total)

    def update(self, n: float) -> None:
        if self._task is not None:
            self._rich.advance(self._task, n)

    def reset(self) -> None:
        if self._task is not None:
            self._rich.reset(self._task, total=self._total)

    def close(self) -> None:
        if self._task is not None:
            self._rich.remove_task(self._task)
            self._task = None
