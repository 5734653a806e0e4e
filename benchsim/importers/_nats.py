"""NATS-Bench topology "simple" files (``NATS-tss-v1_0-3ffb9-simple``) to benchsim tables.

The official directory holds ``meta.pickle.pbz2`` (``meta_archs``: the 15,625 architecture
strings in index order) and one ``NNNNNN.pickle.pbz2`` per architecture: a bz2 pickle of
``{"12": ArchResults state, "200": ArchResults state}`` with every epoch of every seed of both
schedules (see :mod:`benchsim.importers._nb201` for the mapping to benchsim's metrics).  The
directory, or any single architecture file, can be imported; architectures not given are NaN
rows of the grid.

The size search space (``NATS-sss-*``, schedules ``01``/``12``/``90``, architectures such as
``8:16:32:48:64``) is a different space and is refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from benchsim.errors import DataError
from benchsim.importers._io import IMPORT_KINDS, read_bz2_pickle
from benchsim.importers._io import progress as progress_bar
from benchsim.importers._nb201 import EPOCH_COLUMNS, SCHEDULES, add_architecture
from benchsim.importers._tables import TableBuilder
from benchsim.spaces import SearchSpace, get_space

EXPECTED = (
    "a NATS-Bench topology 'simple' directory (NATS-tss-v1_0-3ffb9-simple) "
    "or one of its NNNNNN.pickle.pbz2 files"
)
_ARCH_FILE = re.compile(r"^(\d{6})\.pickle\.pbz2$")
_META_FILE = "meta.pickle.pbz2"


def _sss_error(path: Path, detail: str) -> DataError:
    return DataError(
        f"{path} is a NATS-Bench size-search-space (sss) file ({detail}); benchsim imports the "
        f"topology space only; allowed kinds: {', '.join(IMPORT_KINDS)}"
    )


def read_nats_tss_simple(
    path: str | Path, *, benchmark: str = "nb201-nats", progress: bool = True
) -> dict[str, pd.DataFrame]:
    """Tables of a NATS-Bench topology "simple" directory or architecture file.

    Parameters
    ----------
    path
        The ``NATS-tss-v1_0-3ffb9-simple`` directory (every ``NNNNNN.pickle.pbz2`` in it is
        read; ``meta.pickle.pbz2``, when present, is checked against the official order), or a
        single ``NNNNNN.pickle.pbz2``.
    benchmark
        Value of the ``benchmark`` column (the folder the tables are meant for).
    progress
        Show a progress bar while reading a directory.

    Returns
    -------
    dict
        ``{"final", "seeds", "epochs"}`` DataFrames in the schema of ``data/README.md``:
        ``final`` = 200-epoch schedule, last epoch, mean over seeds; ``seeds`` = its per-seed
        values (seed = the real seed, 777/888/999); ``epochs`` = every epoch of every seed and
        of the seed mean (seed -1), for schedule 200 and the separate 12-epoch schedule.

    Examples
    --------
    >>> tables = read_nats_tss_simple("NATS-tss-v1_0-3ffb9-simple")  # doctest: +SKIP
    >>> tables["final"].query("task == 'cifar10' and arch_index == 0")["test_acc"]  # doctest: +SKIP
    0    85.863333
    """
    return _read(Path(path).expanduser(), benchmark, progress)[0]


def _read(path: Path, benchmark: str, progress: bool) -> tuple[dict[str, pd.DataFrame], list[dict]]:
    """Tables and the ``sources`` entries (path, sha256) for :func:`write_tables`."""
    files, meta = _locate(path)  # [(index, path)] in index order
    space = get_space("nb201")
    digests: dict[str, str] = {}
    if meta is not None:
        digests[meta.name] = _check_meta(meta, space)
    builder = TableBuilder(benchmark, space, EPOCH_COLUMNS)
    for index, file in progress_bar(files, "reading NATS-Bench files", progress, len(files)):
        record, digests[file.name] = read_bz2_pickle(file, EXPECTED)
        _check_record(file, record, index, space.size)
        add_architecture(builder, index, record, str(file))
    if path.is_dir():
        listing = "".join(f"{name} {sha}\n" for name, sha in sorted(digests.items()))
        source = {
            "path": str(path.resolve()),
            "sha256": hashlib.sha256(listing.encode()).hexdigest(),
            "files": len(digests),
            "note": "sha256 of the sorted '<file> <sha256>' lines of the files read",
        }
    else:
        source = {"path": str(path.resolve()), "sha256": digests[path.name]}
    return builder.build(), [{"kind": "nats-tss-simple", **source}]


def _locate(path: Path) -> tuple[list[tuple[int, Path]], Path | None]:
    """The ``(index, file)`` pairs to read and the meta file (if any) for ``path``."""
    if not path.exists():
        raise DataError(f"{path} does not exist; expected {EXPECTED}")
    if path.is_dir():
        if path.name.startswith("NATS-sss"):
            raise _sss_error(path, "directory name NATS-sss-*")
        files = sorted(
            (int(match.group(1)), p)
            for p in path.iterdir()
            if (match := _ARCH_FILE.match(p.name)) and p.is_file()
        )
        meta = path / _META_FILE
        if not files:
            raise DataError(f"{path} holds no NNNNNN.pickle.pbz2 files; expected {EXPECTED}")
        return files, meta if meta.is_file() else None
    if path.name == _META_FILE:
        raise DataError(f"{path} holds only architecture strings, no results; expected {EXPECTED}")
    match = _ARCH_FILE.match(path.name)
    if not match:
        raise DataError(f"{path} is not named NNNNNN.pickle.pbz2; expected {EXPECTED}")
    return [(int(match.group(1)), path)], None


def _check_meta(meta: Path, space: SearchSpace) -> str:
    """Refuse a meta file whose architecture list is not NAS-Bench-201's official order."""
    obj, sha = read_bz2_pickle(meta, EXPECTED)
    archs = obj.get("meta_archs") if isinstance(obj, Mapping) else None
    if not isinstance(archs, list) or not all(isinstance(a, str) for a in archs):
        raise DataError(f"{meta} has no 'meta_archs' list of strings; expected {EXPECTED}")
    if len(archs) != space.size:
        if archs and ":" in archs[0] and "|" not in archs[0]:
            raise _sss_error(meta, f"{len(archs)} architectures such as {archs[0]!r}")
        raise DataError(
            f"{meta} lists {len(archs)} architectures, NAS-Bench-201 has {space.size}; "
            f"expected {EXPECTED}"
        )
    for i, arch in enumerate(archs):
        if arch != space.format(i):
            raise DataError(
                f"{meta} lists architecture {i} as {arch!r}, but NAS-Bench-201's official "
                f"architecture {i} is {space.format(i)!r}; expected {EXPECTED}"
            )
    return sha


def _check_record(file: Path, record: Any, index: int, size: int) -> None:
    """The file holds the schedules of architecture ``index`` of the topology space."""
    if not isinstance(record, Mapping) or not record:
        raise DataError(f"{file} is not a dict of schedules; expected {EXPECTED}")
    keys = sorted(map(str, record))
    if not set(keys) <= set(SCHEDULES):
        if {"01", "90"} & set(keys):
            raise _sss_error(file, f"schedules {keys}")
        raise DataError(f"{file} has keys {keys[:6]}; expected schedules {list(SCHEDULES)}")
    if index >= size:
        raise DataError(f"{file}: architecture {index} is out of range 0..{size - 1}")
    for hp, state in record.items():
        recorded = state.get("arch_index") if isinstance(state, Mapping) else None
        if recorded is not None and int(recorded) != index:
            raise DataError(f"{file} holds architecture {recorded} (hp {hp}), not {index}")
