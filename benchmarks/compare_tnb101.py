"""EMT-NAS and KTNAS against random search and REA on TNB101 micro at equal query budgets.

Each multi-task run searches two tasks together; its number of answered queries per task (sampled
evaluations plus full evaluations) sets the budget that the single-task baselines get for that
task, so every method sees the same number of table answers per task.  Reported: the test metric
of the returned architecture, mean +- std over seeds.

    python benchmarks/compare_tnb101.py --seeds 30 --jobs 2 --markdown docs/compare_tnb101.md
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

TASKS = ("class_object", "class_scene")


def _multi(args: tuple[str, int, str, int]) -> tuple[str, int, dict]:
    from benchsim.runner import RunConfig, execute_run

    algo, seed, space, generations = args
    params = {"generations": generations}
    out = execute_run(RunConfig(algo=algo, benchmark=space, tasks=TASKS, seed=seed, params=params))
    return algo, seed, out.result["tasks"]


def _single(args: tuple[str, str, int, int, str]) -> tuple[str, str, int, dict]:
    from benchsim.runner import RunConfig, execute_run

    algo, task, seed, budget, space = args
    out = execute_run(
        RunConfig(algo=algo, benchmark=space, tasks=(task,), seed=seed, budget=str(budget))
    )
    return algo, task, seed, out.result["tasks"][task]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--benchmark", default="tnb101-micro")
    parser.add_argument("--multi", default="emtnas,ktnas")
    parser.add_argument("--single", default="rs,rea")
    parser.add_argument("--generations", default="10,100", help="Multi-task generations to try.")
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args(argv)
    text = "\n\n".join(_compare(args, int(g)) for g in args.generations.split(",") if g.strip())
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


def _compare(args: argparse.Namespace, generations: int) -> str:
    multi = [a for a in args.multi.split(",") if a]
    single = [a for a in args.single.split(",") if a]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        multi_rows = list(
            pool.map(
                _multi,
                [(a, s, args.benchmark, generations) for a in multi for s in range(args.seeds)],
            )
        )
        budgets = {
            task: int(np.median([r[2][task]["evaluations"] for r in multi_rows])) for task in TASKS
        }
        single_rows = list(
            pool.map(
                _single,
                [
                    (a, t, s, budgets[t], args.benchmark)
                    for a in single
                    for t in TASKS
                    for s in range(args.seeds)
                ],
            )
        )
    wall = time.perf_counter() - t0
    lines = [
        f"{args.benchmark}, multi-task runs of {generations} generations: {args.seeds} seeds; "
        "queries per task: "
        + ", ".join(f"{t} {b}" for t, b in budgets.items())
        + f" (median of the multi-task runs); wall {wall:.0f} s on {args.jobs} processes",
        "",
        "| method | " + " | ".join(f"{t} test" for t in TASKS) + " |",
        "|---|" + "---|" * len(TASKS),
    ]
    for algo in multi:
        cells = []
        for task in TASKS:
            vals = np.array([r[2][task]["test_metric"] for r in multi_rows if r[0] == algo])
            cells.append(f"{vals.mean():.2f} +- {vals.std(ddof=1):.2f}")
        lines.append(f"| {algo} | " + " | ".join(cells) + " |")
    for algo in single:
        cells = []
        for task in TASKS:
            vals = np.array(
                [r[3]["test_metric"] for r in single_rows if r[0] == algo and r[1] == task]
            )
            cells.append(f"{vals.mean():.2f} +- {vals.std(ddof=1):.2f}")
        lines.append(f"| {algo} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
