"""LD-NAS: baseline phase, closest task, reduced space, FUSE rounds and stopping, refusals."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import benchsim
from benchsim.algorithms import (
    FINISHED,
    Evaluate,
    Outcome,
    Problem,
    SampledEval,
    TaskDistance,
    TaskSpec,
    TrainPass,
    create,
)
from benchsim.algorithms.ldnas import LDNAS, reduced_space
from benchsim.cli import main
from benchsim.errors import ConfigError
from benchsim.runner import RunConfig, execute_run
from benchsim.runner._execute import JobExecutor, Protocol
from benchsim.spaces import get_space

NB201 = ("cifar10", "cifar100", "ImageNet16-120")
DISTANCES = {  # d[row -> column]: ImageNet16-120 is the closest baseline of cifar10
    "tasks": list(NB201),
    "mean": [[0, 0.3, 0.4], [0.9, 0, 0.2], [0.5, 0.6, 0]],
}
SMALL = {"distances": DISTANCES, "baseline_evaluations": 15, "candidates": 3, "rounds": 6,
         "fuse_steps": 3, "patience": 3}  # fmt: skip


def problem(space="nb201", target="cifar10", sources=NB201[1:], capabilities=None) -> Problem:
    spec = lambda name: TaskSpec(name, "valid_acc", 200)  # noqa: E731
    extra = {} if capabilities is None else {"capabilities": frozenset(capabilities)}
    return Problem(get_space(space), (spec(target),), tuple(map(spec, sources)), **extra)


def make(seed=0, **params) -> LDNAS:
    searcher = create("ld-nas", "nb201", {**SMALL, **params})
    searcher.setup(problem(), np.random.default_rng(seed))
    return searcher


@pytest.fixture(scope="module")
def table(installed_home):
    bench = benchsim.benchmark("nb201")
    protocols = {t: Protocol(metric=bench.task_info(t).search_metric) for t in bench.tasks}
    return JobExecutor(bench, protocols, np.random.default_rng(0))


def drive(searcher, answer):
    """One worker: ask, answer, tell until FINISHED; returns the jobs in order."""
    jobs = []
    while (job := searcher.ask()) != FINISHED:
        assert job is not None, "waits while nothing is outstanding"
        jobs.append(job)
        searcher.tell(job, answer(job))
    return jobs


def rounds_of(jobs):
    """The FUSE jobs split into rounds, each ending with its winner's whole-split evaluation."""
    out, current = [], []
    for job in jobs:
        if isinstance(job, (TrainPass, SampledEval)):
            current.append(job)
            if isinstance(job, SampledEval) and len(job.archs) == 1 and job.full:
                out.append(current)
                current = []
    assert not current
    return out


def test_job_sequence_on_the_table(table):
    searcher = make()
    jobs = drive(searcher, table)
    # 1. baseline phase: random architectures on every baseline, nothing on the target before
    baseline = jobs[:30]
    assert all(isinstance(j, Evaluate) for j in baseline)
    for task in NB201[1:]:
        archs = [j.arch for j in baseline if j.task == task]
        assert len(archs) == len(set(archs)) == 15
    assert not any(isinstance(j, (Evaluate, TaskDistance)) for j in jobs[30:])
    # 2. the closest baseline by the file (d[ImageNet16-120 -> cifar10] = 0.5 < 0.9)
    assert searcher.distances_ == {"cifar100": 0.9, "ImageNet16-120": 0.5}
    assert searcher.closest_ == "ImageNet16-120"
    # 3. its best architecture's operations define the space every candidate is drawn from
    best = searcher.best_["ImageNet16-120"][0]
    space = get_space("nb201")
    np.testing.assert_array_equal(searcher.space_, reduced_space(space, best))
    assert best in searcher.space_ and searcher.space_.size < space.size
    allowed = set(searcher.space_.tolist())
    # 4. FUSE rounds: (TrainPass, SampledEval) x <= fuse_steps, then the winner on the whole split
    fuse = rounds_of(jobs[30:])
    assert 1 <= len(fuse) <= 6 and len(fuse) == searcher.round_
    winners = []
    for k, steps in enumerate(fuse):
        cands = steps[0].archs
        assert set(cands) <= allowed and len(set(cands)) == len(cands)
        assert len(cands) == (3 if k == 0 else 4)  # C new, plus the incumbent after round 1
        if k:
            assert cands[0] == winners[-1]  # the incumbent is kept and fused again
        pairs = steps[:-1]
        assert 2 <= len(pairs) <= 6 and len(pairs) % 2 == 0
        for train, evaluate in zip(pairs[::2], pairs[1::2], strict=True):
            assert isinstance(train, TrainPass) and train.archs == cands
            assert sum(train.weights) == pytest.approx(1.0) and train.planned_passes is None
            assert isinstance(evaluate, SampledEval) and evaluate.archs == cands
        assert steps[-1].archs[0] in cands
        winners.append(steps[-1].archs[0])
    # stopping: all rounds used, or the incumbent won `patience` = 3 rounds in a row
    kept = [a == b for a, b in itertools.pairwise(winners)]
    assert len(fuse) == 6 or kept[-3:] == [True] * 3
    arch, value = searcher.recommend("cifar10")
    assert arch == winners[-1] and np.isfinite(value)


