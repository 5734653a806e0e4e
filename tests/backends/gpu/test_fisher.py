"""LD-NAS's task distance on real (synthetic) images: Eq. 2's properties and the expected order.

The ordering test is the point: ``synthetic-shapes-permuted`` is ``synthetic-shapes`` with its
labels renamed, ``synthetic-shapes-b`` another task on other images, so in every repeat the
distance between a task and its permuted copy must be smaller than the distance from the
unrelated task to either of them.  It can fail (a constant or random distance fails it, and so
did a network's Fisher taken on its own task's images instead of the target's) and runs in
seconds on the CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchsim.backends.gpu import FisherSettings, GpuBenchmark, task_distance
from benchsim.backends.gpu._fisher import ApproxNet
from benchsim.datasets import prepare
from benchsim.errors import ConfigError, UnknownNameError
from benchsim.runner._execute import capabilities

A, PERMUTED = "synthetic-shapes", "synthetic-shapes-permuted"
B, BINARY = "synthetic-shapes-b", "synthetic-shapes-binary"
ORDERING = {"epochs": 2, "fisher_samples": 100}
"""Small enough for seconds on one CPU thread; the order already holds by a wide margin."""


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distance-data")
    for name in (A, PERMUTED, B, BINARY):
        prepare(name, root=folder)
    return folder


def test_a_permuted_copy_is_closer_than_an_unrelated_task(root):
    m = task_distance([A, PERMUTED, B], repeats=3, device="cpu", root=root, **ORDERING)
    a, p, b = (m.index(t) for t in (A, PERMUTED, B))
    for r, d in enumerate(m.per_repeat):  # d[row -> column]
        assert d[p, a] < d[b, a], (r, d)  # to the task: its copy is closer than the other task
        assert d[a, p] < d[b, p], (r, d)  # and the same to the copy
    assert m.mean[p, a] < 0.5 * m.mean[b, a] and m.mean[a, p] < 0.5 * m.mean[b, p]
    assert set(m.approximation) == {A, PERMUTED, B}
    assert all(v["valid_acc_mean"] > 20.0 for v in m.approximation.values())  # better than 10%


def test_equation_2_properties_and_reproducibility(root):
    m = task_distance([A, B, BINARY], repeats=2, device="cpu", root=root, smoke=True)
    assert m.mean.shape == m.std.shape == (3, 3) and m.per_repeat.shape == (2, 3, 3)
    assert (np.diag(m.mean) == 0).all() and (m.per_repeat >= 0).all()
    assert not np.allclose(m.mean, m.mean.T)  # asymmetric: d[b -> t] != d[t -> b]
    np.testing.assert_allclose(m.mean, m.per_repeat.mean(axis=0))
    np.testing.assert_allclose(m.std, m.per_repeat.std(axis=0, ddof=1))
    again = task_distance([A, B, BINARY], repeats=2, device="cpu", root=root, smoke=True)
    np.testing.assert_array_equal(again.per_repeat, m.per_repeat)  # same seed, same numbers
    other = task_distance([A, B, BINARY], repeats=2, device="cpu", root=root, smoke=True, seed=1)
    assert not np.array_equal(other.per_repeat, m.per_repeat)
    # a pair's distance does not depend on the other tasks of the matrix
    pair = task_distance([BINARY, A], repeats=2, device="cpu", root=root, smoke=True)
    assert pair.distance(A, BINARY) == pytest.approx(m.distance(A, BINARY), rel=1e-12)
    assert m.settings["labels"] == "sampled" and m.settings["normalize"] is True
    assert m.provenance["datasets"][A]["sha256"] and m.provenance["seed"] == 0


@pytest.mark.parametrize("labels", ["expected", "target"])
def test_other_fisher_labels(root, labels):
    """Exact expectation over classes, or the target's observed labels (a binary network's
    logits are zero-padded to the ten classes of its target, as the authors' code does)."""
    m = task_distance([A, BINARY], repeats=1, device="cpu", root=root, smoke=True, labels=labels)
    assert (np.diag(m.mean) == 0).all() and (m.mean >= 0).all() and m.mean[1, 0] > 0


def test_networks_read_other_tasks_images():
    """Grey images are repeated to RGB and resized to the network's input (the paper's MNIST
    at CIFAR's 32x32 RGB); RGB is averaged for a grey network."""
    rgb = ApproxNet(3, 10, (4, 8), (16, 16))
    grey = torch.randint(0, 256, (5, 28, 28, 1), dtype=torch.uint8)
    assert rgb.inputs(grey).shape == (5, 3, 16, 16)
    mono = ApproxNet(1, 2, (4,), (8, 8))
    assert mono.inputs(torch.zeros(2, 8, 8, 3, dtype=torch.uint8)).shape == (2, 1, 8, 8)
    with pytest.raises(ConfigError, match="cannot read 2-channel"):
        rgb.inputs(torch.zeros(1, 8, 8, 2, dtype=torch.uint8))


def test_bad_settings_are_one_line(root, one_line):
    cases = [
        ({"tasks": [A]}, ConfigError, "give at least two tasks"),
        ({"tasks": [A, "nope"]}, UnknownNameError, "unknown dataset 'nope'"),
        ({"tasks": [A, "shapes"]}, ConfigError, "name the dataset 'synthetic-shapes' twice"),
        ({"tasks": [A, B], "labels": "mine"}, UnknownNameError, "unknown Fisher labels"),
        ({"tasks": [A, B], "epocs": 3}, UnknownNameError, "unknown task-distance setting"),
        ({"tasks": [A, B], "repeats": 0}, ConfigError, "repeats == 0"),
        ({"tasks": [A, B], "channels": []}, ConfigError, "channels == []"),
    ]
    for kwargs, error, message in cases:
        tasks = kwargs.pop("tasks")
        with pytest.raises(error) as excinfo:
            task_distance(tasks, device="cpu", root=root, smoke=True, **kwargs)
        assert message in one_line(excinfo), kwargs
    assert FisherSettings.from_options(smoke=True, epochs=3).epochs == 3


def test_the_live_backend_answers_task_distance(root):
    bench = GpuBenchmark("nb201", (A, PERMUTED, B), device="cpu", smoke=True, root=root,
                         channels=4, distance_epochs=1, distance_samples=32)  # fmt: skip
    assert capabilities(bench) == {
        "evaluate",
        "train_pass",
        "sampled_eval",
        "joint_train_pass",
        "task_distance",
    }
    first = bench.task_distances.task_distance(A, [B, PERMUTED], repeats=2)
    assert first.source == "live:fisher" and first.values.shape == first.cost.shape == (2,)
    assert (first.values > 0).all() and (first.cost > 0).all()
    again = bench.task_distances.task_distance(
        A, [PERMUTED], repeats=2
    )  # networks and Fishers are kept
    assert again.values[0] == first.values[1] and again.cost[0] < first.cost.sum()
    with pytest.raises(ConfigError, match="non-empty list"):
        bench.task_distances.task_distance(A, [], repeats=1)
