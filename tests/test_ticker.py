"""Plain progress lines: the first at once, then at most one per interval."""

from __future__ import annotations

import io

import pytest

from benchsim._ticker import EVERY_S, Ticker, interval, on_terminal


def test_lines_are_held_until_the_interval_has_passed():
    times = iter([100.0, 100.0, 101.0, 104.9, 105.0, 105.1, 200.0])
    out = io.StringIO()
    ticker = Ticker("t", every=5, stream=out, clock=lambda: next(times))
    printed = [ticker.line(str(i)) for i in range(5)]
    assert printed == [True, False, False, True, False]
    assert ticker.line("forced", force=True) and out.getvalue() == "t: 0\nt: 3\nt: forced\n"


@pytest.mark.parametrize(
    ("value", "expected"), [("2.5", 2.5), ("0", 0.0), ("x", EVERY_S), ("-1", EVERY_S)]
)
def test_the_interval_can_be_set_by_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("BENCHSIM_PROGRESS_EVERY", value)
    assert interval() == expected


def test_a_string_buffer_is_not_a_terminal():
    assert not on_terminal(io.StringIO())
