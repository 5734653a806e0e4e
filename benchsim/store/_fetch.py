"""Get one pinned source file onto the local disk, verified against its SHA-256.

Two ways, chosen per call:

- **offline**, when a mirror is given (``mirror=`` or ``$BENCHSIM_DATA_MIRROR``): the file is
  read in place from ``<mirror>/<owner>/<repo>/<commit>/<path>`` (no copy), after its size and
  SHA-256 are checked;
- **online** otherwise: pooch downloads ``https://raw.githubusercontent.com/<owner>/<repo>/
  <commit>/<path>`` into ``$BENCHSIM_HOME/downloads/<owner>/<repo>/<commit>/<path>`` and checks
  the hash; a file already there is re-used once it verifies.

Every failure is one line naming the file, the expected and actual hash (shortened) and the
fix.  Hashes are computed in 1 MiB chunks and remembered for the life of the process, keyed by
(path, size, mtime), so installing three benchmarks that share sources hashes each file once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchsim._integrity import sha256_file
from benchsim._paths import ENV_MIRROR, downloads_dir
from benchsim.errors import ChecksumError, DataError
from benchsim.store._manifest import SourceFile

_HASHES: dict[tuple[str, int, int], str] = {}
DOWNLOAD_TIMEOUT_S = 60


def resolve_mirror(mirror: str | os.PathLike[str] | None) -> Path | None:
    """The mirror folder to read from: ``mirror`` if given, else ``$BENCHSIM_DATA_MIRROR``.

    Returns ``None`` (download from GitHub) when neither is set.  Relative paths are taken
    from the current directory, as a shell user expects, and made absolute here once.
    """
    value = mirror if mirror is not None else os.environ.get(ENV_MIRROR) or None
    if value is None:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        origin = "mirror=" if mirror is not None else f"${ENV_MIRROR}"
        raise DataError(
            f"data mirror {path} (from {origin}) is not a folder; point it at a copy of "
            f"shared/data/upstream, or unset it to download from GitHub"
        )
    return path


def sha256_of(path: Path, *, cache: bool = True) -> str:
    """Hex SHA-256 of a file, hashed in chunks.

    With ``cache`` the result is remembered per (path, size, mtime) for the life of the
    process; pass ``cache=False`` where the point is to notice a changed file (verify).
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = _HASHES.get(key) if cache else None
    if digest is None:
        digest = sha256_file(path)
        if cache:
            _HASHES[key] = digest
    return digest


def clear_hash_cache() -> None:
    """Forget remembered hashes (tests that rewrite a file within one mtime tick need this)."""
    _HASHES.clear()


def verify(path: Path, entry: SourceFile, fix: str) -> Path:
    """Return ``path`` if it holds exactly ``entry``'s bytes, else raise :class:`ChecksumError`.

    ``fix`` completes the message with what the user should do about this location.
    """
    actual = sha256_of(path)
    if actual != entry.sha256:
        size = path.stat().st_size
        state = "truncated" if size < entry.size else "corrupt"
        raise ChecksumError(
            f"{entry.relpath}: sha256 {actual[:12]}... != pinned {entry.sha256[:12]}... "
            f"({size:,} of {entry.size:,} bytes, {state}) at {path}; {fix}"
        )
    return path


def fetch(entry: SourceFile, *, mirror: Path | None = None, bar: object | None = None) -> Path:
    """Local path of ``entry``'s verified bytes (see the module docstring for the two ways).

    Parameters
    ----------
    entry
        The manifest entry.
    mirror
        A mirror folder (already resolved by :func:`resolve_mirror`), or ``None`` to download.
    bar
        A pooch-compatible byte progress bar for downloads (``total``, ``update``, ``reset``,
        ``close``), or ``None`` for none.
    """
    if mirror is not None:
        return _from_mirror(entry, mirror)
    return _download(entry, bar)


def _from_mirror(entry: SourceFile, mirror: Path) -> Path:
    path = mirror / entry.relpath
    if not path.is_file():
        raise DataError(
            f"{entry.relpath} (sha256 {entry.sha256[:12]}...) is missing from the data mirror "
            f"{mirror}; copy it there from {entry.url}, or unset the mirror to download it"
        )
    return verify(path, entry, f"replace it with the pinned file from {entry.url}")


def _download(entry: SourceFile, bar: object | None) -> Path:
    target = downloads_dir() / entry.relpath
    if target.is_file() and sha256_of(target) == entry.sha256:
        return target  # verified earlier download; a stale one is fetched again by pooch
    import pooch
    import requests

    try:
        with quiet_pooch():
            fetched = pooch.retrieve(
                entry.url,
                known_hash=f"sha256:{entry.sha256}",
                fname=target.name,
                path=target.parent,
                downloader=pooch.HTTPDownloader(
                    progressbar=bar or False, timeout=DOWNLOAD_TIMEOUT_S
                ),
            )
    except requests.exceptions.RequestException as exc:
        reason = network_reason(exc)
        raise DataError(
            f"cannot download {entry.relpath} from {entry.url} ({reason}); check the network, "
            f"or install offline with BENCHSIM_DATA_MIRROR=<folder holding owner/repo/commit/path>"
        ) from None
    except ValueError as exc:  # pooch: downloaded bytes do not match known_hash
        hashes = re.findall(r"[0-9a-f]{64}", str(exc))
        actual = next((h for h in hashes if h != entry.sha256), "?" * 12)
        raise ChecksumError(
            f"{entry.relpath}: downloaded sha256 {actual[:12]}... != pinned "
            f"{entry.sha256[:12]}... from {entry.url}; the server sent other bytes, try again "
            f"later or install from a mirror (BENCHSIM_DATA_MIRROR)"
        ) from None
    return verify(Path(fetched), entry, f"delete it and install again (source {entry.url})")


@contextmanager
def quiet_pooch() -> Iterator[None]:
    """pooch logs every download on INFO; benchsim's own bar says enough."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


def network_reason(exc: Exception) -> str:
    """The useful end of a requests error, e.g. ``Failed to resolve 'raw.githubusercontent.com'
    ([Errno -2] Name or service not known)`` rather than urllib3's whole retry story."""
    inner = getattr(exc.args[0], "reason", None) if exc.args else None
    text = str(inner if inner is not None else exc) or type(exc).__name__
    text = (
        text.split("): ", 1)[-1]
        if text.startswith(("HTTPConnection(", "HTTPSConnection("))
        else text
    )
    return text.splitlines()[0][:200]
