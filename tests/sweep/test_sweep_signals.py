"""``benchsim sweep`` stopped from outside: Ctrl-C, SIGTERM (``docker stop``, ``kill``: the
sweep's process only) and SIGHUP checkpoint the running runs, in this process or in pool
workers; the summary says which runs are checkpointed; running the sweep again resumes them to
the very bytes of uninterrupted runs.

Real processes and signals; small runs (EMT-NAS, 1,000 generations).  The signal goes to the
sweep's process alone, as ``kill`` and ``docker stop`` send it: the sweep must pass it on.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from benchsim.runner import RunConfig, execute_run
from benchsim.sweep import make_spec, run_dir, run_sweep

TASKS = ("cifar10", "cifar100")
PARAM = "emtnas.generations=1000"


def _spec():
    return make_spec("emtnas", "0-1", tasks=",".join(TASKS), params=[PARAM])


@pytest.fixture(scope="module")
def uninterrupted(installed_home, tmp_path_factory) -> list[bytes]:
    """trajectory.parquet of each run, run straight through."""
    files = []
    for seed in (0, 1):
        out = tmp_path_factory.mktemp("whole") / "run"
        execute_run(
            RunConfig(algo="emtnas", tasks=TASKS, seed=seed, params={"generations": 1000}), out
        )
        files.append((out / "trajectory.parquet").read_bytes())
    return files


@pytest.mark.parametrize(
    ("signum", "jobs"),
    [(signal.SIGTERM, 2), (signal.SIGHUP, 1), (signal.SIGINT, 2)],
    ids=["SIGTERM-pool", "SIGHUP-inline", "SIGINT-pool"],
)
def test_a_stopped_sweep_checkpoints_says_so_and_resumes_exactly(
    installed_home, tmp_path, uninterrupted, signum, jobs
):
    """SIGTERM and SIGHUP used to kill a sweep with nothing saved; after Ctrl-C the summary
    called the checkpointed runs "not run"."""
    out = tmp_path / "sw"
    command = [sys.executable, "-m", "benchsim.cli", "sweep", "--algo", "emtnas",
               "--seeds", "0-1", "--tasks", ",".join(TASKS), "--param", PARAM,
               "--jobs", str(jobs), "--no-progress", "--out", str(out)]  # fmt: skip
    env = {**os.environ, "BENCHSIM_HOME": str(installed_home)}
    sweep = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "runs").glob("*/*/seed=*/config.json"))) < jobs:  # searching
            assert sweep.poll() is None, sweep.communicate()
            assert time.monotonic() < deadline, "no run started"
            time.sleep(0.01)
        os.kill(sweep.pid, signum)
        stdout, stderr = sweep.communicate(timeout=120)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
    assert sweep.returncode == 128 + signum, (stdout, stderr)
    name = signal.Signals(signum).name
    assert len(stderr.strip().splitlines()) == 1 and f"interrupted by {name}" in stderr, stderr
    folders = [run_dir(out, "emtnas", TASKS, seed) for seed in (0, 1)]
    saved = [f for f in folders if (f / "checkpoint" / "SHA256SUMS").is_file()]
    assert saved, "no run was checkpointed"
    assert len(saved) == jobs  # in a pool, both runs got the signal the sweep passed on
    assert ("not run" in stdout) == (jobs == 1)
    found = re.search(r"(\d+) interrupted and checkpointed \(running this sweep again", stdout)
    assert found and int(found[1]) == len(saved), stdout
    assert not any((f / "result.json").exists() for f in saved)

    again = run_sweep(_spec(), out)
    assert again.resumed == len(saved) and again.failed == 0
    for folder, whole in zip(folders, uninterrupted, strict=True):
        assert (folder / "trajectory.parquet").read_bytes() == whole
