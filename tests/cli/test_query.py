"""``benchsim query`` on the real installed tables, and every kind of bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchsim.cli import main

ARCH0 = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+"
    "|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
)


def query(home: Path, *args: str, **env: str):
    """Run ``benchsim query ARGS`` with ``BENCHSIM_HOME=home``."""
    return CliRunner().invoke(main, ["query", *args], env={"BENCHSIM_HOME": str(home), **env})


def payload(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def error_line(result) -> str:
    """The one non-empty stderr line (fails if there are more)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def reference_row(reference_dir: Path, relpath: str, index: int) -> dict[str, str]:
    with (reference_dir / relpath).open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i == index:
                return row
    raise LookupError(index)


# ---------------------------------------------------------------- happy paths, real numbers
def test_query_prints_result_json(installed_home: Path, reference_dir: Path) -> None:
    out = payload(
        query(installed_home, "--task", "cifar10", "-m", "valid_acc", "-m", "test_acc", "0")
    )
    nasgraph = reference_row(reference_dir, "nb201/nb201_cifar10_train_valid_test_nasgraph.csv", 0)
    vtao = reference_row(reference_dir, "nb201/nats_tss_test_acc_200ep_vtao.csv", 0)
    assert out["benchmark"] == "nb201"
    assert out["arch"] == 0
    assert out["arch_str"] == ARCH0 == nasgraph["arch str"]
    assert out["task"] == "cifar10"
    assert list(out["metrics"]) == ["valid_acc", "test_acc"]
    assert out["metrics"]["valid_acc"] == pytest.approx(float(nasgraph["validation accuracy"]))
    assert out["metrics"]["test_acc"] == pytest.approx(float(vtao["CIFAR10TestAccuracy200Epochs"]))
    assert out["cost_s"] > 0
    assert {"seed", "epoch", "schedule"} <= set(out)
    assert result_is_indented(query(installed_home, "--task", "cifar10", "0"))


def result_is_indented(result) -> bool:
    return result.stdout.startswith('{\n  "benchmark": "nb201",\n  "arch": 0,\n')


def test_default_metric_is_the_search_metric(installed_home: Path) -> None:
    out = payload(query(installed_home, "-t", "cifar100", "1"))
    assert list(out["metrics"]) == ["valid_acc"]


def test_index_string_and_op_indices_agree(installed_home: Path) -> None:
    from benchsim.spaces import get_space

    space = get_space("nb201")
    forms = ["1654", space.format(1654), f"op:{space.to_op_indices(1654)}"]
    outs = [payload(query(installed_home, "--task", "cifar10", "--all-metrics", f)) for f in forms]
    assert all(o["arch"] == 1654 for o in outs)
    assert outs[0] == outs[1] == outs[2]


def test_all_metrics_lists_every_catalog_metric(installed_home: Path) -> None:
    from benchsim.catalog import CATALOG

    out = payload(
        query(
            installed_home,
            "-b",
            "tnb101-micro",
            "-t",
            "class_scene",
            "--all-metrics",
            "64-41414-3_33_333",
        )
    )
    assert out["benchmark"] == "tnb101-micro"
    assert out["arch_str"] == "64-41414-3_33_333"
    assert tuple(out["metrics"]) == CATALOG["tnb101-micro"]["class_scene"].metrics


def test_tnb101_value_matches_reference(installed_home: Path, reference_dir: Path) -> None:
    with (reference_dir / "tnb101/tnb101_jigsaw_all7352_bestmode_nasgraph.csv").open() as fh:
        row = next(r for r in csv.DictReader(fh) if r["arch_str"] == "64-41414-basic")
    out = payload(query(installed_home, "-b", "tnb101-macro", "-t", "jigsaw", "64-41414-basic"))
    assert out["metrics"]["valid_top1"] == pytest.approx(float(row["valid_top1"]))


def test_seed_values_are_recorded_seeds(installed_home: Path, reference_dir: Path) -> None:
    ref = reference_row(reference_dir, "nb201/nats_tss_final_per_seed_ctpe.csv", 0)
    per_seed = sorted(float(ref[f"cifar10-valid_valid_acc_seed{s}"]) for s in "ABC")
    got = sorted(
        payload(query(installed_home, "-t", "cifar10", "--seed", str(s), "0"))["metrics"][
            "valid_acc"
        ]
        for s in (0, 1, 2)
    )
    assert got == pytest.approx(per_seed)
    sampled = payload(query(installed_home, "-t", "cifar10", "--seed", "sample", "0"))
    assert sampled["seed"] in (0, 1, 2)
    mean = payload(query(installed_home, "-t", "cifar10", "--seed", "mean", "0"))
    assert mean["seed"] is None


