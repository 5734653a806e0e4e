"""Training steps and evaluation passes shared by the supernet and standalone networks.

Both loops keep their running loss and correct counts as device tensors and never read them
inside the loop, so the host queues work without waiting for the device; the caller reads the
totals once per pass (one synchronisation).  The learning rate of every step is computed on the
host in advance and written into the optimizer as a Python float (no device round trip).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from benchsim.backends.gpu._data import DeviceData
from benchsim.backends.gpu._settings import GpuSettings

Forward = Callable[[int, torch.Tensor], torch.Tensor]
"""``forward(batch_number, images) -> logits``: lets the supernet switch path per batch."""


def make_optimizer(model: nn.Module, settings: GpuSettings) -> torch.optim.SGD:
    """SGD as NB201 trains (momentum, Nesterov, weight decay).

    ``torch.optim.SGD`` skips every parameter whose ``grad`` is ``None``: with
    ``zero_grad(set_to_none=True)`` the ops off the sampled path get no momentum step and no
    weight decay, so single-path training leaves them exactly as they were.
    """
    return torch.optim.SGD(
        model.parameters(),
        lr=settings.lr,
        momentum=settings.momentum,
        nesterov=settings.nesterov and settings.momentum > 0,
        weight_decay=settings.weight_decay,
    )


def autocast(device: torch.device, enabled: bool) -> torch.autocast:
    """bfloat16 autocast on ``device`` when ``enabled``."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


def train_steps(
    model: nn.Module,
    forward: Forward,
    data: DeviceData,
    order: torch.Tensor,
    *,
    batch_size: int,
    lrs: Sequence[float],
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    amp: bool,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``len(lrs)`` SGD steps on consecutive batches of ``order`` (augmented).

    Returns the summed loss and correct count (device tensors, not synchronised) and the number
    of images seen.
    """

    def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        return data.augmented(order[step * batch_size : (step + 1) * batch_size], generator)

    return train_batches(
        model, forward, batch, lrs=lrs, optimizer=optimizer, device=data.device, amp=amp
    )


def train_batches(
    model: nn.Module,
    forward: Forward,
    batch: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    *,
    lrs: Sequence[float],
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    amp: bool,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``len(lrs)`` SGD steps, step ``b`` on the images and labels ``batch(b)`` (a joint pass
    draws them from several tasks' data); returns what :func:`train_steps` does."""
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    seen = 0
    model.train()
    for step, lr in enumerate(lrs):
        x, y = batch(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        with autocast(device, amp):
            logits = forward(step, x)
        loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach()
        correct += (logits.detach().argmax(1) == y).sum()
        seen += int(y.numel())
    return loss_sum, correct, seen


def batches(index: torch.Tensor, batch_size: int, limit: int | None) -> Iterator[torch.Tensor]:
    """Consecutive slices of ``index`` (the last may be short), at most ``limit`` of them."""
    count = -(-index.numel() // batch_size)
    for k in range(count if limit is None else min(count, limit)):
        yield index[k * batch_size : (k + 1) * batch_size]


@torch.no_grad()
def count_correct(
    forward: Callable[[torch.Tensor], torch.Tensor],
    data: DeviceData,
    index: torch.Tensor,
    *,
    batch_size: int,
    limit: int | None,
    amp: bool,
) -> tuple[torch.Tensor, int]:
    """Correct predictions over ``index`` in batches (device tensor) and the number of images."""
    correct = torch.zeros((), dtype=torch.int64, device=data.device)
    seen = 0
    for part in batches(index, batch_size, limit):
        x, y = data.plain(part)
        with autocast(data.device, amp):
            logits = forward(x)
        correct += (logits.argmax(1) == y).sum()
        seen += int(part.numel())
    return correct, seen


def _batch_norms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


@contextmanager
def batch_statistics(model: nn.Module) -> Iterator[None]:
    """Train-mode BN on the evaluated batches, running statistics left untouched.

    With ``track_running_stats=False`` a BN layer in training mode normalises with the batch's
    statistics and neither reads nor writes its buffers.
    """
    norms = _batch_norms(model)
    was_training = model.training
    model.train()
    for bn in norms:
        bn.track_running_stats = False
    try:
        yield
    finally:
        for bn in norms:
            bn.track_running_stats = True
        model.train(was_training)


@contextmanager
def preserved_statistics(model: nn.Module) -> Iterator[Callable[[], None]]:
    """Save every BN layer's statistics, yield a *reset* function, restore them at exit.

    ``reset()`` zeroes the statistics and switches to a cumulative average (``momentum=None``),
    SPOS's recalibration: the next forward passes in train mode then set each layer's
    statistics to the exact mean over those batches.
    """
    norms = _batch_norms(model)
    saved = [(bn.momentum, bn.running_mean.clone(), bn.running_var.clone(),
              bn.num_batches_tracked.clone()) for bn in norms]  # fmt: skip
    was_training = model.training

    def reset() -> None:
        for bn in norms:
            bn.reset_running_stats()
            bn.momentum = None

    try:
        yield reset
    finally:
        with torch.no_grad():
            for bn, (momentum, mean, var, tracked) in zip(norms, saved, strict=True):
                bn.momentum = momentum
                bn.running_mean.copy_(mean)
                bn.running_var.copy_(var)
                bn.num_batches_tracked.copy_(tracked)
        model.train(was_training)
