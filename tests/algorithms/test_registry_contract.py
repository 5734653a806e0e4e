"""Every registered algorithm refuses hyperparameters of the wrong kind in one clear line."""

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
