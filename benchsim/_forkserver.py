"""The fork server a sweep's local workers start from, with benchsim's run path imported once.

A spawned worker is a fresh interpreter that imports numpy, pyarrow and benchsim before its
first run (about a third of a second, per worker).  A fork server (``forkserver``: itself a
fresh process, so safe with threads and CUDA) imports them once, :func:`worker_modules`, and
forks each worker from there, loaded; a forked worker also exits without tearing the
interpreter down.  :func:`start_early` starts the server at the top of ``benchsim sweep`` /
``benchsim reproduce``, so that its imports run beside the sweep's own imports and planning
instead of after them.  Where the platform has no fork server (Windows) workers are spawned.

Kept apart from :mod:`benchsim.sweep` so that starting the server early imports nothing heavy.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os

from benchsim._registry import module_names


def worker_modules() -> list[str]:
    """What a worker needs before its first run: the sweep's main module (``benchsim``'s
    command line, which each spawned worker would import again), the runner, the table
    backend, every algorithm module (found on disk, not imported) and the results store."""
    algorithms = [f"benchsim.algorithms.{name}" for name in module_names("benchsim.algorithms")]
    return [
        "__main__",
        "benchsim.sweep._worker",
        "benchsim.runner",
        "benchsim.backends.table",
        "benchsim.sweep._store",
        *algorithms,
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
    ``None``: one job per CPU); it is idle until then, and ends with this process."""
    if executor != "local" or (jobs if jobs is not None else (os.cpu_count() or 1)) <= 1:
        return
    if worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()
