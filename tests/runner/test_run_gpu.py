"""End-to-end runs on the live backend (CPU): interrupt and resume, per-generation checkpoints.

The live backend charges real seconds, so the trajectory's times differ between two runs; what
must repeat exactly (same seed, CPU) is everything else: which jobs, which architectures, and
the accuracies the supernet gave them.
"""

import pyarrow.parquet as pq
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

from benchsim.runner import RunConfig, RunInterrupted, execute_run, load_checkpoint  # noqa: E402
from benchsim.runner import run as run_module  # noqa: E402

TIMING = ("start_time", "end_time", "cost")


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    return RunConfig(
        algo="emtnas",
        backend="gpu",
        tasks=("synthetic-shapes", "synthetic-shapes-b"),
        params={"generations": 3, "population_size": 4},
        backend_options={"device": "cpu", "smoke": True, "channels": 4},
    )


def _answers(folder):
    """The trajectory without its timing columns (NaN == NaN, as DataFrame.equals has it)."""
    return pq.read_table(folder / "trajectory.parquet").drop_columns(list(TIMING)).to_pandas()


def test_interrupted_run_resumes_to_the_uninterrupted_answers(tmp_path, config):
    execute_run(config, tmp_path / "full", checkpoint_every=None)
    with pytest.raises(RunInterrupted, match="resume with"):
        execute_run(config, tmp_path / "cut", checkpoint_every=None, stop_after=13)
    saved = load_checkpoint(tmp_path / "cut")
    assert saved.bench_state["format"] == "benchsim-gpu-state-1"  # supernets, optimizers, RNGs
    execute_run(config, tmp_path / "cut", resume=True, checkpoint_every=None)
    assert not (tmp_path / "cut" / "checkpoint").exists()
    full, cut = _answers(tmp_path / "full"), _answers(tmp_path / "cut")
    assert len(full) == len(cut) > 13
    assert full["value"].notna().sum() > 10
    assert full.equals(cut)


def test_a_live_run_checkpoints_at_every_generation(tmp_path, config, monkeypatch):
    generations = []
    save = run_module.Run.save

    def spy(run):
        generations.append(run.state.searchers[0][0].milestone())
        save(run)

    monkeypatch.setattr(run_module.Run, "save", spy)
    out = execute_run(config, tmp_path / "run", checkpoint_every=None)
    assert generations == [2, 3]  # on entering generations 2 and 3 (none by wall time)
    # Reporting the found architecture on another task would mean training it: not done.
    assert all(row["test_metric_on"] == {} for row in out.result["tasks"].values())


def test_a_table_run_checkpoints_by_wall_time_only(installed_home, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(run_module.Run, "save", lambda *args: calls.append(args))
    config = RunConfig(algo="emtnas", params={"generations": 5})
    execute_run(config, tmp_path / "run", checkpoint_every=None)
    assert calls == []


def test_a_crash_resumes_from_the_last_generation(tmp_path, config, monkeypatch):
    """No chance to save at the crash: the generation checkpoint is what resumes."""
    from benchsim.backends.gpu._weight_sharing import LiveWeightSharing

    execute_run(config, tmp_path / "full", checkpoint_every=None)
    passes = []
    train = LiveWeightSharing._train_pass

    def crash_in_generation_3(self, *args, **kwargs):
        passes.append(1)
        if len(passes) == 5:  # two tasks: passes 1-2 are generation 1, 3-4 generation 2
            raise MemoryError("simulated crash")
        return train(self, *args, **kwargs)

    monkeypatch.setattr(LiveWeightSharing, "_train_pass", crash_in_generation_3)
    with pytest.raises(MemoryError):
        execute_run(config, tmp_path / "cut", checkpoint_every=None)
    monkeypatch.setattr(LiveWeightSharing, "_train_pass", train)
    saved = load_checkpoint(tmp_path / "cut")
    assert saved.searchers[0][0].milestone() == 3
    execute_run(config, tmp_path / "cut", resume=True, checkpoint_every=None)
    assert _answers(tmp_path / "full").equals(_answers(tmp_path / "cut"))


@pytest.mark.parametrize("algo", ["jt-d", "jt-s"])
def test_joint_training_runs_repeat_and_resume_exactly(tmp_path, config, algo):
    """JT-D / JT-S live: one joint pass per generation, one supernet of both tasks (formed by
    the first pass, re-formed from a checkpoint); the same seed gives the same answers."""
    from dataclasses import replace

    config = replace(config, algo=algo)
    full = execute_run(config, tmp_path / "full", checkpoint_every=None)
    with pytest.raises(RunInterrupted):
        execute_run(config, tmp_path / "cut", checkpoint_every=None, stop_after=7)
    saved = load_checkpoint(tmp_path / "cut")
    assert [list(g) for g in saved.bench_state["groups"]] == [list(config.tasks)]
    execute_run(config, tmp_path / "cut", resume=True, checkpoint_every=None)
    answers = _answers(tmp_path / "full")
    assert answers.equals(_answers(tmp_path / "cut"))
    passes = answers[answers["kind"] == "joint_pass"]
    assert len(passes) == 2 * 3 and set(passes["task"]) == set(config.tasks)
    assert "train_pass" not in set(answers["kind"])
    assert full.result["answers"] == {"supernets": [list(config.tasks)]}
    if algo == "jt-s":  # one architecture for both tasks
        assert len({row["arch"] for row in full.result["tasks"].values()}) == 1
