"""Fixtures shared by the whole suite: where the real data mirror and reference files are."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchsim.errors import BenchsimError

ROOT = Path(__file__).resolve().parents[1]


def _find_mirror() -> Path | None:
    env = os.environ.get("BENCHSIM_DATA_MIRROR")
    if env:
        return Path(env).resolve()
    for parent in [ROOT, *ROOT.parents]:
        candidate = parent / "shared" / "data" / "upstream"
        if candidate.is_dir():
            return candidate
    return None


MIRROR = _find_mirror()


@pytest.fixture(scope="session")
def fresh_python() -> Callable[..., str]:
    """Run ``code`` (with ``args`` as ``sys.argv[1:]``) in a new interpreter and return what it
    printed: what a fresh process imports, or whether it depends on the process, cannot be seen
    from inside the test run, where earlier tests have imported everything.  The child must
    succeed; if not, its stderr is the assertion message."""

    def run(
        code: str, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """The offline mirror of the upstream source files (``shared/data/upstream``)."""
    if MIRROR is None or not MIRROR.is_dir():
        pytest.fail("real data mirror not found: set BENCHSIM_DATA_MIRROR=../shared/data/upstream")
    return MIRROR


@pytest.fixture(scope="session")
def reference_dir(mirror_dir: Path) -> Path:
    """Tidy cross-checked CSVs next to the mirror (``shared/data/reference``)."""
    return mirror_dir.parent / "reference"


@pytest.fixture(scope="session")
def installed_home(tmp_path_factory: pytest.TempPathFactory, mirror_dir: Path):
    """A ``$BENCHSIM_HOME`` with all benchmarks installed once from the mirror (session-wide).

    Sets ``os.environ["BENCHSIM_HOME"]`` for the whole session and restores it afterwards, so
    ``benchsim.benchmark("nb201")`` and the CLI find the tables without installing again.
    Tests must treat the folder as read-only: copy a table folder before modifying it.
    """
    from benchsim.store import install

    home = tmp_path_factory.mktemp("benchsim_home")
    previous = os.environ.get("BENCHSIM_HOME")
    os.environ["BENCHSIM_HOME"] = str(home)
    try:
        install(["all"], mirror=mirror_dir, progress=False)
        yield home
    finally:
        if previous is None:
            os.environ.pop("BENCHSIM_HOME", None)
        else:
            os.environ["BENCHSIM_HOME"] = previous


def _one_line(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert message and "\n" not in message
    assert isinstance(excinfo.value, BenchsimError)
    return message


@pytest.fixture
def one_line() -> Callable[[pytest.ExceptionInfo], str]:
    """``one_line(excinfo)``: the raised benchsim error's message, checked to be one line."""
    return _one_line


@pytest.fixture
def one_torch_thread():
    """torch on one CPU thread for the test (the shared machine is busy; one thread is both
    faster there and free of thread-count effects on the numbers)."""
    torch = pytest.importorskip("torch")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
