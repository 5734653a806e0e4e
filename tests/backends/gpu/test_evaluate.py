"""``Evaluate`` on the live backend: the architecture trained alone (default) or the supernet."""

from __future__ import annotations

import numpy as np
import pytest

from benchsim.backends.gpu import GpuBenchmark
from benchsim.runner import RunConfig, execute_run

TASK = "synthetic-shapes"


def test_schedule_trains_alone_once_and_answers_from_it(make_bench, monkeypatch):
    bench = make_bench(datasets=(TASK,))
    expected = make_bench(datasets=(TASK,)).standalone_train(1462, TASK, 2)
    result = bench.query(1462, TASK, ["valid_acc", "test_acc"], schedule=2)
    assert result["valid_acc"] == expected.valid_acc and result["test_acc"] == expected.test_acc
    assert result.schedule == 2 and result.epoch == 1 and result.cost > 0
    assert result.seed == expected.seed

    def refuse(*args, **kwargs):
        raise AssertionError("trained twice")

    monkeypatch.setattr(GpuBenchmark, "standalone_train", refuse)
    again = bench.query(1462, TASK, "train_acc", schedule=2)
    assert again.value == expected.train_acc and again.cost == result.cost
    fresh = make_bench(datasets=(TASK,))
    fresh.load_state_dict(bench.state_dict())  # the answers so far travel with a checkpoint
    assert fresh.query(1462, TASK, "valid_acc", schedule=2).value == expected.valid_acc


def test_protocol_follows_the_evaluate_setting(make_bench):
    standalone = make_bench(datasets=(TASK,), evaluate_epochs=3).evaluation_protocol(TASK)
    assert standalone.schedule == 3 and "trained alone for 3 epochs" in standalone.note
    supernet = make_bench(datasets=(TASK,), evaluate="supernet").evaluation_protocol(TASK)
    assert supernet.schedule is None and "supernet" in supernet.note


@pytest.mark.parametrize("mode", ["standalone", "supernet"])
def test_random_search_on_the_live_backend(tmp_path, monkeypatch, mode):
    """Each evaluation trains its architecture alone; the summary reuses that training."""
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    trained = []
    original = GpuBenchmark.standalone_train

    def counting(self, arch, task, *args, **kwargs):
        trained.append((int(arch), task))
        return original(self, arch, task, *args, **kwargs)

    monkeypatch.setattr(GpuBenchmark, "standalone_train", counting)
    config = RunConfig(
        algo="rs", backend="gpu", tasks=(TASK,), budget="3",
        backend_options={"device": "cpu", "smoke": True, "channels": 4, "evaluate": mode},
    )  # fmt: skip
    out = execute_run(config, tmp_path / "run")
    archs = out.trajectory.column("arch").to_pylist()
    values = np.array(out.trajectory.column("value").to_pylist())
    assert len(archs) == 3 and np.all((values >= 0) & (values <= 100))
    if mode == "standalone":
        assert sorted(trained) == sorted({(a, TASK) for a in archs})  # once each, summary too
        assert out.config["resolved"]["protocol"][TASK]["schedule"] == 2
    else:
        assert trained == []


def test_a_bad_protocol_schedule_is_one_line(tmp_path, monkeypatch, one_line):
    from benchsim.errors import ConfigError

    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    config = RunConfig(
        algo="rs", backend="gpu", tasks=(TASK,), budget="3", protocol={"schedule": 0},
        backend_options={"device": "cpu", "smoke": True},
    )  # fmt: skip
    with pytest.raises(ConfigError) as excinfo:
        execute_run(config)
    assert "protocol schedule == 0" in one_line(excinfo)
