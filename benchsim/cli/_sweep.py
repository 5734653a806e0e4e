"""``benchsim sweep``: many seeded runs of several algorithms, in parallel, resumable."""

from __future__ import annotations

import os
from pathlib import Path

import click

from benchsim.cli._group import CliError
from benchsim.cli._live import (
    BACKEND_NAMES,
    SMOKE_DATASETS,
    live_backend_options,
    smoke_param_items,
)


@click.command()
@click.option(
    "--algo", "algos", required=True, help="Comma-separated algorithms (see `benchsim run --list`)."
)
@click.option("--seeds", required=True, help="Seeds: 0-99, 0,3,5 or 0-9,20-29.")
@click.option("--benchmark", default="nb201", show_default=True, help="nb201, tnb101-micro, ...")
@click.option("--tasks", default=None, help="Comma-separated tasks (default: two per benchmark).")
@click.option(
    "--backend",
    type=click.Choice(BACKEND_NAMES),
    default="table",
    show_default=True,
    help="table: recorded benchmark (simulated clock); gpu: real training.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Sweep folder: new/empty, or one holding this same sweep (it is then resumed).",
)
@click.option("--budget", default=None, help="Per task, as for `benchsim run` (300, 3.5h, ...).")
@click.option(
    "--jobs",
    type=int,
    default=None,
    help="Runs at a time (default: the number of CPUs; 1 runs them in this process); no more "
    "workers start than there are runs to do.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: a process pool on this machine; ray: Ray tasks (pip install benchsim[ray]).",
)
@click.option("--address", default=None, help="Ray cluster to join (ray executor only).")
@click.option(
    "--param",
    "params",
    multiple=True,
    help="Hyperparameter name=value (every algorithm that has it) or algo.name=value.",
)
@click.option(
    "--device",
    default=None,
    help="gpu backend: cuda, cuda:N or cpu (default: cuda when available). On CUDA each run "
    "holds one GPU: Ray reserves one per run; the local pool gives worker k GPU k mod #GPUs "
    "(cuda:N: every run on GPU N).",
)
@click.option(
    "--smoke",
    is_flag=True,
    help="gpu backend: tiny supernets on the built-in synthetic datasets (an install check).",
)
@click.option(
    "--backend-option",
    "backend_options",
    multiple=True,
    help="Backend setting name=value, for every run (table: weight_sharing=fewshot, ... see "
    "docs/weight_sharing.md; gpu: see docs/live_backend.md).",
)
@click.option("--no-progress", is_flag=True, help="Do not show the progress bar.")
def sweep(
    algos: str,
    seeds: str,
    benchmark: str,
    tasks: str | None,
    backend: str,
    out: Path,
    budget: str | None,
    jobs: int | None,
    executor: str,
    address: str | None,
    params: tuple[str, ...],
    device: str | None,
    smoke: bool,
    backend_options: tuple[str, ...],
    no_progress: bool,
) -> None:
    """Run every algorithm of --algo with every seed of --seeds, one run each.

    Single-task and multi-task algorithms alike make one run per seed over the task list. Each
    run writes what `benchsim run` writes, under OUT/runs/<algo>/<task+task>/seed=<n>/; all
    trajectories are also collected into one Parquet dataset, OUT/results/algo=<a>/task=<t>/
    (readable by pandas, pyarrow, DuckDB), with one row per run and task in
    OUT/results/_runs.parquet.  Running the same command again skips finished runs, resumes
    interrupted ones from their checkpoint and retries failed ones.  A failed run is recorded in
    OUT/failures/<run-id>.json and does not stop the others; the exit code is then 1.  Ctrl-C,
    SIGTERM and SIGHUP let the running runs checkpoint, then exit 130, 143 and 129.
    """
    from benchsim._forkserver import start_early

    start_early(jobs, executor)  # the workers' imports then run beside this process's own
    from benchsim.sweep import make_spec, run_sweep

    options = live_backend_options(backend, device, smoke, backend_options)
    if smoke:  # small for every algorithm: its smoke settings and, if none given, a budget
        tasks = tasks or ",".join(SMOKE_DATASETS)
        names = [a.strip() for a in algos.split(",") if a.strip()]
        params = smoke_param_items(names, params)
        if budget is None:
            from benchsim.algorithms import SMOKE_EVALUATIONS, algorithm_class

            if any(not algorithm_class(a).stops_itself for a in names):
                budget = str(SMOKE_EVALUATIONS)
    spec = make_spec(
        algos,
        seeds,
        benchmark=benchmark,
        tasks=tasks,
        backend=backend,
        budget=budget,
        params=params,
        backend_options=options,
    )
    summary = run_sweep(
        spec,
        out,
        jobs=jobs if jobs is not None else (os.cpu_count() or 1),
        executor=executor,
        address=address,
        progress=not no_progress,
    )
    click.echo(summary.line())
    if summary.interrupted:
        raise CliError(
            f"sweep interrupted by {summary.stopped_by} with {summary.left} runs left; run the "
            "same command again to resume (finished runs are kept, checkpointed ones continue "
            "from their checkpoint)",
            exit_code=128 + (summary.signal or 2),
        )
    if summary.failed:
        raise CliError(
            f"{summary.failed} of {summary.total} runs failed; errors in "
            f"{summary.out / 'failures'}/ (run the same command again to retry them)",
            exit_code=1,
        )
