"""``benchsim sweep --jobs 2`` against one process doing the same 200 RS/REA runs, before and after.

    python benchmarks/bench_sweep_jobs.py [--baseline c4a903d] [--repeat 3] [--seeds 0-99] \\
        [--dir /dev/shm] [--script] [--json benchmarks/results/sweep_jobs.json]

Each repeat times four fresh ``benchsim sweep --algo rs,rea --seeds 0-99 --no-progress``
processes into new folders (NB201 cifar10 + cifar100, the algorithms' default budgets: 200
runs): ``--jobs 1`` (the runs one after the other in the sweep's own process) and ``--jobs 2``
(a pool of two workers), each with the baseline code and with this checkout, in rotating
order.  Prints min and median wall seconds and the speed-up of two jobs over one (ratio of the
minima), against issue #22's target of at least 1.7x on a 2-core machine; the speed-up cannot
exceed the free cores, so on a shared machine read it beside the load average.  Also the
per-run cost (``--jobs 1`` wall / runs) and whether the two trees' result parts are the same.

What bounds the speed-up: each repeat also times a one-seed sweep (2 runs) in one process.
Its wall minus two runs' cost is the fixed cost of a sweep process (interpreter, imports,
planning, the first run's table reads, exit), which two jobs pay as one does; the rest,
``runs x per-run``, is what two workers can share.  ``bound`` is the speed-up of a pool that
cost nothing: ``T1 / (fixed + (T1 - fixed) / 2)``; ``pool cost`` is what ``--jobs 2`` took
beyond that ideal (starting the fork server and workers, their first runs, handing out runs,
closing the pool).
What the machine allows: each repeat also times the two halves of the seeds as two
independent one-process sweeps started at the same moment (``side by side``: no pool, no
messages, each with its own start-up on its own core), the wall until both have ended.
``side_by_side`` is ``T1`` over that; ``vs_side_by_side`` is how far ``--jobs 2`` is from it
(1.0: the pool costs what splitting the sweep by hand would).
What the cores allow: each repeat also times a pure-Python loop in a fresh process, alone and
as two copies started together.  ``parallel_slowdown`` is the slower copy's time over the lone
one's (on a shared or virtual machine two busy cores each run slower than one); ``bound_cores``
is ``bound`` with the runs' half of the work slowed by that much, the speed-up of a pool that
cost nothing on this machine.
``--script`` starts each sweep as the ``benchsim`` command a user types (a console script
like the one pip writes) instead of ``python -m benchsim.cli``: a pool worker re-creates a
script's ``__main__`` by running it, and a package's ``__main__`` not.
``--dir`` says where the sweeps write: each run creates about six files, and on a file system
where creating files from two processes at once contends (ext4 without a journal, as on the
machine these figures were taken on) that shows in the speed-up.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _args import count
from _baseline import BEFORE, NEUTRAL, baseline_tree, env_for, machine, report_end, stats, timed

CONSOLE_SCRIPT = """import sys
try:
    from benchsim.cli import entry
except ImportError:  # a benchsim whose script called main
    from benchsim.cli import main as entry
if __name__ == "__main__":
    sys.exit(entry())
"""
"""What ``pip install`` writes as the ``benchsim`` command, for whichever tree is imported."""


def sweep(env: dict[str, str], out: Path, seeds: str, jobs: int, program: list[str]) -> float:
    command = [*program, "sweep", "--algo", "rs,rea", "--seeds", seeds, "--jobs", str(jobs),
               "--no-progress", "--out", str(out)]  # fmt: skip
    return timed(command, env)


def side_by_side(
    env: dict[str, str], outs: tuple[Path, Path], seeds: tuple[str, str], program: list[str]
) -> float:
    """Wall seconds until two one-process sweeps, started together, have both ended."""
    commands = [
        [*program, "sweep", "--algo", "rs,rea", "--seeds", half, "--jobs", "1", "--no-progress",
         "--out", str(out)]
        for out, half in zip(outs, seeds, strict=True)
    ]  # fmt: skip
    t0 = time.perf_counter()
    started = [
        subprocess.Popen(command, env=env, cwd=NEUTRAL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
        for command in commands
    ]  # fmt: skip
    for command, process in zip(commands, started, strict=True):
        _, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{err[-2000:]}")
    return time.perf_counter() - t0


CPU_LOOP = """import time
start = time.perf_counter()
total = 0
for i in range(3_000_000):
    total += i * i % 7
