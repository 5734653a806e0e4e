"""``benchsim verify-repro``: re-run the golden runs and fail on any drift."""

from __future__ import annotations

from pathlib import Path

import click

from benchsim.cli._group import CliError


@click.command(name="verify-repro")
@click.option(
    "--regenerate",
    is_flag=True,
    help="Write new golden trajectories instead of checking (only on purpose; see "
    "docs/experiments.md).",
)
@click.option(
    "--golden",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Golden file (default: tests/golden/repro.json of the source tree).",
)
@click.option("--run", "runs", multiple=True, help="Check only this golden run (repeatable).")
def verify_repro(regenerate: bool, golden: Path | None, runs: tuple[str, ...]) -> None:
    """Re-run a fixed set of small seeded table runs and compare them with golden files.

    Each trajectory is compared by a canonical hash of its values (not of the Parquet bytes).
    On drift: exit 1, naming the run and the first step at which the trajectories diverge.
    """
    from benchsim.sweep._repro import regenerate as write_golden
    from benchsim.sweep._repro import verify

    if regenerate:
        if runs:
            raise CliError("--run and --regenerate do not combine: regeneration writes all runs")
        path = write_golden(golden)
        click.echo(f"wrote golden trajectories to {path}")
        return
    checks = verify(golden, runs)
    for check in checks:
        click.echo(f"{check.status:<5} {check.message}")
    drifted = [c for c in checks if c.status != "ok"]
    if drifted:
        raise CliError(
            f"{len(drifted)} of {len(checks)} golden runs drifted; first: {drifted[0].message}",
            exit_code=1,
        )
    click.echo(f"all {len(checks)} golden runs reproduce exactly")
