"""The pinned list of upstream source files (``manifest.toml``), parsed and validated once.

The manifest is package data, so a broken entry is a bug in benchsim, not in the user's setup;
it is still reported as a one-line :class:`~benchsim.errors.DataError` naming the entry, because
a user who edits the file by hand deserves to know which line is wrong.
"""

from __future__ import annotations

import re
import sys
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from benchsim.errors import DataError, UnknownNameError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

MANIFEST_PATH = Path(__file__).with_name("manifest.toml")
BENCHMARKS = ("nb201", "tnb101-micro", "tnb101-macro")
"""The benchmarks the installer builds from the manifest."""
CLIENT_BUNDLES = ("nats-algos",)
"""Pinned third-party client scripts (not data), fetched like data by :mod:`benchsim.compat`."""

RAW_URL = "https://raw.githubusercontent.com/{owner}/{repo}/{commit}/{path}"
_FIELDS = ("id", "owner", "repo", "commit", "path", "sha256", "size", "licence", "benchmarks")


@dataclass(frozen=True)
class SourceFile:
    """One pinned upstream file.

    Attributes
    ----------
    id
        Short name the converters ask for (``"nasgraph.nb201.cifar10"``).
    owner, repo, commit, path
        Where GitHub serves it; ``commit`` is the full 40-hex commit.
    sha256, size
        The exact bytes: a file with another size or hash is refused.
    licence
        The repository's licence, recorded in each table's ``meta.json``.
    benchmarks
        The installed benchmarks whose tables need this file, or the client bundle
        (:data:`CLIENT_BUNDLES`) it belongs to.
    """

    id: str
    owner: str
    repo: str
    commit: str
    path: str
    sha256: str
    size: int
    licence: str
    benchmarks: tuple[str, ...]

    @property
    def relpath(self) -> str:
        """``owner/repo/commit/path``: the location below a mirror or the download cache."""
        return f"{self.owner}/{self.repo}/{self.commit}/{self.path}"

    @property
    def url(self) -> str:
        """The raw.githubusercontent.com address of these exact bytes."""
        return RAW_URL.format(owner=self.owner, repo=self.repo, commit=self.commit, path=self.path)

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form, as recorded in ``meta.json`` ``sources``."""
        out = asdict(self)
        out["benchmarks"] = list(self.benchmarks)
        out["url"] = self.url
        return out


def _check_entry(number: int, raw: dict) -> SourceFile:
    """Validate one ``[[file]]`` table of the manifest."""
    where = f"{MANIFEST_PATH.name} [[file]] #{number}"
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise DataError(f"{where} lacks {', '.join(missing)}; every entry needs {_FIELDS}")
    if not re.fullmatch(r"[0-9a-f]{40}", str(raw["commit"])):
        raise DataError(f"{where} commit == {raw['commit']!r}, must be 40 lowercase hex digits")
    if not re.fullmatch(r"[0-9a-f]{64}", str(raw["sha256"])):
        raise DataError(f"{where} sha256 == {raw['sha256']!r}, must be 64 lowercase hex digits")
    if not isinstance(raw["size"], int) or raw["size"] <= 0:
        raise DataError(f"{where} size == {raw['size']!r}, must be a positive integer")
    bad = [b for b in raw["benchmarks"] if b not in (*BENCHMARKS, *CLIENT_BUNDLES)]
    if bad or not raw["benchmarks"]:
        allowed = (*BENCHMARKS, *CLIENT_BUNDLES)
        raise DataError(f"{where} benchmarks == {raw['benchmarks']!r}; allowed: {allowed}")
    return SourceFile(**{**raw, "benchmarks": tuple(raw["benchmarks"])})


@cache
def manifest() -> dict[str, SourceFile]:
    """Every pinned file, keyed by ``id`` (parsed once per process)."""
    with MANIFEST_PATH.open("rb") as fh:
        doc = tomllib.load(fh)
    files: dict[str, SourceFile] = {}
    for number, raw in enumerate(doc.get("file", []), start=1):
        entry = _check_entry(number, raw)
        if entry.id in files:
            raise DataError(f"{MANIFEST_PATH.name}: id {entry.id!r} appears twice; ids are unique")
        files[entry.id] = entry
    return files


def files_for(benchmark: str) -> list[SourceFile]:
    """The files a benchmark's converter reads (or a client bundle holds), in manifest order."""
    if benchmark not in (*BENCHMARKS, *CLIENT_BUNDLES):
        raise UnknownNameError("benchmark", benchmark, BENCHMARKS, "in the data manifest")
    return [f for f in manifest().values() if benchmark in f.benchmarks]
