"""The one simulated clock of a run (syne-tune's TimeKeeper idea, without the wall clock).

Only the runner owns it; algorithms never read a clock.  Time moves only when the runner
advances it to the finish time of the next result, so a run's simulated time depends on the
recorded costs alone, never on how fast the host machine is.
"""

from __future__ import annotations

from benchsim.errors import ConfigError


class SimClock:
    """Simulated seconds since the start of a run."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def time(self) -> float:
        """Current simulated time in seconds."""
        return self._now

    def advance(self, step: float) -> float:
        """Move forward by ``step`` seconds (>= 0) and return the new time."""
        if not step >= 0:
            raise ConfigError(f"clock step == {step!r}, must be a number >= 0")
        self._now += float(step)
        return self._now

    def advance_to(self, when: float) -> float:
        """Move forward to ``when`` (never backwards) and return the new time."""
        self._now += max(0.0, float(when) - self._now)  # advance()'s sum, without its check
        return self._now

    def set(self, when: float) -> None:
        """Move to ``when``, a time the caller computed with :meth:`advance_to`'s arithmetic
        (a batch of results, :class:`~benchsim.runner._search.SearchLoop`); never backwards."""
        if not when >= self._now:
            raise ConfigError(f"clock time == {when!r}, must be >= {self._now!r}")
        self._now = float(when)
