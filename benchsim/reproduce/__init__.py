"""Published tables reproduced under their own protocols, side by side with benchsim's.

``benchsim reproduce NAME`` runs a named experiment (:data:`EXPERIMENTS`) end to end through
the sweep machinery (resumable: running it again continues), reads the architecture every run
returned, reports its test metric on the tasks the paper reported (not only the searched one:
the NAS-Bench-201 paper's table is one CIFAR-10 search reported on three datasets), and sets
mean +- std beside the paper's numbers (``published.toml``, each with its source) with the
difference in the paper's standard deviations and a verdict per cell.

Examples
--------
>>> from benchsim.reproduce import reproduce  # doctest: +SKIP
>>> print(reproduce("nb201-iclr2020", runs=30, jobs=2).to_markdown())  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from benchsim._checks import check_int
from benchsim._files import atomic_write_bytes
from benchsim.errors import ConfigError, IncompleteReproduction
from benchsim.reproduce._compare import Cell, Comparison
from benchsim.reproduce._experiments import (
    EXPERIMENTS,
    Experiment,
    Search,
    experiment,
    register_experiment,
)
from benchsim.reproduce._published import Published, published

__all__ = [
    "EXPERIMENTS",
    "Cell",
    "Comparison",
    "Experiment",
    "Published",
    "Search",
    "experiment",
    "published",
    "register_experiment",
    "reproduce",
]


def reproduce(
    name: str,
    runs: int | None = None,
    *,
    jobs: int = 1,
    out: str | Path | None = None,
    progress: bool = False,
    plots: bool = True,
) -> Comparison:
    """Run experiment ``name`` with ``runs`` seeds per method (default: the paper's count)
    into ``out`` (default ``reproduce/NAME``), write ``reproduce.{md,csv,json,png}`` there and
    return the comparison."""
    import benchsim
    from benchsim.sweep import make_spec, run_sweep

    exp = experiment(name)
    runs = exp.default_runs if runs is None else runs
    check_int("--runs", runs, 2)
    if plots:  # say so before hours of runs, not after
        from benchsim.report import _require_matplotlib

        _require_matplotlib()
    folder = Path(out) if out is not None else Path("reproduce") / name
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {str(folder)!r} is a file; give a folder")
    paper = published(exp.published) if exp.published else None
    bench = benchsim.benchmark(exp.benchmark)
    began = time.perf_counter()
    cells: list[Cell] = []
    for search in exp.searches:
        items = tuple(
            f"{algo}.{key}={json.dumps(value)}"
            for algo, values in exp.params.items()
            if algo in exp.algos
            for key, value in values.items()
        )
        spec = make_spec(",".join(exp.algos), f"0-{runs - 1}", benchmark=exp.benchmark,
                         tasks=search.task, budget=search.budget, params=items)  # fmt: skip
        where = folder / search.task
        _check_same_runs(where, runs, name, folder)
        summary = run_sweep(spec, where, jobs=jobs, progress=progress)
        if summary.failed or summary.interrupted:
            raise IncompleteReproduction(
                f"{summary.line()}; run `benchsim reproduce {name}` again to retry and continue"
            )
        cells += _cells(exp, search, where, bench, paper)
    comparison = Comparison(
        name=exp.name,
        title=exp.title,
        note=exp.note,
        runs=runs,
        cells=cells,
        source=None if paper is None else paper.describe(),
        wall_seconds=time.perf_counter() - began,
    )
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in (("reproduce.md", comparison.to_markdown()),
                       ("reproduce.csv", comparison.to_csv()),
                       ("reproduce.json", comparison.to_json())):  # fmt: skip
        atomic_write_bytes(folder / file, text.encode())
    if plots:
        comparison.plot(folder / "reproduce.png")
    return comparison


def _check_same_runs(where: Path, runs: int, name: str, folder: Path) -> None:
    """A folder holding this experiment with another run count is continued only with that
    count (its sweeps' seeds are fixed when first made)."""
    from benchsim.sweep._spec import SPEC_FILE, load_spec

    if (where / SPEC_FILE).is_file():
        stored = len(load_spec(where).seeds)
        if stored != runs:
            raise ConfigError(
                f"{str(folder)!r} holds a {stored}-run reproduction of {name}, not {runs}; "
                f"pass --runs {stored} to continue it, or another --out"
            )


def _cells(
    exp: Experiment, search: Search, where: Path, bench, paper: Published | None
) -> list[Cell]:
    """One cell per (algorithm, reported task) from the sweep's finished runs."""
    import pyarrow.parquet as pq

    from benchsim._arrow import to_numbers, to_strings

    runs = pq.ParquetFile(where / "results" / "_runs.parquet").read(
        columns=["status", "algo", "task", "arch", "evaluations"]
    )  # read without pandas (pd.read_parquet would import it: ~0.3 s)
    ok = to_strings(runs.column("status")) == "ok"
    algos, tasks = to_strings(runs.column("algo")), to_strings(runs.column("task"))
    arch_col = to_numbers(runs.column("arch"), np.float64)  # null (a failed run's) -> NaN
    evaluations = to_numbers(runs.column("evaluations"), np.float64)
    out = []
    for algo in exp.algos:
        mine = ok & (algos == algo) & (tasks == search.task)
        archs = arch_col[mine].astype(np.int64)
        for task in search.report:
            metric = bench.task_info(task).test_metric
            values = np.asarray(bench.query_many(archs, task, metric).values, dtype=np.float64)
            reference = None if paper is None else paper.results.get(algo, {}).get(task)
            out.append(
                Cell(
                    algo=algo,
                    searched=search.task,
                    task=task,
                    mean=float(values.mean()),
                    std=float(values.std(ddof=1)),
                    runs=int(values.size),
                    evaluations=float(np.median(evaluations[mine])),
                    paper_mean=None if reference is None else reference[0],
                    paper_std=None if reference is None else reference[1],
                )
            )
    return out
