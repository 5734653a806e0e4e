"""End-to-end runs on the real tables: outputs, determinism, resume, bad input."""

import json

import pyarrow.parquet as pq
import pytest

import benchsim
from benchsim.errors import ConfigError, UnknownNameError, UnknownTaskError
from benchsim.runner import RunConfig, RunInterrupted, execute_run, load_config_file, merge_config


@pytest.fixture
def config():
    return RunConfig(algo="rea", benchmark="nb201", tasks=("cifar10", "cifar100"), budget="40")


def test_run_writes_the_three_files(installed_home, tmp_path, config):
    out = execute_run(config, tmp_path / "run")
    files = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert files == ["config.json", "result.json", "trajectory.parquet"]
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert set(result) >= {"algo", "backend", "benchmark", "seed", "tasks", "simulated_seconds"}
    for task in ("cifar10", "cifar100"):
        row = result["tasks"][task]
        assert row["evaluations"] == 40
        assert 0 <= row["arch"] < 15625
        assert row["test_metric"] > 0
        others = row["test_metric_on"]  # the found architecture on the other tasks
        assert sorted(others) == sorted({"cifar10", "cifar100", "ImageNet16-120"} - {task})
        for other, entry in others.items():
            looked_up = benchsim.benchmark("nb201").query(row["arch"], other, "test_acc").value
            assert entry == {"name": "test_acc", "value": looked_up}
    table = pq.read_table(tmp_path / "run" / "trajectory.parquet")
    assert table.num_rows == 80
    assert table.column_names[:4] == ["step", "search", "task", "kind"]
    assert out.result["tasks"] == result["tasks"]
    config_json = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config_json["params"] == {"population_size": 10, "sample_size": 3}
    assert "numpy" in config_json["versions"]
    assert config_json["data"]  # data checksums recorded


@pytest.mark.parametrize(("budget", "codec"), [("30", "SNAPPY"), ("10000", "ZSTD")])
def test_trajectory_codec_follows_its_length(installed_home, tmp_path, budget, codec):
    """zstd's per-column set-up cost more than it saved on a short run's file."""
    execute_run(RunConfig(algo="rs", seed=0, budget=budget), tmp_path / "run")
    meta = pq.ParquetFile(tmp_path / "run" / "trajectory.parquet").metadata
    found = {meta.row_group(0).column(i).compression for i in range(meta.num_columns)}
    assert found == {codec}


def test_same_seed_gives_byte_identical_trajectory(installed_home, tmp_path, config):
    execute_run(config, tmp_path / "a")
    execute_run(config, tmp_path / "b")
    assert (tmp_path / "a" / "trajectory.parquet").read_bytes() == (
        tmp_path / "b" / "trajectory.parquet"
    ).read_bytes()
    ra = json.loads((tmp_path / "a" / "result.json").read_text())
    rb = json.loads((tmp_path / "b" / "result.json").read_text())
    ra.pop("wall_seconds"), rb.pop("wall_seconds")
    ra.pop("searcher_seconds"), rb.pop("searcher_seconds")
    assert ra == rb


def test_other_seed_differs(installed_home, config):
    a = execute_run(config).trajectory
    config.seed = 1
    b = execute_run(config).trajectory
    assert a.column("arch").to_pylist() != b.column("arch").to_pylist()


def test_resume_after_interruption_equals_uninterrupted(installed_home, tmp_path, config):
    config.workers = 3
    execute_run(config, tmp_path / "full")
    with pytest.raises(RunInterrupted, match="resume with"):
        execute_run(config, tmp_path / "cut", stop_after=17)
    assert (tmp_path / "cut" / "checkpoint" / "SHA256SUMS").is_file()
    assert not (tmp_path / "cut" / "result.json").exists()
    execute_run(config, tmp_path / "cut", resume=True)
    assert not (tmp_path / "cut" / "checkpoint").exists()
    assert (tmp_path / "full" / "trajectory.parquet").read_bytes() == (
        tmp_path / "cut" / "trajectory.parquet"
    ).read_bytes()


def test_resume_errors(installed_home, tmp_path, config):
    with pytest.raises(ConfigError, match="no checkpoint"):
        execute_run(config, tmp_path, resume=True)
    execute_run(config, tmp_path / "done")
    with pytest.raises(ConfigError, match="already finished"):
        execute_run(config, tmp_path / "done", resume=True)


