"""The TransNAS-Bench-101 drop-in against the real tables and the reference export."""

from __future__ import annotations

import pandas as pd
import pytest

from benchsim.compat.tnb101 import METRICS_DICT, TASK_LIST, TransNASBenchAPI
from benchsim.errors import (
    ConfigError,
    InvalidArchitectureError,
    UnavailableError,
    UnknownNameError,
)


@pytest.fixture(scope="module")
def api(installed_home):
    return TransNASBenchAPI("transnas-bench_v10141024.pth")


@pytest.fixture(scope="module")
def reference(reference_dir):
    return {
        task: pd.read_csv(reference_dir / "tnb101" / f"tnb101_{task}_all7352_bestmode_nasgraph.csv")
        for task in TASK_LIST
    }


def test_official_order_and_names(api, reference):
    assert len(api) == 7352 and api.search_spaces == ["macro", "micro"]
    assert api.task_list == TASK_LIST and api.info_names[0] == "inference_time"
    assert api.index2arch(0) == "64-4111-basic" and api.index2arch(1) == "64-2311-basic"
    assert api.index2arch(3256) == "64-41414-0_00_000" and api.index2arch(-1) == "64-41414-3_33_333"
    strings = reference["class_scene"]["arch_str"].tolist()
    assert [api.index2arch(i) for i in range(0, 7352, 97)] == strings[::97]
    assert all(api.arch2index(s) == i for i, s in list(enumerate(strings))[::211])
    assert api.get_arch_list("micro") == api.all_arch_dict["micro"] == strings[3256:]
    for task, frame in reference.items():
        assert METRICS_DICT[task] == [
            c for c in frame.columns if c not in ("arch_str", "search_space", "task", "file_id")
        ]


@pytest.mark.parametrize("task", TASK_LIST)
def test_best_mode_is_the_reference_value(api, reference, task):
    frame = reference[task]
    held = api.available_metrics(task)
    assert "time_elapsed" in held and not any("loss" in m and "neg" not in m for m in held)
    for row in frame.iloc[::401].itertuples(index=False):
        for metric in held:
            assert api.get_single_metric(row.arch_str, task, metric) == pytest.approx(
                getattr(row, metric), rel=1e-6
            ), (row.arch_str, task, metric)


def test_best_archs_match_a_sort_of_the_reference(api, reference):
    frame = reference["class_object"]
    micro = frame[frame["search_space"] == "micro"]
    expected = sorted(zip(micro["valid_top1"], micro["arch_str"], strict=True), reverse=True)[:5]
    got = api.get_best_archs("class_object", "valid_top1", "micro", topk=5)
    assert [a for _, a in got] == [a for _, a in expected]
    assert [v for v, _ in got] == pytest.approx([v for v, _ in expected], rel=1e-6)
    assert api.get_total_epochs("64-1234-basic", "jigsaw") == 10


@pytest.mark.parametrize(
    ("call", "error", "needle"),
    [
        (
            lambda a: a.get_single_metric("64-41414-1_02_333", "class_object", "valid_loss"),
            UnavailableError,
            "metric 'valid_loss' is not in benchsim's data",
        ),
        (
            lambda a: a.get_single_metric(
                "64-41414-1_02_333", "class_object", "valid_top1", mode="final"
            ),
            UnavailableError,
            "needs per-epoch values",
        ),
        (
            lambda a: a.get_single_metric("64-41414-1_02_333", "jigsaw", "valid_top1", mode="list"),
            UnavailableError,
            "mode='best'",
        ),
        (
            lambda a: a.get_single_metric("64-41414-1_02_333", "jigsaw", "valid_top1", mode=3),
            UnavailableError,
            "epoch 3",
        ),
        (
            lambda a: a.get_single_metric("64-41414-1_02_333", "jigsaw", "valid_top1", mode=10),
            ConfigError,
            "must be < total epoch 10",
        ),
        (
            lambda a: a.get_single_metric(
                "64-41414-1_02_333", "jigsaw", "valid_top1", mode="worst"
            ),
            ConfigError,
            "mode == 'worst'",
        ),
        (
            lambda a: a.get_single_metric("64-41414-1_02_333", "jigsaw", "valid_mIoU"),
            UnknownNameError,
            "unknown metric 'valid_mIoU' for task jigsaw",
        ),
        (
            lambda a: a.get_single_metric("64-41414-1_02_333", "classification", "valid_top1"),
            UnknownNameError,
            "unknown task 'classification'",
        ),
        (
            lambda a: a.get_single_metric("64-41414-1_02_334", "jigsaw", "valid_top1"),
            InvalidArchitectureError,
            "get_single_metric",
        ),
        (
            lambda a: a.get_model_info("64-1234-basic", "jigsaw", "model_FLOPs"),
            UnavailableError,
            "'model_FLOPs' is not in benchsim's data",
        ),
        (
            lambda a: a.get_model_info("64-1234-basic", "jigsaw", "flops"),
            UnknownNameError,
            "unknown info 'flops'",
        ),
        (
            lambda a: a.get_arch_result("64-1234-basic"),
            UnavailableError,
            "not the official per-architecture records",
        ),
        (lambda a: a[3], UnavailableError, "get_arch_result(arch='64-"),
        (
            lambda a: a.get_epoch_status("64-1234-basic", "jigsaw", 0)["valid_top1"],
            UnavailableError,
            "needs per-epoch values",
        ),
        (
            lambda a: a.get_best_epoch_status("64-1234-basic", "jigsaw", "valid_top1"),
            UnavailableError,
            "needs per-epoch values",
        ),
        (lambda a: a.index2arch(7352), InvalidArchitectureError, "out of range"),
        (lambda a: a.get_arch_list("meso"), UnknownNameError, "unknown search space 'meso'"),
    ],
)
def test_unheld_and_bad_calls_raise_one_line(api, one_line, call, error, needle):
    with pytest.raises(error) as excinfo:
        call(api)
    assert needle in one_line(excinfo)
