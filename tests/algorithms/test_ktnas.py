"""KTNAS: node2vec embeddings, the predictor, transfer rank, and runs on the real tables."""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import pytest
from scipy.stats import spearmanr

import benchsim
from benchsim.algorithms import (
    Evaluate,
    Outcome,
    Problem,
    SampledEval,
    TaskSpec,
    TrainPass,
    _embedding,
)
from benchsim.algorithms._embedding import EmbeddingSettings, architecture_embeddings, union_graph
from benchsim.algorithms._predictor import RidgePredictor, transfer_votes, unit_rows
from benchsim.algorithms.emtnas import EMTNAS, Brood
from benchsim.algorithms.ktnas import KTNAS
from benchsim.errors import ConfigError
from benchsim.runner import Budget, RunConfig, execute_run
from benchsim.runner._search import Trajectory, run_search
from benchsim.spaces import get_space

SMALL = EmbeddingSettings(dimensions=8, walk_length=8, num_walks=5, window=3)
SMALL_PARAMS = {"embedding_dim": 8, "walk_length": 8, "num_walks": 5, "walk_window": 3}


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    """A fresh ``$BENCHSIM_HOME`` and an empty in-memory embedding cache."""
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path))
    monkeypatch.setattr(_embedding, "_MEMORY", {})
    return tmp_path


def make(cls=KTNAS, space="tnb101-micro", seed=0, **params):
    searcher = cls(**{**(SMALL_PARAMS if cls is KTNAS else {}), **params})
    tasks = tuple(TaskSpec(t, "valid_top1", 25) for t in ("a", "b"))
    searcher.setup(Problem(get_space(space), tasks), np.random.default_rng(seed))
    return searcher


def synthetic(size, seed=0):
    true = np.random.default_rng(seed).uniform(30, 70, size=(2, size))
    rng = np.random.default_rng(seed + 1)
    jobs = []

    def execute(job):
        jobs.append(job)
        row = "ab".index(job.task)
        if isinstance(job, TrainPass):
            return Outcome(np.empty(0), 1.0)
        archs = np.array([job.arch] if isinstance(job, Evaluate) else job.archs)
        noise = (
            rng.normal(0, 1.5, archs.size) if isinstance(job, SampledEval) and not job.full else 0.0
        )
        return Outcome(true[row, archs] + noise, 1.0)

    return execute, jobs


# ---------------------------------------------------------------------- embeddings
def test_union_graph_has_one_token_per_edge_and_op():
    graph, names, members = union_graph(get_space("nb201"))
    assert len(names) == 6 * 5 and members.shape == (15625, 6) and (members >= 0).all()
    assert all(f"op:{op}" in graph for op in get_space("nb201").ops)
    none_token = next(n for n in names if n.endswith(":none"))
    assert sorted(graph.neighbors(none_token)) == sorted(["n:" + none_token[2], "op:none"])
    _, _, macro = union_graph(get_space("tnb101-macro"))
    assert macro.shape == (3256, 6) and (macro[:, :4] >= 0).all() and (macro == -1).any()


def test_embeddings_shape_determinism_and_cache(cache_home):
    space = get_space("tnb101-micro")
    py_state, np_state = random.getstate(), np.random.get_state()[1].copy()
    table = architecture_embeddings(space, SMALL)
    assert random.getstate() == py_state  # node2vec's global seeding was undone
    assert (np.random.get_state()[1] == np_state).all()
    assert table.shape == (space.size, 8) and np.isfinite(table).all()
    np.testing.assert_allclose(table.mean(axis=0), 0, atol=1e-5)
    files = list((cache_home / "cache" / "ktnas").glob("tnb101-micro-*.npy"))
    assert len(files) == 1
    _embedding._MEMORY.clear()
    np.testing.assert_array_equal(architecture_embeddings(space, SMALL), table)  # from disk
    files[0].unlink()
    _embedding._MEMORY.clear()
    np.testing.assert_array_equal(architecture_embeddings(space, SMALL), table)  # recomputed
    other = architecture_embeddings(space, EmbeddingSettings(**{**SMALL.__dict__, "seed": 1}))
    assert not np.array_equal(other, table)
    # Distinct architectures get distinct vectors.
    assert len(np.unique(table.round(5), axis=0)) == space.size


