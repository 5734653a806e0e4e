"""Checked data on the query path: every table file is verified against its recorded SHA-256.

A table file that was modified or damaged after installation must never answer a query: a few
flipped bytes in a memory-mapped column would otherwise come back as a plausible accuracy.
Hashing a file on every open would cost tens of milliseconds, so a verified file is
remembered by its ``(size, mtime, ctime, inode)`` in ``$BENCHSIM_HOME/cache/verified.json``
(and in memory): any write to the file changes its ctime, which no user tool can set back, so
a changed file is hashed again, and a mismatch is a one-line :class:`CorruptDataError` naming the
file and the repair.  The cache is only a record of work done: deleting it costs one re-hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from benchsim._paths import home
from benchsim.errors import CorruptDataError

CHUNK = 1 << 20
_MEMORY: dict[str, tuple[tuple[int, ...], str]] = {}
_DISK_LOADED = False


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_file() -> Path:
    return home() / "cache" / "verified.json"


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def _read_disk() -> dict[str, tuple[tuple[int, ...], str]]:
    try:
        raw = json.loads(_cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no record yet (or an unreadable one): files are simply hashed again
    if not isinstance(raw, dict):
        return {}
    return {
        key: (tuple(value[:4]), str(value[4]))
        for key, value in raw.items()
        if isinstance(value, list) and len(value) == 5
    }


def _load_disk() -> None:
    global _DISK_LOADED
    _DISK_LOADED = True
    for key, value in _read_disk().items():
        _MEMORY.setdefault(key, value)  # type: ignore[arg-type]


def _save_disk() -> None:
    """Merge this process's record into the file (another process may have added its own)
    and drop entries of files that no longer exist; written atomically."""
    path = _cache_file()
    merged = {**_read_disk(), **_MEMORY}
    payload = {
        k: [*identity, digest] for k, (identity, digest) in merged.items() if Path(k).exists()
    }
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".verified.", suffix=".tmp")
        tmp = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
        os.replace(tmp, path)
    except OSError:  # a read-only home: verification still works, it just is not remembered
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def check_file(path: Path, expected: str, *, recorded_in: str, fix: str) -> None:
    """Raise :class:`CorruptDataError` unless ``path`` holds the bytes whose SHA-256 is
    ``expected``.

    ``recorded_in`` names where the expected hash comes from (for the message) and ``fix`` is
    the repair command.  Unchanged files verified before cost one ``stat``.
    """
    try:
        stat = path.stat()
    except OSError:
        raise CorruptDataError(f"{path} is missing; {fix}") from None
    key = str(path.resolve())
    identity = _identity(stat)
    if not _DISK_LOADED:
        _load_disk()
    known = _MEMORY.get(key)
    if known is not None and known == (identity, expected):
        return
    actual = sha256_file(path)
    if actual != expected:
        raise CorruptDataError(
            f"{path} does not match the SHA-256 recorded in {recorded_in} ({actual[:12]}... != "
            f"{expected[:12]}...): the file was modified or is corrupt; {fix}"
        )
    _MEMORY[key] = (identity, expected)
    _save_disk()


def remember(path: Path, digest: str) -> None:
    """Record ``path`` as holding ``digest`` now (a writer that has just hashed what it wrote)."""
    if not _DISK_LOADED:
        _load_disk()
    _MEMORY[str(Path(path).resolve())] = (_identity(Path(path).stat()), digest)
    _save_disk()


def forget() -> None:
    """Drop the in-memory record (tests; a new process starts from the file on disk)."""
    global _DISK_LOADED
    _MEMORY.clear()
    _DISK_LOADED = False
