"""Parameter types and options shared by several commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from benchsim._paths import ENV_MIRROR
from benchsim.cli._group import CliError


class SeedType(click.ParamType):
    """``--seed``: an integer training seed, ``sample`` (draw one recorded seed) or ``mean``.

    ``mean`` (the default) converts to ``None``, the library's "mean over recorded seeds".
    """

    name = "seed"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        """Shown in the help line."""
        return "N|sample|mean"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int | str | None:
        """Parse the command-line text."""
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "mean":
            return None
        if text == "sample":
            return "sample"
        try:
            return int(text)
        except ValueError:
            self.fail(
                f"{value!r} is not a training seed; give an integer recorded seed "
                "(nb201: 0, 1 or 2), 'sample' or 'mean'",
                param,
                ctx,
            )


SEED = SeedType()


class LazyChoice(click.Choice):
    """A :class:`click.Choice` whose choices are computed on first use.

    Lets a command offer a fixed set that lives in a heavier module (e.g. the importer kinds)
    without importing that module when ``benchsim --help`` runs.
    """

    def __init__(self, load: Callable[[], Sequence[str]], case_sensitive: bool = True) -> None:
        # click.Choice.__init__ would evaluate the choices now; store the loader instead.
        self._load = load
        self._choices: tuple[str, ...] | None = None
        self.case_sensitive = case_sensitive

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        """The choices, loaded once."""
        if self._choices is None:
            self._choices = tuple(self._load())
        return self._choices


def _check_mirror(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """A mirror must be an existing folder; say whether the bad value came from the env var."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        from_env = ctx.get_parameter_source(param.name or "") is ParameterSource.ENVIRONMENT
        origin = f"${ENV_MIRROR}" if from_env else "--mirror"
        raise CliError(
            f"data mirror {str(value)!r} (from {origin}) is not an existing folder; point it at "
            "a copy of shared/data/upstream (<owner>/<repo>/<commit>/<path>), or "
            f"{'unset it' if from_env else 'leave it out'} to download from GitHub"
        )
    return path.resolve()


def mirror_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--mirror DIR``: an offline copy of the pinned upstream files (default: the env var)."""
    return click.option(
        "--mirror",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=ENV_MIRROR,
        show_envvar=True,
        callback=_check_mirror,
        metavar="DIR",
        help=(
            "Offline mirror laid out as <owner>/<repo>/<commit>/<path> (e.g. "
            "../shared/data/upstream); without it, missing files are downloaded from the pinned "
            "GitHub commits. Every file is SHA-256 checked either way."
        ),
    )(func)
