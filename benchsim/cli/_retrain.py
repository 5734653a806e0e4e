"""``benchsim retrain``: train a finished run's architectures alone, as papers report them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from benchsim.cli._live import parse_pairs


class _EpochBar:
    """A rich bar per task over its epochs (on a terminal only; nothing when disabled)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.rows: dict[str, Any] = {}

    def __enter__(self) -> _EpochBar:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]re-training {task.description}"), BarColumn(),
                MofNCompleteColumn(), TextColumn("epochs"), TimeElapsedColumn(),
                TimeRemainingColumn(),
            )  # fmt: skip
            self.bar.__enter__()
        return self

    def __call__(self, task: str, done: int, total: int) -> None:
        if self.bar is None:
            return
        if task not in self.rows:
            self.rows[task] = self.bar.add_task(task, total=total)
        self.bar.update(self.rows[task], completed=done)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


@click.command()
@click.argument("run_dir", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--epochs", type=int, default=None, help="Epochs (default: NB201's 200).")
@click.option("--tasks", default=None, help="Only these tasks of the run (comma-separated).")
@click.option("--device", default=None, help="cuda, cuda:N or cpu (default: cuda when available).")
@click.option(
    "--backend-option",
    "backend_options",
    multiple=True,
    help="Live backend setting name=value (batch_size=128, ...; see docs/live_backend.md).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Record file [default: DIR/retrain.json]; an interrupted re-training continues in it.",
)
@click.option("--no-progress", is_flag=True, help="Do not show the progress bars.")
def retrain(
    run_dir: Path,
    epochs: int | None,
    tasks: str | None,
    device: str | None,
    backend_options: tuple[str, ...],
    out: Path | None,
    no_progress: bool,
) -> None:
    """Train each task's architecture found by the run in DIR from scratch; print and record it.

    DIR is the output folder of a finished `benchsim run` on nb201 or tnb101-micro, with either
    backend; its tasks name the datasets (prepare them with `benchsim data prepare`). Training
    follows NB201's recipe with the live backend's settings (a gpu run's own, then
    --backend-option). Results go to DIR/retrain.json after every task, so an interrupted
    re-training, run again with the same settings, continues where it stopped.
    """
    from benchsim.backends.gpu.retrain import retrain_run

    options = parse_pairs(backend_options, "--backend-option", "batch_size=128")
    if device is not None:
        options["device"] = device
    chosen = None if tasks is None else tuple(t.strip() for t in tasks.split(",") if t.strip())
    with _EpochBar(not no_progress) as bar:
        record = retrain_run(
            run_dir, epochs=epochs, tasks=chosen, options=options, out=out, on_epoch=bar
        )
    _summary(record, out if out is not None else run_dir / "retrain.json")


def _summary(record: dict[str, Any], path: Path) -> None:
    from rich.table import Table

    from benchsim.cli._console import print_table

    table = Table(title=f"re-trained for {record['epochs']} epochs on {record['device']}")
    for column in ("task", "arch", "search valid", "valid", "test", "seconds"):
        table.add_column(column, overflow="fold")
    for task, row in record["tasks"].items():
        search = row["search_metric"]
        table.add_row(
            task,
            str(row["arch"]),
            "-" if search is None else f"{search:.2f}",
            f"{row['valid_acc']:.2f}",
            f"{row['test_acc']:.2f}",
            f"{row['train_time_s']:.1f}",
        )
    print_table(table)
    for task, row in record["tasks"].items():
        click.echo(f"{task}: {row['arch_str']}")
    click.echo(f"record: {path}")
