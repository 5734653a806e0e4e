"""``benchsim run`` through click: outputs, summary, one-line errors, resume."""

import json
import re

import pytest
from click.testing import CliRunner

from benchsim.cli import main
from benchsim.runner import RunConfig, RunInterrupted, execute_run


def _run(*args):
    return CliRunner().invoke(main, ["run", "--no-progress", *args])


def test_run_prints_summary_and_writes_results(installed_home, tmp_path):
    out = tmp_path / "r"
    res = _run("--algo", "rs", "--tasks", "cifar10", "--budget", "15", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "simulated GPU-hours" in res.output
    assert "cifar10" in res.output
    result = json.loads((out / "result.json").read_text())
    assert result["tasks"]["cifar10"]["evaluations"] == 15


def test_run_with_config_file_and_params(installed_home, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('algo = "rea"\ntasks = ["cifar100"]\nbudget = "20"\n[params]\nsample_size = 5\n')
    out = tmp_path / "r"
    res = _run("--config", str(cfg), "--param", "population_size=6", "--out", str(out))
    assert res.exit_code == 0, res.output
    written = json.loads((out / "config.json").read_text())
    assert written["params"] == {"population_size": 6, "sample_size": 5}
    assert written["tasks"] == ["cifar100"]


def test_bad_inputs_exit_2_with_one_line(installed_home, tmp_path):
    cases = [
        (["--algo", "nope"], "unknown algorithm 'nope'"),
        (["--algo", "rs", "--tasks", "cifar11"], "unknown task 'cifar11'"),
        (["--algo", "rs", "--budget", "soon"], "budget 'soon' does not parse"),
        (["--algo", "rs", "--budget", "0"], "cannot be met"),
        (["--algo", "rea", "--param", "pop=3"], "unknown hyperparameter 'pop'"),
        (["--algo", "rea", "--param", "novalue"], "must look like name=value"),
        (["--algo", "rs", "--workers", "0"], "workers == 0"),
        (["--algo", "rs", "--benchmark", "nb999"], "nb999"),
    ]
    for args, message in cases:
        res = _run(*args, "--out", str(tmp_path / "never"))
        assert res.exit_code == 2, (args, res.output)
        lines = [line for line in res.output.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], (args, res.output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algo", "emtnas", "--param", "population_size=100000000"],
         "population_size == 100000000, must be an integer in [2, 15625]"),
        (["--algo", "emtnas", "--param", "population_size=15626", "--param", "generations=2"],
         "population_size == 15626, must be an integer in [2, 15625]"),
        (["--algo", "jt-s", "--param", "population_size=15626", "--param", "generations=2"],
         "population_size == 15626, must be an integer in [2, 15625]"),
        (["--algo", "rea", "--param", "population_size=15626", "--budget", "20"],
         "population_size == 15626, must be an integer in [2, 15625]"),
        (["--algo", "rs", "--workers", "100000000"],
         "workers == 100000000, must be an integer in [1, 15625]"),
        (["--algo", "rs", "--workers", "15626", "--budget", "20"],
         "workers == 15626, must be an integer in [1, 15625]"),
        (["--algo", "rs", "--benchmark", "tnb101-macro", "--workers", "3257", "--budget", "20"],
         "workers == 3257, must be an integer in [1, 3256]"),
    ],
)  # fmt: skip
def test_sizes_beyond_the_space_are_refused_before_any_work(
    installed_home, tmp_path, args, message
):
    """A population or worker count larger than the space used to be accepted silently: a
    hundred million held the run for minutes with no output (or raised at the 32,768th
    worker); now one line names the value and the allowed range, and nothing is written."""
    res = _run(*args, "--out", str(tmp_path / "never"))
    assert res.exit_code == 2, (args, res.output)
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], (args, res.output)
    assert not (tmp_path / "never").exists()


def test_out_under_a_file_is_one_line_before_any_work(installed_home, tmp_path):
    """It used to run the whole search and then fail on a raw NotADirectoryError."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = _run("--algo", "rs", "--budget", "5", "--out", str(blocker / "run"))
    assert res.exit_code == 2, res.output
    (line,) = [x for x in res.output.splitlines() if x.strip()]
    assert f"--out '{blocker / 'run'}' lies under '{blocker}', which is a file" in line


def test_an_interrupted_run_folder_is_named_as_such(installed_home, tmp_path):
    """A checkpointed run's folder was called one 'that stopped before its first checkpoint'."""
    with pytest.raises(RunInterrupted):
        execute_run(RunConfig(algo="rs", budget="30"), tmp_path / "cut", stop_after=5)
    res = _run("--algo", "rs", "--budget", "30", "--out", str(tmp_path / "cut"))
    assert res.exit_code == 2
    assert (
        f"holds an interrupted run; continue it with `benchsim run --resume {tmp_path / 'cut'}`"
        in res.output
    )


