"""EMT-NAS at several budgets against random search and REA, each at its own simulated cost.

A short weight-sharing search trains its supernet less, so it must not return what a long one
returns (issue #19): EMT-NAS runs with ``--generations`` (default 10, 20, 50, 100, 300) on the
NB201 table with the default one-shot supernet emulation; for each length, the median simulated
GPU-hours per task of those runs is the time budget of random search and REA (NB201 protocol)
on each task.  Reported over ``--seeds`` seeds: the test metric of the architecture each search
returned (mean +- std), the GPU-hours, and, for EMT-NAS, the Kendall tau between the cifar10
whole-split answers of the second half of the run and the recorded one-shot estimates
(``oneshot_acc``): 1 once the supernet is trained, about 0 while it is not.

    python benchmarks/budget_sweep.py --seeds 30 --jobs 2 \\
        --markdown benchmarks/results/budget_sweep_nb201.md \\
        --json benchmarks/results/budget_sweep_nb201.json --plot docs/budget_sweep_nb201.png

docs/compare_nb201.md quotes the table and shows the plot.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from _args import count

TASKS = ("cifar10", "cifar100")
BASELINES = ("rs", "rea")


def _one(args: tuple) -> dict:
    """One run: its per-task test metric, per-task simulated seconds and (EMT-NAS) late tau."""
    from scipy.stats import kendalltau

    import benchsim
    from benchsim.errors import EmptyResultError
    from benchsim.runner import RunConfig, execute_run

    algo, seed, generations, budget, options = args
    params = {"generations": generations} if algo == "emtnas" else {}
    config = RunConfig(
        algo=algo, benchmark="nb201", tasks=TASKS, seed=seed, budget=budget, params=params,
        backend_options=options,
    )  # fmt: skip
    try:
        out = execute_run(config)
    except EmptyResultError as err:  # the budget bought no evaluation on some task
        out = err.output
    tasks = out.result["tasks"]
    row = {
        "algo": algo,
        "seed": seed,
        "generations": generations,
        "budget": budget,
        "hours_per_task": out.result["simulated_seconds"] / 3600 / len(TASKS),
        "test": {t: tasks[t]["test_metric"] for t in TASKS},  # None: nothing returned
        "source": {t: tasks[t].get("search_metric_source") for t in TASKS},
    }
    if algo == "emtnas":
        frame = out.trajectory.to_pandas()
        full = frame[(frame["kind"] == "full_eval") & (frame["task"] == "cifar10")]
        cells = full.iloc[len(full) // 2 :].groupby("arch").last()
        recorded = benchsim.benchmark("nb201").query_many(
            cells.index.to_numpy(), "cifar10", "oneshot_acc"
        )
        tau = kendalltau(cells["value"], recorded.values).statistic if len(cells) > 1 else None
        row["late_tau_vs_oneshot"] = None if tau is None or tau != tau else float(tau)
    return row


def run_all(generations: list[int], seeds: int, jobs: int, options: dict) -> dict:
    began = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        emt = list(
            pool.map(
                _one, [("emtnas", s, g, None, options) for g in generations for s in range(seeds)]
            )
        )
        budgets = {
            g: float(np.median([r["hours_per_task"] for r in emt if r["generations"] == g]))
            for g in generations
        }
        single = [
            (algo, s, g, f"{budgets[g] * 3600:.0f}s", {})
            for g in generations
            for algo in BASELINES
            for s in range(seeds)
        ]
        rows = emt + list(pool.map(_one, single, chunksize=4))
    return {
        "benchmark": "nb201",
        "tasks": list(TASKS),
        "seeds": seeds,
        "generations": generations,
        "hours_per_task": budgets,
        "backend_options": options,
        "wall_seconds": time.perf_counter() - began,
        "runs": rows,
    }


def summarise(data: dict) -> list[dict]:
    """One row per (generations, algorithm): mean and std of each task's test metric."""
    out = []
    for g in data["generations"]:
        for algo in ("emtnas", *BASELINES):
            runs = [r for r in data["runs"] if r["generations"] == g and r["algo"] == algo]
            row = {
                "generations": g,
                "algo": algo,
                "hours_per_task": float(np.median([r["hours_per_task"] for r in runs])),
                "n": len(runs),
            }
            for task in data["tasks"]:
                values = np.array([r["test"][task] for r in runs if r["test"][task] is not None])
                row[task] = (
                    float(values.mean()) if values.size else float("nan"),
                    float(values.std(ddof=1)) if values.size > 1 else float("nan"),
                    int(values.size),
                )
            taus = [r["late_tau_vs_oneshot"] for r in runs if r.get("late_tau_vs_oneshot")]
            if algo == "emtnas" and taus:
                row["late_tau_vs_oneshot"] = float(np.mean(taus))
            out.append(row)
    return out


