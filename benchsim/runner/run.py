"""Run one search end to end: resolve the config, drive the searcher(s), write the results.

``execute_run`` is what ``benchsim run`` calls.  The algorithm is built from the registry and
never sees the backend; the backend is built from the registry and never sees the algorithm.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from benchsim._checks import check_int
from benchsim.algorithms._base import Problem, Searcher, TaskSpec, algorithm_class, create
from benchsim.backends.base import Benchmark
from benchsim.catalog import DEFAULT_TASKS
from benchsim.errors import BenchsimWarning, ConfigError, EmptyResultError, RunInterrupted
from benchsim.runner._budget import Budget, parse_budget
from benchsim.runner._checkpoint import Checkpointer, discard_uncommitted, has_checkpoint
from benchsim.runner._checkpoint import load as load_saved
from benchsim.runner._config import RunConfig, load_config_file, merge_config
from benchsim.runner._execute import JobExecutor, Protocol
from benchsim.runner._results import (
    atomic_write_json,
    json_default,
    package_versions,
    prepare_out_dir,
    write_trajectory,
)
from benchsim.runner._search import (
    TRAINING_KINDS,
    SearchLoop,
    SearchStats,
    Trajectory,
    spawn_generators,
)
from benchsim.runner._signals import StopSignals, signal_name


@dataclass
class RunOutput:
    """What a run produced (also written to disk when an output folder is given)."""

    result: dict[str, Any]
    config: dict[str, Any]
    trajectory: Any  # pyarrow.Table


ProgressHook = Callable[[int, float], None]


def _open_benchmark(config: RunConfig, seed: int) -> Benchmark:
    from benchsim.backends import benchmark, live_options

    options = live_options(config.backend, config.tasks, config.backend_options)
    return benchmark(config.benchmark, backend=config.backend, seed=seed, **options)


def resolve_tasks(bench: Benchmark, tasks: tuple[str, ...] | None) -> tuple[str, ...]:
    """Canonical task names; default per benchmark (NB201: cifar10 + cifar100)."""
    if tasks is None:
        if not bench.traits.tabular:  # a live backend answers for the datasets it was opened with
            return bench.tasks
        tasks = DEFAULT_TASKS.get(bench.space.name, bench.tasks[:2])
    return tuple(bench.resolve_task(t) for t in tasks)


def _protocols(bench: Benchmark, tasks: tuple[str, ...], override: dict) -> dict[str, Protocol]:
    out = {}
    for task in tasks:
        base = bench.evaluation_protocol(task)
        merged = {**base, **override}
        if override:
            merged["note"] = f"{base.get('note', '')} (overridden: {sorted(override)})"
        scale = merged.get("cost_scale", 1.0)
        if not isinstance(scale, (int, float)) or not scale > 0:
            raise ConfigError(f"protocol cost_scale == {scale!r}, must be a number > 0")
        schedule = merged.get("schedule")
        check_int("protocol schedule", schedule, 1, allow_none=True)
        out[task] = Protocol(
            metric=bench.task_info(task).search_metric,
            seed=merged.get("seed"),
            cost_scale=float(scale),
            note=str(merged.get("note", "")),
            schedule=schedule,
            source=str(merged.get("source", "standalone")),
        )
    return out


def _spec(bench: Benchmark, task: str) -> TaskSpec:
    info = bench.task_info(task)
    return TaskSpec(name=info.name, metric=info.search_metric, epochs=info.epochs)


@dataclass
class _RunState:
    """All a checkpoint holds: a resumed run then ends exactly as an uninterrupted one."""

    config: RunConfig
    tasks: tuple[str, ...]
    budget_text: str | None
    searchers: list[tuple[Searcher, Problem]]
    gen_jobs: np.random.Generator
    search_seeds: list[np.random.Generator]
    backend_seed: int
    search_index: int = 0
    loop: SearchLoop | None = None
    traj: Trajectory = field(default_factory=Trajectory)
    stats: list[SearchStats] = field(default_factory=list)
    recommendations: dict[str, tuple[int, float] | None] = field(default_factory=dict)
    bench_state: Any = None
    wall_before: float = 0.0


def execute_run(
    config: RunConfig,
    out: str | Path | None = None,
    *,
    progress: ProgressHook | None = None,
    bench: Benchmark | None = None,
    checkpoint_every: float | None = 60.0,
    resume: bool = False,
    stop_after: int | None = None,
) -> RunOutput:
    """Run ``config``; write ``config.json``, ``trajectory.parquet``, ``result.json`` to ``out``.

    Raises :class:`~benchsim.errors.BenchsimError` subclasses for bad input before any work is
    done (unknown algorithm/task/hyperparameter, impossible budget, non-empty ``out``).  With an
    ``out`` folder the run checkpoints there every ``checkpoint_every`` wall seconds, on a live
    backend also whenever the searcher's :meth:`~benchsim.algorithms.Searcher.milestone`
    advances (each EMT-NAS generation), and on Ctrl-C, SIGTERM or SIGHUP (then raising
    :class:`RunInterrupted`, whose ``exit_code`` is 130, 143 or 129); the signal handlers are
    installed for the duration of the call only (:mod:`._signals`).  ``resume=True`` continues
    from that checkpoint, after checking every file of it against its recorded SHA-256 (a
    damaged or edited one raises :class:`~benchsim.errors.CheckpointError` before anything is
    written).  ``stop_after`` (testing aid) interrupts after that many results, as Ctrl-C
    would.
    """
    with StopSignals() as stop:
        return _execute(
            config, out, stop, progress=progress, bench=bench,
            checkpoint_every=checkpoint_every, resume=resume, stop_after=stop_after,
        )  # fmt: skip


def _execute(
    config: RunConfig,
    out: str | Path | None,
    interrupt: StopSignals,
    *,
    progress: ProgressHook | None,
    bench: Benchmark | None,
    checkpoint_every: float | None,
    resume: bool,
    stop_after: int | None,
) -> RunOutput:
    """:func:`execute_run` with its stop signals already caught (a first one before the loop
    stops the run after its first result)."""
    wall0 = time.perf_counter()
    checkpointer: Checkpointer | None = None
    if resume:
        if out is None:
            raise ConfigError("resume needs the run's output folder")
        out_dir: Path | None = Path(out)
        restart = _restart_config(out_dir)
        if restart is not None:  # stopped before its first checkpoint: start it again
            discard_uncommitted(out_dir)  # what a first save killed before its manifest left
            (out_dir / "config.json").unlink()
            return _execute(
                restart, out_dir, interrupt, progress=progress, bench=bench,
                checkpoint_every=checkpoint_every, resume=False, stop_after=stop_after,
            )  # fmt: skip
        state, checkpointer = _load(out_dir)
        config = state.config
        if bench is None:
            bench = _open_benchmark(config, state.backend_seed)
        if state.bench_state is not None:
            bench.load_state_dict(state.bench_state)
    else:
        config.validate()
        algorithm_class(config.algo)
        out_dir = prepare_out_dir(out, create=False) if out is not None else None
        gen_backend, gen_jobs, *gen_search = spawn_generators(config.seed, 2 + 64)
        backend_seed = int(gen_backend.integers(2**31))
        if bench is None:
            bench = _open_benchmark(config, backend_seed)
        state = _new_state(config, bench, gen_jobs, gen_search, backend_seed)
        if out_dir is not None:  # every input checked: only now leave a folder behind
            prepare_out_dir(out_dir)
            checkpointer = Checkpointer(out_dir)
    cls = algorithm_class(config.algo)
    tasks = state.tasks
    budget = parse_budget(state.budget_text)
    protocols = _protocols(bench, tasks, dict(config.protocol))
    # Problem.source_tasks promises answers on every other task too (XferNAS asks them).
    every_task = _protocols(bench, bench.tasks, dict(config.protocol))
    execute = JobExecutor(bench, every_task, state.gen_jobs)
    resolved = _resolved_config(
        config, cls, state.searchers, tasks, state.budget_text, budget, protocols
    )
    resolved["versions"] = package_versions()
    resolved["data"] = bench.provenance()
    resolved["answers"] = bench.answer_notes()
    if out_dir is not None and not resume:
        atomic_write_json(out_dir / "config.json", resolved)
    if out_dir is not None and resume:
        _check_saved_config(out_dir, resolved)

    last_save = time.perf_counter()
    answered = 0
    live = not bench.traits.tabular  # a generation costs real minutes: save at each one
    while state.search_index < len(state.searchers):
        searcher, problem = state.searchers[state.search_index]
        if state.loop is None:
            searcher.setup(problem, state.search_seeds[state.search_index])
            scale = len(tasks) if cls.multi_task else 1
            own = frozenset(t.name for t in problem.tasks)  # source tasks: not budgeted
            state.loop = SearchLoop(budget.scaled(scale), config.workers, state.search_index, own)
        milestone = searcher.milestone()
        while state.loop.step(searcher, execute, state.traj, progress):
            answered += 1
            asked = stop_after is not None and answered >= stop_after
            stop = interrupt.signum is not None or asked
            if checkpointer is not None:  # (a run without a folder reads no clock here)
                now = time.perf_counter()
                due = checkpoint_every is not None and now - last_save >= checkpoint_every
                if live:
                    reached = searcher.milestone()
                    due, milestone = due or reached != milestone, reached
                if stop or due:
                    _save_checkpoint(checkpointer, state, bench, wall0)
                    last_save = time.perf_counter()
            if stop:
                raise _interrupted(interrupt, len(state.traj), out_dir)
        state.stats.append(state.loop.stats)
        for spec in problem.tasks:
            state.recommendations[spec.name] = searcher.recommend(spec.name)
        state.search_index += 1
        state.loop = None

    owner = {t.name: i for i, (_, problem) in enumerate(state.searchers) for t in problem.tasks}
    result = _summarise(
        bench, config, protocols, state.recommendations, state.traj, state.stats, owner
    )
    result["answers"] = bench.answer_notes()
    table = _trajectory(bench, state.traj)
    result["wall_seconds"] = round(state.wall_before + time.perf_counter() - wall0, 6)
    if checkpointer is not None:
        saves = checkpointer.stats
        result["checkpoints"] = {
            "saves": saves.count,
            "seconds": round(saves.seconds, 6),
            "bytes": saves.bytes,
        }
    if out_dir is not None:
        if resume:
            atomic_write_json(out_dir / "config.json", resolved)
        write_trajectory(out_dir / "trajectory.parquet", table)
        atomic_write_json(out_dir / "result.json", result)
        if checkpointer is not None:
            checkpointer.remove()
    output = RunOutput(result=result, config=resolved, trajectory=table)
    empty = [task for task, row in result["tasks"].items() if row["arch"] is None]
    if empty:
        where = f"; its files are in {out_dir}" if out_dir is not None else ""
        raise EmptyResultError(
            f"the run returned no architecture for {', '.join(empty)}: its budget "
            f"({state.budget_text or 'the algorithm default'}) ended before any full evaluation "
            f"there{where}; give a larger --budget",
            output,
        )
    return output


def _interrupted(interrupt: StopSignals, results: int, out_dir: Path | None) -> RunInterrupted:
    """The error a stopped run raises: which signal (or ``stop_after``), and how to go on."""
    by = f" by {signal_name(interrupt.signum)}" if interrupt.signum is not None else ""
    where = (
        f"resume with: benchsim run --resume {out_dir}"
        if out_dir is not None
        else "no --out folder, so nothing was saved"
    )
    return RunInterrupted(
        f"run interrupted{by} after {results} results; {where}",
        interrupt.signum if interrupt.signum is not None else 2,
    )


def _new_state(
    config: RunConfig,
    bench: Benchmark,
    gen_jobs: np.random.Generator,
    gen_search: list[np.random.Generator],
    backend_seed: int,
) -> _RunState:
    cls = algorithm_class(config.algo)
    tasks = resolve_tasks(bench, config.tasks)
    budget_text = (
        config.budget if config.budget is not None else cls.default_budget(bench.space.name)
    )
    check_budget_scale(
        bench, tasks, parse_budget(budget_text), dict(config.protocol), cls.multi_task
    )
    check_workers(config.workers, bench)
    for message in bench.check_run(tasks):  # e.g. an unreachable ws_tau: refused before output
        warnings.warn(message, BenchsimWarning, stacklevel=3)
    return _RunState(
        config=config,
        tasks=tasks,
        budget_text=budget_text,
        searchers=_build_searchers(cls, config, bench, tasks),
        gen_jobs=gen_jobs,
        search_seeds=gen_search,
        backend_seed=backend_seed,
    )


REPEATS_ALLOWED = 100
"""A budget may ask for at most this many evaluations of every architecture of the space."""


def check_budget_scale(
    bench: Benchmark,
    tasks: tuple[str, ...],
    budget: Budget,
    override: dict,
    weight_sharing: bool = False,
) -> None:
    """Refuse, before any work, a budget that cannot buy one answer or that no search can use.

    Too small: a simulated-time budget below the cheapest answer the table can give on a task
    (the fastest architecture's evaluation under the protocol; for a ``weight_sharing``
    search, whose first job is a training pass, one epoch of it) would end the search with
    nothing evaluated.  Too large: more than
    :data:`REPEATS_ALLOWED` evaluations of every architecture, in evaluations or in the
    simulated time they cost, is unbounded work (memory and checkpoints grow with it) that
    no search of a finite space needs.  Time bounds need recorded costs, so they are checked
    on a table only.
    """
    size = bench.space.size
    limit = REPEATS_ALLOWED * size
    if budget.evaluations is not None and budget.evaluations > limit:
        raise ConfigError(
            f"budget of {budget.evaluations:,} evaluations per task is more than {REPEATS_ALLOWED} "
            f"evaluations of each of the {size:,} architectures of {bench.space.name}; allowed: "
            f"at most {limit:,}"
        )
    if budget.seconds is None or not bench.traits.tabular:
        return
    protocols = _protocols(bench, tasks, override)
    archs = np.arange(size)
    for task in tasks:
        info = bench.task_info(task)
        times = np.asarray(bench.query_many(archs, task, "train_time_s").values, dtype=np.float64)
        times = times[np.isfinite(times)]
        if times.size == 0:
            continue
        evaluation = times * protocols[task].cost_scale
        first = "training epoch" if weight_sharing else "evaluation"
        cheapest = float(times.min() / info.epochs if weight_sharing else evaluation.min())
        if budget.seconds < cheapest:
            raise ConfigError(
                f"budget of {budget.seconds:g} simulated seconds per task cannot buy one answer "
                f"on {task}: the fastest architecture's {first} costs {cheapest:.1f} s; give "
                f"at least {math.ceil(cheapest)}s"
            )
        everything = float(evaluation.sum()) * REPEATS_ALLOWED
        if budget.seconds > everything:
            raise ConfigError(
                f"budget of {budget.seconds:g} simulated seconds per task is more than "
                f"{REPEATS_ALLOWED} evaluations of every architecture of {task} would cost; "
                f"allowed: at most {everything:.3g}s"
            )


def check_workers(workers: int, bench: Benchmark) -> None:
    """Refuse more workers than the space has architectures: they could never all be busy
    with different ones, and each is a slot of the event loop held from the start (a worker
    count in the millions would hold the run silently before its first answer)."""
    size = bench.space.size
    check_int("workers", workers, 1, high=size, why=f"the architectures of {bench.space.name}")


def _save_checkpoint(
    checkpointer: Checkpointer, state: _RunState, bench: Benchmark, wall0: float
) -> None:
    state.bench_state = bench.state_dict()
    wall_before = state.wall_before
    state.wall_before = wall_before + time.perf_counter() - wall0
    try:
        checkpointer.save(state)
    finally:
        state.wall_before = wall_before


def _load(out_dir: Path) -> tuple[_RunState, Checkpointer]:
    if (out_dir / "result.json").is_file():
        raise ConfigError(f"run in {str(out_dir)!r} already finished (result.json exists)")
    if not has_checkpoint(out_dir):
        raise ConfigError(
            f"nothing to resume in {str(out_dir)!r}: no checkpoint and no config.json of a run"
        )
    state, checkpointer = load_saved(out_dir)
    if not isinstance(state, _RunState):
        raise ConfigError(f"checkpoint in {str(out_dir)!r} is not a benchsim run checkpoint")
    return state, checkpointer


def load_checkpoint(out_dir: Path) -> _RunState:
    """The state saved in ``out_dir``; a clear error when there is none or it is unreadable."""
    return _load(Path(out_dir))[0]


def _restart_config(out_dir: Path) -> RunConfig | None:
    """The config of a run that stopped before its first checkpoint (config.json only)."""
    if has_checkpoint(out_dir) or (out_dir / "result.json").is_file():
        return None
    path = out_dir / "config.json"
    if not path.is_file():
        return None
    return merge_config(load_config_file(path), {})


def _check_saved_config(out_dir: Path, resolved: dict[str, Any]) -> None:
    """Refuse to resume when config.json no longer says what the checkpoint runs (a hand
    edit would otherwise be silently overwritten and ignored)."""
    path = out_dir / "config.json"
    if not path.is_file():
        return
    saved = load_config_file(path)
    for key in (f.name for f in fields(RunConfig)):
        if _plain(saved.get(key)) != _plain(resolved.get(key)):
            raise ConfigError(
                f"{path} was edited: {key} is {saved.get(key)!r}, the checkpoint runs "
                f"{resolved.get(key)!r}; a resumed run keeps its checkpoint's config: restore "
                "config.json, or start a new run with the new settings"
            )


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=json_default))


def _build_searchers(
    cls: type[Searcher], config: RunConfig, bench: Benchmark, tasks: tuple[str, ...]
) -> list[tuple[Searcher, Problem]]:
    family = bench.space.name
    specs = tuple(_spec(bench, t) for t in tasks)
    kinds = bench.capabilities()
    if cls.multi_task:
        others = tuple(_spec(bench, t) for t in bench.tasks if t not in tasks)
        problem = Problem(bench.space, specs, family, others, kinds)
        searcher = create(config.algo, family, config.params)
        searcher.check_problem(problem)
        return [(searcher, problem)]
    out = []
    for spec in specs:
        others = tuple(_spec(bench, t) for t in bench.tasks if t != spec.name)
        out.append(
            (
                create(config.algo, family, config.params),
                Problem(bench.space, (spec,), family, others, kinds),
            )
        )
    for searcher, problem in out:
        searcher.check_problem(problem)
    return out


NOT_ANSWERS = (*TRAINING_KINDS, "task_distance")
"""Trajectory kinds that answer no architecture (not counted as evaluations)."""


def _summarise(
    bench: Benchmark,
    config: RunConfig,
    protocols: dict[str, Protocol],
    recommendations: dict[str, tuple[int, float] | None],
    traj: Trajectory,
    stats: list[SearchStats],
    owner: dict[str, int],
) -> dict[str, Any]:
    """result.json's content; the test metric is read under the task's evaluation protocol
    (its schedule: on the live backend, the same standalone training an evaluation got).

    ``owner`` maps each task to the search that searched it: a task's evaluations are those
    of its own search (another search may have asked about it as a source task)."""
    tasks = tuple(protocols)
    searches = traj.numbers("search")
    counts = {
        task: int(
            np.count_nonzero(
                traj.rows(lambda t, kind, _, task=task: t == task and kind not in NOT_ANSWERS)
                & (searches == owner.get(task, -1))
            )
        )
        for task in tasks
    }
    per_task: dict[str, Any] = {}
    for task in tasks:
        rec = recommendations.get(task)
        info = bench.task_info(task)
        if rec is None:
            per_task[task] = {
                "arch": None,
                "arch_str": None,
                "search_metric": None,
                "test_metric": None,
                "evaluations": counts[task],
            }
            continue
        arch, value = rec
        test = bench.query(arch, task, info.test_metric, schedule=protocols[task].schedule).value
        source = _source_of(traj, task, int(arch), float(value))
        per_task[task] = {
            "arch": int(arch),
            "arch_str": bench.space.format(int(arch)),
            "search_metric": float(value),
            "search_metric_name": search_metric_label(info.search_metric, source),
            "search_metric_source": source,
            **({} if _standalone(source) else {"search_metric_estimates": info.search_metric}),
            "test_metric": float(test),
            "test_metric_name": info.test_metric,
            "test_metric_on": _cross_task(bench, int(arch), task),
            "evaluations": counts[task],
        }
    return {
        "algo": config.algo,
        "backend": config.backend,
        "benchmark": config.benchmark,
        "seed": config.seed,
        "tasks": per_task,
        "simulated_seconds": float(sum(s.simulated_seconds for s in stats)),
        "source_tasks": {
            "evaluations": int(sum(s.source_evaluations for s in stats)),
            "simulated_seconds": float(sum(s.source_seconds for s in stats)),
        },
        "searcher_seconds": round(sum(s.searcher_seconds for s in stats), 6),
        "wall_seconds": None,
    }


def _standalone(source: str | None) -> bool:
    """Whether a search value labelled ``source`` is the stand-alone metric itself (a
    lookup, a stand-alone training, or the upper bound that answers stand-alone values)."""
    return not source or "standalone" in source


def search_metric_label(metric: str, source: str | None) -> str:
    """What a run's search value is, by the trajectory label of where it came from: the
    stand-alone ``metric`` itself, or a supernet's estimate of it (recorded, modelled, partly
    trained or live), or a mini-batch fitness built from such estimates (a search stopped
    before any whole-split evaluation).  Never the bare metric name for an estimate."""
    if _standalone(source):
        return metric
    if source.startswith("fitness:"):
        return f"mini-batch fitness from supernet estimates of {metric}"
    return f"supernet estimate of {metric}"


def _cross_task(bench: Benchmark, arch: int, searched: str) -> dict[str, dict[str, Any]]:
    """The found architecture's recorded test metric on every other task of a table benchmark
    (how the NAS-Bench-201 paper reports one CIFAR-10 search on three datasets); ``{}`` on a
    live backend, where it would mean training the architecture on each task."""
    if not bench.traits.tabular:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for task in bench.tasks:
        if task == searched:
            continue
        metric = bench.task_info(task).test_metric
        value = float(bench.query_many(np.asarray([arch]), task, metric).values[0])
        out[task] = {"name": metric, "value": None if value != value else value}
    return out


def _source_of(traj: Trajectory, task: str, arch: int, value: float) -> str | None:
    """Where the recommended architecture's search value came from (the trajectory's label:
    stand-alone training, a recorded or a modelled supernet estimate, ...).

    A search cut short before any full evaluation recommends by its mini-batch fitness:
    ``"fitness:<label>"`` then.
    """
    labels, codes = traj.labels, traj.numbers("label")
    here = traj.numbers("arch") == arch
    full = traj.rows(lambda t, kind, _: t == task and kind in ("evaluate", "full_eval"))
    rows = np.flatnonzero(full & here & (traj.numbers("value") == value))
    if rows.size:
        return labels[codes[rows[-1]]][2]
    rows = np.flatnonzero(traj.rows(lambda t, kind, _: t == task and kind == "sampled_eval") & here)
    return f"fitness:{labels[codes[rows[-1]]][2]}" if rows.size else None


def _resolved_config(
    config: RunConfig,
    cls: type[Searcher],
    searchers: list[tuple[Searcher, Problem]],
    tasks: tuple[str, ...],
    budget_text: str | None,
    budget: Budget,
    protocols: dict[str, Protocol],
) -> dict[str, Any]:
    resolved = config.to_dict()
    resolved["tasks"] = list(tasks)
    resolved["budget"] = budget_text
    resolved["params"] = searchers[0][0].config()
    resolved["resolved"] = {
        "multi_task": cls.multi_task,
        "shared_architecture": cls.shared_architecture,
        "budget_per_task": str(budget),
        "protocol": {t: p.to_dict() for t, p in protocols.items()},
    }
    return resolved


def _trajectory(bench: Benchmark, traj: Trajectory):
    """The run's trajectory table: with each architecture's string and, on a table, the
    recorded test metric of each row's architecture on its task."""
    test_value = None
    if bench.traits.tabular and len(traj):
        # known[label, arch]: the test metric of every architecture on the label's task, and
        # NaN in the last place, which arch -1 (a row without an architecture) reads.
        known = np.full((len(traj.labels), bench.space.size + 1), np.nan)
        everything = bench.space.enumerate()
        for task in dict.fromkeys(label[0] for label in traj.labels):
            metric = bench.task_info(task).test_metric
            rows = [i for i, label in enumerate(traj.labels) if label[0] == task]
            known[rows, :-1] = bench.query_many(everything, task, metric).values
        test_value = known[traj.numbers("label"), traj.numbers("arch")]
    return traj.to_arrow(bench.space.format, test_value)
