"""`benchsim reproduce`: the NB201 paper's table under its own protocol, as a CI gate."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import benchsim
from benchsim.cli import main
from benchsim.errors import ConfigError, DataError, UnknownNameError
from benchsim.reproduce import EXPERIMENTS, Cell, Comparison, experiment, published, reproduce


@pytest.fixture(scope="module")
def nb201_30(installed_home, tmp_path_factory):
    """nb201-iclr2020 with 30 runs per method: the gate CI runs (a few seconds)."""
    out = tmp_path_factory.mktemp("reproduce") / "nb201"
    result = CliRunner().invoke(
        main, ["reproduce", "nb201-iclr2020", "--runs", "30", "--jobs", "2", "--out", str(out),
               "--no-progress"],
    )  # fmt: skip
    return out, result


def test_the_nb201_paper_table_is_reproduced_within_one_std(nb201_30):
    """The gate: all nine cells (3 methods x 3 reported datasets) within one paper std."""
    out, result = nb201_30
    assert result.exit_code == 0, result.output
    assert "9 of 9 cells within one standard deviation of the paper." in result.output
    payload = json.loads((out / "reproduce.json").read_text())
    assert payload["source"]["runs"] == 500 and "ICLR 2020" in payload["source"]["paper"]
    assert len(payload["cells"]) == 9 and all(c["within"] for c in payload["cells"])
    assert {(c["searched"], c["task"]) for c in payload["cells"]} == {
        ("cifar10", t) for t in ("cifar10", "cifar100", "ImageNet16-120")
    }  # one search, on CIFAR-10, reported on the three datasets
    rows = list(csv.DictReader(io.StringIO((out / "reproduce.csv").read_text())))
    assert len(rows) == 9 and rows[0]["paper_mean"] == "93.7"
    assert (out / "reproduce.png").read_bytes()[:4] == b"\x89PNG"


def test_cells_are_the_runs_returned_architectures_looked_up(nb201_30):
    """Each cell is mean/std over the sweep's runs of the returned arch's test accuracy."""
    out, _ = nb201_30
    payload = json.loads((out / "reproduce.json").read_text())
    runs = pd.read_parquet(out / "cifar10" / "results" / "_runs.parquet")
    bench = benchsim.benchmark("nb201")
    for cell in payload["cells"]:
        archs = runs.loc[runs["algo"] == cell["algo"], "arch"].to_numpy(dtype=np.int64)
        assert archs.size == cell["runs"] == 30
        values = bench.query_many(archs, cell["task"], "test_acc").values
        assert cell["mean"] == pytest.approx(values.mean(), abs=1e-12)
        assert cell["std"] == pytest.approx(values.std(ddof=1), abs=1e-12)
        if cell["task"] == "cifar10":  # the searched task: the sweep's own test metric
            direct = runs.loc[runs["algo"] == cell["algo"], "test_metric"].to_numpy()
            assert values == pytest.approx(direct)


def _table(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("|")]


def test_running_again_continues_and_another_run_count_is_refused(nb201_30):
    out, first = nb201_30
    again = CliRunner().invoke(
        main, ["reproduce", "nb201-iclr2020", "--runs", "30", "--out", str(out), "--no-progress",
               "--no-plots"],
    )  # fmt: skip
    assert again.exit_code == 0 and _table(again.output) == _table(first.output)
    other = CliRunner().invoke(
        main, ["reproduce", "nb201-iclr2020", "--runs", "40", "--out", str(out)]
    )
    assert other.exit_code == 2
    assert "holds a 30-run reproduction of nb201-iclr2020, not 40; pass --runs 30" in other.output


def test_an_experiment_without_a_bundled_table_shows_benchsims_numbers_alone(
    installed_home, tmp_path
):
    comparison = reproduce("nats-tss", runs=2, jobs=2, out=tmp_path, plots=False)
    text = comparison.to_markdown()
    assert "The paper's table is not bundled" in text and "within 1 std" not in text
    assert [(c.searched, c.task) for c in comparison.cells][::3] == [
        ("cifar10", "cifar10"), ("cifar100", "cifar100"), ("ImageNet16-120", "ImageNet16-120")
    ]  # fmt: skip
    assert not comparison.misses and all(c.within is None for c in comparison.cells)
    budgets = [json.loads((tmp_path / t / "sweep.json").read_text())["budget"]
               for t in ("cifar10", "cifar100", "ImageNet16-120")]  # fmt: skip
    assert budgets == ["20000s", "40000s", "120000s"]


def test_a_cell_off_by_more_than_one_std_fails_the_gate():
    near = Cell("rs", "cifar10", "cifar10", 93.9, 0.3, 30, 100.0, 93.70, 0.36)
    far = Cell("rea", "cifar10", "cifar10", 93.5, 0.3, 30, 100.0, 93.92, 0.30)
    assert near.within and near.stds == pytest.approx(0.2 / 0.36)
    assert far.within is False and far.stds == pytest.approx(-1.4)
    comparison = Comparison("x", "t", "n", 30, [near, far])
    assert comparison.misses == [far]
    assert "| **no** |" in comparison.to_markdown()
    assert "1 of 2 cells within one standard deviation" in comparison.to_markdown()


def test_the_published_numbers_are_the_papers():
    paper = published("nb201-iclr2020")
    assert paper.runs == 500
    assert paper.results["rea"]["ImageNet16-120"] == (45.54, 1.03)
    assert paper.results["rs"]["cifar10"] == (93.70, 0.36)
    assert set(paper.results) == set(experiment("nb201-iclr2020").algos)
    with pytest.raises(DataError, match="has no entry 'nope'"):
        published("nope")


def test_list_and_bad_input_are_one_line(installed_home):
    listed = CliRunner().invoke(main, ["reproduce", "--list"])
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.output.splitlines()] == list(EXPERIMENTS.names())
    for args, message in (
        (["nope"], "unknown experiment 'nope'; allowed: nats-tss, nb201-iclr2020"),
        ([], "give an experiment name; allowed: nats-tss, nb201-iclr2020 (or --list)"),
        (["nb201-iclr2020", "--runs", "1"], "--runs == 1, must be an integer"),
        (["nb201-iclr2020", "--jobs", "0"], "--jobs == 0, must be an integer >= 1"),
        (["nb201-iclr2020", "--out", __file__], f"--out {__file__!r} is a file; give a folder"),
    ):
        res = CliRunner().invoke(main, ["reproduce", *args])
        assert res.exit_code == 2, (args, res.output)
        assert res.output.strip().startswith("Error: " + message) and res.output.count("\n") == 1
    with pytest.raises(UnknownNameError):
        experiment("nope")
    with pytest.raises(ConfigError):
        reproduce("nb201-iclr2020", runs=0)


def test_experiments_are_a_registry_like_every_named_thing():
    """A new experiment registers itself; a taken name is refused in one line."""
    import dataclasses

    from benchsim.reproduce import register_experiment

    mine = dataclasses.replace(experiment("nats-tss"), name="test-nats-once", default_runs=3)
    try:
        assert register_experiment(mine) is mine and experiment("test-nats-once") is mine
        assert "test-nats-once" in EXPERIMENTS.names()
        with pytest.raises(ConfigError, match="experiment 'nats-tss' is already registered"):
            register_experiment(dataclasses.replace(mine, name="nats-tss"))
    finally:
        EXPERIMENTS.remove("test-nats-once")


def test_a_missing_matplotlib_is_said_before_any_run(installed_home, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"pip install benchsim\[report\] \(or pass --no-plots\)"):
        reproduce("nb201-iclr2020", runs=2, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()
