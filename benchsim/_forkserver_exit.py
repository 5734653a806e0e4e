"""The fork server's last preload: it ends without tearing its interpreter down.

The server lives until the sweep's process exits; Python's teardown of what the server imported
(numpy, pyarrow, benchsim's run path: 25 ms here) then began only after the sweep's own, and
whoever reads the sweep's output through a pipe (a script, ``| tee``, CI) waited for both.  The
server holds no data and writes no file: ``os._exit`` as its teardown begins, after flushing
its standard streams, loses nothing.

Only the fork server is affected: :func:`benchsim._forkserver.ensure_server` starts it with
:data:`SERVER_MARK` set to the starting process's id, which is the server's parent and no other
process's.  The mark is removed at once, so the workers forked from the server never see it
(they exit through ``os._exit`` anyway).  Imported anywhere else, this module does nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

SERVER_MARK = "BENCHSIM_FORK_SERVER"


def _end_now() -> None:
    """Flush what the server printed (a warning while it imported), then end it: the server
    only ever ends this way, on the sweep's exit, so its status is 0."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


if os.environ.pop(SERVER_MARK, None) == str(os.getppid()):
    atexit.register(_end_now)
