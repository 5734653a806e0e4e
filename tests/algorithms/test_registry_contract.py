"""Every registered algorithm declares a constraint for each hyperparameter, checked once by the
base class, and refuses a value of the wrong kind or range in one clear line."""

from __future__ import annotations

import pytest

from benchsim.algorithms import algorithm_class, available, create
from benchsim.errors import ConfigError


def _typed_params():
    for name in available():
        for key, default in algorithm_class(name).hyperparameters().items():
            if isinstance(default, (bool, int, float, str)):
                yield name, key, default


@pytest.mark.parametrize(("name", "key", "default"), list(_typed_params()))
def test_a_value_of_the_wrong_kind_names_the_parameter(name, key, default):
    wrong = 3 if isinstance(default, (bool, str)) else "abc"
    with pytest.raises(ConfigError) as excinfo:
        create(name, "nb201", {key: wrong})
    message = str(excinfo.value)
    assert message.startswith(f"{key} == {wrong!r} for algorithm {name}, must be ")
    assert "not supported between" not in message and "\n" not in message


def test_random_search_without_replacement_never_repeats_and_ends(installed_home):
    from benchsim.runner import RunConfig, execute_run

    out = execute_run(
        RunConfig(algo="rs", benchmark="tnb101-micro", tasks=("jigsaw",), budget="5000",
                  params={"replace": False})
    )  # fmt: skip
    archs = out.trajectory.column("arch").to_pylist()
    assert len(archs) == len(set(archs)) == 4096  # the whole space once, then it stops
    again = execute_run(
        RunConfig(algo="rs", benchmark="tnb101-micro", tasks=("jigsaw",), budget="5000")
    )
    assert len(again.trajectory) == 5000  # with replacement (the default) it repeats


@pytest.mark.parametrize("name", available())
def test_every_hyperparameter_declares_its_constraints(name):
    """Checked by the base class from the declaration; no algorithm writes its own checks."""
    cls = algorithm_class(name)
    assert set(cls._parameter_constraints) == set(cls.hyperparameters())
    assert "__post_init__" not in vars(cls)
    create(name, "nb201")  # the defaults satisfy them


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("rea", {"population_size": 1}, "population_size == 1 for algorithm rea, must be an "
         "integer >= 2"),
        ("rea", {"sample_size": 11}, "sample_size == 11, must be in 1..population_size (10)"),
        ("emtnas", {"fitness_update": "lin"}, "must be one of "),
        ("xfernas", {"target_evaluations": 0}, "must be an integer >= 1 or None"),
        ("ppo", {"clip": 1.0}, "clip == 1.0 for algorithm ppo, must be a number in (0, 1)"),
        ("jt-s", {"rmp": 0.3}, "its one population has no other task to mate with"),
    ],
)  # fmt: skip
def test_range_and_relation_rules_are_one_line(name, params, message):
    with pytest.raises(ConfigError) as excinfo:
        create(name, "nb201", params)
    assert message in str(excinfo.value) and "\n" not in str(excinfo.value)
