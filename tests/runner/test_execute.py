"""The one table of job kinds: every job has a row, capabilities and refusals are read from it."""

from __future__ import annotations

import numpy as np
import pytest

import benchsim
from benchsim.algorithms import JOBS, Evaluate, JointTrainPass, SampledEval, TaskDistance, TrainPass
from benchsim.errors import BackendError
from benchsim.runner._execute import KINDS, JobExecutor, capabilities


def test_every_job_kind_has_one_row():
    assert set(KINDS) == set(JOBS)
    assert len({job.kind for job in JOBS}) == len(JOBS)


@pytest.fixture
def table(installed_home):
    return benchsim.benchmark("nb201")


def test_capabilities_follow_the_components(table):
    assert capabilities(table) == {"evaluate", "train_pass", "sampled_eval", "joint_train_pass"}
    table.weight_sharing = None  # a benchmark that offers lookups only
    assert capabilities(table) == {"evaluate"}


def test_a_job_without_its_component_is_refused_in_one_line(table):
    protocols = {t: table.evaluation_protocol(t) for t in table.tasks}
    table.weight_sharing = None
    execute = JobExecutor(table, protocols, np.random.default_rng(0))
    assert execute(Evaluate("cifar10", 7)).values.shape == (1,)
    for job in (
        TrainPass("cifar10", (1, 2)),
        SampledEval("cifar10", (1, 2)),
        JointTrainPass(("cifar10", "cifar100"), ((1,), (2,))),
    ):
        with pytest.raises(BackendError, match="does not support weight-sharing steps") as info:
            execute(job)
        assert "\n" not in str(info.value)
    with pytest.raises(BackendError, match="benchsim task-distance"):
        execute(TaskDistance("cifar10", ("cifar100",)))
    with pytest.raises(TypeError, match="not a job"):
        execute("evaluate")  # type: ignore[arg-type]
