"""The main job as a whole process, before and after: ``benchsim run --algo emtnas``.

    python benchmarks/bench_startup.py [--baseline c4a903d] [--repeat 9] \\
        [--json benchmarks/results/startup.json]

Times, in rotating order within each repeat, ``python -c 'import numpy'``, the main job
(``benchsim run --algo emtnas --backend table``, NB201 cifar10 + cifar100, 300 generations)
with the baseline code and with this checkout: fresh processes, each writing a new run folder
(tables installed beforehand; bytecode cached, see ``_baseline.py``).  Prints min and median
wall seconds and each minimum as a multiple of ``import numpy``'s, against the targets of
issue #22: under 0.7 s and at most 8x ``import numpy`` (the ratio is what carries over between
machines).  Then, from one more run of each with ``python -X importtime``, the import seconds
per package (self time of its modules: scipy, pandas, networkx, pyarrow, ...; inflated by
the measurement itself), and whether the two runs agree: result.json (timings aside) and how
many trajectory values differ.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from _args import count
from _baseline import BEFORE, NEUTRAL, baseline_tree, env_for, machine, report_end, stats, timed

MAIN = ["-m", "benchsim.cli", "run", "--algo", "emtnas", "--backend", "table", "--no-progress"]
HEAVY = ("numpy", "pyarrow", "scipy", "pandas", "networkx", "click", "rich", "benchsim")


def run_main(env: dict[str, str], out: Path) -> float:
    return timed([sys.executable, *MAIN, "--out", str(out)], env)


def import_seconds(env: dict[str, str], out: Path) -> dict[str, float]:
    """Import seconds per top-level package: the self time of each of its modules (so a
    package's figure excludes what it imports from others), the heavy ones and the total."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *MAIN, "--out", str(out)],
        env=env,
        cwd=NEUTRAL,
        capture_output=True,
        text=True,
        check=True,
    )
    found = {"total": 0.0}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \| +(\S+)", line)
        if not match:
            continue
        seconds, top = int(match.group(1)) / 1e6, match.group(2).split(".")[0]
        found["total"] += seconds
        if top in HEAVY:
            found[top] = found.get(top, 0.0) + seconds
    return {k: round(v, 4) for k, v in sorted(found.items())}


def compare_runs(before: Path, after: Path) -> dict[str, object]:
    """Do the two runs agree?  result.json minus its timings; trajectory values."""
    drop = ("wall_seconds", "searcher_seconds", "checkpoints")
    results = [json.loads((p / "result.json").read_text()) for p in (before, after)]
    for result in results:
        for key in drop:
            result.pop(key, None)
    a, b = (pq.read_table(p / "trajectory.parquet") for p in (before, after))
    columns = {}
    for name in a.column_names:
        x = a.column(name).to_numpy(zero_copy_only=False)
        y = b.column(name).to_numpy(zero_copy_only=False)
        same = (x == y) | (np.isnan(x) & np.isnan(y)) if x.dtype.kind == "f" else x == y
        differ = ~same
        if differ.any():
            columns[name] = {
                "rows": int(differ.sum()),
                "max_abs": float(np.max(np.abs(x[differ] - y[differ])))
                if x.dtype.kind == "f"
                else None,
            }
    return {
        "result_json_equal": results[0] == results[1],
        "trajectory_rows": a.num_rows,
        "trajectory_bytes_equal": (before / "trajectory.parquet").read_bytes()
        == (after / "trajectory.parquet").read_bytes(),
        "differing_columns": columns,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BEFORE, help="git revision or source folder")
    parser.add_argument("--repeat", type=count(), default=9)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    import benchsim

    benchsim.benchmark("nb201")  # installed before anything is timed
    figures: dict[str, object] = {"machine_before": machine(), "baseline": args.baseline}
    with baseline_tree(args.baseline) as tree, tempfile.TemporaryDirectory() as tmp:
        envs = {"before": env_for(tree), "after": env_for(None)}
        folders = iter(Path(tmp) / f"r{i}" for i in range(10**6))
        for env in envs.values():  # warm-up: writes each tree's bytecode, fills OS caches
            run_main(env, next(folders))
        times: dict[str, list[float]] = {"import numpy": [], "before": [], "after": []}
        for i in range(args.repeat):
            order = ["import numpy", "before", "after"]
            for key in order[i % 3 :] + order[: i % 3]:
                if key == "import numpy":
                    times[key].append(timed([sys.executable, "-c", "import numpy"], envs["after"]))
                else:
                    times[key].append(run_main(envs[key], next(folders)))
        summary = {key: stats(values) for key, values in times.items()}
        numpy_min = summary["import numpy"]["min"]
        for key in ("before", "after"):
            summary[key]["x_import_numpy"] = round(summary[key]["min"] / numpy_min, 2)
        figures["wall_s"] = summary
        runs = {key: next(folders) for key in envs}
        figures["import_s"] = {key: import_seconds(envs[key], runs[key]) for key in envs}
        figures["agreement"] = compare_runs(runs["before"], runs["after"])
    figures["machine_after"] = machine()

    print(f"main job: benchsim run --algo emtnas --backend table ({args.repeat} repeats)")
    print(f"{'':<14}{'min s':>8}{'median s':>10}{'x numpy':>9}")
    for key, row in summary.items():
        ratio = row.get("x_import_numpy", 1.0)
        print(f"{key:<14}{row['min']:>8.3f}{row['median']:>10.3f}{ratio:>9.2f}")
    after = summary["after"]
    print(
        f"targets: < 0.7 s: {'PASS' if after['min'] < 0.7 else 'MISS'}; <= 8x import numpy: "
        f"{'PASS' if after['x_import_numpy'] <= 8 else 'MISS'}; speed-up "
        f"{summary['before']['min'] / after['min']:.2f}x"
    )
    print("import seconds by package (-X importtime, one run each):")
    for key, row in figures["import_s"].items():
        print(f"  {key:<7} " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()))
    print(f"agreement: {json.dumps(figures['agreement'])}")
    report_end(figures, args.json)


if __name__ == "__main__":
    main()
