"""The algorithm contract, checked for every registered algorithm on every benchmark it names.

Parametrised over ``benchsim.algorithms.available()`` x ``cls.benchmarks``, so a new algorithm
is tested by being registered: its default settings build; a 100-evaluation run returns an
architecture and a numeric test metric for every task (with the defaults, plus a file for each
input the algorithm declares it cannot run a table without, ``Searcher.required_inputs``,
written here by :data:`SUPPLIERS` with made-up values labelled as test inputs: LD-NAS's task
distance matrix; without them the run is refused in one line); the same seed gives a
byte-identical trajectory; a run interrupted and resumed ends as an uninterrupted one; the
run's config.json runs again to the same result; a bad hyperparameter is a one-line
ConfigError; a problem the algorithm cannot search (a task list naming no task, more
architectures than the space has) is refused in one line before the run folder exists.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchsim.algorithms import algorithm_class, available, create
from benchsim.catalog import CATALOG
from benchsim.errors import ConfigError, RunInterrupted
from benchsim.runner import RunConfig, execute_run, load_config_file, merge_config, resume_run

TIMING = ("wall_seconds", "searcher_seconds")
CASES = [(name, bench) for name in available() for bench in algorithm_class(name).benchmarks]


def _distance_file(benchmark: str, folder: Path) -> str:
    """TEST INPUT, not data: a distance matrix over the table's tasks, ``d[i, j] = 1 +
    (i + 2 j) mod n`` with a zero diagonal (a table cannot compute one: it holds no images)."""
    tasks = list(CATALOG[benchmark])
    n = len(tasks)
    mean = [[0.0 if i == j else 1.0 + (i + 2 * j) % n for j in range(n)] for i in range(n)]
    about = "TEST INPUT for the algorithm contract suite: made-up distances, not measured"
    path = folder / f"distances-{benchmark}.json"
    path.write_text(json.dumps({"tasks": tasks, "mean": mean, "settings": {"about": about}}))
    return str(path)


SUPPLIERS = {"distances": _distance_file}
"""Required input name -> a function writing a made-up test input for a table benchmark."""


def _config(name: str, benchmark: str, folder: Path) -> RunConfig:
    params = {}
    for key in algorithm_class(name).required_inputs():  # test inputs, not settings
        assert key in SUPPLIERS, f"{name} requires {key!r}: add a supplier to SUPPLIERS"
        params[key] = SUPPLIERS[key](benchmark, folder)
    return RunConfig(algo=name, benchmark=benchmark, seed=3, budget="100", params=params)


def _jobs(trajectory) -> int:
    """Results the search was told (a batch job writes a row per architecture)."""
    keys = ("search", "task", "kind", "worker", "start_time", "end_time")
    columns = [trajectory.column(k).to_pylist() for k in keys]
    return len(set(zip(*columns, strict=True)))


def _answers(folder):
    """The trajectory's bytes, as written (what 'byte-identical' means for a run)."""
    return (folder / "trajectory.parquet").read_bytes()


