"""TableBenchmark on the real installed tables: values, seeds, epochs and costs."""

from __future__ import annotations

import csv
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import benchsim
from benchsim.backends.table import TableBenchmark
from benchsim.errors import FidelityError

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def nb201(installed_home) -> TableBenchmark:
    return TableBenchmark("nb201")


@pytest.fixture(scope="module")
def micro(installed_home) -> TableBenchmark:
    return TableBenchmark("tnb101-micro")


def _column(reference_dir: Path, relpath: str, name: str) -> np.ndarray:
    with (reference_dir / relpath).open(newline="") as fh:
        return np.array([float(row[name] or "nan") for row in csv.DictReader(fh)])


# ---------------------------------------------------------------------- final values
def test_arch0_cifar10_test_acc(nb201):
    result = nb201.query(0, "cifar10", "test_acc")
    assert result["test_acc"] == pytest.approx(85.863, abs=1e-3)
    assert (result.arch, result.task, result.seed, result.epoch, result.schedule) == (
        0,
        "cifar10",
        None,
        None,
        200,
    )


@pytest.mark.parametrize(
    ("task", "best"), [("cifar10", 94.37), ("cifar100", 73.51), ("ImageNet16-120", 47.31)]
)
def test_best_test_accuracy_over_all_archs(nb201, task, best):
    values = nb201.query_many(np.arange(nb201.space.size), task, "test_acc").values
    assert values.shape == (15625,)
    assert np.nanmax(values) == pytest.approx(best, abs=0.005)


def test_tnb101_micro_class_scene_best_valid(micro):
    values = micro.query_many(np.arange(micro.space.size), "class_scene", "valid_top1").values
    assert np.nanmax(values) == pytest.approx(54.94, abs=0.005)


def test_whole_cifar10_test_column_matches_reference(nb201, reference_dir):
    relpath = "nb201/nats_tss_test_acc_200ep_vtao.csv"
    expected = _column(reference_dir, relpath, "CIFAR10TestAccuracy200Epochs")
    got = nb201.query_many(np.arange(15625), "cifar10", "test_acc").values
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_query_and_query_many_agree(nb201):
    rng = np.random.default_rng(1)
    archs = rng.integers(0, 15625, 300)
    codes = rng.integers(0, 3, 300)
    batch = nb201.query_many(archs, codes, "valid_acc")
    for i, (a, c) in enumerate(zip(archs.tolist(), codes.tolist(), strict=True)):
        single = nb201.query(a, nb201.tasks[c], "valid_acc")
        assert single.value == batch.values[i]
        assert single.cost == batch.cost[i]


def test_task_names_and_codes_give_the_same_batch(nb201):
    archs = np.arange(0, 15625, 7)
    codes = archs % 3
    names = np.array(nb201.tasks)[codes]
    by_code = nb201.query_many(archs, codes, "train_time_s")
    by_name = nb201.query_many(archs, names, "train_time_s")
    np.testing.assert_array_equal(by_code.values, by_name.values)
    np.testing.assert_array_equal(by_code.values, by_code.cost)


def test_string_and_int_arch_agree(nb201):
    for index in (0, 1, 777, 15624):
        text = nb201.space.format(index)
        assert nb201.query(text, "cifar100", "test_acc") == nb201.query(
            index, "cifar100", "test_acc"
        )
    strings = [nb201.space.format(i) for i in (3, 4, 5)]
    np.testing.assert_array_equal(
        nb201.query_many(strings, "cifar10").values, nb201.query_many([3, 4, 5], "cifar10").values
    )


def test_several_metrics_and_aliases(nb201):
    result = nb201.query(11, "cifar-10", ["valid_acc", "test_acc", "train_time_s"])
    assert list(result.metrics) == ["valid_acc", "test_acc", "train_time_s"]
    assert result.task == "cifar10"
    assert result.cost == result["train_time_s"]
    assert nb201.query(11, "cifar10").metrics.keys() == {"valid_acc"}


# ---------------------------------------------------------------------- seeds
def test_seed_int_reads_that_recorded_seed(nb201, reference_dir):
    relpath = "nb201/nats_tss_final_per_seed_ctpe.csv"
    for position, label in enumerate("AB"):
        column = _column(reference_dir, relpath, f"cifar10-valid_valid_acc_seed{label}")
        result = nb201.query(1, "cifar10", "valid_acc", seed=position)
        assert result.value == pytest.approx(column[1], abs=1e-9)
        assert result.seed == position


