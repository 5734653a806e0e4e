"""TransNAS-Bench-101 macro space against NASGraph's row order and NASLib's keys."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchsim.errors import InvalidArchitectureError
from benchsim.spaces import get_space
from benchsim.spaces.tnb101_macro import TNB101MacroSpace


@pytest.fixture(scope="module")
def space() -> TNB101MacroSpace:
    return get_space("tnb101-macro")


@pytest.fixture(scope="module")
def modules(space: TNB101MacroSpace) -> list[tuple[int, ...]]:
    return [space.modules(i) for i in range(space.size)]


def is_member(digits: tuple[int, ...]) -> bool:
    """The space's rule, written out independently: 4-6 modules, 1-3 x2 channels, 1-4 /2."""
    channels = sum(d in (2, 4) for d in digits)
    downsamples = sum(d in (3, 4) for d in digits)
    return 4 <= len(digits) <= 6 and 1 <= channels <= 3 and 1 <= downsamples <= 4


def test_order_is_nasgraphs_row_order(space, reference_dir: Path) -> None:
    ref = pd.read_csv(
        reference_dir / "tnb101" / "tnb101_class_scene_all7352_bestmode_nasgraph.csv",
        usecols=["arch_str", "search_space"],
    )
    macro = ref[ref["search_space"] == "macro"]
    assert macro.index.tolist() == list(range(3_256))
    assert macro["arch_str"].tolist() == [space.format(i) for i in range(space.size)]


def test_space_is_every_valid_digit_string(modules) -> None:
    every = [
        d for n in (4, 5, 6) for d in itertools.product((1, 2, 3, 4), repeat=n) if is_member(d)
    ]
    assert len(modules) == len(set(modules)) == 3_256
    assert set(modules) == set(every)


def test_naslib_macro_file(space, reference_dir: Path) -> None:
    ref = pd.read_csv(
        reference_dir / "tnb101" / "tnb101_macro_naslib_val.csv",
        usecols=["op_indices", "arch_str"],
        dtype={"op_indices": str},
    )
    assert len(ref) == 3_256
    parsed = [space.parse(s) for s in ref["arch_str"]]
    assert sorted(parsed) == list(range(3_256))
    assert [space.from_op_indices(o) for o in ref["op_indices"]] == parsed
    assert [space.to_op_indices(i) for i in parsed] == ref["op_indices"].tolist()
    # NASLib writes 4- and 5-module networks unpadded ("1114", "11114")
    assert set(ref["op_indices"].str.len()) == {4, 5, 6}


def test_op_indices_lengths_and_padding(space) -> None:
    four = space.parse("64-1114-basic")
    assert space.to_op_indices(four) == "1114"
    assert space.from_op_indices("1114") == four
    assert space.from_op_indices("111400") == four == space.index("op:111400")
    assert space.from_op_indices([1, 1, 1, 4, 0, 0]) == four == space.index((1, 1, 1, 4, 0, 0))
    assert space.index("1114") == 1_114  # a digit string: always an index
    assert space.index("op:11114") == space.parse("64-11114-basic")
    with pytest.raises(InvalidArchitectureError, match="write 'op:11114'"):
        space.index("11114")
    with pytest.raises(InvalidArchitectureError, match="0 \\(no module\\) before a module"):
        space.index("op:110114")
    with pytest.raises(InvalidArchitectureError, match="4 to 6 module digits"):
        space.from_op_indices("1111114")


def test_decisions_accept_exactly_the_members(space) -> None:
    valid = {}
    for choices in itertools.product(range(5), repeat=6):
        try:
            valid[choices] = space.from_decisions(choices)
        except InvalidArchitectureError:
            continue
    assert sorted(valid.values()) == list(range(3_256))
    assert all(space.to_decisions(i) == c for c, i in valid.items())
    with pytest.raises(InvalidArchitectureError, match="empty slots must all be at the end"):
        space.from_decisions((1, 0, 1, 1, 4, 0))


@given(st.lists(st.integers(1, 4), min_size=1, max_size=8))
def test_parse_format_property(digits: list[int]) -> None:
    space = get_space("tnb101-macro")
    text = "64-{}-basic".format("".join(map(str, digits)))
    if is_member(tuple(digits)):
        index = space.parse(text)
        assert space.format(index) == text
        assert space.modules(index) == tuple(digits)
        assert space.to_decisions(index) == (*digits, *[0] * (6 - len(digits)))
    else:
        with pytest.raises(InvalidArchitectureError):
            space.parse(text)


