"""One HDF5 file per image dataset: the only format the live backend reads.

Layout of ``NAME.h5`` (written by :func:`write_dataset`, read by :func:`read_dataset`)::

    images          uint8  (N, H, W, C)   chunked by 1,024 images, uncompressed
    labels          int64  (N,)
    splits/train    int64  indices into images/labels
    splits/valid    int64
    splits/test     int64
    attrs: format, format_version, name, classes (JSON list), num_classes, mean, std (per
           channel, 0..1 scale, from the training split), pad, hflip, source, source_sha256,
           split_note, split_seed

Why HDF5 and not the source pickles: one file, typed arrays read whole in one call (the backend
keeps the uint8 images resident on the device), no code execution on load, and the checksum of
the sources it came from travels with it.  Images stay uncompressed because the file is read
whole once per run and CIFAR-like images compress by only ~10%.  ``h5py`` is imported only here
and only when a file is read or written (it is part of the ``gpu`` extra).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchsim.errors import BackendError, DataError

FORMAT = "benchsim-images"
FORMAT_VERSION = 1
SPLITS = ("train", "valid", "test")
_CHUNK = 1024


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """An image classification dataset held in memory (uint8 NHWC images, int64 labels)."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    splits: dict[str, np.ndarray]
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    pad: int
    hflip: bool
    source: str
    source_sha256: str
    split_note: str
    split_seed: int | None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)``."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def split_sizes(self) -> dict[str, int]:
        return {k: int(v.size) for k, v in self.splits.items()}


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise BackendError(
            "image datasets need h5py, which is not installed; pip install 'benchsim[gpu]'"
        ) from None
    return h5py


def channel_stats(images: np.ndarray, index: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """Per-channel mean and std (0..1 scale) of ``images[index]``, in chunks (no float copy)."""
    channels = images.shape[-1]
    total = np.zeros(channels)
    squares = np.zeros(channels)
    for start in range(0, index.size, 4096):
        part = images[index[start : start + 4096]].reshape(-1, channels).astype(np.float64)
        total += part.sum(axis=0)
        squares += np.square(part).sum(axis=0)
    count = max(index.size * images.shape[1] * images.shape[2], 1)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 1e-12))
    return tuple(float(m) / 255.0 for m in mean), tuple(float(s) / 255.0 for s in std)


def check_dataset(ds: ImageDataset) -> None:
    """Raise :class:`DataError` unless ``ds`` is a consistent dataset (before writing it)."""
    if ds.images.dtype != np.uint8 or ds.images.ndim != 4:
        raise DataError(
            f"dataset {ds.name!r}: images have dtype {ds.images.dtype} and shape "
            f"{ds.images.shape}; must be uint8 (N, H, W, C)"
        )
    if ds.labels.shape != ds.images.shape[:1]:
        raise DataError(
            f"dataset {ds.name!r}: {ds.labels.shape[0]} labels for {ds.images.shape[0]} images"
        )
    if ds.labels.size and (ds.labels.min() < 0 or ds.labels.max() >= ds.num_classes):
        raise DataError(
            f"dataset {ds.name!r}: labels span {ds.labels.min()}..{ds.labels.max()}; "
            f"must be 0..{ds.num_classes - 1}"
        )
    for split in SPLITS:
        idx = ds.splits.get(split)
        if idx is None or idx.size == 0:
            raise DataError(f"dataset {ds.name!r}: split {split!r} is missing or empty")
        if idx.min() < 0 or idx.max() >= ds.images.shape[0]:
            raise DataError(f"dataset {ds.name!r}: split {split!r} indexes past the images")


def write_dataset(ds: ImageDataset, path: Path) -> Path:
    """Write ``ds`` to ``path`` atomically (a temporary file renamed into place)."""
    check_dataset(ds)
    h5py = _h5py()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            n = ds.images.shape[0]
            f.create_dataset(
                "images", data=ds.images, chunks=(min(n, _CHUNK), *ds.images.shape[1:])
            )
            f.create_dataset("labels", data=ds.labels.astype(np.int64))
            group = f.create_group("splits")
            for split in SPLITS:
                group.create_dataset(split, data=np.asarray(ds.splits[split], dtype=np.int64))
            attrs = f.attrs
            attrs["format"] = FORMAT
            attrs["format_version"] = FORMAT_VERSION
            attrs["name"] = ds.name
            attrs["classes"] = json.dumps(list(ds.classes))
            attrs["num_classes"] = ds.num_classes
            attrs["mean"] = np.asarray(ds.mean, dtype=np.float64)
            attrs["std"] = np.asarray(ds.std, dtype=np.float64)
            attrs["pad"] = int(ds.pad)
            attrs["hflip"] = bool(ds.hflip)
            attrs["source"] = ds.source
            attrs["source_sha256"] = ds.source_sha256
            attrs["split_note"] = ds.split_note
            attrs["split_seed"] = -1 if ds.split_seed is None else int(ds.split_seed)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_summary(path: Path) -> dict[str, Any]:
    """Name, image shape, class count, split sizes and checksum of a file, without the images."""
    h5py = _h5py()
    try:
        with h5py.File(Path(path), "r") as f:
            return {
                "name": str(f.attrs["name"]),
                "images": tuple(f["images"].shape),
                "num_classes": int(f.attrs["num_classes"]),
                "splits": {s: int(f["splits"][s].shape[0]) for s in SPLITS},
                "source_sha256": str(f.attrs["source_sha256"]),
            }
    except (OSError, KeyError) as err:
        raise DataError(
            f"dataset file {str(path)!r} is unreadable ({type(err).__name__})"
        ) from None


def read_dataset(path: Path) -> ImageDataset:
    """Read a file written by :func:`write_dataset`; a one-line :class:`DataError` otherwise."""
    h5py = _h5py()
    path = Path(path)
    if not path.is_file():
        raise DataError(f"dataset file {str(path)!r} does not exist")
    try:
        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            if attrs.get("format") != FORMAT:
                raise DataError(
                    f"{str(path)!r} is not a benchsim image dataset (format attribute "
                    f"{attrs.get('format')!r}, expected {FORMAT!r})"
                )
            if int(attrs.get("format_version", -1)) != FORMAT_VERSION:
                raise DataError(
                    f"{str(path)!r} has format_version {attrs.get('format_version')}; this "
                    f"benchsim reads {FORMAT_VERSION}: prepare the dataset again"
                )
            images = f["images"][...]
            labels = f["labels"][...]
            splits = {s: f["splits"][s][...] for s in SPLITS}
    except DataError:
        raise
    except (OSError, KeyError) as err:
        raise DataError(
            f"dataset file {str(path)!r} is unreadable or incomplete ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); prepare it again"
        ) from None
    seed = int(attrs["split_seed"])
    ds = ImageDataset(
        name=str(attrs["name"]),
        images=images,
        labels=labels.astype(np.int64, copy=False),
        splits={k: v.astype(np.int64, copy=False) for k, v in splits.items()},
        classes=tuple(json.loads(str(attrs["classes"]))),
        mean=tuple(float(v) for v in attrs["mean"]),
        std=tuple(float(v) for v in attrs["std"]),
        pad=int(attrs["pad"]),
        hflip=bool(attrs["hflip"]),
        source=str(attrs["source"]),
        source_sha256=str(attrs["source_sha256"]),
        split_note=str(attrs["split_note"]),
        split_seed=None if seed < 0 else seed,
    )
    check_dataset(ds)
    return ds
