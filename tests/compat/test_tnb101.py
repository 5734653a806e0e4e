"""The TransNAS-Bench-101 drop-in against the real tables and the reference export."""

from __future__ import annotations

import pandas as pd
import pytest

from benchsim.compat import CompatEmulationWarning
from benchsim.compat._tnb101_values import NASLIB_VALID
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
                "64-41414-1_02_333", "class_object", "test_top1", mode="final"
            ),
            UnavailableError,
            "mode='final'): the final-epoch 'test_top1' is not in benchsim's data",
        ),
        (
            lambda a: a.get_single_metric("64-41414-1_02_333", "jigsaw", "valid_top1", mode="list"),
            UnavailableError,
            "the per-epoch list of 'valid_top1' is not in benchsim's data",
        ),
        (
            lambda a: a.get_single_metric("64-41414-1_02_333", "jigsaw", "valid_top1", mode=3),
            UnavailableError,
            "mode=3): 'valid_top1' at epoch 3 is not",
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
            "get_model_info(arch='64-1234-basic', task='jigsaw', info='model_FLOPs'): "
            "'model_FLOPs' is not in benchsim's data",
        ),
        (
            lambda a: a.get_model_info("64-1234-basic", "jigsaw", "flops"),
            UnknownNameError,
            "unknown info 'flops'",
        ),
        (
            lambda a: a.get_epoch_status("64-1234-basic", "jigsaw", 0)["valid_top1"],
            UnavailableError,
            "get_epoch_status(arch='64-1234-basic', task='jigsaw', epoch=0): 'valid_top1' at "
            "epoch 0 is not in benchsim's data",
        ),
        (
            lambda a: a.get_epoch_status("64-1234-basic", "jigsaw", -1)["test_top1"],
            UnavailableError,
            "'test_top1' at the final epoch is not in benchsim's data",
        ),
        (
            lambda a: a.get_best_epoch_status("64-1234-basic", "jigsaw", "valid_top1")["epoch"],
            UnavailableError,
            "get_best_epoch_status(arch='64-1234-basic', task='jigsaw', metric='valid_top1'): "
            "'epoch' is not in benchsim's data",
        ),
        (
            lambda a: a.get_best_epoch_status("64-1234-basic", "jigsaw", "valid_loss"),
            UnavailableError,
            "get_best_epoch_status(arch='64-1234-basic', task='jigsaw', metric='valid_loss'): "
            "metric 'valid_loss' is not in benchsim's data",
        ),
        (
            lambda a: a.get_epoch_status("64-1234-basic", "jigsaw", 10),
            ConfigError,
            "epoch == 10, must be an int in [-10, 10)",
        ),
        (
            lambda a: a.get_arch_result("64-1234-basic")["jigsaw"]["metrics"]["test_top1"][3],
            UnavailableError,
            "get_arch_result('64-1234-basic')['jigsaw']['metrics']['test_top1'][3]: 'test_top1' "
            "at epoch 3",
        ),
        (
            lambda a: a[3]["jigsaw"]["model_info"]["model_FLOPs"],
            UnavailableError,
            "'model_FLOPs' is not in benchsim's data",
        ),
        (lambda a: a.index2arch(7352), InvalidArchitectureError, "out of range"),
        (lambda a: a.get_arch_list("meso"), UnknownNameError, "unknown search space 'meso'"),
    ],
)
def test_unheld_and_bad_calls_raise_one_line(api, one_line, call, error, needle):
    with pytest.raises(error) as excinfo:
        call(api)
    assert needle in one_line(excinfo)


def test_final_mode_answers_what_the_exports_hold(api):
    """NASLib's exported final validation metric and the (cumulative) training time."""
    import benchsim

    micro = benchsim.benchmark("tnb101-micro")
    for task, metric in NASLIB_VALID.items():
        for arch in ("64-41414-1_02_333", "64-41414-3_33_333", "64-41414-0_12_301"):
            index = micro.space.parse(arch)
            final = api.get_single_metric(arch, task, metric, mode="final")
            assert final == micro.query(index, task, "naslib_valid").value
            assert final <= api.get_single_metric(arch, task, metric)  # final never above best
            epochs = api.get_total_epochs(arch, task)
            assert api.get_single_metric(arch, task, metric, mode=epochs - 1) == final
            assert api.get_single_metric(arch, task, metric, mode=-1) == final
            time = api.get_single_metric(arch, task, "time_elapsed", mode="final")
            assert time == micro.query(index, task, "train_time_s").value
            status = api.get_epoch_status(arch, task, -1)
            assert status == {"epoch": epochs - 1, metric: final, "time_elapsed": time}


def test_best_epoch_status_holds_the_best_value(api):
    status = api.get_best_epoch_status("64-41414-1_02_333", "class_object", "valid_top1")
    best = api.get_single_metric("64-41414-1_02_333", "class_object", "valid_top1")
    assert dict(status) == {"valid_top1": best}


def test_best_as_final_is_opt_in_and_labelled(installed_home):
    from benchsim.compat import _config

    _config._WARNED.discard("best-as-final")  # warned once per process
    plain = TransNASBenchAPI()
    with pytest.warns(CompatEmulationWarning, match="best-as-final"):
        emulating = TransNASBenchAPI(emulate="best-as-final")
        got = emulating.get_single_metric("64-41414-1_02_333", "jigsaw", "test_top1", "final")
    assert got == plain.get_single_metric("64-41414-1_02_333", "jigsaw", "test_top1")
    assert emulating.compat_record()["emulated_answers"] == {"best-as-final": 1}
    held = emulating.get_single_metric("64-41414-1_02_333", "jigsaw", "valid_top1", "final")
    assert held == plain.get_single_metric("64-41414-1_02_333", "jigsaw", "valid_top1", "final")
    assert emulating.compat_record()["emulated_answers"] == {"best-as-final": 1}  # not emulated


def test_arch_result_record(api):
    record = api[3256 + 27]
    assert record.arch_index == 3283 and record.arch_str == api.index2arch(3283)
    assert repr(record) == f"ArchResult(arch-index=3283, arch={record.arch_str}, 7 tasks)"
    results = record.query_all_results()
    assert list(results) == TASK_LIST
    jigsaw = results["jigsaw"]
    assert set(jigsaw) == {"metrics", "model_info", "total_epochs"}
    assert jigsaw["total_epochs"] == 10
    assert list(jigsaw["metrics"]) == METRICS_DICT["jigsaw"]
    curve = jigsaw["metrics"]["valid_top1"]
    assert len(curve) == 10
    assert curve[-1] == api.get_single_metric(record.arch_str, "jigsaw", "valid_top1", "final")
    assert dict(jigsaw["model_info"]) == {}
