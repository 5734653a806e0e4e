"""NAS-Bench-201 ``.pth`` importer, on files in the official layout built from real records.

No official ``.pth`` is available offline (2-5 GB), so the files here are written with
``torch.save`` from the real NATS-Bench fixture records (archs 0, 11, 284) passed through the
official ``nas_201_api.ArchResults`` class; values are checked against the reference CSVs and
against the official ``NASBench201API`` reading the same dict.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from benchsim.errors import DataError
from benchsim.importers import read_nb201_pth

from .conftest import ARCHS, nb201_pth_dict, reference_final

torch = pytest.importorskip("torch")
nas_201_api = pytest.importorskip("nas_201_api")


@pytest.fixture(scope="module")
def pth_tables(nb201_pth):
    return read_nb201_pth(nb201_pth, progress=False)


def _value(tables, task, index, schedule, seed, epoch, column) -> float:
    e = tables["epochs"]
    row = e[
        (e["task"] == task)
        & (e["arch_index"] == index)
        & (e["schedule"] == schedule)
        & (e["seed"] == seed)
        & (e["epoch"] == epoch)
    ]
    assert len(row) == 1
    return float(row.iloc[0][column])


def test_final_matches_reference_csvs(pth_tables, reference_dir):
    final = pth_tables["final"].set_index(["task", "arch_index"])
    for _, ref in reference_final(reference_dir).iterrows():
        got = final.loc[(ref["task"], ref["arch_index"])]
        for column in ("train_acc", "valid_acc", "test_acc", "valid_setting_test_acc"):
            if column in ref and not pd.isna(ref[column]):
                assert got[column] == pytest.approx(ref[column], abs=1e-6)
    assert (pth_tables["final"]["benchmark"] == "nb201-pth").all()


def test_same_tables_as_the_nats_importer(pth_tables, nats_tables):
    for name in ("final", "seeds", "epochs"):
        ours = pth_tables[name].drop(columns="benchmark")
        theirs = nats_tables[name].drop(columns="benchmark")
        pd.testing.assert_frame_equal(ours, theirs)


_OFFICIAL = {  # dataset -> ((get_more_info key, benchsim task, benchsim column), ...)
    "cifar10-valid": (
        ("train-accuracy", "cifar10", "train_acc"),
        ("valid-accuracy", "cifar10", "valid_acc"),
        ("test-accuracy", "cifar10", "valid_setting_test_acc"),
        ("train-all-time", "cifar10", "train_time_s"),
    ),
    "cifar10": (("test-accuracy", "cifar10", "test_acc"),),
    **{
        ds: (
            ("train-accuracy", ds, "train_acc"),
            ("valid-accuracy", ds, "valid_acc"),
            ("test-accuracy", ds, "test_acc"),
            ("valtest-accuracy", ds, "valtest_acc"),
            ("train-all-time", ds, "train_time_s"),
        )
        for ds in ("cifar100", "ImageNet16-120")
    },
}


def test_agrees_with_the_official_api(pth_tables, nats_records, meta_archs):
    api = nas_201_api.NASBench201API(nb201_pth_dict(nats_records, meta_archs), verbose=False)
    checked = 0
    for index in ARCHS:
        for hp, epochs in (("12", (0, 6, 11)), ("200", (0, 57, 199))):
            for dataset, pairs in _OFFICIAL.items():
                for epoch in epochs:
                    info = api.get_more_info(index, dataset, epoch, hp=hp, is_random=False)
                    for key, task, column in pairs:
                        ours = _value(pth_tables, task, index, int(hp), -1, epoch, column)
                        if key not in info:  # the split is not evaluated at this epoch
                            assert np.isnan(ours), (index, hp, dataset, epoch, key)
                            continue
                        assert ours == pytest.approx(info[key], rel=1e-12), (index, hp, key)
                        checked += 1
    assert checked > 150


def _variant(nats_records, meta_archs, tmp_path, **save_kw):
    """A v1_0-like file: 12-epoch runs on cifar10-valid only, no training times for arch 11."""
    data = nb201_pth_dict(nats_records, meta_archs)
    for info in data["arch2infos"].values():
        less = info["less"]
        less["all_results"] = {
            k: v for k, v in less["all_results"].items() if k[0] == "cifar10-valid"
        }
        less["dataset_seed"] = {"cifar10-valid": less["dataset_seed"]["cifar10-valid"]}
    for run in data["arch2infos"][11]["full"]["all_results"].values():
        run["train_times"] = None
    path = tmp_path / "NAS-Bench-201-v1_0-e61699.pth"
    torch.save(data, path, **save_kw)
    return path


def test_v1_0_layout_legacy_serialisation(nats_records, meta_archs, tmp_path, pth_tables):
    path = _variant(nats_records, meta_archs, tmp_path, _use_new_zipfile_serialization=False)
    tables = read_nb201_pth(path, benchmark="nb201-v10", progress=False)
    e = tables["epochs"]
    short = e[e["schedule"] == 12]
    assert set(short["task"]) == {"cifar10"}  # no 12-epoch runs elsewhere in v1_0
    assert short["test_acc"].isna().all() and short["valid_acc"].notna().all()
    final = tables["final"].set_index(["task", "arch_index"])
    expected = pth_tables["final"].set_index(["task", "arch_index"])
    assert np.isnan(final.loc[("cifar100", 11), "train_time_s"])  # missing, not imputed
    assert (
        final.loc[("cifar100", 0), "train_time_s"] == expected.loc[("cifar100", 0), "train_time_s"]
    )
    for column in ("train_acc", "valid_acc", "test_acc", "valtest_acc", "params_mb"):
        pd.testing.assert_series_equal(final[column], expected[column])


def _error(path, **kw) -> str:
    with pytest.raises(DataError) as excinfo:
        read_nb201_pth(path, progress=False, **kw)
    text = str(excinfo.value)
    assert "\n" not in text and str(path) in text
    return text


def test_bad_files(nb201_pth, nats_records, meta_archs, tmp_path):
    assert "does not exist" in _error(tmp_path / "missing.pth")
    text_file = tmp_path / "notes.pth"
    text_file.write_text("hello")
    assert "is not a PyTorch .pth file" in _error(text_file)
    raw = nb201_pth.read_bytes()
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(raw[: len(raw) // 3])
    assert "cannot be read as a PyTorch .pth file" in _error(truncated)
    tnb = tmp_path / "tnb.pth"
    torch.save({"data": {}, "metrics_dict": {}, "task_list": []}, tnb)
    assert "use kind tnb101-pth" in _error(tnb)
    record = tmp_path / "record.pth"
    torch.save(nats_records[0], record)
    assert "use kind nats-tss-simple" in _error(record)
    short = tmp_path / "short.pth"
    torch.save({"meta_archs": meta_archs[:10], "arch2infos": {}, "evaluated_indexes": []}, short)
    assert "lists 10 architectures" in _error(short)
    wrong = nb201_pth_dict({11: copy.deepcopy(nats_records[11])}, meta_archs)
    wrong["arch2infos"] = {12: wrong["arch2infos"][11]}
    moved = tmp_path / "moved.pth"
    torch.save(wrong, moved)
    assert "architecture 12 of NAS-Bench-201 is" in _error(moved)
    bad_key = tmp_path / "bad_key.pth"
    torch.save(
        {"meta_archs": meta_archs, "arch2infos": {20000: {}}, "evaluated_indexes": []}, bad_key
    )
    assert "allowed: 0..15624" in _error(bad_key)
