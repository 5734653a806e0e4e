"""Random search draws ahead, yet evaluates what one draw per ask would (seeded results kept)."""

from __future__ import annotations

import numpy as np
import pytest

from benchsim.algorithms import FINISHED, Problem, TaskSpec, create
from benchsim.algorithms.random_search import DRAW_AHEAD
from benchsim.spaces import SPACE_NAMES, get_space


def _searcher(space_name: str, seed: int):
    space = get_space(space_name)
    searcher = create("rs", space_name, {})
    searcher.setup(
        Problem(space, (TaskSpec("t", "m", 1),), space_name), np.random.default_rng(seed)
    )
    return searcher, space


@pytest.mark.parametrize("space_name", SPACE_NAMES)
def test_drawing_ahead_evaluates_what_one_draw_per_ask_would(space_name):
    searcher, space = _searcher(space_name, 3)
    asked = [searcher.ask().arch for _ in range(2 * DRAW_AHEAD + 7)]
    one_by_one = np.random.default_rng(3)
    assert asked == [space.sample(one_by_one) for _ in asked]


def test_a_searcher_saved_before_drawing_ahead_goes_on_with_its_generator():
    """A checkpoint of an older benchsim holds no ``drawn_``: the next ask draws from the
    generator where it stands, as that version would have."""
    searcher, space = _searcher("nb201", 8)
    first = searcher.ask().arch
    del searcher.drawn_  # as decoded from such a checkpoint (its generator never drew ahead)
    searcher.rng_ = np.random.default_rng(9)
    assert [searcher.ask().arch for _ in range(3)] == [
        space.sample(g) for g in [np.random.default_rng(9)] for _ in range(3)
    ]
    assert first == space.sample(np.random.default_rng(8))


@pytest.mark.parametrize("replace", [True, False])
def test_ask_many_asks_what_ask_would_and_leaves_the_searcher_as_ask_does(replace):
    """Batches of any size, across the blocks drawn ahead, then single asks again."""
    space = get_space("tnb101-macro")
    problem = Problem(space, (TaskSpec("t", "m", 1),), "tnb101-macro")
    one, many = (create("rs", "tnb101-macro", {"replace": replace}) for _ in range(2))
    one.setup(problem, np.random.default_rng(6))
    many.setup(problem, np.random.default_rng(6))
    sizes = [1, 5, DRAW_AHEAD, DRAW_AHEAD + 9, 1000, 3, 2000]
    asked = []
    for size in sizes:
        task, archs = many.ask_many(size)
        assert task == "t" and 1 <= archs.size <= min(size, DRAW_AHEAD if replace else size)
        assert archs.dtype == np.int64
        asked += archs.tolist()
    assert asked == [one.ask().arch for _ in asked]
    assert [many.ask() for _ in range(300)] == [one.ask() for _ in range(300)]  # or FINISHED


def test_ask_many_without_replacement_finishes_with_the_space():
    space = get_space("tnb101-macro")
    searcher = create("rs", "tnb101-macro", {"replace": False})
    problem = Problem(space, (TaskSpec("t", "m", 1),), "tnb101-macro")
    searcher.setup(problem, np.random.default_rng(1))
    seen = []
    while (batch := searcher.ask_many(1000)) != FINISHED:
        seen += batch[1].tolist()
    assert sorted(seen) == list(range(space.size))
