"""The manifest pins exactly the bytes of the mirror (upstream.sha256) and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchsim.errors import DataError, UnknownNameError
from benchsim.store import BENCHMARKS, files_for, manifest
from benchsim.store import _manifest as manifest_module


def _pinned(mirror_dir: Path) -> dict[str, str]:
    lines = (mirror_dir.parent / "upstream.sha256").read_text().splitlines()
    return {rel: sha for sha, rel in (line.split("  ", 1) for line in lines if line.strip())}


def test_every_entry_matches_upstream_sha256(mirror_dir: Path) -> None:
    pinned = _pinned(mirror_dir)
    entries = manifest()
    assert len(entries) == 55
    for entry in entries.values():
        assert entry.relpath in pinned, entry.relpath
        assert entry.sha256 == pinned[entry.relpath], entry.id
        assert (mirror_dir / entry.relpath).stat().st_size == entry.size, entry.id
        assert re.fullmatch(r"[0-9a-f]{40}", entry.commit)
        assert entry.url == (
            f"https://raw.githubusercontent.com/{entry.owner}/{entry.repo}/{entry.commit}/"
            f"{entry.path}"
        )


def test_left_out_files_are_only_the_documented_ones(mirror_dir: Path) -> None:
    used = {e.relpath for e in manifest().values()}
    left_out = sorted(rel for rel in _pinned(mirror_dir) if rel not in used)
    assert all(
        rel.startswith(("D-X-Y/NATS-Bench/", "D-X-Y/AutoDL-Projects/"))
        or rel.endswith("/data/robustness_targets.csv")
        for rel in left_out
    ), left_out
    text = manifest_module.MANIFEST_PATH.read_text()
    for name in ("robustness_targets.csv", "NATS-Bench", "AutoDL-Projects"):
        assert name in text  # the comment says why


def test_files_for_each_benchmark() -> None:
    counts = {b: len(files_for(b)) for b in BENCHMARKS}
    assert counts == {"nb201": 43, "tnb101-micro": 8, "tnb101-macro": 8}
    assert [e.path for e in files_for("nats-algos")] == [
        "LICENSE.md",
        "exps/NATS-algos/random_wo_share.py",
        "exps/NATS-algos/regularized_ea.py",
    ]
    assert all(e.licence for e in manifest().values())
    with pytest.raises(UnknownNameError, match=r"unknown benchmark 'nb101'.*nb201"):
        files_for("nb101")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("commit", "1f8fd621", "commit == '1f8fd621', must be 40"),
        ("sha256", "ABC", "sha256 == 'ABC', must be 64"),
        ("size", 0, "size == 0, must be a positive integer"),
        ("benchmarks", ["nb301"], "benchmarks == \\['nb301'\\]"),
    ],
)
def test_bad_entries_are_named(field: str, value: object, message: str) -> None:
    raw = {**next(iter(manifest().values())).to_dict(), field: value}
    raw.pop("url")
    with pytest.raises(DataError, match=message):
        manifest_module._check_entry(3, raw)
