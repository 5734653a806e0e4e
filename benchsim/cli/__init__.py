"""The ``benchsim`` command line: a thin click layer over the library.

Commands live in their own modules and are registered on :data:`main` below; each imports the
library lazily inside its body, so ``benchsim --help`` stays fast.  Error handling (one line on
stderr, exit 2 for bad input, 1 for a failure, a traceback only with ``--debug``) is done once,
by :class:`~benchsim.cli._group.BenchsimGroup`.
"""

from __future__ import annotations

import click

from benchsim._version import __version__
from benchsim.cli._compat import compat
from benchsim.cli._data import data
from benchsim.cli._exit import run_to_exit
from benchsim.cli._group import ENV_DEBUG, BenchsimGroup
from benchsim.cli._query import query
from benchsim.cli._report import report
from benchsim.cli._repro import verify_repro
from benchsim.cli._reproduce import reproduce
from benchsim.cli._retrain import retrain
from benchsim.cli._run import run
from benchsim.cli._sweep import sweep
from benchsim.cli._task_distance import task_distance


@click.group(
    name="benchsim", cls=BenchsimGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "--version", "-V", prog_name="benchsim")
@click.option(
    "--debug",
    is_flag=True,
    envvar=ENV_DEBUG,
    show_envvar=True,
    help="Show the full traceback of an unexpected error.",
)
def main(debug: bool) -> None:
    """benchsim: run one NAS algorithm unchanged on tabular benchmarks or a live supernet.

    Tables (NAS-Bench-201, TransNAS-Bench-101) are built from pinned, checksummed public sources
    into $BENCHSIM_HOME on first use; see `benchsim data --help`.
    """


# Every command is a module of its own, added here.
main.add_command(query)
main.add_command(data)
main.add_command(run)
main.add_command(retrain)
main.add_command(sweep)
main.add_command(report)
main.add_command(verify_repro)
main.add_command(reproduce)
main.add_command(compat)
main.add_command(task_distance)


def entry() -> None:
    """The ``benchsim`` program: :data:`main`, then the process ends without the interpreter's
    teardown (:mod:`benchsim.cli._exit`)."""
    run_to_exit(main)


__all__ = ["entry", "main"]
