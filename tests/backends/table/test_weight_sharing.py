"""The table's weight-sharing emulation: supernet estimates, not stand-alone answers."""

from __future__ import annotations

import json
import math
import pickle
import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import kendalltau

import benchsim
from benchsim.backends.table import TableBenchmark, WeightSharingSettings
from benchsim.backends.table._weight_sharing import UPPER_BOUND
from benchsim.errors import ConfigError, UnknownNameError

TNB_TASKS = ("class_object", "segmentsemantic", "autoencoder", "room_layout")
ROOT = Path(__file__).resolve().parents[3]


def _open(name: str, seed: int = 0, **options) -> TableBenchmark:
    return benchsim.benchmark(name, seed=seed, **options)


def _truth(bench: TableBenchmark, task: str) -> np.ndarray:
    info = bench.task_info(task)
    return bench.query_many(np.arange(bench.space.size), task, info.search_metric).values


def _train(bench: TableBenchmark, task: str, passes: int, planned: int | None = None) -> None:
    rng = np.random.default_rng(0)
    for _ in range(passes):
        bench.weight_sharing.train_pass(task, [0, 1, 2], rng=rng, planned_passes=planned)


CONVERGED = 400
"""Passes after which every task's emulated supernet has converged (nb201 cifar10, the task
with the fewest steps per pass: 196; converged from about 50,000 steps)."""


# ---------------------------------------------------------------------- what is answered
def test_full_evaluation_of_a_trained_supernet_is_the_recorded_one_shot_estimate(installed_home):
    bench = _open("nb201")
    archs = np.arange(0, bench.space.size, 97)
    _train(bench, "cifar10", CONVERGED)
    batch = bench.weight_sharing.sampled_eval(
        "cifar10", archs, rng=np.random.default_rng(1), batch_size=None
    )
    recorded = bench.query_many(archs, "cifar10", "oneshot_acc").values
    np.testing.assert_array_equal(batch.values, recorded)
    assert batch.source == "recorded:oneshot"
    assert not np.allclose(batch.values, bench.query_many(archs, "cifar10", "valid_acc").values)


@pytest.mark.parametrize(
    ("name", "task"), [("nb201", "cifar10"), ("nb201", "cifar100"), ("tnb101-micro", "normal")]
)
def test_sampled_estimates_converge_to_the_supernet_not_to_the_stand_alone_value(
    installed_home, name, task
):
    bench = _open(name, seed=3)
    _train(bench, task, CONVERGED)
    truth = _truth(bench, task)
    estimate = bench.weight_sharing.supernet_estimate(np.arange(bench.space.size), task)
    # an architecture the supernet misjudges by a wide margin (relative to the task's spread)
    gap = np.abs(estimate - truth) / np.ptp(truth)
    arch = int(np.argmax(np.where(truth > np.median(truth), gap, -1.0)))
    rng = np.random.default_rng(2)
    draws = np.concatenate(
        [
            bench.weight_sharing.sampled_eval(task, [arch] * 50, rng=rng, batch_size=256).values
            for _ in range(40)
        ]
    )
    spread = draws.std() / np.sqrt(draws.size)
    assert abs(draws.mean() - estimate[arch]) < 5 * spread + 1e-9
    assert abs(draws.mean() - truth[arch]) > 0.1 * np.ptp(truth)


def test_every_metric_kind_gets_batch_noise(installed_home):
    bench = _open("tnb101-micro")
    for task in TNB_TASKS:
        _train(bench, task, 100)  # trained: its estimates have left the untrained floor
        arch = int(np.argmax(_truth(bench, task)))  # not a cell at chance (no noise there)
        values = bench.weight_sharing.sampled_eval(
            task, [arch] * 20, rng=np.random.default_rng(0), batch_size=64
        )
        assert np.unique(values.values).size > 1, task
        whole = bench.weight_sharing.sampled_eval(
            task, [arch] * 3, rng=np.random.default_rng(0), batch_size=None
        )
        assert np.unique(whole.values).size == 1, task  # the whole split: no batch noise


def test_an_explicit_per_example_spread_replaces_the_binomial_rule(installed_home):
    bench = _open("tnb101-micro", ws_example_sd=0.2)
    values = bench.weight_sharing.sampled_eval(
        "normal", [9] * 4000, rng=np.random.default_rng(0), batch_size=100
    )
    assert values.values.std() == pytest.approx(0.2 / 10, rel=0.05)


