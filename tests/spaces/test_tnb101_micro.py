"""TransNAS-Bench-101 micro space against NASLib's and NASGraph's real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchsim.errors import InvalidArchitectureError
from benchsim.spaces import get_space
from benchsim.spaces._cell import EDGES
from benchsim.spaces.tnb101_micro import TNB101MicroSpace


@pytest.fixture(scope="module")
def space() -> TNB101MicroSpace:
    return get_space("tnb101-micro")


@pytest.fixture(scope="module")
def all_strings(space: TNB101MicroSpace) -> list[str]:
    return [space.format(i) for i in range(space.size)]


def test_index_is_lexicographic_base4(space, all_strings) -> None:
    assert all_strings == sorted(all_strings)
    assert all_strings[0] == "64-41414-0_00_000" and all_strings[-1] == "64-41414-3_33_333"
    digits = np.array([[int(c) for c in s[9:].replace("_", "")] for s in all_strings])
    assert np.array_equal(digits @ 4 ** np.arange(5, -1, -1), np.arange(4_096))


def test_naslib_micro_file_on_every_row(space, all_strings, reference_dir: Path) -> None:
    ref = pd.read_csv(
        reference_dir / "tnb101" / "tnb101_micro_naslib_val.csv",
        usecols=["op_indices", "arch_str"],
        dtype={"op_indices": str},
    )
    assert ref["arch_str"].tolist() == all_strings  # the file is in index order
    assert [space.from_op_indices(o) for o in ref["op_indices"]] == list(range(4_096))
    assert [space.to_op_indices(i) for i in range(4_096)] == ref["op_indices"].tolist()
    assert space.index("op:000000") == 0 and space.index("op:000123") == 27


def test_nasgraph_rows_are_micro_in_index_order(all_strings, reference_dir: Path) -> None:
    ref = pd.read_csv(
        reference_dir / "tnb101" / "tnb101_class_scene_all7352_bestmode_nasgraph.csv",
        usecols=["arch_str", "search_space"],
    )
    micro = ref[ref["search_space"] == "micro"]
    assert micro.index.min() == 3_256
    assert micro["arch_str"].tolist() == all_strings


def test_edges_follow_transnas_microcell(space) -> None:
    # MicroCell: node j's digits are its inputs 0..j-1, so "a_bc_def" is 0->1 | 0->2 1->2 | ...
    graph = space.to_graph("64-41414-1_23_012")
    ops = {e: graph.edges[e]["op"] for e in graph.edges}
    assert ops == {
        (0, 1): "skip_connect",
        (0, 2): "nor_conv_1x1",
        (1, 2): "nor_conv_3x3",
        (0, 3): "none",
        (1, 3): "skip_connect",
        (2, 3): "nor_conv_1x1",
    }
    assert space.encode("64-41414-1_23_012").reshape(6, 4).argmax(axis=1).tolist() == [
        1, 2, 3, 0, 1, 2
    ]  # fmt: skip


@given(st.lists(st.integers(0, 3), min_size=6, max_size=6))
def test_parse_format_property(genes: list[int]) -> None:
    space = get_space("tnb101-micro")
    text = "64-41414-{}_{}{}_{}{}{}".format(*genes)
    index = space.parse(text)
    assert index == int("".join(map(str, genes)), 4)
    assert space.format(index) == text
    assert space.to_decisions(index) == tuple(genes)
    assert space.to_op_indices(index) == "".join(map(str, genes))


def test_neighbours_differ_in_exactly_one_edge(space) -> None:
    genes = np.array([space.to_decisions(i) for i in range(space.size)])
    for i in range(0, space.size, 3):
        nbrs = space.neighbours(i)
        assert len(nbrs) == 18
        assert ((genes[nbrs] != genes[i]).sum(axis=1) == 1).all()
        assert np.array_equal(nbrs, np.flatnonzero((genes != genes[i]).sum(axis=1) == 1))


def test_crossover_complementary(space) -> None:
    rng = np.random.default_rng(5)
    a, b = space.parse("64-41414-0_00_000"), space.parse("64-41414-1_23_123")
    for _ in range(200):
        c1, c2 = space.crossover(a, b, rng)
        g1, g2 = np.array(space.to_decisions(c1)), np.array(space.to_decisions(c2))
        assert ((g1 == 0) ^ (g2 == 0)).all()


@pytest.mark.parametrize(
    ("bad", "fragments"),
    [
        ("64-41414-0_00", ["2 '_'-separated nodes", "expected 3"]),
        ("64-41414-0_000_00", ["node 2 '000'", "has 3 digits", "exactly 2"]),
        ("64-41414-0_00_004", ["op digit '4'", "0 none, 1 skip_connect, 2 conv1x1, 3 conv3x3"]),
        ("64-1114-basic", ["must start with '64-41414-'", "tnb101-macro string"]),
        ("32-41414-0_00_000", ["must start with '64-41414-'"]),
        ("0_00_000", ["must start with '64-41414-'"]),
    ],
)
def test_malformed_strings(space, bad: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidArchitectureError) as info:
        space.index(bad)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_bad_op_indices(space) -> None:
    match = r"'000004'.*contains 4.*allowed digits 0\.\.3"
    with pytest.raises(InvalidArchitectureError, match=match):
        space.index("op:000004")
    with pytest.raises(InvalidArchitectureError, match="has 5 entries; expected 6"):
        space.from_op_indices([0, 0, 0, 0, 0])
    assert len(EDGES) == len(space.decisions)
