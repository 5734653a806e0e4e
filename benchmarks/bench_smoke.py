"""`--smoke` on the live backend for every registered algorithm: wall time against 60 s.

The README and `benchsim run --help` promise an install check of under a minute on a CPU.
``--smoke`` must therefore mean "small" for every algorithm, not only for those with
generations: each one runs as a user types it, in a fresh process, and is timed.

    python benchmarks/bench_smoke.py [--device cpu] [--out benchmarks/results/smoke.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchsim.algorithms import available
from benchsim.runner._results import atomic_write_json

TARGET_S = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    rows = {}
    print(f"{'algorithm':<12} {'wall s':>8}  {'evaluations':>11}  verdict")
    for algo in available():
        with tempfile.TemporaryDirectory() as tmp:
            command = [
                sys.executable, "-m", "benchsim.cli", "run", "--algo", algo, "--backend", "gpu",
                "--device", args.device, "--smoke", "--no-progress", "--out", f"{tmp}/run",
            ]  # fmt: skip
            began = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            wall = time.perf_counter() - began
            evaluations = None
            if done.returncode == 0:
                result = json.loads((Path(tmp) / "run" / "result.json").read_text())
                evaluations = sum(t["evaluations"] for t in result["tasks"].values())
        ok = done.returncode == 0 and wall < TARGET_S
        rows[algo] = {"wall_s": round(wall, 2), "exit_code": done.returncode,
                      "evaluations": evaluations, "pass": ok}  # fmt: skip
        print(f"{algo:<12} {wall:8.2f}  {evaluations!s:>11}  {'PASS' if ok else 'MISS'}")
    if args.out is not None:
        atomic_write_json(args.out, {"device": args.device, "target_s": TARGET_S, "runs": rows})
    return 0 if all(r["pass"] for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
