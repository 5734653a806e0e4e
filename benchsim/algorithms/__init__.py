"""Search algorithms, written once against the ask/tell contract of :mod:`._base`.

``available()`` lists the registered names; ``create(name, benchmark, params)`` builds one with
the defaults of the paper it reproduces on that benchmark.
"""

from benchsim.algorithms._base import (
    FINISHED,
    JOBS,
    SMOKE_EVALUATIONS,
    Evaluate,
    Job,
    JointTrainPass,
    Outcome,
    Problem,
    SampledEval,
    Searcher,
    TaskDistance,
    TaskSpec,
    TrainPass,
    algorithm_class,
    available,
    create,
    register_algorithm,
    smoke_settings,
)

__all__ = [
    "FINISHED",
    "JOBS",
    "SMOKE_EVALUATIONS",
    "Evaluate",
    "Job",
    "JointTrainPass",
    "Outcome",
    "Problem",
    "SampledEval",
    "Searcher",
    "TaskDistance",
    "TaskSpec",
    "TrainPass",
    "algorithm_class",
    "available",
    "create",
    "register_algorithm",
    "smoke_settings",
]
