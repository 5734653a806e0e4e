"""Refusals say in a field whether they are about one architecture; the fetcher reads the field.

The fetcher once read the message for ``f"architecture {index} "``: a refusal worded otherwise
("... for architecture 7, only seeds ...") was cached as a property of the whole table.
"""

from __future__ import annotations

import pickle

import pytest

import benchsim
from benchsim.compat._fetch import Fetcher
from benchsim.errors import FidelityError


@pytest.fixture(scope="module")
def nb201(installed_home):
    return benchsim.benchmark("nb201")


def test_a_refusal_names_its_architecture_in_a_field(nb201):
    with pytest.raises(FidelityError) as about_one:
        nb201.query(5000, "cifar10", "valid_acc", epoch=3)  # curves cover archs 0..199 only
    assert about_one.value.arch == 5000
    with pytest.raises(FidelityError) as about_all:
        nb201.query(5, "cifar100", "valid_acc", seed="sample")  # no per-seed valid_acc there
    assert about_all.value.arch is None
    copy = pickle.loads(pickle.dumps(about_one.value))
    assert copy.arch == 5000 and str(copy) == str(about_one.value)


def test_the_fetcher_remembers_only_refusals_about_the_table(nb201):
    fetch = Fetcher(nb201)
    values, refused, _ = fetch.fetch(5000, "cifar10", ("valid_acc",), epoch=3)
    assert not values and "architecture 5000" in refused["valid_acc"]
    values, refused, _ = fetch.fetch(5, "cifar10", ("valid_acc",), epoch=3)
    assert "valid_acc" in values and not refused  # asked again: it was about 5000 only
    fetch.fetch(5, "cifar100", ("valid_acc", "train_time_s"), seed="sample")
    assert "valid_acc" in fetch._gaps["cifar100", "sample", None, None]  # about every arch
