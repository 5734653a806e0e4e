"""Sweeps end to end on the real NB201 table: layout, resume, failures, refusal, executors."""

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import benchsim.runner
from benchsim.errors import ConfigError
from benchsim.runner import RunConfig, RunInterrupted, execute_run
from benchsim.sweep import make_spec, run_dir, run_sweep

TASKS = ("cifar10", "cifar100")


def _spec(algos="rs,rea", seeds="0-1", budget="12", params=()):
    return make_spec(algos, seeds, tasks=",".join(TASKS), budget=budget, params=params)


def _direct(algo, seed, budget="12", params=None):
    """The trajectory of the same run made directly, with its text columns as the file
    holds them (plain strings; in memory they are dictionary-encoded)."""
    config = RunConfig(algo=algo, tasks=TASKS, seed=seed, budget=budget, params=params or {})
    table = execute_run(config).trajectory
    plain = [
        pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
        for f in table.schema
    ]
    return table.cast(pa.schema(plain))


def _trajectory(out, algo, seed):
    return pq.read_table(run_dir(out, algo, TASKS, seed) / "trajectory.parquet")


def test_layout_results_and_same_numbers_as_a_direct_run(installed_home, tmp_path):
    out = tmp_path / "sw"
    summary = run_sweep(_spec(), out)
    assert (summary.total, summary.finished, summary.failed) == (4, 4, 0)
    assert json.loads((out / "sweep.json").read_text())["seeds"] == "0-1"
    for algo in ("rs", "rea"):
        for seed in (0, 1):
            folder = out / "runs" / algo / "cifar10+cifar100" / f"seed={seed}"
            assert {p.name for p in folder.iterdir()} == {
                "config.json",
                "trajectory.parquet",
                "result.json",
            }
            assert _trajectory(out, algo, seed).equals(_direct(algo, seed))
    runs = pd.read_parquet(out / "results" / "_runs.parquet")
    assert len(runs) == 8 and (runs["status"] == "ok").all()
    assert set(runs["task"]) == set(TASKS) and (runs["evaluations"] == 12).all()
    data = pd.read_parquet(out / "results")
    assert set(data["algo"].astype(str)) == {"rs", "rea"}
    assert data.groupby("run_id").size().to_dict() == dict.fromkeys(runs["run_id"], 24)


def test_rerun_skips_finished_runs_and_restores_missing_parts(installed_home, tmp_path):
    out = tmp_path / "sw"
    run_sweep(_spec(), out)
    result = run_dir(out, "rea", TASKS, 1) / "result.json"
    stamp = result.stat().st_mtime_ns
    part = (
        out / "results" / "algo=rea" / "task=cifar100" / "part-rea__cifar10+cifar100__seed1.parquet"
    )
    before = pq.read_table(part)
    part.unlink()
    again = run_sweep(_spec(), out)
    assert (again.skipped, again.finished, again.failed) == (4, 0, 0)
    assert result.stat().st_mtime_ns == stamp
    assert pq.read_table(part).equals(before)


def test_interrupted_run_resumes_from_its_checkpoint(installed_home, tmp_path):
    out = tmp_path / "sw"
    spec = _spec(algos="rea", budget="30")
    run_sweep(spec, out)  # claim the folder, then simulate a kill of seed 1 mid-run
    folder = run_dir(out, "rea", TASKS, 1)
    for path in sorted(folder.iterdir()):
        path.unlink()
    folder.rmdir()
    config = RunConfig(algo="rea", tasks=TASKS, seed=1, budget="30")
    with pytest.raises(RunInterrupted):
        execute_run(config, folder, stop_after=17)
    assert (folder / "checkpoint" / "SHA256SUMS").is_file()
    assert not (folder / "result.json").exists()

    summary = run_sweep(spec, out)
    assert (summary.skipped, summary.finished, summary.resumed) == (1, 1, 1)
    resumed = _trajectory(out, "rea", 1)
    assert resumed.equals(_direct("rea", 1, budget="30"))  # nothing lost, nothing twice
    assert resumed.column("step").to_pylist() == list(range(60))
    assert not (folder / "checkpoint").exists()
    runs = pd.read_parquet(out / "results" / "_runs.parquet")
    mine = runs[runs["run_id"] == "rea__cifar10+cifar100__seed1"]
    assert len(mine) == 2 and (mine["evaluations"] == 30).all()
    parts = pd.read_parquet(out / "results", filters=[("run_id", "=", mine["run_id"].iloc[0])])
    assert len(parts) == 60


def _flip_middle(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    return path


def _edit_clock(folder):
    (path,) = folder.glob("state-*.json")
    text = path.read_text()
    at = text.index('"_now": ') + len('"_now": ')
    path.write_text(text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1 :])
    return path


