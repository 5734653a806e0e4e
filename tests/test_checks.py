"""The shared value checks: one-line messages naming the parameter, the value and the rule."""

import pytest

from benchsim._checks import check_int, task_names
from benchsim.algorithms import create
from benchsim.errors import ConfigError


@pytest.mark.parametrize("value", ["cifar100", [1, 2], {"cifar100": 1}, 3])
def test_task_names_refuse_anything_but_a_list_of_names(value):
    with pytest.raises(ConfigError, match=r"must be a list of task names or null \(all others\)"):
        task_names("source_tasks", value, "all others")


def test_task_names_accept_lists_tuples_and_null():
    assert task_names("x", ["a", "b"], "") == ("a", "b")
    assert task_names("x", ("a",), "") == ("a",)
    assert task_names("x", None, "") is None


@pytest.mark.parametrize(
    ("algo", "param"),
    [("catch", "source_tasks"), ("xfernas", "source_tasks"), ("ld-nas", "baseline_tasks")],
)
def test_algorithms_use_it(algo, param):
    with pytest.raises(
        ConfigError, match=f"{param} == 'jigsaw' for algorithm {algo}, must be a list"
    ):
        create(algo, "tnb101-micro", {param: "jigsaw"})


def test_check_int_refuses_bools():
    with pytest.raises(ConfigError, match="repeats == True, must be an integer >= 1"):
        check_int("repeats", True, 1)
