"""The 4-node, 6-edge cell that NAS-Bench-201 and TransNAS-Bench-101 micro share.

Both benchmarks search one cell: nodes 0..3, node 0 is the cell input, node 3 its output, and
every pair ``i < j`` is joined by an edge carrying one operation.  They differ only in the op
list (5 vs 4 ops), in how the cell is written as a string and in how an integer index is
assigned, so :class:`CellSpace` implements everything else once and the two subclasses supply
those three things.

A cell is held as its *genes*: six op numbers (positions in ``ops``) in *string edge order*
:data:`EDGES` = ``0->1, 0->2, 1->2, 0->3, 1->3, 2->3``, which is the order both official string
forms list the edges in.  The *code* of a cell is its genes read as a base-``len(ops)`` number,
first edge most significant, so sorting codes sorts cells lexicographically by genes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # networkx costs ~120 ms to import: only graph users pay for it
    import networkx as nx

from benchsim.errors import InvalidArchitectureError
from benchsim.spaces._base import SearchSpace

EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""The six edges ``(source, target)`` in string order (node ``j``'s inputs are 0..j-1)."""

N_EDGES = len(EDGES)
N_NODES = 4


def show(value: object, limit: int = 80) -> str:
    """``repr`` of a bad value, cut to ``limit`` characters so an error stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def genes_to_codes(genes: np.ndarray, n_ops: int) -> np.ndarray:
    """Base-``n_ops`` codes of an ``(..., 6)`` gene array (first edge most significant)."""
    weights = n_ops ** np.arange(N_EDGES - 1, -1, -1, dtype=np.int64)
    return np.asarray(genes, dtype=np.int64) @ weights


def codes_to_genes(codes: np.ndarray, n_ops: int) -> np.ndarray:
    """Inverse of :func:`genes_to_codes`: a ``(..., 6)`` uint8 gene array."""
    codes = np.asarray(codes, dtype=np.int64)
    weights = n_ops ** np.arange(N_EDGES - 1, -1, -1, dtype=np.int64)
    return ((codes[..., None] // weights) % n_ops).astype(np.uint8)


def int_tuple(values: object, what: str, length: int, context: str) -> tuple[int, ...]:
    """Validate a sequence of ``length`` integers (no bools, no floats) and return it as a tuple.

    Used for decisions, genes and op_indices given as sequences, so each bad shape or type
    gives the same kind of one-line message.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise InvalidArchitectureError(
            f"{what} {show(values)} for {context} must be a sequence of {length} ints"
        )
    items = list(np.asarray(values).ravel()) if isinstance(values, np.ndarray) else list(values)
    if len(items) != length:
        raise InvalidArchitectureError(
            f"{what} {show(values)} for {context} has {len(items)} entries; expected {length}"
        )
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise InvalidArchitectureError(
                f"{what} {show(values)} for {context} contains {show(item)}; "
                f"every entry must be an int"
            )
    return tuple(int(item) for item in items)