def test_estimates_stay_fixed_within_a_run_and_follow_the_run_seed(installed_home):
    a, b, c = _open("nb201", seed=5), _open("nb201", seed=5), _open("nb201", seed=6)
    archs = np.arange(0, 15625, 31)
    for bench in (a, b, c):
        _train(bench, "cifar100", 3, planned=6)
    first = a.weight_sharing.supernet_estimate(archs, "cifar100")
    np.testing.assert_array_equal(first, a.weight_sharing.supernet_estimate(archs, "cifar100"))
    np.testing.assert_array_equal(first, b.weight_sharing.supernet_estimate(archs, "cifar100"))
    assert not np.allclose(first, c.weight_sharing.supernet_estimate(archs, "cifar100"))
    # a recorded supernet is the same for every seed once it is trained
    recorded = [
        x.weight_sharing.supernet_estimate(archs, "cifar10", epochs=math.inf) for x in (a, c)
    ]
    np.testing.assert_array_equal(*recorded)


# ---------------------------------------------------------------------- rank agreement
@pytest.mark.parametrize(
    ("name", "tasks"),
    [
        ("nb201", ("cifar100", "ImageNet16-120")),
        ("tnb101-micro", ("class_scene", "room_layout", "autoencoder")),
        ("tnb101-macro", ("segmentsemantic", "jigsaw")),
    ],
)
def test_modelled_estimates_hit_the_target_tau(installed_home, name, tasks):
    bench = _open(name, seed=11, ws_tau=0.3)
    for task in tasks:
        estimate = bench.weight_sharing.supernet_estimate(
            np.arange(bench.space.size), task, epochs=math.inf
        )
        tau = kendalltau(estimate, _truth(bench, task)).statistic
        assert tau == pytest.approx(0.3, abs=0.02), task
    notes = bench.answer_notes()["weight_sharing"]["tasks"]
    assert all(notes[t]["source"] == "modelled:oneshot" for t in tasks)


def test_the_default_target_is_the_recorded_supernets_tau_and_the_top_is_unranked(installed_home):
    bench = _open("nb201", seed=2)
    truth = _truth(bench, "cifar100")
    estimate = bench.weight_sharing.supernet_estimate(
        np.arange(bench.space.size), "cifar100", epochs=math.inf
    )
    recorded = bench.query_many(np.arange(bench.space.size), "cifar10", "oneshot_acc").values
    target = kendalltau(recorded, _truth(bench, "cifar10")).statistic
    assert kendalltau(estimate, truth).statistic == pytest.approx(target, abs=0.02)
    top = np.argsort(-truth)[:100]
    assert abs(kendalltau(estimate[top], truth[top]).statistic) < 0.25


@pytest.mark.parametrize(("name", "task"), [("nb201", "cifar10"), ("tnb101-micro", "jigsaw")])
def test_more_training_passes_never_lower_the_rank_agreement(installed_home, name, task):
    bench = _open(name, seed=4)
    truth = _truth(bench, task)
    archs = np.arange(bench.space.size)
    taus = [
        np.nan_to_num(
            kendalltau(
                bench.weight_sharing.supernet_estimate(archs, task, epochs=x), truth
            ).statistic
        )
        for x in (0, 5, 10, 20, 40, 60, 80, 100, 200, 1000)
    ]  # an untrained supernet may score every architecture alike: no ranking at all (NaN)
    assert all(b >= a - 0.005 for a, b in pairwise(taus)), taus
    # untrained: only the cells at chance (no path from input to output) are ranked, last
    assert taus[0] < 0.1 and taus[-1] > 0.3


def test_train_pass_advances_the_supernet_by_its_steps(installed_home):
    bench = _open("nb201")
    archs = np.arange(0, 15625, 7)
    truth = _truth(bench, "cifar10")[archs]
    before = np.nan_to_num(
        kendalltau(bench.weight_sharing.supernet_estimate(archs, "cifar10"), truth).statistic
    )
    _train(bench, "cifar10", 5, planned=50)
    data = bench.weight_sharing.task_data("cifar10")
    state = bench.weight_sharing.emulator.training(data)
    # cifar10-valid trains on 25,000 images: ceil(25000 / 128) = 196 steps per pass
    assert (state.epochs, state.steps) == (5, 5 * 196)
    _train(bench, "cifar10", 295, planned=50)
    after = kendalltau(bench.weight_sharing.supernet_estimate(archs, "cifar10"), truth).statistic
    assert bench.weight_sharing.emulator.training(data).converged
    assert after > before + 0.3
    # a pass over a bigger training set is more steps: ImageNet16-120 has 151,700 images
    other = _open("nb201")
    other.weight_sharing.train_pass("ImageNet16-120", [0], rng=np.random.default_rng(0))
    assert (
        other.weight_sharing.emulator.training(
            other.weight_sharing.task_data("ImageNet16-120")
        ).steps
        == 1186
    )


