"""Long searches against their numpy limit: REA of 10^4 and random search of 10^6 evaluations.

    git worktree add /tmp/base c4a903d   # once: the code before issue #22's loop work
    python benchmarks/bench_search.py --base /tmp/base [--repeat 5]

Targets (issue #22): REA, 10,000 evaluations in-process, at most 5x a minimal numpy REA loop
doing the same search; random search, 10^6 evaluations, at most 3 us per evaluation, with a
peak RSS growth of at most 2x what the trajectory holds.

Every measurement runs in a fresh subprocess whose ``PYTHONPATH`` selects the code: this tree
(``new``) or ``--base`` (``base``: a checkout of older code, with tables of its own in
``--base-home``, default ``$BENCHSIM_HOME-base``: a benchsim rebuilds tables another version
wrote; both are installed before anything is timed).  The two are interleaved (new, base,
new, base, ...) so that a busy machine slows both alike, and min and median over
``--repeat`` processes are reported, of wall time and of the process's CPU time (less
sensitive to other work on the machine).  Cases, all NB201 cifar10, seed 0:

* ``rea``: ``execute_run`` of REA (population 10, tournaments of 3), 10,000 evaluations, the
  protocol's seed set to the seed mean (``protocol={"seed": None}``, so that the numpy loop can
  read the same numbers from one array), no output folder; after a warm-up run, best of 3
  in-process.  ``rea_fixed`` is the same with 10 evaluations: the per-run fixed cost.
  ``rea_default`` uses the default protocol (a recorded training seed drawn per evaluation).
* ``rea_numpy``: the limit, a minimal numpy REA loop: the same generator (spawned as
  ``execute_run`` spawns it), a deque population, ``rng.choice`` tournaments, mutation through
  a precomputed neighbour table, values read from a numpy array.  It must evaluate the very
  architectures ``rea`` evaluates (checked: ``rea_same_archs_as_numpy``), so both do the
  same work: ``rng.choice`` alone is most of its time, as it is of REA's ask.
* ``rs``: ``execute_run`` of random search, 10^6 evaluations, default protocol, writing its
  output folder (what ``benchsim run`` does); wall time per evaluation and the growth of
  peak RSS over the process's RSS before the run (after a 1,000-evaluation warm-up).  What
  the trajectory holds is given two ways: the in-memory trajectory per row (traced
  allocations of ``Trajectory.add`` over 200,000 evaluations) and the Arrow table the run
  returns (``RunOutput.trajectory.nbytes``) per row.
* ``rs_numpy``: vectorised numpy random search (the same draws, values and costs gathered
  from arrays, the best by ``argmax``), for scale.
* ``pandas``: whether pandas is imported by an RS run that writes its folder, checkpoints
  and is resumed (pyarrow imports it lazily from some calls).

Results go to ``benchmarks/results/search.json`` (``--out``) with machine information; the
console shows the before/after table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _args import count

HERE = Path(__file__).resolve().parents[1]
REA_EVALS = 10_000
RS_EVALS = 1_000_000
TRACE_ROWS = 200_000


# ---------------------------------------------------------------------------------- workers
def _rea_config(evals: int, protocol: dict | None = None):
    from benchsim.runner import RunConfig

    return RunConfig(
        algo="rea",
        tasks=("cifar10",),
        budget=str(evals),
        seed=0,
        params={"population_size": 10, "sample_size": 3},
        protocol={"seed": None} if protocol is None else protocol,
    )


def _arch_digest(archs) -> str:
    import hashlib

    import numpy as np

    return hashlib.sha256(np.asarray(archs, dtype=np.int64).tobytes()).hexdigest()[:16]


def worker_rea(evals: int, protocol: dict | None, inner: int) -> dict:
    from benchsim.runner import execute_run

    execute_run(_rea_config(100, protocol), checkpoint_every=None)  # warm: imports, tables
    walls, cpus = [], []
    for _ in range(inner):
        t0, c0 = time.perf_counter(), time.process_time()
        out = execute_run(_rea_config(evals, protocol), checkpoint_every=None)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    archs = _arch_digest(out.trajectory.column("arch").to_numpy())
    return {"wall_s": min(walls), "cpu_s": min(cpus), "evals": evals, "archs": archs}


def numpy_rea(values, table, rng, evals: int, population_size: int = 10, sample_size: int = 3):
    """Minimal REA: what benchsim's REA computes, with nothing else (returns archs, values)."""
    from collections import deque

    import numpy as np

    size, width = table.shape
    archs = np.empty(evals, dtype=np.int64)
    found = np.empty(evals, dtype=np.float64)
    population: deque = deque()
    for step in range(evals):
        if step < population_size:
            arch = int(rng.integers(size))
        else:
            members = list(population)
            best = None
            for pick in rng.choice(len(members), size=sample_size, replace=False).tolist():
                if best is None or members[pick][1] > best[1]:
                    best = members[pick]
            arch = table.item(best[0], int(rng.integers(width)))
        value = values.item(arch)
        archs[step], found[step] = arch, value
        population.append((arch, value))
        if len(population) > population_size:
            population.popleft()
    return archs, found