def test_embeddings_do_not_depend_on_the_process(cache_home, fresh_python):
    code = (
        "import numpy as np; from benchsim.spaces import get_space; "
        "from benchsim.algorithms._embedding import architecture_embeddings, EmbeddingSettings; "
        "t = architecture_embeddings(get_space('tnb101-micro'), EmbeddingSettings(dimensions=8, "
        "walk_length=8, num_walks=5, window=3)); print(repr(float(np.abs(t).sum())))"
    )
    sums = []
    for hash_seed in ("1", "2"):
        home = str(cache_home / hash_seed)
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "BENCHSIM_HOME": home}
        sums.append(fresh_python(code, env=env).strip())
    assert sums[0] == sums[1]


# ---------------------------------------------------------------------- predictor, transfer rank
def test_ridge_recovers_a_linear_function():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = x @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 7.0
    model = RidgePredictor(alpha=1e-6).fit(x, y)
    np.testing.assert_allclose(model.predict(x), y, atol=1e-4)
    assert not RidgePredictor(1.0).fit(x[:0], y[:0]).fitted


def test_predictor_ranks_held_out_nb201_architectures(installed_home):
    bench = benchsim.benchmark("nb201")
    table = architecture_embeddings(bench.space, EmbeddingSettings())
    valid = bench.query_many(np.arange(bench.space.size), "cifar10", "valid_acc").values
    order = np.random.default_rng(0).permutation(bench.space.size)
    train, test = order[:200], order[200:3200]
    model = RidgePredictor(1.0).fit(table[train], valid[train])
    rho = spearmanr(model.predict(table[test]), valid[test]).statistic
    assert rho > 0.3


def test_transfer_votes_admit_neighbours_of_good_instances():
    good_cluster = unit_rows(np.array([[1.0, 0.1], [1.0, -0.1], [0.9, 0.0]]))
    bad_cluster = unit_rows(np.array([[-1.0, 0.1], [-1.0, -0.1]]))
    instances = np.vstack([good_cluster, bad_cluster])
    labels = np.array([True, True, True, False, False])
    candidates = unit_rows(np.array([[1.0, 0.05], [-1.0, 0.0]]))
    np.testing.assert_array_equal(transfer_votes(candidates, instances, labels, 2), [1.0, 0.0])
    assert transfer_votes(candidates, instances, labels, 99).tolist() == [0.6, 0.6]
    assert transfer_votes(candidates, instances[:0], labels[:0], 3).tolist() == [1.0, 1.0]


def _brood(s, cross_children):
    """Children of four cross-task pairs: target task 0, home parents = task 0's first four."""
    home = s.population_[0, :4].repeat(2)[:8]
    return Brood(
        arch=np.asarray(cross_children, dtype=np.int64),
        tau=np.zeros(8, dtype=np.int64),
        cross_task=np.ones(8, dtype=bool),
        home=home,
    )


@pytest.mark.parametrize("good", [True, False])
def test_transfer_rank_admits_or_replaces_cross_task_children(good, cache_home):
    s = make(mutation_prob=0.0, transfer_k=1)
    space = s.problem_.space
    children = space.sample(np.random.default_rng(9), 8)
    # The target task has evaluated the children themselves (each is its own nearest
    # neighbour, k = 1) and another set; the children are labelled top half (good=True) or
    # bottom half (good=False) of what it has seen.
    others = np.setdiff1d(space.sample(np.random.default_rng(10), 8), children)
    s.samples_[0, :] = 0
    s.samples_[0, children] = 1
    s.samples_[0, others] = 1
    s.fitness_[0, children] = 90.0 if good else 10.0
    s.fitness_[0, others] = 50.0
    brood = s._screen(_brood(s, children))
    if good:
        np.testing.assert_array_equal(brood.arch, children)
        assert s.transfers_[0].tolist() == [8, 0]
    else:  # each replaced by a mutation (p_m = 0: a copy) of its same-task parent
        np.testing.assert_array_equal(brood.arch, brood.home)
        assert s.transfers_[0].tolist() == [0, 8]


def test_same_task_children_are_never_screened(cache_home):
    s = make()
    brood = _brood(s, s.population_[1, :8])
    brood.cross_task[:] = False
    assert s._screen(brood) is brood


