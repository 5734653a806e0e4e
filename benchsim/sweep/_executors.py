"""Where runs execute: this process, a pool of local processes, or Ray tasks.

Every executor has one method, :meth:`map_unordered`, which yields ``(task, record)`` pairs as
runs finish, keeping at most a small window of runs in flight so that stopping (Ctrl-C, or a
run that reports ``interrupted``) leaves nothing queued behind, and :meth:`interrupt`, which
passes a stop signal the sweep's process received on to the runs in flight (a SIGTERM from
``docker stop`` or ``kill`` reaches the sweep's process only).

* ``local`` with ``jobs == 1`` runs in this process: no start-up at all, and a debugger works.
* ``local`` with ``jobs > 1``: a :class:`~concurrent.futures.ProcessPoolExecutor` whose workers
  are forked from a fork server that imported benchsim's run path once
  (:mod:`benchsim._forkserver`; spawned where there is none); each takes run after run, or a
  batch of runs at a time where runs take milliseconds (:class:`BatchSizer`).  On a GPU sweep
  whose device was left to choose, worker k sees only GPU ``k mod (number of GPUs)``.  A worker
  that dies (killed for memory, a segfault) fails the runs it held (its batch), and the pool is
  started afresh for the rest.
* ``ray``: one Ray task per run (``num_gpus=1`` on the gpu backend on CUDA, so Ray places one
  run per GPU); ``address`` joins a running cluster, else a local Ray instance with ``jobs``
  CPUs is started.  On a cluster the sweep folder and ``$BENCHSIM_HOME`` must be at the same path on
  every node (a shared file system).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from benchsim._checks import check_int
from benchsim._forkserver import ensure_server, thread_defaults, worker_context
from benchsim.errors import ConfigError, UnknownNameError
from benchsim.sweep._worker import RunRecord, RunTask, init_worker, run_batch, run_task

EXECUTORS = ("local", "ray")
RAY_MISSING = "Ray is not installed: pip install benchsim[ray]"
_FORWARDED_ENV = ("BENCHSIM_HOME", "BENCHSIM_DATA_MIRROR", "BENCHSIM_DEBUG")


def _lost(task: RunTask, err: BaseException) -> RunRecord:
    """A record for a run whose worker never answered."""
    return RunRecord(
        run_id=task.run_id,
        status="failed",
        wall_seconds=0.0,
        error={"type": type(err).__name__, "message": str(err) or repr(err), "traceback": ""},
    )


class InlineExecutor:
    """``--jobs 1``: run each task in this process, one after the other."""

    def __init__(self) -> None:
        self.stop = False

    def map_unordered(self, tasks: Iterable[RunTask]) -> Iterator[tuple[RunTask, RunRecord]]:
        for task in tasks:
            if self.stop:
                return
            yield task, run_task(task)

    def interrupt(self, signum: int) -> None:
        """Nothing to pass on: the run in this process received the signal itself."""

    def close(self) -> None:
        """Nothing to release."""


BATCH_SECONDS = 0.05
"""What a pool worker's batch of runs aims to take.  Each batch costs the sweep's process about
0.6 ms of CPU (a message each way, through three threads of the process pool): with
random-search runs of 7 ms, one run a message spent a tenth of a CPU-second per 200 runs on
the two cores the workers needed.  50 ms keeps that near 1 % while a stop, the progress bar
and the run table still hear from every worker twenty times a second."""
MAX_BATCH = 64


class BatchSizer:
    """How many runs to hand a pool worker at once, learnt from the runs' own times (joblib's
    ``batch_size="auto"``): a batch aims at :data:`BATCH_SECONDS`, starting from one run and
    at most doubling from one batch to the next, so runs that take a second or more (any live
    run) always go one at a time.  Near the end a batch is at most the runs left over twice the
    workers, so the last runs are shared out instead of queued behind one worker.
    """

    def __init__(self, jobs: int, seconds: float = BATCH_SECONDS) -> None:
        self.jobs, self.seconds, self.size = jobs, seconds, 1

    def take(self, left: int) -> int:
        """Runs for the next batch, ``left`` runs not yet handed out (at least one)."""
        return max(1, min(self.size, left // (2 * self.jobs)))

    def learn(self, records: Sequence[RunRecord]) -> None:
        """Size later batches from the wall time of the finished runs in ``records``
        (failed and interrupted runs end early and say nothing of a run's length)."""
        times = [r.wall_seconds for r in records if r.status == "ok"]
        if not times:
            return
        per_run = sum(times) / len(times)
        ideal = int(self.seconds / per_run) if per_run > 0 else MAX_BATCH
        self.size = max(1, min(ideal, 2 * self.size, MAX_BATCH))


class PoolExecutor:
    """``--jobs N``: a process pool whose workers have benchsim imported (see the module
    docstring) and take run after run.

    ``devices`` (GPU ids): worker k sees only ``devices[k % len(devices)]``, so ``--jobs 8`` on
    an 8-GPU machine runs one run per GPU.  ``work`` runs a batch of tasks in a worker and
    returns a record each (:func:`~benchsim.sweep._worker.run_batch`; a module-level function,
    as the pool pickles it by name).
    """

    def __init__(
        self,
        jobs: int,
        devices: list[str] | None = None,
        work: Callable[[list[RunTask]], list[RunRecord]] = run_batch,
    ) -> None:
        self.jobs = jobs
        self.devices = devices
        self.work = work
        self.stop = False
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        ensure_server(self.jobs)  # (started early by the command line; a library call here)
        context = worker_context()
        slots = None
        if self.devices:
            slots = context.Queue()
            for number in range(self.jobs):
                slots.put(number)
        # A forked worker starts with the fork server's environment and folder, which are this
        # process's as they were when the server started: pass the current ones, as spawn would,
        # with the worker's share of threads (torch reads OMP_NUM_THREADS when a run imports it).
        environ = {**os.environ, **thread_defaults(self.jobs)}
        return ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=context,
            initializer=init_worker,
            initargs=(slots, self.devices, os.getpid(), environ, os.getcwd()),
        )

    def map_unordered(self, tasks: Iterable[RunTask]) -> Iterator[tuple[RunTask, RunRecord]]:
        queue = deque(tasks)
        sizer = BatchSizer(self.jobs)
        flight: dict[Future, list[RunTask]] = {}
        while True:
            while not self.stop and queue and len(flight) < 2 * self.jobs:
                batch = [queue.popleft() for _ in range(sizer.take(len(queue)))]
                flight[self._pool.submit(self.work, batch)] = batch
            if not flight:
                return
            done, _ = wait(flight, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                batch = flight.pop(future)
                try:
                    records = future.result()
                except BrokenProcessPool as err:
                    broken = True
                    records = [_lost(task, err) for task in batch]
                sizer.learn(records)
                yield from zip(batch, records, strict=True)
            if broken:  # every other run in flight is lost with the pool
                lost = BrokenProcessPool("a worker process died")
                for batch in list(flight.values()):
                    yield from ((task, _lost(task, lost)) for task in batch)
                flight.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start()

    def interrupt(self, signum: int) -> None:
        """Send ``signum`` to every worker: a running run checkpoints and stops, an idle worker
        ignores it (as it ignores a second copy, when the terminal sent one already)."""
        processes = getattr(self._pool, "_processes", None) or {}
        for pid in list(processes):
            try:
                os.kill(pid, signum)
            except (ProcessLookupError, PermissionError):
                continue  # already gone

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_MISSING) from None
    return ray


