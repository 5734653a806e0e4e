"""Run a sweep: claim the folder, plan, fan the runs out, record what came back.

:func:`make_spec` turns command-line text into a validated :class:`SweepSpec` (every bad value
is a one-line :class:`~benchsim.errors.ConfigError` before any work).  :func:`run_sweep` then

1. takes a lock on the folder (a second sweep writing to it at the same time is refused);
2. stores the spec in ``sweep.json``, or checks that the stored one is the same sweep;
3. plans every run (:mod:`._plan`): finished ones are skipped, half-written ones resumed from
   their checkpoint or started over, stale ones moved aside;
4. runs the rest on the executor, writing each run's result parts as it finishes, a failure
   record for each failed run (``failures/<run-id>.json``), and ``results/_runs.parquet`` every
   half minute and at the end (also after Ctrl-C or failures).

Ctrl-C, SIGTERM and SIGHUP stop a sweep alike, for the duration of :func:`run_sweep` only
(:mod:`benchsim.runner._signals`): the signal is passed on to the runs in flight, which
checkpoint and stop, the sweep stops waiting, writes ``_runs.parquet`` and returns a summary
that is ``interrupted`` and names the signal (``benchsim sweep`` then exits 130, 143 or 129).
Runs that saved a checkpoint are counted as such: running the sweep again resumes them.
A run whose checkpoint fails its checksums is failed and set aside (:mod:`._worker`).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchsim._files import check_output_path
from benchsim.errors import ConfigError
from benchsim.runner._checkpoint import has_checkpoint
from benchsim.runner._signals import StopSignals, signal_name
from benchsim.sweep._executors import check_executor, make_executor
from benchsim.sweep._plan import Planned, check_params, clear_for_rerun, plan_runs
from benchsim.sweep._progress import SweepProgress
from benchsim.sweep._spec import (
    SPEC_FILE,
    SweepSpec,
    load_spec,
    parse_param_items,
    parse_seeds,
)
from benchsim.sweep._store import (
    RESULTS,
    RUNS_TABLE,
    atomic_json,
    run_table_rows,
    task_seconds,
    write_run_parts,
    write_runs_table,
)
from benchsim.sweep._worker import RunRecord, RunTask, process_alive

LOCK = ".sweep.lock"
RUNS_TABLE_EVERY = 30.0


def _split(text: str | list[str] | tuple[str, ...], what: str) -> tuple[str, ...]:
    items = text.split(",") if isinstance(text, str) else list(text)
    items = [i.strip() for i in items if i.strip()]
    if not items:
        raise ConfigError(f"{what} is empty; give a comma-separated list")
    duplicates = sorted({i for i in items if items.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{what} lists {', '.join(duplicates)} twice")
    return tuple(items)


def make_spec(
    algos: str | list[str],
    seeds: str,
    *,
    benchmark: str = "nb201",
    tasks: str | list[str] | None = None,
    backend: str = "table",
    budget: str | None = None,
    params: tuple[str, ...] | list[str] = (),
    backend_options: dict[str, Any] | None = None,
) -> SweepSpec:
    """A validated spec from command-line values; outlines the benchmark to resolve task names.

    The benchmark is outlined, not opened (:func:`benchsim.backends.outline`): for the gpu
    backend nothing is loaded onto a device in this, the parent, process.

    Examples
    --------
    >>> spec = make_spec("rs,rea", "0-9", budget="20")  # doctest: +SKIP
    >>> len(spec.runs())  # doctest: +SKIP
    20
    """
    from benchsim.algorithms import algorithm_class
    from benchsim.backends import live_options, outline
    from benchsim.runner import parse_budget
    from benchsim.runner.run import resolve_tasks

    names = _split(algos, "--algo")
    for name in names:
        algorithm_class(name)
    seed_list = parse_seeds(seeds)
    if budget is not None:
        parse_budget(budget)
    options = dict(backend_options or {})
    asked = None if tasks is None else _split(tasks, "--tasks")
    bench = outline(benchmark, backend=backend, seed=0, **live_options(backend, asked, options))
    task_names = resolve_tasks(bench, asked)
    spec = SweepSpec(
        algos=names,
        seeds=seed_list,
        benchmark=benchmark,
        tasks=task_names,
        backend=backend,
        budget=budget,
        params=parse_param_items(tuple(params)),
        backend_options=options,
    )
    check_params(spec)
    return spec


@dataclass
class SweepSummary:
    """What one invocation did; :meth:`line` is the one-line report."""

    out: Path
    total: int
    skipped: int = 0
    finished: int = 0
    resumed: int = 0
    failed: int = 0
    moved_stale: int = 0
    interrupted: bool = False
    signal: int = 0
    checkpointed: int = 0
    wall_seconds: float = 0.0
    records: list[RunRecord] = field(default_factory=list)

    @property
    def left(self) -> int:
        """Runs neither finished nor failed (after an interruption)."""
        return self.total - self.skipped - self.finished - self.failed

    @property
    def stopped_by(self) -> str:
        """The signal that interrupted the sweep, for messages (``SIGINT (Ctrl-C)`` if unknown)."""
        return signal_name(self.signal or 2)

    def line(self) -> str:
        text = (
            f"sweep {self.out}: {self.total} runs: {self.skipped + self.finished} finished "
            f"({self.finished} now, {self.resumed} of them resumed; {self.skipped} already "
            f"done), {self.failed} failed"
        )
        if self.moved_stale:
            text += f", {self.moved_stale} redone after a config change (old ones in stale/)"
        if self.checkpointed:
            text += (
                f", {self.checkpointed} interrupted and checkpointed (running this sweep again "
                "resumes them)"
            )
        if self.left - self.checkpointed:
            text += f", {self.left - self.checkpointed} not run"
        return text + f"; {self.wall_seconds:.1f} s"


class _Lock:
    """``DIR/.sweep.lock``: one sweep at a time per folder; a dead owner's lock is taken over."""

    def __init__(self, out: Path) -> None:
        self.path = out / LOCK
        self.me = {"pid": os.getpid(), "host": socket.gethostname()}

    def __enter__(self) -> _Lock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                self._check_owner()
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(self.me, handle)
            return self
        raise ConfigError(f"cannot lock {str(self.path)!r}; remove it if no sweep is running")

    def _check_owner(self) -> None:
        try:
            owner = json.loads(self.path.read_text())
            pid, host = int(owner["pid"]), owner["host"]
        except (OSError, ValueError, KeyError, TypeError):
            owner, pid, host = None, -1, ""
        alive = host == self.me["host"] and process_alive(pid)
        if alive or (owner is not None and host != self.me["host"]):
            raise ConfigError(
                f"another sweep (pid {pid} on {host}) is writing to {str(self.path.parent)!r}; "
                f"wait for it, or delete {self.path.name} if it is dead"
            )
        self.path.unlink(missing_ok=True)

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


