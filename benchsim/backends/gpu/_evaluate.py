"""How the supernet judges one architecture: BN handling, recalibration, accuracy counting.

Functions of the live backend's :class:`~._supernets.Supernets`.  Evaluation never changes the
supernet: ``bn_eval="batch"`` does not touch the BN buffers, ``"recalibrate"`` restores them,
``"running"`` only reads them; the training mode is restored afterwards.  So any number of
evaluations between two training passes leaves the next pass's numbers unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

from benchsim.backends.gpu._data import DeviceData
from benchsim.backends.gpu._supernet import Genes, SuperNet
from benchsim.backends.gpu._supernets import Supernets
from benchsim.backends.gpu._train import (
    autocast,
    batch_statistics,
    batches,
    count_correct,
    preserved_statistics,
)

Reset = Callable[[], None] | None


def recalibrates(nets: Supernets) -> bool:
    """Whether evaluations recalibrate BN statistics first (``bn_eval="recalibrate"``)."""
    return nets.settings.bn_eval == "recalibrate"


@contextmanager
def bn_context(nets: Supernets, net: SuperNet) -> Iterator[Reset]:
    """Put ``net``'s BN layers in the ``bn_eval`` mode; yields SPOS's reset or ``None``."""
    mode = nets.settings.bn_eval
    if mode == "batch":
        with batch_statistics(net):
            yield None
    elif mode == "recalibrate":
        with preserved_statistics(net) as reset:
            yield reset
    else:
        was_training = net.training
        net.eval()
        try:
            yield None
        finally:
            net.train(was_training)


def recal_positions(nets: Supernets, task: str, rng: np.random.Generator) -> np.ndarray:
    """Positions in the training split of one recalibration's images (no repeats)."""
    data: DeviceData = nets.data_[task]
    s = nets.settings
    size = min(s.recal_batches * s.batch_size, data.size("train"))
    return rng.choice(data.size("train"), size=size, replace=False)


def recal_index(nets: Supernets, task: str, rng: np.random.Generator) -> torch.Tensor:
    """Training images (indices on the device) of one recalibration, drawn with ``rng``."""
    data: DeviceData = nets.data_[task]
    positions = torch.from_numpy(recal_positions(nets, task, rng)).to(data.device)
    return data.splits["train"][positions]


@torch.no_grad()
def recalibrate(
    nets: Supernets,
    net: SuperNet,
    genes: Genes,
    head: int,
    data: DeviceData,
    index: torch.Tensor,
    reset: Callable[[], None],
) -> None:
    """SPOS: statistics of the path ``genes`` = exact averages over ``index``'s batches."""
    reset()
    net.train()
    for part in batches(index, nets.settings.batch_size, None):
        with autocast(data.device, nets.amp_):
            net(data.plain(part)[0], genes, head)
    net.eval()


@torch.no_grad()
def batch_correct(
    nets: Supernets,
    net: SuperNet,
    genes: Genes,
    head: int,
    data: DeviceData,
    batch: torch.Tensor,
    reset: Reset,
    recal: torch.Tensor | None,
) -> torch.Tensor:
    """Correct predictions of ``genes`` on ``batch`` (a device tensor, not synchronised)."""
    if reset is not None and recal is not None:
        recalibrate(nets, net, genes, head, data, recal, reset)
    x, y = data.plain(batch)
    with autocast(data.device, nets.amp_):
        logits = net(x, genes, head)
    return (logits.argmax(1) == y).sum()


def split_correct(
    nets: Supernets,
    net: SuperNet,
    genes: Genes,
    head: int,
    data: DeviceData,
    split: str,
    reset: Reset,
    recal: torch.Tensor | None,
) -> tuple[torch.Tensor, int]:
    """Correct predictions of ``genes`` over a whole split (device tensor) and its size."""
    if reset is not None and recal is not None:
        recalibrate(nets, net, genes, head, data, recal, reset)
    s = nets.settings
    return count_correct(
        lambda x: net(x, genes, head),
        data,
        data.splits[split],
        batch_size=s.eval_batch_size,
        limit=s.max_eval_batches,
        amp=nets.amp_,
    )


def split_accuracy(nets: Supernets, index: int, task: str, split: str = "valid") -> float:
    """Supernet accuracy (%) of architecture ``index`` on a whole split of ``task`` (a canonical
    name), in the ``bn_eval`` mode.

    ``max_eval_batches`` caps the batches read; recalibration batches come from the
    backend's own Generator (saved in its state).
    """
    genes = nets.genes(index)
    number, head = nets.net_of_[task]
    net, data = nets.nets_[number], nets.data_[task]
    recal = recal_index(nets, task, nets.rng_) if recalibrates(nets) else None
    with bn_context(nets, net) as reset:
        hits, seen = split_correct(nets, net, genes, head, data, split, reset, recal)
    return 100.0 * float(hits.item()) / max(seen, 1)