def test_nonempty_out_is_refused_and_untouched(installed_home, tmp_path, config):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        execute_run(config, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_bad_inputs_fail_before_work(installed_home, tmp_path):
    with pytest.raises(UnknownNameError, match="unknown algorithm 'nope'"):
        execute_run(RunConfig(algo="nope"), tmp_path / "x")
    with pytest.raises(UnknownTaskError, match="cifar11"):
        execute_run(RunConfig(algo="rs", tasks=("cifar11",)), tmp_path / "y")
    with pytest.raises(ConfigError, match="unknown hyperparameter 'pop'"):
        execute_run(RunConfig(algo="rea", params={"pop": 3}), tmp_path / "z")


def test_config_file_round_trip(installed_home, tmp_path, config):
    out = execute_run(config, tmp_path / "run")
    again = merge_config(load_config_file(tmp_path / "run" / "config.json"), {})
    assert again.params == out.config["params"]
    assert again.tasks == ("cifar10", "cifar100")
    bad = tmp_path / "bad.toml"
    bad.write_text('algo = "rea"\npopulation = 3\n')
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) \['population'\]"):
        merge_config(load_config_file(bad), {})
    broken = tmp_path / "broken.yaml"
    broken.write_text("algo: [unclosed\n")
    with pytest.raises(ConfigError, match="does not parse"):
        load_config_file(broken)


def test_time_budget_and_protocol(installed_home, config):
    config.budget = "12000s"
    config.tasks = ("cifar10",)
    out = execute_run(config)
    assert out.result["simulated_seconds"] <= 12000
    proto = out.config["resolved"]["protocol"]["cifar10"]
    assert proto["seed"] == "sample"
    assert proto["cost_scale"] == pytest.approx(12 / 200)


# ---------------------------------------------------------------------- weight sharing on a table
def test_a_default_emtnas_run_sees_the_supernet_and_says_so(installed_home, tmp_path):
    """Its whole-split evaluations on cifar10 follow the recorded one-shot supernet, not the
    stand-alone valid_acc, and every record names where its numbers came from."""
    import numpy as np
    from scipy.stats import kendalltau

    import benchsim

    out = execute_run(RunConfig(algo="emtnas", seed=0), tmp_path / "run")
    frame = out.trajectory.to_pandas()
    full = frame[(frame["kind"] == "full_eval") & (frame["task"] == "cifar10")].copy()
    full["generation"] = np.arange(len(full)) + 2  # line 12 runs from generation 2 on
    cells = full.groupby("arch").last()  # each evaluated cell's last whole-split answer
    bench = benchsim.benchmark("nb201")
    oneshot = bench.query_many(cells.index.to_numpy(), "cifar10", "oneshot_acc").values
    valid = bench.query_many(cells.index.to_numpy(), "cifar10", "valid_acc").values
    # 196 steps per pass on cifar10: converged after about 160 passes (31,000 steps)
    trained = (cells["generation"] >= 160).to_numpy()
    # A trained supernet answers exactly the recorded estimate; one still in its first passes
    # answers along the training curve, so over every cell the agreement is lower.
    np.testing.assert_array_equal(cells["value"].to_numpy()[trained], oneshot[trained])
    assert trained.sum() >= 10
    assert 0.1 < kendalltau(cells["value"], oneshot).statistic < 0.95
    assert np.abs(cells["value"].to_numpy() - valid).max() > 20.0  # not the stand-alone value
    partly = "modelled:oneshot-partly-trained"
    assert set(frame.loc[frame["task"] == "cifar10", "source"]) == {"", partly, "recorded:oneshot"}
    assert set(frame.loc[frame["task"] == "cifar100", "source"]) == {"", partly, "modelled:oneshot"}
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["tasks"]["cifar10"]["search_metric_source"] == "recorded:oneshot"
    # a supernet's estimate is never named as the stand-alone metric (issue #19)
    assert result["tasks"]["cifar10"]["search_metric_name"] == "supernet estimate of valid_acc"
    assert result["tasks"]["cifar10"]["search_metric_estimates"] == "valid_acc"
    training = result["answers"]["weight_sharing"]["tasks"]["cifar10"]["training"]
    assert training["epochs"] == 300 and training["converged"]
    assert result["answers"]["weight_sharing"]["tasks"]["cifar100"]["source"] == (
        "modelled:oneshot"
    )
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["answers"]["weight_sharing"]["estimator"] == "oneshot"
    assert saved["resolved"]["protocol"]["cifar10"]["source"] == "recorded:standalone"


