"""TransNAS-Bench-101 micro (cell-level) space: 4,096 cells in lexicographic string order.

A network is written ``64-41414-{a}_{bc}_{def}``: stem width 64, the fixed macro skeleton
``41414``, then the cell as one digit per edge, grouped by target node exactly as TransNAS-Bench
builds it (``MicroCell``: node ``j``'s digits are its inputs 0..j-1), so ``a`` is edge 0->1,
``bc`` are 0->2, 1->2 and ``def`` are 0->3, 1->3, 2->3: the string edge order of
:data:`benchsim.spaces._cell.EDGES`.  Digits: 0 none, 1 skip_connect, 2 conv 1x1, 3 conv 3x3.
The convolutions are the same ReLU-Conv-BN ops as NB201's, so they carry NB201's names
(``nor_conv_1x1``, ``nor_conv_3x3``) and graph or encoding methods see one vocabulary.

The index is the string's position in lexicographic order, i.e. the six digits read as a base-4
number (``64-41414-0_00_000`` is 0, ``64-41414-3_33_333`` is 4095).  NASLib's op_indices for this
space are the same six digits in the same order (NASLib copies them into the string unchanged),
so index, gene code and op_indices all agree.

Example
-------
>>> from benchsim.spaces import get_space
>>> space = get_space("tnb101-micro")
>>> space.format(27)
'64-41414-0_00_123'
>>> space.index("op:000123")
27
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from benchsim.errors import InvalidArchitectureError
from benchsim.spaces import register_space
from benchsim.spaces._cell import EDGES, CellSpace, show

TNB101_MICRO_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")
PREFIX = "64-41414-"
_LEGEND = "0 none, 1 skip_connect, 2 conv1x1, 3 conv3x3"
_TEMPLATE = "64-41414-a_bc_def"


@register_space("tnb101-micro")
class TNB101MicroSpace(CellSpace):
    """The TransNAS-Bench-101 micro cell space (see the module docstring)."""

    name = "tnb101-micro"
    ops = TNB101_MICRO_OPS
    size = len(TNB101_MICRO_OPS) ** len(EDGES)
    decisions = (len(TNB101_MICRO_OPS),) * len(EDGES)
    naslib_edge_order = tuple(range(len(EDGES)))
    naslib_op_codes = tuple(range(len(TNB101_MICRO_OPS)))

    def _load_codes(self) -> np.ndarray:
        return np.arange(self.size, dtype=np.int64)

    def _format_genes(self, genes: Sequence[int]) -> str:
        return "{}{}_{}{}_{}{}{}".format(PREFIX, *genes)

    def _parse_genes(self, text: str) -> tuple[int, ...]:
        """Genes of ``64-41414-a_bc_def``; each failure names the part and the rule."""
        if not text.startswith(PREFIX):
            hint = " (that is a tnb101-macro string)" if text.endswith("-basic") else ""
            raise InvalidArchitectureError(
                f"tnb101-micro string {show(text)} must start with {PREFIX!r} (stem 64, "
                f"skeleton 41414), as in {_TEMPLATE!r}{hint}"
            )
        groups = text[len(PREFIX) :].split("_")
        if len(groups) != 3:
            raise InvalidArchitectureError(
                f"tnb101-micro string {show(text)} has {len(groups)} '_'-separated nodes after "
                f"{PREFIX!r}; expected 3, as in {_TEMPLATE!r}"
            )
        genes: list[int] = []
        for target, group in enumerate(groups, start=1):
            if len(group) != target:
                raise InvalidArchitectureError(
                    f"node {target} {show(group)} of tnb101-micro string {show(text)} has "
                    f"{len(group)} digits; node {target} takes exactly {target} "
                    f"(one op per input node 0..{target - 1})"
                )
            for char in group:
                if char not in "0123":
                    raise InvalidArchitectureError(
                        f"op digit {show(char)} in tnb101-micro string {show(text)} is not an "
                        f"op; allowed: {_LEGEND}"
                    )
                genes.append(int(char))
        return tuple(genes)
