"""NASLib's own query calls, replayed against the adapter.

NASLib (automl/NASLib) is not on PyPI and its install pulls a large tree, so the test replays
the exact lookups its search spaces make (read from ``naslib/search_spaces/nasbench201/graph.py``
and ``transbench101/graph.py``, ``query(metric, dataset, epoch=-1, full_lc=False,
dataset_api=...)``): NB201 maps ``cifar10`` to ``cifar10-valid`` and reads
``dataset_api["nb201_data"][arch_str][dataset][key][epoch]`` with key ``train_acc1es`` (TRAIN),
``eval_acc1es`` (VAL and TEST alike), ``train_losses`` / ``eval_losses`` (losses),
``eval_times`` (VAL/TEST time), ``flop`` / ``latency`` / ``params``, and
``[dataset]["cost_info"]["train_time"]`` (TRAIN_TIME) or the whole ``cost_info`` (HP); TNB101
calls ``dataset_api["api"].get_single_metric(arch_str, dataset_api["task"], name)`` with the
names of its per-task tables below.  Architecture strings come from NASLib's op_indices as its
``conversions.py`` builds them.
"""

from __future__ import annotations

import pytest

from benchsim.compat.naslib import get_dataset_api
from benchsim.errors import ConfigError, UnavailableError, UnknownNameError

NB201_KEYS = {  # NASLib Metric -> the key its graph.query reads
    "TRAIN_ACCURACY": "train_acc1es",
    "VAL_ACCURACY": "eval_acc1es",
    "TEST_ACCURACY": "eval_acc1es",
    "TRAIN_LOSS": "train_losses",
    "VAL_LOSS": "eval_losses",
    "TEST_LOSS": "eval_losses",
    "VAL_TIME": "eval_times",
    "TEST_TIME": "eval_times",
    "FLOPS": "flop",
    "LATENCY": "latency",
    "PARAMETERS": "params",
}
TNB101_KEYS = {  # task group -> NASLib Metric -> official metric name
    ("class_scene", "class_object", "jigsaw"): {
        "TRAIN_ACCURACY": "train_top1",
        "VAL_ACCURACY": "valid_top1",
        "TEST_ACCURACY": "test_top1",
        "TRAIN_LOSS": "train_loss",
        "TRAIN_TIME": "time_elapsed",
    },
    ("room_layout",): {
        "TRAIN_ACCURACY": "train_neg_loss",
        "VAL_ACCURACY": "valid_neg_loss",
        "TEST_ACCURACY": "test_neg_loss",
        "VAL_LOSS": "valid_loss",
    },
    ("segmentsemantic",): {
        "TRAIN_ACCURACY": "train_acc",
        "VAL_ACCURACY": "valid_acc",
        "TEST_ACCURACY": "test_acc",
    },
    ("normal", "autoencoder"): {
        "TRAIN_ACCURACY": "train_ssim",
        "VAL_ACCURACY": "valid_ssim",
        "TEST_ACCURACY": "test_ssim",
        "TEST_LOSS": "test_l1_loss",
    },
}
OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
"""NASLib's op codes 0-4, in the order of its OP_NAMES."""


def naslib_nb201_str(op_indices):
    """NASLib's op_indices -> NB201 string (edges (1,2),(1,3),(1,4),(2,3),(2,4),(3,4))."""
    o = [OPS[i] for i in op_indices]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[3]}~1|+|{o[2]}~0|{o[4]}~1|{o[5]}~2|"


