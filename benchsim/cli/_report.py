"""``benchsim report``: the paper-style table and the figures of a sweep."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("sweep_dir", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "csv", "json"]),
    default="markdown",
    show_default=True,
    help="Format of the table printed (all three are written to DIR/report/).",
)
@click.option(
    "--times",
    default=None,
    help="Simulated times (per task) for the anytime regret, e.g. 1h,3h,10h "
    "(default: 25/50/100% of the median run length).",
)
@click.option(
    "--plots/--no-plots", default=True, show_default=True, help="Write the PNG and SVG figures."
)
def report(sweep_dir: Path, fmt: str, times: str | None, plots: bool) -> None:
    """Print the table of sweep DIR: per algorithm and task, mean ± std (n) over seeds.

    Columns: the final search metric and test metric of the returned architecture, the
    table's optimum, and the anytime regret (optimum minus the incumbent's test value) at
    fixed simulated GPU-hours per task; regret is omitted on a live backend. Writes
    table.{md,csv,json}, anytime.{png,svg} (best-so-far test metric vs simulated GPU-hours) and
    final_test.{png,svg} (box plots) into DIR/report/.
    """
    from benchsim.report import make_report, parse_times

    parsed = parse_times(times) if times is not None else None
    text, written = make_report(sweep_dir, fmt, parsed, plots)
    click.echo(text, nl=False)
    click.echo(f"wrote {len(written)} files to {sweep_dir / 'report'}", err=True)
