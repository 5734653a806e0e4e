"""``benchsim reproduce nb201-iclr2020`` (500 runs a method) before and after: its wall time.

    python benchmarks/bench_reproduce.py [--baseline c4a903d] [--repeat 2] [--runs 500] \\
        [--jobs 2] [--json benchmarks/results/reproduce_time.json]

Each repeat times one fresh ``benchsim reproduce nb201-iclr2020 --runs 500 --jobs 2
--no-plots --no-progress`` process per tree (the baseline code and this checkout, alternating
which goes first) into a new folder: 1,500 RS/REA/REINFORCE runs of 12,000 simulated seconds
on CIFAR-10 through the sweep machinery, then the paper's table.  Prints min and median wall
seconds and the speed-up (issue #22's target: the time halves, i.e. at least 2x), and whether
both trees report the same table (reproduce.json, its wall time aside).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _args import count
from _baseline import BEFORE, baseline_tree, env_for, machine, report_end, stats, timed


def reproduce(env: dict[str, str], out: Path, runs: int, jobs: int) -> float:
    command = [sys.executable, "-m", "benchsim.cli", "reproduce", "nb201-iclr2020",
               "--runs", str(runs), "--jobs", str(jobs), "--no-plots", "--no-progress",
               "--out", str(out)]  # fmt: skip
    return timed(command, env, ok=(0, 1))  # 1: a cell off by more than a paper std (the gate)


def table(out: Path) -> dict:
    payload = json.loads((out / "reproduce.json").read_text())
    payload.pop("wall_seconds", None)
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BEFORE, help="git revision or source folder")
    parser.add_argument("--repeat", type=count(), default=2)
    parser.add_argument("--runs", type=count(), default=500, help="runs per method")
    parser.add_argument("--jobs", type=count(), default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    import benchsim

    benchsim.benchmark("nb201")  # installed before anything is timed
    figures: dict[str, object] = {
        "machine_before": machine(),
        "baseline": args.baseline,
        "runs_per_method": args.runs,
        "jobs": args.jobs,
    }
    with baseline_tree(args.baseline) as tree, tempfile.TemporaryDirectory() as tmp:
        envs = {"before": env_for(tree), "after": env_for(None)}
        folders = iter(Path(tmp) / f"r{i}" for i in range(10**6))
        for env in envs.values():  # warm-up: bytecode, OS caches
            reproduce(env, next(folders), 2, args.jobs)
        times: dict[str, list[float]] = {"before": [], "after": []}
        last: dict[str, Path] = {}
        for i in range(args.repeat):
            for key in ("before", "after") if i % 2 == 0 else ("after", "before"):
                last[key] = next(folders)
                times[key].append(reproduce(envs[key], last[key], args.runs, args.jobs))
        summary = {key: stats(values) for key, values in times.items()}
        figures["wall_s"] = summary
        figures["speedup"] = round(summary["before"]["min"] / summary["after"]["min"], 3)
        figures["same_table"] = table(last["before"]) == table(last["after"])
    figures["machine_after"] = machine()

    print(f"reproduce nb201-iclr2020 --runs {args.runs} --jobs {args.jobs}: "
          f"{3 * args.runs} runs, {args.repeat} repeats")  # fmt: skip
    print(f"{'':<8}{'min s':>8}{'median s':>10}")
    for key, row in summary.items():
        print(f"{key:<8}{row['min']:>8.2f}{row['median']:>10.2f}")
    print(f"speed-up {figures['speedup']:.2f}x (target: the time halves, >= 2x); same table "
          f"before/after: {figures['same_table']}")  # fmt: skip
    report_end(figures, args.json)


if __name__ == "__main__":
    main()