def test_fuse_keeps_the_candidate_the_validation_data_prefers():
    """With consistent answers the argmax-alpha candidate is the best-valued one, and alpha
    follows the documented rule: alpha_c += step * p_c * (v_c - p.v) / s."""
    value = lambda arch: float(arch % 997)  # noqa: E731
    searcher = make(rounds=4, patience=4)
    seen = []

    def answer(job):
        if isinstance(job, Evaluate):
            return Outcome(np.array([value(job.arch)]), 1.0)
        if isinstance(job, TrainPass):
            return Outcome(np.zeros(0), 1.0)
        values = np.array([value(a) for a in job.archs])
        if len(job.archs) > 1:
            before = searcher.alpha_.copy()
            seen.append((before, values))
        return Outcome(values, 1.0)

    jobs = drive(searcher, answer)
    for steps in rounds_of(jobs):
        cands = steps[0].archs
        assert steps[-1].archs[0] == max(cands, key=value)
    alpha, values = seen[0]  # first alpha step: uniform p, s = std of its own estimates
    p = np.full(3, 1 / 3)
    expected = alpha + 1.0 * p * (values - p @ values) / np.std(values)
    assert alpha == pytest.approx(np.full(3, 1 / 3))
    cands = rounds_of(jobs)[0][0].archs
    assert max(cands, key=value) == cands[int(np.argmax(expected))]


def test_stopping_criteria():
    def constant(job):
        if isinstance(job, TrainPass):
            return Outcome(np.zeros(0), 1.0)
        return Outcome(np.full(len(getattr(job, "archs", [0])), 5.0), 1.0)

    # equal estimates: alpha never moves, converges after one step, the incumbent (listed
    # first) keeps winning and patience ends the search
    searcher = make(patience=2, rounds=50)
    fuse = rounds_of(drive(searcher, constant)[30:])
    assert len(fuse) == 3 and all(len(steps) == 3 for steps in fuse)  # 1 step per round
    assert searcher.wins_ == 2
    searcher = make(patience=50, rounds=4)
    assert len(rounds_of(drive(searcher, constant)[30:])) == 4


def test_a_one_member_space_needs_one_round():
    """TNB101-macro: a network's reduced space keeps its depth and module types; a network of
    one module type and minimal doublings may be alone in it."""
    macro = get_space("tnb101-macro")
    for index in (0, 100, 3255):
        members = reduced_space(macro, index)
        modules = macro.modules(index)
        assert index in members
        for m in members[:50]:
            other = macro.modules(int(m))
            assert len(other) == len(modules) and set(other) <= set(modules)
    micro = get_space("tnb101-micro")
    cell = micro.parse("64-41414-3_33_333")  # one operation on every edge
    assert reduced_space(micro, cell).tolist() == [cell]


def test_live_capability_asks_a_distance_job_and_a_table_refuses(one_line):
    searcher = create("ld-nas", "nb201", {**SMALL, "distances": None, "distance_repeats": 4})
    searcher.setup(
        problem(capabilities={"evaluate", "train_pass", "sampled_eval", "task_distance"}),
        np.random.default_rng(0),
    )
    jobs = [searcher.ask() for _ in range(30)]
    assert searcher.ask() is None  # waits for the baselines
    for job in jobs:
        searcher.tell(job, Outcome(np.array([float(job.arch % 7)]), 1.0))
    job = searcher.ask()
    assert job == TaskDistance("cifar10", ("cifar100", "ImageNet16-120"), 4)
    searcher.tell(job, Outcome(np.array([0.2, 0.7]), 3.0))
    assert searcher.closest_ == "cifar100" and isinstance(searcher.ask(), TrainPass)

    table = create("ld-nas", "nb201", {**SMALL, "distances": None})
    with pytest.raises(ConfigError) as excinfo:
        table.setup(problem(), np.random.default_rng(0))
    message = one_line(excinfo)
    assert "ld-nas needs distances=FILE on space nb201" in message
    assert "benchsim task-distance --tasks cifar100,ImageNet16-120,cifar10" in message


