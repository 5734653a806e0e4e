"""PPO: GAE, the clipped loss and its gradients, memory and schedule, determinism, end to end."""

from __future__ import annotations

import numpy as np
import pytest

from benchsim.algorithms import Outcome, Problem, TaskSpec, create
from benchsim.algorithms._policy import gae
from benchsim.algorithms.ppo import PPO
from benchsim.errors import ConfigError
from benchsim.runner import RunConfig, RunInterrupted, execute_run
from benchsim.spaces import SPACE_NAMES, get_space


def make(space: str = "nb201", seed: int = 0, **params) -> PPO:
    searcher = PPO(**params)
    problem = Problem(get_space(space), (TaskSpec("t", "valid_acc", 200),))
    searcher.setup(problem, np.random.default_rng(seed))
    return searcher


def drive(searcher, reward, steps: int) -> list[int]:
    archs = []
    for _ in range(steps):
        job = searcher.ask()
        archs.append(job.arch)
        searcher.tell(job, Outcome(np.array([reward(job.arch)]), 1.0))
    return archs


def first_decision_probs(searcher: PPO) -> np.ndarray:
    net, sampler = searcher.net_, searcher.sampler_
    _, logp, _ = net.forward(net.state(())[None], np.array([0]), sampler.mask(())[None])
    return np.exp(logp[0])


def batch_of(searcher: PPO, episodes: int, rng: np.random.Generator) -> dict:
    rollouts = [searcher.rollout()[1] for _ in range(episodes)]
    batch = {k: np.concatenate([e[k] for e in rollouts]) for k in rollouts[0]}
    batch["adv"] = rng.standard_normal(len(batch["action"]))
    batch["ret"] = rng.standard_normal(len(batch["action"]))
    return batch


def test_gae_matches_a_hand_computed_episode() -> None:
    adv, ret = gae(
        np.array([0.0, 0.0, 1.0]), np.array([0.5, 0.4, 0.2]), np.array([0, 0, 1], bool), 0.9, 0.8
    )
    # delta = (-0.14, -0.22, 0.8); A_t = delta_t + 0.72 A_{t+1}
    np.testing.assert_allclose(adv, [0.11632, 0.356, 0.8])
    np.testing.assert_allclose(ret, [0.61632, 0.756, 1.0])


def test_gae_does_not_bootstrap_across_episodes() -> None:
    adv, _ = gae(
        np.array([0.0, 1.0, 0.0, 2.0]),
        np.array([1.0, 2.0, 3.0, 4.0]),
        np.array([0, 1, 0, 1], bool),
        0.5,
        1.0,
    )
    np.testing.assert_allclose(adv, [-0.5, -1.0, -2.0, -2.0])


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_loss_gradients_match_finite_differences(name: str, check_gradients) -> None:
    rng = np.random.default_rng(0)
    searcher = make(name, hidden_size=6)
    net = searcher.net_
    net.wp *= 100  # a non-uniform policy
    net.wv[:] = rng.standard_normal(net.wv.shape)
    batch = batch_of(searcher, 4, rng)
    batch["logp"] = batch["logp"] + rng.normal(0, 0.3, batch["logp"].shape)  # ratios != 1

    def loss() -> float:
        return net.loss_and_grads(batch, 0.2, 1.0, 0.05)[0]

    _, grads = net.loss_and_grads(batch, 0.2, 1.0, 0.05)
    assert check_gradients(net.params, grads, loss, rng, 12)


def test_clipped_objective_decreases_on_a_fixed_batch() -> None:
    rng = np.random.default_rng(1)
    searcher = make("tnb101-macro")
    batch = batch_of(searcher, 17, rng)
    net = searcher.net_
    before = net.loss_and_grads(batch, 0.2, 1.0, 0.01)[0]
    for _ in range(10):
        searcher.optimizer_.step(net.loss_and_grads(batch, 0.2, 1.0, 0.01)[1])
    assert net.loss_and_grads(batch, 0.2, 1.0, 0.01)[0] < before - 0.05


