"""``prepare`` converts each source format into the HDF5 file, with NB201's splits."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from benchsim.datasets import (
    DATASET_NAMES,
    SPLIT_SEED,
    build_dataset,
    dataset_path,
    load_dataset,
    prepare,
    prepared,
    read_summary,
)
from benchsim.datasets._sources import stratified_halves


def chw_to_hwc(rows: np.ndarray, side: int) -> np.ndarray:
    return rows.reshape(-1, 3, side, side).transpose(0, 2, 3, 1)


def test_synthetic_round_trip_is_deterministic(tmp_path, shapes):
    built = shapes
    path = prepare("synthetic-shapes", root=tmp_path)  # a second, independent generation
    assert path == tmp_path / "synthetic-shapes.h5" == dataset_path("shapes", tmp_path)
    loaded = load_dataset("synthetic-shapes", root=tmp_path)
    assert np.array_equal(loaded.images, built.images) and np.array_equal(
        loaded.labels, built.labels
    )
    assert loaded.images.shape == (4000, 16, 16, 3) and loaded.images.dtype == np.uint8
    assert loaded.split_sizes() == {"train": 2000, "valid": 1000, "test": 1000}
    assert loaded.source_sha256 == built.source_sha256
    assert loaded.num_classes == 10 and loaded.hflip and loaded.pad == 2
    for split in ("train", "valid", "test"):  # balanced classes in every split
        counts = np.bincount(loaded.labels[loaded.splits[split]], minlength=10)
        assert np.all(counts == counts[0])
    assert np.allclose(loaded.mean, loaded.images[:2000].reshape(-1, 3).mean(0) / 255)
    other = build_dataset("synthetic-shapes-b")
    assert other.classes != built.classes and other.source_sha256 != built.source_sha256
    assert prepared(tmp_path) == ["synthetic-shapes"]
    assert read_summary(path)["splits"] == loaded.split_sizes()


def test_cifar_shaped_synthetic_set(shapes):
    """synthetic-shapes-32: the same ten shapes at 32x32, larger, balanced, its own seed."""
    big = build_dataset("synthetic-shapes-32")
    assert big.images.shape == (14000, 32, 32, 3) and big.images.dtype == np.uint8
    assert big.split_sizes() == {"train": 10000, "valid": 2000, "test": 2000}
    assert big.classes == shapes.classes and big.pad == 4 and big.hflip
    for split in ("train", "valid", "test"):
        counts = np.bincount(big.labels[big.splits[split]], minlength=10)
        assert np.all(counts == counts[0])
    assert build_dataset("synthetic-shapes-32").source_sha256 == big.source_sha256


def test_relabelled_synthetic_sets_share_the_images(shapes):
    """synthetic-shapes-permuted / -binary: the images and splits of synthetic-shapes under
    other labels (task-distance tests rely on it, docs/ldnas.md)."""
    from benchsim.datasets._synthetic import PERMUTATION

    permuted = build_dataset("synthetic-shapes-permuted")
    binary = build_dataset("synthetic-shapes-binary")
    for ds in (permuted, binary):
        assert np.array_equal(ds.images, shapes.images)
        assert all(np.array_equal(ds.splits[k], shapes.splits[k]) for k in shapes.splits)
        assert ds.source_sha256 != shapes.source_sha256
    assert sorted(PERMUTATION) == list(range(10))
    assert all(PERMUTATION[k] != k for k in range(10))  # a derangement
    assert np.array_equal(permuted.labels, np.asarray(PERMUTATION)[shapes.labels])
    assert [permuted.classes[PERMUTATION[k]] for k in range(10)] == list(shapes.classes)
    assert binary.num_classes == 2
    assert np.array_equal(binary.labels, (shapes.labels >= 5).astype(binary.labels.dtype))


def test_synthetic_classes_are_not_colour(shapes):
    # The label must not be readable from the mean colour alone: every class spans all colours.
    ds = shapes
    mean_colour = ds.images.reshape(len(ds.images), -1, 3).mean(1)
    per_class = np.array([mean_colour[ds.labels == c].mean(0) for c in range(10)])
    assert np.ptp(per_class, axis=0).max() < 0.1 * np.ptp(mean_colour, axis=0).min()


@pytest.mark.parametrize("kind", ["folder", "parent", "tar"])
def test_cifar10(kind, cifar10_dir, cifar10_tar, tmp_path):
    source = {"folder": cifar10_dir, "parent": cifar10_dir.parent, "tar": cifar10_tar}[kind]
    path = prepare("cifar10-valid", source, root=tmp_path / "out")
    ds = load_dataset("cifar10", root=path.parent)
    rows = [pickle.loads((cifar10_dir / f"data_batch_{i}").read_bytes()) for i in range(1, 6)]
    train_rows = np.concatenate([r[b"data"] for r in rows])
    assert np.array_equal(ds.images[:40], chw_to_hwc(train_rows, 32))
    assert ds.split_sizes() == {"train": 20, "valid": 20, "test": 10}
    assert set(ds.splits["train"]).isdisjoint(ds.splits["valid"])
    assert sorted([*ds.splits["train"], *ds.splits["valid"]]) == list(range(40))
    assert np.bincount(ds.labels[ds.splits["train"]]).tolist() == [2] * 10  # stratified halves
    assert ds.splits["test"].tolist() == list(range(40, 50))
    assert ds.classes[:2] == ("plane", "car") and ds.split_seed == SPLIT_SEED
    assert "cifar10-valid" in ds.split_note and len(ds.source_sha256) == 64


def test_cifar_split_is_seeded_and_stable(cifar10_dir, tmp_path):
    a = load_dataset("cifar10", root=prepare("cifar10", cifar10_dir, root=tmp_path / "a").parent)
    b = load_dataset("cifar10", root=prepare("cifar10", cifar10_dir, root=tmp_path / "b").parent)
    assert np.array_equal(a.splits["train"], b.splits["train"])
    assert a.source_sha256 == b.source_sha256
    first, second = stratified_halves(np.repeat(np.arange(3), 5), seed=SPLIT_SEED)
    assert first.size == 6 and second.size == 9  # 5 per class: 2 left, 3 right


def test_cifar100_valid_and_test_halve_the_test_set(cifar100_dir, tmp_path):
    ds = load_dataset("cifar100", root=prepare("cifar100", cifar100_dir, root=tmp_path).parent)
    assert ds.split_sizes() == {"train": 30, "valid": 10, "test": 10}
    assert ds.splits["train"].tolist() == list(range(30))
    assert sorted([*ds.splits["valid"], *ds.splits["test"]]) == list(range(30, 50))
    assert np.bincount(ds.labels[ds.splits["valid"]]).tolist() == [2] * 5
    assert ds.num_classes == 100 and ds.classes[99] == "c99"


def test_imagenet16_keeps_the_first_120_classes(imagenet16_dir, tmp_path):
    ds = load_dataset(
        "ImageNet16-120", root=prepare("imagenet16", imagenet16_dir, root=tmp_path).parent
    )
    assert ds.image_shape == (16, 16, 3) and ds.num_classes == 120 and ds.pad == 2
    assert ds.split_sizes()["train"] == 40  # 4 of 6 labels per batch are <= 120
    assert ds.labels.max() == 119 and ds.labels.min() == 0
    held = ds.labels[np.concatenate([ds.splits["valid"], ds.splits["test"]])]
    assert sorted(held.tolist()) == [0, 0, 1, 1, 2, 2]
    first = pickle.loads((imagenet16_dir / "train_data_batch_1").read_bytes())
    assert np.array_equal(ds.images[:3], chw_to_hwc(first["data"][[0, 1, 2]], 16))


def test_medmnist_keeps_its_split_and_one_channel(medmnist_npz, tmp_path):
    path = prepare("organamnist", medmnist_npz.parent, root=tmp_path / "out")
    ds = load_dataset("organamnist", root=path.parent)
    assert ds.images.shape == (24, 28, 28, 1) and ds.num_classes == 11 and not ds.hflip
    assert ds.split_sizes() == {"train": 12, "valid": 5, "test": 7}
    raw = np.load(medmnist_npz)
    assert np.array_equal(ds.images[12:17, ..., 0], raw["val_images"])
    assert ds.labels[17:].tolist() == raw["test_labels"].ravel().tolist()


def test_every_catalog_name_has_a_reader():
    assert set(DATASET_NAMES) >= {"cifar10", "cifar100", "ImageNet16-120", "pathmnist"}
    from benchsim.cli._prepare import DATASET_NAMES as CLI_NAMES

    assert tuple(CLI_NAMES) == DATASET_NAMES


def test_atomic_replace_leaves_no_temporary_files(cifar100_dir, tmp_path: Path):
    out = tmp_path / "out"
    prepare("cifar100", cifar100_dir, root=out)
    prepare("cifar100", cifar100_dir, root=out)
    assert sorted(p.name for p in out.iterdir()) == ["cifar100.h5"]
