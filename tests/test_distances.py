"""Task distance matrices: checks on what is read, the JSON/CSV round trip, Eq. 2's properties."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from benchsim.distances import (
    DistanceMatrix,
    load_distances,
    log_det_distance,
    read_distances,
    statistics,
)
from benchsim.errors import ConfigError, UnknownNameError

TASKS = ["a", "b", "c"]
MEAN = [[0.0, 1.0, 3.0], [2.0, 0.0, 1.5], [5.0, 4.0, 0.0]]


def test_lookups_follow_the_papers_orientation():
    m = DistanceMatrix.from_dict({"tasks": TASKS, "mean": MEAN})
    assert m.distance("a", "b") == 1.0 and m.distance("b", "a") == 2.0  # row -> column
    assert m.closest("a") == "b"  # d[b -> a] = 2 < d[c -> a] = 5
    assert m.closest("c", ["a", "b"]) == "b"
    assert m.closest("a", ["c"]) == "c"
    assert m.repeats == 1 and (m.std == 0).all()
    with pytest.raises(UnknownNameError, match="'z'"):
        m.distance("z", "a")


def test_ties_go_to_the_first_candidate():
    m = DistanceMatrix.from_dict({"tasks": TASKS, "mean": [[0, 1, 1], [1, 0, 1], [1, 1, 0]]})
    assert m.closest("a", ["c", "b"]) == "c"


def test_write_and_read_round_trip(tmp_path):
    per = np.array([[[0, 1, 3], [2, 0, 1], [5, 4, 0]], [[0, 1, 3], [2, 0, 2], [5, 4, 0]]], float)
    mean, std = statistics(per)
    m = DistanceMatrix(tuple(TASKS), mean, std, 2, per, {"sigma": 1e-5}, {}, {"seed": 0})
    json_path, csv_path = m.write(tmp_path / "d.json")
    back = read_distances(json_path)
    assert back.tasks == m.tasks and back.repeats == 2
    np.testing.assert_array_equal(back.mean, m.mean)
    np.testing.assert_array_equal(back.std, m.std)
    np.testing.assert_array_equal(back.per_repeat, per)
    assert back.settings == {"sigma": 1e-5} and back.provenance == {"seed": 0}
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 9 and rows[5]["source"] == "b" and rows[5]["target"] == "c"
    assert float(rows[5]["mean"]) == 1.5 and float(rows[5]["std"]) == pytest.approx(0.5**0.5)
    assert load_distances(str(json_path)).tasks == m.tasks  # a path
    assert load_distances(json.loads(json_path.read_text())).tasks == m.tasks  # its content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "must be a JSON object"),
        ({"mean": MEAN}, "'tasks' must be a non-empty list"),
        ({"tasks": ["a", "a", "c"], "mean": MEAN}, "lists a task twice"),
        ({"tasks": TASKS, "mean": [[0, 1], [1, 0]]}, "has shape (2, 2), expected (3, 3)"),
        ({"tasks": TASKS, "mean": [[0, 1, 2], [1, 0, -1], [1, 1, 0]]}, "mean[1][2] == -1.0"),
        ({"tasks": TASKS, "mean": [[0, 1, 2], [1, 0, "x"], [1, 1, 0]]}, "matrix of numbers"),
        ({"tasks": TASKS, "mean": [[1, 1, 2], [1, 0, 1], [1, 1, 0]]}, "to itself must be 0"),
        ({"tasks": TASKS, "mean": MEAN, "repeats": 0}, "'repeats' == 0"),
        ({"tasks": TASKS, "mean": MEAN, "format": "other"}, "has format 'other'"),
        ({"tasks": TASKS, "mean": MEAN, "per_repeat": [MEAN, MEAN]}, "'per_repeat' has shape"),
    ],
)
def test_bad_content_is_refused_in_one_line(data, message, one_line):
    with pytest.raises(ConfigError) as excinfo:
        DistanceMatrix.from_dict(data)
    assert message in one_line(excinfo)


def test_missing_or_broken_files_say_how_to_make_one(tmp_path, one_line):
    with pytest.raises(ConfigError) as excinfo:
        read_distances(tmp_path / "none.json")
    assert "benchsim task-distance --tasks" in one_line(excinfo)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError) as excinfo:
        read_distances(bad)
    assert "is not JSON" in one_line(excinfo)
    with pytest.raises(ConfigError) as excinfo:
        load_distances(3)
    assert "distance file path or its JSON content" in one_line(excinfo)


def test_equation_2_on_diagonal_fishers():
    rng = np.random.default_rng(0)
    f = rng.gamma(0.5, 1e-3, 500)
    g = rng.gamma(0.5, 1e-3, 800)  # another network size: Eq. 2 averages over each network
    assert log_det_distance(f, f, 1e-5) == 0.0
    d = log_det_distance(f, g, 1e-5)
    assert d > 0 and d == log_det_distance(g, f, 1e-5)  # one pair of Fishers: |a - b|
    expected = abs(np.log(f / f.sum() + 1e-10).mean() - np.log(g / g.sum() + 1e-10).mean())
    assert d == pytest.approx(expected)
    # normalised: a Fisher scaled by any factor is at distance 0 (the authors' trace scaling)
    assert log_det_distance(f, 7.0 * f, 1e-5) == pytest.approx(0.0, abs=1e-12)
    assert log_det_distance(f, 7.0 * f, 1e-5, normalize=False) > 1.0


def test_statistics_are_sample_mean_and_std():
    mean, std = statistics(np.array([[1.0], [3.0]]))
    assert mean[0] == 2.0 and std[0] == pytest.approx(2**0.5)
    mean, std = statistics(np.array([[1.0]]))
    assert mean[0] == 1.0 and std[0] == 0.0