class RayExecutor:
    """One Ray task per run; ``jobs`` runs in flight (and CPUs of a local instance)."""

    def __init__(self, jobs: int, address: str | None, gpu: bool) -> None:
        ray = _import_ray()
        self.ray, self.jobs, self.stop = ray, jobs, False
        self._owned = not ray.is_initialized()
        if self._owned:
            env = {k: os.environ[k] for k in _FORWARDED_ENV if k in os.environ}
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "runtime_env": {"env_vars": env},
            }
            if address:
                options["address"] = address
            else:
                options["num_cpus"] = jobs
            try:
                ray.init(**options)
            except ConnectionError as err:
                raise ConfigError(
                    f"--address {address!r}: cannot join a Ray cluster ({err})"
                ) from None
        self._remote = ray.remote(num_cpus=1, num_gpus=1 if gpu else 0, max_retries=0)(run_task)

    def map_unordered(self, tasks: Iterable[RunTask]) -> Iterator[tuple[RunTask, RunRecord]]:
        ray, queue = self.ray, iter(tasks)
        flight: dict[Any, RunTask] = {}
        try:
            while True:
                while not self.stop and len(flight) < 2 * self.jobs:
                    task = next(queue, None)
                    if task is None:
                        break
                    flight[self._remote.remote(task)] = task
                if not flight:
                    return
                done, _ = ray.wait(list(flight), num_returns=1)
                for ref in done:
                    task = flight.pop(ref)
                    try:
                        yield task, ray.get(ref)
                    except ray.exceptions.TaskCancelledError:
                        yield task, RunRecord(task.run_id, "interrupted", 0.0)
                    except ray.exceptions.RayError as err:
                        yield task, _lost(task, err)
        finally:
            for ref in flight:
                ray.cancel(ref)

    def interrupt(self, signum: int) -> None:
        """Nothing here: the runs in flight are cancelled when the sweep stops waiting."""

    def close(self) -> None:
        if self._owned:
            self.ray.shutdown()


def check_executor(name: str, jobs: int, address: str | None = None) -> None:
    """Refuse a bad executor name, job count or address in one line, before any work."""
    if name not in EXECUTORS:
        raise UnknownNameError("executor", name, EXECUTORS)
    check_int("--jobs", jobs, 1)
    if address and name != "ray":
        raise ConfigError(f"--address {address!r} is for --executor ray only (got {name})")
    if name == "ray":
        _import_ray()


def make_executor(
    name: str,
    jobs: int,
    address: str | None = None,
    gpu: bool = False,
    devices: list[str] | None = None,
    runs: int | None = None,
) -> InlineExecutor | PoolExecutor | RayExecutor:
    """The executor called ``name`` (``local`` or ``ray``), started.

    ``gpu``: each Ray task reserves a GPU; ``devices``: the local pool spreads its workers over
    these GPUs.  ``runs``: how many runs it will be given; a local pool starts no more workers
    than that (``--jobs 64`` resuming the last two runs of a sweep starts two processes, not
    64 that would each import benchsim to sit idle).
    """
    check_executor(name, jobs, address)
    if name == "ray":
        return RayExecutor(jobs, address, gpu)
    if jobs == 1:
        return InlineExecutor()
    return PoolExecutor(jobs if runs is None else max(1, min(jobs, runs)), devices)
