"""Benchmark of ``benchsim sweep``: a 100-seed x 4-algorithm NB201 table sweep with two jobs.

Run ``python benchmarks/bench_sweep.py`` (tables are installed on first use; set
``BENCHSIM_DATA_MIRROR`` to read the sources from an offline mirror).  Prints:

- **sweep**: total wall time, runs/s, and where the time went: the sum over runs of the wall
  time inside the workers (``execute_run`` itself, then writing the run's result parts), of
  which the algorithms' own ask/tell time (``searcher_seconds`` of result.json), against
  ``jobs x sweep wall``.  The difference is the sweep's own overhead: process start-up,
  planning, the parent's bookkeeping and ``_runs.parquet``.
- **worker start-up**: the wall time of starting the local pool's workers as a sweep does (forked
  from a fork server that imports benchsim once; spawned where there is none) up to their
  first answer, measured on its own (it is paid once per sweep, not per run).
- **cProfile** of one run of each algorithm (in this process, after a warm-up run): the share of
  time per package (benchsim.algorithms, benchsim.runner, benchsim.backends, numpy, pyarrow,
  ...), and the top functions.
- **ray** (if Ray is installed): the same sweep with fewer seeds on a local Ray instance, and
  whether every trajectory file is byte-identical to the local pool's.

Algorithms use their defaults (the papers' budgets: 12000 simulated seconds per task for RS and
REA, 300 generations for EMT-NAS and KTNAS) unless ``--budget`` is given.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _args import count

TASKS = ("cifar10", "cifar100")


def _noop() -> int:
    return 0


def worker_startup(jobs: int) -> float:
    """Seconds to start a pool of ``jobs`` workers that have imported benchsim, as a sweep's."""
    from benchsim._forkserver import worker_context
    from benchsim.sweep._worker import init_worker

    t0 = time.perf_counter()
    with ProcessPoolExecutor(jobs, mp_context=worker_context(), initializer=init_worker) as p:
        for future in [p.submit(_noop) for _ in range(jobs)]:
            future.result()
    return time.perf_counter() - t0


def sweep_figures(out: Path, summary, jobs: int) -> dict:
    """Totals over the runs this invocation did (from the records and result.json files)."""
    records = [r for r in summary.records if r.status == "ok"]
    in_worker = sum(r.wall_seconds for r in records)
    run = sum(r.timings.get("run", 0.0) for r in records)
    store = sum(r.timings.get("store", 0.0) for r in records)
    searcher = 0.0
    per_algo: dict[str, list[float]] = {}
    for path in (out / "runs").glob("*/*/seed=*/result.json"):
        result = json.loads(path.read_text())
        searcher += result["searcher_seconds"]
        per_algo.setdefault(result["algo"], []).append(result["wall_seconds"])
    wall = summary.wall_seconds
    return {
        "runs": len(records),
        "failed": summary.failed,
        "wall_s": wall,
        "runs_per_s": len(records) / wall,
        "sum_worker_s": in_worker,
        "sum_execute_run_s": run,
        "sum_store_s": store,
        "sum_searcher_s": searcher,
        "busy_fraction": in_worker / (jobs * wall),
        "overhead_s": wall - in_worker / jobs,
        "median_run_s": {a: statistics.median(v) for a, v in sorted(per_algo.items())},
    }


def _cumulative(stats: pstats.Stats, file_suffix: str, name: str) -> float:
    """Cumulative seconds of the profiled functions ``name`` in files ending in ``file_suffix``."""
    return sum(
        value[3]
        for (filename, _, func), value in stats.stats.items()  # type: ignore[attr-defined]
        if func == name and filename.endswith(file_suffix)
    )


def profile_run(algo: str, budget: str | None) -> dict:
    """cProfile of one run of ``algo`` (after a warm-up): where its wall time goes.

    ``algorithm`` = every ``ask`` of benchsim.algorithms plus ``Searcher.tell`` (which calls the
    algorithm's ``_tell``); ``backend`` = the table lookups and emulated jobs (``JobExecutor``);
    ``event loop`` = the rest of the loop's ``step``; ``results`` = building the trajectory table
    and the summary; ``file I/O`` = writing config.json, trajectory.parquet and result.json (and
    reading the package versions they record); ``set-up`` = the rest (opening the table,
    building the searchers).
    """
    from benchsim.runner import RunConfig, execute_run

    with tempfile.TemporaryDirectory() as tmp:
        execute_run(RunConfig(algo=algo, tasks=TASKS, seed=12345, budget=budget), Path(tmp) / "w")
        profiler = cProfile.Profile()
        profiler.enable()
        t0 = time.perf_counter()
        execute_run(RunConfig(algo=algo, tasks=TASKS, seed=1, budget=budget), Path(tmp) / "r")
        total = time.perf_counter() - t0
        profiler.disable()
    stats = pstats.Stats(profiler)
    algorithm = _cumulative(stats, "algorithms/_base.py", "tell") + sum(
        value[3]
        for (filename, _, func), value in stats.stats.items()  # type: ignore[attr-defined]
        if func == "ask" and "benchsim/algorithms/" in filename
    )
    backend = _cumulative(stats, "runner/_execute.py", "__call__")
    loop = _cumulative(stats, "runner/_search.py", "step")
    results = _cumulative(stats, "runner/_summary.py", "trajectory_table") + _cumulative(
        stats, "runner/_summary.py", "summarise"
    )
    io = sum(
        _cumulative(stats, "runner/_results.py", name)
        for name in ("prepare_out_dir", "atomic_write_json", "write_trajectory", "package_versions")
    )
    profiled = _cumulative(stats, "runner/run.py", "execute_run")
    parts = {
        "algorithm": algorithm,
        "backend": backend,
        "event loop": loop - algorithm - backend,
        "results": results,
        "file I/O": io,
        "set-up": profiled - loop - results - io,
    }
    return {
        "wall_s": total,
        "profiled_s": profiled,
        "share": {k: v / profiled for k, v in parts.items()},
    }


