"""The drop-ins against the official APIs themselves, on the official NATS-Bench fixture.

The official ``nats_bench`` (and ``nas_201_api``, fed the same records) read the three fixture
architectures from the original files; the drop-in reads the table benchsim imports from those
files.  Every value the drop-in returns must be the official one (evaluation times and latency
included: the import holds the files' own), and every official key it lacks must be one
benchsim's data cannot hold (losses, FLOPs).
"""

from __future__ import annotations

import bz2
import copy
import pickle

import pytest

from benchsim.errors import UnavailableError

from .conftest import FIXTURE_ARCHS

nats_bench = pytest.importorskip("nats_bench")
DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
NOT_HELD = ("-loss",)


@pytest.fixture(scope="module")
def official(nats_fixture_home):
    _, folder = nats_fixture_home
    return nats_bench.create(str(folder), "tss", fast_mode=True, verbose=False)


@pytest.fixture
def shim(nats_fixture_home, monkeypatch):
    from benchsim.compat.nats import create

    monkeypatch.setenv("BENCHSIM_HOME", str(nats_fixture_home[0]))
    return create(None, "tss", True, False, benchmark="nats-fixture", emulate="none")


def _compare(official_info: dict, ours, where: str) -> int:
    checked = 0
    for key, value in official_info.items():
        if key == "comment":
            continue
        if key in ours:
            assert ours[key] == pytest.approx(value, rel=1e-9, abs=1e-9), (where, key)
            checked += 1
        else:
            # the cifar10 (train+valid) run is recorded by its test accuracy only
            lacking = NOT_HELD + (("train-",) if where.split()[1] == "cifar10" else ())
            assert key.endswith(NOT_HELD) or key.startswith(lacking), (where, key)
            with pytest.raises(UnavailableError):
                ours[key]
    assert set(ours) - {"comment"} <= set(official_info), where
    return checked


@pytest.mark.parametrize("index", FIXTURE_ARCHS)
@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("hp", ["12", "200"])
def test_get_more_info_equals_the_official_api(official, shim, index, dataset, hp):
    seeds = official.query_meta_info_by_index(index, hp=hp).get_dataset_seeds(dataset)
    for is_random in (False, *seeds):
        for iepoch in (None, 0, 5):
            where = f"{index} {dataset} hp={hp} is_random={is_random} iepoch={iepoch}"
            ours = shim.get_more_info(index, dataset, iepoch=iepoch, hp=hp, is_random=is_random)
            theirs = official.get_more_info(
                index, dataset, iepoch=iepoch, hp=hp, is_random=is_random
            )
            # every setting compares values: the test accuracy, and accuracies + train times
            assert _compare(theirs, ours, where) >= (1 if dataset == "cifar10" else 4)


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "ImageNet16-120"])
@pytest.mark.parametrize("hp", ["12", "200"])
def test_simulate_train_eval_equals_the_official_api_without_emulation(official, shim, dataset, hp):
    """On the imported official files every value ``simulate_train_eval`` returns is
    recorded: the accuracy and training time of one trial, that trial's validation time and
    the latency, each the official API's, with no emulation asked for or used."""
    name = "cifar10-valid" if dataset == "cifar10" else dataset
    for index in FIXTURE_ARCHS:
        trials = {}  # the official (accuracy, time cost) of each trial the draw may pick
        for seed in official.query_meta_info_by_index(index, hp=hp).get_dataset_seeds(name):
            info = official.get_more_info(index, name, hp=hp, is_random=seed)
            trials[seed] = (info["valid-accuracy"], info["train-all-time"] + info["valid-per-time"])
        acc, latency, cost, total = shim.simulate_train_eval(index, dataset, hp=hp)
        assert (acc, cost) in set(trials.values()), (index, dataset, hp)
        assert latency == pytest.approx(official.get_latency(index, dataset, hp=hp), rel=1e-12)
        assert shim.get_latency(index, dataset, hp=hp) == latency
        cost_info = shim.get_cost_info(index, name, hp=hp)
        theirs = official.get_cost_info(index, name, hp=hp)
        for key in ("latency", "params", *(k for k in theirs if k.startswith("T-"))):
            assert cost_info[key] == pytest.approx(theirs[key], rel=1e-9), (index, name, key)
    assert total == pytest.approx(shim.used_time)
    assert shim.compat_record()["emulated_answers"] == {}


