"""The table backend: NAS-Bench-201 and TransNAS-Bench-101 answered from installed tables.

:class:`TableBenchmark` opens ``$BENCHSIM_HOME/tables/<name>/``; :func:`benchsim.benchmark`
(registered here as backend ``"table"``) installs the tables first when they are missing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchsim._paths import tables_dir
from benchsim.backends import register_backend
from benchsim.backends.table._layout import META_SUM, installed_names, read_meta, verify_meta
from benchsim.backends.table._weight_sharing import WeightSharingSettings
from benchsim.backends.table.benchmark import TableBenchmark
from benchsim.catalog import CATALOG
from benchsim.errors import DataError, UnknownNameError

__all__ = ["TableBenchmark", "WeightSharingSettings", "available", "open_table"]


def available(root: Path | None = None) -> list[str]:
    """Built-in benchmark names, then every other installed table folder (imported tables)."""
    installed = installed_names(Path(root) if root is not None else tables_dir())
    return [*CATALOG, *(n for n in installed if n not in CATALOG)]


@register_backend("table", traits=TableBenchmark.traits, option_example="weight_sharing=fewshot")
def open_table(
    name: str,
    *,
    seed: int | None = 0,
    install: bool = True,
    mirror: str | Path | None = None,
    root: Path | None = None,
    progress: bool = True,
    **options: Any,
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
    **options
        Weight-sharing emulation settings (``weight_sharing``, ``ws_source``, ``ws_tau``, ...;
        :class:`~._weight_sharing.WeightSharingSettings`, docs/weight_sharing.md), as given to
        ``benchsim run --backend-option``; an unknown name is refused with the allowed ones.
    """
    settings = WeightSharingSettings.from_options(options)
    folder = Path(root) if root is not None else tables_dir()
    managed = install and root is None and isinstance(name, str) and name in CATALOG
    if managed and (folder / name / "meta.json").is_file() and _outdated(folder / name, name):
        # Built by an older benchsim whose catalog lacked columns this one serves (e.g. the
        # recorded supernet estimates): rebuild from the pinned sources instead of failing
        # later on a missing column.
        from benchsim.store import install as install_tables

        print(
            f"benchsim: the installed {name} tables were written by an older benchsim; "
            "rebuilding them from the pinned sources...",
            file=sys.stderr,
        )
        install_tables([name], mirror=mirror, force=True, progress=progress)
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
    return TableBenchmark(name, root=folder, seed=seed, weight_sharing=settings)


def _outdated(folder: Path, name: str) -> bool:
    """Whether a built-in table was written by an older benchsim: tasks with other metric
    columns than the catalog lists, or no checksum of its ``meta.json``."""
    if not (folder / META_SUM).is_file():
        return True
    try:
        verify_meta(folder, name)  # an edited meta.json is damage, reported as such on open
        meta = read_meta(folder, name)
    except DataError:
        return False  # a broken folder is reported by TableBenchmark with its own fix
    return any(CATALOG[name].get(t) != info for t, info in meta.tasks.items()) or set(
        meta.tasks
    ) != set(CATALOG[name])
