"""``benchsim compat``: exit codes and one-line messages."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from benchsim.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def test_emulations_and_script_listing(runner, installed_home, mirror_dir):
    done = runner.invoke(main, ["compat", "emulations"])
    assert done.exit_code == 0 and done.output.splitlines()[0].startswith("hp12-proxy: ")
    done = runner.invoke(main, ["compat", "script", "--list"])
    assert done.output.split() == ["regularized_ea", "random_wo_share"]
    done = runner.invoke(main, ["compat", "script", "regularized_ea"])
    assert done.exit_code == 0
    assert done.output.strip() == str(
        mirror_dir
        / "D-X-Y/AutoDL-Projects/f46486e21b71ae6459a700be720d7648b5429569"
        / "exps/NATS-algos/regularized_ea.py"
    )
    done = runner.invoke(main, ["compat", "script", "bohb"])
    assert done.exit_code == 2 and "unknown script 'bohb'" in done.output
    assert runner.invoke(main, ["compat", "script"]).exit_code == 2


SCRIPT = """
import sys
from nats_bench import create
api = create(None, "tss", fast_mode=True, verbose=False)
if sys.argv[1] == "latency":
    api.get_latency(0, "cifar10")
elif sys.argv[1] == "proxy":
    print(api.simulate_train_eval(int(sys.argv[2]), "cifar10", hp="12")[0])
elif sys.argv[1] == "exit":
    sys.exit(3)
else:
    raise ValueError("the script's own bug")
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "search.py"
    path.write_text(SCRIPT)
    return path


def test_run_unsupported_call_is_one_line_exit_2(runner, installed_home, script):
    done = runner.invoke(main, ["compat", "run", str(script), "--", "latency"])
    assert done.exit_code == 2
    (line,) = done.output.strip().splitlines()
    assert line.startswith("Error: get_latency(index=0, dataset='cifar10', hp='12'): 'latency'")


def test_run_with_emulation_writes_provenance(runner, installed_home, script, tmp_path):
    record = tmp_path / "provenance.json"
    done = runner.invoke(
        main,
        [
            "compat",
            "run",
            str(script),
            "--emulate",
            "hp12-proxy,eval-time,no-latency",
            "--seed",
            "4",
            "--provenance",
            str(record),
            "--",
            "proxy",
            "9930",
        ],
    )
    assert done.exit_code == 0, done.output
    (accuracy,) = [line for line in done.output.splitlines() if line.replace(".", "").isdigit()]
    assert float(accuracy) > 90
    assert "emulated answers (labelled): eval-time 2, hp12-proxy 1, no-latency 1" in done.output
    saved = json.loads(record.read_text())
    assert saved["seed"] == 4 and saved["emulated_answers"]["hp12-proxy"] == 1
    assert saved["args"] == ["proxy", "9930"] and "hp12-proxy" in saved["labels"]


def test_run_exit_codes(runner, installed_home, script, tmp_path):
    assert runner.invoke(main, ["compat", "run", str(script), "--", "exit"]).exit_code == 3
    done = runner.invoke(main, ["compat", "run", str(script), "--", "bug"])
    assert done.exit_code == 1
    done = runner.invoke(main, ["compat", "run", str(script), "--emulate", "magic", "--", "x"])
    assert done.exit_code == 2 and "unknown emulation 'magic'" in done.output
    done = runner.invoke(main, ["compat", "run", str(tmp_path / "missing.py")])
    assert done.exit_code == 2 and "is not a file" in done.output


def test_run_reads_the_environment(runner, installed_home, script):
    env = {
        "BENCHSIM_COMPAT_EMULATE": "hp12-proxy,eval-time,no-latency",
        "BENCHSIM_COMPAT_SEED": "9",
    }
    done = runner.invoke(main, ["compat", "run", str(script), "--", "proxy", "1"], env=env)
    assert done.exit_code == 0, done.output
    assert "(seed 9); emulated answers (labelled): eval-time 2, hp12-proxy 1" in done.output


def test_provenance_into_a_missing_folder_is_refused_before_the_script_runs(
    runner, installed_home, tmp_path
):
    """It used to be found after the script had run (its work lost to a raw error)."""
    marker = tmp_path / "ran"
    script = tmp_path / "touch.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    target = tmp_path / "no-such-folder" / "provenance.json"
    done = runner.invoke(main, ["compat", "run", str(script), "--provenance", str(target)])
    assert done.exit_code == 2, done.output
    (line,) = done.output.strip().splitlines()
    assert "--provenance" in line and "does not exist" in line
    assert not marker.exists()