def test_the_plan_buys_no_training(installed_home):
    """A supernet is as trained as the passes it had: announcing a short plan (or none) gives
    the same answers after 20 passes as announcing 300, and those rank far worse than the
    answers after 300 passes (issue #19)."""
    archs = np.arange(15625)
    estimates = []
    for planned in (20, 300, None):
        bench = _open("nb201", seed=8)
        _train(bench, "cifar10", 20, planned=planned)
        estimates.append(bench.weight_sharing.supernet_estimate(archs, "cifar10"))
    np.testing.assert_array_equal(estimates[0], estimates[1])
    np.testing.assert_array_equal(estimates[0], estimates[2])
    trained = _open("nb201", seed=8)
    _train(trained, "cifar10", 300, planned=300)
    recorded = trained.query_many(archs, "cifar10", "oneshot_acc").values
    np.testing.assert_array_equal(
        trained.weight_sharing.supernet_estimate(archs, "cifar10"), recorded
    )
    truth = _truth(trained, "cifar10")
    assert abs(kendalltau(estimates[0], truth).statistic) < 0.05
    assert kendalltau(estimates[0], recorded).statistic < 0.05


def test_the_training_curve_passes_through_its_published_anchor(installed_home):
    """At the anchor's steps (the 50-epoch supernets of the cvlab logs, 19,550 steps) the
    estimate's tau is the anchored fraction of the converged one; the level likewise."""
    anchors = json.loads((ROOT / "benchmarks/inputs/ws_training_anchors.json").read_text())
    anchor = anchors["anchor"]
    bench = _open("nb201", seed=1)
    archs = np.arange(15625)
    data = bench.weight_sharing.task_data("cifar100")  # 50,000 images: 391 steps per pass
    epochs = anchor["steps"] / bench.weight_sharing.emulator.steps_per_epoch(data)
    truth = _truth(bench, "cifar100")
    converged = bench.weight_sharing.supernet_estimate(archs, "cifar100", epochs=math.inf)
    at_anchor = bench.weight_sharing.supernet_estimate(archs, "cifar100", epochs=epochs)
    ratio = kendalltau(at_anchor, truth).statistic / kendalltau(converged, truth).statistic
    assert ratio == pytest.approx(anchor["rank_fraction"], abs=0.02)
    state = bench.weight_sharing.emulator.training(data, epochs)
    assert state.level == pytest.approx(anchor["level_fraction"], abs=1e-9)


def test_a_cell_at_chance_stays_at_chance_while_the_supernet_trains(installed_home):
    """No path of operations from input to output: chance in any supernet, so the untrained
    ordering never lifts such a cell (NB201: 341 cells per task); it keeps its converged
    estimate, scaled with the supernet's level like every other."""
    bench = _open("nb201", seed=3)
    archs = np.arange(15625)
    for task in ("cifar10", "cifar100"):
        truth = _truth(bench, task)
        floor = truth <= truth.min() + 0.001 * np.ptp(truth)
        assert floor.sum() == 341
        converged = bench.weight_sharing.supernet_estimate(archs, task, epochs=math.inf)
        data = bench.weight_sharing.task_data(task)
        for epochs in (1, 20, 60):
            estimate = bench.weight_sharing.supernet_estimate(archs, task, epochs=epochs)
            level = bench.weight_sharing.emulator.training(data, epochs).level
            expected = truth.min() + level * (converged[floor] - truth.min())
            np.testing.assert_allclose(estimate[floor], expected, rtol=0, atol=1e-9)
            assert np.mean(estimate[floor] < np.median(estimate)) > 0.99, (task, epochs)


def test_a_partly_trained_answer_is_labelled_modelled(installed_home):
    bench = _open("nb201")
    rng = np.random.default_rng(0)
    _train(bench, "cifar10", 60)
    partly = bench.weight_sharing.sampled_eval("cifar10", [1, 2], rng=rng, batch_size=None)
    assert partly.source == "modelled:oneshot-partly-trained"
    note = bench.answer_notes()["weight_sharing"]["tasks"]["cifar10"]["training"]
    assert note["epochs"] == 60 and note["steps"] == 60 * 196 and not note["converged"]
    assert 0 < note["expected_tau"] < note["converged_tau"]
    _train(bench, "cifar10", CONVERGED)
    assert bench.weight_sharing.sampled_eval("cifar10", [1], rng=rng, batch_size=None).source == (
        "recorded:oneshot"
    )


