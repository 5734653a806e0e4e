"""``benchsim reproduce``: a published table reproduced under its own protocol, side by side."""

from __future__ import annotations

import os
from pathlib import Path

import click

from benchsim.cli._group import CliError


@click.command()
@click.argument("name", required=False)
@click.option("--runs", type=int, default=None, help="Runs per method (default: the paper's).")
@click.option("--jobs", type=int, default=None, help="Runs at a time (default: all CPUs).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of the sweeps and tables (default: reproduce/NAME).",
)
@click.option("--plots/--no-plots", default=True, show_default=True, help="Draw reproduce.png.")
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
@click.option("--list", "list_them", is_flag=True, help="List the experiments and exit.")
def reproduce(
    name: str | None,
    runs: int | None,
    jobs: int | None,
    out: Path | None,
    plots: bool,
    no_progress: bool,
    list_them: bool,
) -> None:
    """Run published experiment NAME and print the paper's table beside benchsim's.

    Each method is run --runs times (seeds 0..runs-1) through the sweep machinery, so running
    the command again continues where it stopped; the architecture each run returns is
    reported on the tasks the paper reported, as mean +- std beside the paper's numbers, with
    the difference in paper standard deviations and whether it is within one. Writes
    reproduce.{md,csv,json,png} into --out. Exits 1 when a cell is more than one paper
    standard deviation off (a reproduction gate).

    Example: benchsim reproduce nb201-iclr2020 --runs 100 --jobs 2
    """
    if not list_them and name is not None:
        from benchsim._forkserver import start_early

        start_early(jobs, "local")  # the sweeps' workers import beside this process
    from benchsim.reproduce import EXPERIMENTS, experiment
    from benchsim.reproduce import reproduce as run_reproduction

    if list_them:
        for exp in map(experiment, EXPERIMENTS.names()):
            click.echo(f"{exp.name:<16} {exp.default_runs:>4} runs  {exp.title}")
        return
    if name is None:
        raise CliError(
            f"give an experiment name; allowed: {', '.join(EXPERIMENTS.names())} (or --list)"
        )
    if jobs is not None and jobs < 1:
        raise CliError(f"--jobs == {jobs}, must be an integer >= 1")
    comparison = run_reproduction(
        name,
        runs,
        jobs=jobs if jobs is not None else (os.cpu_count() or 1),
        out=out,
        progress=not no_progress,
        plots=plots,
    )
    click.echo(comparison.to_markdown(), nl=False)
    folder = out if out is not None else Path("reproduce") / name
    click.echo(f"wrote reproduce.md/.csv/.json{'/.png' if plots else ''} to {folder}", err=True)
    if comparison.misses:
        missed = ", ".join(f"{c.algo}/{c.task} ({c.stds:+.2f} std)" for c in comparison.misses)
        raise CliError(f"{len(comparison.misses)} cell(s) off by more than one paper std: "
                       f"{missed}", exit_code=1)  # fmt: skip
