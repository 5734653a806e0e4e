"""The CUDA path, on a machine that has CUDA (skipped elsewhere, CI included).

What the CPU tests cannot see: generators and events on the device, no host synchronisation
inside a training pass, bf16 autocast, the state round trip through CPU copies, and agreement
of the device's numbers with the CPU's for the same weights.  Run on a GPU machine with
``python -m pytest tests/backends/gpu``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchsim.backends.gpu._settings import Stopwatch
from benchsim.backends.gpu._state import to_cpu
from benchsim.backends.gpu._train import train_steps

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
TASK = "synthetic-shapes"


def test_defaults_on_cuda(make_bench):
    bench = make_bench(device="cuda")
    assert (
        bench.device.type == "cuda" and bench.supernets.amp_ and not bench.supernets.deterministic_
    )
    assert bench.supernets.generator_.device.type == "cuda"
    assert all(d.images.is_cuda for d in bench.supernets.data_.values())
    assert "cuda" in str(bench.provenance()["device"]).lower()


def test_a_training_pass_never_waits_for_the_device(make_bench):
    bench = make_bench(device="cuda")
    data, net = bench.supernets.data_[TASK], bench.supernets.nets_[0]
    genes = bench.genes(1462)
    order = data.order("train", bench.supernets.generator_)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any host-device sync raises
    try:
        loss, correct, seen = train_steps(
            net, lambda b, x: net(x, genes, 0), data, order, batch_size=32,
            lrs=[0.1, 0.1], optimizer=bench.supernets.optimizers_[0],
            generator=bench.supernets.generator_, amp=True,
        )  # fmt: skip
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert seen == 64 and np.isfinite(loss.item()) and 0 <= correct.item() <= 64


def test_stopwatch_times_device_work():
    watch = Stopwatch(torch.device("cuda"))
    x = torch.randn(1024, 1024, device="cuda")
    for _ in range(3):
        x = x @ x / 1024
        watch.mark()
    seconds = watch.intervals()
    assert len(seconds) == 3 and all(s >= 0 for s in seconds)


def test_state_round_trips_through_cpu_copies(make_bench):
    bench = make_bench(device="cuda", deterministic=True)
    archs = [0, 1462, 777]
    bench.weight_sharing.train_pass(TASK, archs, rng=np.random.default_rng(0))
    state = bench.state_dict()
    assert all(not t.is_cuda for t in state["nets"][0].values())
    bench.weight_sharing.train_pass(TASK, archs, rng=np.random.default_rng(1))
    first = bench.weight_sharing.sampled_eval(
        TASK, [1462, 777], rng=np.random.default_rng(2), batch_size=64
    )
    again = make_bench(device="cuda", deterministic=True)
    again.load_state_dict(state)
    assert again.supernets.passes_ == {**bench.supernets.passes_, TASK: 1}
    again.weight_sharing.train_pass(TASK, archs, rng=np.random.default_rng(1))
    second = again.weight_sharing.sampled_eval(
        TASK, [1462, 777], rng=np.random.default_rng(2), batch_size=64
    )
    # Same data order and augmentation (generator restored); kernels may differ in last bits.
    np.testing.assert_allclose(first.values, second.values, atol=100 / 64 + 1e-9)


def test_cuda_and_cpu_agree_on_the_same_weights(make_bench):
    gpu = make_bench(device="cuda", amp=False)
    cpu = make_bench(device="cpu")
    gpu.weight_sharing.train_pass(TASK, [1462], rng=np.random.default_rng(0))
    cpu.supernets.nets_[0].load_state_dict(to_cpu(gpu.supernets.nets_[0].state_dict()))
    data = cpu.supernets.data_[TASK]
    x = data.plain(data.splits["valid"][:64])[0]
    genes = cpu.genes(1462)
    cpu.supernets.nets_[0].eval()
    gpu.supernets.nets_[0].eval()
    with torch.no_grad():
        on_cpu = cpu.supernets.nets_[0](x, genes, 0)
        on_gpu = gpu.supernets.nets_[0](x.to("cuda"), genes, 0).cpu()
    torch.testing.assert_close(on_gpu, on_cpu, atol=1e-3, rtol=1e-3)
