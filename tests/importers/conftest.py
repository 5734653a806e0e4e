"""Fixtures of the importer tests: the real NATS-Bench fixture files and files built from them."""

from __future__ import annotations

import bz2
import copy
import pickle
from pathlib import Path

import pandas as pd
import pytest

NATS_COMMIT = "1d4a304ad1906aa5866563438fcbf0d624b7eda2"
ARCHS = (0, 11, 284)
"""The architectures the official NATS-Bench fixture holds."""


def nats_fixture(mirror_dir: Path, space: str = "tss") -> Path:
    folder = "NATS-tss-v1_0-3ffb9-simple" if space == "tss" else "NATS-sss-v1_0-50262-simple"
    return mirror_dir / "D-X-Y" / "NATS-Bench" / NATS_COMMIT / "fake_torch_dir" / folder


def load_record(path: Path) -> dict:
    """A fixture file loaded with the plain unpickler (trusted test data)."""
    with bz2.open(path) as fh:
        return pickle.load(fh)


@pytest.fixture(scope="session")
def nats_dir(mirror_dir: Path) -> Path:
    return nats_fixture(mirror_dir)


@pytest.fixture(scope="session")
def sss_dir(mirror_dir: Path) -> Path:
    return nats_fixture(mirror_dir, "sss")


@pytest.fixture(scope="session")
def nats_records(nats_dir: Path) -> dict[int, dict]:
    """``{index: {"12": ArchResults state, "200": ...}}`` of the real fixture files."""
    return {i: load_record(nats_dir / f"{i:06d}.pickle.pbz2") for i in ARCHS}


@pytest.fixture(scope="session")
def meta_archs(nats_dir: Path) -> list[str]:
    return load_record(nats_dir / "meta.pickle.pbz2")["meta_archs"]


@pytest.fixture(scope="session")
def nats_tables(nats_dir: Path) -> dict[str, pd.DataFrame]:
    from benchsim.importers import read_nats_tss_simple

    return read_nats_tss_simple(nats_dir, progress=False)


def nb201_pth_dict(records: dict[int, dict], meta_archs: list[str]) -> dict:
    """A NAS-Bench-201 ``.pth`` dict in the official layout, from real NATS-Bench records.

    Every record goes through the official ``ArchResults`` class (``create_from_state_dict``
    then ``state_dict``), which is how the NB201 API reads and writes them.
    """
    from nas_201_api import ArchResults

    def official(state: dict) -> dict:
        return ArchResults.create_from_state_dict(copy.deepcopy(state)).state_dict()

    return {
        "meta_archs": list(meta_archs),
        "arch2infos": {
            i: {"less": official(r["12"]), "full": official(r["200"])} for i, r in records.items()
        },
        "evaluated_indexes": set(records),
    }


@pytest.fixture(scope="session")
def nb201_pth(tmp_path_factory, nats_records, meta_archs) -> Path:
    """``NAS-Bench-201-v1_1``-layout file holding archs 0, 11, 284 with their real values."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("nas_201_api")
    path = tmp_path_factory.mktemp("nb201") / "NAS-Bench-201-v1_1-096897.pth"
    torch.save(nb201_pth_dict(nats_records, meta_archs), path)
    return path


def reference_final(reference_dir: Path) -> pd.DataFrame:
    """Reference final values of the fixture archs: one row per (task, arch), benchsim names."""
    nb = reference_dir / "nb201"
    rows = []
    vtao = pd.read_csv(nb / "nats_tss_test_acc_200ep_vtao.csv")
    for task in ("cifar10", "cifar100", "ImageNet16-120"):
        graph = pd.read_csv(nb / f"nb201_{task}_train_valid_test_nasgraph.csv")
        for i in ARCHS:
            row = graph.iloc[i]
            assert row["file id"] == i
            entry = {
                "task": task,
                "arch_index": i,
                "arch_str": row["arch str"],
                "train_acc": row["train accuracy"],
                "valid_acc": row["validation accuracy"],
            }
            if task == "cifar10":  # NASGraph's cifar10 file is the cifar10-valid run
                entry["valid_setting_test_acc"] = row["test accuracy"]
                entry["test_acc"] = vtao.iloc[i]["CIFAR10TestAccuracy200Epochs"]
            else:
                entry["test_acc"] = row["test accuracy"]
            rows.append(entry)
    return pd.DataFrame(rows)
