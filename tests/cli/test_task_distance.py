"""``benchsim task-distance`` through click: the files it writes and its one-line errors."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from benchsim.cli import main

pytest.importorskip("torch")
TASKS = "synthetic-shapes,synthetic-shapes-permuted,synthetic-shapes-b"


def _run(*args):
    return CliRunner().invoke(main, ["task-distance", *args])


def test_writes_the_matrix_csv_and_heatmap(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))  # synthetic sets generated here
    out = tmp_path / "d" / "dist.json"
    res = _run("--tasks", TASKS, "--out", str(out), "--repeats", "2", "--device", "cpu",
               "--smoke", "--option", "fisher_samples=32")  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["tasks"] == TASKS.split(",") and data["repeats"] == 2
    assert len(data["per_repeat"]) == 2 and data["settings"]["fisher_samples"] == 32
    assert [data["mean"][i][i] for i in range(3)] == [0, 0, 0]
    assert all(v >= 0 for row in data["mean"] for v in row)
    assert len(list(csv.DictReader(out.with_suffix(".csv").open()))) == 9
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert "d[row -> column]" in res.output and "synthetic-shapes-b" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tasks", "synthetic-shapes"], "give at least two"),
        (["--tasks", "synthetic-shapes,nope"], "unknown dataset 'nope'"),
        (["--tasks", "synthetic-shapes,cifar10"], "dataset 'cifar10' is not prepared"),
        (["--tasks", TASKS, "--repeats", "0"], "repeats == 0"),
        (["--tasks", TASKS, "--option", "epocs=2"], "unknown task-distance setting 'epocs'"),
        (["--tasks", TASKS, "--out", "d.csv"], "must end in .json"),
        (["--tasks", TASKS, "--out", f"{__file__}/d.json"], "which is a file, not a folder"),
    ],
)
def test_bad_inputs_are_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "d.json")]
    res = _run(*args, "--device", "cpu", "--smoke")
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert message in lines[0]
    assert not (tmp_path / "d.json").exists()
