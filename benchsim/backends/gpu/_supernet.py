"""The NB201 macro skeleton with a weight-sharing cell: xautodl's single-path forward.

Skeleton (NAS-Bench-201): stem (conv 3x3 + BN, ``C`` channels), three stages of ``N`` cells at
``C``, ``2C``, ``4C`` channels with a :class:`~._ops.ResNetBasicblock` (stride 2) between
stages, then BN -> ReLU -> global average pool -> one linear head per task.  Every cell of a
network uses the same cell architecture.

The supernet's cell holds, on each of its six edges, one module per candidate op of the search
space (``ModuleList`` in ``space.ops`` order).  :meth:`SuperNet.forward` takes an
architecture's genes (``space.to_decisions(index)``: one op position per edge in string edge
order) and runs exactly one op per edge:

* an edge whose op is ``none`` is skipped (it would add zeros);
* an edge into a node that cannot reach the cell output is skipped too (its result would be
  discarded), so dead parts of a cell neither cost time nor move BN statistics;
* a node that receives nothing is zeros (NB201's sum of ``Zero`` outputs), and ops reading it
  are still run, as NB201 runs them.

So a backward pass reaches only the active path's parameters; every other parameter keeps
``grad is None`` and an optimizer that skips such parameters (``torch.optim.SGD``) leaves it,
its momentum and its weight decay untouched.  :mod:`._standalone` builds one architecture from
the same modules and the same :func:`cell_forward`, which is why copied weights give identical
outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

import torch
from torch import nn

from benchsim.backends.gpu._ops import ResNetBasicblock, last_act, make_op, stem
from benchsim.spaces._cell import EDGES

Genes = tuple[int, ...]
Plan = tuple[tuple[int, tuple[tuple[int, int], ...]], ...]
"""Per computed node ``j`` (1..3): ``(j, ((edge, source), ...))`` of the edges that run."""


@lru_cache(maxsize=4096)
def cell_plan(active: tuple[bool, ...]) -> Plan:
    """Which edges run, given which of the six edges carry an op other than ``none``.

    A node is *live* when it is the output (node 3) or feeds a live node through an active edge;
    only active edges into live nodes run.  Live nodes with no running input are zeros.
    """
    live = {3}
    for node in (2, 1):
        if any(active[e] and src == node and dst in live for e, (src, dst) in enumerate(EDGES)):
            live.add(node)
    plan = []
    for node in (1, 2, 3):
        if node in live:
            inputs = tuple(
                (e, src) for e, (src, dst) in enumerate(EDGES) if dst == node and active[e]
            )
            plan.append((node, inputs))
    return tuple(plan)


def cell_forward(x: torch.Tensor, plan: Plan, op_of: Callable[[int], nn.Module]) -> torch.Tensor:
    """Output node of a cell: each node sums its running edges' ops (see :func:`cell_plan`)."""
    nodes: dict[int, torch.Tensor] = {0: x}
    for node, inputs in plan:
        total: torch.Tensor | None = None
        for edge, src in inputs:
            out = op_of(edge)(nodes[src])
            total = out if total is None else total + out
        nodes[node] = torch.zeros_like(x) if total is None else total
    return nodes[3] if 3 in nodes else torch.zeros_like(x)


class SuperCell(nn.Module):
    """Six edges, each a ``ModuleList`` of every candidate op (positions as ``ops``)."""

    def __init__(self, channels: int, ops: Sequence[str], affine: bool = True) -> None:
        super().__init__()
        self.ops = tuple(ops)
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(name, channels, affine) for name in self.ops) for _ in EDGES
        )

    def forward(self, x: torch.Tensor, genes: Genes) -> torch.Tensor:
        plan = cell_plan(tuple(self.ops[g] != "none" for g in genes))
        return cell_forward(x, plan, lambda e: self.edges[e][genes[e]])


class Skeleton(nn.Module):
    """Stem, three stages of cells with reduction blocks between, last BN-ReLU and heads.

    ``make_cell(channels)`` builds one cell; ``head_classes`` gives one linear head per task.
    """

    def __init__(
        self,
        make_cell: Callable[[int], nn.Module],
        *,
        in_channels: int,
        channels: int,
        cells_per_stage: int,
        head_classes: Sequence[int],
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.stem = stem(in_channels, channels)
        cells: list[nn.Module] = []
        width = channels
        for stage in range(3):
            if stage:
                cells.append(ResNetBasicblock(width, width * 2, affine))
                width *= 2
            cells.extend(make_cell(width) for _ in range(cells_per_stage))
        self.cells = nn.ModuleList(cells)
        self.lastact = last_act(width)
        self.heads = nn.ModuleList(nn.Linear(width, k) for k in head_classes)

    def _classify(self, x: torch.Tensor, head: int) -> torch.Tensor:
        # mean over H, W == global average pooling, and deterministic on CUDA (the backward of
        # adaptive_avg_pool2d is not).
        return self.heads[head](self.lastact(x).mean(dim=(2, 3)))


class SuperNet(Skeleton):
    """Weight-sharing NB201 network over the candidate ``ops`` (see the module docstring).

    Parameters
    ----------
    ops
        Candidate op names in the search space's order (``space.ops``).
    in_channels, channels, cells_per_stage
        Input channels, ``C`` and ``N`` of the skeleton (NB201: 3, 16, 5).
    head_classes
        Number of classes of each head (one head per task sharing this supernet).
    affine
        Learnable BN scale and shift in the cell ops and reduction blocks.
    """

    def __init__(
        self,
        ops: Sequence[str],
        *,
        in_channels: int = 3,
        channels: int = 16,
        cells_per_stage: int = 5,
        head_classes: Sequence[int] = (10,),
        affine: bool = True,
    ) -> None:
        self.config = {
            "ops": tuple(ops),
            "in_channels": in_channels,
            "channels": channels,
            "cells_per_stage": cells_per_stage,
            "head_classes": tuple(head_classes),
            "affine": affine,
        }
        super().__init__(
            lambda width: SuperCell(width, ops, affine),
            in_channels=in_channels,
            channels=channels,
            cells_per_stage=cells_per_stage,
            head_classes=head_classes,
            affine=affine,
        )

    def forward(self, x: torch.Tensor, genes: Genes, head: int = 0) -> torch.Tensor:
        """Logits of the architecture ``genes`` (one op position per edge) on head ``head``."""
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x, genes) if isinstance(cell, SuperCell) else cell(x)
        return self._classify(x, head)

    def path_keys(self, genes: Genes, head: int = 0) -> Iterator[tuple[str, str]]:
        """``(supernet key, standalone key)`` of every state entry the path ``genes`` uses.

        Entries of ops that do not run (``none`` edges, edges into dead nodes) are left out;
        the standalone key is the name the entry has in :class:`~._standalone.StandaloneNet`.
        """
        ops = self.config["ops"]
        running = {e for _, inputs in cell_plan(tuple(ops[g] != "none" for g in genes))
                   for e, _ in inputs}  # fmt: skip
        for key in self.state_dict():
            parts = key.split(".")
            if parts[0] == "cells" and len(parts) > 4 and parts[2] == "edges":
                edge, choice = int(parts[3]), int(parts[4])
                if choice == genes[edge] and edge in running:
                    yield key, ".".join([*parts[:4], *parts[5:]])
            elif parts[0] == "heads":
                if int(parts[1]) == head:
                    yield key, ".".join(["heads", "0", *parts[2:]])
            else:
                yield key, key
