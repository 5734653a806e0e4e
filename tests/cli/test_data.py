"""``benchsim data ...`` on real installed tables, and its bad inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchsim.cli import main
from benchsim.cli._data import INSTALL_NAMES, SPACE_NAMES


def run(args: list[str], home: Path, **env: str):
    """Invoke ``benchsim`` with ``BENCHSIM_HOME=home`` (and extra env vars)."""
    return CliRunner().invoke(main, args, env={"BENCHSIM_HOME": str(home), **env})


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_static_name_lists_match_the_library() -> None:
    """The CLI keeps static copies (so --help stays light); they must not drift."""
    from benchsim import store
    from benchsim.spaces import SPACE_NAMES as LIBRARY_SPACES

    assert set(INSTALL_NAMES) == set(store.INSTALL_NAMES)
    assert SPACE_NAMES == LIBRARY_SPACES


def test_path_prints_benchsim_home(installed_home: Path) -> None:
    result = run(["data", "path"], installed_home)
    assert result.exit_code == 0
    assert result.stdout.strip() == str(installed_home)


def test_list_shows_installed_tables(installed_home: Path) -> None:
    result = run(["data", "list"], installed_home)
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "nb201" in rows
    nb201 = [cell.strip() for cell in rows["nb201"].split("│")[1:-1]]
    name, installed, space, tasks, size, path = nb201
    assert (name, installed, space) == ("nb201", "yes", "nb201")
    assert tasks == "cifar10, cifar100, ImageNet16-120"
    assert size.endswith("MB")
    assert path == str(installed_home / "tables" / "nb201")


def test_list_on_empty_home_says_not_installed(tmp_path: Path) -> None:
    result = run(["data", "list"], tmp_path)
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if "│" in line and "nb201" in line]
    assert len(lines) == 1 and "│ no " in lines[0]


def test_verify_installed_home_is_ok(installed_home: Path) -> None:
    result = run(["data", "verify"], installed_home)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok") and "nb201:" in line for line in lines)
    assert not any(line.startswith("FAILED") for line in lines)


def test_verify_names_the_modified_file(installed_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(installed_home / "tables" / "nb201", home / "tables" / "nb201")
    with (home / "tables" / "nb201" / "final.arrow").open("ab") as fh:
        fh.write(b"\0")
    result = run(["data", "verify", "nb201"], home)
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "nb201" in failed[0] and "final.arrow" in failed[0]
    assert error_lines(result) == ["Error: verification failed for nb201 (see the lines above)"]


def test_verify_unknown_name_exits_2(installed_home: Path) -> None:
    result = run(["data", "verify", "nb999"], installed_home)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "'nb999'" in line and "nb201" in line


def test_verify_nothing_installed_exits_1(tmp_path: Path) -> None:
    result = run(["data", "verify"], tmp_path)
    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert "no tables installed" in line and "benchsim data install" in line


def test_install_unknown_name_exits_2(tmp_path: Path) -> None:
    result = run(["data", "install", "nb301"], tmp_path)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "'nb301'" in line
    for allowed in INSTALL_NAMES:
        assert f"'{allowed}'" in line
    assert not (tmp_path / "tables").exists()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_install_missing_mirror_dir_exits_2(tmp_path: Path, how: str) -> None:
    missing = tmp_path / "no-such-mirror"
    if how == "flag":
        result = run(["data", "install", "--mirror", str(missing), "nb201"], tmp_path)
        origin = "--mirror"
    else:
        result = run(["data", "install", "nb201"], tmp_path, BENCHSIM_DATA_MIRROR=str(missing))
        origin = "$BENCHSIM_DATA_MIRROR"
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert str(missing) in line and f"(from {origin})" in line
    assert not (tmp_path / "tables").exists()


def test_install_from_mirror_then_again_is_a_no_op(mirror_dir: Path, tmp_path: Path) -> None:
    result = run(["data", "install", "--mirror", str(mirror_dir), "tnb101-macro"], tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "tables" / "tnb101-macro"
    assert result.stdout.splitlines() == [str(folder)]
    assert (folder / "meta.json").is_file()
    stamp = (folder / "meta.json").stat().st_mtime_ns
    again = run(["data", "install", "tnb101-macro"], tmp_path, BENCHSIM_DATA_MIRROR="")
    assert again.exit_code == 0  # already installed: no mirror or network needed
    assert (folder / "meta.json").stat().st_mtime_ns == stamp


def test_import_nats_fixture_then_query_it(mirror_dir: Path, tmp_path: Path) -> None:
    """The real NATS-Bench 'simple' files of architectures 0, 11 and 284."""
    (src,) = mirror_dir.glob("D-X-Y/NATS-Bench/*/fake_torch_dir/NATS-tss-v1_0-3ffb9-simple")
    result = run(["data", "import", "nats-tss-simple", str(src), "--name", "nats3"], tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(tmp_path / "tables" / "nats3")
    listed = run(["data", "list"], tmp_path)
    assert any("│ nats3 " in line and "│ yes " in line for line in listed.stdout.splitlines())
    out = run(["query", "-b", "nats3", "-t", "cifar10", "-m", "test_acc", "0"], tmp_path)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["metrics"]["test_acc"] == pytest.approx(85.86333333333334)
    missing = run(["query", "-b", "nats3", "-t", "cifar10", "-m", "test_acc", "1"], tmp_path)
    assert missing.exit_code == 2  # not in the file: refused, never imputed
    (line,) = error_lines(missing)
    assert "architecture 1 " in line and "nats3" in line


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["data", "import", "nb202-pth", "."], "'nb202-pth'"),
        (["data", "import", "nb201-pth", "no/such/file.pth"], "no/such/file.pth"),
        (["data", "import", "nats-tss-simple", ".", "--name", "nb201"], "'nb201'"),
        (["data", "import", "nats-tss-simple", ".", "--name", "bad name"], "'bad name'"),
        (["data", "import", "tnb101-pth", ".", "--space", "nb301"], "'nb301'"),
    ],
)
def test_import_bad_input_exits_2(tmp_path: Path, args: list[str], needle: str) -> None:
    result = run(args, tmp_path)
    assert result.exit_code == 2, result.output
    (line,) = error_lines(result)
    assert needle in line
