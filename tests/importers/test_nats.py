"""NATS-Bench topology "simple" importer, on the official fixture files (archs 0, 11, 284)."""

from __future__ import annotations

import bz2
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchsim.catalog import CATALOG
from benchsim.errors import DataError
from benchsim.importers import IMPORT_KINDS, read_nats_tss_simple

from .conftest import ARCHS, load_record, reference_final

TASKS = tuple(CATALOG["nb201"])


def _final(tables, task: str, index: int) -> pd.Series:
    final = tables["final"]
    row = final[(final["task"] == task) & (final["arch_index"] == index)]
    assert len(row) == 1
    return row.iloc[0]


def _curve(tables, task, index, schedule, seed, column) -> np.ndarray:
    e = tables["epochs"]
    rows = e[
        (e["task"] == task)
        & (e["arch_index"] == index)
        & (e["schedule"] == schedule)
        & (e["seed"] == seed)
    ].sort_values("epoch")
    assert rows["epoch"].tolist() == list(range(schedule))
    return rows[column].to_numpy()


def test_final_matches_reference_csvs(nats_tables, reference_dir):
    expected = reference_final(reference_dir)
    for _, ref in expected.iterrows():
        got = _final(nats_tables, ref["task"], ref["arch_index"])
        assert got["arch_str"] == ref["arch_str"]
        for column in ("train_acc", "valid_acc", "test_acc", "valid_setting_test_acc"):
            if column in ref and not pd.isna(ref[column]):
                assert got[column] == pytest.approx(ref[column], abs=1e-6), (ref["task"], column)
    # the brief's spot values: arch 0 test accuracy on the three tasks
    assert [_final(nats_tables, t, 0)["test_acc"] for t in TASKS] == pytest.approx(
        [85.863, 52.913, 26.633], abs=1e-3
    )


def test_final_grid_and_nan_elsewhere(nats_tables):
    final = nats_tables["final"]
    assert len(final) == 3 * 15625
    assert final["task"].tolist()[::15625] == list(TASKS)
    recorded = final["valid_acc"].notna().to_numpy().reshape(3, 15625)
    assert (np.flatnonzero(recorded.any(axis=0)) == np.array(ARCHS)).all()
    # metrics no NATS file carries stay NaN, never imputed
    for column in ("naslib_valid_acc", "zen_score", "naswot_score", "hwnas_fpga_latency_ms"):
        assert final[column].isna().all()
    c10 = final[final["task"] == "cifar10"]
    assert c10["valtest_acc"].isna().all()
    assert final[final["task"] != "cifar10"]["valid_setting_test_acc"].isna().all()


def test_seeds_match_per_seed_reference(nats_tables, reference_dir):
    ctpe = pd.read_csv(reference_dir / "nb201" / "nats_tss_final_per_seed_ctpe.csv")
    seeds = nats_tables["seeds"]
    columns = {
        "cifar10": ("cifar10-valid_valid_acc_seed", "valid_acc", "cifar10_train_all_time_200ep"),
        "cifar100": ("cifar100_valtest_acc_seed", "valtest_acc", "cifar100_train_all_time_200ep"),
        "ImageNet16-120": (
            "ImageNet16-120_valtest_acc_seed",
            "valtest_acc",
            "imagenet_train_all_time_200ep",
        ),
    }
    for i in ARCHS:
        ref = ctpe[ctpe["nats_index"] == i].iloc[0]
        for task, (prefix, metric, time_col) in columns.items():
            rows = seeds[(seeds["task"] == task) & (seeds["arch_index"] == i)]
            assert rows["seed"].tolist() == [777, 888, 999]  # seeds A, B, C by position
            expected = [ref[prefix + s] for s in "ABC"]
            assert rows[metric].tolist() == pytest.approx(expected, abs=1e-6)
            assert rows["train_time_s"].tolist() == pytest.approx([ref[time_col]] * 3, rel=1e-9)
            assert _final(nats_tables, task, i)["train_time_s"] == pytest.approx(ref[time_col])
            params = ref[time_col.replace("train_all_time_200ep", "params_MB")]
            assert _final(nats_tables, task, i)["params_mb"] == pytest.approx(params)
    assert _final(nats_tables, "cifar100", 0)["valtest_acc"] == pytest.approx(52.80666666, abs=1e-6)


