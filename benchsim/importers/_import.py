"""``import_file``: read an official benchmark file and install it as a benchmark folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from benchsim.errors import ConfigError, UnknownNameError
from benchsim.importers import _nats, _nb201_pth, _tnb101
from benchsim.importers._io import IMPORT_KINDS

BUILTIN_NAMES = ("nb201", "tnb101-micro", "tnb101-macro")
"""Folders the data installer owns; an import never overwrites them."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_Reader = Callable[[Path, str, str, bool], tuple[dict[str, pd.DataFrame], list[dict]]]
_READERS: dict[str, tuple[tuple[str, ...], _Reader]] = {
    "nats-tss-simple": (("nb201",), lambda p, s, b, pr: _nats._read(p, b, pr)),
    "nb201-pth": (("nb201",), lambda p, s, b, pr: _nb201_pth._read(p, b, pr)),
    "tnb101-pth": (_tnb101.SPACES, _tnb101._read),
}


def default_name(kind: str, space: str) -> str:
    """Folder name an import gets without ``name``: ``nb201-nats``, ``nb201-pth``,
    ``tnb101-micro-pth`` or ``tnb101-macro-pth``."""
    return "nb201-nats" if kind == "nats-tss-simple" else f"{space}-pth"


def import_file(
    kind: str,
    path: str | Path,
    *,
    name: str | None = None,
    space: str | None = None,
    root: Path | None = None,
    progress: bool = True,
) -> Path:
    """Import an official benchmark file as the benchmark folder ``name``; returns the folder.

    The tables have the installer's schema (``data/README.md``) over the same search space, so
    ``benchsim.benchmark(name)`` serves them like an installed benchmark; architectures the file
    does not hold are NaN rows.

    Parameters
    ----------
    kind
        ``"nats-tss-simple"`` (a ``NATS-tss-v1_0-3ffb9-simple`` directory or one
        ``NNNNNN.pickle.pbz2``), ``"nb201-pth"`` (``NAS-Bench-201-v1_[01]-*.pth``) or
        ``"tnb101-pth"`` (``transnas-bench_v10141024.pth``).  See :data:`IMPORT_KINDS`.
    path
        The file or directory.  ``.pth`` files are unpickled with
        ``torch.load(weights_only=False)``, which can run code named in the file: import only
        files downloaded from the benchmark's official source.
    name
        Target folder under ``$BENCHSIM_HOME/tables``; default from :func:`default_name`.  The
        installer's folders (:data:`BUILTIN_NAMES`) are refused.
    space
        Which search space to write: required for ``tnb101-pth`` (``"tnb101-micro"`` or
        ``"tnb101-macro"``; the file holds both, import it twice for both), ``"nb201"``
        (or ``None``) for the other kinds.
    root
        Tables root (default ``$BENCHSIM_HOME/tables``), passed to ``write_tables``.
    progress
        Show a progress bar while reading.

    Examples
    --------
    >>> import_file("nats-tss-simple", "~/data/NATS-tss-v1_0-3ffb9-simple")  # doctest: +SKIP
    PosixPath('/home/me/.cache/benchsim/tables/nb201-nats')
    """
    if kind not in _READERS:
        raise UnknownNameError("import kind", kind, IMPORT_KINDS)
    spaces, reader = _READERS[kind]
    if space is None and len(spaces) == 1:
        space = spaces[0]
    if space not in spaces:
        raise ConfigError(
            f"space == {space!r} for kind {kind}, must be one of {', '.join(spaces)}"
            + (" (the file holds both; import it once per space)" if len(spaces) > 1 else "")
        )
    target = default_name(kind, space) if name is None else name
    check_name(target)
    tables, sources = reader(Path(path).expanduser(), space, target, progress)
    from benchsim.store import write_tables

    return write_tables(target, space, tables, sources, root=root)


def check_name(name: str) -> str:
    """Validate a target folder name; raises :class:`ConfigError` with the rule."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"name == {name!r}, must be 1-64 letters, digits, '.', '_' or '-' starting with a "
            "letter or digit"
        )
    if name.lower() in BUILTIN_NAMES:  # case-insensitive file systems share the folder
        raise ConfigError(
            f"name == {name!r} is a benchmark the installer owns ({', '.join(BUILTIN_NAMES)}); "
            "choose another name, e.g. the default"
        )
    return name
