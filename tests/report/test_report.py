"""The report's numbers against a direct computation from the run folders, formats, plots."""

import csv
import io
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import benchsim
from benchsim.cli import main
from benchsim.errors import ConfigError
from benchsim.report import build_table, default_times, load_sweep, make_report, parse_times

ALGOS, TASKS = ("rs", "rea", "emtnas"), ("cifar10", "cifar100")
FULL = {"evaluate", "full_eval"}


def _runs(out, algo):
    return sorted((out / "runs" / algo / "cifar10+cifar100").iterdir())


def _direct_regret(folder, task, t, optimum):
    """Optimum minus the test value of the best fully evaluated arch with per-task time <= t."""
    config = json.loads((folder / "config.json").read_text())
    shared = len(config["tasks"]) if config["resolved"]["multi_task"] else 1
    best_value, best_test = None, None
    for row in pq.read_table(folder / "trajectory.parquet").to_pylist():
        if row["task"] != task or row["kind"] not in FULL or row["end_time"] / shared > t:
            continue
        if best_value is None or row["value"] > best_value:
            best_value, best_test = row["value"], row["test_value"]
    return None if best_test is None else optimum - best_test


def _stats(values):
    v = np.array([x for x in values if x is not None], dtype=float)
    return v.mean(), v.std(ddof=1), v.size


def test_table_numbers_equal_a_direct_computation(finished_sweep):
    times = (0.1 * 3600, 0.4 * 3600)
    table = build_table(load_sweep(finished_sweep), times)
    bench = benchsim.benchmark("nb201")
    rows = {(r["algo"], r["task"]): r for r in table.rows}
    assert list(rows) == [(a, t) for a in ALGOS for t in TASKS]
    for algo in ALGOS:
        folders = _runs(finished_sweep, algo)
        results = [json.loads((f / "result.json").read_text()) for f in folders]
        for task in TASKS:
            row = rows[(algo, task)]
            optimum = np.nanmax(bench.query_many(bench.space.enumerate(), task, "test_acc").values)
            assert row["optimum"] == optimum
            for key, field in (("search", "search_metric"), ("test", "test_metric")):
                mean, std, n = _stats([r["tasks"][task][field] for r in results])
                assert row[key]["mean"] == pytest.approx(mean, abs=1e-12)
                assert row[key]["std"] == pytest.approx(std, abs=1e-12)
                assert row[key]["n"] == n == 4
            for cell, t in zip(row["regret"], times, strict=True):
                mean, std, n = _stats([_direct_regret(f, task, t, optimum) for f in folders])
                assert cell["time_s"] == t and cell["n"] == n
                assert cell["mean"] == pytest.approx(mean, abs=1e-12)
                assert cell["std"] == pytest.approx(std, abs=1e-12)


def test_default_times_follow_the_median_run_length(finished_sweep):
    data = load_sweep(finished_sweep)
    lengths = data.curves.groupby(["run_id", "task"], observed=True)["task_time"].max()
    median_h = float(np.median(lengths)) / 3600
    times = default_times(data)
    assert len(times) == 3
    for t, fraction in zip(times, (0.25, 0.5, 1.0), strict=True):
        assert t / 3600 == pytest.approx(fraction * median_h, rel=0.06)  # 2 significant digits