def _search_generator(seed: int = 0):
    """The generator ``execute_run`` gives the first search (``spawn_generators(seed, 66)[2]``)."""
    import numpy as np

    return np.random.default_rng(np.random.SeedSequence(seed).spawn(66)[2])


def worker_rea_numpy(evals: int, inner: int) -> dict:
    import numpy as np

    import benchsim

    bench = benchsim.benchmark("nb201")
    space = bench.space
    values = np.asarray(bench.query_many(space.enumerate(), "cifar10", "valid_acc").values)
    table = np.stack([space.neighbours(i) for i in range(space.size)])  # precomputed
    walls, cpus = [], []
    for _ in range(inner):
        rng = _search_generator()
        t0, c0 = time.perf_counter(), time.process_time()
        archs, _ = numpy_rea(values, table, rng, evals)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return {"wall_s": min(walls), "cpu_s": min(cpus), "evals": evals, "archs": _arch_digest(archs)}


def _rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _traced_row_bytes(rows: int) -> float:
    """Bytes per row the in-memory trajectory allocates (tracemalloc over ``Trajectory.add``)."""
    import tracemalloc

    import numpy as np

    from benchsim.algorithms._base import Evaluate, Outcome

    try:
        from benchsim.runner._trajectory import Trajectory
    except ModuleNotFoundError:  # older code (the baseline): it lived beside the search loop
        from benchsim.runner._search import Trajectory

    jobs = [Evaluate(task="cifar10", arch=i % 15625) for i in range(1000)]
    outcomes = [
        Outcome(values=np.array([0.5 + i]), cost=1.0, source="standalone") for i in range(1000)
    ]
    traj = Trajectory()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(rows):
        traj.add(0, jobs[i % 1000], outcomes[i % 1000], 0, float(i), float(i + 1))
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return held / rows


def worker_rs(evals: int) -> dict:
    import gc
    import resource
    import tempfile

    from benchsim.runner import RunConfig, execute_run

    def config(n: int) -> RunConfig:
        return RunConfig(algo="rs", tasks=("cifar10",), budget=str(n), seed=0)

    with tempfile.TemporaryDirectory() as tmp:
        execute_run(config(1000), f"{tmp}/warm")
        gc.collect()
        base = _rss_bytes()
        t0, c0 = time.perf_counter(), time.process_time()
        out = execute_run(config(evals), f"{tmp}/run")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        table_bytes = out.trajectory.nbytes
        archs = _arch_digest(out.trajectory.column("arch").to_numpy())
    del out
    gc.collect()
    return {
        "wall_s": wall,
        "evals": evals,
        "us_per_eval": 1e6 * wall / evals,
        "cpu_us_per_eval": 1e6 * cpu / evals,
        "rss_before_mb": base / 2**20,
        "peak_rss_mb": peak / 2**20,
        "rss_growth_per_eval_b": (peak - base) / evals,
        "table_bytes_per_row": table_bytes / evals,
        "trajectory_bytes_per_row": _traced_row_bytes(TRACE_ROWS),
        "archs": archs,
    }


def worker_rs_numpy(evals: int) -> dict:
    import numpy as np

    import benchsim

    bench = benchsim.benchmark("nb201")
    everything = bench.space.enumerate()
    values = np.asarray(bench.query_many(everything, "cifar10", "valid_acc").values)
    costs = np.asarray(bench.query_many(everything, "cifar10", "train_time_s").values)
    rng = _search_generator()
    t0 = time.perf_counter()
    archs = rng.integers(bench.space.size, size=evals)
    found, spent = values[archs], costs[archs]
    end_time = np.cumsum(spent)
    best = int(np.argmax(found))
    wall = time.perf_counter() - t0
    assert end_time[-1] > 0 and best >= 0
    return {"wall_s": wall, "evals": evals, "us_per_eval": 1e6 * wall / evals,
            "archs": _arch_digest(archs)}  # fmt: skip


