"""CATCH against RS, REA and PPO on TransNAS-Bench-101 at equal target queries.

The TNB101 protocol (supplementary Sec. 5): 50 architectures queried on the target task per
run (REA: population 10, sample 10, 40 cycles), each answered by the table's recorded
validation metric (best over epochs); reported, over ``--seeds`` seeds (30), the test metric
of the architecture each search returns (its best by validation) and the best validation
found, mean +- std.  Every task of ``--benchmarks`` is a target in turn; CATCH meta-trains on
the other six tasks of that space (its default ``source_tasks``), whose answers are charged
to those tasks, not to the 50 target queries.

    python benchmarks/compare_catch_tnb101.py --seeds 30 --jobs 1 \\
        --json benchmarks/results/compare_catch_tnb101.json \\
        --markdown benchmarks/results/compare_catch_tnb101.md --plot docs/compare_catch_tnb101.png
    python benchmarks/compare_catch_tnb101.py --benchmarks tnb101-micro --seeds 30 --jobs 2 \\
        --methods "catch,catch[meta_queries=0],catch[meta_queries=100],catch[n_candidates=1]" \\
        --json benchmarks/results/compare_catch_tnb101_ablation.json \\
        --markdown benchmarks/results/compare_catch_tnb101_ablation.md

A method is an algorithm name with optional ``[name=value,...]`` hyperparameters (values are
read as JSON).  docs/catch.md is written from these outputs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from _args import count

QUERIES = 50
CHECKPOINTS = (10, 25, 50)


def parse_method(text: str) -> tuple[str, dict]:
    """``"catch[meta_queries=0,n_candidates=1]"`` -> ``("catch", {...})``."""
    match = re.fullmatch(r"([\w-]+)(?:\[(.*)\])?", text.strip())
    if match is None:
        raise SystemExit(f"bad method {text!r}: use name or name[key=value,...]")
    params = {}
    for item in filter(None, (match.group(2) or "").split(",")):
        key, _, value = item.partition("=")
        params[key.strip()] = json.loads(value)
    return match.group(1), params


def split_methods(text: str) -> list[str]:
    """``"catch,xfernas[a=1,b=2]"`` -> ``["catch", "xfernas[a=1,b=2]"]`` (commas inside
    brackets separate hyperparameters, not methods)."""
    return re.findall(r"[\w-]+(?:\[[^\]]*\])?", text)


def _pad(curve: np.ndarray) -> np.ndarray:
    """An incumbent curve over ``QUERIES`` target queries; a search that stopped earlier
    (XferNAS's 33) keeps its last incumbent."""
    if len(curve) >= QUERIES:
        return curve[:QUERIES]
    last = curve[-1:] if len(curve) else np.array([np.nan])
    return np.concatenate([curve, np.repeat(last, QUERIES - len(curve))])


def one_run(args: tuple) -> dict:
    """One search of ``QUERIES`` target evaluations: its result and incumbent curves."""
    from benchsim.runner import RunConfig, execute_run
    from benchsim.sweep._store import incumbents

    label, algo, params, benchmark, task, seed = args
    began = time.perf_counter()
    out = execute_run(
        RunConfig(algo=algo, benchmark=benchmark, tasks=(task,), seed=seed,
                  budget=str(QUERIES), params=params)
    )  # fmt: skip
    frame = out.trajectory.to_pandas()
    rows = frame[frame["task"] == task]
    _, best_valid, best_test = incumbents(
        rows["kind"].to_numpy(str), rows["arch"].to_numpy(), rows["value"].to_numpy(),
        rows["test_value"].to_numpy(),
    )  # fmt: skip
    row = out.result["tasks"][task]
    return {
        "label": label, "benchmark": benchmark, "task": task, "seed": seed,
        "test": row["test_metric"], "valid": row["search_metric"], "arch": row["arch"],
        "distinct": int(rows["arch"].nunique()),
        "curve_valid": _pad(best_valid).tolist(), "curve_test": _pad(best_test).tolist(),
        "source_evaluations": out.result["source_tasks"]["evaluations"],
        "wall_seconds": time.perf_counter() - began,
    }  # fmt: skip


def run_all(args: argparse.Namespace) -> dict:
    import benchsim
    from benchsim.algorithms import create

    methods = [(m, *parse_method(m)) for m in split_methods(args.methods)]
    spaces = {}
    jobs = []
    for benchmark in args.benchmarks.split(","):
        bench = benchsim.benchmark(benchmark)
        archs = bench.space.enumerate()
        spaces[benchmark] = {
            task: {
                "search_metric": bench.task_info(task).search_metric,
                "test_metric": bench.task_info(task).test_metric,
                "best_valid": float(
                    np.nanmax(
                        bench.query_many(archs, task, bench.task_info(task).search_metric).values
                    )
                ),
                "best_test": float(
                    np.nanmax(
                        bench.query_many(archs, task, bench.task_info(task).test_metric).values
                    )
                ),
            }
            for task in bench.tasks
        }
        jobs += [
            (label, algo, params, benchmark, task, seed)
            for label, algo, params in methods
            for task in bench.tasks
            for seed in range(args.seeds)
        ]
    jobs.sort(key=lambda j: j[1] != "catch")  # the slow ones first, for an even pool
    began = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(one_run, jobs, chunksize=1))
    wall = time.perf_counter() - began
    return {
        "protocol": f"{QUERIES} target queries per run, TNB101 table answers (best epoch)",
        "seeds": args.seeds,
        "methods": [m[0] for m in methods],
        "params": {
            label: {b: create(algo, b, params).config() for b in spaces}
            for label, algo, params in methods
        },
        "spaces": spaces,
        "wall_seconds": wall,
        "jobs": args.jobs,
        "cpu_seconds_by_method": {
            label: float(sum(r["wall_seconds"] for r in runs if r["label"] == label))
            for label, *_ in methods
        },
        "runs": runs,
    }


