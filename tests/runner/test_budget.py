import pytest

from benchsim.errors import ConfigError
from benchsim.runner import Budget, SimClock, parse_budget


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300", Budget(evaluations=300)),
        ("12000s", Budget(seconds=12000.0)),
        ("200m", Budget(seconds=12000.0)),
        ("3.5h", Budget(seconds=12600.0)),
        ("300,12000s", Budget(evaluations=300, seconds=12000.0)),
        (50, Budget(evaluations=50)),
        (None, Budget()),
    ],
)
def test_parse_budget(text, expected):
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["abc", "12x", "1.5", "-3", "0", "0s", "s", "300,,"])
def test_bad_budget_is_one_line(text):
    with pytest.raises(ConfigError) as err:
        parse_budget(text)
    message = str(err.value)
    assert "\n" not in message
    assert "budget" in message


def test_scaled_budget_multiplies_both_limits():
    assert Budget(10, 5.0).scaled(3) == Budget(30, 15.0)
    assert str(Budget()) == "unlimited"


def test_clock_moves_forward_only():
    clock = SimClock()
    assert clock.advance(2.5) == 2.5
    assert clock.advance_to(1.0) == 2.5
    assert clock.advance_to(4.0) == 4.0
    with pytest.raises(ConfigError):
        clock.advance(-1)
