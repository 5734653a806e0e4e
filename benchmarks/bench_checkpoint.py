"""Checkpoint cost of long runs: share of wall time, bytes written, peak memory.

A checkpoint appends the trajectory rows since the last save and rewrites only the small rest
of the state (``benchsim/runner/_checkpoint.py``), so its cost follows what happened since the
last save, not the run's length.  Measured here, each run in a fresh process (for its peak
RSS), saving far more often than the default minute so that the cost is visible:

* random search, 10^6 evaluations on nb201 cifar10, a save every 0.1 s (target: saves under
  5% of the wall time, peak RSS under 1 GB; the run takes about half a second since random
  search is answered in batches, so a save a second, the cadence first measured, would
  never save);
* the default EMT-NAS run (300 generations, 12,598 answers), a save every 0.05 s.

For comparison, the size and time of pickling the whole finished state once (what every save
of the former format cost at the end of the run, growing with it).

    python benchmarks/bench_checkpoint.py [--out benchmarks/results/checkpoint.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from benchsim.runner._results import atomic_write_json

_CHILD = """
import json, pickle, resource, sys, tempfile, time
from benchsim.runner import RunConfig, execute_run
import benchsim.runner.run as run_module
kind, every = sys.argv[1], float(sys.argv[2])
if kind == "rs":
    config = RunConfig(algo="rs", tasks=("cifar10",), budget="1000000", seed=0)
else:
    config = RunConfig(algo="emtnas", seed=0)
captured = {}
original = run_module.summarise
def keep(*args, **kwargs):
    captured["traj"] = args[4]  # summarise(bench, config, protocols, recommendations, traj, ...)
    return original(*args, **kwargs)
run_module.summarise = keep
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    out = execute_run(config, f"{tmp}/run", checkpoint_every=every)
    wall = time.perf_counter() - t0
t0 = time.perf_counter()
blob = pickle.dumps(captured["traj"], protocol=5)
pickled = time.perf_counter() - t0
answers = sum(t["evaluations"] for t in out.result["tasks"].values())
print(json.dumps({"wall_s": wall, "answers": answers, **out.result["checkpoints"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "whole_history_pickle_mb": len(blob) / 2**20,
                  "whole_history_pickle_s": pickled}))
"""


def measure(kind: str, every: float) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(every)], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["share_of_wall"] = figures["seconds"] / figures["wall_s"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = {
        "rs, 10^6 evaluations, a save every 0.1 s": measure("rs", 0.1),
        "emtnas default, a save every 0.05 s": measure("emtnas", 0.05),
    }
    for name, f in rows.items():
        print(
            f"{name}: {f['answers']:,} answers in {f['wall_s']:.1f} s; {f['saves']} saves took "
            f"{f['seconds']:.2f} s = {100 * f['share_of_wall']:.2f}% of the wall time, "
            f"{f['bytes'] / 2**20:.1f} MB written; peak RSS {f['peak_rss_mb']:.0f} MB; the "
            f"whole history pickled once: {f['whole_history_pickle_mb']:.1f} MB in "
            f"{f['whole_history_pickle_s']:.2f} s"
        )
    ok = rows["rs, 10^6 evaluations, a save every 0.1 s"]
    verdict = ok["share_of_wall"] < 0.05 and ok["peak_rss_mb"] < 1024
    print(f"targets (rs): saves < 5% of wall, peak RSS < 1 GB: {'PASS' if verdict else 'MISS'}")
    if args.out is not None:
        atomic_write_json(args.out, rows)
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
