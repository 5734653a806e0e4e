"""The published experiments ``benchsim reproduce`` knows: searches, budgets, reported tasks.

Experiments are chosen by name from :data:`EXPERIMENTS`, a :class:`~benchsim._registry.Registry`
like every other named thing: :func:`register_experiment` adds one (a taken name is refused),
an unknown name is answered with the known ones, and every public module of
:mod:`benchsim.reproduce` is imported on the first lookup, so a new experiment is a module that
registers itself (docs/extending.md).  The built-in ones are registered below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchsim._registry import Registry


@dataclass(frozen=True)
class Search:
    """One searched task: every algorithm searches ``task`` with ``budget`` per run; the found
    architecture's test metric is reported on each of ``report`` (the searched task or others:
    the NAS-Bench-201 paper reports the CIFAR-10 search on all three datasets)."""

    task: str
    budget: str
    report: tuple[str, ...]


@dataclass(frozen=True)
class Experiment:
    """A published experiment, as a set of sweeps on one benchmark.

    ``published`` names the entry of ``published.toml`` holding the paper's numbers (``None``:
    the paper's table could not be sourced and is not bundled; only benchsim's numbers are
    shown).
    """

    name: str
    title: str
    benchmark: str
    algos: tuple[str, ...]
    searches: tuple[Search, ...]
    default_runs: int
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: str | None = None
    note: str = ""


_NB201 = ("cifar10", "cifar100", "ImageNet16-120")
_NB201_REA = {"rea": {"population_size": 10, "sample_size": 3}}

EXPERIMENTS: Registry[Experiment] = Registry("experiment", discover="benchsim.reproduce")
"""Name -> :class:`Experiment`; ``benchsim reproduce --list`` shows them by name."""


def register_experiment(experiment: Experiment) -> Experiment:
    """Make ``experiment`` available as ``benchsim reproduce NAME`` (its ``name``); a taken name
    is refused."""
    EXPERIMENTS.add(experiment.name, experiment)
    return experiment


for _experiment in (
    Experiment(
        name="nb201-iclr2020",
        title="NAS-Bench-201 (ICLR 2020): RS, REA, REINFORCE searched on CIFAR-10, "
        "12,000 s, reported on the three datasets",
        benchmark="nb201",
        algos=("rs", "rea", "reinforce"),
        searches=(Search("cifar10", "12000s", _NB201),),
        default_runs=500,
        params=_NB201_REA,
        published="nb201-iclr2020",
        note="the paper searched on cifar10-valid only and reported the found "
        "architecture's test accuracy on all three datasets (AutoDL-Projects issue #96); "
        "REA population 10, sample 3; the 12-epoch proxy of docs/reproduction.md",
    ),
    Experiment(
        name="nats-tss",
        title="NATS-Bench topology search space (TPAMI 2021): RS, REA, REINFORCE searched "
        "on each dataset with 20,000 / 40,000 / 120,000 s",
        benchmark="nb201",
        algos=("rs", "rea", "reinforce"),
        searches=(
            Search("cifar10", "20000s", ("cifar10",)),
            Search("cifar100", "40000s", ("cifar100",)),
            Search("ImageNet16-120", "120000s", ("ImageNet16-120",)),
        ),
        default_runs=500,
        params=_NB201_REA,
        published=None,
        note="budgets and settings from AutoDL-Projects exps/NATS-algos/run-all.sh (REA "
        "population 10, sample 3; REINFORCE learning rate 0.01; the 12-epoch proxy; 500 "
        "runs, the scripts' --loops_if_rand); the NATS-Bench table's values are not bundled "
        "(they could not be sourced here), so benchsim's numbers are shown alone",
    ),
):
    register_experiment(_experiment)


def experiment(name: str) -> Experiment:
    """The experiment called ``name``; an unknown name lists the known ones."""
    return EXPERIMENTS.get(name)
