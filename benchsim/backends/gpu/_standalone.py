"""One architecture as a plain network, built from the supernet's own modules.

:class:`StandaloneNet` is the NB201 network of a single cell architecture: the same skeleton and
the same :func:`~._supernet.cell_forward` as :class:`~._supernet.SuperNet`, but each edge holds
only the op it runs (edges that never run hold a parameter-free placeholder).  It serves two
purposes:

* the final re-training of an architecture without weight sharing
  (:meth:`GpuBenchmark.standalone_train <benchsim.backends.gpu.GpuBenchmark.standalone_train>`);
* checking the supernet: :func:`load_from_supernet` copies the path's weights and BN statistics
  so that, in eval mode, both networks compute the same function (a test asserts equal logits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from benchsim.backends.gpu._ops import Zero, make_op
from benchsim.backends.gpu._supernet import Genes, Skeleton, SuperNet, cell_forward, cell_plan
from benchsim.errors import ConfigError


@dataclass(frozen=True)
class StandaloneResult:
    """Outcome of :func:`~._ranking.standalone_train` (accuracies in %)."""

    arch: int
    task: str
    epochs: int
    train_acc: float
    valid_acc: float
    test_acc: float
    train_time_s: float
    images_per_s: float
    seed: int


class StandaloneCell(nn.Module):
    """A cell with one op per edge; ``edge_ops`` are op names in string edge order."""

    def __init__(self, channels: int, edge_ops: Sequence[str], affine: bool = True) -> None:
        super().__init__()
        self.plan = cell_plan(tuple(name != "none" for name in edge_ops))
        running = {e for _, inputs in self.plan for e, _ in inputs}
        self.edges = nn.ModuleList(
            make_op(name, channels, affine) if e in running else Zero()
            for e, name in enumerate(edge_ops)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cell_forward(x, self.plan, lambda e: self.edges[e])


class StandaloneNet(Skeleton):
    """The NB201 network of one cell (``edge_ops``: six op names, string edge order)."""

    def __init__(
        self,
        edge_ops: Sequence[str],
        *,
        in_channels: int = 3,
        channels: int = 16,
        cells_per_stage: int = 5,
        num_classes: int = 10,
        affine: bool = True,
    ) -> None:
        if len(edge_ops) != 6:
            raise ConfigError(f"edge_ops {tuple(edge_ops)!r} must name six ops (one per edge)")
        self.edge_ops = tuple(edge_ops)
        super().__init__(
            lambda width: StandaloneCell(width, self.edge_ops, affine),
            in_channels=in_channels,
            channels=channels,
            cells_per_stage=cells_per_stage,
            head_classes=(num_classes,),
            affine=affine,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self._classify(x, 0)


def standalone_like(supernet: SuperNet, genes: Genes, head: int = 0) -> StandaloneNet:
    """A freshly initialised standalone network of ``genes`` with ``supernet``'s skeleton."""
    cfg = supernet.config
    ops = cfg["ops"]
    if len(genes) != 6 or not all(0 <= g < len(ops) for g in genes):
        raise ConfigError(f"genes {tuple(genes)!r} must be six op positions 0..{len(ops) - 1}")
    if not 0 <= head < len(cfg["head_classes"]):
        raise ConfigError(f"head == {head}, must be 0..{len(cfg['head_classes']) - 1}")
    return StandaloneNet(
        [ops[g] for g in genes],
        in_channels=cfg["in_channels"],
        channels=cfg["channels"],
        cells_per_stage=cfg["cells_per_stage"],
        num_classes=cfg["head_classes"][head],
        affine=cfg["affine"],
    )


@torch.no_grad()
def load_from_supernet(supernet: SuperNet, genes: Genes, head: int = 0) -> StandaloneNet:
    """A standalone network of ``genes`` holding copies of the supernet path's weights.

    Parameters, BN running statistics and the head ``head`` are copied (not shared), on the
    supernet's device and memory format, so training one never moves the other.  In eval mode
    the two give the same logits for the same input.
    """
    net = standalone_like(supernet, genes, head)
    reference = next(supernet.parameters())
    net.to(reference.device)
    source = supernet.state_dict()
    mapped = {standalone: source[key] for key, standalone in supernet.path_keys(genes, head)}
    net.load_state_dict(mapped, strict=True)
    if supernet.stem[0].weight.is_contiguous(memory_format=torch.channels_last):
        net.to(memory_format=torch.channels_last)
    net.train(supernet.training)
    return net
