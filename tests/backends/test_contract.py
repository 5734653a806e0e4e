"""The contract of ``benchsim.backends.base``, checked on every registered backend.

Parametrised over (backend, benchmark) cases: every table benchmark, and the live backend in
smoke mode on the CPU (tiny supernets on the built-in synthetic datasets), so a new backend or
benchmark is tested by being added to :data:`CASES`; nothing here knows how a backend answers.
The lookup-specific promises (vectorised answers equal single ones, recorded seeds drawn
reproducibly) are checked on the tabular cases, where answers do not depend on training state.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import benchsim
from benchsim.algorithms import TaskDistance
from benchsim.backends import BACKENDS, BatchResult, Benchmark, Protocol, Result, backend_info
from benchsim.backends.task_distances import TaskDistances
from benchsim.backends.weight_sharing import WeightSharing
from benchsim.catalog import CATALOG, SEED_METRICS
from benchsim.errors import (
    BackendError,
    ConfigError,
    FidelityError,
    InvalidArchitectureError,
    UnknownMetricError,
    UnknownTaskError,
)
from benchsim.runner._execute import JobExecutor, capabilities

LIVE_SMOKE = {"device": "cpu", "smoke": True}
CASES = [
    *(("table", name, {}) for name in CATALOG),
    ("gpu", "nb201", LIVE_SMOKE),
    ("gpu", "tnb101-micro", LIVE_SMOKE),
]
TABULAR = [case for case in CASES if case[0] == "table"]


def _open(case, seed=0) -> Benchmark:
    backend, name, options = case
    return benchsim.benchmark(name, backend=backend, seed=seed, **options)


@pytest.fixture(scope="module", params=CASES, ids=[f"{b}-{n}" for b, n, _ in CASES])
def bench(request, installed_home) -> Benchmark:
    return _open(request.param)


@pytest.fixture(scope="module", params=TABULAR, ids=[f"{b}-{n}" for b, n, _ in TABULAR])
def table(request, installed_home) -> Benchmark:
    return _open(request.param)


def test_every_registered_backend_has_a_case():
    assert {backend for backend, _, _ in CASES} == set(BACKENDS.names())


def test_traits_are_what_the_backend_registered(bench):
    traits = bench.traits
    assert traits.gpus_per_run == 0 and traits.device_slots is None  # CPU or tables: no GPU
    assert traits == backend_info(bench.backend).traits  # declared once, where it registers
    json.dumps(bench.provenance(), default=str)
    protocol = bench.evaluation_protocol(bench.tasks[0])
    assert isinstance(protocol, Protocol) and protocol.note and protocol.source
    assert protocol.metric == bench.task_info(bench.tasks[0]).search_metric


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


def test_query_many_agrees_with_query(table):
    bench = table
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


def test_string_form_equals_index(table):
    bench = table
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


@pytest.mark.parametrize("case", TABULAR, ids=[f"{b}-{n}" for b, n, _ in TABULAR])
def test_sampled_seeds_are_reproducible_or_refused(case, installed_home):
    """Where seeds are recorded, seed='sample' draws them reproducibly from the benchmark's
    seed (and another seed draws otherwise); where none are, it is refused by name."""
    first = _open(case, seed=11)
    task = first.tasks[0]
    metric = first.task_info(task).search_metric
    if metric in SEED_METRICS[case[1]].get(task, ()):
        draws = [first.query(a, task, seed="sample").seed for a in range(200)]
        again = _open(case, seed=11)
        assert [again.query(a, task, seed="sample").seed for a in range(200)] == draws
        other = _open(case, seed=12)
        assert [other.query(a, task, seed="sample").seed for a in range(200)] != draws
        assert len(set(draws)) > 1
    else:
        with pytest.raises(FidelityError, match=f"metric '{metric}' has no per-seed values"):
            first.query(3, task, seed="sample")


@pytest.mark.parametrize("case", TABULAR, ids=[f"{b}-{n}" for b, n, _ in TABULAR])
@pytest.mark.parametrize("seed", [None, "sample", 1])
def test_evaluator_answers_and_draws_as_query_does(case, seed, installed_home):
    """``evaluator(task, metric, seed=...)`` gives each query's (value, cost), and with
    seed='sample' draws the same recorded seeds in the same order as query would."""
    by_query, by_evaluator = _open(case, seed=5), _open(case, seed=5)
    archs = np.random.default_rng(2).integers(by_query.space.size, size=300).tolist()
    for task in by_query.tasks[:2]:
        metric = by_query.task_info(task).search_metric
        try:
            expected = [by_query.query(a, task, metric, seed=seed) for a in archs]
        except FidelityError as err:  # not recorded per seed here: the evaluator says so too
            answer = by_evaluator.evaluator(task, metric, seed=seed)
            with pytest.raises(FidelityError, match=str(err).split(";")[0][:40]):
                [answer(a) for a in archs]
            continue
        answer = by_evaluator.evaluator(task, metric, seed=seed)
        assert [answer(a) for a in archs] == [(r[metric], r.cost) for r in expected]
        if seed != "sample":  # any architecture form query takes
            assert answer(by_query.space.format(archs[0])) == answer(archs[0])


@pytest.mark.parametrize("case", TABULAR, ids=[f"{b}-{n}" for b, n, _ in TABULAR])
@pytest.mark.parametrize("seed", [None, "sample", 1])
def test_batch_evaluator_answers_and_draws_as_the_evaluator_does(case, seed, installed_home):
    """``batch_evaluator`` in batches of any size gives the evaluator's (value, cost) of each
    architecture, and with seed='sample' draws the same recorded seeds in the same order."""
    one_by_one, batched = _open(case, seed=5), _open(case, seed=5)
    archs = np.random.default_rng(2).integers(batched.space.size, size=300)
    for task in batched.tasks[:2]:
        metric = batched.task_info(task).search_metric
        answer = one_by_one.evaluator(task, metric, seed=seed)
        try:
            expected = [answer(a) for a in archs.tolist()]
        except FidelityError:  # not recorded per seed here: the batch says so too
            with pytest.raises(FidelityError):
                batched.batch_evaluator(task, metric, seed=seed)(archs)
            continue
        many = batched.batch_evaluator(task, metric, seed=seed)
        got = [many(chunk) for chunk in np.split(archs, [1, 3, 259, 260])]
        values = np.concatenate([v for v, _ in got])
        costs = np.concatenate([c for _, c in got])
        assert values.dtype == costs.dtype == np.float64
        assert list(zip(values.tolist(), costs.tolist(), strict=True)) == expected


def _with_seed_table(edit, seed=3) -> Benchmark:
    """nb201 whose (copied) per-seed table ``edit(counts, seed_times)`` changed in place."""
    import copy

    from benchsim.backends.table.benchmark import TIME

    bench = _open(("table", "nb201", {}), seed)
    seeds = copy.copy(bench._seed_table())  # the shared one is read-only
    seeds.counts = seeds.counts.copy()
    seeds.values = {**seeds.values, TIME: seeds.values[TIME].copy()}
    edit(seeds.counts, seeds.values[TIME])
    bench._seeds = seeds
    return bench


def test_a_batch_answers_unrecorded_seeds_and_times_as_the_evaluator_does(installed_home):
    """Where a drawn seed has no recorded time, the mean time, as one answer at a time gives;
    an architecture with no recorded seed at all is refused as the evaluator refuses it (not
    answered from an empty slot)."""
    archs = np.arange(100, 160, dtype=np.int64)

    def no_times(counts, times):  # cifar10 is the first task: rows 0..size-1
        times[archs[::3]] = np.nan

    def no_seeds(counts, times):
        counts[archs[7]] = 0

    one_by_one, batched = _with_seed_table(no_times), _with_seed_table(no_times)
    answer = one_by_one.evaluator("cifar10", "valid_acc", seed="sample")
    expected = [answer(a) for a in archs.tolist()]
    values, costs = batched.batch_evaluator("cifar10", "valid_acc", seed="sample")(archs)
    assert list(zip(values.tolist(), costs.tolist(), strict=True)) == expected
    mean = one_by_one.query(int(archs[0]), "cifar10", "train_time_s").value
    assert mean in costs.tolist()  # (some seeds drawn had no time)
    assert one_by_one.rng_.random() == batched.rng_.random()

    refused = _with_seed_table(no_seeds).evaluator("cifar10", "valid_acc", seed="sample")
    with pytest.raises(FidelityError, match="architecture 107 has no per-seed record") as one:
        [refused(a) for a in archs.tolist()]
    many = _with_seed_table(no_seeds).batch_evaluator("cifar10", "valid_acc", seed="sample")
    with pytest.raises(FidelityError) as batch:
        many(archs)
    assert str(batch.value) == str(one.value)


def test_runs_batch_only_where_answers_are_lookups(bench):
    """A table answers batches; a live backend trains one architecture at a time (each
    result delivered, and checkpointable, on its own)."""
    protocols = {t: bench.evaluation_protocol(t) for t in bench.tasks}
    execute = JobExecutor(bench, protocols, np.random.default_rng(0))
    many = bench.batch_evaluator(bench.tasks[0])
    assert execute.batches == bench.traits.simulated_time == (many is not None)


def test_evaluator_refuses_bad_input_in_one_line(table):
    task = table.tasks[0]
    with pytest.raises(UnknownTaskError):
        table.evaluator("no-such-task")
    with pytest.raises(UnknownMetricError):
        table.evaluator(task, "no_such_metric")
    with pytest.raises(ConfigError, match="seed == 'mean'"):
        table.evaluator(task, seed="mean")
    with pytest.raises(ConfigError, match="one metric"):
        table.evaluator(task, list(table.task_info(task).metrics)[:2])
    answer = table.evaluator(task)
    with pytest.raises(InvalidArchitectureError, match="out of range"):
        answer(table.space.size)
    with pytest.raises(UnknownTaskError):
        table.batch_evaluator("no-such-task")
    with pytest.raises(ConfigError, match="seed == 'mean'"):
        table.batch_evaluator(task, seed="mean")
    with pytest.raises(InvalidArchitectureError, match="out of range"):
        table.batch_evaluator(task)(np.array([0, table.space.size]))


def test_recorded_seeds_are_the_seeds_a_query_accepts(bench):
    """``recorded_seeds`` lists exactly the seeds ``query(..., seed=s)`` answers (none where
    only seed means exist), and validates its names like ``query``."""
    for task in bench.tasks:
        for metric in SEED_METRICS.get(bench.name, {}).get(task, ()) or (None,):
            for arch in (0, 7, bench.space.size - 1):
                seeds = bench.recorded_seeds(arch, task, metric)
                assert list(seeds) == sorted(set(seeds))
                for seed in seeds:
                    assert bench.query(arch, task, metric, seed=seed).seed == seed
                if not seeds and metric is not None:
                    with pytest.raises(FidelityError):
                        bench.query(arch, task, metric, seed=0)
    if bench.backend == "table" and bench.name == "nb201":
        assert bench.recorded_seeds(6111, "cifar10", "valid_acc") == (0, 1, 2)
        assert bench.recorded_seeds(6111, "cifar10", "test_acc") == ()  # seed means only
    with pytest.raises(UnknownMetricError):
        bench.recorded_seeds(0, bench.tasks[0], "no_such_metric")
    with pytest.raises(ConfigError, match="schedule"):
        bench.recorded_seeds(0, bench.tasks[0], schedule=0)


def test_weight_sharing_steps(bench):
    """train_pass costs time; sampled_eval answers one supernet estimate per architecture, never
    the stand-alone value; both validate their arguments in one line."""
    if bench.weight_sharing is None:
        pytest.skip(f"{bench!r} offers no weight sharing")
    task, archs = bench.tasks[0], [0, 7, 42]
    rng = np.random.default_rng(0)
    cost = bench.weight_sharing.train_pass(task, archs, rng=rng, planned_passes=10)
    assert isinstance(cost, float) and cost > 0
    batch = bench.weight_sharing.sampled_eval(task, archs, rng=rng, batch_size=64)
    assert isinstance(batch, BatchResult) and batch.values.shape == batch.cost.shape == (3,)
    assert np.isfinite(batch.values).all() and batch.source and "standalone" not in batch.source
    for call, message in (
        (
            lambda: bench.weight_sharing.train_pass(task, archs, rng=rng, planned_passes=0),
            "planned_passes == 0",
        ),
        (
            lambda: bench.weight_sharing.sampled_eval(task, archs, rng=rng, batch_size=0),
            "batch_size == 0",
        ),
        (
            lambda: bench.weight_sharing.train_pass(task, [], rng=rng),
            "train_pass got no architectures",
        ),
        (lambda: bench.weight_sharing.train_pass(task, archs, rng=rng, weights=[1, 2]), "weights"),
    ):
        with pytest.raises(ConfigError, match=message) as excinfo:
            call()
        assert "\n" not in str(excinfo.value)


def test_task_distances_are_answered_or_offered_not(bench):
    """A backend holding the tasks' data composes a task-distance component that answers
    d[source -> target] (>= 0, 0 to itself, a cost and a source), its argument errors one line;
    one that does not (a table) offers none (``bench.task_distances is None``), and the runner
    says so beforehand (``capabilities``) and refuses such a job in one line."""
    target, sources = bench.tasks[0], [*bench.tasks[1:2], bench.tasks[0]]
    kinds = capabilities(bench)
    assert "evaluate" in kinds
    assert ("task_distance" in kinds) == (bench.task_distances is not None)
    assert bench.weight_sharing is None or isinstance(bench.weight_sharing, WeightSharing)
    distances = bench.task_distances
    if distances is None:
        with pytest.raises(BackendError) as excinfo:
            JobExecutor(bench, {}, np.random.default_rng(0))(TaskDistance(target, tuple(sources)))
        assert "benchsim task-distance" in str(excinfo.value) and "\n" not in str(excinfo.value)
        return
    assert isinstance(distances, TaskDistances)
    batch = distances.task_distance(target, sources, repeats=1)
    assert batch.values.shape == batch.cost.shape == (len(sources),)
    assert (batch.values >= 0).all() and batch.values[-1] == 0.0 and batch.source
    for call, error, message in (
        (lambda: distances.task_distance(target, [], repeats=1), ConfigError, "non-empty list"),
        (lambda: distances.task_distance(target, sources, repeats=0), ConfigError, "repeats == 0"),
        (lambda: distances.task_distance("no-such-task", sources), UnknownTaskError, "no-such"),
    ):
        with pytest.raises(error, match=message) as excinfo:
            call()
        assert "\n" not in str(excinfo.value)


def test_state_round_trips(bench, installed_home, request):
    """A checkpointed state makes a fresh benchmark answer the next question as this one does."""
    if bench.weight_sharing is None:
        pytest.skip(f"{bench!r} offers no weight sharing")
    case = request.node.callspec.params["bench"]
    task, archs = bench.tasks[0], [3, 9]
    bench.weight_sharing.train_pass(task, archs, rng=np.random.default_rng(1), planned_passes=5)
    state = bench.state_dict()
    fresh = _open(case)
    fresh.load_state_dict(state)
    a = bench.weight_sharing.sampled_eval(
        task, archs, rng=np.random.default_rng(2), batch_size=None
    )
    b = fresh.weight_sharing.sampled_eval(
        task, archs, rng=np.random.default_rng(2), batch_size=None
    )
    np.testing.assert_array_equal(a.values, b.values)


def test_joint_train_pass(bench, installed_home, request):
    """A joint pass over two tasks costs time and forms one supernet they share, which a
    checkpoint keeps; malformed arguments, and tasks already trained apart, are one line."""
    if bench.weight_sharing is None:
        pytest.skip(f"{bench!r} offers no weight sharing")
    case = request.node.callspec.params["bench"]
    fresh = _open(case)
    a, b = fresh.tasks[:2]
    rng = np.random.default_rng(0)
    cost = fresh.weight_sharing.joint_train_pass(
        (a, b), [[0, 7], [42]], rng=rng, weights=[[0.3, 0.7], None], planned_passes=4
    )
    assert isinstance(cost, float) and cost > 0
    fresh.weight_sharing.joint_train_pass(
        [b, a], [[1], [2, 3]], rng=rng, planned_passes=4
    )  # the same supernet
    state = fresh.state_dict()
    again = _open(case)
    again.load_state_dict(state)
    for task in (a, b):
        one = fresh.weight_sharing.sampled_eval(
            task, [5, 9], rng=np.random.default_rng(2), batch_size=None
        )
        two = again.weight_sharing.sampled_eval(
            task, [5, 9], rng=np.random.default_rng(2), batch_size=None
        )
        np.testing.assert_array_equal(one.values, two.values)
        assert one.source and "standalone" not in one.source
    apart = _open(case)
    apart.weight_sharing.train_pass(a, [0], rng=rng)
    for call, message in (
        (
            lambda: fresh.weight_sharing.joint_train_pass([], [], rng=rng),
            "joint_train_pass got no tasks",
        ),
        (
            lambda: fresh.weight_sharing.joint_train_pass(a, [[0]], rng=rng),
            f"tasks == '{a}', must be a list",
        ),
        (
            lambda: fresh.weight_sharing.joint_train_pass([a, a], [[0], [1]], rng=rng),
            f"got task {a} twice",
        ),
        (
            lambda: fresh.weight_sharing.joint_train_pass([a, b], [[0]], rng=rng),
            "1 architecture lists for 2",
        ),
        (
            lambda: fresh.weight_sharing.joint_train_pass([a, b], [[0], []], rng=rng),
            f"no architectures for {b}",
        ),
        (
            lambda: fresh.weight_sharing.joint_train_pass(
                [a, b], [[0], [1]], rng=rng, weights=[[1, 2], None]
            ),
            f"weights of {a}",
        ),
        (
            lambda: fresh.weight_sharing.joint_train_pass(
                [a, b], [[0], [1]], rng=rng, weights=[None]
            ),
            "1 weight",
        ),
        (
            lambda: fresh.weight_sharing.joint_train_pass(
                [a, b], [[0], [1]], rng=rng, planned_passes=0
            ),
            "planned_passes == 0",
        ),
        (
            lambda: apart.weight_sharing.joint_train_pass([a, b], [[0], [1]], rng=rng),
            f"{a} was already trained in a supernet of its own",
        ),
    ):
        with pytest.raises(ConfigError, match=message) as excinfo:
            call()
        assert "\n" not in str(excinfo.value)
    with pytest.raises(UnknownTaskError):
        fresh.weight_sharing.joint_train_pass([a, "no-such-task"], [[0], [1]], rng=rng)
