"""The NATS-Bench / NAS-Bench-201 drop-ins answer from the real nb201 table, and refuse in one
line whatever the table does not hold."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from benchsim.compat import CompatEmulationWarning
from benchsim.compat.nats import create
from benchsim.compat.nb201 import NASBench201API
from benchsim.errors import (
    BenchsimError,
    ConfigError,
    InvalidArchitectureError,
    UnavailableError,
    UnknownNameError,
)

ARCHS = (0, 1462, 9930, 15624)


@pytest.mark.parametrize("index", ARCHS)
def test_get_more_info_is_the_table(api, bench, index):
    c10 = bench.query(
        index, "cifar10", ["train_acc", "valid_acc", "valid_setting_test_acc", "test_acc"]
    )
    info = api.get_more_info(index, "cifar10-valid", hp="200", is_random=False)
    assert info["train-accuracy"] == c10["train_acc"]
    assert info["valid-accuracy"] == c10["valid_acc"]
    assert info["test-accuracy"] == c10["valid_setting_test_acc"]  # ori-test of cifar10-valid
    assert info["train-all-time"] == c10.cost
    assert info["train-per-time"] == pytest.approx(c10.cost / 200)
    assert (
        api.get_more_info(index, "cifar10", hp="200", is_random=False)["test-accuracy"]
        == c10["test_acc"]
    )
    for ds in ("cifar100", "ImageNet16-120"):
        r = bench.query(index, ds, ["train_acc", "valid_acc", "test_acc", "valtest_acc"])
        info = api.get_more_info(index, ds, hp="200", is_random=False)
        assert [
            info[k]
            for k in ("train-accuracy", "valid-accuracy", "test-accuracy", "valtest-accuracy")
        ] == [r["train_acc"], r["valid_acc"], r["test_acc"], r["valtest_acc"]]
        assert "valid-loss" not in info and "valid-per-time" not in info


def test_official_key_layout(api):
    keys = list(api.get_more_info(7, "cifar100", hp="200", is_random=False))
    assert keys == [
        "train-accuracy",
        "train-per-time",
        "train-all-time",
        "valid-accuracy",
        "test-accuracy",
        "valtest-accuracy",
    ]
    assert "valid-accuracy" not in api.get_more_info(7, "cifar10", hp="200", is_random=False)


def test_random_trial_is_one_recorded_seed(api, bench):
    seeds = {bench.query(5, "cifar10", "valid_acc", seed=s).value for s in (0, 1, 2)}
    got = {api.get_more_info(5, "cifar10-valid", hp="200")["valid-accuracy"] for _ in range(40)}
    assert got == seeds  # is_random=True: every value is one recorded seed, all get drawn
    assert api.get_more_info(5, "cifar10-valid", hp="200", is_random=2)["valid-accuracy"] == (
        bench.query(5, "cifar10", "valid_acc", seed=2).value
    )


def test_same_seed_same_answers_and_script_random_untouched(installed_home):
    import random

    def run(seed):
        a = create(None, "tss", True, False, emulate="hp12-proxy,eval-time,no-latency", seed=seed)
        return [a.simulate_train_eval(i, "cifar10", hp="12")[0] for i in range(30)] + [a.random()]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        random.seed(5)
        first = run(0)
        state = random.getstate()
        assert run(0) == first and run(1) != first
        assert random.getstate() == state  # the shim never draws from the global generator


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (
            lambda a: a.get_more_info(0, "cifar10-valid", hp="200")["train-loss"],
            "'train-loss' is not in benchsim's data (the public NB201 exports record no losses)",
        ),
        (
            lambda a: a.get_more_info(0, "cifar10-valid", hp="200").get("valid-per-time"),
            "opt in to an estimate with emulate='eval-time'",
        ),
        (
            lambda a: a.get_more_info(0, "cifar10-valid", hp="200")["train-accuracy"],
            "'train_acc' has no per-seed values",
        ),
        (
            lambda a: a.get_more_info(0, "cifar10", hp="200", is_random=False)["train-accuracy"],
            "the cifar10 run (trained on train+valid) is recorded only by its test accuracy",
        ),
        (
            lambda a: a.get_more_info(0, "cifar10-valid", hp="12", is_random=False)[
                "valid-accuracy"
            ],
            "opt in to benchsim's 12-epoch proxy with emulate='hp12-proxy'",
        ),
        (
            lambda a: a.get_more_info(500, "cifar10-valid", iepoch=3, hp="200", is_random=False)[
                "valid-accuracy"
            ],
            "architecture 500 has no per-epoch record",
        ),
        (
            lambda a: a.get_more_info(0, "cifar10-valid", hp="200", is_random=777)[
                "valid-accuracy"
            ],
            "seed 777 is not recorded",
        ),
        (
            lambda a: a.simulate_train_eval(0, "cifar10", hp="12"),
            "simulate_train_eval(arch=0, dataset='cifar10', hp='12'): 'valid-accuracy'",
        ),
        (
            lambda a: a.get_latency(0, "cifar10"),
            "get_latency(index=0, dataset='cifar10', hp='12'): 'latency' is not in benchsim's data",
        ),
        (
            lambda a: a.get_cost_info(0, "cifar10-valid", hp="200")["flops"],
            "'flops' is not in benchsim's data",
        ),
        (
            lambda a: a.get_cost_info(0, "cifar10-valid", hp="200")["latency"],
            "emulate='no-latency'",
        ),
        (
            lambda a: a.find_best("cifar10", "valid", flop_max=10, hp="200"),
            "'flops' is not in benchsim's data",
        ),
        (
            lambda a: a.find_best("cifar10", "valid", hp="12"),
            "valid_acc of the 12-epoch schedule is not in benchsim's data",
        ),
        (lambda a: a.get_net_param(0, "cifar10", None), "get_net_param(index=0"),
        (
            lambda a: a.query_meta_info_by_index(0).get_metrics("cifar10-valid", "x-valid")[
                "accuracy"
            ],
            "query_meta_info_by_index(arch_index=0, hp='12').get_metrics(dataset='cifar10-valid', "
            "setname='x-valid', iepoch=None, is_random=False): 'accuracy'",
        ),
        (
            lambda a: a.query_by_index(0, "cifar10", hp="200"),
            "cifar10 (hp='200') is recorded as the mean of its training runs only",
        ),
        (
            lambda a: a.statistics("cifar10", "200"),
            "statistics(dataset='cifar10', hp='200'): cifar10 (hp='200') is recorded as the mean",
        ),
        (lambda a: a.arch2infos_dict, "arch2infos_dict: benchsim holds metric tables"),
        (lambda a: a.arch2infos_full, "arch2infos_full: benchsim holds metric tables"),
        (
            lambda a: a.query_by_index(0, "cifar10-valid", "200")[0].get_train()["accuracy"],
            "(is_random=False gives the mean of the runs)",
        ),
        (
            lambda a: a.query_meta_info_by_index(0, "200").get_compute_costs("cifar10")["flops"],
            "get_compute_costs(dataset='cifar10'): 'flops' is not in benchsim's data",
        ),
        (
            lambda a: a.query_meta_info_by_index(0, "200").get_net_param("cifar10"),
            "get_net_param(dataset='cifar10', seed=None): the trained weights",
        ),
    ],
)
def test_every_unheld_answer_raises_one_line(api, one_line, call, needle):
    with pytest.raises(UnavailableError) as excinfo:
        call(api)
    message = one_line(excinfo)
    assert needle in message, message
    assert isinstance(excinfo.value, KeyError)  # `except KeyError` code keeps working


@pytest.mark.parametrize(
    ("call", "error", "needle"),
    [
        (
            lambda a: a.get_more_info(0, "cifar-10"),
            UnknownNameError,
            "unknown dataset 'cifar-10' in get_more_info",
        ),
        (lambda a: a.get_more_info(0, "cifar10", hp="90"), UnknownNameError, "unknown hp '90'"),
        (
            lambda a: a.get_more_info(0, "cifar10", iepoch=200, hp="200"),
            ConfigError,
            "iepoch == 200, must be None",
        ),
        (
            lambda a: a.get_more_info(0, "cifar10", is_random="yes"),
            ConfigError,
            "is_random == 'yes'",
        ),
        (lambda a: a.get_more_info(15625, "cifar10"), InvalidArchitectureError, "out of range"),
        (lambda a: a.get_more_info("|bad~0|", "cifar10"), InvalidArchitectureError, "bad"),
        (lambda a: a.get_more_info(1.5, "cifar10"), InvalidArchitectureError, "has type float"),
        (
            lambda a: a.simulate_train_eval(0, "cifar10-valid"),
            UnknownNameError,
            "unknown dataset 'cifar10-valid' in simulate_train_eval",
        ),
        (lambda a: a.arch(15625), InvalidArchitectureError, "out of range"),
    ],
)
def test_bad_input_is_named(api, one_line, call, error, needle):
    with pytest.raises(error) as excinfo:
        call(api)
    assert needle in one_line(excinfo)


def test_refused_constructions(installed_home, one_line):
    with pytest.raises(UnknownNameError) as excinfo:
        create(None, "sss", True, False)
    assert "size space has no data" in one_line(excinfo)
    with pytest.raises(ConfigError) as excinfo:
        create({"meta_archs": []}, "tss", True, False)
    assert "benchsim answers from its own tables" in one_line(excinfo)
    with pytest.raises(ConfigError) as excinfo:
        create(None, "tss", True, False, emulate="hp12")
    assert "unknown emulation 'hp12'" in one_line(excinfo)
    with pytest.raises(ConfigError) as excinfo:
        create(None, "tss", True, False, benchmark="tnb101-micro")
    assert "needs an nb201-space benchmark" in one_line(excinfo)


def test_emulations_are_benchsims_protocol_and_labelled(emulating, bench):
    protocol = bench.evaluation_protocol("cifar10")
    total = bench.query(42, "cifar10", "train_time_s").value
    per_seed = {bench.query(42, "cifar10", "valid_acc", seed=s).value for s in (0, 1, 2)}
    acc, latency, cost, running = emulating.simulate_train_eval(42, "cifar10", hp="12")
    assert acc in per_seed and latency is None
    eval_s = total / 200 / 25_000 * 25_000 / 3  # a forward pass over x-valid, 1/3 of a step
    assert cost == pytest.approx(total * protocol.cost_scale + eval_s)
    assert running == cost and emulating.used_time == cost
    info = emulating.get_more_info(42, "cifar100", hp="12")
    assert info["valid-accuracy"] == bench.query(42, "cifar100", "valid_acc").value  # seed mean
    assert info.emulated["valid-accuracy"] == "hp12-proxy"
    assert info.emulated["valid-per-time"] == "eval-time"
    assert info["train-all-time"] == pytest.approx(
        bench.query(42, "cifar100", "train_time_s").value * 0.06
    )
    with pytest.raises(UnavailableError, match="no losses"):
        info["valid-loss"]  # emulation never covers losses
    with pytest.raises(UnavailableError, match=r"even by hp12-proxy .*no per-seed values"):
        emulating.get_more_info(42, "cifar100", hp="12", is_random=1)["valid-accuracy"]
    emulating.reset_time()
    assert emulating.used_time == 0
    record = emulating.compat_record()
    assert record["emulated_answers"]["hp12-proxy"] >= 2 and "hp12-proxy" in record["labels"]
    assert emulating.find_best("cifar10", "valid", hp="12") == emulating.find_best(
        "cifar10", "valid", hp="200"
    )


def test_emulation_warns_once_per_process(installed_home):
    from benchsim.compat import _config

    _config._WARNED.discard("no-latency")
    api = create(None, "tss", True, False, emulate="no-latency")
    with pytest.warns(CompatEmulationWarning, match="'no-latency'"):
        assert api.get_latency(3, "cifar100") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert api.get_latency(4, "cifar100") is None


def test_environment_opts_in(installed_home, monkeypatch):
    monkeypatch.setenv("BENCHSIM_COMPAT_EMULATE", "no-latency")
    monkeypatch.setenv("BENCHSIM_COMPAT_SEED", "7")
    api = create(None, "tss", True, False)
    assert api.settings.seed == 7 and api.settings.emulate == {"no-latency"}
    monkeypatch.setenv("BENCHSIM_COMPAT_SEED", "x")
    with pytest.raises(ConfigError, match=r"\$BENCHSIM_COMPAT_SEED == 'x'"):
        create(None, "tss", True, False)


def test_architectures_and_indices(api, bench):
    class Structure:  # what xautodl's CellStructure offers the official API
        def tostr(self):
            return bench.space.format(123)

    assert api.query_index_by_arch(Structure()) == 123
    assert api.query_index_by_arch(bench.space.format(77)) == 77
    assert api.query_index_by_arch("|nor_conv_9x9~0|") == -1  # the official "not in the space"
    with pytest.raises(InvalidArchitectureError):
        api.query_index_by_arch(-1)
    assert len(api) == 15625 and api[3] == api.arch(3) == bench.space.format(3)
    assert sum(1 for _ in api) == 15625  # iteration stops at the end, as the official API's
    assert api.get_unique_str(5) == bench.space.unique_str(5)
    assert api.str2lists(api[9930])[2] == (
        ("skip_connect", 0),
        ("nor_conv_3x3", 1),
        ("nor_conv_3x3", 2),
    )
    assert api.str2matrix(api[9930])[3, 0] == 1
    assert api.get_net_config(9930, "ImageNet16-120") == {
        "name": "infer.tiny",
        "C": 16,
        "N": 5,
        "arch_str": api[9930],
        "num_classes": 120,
    }


def test_find_best_is_the_argmax(api, bench):
    values = bench.query_many(np.arange(15625), "cifar10", "valid_acc").values
    assert api.find_best("cifar10", "valid", hp="200") == (
        int(np.argmax(values)),
        float(values.max()),
    )
    params = bench.query_many(np.arange(15625), "cifar100", "params_mb").values
    test = bench.query_many(np.arange(15625), "cifar100", "test_acc").values
    masked = np.where(params <= 0.5, test, np.nan)
    assert api.find_best("cifar100", "x-test", param_max=0.5, hp="200") == (
        int(np.nanargmax(masked)),
        float(np.nanmax(masked)),
    )


def test_info_string_shows_values_and_says_what_is_missing(api):
    text = api.query_info_str_by_arch(9930, "200")
    assert (
        "cifar10        train : [loss = n/a & top1 = n/a], test  : [loss = n/a & top1 = 94.36%]"
        in text
    )
    assert "n/a: not in benchsim's data (no losses, FLOPs or latency" in text
    assert api.query_by_arch(9930, "200") == text


def test_result_dicts_pickle_and_copy(api):
    import copy

    info = api.get_more_info(3, "cifar100", hp="200", is_random=False)
    for clone in (pickle.loads(pickle.dumps(info)), copy.deepcopy(info)):
        assert clone == info
        with pytest.raises(UnavailableError, match="no losses"):
            clone["train-loss"]


def test_nb201_api_has_the_nb201_signatures(installed_home):
    nb = NASBench201API(
        "NAS-Bench-201-v1_1-096897.pth", verbose=False, emulate="hp12-proxy,eval-time,no-latency"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, _, cost, total = nb.simulate_train_eval(9930, "cifar10", "12")
    assert total == cost and nb.filename == "NAS-Bench-201-v1_1-096897.pth"
    assert nb.find_best("cifar10-valid", "x-valid", None, None, "200")[0] == 6111
    assert "loss = n/a, top1 = 94.36%" in nb.query_info_str_by_arch(9930, "200")


def test_errors_are_benchsim_errors(api):
    with pytest.raises(BenchsimError):
        api.get_latency(0, "cifar10")


def test_record_views_answer_what_the_tables_hold(api, bench):
    """``query_meta_info_by_index`` / ``query_by_index`` as correlation scripts read them."""
    info = api.query_meta_info_by_index(6111, hp="200")
    assert round(info.get_metrics("cifar10", "ori-test")["accuracy"], 2) == 94.37
    assert info.get_metrics("cifar10", "ori-test")["accuracy"] == (
        bench.query(6111, "cifar10", "test_acc").value
    )
    valid = info.get_metrics("cifar10-valid", "valid")  # 'valid' is x-valid, as officially
    assert valid == {"iepoch": 199, "accuracy": bench.query(6111, "cifar10", "valid_acc").value}
    assert info.get_metrics("cifar100", "x-test")["accuracy"] == (
        bench.query(6111, "cifar100", "test_acc").value
    )
    costs = info.get_compute_costs("cifar100")
    assert costs["params"] == bench.query(6111, "cifar100", "params_mb").value
    assert costs["T-train@total"] == bench.query(6111, "cifar100", "train_time_s").value
    assert info.get_dataset_names() == ["cifar10-valid", "cifar10", "cifar100", "ImageNet16-120"]
    seeds = bench.recorded_seeds(6111, "cifar10", "valid_acc")
    assert info.get_dataset_seeds("cifar10-valid") == list(seeds) == [0, 1, 2]
    assert info.get_total_epoch() == 200 and info.arch_idx_str() == "006111"
    runs = api.query_by_index(6111, "cifar10-valid", hp="200")
    assert list(runs) == [0, 1, 2]
    for seed, run in runs.items():
        expected = bench.query(6111, "cifar10", "valid_acc", seed=seed).value
        assert run.get_eval("x-valid")["accuracy"] == expected
        assert run.eval_acc1es["x-valid@199"] == expected
        assert info.get_metrics("cifar10-valid", "x-valid", is_random=seed)["accuracy"] == expected
        assert run.seed == seed and run.get_total_epoch() == 200
    assert api.query_by_index(6111, hp="200").arch_index == 6111
    assert api.statistics("cifar10-valid", "200") == {2: 7456, 3: 8169}
    assert api.reload() is None and api.reload("/nowhere", 3) is None  # nothing to load
    early = api.query_meta_info_by_index(5, hp="200")  # curves: archs 0-199, seed means
    train = early.get_metrics("cifar10-valid", "train", iepoch=10)
    assert train["accuracy"] == bench.query(5, "cifar10", "train_acc", epoch=10).value
    run = api.query_by_index(5, "cifar10-valid", hp="200")[1]
    with pytest.raises(UnavailableError, match=r"get_train\(iepoch=10\): 'accuracy' is not"):
        run.train_acc1es[10]


def test_bohb_budgets_refused_loudly_even_when_caught(emulating, capsys, one_line):
    """NATS-Bench's bohb.py asks simulate_train_eval(arch, dataset, iepoch=int(budget) - 1,
    hp="12") for budgets 1..12 and hpbandster's worker catches what it raises: the refusal
    names iepoch and is said on stderr once per API object even though it is caught."""
    answered, refused = [], []
    for budget in (1.33, 4.0, 12.0, 4.0):  # eta=3, min_budget=1, max_budget=12
        try:  # what hpbandster.core.worker.Worker does with compute's exception
            answered.append(emulating.simulate_train_eval(0, "cifar10", int(budget) - 1, "12"))
        except UnavailableError as err:
            refused.append(str(err))
    assert len(answered) == 1 and len(refused) == 3  # iepoch 11 (the last) is the proxy's
    assert "simulate_train_eval(arch=0, dataset='cifar10', iepoch=0, hp='12')" in refused[0]
    assert "not in benchsim's data at iepoch=0 of the 12-epoch schedule" in refused[0]
    assert "answers its last epoch only (iepoch=None or 11)" in refused[0]
    err = capsys.readouterr().err
    assert err.count("simulate_train_eval refused (said once") == 1 and refused[0] in err
    assert emulating.compat_record()["refusals"] == {"simulate_train_eval": 3}
    with pytest.raises(UnavailableError) as excinfo:
        emulating.simulate_train_eval(0, "cifar10", 3, "12")
    assert "iepoch=3" in one_line(excinfo)


def test_default_per_seed_refusals_name_is_random(api):
    """At the official defaults (hp='12', is_random=True) the hint names what to pass."""
    info = api.get_more_info(0, "cifar10")
    with pytest.raises(UnavailableError, match=r"ask is_random=False for the mean of the runs"):
        info["test-accuracy"]
    assert api.get_more_info(0, "cifar10", is_random=False)["test-accuracy"] == 69.55
    info = api.get_more_info(0, "cifar10-valid")
    with pytest.raises(UnavailableError, match=r"emulate='hp12-proxy'"):
        info["valid-accuracy"]
    info = api.get_more_info(6111, "cifar10-valid", hp="200")
    with pytest.raises(UnavailableError, match=r"\(is_random=False gives the mean of the runs\)"):
        info["train-accuracy"]
