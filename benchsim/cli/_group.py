"""The one place where the CLI turns exceptions into one line on stderr and an exit code.

Rules (every command inherits them by being registered on :data:`benchsim.cli.main`):

* a :class:`~benchsim.errors.BenchsimError` prints ``Error: <message>`` and exits with the
  error's ``exit_code`` (2 for bad input);
* a click usage error (unknown option, bad ``click.Choice`` value, missing argument) prints one
  line too, ending with where to find help, and exits 2; click's usual multi-line usage block is
  left out so that every bad input reads the same way;
* anything else is a bug: one line naming the exception and exit 1, or the full traceback with
  ``benchsim --debug`` or ``BENCHSIM_DEBUG=1``;
* a :class:`~benchsim.errors.BenchsimWarning` prints ``warning: <message>``, one line on stderr
  (not Python's file-and-line form), and the command goes on.
"""

from __future__ import annotations

import errno
import os
import traceback
import warnings
from typing import Any

import click

from benchsim.errors import BenchsimError, BenchsimWarning

ENV_DEBUG = "BENCHSIM_DEBUG"


class CliError(click.ClickException):
    """A one-line error with an explicit exit code (click's own ``exit_code`` is per class)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(_one_line(message))
        self.exit_code = exit_code  # type: ignore[misc]


def _one_line(message: str) -> str:
    """Join a possibly multi-line message into one line."""
    parts = [part.strip() for part in str(message).splitlines()]
    return " ".join(part for part in parts if part)


def debug_enabled(ctx: click.Context | None) -> bool:
    """Whether ``--debug`` was given to the root command or ``BENCHSIM_DEBUG`` is truthy."""
    if ctx is not None and ctx.find_root().params.get("debug"):
        return True
    return os.environ.get(ENV_DEBUG, "").strip().lower() in ("1", "true", "yes", "on")


def _usage_line(err: click.UsageError) -> CliError:
    """A usage error as one line: click's message plus where the help is."""
    message = err.format_message()
    if err.ctx is not None:
        message = f"{message} (see '{err.ctx.command_path} --help')"
    return CliError(message, exit_code=err.exit_code)


class BenchsimGroup(click.Group):
    """A click group that applies the module's error rules to itself and every subcommand."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse the group's own options; a usage error becomes one line."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as err:
            raise _usage_line(err) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen subcommand, translating whatever it raises (and warns)."""
        with warnings.catch_warnings():
            default = warnings.showwarning

            def show(message, category, filename, lineno, file=None, line=None) -> None:
                if issubclass(category, BenchsimWarning):
                    click.echo(f"warning: {_one_line(str(message))}", err=True)
                else:
                    default(message, category, filename, lineno, file, line)

            warnings.showwarning = show
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as err:
            raise _usage_line(err) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # already one line (or a clean exit); click shows it
        except BenchsimError as err:
            if debug_enabled(ctx):
                traceback.print_exc()
            raise CliError(str(err), exit_code=err.exit_code) from None
        except OSError as err:
            if err.errno == errno.EPIPE:  # `benchsim data list | head`: click quiets it
                raise
            if debug_enabled(ctx):
                raise
            raise CliError(_describe(err, unexpected=False), exit_code=1) from None
        except Exception as err:
            if debug_enabled(ctx):
                raise
            raise CliError(_describe(err), exit_code=1) from None


def _describe(err: BaseException, *, unexpected: bool = True) -> str:
    """One line for an exception that is not a :class:`BenchsimError`.

    An ``OSError`` (disk full, permission denied) is the environment's, not necessarily a bug,
    so it is not called unexpected.
    """
    prefix = "unexpected " if unexpected else ""
    return (
        f"{prefix}{type(err).__name__}: {err} (rerun with --debug or {ENV_DEBUG}=1 "
        "for the traceback)"
    )
