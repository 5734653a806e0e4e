"""``benchsim run`` with the table's weight-sharing settings: refusals before any output, the
warning for a setting without effect, and how a supernet's value is named (issue #19)."""

import json

import pytest
from click.testing import CliRunner

from benchsim.cli import main


def _run(*args):
    return CliRunner().invoke(main, ["run", "--no-progress", *args])


@pytest.mark.parametrize("tau", ["1.0", "0.9999"])
def test_an_unreachable_ws_tau_is_refused_before_the_run_folder_exists(
    installed_home, tmp_path, tau
):
    out = tmp_path / "r"
    res = _run(
        "--algo", "emtnas", "--param", "generations=2", "--backend-option", f"ws_tau={tau}",
        "--out", str(out),
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and f"ws_tau == {tau} cannot be reached on task cifar100" in line
    # the range it names never seems to hold the refused value
    high = float(line.split(" to ")[1].split(";")[0])
    assert high < float(tau)
    assert not out.exists()


def test_ws_tau_on_a_recorded_task_warns_in_one_line(installed_home, tmp_path):
    res = CliRunner().invoke(
        main,
        [
            "run", "--no-progress", "--algo", "emtnas", "--param", "generations=2",
            "--backend-option", "ws_tau=0.3", "--out", str(tmp_path / "r"),
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "ws_tau=0.3 has no effect on cifar10" in warnings[0]
    assert "ws_source=modelled" in warnings[0]
    assert "BenchsimWarning" not in res.stderr  # not Python's file-and-line form


def test_a_removed_option_names_its_replacement(installed_home, tmp_path):
    res = _run(
        "--algo", "emtnas", "--backend-option", "ws_planned_passes=20", "--out", str(tmp_path / "r")
    )
    assert res.exit_code == 2
    assert "ws_planned_passes was removed" in res.output and "\n" not in res.output.strip()
    assert not (tmp_path / "r").exists()


def test_a_supernet_value_is_named_as_an_estimate(installed_home, tmp_path):
    out = tmp_path / "r"
    res = _run("--algo", "emtnas", "--param", "generations=3", "--out", str(out))
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "result.json").read_text())["tasks"]
    for row in rows.values():
        assert row["search_metric_name"] == "supernet estimate of valid_acc"
        assert row["search_metric_estimates"] == "valid_acc"
        assert row["search_metric_source"] == "modelled:oneshot-partly-trained"
    assert "supernet estimate of" in res.output
    stand_alone = tmp_path / "rs"
    assert _run("--algo", "rs", "--budget", "3", "--out", str(stand_alone)).exit_code == 0
    row = json.loads((stand_alone / "result.json").read_text())["tasks"]["cifar10"]
    assert row["search_metric_name"] == "valid_acc" and "search_metric_estimates" not in row
