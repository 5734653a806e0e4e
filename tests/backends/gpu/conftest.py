"""Fixtures of the live-backend tests: synthetic datasets prepared once, tiny CPU benchmarks.

Everything runs on the CPU with one thread: the shared test machine is busy, and with one
thread oneDNN's kernels are both faster here and free of thread-count effects.  A module that
needs torch or h5py is skipped where they are missing (the gpu extra is optional).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("h5py")

from benchsim.backends.gpu import GpuBenchmark  # noqa: E402
from benchsim.datasets import prepare  # noqa: E402

TASKS = ("synthetic-shapes", "synthetic-shapes-b")
TINY = {
    "channels": 4,
    "cells_per_stage": 1,
    "batch_size": 32,
    "eval_batch_size": 128,
    "max_batches_per_pass": 2,
    "max_eval_batches": 2,
    "epochs": 4,
    "recal_batches": 1,
}
"""A network and schedule small enough for a pass to take a few hundredths of a second."""


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A datasets folder holding both synthetic sets (generated once per session)."""
    root = tmp_path_factory.mktemp("datasets")
    for name in TASKS:
        prepare(name, root=root)
    return root


@pytest.fixture
def make_bench(data_root: Path) -> Callable[..., GpuBenchmark]:
    """``make_bench(**options)``: a tiny benchmark over both synthetic tasks, seed 0, on the CPU
    unless ``device=`` says otherwise."""

    def make(space: str = "nb201", **options) -> GpuBenchmark:
        settings = {**TINY, **options}
        datasets = settings.pop("datasets", TASKS)
        seed = settings.pop("seed", 0)
        device = settings.pop("device", "cpu")
        return GpuBenchmark(
            space, datasets, device=device, seed=seed, root=data_root, generate=False, **settings
        )

    return make
