"""Install, check and list benchmark tables under ``$BENCHSIM_HOME/tables``.

An install runs in two stages so that a bad source never leaves a half-built table: first
every source file of every requested benchmark is fetched and verified (one progress bar over
the files), then each benchmark is converted and written by :func:`write_tables`, whose own
write is atomic.  A checksum error anywhere therefore writes nothing at all.

One install runs at a time per ``$BENCHSIM_HOME``: both stages hold ``tables/.install.lock``
(:mod:`benchsim.store._lock`), and what is still to install is decided once it is held, so a
process that waited for another's install of the same tables finds them there and builds
nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

from benchsim._paths import tables_dir
from benchsim.errors import CorruptDataError, DataError, UnknownNameError
from benchsim.store._builders import BUILDERS
from benchsim.store._fetch import fetch, resolve_mirror, sha256_of
from benchsim.store._lock import holding
from benchsim.store._manifest import BENCHMARKS, SourceFile, files_for
from benchsim.store._progress import Progress
from benchsim.store._write import META_FILE, META_SUM, check_benchmark_name, write_tables

INSTALL_NAMES: dict[str, tuple[str, ...]] = {
    "nb201": ("nb201",),
    "tnb101-micro": ("tnb101-micro",),
    "tnb101-macro": ("tnb101-macro",),
    "tnb101": ("tnb101-micro", "tnb101-macro"),
    "all": BENCHMARKS,
}
"""Names :func:`install` accepts and the benchmarks each stands for."""


def _expand(names: Iterable[str] | str) -> list[str]:
    """Benchmarks named by ``names`` (aliases expanded, duplicates dropped, order kept)."""
    items = [names] if isinstance(names, str) else list(names)
    out: list[str] = []
    for name in items:
        if name not in INSTALL_NAMES:
            raise UnknownNameError("benchmark", name, INSTALL_NAMES, "to install")
        out += [b for b in INSTALL_NAMES[name] if b not in out]
    return out


def table_dir(benchmark: str) -> Path:
    """Folder of a benchmark's tables, ``$BENCHSIM_HOME/tables/<benchmark>`` (may not exist)."""
    return tables_dir() / check_benchmark_name(benchmark)


def is_installed(benchmark: str) -> bool:
    """Whether the benchmark's folder holds a ``meta.json`` (written last by every install)."""
    return (table_dir(benchmark) / META_FILE).is_file()


