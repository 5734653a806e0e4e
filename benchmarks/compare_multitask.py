"""Multi-task NAS (EMT-NAS, KTNAS, EMT-NAS's JT-D / JT-S baselines) against RS and REA.

The multi-task searches run as published (population 20 per task, their generations) under
each weight-sharing estimator of the table (``--estimators``: the default one-shot supernet
emulation, and the stand-alone upper bound that a real supernet never reaches).  The median
simulated time per task of EMT-NAS and KTNAS (``--budget-from``) sets the time budget of random
search and REA on each task, so every method spends about the same simulated GPU-hours per
task.  Reported, over ``--seeds`` seeds: the test metric of the architecture each search would
return (its incumbent: best fully evaluated architecture by its own search signal; for JT-S,
which returns one architecture for all tasks, the best by the mean over the tasks) at several
fractions of that budget (anytime), and at the end of each search, as markdown, JSON and an
anytime plot.

    python benchmarks/compare_multitask.py --benchmark nb201 --seeds 30 --jobs 2 \\
        --markdown benchmarks/results/compare_nb201.md \\
        --json benchmarks/results/compare_nb201.json --plot docs/compare_nb201.png
    python benchmarks/compare_multitask.py --benchmark tnb101-micro --seeds 30 --jobs 2 \\
        --markdown benchmarks/results/compare_tnb101.md \\
        --json benchmarks/results/compare_tnb101.json --plot docs/compare_tnb101.png

docs/compare_nb201.md and docs/compare_tnb101.md are written from those outputs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from _args import count

DEFAULT_TASKS = {"nb201": "cifar10,cifar100", "tnb101-micro": "class_object,class_scene"}
FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def _curve(args: tuple) -> dict:
    """One run; returns per task the incumbent test value after each full evaluation."""
    from benchsim.runner import RunConfig, execute_run
    from benchsim.sweep import incumbents, joint_incumbents

    label, algo, benchmark, tasks, seed, budget, options = args
    config = RunConfig(
        algo=algo, benchmark=benchmark, tasks=tasks, seed=seed, budget=budget,
        backend_options=options,
    )  # fmt: skip
    out = execute_run(config)
    frame = out.trajectory.to_pandas()
    shared = len(tasks) if out.config["resolved"]["multi_task"] else 1
    joint = None
    if out.config["resolved"].get("shared_architecture"):  # JT-S: one incumbent for all tasks
        joint = joint_incumbents(
            frame["task"].to_numpy(str), frame["kind"].to_numpy(str), frame["arch"].to_numpy(),
            frame["value"].to_numpy(), frame["test_value"].to_numpy(), list(tasks),
        )  # fmt: skip
    curves = {}
    for task in tasks:
        mine = (frame["task"] == task).to_numpy()
        rows = frame[mine]
        if joint is not None:
            test = joint[task][2][mine]
        else:
            _, _, test = incumbents(
                rows["kind"].to_numpy(str), rows["arch"].to_numpy(), rows["value"].to_numpy(),
                rows["test_value"].to_numpy(),
            )  # fmt: skip
        keep = ~np.isnan(test)
        curves[task] = {
            "time": (rows["end_time"].to_numpy()[keep] / shared).tolist(),
            "test": test[keep].tolist(),
        }
    per_task_seconds = out.result["simulated_seconds"] / shared
    final = {task: out.result["tasks"][task]["test_metric"] for task in tasks}
    archs = {task: out.result["tasks"][task]["arch"] for task in tasks}
    return {
        "label": label, "seed": seed, "curves": curves, "seconds": per_task_seconds,
        "final": final, "archs": archs,
    }  # fmt: skip


def _at(curve: dict, t: float) -> float:
    """The incumbent's test value at simulated time ``t`` (NaN before the first one)."""
    times = np.asarray(curve["time"])
    i = np.searchsorted(times, t, side="right") - 1
    return float(curve["test"][i]) if i >= 0 else float("nan")


def run_all(args: argparse.Namespace) -> dict:
    tasks = tuple(args.tasks.split(","))
    seeds = range(args.seeds)
    estimators = args.estimators.split(",")
    multi = [
        (f"{algo} [{est}]", algo, args.benchmark, tasks, seed, None, {"weight_sharing": est})
        for est in estimators
        for algo in args.multi.split(",")
        for seed in seeds
    ]
    began = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(_curve, multi, chunksize=2))
        setters = {f"{algo} [{estimators[0]}]" for algo in args.budget_from.split(",")}
        default = [r for r in results if r["label"] in setters]
        budget = float(np.median([r["seconds"] for r in default]))
        single = [
            (algo, algo, args.benchmark, (task,), seed, f"{budget:.0f}s", {})
            for algo in args.single.split(",")
            for task in tasks
            for seed in seeds
        ]
        for r in pool.map(_curve, single, chunksize=4):
            results.append(r)
    import benchsim

    bench = benchsim.benchmark(args.benchmark)
    archs = bench.space.enumerate()
    optimum = {
        t: float(np.nanmax(bench.query_many(archs, t, bench.task_info(t).test_metric).values))
        for t in tasks
    }
    return {
        "benchmark": args.benchmark,
        "tasks": list(tasks),
        "optimum": optimum,
        "seeds": args.seeds,
        "budget_seconds_per_task": budget,
        "budget_from": args.budget_from,
        "wall_seconds": time.perf_counter() - began,
        "runs": results,
    }


