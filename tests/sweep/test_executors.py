"""The local pool: a GPU sweep's workers spread over the GPUs, one GPU per worker; short runs
travel to the workers in batches."""

from __future__ import annotations

import os
import queue
import signal
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest

from benchsim.sweep._executors import MAX_BATCH, BatchSizer, PoolExecutor
from benchsim.sweep._worker import RunRecord, RunTask, init_worker


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


def _record(run_id: str, seconds: float, status: str = "ok") -> RunRecord:
    return RunRecord(run_id=run_id, status=status, wall_seconds=seconds)


def test_batches_grow_towards_their_target_at_most_doubling():
    sizer = BatchSizer(jobs=2, seconds=0.05)
    assert sizer.take(1000) == 1  # nothing learnt yet: one run at a time
    sizes = []
    for _ in range(6):
        sizer.learn([_record("r", 0.004)] * sizer.size)
        sizes.append(sizer.size)
    assert sizes == [2, 4, 8, 12, 12, 12]  # 0.05 s / 4 ms = 12 runs a batch
    for _ in range(4):
        sizer.learn([_record("r", 0.0)])
    assert sizer.size == MAX_BATCH  # instant runs: the cap, not a division by zero


def test_runs_of_a_second_or_more_go_one_at_a_time():
    sizer = BatchSizer(jobs=4, seconds=0.05)
    for seconds in (0.06, 1.0, 3600.0):
        sizer.learn([_record("r", seconds)])
        assert sizer.take(10**6) == 1
    sizer.learn([_record("r", 0.001)] * 8)
    sizer.learn([_record("r", 0.5)])  # the runs got longer: back to one
    assert sizer.take(10**6) == 1


def test_failed_and_interrupted_runs_teach_nothing():
    sizer = BatchSizer(jobs=2, seconds=0.05)
    sizer.learn([_record("a", 0.0, "failed"), _record("b", 0.0, "interrupted")])
    assert sizer.size == 1


def test_the_last_runs_are_shared_out_among_the_workers():
    sizer = BatchSizer(jobs=2, seconds=0.05)
    sizer.size = 12
    assert [sizer.take(left) for left in (1000, 40, 12, 7, 3, 1)] == [12, 10, 3, 1, 1, 1]


class _InlinePool:
    """A process pool stand-in that runs each batch at once in this process, and loses (as a
    dead worker would) every batch that holds a run named in ``dies``."""

    def __init__(self, dies: set[str], log: list[list[str]]) -> None:
        self.dies, self.log = dies, log

    def submit(self, work, batch):
        future: Future = Future()
        self.log.append([task.run_id for task in batch])
        if self.dies & {task.run_id for task in batch}:
            future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        else:
            future.set_result(work(batch))
        return future

    def shutdown(self, wait=True, cancel_futures=False):
        pass


def _fake_runs(batch):
    return [_record(task.run_id, 0.001) for task in batch]


def test_pool_batches_short_runs_and_a_dead_worker_fails_only_its_batch(monkeypatch):
    """Every run comes back exactly once; runs of a millisecond travel in growing batches; the
    runs of a batch whose worker died come back failed, the pool is started again and the rest
    still run."""
    log: list[list[str]] = []
    starts = []

    def start(self):
        starts.append(1)
        return _InlinePool({"run-40"}, log)

    monkeypatch.setattr(PoolExecutor, "_start", start)
    pool = PoolExecutor(2, work=_fake_runs)
    tasks = [RunTask(f"run-{i}", "rs", i, f"/nowhere/{i}", "/nowhere", {}) for i in range(200)]
    seen = list(pool.map_unordered(tasks))
    assert sorted(task.run_id for task, _ in seen) == sorted(t.run_id for t in tasks)
    assert all(task.run_id == record.run_id for task, record in seen)
    lost = next(batch for batch in log if "run-40" in batch)
    failed = {record.run_id for _, record in seen if record.status == "failed"}
    assert failed == set(lost) and len(lost) > 1  # a whole batch, and only that one
    assert all("BrokenProcessPool" in r.error["type"] for _, r in seen if r.status == "failed")
    assert len(starts) == 2  # started afresh after the loss
    assert max(len(batch) for batch in log) > 8 and len(log) < 60
    assert [len(batch) for batch in log][-3:] == [1, 1, 1]  # the end is shared out


def test_a_stopped_pool_hands_out_no_more_batches(monkeypatch):
    log: list[list[str]] = []
    monkeypatch.setattr(PoolExecutor, "_start", lambda self: _InlinePool(set(), log))
    pool = PoolExecutor(2, work=_fake_runs)
    tasks = [RunTask(f"run-{i}", "rs", i, f"/nowhere/{i}", "/nowhere", {}) for i in range(100)]
    seen = []
    for _task, record in pool.map_unordered(tasks):
        seen.append(record.run_id)
        if len(seen) == 10:
            pool.stop = True
    handed_out = sum(len(batch) for batch in log)
    assert len(seen) == handed_out < 100  # what was in flight came back; nothing more went out


@pytest.mark.parametrize(("jobs", "runs", "workers"), [(8, 3, 3), (8, 1, 1), (2, 200, 2)])
def test_a_local_pool_starts_no_more_workers_than_runs(monkeypatch, jobs, runs, workers):
    from benchsim.sweep._executors import make_executor

    monkeypatch.setattr(PoolExecutor, "_start", lambda self: _InlinePool(set(), []))
    pool = make_executor("local", jobs, runs=runs)
    assert isinstance(pool, PoolExecutor) and pool.jobs == workers


def test_a_sweep_hands_its_pool_the_number_of_runs_to_do(monkeypatch, installed_home, tmp_path):
    from benchsim.sweep import _sweep, make_spec, run_sweep

    asked = []

    def no_pool(*args, **kwargs):
        asked.append(kwargs["runs"])
        raise KeyboardInterrupt  # (nothing needs to run)

    monkeypatch.setattr(_sweep, "make_executor", no_pool)
    spec = make_spec("rs", "0-2", benchmark="nb201", tasks="cifar10", budget="20")
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, tmp_path / "sweep", jobs=8)
    assert asked == [3]