def install(
    names: Iterable[str] = ("all",),
    *,
    mirror: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> list[Path]:
    """Build the tables of the named benchmarks from their pinned sources.

    Parameters
    ----------
    names
        Any of ``nb201``, ``tnb101-micro``, ``tnb101-macro``, ``tnb101`` (both TNB101 spaces)
        and ``all``.
    mirror
        Folder laid out as ``<owner>/<repo>/<commit>/<path>`` to read sources from instead of
        downloading them; default ``$BENCHSIM_DATA_MIRROR``, else GitHub.
    force
        Rebuild benchmarks that are already installed.
    progress
        Show a progress bar on stderr (only when it is a terminal).

    Returns
    -------
    list of pathlib.Path
        The table folder of every named benchmark, in the order named.

    Examples
    --------
    >>> from benchsim.store import install
    >>> install(["tnb101-macro"], mirror="../shared/data/upstream")  # doctest: +SKIP
    [PosixPath('/home/me/.cache/benchsim/tables/tnb101-macro')]
    """
    benchmarks = _expand(names)
    if force or not all(is_installed(b) for b in benchmarks):
        source = resolve_mirror(mirror)
        with holding(tables_dir(), "install", "installing tables"):
            # Checked again under the lock: a process we waited for may have installed them.
            todo = [b for b in benchmarks if force or not is_installed(b)]
            _build(todo, source, progress)
    return [table_dir(b) for b in benchmarks]


def _build(todo: list[str], source: Path | None, progress: bool) -> None:
    """Fetch and verify every source file of ``todo``, then convert and write each table."""
    if not todo:
        return
    entries: dict[str, SourceFile] = {}
    for benchmark in todo:
        entries.update({e.id: e for e in files_for(benchmark)})
    with Progress(enabled=progress, total=len(entries) + len(todo)) as bar:
        paths: dict[str, Path] = {}
        for entry in entries.values():
            bar.step(f"{'verifying' if source else 'fetching'} {entry.path}")
            byte_bar = None if source else bar.byte_bar(entry.path)
            paths[entry.id] = fetch(entry, mirror=source, bar=byte_bar)
        for benchmark in todo:
            bar.step(f"converting {benchmark}")
            tables = BUILDERS.get(benchmark)(paths)
            sources = [e.to_dict() for e in files_for(benchmark)]
            write_tables(benchmark, benchmark, tables, sources)


def ensure_installed(
    benchmark: str, *, mirror: str | Path | None = None, progress: bool = True
) -> Path:
    """The table folder of ``benchmark``, installing it first if it is not there yet.

    Installing prints one line on stderr saying where the sources come from.  A name the
    installer does not build must already be installed (an imported table); otherwise
    :class:`UnknownNameError` lists what would work.
    """
    folder = table_dir(benchmark)
    if (folder / META_FILE).is_file():
        return folder
    if benchmark not in BENCHMARKS:
        raise UnknownNameError(
            "benchmark",
            benchmark,
            [*BENCHMARKS, *(t["benchmark"] for t in list_tables() if t["installed"])],
            "(not installed; import other tables with `benchsim data import`)",
        )
    source = resolve_mirror(mirror)
    origin = f"mirror {source}" if source else "github"
    print(f"benchsim: installing {benchmark} tables from {origin} (first use)...", file=sys.stderr)
    install([benchmark], mirror=source, progress=progress)
    return folder


def _folders() -> list[str]:
    """Built-in benchmarks, then any other folder under the tables root (imported tables)."""
    root = tables_dir()
    extra = sorted(
        p.name
        for p in (root.iterdir() if root.is_dir() else [])
        if p.is_dir() and not p.name.startswith(".") and p.name not in BENCHMARKS
    )
    return [*BENCHMARKS, *extra]


def _read_meta(folder: Path) -> dict:
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise CorruptDataError(f"{folder / META_FILE} is unreadable ({exc})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("tables"), dict):
        raise CorruptDataError(
            f"{folder / META_FILE} has no 'tables' mapping; reinstall the benchmark"
        )
    return meta


def verify(names: Iterable[str] | str = ("all",)) -> list[tuple[str, bool, str]]:
    """Re-hash every table file against the sha256 its ``meta.json`` recorded.

    ``names`` are install names or imported benchmark names; ``"all"`` means every built-in
    benchmark plus every other table folder.  Returns ``(benchmark, ok, message)`` per
    benchmark; a benchmark that is not installed is reported, not raised.
    """
    items = [names] if isinstance(names, str) else list(names)
    benchmarks: list[str] = []
    for name in items:
        group = _folders() if name == "all" else INSTALL_NAMES.get(name, (name,))
        benchmarks += [b for b in group if b not in benchmarks]
    report = []
    for benchmark in benchmarks:
        folder = table_dir(benchmark)
        fix = f"reinstall with `benchsim data install {benchmark} --force`"
        if not (folder / META_FILE).is_file():
            report.append((benchmark, False, f"not installed: no {META_FILE} in {folder}"))
            continue
        try:
            recorded = _read_meta(folder)["tables"]
        except DataError as exc:
            report.append((benchmark, False, str(exc)))
            continue
        problems = []
        sums = folder / META_SUM
        if not sums.is_file():
            report.append((benchmark, False, f"{META_SUM} is missing (written by an older "
                           f"benchsim, or damaged); {fix}"))  # fmt: skip
            continue
        if sha256_of(folder / META_FILE, cache=False) != sums.read_text().strip():
            problems.append(f"{META_FILE} does not match {META_SUM}")
        for name, expected in recorded.items():
            path = folder / name
            if not path.is_file():
                problems.append(f"{name} is missing")
                continue
            actual = sha256_of(path, cache=False)
            if actual != expected:
                problems.append(f"{name} sha256 {actual[:12]}... != {META_FILE} {expected[:12]}...")
        if problems:
            report.append((benchmark, False, f"{'; '.join(problems)} (modified or corrupt); {fix}"))
        else:
            report.append(
                (benchmark, True, f"ok: {len(recorded)} files match {META_FILE}, which matches "
                 f"{META_SUM}")
            )  # fmt: skip
    return report


def list_tables() -> list[dict]:
    """One dict per benchmark (built-in ones always, imported ones when present).

    Keys: ``benchmark``, ``installed``, ``path``, ``size_bytes`` (all files in the folder),
    ``space``, ``tasks`` (names), ``created`` (UTC ISO time, ``None`` if not installed).
    """
    out = []
    for benchmark in _folders():
        folder = table_dir(benchmark)
        installed = (folder / META_FILE).is_file()
        meta = _read_meta(folder) if installed else {}
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) if installed else 0
        out.append(
            {
                "benchmark": benchmark,
                "installed": installed,
                "path": str(folder),
                "size_bytes": size,
                "space": meta.get("space", benchmark if benchmark in BENCHMARKS else None),
                "tasks": [t["name"] for t in meta.get("tasks", [])],
                "created": meta.get("created"),
            }
        )
    return out