@pytest.mark.parametrize(("name", "space"), CASES)
def test_the_algorithm_contract(name, space, installed_home, tmp_path):
    cls = algorithm_class(name)
    searcher = create(name, space)  # default settings build
    assert type(searcher) is cls and searcher.config() == create(name, space).config()

    config = _config(name, space, tmp_path)
    out = execute_run(config, tmp_path / "a")
    rows = out.result["tasks"].values()
    for row in rows:
        assert row["arch"] is not None, (name, space, row)
        assert isinstance(row["test_metric"], float) and math.isfinite(row["test_metric"])
        assert row["evaluations"] > 0
    shared = len(out.result["tasks"]) if cls.multi_task else 1  # a multi-task budget is pooled
    assert sum(row["evaluations"] for row in rows) <= 100 * len(out.result["tasks"])
    assert all(row["evaluations"] <= 100 * shared for row in rows)

    # Interrupted half-way and resumed: the same bytes as the uninterrupted run, which is
    # also what "the same seed gives a byte-identical trajectory" asks.
    with pytest.raises(RunInterrupted):
        execute_run(config, tmp_path / "b", stop_after=max(1, _jobs(out.trajectory) // 2))
    resume_run(tmp_path / "b")
    assert _answers(tmp_path / "b") == _answers(tmp_path / "a")

    saved = load_config_file(tmp_path / "a" / "config.json")  # config.json runs again
    again = execute_run(merge_config(saved, {}), tmp_path / "c")
    assert _answers(tmp_path / "c") == _answers(tmp_path / "a")
    assert {k: v for k, v in again.result.items() if k not in TIMING} == {
        k: v for k, v in json.loads((tmp_path / "a" / "result.json").read_text()).items()
        if k not in TIMING
    }  # fmt: skip


@pytest.mark.parametrize("name", available())
def test_a_bad_hyperparameter_is_one_line(name):
    with pytest.raises(ConfigError) as excinfo:
        create(name, "nb201", {"no_such_setting": 1})
    assert "no_such_setting" in str(excinfo.value) and "\n" not in str(excinfo.value)


NEEDY = [(name, bench) for name, bench in CASES if algorithm_class(name).required_inputs()]


@pytest.mark.parametrize(("name", "space"), NEEDY)
def test_a_table_run_without_its_required_inputs_is_one_line(name, space, installed_home):
    with pytest.raises(ConfigError) as excinfo:
        execute_run(RunConfig(algo=name, benchmark=space, seed=3, budget="100"))
    message = str(excinfo.value)
    assert "\n" not in message
    assert all(key in message for key in algorithm_class(name).required_inputs())


ARCHITECTURE_COUNTS = ("population_size", "source_evaluations", "meta_queries",
                       "baseline_evaluations")  # fmt: skip
"""Hyperparameters that count distinct architectures of the space (per population or per
source task): one more than the space holds is a problem the searcher must refuse."""


def _refused_probes(name: str, space: str) -> list[dict]:
    """Settings that make any problem on ``space`` one ``name`` cannot search: a task list
    naming no task of the benchmark, and an architecture count larger than the space."""
    from benchsim.spaces import get_space

    size = get_space(space).size
    probes = []
    for key, default in algorithm_class(name).hyperparameters().items():
        if key.endswith("_tasks") and default is None:
            probes.append({key: ["no-such-task"]})
        if key in ARCHITECTURE_COUNTS:
            probes.append({key: size + 1})
    return probes


REFUSABLE = [(name, space) for name, space in CASES if _refused_probes(name, space)]


@pytest.mark.parametrize(("name", "space"), REFUSABLE)
def test_a_refused_problem_leaves_no_run_folder(name, space, installed_home, tmp_path):
    """Every refusal that depends on the problem happens in ``check_problem``, which the
    runner calls before it writes anything: one line, and no folder left behind."""
    for k, probe in enumerate(_refused_probes(name, space)):
        config = _config(name, space, tmp_path)
        config.params = {**config.params, **probe}
        out = tmp_path / f"run{k}"
        with pytest.raises(ConfigError) as excinfo:
            execute_run(config, out)
        message = str(excinfo.value)
        assert "\n" not in message and next(iter(probe)) in message, (probe, message)
        assert not out.exists(), f"{name} refused {probe} after writing {sorted(out.iterdir())}"


@pytest.mark.parametrize("name", available())
def test_every_check_problem_is_exercised(name):
    """An algorithm with refusals of its own has a probe above that reaches them."""
    from benchsim.algorithms import Searcher

    cls = algorithm_class(name)
    if cls.check_problem is not Searcher.check_problem:
        assert any(_refused_probes(name, space) for space in cls.benchmarks), (
            f"{name} overrides check_problem: name its refusable hyperparameter in "
            "ARCHITECTURE_COUNTS, or give it a probe in _refused_probes"
        )