def test_a_joint_pass_advances_the_shared_supernet_as_a_pass_per_task_would(installed_home):
    """A joint pass trains one supernet on every task's data; the emulation counts it as one
    pass of each task and models nothing else, so the estimates are those of per-task passes."""
    joint, apart = _open("nb201", seed=4), _open("nb201", seed=4)
    tasks, archs = ("cifar10", "cifar100"), np.arange(0, 15625, 13)
    rng = np.random.default_rng(0)
    before = [joint.weight_sharing.supernet_estimate(archs, t) for t in tasks]
    costs = []
    for _ in range(3):
        costs.append(
            joint.weight_sharing.joint_train_pass(
                tasks, [[0, 1, 2], [3, 4]], rng=rng, weights=[[1, 1, 2], None], planned_passes=30
            )
        )
        costs.append(0.0)
        for task, pool, w in zip(tasks, ([0, 1, 2], [3, 4]), ([1, 1, 2], None), strict=True):
            costs[-1] += apart.weight_sharing.train_pass(
                task, pool, rng=rng, weights=w, planned_passes=30
            )
    assert costs[0] == pytest.approx(costs[1]) and costs[0] > 0  # each task's share, summed
    state = joint.weight_sharing.emulator
    assert state.epochs_ == {"cifar10": 3, "cifar100": 3} and state.group_of("cifar100") == tasks
    for task, old in zip(tasks, before, strict=True):
        now = joint.weight_sharing.supernet_estimate(archs, task)
        assert not np.allclose(now, old)  # both tasks' estimates moved with the one supernet
        np.testing.assert_array_equal(now, apart.weight_sharing.supernet_estimate(archs, task))
    notes = joint.answer_notes()["weight_sharing"]["tasks"]
    assert notes["cifar10"]["joint"]["tasks"] == list(tasks)
    assert notes["cifar100"]["joint"]["joint_passes"] == 3
    assert "joint" not in apart.answer_notes()["weight_sharing"]["tasks"]["cifar10"]
    fresh = _open("nb201", seed=4)  # the shared supernet survives a checkpoint
    fresh.load_state_dict(joint.state_dict())
    assert fresh.weight_sharing.emulator.group_of("cifar10") == tasks
    np.testing.assert_array_equal(
        fresh.weight_sharing.supernet_estimate(archs, "cifar100"),
        joint.weight_sharing.supernet_estimate(archs, "cifar100"),
    )


def test_a_joint_pass_needs_tasks_not_yet_trained_apart(installed_home):
    bench = _open("nb201")
    rng = np.random.default_rng(0)
    bench.weight_sharing.train_pass("cifar10", [0], rng=rng)
    with pytest.raises(ConfigError, match="cifar10 was already trained in a supernet of its own"):
        bench.weight_sharing.joint_train_pass(["cifar10", "cifar100"], [[0], [1]], rng=rng)
    other = _open("nb201")
    other.weight_sharing.joint_train_pass(["cifar100", "ImageNet16-120"], [[0], [1]], rng=rng)
    other.weight_sharing.joint_train_pass(
        ["ImageNet16-120", "cifar100"], [[5], [1]], rng=rng
    )  # same supernet
    with pytest.raises(ConfigError, match="cifar100 was already trained") as excinfo:
        other.weight_sharing.joint_train_pass(["cifar100", "cifar10"], [[0], [1]], rng=rng)
    assert "\n" not in str(excinfo.value)
    assert other.weight_sharing.emulator.epochs_ == {"cifar100": 2, "ImageNet16-120": 2}


# ---------------------------------------------------------------------- settings
def test_the_upper_bound_answers_the_stand_alone_values(installed_home):
    bench = _open("tnb101-micro", weight_sharing=UPPER_BOUND)
    archs = np.arange(0, 4096, 13)
    whole = bench.weight_sharing.sampled_eval(
        "class_scene", archs, rng=np.random.default_rng(0), batch_size=None
    )
    truth = bench.query_many(archs, "class_scene", "valid_top1").values
    np.testing.assert_array_equal(whole.values, truth)
    assert whole.source == f"recorded:{UPPER_BOUND}"


