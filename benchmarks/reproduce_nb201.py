"""Reproduce the NAS-Bench-201 paper's non-weight-sharing baselines on the table backend.

Protocol (docs/reproduction.md): for each dataset, search on the validation accuracy with the
paper's 12,000 simulated-second budget per run (the table backend's NB201 evaluation protocol:
one sampled training seed where per-seed values exist, charged train_time_s * 12/200), and report
the 200-epoch test accuracy of the architecture each run returns; mean +- std over seeds.

    python benchmarks/reproduce_nb201.py --seeds 100 --jobs 2 --markdown docs/reproduction_nb201.md
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

PAPER = {  # NAS-Bench-201 paper, Table (as collected in shared/papers/notes.md)
    ("rs", "cifar10"): (93.70, 0.36),
    ("rs", "cifar100"): (71.04, 1.07),
    ("rs", "ImageNet16-120"): (44.57, 1.25),
    ("rea", "cifar10"): (93.92, 0.30),
    ("rea", "cifar100"): (71.84, 0.99),
    ("rea", "ImageNet16-120"): (45.54, 1.03),
    ("reinforce", "cifar10"): (93.85, 0.37),
    ("reinforce", "cifar100"): (71.71, 1.09),
    ("reinforce", "ImageNet16-120"): (45.24, 1.18),
}
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
ALGOS = ("rs", "rea", "reinforce")


def _one(args: tuple[str, str, int, str]) -> tuple[str, str, int, float, int, float]:
    from benchsim.runner import RunConfig, execute_run

    algo, task, seed, budget = args
    config = RunConfig(algo=algo, benchmark="nb201", tasks=(task,), seed=seed, budget=budget)
    out = execute_run(config)
    row = out.result["tasks"][task]
    return algo, task, seed, row["test_metric"], row["evaluations"], out.result["wall_seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--budget", default="12000s")
    parser.add_argument("--algos", default=",".join(ALGOS))
    parser.add_argument("--markdown", type=Path, default=None, help="Write the table here too.")
    args = parser.parse_args(argv)
    algos = [a for a in args.algos.split(",") if a]
    jobs = [(a, d, s, args.budget) for a in algos for d in DATASETS for s in range(args.seeds)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(_one, jobs, chunksize=8))
    wall = time.perf_counter() - t0
    lines = [
        f"NB201 reproduction: {args.seeds} seeds per cell, budget {args.budget} per run "
        f"(wall {wall:.0f} s on {args.jobs} processes)",
        "",
        "| method | dataset | ours (test acc) | paper | within 1 std of paper | evals/run |",
        "|---|---|---|---|---|---|",
    ]
    for algo in algos:
        for task in DATASETS:
            acc = np.array([r[3] for r in rows if r[0] == algo and r[1] == task])
            evals = np.mean([r[4] for r in rows if r[0] == algo and r[1] == task])
            mean, std = float(acc.mean()), float(acc.std(ddof=1)) if acc.size > 1 else 0.0
            ref = PAPER.get((algo, task))
            ok = "-" if ref is None else ("yes" if abs(mean - ref[0]) <= ref[1] else "NO")
            paper = "-" if ref is None else f"{ref[0]:.2f} +- {ref[1]:.2f}"
            lines.append(
                f"| {algo} | {task} | {mean:.2f} +- {std:.2f} | {paper} | {ok} | {evals:.0f} |"
            )
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
