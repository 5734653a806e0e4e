"""Experiments at scale: many seeded runs, fanned out, resumable, stored as one dataset.

``make_spec`` + ``run_sweep`` are what ``benchsim sweep`` calls; the layout of a sweep folder
is described in :mod:`benchsim.sweep._spec`, the results dataset in :mod:`benchsim.sweep._store`.
``verify_repro`` is the reproducibility gate behind ``benchsim verify-repro``.
"""

from benchsim.sweep._executors import EXECUTORS, RAY_MISSING
from benchsim.sweep._plan import config_hash, plan_runs
from benchsim.sweep._spec import (
    SweepSpec,
    content_hash,
    format_seeds,
    load_spec,
    parse_param_items,
    parse_seeds,
    run_dir,
    run_id,
)
from benchsim.sweep._store import incumbents, joint_incumbents, part_path
from benchsim.sweep._sweep import SweepSummary, make_spec, run_sweep

__all__ = [
    "EXECUTORS",
    "RAY_MISSING",
    "SweepSpec",
    "SweepSummary",
    "config_hash",
    "content_hash",
    "format_seeds",
    "incumbents",
    "joint_incumbents",
    "load_spec",
    "make_spec",
    "parse_param_items",
    "parse_seeds",
    "part_path",
    "plan_runs",
    "run_dir",
    "run_id",
    "run_sweep",
]
