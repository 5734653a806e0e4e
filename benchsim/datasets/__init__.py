"""Image datasets for the live (gpu) backend, one HDF5 file each under ``$BENCHSIM_HOME``.

Call sequence: ``prepare(name, source_path)`` once per dataset (``benchsim data prepare``), then
``load_dataset(name)`` whenever a backend needs the arrays.  Names: :data:`DATASET_NAMES`
(CIFAR-10/100 and ImageNet16-120 with NB201's splits, four MedMNIST sets, five synthetic sets
generated in-process).  This package needs numpy and, to read or write files, ``h5py``; it
never imports torch (the backend moves the arrays to the device).

Example
-------
>>> from benchsim.datasets import DATASET_NAMES, resolve_dataset
>>> resolve_dataset("cifar10-valid").name
'cifar10'
>>> "synthetic-shapes" in DATASET_NAMES
True
"""

from __future__ import annotations

from benchsim.datasets._catalog import (
    DATASET_NAMES,
    DATASETS,
    SPLIT_SEED,
    DatasetSpec,
    resolve_dataset,
)
from benchsim.datasets._hdf5 import ImageDataset, read_dataset, read_summary, write_dataset
from benchsim.datasets._prepare import (
    build_dataset,
    dataset_path,
    ensure_dataset,
    load_dataset,
    prepare,
    prepared,
)

__all__ = [
    "DATASETS",
    "DATASET_NAMES",
    "SPLIT_SEED",
    "DatasetSpec",
    "ImageDataset",
    "build_dataset",
    "dataset_path",
    "ensure_dataset",
    "load_dataset",
    "prepare",
    "prepared",
    "read_dataset",
    "read_summary",
    "resolve_dataset",
    "write_dataset",
]