print(time.perf_counter() - start)
"""
"""0.1-0.2 s of pure-Python work (on the machines measured) that touches no file and little
memory."""


def cpu_loops(copies: int) -> float:
    """Seconds the slowest of ``copies`` fresh processes, started together, spent in
    :data:`CPU_LOOP` (the loop alone: start-up is not timed)."""
    started = [
        subprocess.Popen([sys.executable, "-c", CPU_LOOP], stdout=subprocess.PIPE, text=True)
        for _ in range(copies)
    ]
    return max(float(process.communicate()[0]) for process in started)


def halves(seeds: tuple[int, ...]) -> tuple[str, str]:
    """The first and second half of ``seeds`` as two ``--seeds`` values."""
    middle = len(seeds) // 2
    return ",".join(map(str, seeds[:middle])), ",".join(map(str, seeds[middle:]))


def same_parts(a: Path, b: Path) -> dict[str, bool]:
    """Whether two sweeps wrote the same result parts (``_runs.parquet`` holds times), byte for
    byte and value for value (the bytes differ where one version writes its text columns
    from dictionary-encoded tables: the same values, in another dictionary page)."""
    import pyarrow.parquet as pq

    parts = sorted(p.relative_to(a) for p in (a / "results").rglob("part-*.parquet"))
    return {
        "bytes": bool(parts) and all((a / p).read_bytes() == (b / p).read_bytes() for p in parts),
        "values": bool(parts)
        and all(pq.read_table(a / p).equals(pq.read_table(b / p)) for p in parts),
    }


def bound(
    one: float, two: float, one_seed: float, runs: int, slowdown: float = 1.0
) -> dict[str, float]:
    """The speed-up, and what bounds it (see the module docstring): ``one`` and ``two`` are the
    sweep's wall with one and two jobs, ``one_seed`` a 2-run sweep's in one process,
    ``slowdown`` how much slower each of two busy cores runs than one alone."""
    per_run = (one - one_seed) / (runs - 2)
    fixed = one_seed - 2 * per_run
    ideal = fixed + (one - fixed) / 2
    return {
        "speedup_jobs2": round(one / two, 3),
        "ms_per_run_jobs1": round(1000 * one / runs, 2),
        "ms_per_run_marginal": round(1000 * per_run, 2),
        "fixed_s": round(fixed, 3),
        "bound": round(one / ideal, 3),
        "bound_cores": round(one / (fixed + (one - fixed) / 2 * slowdown), 3),
        "pool_cost_s": round(two - ideal, 3),
    }


def _folder(text: str) -> Path:
    """``--dir``: an existing folder (argparse prints the refusal in one line)."""
    if not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not an existing folder")
    return Path(text)


def _seeds(text: str) -> str:
    """``--seeds``: a benchsim seed list of at least two seeds (two halves to run side by side;
    argparse prints the refusal in one line)."""
    from benchsim.errors import ConfigError
    from benchsim.sweep import parse_seeds

    try:
        count = len(parse_seeds(text))
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if count < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is one seed; give at least two, e.g. 0-99")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BEFORE, help="git revision or source folder")
    parser.add_argument("--repeat", type=count(), default=3)
    parser.add_argument("--seeds", type=_seeds, default="0-99", help="at least two seeds")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--dir",
        type=_folder,
        default=None,
        help="where the sweeps write (default: the system's temporary folder); /dev/shm, a "
        "RAM disk, takes the disk's file creation out of the figures",
    )
    parser.add_argument(
        "--script",
        action="store_true",
        help="start each sweep as the `benchsim` command a user types (a console script, as "
        "pip writes it) instead of `python -m benchsim.cli`",
    )
    args = parser.parse_args()

    import benchsim
    from benchsim.sweep import parse_seeds

    benchsim.benchmark("nb201")  # installed before anything is timed
    seed_list = parse_seeds(args.seeds)
    runs = 2 * len(seed_list)
    figures: dict[str, object] = {
        "machine_before": machine(),
        "baseline": args.baseline,
        "runs": runs,
    }
    figures["dir"] = str(args.dir or tempfile.gettempdir())
    figures["program"] = "benchsim (console script)" if args.script else "python -m benchsim.cli"
    with baseline_tree(args.baseline) as tree, tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        program = [sys.executable, "-m", "benchsim.cli"]
        if args.script:
            script = Path(tmp) / "benchsim"
            script.write_text(CONSOLE_SCRIPT)
            program = [sys.executable, str(script)]
        envs = {"before": env_for(tree), "after": env_for(None)}
        folders = iter(Path(tmp) / f"s{i}" for i in range(10**6))
        for env in envs.values():  # warm-up: bytecode, OS caches
            sweep(env, next(folders), "0-1", 2, program)
        configs = [(tree, jobs) for tree in envs for jobs in (1, 2)]
        times: dict[str, list[float]] = {f"{t} jobs={j}": [] for t, j in configs}
        times.update({f"{t} one seed": [] for t in envs})
        times["after side by side"] = []
        times["loop alone"], times["loop pair"] = [], []
        last: dict[str, Path] = {}
        for i in range(args.repeat):
            for tree_name, jobs in configs[i % 4 :] + configs[: i % 4]:
                out = next(folders)
                times[f"{tree_name} jobs={jobs}"].append(
                    sweep(envs[tree_name], out, args.seeds, jobs, program)
                )
                last[tree_name] = out
            for tree_name in envs:
                one_seed = sweep(envs[tree_name], next(folders), "0", 1, program)
                times[f"{tree_name} one seed"].append(one_seed)
            pair = (next(folders), next(folders))
            times["after side by side"].append(
                side_by_side(envs["after"], pair, halves(seed_list), program)
            )
            times["loop alone"].append(cpu_loops(1))
            times["loop pair"].append(cpu_loops(2))
        summary = {key: stats(values) for key, values in times.items()}
        slowdown = summary["loop pair"]["min"] / summary["loop alone"]["min"]
        summary["parallel_slowdown"] = round(slowdown, 3)
        for tree_name in envs:
            summary[tree_name] = bound(
                summary[f"{tree_name} jobs=1"]["min"],
                summary[f"{tree_name} jobs=2"]["min"],
                summary[f"{tree_name} one seed"]["min"],
                runs,
                slowdown,
            )
        after, one, two = summary["after"], summary["after jobs=1"], summary["after jobs=2"]
        after["side_by_side"] = round(one["min"] / summary["after side by side"]["min"], 3)
        after["vs_side_by_side"] = round(summary["after side by side"]["min"] / two["min"], 3)
        figures["wall_s"] = summary
        figures["result_parts_identical"] = same_parts(last["before"], last["after"])
    figures["machine_after"] = machine()

    print(f"{figures['program']} sweep --algo rs,rea --seeds {args.seeds}: {runs} runs, "
          f"{args.repeat} repeats")  # fmt: skip
    print(f"{'':<18}{'min s':>8}{'median s':>10}")
    for key in times:
        print(f"{key:<18}{summary[key]['min']:>8.2f}{summary[key]['median']:>10.2f}")
    for tree_name in envs:
        row = summary[tree_name]
        print(f"{tree_name}: jobs 2 speed-up {row['speedup_jobs2']:.2f}x (target >= 1.7x), "
              f"{row['ms_per_run_jobs1']:.1f} ms a run in one process; fixed cost of a sweep "
              f"process {row['fixed_s']:.2f} s, so a pool that cost nothing would give "
              f"{row['bound']:.2f}x; the pool cost {row['pool_cost_s']:.2f} s")  # fmt: skip
    after = summary["after"]
    print(f"after: the two halves as two one-process sweeps side by side give "
          f"{after['side_by_side']:.2f}x; jobs 2 is {after['vs_side_by_side']:.2f}x as fast as "
          "they are")  # fmt: skip
    print(f"two copies of a pure-Python loop at once take {slowdown:.3f}x as long as one: a "
          f"cost-free pool would give {after['bound_cores']:.2f}x on these cores")  # fmt: skip
    same = figures["result_parts_identical"]
    print(f"result parts before/after: byte-identical {same['bytes']}, values {same['values']}")
    report_end(figures, args.json)


if __name__ == "__main__":
    main()
