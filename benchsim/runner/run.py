"""Run one search end to end: resolve the config, drive the searcher(s), write the results.

A :class:`Run` is started (:meth:`Run.start`) or resumed from its checkpoint
(:meth:`Run.resume`), stepped a result (or a batch of them: random search on a table) at a
time (:meth:`Run.step`, :meth:`Run.save`) and finished (:meth:`Run.finish`);
:func:`execute_run` and :func:`resume_run`, what ``benchsim run`` and a sweep's workers call,
drive it with the command line's checkpoint and stop-signal policy (:func:`complete`).  The
algorithm is built from the registry and never sees the backend; the backend is built from
the registry and never sees the algorithm.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from benchsim.algorithms._base import Problem, Searcher, TaskSpec, algorithm_class, create
from benchsim.backends.base import Benchmark, Protocol
from benchsim.catalog import DEFAULT_TASKS
from benchsim.errors import BenchsimWarning, ConfigError, EmptyResultError, RunInterrupted
from benchsim.runner._budget import Budget, parse_budget
from benchsim.runner._checkpoint import Checkpointer, discard_uncommitted, has_checkpoint
from benchsim.runner._checkpoint import load as load_saved
from benchsim.runner._config import RunConfig, load_config_file, merge_config
from benchsim.runner._execute import JobExecutor, capabilities, task_protocols
from benchsim.runner._limits import check_budget_scale, check_workers
from benchsim.runner._results import (
    atomic_write_json,
    json_default,
    package_versions,
    prepare_out_dir,
    write_trajectory,
)
from benchsim.runner._search import SearchLoop, SearchStats
from benchsim.runner._signals import StopSignals, signal_name
from benchsim.runner._summary import summarise, trajectory_table
from benchsim.runner._trajectory import Trajectory


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
        if bench.traits.tasks_are_datasets:  # it answers for the datasets it was opened with
            return bench.tasks
        tasks = DEFAULT_TASKS.get(bench.space.name, bench.tasks[:2])
    return tuple(bench.resolve_task(t) for t in tasks)


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


class Run:
    """One search run: started or resumed, stepped result by result, then finished.

    Call sequence: ``run = Run.start(config, out)`` (every input checked, the benchmark opened,
    ``config.json`` written) or ``run = Run.resume(out)`` (from its checkpoint, after checking
    every file of it against its recorded SHA-256); then ``run.step()`` until it returns
    ``False``, calling ``run.save()`` to checkpoint whenever the caller's policy says; then
    ``output = run.finish()`` (``result.json`` and ``trajectory.parquet`` written).  The
    algorithm is built from the registry and never sees the backend; the backend is built from
    the registry and never sees the algorithm.  :func:`execute_run` and :func:`resume_run` are
    that sequence with the command line's policy (stop signals, checkpoints by wall time and
    at milestones).

    Attributes
    ----------
    state
        Everything a checkpoint holds (:class:`_RunState`).
    bench
        The opened benchmark.
    out_dir, checkpointer
        The output folder and its checkpointer (``None`` without one).
    resolved
        The resolved config, as ``config.json`` holds it.
    """

    def __init__(
        self,
        state: _RunState,
        bench: Benchmark,
        out_dir: Path | None,
        checkpointer: Checkpointer | None,
        *,
        resumed: bool,
        began: float,
    ) -> None:
        config = state.config
        self.state, self.bench, self.out_dir = state, bench, out_dir
        self.checkpointer, self.resumed, self._began = checkpointer, resumed, began
        self.cls = algorithm_class(config.algo)
        self.budget = parse_budget(state.budget_text)
        self.protocols = task_protocols(bench, state.tasks, dict(config.protocol))
        # Problem.source_tasks promises answers on every other task too (XferNAS asks them).
        every_task = task_protocols(bench, bench.tasks, dict(config.protocol))
        self.execute = JobExecutor(bench, every_task, state.gen_jobs)
        resolved = _resolved_config(
            config, self.cls, state.searchers, state.tasks, state.budget_text, self.budget,
            self.protocols,
        )  # fmt: skip
        resolved["versions"] = package_versions()
        resolved["data"] = bench.provenance()
        resolved["answers"] = bench.answer_notes()
        self.resolved = resolved
        self._milestone: int | None = None
        self._current: tuple[Searcher, SearchLoop] | None = None  # the search under way
        if out_dir is not None and not resumed:
            atomic_write_json(out_dir / "config.json", resolved)
        if out_dir is not None and resumed:
            _check_saved_config(out_dir, resolved)

    # ------------------------------------------------------------------ opening
    @classmethod
    def start(
        cls, config: RunConfig, out: str | Path | None = None, *, bench: Benchmark | None = None
    ) -> Run:
        """A new run of ``config`` into ``out`` (``None``: nothing written).

        Raises :class:`~benchsim.errors.BenchsimError` subclasses for bad input before any
        work is done (unknown algorithm/task/hyperparameter, impossible budget, non-empty
        ``out``): only then is the output folder made and ``config.json`` written.
        """
        began = time.perf_counter()
        config.validate()
        algo = algorithm_class(config.algo)
        out_dir = prepare_out_dir(out, create=False) if out is not None else None
        # Every generator of the run from its one seed, in SeedSequence order: the backend's
        # seed, the jobs', then one per search (spawned once their number is known).
        seeds = np.random.SeedSequence(config.seed)
        gen_backend, gen_jobs = (np.random.default_rng(s) for s in seeds.spawn(2))
        backend_seed = int(gen_backend.integers(2**31))
        if bench is None:
            bench = _open_benchmark(config, backend_seed)
        tasks = resolve_tasks(bench, config.tasks)
        budget_text = (
            config.budget if config.budget is not None else algo.default_budget(bench.space)
        )
        check_budget_scale(
            bench, tasks, parse_budget(budget_text), dict(config.protocol), algo.multi_task
        )
        check_workers(config.workers, bench)
        for message in bench.check_run(tasks):  # e.g. an unreachable ws_tau: refused first
            warnings.warn(message, BenchsimWarning, stacklevel=2)
        searchers = _build_searchers(algo, config, bench, tasks)
        search_seeds = [np.random.default_rng(s) for s in seeds.spawn(len(searchers))]
        state = _RunState(
            config=config,
            tasks=tasks,
            budget_text=budget_text,
            searchers=searchers,
            gen_jobs=gen_jobs,
            search_seeds=search_seeds,
            backend_seed=backend_seed,
        )
        checkpointer = None
        if out_dir is not None:  # every input checked: only now leave a folder behind
            prepare_out_dir(out_dir)
            checkpointer = Checkpointer(out_dir)
        return cls(state, bench, out_dir, checkpointer, resumed=False, began=began)

    @classmethod
    def resume(cls, out: str | Path, *, bench: Benchmark | None = None) -> Run:
        """The run in ``out`` where its checkpoint left it.

        Every checkpoint file is checked against its recorded SHA-256 first (a damaged or
        edited one raises :class:`~benchsim.errors.CheckpointError` before anything is
        written); a run stopped before its first checkpoint (``config.json`` only) is started
        again from its ``config.json``.
        """
        began = time.perf_counter()
        out_dir = Path(out)
        restart = _restart_config(out_dir)
        if restart is not None:  # stopped before its first checkpoint: start it again
            discard_uncommitted(out_dir)  # what a first save killed before its manifest left
            (out_dir / "config.json").unlink()
            return cls.start(restart, out_dir, bench=bench)
        state, checkpointer = _load(out_dir)
        if bench is None:
            bench = _open_benchmark(state.config, state.backend_seed)
        if state.bench_state is not None:
            bench.load_state_dict(state.bench_state)
        return cls(state, bench, out_dir, checkpointer, resumed=True, began=began)

    # ------------------------------------------------------------------ stepping
    delivered = 0
    """Results the last :meth:`step` delivered."""

    def step(self, progress: ProgressHook | None = None, most: int | None = None) -> bool:
        """Deliver the next result (setting up each search as the one before it ends), or up
        to ``most`` of them where a search proposes a batch (random search on a table: see
        :meth:`SearchLoop.step`; :attr:`delivered` says how many); ``False`` once every
        search has ended."""
        current = self._current
        if current is not None:
            loop = current[1]
            if loop.step(current[0], self.execute, self.state.traj, progress, most):
                self.delivered = loop.delivered
                return True  # the common case: more results of the search under way
        return self._advance(progress, most)

    def _advance(self, progress: ProgressHook | None, most: int | None = None) -> bool:
        """:meth:`step` where a search ends, begins or is resumed."""
        state = self.state
        if self._current is not None:  # the search under way has ended
            self._end_search()
        while state.search_index < len(state.searchers):
            searcher, problem = state.searchers[state.search_index]
            if state.loop is None:
                searcher.setup(problem, state.search_seeds[state.search_index])
                scale = len(state.tasks) if self.cls.multi_task else 1
                own = frozenset(t.name for t in problem.tasks)  # source tasks: not budgeted
                state.loop = SearchLoop(
                    self.budget.scaled(scale), state.config.workers, state.search_index, own
                )
            self._current = (searcher, state.loop)  # (or resumed in the middle of it)
            self._milestone = searcher.milestone()
            if state.loop.step(searcher, self.execute, state.traj, progress, most):
                self.delivered = state.loop.delivered
                return True
            self._end_search()
        self.delivered = 0
        return False

    def _end_search(self) -> None:
        """Record the ended search's spending and recommendations; on to the next one."""
        state = self.state
        searcher, loop = self._current  # type: ignore[misc]
        state.stats.append(loop.stats)
        for spec in state.searchers[state.search_index][1].tasks:
            state.recommendations[spec.name] = searcher.recommend(spec.name)
        state.search_index += 1
        state.loop = self._current = None

    def passed_milestone(self) -> bool:
        """Whether the current searcher's :meth:`~benchsim.algorithms.Searcher.milestone` (an
        EMT-NAS generation) advanced since this was last asked, or since its search began."""
        if self._current is None:
            return False
        reached = self._current[0].milestone()
        passed, self._milestone = reached != self._milestone, reached
        return passed

    @property
    def results(self) -> int:
        """Results answered so far (trajectory rows)."""
        return len(self.state.traj)

    def save(self) -> None:
        """Checkpoint the run into its folder (the backend's state included)."""
        if self.checkpointer is None:
            raise ConfigError("a run without an output folder cannot be checkpointed")
        state = self.state
        state.bench_state = self.bench.state_dict()
        wall_before = state.wall_before
        state.wall_before = wall_before + time.perf_counter() - self._began
        try:
            self.checkpointer.save(state)
        finally:
            state.wall_before = wall_before

    # ------------------------------------------------------------------ finishing
    def finish(self) -> RunOutput:
        """Summarise the run; write ``trajectory.parquet`` and ``result.json`` (and again
        ``config.json`` of a resumed run) and remove the checkpoint.

        Raises :class:`~benchsim.errors.EmptyResultError` (files written) when a task got no
        architecture.
        """
        state, bench, out_dir = self.state, self.bench, self.out_dir
        checkpointer = self.checkpointer
        owner = {t.name: i for i, (_, problem) in enumerate(state.searchers) for t in problem.tasks}
        result = summarise(
            bench, state.config, self.protocols, state.recommendations, state.traj, state.stats,
            owner,
        )  # fmt: skip
        result["answers"] = bench.answer_notes()
        table = trajectory_table(bench, state.traj)
        result["wall_seconds"] = round(state.wall_before + time.perf_counter() - self._began, 6)
        if checkpointer is not None:
            saves = checkpointer.stats
            result["checkpoints"] = {
                "saves": saves.count,
                "seconds": round(saves.seconds, 6),
                "bytes": saves.bytes,
            }
        if out_dir is not None:
            if self.resumed:
                atomic_write_json(out_dir / "config.json", self.resolved)
            write_trajectory(out_dir / "trajectory.parquet", table)
            atomic_write_json(out_dir / "result.json", result)
            if checkpointer is not None:
                checkpointer.remove()
        output = RunOutput(result=result, config=self.resolved, trajectory=table)
        empty = [task for task, row in result["tasks"].items() if row["arch"] is None]
        if empty:
            where = f"; its files are in {out_dir}" if out_dir is not None else ""
            raise EmptyResultError(
                f"the run returned no architecture for {', '.join(empty)}: its budget "
                f"({state.budget_text or 'the algorithm default'}) ended before any full "
                f"evaluation there{where}; give a larger --budget",
                output,
            )
        return output


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

    :meth:`Run.start` (``resume=True``: :func:`resume_run`, ``config`` unused) driven to its
    end by :func:`complete`: with an ``out`` folder the run checkpoints there every
    ``checkpoint_every`` wall seconds, where the backend's traits ask also whenever the
    searcher's :meth:`~benchsim.algorithms.Searcher.milestone` advances (each EMT-NAS
    generation on the live backend), and on Ctrl-C, SIGTERM or SIGHUP (then raising
    :class:`RunInterrupted`, whose ``exit_code`` is 130, 143 or 129); the signal handlers are
    installed for the duration of the call only (:mod:`._signals`).  ``stop_after`` (testing
    aid) interrupts after that many results, as Ctrl-C would.
    """
    if resume:
        if out is None:
            raise ConfigError("resume needs the run's output folder")
        return resume_run(
            out, progress=progress, bench=bench, checkpoint_every=checkpoint_every,
            stop_after=stop_after,
        )  # fmt: skip
    with StopSignals() as stop:
        run = Run.start(config, out, bench=bench)
        return complete(run, stop, progress, checkpoint_every, stop_after)


def resume_run(
    out: str | Path,
    *,
    progress: ProgressHook | None = None,
    bench: Benchmark | None = None,
    checkpoint_every: float | None = 60.0,
    stop_after: int | None = None,
) -> RunOutput:
    """Continue the run in ``out`` (:meth:`Run.resume`) to its end, as :func:`execute_run`
    drives a new one; it ends exactly where an uninterrupted run would."""
    with StopSignals() as stop:
        run = Run.resume(out, bench=bench)
        return complete(run, stop, progress, checkpoint_every, stop_after)


def complete(
    run: Run,
    interrupt: StopSignals,
    progress: ProgressHook | None = None,
    checkpoint_every: float | None = 60.0,
    stop_after: int | None = None,
) -> RunOutput:
    """Step ``run`` to its end under the command line's policy (see :func:`execute_run`): save
    by wall time and, where the backend's traits ask, at each milestone; on a stop signal (a
    first one before the loop stops the run after its first result) or ``stop_after`` results,
    save and raise :class:`RunInterrupted`."""
    last_save = time.perf_counter()
    answered = 0
    at_milestones = run.bench.traits.checkpoint_at_milestones  # a generation costs real minutes
    saving, step = run.checkpointer is not None, run.step
    while step(progress, None if stop_after is None else stop_after - answered):
        answered += run.delivered
        stop = interrupt.signum is not None or (stop_after is not None and answered >= stop_after)
        if saving:  # (a run without a folder reads no clock here)
            now = time.perf_counter()
            due = checkpoint_every is not None and now - last_save >= checkpoint_every
            if at_milestones:
                due = run.passed_milestone() or due
            if stop or due:
                run.save()
                last_save = time.perf_counter()
        if stop:
            raise _interrupted(interrupt, run.results, run.out_dir)
    return run.finish()


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
    space = bench.space
    specs = tuple(_spec(bench, t) for t in tasks)
    kinds = capabilities(bench)
    if cls.multi_task:
        others = tuple(_spec(bench, t) for t in bench.tasks if t not in tasks)
        problem = Problem(space, specs, others, kinds)
        searcher = create(config.algo, space, config.params)
        searcher.check_problem(problem)
        return [(searcher, problem)]
    out = []
    for spec in specs:
        others = tuple(_spec(bench, t) for t in bench.tasks if t != spec.name)
        out.append(
            (
                create(config.algo, space, config.params),
                Problem(space, (spec,), others, kinds),
            )
        )
    for searcher, problem in out:
        searcher.check_problem(problem)
    return out


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
