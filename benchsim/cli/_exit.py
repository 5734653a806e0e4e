"""End the ``benchsim`` process as soon as a command is done, without the interpreter's teardown.

After a command returns, Python tears its interpreter down: it frees every module and object
that numpy, pyarrow and benchsim created, one by one (25 ms here, on a 0.3 s ``benchsim run``
and on both sides of a sweep).  Nothing a command leaves needs that: its results are written
atomically and closed before it returns.  What does need to happen at exit does, in the order
Python's own shutdown does it: other (non-daemon) threads have ended, every :mod:`atexit`
handler runs (logging's flush, multiprocessing's and concurrent.futures' clean-up, coverage,
``weakref.finalize`` objects, Ray's shutdown), and standard output and error are flushed; then
:func:`os._exit` ends the process with the command's status.

Where that is not possible, the process ends the ordinary way: a thread is still running,
the status is a message rather than a number, or a standard stream cannot be flushed (a closed
pipe: Python then reports it as it always does).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

import click


def run_to_exit(command: click.Command, prog_name: str = "benchsim") -> NoReturn:
    """Run ``command`` as the program (click's standalone mode, which always ends by raising
    :class:`SystemExit`) and end the process with its status through :func:`end_now`."""
    try:
        command.main(prog_name=prog_name)
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            end_now(done.code or 0)
        raise
    raise SystemExit(0)  # (click's standalone mode does not return)


def end_now(status: int) -> None:
    """End the process with ``status`` after what Python's shutdown runs (see the module
    docstring); return instead, for the ordinary exit, when that cannot be done safely."""
    main = threading.main_thread()
    if any(not t.daemon for t in threading.enumerate() if t is not main):
        return  # Python waits for such a thread before exiting: let it
    atexit._run_exitfuncs()  # (each handler once: the list is empty afterwards)
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            return  # Python's own exit reports an unwritable stream (and sets the status)
    os._exit(status)