def test_hp12_cifar10_test_curve_is_the_single_seed_111_run(nats_tables, reference_dir):
    # the dkoleber array equals NATS-Bench's only 12-epoch cifar10 run (seed 111), which is
    # therefore also the seed mean; the cifar10-valid runs (seeds 111, 777) differ from it
    mpp = np.load(reference_dir / "nb201" / "nb201_cifar10_test_acc_hp12_perepoch_mpp.npy")
    for i in ARCHS:
        for seed in (111, -1):
            curve = _curve(nats_tables, "cifar10", i, 12, seed, "test_acc")
            np.testing.assert_allclose(curve / 100, mpp[:, i], rtol=0, atol=1e-9)
        assert np.isnan(_curve(nats_tables, "cifar10", i, 12, 777, "test_acc")).all()
        assert not np.isnan(_curve(nats_tables, "cifar10", i, 12, 777, "valid_acc")).any()


def test_epochs_rows_seeds_and_means(nats_tables, nats_records):
    e = nats_tables["epochs"]
    keys = ["task", "arch_index", "schedule", "seed", "epoch"]
    assert not e.duplicated(keys).any()
    counts = e.groupby(["task", "schedule"])["seed"].unique().map(sorted).to_dict()
    assert counts[("cifar10", 12)] == [-1, 111, 777]
    assert counts[("cifar100", 200)] == [-1, 777, 888, 999]
    # every epoch of every seed equals the file, and seed -1 is their mean
    run = nats_records[11]["200"]["all_results"]
    for seed in (777, 888, 999):
        valid = [run[("cifar10-valid", seed)]["eval_acc1es"][f"x-valid@{k}"] for k in range(200)]
        np.testing.assert_array_equal(
            _curve(nats_tables, "cifar10", 11, 200, seed, "valid_acc"), valid
        )
    mean = np.mean(
        [_curve(nats_tables, "cifar100", 11, 200, s, "test_acc") for s in (777, 888, 999)], axis=0
    )
    mean_curve = _curve(nats_tables, "cifar100", 11, 200, -1, "test_acc")
    np.testing.assert_allclose(mean_curve, mean, rtol=1e-12)
    # x-test of cifar100 is evaluated after the last epoch only; ori-test after every epoch
    assert np.isnan(mean_curve[:-1]).all() and not np.isnan(mean_curve[-1])
    assert not np.isnan(_curve(nats_tables, "cifar100", 11, 200, -1, "valtest_acc")).any()
    # cumulative training time ends on the final value
    time = _curve(nats_tables, "cifar10", 0, 200, -1, "train_time_s")
    assert (np.diff(time) > 0).all()
    assert time[-1] == pytest.approx(_final(nats_tables, "cifar10", 0)["train_time_s"])
    assert e["train_acc"].notna().all()


def test_evaluation_times_and_latency_are_the_files_own(nats_tables, nats_records):
    """The official files record every set's evaluation seconds per epoch and each run's
    latency; the tables hold them as the official API reads them: ``<set>-all-time`` (the sum
    up to the epoch), at the epochs where the set's accuracy is, and the latency in ms."""
    sets = {  # task -> (column prefix, official dataset, split)
        "cifar10": [
            ("valid", "cifar10-valid", "x-valid"),
            ("valid_setting_test", "cifar10-valid", "ori-test"),
            ("test", "cifar10", "ori-test"),
        ],
        "cifar100": [
            ("valid", "cifar100", "x-valid"),
            ("test", "cifar100", "x-test"),
            ("valtest", "cifar100", "ori-test"),
        ],
    }
    for i in ARCHS:
        for hp, epochs in (("12", 12), ("200", 200)):
            runs = nats_records[i][hp]["all_results"]
            for task, columns in sets.items():
                for prefix, dataset, split in columns:
                    for (name, seed), run in runs.items():
                        if name != dataset:
                            continue
                        times = [run["eval_times"][f"{split}@{k}"] for k in range(epochs)]
                        held = [f"{split}@{k}" in run["eval_acc1es"] for k in range(epochs)]
                        expected = np.where(held, np.cumsum(times), np.nan)
                        got = _curve(nats_tables, task, i, epochs, seed, f"{prefix}_eval_time_s")
                        np.testing.assert_allclose(got, expected, rtol=1e-12)
        final = nats_records[i]["200"]["all_results"]
        for task, dataset in (("cifar10", "cifar10-valid"), ("cifar100", "cifar100")):
            latency = np.mean([final[(dataset, s)]["latency"][0] for s in (777, 888, 999)])
            assert _final(nats_tables, task, i)["nats_latency_ms"] == pytest.approx(
                latency * 1000, rel=1e-12
            )
            last = [final[(dataset, s)]["eval_times"] for s in (777, 888, 999)]
            total = np.mean([sum(t[f"x-valid@{k}"] for k in range(200)) for t in last])
            assert _final(nats_tables, task, i)["valid_eval_time_s"] == pytest.approx(total)
    # cifar100's x-valid is evaluated after the last epoch only: its time is held there only
    curve = _curve(nats_tables, "cifar100", 11, 200, -1, "valid_eval_time_s")
    assert np.isnan(curve[:-1]).all() and curve[-1] > 0