class CellSpace(SearchSpace):
    """Base of the cell spaces: everything except the string form and the index order.

    Subclasses set ``name``, ``ops``, ``size`` (``len(ops) ** 6``), ``decisions`` and the two
    NASLib class attributes, and implement :meth:`_parse_genes`, :meth:`_format_genes` and
    :meth:`_load_codes`.  Lookup tables are built on first use and kept (spaces are cached by
    :func:`benchsim.spaces.get_space`), so every per-architecture call is an array or dict
    lookup.
    """

    naslib_edge_order: tuple[int, ...]
    """For each NASLib op_indices position, the string-order edge it describes."""
    naslib_op_codes: tuple[int, ...]
    """For each op (position in ``ops``), the digit NASLib writes for it."""

    # ------------------------------------------------------------------ subclass hooks
    @abstractmethod
    def _parse_genes(self, text: str) -> tuple[int, ...]:
        """Genes of an official string; raises :class:`InvalidArchitectureError` on a fault."""

    @abstractmethod
    def _format_genes(self, genes: Sequence[int]) -> str:
        """Official string of a gene tuple."""

    @abstractmethod
    def _load_codes(self) -> np.ndarray:
        """The gene code of every index, in index order (a permutation of ``0..size-1``)."""

    # ------------------------------------------------------------------ lookup tables
    @cached_property
    def _codes(self) -> np.ndarray:
        return np.asarray(self._load_codes(), dtype=np.int64)

    @cached_property
    def _genes(self) -> np.ndarray:
        genes = codes_to_genes(self._codes, len(self.ops))
        genes.setflags(write=False)
        return genes

    @cached_property
    def _index_of_code(self) -> np.ndarray:
        inverse = np.empty(self.size, dtype=np.int64)
        inverse[self._codes] = np.arange(self.size, dtype=np.int64)
        return inverse

    @cached_property
    def _strings(self) -> list[str]:
        return [self._format_genes(g) for g in self._genes.tolist()]

    @cached_property
    def _index_of_string(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self._strings)}

    @cached_property
    def _op_indices(self) -> list[str]:
        digits = np.asarray(self.naslib_op_codes)[self._genes[:, list(self.naslib_edge_order)]]
        keys = digits @ 10 ** np.arange(N_EDGES - 1, -1, -1)
        return [f"{key:0{N_EDGES}d}" for key in keys.tolist()]

    @cached_property
    def _index_of_op_indices(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self._op_indices)}

    # ------------------------------------------------------------------ genes
    def genes(self, index: int) -> tuple[int, ...]:
        """The six op numbers (positions in ``ops``) of an index, in string edge order."""
        return tuple(self._genes[self.index(index)].tolist())

    def from_genes(self, genes: Sequence[int]) -> int:
        """Index of six op numbers in string edge order."""
        values = int_tuple(genes, "genes", N_EDGES, self.name)
        self._check_ops(values, "genes")
        return int(self._index_of_code[genes_to_codes(np.array(values), len(self.ops))])

    def _check_ops(self, values: Sequence[int], what: str) -> None:
        n = len(self.ops)
        for pos, value in enumerate(values):
            if not 0 <= value < n:
                allowed = ", ".join(f"{k} {op}" for k, op in enumerate(self.ops))
                raise InvalidArchitectureError(
                    f"{what} {tuple(values)} for {self.name}: entry {pos} is {value}; "
                    f"allowed 0..{n - 1} ({allowed})"
                )

    # ------------------------------------------------------------------ string forms
    def parse(self, text: str) -> int:
        """Index of the official string (fast dict lookup; a full parse explains failures)."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"architecture {show(text)} has type {type(text).__name__}; "
                f"give a {self.name} string"
            )
        text = text.strip()
        found = self._index_of_string.get(text)
        if found is not None:
            return found
        return self.from_genes(self._parse_genes(text))

    def format(self, index: int) -> str:
        """Official string form of an index (written on demand: a run formats a few hundred
        architectures, and all 15,625 strings are built only for :meth:`parse`)."""
        return self._format_genes(self._genes[self.index(index)].tolist())

    def to_op_indices(self, index: int) -> str:
        """NASLib op_indices: six digits, NASLib's edge order and op numbering."""
        return self._op_indices[self.index(index)]

    def from_op_indices(self, op_indices: str | Sequence[int]) -> int:
        """Index of NASLib op_indices given as a 6-digit string or a sequence of 6 ints."""
        n = len(self.ops)
        if isinstance(op_indices, str):
            text = op_indices.strip()
            found = self._index_of_op_indices.get(text)
            if found is not None:
                return found
            if len(text) != N_EDGES or not (text.isascii() and text.isdigit()):
                raise InvalidArchitectureError(
                    f"op_indices {show(op_indices)} for {self.name} must be {N_EDGES} digits "
                    f"0..{n - 1} ({self._naslib_legend()})"
                )
            digits = tuple(int(c) for c in text)
        else:
            digits = int_tuple(op_indices, "op_indices", N_EDGES, self.name)
        for digit in digits:
            if not 0 <= digit < n:
                raise InvalidArchitectureError(
                    f"op_indices {show(op_indices)} for {self.name} contains {digit}; "
                    f"allowed digits 0..{n - 1} ({self._naslib_legend()})"
                )
        op_of_code = {code: op for op, code in enumerate(self.naslib_op_codes)}
        genes = [0] * N_EDGES
        for pos, edge in enumerate(self.naslib_edge_order):
            genes[edge] = op_of_code[digits[pos]]
        return self.from_genes(genes)

    def _naslib_legend(self) -> str:
        """NASLib's digit of each op, for error messages: ``"0 skip_connect, 1 none, ..."``."""
        pairs = sorted((code, op) for op, code in enumerate(self.naslib_op_codes))
        return ", ".join(f"{code} {self.ops[op]}" for code, op in pairs)

    def _looks_like_op_indices(self, text: str) -> bool:
        """Exactly six ASCII digits: the shape of NASLib op_indices (no index has six)."""
        return len(text) == N_EDGES and text.isascii() and text.isdigit()

    # ------------------------------------------------------------------ decisions
    def to_decisions(self, index: int) -> tuple[int, ...]:
        """Six choices, one op (position in ``ops``) per edge in string edge order."""
        return self.genes(index)

    def from_decisions(self, choices: Sequence[int]) -> int:
        """Index of six choices; every choice tuple in range is a member of a cell space."""
        values = int_tuple(choices, "decisions", N_EDGES, self.name)
        self._check_ops(values, "decisions")
        return self.from_genes(values)

    @cached_property
    def _decision_table(self) -> np.ndarray:
        table = self._genes.astype(np.int64)  # a cell's decisions are its genes
        table.setflags(write=False)
        return table

    # ------------------------------------------------------------------ variation
    def neighbours(self, index: int) -> np.ndarray:
        """Every cell that differs in exactly one edge's op: ``6 * (len(ops) - 1)`` indices."""
        return self._neighbour_table[self.index(index)].astype(np.int64)

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        """One random mutation: a uniformly drawn neighbour, read from the neighbour table
        (the same draw and the same order as :meth:`SearchSpace.mutate`)."""
        if type(index) is not int or not 0 <= index < self.size:
            index = self.index(index)
        table = self._neighbour_table
        return table.item(index, rng.integers(table.shape[1]))

    @cached_property
    def _neighbour_table(self) -> np.ndarray:
        """Row ``i``: the neighbours of index ``i``, sorted (read-only int32, ``size`` rows of
        ``6 * (len(ops) - 1)``: 1.5 MB for NB201, built in a few milliseconds on first use).

        Setting edge ``e`` of a cell to op ``k`` adds ``(k - genes[e]) * n ** (5 - e)`` to its
        code (:func:`genes_to_codes`), so all neighbours' codes come from one broadcast over
        the ``n - 1`` other ops ``(genes[e] + 1 .. n - 1) % n`` of every edge.
        """
        n = len(self.ops)
        genes = self._genes.astype(np.int32)[:, :, None]  # (size, edge, 1)
        others = (genes + np.arange(1, n, dtype=np.int32)) % n  # (size, edge, n - 1)
        weights = (n ** np.arange(N_EDGES - 1, -1, -1)).astype(np.int32)[:, None]
        codes = self._codes.astype(np.int32)[:, None, None] + (others - genes) * weights
        index_of_code = self._index_of_code.astype(np.int32)
        table = np.sort(index_of_code[codes.reshape(self.size, -1)], axis=1)
        table.setflags(write=False)
        return table

    def crossover(self, a: int, b: int, rng: np.random.Generator) -> tuple[int, int]:
        """Uniform crossover: each edge's op comes from ``a`` or ``b`` with probability 0.5.

        The two children are complementary (where one took ``a``'s op the other took ``b``'s),
        so together they keep every gene of the parents.
        """
        genes_a = self._genes[self.index(a)]
        genes_b = self._genes[self.index(b)]
        take_a = rng.random(N_EDGES) < 0.5
        child_1 = np.where(take_a, genes_a, genes_b)
        child_2 = np.where(take_a, genes_b, genes_a)
        codes = genes_to_codes(np.stack([child_1, child_2]), len(self.ops))
        first, second = self._index_of_code[codes]
        return int(first), int(second)

    # ------------------------------------------------------------------ representations
    def to_graph(self, index: int) -> nx.DiGraph:
        """The cell as a DiGraph on nodes 0..3 with all six edges, each with ``op`` and ``gene``.

        Edges whose op is ``"none"`` are kept (so every graph has the same shape and nothing is
        lost); drop them with ``[e for e in g.edges if g.edges[e]["op"] != "none"]`` for the
        computational graph.  ``graph.graph`` holds ``space``, ``index`` and ``arch``.
        """
        idx = self.index(index)
        import networkx as nx

        graph = nx.DiGraph(space=self.name, index=idx, arch=self.format(idx))
        graph.add_nodes_from(range(N_NODES))
        for (src, dst), gene in zip(EDGES, self._genes[idx].tolist(), strict=True):
            graph.add_edge(src, dst, op=self.ops[gene], gene=gene)
        return graph

    def encode(self, indices: int | np.ndarray) -> np.ndarray:
        """One-hot of each edge's op, edges in string order: ``6 * len(ops)`` float32 values."""
        eye = np.eye(len(self.ops), dtype=np.float32)
        if np.ndim(indices) == 0 and not isinstance(indices, np.ndarray):
            return eye[self._genes[self.index(indices)]].reshape(-1)
        idx = self.indices(indices)
        return eye[self._genes[idx]].reshape(*idx.shape, self.encoding_size)

    @property
    def encoding_size(self) -> int:
        """``6 * len(ops)``."""
        return N_EDGES * len(self.ops)
