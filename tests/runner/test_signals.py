"""SIGTERM and SIGHUP stop a run as Ctrl-C does: a checkpoint, then a resume that ends exactly
where an uninterrupted run ends; and the library leaves no signal handler behind.

The signals here are real ones, sent by the run's own process from its progress hook at a
chosen result, so the tests are deterministic and need no second process (the command-line
tests in tests/cli/test_run_signals.py send them from outside).
"""

from __future__ import annotations

import os
import signal

import pytest

from benchsim.runner import RunConfig, RunInterrupted, execute_run, resume_run
from benchsim.runner._signals import STOP_SIGNALS, StopSignals

CONFIG = RunConfig(algo="rea", tasks=("cifar10",), budget="60", seed=4)


def _handlers() -> dict[int, object]:
    return {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}


def _send_at(count: int, signum: int):
    """A progress hook that sends ``signum`` to this process at the ``count``-th result."""

    calls = []

    def hook(_size: int, _now: float) -> None:
        calls.append(1)
        if len(calls) == count:
            os.kill(os.getpid(), signum)

    return hook


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_stop_signal_checkpoints_and_the_resumed_run_is_byte_identical(
    installed_home, tmp_path, signum
):
    """SIGTERM and SIGHUP used to end the process at once: no checkpoint, work lost."""
    execute_run(CONFIG, tmp_path / "whole")
    before = _handlers()
    with pytest.raises(RunInterrupted) as stopped:
        execute_run(CONFIG, tmp_path / "cut", progress=_send_at(20, signum))
    assert _handlers() == before  # nothing left installed
    assert stopped.value.exit_code == 128 + signum
    assert signal.Signals(signum).name in str(stopped.value)
    assert "resume with: benchsim run --resume" in str(stopped.value)
    assert (tmp_path / "cut" / "checkpoint" / "SHA256SUMS").is_file()
    resume_run(tmp_path / "cut")
    whole = (tmp_path / "whole" / "trajectory.parquet").read_bytes()
    assert (tmp_path / "cut" / "trajectory.parquet").read_bytes() == whole


def test_handlers_are_restored_after_a_finished_run_and_after_an_error(installed_home, tmp_path):
    before = _handlers()
    execute_run(CONFIG)
    assert _handlers() == before
    with pytest.raises(RunInterrupted):
        execute_run(CONFIG, tmp_path / "cut", stop_after=5)
    assert _handlers() == before


def test_a_second_signal_gets_the_handler_that_was_there_before():
    """The first stop signal is only recorded; a second one is not swallowed: a second Ctrl-C
    raises KeyboardInterrupt, a handler installed before the block is called."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    # Python's own Ctrl-C handler, as in a terminal: a process started in the background (a
    # job runner, `cmd &`) inherits SIGINT ignored, and Python then installs none.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with StopSignals() as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.signum == signal.SIGTERM and seen == []
            os.kill(os.getpid(), signal.SIGTERM)
            assert seen == [signal.SIGTERM]
        with pytest.raises(KeyboardInterrupt), StopSignals() as stop:
            os.kill(os.getpid(), signal.SIGINT)
            assert stop.signum == signal.SIGINT
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def test_an_ignored_signal_stays_ignored_after_the_first():
    """A sweep's worker ignores stop signals outside runs; inside one, the first stops the run
    and a copy of it (the terminal's and the sweep's) must not abort the checkpoint."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with StopSignals() as stop:
            os.kill(os.getpid(), signal.SIGHUP)
            os.kill(os.getpid(), signal.SIGHUP)
            assert stop.signum == signal.SIGHUP
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_a_block_opened_after_a_stop_starts_stopped():
    """A sweep worker's run that begins just after the worker was told to stop (the signal
    fell between two runs) must stop at once, not run to its end."""
    with StopSignals(escalate=False) as worker:
        os.kill(os.getpid(), signal.SIGTERM)
        with StopSignals() as run:
            assert run.signum == signal.SIGTERM
        assert worker.signum == signal.SIGTERM
    with StopSignals() as fresh:
        assert fresh.signum is None  # a closed block leaves nothing behind