def test_seed_sample_is_reproducible_and_covers_recorded_seeds(installed_home):
    a, b = TableBenchmark("nb201", seed=7), TableBenchmark("nb201", seed=7)
    draws_a = [a.query(0, "cifar10", "valid_acc", seed="sample").seed for _ in range(200)]
    draws_b = [b.query(0, "cifar10", "valid_acc", seed="sample").seed for _ in range(200)]
    assert draws_a == draws_b
    assert set(draws_a) == {0, 1, 2}
    other = TableBenchmark("nb201", seed=8)
    assert [other.query(0, "cifar10", "valid_acc", seed="sample").seed for _ in range(200)] != (
        draws_a
    )


def test_seed_sample_values_are_recorded_values(nb201):
    archs = np.arange(2000)
    sampled = nb201.query_many(archs, "cifar10", "valid_acc", seed="sample").values
    per_seed = np.stack(
        [nb201.query_many(archs, "cifar10", "valid_acc", seed=s).values for s in (0, 1, 2)]
    )
    assert np.isfinite(sampled).all()
    assert ((per_seed == sampled).any(axis=0)).all()


def test_the_fast_sampled_seed_path_draws_as_the_general_and_vector_paths(installed_home):
    """seed='sample' (every NB201 search's lookup) has a fast path; it must give the same
    seed, value and cost as the general path and as one query_many, draw for draw."""
    fast, general, vector = (TableBenchmark("nb201", seed=11) for _ in range(3))
    archs = np.random.default_rng(0).integers(0, 15625, 300)
    metrics = ("valid_acc", "train_time_s")
    got = [fast.query(int(a), "cifar10", metrics, seed="sample") for a in archs]
    ref = [general._query_fidelity(int(a), "cifar10", metrics, None, "sample", None) for a in archs]
    assert got == ref  # Result equality: arch, task, metrics, cost, seed, epoch, schedule
    assert len({r.seed for r in got}) == 3  # all recorded seeds are drawn
    many = vector.query_many(archs, "cifar10", "valid_acc", seed="sample")
    assert list(many.values) == [r.metrics["valid_acc"] for r in got]
    assert list(many.cost) == [r.cost for r in got]


def test_seeds_recorded_per_task_are_those_of_seeds_parquet(nb201):
    import pyarrow.parquet as pq

    raw = pq.read_table(nb201.folder_ / "seeds.parquet", columns=["task", "seed"]).to_pandas()
    table = nb201._seed_table()
    for task in nb201.tasks:
        assert table.seeds_by_task[task] == tuple(sorted(set(raw.seed[raw.task == task])))


def test_seed_tables_are_read_once_per_unchanged_file(installed_home, tmp_path):
    """Every benchmark opened on one seeds.parquet shares one read-only copy of its arrays;
    a changed file (a repaired table) is read again."""
    import shutil

    from benchsim import _integrity

    first = TableBenchmark("nb201")._seed_table()
    again = TableBenchmark("nb201")._seed_table()
    assert again is first and not first.values["valid_acc"].flags.writeable
    copy = tmp_path / "nb201"
    shutil.copytree(installed_home / "tables" / "nb201", copy)
    moved = TableBenchmark("nb201", root=tmp_path)._seed_table()
    assert moved is not first
    assert np.array_equal(moved.values["valid_acc"], first.values["valid_acc"], equal_nan=True)
    assert TableBenchmark("nb201", root=tmp_path)._seed_table() is moved
    (copy / "seeds.parquet").write_bytes((copy / "seeds.parquet").read_bytes())  # new ctime
    assert TableBenchmark("nb201", root=tmp_path)._seed_table() is not moved
    _integrity.forget()


def test_reseed_restarts_the_draws(installed_home):
    bench = TableBenchmark("nb201", seed=3)
    first = [bench.query(5, "cifar10", "valid_acc", seed="sample").seed for _ in range(30)]
    bench.reseed(3)
    assert [bench.query(5, "cifar10", "valid_acc", seed="sample").seed for _ in range(30)] == first


def test_query_many_missing_seed_is_nan(nb201):
    counts = nb201.query_many(np.arange(15625), "cifar10", "valid_acc", seed=2)
    two_seed = np.isnan(counts.values)
    assert 0 < two_seed.sum() < 15625
    assert np.isnan(counts.cost[two_seed]).all()
    with pytest.raises(FidelityError, match=r"recorded seeds: 0, 1$"):
        nb201.query(int(np.flatnonzero(two_seed)[0]), "cifar10", "valid_acc", seed=2)


