"""``import_file``: validation of kind/name/space, and folders written through the store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from benchsim.errors import ConfigError, DataError, UnknownNameError
from benchsim.importers import BUILTIN_NAMES, IMPORT_KINDS, default_name, import_file
from benchsim.importers._import import _READERS
from benchsim.store import META_FILE, TABLE_FILES

from .conftest import ARCHS


def test_kinds_are_the_readers():
    assert tuple(_READERS) == IMPORT_KINDS == ("nats-tss-simple", "nb201-pth", "tnb101-pth")
    assert default_name("nats-tss-simple", "nb201") == "nb201-nats"
    assert default_name("tnb101-pth", "tnb101-macro") == "tnb101-macro-pth"


def test_nats_directory_is_installed_as_its_own_benchmark(nats_dir, tmp_path, reference_dir):
    folder = import_file("nats-tss-simple", nats_dir, root=tmp_path, progress=False)
    assert folder == tmp_path / "nb201-nats"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*TABLE_FILES, META_FILE, f"{META_FILE}.sha256"]
    )
    meta = json.loads((folder / META_FILE).read_text())
    assert (meta["benchmark"], meta["space"]) == ("nb201-nats", "nb201")
    (source,) = meta["sources"]
    assert source["kind"] == "nats-tss-simple" and source["files"] == 4
    assert source["path"] == str(nats_dir.resolve()) and len(source["sha256"]) == 64
    final = pd.read_parquet(folder / "final.parquet")
    c10 = final[final["task"] == "cifar10"].set_index("arch_index")
    vtao = pd.read_csv(reference_dir / "nb201" / "nats_tss_test_acc_200ep_vtao.csv")
    for i in ARCHS:
        assert c10.loc[i, "test_acc"] == pytest.approx(vtao.iloc[i, 0], abs=1e-6)
    epochs = pd.read_parquet(folder / "epochs.parquet")
    assert set(epochs["schedule"]) == {12, 200} and epochs["seed"].min() == -1


def test_custom_name_and_reimport(nats_dir, tmp_path):
    path = nats_dir / "000000.pickle.pbz2"
    folder = import_file("nats-tss-simple", path, name="my.nats_0", root=tmp_path, progress=False)
    final = pd.read_parquet(folder / "final.parquet")
    assert (final["benchmark"] == "my.nats_0").all()
    assert np.flatnonzero(final["valid_acc"].notna()).tolist() == [0, 15625, 31250]
    again = import_file("nats-tss-simple", path, name="my.nats_0", root=tmp_path, progress=False)
    assert again == folder  # an import of the same name replaces the previous import


def test_pth_kinds_write_folders(nb201_pth, tmp_path):
    torch = pytest.importorskip("torch")
    folder = import_file("nb201-pth", nb201_pth, root=tmp_path, progress=False)
    assert folder.name == "nb201-pth"
    record = {"metrics": {"valid_top1": [50.0, 61.5, 60.0], "time_elapsed": [10, 20, 30]}}
    tnb = tmp_path / "transnas-bench_v10141024.pth"
    torch.save({"data": {"micro": {"64-41414-3_33_333": {"jigsaw": record}}, "macro": {}}}, tnb)
    for space in ("tnb101-micro", "tnb101-macro"):
        folder = import_file("tnb101-pth", tnb, space=space, root=tmp_path, progress=False)
        assert folder.name == f"{space}-pth"
    final = pd.read_parquet(tmp_path / "tnb101-micro-pth" / "final.parquet")
    row = final[(final["task"] == "jigsaw") & (final["arch_index"] == 4095)].iloc[0]
    assert (row["valid_top1"], row["train_time_s"]) == (61.5, 30.0)
    assert final["valid_top1"].notna().sum() == 1


@pytest.mark.parametrize("name", [*BUILTIN_NAMES, "NB201", "../escape", "", "a b", "x" * 65])
def test_refused_names(name, nats_dir, tmp_path):
    with pytest.raises(ConfigError, match="name ==") as excinfo:
        import_file("nats-tss-simple", nats_dir, name=name, root=tmp_path, progress=False)
    assert "\n" not in str(excinfo.value)
    assert not any(tmp_path.iterdir())


def test_bad_kind_space_and_path(nats_dir, tmp_path):
    with pytest.raises(UnknownNameError, match="nats-tss-simple, nb201-pth, tnb101-pth"):
        import_file("nb201", nats_dir, root=tmp_path)
    with pytest.raises(ConfigError, match="tnb101-micro, tnb101-macro"):
        import_file("tnb101-pth", tmp_path / "x.pth", root=tmp_path)
    with pytest.raises(ConfigError, match="must be one of nb201"):
        import_file("nats-tss-simple", nats_dir, space="tnb101-micro", root=tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        import_file("nb201-pth", tmp_path / "missing.pth", root=tmp_path)
    assert not any(tmp_path.iterdir())
