"""Every bad input to the table backend fails with one line naming the value and the fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchsim._integrity import sha256_file
from benchsim.backends.table import TableBenchmark
from benchsim.errors import (
    BenchsimError,
    ConfigError,
    DataError,
    FidelityError,
    InvalidArchitectureError,
    UnknownMetricError,
    UnknownTaskError,
)


@pytest.fixture(scope="module")
def nb201(installed_home) -> TableBenchmark:
    return TableBenchmark("nb201")


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and message
    assert isinstance(excinfo.value, BenchsimError)
    return message


def test_unknown_task_lists_tasks(nb201):
    with pytest.raises(UnknownTaskError) as excinfo:
        nb201.query(0, "cifar1000")
    message = one_line(excinfo)
    assert "'cifar1000'" in message and "cifar10, cifar100, ImageNet16-120" in message


def test_unknown_metric_lists_metrics(nb201):
    with pytest.raises(UnknownMetricError) as excinfo:
        nb201.query(0, "cifar10", "accuracy")
    message = one_line(excinfo)
    assert "'accuracy'" in message and "valid_acc" in message and "cifar10" in message
    with pytest.raises(UnknownMetricError):
        nb201.query_many([0], "cifar100", "naswot_score")  # a cifar10-only metric


@pytest.mark.parametrize("arch", [15625, -1, "|nope~0|", True, 2.5])
def test_bad_architecture(nb201, arch):
    with pytest.raises(InvalidArchitectureError) as excinfo:
        nb201.query(arch, "cifar10")
    one_line(excinfo)


def test_out_of_range_arch_in_a_batch(nb201):
    with pytest.raises(InvalidArchitectureError, match="15625") as excinfo:
        nb201.query_many(np.array([1, 15625]), "cifar10")
    one_line(excinfo)
    with pytest.raises(InvalidArchitectureError, match="-3"):
        nb201.query_many(np.array([-3, 1]), "cifar10")


@pytest.mark.parametrize(
    ("codes", "error", "text"),
    [
        (np.array([0, 3]), UnknownTaskError, "0=cifar10"),
        (np.array([-1, 0]), UnknownTaskError, "-1"),
        (np.array([0.0, 1.0]), ConfigError, "float64"),
        (np.array([0, 1, 2]), ConfigError, "shape"),
    ],
)
def test_bad_task_code_arrays(nb201, codes, error, text):
    with pytest.raises(error, match=text) as excinfo:
        nb201.query_many(np.array([1, 2]), codes, "valid_acc")
    one_line(excinfo)


def test_mixed_tasks_with_different_search_metrics_need_a_metric(installed_home):
    micro = TableBenchmark("tnb101-micro")
    with pytest.raises(ConfigError, match="class_scene: valid_top1, room_layout") as excinfo:
        micro.query_many([1, 2], np.array([0, 2]))
    one_line(excinfo)
    same = micro.query_many([1, 2], np.array([0, 1]))  # both search on valid_top1
    assert same.values.shape == (2,)


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"epoch": 12, "schedule": 12}, FidelityError, "epochs 0-11"),
        ({"epoch": 3, "schedule": 50}, FidelityError, "schedules 12 .* and 200"),
        ({"epoch": -1}, ConfigError, "epoch == -1"),
        ({"epoch": 1.5}, ConfigError, "epoch == 1.5"),
        ({"schedule": "long"}, ConfigError, "schedule == 'long'"),
        ({"seed": True}, ConfigError, "seed == True"),
        ({"seed": "random"}, ConfigError, "'sample'"),
        ({"seed": 9}, FidelityError, "recorded seeds: 0, 1, 2"),
    ],
)
def test_bad_fidelity(nb201, kwargs, error, text):
    metric = "test_acc" if "schedule" in kwargs else "valid_acc"
    with pytest.raises(error, match=text) as excinfo:
        nb201.query(0, "cifar10", metric, **kwargs)
    one_line(excinfo)


def test_metric_without_per_seed_or_per_epoch_values(nb201, installed_home):
    with pytest.raises(FidelityError, match="per-seed metrics there: valid_acc") as excinfo:
        nb201.query(0, "cifar10", "test_acc", seed=0)
    one_line(excinfo)
    with pytest.raises(FidelityError, match="no per-seed values on task cifar100"):
        nb201.query_many([0, 1], "cifar100", "valid_acc", seed="sample")
    with pytest.raises(FidelityError, match="recorded for no architecture"):
        nb201.query_many([0, 1], "cifar10", "valid_acc", seed=5)
    with pytest.raises(FidelityError, match="no per-epoch values in schedule 12"):
        nb201.query(0, "cifar10", "valid_acc", epoch=1, schedule=12)
    with pytest.raises(FidelityError, match="only the seed-mean curve"):
        nb201.query(0, "cifar10", "test_acc", epoch=1, schedule=12, seed="sample")
    micro = TableBenchmark("tnb101-micro")
    with pytest.raises(FidelityError, match="records no per-epoch values") as excinfo:
        micro.query(0, "jigsaw", "valid_top1", epoch=3)
    one_line(excinfo)


def test_bad_constructor_arguments(installed_home):
    with pytest.raises(ConfigError, match=r"'\.\./nb201'"):
        TableBenchmark("../nb201")
    with pytest.raises(ConfigError, match=r"seed == 'x'"):
        TableBenchmark("nb201", seed="x")
    with pytest.raises(ConfigError, match=r"seed == 1\.5"):
        TableBenchmark("nb201").reseed(1.5)


# ---------------------------------------------------------------------- damaged folders
@pytest.fixture
def copy_root(installed_home, tmp_path) -> Path:
    """A private copy of the nb201 folder (the installed one is shared and read-only)."""
    shutil.copytree(installed_home / "tables" / "nb201", tmp_path / "nb201")
    return tmp_path


def test_missing_folder_says_how_to_install(tmp_path):
    with pytest.raises(DataError, match="run `benchsim data install nb201`") as excinfo:
        TableBenchmark("nb201", root=tmp_path)
    one_line(excinfo)


def test_corrupt_meta_json(copy_root):
    (copy_root / "nb201" / "meta.json").write_text("{not json")
    with pytest.raises(DataError, match="benchsim data install nb201") as excinfo:
        TableBenchmark("nb201", root=copy_root)
    one_line(excinfo)


def test_wrong_schema_version(copy_root):
    path = copy_root / "nb201" / "meta.json"
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "schema_version": 99}))
    with pytest.raises(DataError, match="schema_version 99") as excinfo:
        TableBenchmark("nb201", root=copy_root)
    one_line(excinfo)


def reseal(folder: Path) -> None:
    """Record the folder's current files in meta.json and meta.json.sha256, as an install that
    wrote them so would (to reach the checks behind the checksum)."""
    meta = json.loads((folder / "meta.json").read_text())
    meta["tables"] = {name: sha256_file(folder / name) for name in meta["tables"]}
    (folder / "meta.json").write_text(json.dumps(meta))
    (folder / "meta.json.sha256").write_text(sha256_file(folder / "meta.json") + "\n")


def test_truncated_final_arrow(copy_root):
    path = copy_root / "nb201" / "final.arrow"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match=r"final\.arrow does not match the SHA-256") as excinfo:
        TableBenchmark("nb201", root=copy_root)
    assert "repair it with `benchsim data install nb201 --force`" in one_line(excinfo)
    reseal(copy_root / "nb201")  # even with matching hashes, an unreadable file is named
    with pytest.raises(DataError, match=r"final\.arrow is not a readable Arrow file") as excinfo:
        TableBenchmark("nb201", root=copy_root)
    one_line(excinfo)


def test_flipped_bytes_never_answer_a_query(copy_root):
    """8 flipped bytes in a mapped column used to come back as an accuracy of 99.99."""
    path = copy_root / "nb201" / "final.arrow"
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="modified or is corrupt") as excinfo:
        TableBenchmark("nb201", root=copy_root).query(0, "cifar10")
    one_line(excinfo)


def test_an_edited_meta_json_is_refused(copy_root):
    path = copy_root / "nb201" / "meta.json"
    meta = json.loads(path.read_text())
    meta["tasks"][0]["epochs"] = 12  # would silently change every charged cost
    path.write_text(json.dumps(meta))
    with pytest.raises(DataError, match=r"meta\.json does not match the SHA-256 recorded in meta"):
        TableBenchmark("nb201", root=copy_root)
    (copy_root / "nb201" / "meta.json.sha256").unlink()
    with pytest.raises(DataError, match=r"meta\.json\.sha256 is missing or unreadable"):
        TableBenchmark("nb201", root=copy_root)


def test_verified_files_are_hashed_once_until_they_change(copy_root, monkeypatch):
    from benchsim import _integrity

    calls = []
    real = _integrity.sha256_file
    monkeypatch.setattr(_integrity, "sha256_file", lambda p: calls.append(p.name) or real(p))
    _integrity.forget()
    TableBenchmark("nb201", root=copy_root)
    assert sorted(calls) == ["final.arrow", "meta.json"]  # a copied folder: new inodes
    _integrity.forget()  # a new process: the record on disk is what it finds
    TableBenchmark("nb201", root=copy_root).query(0, "cifar10", seed=0)
    assert sorted(calls) == ["final.arrow", "meta.json", "seeds.parquet"]
    path = copy_root / "nb201" / "final.arrow"
    path.write_bytes(path.read_bytes())  # same bytes, rewritten: checked again, and fine
    TableBenchmark("nb201", root=copy_root)
    assert calls.count("final.arrow") == 2


def test_missing_final_arrow(copy_root):
    (copy_root / "nb201" / "final.arrow").unlink()
    with pytest.raises(DataError, match=r"final\.arrow is missing.*benchsim data install nb201"):
        TableBenchmark("nb201", root=copy_root)


def test_damaged_seeds_file_fails_on_first_seed_query(copy_root):
    (copy_root / "nb201" / "seeds.parquet").write_bytes(b"PAR1 garbage")
    bench = TableBenchmark("nb201", root=copy_root)  # opening does not read it
    assert bench.query(0, "cifar10").value > 0
    with pytest.raises(DataError, match=r"seeds\.parquet does not match the SHA-256") as excinfo:
        bench.query(0, "cifar10", seed=0)
    one_line(excinfo)
    reseal(copy_root / "nb201")
    bench = TableBenchmark("nb201", root=copy_root)
    with pytest.raises(DataError, match=r"seeds\.parquet is not a readable Parquet") as excinfo:
        bench.query(0, "cifar10", seed=0)
    one_line(excinfo)


def test_missing_epochs_file_fails_on_first_epoch_query(copy_root):
    (copy_root / "nb201" / "epochs.parquet").unlink()
    bench = TableBenchmark("nb201", root=copy_root)
    with pytest.raises(DataError, match=r"epochs\.parquet is missing"):
        bench.query(0, "cifar10", "test_acc", epoch=0, schedule=12)


def test_unrecorded_cost_raises_for_query_and_is_nan_in_batches(copy_root):
    """A table whose train_time_s is NaN for an architecture (as an imported table may be)."""
    import pyarrow as pa
    import pyarrow.ipc

    path = copy_root / "nb201" / "final.arrow"
    table = pa.ipc.open_file(pa.py_buffer(path.read_bytes())).read_all()  # not mapped: rewritten
    times = np.array(table["train_time_s"].combine_chunks().to_numpy(), copy=True)
    times[5] = np.nan
    index = table.schema.get_field_index("train_time_s")
    table = table.set_column(index, "train_time_s", pa.array(times))
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    reseal(copy_root / "nb201")
    bench = TableBenchmark("nb201", root=copy_root)
    with pytest.raises(FidelityError, match="architecture 5 has no recorded train_time_s") as exc:
        bench.query(5, "cifar10")
    assert "15624 of 15625" in one_line(exc)
    batch = bench.query_many([4, 5], "cifar10")
    assert np.isfinite(batch.cost[0]) and np.isnan(batch.cost[1])