def test_clipping_stops_the_policy_gradient() -> None:
    rng = np.random.default_rng(2)
    searcher = make()
    batch = batch_of(searcher, 3, rng)
    batch["adv"] = np.abs(batch["adv"]) + 0.1
    batch["logp"] = batch["logp"] - 0.5  # ratio e^0.5 > 1.2 with positive advantages
    _, grads = searcher.net_.loss_and_grads(batch, 0.2, 0.0, 0.0)
    assert all(np.all(g == 0) for g in grads)
    batch["logp"] = batch["logp"] + 0.5  # ratio 1: gradient flows
    _, grads = searcher.net_.loss_and_grads(batch, 0.2, 0.0, 0.0)
    assert any(np.any(g != 0) for g in grads)


def test_memory_size_and_learning_rate_schedule() -> None:
    searcher = make("nb201", memory_size=100, lr_decay=0.5, lr_decay_every=15)
    drive(searcher, lambda a: float(a % 13), 16)
    assert searcher.updates_ == 0 and len(searcher.memory_) == 16  # 96 transitions
    drive(searcher, lambda a: float(a % 13), 1)
    assert searcher.updates_ == 1 and searcher.memory_ == []
    assert searcher.optimizer_.lr == pytest.approx(0.01 * 0.5)  # 17 episodes: one decay
    drive(searcher, lambda a: float(a % 13), 17)
    assert searcher.updates_ == 2
    assert searcher.optimizer_.lr == pytest.approx(0.01 * 0.5**2)  # 34 episodes


def test_toy_reward_raises_the_best_first_choice() -> None:
    space = get_space("tnb101-micro")
    searcher = make("tnb101-micro", memory_size=24)
    best = 2
    drive(searcher, lambda a: 1.0 if space.to_decisions(a)[0] == best else 0.0, 200)
    probs = first_decision_probs(searcher)
    assert probs[best] > 0.5
    assert int(np.argmax(probs)) == best


def test_macro_samples_are_members() -> None:
    archs = drive(make("tnb101-macro", seed=4), lambda a: float(a % 5), 120)
    assert min(archs) >= 0 and max(archs) < get_space("tnb101-macro").size


def test_same_seed_same_jobs() -> None:
    def run(seed: int) -> list[int]:
        return drive(make("nb201", seed=seed, memory_size=30), lambda a: float(a % 17), 40)

    assert run(3) == run(3)
    assert run(3) != run(4)


@pytest.mark.parametrize(
    "params",
    [
        {"clip": 0},
        {"clip": 1.5},
        {"memory_size": 0},
        {"memory_size": 2.5},
        {"gamma": 1.1},
        {"gae_lambda": -0.1},
        {"lr_decay": 0},
        {"epochs": 0},
        {"normalize_advantages": "yes"},
    ],
)
def test_bad_hyperparameters_raise_one_line(params: dict) -> None:
    with pytest.raises(ConfigError) as info:
        create("ppo", "tnb101-micro", params)
    assert "\n" not in str(info.value)
    assert next(iter(params)) in str(info.value)


def test_end_to_end_on_real_tables(installed_home) -> None:
    config = RunConfig(algo="ppo", benchmark="tnb101-micro", tasks=("class_object",), seed=1)
    first = execute_run(config)
    again = execute_run(
        RunConfig(algo="ppo", benchmark="tnb101-micro", tasks=("class_object",), seed=1)
    )
    assert first.config["budget"] == "50"
    assert first.result["tasks"]["class_object"]["evaluations"] == 50
    archs = first.trajectory.column("arch").to_pylist()
    assert archs == again.trajectory.column("arch").to_pylist()
    nb201 = execute_run(
        RunConfig(algo="ppo", benchmark="nb201", tasks=("cifar100",), seed=0, workers=2)
    )
    assert nb201.result["simulated_seconds"] <= 12000
    assert nb201.result["tasks"]["cifar100"]["test_metric"] > 60


def test_resumed_run_continues_the_same_trajectory(installed_home, tmp_path) -> None:
    """The policy, optimiser state and memory survive a checkpoint mid-search."""

    def config() -> RunConfig:
        return RunConfig(algo="ppo", benchmark="tnb101-macro", tasks=("jigsaw",), seed=5)

    full = execute_run(config()).trajectory.column("arch").to_pylist()
    with pytest.raises(RunInterrupted):
        execute_run(config(), tmp_path / "run", stop_after=23)  # mid-memory, after one update
    resumed = execute_run(config(), tmp_path / "run", resume=True)
    assert resumed.trajectory.column("arch").to_pylist() == full
