"""CATCH: epsilon schedules, the context encoder (KL, product of factors, gradients), the job
sequence of meta-training then adaptation, determinism, budgets, and learning on a real table."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

import benchsim
from benchsim.algorithms import Evaluate, Outcome, Problem, TaskSpec, create
from benchsim.algorithms._context import (
    MLP,
    ContextEncoder,
    evaluator_loss_and_grads,
    kl_standard_normal,
)
from benchsim.algorithms.catch import CATCH, epsilon
from benchsim.algorithms.ppo import PPO
from benchsim.errors import ConfigError
from benchsim.runner import RunConfig, RunInterrupted, execute_run
from benchsim.spaces import SPACE_NAMES, get_space

SOURCES = ("s1", "s2")
SMALL = {"meta_queries": 6, "meta_episode": 3, "train_steps": 2}


def make(space="tnb101-micro", seed=0, target="t", sources=SOURCES, **params) -> CATCH:
    searcher = CATCH(**{**SMALL, **params})
    spec = lambda name: TaskSpec(name, "valid_acc", 200)  # noqa: E731
    problem = Problem(get_space(space), (spec(target),), tuple(map(spec, sources)))
    searcher.setup(problem, np.random.default_rng(seed))
    return searcher


def synthetic(space_name: str, tasks=("t", *SOURCES)) -> dict[str, np.ndarray]:
    """A shared ranking plus a task-specific part, on task-specific scales."""
    size = get_space(space_name).size
    rng = np.random.default_rng(7)
    shared = rng.normal(size=size)
    return {t: k * 10 + (k + 1) * (shared + rng.normal(0, 0.5, size)) for k, t in enumerate(tasks)}


def drive(searcher: CATCH, values: dict, steps: int) -> list[Evaluate]:
    jobs = []
    for _ in range(steps):
        job = searcher.ask()
        assert job is not None  # one worker: every result arrives before the next ask
        jobs.append(job)
        searcher.tell(job, Outcome(np.array([values[job.task][job.arch]]), 1.0))
    return jobs


# ---------------------------------------------------------------------- epsilon schedules
def test_epsilon_schedules_are_the_supplementarys() -> None:
    """Meta-training: 1.0, -0.025 every 4 steps; adaptation: 0.5, -0.025 every 2 steps."""
    meta = [epsilon(s, 1.0, 0.025, 4) for s in range(170)]
    assert meta[:9] == pytest.approx([1.0] * 4 + [0.975] * 4 + [0.95])
    assert meta[159] == pytest.approx(0.025) and meta[160:] == [0.0] * 10
    adapt = [epsilon(s, 0.5, 0.025, 2) for s in range(45)]
    assert adapt[:5] == pytest.approx([0.5, 0.5, 0.475, 0.475, 0.45])
    assert adapt[39] == pytest.approx(0.025) and adapt[40:] == [0.0] * 5
    for step in range(200):
        assert meta[min(step, 169)] == pytest.approx(max(0.0, 1.0 - 0.025 * (step // 4)))

    searcher = make(meta_queries=8, meta_episode=4)
    meta_settings = (searcher.epsilon_start, searcher.epsilon_decay, searcher.epsilon_every)
    assert meta_settings == (1.0, 0.025, 4)
    assert (
        searcher.adapt_epsilon_start,
        searcher.adapt_epsilon_decay,
        searcher.adapt_epsilon_every,
    ) == (0.5, 0.025, 2)
    seen = []
    values = synthetic("tnb101-micro")
    for _ in range(16 + 12):
        seen.append(searcher.current_epsilon())
        drive(searcher, values, 1)
    assert seen[:16] == pytest.approx([epsilon(s, 1.0, 0.025, 4) for s in range(16)])
    assert seen[16:] == pytest.approx([epsilon(s, 0.5, 0.025, 2) for s in range(12)])


def test_epsilon_decides_whether_the_evaluator_screens(monkeypatch) -> None:
    values = synthetic("tnb101-micro")
    never = make(epsilon_decay=0.0, adapt_epsilon_start=1.0, adapt_epsilon_decay=0.0)
    monkeypatch.setattr(never, "predict", lambda *a: pytest.fail("screened at epsilon 1"))
    drive(never, values, 20)
    always = make(epsilon_start=0.0, adapt_epsilon_start=0.0)
    calls = []
    original = always.predict
    monkeypatch.setattr(always, "predict", lambda *a: calls.append(1) or original(*a))
    drive(always, values, 20)
    assert len(calls) == 20


def test_screening_asks_the_best_predicted_new_candidate(monkeypatch) -> None:
    searcher = make(epsilon_start=0.0, adapt_epsilon_start=0.0, n_candidates=8)
    drive(searcher, synthetic("tnb101-micro"), 12 + 6)  # meta-training, then 6 target answers
    asked = set(searcher.archs_[searcher.target_])
    seen = {}
    rollouts, predict = searcher.rollouts, searcher.predict

    def spy_rollouts(n, z):
        seen["pool"] = rollouts(n, z)
        return seen["pool"]

    def spy_predict(archs, z):
        seen["archs"], seen["scores"] = archs.tolist(), predict(archs, z)
        return seen["scores"]

    monkeypatch.setattr(searcher, "rollouts", spy_rollouts)
    monkeypatch.setattr(searcher, "predict", spy_predict)
    job = searcher.ask()
    assert len(seen["pool"]) == 8
    fresh = [a for a, _ in seen["pool"] if a not in asked]
    assert fresh and seen["archs"] == fresh  # repeats are not candidates
    assert job.arch == fresh[int(np.argmax(seen["scores"]))] and job.arch not in asked


# ---------------------------------------------------------------------- context encoder
def test_kl_matches_numerical_integration() -> None:
    for mu, var in [(0.0, 1.0), (0.7, 0.3), (-1.2, 2.5)]:
        q = stats.norm(mu, math.sqrt(var))
        numeric, _ = integrate.quad(
            lambda x, q=q: q.pdf(x) * (q.logpdf(x) - stats.norm.logpdf(x)), -30, 30
        )
        assert kl_standard_normal(np.array([mu]), np.array([var])) == pytest.approx(numeric)
    mu, var = np.array([[0.5, -1.0], [0.0, 0.0]]), np.array([[0.2, 3.0], [1.0, 1.0]])
    kl = kl_standard_normal(mu, var)
    assert kl[1] == 0.0 and kl[0] == pytest.approx(
        sum(kl_standard_normal(mu[0, [d]], var[0, [d]]) for d in range(2))
    )


def test_posterior_is_the_product_of_the_pairs_factors() -> None:
    rng = np.random.default_rng(0)
    enc = ContextEncoder(7, 3, 16, rng)
    pairs = rng.standard_normal((5, 7))
    mu, var = enc.posterior(pairs)
    out, _ = enc.net.forward(pairs)
    mu_n, var_n = out[:, :3], np.logaddexp(0.0, out[:, 3:]) + 1e-6
    np.testing.assert_allclose(1 / var, (1 / var_n).sum(0))
    np.testing.assert_allclose(mu, var * (mu_n / var_n).sum(0))
    again = enc.posterior(pairs[::-1])  # order-free
    np.testing.assert_allclose(again[0], mu)
    np.testing.assert_allclose(again[1], var)
    assert (enc.posterior(pairs[:3])[1] > var).all()  # more pairs, sharper
    prior = enc.posterior(np.zeros((0, 7)))
    assert prior[0].tolist() == [0.0] * 3 and prior[1].tolist() == [1.0] * 3


def test_encoder_and_evaluator_gradients_match_finite_differences(check_gradients) -> None:
    rng = np.random.default_rng(1)
    enc = ContextEncoder(9, 3, 8, rng)
    ev = MLP([8 + 3, 12, 12, 1], rng, out_scale=1.0)
    for p in enc.params + ev.params:  # biases away from zero: every ReLU regime is exercised
        p += 0.3 * rng.standard_normal(p.shape)
    context, context_seg = rng.standard_normal((7, 9)), np.array([0, 0, 1, 2, 2, 2, 1])
    codes, targets = rng.standard_normal((10, 8)), rng.standard_normal(10)
    seg = rng.integers(3, size=10)
    noise = rng.standard_normal((3, 3))

    def loss() -> float:
        args = (context, context_seg, codes, targets, seg, noise, 0.1)
        return evaluator_loss_and_grads(enc, ev, *args)[0]

    _, g_enc, g_ev = evaluator_loss_and_grads(
        enc, ev, context, context_seg, codes, targets, seg, noise, 0.1
    )
    checked = sum(
        check_gradients(params, grads, loss, rng, 8, rel=1e-4, abs=1e-7)
        for params, grads in ((enc.params, g_enc), (ev.params, g_ev))
    )
    assert checked > 60
    # the KL term alone: zero evaluator error leaves kl_weight * mean KL and its gradient
    assert all(np.abs(g).sum() > 0 for g in g_enc)


# ---------------------------------------------------------------------- job sequence
def test_meta_training_then_adaptation_job_sequence() -> None:
    searcher = make(meta_queries=6, meta_episode=3)
    values = synthetic("tnb101-micro")
    meta = [searcher.ask() for _ in range(12)]  # all asked before any answer (many workers)
    tasks = [j.task for j in meta]
    assert sorted(tasks) == ["s1"] * 6 + ["s2"] * 6
    blocks = [tasks[i : i + 3] for i in range(0, 12, 3)]
    assert all(len(set(b)) == 1 for b in blocks)  # rounds of meta_episode per task
    assert {blocks[0][0], blocks[1][0]} == {"s1", "s2"} == {blocks[2][0], blocks[3][0]}
    assert searcher.meta_training and searcher.ask() is None  # waits for meta-training
    for job in meta[:-1]:
        searcher.tell(job, Outcome(np.array([values[job.task][job.arch]]), 1.0))
    assert searcher.ask() is None
    searcher.tell(meta[-1], Outcome(np.array([values[meta[-1].task][meta[-1].arch]]), 1.0))
    assert not searcher.meta_training
    target = drive(searcher, values, 20)
    assert {j.task for j in target} == {"t"}
    assert len({j.arch for j in target}) == 20  # never a repeat while new ones can be drawn
    best = max(target, key=lambda j: values["t"][j.arch])
    assert searcher.recommend("t") == (best.arch, values["t"][best.arch])
    # the controller learned from every answer; the evaluator trained on all three tasks
    assert searcher.episodes_ == 32 and searcher.updates_ >= 1
    assert [len(a) for a in searcher.archs_] == [6, 6, 20]
    assert math.isfinite(searcher.loss_)


def test_rounds_start_the_acting_context_afresh() -> None:
    searcher = make(meta_queries=6, meta_episode=3)
    values = synthetic("tnb101-micro")
    first = drive(searcher, values, 3)
    k = searcher.task_names_.index(first[0].task)
    assert searcher.round_start_[k] == 0
    drive(searcher, values, 6)  # the other task's round, then this task's second round begins
    assert searcher.round_start_[k] == 3
    _, var = searcher.posterior(k)
    assert (var < 1).all()  # a context of this round's answers, not the prior


def test_without_sources_it_refuses_in_one_line_unless_told_to_adapt_from_scratch() -> None:
    with pytest.raises(ConfigError, match="meta_queries=0") as info:
        make(sources=())
    assert "\n" not in str(info.value) and "'t'" in str(info.value)
    assert make(sources=(), source_tasks=()).task_names_ == ["t"]  # explicitly none: allowed


def test_without_sources_it_adapts_from_scratch_and_nan_answers_are_skipped() -> None:
    searcher = make(sources=(), meta_queries=0)
    assert not searcher.meta_training and searcher.current_epsilon() == 0.5
    job = searcher.ask()
    searcher.tell(job, Outcome(np.array([np.nan]), 1.0))
    assert searcher.archs_ == [[]] and searcher.episodes_ == 0 and not searcher.pending_
    drive(searcher, synthetic("tnb101-micro"), 5)
    assert len(searcher.archs_[0]) == 5


@pytest.mark.parametrize("space", SPACE_NAMES)
def test_same_seed_same_jobs(space: str) -> None:
    values = synthetic(space)

    def jobs(seed):
        return [(j.task, j.arch) for j in drive(make(space, seed=seed), values, 24)]

    first = jobs(4)
    assert first == jobs(4)
    assert first != jobs(5)
    space_obj = get_space(space)
    assert all(0 <= a < space_obj.size for _, a in first)


def test_controller_is_ppo_with_the_papers_settings() -> None:
    """Same class, same defaults: the TNB101 supplementary sets CATCH's controller as PPO."""
    assert issubclass(CATCH, PPO)
    catch, ppo = CATCH(), PPO()
    for name in PPO.hyperparameters():
        assert getattr(catch, name) == getattr(ppo, name)
    assert (catch.encoder_lr, catch.evaluator_lr, catch.kl_weight) == (0.0005, 0.0005, 0.1)
    searcher = make()
    assert searcher.net_.context == searcher.latent_size  # z is part of the controller's state


