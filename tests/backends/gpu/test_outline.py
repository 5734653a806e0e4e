"""``outline(..., backend="gpu")``: names the space and tasks, builds and loads nothing."""

from __future__ import annotations

import pytest

from benchsim.backends import Benchmark, live_options, outline
from benchsim.backends.gpu import GpuBenchmark, GpuOutline
from benchsim.errors import BenchsimError, UnknownTaskError


def test_outline_names_tasks_without_building(data_root, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("outline must not build a benchmark")

    monkeypatch.setattr(GpuBenchmark, "__init__", refuse)
    found = outline(
        "tnb101-micro", backend="gpu", datasets=("Synthetic-Shapes-B", "synthetic-shapes"),
        device="cpu", root=data_root, install=False,
    )  # fmt: skip
    assert isinstance(found, GpuOutline) and found.traits.tasks_are_datasets
    assert found.tasks == ("synthetic-shapes-b", "synthetic-shapes")
    assert found.space.name == "tnb101-micro" and found.traits.gpus_per_run == 0
    assert found.resolve_task("SYNTHETIC-SHAPES") == "synthetic-shapes"
    with pytest.raises(UnknownTaskError, match="unknown task 'cifar10'"):
        found.resolve_task("cifar10")


def test_outline_of_smoke_defaults_to_the_synthetic_sets(data_root):
    found = outline("nb201", backend="gpu", smoke=True, device="cpu", root=data_root)
    assert found.tasks == ("synthetic-shapes", "synthetic-shapes-b")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"datasets": ("mnist",)}, "unknown dataset 'mnist'"),
        ({"datasets": ("cifar10",)}, "benchsim data prepare cifar10"),
        ({"device": "tpu"}, "device == 'tpu' is not"),
        ({"chanels": 8}, "unknown gpu backend option 'chanels'"),
        ({"batch_size": 0}, "batch_size == 0, must be an integer >= 1"),
    ],
)
def test_outline_checks_like_opening(data_root, options, message, one_line):
    settings = {"datasets": ("synthetic-shapes",), "device": "cpu", **options}
    with pytest.raises(BenchsimError) as excinfo:
        outline("nb201", backend="gpu", root=data_root, install=False, **settings)
    assert message in one_line(excinfo)


def test_outline_rejects_a_table_only_space(data_root, one_line):
    with pytest.raises(BenchsimError) as excinfo:
        outline("tnb101-macro", backend="gpu", device="cpu", root=data_root)
    assert "unknown benchmark 'tnb101-macro'" in one_line(excinfo)


def test_outline_of_the_table_backend_is_the_benchmark(installed_home):
    table = outline("nb201")
    assert isinstance(table, Benchmark)
    assert (
        table.traits.gpus_per_run == 0 and table.traits.device_slots is None
    )  # sweeps reserve no GPU


def test_live_options_name_the_datasets_after_the_tasks():
    assert live_options("gpu", ("a", "b"), {"device": "cpu"}) == {
        "device": "cpu",
        "datasets": ("a", "b"),
    }
    assert live_options("gpu", ("a",), {"datasets": ("x",)}) == {"datasets": ("x",)}
    assert live_options("table", ("a",), {}) == {}
