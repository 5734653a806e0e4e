"""Wall time of the full default EMT-NAS run on the table backend, and where it goes.

    python benchmarks/bench_run.py [--algo emtnas] [--repeat 5]

Reports the median wall time of ``execute_run(RunConfig(algo=...))`` (NB201, cifar10 + cifar100,
the paper's 300 generations) in a warm process, the time of a fresh ``benchsim run`` process,
and a cProfile summary grouped by layer (algorithm, runner, backend, spaces) so the claim "the
algorithm, not the backend, dominates" can be checked.  Target: under 2 s wall on one core.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

from _args import count


def _layer(filename: str) -> str:
    for part in ("algorithms", "runner", "backends", "spaces"):
        if f"benchsim/{part}/" in filename:
            return part
    return "numpy/pyarrow/python"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", default="emtnas")
    parser.add_argument("--repeat", type=count(), default=5)
    args = parser.parse_args(argv)

    from benchsim.runner import RunConfig, execute_run

    execute_run(RunConfig(algo=args.algo))  # warm: tables opened, modules imported
    walls = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = execute_run(RunConfig(algo=args.algo))
        walls.append(time.perf_counter() - t0)
    evals = sum(row["evaluations"] for row in out.result["tasks"].values())
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "benchsim.cli", "run", "--algo", args.algo, "--no-progress",
             "--out", f"{tmp}/run"],
            check=True, capture_output=True,
        )  # fmt: skip
        fresh = time.perf_counter() - t0

    profile = cProfile.Profile()
    profile.enable()
    execute_run(RunConfig(algo=args.algo))
    profile.disable()
    stats = pstats.Stats(profile)
    by_layer: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_layer[_layer(filename)] += tottime
    total = sum(by_layer.values())

    print(f"{args.algo} default run (NB201 cifar10+cifar100): {evals} evaluations")
    print(f"  warm, median of {args.repeat}: {statistics.median(walls):.3f} s (target < 2 s)")
    print(f"  fresh process incl. imports and writing results: {fresh:.3f} s")
    print(f"  searcher's own time (result.json): {out.result['searcher_seconds']:.3f} s")
    print("  profile, own time by layer:")
    for layer, seconds in sorted(by_layer.items(), key=lambda kv: -kv[1]):
        print(f"    {layer:<22} {seconds:6.3f} s  {100 * seconds / total:5.1f} %")
    print("  top functions by own time:")
    stats.sort_stats("tottime").print_stats(8)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
