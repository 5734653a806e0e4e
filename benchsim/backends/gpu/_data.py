"""A whole image dataset resident on the device, augmented there in batch.

The uint8 images (NHWC, as stored) and the labels are copied to the device once: CIFAR-10 is
180 MB, ImageNet16-120 120 MB, so a GPU holds them easily and no data loader, worker process or
host-to-device copy sits in the training loop.  A training batch is gathered by index, cast to
float, zero-padded and randomly cropped (as torchvision's ``RandomCrop(size, padding)``), maybe
flipped horizontally, then normalised, all as batched tensor ops drawing from one
``torch.Generator`` that lives on the same device.

Batches come out logically NCHW.  Because the storage is NHWC, ``permute`` yields a
``channels_last`` tensor for free, which is what convolutions want on a GPU; with
``channels_last=False`` the batch is made contiguous NCHW instead.
"""

from __future__ import annotations

import torch

from benchsim.datasets import ImageDataset


class DeviceData:
    """The tensors of one :class:`~benchsim.datasets.ImageDataset` on ``device``.

    Parameters
    ----------
    dataset
        The arrays (uint8 NHWC images, int64 labels, split indices, mean/std, pad, hflip).
    device
        Where the tensors live.
    channels_last
        Return batches in channels_last memory format (else contiguous NCHW).
    """

    def __init__(
        self, dataset: ImageDataset, device: torch.device, channels_last: bool = False
    ) -> None:
        self.name = dataset.name
        self.device = device
        self.channels_last = channels_last
        self.images = torch.from_numpy(dataset.images).to(device)
        self.labels = torch.from_numpy(dataset.labels).to(device)
        self.splits = {k: torch.from_numpy(v).to(device) for k, v in dataset.splits.items()}
        channels = dataset.images.shape[-1]
        self.mean = torch.tensor(dataset.mean, device=device).view(1, 1, 1, channels) * 255.0
        self.inv_std = 1.0 / (
            torch.tensor(dataset.std, device=device).view(1, 1, 1, channels) * 255.0
        )
        self.pad = int(dataset.pad)
        self.hflip = bool(dataset.hflip)
        self.num_classes = dataset.num_classes
        self.in_channels = channels

    def size(self, split: str) -> int:
        return int(self.splits[split].numel())

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised float NHWC -> NCHW in the configured memory format."""
        x = ((x - self.mean) * self.inv_std).permute(0, 3, 1, 2)
        return x if self.channels_last else x.contiguous()

    def plain(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``index`` (positions in the whole array), normalised, not augmented."""
        return self._finish(self.images[index].float()), self.labels[index]

    def augmented(
        self, index: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``index`` with random crop (zero padding ``pad``) and flip, normalised."""
        x = self.images[index].float()
        n, height, width, _ = x.shape
        if self.pad:
            p = self.pad
            x = torch.nn.functional.pad(x, (0, 0, p, p, p, p))  # NHWC: pad W then H
            offsets = torch.randint(0, 2 * p + 1, (2, n), generator=generator, device=self.device)
            rows = offsets[0, :, None] + torch.arange(height, device=self.device)
            cols = offsets[1, :, None] + torch.arange(width, device=self.device)
            batch = torch.arange(n, device=self.device)[:, None, None]
            x = x[batch, rows[:, :, None], cols[:, None, :]]
        if self.hflip:
            flip = torch.rand(n, generator=generator, device=self.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(2), x)
        return self._finish(x), self.labels[index]

    def order(self, split: str, generator: torch.Generator) -> torch.Tensor:
        """A random permutation of ``split``'s indices (the data order of one pass)."""
        idx = self.splits[split]
        return idx[torch.randperm(idx.numel(), generator=generator, device=self.device)]