@pytest.mark.parametrize(
    "params",
    [
        {"meta_queries": -1},
        {"meta_episode": 0},
        {"n_candidates": 0},
        {"epsilon_start": 1.5},
        {"adapt_epsilon_decay": -0.1},
        {"epsilon_every": 0},
        {"kl_weight": -1},
        {"encoder_lr": 0},
        {"source_tasks": "jigsaw"},
        {"learning_rate": 0},
    ],
)
def test_bad_hyperparameters_raise_one_line(params: dict) -> None:
    with pytest.raises(ConfigError) as info:
        create("catch", "tnb101-micro", params)
    assert "\n" not in str(info.value)
    assert next(iter(params)) in str(info.value)


def test_unknown_source_task_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match="not source tasks") as info:
        make(source_tasks=("s1", "nope"))
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------- real tables
def _best_of_first(trajectory, task: str, k: int) -> float:
    frame = trajectory.to_pandas()
    return float(frame[frame["task"] == task]["value"].to_numpy()[:k].max())


def test_meta_training_finds_better_target_networks_than_random_early(installed_home) -> None:
    """After meta-training on the other six tasks, CATCH's best of its first 10 class_scene
    queries beats random search's, averaged over 5 seeds, by more than one standard deviation
    of random search's best of 10 (computed exactly from the table); without meta-training and
    screening (PPO from scratch) it does not."""
    bench = benchsim.benchmark("tnb101-micro")
    task, k = "class_scene", 10
    values = np.sort(bench.query_many(np.arange(bench.space.size), task, "valid_top1").values)
    cdf = np.arange(1, len(values) + 1) / len(values)
    p_max = cdf**k - np.concatenate([[0.0], cdf[:-1]]) ** k  # P(best of k == values[i])
    random_mean = float(p_max @ values)
    random_std = math.sqrt(float(p_max @ values**2) - random_mean**2)

    def mean_best(params: dict) -> float:
        runs = [
            execute_run(
                RunConfig(
                    algo="catch",
                    benchmark="tnb101-micro",
                    tasks=(task,),
                    seed=seed,
                    budget=str(k),
                    params=params,
                )
            )
            for seed in range(5)
        ]
        return float(np.mean([_best_of_first(r.trajectory, task, k) for r in runs]))

    catch = mean_best({})
    assert catch > random_mean + random_std, (catch, random_mean, random_std)
    scratch = mean_best({"meta_queries": 0, "adapt_epsilon_start": 1.0, "adapt_epsilon_decay": 0})
    assert scratch < random_mean + random_std < catch, (scratch, catch, random_mean, random_std)


