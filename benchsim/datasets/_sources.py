"""Readers of the official dataset files the user provides: CIFAR, ImageNet16, MedMNIST.

Each reader returns an :class:`~benchsim.datasets._hdf5.ImageDataset` with NB201's splits (see
:mod:`benchsim.datasets._catalog`) and the SHA-256 of the source files it read.

The CIFAR and ImageNet16 batches are Python pickles.  They are read with a restricted unpickler
that only builds dicts, lists, strings, bytes, numbers and numpy arrays, so a tampered file
cannot run code (``pickle.load`` would); anything else in a file is refused with a
:class:`DataError`.  A ``.tar.gz`` archive is read member by member without extracting it.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchsim.datasets._catalog import SPLIT_SEED, DatasetSpec
from benchsim.datasets._hdf5 import ImageDataset, channel_stats
from benchsim.errors import DataError

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that builds plain containers and numpy arrays only."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _unpickle(data: bytes, what: str) -> dict:
    try:
        obj = _ArrayUnpickler(io.BytesIO(data), encoding="latin1").load()
    except Exception as err:
        raise DataError(
            f"{what} is not a readable dataset pickle ({type(err).__name__}: {err})"
        ) from None
    if not isinstance(obj, dict):
        raise DataError(f"{what} holds a {type(obj).__name__}, expected a dict of arrays")
    return {k.decode() if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


class _Files:
    """The named files of a source folder or ``.tar.gz`` archive, looked up by base name.

    An archive's wanted members are read into memory in one pass (CIFAR's is ~180 MB), so no
    file handle outlives the constructor and nothing is extracted to disk.
    """

    def __init__(
        self, source: Path, wanted: tuple[str, ...], hint: str, optional: tuple[str, ...] = ()
    ) -> None:
        self.source = source
        self._blobs: dict[str, bytes] = {}
        self._folder: Path | None = None
        if not source.exists():
            raise DataError(f"dataset source {str(source)!r} does not exist; give {hint}")
        if source.is_file():
            if not tarfile.is_tarfile(source):
                raise DataError(f"dataset source {str(source)!r} is not a tar archive; give {hint}")
            with tarfile.open(source) as tar:
                for member in tar.getmembers():
                    base = Path(member.name).name
                    if member.isfile() and base in (*wanted, *optional):
                        self._blobs[base] = tar.extractfile(member).read()  # type: ignore[union-attr]
            self.names = set(self._blobs)
        else:
            folder = source
            if not any((folder / w).is_file() for w in wanted):  # accept the parent folder
                subs = [p for p in folder.iterdir() if p.is_dir() and (p / wanted[0]).is_file()]
                folder = subs[0] if len(subs) == 1 else folder
            self._folder = folder
            self.names = {p.name for p in folder.iterdir() if p.is_file()}
        missing = [w for w in wanted if w not in self.names]
        if missing:
            raise DataError(
                f"dataset source {str(source)!r} lacks {', '.join(missing)}; give {hint}"
            )
        self.digest = hashlib.sha256()

    def _read(self, name: str) -> bytes:
        if self._folder is not None:
            return (self._folder / name).read_bytes()
        return self._blobs.pop(name)

    def load(self, name: str) -> dict:
        data = self._read(name)
        self.digest.update(f"{name}:{hashlib.sha256(data).hexdigest()}\n".encode())
        return _unpickle(data, f"{name} in {str(self.source)!r}")

    def sha256(self) -> str:
        """Combined checksum of the files read so far (name and SHA-256 of each, in order)."""
        return self.digest.hexdigest()


def _field(entry: dict, keys: tuple[str, ...], what: str) -> Any:
    for key in keys:
        if key in entry:
            return entry[key]
    raise DataError(f"{what} has no {' or '.join(repr(k) for k in keys)} entry")


def _images(entry: dict, what: str, side: int) -> np.ndarray:
    """Flat CHW rows (N, 3*side*side) -> uint8 NHWC images."""
    data = np.asarray(_field(entry, ("data",), what))
    if data.ndim != 2 or data.shape[1] != 3 * side * side:
        raise DataError(f"{what}: data has shape {data.shape}; expected (N, {3 * side * side})")
    return np.ascontiguousarray(
        data.astype(np.uint8).reshape(-1, 3, side, side).transpose(0, 2, 3, 1)
    )


def stratified_halves(labels: np.ndarray, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted index arrays holding half of every class each (floor/ceil for odd counts)."""
    rng = np.random.default_rng(seed)
    first, second = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        first.append(idx[: idx.size // 2])
        second.append(idx[idx.size // 2 :])
    return np.sort(np.concatenate(first)), np.sort(np.concatenate(second))


def _finish(spec: DatasetSpec, images, labels, splits, classes, source, sha, seed) -> ImageDataset:
    mean, std = channel_stats(images, splits["train"])
    return ImageDataset(
        name=spec.name,
        images=images,
        labels=labels.astype(np.int64),
        splits=splits,
        classes=tuple(classes),
        mean=mean,
        std=std,
        pad=spec.pad,
        hflip=spec.hflip,
        source=source,
        source_sha256=sha,
        split_note=spec.split_note,
        split_seed=seed,
    )


def read_cifar(spec: DatasetSpec, source: Path) -> ImageDataset:
    """CIFAR-10 (``data_batch_1..5``, ``test_batch``) or CIFAR-100 (``train``, ``test``)."""
    ten = spec.kind == "cifar10"
    train_files = tuple(f"data_batch_{i}" for i in range(1, 6)) if ten else ("train",)
    test_file = "test_batch" if ten else "test"
    meta_file = "batches.meta" if ten else "meta"
    files = _Files(source, (*train_files, test_file), spec.source_hint, (meta_file,))
    label_keys = ("labels",) if ten else ("fine_labels",)
    parts = [files.load(name) for name in (*train_files, test_file)]
    images = np.concatenate([_images(p, spec.name, 32) for p in parts])
    labels = np.concatenate([np.asarray(_field(p, label_keys, spec.name)) for p in parts])
    n_train = images.shape[0] - len(_field(parts[-1], label_keys, spec.name))
    classes: tuple[str, ...] | None = spec.classes
    if meta_file in files.names:
        meta = files.load(meta_file)
        names = meta.get("label_names" if ten else "fine_label_names")
        if names:
            classes = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    n_classes = 10 if ten else 100
    classes = classes or tuple(str(i) for i in range(n_classes))
    if ten:
        train, valid = stratified_halves(labels[:n_train])
        test = np.arange(n_train, images.shape[0])
    else:
        train = np.arange(n_train)
        a, b = stratified_halves(labels[n_train:])
        valid, test = a + n_train, b + n_train
    splits = {"train": train, "valid": valid, "test": test}
    return _finish(spec, images, labels, splits, classes, str(source), files.sha256(), SPLIT_SEED)


def read_imagenet16(spec: DatasetSpec, source: Path, n_classes: int = 120) -> ImageDataset:
    """NB201's ImageNet16 batches, keeping labels 1..``n_classes`` (shifted to 0-based)."""
    train_files = tuple(f"train_data_batch_{i}" for i in range(1, 11))
    files = _Files(source, (*train_files, "val_data"), spec.source_hint)

    def kept(names: tuple[str, ...]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for name in names:
            entry = files.load(name)
            labels = np.asarray(_field(entry, ("labels",), name), dtype=np.int64)
            keep = (labels >= 1) & (labels <= n_classes)
            yield _images(entry, name, 16)[keep], labels[keep] - 1

    train_parts = list(kept(train_files))
    val_images, val_labels = next(kept(("val_data",)))
    images = np.concatenate([p[0] for p in train_parts] + [val_images])
    labels = np.concatenate([p[1] for p in train_parts] + [val_labels])
    n_train = images.shape[0] - val_images.shape[0]
    a, b = stratified_halves(val_labels)
    splits = {"train": np.arange(n_train), "valid": a + n_train, "test": b + n_train}
    classes = tuple(f"imagenet-{i + 1}" for i in range(n_classes))
    return _finish(spec, images, labels, splits, classes, str(source), files.sha256(), SPLIT_SEED)


def read_medmnist(spec: DatasetSpec, source: Path) -> ImageDataset:
    """A MedMNIST ``NAME.npz`` (keys ``train_images``, ``train_labels``, ``val_*``, ``test_*``)."""
    path = source / f"{spec.name}.npz" if source.is_dir() else source
    if not path.is_file():
        raise DataError(f"dataset source {str(path)!r} does not exist; give {spec.source_hint}")
    data = path.read_bytes()
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
        arrays = {k: npz[k] for k in npz.files}
    except Exception as err:
        raise DataError(f"{str(path)!r} is not a readable .npz file ({err})") from None
    parts = []
    for split in ("train", "val", "test"):
        if f"{split}_images" not in arrays or f"{split}_labels" not in arrays:
            raise DataError(
                f"{str(path)!r} lacks {split}_images/{split}_labels; give {spec.source_hint}"
            )
        imgs = np.asarray(arrays[f"{split}_images"], dtype=np.uint8)
        imgs = imgs[..., None] if imgs.ndim == 3 else imgs
        parts.append((imgs, np.asarray(arrays[f"{split}_labels"]).reshape(-1).astype(np.int64)))
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    bounds = np.cumsum([0, *(p[0].shape[0] for p in parts)])
    splits = {
        name: np.arange(bounds[k], bounds[k + 1])
        for k, name in enumerate(("train", "valid", "test"))
    }
    sha = hashlib.sha256(data).hexdigest()
    return _finish(spec, images, labels, splits, spec.classes or (), str(path), sha, None)
