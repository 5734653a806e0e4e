"""Starting a sweep's fork server early, and the threads of the sweep's own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import json, os, sys
from benchsim._forkserver import start_early
numpy_before = "numpy" in sys.modules
start_early({jobs}, {executor!r})
names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
print(json.dumps({{"numpy_before": numpy_before, **{{n: os.environ.get(n) for n in names}}}}))
"""


def _after_start_early(jobs, executor: str, env: dict[str, str]) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    code = SCRIPT.format(jobs=jobs, executor=executor)
    done = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_pooled_sweeps_own_process_takes_a_workers_share_of_threads():
    """The sweep's process runs no run: its OpenBLAS must not spin threads on the cores the
    workers need, and the user's own setting still wins."""
    seen = _after_start_early(2, "local", {"MKL_NUM_THREADS": "3"})
    share = str(max(1, (os.cpu_count() or 1) // 2))
    assert seen == {
        "numpy_before": False,  # set before numpy starts its threads
        "OMP_NUM_THREADS": share,
        "OPENBLAS_NUM_THREADS": share,
        "MKL_NUM_THREADS": "3",
    }


@pytest.mark.parametrize(("jobs", "executor"), [(1, "local"), (4, "ray")])
def test_a_sweep_that_runs_its_runs_itself_or_on_ray_keeps_its_threads(jobs, executor):
    seen = _after_start_early(jobs, executor, {})
    assert seen["OMP_NUM_THREADS"] is None and seen["OPENBLAS_NUM_THREADS"] is None


FAST_EXIT = """
import atexit, os
atexit.register(print, "teardown ran")  # registered before: skipped by a fast exit
import benchsim._forkserver_exit
print("marked" if "BENCHSIM_FORK_SERVER" in os.environ else "unmarked")
"""


@pytest.mark.parametrize(
    ("mark", "out"),
    [
        (None, "unmarked teardown ran"),
        ("1", "unmarked teardown ran"),  # marked by someone else than its parent
        ("parent", "unmarked"),  # what ensure_server gives the fork server it starts
    ],
)
def test_only_the_marked_fork_server_skips_its_teardown(mark, out):
    """The fork server's interpreter teardown (25 ms) used to run after the sweep ended, and a
    pipe reading the sweep's output waited for it; anywhere else the module must do nothing."""
    unset = ("BENCHSIM_FORK_SERVER", "PYTHONUNBUFFERED")  # buffered, as in CI: flushed?
    env = {k: v for k, v in os.environ.items() if k not in unset}
    if mark is not None:
        env["BENCHSIM_FORK_SERVER"] = str(os.getpid()) if mark == "parent" else mark
    done = subprocess.run([sys.executable, "-c", FAST_EXIT], env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert " ".join(done.stdout.split()) == out


def test_the_fork_server_preloads_the_fast_exit_last():
    from benchsim._forkserver import worker_modules

    assert worker_modules()[-1] == "benchsim._forkserver_exit"


CONSOLE_SCRIPT = """
import sys
from benchsim.cli import {name}
if __name__ == "__main__":
    from concurrent.futures import ProcessPoolExecutor
    from benchsim._forkserver import ensure_server, worker_context
    ensure_server(1)
    with ProcessPoolExecutor(1, mp_context=worker_context()) as pool:
        print(pool.submit(eval, "'benchsim.cli' in __import__('sys').modules").result())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="no fork server")
@pytest.mark.parametrize(("name", "imported"), [("entry", "False"), ("main", "True")])
def test_workers_do_not_run_the_console_script_again(tmp_path, name, imported):
    """A worker re-creates a script ``__main__`` by running it (the console script imports
    ``benchsim.cli``, 20 ms); the ``benchsim`` script (it calls ``entry``) is treated as
    ``python -m benchsim.cli``, which is not run again; any other script still is."""
    script = tmp_path / "benchsim"
    script.write_text(CONSOLE_SCRIPT.format(name=name))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == imported