def test_fewshot_and_modelled_sources(installed_home):
    archs = np.arange(0, 15625, 11)
    few = _open("nb201", weight_sharing="fewshot")
    recorded = few.query_many(archs, "cifar10", "fewshot_acc").values
    np.testing.assert_array_equal(
        few.weight_sharing.supernet_estimate(archs, "cifar10", epochs=math.inf), recorded
    )
    modelled = _open("nb201", ws_source="modelled")
    est = modelled.weight_sharing.supernet_estimate(np.arange(15625), "cifar10", epochs=math.inf)
    tau = kendalltau(est, _truth(modelled, "cifar10")).statistic
    assert tau == pytest.approx(0.4425, abs=0.02)
    notes = modelled.answer_notes()["weight_sharing"]
    assert notes["tasks"]["cifar10"]["source"] == "modelled:oneshot"
    assert notes["source"] == "modelled" and notes["estimator"] == "oneshot"


@pytest.mark.parametrize(
    ("options", "error", "text"),
    [
        ({"weight_sharing": "onehot"}, UnknownNameError, "estimator 'onehot'; allowed: oneshot"),
        ({"ws_source": "guess"}, UnknownNameError, "ws_source 'guess'; allowed: recorded"),
        ({"ws_tau": 1.5}, ConfigError, r"ws_tau == 1.5, must be a number in \(0, 1\]"),
        ({"ws_tau": "high"}, ConfigError, "ws_tau == 'high'"),
        ({"ws_structure": -0.1}, ConfigError, "ws_structure == -0.1"),
        ({"ws_planned_passes": 20}, ConfigError, "ws_planned_passes was removed: a supernet"),
        ({"ws_rank_time_constant": 0.1}, ConfigError, "removed: .* use ws_rank_steps"),
        ({"ws_rank_steps": 0}, ConfigError, "ws_rank_steps == 0"),
        ({"ws_batch_size": 0}, ConfigError, "ws_batch_size == 0"),
        ({"ws_train_size": 1.5}, ConfigError, "ws_train_size == 1.5"),
        ({"ws_level_start": 2}, ConfigError, "ws_level_start == 2"),
        ({"ws_taus": 0.5}, UnknownNameError, "table backend option 'ws_taus'"),
    ],
)
def test_bad_settings_are_one_line_errors(installed_home, options, error, text):
    with pytest.raises(error, match=text) as excinfo:
        _open("nb201", **options)
    assert "\n" not in str(excinfo.value)


def test_settings_resolve_to_the_measured_defaults():
    settings = WeightSharingSettings()
    resolved = settings.resolved()
    assert resolved["estimator"] == "oneshot" and resolved["source"] == "recorded"
    assert resolved["tau"] == pytest.approx(0.4425, abs=1e-4)
    assert 0 < resolved["structure"] < 1 and resolved["rank_scale"] > 1000
    assert resolved["batch_size"] == 128 and resolved["rank_shape"] == 5.0
    assert WeightSharingSettings.from_options({"ws_tau": 0.5}).options() == {"ws_tau": 0.5}


def test_state_survives_pickle_and_state_dict(installed_home):
    bench = _open("nb201", seed=9, ws_tau=0.6)
    _train(bench, "cifar100", 7, planned=20)
    archs = np.arange(0, 15625, 101)
    copy = pickle.loads(pickle.dumps(bench))
    assert copy.weight_sharing.emulator.epochs_ == {"cifar100": 7}
    np.testing.assert_array_equal(
        copy.weight_sharing.supernet_estimate(archs, "cifar100"),
        bench.weight_sharing.supernet_estimate(archs, "cifar100"),
    )
    fresh = _open("nb201", seed=9, ws_tau=0.6)
    fresh.load_state_dict(bench.state_dict())
    np.testing.assert_array_equal(
        fresh.weight_sharing.supernet_estimate(archs, "cifar100"),
        bench.weight_sharing.supernet_estimate(archs, "cifar100"),
    )


def test_a_table_installed_before_the_supernet_columns_is_rebuilt(
    installed_home, tmp_path, monkeypatch, mirror_dir, capsys
):
    home = tmp_path / "home"
    shutil.copytree(installed_home / "tables" / "nb201", home / "tables" / "nb201")
    meta_path = home / "tables" / "nb201" / "meta.json"
    meta = json.loads(meta_path.read_text())
    for task in meta["tasks"]:  # what an older benchsim wrote: no supernet columns
        task["metrics"] = [m for m in task["metrics"] if m not in ("oneshot_acc", "fewshot_acc")]
    meta_path.write_text(json.dumps(meta))
    (meta_path.parent / "meta.json.sha256").unlink()  # which an older benchsim did not write
    monkeypatch.setenv("BENCHSIM_HOME", str(home))
    bench = benchsim.benchmark("nb201", mirror=mirror_dir, progress=False)
    assert "rebuilding" in capsys.readouterr().err
    assert "oneshot_acc" in bench.task_info("cifar10").metrics
