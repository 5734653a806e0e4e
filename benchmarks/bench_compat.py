"""Benchmark of the drop-in APIs (benchsim.compat): call cost, the official scripts, REA.

Run ``python benchmarks/bench_compat.py [--runs 500] [--out benchmarks/results/compat.json]``
(tables are installed on first use; set ``BENCHSIM_DATA_MIRROR`` to read the sources offline).
The script runs need xautodl and torchvision installed ``--no-deps`` (docs/compat.md).

What is measured, and how:

- **single calls**: best of 5 ``timeit`` repeats per call, next to a plain
  ``Benchmark.query`` (int arch) and a ``seed="sample"`` query, interleaved; target: a single
  ``get_more_info`` / ``get_single_metric`` within 10x of a plain query.
- **the official scripts**: ``benchsim compat run`` of the unmodified ``regularized_ea.py`` and
  ``random_wo_share.py`` (NATS-Bench CIFAR-10 settings, one run, ``--rand_seed 1``): the wall
  time of the whole process (interpreter, torch and xautodl imports included) and the search
  time the script itself logs (``real-cost``).
- **REA through the drop-in vs benchsim's REA**: ``--runs`` runs of the unmodified
  ``regularized_ea.py`` (its own ``--loops_if_rand``) and as many seeds of benchsim's ``rea``
  under the same protocol (CIFAR-10, 20,000 simulated s, population 10, sample 3, the 12-epoch
  proxy): the CIFAR-10 test accuracy of the architecture each run returns, mean +- std, and
  the evaluations per run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import timeit
import warnings
from pathlib import Path

import numpy as np
from _args import count

ROOT = Path(__file__).resolve().parents[1]
EMULATE = "hp12-proxy,eval-time,no-latency"
REA_ARGS = [
    "--dataset",
    "cifar10",
    "--search_space",
    "tss",
    "--time_budget",
    "20000",
    "--ea_cycles",
    "200",
    "--ea_population",
    "10",
    "--ea_sample_size",
    "3",
]


def per_call_us(function, number: int = 20_000, repeat: int = 5) -> float:
    function()
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1e6


def single_calls() -> dict[str, float]:
    import benchsim
    from benchsim.compat.naslib import get_dataset_api
    from benchsim.compat.nats import create
    from benchsim.compat.tnb101 import TransNASBenchAPI

    warnings.simplefilter("ignore")
    bench = benchsim.benchmark("nb201")
    api = create(None, "tss", True, False, emulate="none")
    emulating = create(None, "tss", True, False, emulate=EMULATE)
    tnb = TransNASBenchAPI()
    micro = benchsim.benchmark("tnb101-micro")
    naslib = get_dataset_api("nasbench201", "cifar10")["nb201_data"]
    arch = bench.space.format(1234)
    calls = {
        "plain query (int arch)": lambda: bench.query(1234, "cifar10", "valid_acc"),
        "query seed='sample'": lambda: bench.query(1234, "cifar10", "valid_acc", seed="sample"),
        "get_more_info hp=200 is_random=False": lambda: api.get_more_info(
            1234, "cifar10-valid", hp="200", is_random=False
        ),
        "get_more_info hp=200 is_random=True": lambda: api.get_more_info(
            1234, "cifar10-valid", hp="200", is_random=True
        ),
        "get_more_info (arch string)": lambda: api.get_more_info(
            arch, "cifar10-valid", hp="200", is_random=False
        ),
        "get_more_info hp=12, emulated": lambda: emulating.get_more_info(
            1234, "cifar10-valid", hp="12"
        ),
        "simulate_train_eval hp=12, emulated": lambda: emulating.simulate_train_eval(
            1234, "cifar10", hp="12"
        ),
        "TNB101 plain query (int arch)": lambda: micro.query(1234, "class_object", "valid_top1"),
        "TNB101 get_single_metric": lambda: tnb.get_single_metric(
            "64-41414-1_02_333", "class_object", "valid_top1"
        ),
        "NASLib nb201 VAL query": lambda: naslib[arch]["cifar10-valid"]["eval_acc1es"][-1],
    }
    return {name: per_call_us(f) for name, f in calls.items()}


def compat_run(script: Path, args: list[str], cwd: Path) -> tuple[float, str]:
    command = [
        sys.executable,
        "-m",
        "benchsim.cli",
        "compat",
        "run",
        str(script),
        "--emulate",
        EMULATE,
        "--",
        *args,
    ]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if done.returncode:
        raise SystemExit(f"{script.name} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, done.stdout + done.stderr


def scripts(work: Path) -> dict[str, dict[str, float]]:
    from benchsim.compat._sources import script_path

    work.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, args in (
        ("regularized_ea", [*REA_ARGS, "--rand_seed", "1"]),
        ("random_wo_share", ["--dataset", "cifar10", "--search_space", "tss", "--rand_seed", "1"]),
    ):
        wall, text = compat_run(script_path(name), [*args, "--save_dir", str(work / name)], work)
        logs = list(work.glob(f"{name}-tss/**/*.log"))
        logged = logs[0].read_text() if logs else text
        search = re.search(r"real-cost=([\d.]+) s", logged)
        visited = re.search(r"(?:history of|visit) (\d+) arch", logged)
        out[name] = {
            "process_wall_s": round(wall, 2),
            "search_s": float(search.group(1)) if search else float("nan"),
            "evaluations": int(visited.group(1)) if visited else -1,
        }
    return out


def rea_comparison(work: Path, runs: int) -> dict[str, object]:
    import pandas as pd
    import torch

    import benchsim
    from benchsim.compat._sources import script_path
    from benchsim.sweep import make_spec, run_sweep

    work.mkdir(parents=True, exist_ok=True)
    wall, _ = compat_run(
        script_path("regularized_ea"),
        [
            *REA_ARGS,
            "--rand_seed",
            "-1",
            "--loops_if_rand",
            str(runs),
            "--save_dir",
            str(work / "rea"),
        ],
        work,
    )
    (saved,) = work.glob("rea-tss/cifar10-T20000/R-EA-SS3/results.pth")
    results = torch.load(saved, weights_only=True)
    bench = benchsim.benchmark("nb201")
    found = np.array([r["all_archs"][-1] for r in results.values()])
    shim = bench.query_many(found, "cifar10", "test_acc").values
    began = time.perf_counter()
    spec = make_spec(
        "rea",
        f"0-{runs - 1}",
        benchmark="nb201",
        tasks="cifar10",
        budget="20000s",
        params=("rea.population_size=10", "rea.sample_size=3"),
    )
    run_sweep(spec, work / "sweep")
    own_wall = time.perf_counter() - began
    table = pd.read_parquet(work / "sweep" / "results" / "_runs.parquet")
    own = bench.query_many(table["arch"].to_numpy(np.int64), "cifar10", "test_acc").values
    diff = float(shim.mean() - own.mean())
    return {
        "runs": runs,
        "drop_in": {
            "mean": float(shim.mean()),
            "std": float(shim.std(ddof=1)),
            "n": int(shim.size),
            "evaluations_median": float(
                np.median([len(r["all_total_times"]) for r in results.values()])
            ),
            "process_wall_s": round(wall, 2),
        },
        "benchsim_rea": {
            "mean": float(own.mean()),
            "std": float(own.std(ddof=1)),
            "n": int(own.size),
            "evaluations_median": float(table["evaluations"].median()),
            "wall_s": round(own_wall, 2),
        },
        "difference": diff,
        "difference_in_std": diff / float(own.std(ddof=1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=count(), default=500, help="REA runs per side")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/compat.json")
    args = parser.parse_args()
    calls = single_calls()
    plain, sample = calls["plain query (int arch)"], calls["query seed='sample'"]
    print("| call | us | x plain query | x seed='sample' query |\n|---|---|---|---|")
    for name, us in calls.items():
        base = calls["TNB101 plain query (int arch)"] if name.startswith("TNB101") else plain
        print(f"| {name} | {us:.2f} | {us / base:.1f} | {us / sample:.1f} |")
    with tempfile.TemporaryDirectory() as tmp:
        runs = scripts(Path(tmp) / "scripts")
        comparison = rea_comparison(Path(tmp) / "rea", args.runs)
    print(json.dumps({"scripts": runs, "rea": comparison}, indent=2))
    args.out.write_text(
        json.dumps({"single_call_us": calls, "scripts": runs, "rea": comparison}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
