"""On-device batches: normalisation, random crop with zero padding, flips, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchsim.backends.gpu._data import DeviceData
from benchsim.backends.gpu._settings import GpuSettings
from benchsim.datasets import load_dataset


@pytest.fixture(scope="module")
def shapes(data_root):
    return load_dataset("synthetic-shapes", root=data_root)


def test_plain_batches_are_normalised_nchw(shapes):
    data = DeviceData(shapes, torch.device("cpu"), channels_last=False)
    x, y = data.plain(torch.arange(5))
    assert (
        x.shape == (5, 3, 16, 16) and x.is_contiguous() and y.tolist() == shapes.labels[:5].tolist()
    )
    expected = (shapes.images[:5] / 255.0 - np.array(shapes.mean)) / np.array(shapes.std)
    np.testing.assert_allclose(x.permute(0, 2, 3, 1).numpy(), expected, atol=1e-5)
    cl = DeviceData(shapes, torch.device("cpu"), channels_last=True).plain(torch.arange(5))[0]
    assert cl.is_contiguous(memory_format=torch.channels_last) and torch.equal(cl, x)


def test_augmentation_is_a_shifted_maybe_flipped_window(shapes):
    data = DeviceData(shapes, torch.device("cpu"))
    index = torch.arange(64)
    x, _ = data.augmented(index, torch.Generator().manual_seed(0))
    raw = torch.from_numpy(shapes.images[:64]).float()
    pad = shapes.pad
    padded = torch.nn.functional.pad(raw, (0, 0, pad, pad, pad, pad))
    padded = (padded - data.mean) * data.inv_std  # padding is black before normalising
    got = x.permute(0, 2, 3, 1)
    flips = 0
    for k in range(64):
        windows = [padded[k, r : r + 16, c : c + 16] for r in range(2 * pad + 1)
                   for c in range(2 * pad + 1)]  # fmt: skip
        plain = any(torch.allclose(got[k], w, atol=1e-5) for w in windows)
        flipped = any(torch.allclose(got[k], w.flip(1), atol=1e-5) for w in windows)
        assert plain or flipped
        flips += flipped and not plain
    assert 10 < flips < 54  # about half the images are mirrored


def test_same_generator_same_batches(shapes):
    data = DeviceData(shapes, torch.device("cpu"))
    a = data.augmented(data.order("train", torch.Generator().manual_seed(1))[:32],
                       torch.Generator().manual_seed(2))  # fmt: skip
    b = data.augmented(data.order("train", torch.Generator().manual_seed(1))[:32],
                       torch.Generator().manual_seed(2))  # fmt: skip
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    order = data.order("train", torch.Generator().manual_seed(1))
    assert sorted(order.tolist()) == shapes.splits["train"].tolist()


def test_cosine_schedule_ends_at_lr_min_and_stays():
    s = GpuSettings(lr=0.1, lr_min=0.01)
    assert s.lr_at(0, 100) == pytest.approx(0.1)
    assert s.lr_at(50, 100) == pytest.approx(0.055)
    assert s.lr_at(100, 100) == s.lr_at(1000, 100) == pytest.approx(0.01)
    assert GpuSettings(lr_schedule="constant").lr_at(77, 100) == 0.1


def test_smoke_defaults_yield_to_explicit_options():
    s = GpuSettings.from_options(smoke=True, channels=12)
    assert s.channels == 12 and s.cells_per_stage == 1 and s.max_batches_per_pass == 4
    assert GpuSettings.from_options().cells_per_stage == 5
