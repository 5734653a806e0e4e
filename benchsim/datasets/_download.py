"""Fetch the official archive of a dataset, checksum-verified, for ``prepare --download``.

Asked for explicitly (the user accepts each dataset's terms by asking): CIFAR-10/100 from the
authors' site, the MedMNIST files from Zenodo, with the MD5 sums that torchvision and the
medmnist package pin for the same files.  pooch downloads into ``$BENCHSIM_HOME/downloads/``
and checks the hash; a verified earlier download is reused.  Offline, a folder holding the same
files can stand in (``BENCHSIM_DATASET_MIRROR`` or ``mirror=``), checked the same way.
ImageNet16-120 has no public download (ImageNet's terms), so it must be given as a folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from benchsim._paths import downloads_dir
from benchsim.datasets._catalog import resolve_dataset
from benchsim.errors import ChecksumError, ConfigError, DataError

MIRROR_ENV = "BENCHSIM_DATASET_MIRROR"
TIMEOUT_S = 120


@dataclass(frozen=True)
class Download:
    """One official file: where it is, its pinned MD5, and its file name."""

    url: str
    md5: str
    filename: str


_ZENODO = "https://zenodo.org/records/10519652/files"
DOWNLOADS: dict[str, Download] = {
    "cifar10": Download(
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "c58f30108f718f92721af3b95e74349a",
        "cifar-10-python.tar.gz",
    ),
    "cifar100": Download(
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "eb9058c3a382ffc7106e4002c42a8d85",
        "cifar-100-python.tar.gz",
    ),
    "pathmnist": Download(
        f"{_ZENODO}/pathmnist.npz?download=1", "a8b06965200029087d5bd730944a56c1", "pathmnist.npz"
    ),
    "organamnist": Download(
        f"{_ZENODO}/organamnist.npz?download=1",
        "68e3f8846a6bd62f0c9bf841c0d9eacc",
        "organamnist.npz",
    ),
    "organcmnist": Download(
        f"{_ZENODO}/organcmnist.npz?download=1",
        "b9ceb9546e10131b32923c5bbeaea2b1",
        "organcmnist.npz",
    ),
    "organsmnist": Download(
        f"{_ZENODO}/organsmnist.npz?download=1",
        "9ab87b696fb54e2a387ebe992d6ed5f1",
        "organsmnist.npz",
    ),
}
"""Dataset name -> its official file (MedMNIST v3 record 10519652, 28x28)."""


def download_source(name: str, *, mirror: str | Path | None = None, progress: bool = False) -> Path:
    """The verified official file of dataset ``name``, downloaded (or read from a mirror).

    ``progress`` shows a byte bar on a terminal's stderr while downloading.

    Raises :class:`ConfigError` for a dataset without a public download, :class:`DataError`
    when the network or the mirror cannot provide the file, :class:`ChecksumError` when the
    bytes differ from the pinned MD5; each in one line.
    """
    spec = resolve_dataset(name)
    if spec.name not in DOWNLOADS:
        raise ConfigError(
            f"dataset {spec.name!r} has no public download; give its files: benchsim data "
            f"prepare {spec.name} --from PATH, with PATH = {spec.source_hint}"
        )
    entry = DOWNLOADS[spec.name]
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    if mirror is not None:
        return _from_mirror(spec.name, entry, Path(mirror).expanduser())
    return _download(spec.name, entry, progress)


def _md5_of(path: Path) -> str:
    import pooch

    return pooch.file_hash(str(path), alg="md5")


def _from_mirror(name: str, entry: Download, mirror: Path) -> Path:
    path = mirror / entry.filename
    if not path.is_file():
        raise DataError(
            f"{entry.filename} is missing from the dataset mirror {str(mirror)!r}; put the file "
            f"from {entry.url} there, or unset {MIRROR_ENV} to download it"
        )
    actual = _md5_of(path)
    if actual != entry.md5:
        raise ChecksumError(
            f"{path}: md5 {actual} != pinned {entry.md5} for {name}; replace it with the file "
            f"from {entry.url}"
        )
    return path


def _download(name: str, entry: Download, progress: bool) -> Path:
    import pooch
    import requests

    from benchsim.store._fetch import network_reason, quiet_pooch
    from benchsim.store._progress import Progress

    target = downloads_dir() / "datasets" / entry.filename
    try:
        with quiet_pooch(), Progress(progress, 1) as shown:
            shown.step(f"downloading {entry.filename}")
            bar = shown.byte_bar(entry.filename)
            fetched = pooch.retrieve(
                entry.url,
                known_hash=f"md5:{entry.md5}",
                fname=entry.filename,
                path=target.parent,
                downloader=pooch.HTTPDownloader(progressbar=bar or False, timeout=TIMEOUT_S),
            )
    except requests.exceptions.RequestException as exc:
        raise DataError(
            f"cannot download {name} from {entry.url} ({network_reason(exc)}); check the "
            f"network, or download it yourself and run: benchsim data prepare {name} --from FILE"
        ) from None
    except ValueError:  # pooch: the bytes do not match known_hash (the partial file is gone)
        raise ChecksumError(
            f"{name}: the file downloaded from {entry.url} does not match the pinned md5 "
            f"{entry.md5}; try again later, or download it yourself and use --from FILE"
        ) from None
    return Path(fetched)