def test_list_tasks_and_metrics(installed_home: Path) -> None:
    tasks = query(installed_home, "--list-tasks")
    assert tasks.exit_code == 0
    assert [line.split()[0] for line in tasks.stdout.splitlines()] == [
        "cifar10",
        "cifar100",
        "ImageNet16-120",
    ]
    metrics = query(installed_home, "-t", "cifar10", "--list-metrics")
    assert metrics.exit_code == 0
    lines = metrics.stdout.splitlines()
    assert any(line.startswith("valid_acc ") and "search" in line for line in lines)
    assert any(line.startswith("test_acc ") and "test" in line for line in lines)


def test_first_use_installs_and_says_so(mirror_dir: Path, tmp_path: Path) -> None:
    result = query(
        tmp_path, "-b", "tnb101-macro", "-t", "jigsaw", "0", BENCHSIM_DATA_MIRROR=str(mirror_dir)
    )
    out = payload(result)
    assert out["arch"] == 0
    assert "installing tnb101-macro" in result.stderr
    assert (tmp_path / "tables" / "tnb101-macro" / "meta.json").is_file()


# ---------------------------------------------------------------- bad input: exit 2, one line
@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["-b", "nb999", "-t", "cifar10", "0"], ["'nb999'", "nb201", "tnb101-micro"]),
        (["-t", "cifar11", "0"], ["'cifar11'", "cifar10", "ImageNet16-120"]),
        (["-t", "cifar10", "-m", "valid_accc", "0"], ["'valid_accc'", "valid_acc"]),
        (["-t", "cifar10", "|foo~0|+|bar~0|baz~1|"], ["foo"]),
        (["-t", "cifar10", "15625"], ["15625", "0..15624"]),
        (["-t", "cifar10", "--", "-1"], ["-1", "0..15624"]),
        (["-t", "cifar10", "--seed", "abc", "0"], ["'abc'", "sample"]),
        (["-t", "cifar10", "--seed", "123", "0"], ["123"]),
        (["-t", "cifar10", "--epoch", "-3", "0"], ["-3", "--epoch"]),
        (["-t", "cifar10", "--schedule", "0", "0"], ["--schedule"]),
        (["-t", "cifar10", "--all-metrics", "-m", "test_acc", "0"], ["--all-metrics"]),
        (["-t", "cifar10"], ["ARCH"]),
        (["0"], ["--task", "cifar10"]),
        (["--list-tasks", "0"], ["'0'"]),
        (["-b", "tnb101-micro", "-t", "class_scene", "64-41414-9_99_999"], ["64-41414-9_99_999"]),
    ],
)
def test_bad_input_exits_2_with_one_line(
    installed_home: Path, args: list[str], needles: list[str]
) -> None:
    result = query(installed_home, *args)
    assert result.exit_code == 2, result.output
    line = error_line(result)
    assert line.startswith("Error: ")
    for needle in needles:
        assert needle in line, line


def test_missing_mirror_dir_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = query(tmp_path, "-t", "cifar10", "--mirror", str(missing), "0")
    assert result.exit_code == 2
    assert str(missing) in error_line(result)


def test_a_corrupted_table_exits_1_with_the_repair_command(installed_home, tmp_path):
    """Flipped bytes in final.arrow once answered valid_acc 99.99 (really 81.98) with exit 0.
    Damaged data is a failure, not bad input: exit 1 (README), where it used to be 2."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(installed_home / "tables", home / "tables")
    path = home / "tables" / "nb201" / "final.arrow"
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8] = b"\x7f" * 8
    path.write_bytes(bytes(data))
    result = query(home, "--task", "cifar10", "-m", "valid_acc", "0")
    assert result.exit_code == 1
    line = error_line(result)
    assert "final.arrow does not match the SHA-256 recorded in meta.json" in line
    assert "`benchsim data install nb201 --force`" in line
    verify = CliRunner().invoke(main, ["data", "verify", "nb201"], env={"BENCHSIM_HOME": str(home)})
    assert verify.exit_code == 1 and "final.arrow sha256" in verify.output