def test_formats_and_files(finished_sweep):
    text, files = make_report(finished_sweep, "csv", parse_times("6m,30m"), plots=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6 and rows[0]["algo"] == "rs"
    assert "regret_360s_mean" in rows[0] and "regret_1800s_n" in rows[0]
    payload = json.loads((finished_sweep / "report" / "table.json").read_text())
    assert payload["times_s"] == [360.0, 1800.0]
    assert float(rows[3]["test_mean"]) == payload["rows"][3]["test"]["mean"]
    md = (finished_sweep / "report" / "table.md").read_text()
    assert "| rs | cifar10 | 4/4 | valid_acc / test_acc |" in md and "regret @ 0.1h" in md
    names = {f.name for f in files}
    for stem in ("anytime", "final_test"):
        png = finished_sweep / "report" / f"{stem}.png"
        svg = finished_sweep / "report" / f"{stem}.svg"
        assert {png.name, svg.name} <= names
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
        assert "<svg" in svg.read_text()[:500]


def test_live_backend_has_no_regret(finished_sweep):
    data = load_sweep(finished_sweep)
    data.optimum = None
    table = build_table(data)
    assert not table.regret and table.times == () and all(r["regret"] == [] for r in table.rows)
    from benchsim.report import render

    assert "Regret is omitted" in render(table, "markdown", "t")


@pytest.mark.parametrize("text", ["10", "1h,x", "0h", "-1h", "2w", ""])
def test_bad_times_are_refused(text):
    with pytest.raises(ConfigError, match="is not a positive time with a unit"):
        parse_times(text)


def test_report_of_a_run_folder_says_what_it_is(finished_sweep, installed_home, tmp_path):
    """A single run's folder was answered with 'run `benchsim sweep --out ...` first'."""
    from benchsim.runner import RunConfig, execute_run

    execute_run(RunConfig(algo="rs", budget="5"), tmp_path / "run")
    res = CliRunner().invoke(main, ["report", str(tmp_path / "run")])
    assert res.exit_code == 2
    (line,) = [x for x in res.output.splitlines() if x.strip()]
    assert "is a single run's folder (`benchsim run`), not a sweep" in line
    assert str(tmp_path / "run" / "result.json") in line and "first" not in line
    one = next((finished_sweep / "runs").glob("*/*/seed=*"))
    res = CliRunner().invoke(main, ["report", str(one)])
    assert res.exit_code == 2
    assert f"is one run of the sweep in '{finished_sweep.resolve()}'" in res.output
    assert f"`benchsim report {finished_sweep.resolve()}`" in res.output
    res = CliRunner().invoke(main, ["report", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "'" + str(tmp_path / "nowhere") + "' does not exist" in res.output


def test_report_cli(finished_sweep, tmp_path):
    res = CliRunner().invoke(main, ["report", str(finished_sweep), "--no-plots", "--times", "1h"])
    assert res.exit_code == 0, res.output
    assert "| emtnas | cifar100 |" in res.output and "regret @ 1h" in res.output
    res = CliRunner().invoke(main, ["report", str(finished_sweep), "--times", "soon"])
    assert res.exit_code == 2 and "--times 'soon'" in res.output
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "is not a sweep folder (no sweep.json)" in res.output
    res = CliRunner().invoke(main, ["report", str(finished_sweep), "--format", "xml"])
    assert res.exit_code == 2 and "'xml' is not one of 'markdown', 'csv', 'json'" in res.output


def test_plots_without_matplotlib_say_how_to_install(finished_sweep, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"pip install benchsim\[report\] \(or pass --no-plots\)"):
        make_report(finished_sweep, plots=True)
    assert make_report(finished_sweep, plots=False)[0].startswith("**nb201**")


def test_failed_runs_are_stated_and_strict_exits_1(installed_home, tmp_path):
    """A sweep whose rea runs all failed used to report only rs, exit 0, without a word."""
    from benchsim.sweep import make_spec, run_sweep

    out = tmp_path / "sw"
    spec = make_spec("rs,rea", "0-1", tasks="cifar10,cifar100", budget="5",
                     params=("rea.population_size=1",))  # fmt: skip
    run_sweep(spec, out)
    table = build_table(load_sweep(out))
    rows = {(r["algo"], r["task"]): r for r in table.rows}
    assert rows[("rea", "cifar10")]["runs"] == {
        "ok": 0, "failed": 2, "incomplete": 0, "missing": 0, "planned": 2,
    }  # fmt: skip
    assert rows[("rs", "cifar10")]["runs"]["ok"] == 2
    assert table.left_out() == {"failed": 4, "incomplete": 0, "missing": 0}
    text, _ = make_report(out, plots=False)
    assert "| rea | cifar10 | 0/2 (2 failed) |" in text
    assert "4 failed (rea/cifar10: 2, rea/cifar100: 2)" in text
    lenient = CliRunner().invoke(main, ["report", str(out), "--no-plots"])
    assert lenient.exit_code == 0 and "warning: Left out" in lenient.stderr
    strict = CliRunner().invoke(main, ["report", str(out), "--no-plots", "--strict"])
    assert strict.exit_code == 1
    assert "--strict: the report is incomplete" in strict.stderr.strip().splitlines()[-1]


def test_found_architectures_are_reported_on_other_tasks(finished_sweep):
    """--report-tasks: the same per-run lookups result.json's test_metric_on holds."""
    table = build_table(load_sweep(finished_sweep), report_tasks=("ImageNet16-120", "cifar100"))
    bench = benchsim.benchmark("nb201")
    for row in table.rows:
        results = [
            json.loads((f / "result.json").read_text()) for f in _runs(finished_sweep, row["algo"])
        ]
        archs = [r["tasks"][row["task"]]["arch"] for r in results]
        assert [o["task"] for o in row["test_on"]] == ["ImageNet16-120", "cifar100"]
        for other in row["test_on"]:
            direct = bench.query_many(archs, other["task"], "test_acc").values
            assert other["mean"] == pytest.approx(direct.mean(), abs=1e-12)
            assert other["n"] == 4 and other["metric"] == "test_acc"
            recorded = [
                r["tasks"][row["task"]]["test_metric_on"].get(other["task"]) for r in results
            ]
            if other["task"] != row["task"]:  # result.json carries the same numbers
                assert [x["value"] for x in recorded] == pytest.approx(list(direct))
    from benchsim.report import render

    md = render(table, "markdown", "t")
    assert "| test on ImageNet16-120 | test on cifar100 |" in md
    flat = list(csv.DictReader(io.StringIO(render(table, "csv", "t"))))
    assert "test_on_cifar100_mean" in flat[0]
    assert json.loads(render(table, "json", "t"))["report_tasks"] == ["ImageNet16-120", "cifar100"]


def test_report_tasks_are_checked(finished_sweep):
    from dataclasses import replace

    res = CliRunner().invoke(
        main, ["report", str(finished_sweep), "--no-plots", "--report-tasks", "cifar100,mnist"]
    )
    assert res.exit_code == 2
    assert "unknown task 'mnist'" in res.output and "ImageNet16-120" in res.output
    data = load_sweep(finished_sweep)
    data.spec = replace(data.spec, backend="gpu")
    with pytest.raises(ConfigError, match="--report-tasks needs a table backend"):
        build_table(data, report_tasks=("cifar100",))
    res = CliRunner().invoke(
        main, ["report", str(finished_sweep), "--no-plots", "--report-tasks", "ImageNet16-120"]
    )
    assert res.exit_code == 0 and "test on ImageNet16-120" in res.output
