"""``benchsim run``: one search, on the table (simulated) or the live (gpu) backend."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from benchsim._ticker import Ticker, on_terminal
from benchsim.cli._group import CliError
from benchsim.cli._live import BACKEND_NAMES, SMOKE_DATASETS, live_backend_options, parse_pairs


def _default_out(algo: str, benchmark: str, seed: int) -> Path:
    """``runs/<algo>-<benchmark>-seed<seed>``, numbered if taken (only when --out is omitted)."""
    base = Path("runs") / f"{algo}-{benchmark}-seed{seed}"
    candidate, n = base, 1
    while candidate.exists() and any(candidate.iterdir()):
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


class _Progress:
    """Answers so far and (simulated) GPU-hours: a rich bar on a terminal (throttled
    updates), else a plain line on stderr every few seconds (:class:`benchsim._ticker.Ticker`),
    so a run in a log or a batch job shows it is alive."""

    def __init__(self, enabled: bool, total: float | None, live: bool = False) -> None:
        self.enabled = enabled
        self.total = total
        self.hours = "GPU-h" if live else "simulated GPU-h"  # live costs are real seconds
        self.count = 0
        self.last = 0.0
        self.bar = None
        self.ticker: Ticker | None = None

    def __enter__(self) -> _Progress:
        if self.enabled and not on_terminal(sys.stdout):
            self.ticker = Ticker("benchsim run")
        elif self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("[bold]searching"),
                BarColumn(),
                TextColumn("{task.completed:>7.0f} evaluations"),
                TextColumn("{task.fields[hours]:>8.2f} " + self.hours),
                TimeElapsedColumn(),
                transient=True,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("run", total=self.total, hours=0.0)
        return self

    def __call__(self, answered: int, sim_time: float) -> None:
        self.count += answered
        if self.ticker is not None:
            if self.ticker.due():
                plural = "" if self.count == 1 else "s"
                self.ticker.line(
                    f"{self.count:,} evaluation{plural}, {sim_time / 3600:.2f} {self.hours}, "
                    f"{self.ticker.elapsed():.0f} s"
                )
            return
        if self.bar is None:
            return
        now = time.perf_counter()
        if now - self.last > 0.1:
            self.last = now
            self.bar.update(self.task, completed=self.count, hours=sim_time / 3600)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _saved_backend(folder: Path) -> str | None:
    """The backend a run folder's config.json names (``None`` when it cannot be read)."""
    try:
        return str(json.loads((folder / "config.json").read_text())["backend"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _live(backend: str | None) -> bool:
    """Whether ``backend`` trains for real (a progress bar of real time, not simulated)."""
    from benchsim.backends import backend_info

    return backend is not None and not backend_info(backend).traits.simulated_time


def _summary(result: dict[str, Any], out: Path | None) -> None:
    from rich.table import Table

    from benchsim.cli._console import print_table

    table = Table(title=f"{result['algo']} on {result['benchmark']} ({result['backend']})")
    for column in ("task", "best arch", "search metric", "test metric", "evaluations"):
        table.add_column(column)
    for task, row in result["tasks"].items():
        if row["arch"] is None:
            table.add_row(task, "(none evaluated)", "-", "-", str(row["evaluations"]))
            continue
        source = row.get("search_metric_source") or ""
        # A weight-sharing answer is a supernet's estimate, not the stand-alone metric: say so.
        kind = f" ({source.replace(':', ' ')})" if "standalone" not in source and source else ""
        table.add_row(
            task,
            str(row["arch"]),
            f"{row['search_metric_name']}{kind} {row['search_metric']:.4f}",
            f"{row['test_metric_name']} {row['test_metric']:.4f}",
            str(row["evaluations"]),
        )
    print_table(table)  # full width off a terminal: task names and labels never cut
    for task, row in result["tasks"].items():
        if row["arch"] is not None:
            click.echo(f"{task}: {row['arch_str']}")
    click.echo(
        f"{'' if _live(result['backend']) else 'simulated '}GPU-hours: "
        f"{result['simulated_seconds'] / 3600:.3f}   "
        f"wall seconds: {result['wall_seconds']:.2f}   seed: {result['seed']}"
        + (f"   results: {out}" if out else "")
    )


@click.command()
@click.option("--algo", default=None, help="Search algorithm (see `benchsim run --list`).")
@click.option(
    "--backend",
    type=click.Choice(BACKEND_NAMES),
    default=None,
    help="table: answers from the recorded benchmark (simulated clock); gpu: real training.",
)
@click.option("--benchmark", default=None, help="nb201, tnb101-micro or tnb101-macro.")
@click.option("--tasks", default=None, help="Comma-separated tasks (default: two per benchmark).")
@click.option("--seed", type=int, default=None, help="Seed of every random choice (default 0).")
@click.option(
    "--budget",
    default=None,
    help="Per task: evaluations (300), simulated time (12000s, 200m, 3.5h) or both (300,12000s).",
)
@click.option("--workers", type=int, default=None, help="Simulated parallel workers (default 1).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="New or empty output folder (default runs/<algo>-<benchmark>-seed<seed>).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML/YAML/JSON file with any of the options above plus [params] and [protocol].",
)
@click.option("--param", "params", multiple=True, help="Hyperparameter override name=value.")
@click.option(
    "--resume",
    type=click.Path(path_type=Path),
    default=None,
    help="Continue the interrupted run in this folder (from DIR/checkpoint; a run stopped "
    "before its first checkpoint starts again from DIR/config.json).",
)
@click.option(
    "--device",
    default=None,
    help="gpu backend: cuda, cuda:N or cpu (default: cuda when available).",
)
@click.option(
    "--smoke",
    is_flag=True,
    help="gpu backend: a tiny supernet, one short generation on the built-in synthetic "
    "datasets; checks an install in under a minute.",
)
@click.option(
    "--backend-option",
    "backend_options",
    multiple=True,
    help="Backend setting name=value. table: weight_sharing=oneshot|fewshot|"
    "standalone-upper-bound, ws_tau=0.6, ... (docs/weight_sharing.md); gpu: channels=32, "
    "bn_eval=recalibrate, ... (docs/live_backend.md).",
)
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
@click.option("--list", "list_algos", is_flag=True, help="List the algorithms and exit.")
def run(
    algo: str | None,
    backend: str | None,
    benchmark: str | None,
    tasks: str | None,
    seed: int | None,
    budget: str | None,
    workers: int | None,
    out: Path | None,
    config_file: Path | None,
    params: tuple[str, ...],
    resume: Path | None,
    device: str | None,
    smoke: bool,
    backend_options: tuple[str, ...],
    no_progress: bool,
    list_algos: bool,
) -> None:
    """Run one search and write config.json, trajectory.parquet and result.json.

    With no options: EMT-NAS on NB201 (cifar10 + cifar100), table backend, seed 0, the paper's
    budget. Tables are installed on first use (from $BENCHSIM_DATA_MIRROR when set).  Ctrl-C,
    SIGTERM and SIGHUP save a checkpoint and exit 130, 143 and 129; --resume DIR continues
    after checking the checkpoint's SHA-256 checksums.
    """
    from benchsim.algorithms import algorithm_class, available
    from benchsim.runner import execute_run, load_config_file, merge_config, resume_run

    if list_algos:
        for name in available():
            cls = algorithm_class(name)
            kind = "multi-task" if cls.multi_task else "single-task"
            doc = (cls.__doc__ or "").strip().splitlines()[0]
            click.echo(f"{name:<10} {kind:<11} {doc}")
        return
    show = not no_progress
    if resume is not None:
        given = [n for n, v in (("--algo", algo), ("--config", config_file)) if v is not None]
        if given or params or backend_options or out is not None:
            raise CliError(
                "--resume DIR continues a run with its saved config; drop "
                "--algo/--config/--param/--out/--backend-option"
            )
        with _Progress(show, None, _live(_saved_backend(resume))) as hook:
            output = resume_run(resume, progress=hook)
        _summary(output.result, resume)
        return
    file_values = load_config_file(config_file) if config_file else {}
    overrides: dict[str, Any] = {
        "algo": algo,
        "backend": backend,
        "benchmark": benchmark,
        "tasks": tasks,
        "seed": seed,
        "budget": budget,
        "workers": workers,
    }
    config = merge_config(file_values, overrides)
    if params:
        config.params = {
            **config.params,
            **parse_pairs(params, "--param", "population_size=20"),
        }
    cls = algorithm_class(config.algo)  # an unknown name fails here, before any work
    live = live_backend_options(config.backend, device, smoke, backend_options)
    if live:
        options = {**config.backend_options, **live}
        if smoke:  # small for every algorithm: its own smoke settings, or a tiny budget
            from benchsim.algorithms import smoke_settings

            if config.tasks is None:
                config.tasks = SMOKE_DATASETS
            config.params, config.budget = smoke_settings(cls, config.params, config.budget)
        config.backend_options = options
    target = out if out is not None else _default_out(config.algo, config.benchmark, config.seed)
    total = None
    if config.budget is not None:
        from benchsim.runner import parse_budget

        parsed = parse_budget(config.budget)
        total = parsed.evaluations
    with _Progress(show, total, _live(config.backend)) as hook:
        output = execute_run(config, target, progress=hook)
    _summary(output.result, target)