def test_neighbours_are_single_edits(space, modules) -> None:
    # expected: members one substitution (Hamming 1, same length) or one insertion/deletion apart
    index = {m: i for i, m in enumerate(modules)}
    expected: set[tuple[int, int]] = set()
    by_len = {n: np.array([m for m in modules if len(m) == n]) for n in (4, 5, 6)}
    for n, arr in by_len.items():
        hamming = (arr[:, None, :] != arr[None, :, :]).sum(axis=2)
        for x, y in zip(*np.nonzero(hamming == 1), strict=True):
            expected.add((index[tuple(arr[x])], index[tuple(arr[y])]))
        if n + 1 in by_len:
            for long_row in by_len[n + 1].tolist():
                for pos in range(n + 1):
                    short = index.get(tuple(long_row[:pos] + long_row[pos + 1 :]))
                    if short is not None:
                        long = index[tuple(long_row)]
                        expected |= {(short, long), (long, short)}
    found = {(i, int(j)) for i in range(space.size) for j in space.neighbours(i)}
    assert found == expected


def test_crossover_mixes_positions_and_falls_back_per_child(space) -> None:
    a, b = space.parse("64-2311-basic"), space.parse("64-1314-basic")
    mods_a, mods_b = space.modules(a), space.modules(b)

    def child_or(mods: tuple[int, ...], parent: int) -> int:
        return (
            space.parse("64-{}-basic".format("".join(map(str, mods))))
            if is_member(mods)
            else parent
        )

    possible = set()
    for mask in itertools.product((True, False), repeat=4):
        first = tuple(x if t else y for x, y, t in zip(mods_a, mods_b, mask, strict=True))
        second = tuple(y if t else x for x, y, t in zip(mods_a, mods_b, mask, strict=True))
        possible.add((child_or(first, a), child_or(second, b)))
    seen = {space.crossover(a, b, np.random.default_rng(seed)) for seed in range(64)}
    assert seen == possible
    # 1311 never doubles the channels: the first child falls back to a, the second stays a child
    assert (a, space.parse("64-2314-basic")) in seen


def test_crossover_passes_the_longer_tail(space) -> None:
    a, b = space.parse("64-1114-basic"), space.parse("64-111412-basic")
    lengths = set()
    for seed in range(32):
        c1, c2 = space.crossover(a, b, np.random.default_rng(seed))
        m1, m2 = space.modules(c1), space.modules(c2)
        lengths.add((len(m1), len(m2)))
        assert sorted((len(m1), len(m2))) == [4, 6]
        assert m1[:4] == m2[:4] == (1, 1, 1, 4)
    assert lengths == {(4, 6), (6, 4)}


def test_graph_is_a_chain_of_modules(space) -> None:
    graph = space.to_graph("64-41234-basic")
    assert list(graph.edges) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert [graph.nodes[k]["op"] for k in range(6)] == ["input", "4", "1", "2", "3", "4"]
    assert graph.nodes[4]["module"] == "downsample"
    assert [graph.edges[k - 1, k]["op"] for k in range(1, 6)] == ["4", "1", "2", "3", "4"]


def test_encode_pads_with_no_module(space) -> None:
    enc = space.encode(space.parse("64-1114-basic")).reshape(6, 5)
    assert enc.argmax(axis=1).tolist() == [1, 1, 1, 4, 0, 0]


@pytest.mark.parametrize(
    ("bad", "fragments"),
    [
        ("64-1114", ["is not of the form '64-<4 to 6 digits 1-4>-basic'"]),
        ("64-41414-0_00_000", ["tnb101-micro string"]),
        ("64-11115-basic", ["module '5'", "1 normal, 2 channels x2, 3 resolution /2, 4 both"]),
        ("64-114-basic", ["has 3 modules; allowed 4 to 6"]),
        ("64-1111111-basic", ["has 7 modules"]),
        ("64-1113-basic", ["doubles the channels 0 times", "allowed 1 to 3"]),
        ("64-22223-basic", ["doubles the channels 4 times"]),
        ("64-2111-basic", ["halves the resolution 0 times", "allowed 1 to 4"]),
        ("64-33334-basic", ["halves the resolution 5 times"]),
    ],
)
def test_malformed_strings(space, bad: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidArchitectureError) as info:
        space.index(bad)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
