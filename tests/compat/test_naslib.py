"""NASLib's own query calls, replayed against the adapter.

NASLib (automl/NASLib) is not on PyPI and its install pulls a large tree, so the tests replay
the exact lookups its search spaces make, read from its source: ``nasbench201/graph.py`` and
``transbench101/graph.py``, ``query(metric, dataset, epoch=-1, full_lc=False,
dataset_api=...)``.  NB201 maps ``cifar10`` to ``cifar10-valid`` and reads
``dataset_api["nb201_data"][arch_str][dataset][key][epoch]`` with key ``train_acc1es`` (TRAIN),
``eval_acc1es`` (VAL and TEST alike), ``train_losses`` / ``eval_losses`` (losses),
``eval_times`` (VAL/TEST time), ``flop`` / ``latency`` / ``params``, and
``[dataset]["cost_info"]["train_time"]`` (TRAIN_TIME) or the whole ``cost_info`` (HP).  TNB101
calls ``dataset_api["api"].get_single_metric(arch_str, dataset_api["task"], name,
mode='final')`` for every metric (``TRAIN_TIME`` included) with the names of its per-task
tables below, and ``dataset_api["api"].get_arch_result(arch_str).query_all_results()[task]``
for ``Metric.RAW``.  Architecture strings come from NASLib's op_indices as its
``conversions.py`` builds them.  NASLib's regularized evolution is replayed call for call
(``optimizers/discrete/re/optimizer.py`` driven by ``defaults/trainer.py``'s ``search`` and
``evaluate``, with ``runners/nas/discrete_config.yaml``'s settings).
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

from benchsim.compat import CompatEmulationWarning
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
    """NASLib's ``convert_op_indices_micro_to_str``."""
    return "64-41414-{}_{}{}_{}{}{}".format(*op_indices)


def _metric_to_tb101(task):
    return next(names for tasks, names in TNB101_KEYS.items() if task in tasks)


def tnb101_query(dataset_api, op_indices, metric):
    """What NASLib's TransBench101SearchSpaceMicro.query reads (``epoch=-1, full_lc=False``)."""
    arch_str = naslib_micro_str(op_indices)
    query_results, task = dataset_api["api"], dataset_api["task"]
    if metric == "RAW":
        return query_results.get_arch_result(arch_str).query_all_results()[task]
    name = _metric_to_tb101(task)[metric]
    return query_results.get_single_metric(arch_str, task, name, mode="final")


@pytest.mark.parametrize("tasks", list(TNB101_KEYS))
def test_tnb101_queries_are_the_table(installed_home, tasks):
    import benchsim

    micro = benchsim.benchmark("tnb101-micro")
    for task in tasks:
        api = get_dataset_api("transbench101_micro", task)
        for op_indices in ((1, 0, 2, 3, 3, 3), (3, 3, 3, 3, 3, 3)):
            index = micro.space.parse(naslib_micro_str(op_indices))
            for metric, name in TNB101_KEYS[tasks].items():
                if metric == "VAL_ACCURACY":  # the final value NASLib itself exported
                    expected = micro.query(index, task, "naslib_valid").value
                    assert tnb101_query(api, op_indices, metric) == expected
                elif metric == "TRAIN_TIME":  # cumulative: the final value is the held one
                    expected = micro.query(index, task, "train_time_s").value
                    assert tnb101_query(api, op_indices, metric) == expected
                else:  # final train/test values and losses are not held
                    with pytest.raises(UnavailableError, match=f"'{name}'"):
                        tnb101_query(api, op_indices, metric)
            raw = tnb101_query(api, op_indices, "RAW")
            assert raw["total_epochs"] == micro.task_info(task).epochs


class _Model:
    """NASLib's ``torch.nn.Module()`` holder: ``.arch`` (op_indices here) and ``.accuracy``."""


def _sample_random_architecture():
    """NASLib's TransBench101SearchSpaceMicro.sample_random_architecture, draw for draw."""

    def is_valid_arch(op_indices):
        return not (
            (op_indices[0] == op_indices[1] == op_indices[2] == 1)
            or (op_indices[2] == op_indices[4] == op_indices[5] == 1)
        )

    while True:
        op_indices = np.random.randint(4, size=(6))
        if not is_valid_arch(op_indices):
            continue
        return op_indices


