"""NAS-Bench-201 (NATS-Bench topology) cell space: 15,625 cells, official index order.

A cell is written ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: the three ``+``-separated groups are
nodes 1, 2, 3 and ``op~i`` is the edge from node ``i`` into that node.  The five ops are
``none`` (zero: no signal flows), ``skip_connect`` (identity), ``nor_conv_1x1``,
``nor_conv_3x3`` (ReLU-Conv-BN) and ``avg_pool_3x3``.

The integer index is the official one (``api.arch(i)`` of NAS-Bench-201 and NATS-Bench), which is
not computable from the cell: it is the order of NATS-Bench's ``meta.pickle.pbz2``.  It ships as
``nb201_order.npy`` (official index -> gene code, see :mod:`benchsim.spaces._cell`), written by
``scripts/make_nb201_order.py`` from that file.

NASLib writes a cell as six digits (``op_indices``) in its edge order 0->1, 0->2, 0->3, 1->2,
1->3, 2->3 with its own op numbers 0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1,
4 avg_pool_3x3.  :meth:`SearchSpace.index` reads any 6-digit string as op_indices (the largest
index, 15624, has five digits), and shorter digit strings as indices.

Example
-------
>>> from benchsim.spaces import get_space
>>> space = get_space("nb201")
>>> space.format(0)
'|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|'
>>> space.to_op_indices(0)
'433000'
>>> space.index("op:433000")
0
>>> len(space.neighbours(0))
24
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib import resources

import numpy as np

from benchsim.errors import DataError, InvalidArchitectureError
from benchsim.spaces import register_space
from benchsim.spaces._cell import EDGES, CellSpace, show

NB201_OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)
ORDER_FILE = "nb201_order.npy"
_SIZE = len(NB201_OPS) ** len(EDGES)
_OP_NUMBER = {op: k for k, op in enumerate(NB201_OPS)}
_TEMPLATE = "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"


def parse_genes(text: str) -> tuple[int, ...]:
    """Genes (op numbers in :data:`NB201_OPS`, string edge order) of an NB201 cell string.

    Strict: node ``j``'s inputs must be listed as ``~0 .. ~j-1`` in that order, as every
    official file writes them.  Does not need the index order, so the order generator can use
    it before ``nb201_order.npy`` exists.
    """
    if not isinstance(text, str):
        raise InvalidArchitectureError(
            f"nb201 architecture {show(text)} has type {type(text).__name__}; "
            f"give a string like {_TEMPLATE!r}"
        )
    nodes = text.split("+")
    if len(nodes) != 3:
        raise InvalidArchitectureError(
            f"nb201 string {show(text)} has {len(nodes)} '+'-separated nodes; "
            f"expected 3, as in {_TEMPLATE!r}"
        )
    genes: list[int] = []
    for target, node in enumerate(nodes, start=1):
        if len(node) < 2 or not (node.startswith("|") and node.endswith("|")):
            raise InvalidArchitectureError(
                f"node {target} {show(node)} of nb201 string {show(text)} must start and end "
                f"with '|', as in {_TEMPLATE!r}"
            )
        edges = node[1:-1].split("|")
        if len(edges) != target:
            raise InvalidArchitectureError(
                f"node {target} {show(node)} of nb201 string {show(text)} has {len(edges)} "
                f"edges; node {target} takes exactly {target} (from nodes 0..{target - 1})"
            )
        for source, edge in enumerate(edges):
            op, sep, origin = edge.partition("~")
            if not sep:
                raise InvalidArchitectureError(
                    f"edge {show(edge)} of nb201 string {show(text)} lacks '~'; "
                    f"write op~input_node, e.g. 'nor_conv_3x3~{source}'"
                )
            if origin != str(source):
                raise InvalidArchitectureError(
                    f"edge {show(edge)} into node {target} of nb201 string {show(text)} has "
                    f"input node {show(origin)}; expected {source} (node {target} lists its "
                    f"inputs 0..{target - 1} in order)"
                )
            number = _OP_NUMBER.get(op)
            if number is None:
                raise InvalidArchitectureError(
                    f"unknown op {show(op)} in nb201 string {show(text)}; "
                    f"allowed: {', '.join(NB201_OPS)}"
                )
            genes.append(number)
    return tuple(genes)


def format_genes(genes: Sequence[int]) -> str:
    """NB201 cell string of six op numbers in string edge order."""
    names = [NB201_OPS[g] for g in genes]
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*names)


@register_space("nb201")
class NB201Space(CellSpace):
    """The NAS-Bench-201 cell space in official index order (see the module docstring).

    Beyond the :class:`~benchsim.spaces.SearchSpace` contract it offers NB201's notion of
    isomorphic cells: :meth:`unique_str`, :meth:`unique_id` and :meth:`isomorphism_classes`.
    """

    name = "nb201"
    ops = NB201_OPS
    size = _SIZE
    decisions = (len(NB201_OPS),) * len(EDGES)
    naslib_edge_order = (0, 1, 3, 2, 4, 5)
    naslib_op_codes = (1, 0, 3, 2, 4)

    def _parse_genes(self, text: str) -> tuple[int, ...]:
        return parse_genes(text)

    def _format_genes(self, genes: Sequence[int]) -> str:
        return format_genes(genes)

    def _load_codes(self) -> np.ndarray:
        """Read and check the shipped order (a corrupt file must not shuffle every result)."""
        try:
            with resources.files("benchsim.spaces").joinpath(ORDER_FILE).open("rb") as handle:
                codes = np.load(handle, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(
                f"package file benchsim/spaces/{ORDER_FILE} is missing or unreadable ({exc}); "
                f"reinstall benchsim or run scripts/make_nb201_order.py"
            ) from exc
        if (
            codes.shape != (self.size,)
            or codes.dtype.kind not in "iu"
            or not np.array_equal(np.sort(codes.astype(np.int64)), np.arange(self.size))
        ):
            raise DataError(
                f"package file benchsim/spaces/{ORDER_FILE} is not a permutation of "
                f"0..{self.size - 1}; reinstall benchsim or run scripts/make_nb201_order.py"
            )
        return codes.astype(np.int64)

    # ------------------------------------------------------------------ isomorphism
    def unique_str(self, index: int) -> str:
        """NB201's ``CellStructure.to_unique_str(consider_zero=True)`` of an index.

        Two cells with the same string compute the same function: ``none`` edges and inputs
        that are exactly zero (``'#'``) carry nothing, ``skip_connect`` passes its input's
        expression through, and the inputs of a node are joined sorted by ``'+'``.  Replicated
        exactly, quirks included (a node whose inputs are all zero is ``'#+#'``, not ``'#'``),
        so the classes are the 6,466 that NB201 reports.
        """
        return self._unique_strings[self.index(index)]

    def unique_id(self, indices: int | np.ndarray) -> int | np.ndarray:
        """The class representative (smallest index of the isomorphic cells) of each index."""
        if np.ndim(indices) == 0 and not isinstance(indices, np.ndarray):
            return int(self._class_of[self.index(indices)])
        return self._class_of[self.indices(indices)]

    def isomorphism_classes(self) -> np.ndarray:
        """For every index, its class representative (read-only int64 array, 6,466 values)."""
        return self._class_of

    @cached_property
    def _unique_strings(self) -> list[str]:
        return [_unique_str(g) for g in self._genes.tolist()]

    @cached_property
    def _class_of(self) -> np.ndarray:
        first: dict[str, int] = {}
        labels = np.array(
            [first.setdefault(s, i) for i, s in enumerate(self._unique_strings)], dtype=np.int64
        )
        labels.setflags(write=False)
        return labels


def _unique_str(genes: Sequence[int]) -> str:
    """The ``to_unique_str(consider_zero=True)`` expression of one cell's genes."""
    nodes = ["0"]
    edge = 0
    for target in range(1, 4):
        inputs = []
        for source in range(target):
            op = NB201_OPS[genes[edge]]
            edge += 1
            if op == "none" or nodes[source] == "#":
                inputs.append("#")
            elif op == "skip_connect":
                inputs.append(nodes[source])
            else:
                inputs.append(f"({nodes[source]})@{op}")
        nodes.append("+".join(sorted(inputs)))
    return nodes[3]
