"""The local pool spreads a GPU sweep's workers over the GPUs, one GPU per worker."""

from __future__ import annotations

import os
import queue
import signal

import pytest

from benchsim.sweep._executors import PoolExecutor
from benchsim.sweep._worker import init_worker


def test_each_worker_takes_the_next_gpu(monkeypatch):
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    slots: queue.Queue[int] = queue.Queue()
    for number in range(3):
        slots.put(number)
    seen = []
    for _ in range(3):
        init_worker(slots, ["5", "7"])
        seen.append(os.environ["CUDA_VISIBLE_DEVICES"])
    assert seen == ["5", "7", "5"]


def test_without_devices_the_environment_is_left_alone(monkeypatch):
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    init_worker()
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"


def test_pool_workers_see_only_their_gpu():
    pool = PoolExecutor(2, devices=["5", "7"])
    try:
        futures = [pool._pool.submit(os.getenv, "CUDA_VISIBLE_DEVICES") for _ in range(8)]
        assert {f.result(timeout=120) for f in futures} <= {"5", "7"}
    finally:
        pool.close()


def test_pool_workers_run_in_the_sweeps_environment_and_folder(monkeypatch, tmp_path):
    """Workers forked from a fork server started earlier still see the environment and the
    folder of the moment their pool starts (as spawned ones would), not the server's."""
    first = PoolExecutor(1)
    try:
        assert first._pool.submit(os.getpid).result(timeout=120) != os.getpid()
    finally:
        first.close()
    monkeypatch.setenv("BENCHSIM_POOL_CHECK", "after the server started")
    monkeypatch.chdir(tmp_path)
    pool = PoolExecutor(2)
    try:
        seen = [pool._pool.submit(os.getenv, "BENCHSIM_POOL_CHECK") for _ in range(4)]
        folders = [pool._pool.submit(os.getcwd) for _ in range(4)]
        assert {f.result(timeout=120) for f in seen} == {"after the server started"}
        assert {f.result(timeout=120) for f in folders} == {str(tmp_path)}
    finally:
        pool.close()


@pytest.fixture
def fake_gpus(monkeypatch):
    """torch believes it has three GPUs (nothing touches them: only names are resolved)."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("device", "visible", "slots"),
    [
        (None, None, ["0", "1", "2"]),
        ("cuda", "3,5", ["3", "5"]),
        ("cuda:1", None, None),
        ("cpu", None, None),
    ],
)
def test_gpu_sweeps_spread_only_when_the_device_is_left_open(
    fake_gpus, tmp_path, device, visible, slots
):
    from benchsim.backends import outline

    if visible is not None:
        fake_gpus.setenv("CUDA_VISIBLE_DEVICES", visible)
    found = outline(
        "nb201", backend="gpu", datasets=("synthetic-shapes",), device=device,
        root=tmp_path, smoke=True,
    )  # fmt: skip
    assert found.traits.device_slots == (None if slots is None else tuple(slots))
    assert found.traits.gpus_per_run == (0 if device == "cpu" else 1)


def test_pool_workers_die_with_a_killed_sweep(installed_home, tmp_path):
    """Killing only a sweep's main process used to leave its workers running, orphaned."""
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    command = [sys.executable, "-m", "benchsim.cli", "sweep", "--algo", "rs", "--seeds", "0-199",
               "--tasks", "cifar10", "--budget", "3000", "--jobs", "2", "--no-progress",
               "--out", str(tmp_path / "sw")]  # fmt: skip
    env = {**os.environ, "BENCHSIM_HOME": str(installed_home)}
    sweep = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        deadline, workers = time.time() + 60, []
        while time.time() < deadline and len(workers) < 2:
            children = psutil.Process(sweep.pid).children(recursive=True)
            # spawned workers, or the fork server and the workers forked from it
            workers = [c for c in children if "multiprocessing" in " ".join(c.cmdline())]
            time.sleep(0.2)
        assert len(workers) >= 2, "the pool never started"
        time.sleep(1.0)
        os.kill(sweep.pid, signal.SIGKILL)
        sweep.wait()
        _gone, alive = psutil.wait_procs(workers, timeout=20)
        assert not alive, f"orphaned workers still running: {[p.pid for p in alive]}"
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)


def test_pool_workers_share_the_cpus_threads(monkeypatch):
    """Each of N workers gets the CPUs over N as its BLAS/OpenMP threads, unless the user set
    them; the sweep's own environment is left as it was."""
    from benchsim._forkserver import THREAD_VARIABLES, threads_per_worker

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # the user's own setting wins
    pool = PoolExecutor(2)
    try:
        seen = {name: pool._pool.submit(os.getenv, name).result(timeout=120) for name in
                THREAD_VARIABLES}  # fmt: skip
    finally:
        pool.close()
    share = str(max(1, (os.cpu_count() or 1) // 2))
    assert seen == {"OMP_NUM_THREADS": share, "OPENBLAS_NUM_THREADS": share, "MKL_NUM_THREADS": "3"}
    assert "OMP_NUM_THREADS" not in os.environ and "OPENBLAS_NUM_THREADS" not in os.environ
    with threads_per_worker(10**6):  # what a fork server started inside would inherit
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert "OPENBLAS_NUM_THREADS" not in os.environ
