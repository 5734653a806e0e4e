"""NB201 space: official order, NASLib op_indices and isomorphism against the real files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchsim.errors import InvalidArchitectureError
from benchsim.spaces import get_space
from benchsim.spaces._cell import EDGES
from benchsim.spaces.nb201 import NB201_OPS, NB201Space

ROOT = Path(__file__).resolve().parents[2]
VTAO = "v-tao/nats-bench-landscape/b307ae5fe6e8d7043cd4fe7d1c3532288271adb7/nats_bench.csv"
NASGRAPH = (
    "Zhenhan-Huang/NASGraph-Public/1f8fd621c60a48728fcc890818b6b94eee62e4dc/"
    "data/nasbench201_cifar10.csv"
)
NASLIB_OPS = {0: "skip_connect", 1: "none", 2: "nor_conv_3x3", 3: "nor_conv_1x1", 4: "avg_pool_3x3"}
NASLIB_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))


@pytest.fixture(scope="module")
def space() -> NB201Space:
    return get_space("nb201")


@pytest.fixture(scope="module")
def all_strings(space: NB201Space) -> list[str]:
    return [space.format(i) for i in range(space.size)]


@pytest.fixture(scope="module")
def order_script():
    spec = importlib.util.spec_from_file_location(
        "make_nb201_order", ROOT / "scripts" / "make_nb201_order.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def vtao(mirror_dir: Path) -> pd.DataFrame:
    return pd.read_csv(mirror_dir / VTAO, usecols=["ArchitectureString", "UniqueString"])


def nb201_string(genes: list[int]) -> str:
    """Write a cell string from genes independently of the code under test."""
    nodes = {1: [], 2: [], 3: []}
    for (src, dst), gene in zip(EDGES, genes, strict=True):
        nodes[dst].append(f"{NB201_OPS[gene]}~{src}")
    return "+".join("|" + "|".join(nodes[j]) + "|" for j in (1, 2, 3))


# ---------------------------------------------------------------- official order
def test_order_matches_nats_meta_file(space, all_strings, order_script, mirror_dir) -> None:
    archs = order_script.read_meta_archs(mirror_dir)
    assert all_strings == archs
    shipped = np.load(ROOT / "benchsim" / "spaces" / "nb201_order.npy")
    assert shipped.dtype == np.uint16 and shipped.shape == (15_625,)
    assert np.array_equal(order_script.build_order(archs), shipped)
    assert order_script.main(["--mirror", str(mirror_dir), "--check"]) == 0


def test_order_matches_vtao_and_nasgraph(all_strings, vtao, mirror_dir) -> None:
    assert vtao["ArchitectureString"].tolist() == all_strings
    nasgraph = pd.read_csv(mirror_dir / NASGRAPH, usecols=["file id", "arch str"])
    assert nasgraph["arch str"].tolist() == all_strings
    assert np.array_equal(nasgraph["file id"].to_numpy(), np.arange(15_625))


def test_known_official_indices(space) -> None:
    # arch 0 and 11 are NATS-Bench's shipped fixture architectures
    assert space.format(0) == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
        "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    )
    assert space.genes(0) == (4, 2, 1, 2, 1, 1)


# ---------------------------------------------------------------- NASLib op_indices
def test_naslib_op_indices_on_every_row(space, reference_dir) -> None:
    ref = pd.read_csv(
        reference_dir / "nb201" / "nb201_naslib_val_acc.csv",
        usecols=["op_indices", "arch_str"],
        dtype={"op_indices": str},
    )
    assert len(ref) == 15_625
    from_ops = [space.from_op_indices(o) for o in ref["op_indices"]]
    assert from_ops == [space.parse(s) for s in ref["arch_str"]]
    assert [space.to_op_indices(i) for i in from_ops] == ref["op_indices"].tolist()
    assert [space.index(f"op:{o}") for o in ref["op_indices"][:500]] == from_ops[:500]


@given(st.lists(st.integers(0, 4), min_size=6, max_size=6))
def test_op_indices_follow_naslib_convention(digits: list[int]) -> None:
    space = get_space("nb201")
    graph = space.to_graph(space.from_op_indices(digits))
    for digit, edge in zip(digits, NASLIB_EDGES, strict=True):
        assert graph.edges[edge]["op"] == NASLIB_OPS[digit]
    assert space.to_op_indices(space.from_op_indices(digits)) == "".join(map(str, digits))


def test_op_indices_are_given_explicitly_never_guessed(space) -> None:
    """A digit string is an index; op_indices need 'op:' or a sequence of ints."""
    assert space.index("op:000000") == space.from_op_indices([0] * 6) == space.index((0,) * 6)
    assert space.format(space.index("op:111111")).count("none") == 6
    assert space.index([2, 2, 2, 0, 2, 2]) == space.index("op:222022")
    assert space.index("12345") == 12_345
    with pytest.raises(InvalidArchitectureError, match=r"'000001' is zero-padded: write 1 .*op:"):
        space.index("000001")  # once silently read as op_indices (arch 7893)
    with pytest.raises(InvalidArchitectureError, match=r"for NASLib op_indices write 'op:403143'"):
        space.index("403143")
    for text in ("1e9", "3.0", "-2.5"):
        with pytest.raises(InvalidArchitectureError, match=r"is not an integer; an index must be"):
            space.index(text)
    with pytest.raises(InvalidArchitectureError, match=r"'012345'.*contains 5.*0 skip_connect"):
        space.index("op:012345")
    with pytest.raises(InvalidArchitectureError, match=r"must be 6 digits 0\.\.4"):
        space.from_op_indices("4444")
    np.testing.assert_array_equal(
        space.indices([(0,) * 6, (2, 2, 2, 0, 2, 2)]),
        [space.index("op:000000"), space.index("op:222022")],
    )


# ---------------------------------------------------------------- isomorphism
def test_unique_strings_equal_nb201s(space, vtao) -> None:
    assert [space.unique_str(i) for i in range(space.size)] == vtao["UniqueString"].tolist()


def test_isomorphism_classes_partition(space, vtao) -> None:
    classes = space.isomorphism_classes()
    assert len(np.unique(classes)) == 6_466
    # partition by v-tao's UniqueString, labelled by the smallest index of each class
    index = pd.Series(np.arange(len(vtao)))
    expected = index.groupby(vtao["UniqueString"].to_numpy()).transform("min").to_numpy()
    assert np.array_equal(classes, expected)
    assert np.array_equal(classes[classes], classes)  # representatives represent themselves
    assert space.unique_id(5) == classes[5]
    assert np.array_equal(space.unique_id(np.arange(10)), classes[:10])


def test_isomorphic_cells_by_construction(space) -> None:
    # a cell whose output is cut off from the input: every edge into node 3 is none
    # and nodes 1, 2 only matter through node 3, so all such cells share a class
    cut = [space.from_genes([a, b, c, 0, 0, 0]) for a in range(5) for b in range(5) for c in (1, 3)]
    assert len(set(space.unique_id(np.array(cut)).tolist())) == 1
    # skip_connect 0->1 then conv 1->3 equals conv 0->3 when the rest is none
    a = space.from_genes([1, 0, 0, 0, 3, 0])
    b = space.from_genes([0, 0, 0, 3, 0, 0])
    assert space.unique_id(a) == space.unique_id(b)
    assert space.unique_id(a) != space.unique_id(space.from_genes([0, 0, 0, 2, 0, 0]))


# ---------------------------------------------------------------- strings
@given(st.lists(st.integers(0, 4), min_size=6, max_size=6))
def test_parse_format_property(genes: list[int]) -> None:
    space = get_space("nb201")
    text = nb201_string(genes)
    index = space.parse(text)
    assert space.genes(index) == tuple(genes)
    assert space.format(index) == text
    assert space.to_decisions(index) == tuple(genes)


TEMPLATE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|"


@pytest.mark.parametrize(
    ("bad", "fragments"),
    [
        (TEMPLATE.rsplit("+", 1)[0], ["has 2 '+'-separated nodes", "expected 3"]),
        (TEMPLATE.replace("none~1|+", "conv_5x5~1|+"), ["unknown op 'conv_5x5'", "allowed: none,"]),
        (TEMPLATE.replace("|none~1|+", "|none~0|+"), ["input node '0'; expected 1"]),
        (TEMPLATE.replace("|+|nor_conv_3x3~0|none", "|none~0|+|nor_conv_3x3~0|none"), ["2 edges"]),
        (TEMPLATE[1:], ["must start and end with '|'"]),
        (TEMPLATE.replace("skip_connect~0", "skip_connect-0"), ["lacks '~'"]),
        (TEMPLATE.replace("+", "|"), ["has 1 '+'-separated nodes"]),
    ],
)
def test_malformed_strings(space, bad: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidArchitectureError) as info:
        space.parse(bad)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_long_bad_input_is_shortened(space) -> None:
    with pytest.raises(InvalidArchitectureError) as info:
        space.parse("|" + "x" * 10_000)
    assert len(str(info.value)) < 300


# ---------------------------------------------------------------- variation
def test_neighbours_differ_in_exactly_one_edge(space) -> None:
    genes = np.array([space.genes(i) for i in range(space.size)])
    for i in range(0, space.size, 7):
        nbrs = space.neighbours(i)
        assert len(nbrs) == 24
        diff = (genes[nbrs] != genes[i]).sum(axis=1)
        assert (diff == 1).all()
        assert np.array_equal(nbrs, np.flatnonzero((genes != genes[i]).sum(axis=1) == 1))


def test_crossover_is_uniform_and_complementary(space) -> None:
    rng = np.random.default_rng(123)
    a, b = space.from_genes([0, 0, 0, 0, 0, 0]), space.from_genes([1, 2, 3, 4, 1, 2])
    from_a = []
    for _ in range(2_000):
        c1, c2 = space.crossover(a, b, rng)
        g1, g2 = np.array(space.genes(c1)), np.array(space.genes(c2))
        assert ((g1 == 0) ^ (g2 == 0)).all()  # each edge: one child from a, the other from b
        from_a.append(g1 == 0)
    share = np.mean(from_a, axis=0)
    assert ((share > 0.45) & (share < 0.55)).all()


# ---------------------------------------------------------------- representations
def test_graph_has_all_six_edges_with_ops(space) -> None:
    index = space.parse(TEMPLATE)
    graph = space.to_graph(index)
    assert sorted(graph.nodes) == [0, 1, 2, 3]
    assert set(graph.edges) == set(EDGES)
    assert [graph.edges[e]["op"] for e in EDGES] == [
        "nor_conv_3x3", "nor_conv_3x3", "none", "skip_connect", "none", "avg_pool_3x3"
    ]  # fmt: skip


def test_encode_layout(space) -> None:
    enc = space.encode(space.parse(TEMPLATE)).reshape(6, 5)
    assert enc.argmax(axis=1).tolist() == [3, 3, 0, 1, 0, 4]
