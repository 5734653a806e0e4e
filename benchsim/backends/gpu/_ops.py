"""The NAS-Bench-201 building blocks, as in xautodl's ``cell_operations.py`` and ``cell_infers``.

Cell operations (stride 1, ``C`` channels in and out):

* ``none``: no signal.  Represented by :class:`Zero`, which a cell never calls: an edge whose op
  is ``none`` is skipped (its contribution, zeros, is not computed).
* ``skip_connect``: identity.
* ``nor_conv_1x1`` / ``nor_conv_3x3``: ReLU -> Conv (no bias) -> BatchNorm.
* ``avg_pool_3x3``: 3x3 average pooling, stride 1, padding 1, ``count_include_pad=False``.

Between stages, :class:`ResNetBasicblock` halves the resolution and doubles the channels, and
the classifier ends with BN -> ReLU -> global average pool -> Linear, as NB201's networks do.

Weights are initialised by :func:`init_parameters` with PyTorch's default schemes but from an
explicit ``torch.Generator``, so a network's initial weights depend on the seed only (never on
the global torch RNG or on what else the process did before).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from benchsim.errors import UnknownNameError

OP_NAMES = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv2d (no bias) -> BatchNorm2d (NB201's ``nor_conv_kxk``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class Zero(nn.Module):
    """The ``none`` op: multiplies by zero.  Kept so candidate positions match ``space.ops``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class Pool(nn.AvgPool2d):
    """``avg_pool_3x3`` at stride 1 (NB201's ``POOLING`` without its channel adapter)."""

    def __init__(self) -> None:
        super().__init__(3, stride=1, padding=1, count_include_pad=False)


def make_op(name: str, channels: int, affine: bool = True) -> nn.Module:
    """One cell operation by its NB201 name (see the module docstring)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, affine=affine)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, affine=affine)
    if name == "avg_pool_3x3":
        return Pool()
    raise UnknownNameError("cell operation", name, OP_NAMES)


class ResNetBasicblock(nn.Module):
    """NB201's reduction block: two ReLU-Conv-BN 3x3 (the first at stride 2) plus a shortcut
    of 2x2 average pooling and a 1x1 convolution; no activation after the sum."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2, affine=affine)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, affine=affine)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


RECOMPILE_LIMIT = 64
"""Compiled variants allowed per code object: every ``nn.Sequential`` op shares one, and each
(op, channels, resolution, train/eval, BN mode) is a variant; dynamo's default (8) would send
the rest back to eager without a word."""


def compile_ops(net: nn.Module, backend: str | Callable[..., Any] = "inductor") -> int:
    """``torch.compile`` every op module of ``net`` in place with ``backend``; returns how many.

    The unit is the op (ReLU-Conv-BN, pooling, reduction block, stem, last BN-ReLU), not the
    network: a weight-sharing network runs another graph for every architecture, so compiling
    it whole would recompile per path, while an op of a given type and shape compiles once and
    then serves every path through it (parameters are graph inputs, not constants).  Identity
    and zero ops are left alone.  Raises dynamo's recompile limit to :data:`RECOMPILE_LIMIT`
    (process-wide) so the variants all stay compiled.
    """
    import torch._dynamo

    config = torch._dynamo.config
    config.recompile_limit = max(config.recompile_limit, RECOMPILE_LIMIT)
    units = (ReLUConvBN, Pool, ResNetBasicblock)
    compiled: list[str] = []
    for name, module in net.named_modules():
        if any(name.startswith(f"{outer}.") for outer in compiled):
            continue  # inside a unit compiled whole (a reduction block's convolutions)
        if isinstance(module, units) or name in ("stem", "lastact"):
            module.compile(backend=backend, dynamic=False)
            compiled.append(name)
    return len(compiled)


def stem(c_in: int, channels: int) -> nn.Sequential:
    """Conv 3x3 (no bias) -> BN: the first layer of every NB201 network."""
    return nn.Sequential(
        nn.Conv2d(c_in, channels, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(channels)
    )


def last_act(channels: int) -> nn.Sequential:
    """BN -> ReLU before global pooling (NB201's ``lastact``)."""
    return nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=True))


@torch.no_grad()
def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every conv/linear layer with PyTorch's defaults, drawn from ``generator``.

    Modules are visited in registration order, so the same architecture and seed always get the
    same weights.  BatchNorm layers get weight 1, bias 0 and fresh running statistics.
    """
    for sub in module.modules():
        if isinstance(sub, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(sub.weight, a=math.sqrt(5), generator=generator)
            if sub.bias is not None:
                fan_in = sub.weight[0].numel()
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(sub.bias, -bound, bound, generator=generator)
        elif isinstance(sub, nn.BatchNorm2d):
            sub.reset_parameters()