def test_mate_choice_takes_the_best_predicted_source_individual(cache_home):
    s = make(mate_candidates=20, population_size=20)
    k = 20
    # Task a's predictor rates architectures by their first embedding coordinate.
    s.predictors_[0].coef_ = np.eye(s.embedding_.shape[1])[0]
    s.predictors_[0].intercept_ = 0.0
    p1 = np.zeros(50, dtype=np.int64)  # task a
    p2 = np.full(50, k, dtype=np.int64)  # task b, position 0
    mates = s._choose_mates(p1, p2, np.ones(50, dtype=bool))
    assert (mates // k == 1).all()  # the mate stays in the source task
    score = s.embedding_[s.population_.ravel()[mates], 0]
    assert (score >= s.embedding_[s.population_[1, 0], 0]).all()
    assert score.mean() > np.median(s.embedding_[s.population_[1], 0])
    untouched = s._choose_mates(p1, p2, np.zeros(50, dtype=bool))
    np.testing.assert_array_equal(untouched, p2)


def test_without_its_additions_ktnas_is_emtnas(cache_home):
    def jobs_of(cls, **params):
        s = make(cls, seed=4, generations=6, population_size=8, rmp=0.5, **params)
        execute, jobs = synthetic(s.problem_.space.size)
        run_search(s, execute, Budget(), 1, Trajectory())
        return jobs

    plain = jobs_of(EMTNAS)
    assert jobs_of(KTNAS, mate_candidates=1, admit_threshold=0.0) == plain
    assert jobs_of(KTNAS) != plain
    assert jobs_of(KTNAS) == jobs_of(KTNAS)  # same seed, same jobs


@pytest.mark.parametrize(
    "params",
    [
        {"embedding_dim": 0},
        {"walk_length": 1},
        {"num_walks": 2.5},
        {"walk_p": 0},
        {"walk_q": -1.0},
        {"ridge_alpha": 0.0},
        {"mate_candidates": 0},
        {"transfer_k": 0},
        {"rank_quantile": 1.5},
        {"admit_threshold": -0.1},
        {"embedding_seed": -1},
        {"rmp": 2.0},
    ],
)
def test_bad_hyperparameters_raise_config_error(params):
    key = next(iter(params))
    with pytest.raises(ConfigError, match=key):
        KTNAS(**params)


# ---------------------------------------------------------------------- on the real tables
def test_run_on_nb201_beats_the_median_architecture(installed_home):
    bench = benchsim.benchmark("nb201")
    # 150 passes: enough training for the emulated supernet to rank (10 would leave it untrained)
    out = execute_run(RunConfig(algo="ktnas", seed=0, params={"generations": 150}))
    options = {"weight_sharing": "standalone-upper-bound"}
    bound = execute_run(
        RunConfig(algo="ktnas", seed=0, params={"generations": 10}, backend_options=options)
    )
    for task, info in out.result["tasks"].items():
        all_test = bench.query_many(np.arange(bench.space.size), task, "test_acc").values
        assert info["test_metric"] > np.median(all_test)
        assert bound.result["tasks"][task]["test_metric"] >= np.percentile(all_test, 90)
    assert out.config["params"]["embedding_dim"] == 32


def test_run_on_tnb101_micro_and_resume(installed_home, tmp_path):
    config = RunConfig(algo="ktnas", benchmark="tnb101-micro", seed=2, params={"generations": 4})
    out = execute_run(config)
    assert set(out.result["tasks"]) == {"class_object", "class_scene"}
    assert all(t["test_metric"] is not None for t in out.result["tasks"].values())
    with pytest.raises(benchsim.errors.BenchsimError):
        execute_run(config, tmp_path / "run", stop_after=9)
    resumed = execute_run(config, tmp_path / "run", resume=True)
    assert resumed.result["tasks"] == out.result["tasks"]


def test_without_node2vec_an_uncached_run_is_refused_before_its_folder(
    installed_home, tmp_path, monkeypatch
):
    """node2vec missing (``None`` in sys.modules makes it unimportable here) used to be found
    at set-up, after config.json was written; an embedding cached already needs no node2vec."""
    monkeypatch.setitem(sys.modules, "node2vec", None)
    params = {**SMALL_PARAMS, "embedding_seed": 4321, "generations": 2}  # cached nowhere
    config = RunConfig(algo="ktnas", benchmark="tnb101-micro", params=params)
    with pytest.raises(ConfigError, match=r"node2vec package: pip install 'benchsim\[embed\]'"):
        execute_run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    cached = {**params, "embedding_seed": 0}
    monkeypatch.delitem(sys.modules, "node2vec")
    execute_run(RunConfig(algo="ktnas", benchmark="tnb101-micro", params=cached))  # computes it
    monkeypatch.setitem(sys.modules, "node2vec", None)
    execute_run(RunConfig(algo="ktnas", benchmark="tnb101-micro", params=cached), tmp_path / "ok")
    assert (tmp_path / "ok" / "result.json").is_file()
