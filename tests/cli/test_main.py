"""The ``benchsim`` group: version, help, error translation, CI/README agreement."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import benchsim._paths
from benchsim import __version__
from benchsim.cli import main
from benchsim.errors import DataError

ROOT = Path(__file__).resolve().parents[2]


def error_lines(result) -> list[str]:
    """Non-empty stderr lines."""
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"benchsim, version {__version__}"


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("query", "data"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.M), command


def test_help_is_fast_and_imports_no_data_stack(fresh_python) -> None:
    """`benchsim --help` must not import pandas, pyarrow, torch or the store."""
    code = (
        "import sys; from benchsim.cli import main\n"
        "try:\n    main(['--help'], prog_name='benchsim')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'pyarrow', 'torch', 'benchsim.store', 'rich')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    assert "HEAVY []" in fresh_python(code)


def test_unknown_command_is_one_line() -> None:
    result = CliRunner().invoke(main, ["quer"])
    assert result.exit_code == 2
    lines = error_lines(result)
    assert len(lines) == 1
    assert "'quer'" in lines[0] and "query" in lines[0]


def test_unknown_group_option_is_one_line() -> None:
    result = CliRunner().invoke(main, ["--bogus"])
    assert result.exit_code == 2
    assert error_lines(result) == ["Error: No such option '--bogus'. (see 'benchsim --help')"]


def _raise(exc: BaseException):
    def boom() -> Path:
        raise exc

    return boom


def test_benchsim_error_becomes_one_line_with_its_exit_code(monkeypatch) -> None:
    monkeypatch.setattr(benchsim._paths, "home", _raise(DataError("tables of 'x' are corrupt")))
    result = CliRunner().invoke(main, ["data", "path"])
    assert result.exit_code == 2
    assert error_lines(result) == ["Error: tables of 'x' are corrupt"]


def test_unexpected_error_is_one_line_exit_1(monkeypatch) -> None:
    monkeypatch.delenv("BENCHSIM_DEBUG", raising=False)
    monkeypatch.setattr(benchsim._paths, "home", _raise(RuntimeError("boom\nsecond line")))
    result = CliRunner().invoke(main, ["data", "path"])
    assert result.exit_code == 1
    lines = error_lines(result)
    assert len(lines) == 1
    assert "unexpected RuntimeError: boom second line" in lines[0]
    assert "--debug" in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(monkeypatch, how: str) -> None:
    monkeypatch.setattr(benchsim._paths, "home", _raise(RuntimeError("boom")))
    args = ["--debug", "data", "path"] if how == "flag" else ["data", "path"]
    env = {"BENCHSIM_DEBUG": "1"} if how == "env" else {}
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)  # re-raised: Python prints the traceback


def test_bad_debug_env_value_is_one_line() -> None:
    """Through the real entry point (``python -m benchsim.cli``): a bad BENCHSIM_DEBUG value."""
    env = {**os.environ, "BENCHSIM_DEBUG": "yes-please"}
    proc = subprocess.run(
        [sys.executable, "-m", "benchsim.cli", "data", "path"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "'yes-please'" in lines[0] and "BENCHSIM_DEBUG" in lines[0]


def test_data_path_prints_home(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["data", "path"], env={"BENCHSIM_HOME": str(tmp_path)})
    assert result.exit_code == 0
    assert result.stdout.strip() == str(tmp_path)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    match = re.search(r'^TEST_CMD="([^"]+)"$', script, re.M)
    assert match, ".ci/run must define TEST_CMD once"
    command = match.group(1)
    assert "$TEST_CMD || status=$?" in script
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    assert command in [b.strip() for b in blocks], f"README must show `{command}` as a block"
    assert shlex.split(command)[:3] == ["python", "-m", "pytest"]
    assert os.access(ROOT / ".ci" / "run", os.X_OK), ".ci/run must be executable"


def test_setup_exports_the_mirror_and_ci_keeps_its_own_environment() -> None:
    """README step A once set the mirror for one command only (later offline examples then
    failed on a fresh home), and .ci/run wiped the .venv that step A had just made."""
    readme = (ROOT / "README.md").read_text()
    step_a = next(b for b in re.findall(r"```bash\n(.*?)```", readme, re.S) if "venv" in b)
    assert 'export BENCHSIM_DATA_MIRROR="$(cd ../shared/data/upstream && pwd)"' in step_a
    script = (ROOT / ".ci" / "run").read_text()
    assert 'VENV="$ROOT/.ci-venv"' in script and '-m venv --clear "$VENV"' in script
    assert ".venv/bin/activate" not in script
