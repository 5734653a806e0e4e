"""LD-NAS on a table target against random search at equal queries (and equal simulated time).

LD-NAS (``--algo ld-nas``, defaults as documented in docs/ldnas.md) runs on the target task of
a table benchmark with a distance file per ``--distances`` (a table holds no images, so the
file is an input: benchmarks/inputs/ holds hand-written ones, labelled as such).  Its FUSE jobs
are answered by the table's weight-sharing emulation; the reported test metric is the
recorded stand-alone test value of the architecture it returns.  Random search gets, per seed:

* ``rs (= target queries)``: as many evaluations as LD-NAS asked about the target (FUSE
  answers, one per candidate and alpha step, each a supernet estimate);
* ``rs (= all queries)``: that plus LD-NAS's baseline evaluations (random search on the
  baselines to find their best architectures, Sec. 3 of the paper);
* ``rs (= simulated time)``: LD-NAS's simulated GPU-seconds, baselines included.

``ld-nas (FUSE on stand-alone values)`` runs the same searches with
``--backend-option weight_sharing=standalone-upper-bound``: FUSE's answers are the recorded
stand-alone values, an upper bound no real supernet reaches, which separates what the
algorithm does from what the supernet's ranking costs it.

Also reported per distance file: the closest baseline, the size of the reduced space and the
best recorded test value in it (what FUSE could at most find), and the table optimum.

    python benchmarks/compare_ldnas.py --seeds 30 \\
        --distances benchmarks/inputs/ldnas_nb201_closest_cifar100.json \\
        --distances benchmarks/inputs/ldnas_nb201_closest_imagenet16.json \\
        --json benchmarks/results/compare_ldnas_nb201.json \\
        --markdown benchmarks/results/compare_ldnas_nb201.md
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

UPPER = "standalone-upper-bound"
METHODS = ("ld-nas", "ld-nas (FUSE on stand-alone values)", "rs (= target queries)",
           "rs (= all queries)", "rs (= simulated time)")  # fmt: skip


def _ldnas(benchmark: str, target: str, seed: int, distances: str, options=None) -> dict:
    from benchsim.distances import read_distances
    from benchsim.runner import RunConfig, execute_run

    config = RunConfig(algo="ld-nas", benchmark=benchmark, tasks=(target,), seed=seed,
                       params={"distances": distances},
                       backend_options=options or {})  # fmt: skip
    out = execute_run(config)
    frame = out.trajectory.to_pandas()
    baselines = [t for t in read_distances(distances).tasks if t != target]
    closest = read_distances(distances).closest(target, baselines)
    rows = frame[(frame.kind == "evaluate") & (frame.task == closest)]
    best = int(rows.arch.iloc[int(np.argmax(rows.value.to_numpy()))])
    row = out.result["tasks"][target]
    return {
        "seed": seed,
        "test": row["test_metric"],
        "arch": row["arch"],
        "target_queries": row["evaluations"],
        "baseline_queries": out.result["source_tasks"]["evaluations"],
        "simulated_seconds": out.result["simulated_seconds"],
        "closest": closest,
        "baseline_best": best,
        "sources": sorted(set(frame[frame.task == target].source) - {""}),
    }


def _rs(benchmark: str, target: str, seed: int, budget: str) -> float:
    from benchsim.runner import RunConfig, execute_run

    out = execute_run(RunConfig(algo="rs", benchmark=benchmark, tasks=(target,), seed=seed,
                                budget=budget))  # fmt: skip
    return out.result["tasks"][target]["test_metric"]


def _space_stats(benchmark: str, target: str, best: int) -> tuple[int, float]:
    """Size of the reduced space of ``best`` and the best recorded test value in it."""
    import benchsim
    from benchsim.algorithms.ldnas import reduced_space

    bench = benchsim.benchmark(benchmark)
    members = reduced_space(bench.space, best)
    metric = bench.task_info(target).test_metric
    values = bench.query_many(members, target, metric).values
    return int(members.size), float(np.nanmax(values))


def _stat(values: list[float]) -> dict:
    a = np.asarray(values, dtype=np.float64)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
            "n": int(a.size)}  # fmt: skip


def run_all(args: argparse.Namespace) -> dict:
    from benchsim.report import table_optimum

    out: dict = {"benchmark": args.benchmark, "target": args.target, "seeds": args.seeds,
                 "files": {}}  # fmt: skip
    for path in args.distances:
        began = time.perf_counter()
        runs = [_ldnas(args.benchmark, args.target, s, path) for s in range(args.seeds)]
        upper = [
            _ldnas(args.benchmark, args.target, s, path, {"weight_sharing": UPPER})["test"]
            for s in range(args.seeds)
        ]
        rs = {"rs (= target queries)": [], "rs (= all queries)": [], "rs (= simulated time)": []}
        for r in runs:
            s, q, b = r["seed"], r["target_queries"], r["baseline_queries"]
            rs["rs (= target queries)"].append(_rs(args.benchmark, args.target, s, str(q)))
            rs["rs (= all queries)"].append(_rs(args.benchmark, args.target, s, str(q + b)))
            seconds = f"{r['simulated_seconds']:.0f}s"
            rs["rs (= simulated time)"].append(_rs(args.benchmark, args.target, s, seconds))
        spaces = [_space_stats(args.benchmark, args.target, r["baseline_best"]) for r in runs]
        out["files"][path] = {
            "about": json.loads(Path(path).read_text()).get("settings", {}).get("about", ""),
            "closest": sorted({r["closest"] for r in runs}),
            "ld-nas": _stat([r["test"] for r in runs]),
            "ld-nas (FUSE on stand-alone values)": _stat(upper),
            **{k: _stat(v) for k, v in rs.items()},
            "target_queries": _stat([r["target_queries"] for r in runs]),
            "baseline_queries": _stat([r["baseline_queries"] for r in runs]),
            "simulated_gpu_hours": _stat([r["simulated_seconds"] / 3600 for r in runs]),
            "reduced_space_size": _stat([n for n, _ in spaces]),
            "reduced_space_best_test": _stat([v for _, v in spaces]),
            "fuse_answer_sources": sorted({s for r in runs for s in r["sources"]}),
            "per_seed": runs,
            "wall_seconds": round(time.perf_counter() - began, 1),
        }
    optimum, _ = table_optimum(args.benchmark, (args.target,))
    out["table_optimum_test"] = float(optimum[args.target])
    return out


def markdown(data: dict) -> str:
    lines = [
        f"# LD-NAS vs random search, {data['benchmark']} {data['target']} "
        f"({data['seeds']} seeds, test metric mean ± std)",
        "",
        f"Table optimum: {data['table_optimum_test']:.2f}.",
        "",
    ]
    for path, d in data["files"].items():
        lines += [
            f"## distances: `{path}`",
            "",
            f"{d['about']}",
            "",
            f"Closest baseline: {', '.join(d['closest'])}; reduced space "
            f"{d['reduced_space_size']['mean']:.0f} ± {d['reduced_space_size']['std']:.0f} "
            f"architectures, best recorded test value in it "
            f"{d['reduced_space_best_test']['mean']:.2f} ± "
            f"{d['reduced_space_best_test']['std']:.2f}"
            f"; LD-NAS queries: {d['target_queries']['mean']:.0f} ± "
            f"{d['target_queries']['std']:.0f} on the target (supernet estimates) + "
            f"{d['baseline_queries']['mean']:.0f} on the baselines; simulated GPU-hours "
            f"{d['simulated_gpu_hours']['mean']:.2f}; FUSE answers: "
            f"{', '.join(d['fuse_answer_sources'])}.",
            "",
            "| method | test metric |",
            "|---|---|",
        ]
        for key in METHODS:
            lines.append(f"| {key} | {d[key]['mean']:.2f} ± {d[key]['std']:.2f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="nb201")
    parser.add_argument("--target", default="cifar10")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--distances", action="append", required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    data = run_all(args)
    text = markdown(data)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(data, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