def test_nb201_api_equals_the_official_nas_201_api(shim, nats_fixture_home, monkeypatch):
    nas_201_api = pytest.importorskip("nas_201_api")
    from benchsim.compat.nb201 import NASBench201API

    _, folder = nats_fixture_home
    records = {}
    for i in FIXTURE_ARCHS:
        with bz2.open(folder / f"{i:06d}.pickle.pbz2") as fh:  # trusted official test data
            records[i] = pickle.load(fh)
    with bz2.open(folder / "meta.pickle.pbz2") as fh:
        meta = pickle.load(fh)["meta_archs"]

    def state(raw):
        return nas_201_api.ArchResults.create_from_state_dict(copy.deepcopy(raw)).state_dict()

    official = nas_201_api.NASBench201API(
        {
            "meta_archs": meta,
            "evaluated_indexes": set(records),
            "arch2infos": {
                i: {"less": state(r["12"]), "full": state(r["200"])} for i, r in records.items()
            },
        },
        verbose=False,
    )
    ours = NASBench201API(None, verbose=False, benchmark="nats-fixture")
    for index in FIXTURE_ARCHS:
        assert ours.arch(index) == official.arch(index)
        assert ours.query_index_by_arch(official.arch(index)) == official.query_index_by_arch(
            official.arch(index)
        )
        for dataset in DATASETS:
            for hp in ("12", "200"):
                theirs = official.get_more_info(index, dataset, hp=hp, is_random=False)
                _compare(
                    theirs,
                    ours.get_more_info(index, dataset, hp=hp, is_random=False),
                    f"{index} {dataset} hp={hp}",
                )


@pytest.mark.parametrize("index", FIXTURE_ARCHS)
@pytest.mark.parametrize("hp", ["12", "200"])
def test_record_views_equal_the_official_records(official, shim, index, hp):
    """``query_meta_info_by_index`` / ``query_by_index``: the same datasets, seeds, metrics
    and costs as the official ``ArchResults`` / ``ResultsCount`` built from the same files."""
    theirs = official.query_meta_info_by_index(index, hp=hp)
    ours = shim.query_meta_info_by_index(index, hp=hp)
    assert ours.arch_str == theirs.arch_str and ours.arch_idx_str() == theirs.arch_idx_str()
    assert ours.get_total_epoch() == theirs.get_total_epoch()
    checked = 0
    for dataset in DATASETS:
        seeds = theirs.get_dataset_seeds(dataset)
        assert ours.get_dataset_seeds(dataset) == seeds, (dataset, hp)
        sets = ["train", *theirs.query(dataset, seeds[0]).get_eval_set()]
        for setname in sets:
            for is_random in (False, *seeds):
                for iepoch in (None, 3):
                    where = f"{index} {dataset} {setname} hp={hp} {is_random} {iepoch}"
                    mine = ours.get_metrics(dataset, setname, iepoch, is_random)
                    try:
                        official_info = theirs.get_metrics(dataset, setname, iepoch, is_random)
                    except KeyError:  # the official record has no such epoch: neither do we
                        assert "accuracy" not in mine, where
                        continue
                    for key, value in official_info.items():
                        if key in mine:
                            assert mine[key] == pytest.approx(value, rel=1e-9), (where, key)
                            checked += 1
                        else:  # losses, evaluation times, the cifar10 run's training
                            assert key in ("loss", "cur_time", "all_time", "accuracy"), where
                            with pytest.raises(UnavailableError):
                                mine[key]
        runs = shim.query_by_index(index, dataset, hp=hp)
        assert list(runs) == seeds
        for seed, run in runs.items():
            official_run = official.query_by_index(index, dataset, hp=hp)[seed]
            assert sorted(run.get_eval_set()) == sorted(official_run.get_eval_set())
            for name in run.get_eval_set():
                assert run.get_eval(name)["accuracy"] == pytest.approx(
                    official_run.get_eval(name)["accuracy"], rel=1e-9
                )
                checked += 1
    assert checked > 100
    costs = ours.get_compute_costs("cifar10-valid")
    official_costs = theirs.get_compute_costs("cifar10-valid")
    assert costs["params"] == pytest.approx(official_costs["params"], rel=1e-9)
    assert costs["T-train@total"] == pytest.approx(official_costs["T-train@total"], rel=1e-9)
