"""Contract suite: every registered search space meets the SearchSpace contract.

Parametrised over ``SPACE_NAMES``, so a new space is tested by being registered.  Round trips
run over every architecture of each space.
"""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pytest

from benchsim.errors import InvalidArchitectureError, UnknownNameError
from benchsim.spaces import SPACE_NAMES, SearchSpace, get_space

EXPECTED = {
    "nb201": (15_625, 30, (5,) * 6),
    "tnb101-micro": (4_096, 24, (4,) * 6),
    "tnb101-macro": (3_256, 30, (5,) * 6),
}


@pytest.fixture(params=SPACE_NAMES)
def space(request: pytest.FixtureRequest) -> SearchSpace:
    return get_space(request.param)


def test_registry_covers_expected_spaces() -> None:
    from benchsim.spaces import SPACES

    assert set(SPACE_NAMES) == set(EXPECTED) == set(SPACES.names())
    assert get_space("nb201") is get_space("nb201")


def test_unknown_space_lists_names() -> None:
    with pytest.raises(UnknownNameError, match=r"'nb301'.*nb201, tnb101-macro, tnb101-micro"):
        get_space("nb301")


def test_sizes_and_shapes(space: SearchSpace) -> None:
    size, enc, decisions = EXPECTED[space.name]
    assert space.size == size
    assert space.encoding_size == enc == sum(decisions)
    assert space.decisions == decisions
    assert np.array_equal(space.enumerate(), np.arange(size))
    assert space.name in repr(space)


def test_string_round_trip_all(space: SearchSpace) -> None:
    strings = [space.format(i) for i in range(space.size)]
    assert len(set(strings)) == space.size
    assert [space.parse(s) for s in strings] == list(range(space.size))
    assert np.array_equal(space.indices(strings), np.arange(space.size))
    # surrounding whitespace is forgiven, as in `index`
    assert space.index(f"  {strings[7]}\n") == 7


def test_op_indices_round_trip_all(space: SearchSpace) -> None:
    ops = [space.to_op_indices(i) for i in range(space.size)]
    assert len(set(ops)) == space.size
    assert all(o.isdigit() for o in ops)
    assert [space.from_op_indices(o) for o in ops] == list(range(space.size))
    as_ints = [[int(c) for c in o] for o in ops[:50]]
    assert [space.from_op_indices(o) for o in as_ints] == list(range(50))


def test_decisions_round_trip_all(space: SearchSpace) -> None:
    choices = np.array([space.to_decisions(i) for i in range(space.size)])
    assert choices.shape == (space.size, len(space.decisions))
    assert (choices >= 0).all() and (choices < np.array(space.decisions)).all()
    assert [space.from_decisions(c) for c in choices.tolist()] == list(range(space.size))
    assert space.from_decisions(choices[3]) == 3  # numpy rows work too
    table = space.decision_table()
    assert table.dtype == np.int64 and np.array_equal(table, choices)
    assert space.decision_table() is table and not table.flags.writeable  # built once, shared
    assert [space.format(i) for i in range(space.size)] == [
        space.format(space.parse(space.format(i))) for i in range(space.size)
    ]


def test_encoding_is_one_hot_of_decisions(space: SearchSpace) -> None:
    enc = space.encode(space.enumerate())
    assert enc.shape == (space.size, space.encoding_size) and enc.dtype == np.float32
    assert set(np.unique(enc)) == {0.0, 1.0}
    bounds = np.cumsum((0, *space.decisions))
    decoded = np.stack([enc[:, a:b].argmax(axis=1) for a, b in pairwise(bounds)], axis=1)
    assert np.array_equal(enc.sum(axis=1), np.full(space.size, len(space.decisions)))
    assert np.array_equal(decoded, np.array([space.to_decisions(i) for i in range(space.size)]))
    assert np.array_equal(space.encode(5), enc[5])
    assert space.encode(np.array([[1, 2], [3, 4]])).shape == (2, 2, space.encoding_size)


def test_index_accepts_ints_and_digit_strings(space: SearchSpace) -> None:
    assert space.index(np.int64(3)) == 3
    assert space.index(" 12 ") == 12
    assert space.index(str(space.size - 1)) == space.size - 1


@pytest.mark.parametrize("bad", [True, 1.5, None, b"12", [1, 2]])
def test_index_rejects_wrong_types(space: SearchSpace, bad: object) -> None:
    with pytest.raises(InvalidArchitectureError) as info:
        space.index(bad)
    assert "\n" not in str(info.value)


