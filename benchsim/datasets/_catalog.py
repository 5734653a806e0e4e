"""The image datasets the live backend trains on: names, classes, splits and augmentation.

One :class:`DatasetSpec` per dataset is the single source of truth shared by
:func:`benchsim.datasets.prepare` (which converts the user's files into
``$BENCHSIM_HOME/datasets/NAME.h5``) and the gpu backend (whose task names are these dataset
names).  Splits follow NAS-Bench-201 where NB201 defines them:

* ``cifar10``: NB201's *cifar10-valid* setting: train on 25,000 images of the official training
  set, validate on the other 25,000, test on the official 10,000-image test set.
* ``cifar100``: train on the official 50,000; validation and test are the two halves of the
  official test set (NB201's *x-valid* / *x-test*).
* ``ImageNet16-120``: the 120-class subset (labels 1..120 of the 16x16 downsampled ImageNet
  batches); train on its 151,700 training images, validation and test are the two halves of its
  6,000 validation images.

NB201 ships its halves as fixed index files (``cifar-split.txt``, ``cifar100-test-split.txt``,
``imagenet-16-120-test-split.txt``) that are not in the official dataset downloads.  benchsim
does not guess them: it draws a *class-stratified* half split (exactly half of every class on
each side) with ``numpy.random.default_rng(SPLIT_SEED)``, records the seed in the file, and so
reproduces NB201's split sizes and class balance but not its exact membership.

MedMNIST (``pathmnist``, ``organamnist``, ``organcmnist``, ``organsmnist``) keeps the official
train/val/test split of the ``.npz`` files.  The ``synthetic-shapes*`` sets are generated
in-process (see :mod:`benchsim.datasets._synthetic`).  Nothing is downloaded: the user
provides the official files (no network access is assumed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchsim.errors import UnknownNameError

SPLIT_SEED = 0
"""Seed of the class-stratified half splits (the same for every dataset that needs one)."""

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
ORGAN_CLASSES = (
    "bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right", "liver",
    "lung-left", "lung-right", "pancreas", "spleen",
)  # fmt: skip
PATH_CLASSES = (
    "adipose", "background", "debris", "lymphocytes", "mucus", "smooth muscle",
    "normal colon mucosa", "cancer-associated stroma", "colorectal adenocarcinoma epithelium",
)  # fmt: skip


@dataclass(frozen=True)
class DatasetSpec:
    """What benchsim knows of one dataset before any file is read.

    Attributes
    ----------
    name
        Canonical name (also the file stem and the gpu backend's task name).
    kind
        Which reader converts it: ``cifar10``, ``cifar100``, ``imagenet16``, ``medmnist`` or
        ``synthetic``.
    source_hint
        What the user passes to :func:`~benchsim.datasets.prepare` (shown in errors).
    pad
        Zero padding of the random-crop augmentation, in pixels (NB201: 4 at 32 px, 2 at 16 px).
    hflip
        Whether random horizontal flips keep labels valid (not for OrganMNIST, whose classes
        include left and right organs).
    split_note
        One line saying where train/valid/test come from (stored in the file).
    classes
        Class names when fixed by the source (read from the source files otherwise).
    """

    name: str
    kind: str
    source_hint: str
    pad: int
    hflip: bool
    split_note: str
    classes: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = field(default=())


_HALVES = f"class-stratified halves, numpy default_rng({SPLIT_SEED})"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "cifar10",
            "cifar10",
            "the cifar-10-batches-py folder or cifar-10-python.tar.gz",
            pad=4,
            hflip=True,
            split_note=(
                f"NB201 cifar10-valid: train/valid = {_HALVES} of the 50k training set; "
                "test = official 10k test set"
            ),
            classes=CIFAR10_CLASSES,
            aliases=("cifar-10", "cifar10-valid"),
        ),
        DatasetSpec(
            "cifar100",
            "cifar100",
            "the cifar-100-python folder or cifar-100-python.tar.gz",
            pad=4,
            hflip=True,
            split_note=f"train = official 50k; valid/test = {_HALVES} of the official 10k test set",
            aliases=("cifar-100",),
        ),
        DatasetSpec(
            "ImageNet16-120",
            "imagenet16",
            "the NB201 ImageNet16 folder (train_data_batch_1..10, val_data)",
            pad=2,
            hflip=True,
            split_note=(
                "classes 1..120; train = their 151,700 training images; "
                f"valid/test = {_HALVES} of their 6,000 validation images"
            ),
            aliases=("imagenet16-120", "imagenet16"),
        ),
        *(
            DatasetSpec(
                name,
                "medmnist",
                f"{name}.npz (MedMNIST) or the folder holding it",
                pad=0 if name != "pathmnist" else 3,
                hflip=name == "pathmnist",
                split_note="official MedMNIST train/val/test split of the .npz file",
                classes=PATH_CLASSES if name == "pathmnist" else ORGAN_CLASSES,
            )
            for name in ("pathmnist", "organamnist", "organcmnist", "organsmnist")
        ),
        DatasetSpec(
            "synthetic-shapes",
            "synthetic",
            "nothing (generated in-process)",
            pad=2,
            hflip=True,
            split_note="generated: 2000 train / 1000 valid / 1000 test, balanced, seed 0",
            aliases=("shapes",),
        ),
        DatasetSpec(
            "synthetic-shapes-permuted",
            "synthetic",
            "nothing (generated in-process)",
            pad=2,
            hflip=True,
            split_note="synthetic-shapes (seed 0) with its ten labels permuted",
            aliases=("shapes-permuted",),
        ),
        DatasetSpec(
            "synthetic-shapes-binary",
            "synthetic",
            "nothing (generated in-process)",
            pad=2,
            hflip=True,
            split_note="synthetic-shapes (seed 0) relabelled: five filled shapes vs the others",
            aliases=("shapes-binary",),
        ),
        DatasetSpec(
            "synthetic-shapes-32",
            "synthetic",
            "nothing (generated in-process)",
            pad=4,
            hflip=True,
            split_note="generated at 32x32: 10000 train / 2000 valid / 2000 test, balanced, seed 2",
            aliases=("shapes-32",),
        ),
        DatasetSpec(
            "synthetic-shapes-b",
            "synthetic",
            "nothing (generated in-process)",
            pad=2,
            hflip=True,
            split_note="generated: 2000 train / 1000 valid / 1000 test, balanced, seed 1",
            aliases=("shapes-b",),
        ),
    )
}
"""Canonical name -> :class:`DatasetSpec`, in the order they are listed to users."""

DATASET_NAMES = tuple(DATASETS)


def resolve_dataset(name: object) -> DatasetSpec:
    """The spec of ``name`` (canonical name or alias, case-insensitive).

    Raises :class:`~benchsim.errors.UnknownNameError` listing the known datasets.
    """
    if isinstance(name, str):
        if name in DATASETS:
            return DATASETS[name]
        folded = name.strip().lower()
        for spec in DATASETS.values():
            if folded == spec.name.lower() or folded in spec.aliases:
                return spec
    raise UnknownNameError("dataset", name, DATASET_NAMES)
