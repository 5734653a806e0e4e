"""Every bad input to the live backend fails with one line naming the value and what is allowed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import benchsim
from benchsim.backends.gpu import GpuBenchmark, GpuSettings, resolve_device
from benchsim.errors import (
    BackendError,
    ConfigError,
    DataError,
    FidelityError,
    InvalidArchitectureError,
    UnknownNameError,
)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_without_cuda(device, one_line):
    with pytest.raises(BackendError) as excinfo:
        resolve_device(device)
    message = one_line(excinfo)
    assert repr(device) in message and "CUDA is not available" in message and "'cpu'" in message


@pytest.mark.parametrize("device", ["tpu", "mps", "gpu0", 3.5])
def test_unknown_device(device, one_line, data_root):
    with pytest.raises(BackendError) as excinfo:
        GpuBenchmark("nb201", ("synthetic-shapes",), device=device, root=data_root)
    message = one_line(excinfo)
    assert repr(device) in message and "'cpu', 'cuda', 'cuda:N'" in message


def test_devices_that_work():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")).type == "cpu"
    assert resolve_device(None).type in ("cpu", "cuda")


def test_unknown_dataset_lists_the_known_ones(one_line, data_root):
    with pytest.raises(UnknownNameError) as excinfo:
        GpuBenchmark("nb201", ("cifar1000",), device="cpu", root=data_root)
    message = one_line(excinfo)
    assert "'cifar1000'" in message and "cifar10, cifar100" in message


def test_missing_real_dataset_says_how_to_prepare_it(one_line, tmp_path):
    with pytest.raises(DataError) as excinfo:
        GpuBenchmark("nb201", ("cifar10",), device="cpu", root=tmp_path)
    message = one_line(excinfo)
    assert "'cifar10'" in message and "benchsim data prepare cifar10" in message
    assert "cifar-10-batches-py" in message


def test_missing_synthetic_dataset_without_generation(one_line, tmp_path):
    with pytest.raises(DataError) as excinfo:
        benchsim.benchmark("nb201", backend="gpu", datasets=("synthetic-shapes",),
                           device="cpu", root=tmp_path, install=False)  # fmt: skip
    assert "synthetic-shapes" in one_line(excinfo)


def test_unknown_space_and_option(one_line, data_root):
    with pytest.raises(UnknownNameError) as excinfo:
        benchsim.benchmark("tnb101-macro", backend="gpu", device="cpu", root=data_root)
    assert "'tnb101-macro'" in one_line(excinfo) and "nb201, tnb101-micro" in str(excinfo.value)
    with pytest.raises(UnknownNameError) as excinfo:
        GpuBenchmark("nb201", ("synthetic-shapes",), device="cpu", root=data_root, colour=1)
    assert "'colour'" in one_line(excinfo) and "batch_size" in str(excinfo.value)
    with pytest.raises(ConfigError) as excinfo:
        GpuBenchmark("nb201", ("shapes", "synthetic-shapes"), device="cpu", root=data_root)
    assert "twice" in one_line(excinfo)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"batch_size": 0}, "batch_size == 0"),
        ({"channels": 2.5}, "channels == 2.5"),
        ({"lr": -1}, "lr == -1"),
        ({"bn_eval": "magic"}, "'magic'"),
        ({"lr_schedule": "step"}, "'step'"),
        ({"max_eval_batches": 0}, "max_eval_batches == 0"),
    ],
)
def test_bad_settings(options, fragment, one_line):
    with pytest.raises((ConfigError, UnknownNameError)) as excinfo:
        GpuSettings.from_options(**options)
    assert fragment in one_line(excinfo)


def test_architectures_of_the_wrong_space(make_bench, one_line):
    bench = make_bench("tnb101-micro", datasets=("synthetic-shapes",))
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidArchitectureError) as excinfo:
        bench.weight_sharing.train_pass("synthetic-shapes", [5000], rng=rng)
    assert "5000" in one_line(excinfo) and "0..4095" in str(excinfo.value)
    nb201_string = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    with pytest.raises(InvalidArchitectureError) as excinfo:
        bench.query(nb201_string, "synthetic-shapes")
    one_line(excinfo)
    with pytest.raises(InvalidArchitectureError):
        bench.standalone_train(nb201_string, "synthetic-shapes", epochs=1)


def test_fidelity_arguments_are_refused(make_bench, one_line):
    bench = make_bench(datasets=("synthetic-shapes",))
    for kwargs in ({"epoch": 3}, {"seed": 1}):
        with pytest.raises(FidelityError) as excinfo:
            bench.query(0, "synthetic-shapes", **kwargs)
        assert "must be None" in one_line(excinfo)
    for schedule in (0, True, 2.5):
        with pytest.raises(FidelityError) as excinfo:
            bench.query(0, "synthetic-shapes", schedule=schedule)
        assert f"schedule == {schedule!r}" in one_line(excinfo)


def test_shared_weights_need_equal_channels(tmp_path, one_line):
    from benchsim.datasets import build_dataset, write_dataset
    from benchsim.datasets._hdf5 import ImageDataset

    shapes = build_dataset("synthetic-shapes")
    grey = ImageDataset(**{**shapes.__dict__, "name": "organamnist",
                           "images": shapes.images[..., :1].copy(), "mean": (0.5,),
                           "std": (0.25,), "classes": tuple("abcdefghijk")})  # fmt: skip
    write_dataset(shapes, tmp_path / "synthetic-shapes.h5")
    write_dataset(grey, tmp_path / "organamnist.h5")
    both = ("synthetic-shapes", "organamnist")
    bench = GpuBenchmark("nb201", both, device="cpu", root=tmp_path, channels=4,
                         cells_per_stage=1, max_batches_per_pass=1)  # fmt: skip
    assert bench.supernets.nets_[1].stem[0].in_channels == 1
    with pytest.raises(ConfigError) as excinfo:
        GpuBenchmark("nb201", both, device="cpu", root=tmp_path, share_weights_across_tasks=True)
    assert "equal channel counts" in one_line(excinfo)
