"""Acceptance: the official NATS-Bench search scripts, unmodified, run on the drop-in.

The scripts (D-X-Y/AutoDL-Projects ``exps/NATS-algos/regularized_ea.py`` and
``random_wo_share.py``, MIT) are fetched like data: pinned by URL and SHA-256 in the manifest,
read from the mirror (``benchsim compat script``).  They run through ``benchsim compat run`` in
a subprocess, as a user would run them (no PYTHONPATH or other help beyond what
``benchsim compat run`` itself does), with their own command-line settings kept small.  They
import xautodl (installed ``--no-deps`` by .ci/run, with torchvision; see docs/compat.md), so
they are skipped where it is missing, except in CI, where a missing xautodl is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EMULATE = "hp12-proxy,eval-time,no-latency"
REA_ARGS = [
    "--dataset",
    "cifar10",
    "--search_space",
    "tss",
    "--time_budget",
    "20000",
    "--ea_cycles",
    "200",
    "--ea_population",
    "10",
    "--ea_sample_size",
    "3",
]
"""The NATS-Bench settings of run-all.sh for CIFAR-10."""


@pytest.fixture(scope="module")
def scripts(installed_home):
    if (
        importlib.util.find_spec("xautodl") is None
        or importlib.util.find_spec("torchvision") is None
    ):
        if os.environ.get("CI"):
            pytest.fail("xautodl / torchvision missing: .ci/run installs them with --no-deps")
        pytest.skip("needs xautodl and torchvision (pip install --no-deps xautodl torchvision)")
    from benchsim.compat._sources import script_path

    return {name: script_path(name) for name in ("regularized_ea", "random_wo_share")}


def compat_run(script: Path, args: list[str], cwd: Path, emulate: str | None = EMULATE):
    command = [sys.executable, "-m", "benchsim.cli", "compat", "run", str(script)]
    if emulate:
        command += ["--emulate", emulate]
    return subprocess.run(
        [*command, "--", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_torchvision_imports_under_compat_run_where_python_alone_fails(scripts, tmp_path):
    """PyPI's torchvision beside the CPU torch: a plain ``python`` cannot import it (where its
    ops do load, that half is skipped), ``benchsim compat run`` can, with no PYTHONPATH help."""
    script = tmp_path / "imports_torchvision.py"
    script.write_text(
        "import torchvision, xautodl.datasets\nprint('torchvision', torchvision.__version__)\n"
    )
    plain = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    if plain.returncode == 0:
        pytest.skip("torchvision's compiled ops load here: there is nothing to fix")
    assert "torchvision::nms does not exist" in plain.stderr
    done = compat_run(script, [], tmp_path, emulate=None)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("torchvision ")


def test_a_missing_script_package_is_one_line_with_the_install_command(tmp_path):
    """The official scripts' ``import xautodl`` where it is not installed (made unfindable
    here the way Python allows, a ``None`` in ``sys.modules``): one line, exit 2."""
    script = tmp_path / "needs_xautodl.py"
    script.write_text("import sys\nsys.modules['xautodl'] = None\nimport xautodl\n")
    done = compat_run(script, [], tmp_path, emulate=None)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Error: needs_xautodl.py imports 'xautodl', which is not installed here; install what "
        "the official scripts import with: pip install --no-deps xautodl==1.0.0 "
        "torchvision==0.28.0 (docs/compat.md)"
    ]
    other = tmp_path / "needs_other.py"  # any other missing module: Python's own traceback
    other.write_text("import no_such_module_21b\n")
    done = compat_run(other, [], tmp_path, emulate=None)
    assert done.returncode == 1 and "Traceback" in done.stderr
    assert "ModuleNotFoundError: No module named 'no_such_module_21b'" in done.stderr


def test_random_search_runs_to_completion_and_repeats(scripts, tmp_path):
    logs = []
    for attempt in (1, 2):
        out = tmp_path / f"rs{attempt}"
        done = compat_run(
            scripts["random_wo_share"],
            [
                "--dataset",
                "cifar100",
                "--search_space",
                "tss",
                "--time_budget",
                "40000",
                "--rand_seed",
                "3",
                "--save_dir",
                str(out),
            ],
            tmp_path,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "random_wo_share.py exited 0" in done.stderr and "hp12-proxy" in done.stderr
        (log,) = out.parent.glob(f"{out.name}-tss/cifar100-T40000/RANDOM/seed-3-*.log")
        text = log.read_text()
        assert re.search(r"best arch is .*accuracy = \d+\.\d+%, visit \d+ archs", text)
        assert "n/a: not in benchsim's data" in text  # the info string, labelled
        logs.append(re.findall(r"\[\d{3}\] : .* : accuracy = [\d.]+%", text))
    assert len(logs[0]) > 100 and logs[0] == logs[1]  # same script seed + shim seed: same run


def test_without_opting_in_the_script_stops_with_one_line(scripts, tmp_path):
    done = compat_run(
        scripts["random_wo_share"],
        [
            "--dataset",
            "cifar10",
            "--search_space",
            "tss",
            "--rand_seed",
            "1",
            "--save_dir",
            str(tmp_path / "x"),
        ],
        tmp_path,
        emulate=None,
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: simulate_train_eval(arch=") and "emulate='hp12-proxy'" in last


def test_regularized_evolution_matches_benchsims_rea(scripts, tmp_path):
    """REA with the paper's settings through the drop-in lands within one std of benchsim's
    own REA under the same protocol (nats-tss: CIFAR-10, 20,000 s, population 10, sample 3,
    the 12-epoch proxy)."""
    import torch

    import benchsim
    from benchsim.sweep import make_spec, run_sweep

    runs = 30
    done = compat_run(
        scripts["regularized_ea"],
        [
            *REA_ARGS,
            "--rand_seed",
            "-1",
            "--loops_if_rand",
            str(runs),
            "--save_dir",
            str(tmp_path / "rea"),
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (saved,) = tmp_path.glob("rea-tss/cifar10-T20000/R-EA-SS3/results.pth")
    results = torch.load(saved, weights_only=True)
    assert len(results) == runs
    bench = benchsim.benchmark("nb201")
    found = np.array([r["all_archs"][-1] for r in results.values()])
    shim = bench.query_many(found, "cifar10", "test_acc").values
    spec = make_spec(
        "rea",
        f"0-{runs - 1}",
        benchmark="nb201",
        tasks="cifar10",
        budget="20000s",
        params=("rea.population_size=10", "rea.sample_size=3"),
    )
    summary = run_sweep(spec, tmp_path / "sweep")
    assert not summary.failed
    import pandas as pd

    table = pd.read_parquet(tmp_path / "sweep" / "results" / "_runs.parquet")
    own = bench.query_many(table["arch"].to_numpy(np.int64), "cifar10", "test_acc").values
    assert abs(shim.mean() - own.mean()) < own.std(ddof=1), (
        shim.mean(),
        own.mean(),
        own.std(ddof=1),
    )
    assert abs(shim.mean() - own.mean()) < shim.std(ddof=1)
    evaluations = [len(r["all_total_times"]) for r in results.values()]
    assert 120 < np.median(evaluations) < 200  # ~150 proxy evaluations fit in 20,000 s