def test_default_run_charges_meta_training_to_the_sources(installed_home, tmp_path) -> None:
    """`benchsim run --algo catch --benchmark tnb101-micro` with its defaults: 50 target
    evaluations per task and an architecture each, 6 x 50 meta-training answers per search
    charged to the source tasks."""
    from click.testing import CliRunner

    from benchsim.cli import main

    res = CliRunner().invoke(main, [
        "run", "--algo", "catch", "--benchmark", "tnb101-micro", "--no-progress",
        "--out", str(tmp_path / "run"),
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    import json

    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["tasks"].keys() == {"class_scene", "class_object"}
    for row in result["tasks"].values():
        assert row["arch"] is not None and row["evaluations"] == 50
    assert result["source_tasks"]["evaluations"] == 2 * 6 * 50


@pytest.mark.parametrize("kind", ["evaluations", "seconds"])
def test_any_budget_that_buys_one_target_evaluation_returns_an_architecture(
    installed_home, kind: str
) -> None:
    """One evaluation, or the simulated time of the most expensive one: meta-training is
    charged to the source tasks, so the target's first job always fits."""
    bench = benchsim.benchmark("tnb101-macro")
    costs = bench.query_many(np.arange(bench.space.size), "jigsaw", "train_time_s").values
    budget = "1" if kind == "evaluations" else f"{math.ceil(np.nanmax(costs))}s"
    out = execute_run(
        RunConfig(algo="catch", benchmark="tnb101-macro", tasks=("jigsaw",), seed=2,
                  budget=budget, params={"meta_queries": 10})
    )  # fmt: skip
    row = out.result["tasks"]["jigsaw"]
    assert row["arch"] is not None and row["evaluations"] >= 1
    assert out.result["source_tasks"]["evaluations"] == 6 * 10
    assert out.result["source_tasks"]["simulated_seconds"] > 0


def test_nb201_interrupted_and_resumed_with_two_workers(installed_home, tmp_path) -> None:
    def config() -> RunConfig:
        return RunConfig(algo="catch", benchmark="nb201", tasks=("cifar100",), seed=1,
                         budget="20", workers=2, params={"meta_queries": 12})  # fmt: skip

    out = execute_run(config())
    tasks = out.trajectory.column("task").to_pylist()
    assert tasks.count("cifar10") == tasks.count("ImageNet16-120") == 12
    assert tasks.count("cifar100") == 20 and tasks[-1] == "cifar100"
    with pytest.raises(RunInterrupted):  # interrupted in meta-training
        execute_run(config(), tmp_path / "run", stop_after=15)
    again = execute_run(config(), tmp_path / "run", resume=True)
    assert out.trajectory.column("arch").to_pylist() == again.trajectory.column("arch").to_pylist()
