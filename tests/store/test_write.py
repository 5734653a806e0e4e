"""write_tables: schema validation, the zero-copy Arrow twin, meta.json and atomicity."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from benchsim.catalog import CATALOG
from benchsim.errors import ConfigError, DataError, UnknownNameError
from benchsim.store import _write as write_module
from benchsim.store import final_frame, metric_columns, write_tables
from benchsim.store._fetch import sha256_of

SPACE = "tnb101-macro"
SOURCES = [{"path": "somewhere/file.csv", "sha256": "0" * 64}]


@pytest.fixture(scope="module")
def macro_final(installed_home: Path) -> pd.DataFrame:
    """A valid final frame (the installed macro table without its benchmark column)."""
    frame = pd.read_parquet(installed_home / "tables" / SPACE / "final.parquet")
    return frame.drop(columns="benchmark")


def _epochs(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["task", "arch_index", "schedule", "seed", "epoch", "valid_top1"]
    )
    return frame.astype(
        {"arch_index": "int32", "schedule": "int16", "seed": "int16", "epoch": "int16"}
    )


def test_writes_an_imported_benchmark_folder(tmp_path, macro_final) -> None:
    epochs = _epochs(
        [
            ("jigsaw", 5, 10, -1, 1, 50.0),
            ("class_scene", 7, 25, 0, 0, 10.0),
            ("class_scene", 7, 25, -1, 0, 11.0),
        ]
    )
    folder = write_tables(
        "macro-copy", SPACE, {"final": macro_final, "epochs": epochs}, SOURCES, root=tmp_path
    )
    assert folder == tmp_path / "macro-copy"
    assert sorted(p.name for p in folder.iterdir()) == [
        "epochs.parquet",
        "final.arrow",
        "final.parquet",
        "meta.json",
        "meta.json.sha256",
        "seeds.parquet",
    ]
    meta = json.loads((folder / "meta.json").read_text())
    assert (folder / "meta.json.sha256").read_text().strip() == sha256_of(folder / "meta.json")
    assert meta["schema_version"] == 1 and meta["benchmark"] == "macro-copy"
    assert meta["space"] == SPACE and meta["size"] == 3256
    assert meta["sources"] == SOURCES
    assert meta["tasks"] == json.loads(json.dumps([asdict(t) for t in CATALOG[SPACE].values()]))
    for name, digest in meta["tables"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert datetime.fromisoformat(meta["created"]).utcoffset().total_seconds() == 0
    written = pd.read_parquet(folder / "final.parquet")
    assert (written["benchmark"] == "macro-copy").all()
    pd.testing.assert_frame_equal(written.drop(columns="benchmark"), macro_final)
    long = pd.read_parquet(folder / "epochs.parquet")  # sorted by task order, arch, ..., seed
    assert long[["task", "seed"]].values.tolist() == [
        ["class_scene", -1],
        ["class_scene", 0],
        ["jigsaw", -1],
    ]
    assert list(long.columns) == [
        "benchmark",
        "task",
        "arch_index",
        "schedule",
        "seed",
        "epoch",
        "valid_top1",
    ]


def test_arrow_twin_is_zero_copy_and_nan_not_null(installed_home: Path) -> None:
    folder = installed_home / "tables" / "nb201"
    with pa.memory_map(str(folder / "final.arrow"), "r") as source:
        table = pa.ipc.open_file(source).read_all()
        assert table.column_names == ["arch_index", *metric_columns("nb201")]
        assert table.num_rows == 3 * 15625
        zen = None
        for name in table.column_names:
            column = table.column(name)
            assert column.num_chunks == 1 and column.null_count == 0
            chunk = column.chunk(0)
            assert chunk.buffers()[0] is None  # no validity bitmap at all
            values = chunk.to_numpy(zero_copy_only=True)
            assert values.dtype == (np.int32 if name == "arch_index" else np.float64)
            if name == "zen_score":
                zen = values.copy()
        meta = table.schema.metadata
        assert json.loads(meta[b"tasks"]) == ["cifar10", "cifar100", "ImageNet16-120"]
        assert meta[b"size"] == b"15625"
    parquet = pd.read_parquet(folder / "final.parquet", columns=["zen_score"])
    np.testing.assert_array_equal(zen, parquet["zen_score"].to_numpy())
    assert np.isnan(zen).sum() == 3 * 341  # NaN survives as NaN
    n_metrics = len(metric_columns("nb201"))
    assert (folder / "final.arrow").stat().st_size >= 46875 * (n_metrics * 8 + 4)  # uncompressed


def _bad(frame: pd.DataFrame, how: str) -> pd.DataFrame:
    frame = frame.copy()
    if how == "missing":
        return frame.drop(columns="zen_score")
    if how == "extra":
        return frame.assign(foo=1.0)
    if how == "short":
        return frame.iloc[:-1]
    if how == "swapped":
        return frame.iloc[[1, 0, *range(2, len(frame))]].reset_index(drop=True)
    if how == "string_metric":
        return frame.assign(valid_top1=frame["valid_top1"].astype(str))
    if how == "float_index":
        return frame.assign(arch_index=frame["arch_index"].astype(float))
    if how == "unlisted":
        frame.loc[frame["task"] == "room_layout", "valid_top1"] = 1.0
        return frame
    if how == "arch_str":
        frame.loc[3256 + 5, "arch_str"] = "64-1111-basic"
        return frame
    if how == "task":
        frame.loc[0, "task"] = "classscene"
        return frame
    if how == "benchmark":
        return frame.assign(benchmark="tnb101-micro")
    raise AssertionError(how)


@pytest.mark.parametrize(
    ("how", "error", "message"),
    [
        ("missing", DataError, r"final: columns missing \['zen_score'\]"),
        ("extra", DataError, r"unexpected \['foo'\]"),
        ("short", DataError, "22791 rows, must be the complete grid of 7 tasks x 3256"),
        ("swapped", DataError, r"row 0 is \(class_scene, 1\), expected \(class_scene, 0\)"),
        ("string_metric", DataError, "valid_top1 has dtype .*, must be float"),
        ("float_index", DataError, "arch_index has dtype float64, must be an integer type"),
        ("unlisted", DataError, "valid_top1 has values for task room_layout"),
        ("arch_str", DataError, "arch_str of index 5 is '64-1111-basic'"),
        ("task", UnknownNameError, "unknown task 'classscene' in table final"),
        ("benchmark", DataError, "benchmark row 0 is 'tnb101-micro', must be 'x'"),
    ],
)
def test_final_schema_errors_write_nothing(tmp_path, macro_final, how, error, message) -> None:
    with pytest.raises(error, match=message):
        write_tables("x", SPACE, {"final": _bad(macro_final, how)}, SOURCES, root=tmp_path)
    assert not (tmp_path / "x").exists()


def test_argument_errors(tmp_path, macro_final) -> None:
    with pytest.raises(ConfigError, match=r"benchmark name '\.\./x' is not a valid"):
        write_tables("../x", SPACE, {"final": macro_final}, SOURCES, root=tmp_path)
    with pytest.raises(UnknownNameError, match="unknown search space 'nb301'"):
        write_tables("x", "nb301", {"final": macro_final}, SOURCES, root=tmp_path)
    with pytest.raises(UnknownNameError, match="unknown table 'curves'"):
        write_tables("x", SPACE, {"final": macro_final, "curves": None}, SOURCES, root=tmp_path)
    with pytest.raises(DataError, match="the 'final' table is required"):
        write_tables("x", SPACE, {"seeds": None}, SOURCES, root=tmp_path)
    with pytest.raises(ConfigError, match="sources must be JSON-serialisable"):
        write_tables("x", SPACE, {"final": macro_final}, [{"p": Path("a")}], root=tmp_path)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [("jigsaw", 1, 10, -1, 3, 1.0), ("jigsaw", 1, 10, -1, 3, 2.0)],
            "epochs: key .*'epoch': 3.* appears more than once",
        ),
        ([("jigsaw", 1, 10, -1, 10, 1.0)], "row 0 has epoch 10 >= schedule 10"),
        ([("jigsaw", 3256, 10, -1, 0, 1.0)], "arch_index row 0 is 3256, must be in 0..3255"),
        ([("jigsaw", 1, 10, -2, 0, 1.0)], "seed row 0 is -2, must be in -1..32767"),
        ([("room_layout", 1, 10, -1, 0, 1.0)], "valid_top1 has values for task room_layout"),
    ],
)
def test_epochs_errors(tmp_path, macro_final, rows, message) -> None:
    with pytest.raises(DataError, match=message):
        write_tables(
            "x", SPACE, {"final": macro_final, "epochs": _epochs(rows)}, SOURCES, root=tmp_path
        )
    assert not (tmp_path / "x").exists()


def test_seeds_columns_must_be_the_seed_metrics(tmp_path, macro_final) -> None:
    seeds = pd.DataFrame({"task": ["jigsaw"], "arch_index": [0], "seed": [0], "valid_top1": [1.0]})
    with pytest.raises(
        DataError, match=r"seeds: columns missing \[\], unexpected \['valid_top1'\]"
    ):
        write_tables("x", SPACE, {"final": macro_final, "seeds": seeds}, SOURCES, root=tmp_path)


def test_final_frame_refuses_invented_columns() -> None:
    strings = [f"s{i}" for i in range(3256)]
    with pytest.raises(UnknownNameError, match="unknown metric 'valid_top1' for room_layout"):
        final_frame(SPACE, strings, {"room_layout": {"valid_top1": np.zeros(3256)}})
    with pytest.raises(DataError, match=r"jigsaw/valid_top1: shape \(3\,\), expected \(3256,\)"):
        final_frame(SPACE, strings, {"jigsaw": {"valid_top1": np.zeros(3)}})


# ---------------------------------------------------------------------- atomicity
def _fail_on(monkeypatch, function_name: str, target: str) -> None:
    original = getattr(write_module, function_name) if function_name != "replace" else os.replace

    def failing(*args, **kwargs):
        if any(target in str(a) for a in args):
            raise OSError(f"disk full while writing {target}")
        return original(*args, **kwargs)

    if function_name == "replace":
        monkeypatch.setattr(write_module.os, "replace", failing)
    else:
        monkeypatch.setattr(write_module, function_name, failing)


def test_failure_while_writing_leaves_no_new_folder(tmp_path, macro_final, monkeypatch) -> None:
    _fail_on(monkeypatch, "_dump", "epochs.parquet")
    with pytest.raises(OSError, match="disk full"):
        write_tables("x", SPACE, {"final": macro_final}, SOURCES, root=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [".x.lock"]  # the folder's lock stays


def test_failure_while_writing_keeps_the_previous_install(tmp_path, macro_final, monkeypatch):
    folder = write_tables("x", SPACE, {"final": macro_final}, SOURCES, root=tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    _fail_on(monkeypatch, "_dump", "epochs.parquet")
    changed = macro_final.assign(zen_score=0.0)
    with pytest.raises(OSError, match="disk full"):
        write_tables("x", SPACE, {"final": changed}, SOURCES, root=tmp_path)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no temporaries either


def test_failure_while_renaming_leaves_nothing_installed(tmp_path, macro_final, monkeypatch):
    folder = write_tables("x", SPACE, {"final": macro_final}, SOURCES, root=tmp_path)
    _fail_on(monkeypatch, "replace", "seeds.parquet")
    with pytest.raises(OSError, match="disk full"):
        write_tables("x", SPACE, {"final": macro_final}, SOURCES, root=tmp_path)
    assert list(folder.iterdir()) == []  # no meta.json, no mix of old and new tables