def claim(spec: SweepSpec, out: Path) -> None:
    """Store ``spec`` in a new/empty ``out``, or check that ``out`` holds this same sweep."""
    path = out / SPEC_FILE
    if path.is_file():
        stored = load_spec(out)
        if stored.key() != spec.key():
            mine, theirs = spec.key(), stored.key()
            differ = [k for k in mine if mine[k] != theirs[k]]
            raise ConfigError(
                f"{str(out)!r} holds a different sweep (differs in {', '.join(differ)}: stored "
                f"{', '.join(f'{k}={theirs[k]!r}' for k in differ)}); give a new --out, or "
                "repeat that sweep's options to resume it"
            )
        return
    if any(p.name != LOCK for p in out.iterdir()):
        raise ConfigError(f"--out {str(out)!r} is not empty and holds no {SPEC_FILE}")
    payload = spec.to_dict()
    payload["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    atomic_json(path, payload)


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    *,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    progress: bool = False,
    checkpoint_every: float | None = 60.0,
) -> SweepSummary:
    """Run every run of ``spec`` not yet done into ``out``; see the module docstring.

    Parameters
    ----------
    spec
        What to run (:func:`make_spec`).
    out
        The sweep folder: new, empty, or holding this same sweep (which is then resumed).
    jobs
        Runs at a time; ``1`` with the local executor runs them in this process (no start-up
        cost, and a debugger works).
    executor
        ``"local"`` (process pool) or ``"ray"``.
    address
        Ray cluster to join (``executor="ray"`` only); None starts a local Ray instance.
    progress
        Show one rich progress bar (on stderr) for the whole sweep.
    checkpoint_every
        Wall seconds between a run's checkpoints (what an interrupted run resumes from).

    Returns
    -------
    SweepSummary
        Counts of this invocation and a record per run it executed.  Failed runs do not
        raise: they are counted and recorded in ``out/failures/``.
    """
    from benchsim.backends import live_options, outline

    t0 = time.perf_counter()
    check_executor(executor, jobs, address)
    out = check_output_path(Path(out).resolve(), "--out", folder=True)
    out.mkdir(parents=True, exist_ok=True)
    pool = None
    waiting = False

    def stop_now(signum: int) -> None:  # the first stop signal (see the module docstring)
        if pool is not None:
            pool.interrupt(signum)
        if waiting:
            raise KeyboardInterrupt

    with _Lock(out), StopSignals(stop_now) as stop:
        claim(spec, out)
        options = live_options(spec.backend, spec.tasks, spec.backend_options)
        bench = outline(spec.benchmark, backend=spec.backend, seed=0, **options)
        traits = bench.traits
        space, gpu, devices = bench.space, traits.gpus_per_run > 0, traits.device_slots
        del bench
        planned = plan_runs(spec, out, space)
        results = out / RESULTS
        summary = SweepSummary(out=out, total=len(planned))
        for item in planned:
            if item.state == "done":
                _keep_finished(item, out, results)
                summary.skipped += 1
            else:
                summary.moved_stale += item.state == "stale"
                clear_for_rerun(item, out)
        rows = {p.run_id: run_rows(p, out) for p in planned}
        todo = {p.run_id: p for p in planned if p.state != "done"}
        tasks = [_task(p, results, checkpoint_every) for p in todo.values()]
        if stop.signum is not None:  # stopped while planning: start nothing
            tasks = []
        pool = None
        if tasks:
            pool = make_executor(executor, jobs, address, gpu=gpu, devices=devices, runs=len(tasks))
        unheard: set[str] = set()
        last_table = time.perf_counter()
        try:
            waiting = True
            with SweepProgress(progress) as bar:
                bar.start(len(planned), summary.skipped)
                for _, record in pool.map_unordered(tasks) if pool else ():
                    _handle(out, todo[record.run_id], record, summary)
                    rows[record.run_id] = record.rows or run_rows(todo[record.run_id], out)
                    if record.status == "interrupted":
                        summary.interrupted = True
                        summary.signal = summary.signal or record.signal
                        pool.stop = True
                        continue
                    bar.advance(record.status == "failed")
                    if time.perf_counter() - last_table > RUNS_TABLE_EVERY:
                        _write_rows(results, planned, rows)
                        last_table = time.perf_counter()
        except KeyboardInterrupt:
            summary.interrupted = True
        finally:
            waiting = False
            if pool is not None:
                pool.close()
                unheard = _count_unheard(out, results, todo, rows, summary)
            _write_rows(results, planned, rows)
        if stop.signum is not None:
            summary.interrupted = True
            summary.signal = stop.signum
        if summary.interrupted:
            ended = {r.run_id for r in summary.records if r.status in ("ok", "failed")} | unheard
            summary.checkpointed = sum(
                has_checkpoint(p.folder) for p in todo.values() if p.run_id not in ended
            )
    summary.wall_seconds = time.perf_counter() - t0
    return summary


