"""A drop-in for ``nats_bench.genotype_utils``: the topology cell as a structure of edges.

Scripts and the official tests turn an architecture string into a structure to compare cells up
to isomorphism (``topology_str2structure(api[i]).to_unique_str(consider_zero=True)``), to list
its edges or to rebuild its string.  :class:`TopologyStructure` does the same from the string
alone (no data is read), with the official method names and output formats.  With
:func:`benchsim.compat.install_hooks`, ``nats_bench.genotype_utils`` is this module.

A cell is a tuple per node ``1..n``: the ``(op, input node)`` edges entering it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchsim.errors import InvalidArchitectureError

__all__ = ["TopologyStructure", "topology_str2structure"]

Edge = tuple[str, int]


def _parse(xstr: object) -> list[list[Edge]]:
    if not isinstance(xstr, str):
        raise InvalidArchitectureError(
            f"architecture == {xstr!r} has type {type(xstr).__name__}, must be a string such "
            "as '|nor_conv_3x3~0|+|none~0|skip_connect~1|'"
        )
    nodes: list[list[Edge]] = []
    for node in xstr.split("+"):
        edges = []
        for part in (p for p in node.split("|") if p):
            op, sep, source = part.partition("~")
            if not sep or "~" in source or not source.isdigit():
                raise InvalidArchitectureError(f"edge {part!r} of {xstr!r} is not 'op~input node'")
            edges.append((op, int(source)))
        nodes.append(edges)
    return nodes


class TopologyStructure:
    """A topology cell (the official class of the same name; see the module docstring).

    Parameters
    ----------
    genotype
        One sequence per node of ``(op, input node)`` pairs, each input node below the node.
    """

    def __init__(self, genotype: Sequence[Sequence[Sequence[Any]]]) -> None:
        if not isinstance(genotype, (list, tuple)):
            raise InvalidArchitectureError(
                f"genotype has type {type(genotype).__name__}, must be a list or tuple"
            )
        self.nodes: list[tuple[Edge, ...]] = []
        for target, edges in enumerate(genotype):
            if not isinstance(edges, (list, tuple)) or not edges:
                raise InvalidArchitectureError(f"node {target + 1} == {edges!r} has no edges")
            for edge in edges:
                if not (isinstance(edge, (list, tuple)) and len(edge) == 2 and edge[1] <= target):
                    raise InvalidArchitectureError(
                        f"edge {edge!r} into node {target + 1} must be (op, input node <= {target})"
                    )
            self.nodes.append(tuple((str(op), int(src)) for op, src in edges))
        self.node_num = len(self.nodes) + 1
        self.node_N = [len(edges) for edges in self.nodes]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.node_num} nodes with {self.tostr()})"

    def __len__(self) -> int:
        return len(self.nodes) + 1

    def __getitem__(self, index: int) -> tuple[Edge, ...]:
        return self.nodes[index]

    def node(self, index: int) -> tuple[Edge, ...]:
        if not 0 < index <= len(self):
            raise IndexError(f"node index {index} out of range; allowed 1..{len(self)}")
        return self.nodes[index]

    def tostr(self) -> str:
        """The architecture string, ``|op~0|+|op~0|op~1|+...``."""
        return "+".join(
            "|" + "|".join(f"{op}~{src}" for op, src in edges) + "|" for edges in self.nodes
        )

    def tolist(self, remove_str: str | None) -> tuple[list[tuple[Edge, ...]] | None, bool]:
        """Edges per node sorted by (input, op), without ops named ``remove_str``; ``(None,
        False)`` when a node is left without an edge."""
        out = []
        for edges in self.nodes:
            kept = tuple(e for e in sorted(edges, key=lambda e: (e[1], e[0])) if e[0] != remove_str)
            if not kept:
                return None, False
            out.append(kept)
        return out, True

    def check_valid(self) -> bool:
        """Whether the output node is reachable from the input through non-``none`` edges."""
        alive = [True]
        for edges in self.nodes:
            alive.append(any(op != "none" and alive[src] for op, src in edges))
        return alive[-1]

    def check_valid_op(self, op_names: Sequence[str]) -> bool:
        return all(op in op_names for edges in self.nodes for op, _ in edges)

    def to_unique_str(self, consider_zero: bool | None = False) -> str:
        """An isomorphism-invariant expression of the cell's output (the official format):
        ``skip_connect`` passes its input through, and with ``consider_zero`` a ``none`` edge
        (or an edge from a zero node) is the zero ``#``; ``None`` keeps every op."""
        exprs = ["0"]
        for edges in self.nodes:
            terms = []
            for op, src in edges:
                if consider_zero and (op == "none" or exprs[src] == "#"):
                    terms.append("#")
                elif consider_zero is not None and op == "skip_connect":
                    terms.append(exprs[src])
                else:
                    terms.append(f"({exprs[src]})@{op}")
            exprs.append("+".join(sorted(terms)))
        return exprs[-1]

    @staticmethod
    def str2structure(xstr: str | TopologyStructure) -> TopologyStructure:
        """The structure of an architecture string (a structure is returned as is)."""
        if isinstance(xstr, TopologyStructure):
            return xstr
        return TopologyStructure(_parse(xstr))

    @staticmethod
    def str2fullstructure(xstr: str, default_name: str = "none") -> TopologyStructure:
        """As :meth:`str2structure`, every node also fed by each earlier node it lacks (with op
        ``default_name``), edges sorted by (input, op)."""
        nodes = []
        for target, edges in enumerate(_parse(xstr)):
            fed = {src for _, src in edges}
            edges = edges + [(default_name, j) for j in range(target) if j not in fed]
            nodes.append(tuple(sorted(edges, key=lambda e: (e[1], e[0]))))
        return TopologyStructure(nodes)


def topology_str2structure(xstr: str | TopologyStructure) -> TopologyStructure:
    """:meth:`TopologyStructure.str2structure` (the official module-level function)."""
    return TopologyStructure.str2structure(xstr)
