"""What a worker process does for one run: execute it, write its result parts, report back.

Everything here is importable at module level and every argument is plain data, so the same
function serves the local process pool (workers forked from a fork server, or spawned) and
Ray.  A worker has benchsim imported once (by the fork server, or in :func:`init_worker`) and
then runs many runs, so no run pays for interpreter start-up.

A run never raises out of :func:`run_task`: an error becomes a :class:`RunRecord` with status
``failed`` (type, message and traceback), so one bad run cannot stop the sweep.

A run whose checkpoint is damaged or was edited (a file does not match its recorded SHA-256)
is not resumed and not started over in place: it fails, with the file named in its record and
no rows written to the results, and its folder is moved to ``DIR/damaged/<run-id>.<time>/``
(kept, for a look at what happened), so that running the sweep again starts it afresh from its
configuration.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DAMAGED = "damaged"
"""Where a sweep moves the folder of a run whose checkpoint failed its checksums."""


@dataclass(frozen=True)
class RunTask:
    """One run to do: its identity, its RunConfig fields, and whether to resume a checkpoint."""

    run_id: str
    algo: str
    seed: int
    folder: str
    results: str
    config: dict[str, Any]
    resume: bool = False
    checkpoint_every: float | None = 60.0


@dataclass
class RunRecord:
    """What came back: ``status`` is ``ok``, ``failed`` or ``interrupted`` (then ``signal`` is
    the number of the signal that stopped it, 0 when not known), and for a finished run its
    rows of ``_runs.parquet``."""

    run_id: str
    status: str
    wall_seconds: float
    error: dict[str, str] | None = None
    resumed: bool = False
    worker_pid: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    signal: int = 0
    rows: list[dict[str, Any]] | None = None
    """A finished run's ``_runs.parquet`` rows, made here from what the run holds in memory so
    that the sweep's process need not read the run's files back."""


def init_worker(
    slots: Any = None,
    devices: list[str] | None = None,
    parent: int | None = None,
    environ: dict[str, str] | None = None,
    cwd: str | None = None,
) -> None:
    """Process-pool initializer: import the library once, and let only runs see stop signals.

    Outside a run, SIGINT, SIGTERM and SIGHUP do not end a worker (the sweep's process decides
    what to do, and ends the pool): a :class:`~benchsim.runner._signals.StopSignals` open for
    the worker's life records them, and a worker that was asked to stop starts no further run
    (those the pool had already queued to it come back ``interrupted`` at once; one it was
    just beginning stops at its first result).  During a run,
    :func:`~benchsim.runner.execute_run` installs its own handlers, which checkpoint and stop;
    a repeated signal is only recorded, so a Ctrl-C that reaches the worker from the terminal
    and, forwarded, from the sweep stops it once.
    The worker dies with the sweep's process ``parent``, also when that one is killed outright
    (:func:`die_with_parent`): a worker must never run on orphaned, holding a CPU or a GPU.
    ``environ`` and ``cwd``, the sweep's environment and folder, replace those a worker forked
    from a fork server inherited (the server's, from when it started).
    With ``devices`` (a GPU sweep over several GPUs), the worker takes the next number from the
    ``slots`` queue and sees only ``devices[number % len(devices)]`` (``CUDA_VISIBLE_DEVICES``,
    set before torch starts CUDA), so the pool's runs spread over the GPUs.
    """
    from benchsim.runner._signals import StopSignals

    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    if cwd is not None:
        os.chdir(cwd)
    _WORKER["stop"] = StopSignals(escalate=False).__enter__()  # open until the process ends
    if parent is not None:
        die_with_parent(parent)
    if devices:
        slot = int(slots.get())
        os.environ["CUDA_VISIBLE_DEVICES"] = devices[slot % len(devices)]
    import benchsim.algorithms
    import benchsim.runner

    benchsim.algorithms.available()  # registers the built-in algorithms


_WORKER: dict[str, Any] = {"stop": None}
"""In a pool worker, the :class:`~benchsim.runner._signals.StopSignals` of the process."""


def _stopped_by() -> int:
    """The stop signal this pool worker received (0: none, or not a pool worker)."""
    stop = _WORKER["stop"]
    return 0 if stop is None or stop.signum is None else int(stop.signum)


WATCH_SECONDS = 0.5
"""How often a worker checks that the sweep's process is alive, where it cannot wait for its
end (no ``os.pidfd_open``)."""
GRACE_SECONDS = 5.0
"""How long a worker whose sweep died gives its run to checkpoint before it exits."""


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` (the sweep's process) ends.

    When it does, the worker gets SIGINT (a run in progress checkpoints and stops, as on Ctrl-C)
    and exits :data:`GRACE_SECONDS` later: nothing is left running orphaned, holding a CPU or a
    GPU.  A daemon thread waits for the end (``os.pidfd_open``, else by polling every
    :data:`WATCH_SECONDS`).  For a spawned worker on Linux the kernel also sends the SIGINT at
    once (``prctl(PR_SET_PDEATHSIG)``); a worker forked from a fork server has the server as its
    parent, which lives on while workers hold it open, so only the thread sees the sweep go.
    """
    if sys.platform.startswith("linux") and os.getppid() == parent:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGINT))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    if not process_alive(parent):  # it died before the watch began
        os._exit(1)

    def watch() -> None:
        _wait_for_end(parent)
        os.kill(os.getpid(), signal.SIGINT)  # a second one (after PDEATHSIG's) is only noted
        time.sleep(GRACE_SECONDS)  # the run interrupted by it checkpoints meanwhile
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _wait_for_end(pid: int) -> None:
    """Return when process ``pid`` has ended."""
    try:
        handle = os.pidfd_open(pid)  # readable once the process ends; immune to pid reuse
    except (AttributeError, OSError):
        while process_alive(pid):
            time.sleep(WATCH_SECONDS)
        return
    try:
        select.select([handle], [], [])
    finally:
        os.close(handle)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts: it cannot be signalled)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_task(task: RunTask) -> RunRecord:
    """Execute ``task`` (resuming its checkpoint when asked) and write its result parts."""
    from benchsim.errors import BenchsimError, CheckpointError
    from benchsim.runner import RunConfig, RunInterrupted, execute_run, load_checkpoint
    from benchsim.sweep._store import write_run_parts

    t0 = time.perf_counter()
    if _stopped_by():  # queued to this worker before its sweep stopped: not started
        return RunRecord(task.run_id, "interrupted", 0.0, signal=_stopped_by())
    folder = Path(task.folder)
    resumed = False
    timings: dict[str, float] = {}
    stopped_by = 0
    rows = None
    try:
        config = RunConfig(**task.config)
        if task.resume:
            try:
                load_checkpoint(folder)
                resumed = True
            except CheckpointError as err:
                raise _set_aside(err, folder, Path(task.results).parent, task.run_id) from None
            except BenchsimError:
                # A checkpoint this benchsim cannot read (an older format): start over.
                shutil.rmtree(folder, ignore_errors=True)
        output = execute_run(config, folder, resume=resumed, checkpoint_every=task.checkpoint_every)
        timings["run"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        write_run_parts(
            folder,
            Path(task.results),
            task.algo,
            task.run_id,
            config=output.config,
            table=output.trajectory,
        )
        rows = _run_rows(task, output.config, output.result, output.trajectory)
        timings["store"] = time.perf_counter() - t1
        status, error = "ok", None
    except RunInterrupted as err:
        status, error, stopped_by = "interrupted", None, err.signum
        if _WORKER["stop"] is not None and _WORKER["stop"].signum is None:
            _WORKER["stop"].signum = err.signum  # start nothing more
    except KeyboardInterrupt:
        status, error = "interrupted", None
    except Exception as err:
        status = "failed"
        error = {
            "type": type(err).__name__,
            "message": str(err),
            "traceback": traceback.format_exc(),
        }
    return RunRecord(
        run_id=task.run_id,
        status=status,
        wall_seconds=time.perf_counter() - t0,
        error=error,
        resumed=resumed,
        worker_pid=os.getpid(),
        timings=timings,
        signal=stopped_by,
        rows=rows,
    )


def run_batch(tasks: list[RunTask]) -> list[RunRecord]:
    """:func:`run_task` on each of ``tasks`` in turn: what a pool worker is handed when runs take
    milliseconds, so that the sweep's process and the worker trade one message for several
    runs (see :class:`~benchsim.sweep._executors.BatchSizer`).  Once the worker was asked to
    stop, the runs not yet begun come back ``interrupted`` at once, as queued runs do."""
    return [run_task(task) for task in tasks]


def _run_rows(task: RunTask, config: dict, result: dict, table: Any) -> list[dict[str, Any]]:
    """The run's ``_runs.parquet`` rows, as the sweep would read them from its files."""
    import json

    from benchsim._files import json_default
    from benchsim.sweep._store import run_table_rows, task_seconds_of

    tasks = list(task.config["tasks"])
    shared = len(tasks) if config.get("resolved", {}).get("multi_task") else 1
    seconds = task_seconds_of(table, list(config["tasks"]), shared)
    written = json.loads(json.dumps(result, default=json_default))  # what result.json holds
    return run_table_rows(task.run_id, task.algo, task.seed, tasks, written, config, seconds)


def _set_aside(err: Any, folder: Path, sweep: Path, run_id: str) -> Any:
    """Move the folder of a run whose checkpoint failed its checksums to ``DIR/damaged/`` and
    return the error to record: what is damaged, where the folder went, what happens next."""
    from benchsim.errors import CheckpointError

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = sweep / DAMAGED / f"{run_id}.{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    folder.rename(target)
    return CheckpointError(
        err.detail,
        f"the run was not resumed and wrote no results; its folder was moved to {target}, and "
        "running this sweep again starts the run over from its configuration",
    )