@pytest.mark.parametrize(
    "damage",
    [lambda f: _flip_middle(f / "trajectory-000001.parquet"), _edit_clock],
    ids=["flipped part", "edited state"],
)
def test_a_damaged_run_checkpoint_fails_that_run_and_writes_no_rows(
    installed_home, tmp_path, damage
):
    """A sweep used to resume a damaged checkpoint silently and write its wrong rows (end
    times of 8e286) into the shared results dataset."""
    out = tmp_path / "sw"
    spec = _spec(algos="rea", budget="30")
    run_sweep(spec, out)
    folder = run_dir(out, "rea", TASKS, 1)
    shutil.rmtree(folder)
    for part in (out / "results").glob("algo=rea/task=*/part-rea__cifar10+cifar100__seed1.*"):
        part.unlink()
    config = RunConfig(algo="rea", tasks=TASKS, seed=1, budget="30")
    with pytest.raises(RunInterrupted):
        execute_run(config, folder, stop_after=17)
    damaged = damage(folder / "checkpoint")

    summary = run_sweep(spec, out)
    assert (summary.skipped, summary.finished, summary.failed) == (1, 0, 1)
    record = json.loads((out / "failures" / "rea__cifar10+cifar100__seed1.json").read_text())
    message = record["error"]["message"]
    assert record["error"]["type"] == "CheckpointError" and "\n" not in message
    assert f"checkpoint file {damaged} does not match its SHA-256" in message
    (aside,) = (out / "damaged").iterdir()
    assert aside.name.startswith("rea__cifar10+cifar100__seed1.") and str(aside) in message
    assert (aside / "checkpoint" / damaged.name).is_file() and not folder.exists()
    data = pd.read_parquet(out / "results")
    assert "rea__cifar10+cifar100__seed1" not in set(data["run_id"])  # no rows, wrong or not
    runs = pd.read_parquet(out / "results" / "_runs.parquet")
    mine = runs[runs["run_id"] == "rea__cifar10+cifar100__seed1"]
    assert set(mine["status"]) == {"failed"} and mine["error"].str.contains("SHA-256").all()

    again = run_sweep(spec, out)  # starts the run over from its configuration
    assert (again.skipped, again.finished, again.resumed, again.failed) == (1, 1, 0, 0)
    assert _trajectory(out, "rea", 1).equals(_direct("rea", 1, budget="30"))


def test_a_sweep_leaves_no_signal_handler_installed(installed_home, tmp_path):
    """run_sweep catches Ctrl-C, SIGTERM and SIGHUP only while it runs (library use)."""
    import signal

    wanted = [s for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s)]
    before = {name: signal.getsignal(getattr(signal, name)) for name in wanted}
    run_sweep(_spec(algos="rs", seeds="0"), tmp_path / "sw")
    assert {name: signal.getsignal(getattr(signal, name)) for name in wanted} == before


def test_half_written_run_without_checkpoint_is_redone(installed_home, tmp_path):
    out = tmp_path / "sw"
    run_sweep(_spec(), out)
    folder = run_dir(out, "rs", TASKS, 0)
    (folder / "result.json").unlink()
    (folder / "trajectory.parquet").write_bytes(b"truncated")
    summary = run_sweep(_spec(), out)
    assert (summary.skipped, summary.finished, summary.resumed) == (3, 1, 0)
    assert _trajectory(out, "rs", 0).equals(_direct("rs", 0))


def test_finished_run_of_another_config_is_kept_aside_and_redone(installed_home, tmp_path):
    out = tmp_path / "sw"
    run_sweep(_spec(), out)
    config_path = run_dir(out, "rea", TASKS, 0) / "config.json"
    config = json.loads(config_path.read_text())
    config["params"]["sample_size"] = 2  # as if the algorithm's default had changed
    config_path.write_text(json.dumps(config))
    summary = run_sweep(_spec(), out)
    assert (summary.skipped, summary.finished, summary.moved_stale) == (3, 1, 1)
    stale = list((out / "stale").iterdir())
    assert len(stale) == 1 and stale[0].name.startswith("rea__cifar10+cifar100__seed0.")
    assert (stale[0] / "result.json").is_file()
    assert _trajectory(out, "rea", 0).equals(_direct("rea", 0))


def test_failed_runs_are_recorded_and_the_others_finish(installed_home, tmp_path):
    out = tmp_path / "sw"
    summary = run_sweep(_spec(params=["rea.population_size=1"]), out)
    assert (summary.finished, summary.failed) == (2, 2)
    record = json.loads((out / "failures" / "rea__cifar10+cifar100__seed0.json").read_text())
    assert record["error"]["type"] == "ConfigError"
    assert "population_size == 1" in record["error"]["message"]
    assert "Traceback" in record["error"]["traceback"]
    assert record["config"]["params"] == {"population_size": 1}
    runs = pd.read_parquet(out / "results" / "_runs.parquet")
    assert set(runs.loc[runs["algo"] == "rea", "status"]) == {"failed"}
    assert set(runs.loc[runs["algo"] == "rs", "status"]) == {"ok"}
    assert runs.loc[runs["algo"] == "rea", "error"].str.contains("population_size").all()


