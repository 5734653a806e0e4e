"""Concurrent installs into one empty ``$BENCHSIM_HOME``: does every process succeed?

Each trial makes a fresh, empty ``BENCHSIM_HOME`` and starts two ``benchsim`` processes at
once that both need the same table, reading the sources from the offline mirror
(``BENCHSIM_DATA_MIRROR``, default ``../shared/data/upstream``).  The trials rotate over the
three ways this happens: two ``benchsim data install``, two ``benchsim query`` (first use
installs), and one of each.  A trial passes when both processes exit 0, neither prints an
error, and ``benchsim data verify`` then finds the table complete and unmodified.

Before the install lock (``benchsim/store/_lock.py``), 6 of 50 trials failed (this script on
the commit before it, nb201): both processes exited 1 with a ``FileNotFoundError`` naming
``meta.json`` or a table file, and nothing was installed.  With it: the committed
``benchmarks/results/concurrent_install.json``.

    python benchmarks/concurrent_install.py [--trials 50] [--benchmark nb201]
        [--out benchmarks/results/concurrent_install.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = (("install", "install"), ("query", "query"), ("query", "install"))
TASK = {"nb201": "cifar10", "tnb101-micro": "class_object", "tnb101-macro": "class_object"}


def _command(kind: str, benchmark: str) -> list[str]:
    cli = [sys.executable, "-m", "benchsim.cli"]
    if kind == "install":
        return [*cli, "data", "install", benchmark]
    return [*cli, "query", "--benchmark", benchmark, "--task", TASK[benchmark], "0"]


def trial(benchmark: str, mode: tuple[str, str], env: dict[str, str]) -> dict:
    """One pair of processes racing into the empty home ``env["BENCHSIM_HOME"]``."""
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            _command(kind, benchmark),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind in mode
    ]
    outs = [proc.communicate() for proc in procs]
    wall = time.perf_counter() - t0
    codes = [proc.returncode for proc in procs]
    errors = [line for _, err in outs for line in err.splitlines() if line.startswith("Error")]
    waited = sum("waiting for another process" in err for _, err in outs)
    verify = subprocess.run(
        [sys.executable, "-m", "benchsim.cli", "data", "verify", benchmark],
        env=env,
        capture_output=True,
        text=True,
    )
    ok = codes == [0, 0] and not errors and verify.returncode == 0
    return {
        "mode": "+".join(mode),
        "ok": ok,
        "exit_codes": codes,
        "errors": errors,
        "waited": waited,
        "verified": verify.returncode == 0,
        "wall_s": round(wall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--benchmark", default="nb201", choices=sorted(TASK))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    mirror = os.environ.get("BENCHSIM_DATA_MIRROR") or str(ROOT.parent / "shared/data/upstream")
    scratch = Path(tempfile.mkdtemp(prefix="benchsim-race-"))
    results = []
    try:
        for i in range(args.trials):
            home = scratch / f"home{i}"
            home.mkdir()
            env = {**os.environ, "BENCHSIM_HOME": str(home), "BENCHSIM_DATA_MIRROR": mirror}
            env.pop("BENCHSIM_DEBUG", None)
            results.append(trial(args.benchmark, MODES[i % len(MODES)], env))
            row = results[-1]
            print(
                f"trial {i + 1:3d} {row['mode']:<15} {'ok' if row['ok'] else 'FAILED'} "
                f"exit {row['exit_codes']} waited {row['waited']} {row['wall_s']:.1f} s "
                + " | ".join(row["errors"]),
                flush=True,
            )
            shutil.rmtree(home, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    failed = [r for r in results if not r["ok"]]
    summary = {
        "benchmark": args.benchmark,
        "trials": len(results),
        "failed": len(failed),
        "trials_where_one_process_waited": sum(r["waited"] > 0 for r in results),
        "modes": {
            m: sum(r["mode"] == m for r in results) for m in sorted({r["mode"] for r in results})
        },
        "wall_s_median": sorted(r["wall_s"] for r in results)[len(results) // 2],
        "failures": failed,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}))
    if args.out is not None:
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
