"""``retrain_run`` / ``benchsim retrain``: standalone re-training of a finished run's picks."""

import json

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

from benchsim.backends.gpu import GpuBenchmark  # noqa: E402
from benchsim.backends.gpu.retrain import retrain_run  # noqa: E402
from benchsim.cli import main  # noqa: E402
from benchsim.errors import BenchsimError, ConfigError  # noqa: E402
from benchsim.runner import RunConfig, execute_run  # noqa: E402

TASKS = ("synthetic-shapes", "synthetic-shapes-b")


@pytest.fixture(scope="module")
def live_run(tmp_path_factory):
    """A finished smoke EMT-NAS run on the live backend (CPU)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BENCHSIM_HOME", str(home))
        folder = tmp_path_factory.mktemp("run") / "emtnas"
        config = RunConfig(
            algo="emtnas", backend="gpu", tasks=TASKS,
            params={"generations": 2, "population_size": 4},
            backend_options={"device": "cpu", "smoke": True, "channels": 4},
        )  # fmt: skip
        execute_run(config, folder, checkpoint_every=None)
    return home, folder


@pytest.fixture
def run_dir(live_run, tmp_path, monkeypatch):
    """A fresh copy of the run folder (each test writes its own retrain.json)."""
    import shutil

    home, folder = live_run
    monkeypatch.setenv("BENCHSIM_HOME", str(home))
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    return copy


def test_retrains_every_task_and_records_it(run_dir):
    record = retrain_run(run_dir, epochs=2)
    result = json.loads((run_dir / "result.json").read_text())
    assert set(record["tasks"]) == set(TASKS)
    for task, row in record["tasks"].items():
        assert row["arch"] == result["tasks"][task]["arch"]
        assert 0 <= row["test_acc"] <= 100 and row["train_time_s"] > 0
        assert row["search_metric"] == result["tasks"][task]["search_metric"]
    saved = json.loads((run_dir / "retrain.json").read_text())
    assert saved["tasks"] == record["tasks"] and saved["epochs"] == 2
    assert saved["settings"]["channels"] == 4 and "torch" in saved["versions"]
    assert saved["data"]["synthetic-shapes"]["sha256"]


def test_same_seed_same_numbers(run_dir, tmp_path):
    first = retrain_run(run_dir, epochs=1, out=tmp_path / "a.json")
    second = retrain_run(run_dir, epochs=1, out=tmp_path / "b.json")
    for task in TASKS:
        for key in ("train_acc", "valid_acc", "test_acc", "seed"):
            assert first["tasks"][task][key] == second["tasks"][task][key]


def test_an_interrupted_retraining_continues(run_dir, monkeypatch):
    train = GpuBenchmark.standalone_train
    calls = []

    def once_then_fail(self, arch, task, *args, **kwargs):
        calls.append(task)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return train(self, arch, task, *args, **kwargs)

    monkeypatch.setattr(GpuBenchmark, "standalone_train", once_then_fail)
    with pytest.raises(KeyboardInterrupt):
        retrain_run(run_dir, epochs=1)
    kept = json.loads((run_dir / "retrain.json").read_text())["tasks"]
    assert list(kept) == [TASKS[0]]
    monkeypatch.setattr(GpuBenchmark, "standalone_train", train)
    record = retrain_run(run_dir, epochs=1)
    assert set(record["tasks"]) == set(TASKS)
    assert record["tasks"][TASKS[0]] == kept[TASKS[0]]  # kept, not trained again


def test_a_record_of_other_settings_is_never_overwritten(run_dir, one_line):
    retrain_run(run_dir, epochs=1, tasks=(TASKS[0],))
    with pytest.raises(ConfigError) as excinfo:
        retrain_run(run_dir, epochs=2)
    assert "holds a re-training with other epochs" in one_line(excinfo)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tasks": ("cifar10",)}, "task 'cifar10' is not a task of this run"),
        ({"epochs": 0}, "epochs == 0, must be an integer >= 1"),
        ({"options": {"device": "tpu"}}, "device == 'tpu'"),
        ({"options": {"chanels": 3}}, "unknown gpu backend option 'chanels'"),
    ],
)
def test_bad_input_is_one_line(run_dir, kwargs, message, one_line):
    with pytest.raises(BenchsimError) as excinfo:
        retrain_run(run_dir, **kwargs)
    assert message in one_line(excinfo)
    assert not (run_dir / "retrain.json").exists()


def test_not_a_run_and_table_runs_without_data(installed_home, tmp_path, one_line):
    with pytest.raises(ConfigError) as excinfo:
        retrain_run(tmp_path)
    assert "is not a finished benchsim run (no config.json)" in one_line(excinfo)
    execute_run(RunConfig(algo="rs", tasks=("cifar10",), budget="5"), tmp_path / "nb")
    with pytest.raises(BenchsimError) as excinfo:
        retrain_run(tmp_path / "nb", options={"device": "cpu"})
    assert "dataset 'cifar10' is not prepared" in one_line(excinfo)
    execute_run(
        RunConfig(algo="rs", benchmark="tnb101-micro", tasks=("class_scene",), budget="5"),
        tmp_path / "tnb",
    )
    with pytest.raises(BenchsimError) as excinfo:
        retrain_run(tmp_path / "tnb", options={"device": "cpu"})
    assert "unknown dataset 'class_scene'" in one_line(excinfo)


def test_cli(run_dir):
    res = CliRunner().invoke(
        main, ["retrain", str(run_dir), "--epochs", "1", "--tasks", TASKS[1], "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    assert "re-trained for 1 epochs" in res.output and f"record: {run_dir}" in res.output
    bad = CliRunner().invoke(main, ["retrain", str(run_dir), "--backend-option", "x"])
    assert bad.exit_code == 2 and "must look like name=value" in bad.output
