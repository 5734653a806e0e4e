"""Command-line value types shared by the benchmark scripts.

A bad value is refused by argparse in one line (``argument --repeat: 0 is below 1; give 1 or
more``) before anything is timed, instead of a traceback from the summary after minutes of
timing (``--repeat 0`` left nothing to take a minimum of).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def count(least: int = 1) -> Callable[[str], int]:
    """An argparse ``type``: a whole number of at least ``least``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{value} is below {least}; give {least} or more")
        return value

    return parse
