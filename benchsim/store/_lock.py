"""One writer at a time per table folder: an advisory file lock beside it.

Two processes installing into one ``$BENCHSIM_HOME`` at once (two ``benchsim query`` on a fresh
machine, a sweep's first runs) used to rename their files over each other's: one removed the
``meta.json`` the other had just put in place, both failed and nothing was installed.  Now each
writer first takes ``<root>/.<name>.lock``; the second one says, in one line on stderr, that it
waits, and then finds the work done (the installer checks again once it holds the lock).

The lock is :class:`filelock.FileLock`: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on
Windows, released by the operating system when its holder dies, so a killed install never
leaves a stale lock behind.  The lock files are hidden (``.`` names), outside every table
folder, and left in place (removing a lock file another process is about to open would let two
writers in).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


def lock_path(root: Path, name: str) -> Path:
    """The lock file guarding ``name`` (a table folder name, or ``install``) under ``root``."""
    return Path(root) / f".{name}.lock"


@contextmanager
def holding(root: Path, name: str, what: str) -> Iterator[None]:
    """Hold the lock of ``name`` under ``root`` for the block (waiting for it if taken).

    ``what`` completes the one line printed on stderr while another process holds it, e.g.
    ``"installing tables"``.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    path = lock_path(root, name)
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(
            f"benchsim: waiting for another process {what} in {root} (it holds {path})...",
            file=sys.stderr,
            flush=True,
        )
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
