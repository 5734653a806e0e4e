"""Convert the user's dataset files into ``$BENCHSIM_HOME/datasets/NAME.h5``, and open them.

:func:`prepare` is what ``benchsim data prepare NAME --from SOURCE`` calls.  The official files
are the user's to provide (CIFAR from the authors' site, ImageNet16 from the NB201 release,
MedMNIST from Zenodo), or, asked for explicitly (``download=True``, ``--download``), fetched
and checksum-verified by :mod:`._download`: nothing is fetched behind the user's back, since the
project must work offline and the datasets' terms are the user's to accept.  The synthetic
sets need no source and are generated on first use by :func:`ensure_dataset`.
"""

from __future__ import annotations

from pathlib import Path

from benchsim._paths import datasets_dir
from benchsim.datasets._catalog import DATASETS, DatasetSpec, resolve_dataset
from benchsim.datasets._hdf5 import ImageDataset, read_dataset, write_dataset
from benchsim.errors import ConfigError, DataError


def dataset_path(name: str, root: str | Path | None = None) -> Path:
    """Where dataset ``name`` lives: ``ROOT/NAME.h5`` (default root ``$BENCHSIM_HOME/datasets``)."""
    spec = resolve_dataset(name)
    return (Path(root) if root is not None else datasets_dir()) / f"{spec.name}.h5"


def build_dataset(name: str, source_path: str | Path | None = None) -> ImageDataset:
    """Read ``source_path`` (or generate a synthetic set) into memory without writing a file."""
    spec = resolve_dataset(name)
    if spec.kind == "synthetic":
        if source_path is not None:
            raise ConfigError(
                f"dataset {spec.name!r} is generated in-process; give no source path "
                f"(got {str(source_path)!r})"
            )
        from benchsim.datasets._synthetic import make_synthetic

        return make_synthetic(spec)
    if source_path is None:
        raise ConfigError(f"dataset {spec.name!r} needs a source path: {spec.source_hint}")
    source = Path(source_path).expanduser()
    if not source.exists():
        raise DataError(f"dataset source {str(source)!r} does not exist; give {spec.source_hint}")
    from benchsim.datasets import _sources

    readers = {
        "cifar10": _sources.read_cifar,
        "cifar100": _sources.read_cifar,
        "imagenet16": _sources.read_imagenet16,
        "medmnist": _sources.read_medmnist,
    }
    return readers[spec.kind](spec, source)


def prepare(
    name: str,
    source_path: str | Path | None = None,
    *,
    root: str | Path | None = None,
    download: bool = False,
    progress: bool = False,
) -> Path:
    """Convert dataset ``name`` from ``source_path`` into its HDF5 file and return the path.

    Parameters
    ----------
    name
        A name of :data:`~benchsim.datasets.DATASET_NAMES` (or an alias such as
        ``cifar10-valid``).
    source_path
        The official files: the ``cifar-10-batches-py`` / ``cifar-100-python`` folder or their
        ``.tar.gz``; the NB201 ``ImageNet16`` folder; a MedMNIST ``NAME.npz`` or its folder.
        ``None`` for the synthetic sets.
    root
        Output folder (default ``$BENCHSIM_HOME/datasets``).  An existing file is replaced
        atomically.
    download
        Fetch the official file instead (CIFAR-10/100, MedMNIST; MD5-verified; from
        ``$BENCHSIM_DATASET_MIRROR`` when set).  Excludes ``source_path``.
    progress
        Show a download bar on a terminal.

    Examples
    --------
    >>> from benchsim.datasets import prepare, load_dataset
    >>> path = prepare("synthetic-shapes", root=getfixture("tmp_path"))  # doctest: +SKIP
    >>> load_dataset("synthetic-shapes", root=path.parent).split_sizes()  # doctest: +SKIP
    {'train': 2000, 'valid': 1000, 'test': 1000}
    """
    if download and resolve_dataset(name).kind != "synthetic":
        if source_path is not None:
            raise ConfigError(
                f"give a source path ({str(source_path)!r}) or --download (download=True), not both"
            )
        from benchsim.datasets._download import download_source

        source_path = download_source(name, progress=progress)
    dataset = build_dataset(name, source_path)
    return write_dataset(dataset, dataset_path(dataset.name, root))


_DOWNLOADABLE = ("cifar10", "cifar100", "pathmnist", "organamnist", "organcmnist", "organsmnist")
"""Names :mod:`._download` can fetch (a test keeps this equal to its table)."""


def _missing(spec: DatasetSpec, path: Path) -> DataError:
    return DataError(
        f"dataset {spec.name!r} is not prepared (no {str(path)!r}); run: benchsim data prepare "
        f"{spec.name} --from SOURCE, with SOURCE = {spec.source_hint}"
        + (" (or --download)" if spec.name in _DOWNLOADABLE else "")
    )


def ensure_dataset(name: str, root: str | Path | None = None, *, generate: bool = True) -> Path:
    """Path of ``name``'s file; a synthetic set is generated when missing and ``generate``.

    Raises :class:`DataError` (with the command that fixes it) for a missing real dataset.
    """
    spec = resolve_dataset(name)
    path = dataset_path(spec.name, root)
    if path.is_file():
        return path
    if spec.kind == "synthetic" and generate:
        return prepare(spec.name, root=root)
    raise _missing(spec, path)


def load_dataset(name: str, root: str | Path | None = None) -> ImageDataset:
    """Read prepared dataset ``name`` into memory (generating a missing synthetic set)."""
    spec = resolve_dataset(name)
    dataset = read_dataset(ensure_dataset(spec.name, root))
    if dataset.name != spec.name:
        raise DataError(
            f"{str(dataset_path(spec.name, root))!r} holds dataset {dataset.name!r}, "
            f"not {spec.name!r}; prepare it again"
        )
    return dataset


def prepared(root: str | Path | None = None) -> list[str]:
    """Names of the datasets whose file exists under ``root``."""
    return [name for name in DATASETS if dataset_path(name, root).is_file()]