def _count_unheard(
    out: Path,
    results: Path,
    todo: dict[str, Planned],
    rows: dict[str, list[dict]],
    summary: SweepSummary,
) -> set[str]:
    """Count the runs that finished after the sweep stopped listening (a stop while workers
    were inside a batch, or a run that ended as the signal came): their files are complete,
    so they are finished runs, in ``_runs.parquet`` and the summary, not runs "not run".
    Returns their ids."""
    heard = {record.run_id for record in summary.records}
    found = set()
    for run_id, item in todo.items():
        if run_id in heard or not (item.folder / "result.json").is_file():
            continue
        _keep_finished(item, out, results)
        rows[run_id] = run_rows(item, out)
        summary.finished += 1
        found.add(run_id)
    return found


def _keep_finished(item: Planned, out: Path, results: Path) -> None:
    """A run whose files are complete: its result parts written where missing (a worker
    killed between its result and its parts), its failure record, if any, removed."""
    write_run_parts(item.folder, results, item.algo, item.run_id, only_missing=True)
    (out / "failures" / f"{item.run_id}.json").unlink(missing_ok=True)


def _write_rows(results: Path, planned: list[Planned], rows: dict[str, list[dict]]) -> None:
    """``_runs.parquet`` from the per-run rows kept in memory (plan order)."""
    write_runs_table(results / RUNS_TABLE, [row for p in planned for row in rows[p.run_id]])


def _task(item: Planned, results: Path, checkpoint_every: float | None) -> RunTask:
    return RunTask(
        run_id=item.run_id,
        algo=item.algo,
        seed=item.seed,
        folder=str(item.folder),
        results=str(results),
        config=item.config.to_dict(),
        resume=item.state == "resume",
        checkpoint_every=checkpoint_every,
    )


def _handle(out: Path, item: Planned, record: RunRecord, summary: SweepSummary) -> None:
    """Count a record; write (or clear) the run's failure file."""
    summary.records.append(record)
    failure = out / "failures" / f"{record.run_id}.json"
    if record.status == "ok":
        summary.finished += 1
        summary.resumed += record.resumed
        failure.unlink(missing_ok=True)
    elif record.status == "failed":
        summary.failed += 1
        atomic_json(
            failure,
            {
                "run_id": record.run_id,
                "algo": item.algo,
                "seed": item.seed,
                "folder": str(item.folder.relative_to(out)),
                "config": item.config.to_dict(),
                "error": record.error,
                "wall_seconds": round(record.wall_seconds, 6),
                "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
        )


def run_rows(item: Planned, out: Path) -> list[dict[str, Any]]:
    """Rows of ``_runs.parquet`` for one run (one per task), whatever state the run is in
    (read from its folder; a run this sweep just finished sends its rows with its record)."""
    tasks = list(item.config.tasks or ())
    result_path = item.folder / "result.json"
    if result_path.is_file():
        result = json.loads(result_path.read_text())
        config = json.loads((item.folder / "config.json").read_text())
        shared = len(tasks) if config.get("resolved", {}).get("multi_task") else 1
        seconds = task_seconds(item.folder, shared)
        return run_table_rows(item.run_id, item.algo, item.seed, tasks, result, config, seconds)
    base = {"run_id": item.run_id, "algo": item.algo, "tasks": "+".join(tasks), "seed": item.seed}
    status, error = "incomplete", None
    failure = out / "failures" / f"{item.run_id}.json"
    if failure.is_file():
        info = json.loads(failure.read_text()).get("error") or {}
        status, error = "failed", f"{info.get('type')}: {info.get('message')}"
    return [{**base, "task": t, "status": status, "error": error} for t in tasks]
