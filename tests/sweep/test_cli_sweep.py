"""``benchsim sweep`` and ``benchsim verify-repro`` through click: exit codes and one-liners."""

import pytest
from click.testing import CliRunner

from benchsim.cli import main


def _sweep(*args):
    return CliRunner().invoke(main, ["sweep", "--no-progress", *args])


def _one_line(result):
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seeds", "0-x"], "--seeds '0-x' does not parse at '0-x'"),
        (["--seeds", "5-1"], "range '5-1' is empty"),
        (["--algo", "rs,nope"], "unknown algorithm 'nope'; allowed: "),
        (["--executor", "dask"], "'dask' is not one of 'local', 'ray'"),
        (["--tasks", "cifar10,mnist"], "unknown task 'mnist'"),
        (["--budget", "soon"], "budget 'soon' does not parse"),
        (["--param", "nope=1"], "--param 'nope' is a hyperparameter of none of rs"),
        (["--algo", "rs,rea", "--param", "rea.nope=1"], "unknown hyperparameter 'nope' for rea"),
        (["--jobs", "0"], "--jobs == 0, must be an integer >= 1"),
        (["--address", "10.0.0.1:6379"], "--address '10.0.0.1:6379' is for --executor ray only"),
        (["--backend", "gpu", "--backend-option", "chanels=4"], "unknown gpu backend option"),
        (["--backend", "gpu", "--tasks", "cifar10"], "benchsim data prepare cifar10"),
        (["--backend-option", "channels=4"], "unknown table backend option 'channels'"),
        (
            ["--device", "cpu"],
            "--device does not apply to --backend table; it is an option of --backend gpu",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(installed_home, tmp_path, args, message):
    base = {"--algo": "rs", "--seeds": "0-1"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [x for pair in base.items() for x in pair]
    result = _sweep(*argv, "--out", str(tmp_path / "sw"))
    assert result.exit_code == 2, result.output
    assert message in _one_line(result)
    assert not (tmp_path / "sw").exists()


def test_out_under_a_file_and_too_many_seeds_are_one_line(installed_home, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = _sweep("--algo", "rs", "--seeds", "0-1", "--out", str(blocker / "sw"))
    assert result.exit_code == 2, result.output
    assert f"lies under '{blocker}', which is a file" in _one_line(result)
    result = _sweep("--algo", "rs", "--seeds", "0-100000000", "--out", str(tmp_path / "sw"))
    assert result.exit_code == 2, result.output
    assert "is 100,000,001 seeds, more than the 10,000" in _one_line(result)
    assert not (tmp_path / "sw").exists()


def test_success_prints_a_summary_and_a_rerun_skips(installed_home, tmp_path):
    args = ["--algo", "rs", "--seeds", "0-2", "--budget", "5", "--jobs", "1"]
    first = _sweep(*args, "--out", str(tmp_path / "sw"))
    assert first.exit_code == 0, first.output
    assert "3 runs: 3 finished (3 now" in _one_line(first)
    again = _sweep(*args, "--out", str(tmp_path / "sw"))
    assert again.exit_code == 0 and "3 already done" in again.output
    other = _sweep("--algo", "rs", "--seeds", "0-3", "--out", str(tmp_path / "sw"))
    assert other.exit_code == 2 and "holds a different sweep" in _one_line(other)


def test_any_failed_run_exits_1_with_a_summary(installed_home, tmp_path):
    result = _sweep(
        "--algo", "rs,rea", "--seeds", "0-1", "--budget", "5", "--jobs", "1",
        "--param", "rea.population_size=1", "--out", str(tmp_path / "sw"),
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "4 runs: 2 finished" in result.output and "2 failed" in result.output
    assert "Error: 2 of 4 runs failed; errors in" in result.output


def test_gpu_smoke_sweep_on_cpu(installed_home, tmp_path, monkeypatch):
    """Live-backend sweep: tasks name the datasets, the parent builds no supernet."""
    pytest.importorskip("torch")
    from benchsim.backends.gpu import GpuBenchmark

    built = []
    original = GpuBenchmark.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs.get("seed"))
        original(self, *args, **kwargs)

    monkeypatch.setattr(GpuBenchmark, "__init__", counting)
    out = tmp_path / "sw"
    args = ["--algo", "emtnas", "--seeds", "0-1", "--backend", "gpu", "--device", "cpu",
            "--smoke", "--jobs", "1", "--out", str(out)]  # fmt: skip
    result = _sweep(*args)
    assert result.exit_code == 0, result.output
    assert "2 runs: 2 finished" in _one_line(result)
    assert len(built) == 2  # one per run, none in the parent
    import pandas as pd

    runs = pd.read_parquet(out / "results" / "_runs.parquet")
    assert set(runs["task"]) == {"synthetic-shapes", "synthetic-shapes-b"}
    assert set(runs["status"]) == {"ok"} and runs["simulated_seconds"].gt(0).all()


def test_device_and_smoke_need_the_gpu_backend(tmp_path):
    result = _sweep("--algo", "rs", "--seeds", "0", "--smoke", "--out", str(tmp_path / "sw"))
    assert result.exit_code == 2
    assert "--smoke does not apply to --backend table; it is an option of" in _one_line(result)
