"""The results store: incumbents, per-task parts, and reading the dataset without benchsim."""

import json

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from benchsim.runner import RunConfig, execute_run
from benchsim.sweep import incumbents, part_path
from benchsim.sweep._store import run_parts, task_seconds, write_run_parts


def test_incumbent_rules():
    kind = np.array(
        ["sampled_eval", "evaluate", "evaluate", "train_pass", "evaluate", "full_eval", "evaluate"]
    )
    arch = np.array([9, 1, 2, -1, 3, 4, 5])
    value = np.array([99.0, 50.0, 50.0, np.nan, np.nan, 60.0, 55.0])
    test = np.array([1.0, 10.0, 20.0, np.nan, 30.0, 40.0, 50.0])
    best_arch, best_value, best_test = incumbents(kind, arch, value, test)
    # a mini-batch estimate never makes an incumbent; ties keep the first; NaN never wins;
    # a whole-split evaluation (full_eval) counts like a trained evaluation
    assert best_arch.tolist() == [-1, 1, 1, 1, 1, 4, 4]
    np.testing.assert_array_equal(best_value, [np.nan, 50, 50, 50, 50, 60, 60])
    np.testing.assert_array_equal(best_test, [np.nan, 10, 10, 10, 10, 40, 40])
    empty = incumbents(kind[:0], arch[:0], value[:0], test[:0])
    assert all(x.size == 0 for x in empty)


def test_parts_of_a_real_run(installed_home, tmp_path):
    folder = tmp_path / "run"
    execute_run(RunConfig(algo="rea", tasks=("cifar10", "cifar100"), budget="12", seed=3), folder)
    results = tmp_path / "results"
    assert write_run_parts(folder, results, "rea", "rid") == 2
    assert write_run_parts(folder, results, "rea", "rid", only_missing=True) == 0
    assert part_path(results, "rea", "cifar100", "rid").is_file()

    # plain pandas, partitions from the folder names
    df = pd.read_parquet(results)
    assert set(df["algo"].astype(str)) == {"rea"}
    assert set(df["task"].astype(str)) == {"cifar10", "cifar100"}
    assert (df["run_id"] == "rid").all() and (df["seed"] == 3).all()
    result = json.loads((folder / "result.json").read_text())
    for task, rows in df.groupby(df["task"].astype(str)):
        rows = rows.sort_values("step")
        final = rows.iloc[-1]
        assert final["incumbent_value"] == result["tasks"][task]["search_metric"]
        assert final["incumbent_test_value"] == result["tasks"][task]["test_metric"]
        assert final["incumbent_arch"] == result["tasks"][task]["arch"]
        # single-task algorithm: one clock per task, so per-task time is the clock itself
        np.testing.assert_array_equal(rows["task_time"], rows["end_time"])
        assert rows["incumbent_value"].is_monotonic_increasing

    # pyarrow with a filter pushed to the partition folders
    table = ds.dataset(results, partitioning="hive").to_table(filter=ds.field("task") == "cifar10")
    assert table.num_rows == 12


def test_multi_task_clock_is_shared(installed_home, tmp_path):
    folder = tmp_path / "run"
    config = RunConfig(
        algo="emtnas",
        tasks=("cifar10", "cifar100"),
        params={"population_size": 4, "generations": 3},
    )
    execute_run(config, folder)
    parts = run_parts(folder, "rid")
    for part in parts.values():
        end = part.column("end_time").to_numpy()
        np.testing.assert_allclose(part.column("task_time").to_numpy(), end / 2)


def test_source_phase_is_not_on_the_searched_tasks_clock(installed_home, tmp_path):
    # XferNAS answers source tasks first; that time is charged to them, not to the target's
    # budget, so the target's curve (and its regret at a time) starts with its first job
    folder = tmp_path / "run"
    config = RunConfig(
        algo="xfernas", tasks=("cifar10",), budget="6", seed=1, params={"source_evaluations": 5}
    )
    execute_run(config, folder)
    result = json.loads((folder / "result.json").read_text())
    source_seconds = result["source_tasks"]["simulated_seconds"]
    assert source_seconds > 0
    part = run_parts(folder, "rid")["cifar10"]
    end = part.column("end_time").to_numpy()
    np.testing.assert_allclose(part.column("task_time").to_numpy(), end - source_seconds)
    assert part.column("task_time").to_numpy().min() > 0
    seconds = task_seconds(folder, 1)
    assert seconds["cifar10"] == pytest.approx(end.max() - source_seconds)
