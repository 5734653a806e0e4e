"""Reading official benchmark files safely, with one-line errors.

Everything that can go wrong with a file a user hands to an importer (missing, not the format,
truncated, holding objects the format never holds) becomes one
:class:`~benchsim.errors.DataError` naming the file and what was expected, never a raw pickle,
bz2 or torch traceback.

Security.  The official files are Python pickles, and unpickling can run code named in the file.

* NATS-Bench "simple" files (``NNNNNN.pickle.pbz2``) are read with :class:`_DataUnpickler`, which
  builds only containers, numbers, strings, ``OrderedDict`` and numpy scalars/arrays and refuses
  every other global: no code in the file runs.
* The NAS-Bench-201 and TransNAS-Bench-101 ``.pth`` files are torch pickles, read with
  ``torch.load(weights_only=False)``.  That unpickler can run code, so only import a ``.pth``
  you downloaded from the benchmark's official source.  It is acceptable because the user asks
  to import that one file by name, and it is how the official APIs load it.  torch >= 2.6
  defaults to ``weights_only=True``, which admits only tensors and a short allowlist of Python
  types; the 2020 files were written without that limit in mind (numpy scalars, for one), so it
  cannot be relied on to read them.
"""

from __future__ import annotations

import bz2
import collections
import hashlib
import io
import pickle
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from rich.console import Console
from rich.progress import track

from benchsim.errors import DataError

try:  # numpy >= 1.26 names its pickle helpers under numpy._core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - older numpy
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]

IMPORT_KINDS = ("nats-tss-simple", "nb201-pth", "tnb101-pth")
"""File formats :func:`benchsim.importers.import_file` reads (named in every format error)."""

_SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "set"): set,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
    **{
        (mod, "scalar"): _multiarray.scalar
        for mod in ("numpy.core.multiarray", "numpy._core.multiarray")
    },
    **{
        (mod, "_reconstruct"): _multiarray._reconstruct
        for mod in ("numpy.core.multiarray", "numpy._core.multiarray")
    },
}
"""The only globals a NATS-Bench simple file refers to (plus numpy arrays, which are inert)."""

_READ_CHUNK = 1 << 20
_T = TypeVar("_T")


class _RefusedGlobal(pickle.UnpicklingError):
    """A pickle names a global outside :data:`_SAFE_GLOBALS`."""


class _DataUnpickler(pickle.Unpickler):
    """An unpickler that only builds plain data, so reading a file never runs its code."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise _RefusedGlobal(f"{module}.{name}") from None


def first_line(err: BaseException, limit: int = 160) -> str:
    """``Type: first line of message`` of an exception, shortened for a one-line error."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def require_file(path: Path, expected: str) -> Path:
    """``path`` as an existing regular file, else a :class:`DataError` naming what was expected."""
    if not path.exists():
        raise DataError(f"{path} does not exist; expected {expected}")
    if not path.is_file():
        raise DataError(f"{path} is not a file; expected {expected}")
    return path


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in chunks (the official ``.pth`` files are several GB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_READ_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_bz2_pickle(path: Path, expected: str) -> tuple[Any, str]:
    """Load a bz2-compressed pickle of plain data; returns ``(object, sha256 of the file)``.

    Raises :class:`DataError` when the file is missing, is not bz2, is truncated, is not a
    pickle, or refers to anything but plain data (see :class:`_DataUnpickler`).
    """
    require_file(path, expected)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path} cannot be read ({first_line(err)}); expected {expected}") from None
    sha = hashlib.sha256(raw).hexdigest()
    try:
        payload = bz2.decompress(raw)
    except (OSError, ValueError, EOFError) as err:
        what = "is truncated" if raw.startswith(b"BZh") else "is not bz2-compressed"
        raise DataError(f"{path} {what} ({first_line(err)}); expected {expected}") from None
    try:
        obj = _DataUnpickler(io.BytesIO(payload)).load()
    except _RefusedGlobal as err:
        raise DataError(
            f"{path} refers to {err}, which is not plain data (refused: unpickling it could run "
            f"code); expected {expected}"
        ) from None
    except Exception as err:  # any unpickling failure is a bad file, never a crash
        raise DataError(
            f"{path} is not a readable pickle ({first_line(err)}); expected {expected}"
        ) from None
    return obj, sha


def torch_load(path: Path, expected: str) -> Any:
    """``torch.load`` an official ``.pth`` file onto the CPU, with one-line errors.

    Uses ``weights_only=False``: this unpickles the file, which can run code named in it, so
    call it only on a file the user asked to import (see the module docstring).
    """
    require_file(path, expected)
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as err:
        raise DataError(f"{path} cannot be read ({first_line(err)}); expected {expected}") from None
    # a torch file is a zip archive (torch >= 1.6) or a legacy pickle stream (protocol 2+)
    if not (head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"):
        raise DataError(f"{path} is not a PyTorch .pth file; expected {expected}")
    try:
        import torch
    except ImportError:
        raise DataError(
            f"reading {path} needs PyTorch, which is not installed; pip install torch"
        ) from None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # truncated zip, bad pickle, missing class: all a bad file
        raise DataError(
            f"{path} cannot be read as a PyTorch .pth file ({first_line(err)}); expected {expected}"
        ) from None


def progress(items: Iterable[_T], description: str, enabled: bool, total: int) -> Iterator[_T]:
    """``items``, with a rich progress bar on stderr while they are consumed.

    Drawn only when ``enabled`` and stderr is a terminal (as the installer's bar), so logs,
    pipes and CI stay clean.
    """
    show = enabled and total > 1 and sys.stderr.isatty()
    yield from track(
        items,
        description=description,
        total=total,
        console=Console(stderr=True),
        transient=True,
        disable=not show,
    )
