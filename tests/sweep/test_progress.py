"""A sweep's progress off a terminal: plain lines, a few seconds apart (none before)."""

from __future__ import annotations

from benchsim.sweep._progress import SweepProgress


def test_off_a_terminal_a_sweep_prints_plain_lines(monkeypatch, capsys):
    monkeypatch.setenv("BENCHSIM_PROGRESS_EVERY", "0")  # a line per finished run
    with SweepProgress(True) as bar:  # captured stderr is not a terminal
        bar.start(total=3, done=1)
        bar.advance(failed=False)
        bar.advance(failed=True)
    lines = capsys.readouterr().err.splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines] == [
        "benchsim sweep: 1 of 3 runs done, 0 failed",
        "benchsim sweep: 2 of 3 runs done, 0 failed",
        "benchsim sweep: 3 of 3 runs done, 1 failed",
    ]
    with SweepProgress(False) as bar:
        bar.start(total=3, done=0)
        bar.advance(failed=False)
    assert capsys.readouterr().err == ""


def test_plain_lines_are_rate_limited(monkeypatch, capsys):
    monkeypatch.delenv("BENCHSIM_PROGRESS_EVERY", raising=False)  # the default, seconds apart
    with SweepProgress(True) as bar:
        bar.start(total=50, done=0)
        for _ in range(50):
            bar.advance(failed=False)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("benchsim sweep: 0 of 50 runs done") and len(lines) == 1
