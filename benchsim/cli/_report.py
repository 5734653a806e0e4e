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
@click.option(
    "--report-tasks",
    default=None,
    help="Also report the returned architectures' test metric on these tasks, e.g. "
    "cifar100,ImageNet16-120 (a table lookup: table backend only).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when any planned run failed, did not finish or was never run.",
)
def report(
    sweep_dir: Path,
    fmt: str,
    times: str | None,
    plots: bool,
    report_tasks: str | None,
    strict: bool,
) -> None:
    """Print the table of sweep DIR: per algorithm and task, mean ± std (n) over seeds.

    Columns: the final search metric and test metric of the returned architecture, the
    table's optimum, and the anytime regret (optimum minus the incumbent's test value) at
    fixed simulated GPU-hours per task; regret is omitted on a live backend. The runs column
    says how many planned runs each row holds and which failed, did not finish or were never
    run; --strict makes that an error (exit 1). --report-tasks adds, per row, the returned
    architectures' recorded test metric on other tasks (as the NAS-Bench-201 paper reports one
    CIFAR-10 search on three datasets). Writes
    table.{md,csv,json}, anytime.{png,svg} (best-so-far test metric vs simulated GPU-hours) and
    final_test.{png,svg} (box plots) into DIR/report/.
    """
    from benchsim.cli._group import CliError
    from benchsim.report import build_report, parse_times

    parsed = parse_times(times) if times is not None else None
    tasks = tuple(t.strip() for t in report_tasks.split(",") if t.strip()) if report_tasks else ()
    made = build_report(sweep_dir, fmt, parsed, plots, tasks)
    click.echo(made.text, nl=False)
    click.echo(f"wrote {len(made.written)} files to {sweep_dir / 'report'}", err=True)
    left_out = made.table.left_out_line()
    if left_out:
        click.echo(f"warning: {left_out}", err=True)
        if strict:
            raise CliError(f"--strict: the report is incomplete ({left_out})", exit_code=1)
