"""JT-S and JT-D, EMT-NAS's joint-training baselines: their jobs, fitness and results."""

from __future__ import annotations

import numpy as np
import pytest

from benchsim.algorithms import (
    FINISHED,
    JointTrainPass,
    Outcome,
    Problem,
    SampledEval,
    TaskSpec,
    TrainPass,
    create,
)
from benchsim.algorithms.jointtraining import JTD, JTS
from benchsim.backends import benchmark
from benchsim.errors import ConfigError
from benchsim.runner import Budget, RunConfig, execute_run
from benchsim.runner._search import Trajectory, run_search
from benchsim.runner._trajectory import TRAINING_KINDS
from benchsim.spaces import get_space
from benchsim.sweep import joint_incumbents
from benchsim.sweep._store import run_parts

TASKS = ("a", "b")


def make(cls, seed: int = 0, tasks=TASKS, **params):
    searcher = cls(**params)
    problem = Problem(get_space("nb201"), tuple(TaskSpec(t, "valid_acc", 200) for t in tasks))
    searcher.setup(problem, np.random.default_rng(seed))
    return searcher


def synthetic(seed: int = 0):
    """An executor: a true accuracy per (task, arch), noisy mini-batches, exact full splits."""
    size = get_space("nb201").size
    true = np.random.default_rng(seed).uniform(40, 95, size=(len(TASKS), size))
    rng = np.random.default_rng(seed + 1)
    jobs = []

    def execute(job):
        jobs.append(job)
        if isinstance(job, (TrainPass, JointTrainPass)):
            return Outcome(np.empty(0), 1.0)
        values = true[TASKS.index(job.task), np.asarray(job.archs)]
        if not job.full:
            values = values + rng.normal(0, 2.0, values.size)
        return Outcome(values, float(values.size))

    return execute, jobs, true


def answer(searcher, job, values=None):
    """Tell ``job`` an outcome (``values``: one per architecture; none for a pass)."""
    values = np.empty(0) if values is None else np.asarray(values, dtype=np.float64)
    searcher.tell(job, Outcome(values, 1.0))


# ---------------------------------------------------------------------- JT-D
def test_jt_d_trains_every_task_in_one_joint_pass_then_scores_each_on_its_own():
    s = make(JTD, generations=5, population_size=4)
    assert s.rmp == 0.0 and s.config()["rmp"] == 0.0  # no cross-task transfer by default
    job = s.ask()
    assert isinstance(job, JointTrainPass) and job.tasks == TASKS
    assert job.archs == tuple(tuple(s.population_[row].tolist()) for row in range(2))
    assert job.weights is None and job.planned_passes == 5
    assert s.ask() is None  # nothing else until the pass is told
    answer(s, job)
    first, second = s.ask(), s.ask()
    assert (first.task, second.task) == TASKS and not first.full
    assert first.archs == job.archs[0] and second.archs == job.archs[1]
    answer(s, first, np.arange(4.0))
    answer(s, second, np.arange(4.0) + 10)
    np.testing.assert_array_equal(s.fitness_[1, s.population_[1]], np.arange(4.0) + 10)
    nxt = s.ask()  # generation 2: one joint pass over parents and offspring, tournament weights
    assert isinstance(nxt, JointTrainPass) and len(nxt.archs[0]) == 8
    assert nxt.weights is not None and len(nxt.weights[1]) == 8
    np.testing.assert_allclose([sum(w) for w in nxt.weights], 1.0)


def test_jt_d_runs_to_the_end_with_one_joint_pass_per_generation():
    execute, jobs, true = synthetic()
    s = make(JTD, generations=6, population_size=5)
    run_search(s, execute, Budget(), 1, Trajectory())
    assert s.ask() == FINISHED
    passes = [j for j in jobs if isinstance(j, JointTrainPass)]
    assert len(passes) == 6 and not any(isinstance(j, TrainPass) for j in jobs)
    full = [j for j in jobs if isinstance(j, SampledEval) and j.full]
    assert len(full) == 2 * 5
    for task in TASKS:  # per-task architectures, each the best fully evaluated on its task
        _, value = s.recommend(task)
        assert value == max(true[TASKS.index(task), j.archs[0]] for j in full if j.task == task)


# ---------------------------------------------------------------------- JT-S
def test_jt_s_one_population_trained_and_scored_on_every_task_with_the_mean_as_fitness():
    s = make(JTS, generations=5, population_size=4)
    assert s.population_.shape == (1, 4) and s.groups_ == (TASKS,)
    job = s.ask()
    population = tuple(s.population_[0].tolist())
    assert isinstance(job, JointTrainPass) and job.archs == (population, population)
    answer(s, job)
    first, second = s.ask(), s.ask()
    assert (first.task, second.task) == TASKS and first.archs == second.archs == population
    answer(s, first, [10.0, 20.0, 30.0, 40.0])
    assert np.isnan(s.fitness_[0, list(population)]).all()  # waits for every task's sample
    answer(s, second, [30.0, 40.0, 50.0, 60.0])
    np.testing.assert_array_equal(s.fitness_[0, list(population)], [20.0, 30.0, 40.0, 50.0])
    nxt = s.ask()
    assert isinstance(nxt, JointTrainPass) and nxt.archs[0] == nxt.archs[1]
    assert nxt.weights[0] == nxt.weights[1]


