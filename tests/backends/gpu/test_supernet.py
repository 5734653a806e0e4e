"""The supernet computes each architecture exactly, and training moves only the active path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from benchsim.backends.gpu import GpuSettings, StandaloneNet, SuperNet, load_from_supernet
from benchsim.backends.gpu._ops import init_parameters
from benchsim.backends.gpu._supernet import cell_plan
from benchsim.backends.gpu._train import make_optimizer
from benchsim.errors import ConfigError
from benchsim.spaces import get_space

NB201 = get_space("nb201")
TNB = get_space("tnb101-micro")


def make_supernet(ops, seed: int = 0, **kw) -> SuperNet:
    net = SuperNet(ops, channels=4, cells_per_stage=2, head_classes=(10, 7), in_channels=3, **kw)
    init_parameters(net, torch.Generator().manual_seed(seed))
    return net.to(memory_format=torch.channels_last)


def batch(seed: int, n: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 16, 16, generator=g), torch.randint(0, 7, (n,), generator=g)


def some_archs(space, n: int) -> list[tuple[int, ...]]:
    """Random cells plus the corner cases: all none, all skip, a dead node 1, all convs."""
    rng = np.random.default_rng(3)
    fixed = [(0,) * 6, (1,) * 6, (2, 0, 0, 3, 0, 1), (3,) * 6, (0, 1, 3, 0, 0, 2)]
    return fixed + [space.to_decisions(int(i)) for i in rng.integers(space.size, size=n)]


def test_cell_plan_skips_none_edges_and_dead_nodes():
    # 0->1 conv but node 1 feeds nothing (1->2 and 1->3 are none): edge 0 must not run.
    plan = dict(cell_plan((True, True, False, True, False, True)))
    assert 1 not in plan and plan[2] == ((1, 0),) and plan[3] == ((3, 0), (5, 2))
    # A node with no incoming op is zeros but still live when it feeds the output.
    assert dict(cell_plan((False, False, True, False, True, True)))[1] == ()
    assert cell_plan((False,) * 6) == ((3, ()),)


@pytest.mark.parametrize("space", [NB201, TNB], ids=lambda s: s.name)
def test_standalone_equals_supernet_after_weight_copy(space):
    net = make_supernet(space.ops)
    opt = make_optimizer(net, GpuSettings(lr=0.05))
    archs = some_archs(space, 6)
    net.train()
    for step, genes in enumerate(archs):  # train a little so no BN layer is at its init state
        x, y = batch(step)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x, genes, 1), y).backward()
        opt.step()
    x, _ = batch(99, 16)
    for genes in archs:
        standalone = load_from_supernet(net, genes, head=1)
        assert isinstance(standalone, StandaloneNet)
        net.eval()
        standalone.eval()
        with torch.no_grad():
            torch.testing.assert_close(standalone(x), net(x, genes, 1), rtol=0, atol=0)
        net.train()
        standalone.train()
        with torch.no_grad():  # train-mode BN: batch statistics, same function too
            torch.testing.assert_close(standalone(x), net(x, genes, 1), rtol=0, atol=0)
        n_params = sum(p.numel() for p in standalone.parameters())
        assert n_params < sum(p.numel() for p in net.parameters())


def test_copies_are_independent():
    net = make_supernet(NB201.ops)
    genes = (3,) * 6
    standalone = load_from_supernet(net, genes)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with torch.no_grad():
        for p in standalone.parameters():
            p.add_(1.0)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def changed(net: SuperNet, before: dict[str, torch.Tensor]) -> set[str]:
    return {k for k, p in net.named_parameters() if not torch.equal(before[k], p.detach())}


@pytest.mark.parametrize("genes", [(3, 2, 4, 1, 3, 2), (2, 0, 0, 3, 0, 1)])
def test_a_step_updates_exactly_the_active_path(genes):
    net = make_supernet(NB201.ops)
    opt = make_optimizer(net, GpuSettings(lr=0.1, weight_decay=5e-4))
    path = {key for key, _ in net.path_keys(genes, head=0)}
    path_params = {k for k, _ in net.named_parameters() if k in path}
    before = {k: p.detach().clone() for k, p in net.named_parameters()}
    x, y = batch(0)
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(net(x, genes, 0), y % 10).backward()
    opt.step()
    assert changed(net, before) == path_params
    assert {k for k, p in net.named_parameters() if p.grad is not None} == path_params
    assert not any(k.startswith("heads.1") for k in path_params)


def test_a_cell_of_nones_cuts_the_network_before_it():
    # Every cell outputs zeros, so only the last BN and the head can learn anything.
    net = make_supernet(NB201.ops)
    opt = make_optimizer(net, GpuSettings(lr=0.1))
    before = {k: p.detach().clone() for k, p in net.named_parameters()}
    x, y = batch(0)
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(net(x, (0,) * 6, 0), y % 10).backward()
    opt.step()
    assert {k.split(".")[0] for k in changed(net, before)} == {"lastact", "heads"}


def _op_choice(key: str) -> int | None:
    parts = key.split(".")
    return int(parts[4]) if parts[0] == "cells" and parts[2] == "edges" else None


def test_momentum_does_not_move_parameters_off_the_path():
    net = make_supernet(NB201.ops)
    opt = make_optimizer(net, GpuSettings(lr=0.1))
    first, second = (3, 3, 3, 3, 3, 3), (2, 2, 2, 2, 2, 2)
    x, y = batch(1)
    for genes in (first, second):  # after the first step, conv3x3 ops carry momentum
        before = {k: p.detach().clone() for k, p in net.named_parameters()}
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x, genes, 0), y % 10).backward()
        opt.step()
    moved = changed(net, before)
    assert moved and all(_op_choice(k) in (None, 2) for k in moved)


def test_bad_genes_for_a_standalone_raise():
    net = make_supernet(TNB.ops)
    with pytest.raises(ConfigError, match=r"0\.\.3"):
        load_from_supernet(net, (4, 0, 0, 0, 0, 0))
    with pytest.raises(ConfigError, match="head"):
        load_from_supernet(net, (1,) * 6, head=5)