def _mutate(parent_op_indices):
    """NASLib's TransBench101SearchSpaceMicro.mutate, draw for draw."""
    op_indices = list(parent_op_indices)
    edge = np.random.choice(len(parent_op_indices))
    available = [o for o in range(4) if o != parent_op_indices[edge]]
    op_index = np.random.choice(available)
    op_indices[edge] = op_index
    return op_indices


def naslib_re(dataset_api, dataset, *, epochs=100, population_size=30, sample_size=10, seed=0):
    """NASLib's RegularizedEvolution through Trainer.search and Trainer.evaluate, call for
    call: every lookup goes through ``tnb101_query``, NASLib's own ``query``."""
    np.random.seed(seed)  # Trainer.search: np.random.seed(config.search.seed)
    population = collections.deque(maxlen=population_size)
    history = []
    trajectory = []
    for e in range(epochs):
        if e < population_size:  # RegularizedEvolution.new_epoch
            model = _Model()
            model.arch = _sample_random_architecture()
            model.accuracy = tnb101_query(dataset_api, model.arch, "VAL_ACCURACY")
        else:
            sample = []
            while len(sample) < sample_size:
                candidate = np.random.choice(list(population))
                sample.append(candidate)
            parent = max(sample, key=lambda x: x.accuracy)
            model = _Model()
            model.arch = _mutate(parent.arch)
            model.accuracy = tnb101_query(dataset_api, model.arch, "VAL_ACCURACY")
        population.append(model)
        if len(history) < 100:  # _update_history
            history.append(model)
        else:
            for i, p in enumerate(history):
                if model.accuracy > p.accuracy:
                    history[i] = model
                    break
        best = max(history, key=lambda x: x.accuracy).arch  # train_statistics(True)
        stats = [
            tnb101_query(dataset_api, best, m)
            for m in ("TRAIN_ACCURACY", "VAL_ACCURACY", "TEST_ACCURACY", "TRAIN_TIME")
        ]
        trajectory.append(stats)
        tnb101_query(dataset_api, best, "RAW")  # test_statistics(), every epoch
    best = max(history, key=lambda x: x.accuracy).arch  # Trainer.evaluate
    return best, tnb101_query(dataset_api, best, "TEST_ACCURACY"), trajectory, history


def test_naslib_re_on_tnb101_micro_runs_to_the_end(installed_home, one_line):
    import benchsim

    micro = benchsim.benchmark("tnb101-micro")
    with pytest.raises(UnavailableError) as excinfo:  # its first train_statistics
        naslib_re(get_dataset_api("transbench101_micro", "class_object"), "class_object")
    assert "mode='final'): the final-epoch 'train_top1' is not in benchsim's data" in one_line(
        excinfo
    )
    assert "emulate='best-as-final'" in one_line(excinfo)

    from benchsim.compat import _config

    _config._WARNED.discard("best-as-final")  # warned once per process
    with pytest.warns(CompatEmulationWarning, match="best-as-final"):
        api = get_dataset_api("transbench101_micro", "class_object", emulate="best-as-final")
        best, test, trajectory, history = naslib_re(api, "class_object")
    assert len(trajectory) == 100 and len(history) == 100
    index = micro.space.parse(naslib_micro_str(best))
    valid = micro.query(index, "class_object", "naslib_valid").value
    assert max(m.accuracy for m in history) == valid  # the search saw NASLib's final values
    assert trajectory[-1][1] == valid
    assert trajectory[-1][3] == micro.query(index, "class_object", "train_time_s").value
    assert test == micro.query(index, "class_object", "test_top1").value  # best-as-final
    counts = api["api"].compat_record()["emulated_answers"]["best-as-final"]
    assert counts == 2 * 100 + 1  # train and test of each train_statistics, then evaluate
    searched = {tuple(int(d) for d in m.arch) for m in history}
    assert len(searched) > 30  # the mutations moved away from the initial population


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
