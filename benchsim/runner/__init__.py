"""Runs: budgets, the simulated clock, the ask/tell event loop and the result files."""

from benchsim.runner._budget import Budget, parse_budget
from benchsim.runner._clock import SimClock
from benchsim.runner._config import RunConfig, load_config_file, merge_config
from benchsim.runner.run import (
    Run,
    RunInterrupted,
    RunOutput,
    execute_run,
    load_checkpoint,
    resume_run,
)

__all__ = [
    "Budget",
    "Run",
    "RunConfig",
    "RunInterrupted",
    "RunOutput",
    "SimClock",
    "execute_run",
    "load_checkpoint",
    "load_config_file",
    "merge_config",
    "parse_budget",
    "resume_run",
]
