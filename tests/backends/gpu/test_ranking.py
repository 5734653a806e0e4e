"""The ranking check against the tabular benchmark: fixed sample, table reference, errors."""

from __future__ import annotations

import numpy as np
import pytest

import benchsim
from benchsim.backends.gpu import ranking_sample
from benchsim.errors import ConfigError
from benchsim.spaces import get_space


def test_ranking_sample_is_fixed_and_functionally_distinct():
    space = get_space("nb201")
    first = ranking_sample(space, 100)
    assert np.array_equal(first, ranking_sample(space, 100))
    assert first.shape == (100,) and np.all(np.diff(first) > 0)
    classes = space.isomorphism_classes()
    assert np.unique(classes[first]).size == 100  # no two cells compute the same function
    assert not np.array_equal(first, ranking_sample(space, 100, seed=7))


def test_ranking_sample_without_isomorphism_classes_uses_all_indices():
    space = get_space("tnb101-micro")
    sample = ranking_sample(space, 50)
    assert sample.size == 50 and sample.max() < space.size


@pytest.mark.parametrize("n", [1, 0, 2.5, True, 6467])
def test_ranking_sample_rejects_bad_sizes(n, one_line):
    with pytest.raises(ConfigError) as excinfo:
        ranking_sample(get_space("nb201"), n)
    assert f"n == {n!r}" in one_line(excinfo)


def test_table_kendall_tau_reads_the_table(installed_home, make_bench):
    bench = make_bench(datasets=("synthetic-shapes",))
    table = benchsim.benchmark("nb201")
    archs = ranking_sample(bench.space, 12)
    for _ in range(2):
        bench.weight_sharing.train_pass(
            "synthetic-shapes", bench.space.enumerate(), rng=np.random.default_rng(0)
        )
    check = bench.table_kendall_tau(archs, "synthetic-shapes", table_task="cifar10", table=table)
    expected = [table.query(int(a), "cifar10", "valid_acc").value for a in archs]
    assert np.array_equal(check.reference, expected)
    assert check.estimates.tolist() == [
        bench.split_accuracy(int(a), "synthetic-shapes") for a in archs
    ]
    assert -1.0 <= check.tau <= 1.0
    alias = bench.table_kendall_tau(archs, "synthetic-shapes", table_task="CIFAR-10", table=table)
    assert alias.tau == check.tau  # the task alias resolved in the table


def test_table_kendall_tau_errors(installed_home, make_bench, one_line):
    bench = make_bench(datasets=("synthetic-shapes",))
    with pytest.raises(ConfigError) as excinfo:
        bench.table_kendall_tau([0, 1, 2], "synthetic-shapes", table=benchsim.benchmark("nb201"))
    message = one_line(excinfo)
    assert "'synthetic-shapes' has no counterpart" in message and "cifar100" in message
    with pytest.raises(ConfigError) as excinfo:
        bench.table_kendall_tau(
            [0, 1], "synthetic-shapes", table_task="class_scene",
            table=benchsim.benchmark("tnb101-micro"),
        )  # fmt: skip
    assert "differs from the supernet's 'nb201'" in one_line(excinfo)