def test_the_upper_bound_is_chosen_explicitly_and_recorded(installed_home, tmp_path):
    config = RunConfig(
        algo="emtnas",
        seed=1,
        params={"generations": 4},
        backend_options={"weight_sharing": "standalone-upper-bound"},
    )
    out = execute_run(config, tmp_path / "run")
    assert set(out.trajectory.column("source").to_pylist()) == {
        "",
        "recorded:standalone-upper-bound",
    }
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["backend_options"] == {"weight_sharing": "standalone-upper-bound"}
    assert saved["answers"]["weight_sharing"]["estimator"] == "standalone-upper-bound"


def test_an_interrupted_emtnas_run_resumes_its_supernet(installed_home, tmp_path):
    config = RunConfig(algo="emtnas", seed=2, params={"generations": 12})
    whole = execute_run(config)
    with pytest.raises(RunInterrupted):
        execute_run(config, tmp_path / "run", stop_after=30)
    resumed = execute_run(config, tmp_path / "run", resume=True)
    assert resumed.trajectory.to_pandas().equals(whole.trajectory.to_pandas())


# ---------------------------------------------------------------------- bounded budgets
@pytest.mark.parametrize(
    ("algo", "budget", "message"),
    [
        ("rs", "1s", "cannot buy one answer on cifar10: the fastest architecture's evaluation"),
        ("emtnas", "1s", "the fastest architecture's training epoch costs 2.7 s"),
        ("rs", "2000000", "more than 100 evaluations of each of the 15,625 architectures"),
        ("rs", "99999999h", "more than 100 evaluations of every architecture of cifar10"),
    ],
)
def test_budgets_that_buy_nothing_or_no_search_can_use_are_refused(
    installed_home, tmp_path, algo, budget, message
):
    """`--budget 1s` once ran, evaluated nothing and exited 0; a huge one ran unbounded."""
    config = RunConfig(algo=algo, tasks=("cifar10", "cifar100"), budget=budget)
    with pytest.raises(ConfigError, match=message):
        execute_run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_config_folder_is_named_as_a_folder(tmp_path):
    """`--config DIR` used to say the file "does not exist"."""
    with pytest.raises(ConfigError, match=r"is a folder; give a \.toml, \.yaml or \.json file"):
        load_config_file(tmp_path)


def test_a_run_that_returns_no_architecture_exits_1_and_keeps_its_files(installed_home, tmp_path):
    from click.testing import CliRunner

    from benchsim.cli import main
    from benchsim.errors import EmptyResultError

    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["run", "--algo", "emtnas", "--budget", "5", "--out", str(out),
                                    "--no-progress"])  # fmt: skip
    assert res.exit_code == 1, res.output
    assert res.output.strip().splitlines()[-1] == (
        "Error: the run returned no architecture for cifar10, cifar100: its budget (5) ended "
        f"before any full evaluation there; its files are in {out}; give a larger --budget"
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "result.json", "trajectory.parquet"
    ]  # fmt: skip
    with pytest.raises(EmptyResultError) as excinfo:
        execute_run(RunConfig(algo="emtnas", budget="5"))
    assert excinfo.value.output.result["tasks"]["cifar10"]["arch"] is None


def test_a_run_is_started_stepped_saved_and_finished(tmp_path, installed_home):
    """The Run object's sequence gives what execute_run gives, and a resumed Run ends alike."""
    from benchsim.runner import Run, execute_run

    def config():
        return RunConfig(algo="rea", tasks=("cifar10", "cifar100", "ImageNet16-120"), budget="9")

    whole = execute_run(config(), tmp_path / "whole", checkpoint_every=None)
    run = Run.start(config(), tmp_path / "part")
    # one generator per search, as many as the run has (it was 64, whatever the run needed)
    assert len(run.state.search_seeds) == len(run.state.searchers) == 3
    for _ in range(10):
        assert run.step()
    run.save()
    resumed = Run.resume(tmp_path / "part")
    assert resumed.results == 10
    while resumed.step():
        pass
    output = resumed.finish()
    assert output.trajectory.equals(whole.trajectory)
    assert output.result["tasks"] == whole.result["tasks"]
    with pytest.raises(ConfigError, match="cannot be checkpointed"):
        Run.start(config(), None).save()


