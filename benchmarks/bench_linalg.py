"""What CPU-independent products cost: whole default runs of the algorithms that use them.

benchsim's algorithms compute their matrix products with ``benchsim._linalg`` (einsum, no
BLAS) so that a seeded run gives the same trajectory on every CPU.  This times the default
table run of each such algorithm in a warm process, with the products through BLAS (``@``, the code
before) and through ``_linalg``, interleaved, min of ``--repeats``.

    python benchmarks/bench_linalg.py --before /path/to/checkout-before [--repeats 3]

``--before`` is a checkout of benchsim from before the change (its ``benchsim`` package is
imported in a subprocess via PYTHONPATH).  Writes benchmarks/results/linalg.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALGOS = ("xfernas", "ktnas", "ppo", "catch")
_TIMED_RUN = """
import sys, tempfile, time
from benchsim.runner import RunConfig, execute_run
algo = sys.argv[1]
config = RunConfig(algo=algo, benchmark="tnb101-micro" if algo == "catch" else "nb201")
execute_run(config, checkpoint_every=None)  # warm: tables opened, modules imported
t0 = time.perf_counter()
execute_run(config, checkpoint_every=None)
print(time.perf_counter() - t0)
"""


def _time(tree: Path, algo: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _TIMED_RUN, algo], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{algo} failed under {tree}: {done.stderr.strip().splitlines()[-1]}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for algo in ALGOS:
        before, after = [], []
        for _ in range(args.repeats):
            before.append(_time(args.before, algo))
            after.append(_time(ROOT, algo))
        rows.append(
            {
                "algo": algo,
                "before_s": round(min(before), 3),
                "after_s": round(min(after), 3),
                "ratio": round(min(after) / min(before), 3),
            }
        )
        print(f"{algo:10s} BLAS {min(before):7.3f} s   _linalg {min(after):7.3f} s")
    out = ROOT / "benchmarks" / "results" / "linalg.json"
    out.write_text(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "repeats": args.repeats,
                "runs": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