def _report(figures: dict) -> str:
    sweep, jobs = figures["sweep"], figures["jobs"]
    lines = [
        f"sweep: {sweep['runs']} runs ({figures['algos']} x seeds {figures['seeds']}, NB201 "
        f"{'+'.join(TASKS)}) in {sweep['wall_s']:.1f} s with {jobs} jobs = "
        f"{sweep['runs_per_s']:.2f} runs/s; {sweep['failed']} failed",
        f"  inside the workers: {sweep['sum_worker_s']:.1f} s = {sweep['busy_fraction']:.1%} of "
        f"{jobs} x wall (execute_run {sweep['sum_execute_run_s']:.1f} s, of which the "
        f"algorithms' ask/tell {sweep['sum_searcher_s']:.1f} s; result parts "
        f"{sweep['sum_store_s']:.1f} s)",
        f"  sweep overhead (wall - worker time / jobs): {sweep['overhead_s']:.1f} s",
        f"  worker start-up, measured alone ({jobs} workers with benchsim imported): "
        f"{figures['worker_startup_s']:.2f} s, once per worker",
        "  median execute_run wall per run: "
        + ", ".join(f"{a} {v:.2f} s" for a, v in sweep["median_run_s"].items()),
        "profile of one run each (cProfile, in-process; shares of execute_run):",
    ]
    for algo, prof in figures["profile"].items():
        shares = ", ".join(f"{k} {v:.0%}" for k, v in prof["share"].items())
        lines.append(f"  {algo:<7} {prof['wall_s']:.2f} s (profiled): {shares}")
    ray = figures.get("ray")
    if isinstance(ray, dict):
        compared = ray["identical_trajectories"] + ray["different_trajectories"]
        lines.append(
            f"ray (local instance, {jobs} CPUs): {ray['runs']} runs in {ray['wall_s']:.1f} s "
            "(including Ray start-up); trajectories byte-identical to the local pool's: "
            f"{ray['identical_trajectories']}/{compared}"
        )
    elif ray:
        lines.append(f"ray: {ray}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-99")
    parser.add_argument("--algos", default="rs,rea,emtnas,ktnas")
    parser.add_argument("--jobs", type=count(), default=2)
    parser.add_argument("--budget", default=None)
    parser.add_argument("--ray-seeds", default="0-9", help="'' skips the Ray comparison")
    parser.add_argument("--out", type=Path, default=None, help="keep the sweeps here")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    from benchsim.algorithms import available
    from benchsim.sweep import make_spec, run_dir, run_sweep

    algos = ",".join(a for a in args.algos.split(",") if a in available())
    root = args.out or Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    figures: dict = {"algos": algos, "seeds": args.seeds, "jobs": args.jobs}

    figures["worker_startup_s"] = worker_startup(args.jobs)
    spec = make_spec(algos, args.seeds, tasks=",".join(TASKS), budget=args.budget)
    local = root / "local"
    summary = run_sweep(spec, local, jobs=args.jobs, progress=True)
    print(summary.line())
    figures["sweep"] = sweep_figures(local, summary, args.jobs)
    figures["profile"] = {a: profile_run(a, args.budget) for a in algos.split(",")}

    if args.ray_seeds:
        try:
            import ray  # noqa: F401
        except ImportError:
            figures["ray"] = "not installed"
        else:
            ray_spec = make_spec(algos, args.ray_seeds, tasks=",".join(TASKS), budget=args.budget)
            ray_summary = run_sweep(ray_spec, root / "ray", jobs=args.jobs, executor="ray")
            same = differ = 0
            for algo, seed in ray_spec.runs():
                a = run_dir(local, algo, TASKS, seed) / "trajectory.parquet"
                b = run_dir(root / "ray", algo, TASKS, seed) / "trajectory.parquet"
                if a.read_bytes() == b.read_bytes():
                    same += 1
                else:
                    differ += 1
            figures["ray"] = {
                "runs": ray_summary.finished,
                "wall_s": ray_summary.wall_seconds,
                "identical_trajectories": same,
                "different_trajectories": differ,
            }
    print(_report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
