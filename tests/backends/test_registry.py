"""``benchsim.benchmark`` and the backend registry."""

from __future__ import annotations

import shutil
from dataclasses import asdict, replace

import numpy as np
import pytest

import benchsim
from benchsim.backends import BACKENDS, Result, available_backends, register_backend
from benchsim.backends.table import TableBenchmark, available
from benchsim.errors import ConfigError, DataError, UnknownNameError


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as excinfo:
        benchsim.benchmark("nb201", backend="tpu")
    assert "'tpu'" in str(excinfo.value) and "gpu, table" in str(excinfo.value)
    assert {"table", "gpu"} <= set(available_backends())


def test_a_registered_backend_is_used_and_duplicates_are_refused(installed_home):
    calls = []

    @register_backend("test-double")
    def factory(name, *, seed, install, mirror, **kwargs):
        calls.append((name, seed, install, mirror, kwargs))
        return TableBenchmark(name, seed=seed)

    try:
        bench = benchsim.benchmark("tnb101-macro", backend="test-double", seed=4, flag=1)
        assert isinstance(bench, TableBenchmark)
        assert calls == [("tnb101-macro", 4, True, None, {"flag": 1})]
        with pytest.raises(ConfigError, match="already registered"):
            register_backend("test-double")(lambda name, **kw: None)
    finally:
        BACKENDS.remove("test-double")


def test_options_are_checked_by_the_signature_not_by_error_text(installed_home):
    """An option the backend's open does not take is refused by name before opening; a
    TypeError raised inside the backend stays a TypeError (its text once decided: any message
    with "unexpected keyword argument" became "does not accept option(s)")."""

    @register_backend("test-strict")
    def strict(name, *, seed, install, mirror, depth=1):
        raise TypeError("helper() got an unexpected keyword argument 'x'")  # a bug inside

    try:
        with pytest.raises(UnknownNameError) as excinfo:
            benchsim.benchmark("nb201", backend="test-strict", colour="red")
        message = str(excinfo.value)
        assert "backend option 'colour' of backend 'test-strict'" in message
        assert "depth" in message and "\n" not in message
        with pytest.raises(TypeError, match="helper"):
            benchsim.benchmark("nb201", backend="test-strict", depth=2)
    finally:
        BACKENDS.remove("test-strict")


def test_unknown_option_is_one_line(installed_home):
    with pytest.raises(UnknownNameError, match="table backend option 'colour'") as excinfo:
        benchsim.benchmark("nb201", colour="red")
    assert "\n" not in str(excinfo.value)
    assert "weight_sharing" in str(excinfo.value) and "ws_tau" in str(excinfo.value)


def test_unknown_benchmark_lists_installed_ones(installed_home, tmp_path):
    shutil.copytree(installed_home / "tables" / "tnb101-macro", tmp_path / "my-macro")
    with pytest.raises(UnknownNameError) as excinfo:
        benchsim.benchmark("nb301", root=tmp_path)
    message = str(excinfo.value)
    assert "'nb301'" in message and "nb201" in message and "my-macro" in message
    assert available(tmp_path) == ["nb201", "tnb101-micro", "tnb101-macro", "my-macro"]


def test_an_imported_folder_opens_by_its_name(installed_home, tmp_path):
    shutil.copytree(installed_home / "tables" / "tnb101-macro", tmp_path / "my-macro")
    bench = benchsim.benchmark("my-macro", root=tmp_path)
    original = benchsim.benchmark("tnb101-macro")
    assert bench.name == "my-macro" and bench.space is original.space
    np.testing.assert_array_equal(
        bench.query_many(np.arange(100), "normal", "test_ssim").values,
        original.query_many(np.arange(100), "normal", "test_ssim").values,
    )


def test_not_installed_without_install(tmp_path):
    with pytest.raises(DataError, match="benchsim data install tnb101-micro"):
        benchsim.benchmark("tnb101-micro", install=False, root=tmp_path)


def test_result_is_still_a_frozen_dataclass():
    result = Result(1, "cifar10", {"valid_acc": 90.0}, 12.5, seed=2)
    assert result == Result(1, "cifar10", {"valid_acc": 90.0}, 12.5, 2, None, None)
    assert asdict(result)["seed"] == 2
    assert replace(result, cost=1.0).cost == 1.0
    with pytest.raises(AttributeError):
        result.cost = 3.0  # type: ignore[misc]