def test_jt_s_returns_one_architecture_for_every_task_the_best_by_the_mean():
    execute, jobs, true = synthetic(seed=3)
    s = make(JTS, generations=8, population_size=5)
    trajectory = Trajectory()
    run_search(s, execute, Budget(), 1, trajectory)
    full = [j for j in jobs if isinstance(j, SampledEval) and j.full]
    assert [j.task for j in full] == list(TASKS) * 7  # every generation's best, on every task
    evaluated = {j.archs[0] for j in full}
    best = max(evaluated, key=lambda a: true[:, a].mean())  # first on ties is irrelevant here
    (arch_a, value_a), (arch_b, value_b) = s.recommend("a"), s.recommend("b")
    assert arch_a == arch_b == best
    assert (value_a, value_b) == (true[0, best], true[1, best])  # each task's own value
    column = {name: np.asarray(trajectory.column(name)) for name in ("task", "kind", "arch")}
    values = np.asarray(trajectory.column("value"))
    joint = joint_incumbents(
        np.asarray(column["task"]), np.asarray(column["kind"]), column["arch"], values,
        values, list(TASKS),
    )  # fmt: skip
    assert joint["a"][0][-1] == joint["b"][0][-1] == best  # the store's rule agrees


def test_jt_s_has_no_task_to_mate_with():
    with pytest.raises(ConfigError) as excinfo:
        create("jt-s", "nb201", {"rmp": 0.3})
    assert "rmp == 0.3 for jt-s, must be 0" in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert create("jt-d", "nb201", {"rmp": 0.3}).rmp == 0.3  # an ablation, allowed


def test_jt_s_and_jt_d_take_emtnas_settings():
    for name in ("jt-s", "jt-d"):
        config = create(name, "nb201").config()
        emt = create("emtnas", "nb201").config()
        assert {k: v for k, v in config.items() if k != "rmp"} == {
            k: v for k, v in emt.items() if k != "rmp"
        }
        assert create(name, "tnb101-micro").generations == 100


# ---------------------------------------------------------------------- on the table
def test_on_the_table_jt_d_is_emtnas_without_transfer(installed_home):
    """The emulation models no joint-training effect: JT-D's estimates and clock are those of
    EMT-NAS with rmp = 0; only the training jobs differ (one joint pass per generation)."""
    joint = execute_run(RunConfig(algo="jt-d", seed=4, params={"generations": 12}))
    apart = execute_run(RunConfig(algo="emtnas", seed=4, params={"generations": 12, "rmp": 0.0}))
    # text columns as strings: pandas makes the tables' dictionary columns categoricals,
    # and two categoricals with different categories (joint_pass, train_pass) never equal
    a, b = (
        output.trajectory.to_pandas().astype({"task": str, "kind": str, "source": str})
        for output in (joint, apart)
    )
    assert set(a["kind"]) - {"sampled_eval", "full_eval"} == {"joint_pass"}
    assert set(b["kind"]) - {"sampled_eval", "full_eval"} == {"train_pass"}
    rows = ["task", "kind", "arch", "value", "source"]
    answered_a = a[~a["kind"].isin(TRAINING_KINDS)].reset_index(drop=True)
    answered_b = b[~b["kind"].isin(TRAINING_KINDS)].reset_index(drop=True)
    assert answered_a[rows].equals(answered_b[rows])
    np.testing.assert_allclose(answered_a["end_time"], answered_b["end_time"])
    passes = a[a["kind"] == "joint_pass"]
    assert len(passes) == 2 * 12 and set(passes["task"]) == {"cifar10", "cifar100"}
    notes = joint.result["answers"]["weight_sharing"]["tasks"]["cifar100"]["joint"]
    assert notes["tasks"] == ["cifar10", "cifar100"] and notes["joint_passes"] == 12
    assert "no joint-training effect" in notes["note"]


def test_on_the_table_jt_s_returns_one_architecture_with_each_tasks_test_metric(
    installed_home, tmp_path
):
    out = execute_run(RunConfig(algo="jt-s", seed=2, params={"generations": 12}), tmp_path)
    rows = out.result["tasks"]
    arch = rows["cifar10"]["arch"]
    assert rows["cifar100"]["arch"] == arch and out.config["resolved"]["shared_architecture"]
    bench = benchmark("nb201")
    for task, row in rows.items():
        assert row["test_metric"] == bench.query(arch, task, "test_acc").value
        # 12 passes: a supernet far from trained (its answers modelled along the curve)
        assert row["search_metric_source"] == "modelled:oneshot-partly-trained"
        assert row["evaluations"] == 20 + 11 * 20 + 11  # samples, offspring, line 12
    parts = run_parts(tmp_path, "r", out.config, out.trajectory)
    for task, part in parts.items():  # the results store's incumbent is the returned one
        assert part.column("incumbent_arch").to_pylist()[-1] == arch
        assert part.column("incumbent_test_value").to_pylist()[-1] == rows[task]["test_metric"]
