"""NAS-Bench-201 ``.pth`` files (``NAS-Bench-201-v1_0-e61699.pth``, ``-v1_1-096897.pth``).

Each file is a torch pickle of ``{"meta_archs": [15,625 strings], "arch2infos": {index:
{"less": ArchResults state, "full": ArchResults state}}, "evaluated_indexes": ...}``; ``less``
is the 12-epoch schedule (``hp="12"``) and ``full`` the 200-epoch one, exactly as the official
``NASBench201API.__init__`` reads them.  The records are the same as in the NATS-Bench simple
files, so :mod:`benchsim.importers._nb201` converts both.

Why not build ``NASBench201API`` itself: it deep-copies the whole loaded dict (twice the
multi-GB file in memory, the complaint of AutoDL-Projects #78/#131) and its per-epoch queries
re-sum the time lists every call.  The tests instead check this importer against the official
API on a file written in the official format.

v1_0 vs v1_1: same structure; v1_0's ``less`` records hold ``cifar10-valid`` only and fewer
architectures have three seeds; v1_1 adds the 12-epoch runs on every dataset.  Whatever a file
lacks (a dataset, a seed, ``train_times``) is NaN, never imputed.

Reading needs PyTorch and unpickles the file with ``weights_only=False``, which can run code
named in it: import only a file downloaded from the official source (see
:mod:`benchsim.importers._io`).  It also needs the file's size in RAM (about 5 GB for v1_1).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from benchsim.errors import DataError
from benchsim.importers._io import progress as progress_bar
from benchsim.importers._io import sha256_file, torch_load
from benchsim.importers._nb201 import EPOCH_COLUMNS, add_architecture
from benchsim.importers._tables import TableBuilder
from benchsim.spaces import get_space

EXPECTED = "the official NAS-Bench-201 .pth (NAS-Bench-201-v1_0-e61699.pth or -v1_1-096897.pth)"
_KEYS = ("meta_archs", "arch2infos", "evaluated_indexes")
_HP_OF = {"less": "12", "full": "200"}


def read_nb201_pth(
    path: str | Path, *, benchmark: str = "nb201-pth", progress: bool = True
) -> dict[str, pd.DataFrame]:
    """Tables of a NAS-Bench-201 ``.pth`` file (same columns and rules as the NATS importer).

    Parameters
    ----------
    path
        The ``.pth`` file.  It is unpickled with ``torch.load(weights_only=False)``: only pass a
        file you trust (downloaded from the official source), since unpickling can run code.
    benchmark
        Value of the ``benchmark`` column.
    progress
        Show a progress bar over the architectures.

    Returns
    -------
    dict
        ``{"final", "seeds", "epochs"}`` DataFrames: 200-epoch (``full``) seed means in
        ``final``, per-seed values in ``seeds``, every epoch of both schedules in ``epochs``.

    Examples
    --------
    >>> tables = read_nb201_pth("NAS-Bench-201-v1_1-096897.pth")  # doctest: +SKIP
    """
    return _read(Path(path).expanduser(), benchmark, progress)[0]


def _read(path: Path, benchmark: str, progress: bool) -> tuple[dict[str, pd.DataFrame], list[dict]]:
    data = torch_load(path, EXPECTED)
    _check_top(path, data)
    space = get_space("nb201")
    archs = data["meta_archs"]
    if not isinstance(archs, (list, tuple)) or len(archs) != space.size:
        count = len(archs) if isinstance(archs, (list, tuple)) else type(archs).__name__
        raise DataError(
            f"{path} lists {count} architectures, NAS-Bench-201 has {space.size}; "
            f"expected {EXPECTED}"
        )
    for i, arch in enumerate(archs):
        if arch != space.format(i):
            raise DataError(
                f"{path} lists architecture {i} as {arch!r}, but NAS-Bench-201's official "
                f"architecture {i} is {space.format(i)!r}; expected {EXPECTED}"
            )
    infos = data["arch2infos"]
    if not isinstance(infos, Mapping):
        raise DataError(f"{path}: 'arch2infos' is a {type(infos).__name__}; expected {EXPECTED}")
    builder = TableBuilder(benchmark, space, EPOCH_COLUMNS)
    keys = sorted(infos, key=_as_index)
    for key in progress_bar(keys, "reading NAS-Bench-201", progress, len(keys)):
        index = _as_index(key)
        if not 0 <= index < space.size:
            raise DataError(f"{path}: arch2infos has index {key!r}, allowed: 0..{space.size - 1}")
        entry = infos.pop(key) if isinstance(infos, dict) else infos[key]  # free as we go
        if not isinstance(entry, Mapping) or not set(entry) & set(_HP_OF):
            raise DataError(
                f"{path}: arch2infos[{key}] has no 'less'/'full' records; expected {EXPECTED}"
            )
        schedules = {_HP_OF[k]: v for k, v in entry.items() if k in _HP_OF}
        add_architecture(builder, index, schedules, f"{path} arch2infos[{key}]")
    source = {"kind": "nb201-pth", "path": str(path.resolve()), "sha256": sha256_file(path)}
    return builder.build(), [source]


def _as_index(key: Any) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        return -1


def _check_top(path: Path, data: Any) -> None:
    """Refuse anything but the official top-level dict, saying what the file looks like."""
    if not isinstance(data, Mapping):
        raise DataError(f"{path} holds a {type(data).__name__}; expected {EXPECTED}")
    missing = [k for k in _KEYS if k not in data]
    if not missing:
        return
    if "data" in data and "metrics_dict" in data:
        raise DataError(f"{path} is a TransNAS-Bench-101 file; use kind tnb101-pth, not nb201-pth")
    if set(map(str, data)) & {"12", "200", "01", "90"}:
        raise DataError(
            f"{path} is one NATS-Bench architecture record; use kind nats-tss-simple for "
            "NNNNNN.pickle.pbz2 files"
        )
    raise DataError(f"{path} has no {missing} keys; expected {EXPECTED}")