def test_off_a_terminal_progress_is_plain_lines_and_the_table_full_width(installed_home, tmp_path):
    """Piped or logged (CliRunner is not a terminal), `benchsim run` printed nothing until
    the end and cut its table to 80 columns, wrapping each metric onto a second line."""
    tasks = "class_object,segmentsemantic,autoencoder"
    args = ["--algo", "rs", "--benchmark", "tnb101-micro", "--tasks", tasks, "--budget", "20"]
    res = CliRunner().invoke(main, ["run", *args, "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    progress = [x for x in res.stderr.splitlines() if x.startswith("benchsim run: ")]
    assert progress and re.fullmatch(
        r"benchsim run: [\d,]+ evaluations?, [\d.]+ simulated GPU-h, \d+ s", progress[0]
    ), res.stderr
    rows = {line.split("│")[1].strip(): line for line in res.stdout.splitlines() if "│" in line}
    for task, metric in (("class_object", "valid_top1"), ("segmentsemantic", "valid_mIoU")):
        assert re.search(rf"│ {metric} \d+\.\d{{4}} +│", rows[task]), res.stdout  # one line
    assert max(len(line) for line in res.stdout.splitlines()) > 80  # not cut to 80 columns
    quiet = CliRunner().invoke(main, ["run", *args, "--no-progress", "--out", str(tmp_path / "q")])
    assert quiet.exit_code == 0 and "benchsim run: " not in quiet.stderr


def test_second_run_into_nonempty_out_is_refused(installed_home, tmp_path):
    out = tmp_path / "r"
    assert _run("--algo", "rs", "--budget", "5", "--out", str(out)).exit_code == 0
    before = (out / "result.json").read_bytes()
    res = _run("--algo", "rs", "--budget", "5", "--out", str(out))
    assert res.exit_code == 2 and "holds a finished run (result.json)" in res.output
    assert (out / "result.json").read_bytes() == before


def test_resume_from_the_command_line(installed_home, tmp_path):
    config = RunConfig(algo="rea", tasks=("cifar10",), budget="30")
    with pytest.raises(RunInterrupted):
        execute_run(config, tmp_path / "cut", stop_after=9)
    res = _run("--resume", str(tmp_path / "cut"))
    assert res.exit_code == 0, res.output
    execute_run(config, tmp_path / "full")
    assert (tmp_path / "cut" / "trajectory.parquet").read_bytes() == (
        tmp_path / "full" / "trajectory.parquet"
    ).read_bytes()
    res = _run("--resume", str(tmp_path / "full"))
    assert res.exit_code == 2 and "already finished" in res.output


def test_list_algorithms():
    res = _run("--list")
    assert res.exit_code == 0
    assert "rea" in res.output and "single-task" in res.output


def test_smoke_is_small_for_every_registered_algorithm():
    """--smoke once shrank only algorithms with generations: rs ran 9.5 minutes."""
    from benchsim.algorithms import SMOKE_EVALUATIONS, algorithm_class, available, smoke_settings

    for name in available():
        cls = algorithm_class(name)
        params, budget = smoke_settings(cls, {}, None)
        if not cls.stops_itself:
            assert budget == str(SMOKE_EVALUATIONS), name
        else:  # the searcher stops itself: its smoke settings must bound it
            assert budget is None and params, name
        mine, kept = smoke_settings(cls, {"seedling": 1}, "7")
        assert mine["seedling"] == 1 and kept == "7"  # the user's values win


def test_gpu_smoke_of_a_budget_stopped_search_is_a_few_evaluations(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "smoke"
    res = _run("--algo", "rs", "--backend", "gpu", "--device", "cpu", "--smoke",
               "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    config = json.loads((out / "config.json").read_text())
    assert config["budget"] == "4"
    result = json.loads((out / "result.json").read_text())
    assert all(row["evaluations"] == 4 for row in result["tasks"].values())


def test_gpu_smoke_run_on_cpu(tmp_path):
    """The install check a user runs: one short EMT-NAS generation, real training on the CPU."""
    pytest.importorskip("torch")
    out = tmp_path / "smoke"
    res = _run("--algo", "emtnas", "--backend", "gpu", "--device", "cpu", "--smoke",
               "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    result = json.loads((out / "result.json").read_text())
    assert result["backend"] == "gpu"
    for row in result["tasks"].values():
        assert 0 <= row["test_metric"] <= 100 and row["evaluations"] > 0
    assert result["simulated_seconds"] > 0  # real seconds of training were charged


def test_catch_without_source_tasks_is_one_line_and_leaves_no_folder(tmp_path):
    """One live dataset: nothing to meta-train on, refused before anything is written."""
    pytest.importorskip("torch")
    out = tmp_path / "x"
    res = _run("--algo", "catch", "--backend", "gpu", "--device", "cpu", "--smoke",
               "--tasks", "synthetic-shapes", "--out", str(out))  # fmt: skip
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "has none" in lines[0] and "meta_queries=0" in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("algo", ["jt-s", "jt-d"])
def test_joint_training_baselines_run_with_defaults(installed_home, tmp_path, algo):
    """EMT-NAS's JT-S / JT-D: on the table (nb201 cifar10 + cifar100, 300 generations) and
    live in --smoke on the CPU, with nothing but the algorithm named."""
    pytest.importorskip("torch")
    live = ("--backend", "gpu", "--device", "cpu", "--smoke")
    for name, extra in (("table", ()), ("live", live)):
        out = tmp_path / name
        res = _run("--algo", algo, *extra, "--out", str(out))
        assert res.exit_code == 0, res.output
        result = json.loads((out / "result.json").read_text())
        rows = result["tasks"].values()
        assert len(rows) == 2 and all(row["evaluations"] > 0 for row in rows)
        if algo == "jt-s":
            assert len({row["arch"] for row in rows}) == 1
    table = json.loads((tmp_path / "table" / "config.json").read_text())
    assert table["tasks"] == ["cifar10", "cifar100"] and table["params"]["generations"] == 300


def test_device_flags_need_the_gpu_backend(tmp_path):
    res = _run("--algo", "rs", "--smoke", "--out", str(tmp_path / "x"))
    assert res.exit_code == 2
    assert "--smoke does not apply to --backend table; it is an option of --backend gpu" in (
        res.output
    )


def test_unknown_device_is_one_line(tmp_path):
    pytest.importorskip("torch")
    res = _run("--algo", "emtnas", "--backend", "gpu", "--device", "tpu", "--smoke",
               "--out", str(tmp_path / "x"))  # fmt: skip
    assert res.exit_code == 2, res.output
    assert len(res.output.strip().splitlines()) == 1 and "tpu" in res.output


def test_backend_options_reach_the_live_backend(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "smoke"
    res = _run("--algo", "emtnas", "--backend", "gpu", "--device", "cpu", "--smoke",
               "--backend-option", "channels=4", "--backend-option", "bn_eval=recalibrate",
               "--param", "generations=2", "--out", str(out))  # fmt: skip
    assert res.exit_code == 0, res.output
    config = json.loads((out / "config.json").read_text())
    assert config["backend_options"] == {
        "channels": 4, "bn_eval": "recalibrate", "device": "cpu", "smoke": True,
    }  # fmt: skip
    settings = config["data"]["settings"]
    assert settings["channels"] == 4 and settings["bn_eval"] == "recalibrate"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "gpu", "--backend-option", "chanels=4"], "unknown gpu backend option"),
        (["--backend", "gpu", "--backend-option", "channels"], "must look like name=value"),
        (["--backend-option", "channels=4"], "unknown table backend option 'channels'"),
        (["--backend-option", "weight_sharing=onehot"], "unknown weight_sharing estimator"),
        (["--backend-option", "ws_tau=2"], "ws_tau == 2, must be a number in (0, 1]"),
        (["--device", "cpu"], "--device does not apply to --backend table"),
    ],
)
def test_bad_backend_options_are_one_line(tmp_path, args, message):
    pytest.importorskip("torch")
    res = _run("--algo", "emtnas", "--device", "cpu", *args, "--out", str(tmp_path / "x"))
    if "--backend" not in args:
        res = _run("--algo", "emtnas", *args, "--out", str(tmp_path / "x"))
    assert res.exit_code == 2, res.output
    assert len(res.output.strip().splitlines()) == 1 and message in res.output
    assert not (tmp_path / "x").exists()