def test_failed_run_is_retried_and_its_record_cleared(installed_home, tmp_path, monkeypatch):
    real = benchsim.runner.execute_run

    def flaky(config, out=None, **kw):
        if config.seed == 1 and not kw.get("resume"):
            raise RuntimeError("disk on fire")
        return real(config, out, **kw)

    out = tmp_path / "sw"
    monkeypatch.setattr(benchsim.runner, "execute_run", flaky)
    first = run_sweep(_spec(algos="rs"), out)
    assert (first.finished, first.failed) == (1, 1)
    failure = out / "failures" / "rs__cifar10+cifar100__seed1.json"
    assert json.loads(failure.read_text())["error"]["message"] == "disk on fire"
    monkeypatch.setattr(benchsim.runner, "execute_run", real)
    second = run_sweep(_spec(algos="rs"), out)
    assert (second.skipped, second.finished, second.failed) == (1, 1, 0)
    assert not failure.exists()


def test_a_folder_of_another_sweep_is_refused(installed_home, tmp_path):
    out = tmp_path / "sw"
    run_sweep(_spec(algos="rs"), out)
    with pytest.raises(ConfigError, match=r"holds a different sweep \(differs in seeds"):
        run_sweep(_spec(algos="rs", seeds="0-2"), out)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"not empty and holds no sweep\.json"):
        run_sweep(_spec(algos="rs"), other)


def test_a_live_lock_is_refused_and_a_dead_one_taken_over(installed_home, tmp_path):
    import socket

    out = tmp_path / "sw"
    out.mkdir()
    lock = out / ".sweep.lock"
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    with pytest.raises(ConfigError, match="another sweep"):
        run_sweep(_spec(algos="rs", seeds="0"), out)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    lock.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))
    assert run_sweep(_spec(algos="rs", seeds="0"), out).finished == 1
    assert not lock.exists()


def test_runs_that_finish_after_a_stop_count_as_finished(installed_home, tmp_path, monkeypatch):
    """A stop while a worker was inside a batch: the runs it finished after the sweep stopped
    listening have their files, so they count as finished (summary, _runs.parquet, parts)
    instead of "not run"."""
    import benchsim.sweep._sweep as sweep_module
    from benchsim.sweep._executors import InlineExecutor
    from benchsim.sweep._worker import run_task

    class StopsAfterOne(InlineExecutor):
        def map_unordered(self, tasks):
            tasks = list(tasks)
            done = [run_task(task) for task in tasks[:3]]  # a batch of three, all finished
            yield tasks[0], done[0]
            raise KeyboardInterrupt  # the sweep stops listening after the first

    monkeypatch.setattr(sweep_module, "make_executor", lambda *a, **k: StopsAfterOne())
    out = tmp_path / "sw"
    summary = run_sweep(_spec(seeds="0-2"), out)
    assert summary.interrupted and (summary.finished, summary.left) == (3, 3)
    assert "3 not run" in summary.line() and "checkpointed" not in summary.line()
    runs = pd.read_parquet(out / "results" / "_runs.parquet")
    assert (runs["status"] == "ok").sum() == 2 * 3  # two tasks a run
    parts = list((out / "results").rglob("part-*.parquet"))
    assert len(parts) == 2 * 3
    assert run_sweep(_spec(seeds="0-2"), out).skipped == 3  # and the next sweep agrees


def test_process_pool_gives_the_same_files_as_one_process(installed_home, tmp_path):
    spec = _spec(algos="rs,emtnas", params=["emtnas.population_size=4", "emtnas.generations=3"])
    inline = run_sweep(spec, tmp_path / "one", jobs=1)
    pooled = run_sweep(spec, tmp_path / "two", jobs=2)
    assert pooled.finished == inline.finished == 4
    assert {r.worker_pid for r in pooled.records}.isdisjoint({os.getpid()})
    for algo in ("rs", "emtnas"):
        for seed in (0, 1):
            a = run_dir(tmp_path / "one", algo, TASKS, seed) / "trajectory.parquet"
            b = run_dir(tmp_path / "two", algo, TASKS, seed) / "trajectory.parquet"
            assert a.read_bytes() == b.read_bytes()


def test_ray_executor_without_ray_says_how_to_install(installed_home, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ConfigError, match=r"Ray is not installed: pip install benchsim\[ray\]"):
        run_sweep(_spec(algos="rs", seeds="0"), tmp_path / "sw", executor="ray")
    assert not (tmp_path / "sw").exists()