def test_pickle_reopens_and_keeps_the_generator(nb201):
    copy = pickle.loads(pickle.dumps(nb201))
    assert copy.query(3, "cifar10", "valid_acc", seed="sample") == nb201.query(
        3, "cifar10", "valid_acc", seed="sample"
    )


# ---------------------------------------------------------------------- epochs and costs
def test_12_epoch_cifar10_test_curve(nb201, reference_dir):
    curves = np.load(reference_dir / "nb201/nb201_cifar10_test_acc_hp12_perepoch_mpp.npy")
    for arch in (0, 5, 15624):
        got = [
            nb201.query(arch, "cifar10", "test_acc", epoch=e, schedule=12).value for e in range(12)
        ]
        np.testing.assert_allclose(got, curves[:, arch] * 100, atol=1e-9)
        end = nb201.query(arch, "cifar10", "test_acc", schedule=12)
        assert (end.epoch, end.schedule, end.value) == (11, 12, pytest.approx(got[-1]))


def test_200_epoch_curves_end_on_the_final_values(nb201):
    for arch in (0, 100, 199):
        last = nb201.query(arch, "cifar10", ["train_acc", "valid_acc"], epoch=199)
        final = nb201.query(arch, "cifar10", ["train_acc", "valid_acc"])
        assert last.metrics == pytest.approx(final.metrics)
        assert (last.epoch, last.schedule) == (199, 200)
    with pytest.raises(FidelityError, match="archs 0-199 only"):
        nb201.query(200, "cifar10", "valid_acc", epoch=10)


def test_cost_semantics(nb201, micro):
    time = nb201.query(42, "cifar10", "train_time_s").value
    assert nb201.query(42, "cifar10", "valid_acc").cost == time
    assert nb201.query(42, "cifar10", "test_acc", epoch=4, schedule=12).cost == pytest.approx(
        time * 5 / 200
    )
    assert nb201.query(42, "cifar10", "test_acc", schedule=12).cost == pytest.approx(
        time * 12 / 200
    )
    assert nb201.query(42, "cifar10", "valid_acc", epoch=99).cost == pytest.approx(time / 2)
    tnb = micro.query(9, "jigsaw", ["valid_top1", "train_time_s"])
    assert tnb.cost == tnb["train_time_s"] > 0
    assert tnb.schedule == micro.task_info("jigsaw").epochs == 10
    costs = nb201.query_many(np.arange(15625), "ImageNet16-120", "valid_acc").cost
    assert np.isfinite(costs).all() and (costs > 0).all()


def test_opening_and_querying_never_import_pandas_or_scipy(installed_home, fresh_python):
    code = (
        "import sys, benchsim\n"
        "b = benchsim.benchmark('nb201', install=False)\n"
        "b.query(1, 'cifar10'); b.query_many([1, 2], 'cifar100')\n"
        "b.query(1, 'cifar10', seed='sample')\n"
        "b.query(1, 'cifar10', 'test_acc', epoch=2, schedule=12)\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
        "assert 'scipy.stats' not in sys.modules, 'scipy.stats imported'\n"
    )
    env = {**os.environ, "BENCHSIM_HOME": str(installed_home), "PYTHONPATH": str(ROOT)}
    fresh_python(code, env=env)  # its asserts fail the child, and so this test


def test_benchsim_benchmark_entry_point(installed_home):
    bench = benchsim.benchmark("tnb101-macro")
    assert isinstance(bench, TableBenchmark)
    assert bench.traits.simulated_time and bench.traits.free_test_lookups
    assert bench.provenance()["tables"]


def test_op_indices_as_a_list_or_tuple_and_never_guessed(nb201):
    """The README promised op_indices in the API; a list used to be refused."""
    from benchsim.errors import InvalidArchitectureError

    listed = nb201.query([2, 2, 2, 0, 2, 2], "cifar10")
    assert (
        listed == nb201.query((2, 2, 2, 0, 2, 2), "cifar10") == nb201.query("op:222022", "cifar10")
    )
    batch = nb201.query_many([(2, 2, 2, 0, 2, 2), "op:000000", 7], "cifar10")
    assert batch.values[0] == listed.value and batch.values[2] == nb201.query(7, "cifar10").value
    with pytest.raises(InvalidArchitectureError, match="zero-padded"):
        nb201.query("000001", "cifar10")  # once silently op_indices, arch 7893
