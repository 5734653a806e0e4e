"""An algorithm's defaults come from the space object it is given, never from a name prefix."""

from __future__ import annotations

import pytest

from benchsim.algorithms import algorithm_class, available, create
from benchsim.errors import ConfigError
from benchsim.spaces import get_space
from benchsim.spaces.nb201 import NB201Space


class Variant(NB201Space):
    """A space of the NB201 cells under another name (what a new benchmark would register)."""

    name = "nb201-variant"


def test_paper_defaults_are_per_space_and_exact():
    rea = algorithm_class("rea")
    assert rea.defaults_for(get_space("tnb101-micro")) == {"population_size": 10, "sample_size": 10}
    assert rea.defaults_for(get_space("nb201")) == {"population_size": 10, "sample_size": 3}
    assert rea.defaults_for(Variant()) == {}  # a prefix of "nb201" is not NB201's paper
    assert create("emtnas", Variant()).generations == create("emtnas").generations == 300
    assert create("emtnas", "tnb101-macro").generations == 100


def test_a_space_without_a_protocol_budget_is_asked_for_one_in_one_line():
    """A new benchmark's space silently got a budget of "50" (or "12000s" by prefix)."""
    for name in available():
        cls = algorithm_class(name)
        if cls.stops_itself:
            assert cls.default_budget(Variant()) is None
            continue
        assert cls.default_budget(get_space("nb201")) == "12000s"
        assert cls.default_budget(get_space("tnb101-micro")) == "50"
        with pytest.raises(ConfigError, match=f"no default budget for {name} on space") as info:
            cls.default_budget(Variant())
        assert "nb201-variant" in str(info.value) and "\n" not in str(info.value)
