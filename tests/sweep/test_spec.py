"""The sweep's text syntax (seeds, params), its spec identity and the run-id layout."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchsim.errors import ConfigError
from benchsim.sweep import (
    SweepSpec,
    content_hash,
    format_seeds,
    parse_param_items,
    parse_seeds,
    run_dir,
    run_id,
)
from benchsim.sweep._spec import MAX_SEEDS


@pytest.mark.parametrize(
    ("text", "seeds"),
    [
        ("0-99", tuple(range(100))),
        ("0,3,5", (0, 3, 5)),
        ("0-9,20-29", (*range(10), *range(20, 30))),
        ("7", (7,)),
        (" 5 , 1-2 ", (1, 2, 5)),
        ("3-3", (3,)),
    ],
)
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "does not parse"),
        ("a", "does not parse at 'a'"),
        ("0-", "does not parse at '0-'"),
        ("-1", "does not parse at '-1'"),
        ("1.5", "does not parse"),
        ("0,,3", "does not parse at ''"),
        ("9-3", "range '9-3' is empty"),
        ("0-9,5", "lists seed 5 twice"),
    ],
)
def test_bad_seed_specs_say_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_seeds(text)


@pytest.mark.parametrize("text", ["0-10000", "0-100000000", "0-5000,10000-15000"])
def test_more_seeds_than_a_sweep_takes_are_refused_before_listing_them(text):
    """``0-100000000`` used to be planned silently for a minute; now it is one line, at once."""
    with pytest.raises(ConfigError) as info:
        parse_seeds(text)
    message = str(info.value)
    assert f"--seeds {text!r}" in message and f"more than the {MAX_SEEDS:,}" in message
    assert parse_seeds(f"0-{MAX_SEEDS - 1}") == tuple(range(MAX_SEEDS))


@given(st.sets(st.integers(0, 500), min_size=1, max_size=60))
def test_format_seeds_round_trips(seeds):
    ordered = tuple(sorted(seeds))
    assert parse_seeds(format_seeds(ordered)) == ordered


def test_format_seeds_uses_ranges():
    assert format_seeds((0, 1, 2, 3, 7, 9, 10)) == "0-3,7,9-10"


def test_params_are_scoped_per_algorithm():
    got = parse_param_items(["population_size=20", "rea.sample_size=5", "emtnas.rmp=0.5", "x=ab"])
    assert got == {
        "*": {"population_size": 20, "x": "ab"},
        "rea": {"sample_size": 5},
        "emtnas": {"rmp": 0.5},
    }
    spec = SweepSpec(("rea", "rs"), (0,), "nb201", ("cifar10",), params=got)
    # shared values go only to algorithms that have the hyperparameter; scoped ones win
    assert spec.params_for("rea", {"population_size", "sample_size"}) == {
        "population_size": 20,
        "sample_size": 5,
    }
    assert spec.params_for("rs", set()) == {}
    with pytest.raises(ConfigError, match="must look like name=value"):
        parse_param_items(["novalue"])


def test_spec_round_trips_and_key_ignores_order():
    spec = SweepSpec(("rs", "rea"), tuple(range(10)), "nb201", ("cifar10", "cifar100"), budget="20")
    again = SweepSpec.from_dict(spec.to_dict())
    assert again == spec
    assert spec.to_dict()["seeds"] == "0-9"
    swapped = SweepSpec(
        ("rea", "rs"), tuple(range(10)), "nb201", ("cifar10", "cifar100"), "table", "20"
    )
    assert swapped.key() == spec.key()
    other = SweepSpec(
        ("rs", "rea"), tuple(range(11)), "nb201", ("cifar10", "cifar100"), "table", "20"
    )
    assert other.key() != spec.key()
    with pytest.raises(ConfigError, match="not a benchsim sweep spec"):
        SweepSpec.from_dict({"algos": ["rs"]})


def test_spec_runs_are_seed_major():
    spec = SweepSpec(("rs", "rea"), (0, 1), "nb201", ("cifar10",))
    assert spec.runs() == [("rs", 0), ("rea", 0), ("rs", 1), ("rea", 1)]


def test_content_hash_is_canonical():
    a = {"tasks": ("cifar10", "cifar100"), "params": {"b": 1, "a": 2.5}}
    b = {"params": {"a": 2.5, "b": 1}, "tasks": ["cifar10", "cifar100"]}
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash({**b, "params": {"a": 2.5, "b": 2}})
    assert len(content_hash(a)) == 64


def test_run_id_and_layout():
    tasks = ("cifar10", "cifar100")
    assert run_id("rea", tasks, 7) == "rea__cifar10+cifar100__seed7"
    assert run_dir(Path("/x"), "rea", tasks, 7) == Path("/x/runs/rea/cifar10+cifar100/seed=7")
    assert "=" not in run_id("rs", ("ImageNet16-120",), 0)  # file names stay out of hive parsing
