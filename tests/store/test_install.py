"""install / ensure_installed / verify / list_tables over real mirrors, good and broken."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from benchsim.errors import ChecksumError, DataError, UnknownNameError
from benchsim.store import (
    _fetch,
    ensure_installed,
    files_for,
    install,
    is_installed,
    list_tables,
    table_dir,
    verify,
)
from benchsim.store._progress import Progress

BUILTIN = ["nb201", "tnb101-micro", "tnb101-macro"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    """An empty private BENCHSIM_HOME (no mirror from the environment)."""
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BENCHSIM_DATA_MIRROR", raising=False)
    return tmp_path / "home"


def _linked_mirror(tmp_path: Path, mirror_dir: Path, benchmarks: list[str]) -> Path:
    """A mirror of symlinks to the real files (cheap), to break one file at a time."""
    root = tmp_path / "mirror"
    for benchmark in benchmarks:
        for entry in files_for(benchmark):
            target = root / entry.relpath
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(mirror_dir / entry.relpath)
    _fetch.clear_hash_cache()
    return root


def _visible(folder: Path) -> list[Path]:
    """What ``folder`` holds besides hidden files (``[]`` when it does not exist)."""
    return [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.exists() else []


def test_installed_home_holds_every_benchmark(installed_home: Path) -> None:
    assert os.environ["BENCHSIM_HOME"] == str(installed_home)
    rows = {r["benchmark"]: r for r in list_tables()}
    assert list(rows)[:3] == BUILTIN
    for name in BUILTIN:
        row = rows[name]
        assert row["installed"] and row["path"] == str(installed_home / "tables" / name)
        assert row["space"] == name and row["size_bytes"] > 1_000_000 and row["created"]
        assert table_dir(name) == installed_home / "tables" / name and is_installed(name)
    assert rows["nb201"]["tasks"] == ["cifar10", "cifar100", "ImageNet16-120"]
    assert len(rows["tnb101-micro"]["tasks"]) == 7
    assert verify() == [
        (n, True, "ok: 4 files match meta.json, which matches meta.json.sha256") for n in BUILTIN
    ]


def test_installed_benchmarks_are_not_rebuilt(installed_home: Path, tmp_path: Path) -> None:
    meta = installed_home / "tables" / "nb201" / "meta.json"
    before = meta.stat().st_mtime_ns
    # nothing is fetched or converted, so even a mirror that does not exist is never looked at
    paths = install(["tnb101", "nb201", "all"], mirror=tmp_path / "none", progress=False)
    assert paths == [
        installed_home / "tables" / n for n in ("tnb101-micro", "tnb101-macro", "nb201")
    ]
    assert meta.stat().st_mtime_ns == before


def test_unknown_names(home: Path) -> None:
    with pytest.raises(UnknownNameError) as info:
        install(["nb201", "nasbench201"])
    assert str(info.value) == (
        "unknown benchmark 'nasbench201' to install; allowed: nb201, tnb101-micro, "
        "tnb101-macro, tnb101, all"
    )
    with pytest.raises(UnknownNameError, match=r"unknown benchmark 'nb2O1'.*nb201, tnb101-micro"):
        ensure_installed("nb2O1")
    assert not home.exists()


def test_ensure_installed_installs_once_and_says_so(home, mirror_dir, monkeypatch, capsys):
    monkeypatch.setenv("BENCHSIM_DATA_MIRROR", str(mirror_dir))
    folder = ensure_installed("tnb101-macro", progress=False)
    err = capsys.readouterr().err
    assert err == (
        f"benchsim: installing tnb101-macro tables from mirror {mirror_dir.resolve()} "
        "(first use)...\n"
    )
    assert folder == home / "tables" / "tnb101-macro" and (folder / "meta.json").is_file()
    assert ensure_installed("tnb101-macro") == folder
    assert capsys.readouterr().err == ""
    assert [r[:2] for r in verify("tnb101")] == [("tnb101-micro", False), ("tnb101-macro", True)]


def test_ensure_installed_serves_an_imported_table(home: Path, installed_home: Path) -> None:
    shutil.copytree(installed_home / "tables" / "tnb101-macro", home / "tables" / "macro-mine")
    assert ensure_installed("macro-mine") == home / "tables" / "macro-mine"
    names = [r["benchmark"] for r in list_tables()]
    assert names == [*BUILTIN, "macro-mine"]
    assert verify("macro-mine") == [
        ("macro-mine", True, "ok: 4 files match meta.json, which matches meta.json.sha256")
    ]


def test_checksum_error_half_way_writes_nothing(home, tmp_path, mirror_dir) -> None:
    mirror = _linked_mirror(tmp_path, mirror_dir, BUILTIN)
    last = files_for("tnb101-macro")[-1]  # fetched after every nb201 and micro file
    bad = mirror / last.relpath
    bad.unlink()
    bad.write_bytes((mirror_dir / last.relpath).read_bytes()[:-100])
    with pytest.raises(ChecksumError, match=rf"{last.relpath}: sha256 .* truncated"):
        install(["all"], mirror=mirror, progress=False)
    assert _visible(home / "tables") == []  # the install lock file (hidden) may stay
    assert [r["installed"] for r in list_tables()] == [False, False, False]


def test_missing_mirror_file_writes_nothing(home, tmp_path, mirror_dir) -> None:
    mirror = _linked_mirror(tmp_path, mirror_dir, ["tnb101-macro"])
    entry = files_for("tnb101-macro")[0]
    (mirror / entry.relpath).unlink()
    with pytest.raises(DataError, match=f"{entry.relpath} .*missing from the data mirror"):
        install(["tnb101-macro"], mirror=mirror, progress=False)
    assert not is_installed("tnb101-macro") and _visible(home / "tables") == []


def test_verify_detects_modified_and_missing_files(home, installed_home) -> None:
    folder = home / "tables" / "tnb101-macro"
    shutil.copytree(installed_home / "tables" / "tnb101-macro", folder)
    assert verify(["tnb101-macro"])[0][1] is True
    data = bytearray((folder / "final.arrow").read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in a value buffer
    (folder / "final.arrow").write_bytes(bytes(data))
    name, ok, message = verify(["tnb101-macro"])[0]
    assert (name, ok) == ("tnb101-macro", False)
    assert "final.arrow sha256" in message and "!= meta.json" in message
    assert message.endswith("reinstall with `benchsim data install tnb101-macro --force`")
    (folder / "seeds.parquet").unlink()
    assert "seeds.parquet is missing" in verify("tnb101-macro")[0][2]
    assert verify("nb201") == [
        ("nb201", False, f"not installed: no meta.json in {home / 'tables' / 'nb201'}")
    ]


def test_force_reinstalls(home, mirror_dir) -> None:
    (folder,) = install("tnb101-macro", mirror=mirror_dir, progress=False)
    first = json.loads((folder / "meta.json").read_text())
    (folder / "final.parquet").write_bytes(b"damaged")
    assert verify("tnb101-macro")[0][1] is False
    install(["tnb101-macro"], mirror=mirror_dir, force=True, progress=False)
    assert verify("tnb101-macro")[0][1] is True
    assert json.loads((folder / "meta.json").read_text())["tables"] == first["tables"]


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_elsewhere(monkeypatch, capsys):
    """Off a terminal an install used to print nothing until it ended."""
    monkeypatch.setenv("BENCHSIM_PROGRESS_EVERY", "0")  # every step and byte count
    with Progress(enabled=True, total=2) as bar:  # captured stderr is not a terminal
        bar.step("fetching one.csv")
        plain = bar.byte_bar("one.csv")
        plain.total = 2_000_000
        plain.update(1_000_000)
        plain.close()
        bar.step("converting")
    assert capsys.readouterr().err.splitlines() == [
        "benchsim data: step 1 of 2: fetching one.csv",
        "benchsim data:   one.csv: 1.0 of 2.0 MB downloaded",
        "benchsim data: step 2 of 2: converting",
    ]
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with Progress(enabled=True, total=2) as bar:
        bar.step("fetching file.csv")
        byte_bar = bar.byte_bar("file.csv")  # the calls pooch's HTTPDownloader makes
        byte_bar.total = 1000
        byte_bar.update(400)
        byte_bar.reset()
        byte_bar.update(1000)
        byte_bar.close()
        bar.step("converting")
    with Progress(enabled=False, total=1) as bar:
        assert bar.byte_bar("x") is None