def nb201_query(api, op_indices, metric, dataset, epoch=-1, full_lc=False):
    """What NASLib's NasBench201SearchSpace.query reads, lookup for lookup."""
    arch_str = naslib_nb201_str(op_indices)
    if metric == "RAW":
        return api["nb201_data"][arch_str]
    data = api["nb201_data"][arch_str]["cifar10-valid" if dataset == "cifar10" else dataset]
    if metric == "HP":
        return data["cost_info"]
    if metric == "TRAIN_TIME":
        return data["cost_info"]["train_time"]
    if full_lc and epoch == -1:
        return data[NB201_KEYS[metric]]
    if full_lc:
        return data[NB201_KEYS[metric]][:epoch]
    return data[NB201_KEYS[metric]][epoch]


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
def test_nb201_queries_are_the_table(installed_home, bench, dataset):
    api = get_dataset_api("nasbench201", dataset)
    test_api = get_dataset_api("nasbench201", dataset, eval_split="test")
    for op_indices in ([2, 2, 2, 0, 2, 2], [0, 1, 3, 4, 2, 0], [4, 4, 4, 4, 4, 4]):
        index = bench.space.index(list(op_indices))
        assert bench.space.format(index) == naslib_nb201_str(op_indices)
        r = bench.query(index, dataset, ["train_acc", "valid_acc", "train_time_s", "params_mb"])
        test = "valid_setting_test_acc" if dataset == "cifar10" else "test_acc"
        assert nb201_query(api, op_indices, "TRAIN_ACCURACY", dataset) == r["train_acc"]
        assert nb201_query(api, op_indices, "VAL_ACCURACY", dataset) == r["valid_acc"]
        assert nb201_query(api, op_indices, "TEST_ACCURACY", dataset) == r["valid_acc"]  # one key
        assert (
            nb201_query(test_api, op_indices, "TEST_ACCURACY", dataset)
            == bench.query(index, dataset, test).value
        )
        assert nb201_query(api, op_indices, "VAL_ACCURACY", dataset, epoch=199) == r["valid_acc"]
        assert nb201_query(api, op_indices, "TRAIN_TIME", dataset) == r["train_time_s"]
        assert nb201_query(api, op_indices, "PARAMETERS", dataset) == r["params_mb"]
        assert nb201_query(api, op_indices, "HP", dataset)["params"] == r["params_mb"]
        assert len(nb201_query(api, op_indices, "VAL_ACCURACY", dataset, full_lc=True)) == 200
        assert set(nb201_query(api, op_indices, "RAW", dataset)) == {
            "cifar10-valid",
            "cifar100",
            "ImageNet16-120",
        }
        for metric in ("TRAIN_LOSS", "VAL_LOSS", "TEST_LOSS", "VAL_TIME", "FLOPS", "LATENCY"):
            with pytest.raises(UnavailableError, match="is not in benchsim's data"):
                nb201_query(api, op_indices, metric, dataset)
        with pytest.raises(UnavailableError, match="'flops' is not in benchsim's data"):
            nb201_query(api, op_indices, "HP", dataset)["flops"]


def test_nb201_learning_curves_where_recorded(installed_home, bench):
    api = get_dataset_api("nasbench201", "cifar10")
    early = [int(c) for c in bench.space.to_op_indices(5)]  # the table has curves of 0-199
    curve = nb201_query(api, early, "VAL_ACCURACY", "cifar10", epoch=10, full_lc=True)
    assert curve == [bench.query(5, "cifar10", "valid_acc", epoch=e).value for e in range(10)]
    late = [int(c) for c in bench.space.to_op_indices(9930)]
    with pytest.raises(UnavailableError, match="architecture 9930 has no per-epoch record"):
        nb201_query(api, late, "VAL_ACCURACY", "cifar10", epoch=10)


def test_tnb101_macro_strings_as_naslib_writes_them(installed_home):
    api = get_dataset_api("transbench101_macro", "class_scene")["api"]
    digits = (1, 1, 1, 4, 0, 0)  # NASLib pads macro op_indices with zeros to six
    arch_str = "64-{}-basic".format("".join(str(d) for d in digits if d))
    assert arch_str == "64-1114-basic"
    assert api.get_single_metric(arch_str, "class_scene", "valid_top1") > 0


def naslib_micro_str(op_indices):
    return "64-41414-{}_{}{}_{}{}{}".format(*op_indices)


@pytest.mark.parametrize("tasks", list(TNB101_KEYS))
def test_tnb101_queries_are_the_table(installed_home, tasks):
    import benchsim

    micro = benchsim.benchmark("tnb101-micro")
    for task in tasks:
        api = get_dataset_api("transbench101_micro", task)
        for op_indices in ((1, 0, 2, 3, 3, 3), (3, 3, 3, 3, 3, 3)):
            arch_str = naslib_micro_str(op_indices)
            index = micro.space.parse(arch_str)
            for metric, name in TNB101_KEYS[tasks].items():
                if "loss" in name and "neg" not in name:
                    with pytest.raises(UnavailableError):
                        api["api"].get_single_metric(arch_str, api["task"], name)
                    continue
                ours = "train_time_s" if name == "time_elapsed" else name
                got = api["api"].get_single_metric(arch_str, api["task"], name)
                assert got == micro.query(index, task, ours).value, (task, metric)


def test_unknown_spaces_and_options(installed_home, one_line):
    with pytest.raises(UnknownNameError) as excinfo:
        get_dataset_api("nasbench301", "cifar10")
    assert "benchsim holds no NAS-Bench-101/301 data" in one_line(excinfo)
    with pytest.raises(UnknownNameError, match="unknown dataset 'cifar10-valid'"):
        get_dataset_api("nasbench201", "cifar10-valid")
    with pytest.raises(ConfigError, match="eval_split == 'val'"):
        get_dataset_api("nasbench201", "cifar10", eval_split="val")
    with pytest.raises(UnknownNameError, match="unknown task 'cifar10'"):
        get_dataset_api("transbench101", "cifar10")
