"""The query contract of ``benchsim.backends.base``, checked on every built-in benchmark.

Parametrised over (backend, benchmark name) pairs, so a new backend or benchmark is tested by
adding it to :data:`CASES`; nothing here knows how a backend answers.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import benchsim
from benchsim.backends import Benchmark, Result
from benchsim.catalog import CATALOG
from benchsim.errors import FidelityError, UnknownMetricError, UnknownTaskError

CASES = [("table", name) for name in CATALOG]


@pytest.fixture(scope="module", params=CASES, ids=[f"{b}-{n}" for b, n in CASES])
def bench(request, installed_home) -> Benchmark:
    backend, name = request.param
    return benchsim.benchmark(name, backend=backend, seed=0)


def test_tasks_and_their_metrics(bench):
    assert bench.tasks and len(set(bench.tasks)) == len(bench.tasks)
    for task in bench.tasks:
        info = bench.task_info(task)
        assert info.name == task
        assert info.search_metric in info.metrics and info.test_metric in info.metrics
        assert info.search_metric.startswith("valid") and info.test_metric.startswith("test")
        assert info.epochs >= 1


def test_one_query_per_task(bench):
    rng = np.random.default_rng(0)
    for task in bench.tasks:
        arch = int(rng.integers(bench.space.size))
        result = bench.query(arch, task)
        info = bench.task_info(task)
        assert isinstance(result, Result)
        assert (result.arch, result.task) == (arch, task)
        assert list(result.metrics) == [info.search_metric]
        assert np.isfinite(result.cost) and result.cost > 0
        assert result.seed is None and result.schedule == info.epochs
        json.dumps(result.to_dict())


def test_query_many_agrees_with_query(bench):
    rng = np.random.default_rng(1)
    archs = rng.integers(0, bench.space.size, 40)
    for code, task in enumerate(bench.tasks):
        metric = bench.task_info(task).test_metric
        batch = bench.query_many(archs, task, metric)
        by_code = bench.query_many(archs, np.full(archs.shape, code), metric)
        np.testing.assert_array_equal(batch.values, by_code.values)
        singles = [bench.query(int(a), task, metric) for a in archs]
        np.testing.assert_array_equal(batch.values, [r.value for r in singles])
        np.testing.assert_array_equal(batch.cost, [r.cost for r in singles])


def test_string_form_equals_index(bench):
    for index in (0, bench.space.size // 2, bench.space.size - 1):
        text = bench.space.format(index)
        task = bench.tasks[-1]
        assert bench.query(text, task) == bench.query(index, task)


def test_every_listed_metric_is_served(bench):
    for task in bench.tasks:
        info = bench.task_info(task)
        result = bench.query(1, task, list(info.metrics))
        assert list(result.metrics) == list(info.metrics)


def test_unknown_names_raise(bench):
    with pytest.raises(UnknownTaskError, match=bench.tasks[0]):
        bench.query(0, "no-such-task")
    with pytest.raises(UnknownMetricError):
        bench.query(0, bench.tasks[0], "no_such_metric")


def test_sampled_seeds_are_reproducible(bench, installed_home):
    task = bench.tasks[0]

    def draws(seed: int) -> list:
        fresh = benchsim.benchmark(bench.name, seed=seed)
        try:
            return [fresh.query(3, task, seed="sample").value for _ in range(5)]
        except FidelityError as exc:  # a benchmark without per-seed values says so
            return [str(exc)]

    assert draws(11) == draws(11)
