"""Small fake copies of the official dataset files, written in their real formats."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("h5py")


def planes(n: int, side: int, offset: int) -> np.ndarray:
    """Flat CHW rows whose pixel values encode (image, channel, position): checkable layout."""
    rng = np.random.default_rng(offset)
    return rng.integers(0, 256, size=(n, 3 * side * side), dtype=np.uint8)


@pytest.fixture(scope="session")
def shapes():
    """``synthetic-shapes`` built in memory once per session."""
    from benchsim.datasets import build_dataset

    return build_dataset("synthetic-shapes")


def _dump(path: Path, obj: object) -> None:
    path.write_bytes(pickle.dumps(obj, protocol=2))


@pytest.fixture
def cifar10_dir(tmp_path: Path) -> Path:
    """``cifar-10-batches-py`` with 5 training batches of 8 images and a test batch of 10."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for i in range(1, 6):
        labels = [(8 * (i - 1) + k) % 10 for k in range(8)]
        _dump(folder / f"data_batch_{i}", {b"data": planes(8, 32, i), b"labels": labels,
                                            b"batch_label": b"fake"})  # fmt: skip
    _dump(folder / "test_batch", {b"data": planes(10, 32, 9), b"labels": list(range(10))})
    names = [n.encode() for n in ("plane", "car", "bird", "cat", "deer", "dog", "frog",
                                   "horse", "ship", "truck")]  # fmt: skip
    _dump(folder / "batches.meta", {b"label_names": names})
    return folder


@pytest.fixture
def cifar10_tar(cifar10_dir: Path) -> Path:
    archive = cifar10_dir.parent / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(cifar10_dir, arcname="cifar-10-batches-py")
    return archive


@pytest.fixture
def cifar100_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    _dump(folder / "train", {b"data": planes(30, 32, 1), b"fine_labels": [k % 5 for k in range(30)],
                             b"coarse_labels": [0] * 30})  # fmt: skip
    _dump(folder / "test", {b"data": planes(20, 32, 2), b"fine_labels": [k % 5 for k in range(20)]})
    _dump(folder / "meta", {b"fine_label_names": [f"c{k}".encode() for k in range(100)]})
    return folder


@pytest.fixture
def imagenet16_dir(tmp_path: Path) -> Path:
    """NB201's ImageNet16 batches (1-based labels up to 1000; only 1..120 are kept)."""
    folder = tmp_path / "ImageNet16"
    folder.mkdir()
    for i in range(1, 11):
        _dump(folder / f"train_data_batch_{i}", {"data": planes(6, 16, i),
                                                 "labels": [1, 2, 120, 121, 500, 3]})  # fmt: skip
    _dump(folder / "val_data", {"data": planes(8, 16, 11), "labels": [1, 1, 2, 2, 121, 3, 3, 999]})
    return folder


@pytest.fixture
def medmnist_npz(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 12), ("val", 5), ("test", 7)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, 11, (n, 1))
    path = tmp_path / "organamnist.npz"
    np.savez(path, **arrays)
    return path