def worker_pandas() -> dict:
    import tempfile

    from benchsim.runner import RunConfig, execute_run

    config = RunConfig(algo="rs", tasks=("cifar10",), budget="3000", seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            execute_run(config, f"{tmp}/run", checkpoint_every=0.0, stop_after=1000)
        except Exception as err:  # RunInterrupted: stopped after 1000 results, as asked
            assert type(err).__name__ == "RunInterrupted", err
        execute_run(config, f"{tmp}/run", resume=True)
    return {"pandas_imported": "pandas" in sys.modules}


def _worker(case: str, args: argparse.Namespace) -> dict:
    if case == "rea":
        return worker_rea(args.rea_evals, None, 3)
    if case == "rea_fixed":
        return worker_rea(10, None, 3)
    if case == "rea_default":
        return worker_rea(args.rea_evals, {}, 3)
    if case == "rea_numpy":
        return worker_rea_numpy(args.rea_evals, 3)
    if case == "rs":
        return worker_rs(args.rs_evals)
    if case == "rs_numpy":
        return worker_rs_numpy(args.rs_evals)
    if case == "pandas":
        return worker_pandas()
    raise SystemExit(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------- driver
def _env(tree: Path, home: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    if home is not None:
        env["BENCHSIM_HOME"] = home
    return env


def run_case(case: str, tree: Path, home: str | None, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--worker", case,
               "--rea-evals", str(args.rea_evals), "--rs-evals", str(args.rs_evals)]  # fmt: skip
    done = subprocess.run(command, env=_env(tree, home), capture_output=True, text=True, cwd=tree)
    if done.returncode != 0:
        raise SystemExit(f"{case} in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    out: dict = {"runs": runs}
    for key in runs[0]:
        numbers = [r[key] for r in runs if isinstance(r[key], (int, float))]
        if numbers and not isinstance(runs[0][key], bool):
            out[f"{key}_min"] = min(numbers)
            out[f"{key}_median"] = statistics.median(numbers)
    return out


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import pyarrow

    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
    }


def _commit(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "benchsim"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return done.stdout.strip() + ("+changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=None, help="checkout of the older code")
    parser.add_argument(
        "--base-home",
        default=None,
        help="BENCHSIM_HOME of the older code (default: $BENCHSIM_HOME-base): benchsim rebuilds "
        "tables another version wrote, so the two must not share them",
    )
    parser.add_argument("--repeat", type=count(), default=5)
    parser.add_argument("--rea-evals", type=count(), default=REA_EVALS)
    parser.add_argument("--rs-evals", type=count(), default=RS_EVALS)
    parser.add_argument("--cases", default="rea,rea_fixed,rea_default,rea_numpy,rs,rs_numpy,pandas")
    parser.add_argument("--out", type=Path, default=HERE / "benchmarks/results/search.json")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args)))
        return 0

    trees = {"new": HERE}
    homes: dict[str, str | None] = {"new": None}
    if args.base is not None:
        trees["base"] = args.base.resolve()
        home = os.environ.get("BENCHSIM_HOME") or str(Path.home() / ".cache" / "benchsim")
        homes["base"] = args.base_home or f"{home.rstrip('/')}-base"
    for name, tree in trees.items():  # install (or check) the tables before timing anything
        subprocess.run([sys.executable, "-c", "import benchsim; benchsim.benchmark('nb201')"],
                       env=_env(tree, homes[name]), check=True, cwd=tree)  # fmt: skip
    limit_only = {"rea_numpy", "rs_numpy"}  # the references: run with this tree's benchsim
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    runs: dict[str, dict[str, list[dict]]] = {c: {} for c in cases}
    started = machine()
    t0 = time.time()
    for _ in range(args.repeat):
        for case in cases:
            for name, tree in trees.items():
                if case in limit_only and name != "new":
                    continue
                if case == "pandas" and runs[case].get(name):
                    continue  # a yes/no answer: once is enough
                runs[case].setdefault(name, []).append(run_case(case, tree, homes[name], args))
    results = {case: {name: _summary(r) for name, r in per.items()} for case, per in runs.items()}
    report = {
        "about": __doc__.splitlines()[0],
        "command": " ".join(["python", "benchmarks/bench_search.py", *(argv or sys.argv[1:])]),
        "trees": {
            name: {"path": str(tree), "commit": _commit(tree), "benchsim_home": homes[name]}
            for name, tree in trees.items()
        },
        "machine": {**started, "load_average_end": os.getloadavg()},
        "seconds": round(time.time() - t0, 1),
        "results": results,
        "targets": targets(results),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(render(report))
    return 0


def targets(results: dict) -> dict:
    """The issue's targets, from the min over repeats, for each tree measured."""
    out: dict = {}
    numpy_loop = results.get("rea_numpy", {}).get("new", {})
    limit = numpy_loop.get("wall_s_min")
    for name, rea in results.get("rea", {}).items():
        if limit:
            out.setdefault(name, {})["rea_over_numpy"] = rea["wall_s_min"] / limit
            out[name]["rea_over_numpy_cpu"] = rea["cpu_s_min"] / numpy_loop["cpu_s_min"]
            same = {r["archs"] for r in rea["runs"]} | {
                r["archs"] for r in results["rea_numpy"]["new"]["runs"]
            }
            out[name]["rea_same_archs_as_numpy"] = len(same) == 1
    for name, rs in results.get("rs", {}).items():
        row = out.setdefault(name, {})
        row["rs_us_per_eval"] = rs["us_per_eval_min"]
        growth = rs["rss_growth_per_eval_b_min"]
        row["rs_rss_growth_per_eval_b"] = growth
        row["rs_growth_over_trajectory"] = growth / rs["trajectory_bytes_per_row_min"]
        row["rs_growth_over_table"] = growth / rs["table_bytes_per_row_min"]
        row["rs_growth_over_88b"] = growth / 88
    return out


def render(report: dict) -> str:
    res, names = report["results"], list(report["trees"])
    lines = [f"| measure | {' | '.join(names)} | target |", "|---|" + "---|" * (len(names) + 1)]

    def cell(case: str, name: str, key: str, fmt: str) -> str:
        value = res.get(case, {}).get(name, {}).get(key)
        return "-" if value is None else format(value, fmt)

    rows = [
        ("REA 10k in-process, s (min)", "rea", "wall_s_min", ".3f", ""),
        ("REA 10k in-process, s (median)", "rea", "wall_s_median", ".3f", ""),
        ("REA 10k in-process, CPU s (min)", "rea", "cpu_s_min", ".3f", ""),
        ("REA 10 evaluations (fixed cost), s", "rea_fixed", "wall_s_min", ".4f", ""),
        ("REA 10k, default protocol, s", "rea_default", "wall_s_min", ".3f", ""),
        ("RS 1e6, us/eval (min)", "rs", "us_per_eval_min", ".2f", "<= 3"),
        ("RS 1e6, us/eval (median)", "rs", "us_per_eval_median", ".2f", ""),
        ("RS 1e6, CPU us/eval (min)", "rs", "cpu_us_per_eval_min", ".2f", ""),
        ("RS 1e6, peak RSS growth, B/eval", "rs", "rss_growth_per_eval_b_min", ".0f", ""),
        ("RS in-memory trajectory, B/row", "rs", "trajectory_bytes_per_row_min", ".1f", ""),
        ("RS returned Arrow table, B/row", "rs", "table_bytes_per_row_min", ".1f", ""),
        ("RS 1e6 peak RSS, MB", "rs", "peak_rss_mb_min", ".0f", ""),
    ]
    for label, case, key, fmt, goal in rows:
        lines.append(f"| {label} | {' | '.join(cell(case, n, key, fmt) for n in names)} | {goal} |")
    tgt = report["targets"]
    for label, key, fmt, goal in [
        ("REA 10k / numpy REA loop", "rea_over_numpy", ".2f", "<= 5"),
        ("REA 10k / numpy REA loop, CPU time", "rea_over_numpy_cpu", ".2f", ""),
        ("RSS growth / in-memory trajectory", "rs_growth_over_trajectory", ".2f", "<= 2"),
        ("RSS growth / 88 B (the issue's trajectory)", "rs_growth_over_88b", ".2f", "<= 2"),
        ("RSS growth / returned table", "rs_growth_over_table", ".2f", ""),
    ]:
        vals = [tgt.get(n, {}).get(key) for n in names]
        shown = ["-" if v is None else format(v, fmt) for v in vals]
        lines.append(f"| {label} | {' | '.join(shown)} | {goal} |")
    extra = []
    if "rea_numpy" in res:
        extra.append(f"numpy REA loop, 10k: {res['rea_numpy']['new']['wall_s_min']:.4f} s (min)")
    if "rs_numpy" in res:
        extra.append(
            f"vectorised numpy RS: {res['rs_numpy']['new']['us_per_eval_min']:.3f} us/eval"
        )
    if "pandas" in res:
        extra.append(
            "pandas imported by an RS run + checkpoint + resume: "
            + ", ".join(
                f"{n}: {res['pandas'][n]['runs'][0]['pandas_imported']}" for n in res["pandas"]
            )
        )
    return "\n".join([*lines, "", *extra])


if __name__ == "__main__":
    raise SystemExit(main())