def test_the_table_refuses_ld_nas_without_distances_before_any_work(installed_home, tmp_path):
    res = CliRunner().invoke(main, ["run", "--no-progress", "--algo", "ld-nas", "--out",
                                    str(tmp_path / "r")])  # fmt: skip
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert res.exit_code == 2 and len(lines) == 1, res.output
    assert "distances=FILE" in lines[0] and "benchsim task-distance" in lines[0]
    assert not (tmp_path / "r").exists()  # refused by check_problem: nothing written


def test_bad_inputs_are_one_line(tmp_path, one_line):
    cases = [
        ({"distances": str(tmp_path / "none.json")}, "does not exist"),
        ({"distances": 3}, "must be a distance file path or its JSON content"),
        ({"distances": {"tasks": ["a"], "mean": [[1]]}}, "to itself must be 0"),
        ({"baseline_tasks": "cifar100"}, "baseline_tasks == 'cifar100'"),
        ({"candidates": 0}, "candidates == 0"),
        ({"alpha_step": 0.0}, "alpha_step == 0.0"),
    ]
    for params, message in cases:
        with pytest.raises(ConfigError) as excinfo:
            create("ld-nas", "nb201", params)
        assert message in one_line(excinfo), params
    partial = {"tasks": ["cifar10", "cifar100"], "mean": [[0, 1], [1, 0]]}
    searcher = create("ld-nas", "nb201", {"distances": partial})
    with pytest.raises(ConfigError) as excinfo:
        searcher.setup(problem(), np.random.default_rng(0))
    assert "distances hold no row/column for ['ImageNet16-120']" in one_line(excinfo)
    searcher = create("ld-nas", "nb201", {"distances": DISTANCES, "baseline_tasks": ["x"]})
    with pytest.raises(ConfigError) as excinfo:
        searcher.setup(problem(), np.random.default_rng(0))
    assert "baseline_tasks ['x'] are not source tasks" in one_line(excinfo)


def test_a_distance_file_runs_on_the_table_and_reproduces(installed_home, tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(DISTANCES))
    params = {**SMALL, "distances": str(path)}
    config = RunConfig(algo="ld-nas", tasks=("cifar10",), seed=4, params=params)
    a = execute_run(config, tmp_path / "a")
    b = execute_run(RunConfig(algo="ld-nas", tasks=("cifar10",), seed=4, params=params))
    assert a.trajectory.to_pandas().equals(b.trajectory.to_pandas())  # same seed, same path
    row = a.result["tasks"]["cifar10"]
    assert row["arch"] is not None and ":oneshot" in row["search_metric_source"]
    assert a.result["source_tasks"]["evaluations"] == 30  # baselines: charged to themselves
    kinds = set(a.trajectory.column("kind").to_pylist())
    assert kinds == {"evaluate", "train_pass", "full_eval"}  # alpha steps: whole split
    fuse_sources = {
        s for s, k in zip(a.trajectory.column("source").to_pylist(),
                          a.trajectory.column("kind").to_pylist(), strict=True)
        if k == "full_eval"
    }  # fmt: skip
    # FUSE's answers come from the emulated supernet, never the stand-alone values
    assert fuse_sources and all(":oneshot" in s for s in fuse_sources)
    assert {s.split(":")[0] for s in fuse_sources} <= {"recorded", "modelled"}
    assert not any("standalone" in s or "stand-alone" in s for s in fuse_sources)


def test_the_live_smoke_run_computes_its_distances(tmp_path, monkeypatch, one_torch_thread):
    """`benchsim run --algo ld-nas --backend gpu --device cpu --smoke`, with the defaults: the
    distances come from a TaskDistance job answered by training (one row per baseline), the
    baselines by stand-alone training, FUSE by the live supernet."""
    pytest.importorskip("torch")
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))  # synthetic sets generated here
    out = tmp_path / "r"
    args = ["run", "--no-progress", "--algo", "ld-nas", "--backend", "gpu", "--device", "cpu"]
    res = CliRunner().invoke(main, [*args, "--smoke", "--out", str(out)])
    assert res.exit_code == 0, res.output
    frame = json.loads((out / "result.json").read_text())
    assert all(row["arch"] is not None for row in frame["tasks"].values())
    traj = pq.read_table(out / "trajectory.parquet").to_pandas()
    rows = traj[traj.kind == "task_distance"]
    tasks = set(frame["tasks"])
    assert len(rows) == len(tasks) * (len(tasks) - 1) and (rows.value >= 0).all()
    assert all(s.startswith("live:fisher from ") for s in rows.source)
    assert set(traj[traj.kind == "evaluate"].source) == {"live:standalone"}
    assert set(traj[traj.kind == "full_eval"].source) == {"live:supernet"}
