"""The ``benchsim`` process ends without the interpreter's teardown (benchsim.cli._exit), yet
with everything an ordinary exit does first: atexit handlers, other threads, flushed output,
the command's status."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PROGRAM = textwrap.dedent(
    """
    import atexit, sys, threading, time
    import click
    from benchsim.cli._exit import run_to_exit

    class Teardown:
        def __del__(self):
            sys.stderr.write("torn down\\n")

    HELD = Teardown()  # freed only by the interpreter's teardown

    @click.command()
    @click.argument("what")
    def program(what):
        if what == "lines":
            for i in range(100_000):  # more than a pipe holds: flushed at the end
                print(i)
        elif what == "atexit":
            atexit.register(lambda: print("atexit ran"))
        elif what == "thread":
            threading.Thread(target=lambda: (time.sleep(0.3), print("thread done"))).start()
        elif what == "usage":
            raise click.UsageError("bad usage")
        elif what == "status":
            sys.exit(3)
        elif what == "message":
            sys.exit("a message")

    run_to_exit(program)
    """
)


def _run(what: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, what], capture_output=True, text=True, timeout=60
    )


def test_a_finished_command_ends_without_the_teardown_and_with_all_its_output():
    done = _run("lines")
    assert done.returncode == 0
    assert done.stdout.split() == [str(i) for i in range(100_000)]
    assert "torn down" not in done.stderr


def test_atexit_handlers_run_before_the_end():
    done = _run("atexit")
    assert (done.returncode, done.stdout) == (0, "atexit ran\n")
    assert "torn down" not in done.stderr


@pytest.mark.parametrize(("what", "status"), [("usage", 2), ("status", 3)])
def test_the_status_is_the_commands(what, status):
    done = _run(what)
    assert done.returncode == status
    assert "torn down" not in done.stderr


def test_a_running_thread_is_waited_for_by_the_ordinary_exit():
    done = _run("thread")
    assert (done.returncode, done.stdout) == (0, "thread done\n")
    assert "torn down" in done.stderr  # the ordinary exit, teardown included


def test_a_message_status_is_printed_by_the_ordinary_exit():
    done = _run("message")
    assert done.returncode == 1
    assert "a message" in done.stderr


def test_the_benchsim_program_ends_this_way():
    """Both ways of starting it, the console script and ``python -m benchsim.cli``, call
    :func:`benchsim.cli.entry`."""
    from pathlib import Path

    import benchsim.cli
    import benchsim.cli.__main__

    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '\nbenchsim = "benchsim.cli:entry"\n' in pyproject  # [project.scripts]
    assert benchsim.cli.__main__.entry is benchsim.cli.entry
    done = subprocess.run(
        [sys.executable, "-m", "benchsim.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("benchsim, version")
