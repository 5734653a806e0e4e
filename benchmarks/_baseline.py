"""Shared by the before/after benchmarks: the code before, timed processes, machine facts.

``--baseline REV_OR_DIR`` names the code to compare with: a folder holding a benchsim source
tree, or a git revision that is checked out into a temporary worktree for the duration of the
run (default :data:`BEFORE`, main before issue #22).  The baseline runs from that tree
(``PYTHONPATH``) in the same Python environment, so only benchsim's own code differs, with
tables of its own (:func:`baseline_home`): two versions sharing one ``$BENCHSIM_HOME`` would
rebuild each other's tables inside the timed runs.

Every timed command is a fresh process.  Bytecode caching is left on (``PYTHONDONTWRITEBYTECODE``
is removed from the environment, and a warm-up run writes each tree's ``__pycache__``), as in a
normal install: otherwise every process would also compile benchsim's modules.  On a shared
machine the commands of both trees are interleaved and each figure is the minimum (and median)
over repeats; ratios are taken between minima of the same script run.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "c4a903d"
"""main before issue #22 (the last commit before the fixed-cost work)."""


@contextlib.contextmanager
def baseline_tree(rev_or_dir: str) -> Iterator[Path]:
    """The baseline source tree: the folder given, or a temporary worktree at a revision."""
    given = Path(rev_or_dir)
    if (given / "benchsim" / "__init__.py").is_file():
        yield given.resolve()
        return
    tmp = Path(tempfile.mkdtemp(prefix="benchsim-baseline-"))
    tree = tmp / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev_or_dir],
        check=True,
        capture_output=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(tmp, ignore_errors=True)


def env_for(tree: Path | None) -> dict[str, str]:
    """The environment of a timed process: benchsim from ``tree`` (None: this checkout)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree if tree is not None else ROOT)
    if tree is not None:  # tables of its own: each version rebuilds tables the other wrote
        env["BENCHSIM_HOME"] = baseline_home()
    return env


def baseline_home() -> str:
    """``$BENCHSIM_HOME-base``: where the baseline keeps its tables (installed by the warm-up
    runs, before anything is timed)."""
    home = os.environ.get("BENCHSIM_HOME") or str(Path.home() / ".cache" / "benchsim")
    return f"{home.rstrip('/')}-base"


NEUTRAL = Path(tempfile.gettempdir())
"""Where timed processes start: ``python -m`` puts the current folder first on ``sys.path``,
so starting in a checkout would import that checkout's benchsim whatever ``PYTHONPATH`` says."""


def timed(command: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of one process (whose exit code must be one of ``ok``), started in
    :data:`NEUTRAL`."""
    t0 = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=NEUTRAL, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode not in ok:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return seconds


def stats(values: list[float]) -> dict[str, float | list[float]]:
    """min, median and every value (seconds)."""
    ordered = sorted(values)
    return {
        "min": ordered[0],
        "median": ordered[len(ordered) // 2],
        "all": [round(v, 4) for v in values],
    }


def machine() -> dict[str, object]:
    """What the numbers were measured on (a shared machine is noisy: see the load)."""
    import numpy as np
    import pyarrow as pa

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "platform": platform.platform(),
        "cpu": model or platform.processor(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pyarrow": pa.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "benchsim_home": os.environ.get("BENCHSIM_HOME", "~/.cache/benchsim"),
    }


def report_end(figures: dict, path: Path | None) -> None:
    """Print the load average around the measurement (read the figures beside it) and write
    ``figures`` as JSON to ``path`` when given."""
    print(
        f"load average before/after: {figures['machine_before']['load_average']} / "
        f"{figures['machine_after']['load_average']}"
    )
    if path is not None:
        path.write_text(json.dumps(figures, indent=2) + "\n")