def test_single_file_imports_one_architecture(nats_dir):
    tables = read_nats_tss_simple(nats_dir / "000284.pickle.pbz2", progress=False)
    final = tables["final"]
    assert sorted(final.loc[final["valid_acc"].notna(), "arch_index"].unique()) == [284]
    assert set(tables["epochs"]["arch_index"]) == {284}
    assert (tables["final"]["benchmark"] == "nb201-nats").all()


def _sss_message(excinfo) -> None:
    text = str(excinfo.value)
    assert "sss" in text and "\n" not in text
    assert all(kind in text for kind in IMPORT_KINDS)


def test_sss_directory_and_file_are_refused(sss_dir, tmp_path):
    with pytest.raises(DataError) as excinfo:
        read_nats_tss_simple(sss_dir, progress=False)
    _sss_message(excinfo)
    with pytest.raises(DataError) as excinfo:  # a single sss file, by its schedules
        read_nats_tss_simple(sss_dir / "000011.pickle.pbz2", progress=False)
    _sss_message(excinfo)
    renamed = tmp_path / "mydir"  # by its meta file, whatever the folder is called
    renamed.mkdir()
    for name in ("meta.pickle.pbz2", "000000.pickle.pbz2"):
        shutil.copy(sss_dir / name, renamed / name)
    with pytest.raises(DataError) as excinfo:
        read_nats_tss_simple(renamed, progress=False)
    _sss_message(excinfo)


def _error(path: Path) -> str:
    with pytest.raises(DataError) as excinfo:
        read_nats_tss_simple(path, progress=False)
    text = str(excinfo.value)
    assert "\n" not in text and str(path) in text
    return text


def test_bad_paths_and_files(nats_dir, tmp_path):
    assert "does not exist" in _error(tmp_path / "nope")
    assert "no results" in _error(nats_dir / "meta.pickle.pbz2")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no NNNNNN.pickle.pbz2" in _error(empty)
    odd = tmp_path / "results.pbz2"
    odd.write_bytes(b"x")
    assert "not named NNNNNN.pickle.pbz2" in _error(odd)
    raw = (nats_dir / "000000.pickle.pbz2").read_bytes()
    truncated = tmp_path / "000000.pickle.pbz2"
    truncated.write_bytes(raw[: len(raw) // 2])
    assert "is truncated" in _error(truncated)
    not_bz2 = tmp_path / "000001.pickle.pbz2"
    not_bz2.write_bytes(b"PK\x03\x04 a zip, not bz2")
    assert "not bz2-compressed" in _error(not_bz2)
    garbage = tmp_path / "000002.pickle.pbz2"
    garbage.write_bytes(bz2.compress(b"not a pickle at all"))
    assert "not a readable pickle" in _error(garbage)
    wrong_shape = tmp_path / "000003.pickle.pbz2"
    wrong_shape.write_bytes(bz2.compress(pickle.dumps(["a", "list"])))
    assert "not a dict of schedules" in _error(wrong_shape)


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_pickle_naming_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "000005.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps({"200": _Evil(marker)})))
    text = _error(path)
    assert "mkdir" in text and "could run code" in text
    assert not marker.exists()


def test_file_holding_another_architecture_or_wrong_meta(nats_dir, tmp_path):
    shutil.copy(nats_dir / "000011.pickle.pbz2", tmp_path / "000012.pickle.pbz2")
    assert "holds architecture 11" in _error(tmp_path / "000012.pickle.pbz2")
    folder = tmp_path / "swapped"
    folder.mkdir()
    shutil.copy(nats_dir / "000000.pickle.pbz2", folder / "000000.pickle.pbz2")
    meta = load_record(nats_dir / "meta.pickle.pbz2")
    meta["meta_archs"][0], meta["meta_archs"][1] = meta["meta_archs"][1], meta["meta_archs"][0]
    (folder / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(meta)))
    assert "lists architecture 0" in _error(folder)
