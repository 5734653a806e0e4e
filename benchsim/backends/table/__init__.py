"""The table backend: NAS-Bench-201 and TransNAS-Bench-101 answered from installed tables.

:class:`TableBenchmark` opens ``$BENCHSIM_HOME/tables/<name>/``; :func:`benchsim.benchmark`
(registered here as backend ``"table"``) installs the tables first when they are missing.
"""

from __future__ import annotations

from pathlib import Path

from benchsim._paths import tables_dir
from benchsim.backends import register_backend
from benchsim.backends.table._catalog import CATALOG
from benchsim.backends.table._layout import installed_names
from benchsim.backends.table.benchmark import TableBenchmark
from benchsim.errors import UnknownNameError

__all__ = ["TableBenchmark", "available", "open_table"]


def available(root: Path | None = None) -> list[str]:
    """Built-in benchmark names, then every other installed table folder (imported tables)."""
    installed = installed_names(Path(root) if root is not None else tables_dir())
    return [*CATALOG, *(n for n in installed if n not in CATALOG)]


@register_backend("table")
def open_table(
    name: str,
    *,
    seed: int | None = 0,
    install: bool = True,
    mirror: str | Path | None = None,
    root: Path | None = None,
    progress: bool = True,
) -> TableBenchmark:
    """Open table benchmark ``name``, installing a built-in one on first use.

    Parameters
    ----------
    name
        ``"nb201"``, ``"tnb101-micro"``, ``"tnb101-macro"`` or an imported table's name.
    seed, install, mirror
        See :func:`benchsim.benchmark`.
    root
        Folder holding the table folders (default ``$BENCHSIM_HOME/tables``); nothing is
        installed into a folder given here.
    progress
        Show the install progress bar.
    """
    folder = Path(root) if root is not None else tables_dir()
    if not isinstance(name, str) or not (folder / name / "meta.json").is_file():
        if isinstance(name, str) and name not in CATALOG:
            raise UnknownNameError(
                "benchmark",
                name,
                available(folder),
                "(import other tables with `benchsim data import`)",
            )
        if install and root is None and isinstance(name, str):
            # Imported lazily: the store pulls in pandas, which opening an installed table
            # never needs.
            from benchsim.store import ensure_installed

            folder = ensure_installed(name, mirror=mirror, progress=progress).parent
    return TableBenchmark(name, root=folder, seed=seed)
