"""``$BENCHSIM_HOME``: made absolute once, refused in one line when it cannot be a folder."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from benchsim._paths import home, tables_dir
from benchsim.cli import main
from benchsim.errors import ConfigError


def test_a_relative_home_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BENCHSIM_HOME", "cache/../bench")
    assert home() == tmp_path / "bench" and home().is_absolute()
    assert tables_dir() == tmp_path / "bench" / "tables"
    result = CliRunner().invoke(main, ["data", "path"], env={"BENCHSIM_HOME": "rel"})
    assert result.exit_code == 0 and result.output.strip() == str(tmp_path / "rel")


@pytest.mark.parametrize("below", ["", "sub/folder"])
def test_a_home_that_is_or_lies_under_a_file_is_one_line(tmp_path, monkeypatch, below):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    value = str(blocker / below) if below else str(blocker)
    monkeypatch.setenv("BENCHSIM_HOME", value)
    with pytest.raises(ConfigError, match=r"\$BENCHSIM_HOME .* not a folder") as info:
        home()
    assert str(blocker) in str(info.value) and "\n" not in str(info.value)
    result = CliRunner().invoke(
        main, ["query", "--task", "cifar10", "0"], env={"BENCHSIM_HOME": value}
    )
    assert result.exit_code == 2, result.output
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith("Error: $BENCHSIM_HOME") and str(blocker) in line
