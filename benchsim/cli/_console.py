"""Tables on stdout: fitted to a terminal, full width anywhere else.

rich fits a table to the console, and a console that is not a terminal (a pipe, a log file,
CI, ``CliRunner``) is 80 columns wide: a run's summary came out wrapped, its task names cut
to ``synthetic-shap…``.  Off a terminal the table is printed at its natural width instead,
never wrapped or cut, and without colour codes, so a log keeps every cell whole and a
script can split a line on its ``│`` separators.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

_UNLIMITED = 100_000


def print_table(table: Table) -> None:
    """Print ``table`` on stdout (see the module docstring for the width)."""
    console = Console()
    if not console.is_terminal:
        wide = Console(width=_UNLIMITED, no_color=True, highlight=False)
        width = wide.measure(table).maximum  # the widest the table wants, uncut
        title = len(str(table.title or ""))
        console = Console(width=max(width, title, 20), no_color=True, highlight=False)
    console.print(table)
