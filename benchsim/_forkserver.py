"""The fork server a sweep's local workers start from, with benchsim's run path imported once.

A spawned worker is a fresh interpreter that imports numpy, pyarrow and benchsim before its
first run (about a third of a second, per worker).  A fork server (``forkserver``: itself a
fresh process, so safe with threads and CUDA) imports them once, :func:`worker_modules`, and
forks each worker from there, loaded; a forked worker also exits without tearing the
interpreter down.  :func:`start_early` starts the server at the top of ``benchsim sweep`` /
``benchsim reproduce``, so that its imports run beside the sweep's own imports and planning
instead of after them.  Workers get a share of the CPUs' threads each
(:func:`thread_defaults`).  Where the platform has no fork server (Windows) workers are
spawned.

Kept apart from :mod:`benchsim.sweep` so that starting the server early imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import os
from collections.abc import Iterator

from benchsim._registry import module_names


def worker_modules() -> list[str]:
    """What a worker needs before its first run: the sweep's main module (``benchsim``'s
    command line, which each spawned worker would import again), the runner, the table
    backend, every algorithm and search space module (found on disk, not imported), and the
    results store; then :mod:`benchsim._forkserver_exit`, which lets the server end quickly."""
    found = [
        f"benchsim.{package}.{name}"
        for package in ("algorithms", "spaces")
        for name in module_names(f"benchsim.{package}")
    ]
    return [
        "__main__",
        "benchsim.sweep._worker",
        "benchsim.runner",
        "benchsim.backends.table",
        "benchsim.sweep._store",
        *found,
        "benchsim._forkserver_exit",  # last: see that module
    ]


def worker_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` preloading :func:`worker_modules` where the platform has it, else
    ``spawn``."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(worker_modules())  # no effect once the server runs
    return context


def start_early(jobs: int | None, executor: str) -> None:
    """Start the fork server now when the sweep will use a local pool (``jobs`` > 1, or
    ``None``: one job per CPU); it is idle until then, and ends with this process.

    This process then runs no run itself, only hands them out: it takes a worker's share of
    threads too (:func:`thread_defaults`, before it imports numpy), so that its OpenBLAS does
    not start threads that spin on the cores the server and the workers need (0.13 CPU-s of
    a 200-run sweep on 2 cores, 4 % of its wall time)."""
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if executor != "local" or workers <= 1:
        return
    os.environ.update(thread_defaults(workers))
    ensure_server(workers)


def ensure_server(jobs: int) -> None:
    """Start the fork server (where the platform has one) unless it runs, with
    :func:`thread_defaults` in its environment: numpy reads them when the server imports it,
    so every worker forked from it has them; and with the mark of
    :mod:`benchsim._forkserver_exit`."""
    if worker_context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    from benchsim._forkserver_exit import SERVER_MARK

    with threads_per_worker(jobs), _environment({SERVER_MARK: str(os.getpid())}):
        forkserver.ensure_running()


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""The thread counts of numpy's BLAS (OpenBLAS, MKL) and of OpenMP (torch on the CPU)."""


def thread_defaults(jobs: int) -> dict[str, str]:
    """:data:`THREAD_VARIABLES` the user has not set, each the CPUs over ``jobs`` (at least 1),
    as joblib sets them in its workers.

    Each worker is one of ``jobs`` processes sharing the CPUs: with a thread per CPU in every
    worker, ``jobs`` workers would run ``jobs`` times as many threads as CPUs, and OpenBLAS's
    idle threads spin for a while after numpy starts and after each call (a tenth of a
    CPU-second a process here), time taken from the other workers."""
    threads = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    return {name: threads for name in THREAD_VARIABLES if name not in os.environ}


@contextlib.contextmanager
def threads_per_worker(jobs: int) -> Iterator[None]:
    """Processes started inside get :func:`thread_defaults`; this process's own environment
    is restored at the end of the block."""
    with _environment(thread_defaults(jobs)):
        yield


@contextlib.contextmanager
def _environment(added: dict[str, str]) -> Iterator[None]:
    """``added`` in this process's environment (names it does not hold) for the block."""
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