def test_a_run_checkpoint_and_resume_import_no_pandas(installed_home, tmp_path, fresh_python):
    """pyarrow imports pandas (a fifth of a second) from pa.array, to_numpy and read_table;
    the trajectory's conversions, its checkpoint parts and their reading avoid all three."""
    out = str(tmp_path / "run")
    code = (
        "import sys\n"
        "from benchsim.runner import RunConfig, RunInterrupted, execute_run\n"
        "config = RunConfig(algo='rea', tasks=('cifar10',), budget='300')\n"
        "try:\n"
        f"    execute_run(config, {out!r}, checkpoint_every=0.0, stop_after=100)\n"
        "except RunInterrupted:\n"
        "    pass\n"
        f"out = execute_run(config, {out!r}, resume=True)\n"
        "assert out.trajectory.num_rows == 300\n"
        "print('pandas' in sys.modules)\n"
    )
    assert fresh_python(code).split() == ["False"]


# ---------------------------------------------------------------------- batches
def _one_at_a_time(monkeypatch):
    """The runner as it answers a live backend: one job at a time, never a batch."""
    from benchsim.runner._execute import JobExecutor

    monkeypatch.setattr(JobExecutor, "batches", property(lambda self: False))


@pytest.mark.parametrize(
    "config",
    [
        RunConfig(algo="rs", tasks=("cifar10", "cifar100"), budget="700", seed=3),
        RunConfig(algo="rs", tasks=("cifar10",), budget="300", seed=1, protocol={"seed": None}),
        RunConfig(algo="rs", tasks=("cifar10",), budget="500", seed=1, params={"replace": False}),
        RunConfig(algo="rs", benchmark="tnb101-micro", tasks=("jigsaw", "normal"), budget="400"),
    ],
    ids=["two-searches-one-backend-generator", "seed-mean", "without-replacement", "tnb101"],
)
def test_random_search_in_batches_equals_one_job_at_a_time(
    installed_home, tmp_path, monkeypatch, config
):
    """Same trajectory file, bit for bit, and same result (the two searches of a run draw
    their recorded seeds from one backend generator: a batch must draw no more than its
    jobs would)."""
    batched = execute_run(config, tmp_path / "batched")
    with monkeypatch.context() as patched:
        _one_at_a_time(patched)
        single = execute_run(config, tmp_path / "single")
    assert (tmp_path / "batched" / "trajectory.parquet").read_bytes() == (
        tmp_path / "single" / "trajectory.parquet"
    ).read_bytes()
    assert batched.trajectory.equals(single.trajectory)
    for key in ("tasks", "simulated_seconds", "source_tasks"):
        assert batched.result[key] == single.result[key]


@pytest.mark.parametrize("after", [1, 255, 256, 257, 700, 701])
def test_a_run_stopped_inside_a_batch_resumes_to_the_same_end(installed_home, tmp_path, after):
    """``stop_after`` results (as Ctrl-C): a batch never runs past it, and the resumed run
    ends as the uninterrupted one."""
    config = RunConfig(algo="rs", tasks=("cifar10", "cifar100"), budget="700", seed=9)
    whole = execute_run(config)
    with pytest.raises(RunInterrupted, match=f"after {after} results"):
        execute_run(config, tmp_path / "cut", stop_after=after)
    assert execute_run(config, tmp_path / "cut", resume=True).trajectory.equals(whole.trajectory)


def test_the_returned_table_holds_its_texts_once_and_the_file_reads_back_as_strings(
    installed_home, tmp_path
):
    """In memory the text columns are dictionary-encoded (a million rows hold each word
    once); the Parquet file reads back as plain strings, through pyarrow and pandas."""
    import pyarrow as pa

    out = execute_run(RunConfig(algo="rs", tasks=("cifar10",), budget="50"), tmp_path / "r")
    schema = out.trajectory.schema
    for name in ("task", "kind", "source"):
        assert schema.field(name).type == pa.dictionary(pa.int8(), pa.string())
    assert schema.field("arch_str").type == pa.dictionary(pa.int16(), pa.string())  # 15,626
    assert out.trajectory.column("kind").to_pylist() == ["evaluate"] * 50
    read = pq.read_table(tmp_path / "r" / "trajectory.parquet")
    assert all(not pa.types.is_dictionary(field.type) for field in read.schema)
    assert read.schema.field("search").type == pa.int16()
    assert read.to_pylist() == out.trajectory.to_pylist()
    frame = read.to_pandas()  # strings, not categoricals (which sort by first use)
    assert frame["arch_str"].dtype != "category" and frame["task"].tolist() == ["cifar10"] * 50
    assert out.trajectory.to_pandas()["arch_str"].dtype == "category"
