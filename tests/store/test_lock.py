"""Concurrent installs into one ``$BENCHSIM_HOME``: one process installs, the others wait.

Real ``benchsim`` processes from the offline mirror; the benchmark-sized version (50 trials of
two processes) is ``benchmarks/concurrent_install.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from filelock import FileLock

from benchsim.store._lock import lock_path

BENCHMARK = "tnb101-macro"  # the quickest table to build (under a second)


def _env(home: Path, mirror_dir: Path) -> dict[str, str]:
    env = {**os.environ, "BENCHSIM_HOME": str(home), "BENCHSIM_DATA_MIRROR": str(mirror_dir)}
    env.pop("BENCHSIM_DEBUG", None)
    return env


def _benchsim(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchsim.cli", *args]


def _verified(home: Path, mirror_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        _benchsim("data", "verify", BENCHMARK),
        env=_env(home, mirror_dir),
        capture_output=True,
        text=True,
    )


def test_an_install_waits_for_the_lock_holder_and_says_so(tmp_path, mirror_dir) -> None:
    home = tmp_path / "home"
    tables = home / "tables"
    tables.mkdir(parents=True)
    holder = FileLock(lock_path(tables, "install"))
    holder.acquire()  # as another process installing would
    try:
        proc = subprocess.Popen(
            _benchsim("data", "install", BENCHMARK),
            env=_env(home, mirror_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = proc.stderr.readline()  # blocks until it says something (or exits)
        assert "waiting for another process installing tables" in first, first
        assert str(lock_path(tables, "install")) in first
        assert proc.poll() is None  # still waiting, nothing written
        assert not (tables / BENCHMARK / "meta.json").exists()
    finally:
        holder.release()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, first + err
    assert out.strip() == str(tables / BENCHMARK)
    assert "Error" not in err
    assert _verified(home, mirror_dir).returncode == 0


def test_concurrent_installs_all_succeed(tmp_path, mirror_dir) -> None:
    """Four processes, two rounds, each into an empty home: before the lock, pairs of
    processes failed together about one time in eight (FileNotFoundError, nothing installed)."""
    for round_ in range(2):
        home = tmp_path / f"home{round_}"
        commands = [
            _benchsim("data", "install", BENCHMARK),
            _benchsim("query", "--benchmark", BENCHMARK, "--task", "class_object", "0"),
        ] * 2
        procs = [
            subprocess.Popen(
                command,
                env=_env(home, mirror_dir),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for command in commands
        ]
        results = [(proc.communicate(timeout=300), proc.returncode) for proc in procs]
        for (_, err), code in results:
            assert code == 0 and "Error" not in err, err
        waited = sum("waiting for another process" in err for (_, err), _ in results)
        assert waited <= len(procs) - 1
        assert _verified(home, mirror_dir).returncode == 0