def summarise(data: dict) -> dict[str, dict[str, list[tuple[float, float, int]]]]:
    """label -> task -> [(mean, std, n)] at each of :data:`FRACTIONS` of the budget, then at
    the end of the search (the returned architecture, result.json's test metric)."""
    out: dict[str, dict[str, list]] = {}
    budget = data["budget_seconds_per_task"]
    for r in data["runs"]:
        for task, curve in r["curves"].items():
            columns = [[] for _ in range(len(FRACTIONS) + 1)]
            slot = out.setdefault(r["label"], {}).setdefault(task, columns)
            for k, f in enumerate(FRACTIONS):
                slot[k].append(_at(curve, f * budget))
            slot[-1].append(r["final"][task])
    return {
        label: {
            task: [
                (float(np.nanmean(v)), float(np.nanstd(v)), int(np.isfinite(v).sum()))
                for v in map(np.asarray, values)
            ]
            for task, values in tasks.items()
        }
        for label, tasks in out.items()
    }


def markdown(data: dict, table: dict) -> str:
    hours = data["budget_seconds_per_task"] / 3600
    lines = [
        f"{data['benchmark']}, tasks {', '.join(data['tasks'])}: {data['seeds']} seeds; budget "
        f"{hours:.2f} simulated GPU-hours per task (the median of {data['budget_from']} under "
        f"the default estimator); wall {data['wall_seconds']:.0f} s",
        "",
    ]
    spent: dict[str, list[float]] = {}
    for r in data["runs"]:
        spent.setdefault(r["label"], []).append(r["seconds"] / 3600)
    for task in data["tasks"]:
        header = " | ".join(f"{f:g} x budget" for f in FRACTIONS)
        lines += [
            f"Test metric on {task} (mean +- std; the best in the table: "
            f"{data['optimum'][task]:.2f}):",
            "",
            f"| method | {header} | end of search | GPU-hours per task |",
        ]
        lines.append("|---|" + "---|" * (len(FRACTIONS) + 2))
        for label, tasks in table.items():
            cells = " | ".join(
                f"{m:.2f} +- {s:.2f}" + (f" ({n})" if n < data["seeds"] else "")
                for m, s, n in tasks[task]
            )
            lines.append(f"| {label} | {cells} | {np.median(spent[label]):.2f} |")
        lines.append("")
    lines.append(
        "(n) after a value: only n seeds had a fully evaluated architecture by then. End of "
        "search: the architecture the search returned; GPU-hours per task: its median spend."
    )
    return "\n".join(lines)


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budget = data["budget_seconds_per_task"]
    grid = np.geomspace(budget / 100, budget, 60)
    fig, axes = plt.subplots(1, len(data["tasks"]), figsize=(6 * len(data["tasks"]), 4.2))
    for ax, task in zip(np.atleast_1d(axes), data["tasks"], strict=True):
        labels = dict.fromkeys(r["label"] for r in data["runs"])
        ax.axhline(data["optimum"][task], color="grey", linestyle=":", label="table optimum")
        for label in labels:
            values = np.array(
                [[_at(r["curves"][task], t) for t in grid] for r in data["runs"]
                 if r["label"] == label and task in r["curves"]]
            )  # fmt: skip
            if values.size == 0:
                continue
            with warnings.catch_warnings():  # before any run's first evaluation: all NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(values, axis=0)
            ax.plot(grid / 3600, mean, label=label, linestyle="--" if "upper" in label else "-")
        ax.set_xscale("log")
        ax.set_xlabel("simulated GPU-hours per task")
        ax.set_ylabel("test metric of the incumbent")
        ax.set_title(f"{data['benchmark']} {task}")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="nb201", choices=sorted(DEFAULT_TASKS))
    parser.add_argument("--tasks", default=None)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--jobs", type=count(), default=2)
    parser.add_argument("--multi", default="emtnas,ktnas,jt-d,jt-s")
    parser.add_argument(
        "--budget-from",
        default="emtnas,ktnas",
        help="the multi-task methods whose median simulated time is RS's and REA's budget",
    )
    parser.add_argument("--single", default="rs,rea")
    parser.add_argument("--estimators", default="oneshot,standalone-upper-bound")
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args(argv)
    args.tasks = args.tasks or DEFAULT_TASKS[args.benchmark]
    data = run_all(args)
    table = summarise(data)
    text = markdown(data, table)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.json:
        budget = data["budget_seconds_per_task"]
        finals = [
            {"label": r["label"], "seed": r["seed"], "seconds": r["seconds"],
             "test_at_budget": {t: _at(c, budget) for t, c in r["curves"].items()},
             "test_at_end": r["final"], "archs": r["archs"]}
            for r in data["runs"]
        ]  # fmt: skip
        summary = {k: v for k, v in data.items() if k != "runs"}
        args.json.write_text(json.dumps({**summary, "runs": finals, "summary": table}) + "\n")
    if args.plot:
        plot(data, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
