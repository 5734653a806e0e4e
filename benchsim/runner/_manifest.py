"""A checkpoint's checksums: every file's SHA-256 in ``SHA256SUMS``, written last, checked first.

A checkpoint is several files written one after another, and a damaged one used to be resumed
silently: 64 flipped bytes in a Parquet part decompressed into plausible-looking wrong times,
and an edited ``state.json`` ran another search.  So every save ends by writing
``SHA256SUMS``, the list of the files that make up the checkpoint with their SHA-256 (the format
of coreutils ``sha256sum``, so ``cd DIR/checkpoint && sha256sum -c SHA256SUMS`` checks it by
hand), and :func:`read_verified` checks every listed file against it before a byte of any is
parsed.

``SHA256SUMS`` is the checkpoint's commit point: the files it lists are written first, under
names no earlier manifest uses, and flushed; the folder is flushed, so their renames are on
disk; then the manifest replaces the old one by an atomic rename, and only then are the files
of the previous checkpoint deleted.  A crash anywhere leaves either the old manifest with all
its files or the new one with all of its: a checkpoint is complete and verifiable, or absent.

Hashing stays cheap: the trajectory parts are append-only, so each is hashed once, from the
bytes in memory when it is written; a save hashes only what it writes.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from benchsim._files import atomic_write_bytes
from benchsim.errors import CheckpointError

MANIFEST = "SHA256SUMS"
_LINE = re.compile(r"([0-9a-f]{64})  ([A-Za-z0-9][A-Za-z0-9._-]*)")


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the renames into it) to disk; a no-op where a folder cannot
    be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit(folder: Path, files: dict[str, str]) -> None:
    """Make ``files`` (name -> SHA-256, all already written to ``folder``) the checkpoint, then
    delete every other file of the folder (those of the previous checkpoint, and any a killed
    save left behind)."""
    _sync_folder(folder)
    text = "".join(f"{digest}  {name}\n" for name, digest in files.items())
    atomic_write_bytes(folder / MANIFEST, text.encode())
    _sync_folder(folder)
    for path in folder.iterdir():
        if path.name != MANIFEST and path.name not in files and not path.is_dir():
            path.unlink(missing_ok=True)


def read_verified(folder: Path, fix: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """``(digests, contents)`` of every file ``folder/SHA256SUMS`` lists, each checked.

    Raises :class:`CheckpointError` naming the first file that is missing, unreadable or does
    not match (or the manifest itself, when it is not one benchsim wrote); ``fix`` says what to
    do instead of resuming.  Nothing is parsed before every file has been checked.
    """
    manifest = folder / MANIFEST
    try:
        text = manifest.read_bytes().decode("ascii")
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f"checkpoint file {manifest} is unreadable ({err})", fix) from None
    expected: dict[str, str] = {}
    for number, line in enumerate(text.split("\n")[:-1], 1):
        match = _LINE.fullmatch(line)
        if match is None or match[2] == MANIFEST or match[2] in expected:
            raise CheckpointError(
                f"checkpoint file {manifest} is damaged (line {number} is not '<sha256>  <file>')",
                fix,
            )
        expected[match[2]] = match[1]
    if not expected or not text.endswith("\n"):
        raise CheckpointError(f"checkpoint file {manifest} is damaged (truncated)", fix)
    contents: dict[str, bytes] = {}
    for name, digest in expected.items():
        path = folder / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CheckpointError(
                f"checkpoint file {path} is missing (listed in {MANIFEST})", fix
            ) from None
        except OSError as err:
            raise CheckpointError(f"checkpoint file {path} is unreadable ({err})", fix) from None
        actual = sha256(data)
        if actual != digest:
            raise CheckpointError(
                f"checkpoint file {path} does not match its SHA-256 recorded in {MANIFEST} "
                f"({actual[:12]}... != {digest[:12]}...): the checkpoint is damaged or was "
                "edited, so it is not resumed",
                fix,
            )
        contents[name] = data
    return expected, contents
