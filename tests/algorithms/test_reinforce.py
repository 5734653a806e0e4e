"""REINFORCE: policy gradient, masked decisions on every space, determinism, end to end."""

from __future__ import annotations

import numpy as np
import pytest

from benchsim.algorithms import Outcome, Problem, TaskSpec, create
from benchsim.algorithms._policy import Adam, DecisionSampler, MovingAverage, masked_log_softmax
from benchsim.algorithms.reinforce import Reinforce
from benchsim.errors import ConfigError, InvalidArchitectureError
from benchsim.runner import RunConfig, execute_run
from benchsim.spaces import SPACE_NAMES, get_space


def make(space: str = "nb201", seed: int = 0, **params) -> Reinforce:
    searcher = Reinforce(**params)
    problem = Problem(get_space(space), (TaskSpec("t", "valid_acc", 200),))
    searcher.setup(problem, np.random.default_rng(seed))
    return searcher


def drive(searcher, reward, steps: int) -> list[int]:
    """Ask/tell ``steps`` times with ``reward(arch)``; return the asked architectures."""
    archs = []
    for _ in range(steps):
        job = searcher.ask()
        archs.append(job.arch)
        searcher.tell(job, Outcome(np.array([reward(job.arch)]), 1.0))
    return archs


def test_toy_reward_on_one_decision_raises_the_best_choice() -> None:
    space = get_space("nb201")
    searcher = make(learning_rate=0.05)
    best = 3
    before = searcher.probabilities()[best]
    drive(searcher, lambda a: 90.0 if space.to_decisions(a)[0] == best else 80.0, 150)
    after = searcher.probabilities()
    assert before == pytest.approx(0.2, abs=0.01)
    assert after[best] > 0.6
    assert int(np.argmax(after)) == best


def test_update_is_the_nb201_rule() -> None:
    """One step equals Adam on -(R - EMA) * log pi(a), the baseline updated first."""
    searcher = make(seed=3)
    logits = searcher.logits_.copy()
    job = searcher.ask()
    choices = searcher.pending_[job.arch][0]
    searcher.tell(job, Outcome(np.array([91.5]), 1.0))
    baseline = MovingAverage(0.9)
    baseline.update(91.5)
    assert baseline.value() == pytest.approx(91.5)  # bias-corrected: advantage 0 at step 1
    expected = logits.copy()
    probs = np.exp(masked_log_softmax(expected, np.ones_like(expected, dtype=bool)))
    grad = -probs
    grad[np.arange(6), list(choices)] += 1.0
    Adam([expected], lr=0.01).step([-(91.5 - baseline.value()) * grad])
    np.testing.assert_allclose(searcher.logits_, expected)


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_samples_are_members_and_probabilities_sum_to_one(name: str) -> None:
    space = get_space(name)
    searcher = make(name, seed=1, init_scale=1.0)  # far from uniform
    archs = drive(searcher, lambda a: float(a % 7), 200)
    assert all(0 <= a < space.size for a in archs)
    # exact normalisation over the members: sum of pi(a) over the space is 1
    sampler = searcher.sampler_
    total = 0.0
    for index in range(space.size):
        choices = space.to_decisions(index)
        logp = masked_log_softmax(searcher.logits_, sampler.masks(choices))
        total += np.exp(logp[np.arange(sampler.steps), list(choices)].sum())
    assert total == pytest.approx(1.0, abs=1e-9)


def test_macro_masks_reach_exactly_the_members() -> None:
    space = get_space("tnb101-macro")
    sampler = DecisionSampler(space)
    assert not sampler.full_product
    reached = []

    def walk(prefix: tuple[int, ...]) -> None:
        if len(prefix) == sampler.steps:
            reached.append(sampler.index(prefix))
            return
        for option in np.flatnonzero(sampler.mask(prefix)):
            walk((*prefix, int(option)))

    walk(())
    assert sorted(reached) == list(range(space.size))
    with pytest.raises(InvalidArchitectureError):  # what the mask rules out is invalid
        space.from_decisions((1, 1, 1, 1, 0, 0))  # no channel doubling
    assert not sampler.mask((1, 1, 1, 1))[0]  # so the net cannot stop after 1,1,1,1
    assert sampler.mask((1, 1, 1, 1, 1)).tolist() == [False, False, False, False, True]


def test_same_seed_same_jobs_other_seed_other_jobs() -> None:
    def run(seed: int) -> list[int]:
        return drive(make("tnb101-micro", seed=seed), lambda a: float(a % 11), 60)

    assert run(5) == run(5)
    assert run(5) != run(6)


@pytest.mark.parametrize(
    "params",
    [{"learning_rate": 0}, {"learning_rate": "x"}, {"ema_momentum": 1.0}, {"init_scale": -1}],
)
def test_bad_hyperparameters_raise_one_line(params: dict) -> None:
    with pytest.raises(ConfigError) as info:
        create("reinforce", "nb201", params)
    assert "\n" not in str(info.value)
    assert next(iter(params)) in str(info.value)


def test_nan_reward_is_skipped() -> None:
    searcher = make()
    job = searcher.ask()
    logits = searcher.logits_.copy()
    searcher.tell(job, Outcome(np.array([np.nan]), 1.0))
    np.testing.assert_array_equal(searcher.logits_, logits)
    assert searcher.recommend("t") is None


def test_end_to_end_on_real_tables(installed_home) -> None:
    config = RunConfig(algo="reinforce", benchmark="nb201", tasks=("cifar10",), seed=2)
    first = execute_run(config)
    again = execute_run(RunConfig(algo="reinforce", benchmark="nb201", tasks=("cifar10",), seed=2))
    result = first.result["tasks"]["cifar10"]
    assert first.config["budget"] == "12000s"
    assert 40 < result["evaluations"] < 400  # 12-epoch proxy costs: ~100 per 12000 s
    assert first.result["simulated_seconds"] <= 12000
    assert result["test_metric"] > 90
    archs = first.trajectory.column("arch").to_pylist()
    assert archs == again.trajectory.column("arch").to_pylist()
    macro = execute_run(
        RunConfig(algo="reinforce", benchmark="tnb101-macro", tasks=("class_scene",), seed=0)
    )
    assert macro.result["tasks"]["class_scene"]["evaluations"] == 50
