"""Turn a spec into runs, and decide for each one what an (interrupted) earlier sweep left.

A run is identified by its folder; whether the folder's contents still count is decided by a
content hash of the run's *resolved* configuration (the RunConfig fields after the runner fills
in canonical task names, the algorithm's default budget and every hyperparameter's value): the
``config.json`` a run wrote is hashed and compared with the hash of what the current code would
run.  So a finished run is skipped only when it is exactly the run this sweep asks for, and a
change of an algorithm's defaults redoes its runs instead of mixing two configurations.

States (:class:`Planned`.state):

``done``     result.json exists and the hashes match: skipped.
``stale``    result.json exists but the configuration differs: moved to ``DIR/stale/`` (never
             deleted) and run again.
``resume``   no result.json, a checkpoint of the same configuration: continued from it.
``redo``     no result.json and nothing to resume (e.g. killed before its first checkpoint):
             the folder is deleted and the run starts over.
``new``      no folder yet.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchsim.errors import BenchsimError, ConfigError
from benchsim.runner import RunConfig
from benchsim.runner._checkpoint import has_checkpoint
from benchsim.spaces import SearchSpace
from benchsim.sweep._spec import SweepSpec, content_hash, run_dir, run_id

RUN_FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the RunConfig fields of ``config`` (a config.json)."""
    return content_hash({name: config.get(name) for name in RUN_FIELDS})


def run_config(spec: SweepSpec, algo: str, seed: int, allowed: set[str]) -> RunConfig:
    """The RunConfig of one run of ``spec`` (before the runner resolves defaults)."""
    return RunConfig(
        algo=algo,
        backend=spec.backend,
        benchmark=spec.benchmark,
        tasks=tuple(spec.tasks),
        seed=seed,
        budget=spec.budget,
        params=spec.params_for(algo, allowed),
        backend_options=dict(spec.backend_options),
    )


def resolve(config: RunConfig, space: SearchSpace) -> dict[str, Any] | None:
    """The RunConfig fields as the runner will write them to config.json.

    Mirrors :func:`benchsim.runner.execute_run`: tasks are canonical already (the spec stores
    them so), ``budget`` None becomes the algorithm's default for the space, ``params`` become
    every hyperparameter's value.  ``None`` when the hyperparameters do not validate: the run
    then fails in its worker, where the error is recorded like any other.
    """
    from benchsim.algorithms import algorithm_class, create

    cls = algorithm_class(config.algo)
    try:
        params = create(config.algo, space, config.params).config()
        budget = config.budget if config.budget is not None else cls.default_budget(space)
    except BenchsimError:
        return None
    out = config.to_dict()
    out["budget"] = budget
    out["params"] = params
    return out


@dataclass
class Planned:
    """One run of the sweep and what to do with it."""

    algo: str
    seed: int
    run_id: str
    folder: Path
    config: RunConfig
    expected_hash: str | None
    state: str = "new"


def _read_hash(folder: Path) -> str | None:
    try:
        return config_hash(json.loads((folder / "config.json").read_text()))
    except (OSError, ValueError):
        return None


def plan_runs(spec: SweepSpec, out: Path, space: SearchSpace) -> list[Planned]:
    """Every run of ``spec`` with its state (see the module docstring); touches nothing."""
    from benchsim.algorithms import algorithm_class

    planned: list[Planned] = []
    expected: dict[str, dict[str, Any] | None] = {}
    for algo, seed in spec.runs():
        allowed = set(algorithm_class(algo).hyperparameters())
        config = run_config(spec, algo, seed, allowed)
        if algo not in expected:
            expected[algo] = resolve(dataclasses.replace(config, seed=0), space)
        template = expected[algo]
        want = None if template is None else config_hash({**template, "seed": seed})
        folder = run_dir(out, algo, spec.tasks, seed)
        item = Planned(algo, seed, run_id(algo, spec.tasks, seed), folder, config, want)
        if folder.exists():
            have = _read_hash(folder)
            finished = (folder / "result.json").is_file()
            if finished:
                item.state = "done" if want is not None and have == want else "stale"
            elif has_checkpoint(folder) and want is not None and have == want:
                item.state = "resume"
            else:
                item.state = "redo"
        planned.append(item)
    return planned


def clear_for_rerun(item: Planned, out: Path) -> None:
    """Make room for a run that starts over: keep a stale finished run, drop a broken one."""
    if item.state == "stale":
        old = _read_hash(item.folder) or "unknown"
        target = out / "stale" / f"{item.run_id}.{old[:12]}"
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        item.folder.rename(target)
    elif item.state == "redo":
        shutil.rmtree(item.folder)


def check_params(spec: SweepSpec) -> None:
    """Refuse ``--param`` names that no algorithm of the sweep has (one line, exit 2).

    Only names are checked here; a value an algorithm rejects fails that algorithm's runs,
    which are recorded and leave the other runs alone.
    """
    from benchsim.algorithms import algorithm_class

    known = {algo: set(algorithm_class(algo).hyperparameters()) for algo in spec.algos}
    for scope, values in spec.params.items():
        if scope == "*":
            every = set().union(*known.values())
            for name in values:
                if name not in every:
                    raise ConfigError(
                        f"--param {name!r} is a hyperparameter of none of {', '.join(spec.algos)}; "
                        f"allowed: {', '.join(sorted(every)) or '(none)'}"
                    )
            continue
        if scope not in known:
            raise ConfigError(
                f"--param {scope}.NAME=VALUE: {scope!r} is not an algorithm of this sweep; "
                f"allowed: {', '.join(spec.algos)}"
            )
        for name in values:
            if name not in known[scope]:
                raise ConfigError(
                    f"--param {scope}.{name}: unknown hyperparameter {name!r} for {scope}; "
                    f"allowed: {', '.join(sorted(known[scope])) or '(none)'}"
                )
