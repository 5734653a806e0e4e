"""The task-distance heatmap: a PNG of both panels, the same bytes for the same matrix."""

from __future__ import annotations

import pytest

from benchsim.distances import DistanceMatrix
from benchsim.report import plot_distance_heatmap

pytest.importorskip("matplotlib")


def test_heatmap_is_a_deterministic_png(tmp_path):
    m = DistanceMatrix.from_dict(
        {"tasks": ["a", "a-long-task-name-that-is-shortened-in-labels", "c"],
         "mean": [[0, 1, 3], [2, 0, 1], [5, 4, 0]], "std": [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
         "repeats": 3}
    )  # fmt: skip
    first = plot_distance_heatmap(m, tmp_path / "sub" / "d.png")
    second = plot_distance_heatmap(m, tmp_path / "again.png")
    data = first.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert data == second.read_bytes()  # no date or version inside
    other = DistanceMatrix.from_dict({"tasks": ["a", "b"], "mean": [[0, 1], [2, 0]]})
    assert plot_distance_heatmap(other, tmp_path / "o.png").read_bytes() != data
