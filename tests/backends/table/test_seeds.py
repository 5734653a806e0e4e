"""``seeds.parquet`` as dense per-(task, architecture) arrays (benchsim.backends.table._seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchsim.backends.table._seeds import SeedTable
from benchsim.errors import CorruptDataError

TASKS = ("a", "b")
SIZE = 4
ROWS = [  # task, arch_index, seed, acc (ordered as benchsim writes them)
    ("a", 0, 111, 0.5),
    ("a", 0, 777, 0.6),
    ("a", 2, 777, 0.7),
    ("b", 1, 111, 0.1),
    ("b", 1, 555, 0.2),
    ("b", 1, 777, 0.3),
]


def _write(path: Path, rows: list[tuple]) -> Path:
    task, arch, seed, acc = (list(c) for c in zip(*rows, strict=True))
    table = pa.table(
        {
            "benchmark": ["x"] * len(rows),
            "task": task,
            "arch_index": pa.array(arch, pa.int16()),
            "seed": pa.array(seed, pa.int64()),
            "acc": acc,
        }
    )
    pq.write_table(table, path)
    return path


def _read(path: Path) -> SeedTable:
    return SeedTable(path, TASKS, SIZE, "fix it")


def test_rows_become_dense_slots_in_seed_order(tmp_path):
    seeds = _read(_write(tmp_path / "seeds.parquet", ROWS))
    assert seeds.counts.tolist() == [2, 0, 1, 0, 0, 3, 0, 0]
    assert seeds.seed_ids.shape == (8, 3)
    assert seeds.recorded(0) == [111, 777] and seeds.recorded(5) == [111, 555, 777]
    assert seeds.seed_ids[1].tolist() == [-1, -1, -1]
    acc = seeds.values["acc"]
    assert acc[5].tolist() == [0.1, 0.2, 0.3]
    assert acc[2, 0] == 0.7 and np.isnan(acc[2, 1:]).all()
    assert seeds.seeds_by_task == {"a": (111, 777), "b": (111, 555, 777)}
    assert seeds.metrics_by_task == {"a": ("acc",), "b": ("acc",)}
    assert not acc.flags.writeable and not seeds.seed_ids.flags.writeable


def test_rows_in_any_order_give_the_same_arrays(tmp_path):
    ordered = _read(_write(tmp_path / "ordered.parquet", ROWS))
    shuffled_rows = [ROWS[i] for i in np.random.default_rng(0).permutation(len(ROWS))]
    assert shuffled_rows != ROWS
    shuffled = _read(_write(tmp_path / "shuffled.parquet", shuffled_rows))
    assert np.array_equal(shuffled.counts, ordered.counts)
    assert np.array_equal(shuffled.seed_ids, ordered.seed_ids)
    assert np.array_equal(shuffled.values["acc"], ordered.values["acc"], equal_nan=True)
    assert shuffled.seeds_by_task == ordered.seeds_by_task


@pytest.mark.parametrize("where", [1, 4])
def test_a_seed_recorded_twice_for_one_architecture_is_refused(tmp_path, where):
    rows = [*ROWS[: where + 1], ROWS[where], *ROWS[where + 1 :]]
    with pytest.raises(CorruptDataError, match="records a \\(task, arch_index, seed\\) twice"):
        _read(_write(tmp_path / "seeds.parquet", rows))