def test_out_of_range_index_names_range(space: SearchSpace) -> None:
    for bad in (space.size, -1, str(space.size)):
        with pytest.raises(InvalidArchitectureError, match=rf"allowed: 0\.\.{space.size - 1}"):
            space.index(bad)
    with pytest.raises(InvalidArchitectureError, match=f"index {space.size} is out of range"):
        space.indices(np.array([0, space.size]))


def test_bad_decisions(space: SearchSpace) -> None:
    n = len(space.decisions)
    with pytest.raises(InvalidArchitectureError, match=f"has {n - 1} entries; expected {n}"):
        space.from_decisions([1] * (n - 1))
    with pytest.raises(InvalidArchitectureError, match="every entry must be an int"):
        space.from_decisions([1.0] * n)
    with pytest.raises(InvalidArchitectureError, match="must be a sequence"):
        space.from_decisions("111111")
    too_big = space.decisions[0]
    with pytest.raises(InvalidArchitectureError, match=rf"\b{too_big}\b.*allowed 0"):
        space.from_decisions([too_big] * n)


def test_parse_rejects_non_strings(space: SearchSpace) -> None:
    with pytest.raises(InvalidArchitectureError, match="has type int"):
        space.parse(5)


def test_neighbours_are_a_symmetric_relation(space: SearchSpace) -> None:
    rng = np.random.default_rng(0)
    for i in rng.choice(space.size, 200, replace=False).tolist():
        nbrs = space.neighbours(i)
        assert nbrs.dtype == np.int64 and len(nbrs) > 0
        assert np.array_equal(nbrs, np.unique(nbrs)) and i not in nbrs
        assert nbrs.min() >= 0 and nbrs.max() < space.size
        for j in nbrs[:5].tolist():
            assert i in space.neighbours(j)


def test_mutate_draws_a_position_in_the_sorted_neighbours(space: SearchSpace) -> None:
    """What REA's seeded runs depend on: ``rng.integers(len(neighbours))`` indexes the sorted
    neighbours, however the space stores them (a table for cells, a memo for the macro space)."""
    rng, again = np.random.default_rng(5), np.random.default_rng(5)
    for i in np.random.default_rng(6).choice(space.size, 300, replace=False).tolist():
        nbrs = space.neighbours(i)
        child = space.mutate(i, rng)
        assert type(child) is int and child == nbrs[again.integers(len(nbrs))]
    assert space.mutate(np.int64(3), np.random.default_rng(1)) == space.mutate(
        space.format(3), np.random.default_rng(1)
    )


def test_mutate_and_sample_are_seeded(space: SearchSpace) -> None:
    draws = [space.mutate(11, np.random.default_rng(s)) for s in range(30)]
    assert draws == [space.mutate(11, np.random.default_rng(s)) for s in range(30)]
    assert set(draws) <= set(space.neighbours(11).tolist())
    assert len(set(draws)) > 1
    a = space.sample(np.random.default_rng(4), 100)
    assert a.dtype == np.int64 and a.shape == (100,) and a.max() < space.size
    assert np.array_equal(a, space.sample(np.random.default_rng(4), 100))
    assert isinstance(space.sample(np.random.default_rng(4)), int)


def test_crossover_is_seeded_and_valid(space: SearchSpace) -> None:
    pairs = [(3, space.size - 5), (100, 2000), (7, 7)]
    for a, b in pairs:
        first = [space.crossover(a, b, np.random.default_rng(s)) for s in range(20)]
        again = [space.crossover(a, b, np.random.default_rng(s)) for s in range(20)]
        assert first == again
        for c1, c2 in first:
            assert isinstance(c1, int) and 0 <= c1 < space.size
            assert isinstance(c2, int) and 0 <= c2 < space.size
    assert space.crossover(7, 7, np.random.default_rng(0)) == (7, 7)


def test_graph_names_its_architecture(space: SearchSpace) -> None:
    graph = space.to_graph(42)
    assert isinstance(graph, nx.DiGraph) and nx.is_directed_acyclic_graph(graph)
    assert graph.graph["index"] == 42 and graph.graph["arch"] == space.format(42)
    assert all("op" in data for _, _, data in graph.edges(data=True))


@pytest.mark.parametrize("bad", ["", "x", "64-", "|a~0|", "0_00_000", "-5", "1e3"])
def test_error_messages_are_one_line(space: SearchSpace, bad: str) -> None:
    with pytest.raises(InvalidArchitectureError) as info:
        space.index(bad)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300
