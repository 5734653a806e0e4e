"""Bad dataset names, sources and files fail with one line; ``benchsim data prepare`` too."""

from __future__ import annotations

import os
import pickle

import click
import numpy as np
import pytest
from click.testing import CliRunner

from benchsim.cli._group import BenchsimGroup
from benchsim.cli._prepare import prepare as prepare_command
from benchsim.datasets import load_dataset, prepare, read_dataset, resolve_dataset
from benchsim.errors import BenchsimError, ConfigError, DataError, UnknownNameError


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message and isinstance(excinfo.value, BenchsimError)
    return message


def test_unknown_name_lists_the_datasets():
    with pytest.raises(UnknownNameError) as excinfo:
        resolve_dataset("mnist")
    message = one_line(excinfo)
    assert "'mnist'" in message and "cifar10, cifar100, ImageNet16-120" in message


def test_missing_source(tmp_path):
    with pytest.raises(DataError) as excinfo:
        prepare("cifar10", tmp_path / "nowhere", root=tmp_path)
    message = one_line(excinfo)
    assert "nowhere" in message and "cifar-10-batches-py" in message


def test_incomplete_source_names_the_missing_files(cifar10_dir, tmp_path):
    (cifar10_dir / "data_batch_3").unlink()
    with pytest.raises(DataError) as excinfo:
        prepare("cifar10", cifar10_dir, root=tmp_path)
    assert "data_batch_3" in one_line(excinfo)


def test_source_rules_for_real_and_synthetic(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        prepare("cifar100", root=tmp_path)
    assert "cifar-100-python" in one_line(excinfo)
    with pytest.raises(ConfigError) as excinfo:
        prepare("synthetic-shapes", tmp_path, root=tmp_path)
    assert "generated in-process" in one_line(excinfo)


def test_a_pickle_that_would_run_code_is_refused(cifar10_dir, tmp_path):
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    (cifar10_dir / "data_batch_1").write_bytes(pickle.dumps({b"data": Exploit()}))
    with pytest.raises(DataError) as excinfo:
        prepare("cifar10", cifar10_dir, root=tmp_path)
    assert "refusing to load" in one_line(excinfo) and "system" in str(excinfo.value)


def test_wrong_shapes_are_refused(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for name in ("train", "test"):
        rows = {b"data": np.zeros((4, 100), np.uint8), b"fine_labels": [0, 1, 2, 3]}
        (folder / name).write_bytes(pickle.dumps(rows))
    with pytest.raises(DataError) as excinfo:
        prepare("cifar100", folder, root=tmp_path)
    assert "(N, 3072)" in one_line(excinfo)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DataError) as excinfo:
        load_dataset("cifar10", root=tmp_path)
    assert "benchsim data prepare cifar10" in one_line(excinfo)
    bad = tmp_path / "cifar100.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError) as excinfo:
        load_dataset("cifar100", root=tmp_path)
    assert "unreadable" in one_line(excinfo)
    with pytest.raises(DataError):
        read_dataset(tmp_path / "absent.h5")


def test_medmnist_without_its_arrays(tmp_path):
    np.savez(tmp_path / "pathmnist.npz", train_images=np.zeros((2, 28, 28, 3), np.uint8))
    with pytest.raises(DataError) as excinfo:
        prepare("pathmnist", tmp_path / "pathmnist.npz", root=tmp_path)
    assert "train_labels" in one_line(excinfo)


def cli() -> click.Group:
    group = BenchsimGroup(name="data")
    group.add_command(prepare_command)
    return group


def test_cli_prepares_and_prints_the_path(tmp_path):
    result = CliRunner().invoke(cli(), ["prepare", "SYNTHETIC-SHAPES", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "synthetic-shapes.h5") in result.output
    assert "train 2000, valid 1000, test 1000" in result.output


def test_cli_errors_are_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(cli(), ["prepare", "cifar10", str(tmp_path / "missing")])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "does not exist" in result.output
    result = CliRunner().invoke(cli(), ["prepare", "mnist"])
    assert result.exit_code == 2 and "mnist" in result.output


def test_cli_takes_the_source_as_from_option_too(cifar10_tar, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli(), ["prepare", "cifar10", "--from", str(cifar10_tar), "--root", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert str(out / "cifar10.h5") in result.output
    result = CliRunner().invoke(
        cli(), ["prepare", "cifar10", str(cifar10_tar), "--from", str(tmp_path / "other")]
    )
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "differ; give one" in result.output