def summarise(data: dict) -> dict:
    """benchmark -> task -> label -> statistics over seeds."""
    from scipy.stats import mannwhitneyu

    out: dict = {}
    for r in data["runs"]:
        cell = out.setdefault(r["benchmark"], {}).setdefault(r["task"], {})
        cell.setdefault(r["label"], []).append(r)
    summary: dict = {}
    for benchmark, tasks in out.items():
        for task, labels in tasks.items():
            stats = {}
            for label, runs in labels.items():
                test = np.array([r["test"] for r in runs], dtype=float)
                valid = np.array([r["valid"] for r in runs], dtype=float)
                curve = np.array([r["curve_valid"] for r in runs], dtype=float)
                stats[label] = {
                    "n": len(runs),
                    "test_mean": float(test.mean()), "test_std": float(test.std(ddof=1)),
                    "valid_mean": float(valid.mean()), "valid_std": float(valid.std(ddof=1)),
                    "valid_at": {str(k): float(curve[:, k - 1].mean()) for k in CHECKPOINTS},
                    "distinct": float(np.mean([r["distinct"] for r in runs])),
                }  # fmt: skip
            first = data["methods"][0]
            if first in labels:
                mine = [r["test"] for r in labels[first]]
                for label in labels:
                    if label != first:
                        theirs = [r["test"] for r in labels[label]]
                        p = mannwhitneyu(mine, theirs, alternative="two-sided").pvalue
                        stats[label]["p_vs_" + first] = float(p)
            summary.setdefault(benchmark, {})[task] = stats
    return summary


def _fmt(x: float, scale: float) -> str:
    digits = 2 if scale >= 1 else 4
    return f"{x:.{digits}f}"


