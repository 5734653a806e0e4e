"""How the supernet judges one architecture: BN handling, recalibration, accuracy counting.

Mixed into :class:`~benchsim.backends.gpu.GpuBenchmark`.  Evaluation never changes the
supernet: ``bn_eval="batch"`` does not touch the BN buffers, ``"recalibrate"`` restores them,
``"running"`` only reads them; the training mode is restored afterwards.  So any number of
evaluations between two training passes leaves the next pass's numbers unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from benchsim.backends.gpu._data import DeviceData
from benchsim.backends.gpu._supernet import Genes, SuperNet
from benchsim.backends.gpu._train import (
    autocast,
    batch_statistics,
    batches,
    count_correct,
    preserved_statistics,
)

Reset = Callable[[], None] | None


if TYPE_CHECKING:  # the mixin's ``self`` is the benchmark it is mixed into
    from benchsim.backends.gpu.benchmark import GpuBenchmark as _Live
else:
    _Live = object


class EvaluationMixin(_Live):
    """Architecture evaluation on top of the benchmark's nets, data and settings."""

    @property
    def _recal(self) -> bool:
        return self.settings.bn_eval == "recalibrate"

    @contextmanager
    def _bn_context(self, net: SuperNet) -> Iterator[Reset]:
        """Put ``net``'s BN layers in the ``bn_eval`` mode; yields SPOS's reset or ``None``."""
        mode = self.settings.bn_eval
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

    def _recal_positions(self, task: str, rng: np.random.Generator) -> np.ndarray:
        """Positions in the training split of one recalibration's images (no repeats)."""
        data: DeviceData = self.data_[task]
        s = self.settings
        size = min(s.recal_batches * s.batch_size, data.size("train"))
        return rng.choice(data.size("train"), size=size, replace=False)

    def _recal_index(self, task: str, rng: np.random.Generator) -> torch.Tensor:
        """Training images (indices on the device) of one recalibration, drawn with ``rng``."""
        data: DeviceData = self.data_[task]
        positions = torch.from_numpy(self._recal_positions(task, rng)).to(data.device)
        return data.splits["train"][positions]

    @torch.no_grad()
    def _recalibrate(
        self,
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
        for part in batches(index, self.settings.batch_size, None):
            with autocast(data.device, self.amp_):
                net(data.plain(part)[0], genes, head)
        net.eval()

    @torch.no_grad()
    def _correct(
        self,
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
            self._recalibrate(net, genes, head, data, recal, reset)
        x, y = data.plain(batch)
        with autocast(data.device, self.amp_):
            logits = net(x, genes, head)
        return (logits.argmax(1) == y).sum()

    def _split_correct(
        self,
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
            self._recalibrate(net, genes, head, data, recal, reset)
        s = self.settings
        return count_correct(
            lambda x: net(x, genes, head),
            data,
            data.splits[split],
            batch_size=s.eval_batch_size,
            limit=s.max_eval_batches,
            amp=self.amp_,
        )

    def split_accuracy(self, arch: Any, task: str, split: str = "valid") -> float:
        """Supernet accuracy (%) of ``arch`` on a whole split of ``task`` (``bn_eval`` mode).

        ``max_eval_batches`` caps the batches read; recalibration batches come from the
        backend's own Generator (saved in :meth:`state_dict`).
        """
        task = self.resolve_task(task)
        genes = self.genes(self.space.index(arch))
        number, head = self.net_of_[task]
        net, data = self.nets_[number], self.data_[task]
        recal = self._recal_index(task, self.rng_) if self._recal else None
        with self._bn_context(net) as reset:
            correct, seen = self._split_correct(net, genes, head, data, split, reset, recal)
        return 100.0 * float(correct.item()) / max(seen, 1)
