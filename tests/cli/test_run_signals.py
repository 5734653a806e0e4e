"""``benchsim run`` stopped from outside and resumed, as a user's shell sees it: a real process,
real signals (Ctrl-C, a scheduler's SIGTERM, a dropped session's SIGHUP), and a damaged
checkpoint met by ``--resume``.

Runs are small (EMT-NAS, 1,000 generations, about a second of search); the signal is sent as
soon as the run has written its config.json, from when on it is caught, so the run is always
still searching when it arrives.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchsim.cli import main

ARGS = ("--algo", "emtnas", "--param", "generations=1000")


def _start(home: Path, out: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "BENCHSIM_HOME": str(home)}
    command = [sys.executable, "-m", "benchsim.cli", "run", "--no-progress", "--out", str(out)]
    return subprocess.Popen(
        [*command, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _when_running(proc: subprocess.Popen, out: Path) -> None:
    """Wait until the run has written config.json (its stop signals are caught by then)."""
    deadline = time.monotonic() + 120
    while not (out / "config.json").is_file():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.01)


def _stopped(home: Path, out: Path, signum: int, *args: str, after: float = 0.0) -> tuple[int, str]:
    proc = _start(home, out, *args)
    _when_running(proc, out)
    time.sleep(after)  # not synchronisation: lets a long run search a while first
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.fixture(scope="module")
def uninterrupted(installed_home, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("whole") / "run"
    done = CliRunner().invoke(main, ["run", "--no-progress", *ARGS, "--out", str(out)])
    assert done.exit_code == 0, done.output
    return (out / "trajectory.parquet").read_bytes()


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name
)
def test_a_stop_signal_checkpoints_and_resume_gives_the_same_bytes(
    installed_home, tmp_path, uninterrupted, signum
):
    """SIGTERM (scheduler preemption, ``docker stop``) and SIGHUP (a dropped SSH session) used
    to kill the run with only config.json left: exit 143/129 and the work lost."""
    out = tmp_path / "run"
    code, err = _stopped(installed_home, out, signum, *ARGS)
    assert code == 128 + signum, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and signal.Signals(signum).name in lines[0], err
    assert f"resume with: benchsim run --resume {out}" in lines[0]
    assert (out / "checkpoint" / "SHA256SUMS").is_file()
    assert not (out / "trajectory.parquet").exists()
    resumed = CliRunner().invoke(main, ["run", "--no-progress", "--resume", str(out)])
    assert resumed.exit_code == 0, resumed.output
    assert (out / "trajectory.parquet").read_bytes() == uninterrupted


@pytest.fixture(scope="module")
def interrupted_long_run(installed_home, tmp_path_factory) -> Path:
    """The issue's run, interrupted with Ctrl-C after searching a while (tens of thousands of
    rows in its part): EMT-NAS with 20,000 generations, half a minute uninterrupted."""
    out = tmp_path_factory.mktemp("cut") / "run"
    args = ("--algo", "emtnas", "--param", "generations=20000")
    code, err = _stopped(installed_home, out, signal.SIGINT, *args, after=1.5)
    assert code == 130, err
    return out


def _flip_middle(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))
    return path


def _edit_clock(folder: Path) -> Path:
    (path,) = folder.glob("state-*.json")
    text = path.read_text()
    at = text.index('"_now": ') + len('"_now": ')
    path.write_text(text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1 :])
    return path


DAMAGES = {
    "trajectory-000001.parquet, 64 bytes flipped": lambda f: _flip_middle(
        f / "trajectory-000001.parquet"
    ),
    "state json, one digit of _now edited": _edit_clock,
    "arrays npz, 64 bytes flipped": lambda f: _flip_middle(next(f.glob("arrays-*.npz"))),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_resume_refuses_a_damaged_checkpoint_in_one_line_and_writes_nothing(
    installed_home, tmp_path, interrupted_long_run, damage
):
    """Before: exit 0 with end times of 1e97 (a flipped part), another search (an edited
    clock), or "unexpected BadZipFile" (a flipped .npz)."""
    out = tmp_path / "run"
    shutil.copytree(interrupted_long_run, out)
    damaged = DAMAGES[damage](out / "checkpoint")
    env = {**os.environ, "BENCHSIM_HOME": str(installed_home)}
    done = subprocess.run(
        [sys.executable, "-m", "benchsim.cli", "run", "--no-progress", "--resume", str(out)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"Error: checkpoint file {damaged} does not match its SHA-256")
    assert f"delete {out / 'checkpoint'} and run `benchsim run --resume {out}`" in lines[0]
    assert not (out / "trajectory.parquet").exists() and not (out / "result.json").exists()