def markdown(data: dict, summary: dict) -> str:
    first = data["methods"][0]
    minutes = data["wall_seconds"] / 60
    lines = [
        f"{data['protocol']}; {data['seeds']} seeds per cell; mean +- std (sample std); "
        f"wall {minutes:.1f} min with {data['jobs']} processes",
        "",
    ]
    for benchmark, tasks in summary.items():
        for what, key in (("test metric of the returned architecture", "test"),
                          ("best validation metric found", "valid")):  # fmt: skip
            lines += [f"### {benchmark}: {what}", ""]
            header = " | ".join(data["methods"])
            rule = "|---|" + "---|" * (len(data["methods"]) + 1)
            lines += [f"| task | {header} | best in table |", rule]
            for task, stats in tasks.items():
                info = data["spaces"][benchmark][task]
                scale = abs(info["best_" + key])
                top = max(s[f"{key}_mean"] for s in stats.values())
                cells = []
                for label in data["methods"]:
                    s = stats[label]
                    text = f"{_fmt(s[key + '_mean'], scale)} +- {_fmt(s[key + '_std'], scale)}"
                    if s[f"{key}_mean"] == top:
                        text = f"**{text}**"
                    p = s.get("p_vs_" + first)
                    if key == "test" and p is not None and p < 0.05:
                        text += " (p<.05)"
                    cells.append(text)
                metric = info[("test" if key == "test" else "search") + "_metric"]
                lines.append(f"| {task} ({metric}) | {' | '.join(cells)} | "
                             f"{_fmt(info['best_' + key], scale)} |")  # fmt: skip
            lines.append("")
        lines += [f"### {benchmark}: best validation after 10 / 25 / 50 target queries", ""]
        rule = "|---|" + "---|" * len(data["methods"])
        lines += [f"| task | {' | '.join(data['methods'])} |", rule]
        for task, stats in tasks.items():
            scale = abs(data["spaces"][benchmark][task]["best_valid"])
            cells = [
                " / ".join(_fmt(stats[label]["valid_at"][str(k)], scale) for k in CHECKPOINTS)
                for label in data["methods"]
            ]
            lines.append(f"| {task} | {' | '.join(cells)} |")
        lines.append("")
        lines += [f"### {benchmark}: distinct architectures among the target queries", ""]
        lines += [f"| task | {' | '.join(data['methods'])} |", rule]
        for task, stats in tasks.items():
            cells = [f"{stats[label]['distinct']:.1f}" for label in data["methods"]]
            lines.append(f"| {task} | {' | '.join(cells)} |")
        lines.append("")
    lines.append(
        f"(p<.05): the test metric's distribution differs from {first}'s (two-sided "
        f"Mann-Whitney U, {data['seeds']} vs {data['seeds']} runs); "
        "bold: the highest mean in the row."
    )
    per = {k: v / max(1, data["seeds"] * sum(len(t) for t in data["spaces"].values()))
           for k, v in data["cpu_seconds_by_method"].items()}  # fmt: skip
    lines.append("CPU seconds per run: " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()))
    return "\n".join(lines)


def plot(data: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spaces = list(data["spaces"])
    ncols = max(len(t) for t in data["spaces"].values())
    fig, axes = plt.subplots(len(spaces), ncols, figsize=(3.2 * ncols, 3.0 * len(spaces)),
                             squeeze=False)  # fmt: skip
    x = np.arange(1, QUERIES + 1)
    for i, benchmark in enumerate(spaces):
        for j, task in enumerate(data["spaces"][benchmark]):
            ax = axes[i, j]
            for label in data["methods"]:
                curves = np.array([r["curve_test"] for r in data["runs"]
                                   if r["benchmark"] == benchmark and r["task"] == task
                                   and r["label"] == label], dtype=float)  # fmt: skip
                if curves.size:
                    ax.plot(x, np.nanmean(curves, axis=0), label=label)
            ax.axhline(data["spaces"][benchmark][task]["best_test"], color="grey", ls=":")
            ax.set_title(f"{benchmark.replace('tnb101-', '')} {task}", fontsize=9)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
            if i == len(spaces) - 1:
                ax.set_xlabel("target queries", fontsize=8)
            if j == 0:
                ax.set_ylabel("test metric of the incumbent", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", default="tnb101-micro,tnb101-macro")
    parser.add_argument("--methods", default="catch,rs,rea,ppo")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--jobs", type=count(), default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None)
    args = parser.parse_args(argv)
    data = run_all(args)
    summary = summarise(data)
    text = markdown(data, summary)
    print(text)
    if args.json:
        slim = [
            {**{k: v for k, v in r.items() if not k.startswith("curve")},
             "valid_at": {str(k): r["curve_valid"][k - 1] for k in CHECKPOINTS}}
            for r in data["runs"]
        ]  # fmt: skip
        args.json.write_text(json.dumps({**data, "runs": slim, "summary": summary}) + "\n")
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if args.plot:
        plot(data, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
