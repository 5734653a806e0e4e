"""``benchsim query``: one architecture's recorded metrics, as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from benchsim.cli._params import SEED, mirror_option

if TYPE_CHECKING:
    from benchsim.backends.base import Benchmark


def open_benchmark(name: str, mirror: Path | None) -> Benchmark:
    """Open the table backend of ``name``, installing built-in tables on first use.

    The library announces an install on stderr; stdout stays pure JSON.
    """
    from benchsim.backends import benchmark

    return benchmark(name, backend="table", install=True, mirror=mirror)


def _print_tasks(bench: Benchmark) -> None:
    width = max(len(t) for t in bench.tasks)
    for task in bench.tasks:
        info = bench.task_info(task)
        aliases = f"; aliases: {', '.join(info.aliases)}" if info.aliases else ""
        click.echo(
            f"{task:<{width}}  search: {info.search_metric}, test: {info.test_metric}, "
            f"{info.epochs} epochs{aliases}"
        )


def _print_metrics(bench: Benchmark, task: str) -> None:
    info = bench.task_info(task)
    width = max(len(m) for m in info.metrics)
    for metric in info.metrics:
        role = (
            "search metric (validation split)"
            if metric == info.search_metric
            else "test metric (report only)"
            if metric == info.test_metric
            else ""
        )
        click.echo(f"{metric:<{width}}  {role}".rstrip())


@click.command()
@click.argument("arch", required=False)
@click.option(
    "-b",
    "--benchmark",
    "benchmark_name",
    default="nb201",
    show_default=True,
    metavar="NAME",
    help="Benchmark: nb201, tnb101-micro, tnb101-macro, or the --name of an imported table.",
)
@click.option(
    "-t",
    "--task",
    metavar="TASK",
    help="Task (dataset), e.g. cifar10 on nb201, class_scene on tnb101-*; see --list-tasks.",
)
@click.option(
    "-m",
    "--metric",
    "metrics",
    multiple=True,
    metavar="METRIC",
    help="Metric to print (repeatable); default: the task's search (validation) metric.",
)
@click.option("--all-metrics", is_flag=True, help="Print every metric the task carries.")
@click.option(
    "--epoch",
    type=click.IntRange(min=0),
    help="0-based epoch of the schedule; default: the end of the schedule.",
)
@click.option(
    "--schedule",
    type=click.IntRange(min=1),
    help=(
        "Schedule length in epochs (nb201: 200, or 12 for the separate 12-epoch run); "
        "default: the task's standard schedule."
    ),
)
@click.option(
    "--seed",
    type=SEED,
    help=(
        "Training seed: a recorded seed (nb201: 0, 1, 2, its position in the source), "
        "'sample' to draw one, or 'mean' (default) for the mean over recorded seeds."
    ),
)
@mirror_option
@click.option("--list-tasks", is_flag=True, help="List the benchmark's tasks and exit.")
@click.option("--list-metrics", is_flag=True, help="List the metrics of --task and exit.")
def query(
    arch: str | None,
    benchmark_name: str,
    task: str | None,
    metrics: tuple[str, ...],
    all_metrics: bool,
    epoch: int | None,
    schedule: int | None,
    seed: int | str | None,
    mirror: Path | None,
    list_tasks: bool,
    list_metrics: bool,
) -> None:
    """Look up ARCH on a tabular benchmark and print the result as JSON.

    ARCH is an index, the official string, or NASLib op_indices; on nb201:

    \b
      index       0..15624
      string      '|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'
      op_indices  op: and six digits, e.g. op:222022 (NASLib edge and op order)

    On tnb101-micro the string is like 64-41414-3_33_333, on tnb101-macro 64-41414-basic.
    The tables are installed on first use. Metric names say their split: valid_* is the
    search signal, test_* is only for reporting.

    Example: benchsim query --task cifar10 -m valid_acc -m test_acc 1462
    """
    listing = list_tasks or list_metrics
    if listing and arch is not None:
        raise click.UsageError(f"ARCH {arch!r} is not used with --list-tasks/--list-metrics")
    if not listing and arch is None:
        raise click.UsageError("Missing argument 'ARCH'.")
    if all_metrics and metrics:
        raise click.UsageError("--all-metrics and --metric are mutually exclusive")

    bench = open_benchmark(benchmark_name, mirror)
    if list_tasks:
        _print_tasks(bench)
    if (list_metrics or not listing) and task is None:
        raise click.UsageError(
            f"Missing option '--task'; tasks of {bench.name}: {', '.join(bench.tasks)}"
        )
    if list_metrics:
        _print_metrics(bench, task)
    if listing:
        return

    wanted: list[str] | None = list(metrics) or None
    if all_metrics:
        wanted = list(bench.task_info(task).metrics)
    result = bench.query(arch, task, wanted, epoch=epoch, seed=seed, schedule=schedule)
    payload = result.to_dict()
    out = {
        "benchmark": bench.name,
        "arch": payload.pop("arch"),
        "arch_str": bench.space.format(result.arch),
        **payload,
    }
    click.echo(json.dumps(out, indent=2))