def markdown(data: dict, rows: list[dict]) -> str:
    tasks = data["tasks"]
    lines = [
        f"nb201, tasks {', '.join(tasks)}: {data['seeds']} seeds per cell; EMT-NAS backend "
        f"options {data['backend_options'] or 'default'}; RS and REA get the "
        "median simulated GPU-hours per task of EMT-NAS at that length; wall "
        f"{data['wall_seconds']:.0f} s",
        "",
        "| EMT-NAS generations | GPU-hours per task | method | "
        + " | ".join(f"{t} test" for t in tasks)
        + " | EMT-NAS late tau vs recorded one-shot |",
        "|---|---|---|" + "---|" * len(tasks) + "---|",
    ]
    for row in rows:
        cells = " | ".join(_cell(row[t], data["seeds"]) for t in tasks)
        tau = row.get("late_tau_vs_oneshot")
        lines.append(
            f"| {row['generations']} | {row['hours_per_task']:.3f} | {row['algo']} | {cells} | "
            + (f"{tau:.3f}" if tau is not None else "")
            + " |"
        )
    return "\n".join(lines)


def _cell(stat: tuple[float, float, int], seeds: int) -> str:
    mean, std, n = stat
    if n == 0:
        return "no architecture (budget below one evaluation)"
    return f"{mean:.2f} +- {std:.2f}" + (f" ({n} of {seeds} returned one)" if n < seeds else "")


def plot(data: dict, rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = data["tasks"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.2))
    for ax, task in zip(np.atleast_1d(axes), tasks, strict=True):
        for algo, marker in (("emtnas", "o"), ("rs", "s"), ("rea", "^")):
            mine = [r for r in rows if r["algo"] == algo]
            hours = [r["hours_per_task"] for r in mine]
            mean = np.array([r[task][0] for r in mine])
            std = np.array([r[task][1] for r in mine])
            ax.errorbar(hours, mean, yerr=std, marker=marker, capsize=3, label=algo)
        for r in (r for r in rows if r["algo"] == "emtnas"):
            ax.annotate(
                f"{r['generations']} gen", (r["hours_per_task"], r[task][0]), fontsize=7,
                textcoords="offset points", xytext=(4, -10),
            )  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("simulated GPU-hours per task")
        ax.set_ylabel("test accuracy of the returned architecture (mean +- std)")
        ax.set_title(f"nb201 {task}")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", default="10,20,50,100,300")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--jobs", type=count(), default=2)
    parser.add_argument(
        "--backend-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="table option for the EMT-NAS runs (e.g. ws_rank_shape=1), repeatable",
    )
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args(argv)
    generations = [int(g) for g in args.generations.split(",")]
    options = {}
    for item in args.backend_option:
        name, _, value = item.partition("=")
        try:
            options[name] = int(value) if value.isdigit() else float(value)
        except ValueError:
            options[name] = value
    data = run_all(generations, args.seeds, args.jobs, options)
    rows = summarise(data)
    text = markdown(data, rows)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.json:
        args.json.write_text(json.dumps({**data, "summary": rows}) + "\n")
    if args.plot:
        plot(data, rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
