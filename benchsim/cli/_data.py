"""``benchsim data ...``: install, list, verify and import the benchmark tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from benchsim.cli._group import CliError
from benchsim.cli._params import LazyChoice, mirror_option

INSTALL_NAMES = ("nb201", "tnb101", "tnb101-micro", "tnb101-macro", "all")
"""What ``data install`` accepts: a benchmark, ``tnb101`` (micro and macro) or ``all``.

Static copies (a test keeps them equal to ``benchsim.store.INSTALL_NAMES`` and
``benchsim.spaces.SPACE_NAMES``) so that ``benchsim --help`` imports neither package."""
SPACE_NAMES = ("nb201", "tnb101-micro", "tnb101-macro")


def _import_kinds() -> Sequence[str]:
    from benchsim.importers import IMPORT_KINDS

    return tuple(IMPORT_KINDS)


def _human_size(size: object) -> str:
    """Bytes as ``12.3 MB``; anything else (already a string, ``None``) as is or ``-``."""
    if size is None:
        return "-"
    if not isinstance(size, (int, float)):
        return str(size)
    value = float(size)
    if value < 1000:
        return f"{value:.0f} B"
    for unit in ("kB", "MB"):
        value /= 1000
        if value < 1000:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} GB"


def _tasks_text(tasks: object) -> str:
    if tasks is None:
        return "-"
    if isinstance(tasks, (list, tuple)):
        return ", ".join(str(t) for t in tasks) if tasks else "-"
    return str(tasks)


@click.group()
def data() -> None:
    """Install, list, verify and import benchmark tables (kept under $BENCHSIM_HOME)."""


@data.command()
@click.argument("names", nargs=-1, type=click.Choice(INSTALL_NAMES), metavar="[NAMES]...")
@mirror_option
@click.option("--force", is_flag=True, help="Rebuild tables that are already installed.")
def install(names: tuple[str, ...], mirror: Path | None, force: bool) -> None:
    """Build the Parquet tables of NAMES (default: all) from the pinned, checksummed sources.

    NAMES: nb201, tnb101-micro, tnb101-macro, tnb101 (both TransNAS-Bench-101 spaces) or all.

    Online, each source file is downloaded from its pinned GitHub commit; offline, --mirror
    (or BENCHSIM_DATA_MIRROR) points at a local copy. Prints the folder of each table built.
    """
    from benchsim import store

    for path in store.install(names or ("all",), mirror=mirror, force=force, progress=True):
        click.echo(str(path))


@data.command(name="list")
def list_() -> None:
    """Show every table, built-in or imported: name, installed, space, tasks, size, path."""
    from rich.table import Table

    from benchsim import store
    from benchsim._paths import tables_dir
    from benchsim.cli._console import print_table

    table = Table(title=f"benchsim tables in {tables_dir()}", title_justify="left")
    for header in ("name", "installed", "space", "tasks", "size", "path"):
        table.add_column(header, overflow="fold")
    for row in store.list_tables():
        table.add_row(
            str(row["benchmark"]),
            "yes" if row["installed"] else "no",
            str(row.get("space") or "-"),
            _tasks_text(row.get("tasks")),
            _human_size(row.get("size_bytes")) if row["installed"] else "-",
            str(row["path"]),
        )
    print_table(table)  # piped or captured: full width, paths never squeezed into 80 columns


@data.command()
@click.argument("names", nargs=-1, metavar="[NAMES]...")
def verify(names: tuple[str, ...]) -> None:
    """Check the SHA-256 of every installed table file against its meta.json.

    NAMES: install names (nb201, tnb101, ...) or imported tables; default: every installed
    table. Prints one line per table, naming any file that does not match; exits 1 if any
    check fails.
    """
    from benchsim import store
    from benchsim._paths import tables_dir
    from benchsim.errors import UnknownNameError

    tables = store.list_tables()
    known = [*INSTALL_NAMES, *(r["benchmark"] for r in tables)]
    for name in names:
        if name not in known:
            raise UnknownNameError("benchmark", name, dict.fromkeys(known), "to verify")
    if not names:
        names = tuple(r["benchmark"] for r in tables if r["installed"])
        if not names:
            raise CliError(
                f"no tables installed under {tables_dir()}; install them with "
                "`benchsim data install`",
                exit_code=1,
            )
    failed = []
    for benchmark, ok, message in store.verify(names=names):
        status, detail = ("ok", message.removeprefix("ok: ")) if ok else ("FAILED", message)
        click.echo(f"{status:<6}  {benchmark}: {detail}")
        if not ok:
            failed.append(str(benchmark))
    if failed:
        raise CliError(
            f"verification failed for {', '.join(dict.fromkeys(failed))} (see the lines above)",
            exit_code=1,
        )


@data.command(name="import")
@click.argument("kind", type=LazyChoice(_import_kinds), metavar="KIND")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--name",
    metavar="NAME",
    help=(
        "Benchmark name of the new table (query it with --benchmark NAME); default: "
        "nb201-nats, nb201-pth or <space>-pth."
    ),
)
@click.option(
    "--space",
    type=click.Choice(SPACE_NAMES),
    help="Search space to write; required for tnb101-pth (the file holds micro and macro).",
)
def import_(kind: str, path: Path, name: str | None, space: str | None) -> None:
    """Convert the official benchmark file PATH of format KIND into a table of its own.

    \b
    KIND              PATH
    nats-tss-simple   a NATS-tss-v1_0-3ffb9-simple/ folder or one NNNNNN.pickle.pbz2
    nb201-pth         NAS-Bench-201-v1_0-e61699.pth or NAS-Bench-201-v1_1-096897.pth
    tnb101-pth        transnas-bench_v10141024.pth (with --space)

    .pth files are pickles loaded with torch: import only files from the benchmark's
    official source. Prints the folder of the new table.
    """
    from benchsim.importers import import_file

    click.echo(str(import_file(kind, path, name=name, space=space)))


@data.command()
def path() -> None:
    """Print the benchsim home folder ($BENCHSIM_HOME, default ~/.cache/benchsim)."""
    from benchsim._paths import home

    click.echo(str(home()))


def _attach_prepare() -> None:
    # ``benchsim data prepare`` lives with the image datasets of the live backend.
    from benchsim.cli._prepare import prepare

    data.add_command(prepare)


_attach_prepare()
