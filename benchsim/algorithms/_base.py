"""The contract between a search algorithm and the runner: ask/tell over backend-neutral jobs.

An algorithm never imports a backend and never reads a clock.  The runner drives it:

0. ``searcher.check_problem(problem)`` before the run writes anything: refuse a problem the
   searcher cannot search (nothing by default).
1. ``searcher.setup(problem, rng)`` once, before anything else: the search space, the tasks with
   their search metric (always higher-is-better) and the searcher's own Generator.
2. ``searcher.ask()`` whenever a (simulated) worker is free.  It returns a :class:`Job`, ``None``
   when it must wait for outstanding results (e.g. the end of a generation), or :data:`FINISHED`
   when it has nothing more to do.
3. ``searcher.tell(job, outcome)`` when a job's result arrives, in simulated-time order.
4. ``searcher.recommend(task)`` at the end: the architecture the search returns for ``task``.

Jobs are the questions a NAS algorithm asks of a backend: :class:`Evaluate` (train one
architecture with the benchmark's protocol and report its validation metric), the two
weight-sharing steps of EMT-NAS, :class:`TrainPass` (Algorithm 3 of the supplementary: one pass
over the task's training data, one individual per mini-batch) and :class:`SampledEval`
(Algorithm 4: accuracy on one random validation mini-batch), the joint training of its JT-S /
JT-D baselines (appendix D), :class:`JointTrainPass` (one pass over the union of several tasks'
training data through one supernet, the tasks' mini-batches mixed), and :class:`TaskDistance`
(LD-NAS: how far other tasks are from a target, computed from the tasks' data).  The table
backend answers ``Evaluate`` from the recorded benchmark and the weight-sharing steps with an
emulated supernet (docs/weight_sharing.md); the live backend answers all of them by training.
``Problem.capabilities`` says which kinds the backend answers (a table holds no images, so no
``TaskDistance``).  Every job names the tasks it concerns in ``tasks`` (one task, except a
joint pass).

Hyperparameters are dataclass fields (constructors only store them); learned state ends in ``_``.
Which check goes where: a rule on one hyperparameter is declared in ``_parameter_constraints``
and checked when the searcher is built, by this base class; a rule relating several goes in the
``_check_parameters`` hook, run right after; a rule that depends on the problem (its space's
size, its tasks, what the backend answers) goes in ``check_problem``, run before a run writes
anything.
"""

from __future__ import annotations

import dataclasses
import typing
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from benchsim._checks import ParameterConstraints, check_int, validate_parameters
from benchsim._registry import Registry
from benchsim.catalog import SEARCH_BUDGETS
from benchsim.errors import ConfigError, UnknownNameError
from benchsim.spaces import SearchSpace, get_space


@dataclass(frozen=True)
class TaskSpec:
    """What a searcher may know of a task: its name, search metric and schedule length."""

    name: str
    metric: str
    epochs: int


@dataclass(frozen=True, init=False)
class Evaluate:
    """Train ``arch`` on ``task`` with the run's protocol; the outcome value is its metric."""

    kind: ClassVar[str] = "evaluate"
    """The job's kind: what :attr:`Problem.capabilities` lists when the backend answers it."""
    task: str
    arch: int

    def __init__(self, task: str, arch: int) -> None:
        # Hand-written instead of the generated frozen ``__init__`` (one ``object.__setattr__``
        # per field): a search of a million evaluations builds a million of these.  Still
        # frozen: only setting an attribute is refused, not filling the instance's dict.
        fields = self.__dict__
        fields["task"] = task
        fields["arch"] = arch

    @property
    def label(self) -> str:
        """The trajectory's ``kind`` of this job's rows."""
        return "evaluate"

    @property
    def tasks(self) -> tuple[str, ...]:
        return (self.task,)

    @property
    def size(self) -> int:
        return 1


@dataclass(frozen=True)
class TrainPass:
    """One pass over ``task``'s training data; each mini-batch trains one of ``archs``.

    ``weights`` (optional, same length) are selection probabilities per mini-batch, e.g. from a
    binary tournament; ``None`` = uniform.  ``planned_passes`` is how many passes the searcher
    plans for this task in all (EMT-NAS: its generations), for a learning-rate schedule that
    needs to know; it never buys training: an emulated supernet is as trained as the passes it
    has had (docs/weight_sharing.md).  The outcome carries no values, only the cost.
    """

    kind: ClassVar[str] = "train_pass"
    task: str
    archs: tuple[int, ...]
    weights: tuple[float, ...] | None = None
    planned_passes: int | None = None

    @property
    def label(self) -> str:
        return "train_pass"

    @property
    def tasks(self) -> tuple[str, ...]:
        return (self.task,)

    @property
    def size(self) -> int:
        return 0


@dataclass(frozen=True)
class JointTrainPass:
    """One pass over the union of ``tasks``' training data through ONE supernet they share.

    Every mini-batch of every task is used once, in one random order that mixes the tasks; a
    mini-batch of ``tasks[i]`` trains one of ``archs[i]`` (through that task's head), drawn with
    the probabilities ``weights[i]`` (``None``, or a ``None`` entry: uniform).  The tasks'
    shared weights are those of one supernet, formed on the first joint pass over them (the
    backends refuse a joint pass over tasks already trained apart).  What EMT-NAS's JT-S and
    JT-D baselines do (supplementary appendix D: "combine data from all tasks and jointly train
    them"); ``planned_passes`` as for :class:`TrainPass`.  The outcome carries only the cost.
    """

    kind: ClassVar[str] = "joint_train_pass"
    tasks: tuple[str, ...]
    archs: tuple[tuple[int, ...], ...]
    weights: tuple[tuple[float, ...] | None, ...] | None = None
    planned_passes: int | None = None

    @property
    def label(self) -> str:
        return "joint_pass"

    @property
    def size(self) -> int:
        return 0


@dataclass(frozen=True)
class SampledEval:
    """Estimate each of ``archs`` on ``task`` from one random validation mini-batch.

    ``batch_size=None`` asks for the whole validation split instead (EMT-NAS Alg. 1 line 12:
    the best individual evaluated with the shared weights); such answers count as full
    evaluations for :meth:`Searcher.recommend`.
    """

    kind: ClassVar[str] = "sampled_eval"
    task: str
    archs: tuple[int, ...]
    batch_size: int | None = 256

    @property
    def label(self) -> str:
        """``"full_eval"`` for a whole-split evaluation, else ``"sampled_eval"``."""
        return "full_eval" if self.batch_size is None else "sampled_eval"

    @property
    def tasks(self) -> tuple[str, ...]:
        return (self.task,)

    @property
    def full(self) -> bool:
        """Whether this is a whole-validation-split evaluation."""
        return self.batch_size is None

    @property
    def size(self) -> int:
        return len(self.archs)


@dataclass(frozen=True)
class TaskDistance:
    """How far each of ``sources`` is from ``task`` (LD-NAS, Le et al. Eq. 2-3).

    The outcome's ``values[k]`` is d[sources[k] -> task], the log-determinant distance of
    diagonal Fisher information matrices, averaged over ``repeats`` initialisations of the
    epsilon-approximation networks.  Only a backend holding the tasks' data answers it
    (``"task_distance" in Problem.capabilities``).  No architecture is evaluated (size 0).
    """

    kind: ClassVar[str] = "task_distance"
    task: str
    sources: tuple[str, ...]
    repeats: int = 1

    @property
    def label(self) -> str:
        return "task_distance"

    @property
    def tasks(self) -> tuple[str, ...]:
        return (self.task,)

    @property
    def size(self) -> int:
        return 0


Job = Evaluate | TrainPass | SampledEval | JointTrainPass | TaskDistance
"""The questions a searcher may ask: the one list of job kinds (each class says its ``kind``;
the runner answers each through one table, :mod:`benchsim.runner._execute`)."""
JOBS: tuple[type, ...] = typing.get_args(Job)


@dataclass(frozen=True)
class Problem:
    """Everything a searcher is told at set-up.

    Attributes
    ----------
    space
        The search space (sample, mutate, crossover, encode, ...): all a searcher knows of the
        benchmark (never its name or backend: it does not know whether answers are looked up
        or trained).
    tasks
        The tasks of this search, in order; a single-task searcher gets exactly one.
    source_tasks
        Other tasks of the benchmark whose observations a transfer method may use
        (XferNAS), with the :class:`Job`-level API: the runner answers :class:`Evaluate` on them.
    capabilities
        The job kinds the backend answers (``"evaluate"``, ``"train_pass"``,
        ``"sampled_eval"``, ``"joint_train_pass"``, ``"task_distance"``), so a searcher can
        refuse a setting it cannot run before asking anything (LD-NAS without a distance file
        on a table).
    """

    space: SearchSpace
    tasks: tuple[TaskSpec, ...]
    source_tasks: tuple[TaskSpec, ...] = ()
    capabilities: frozenset[str] = frozenset(job.kind for job in JOBS if job is not TaskDistance)
    """Default (a problem built by hand): what a table answers, every kind but distances."""

    def task(self, name: str) -> TaskSpec:
        for spec in (*self.tasks, *self.source_tasks):
            if spec.name == name:
                return spec
        raise UnknownNameError("task", name, [t.name for t in self.tasks], "in this search")


FINISHED = "finished"
"""Returned by :meth:`Searcher.ask` when the searcher has no more work."""


@dataclass(frozen=True, init=False)
class Outcome:
    """Answer to a job: ``values`` (one per architecture; empty for a training pass) and ``cost``.

    ``source`` labels where the values come from (``"standalone"`` training, a recorded or
    modelled supernet estimate, ...); searchers never need it, the trajectory records it.
    """

    values: np.ndarray
    cost: float
    source: str = ""

    def __init__(self, values: np.ndarray, cost: float, source: str = "") -> None:
        fields = self.__dict__  # as Evaluate's: one per answer
        fields["values"] = values
        fields["cost"] = cost
        fields["source"] = source

    @property
    def value(self) -> float:
        return float(self.values[0])


class Searcher(ABC):
    """Base class of every search algorithm (see the module docstring for the call sequence).

    Subclasses are dataclasses whose fields are the hyperparameters.  ``multi_task`` says whether
    one instance searches all tasks at once (EMT-NAS, KTNAS) or the runner gives each task its own
    instance (random search, REA, REINFORCE, PPO, XferNAS).  ``shared_architecture`` says that a
    multi-task searcher returns one architecture for all its tasks, the one whose whole-split
    evaluations have the best mean over the tasks (JT-S); results stores then follow the same
    rule for the incumbent (``benchsim.sweep.joint_incumbents``).  ``benchmarks`` names the
    search spaces it is written for (the algorithm contract suite runs it on each).
    ``paper_defaults`` holds, per search space (by its registered name), the hyperparameters
    of the paper whose table the algorithm reproduces there (the class defaults elsewhere);
    ``stops_itself`` says that the searcher ends its search by returning :data:`FINISHED`
    (EMT-NAS after its generations), so the runner imposes no default budget.
    """

    multi_task: ClassVar[bool] = False
    shared_architecture: ClassVar[bool] = False
    stops_itself: ClassVar[bool] = False
    _parameter_constraints: ClassVar[ParameterConstraints] = {}
    """Hyperparameter -> the constraints it may satisfy (:mod:`benchsim._checks`); every
    hyperparameter declares some (the registry contract test checks it)."""
    name: ClassVar[str] = ""
    benchmarks: ClassVar[tuple[str, ...]] = ("nb201", "tnb101-micro", "tnb101-macro")
    paper_defaults: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    # ------------------------------------------------------------------ life cycle
    def __post_init__(self) -> None:
        """Check every hyperparameter against its declared constraints, in one place for every
        algorithm (and store normalised values: task lists become tuples), then
        :meth:`_check_parameters`.  A bad value is one line naming it, the algorithm and the
        rule."""
        caller = f"algorithm {self.name or type(self).__name__}"
        checked = validate_parameters(type(self)._parameter_constraints, self.config(), caller)
        for key, value in checked.items():
            setattr(self, key, value)
        self._check_parameters()

    def _check_parameters(self) -> None:  # noqa: B027 - a hook that does nothing by default
        """Hook: rules that relate several hyperparameters (REA: ``sample_size <=
        population_size``), or need more than a value's kind and range; one-line
        :class:`ConfigError`."""

    def setup(self, problem: Problem, rng: np.random.Generator) -> None:
        """Store the problem and the Generator, then call :meth:`_setup`."""
        self.problem_ = problem
        self.rng_ = rng
        self.best_: dict[str, tuple[int, float]] = {}
        self._setup()

    def _setup(self) -> None:  # noqa: B027 - a hook that does nothing by default
        """Hook: initialise learned state."""

    def check_problem(self, problem: Problem) -> None:  # noqa: B027 - a hook, no-op by default
        """Hook: refuse, with a :class:`~benchsim.errors.ConfigError`, a problem this searcher
        cannot search (e.g. no source tasks to transfer from).

        The runner calls it for every search before it writes anything, so a bad combination
        of algorithm, tasks and hyperparameters leaves no output folder behind.
        """

    @abstractmethod
    def ask(self) -> Job | str | None:
        """Next job, ``None`` to wait for outstanding results, or :data:`FINISHED`."""

    def tell(self, job: Job, outcome: Outcome) -> None:
        """Record the best :class:`Evaluate` result per task, then call :meth:`_tell`."""
        if isinstance(job, Evaluate):
            self._consider(job.task, job.arch, outcome.value)
        elif isinstance(job, SampledEval) and job.full:
            for arch, value in zip(job.archs, outcome.values.tolist(), strict=True):
                self._consider(job.task, arch, value)
        self._tell(job, outcome)

    def ask_many(self, limit: int) -> tuple[str, np.ndarray] | str | None:
        """Up to ``limit`` (>= 1) evaluations at once, for a searcher whose next questions no
        result can change (random search): ``(task, archs)``, the architectures that as many
        :meth:`ask` calls would return as :class:`Evaluate` jobs, in that order, leaving the
        searcher as those calls would; or :data:`FINISHED`.  ``None`` (the default): ask one
        at a time.

        The runner answers such a batch in one backend call and tells it with
        :meth:`tell_many`, where the backend answers on a simulated clock and one worker
        runs; every number of the run is the same as one :meth:`ask` at a time gives.
        """
        return None

    def tell_many(
        self, task: str, archs: np.ndarray, values: np.ndarray, costs: np.ndarray, source: str
    ) -> None:
        """The results of an :meth:`ask_many` batch, in order: the best per task kept as
        :meth:`tell` keeps it (the first of equal values), then :meth:`_tell_many`."""
        known = np.flatnonzero(values == values)
        if known.size:
            top = known[np.argmax(values[known])]  # the first of the largest
            self._consider(task, int(archs[top]), float(values[top]))
        self._tell_many(task, archs, values, costs, source)

    def _tell_many(
        self, task: str, archs: np.ndarray, values: np.ndarray, costs: np.ndarray, source: str
    ) -> None:
        """Hook: learn from an :meth:`ask_many` batch (default: :meth:`_tell` for each)."""
        for arch, value, cost in zip(archs.tolist(), values.tolist(), costs.tolist(), strict=True):
            self._tell(Evaluate(task, arch), Outcome(np.array([value]), cost, source))

    def _consider(self, task: str, arch: int, value: float) -> None:
        best = self.best_.get(task)
        if value == value and (best is None or value > best[1]):
            self.best_[task] = (int(arch), float(value))

    @abstractmethod
    def _tell(self, job: Job, outcome: Outcome) -> None:
        """Hook: update the searcher's state with a result."""

    def milestone(self) -> int | None:
        """A counter that advances at the searcher's natural save points; ``None``: it has none.

        EMT-NAS and KTNAS return their generation.  On a live backend the runner checkpoints
        whenever it advances, so an interrupted GPU run loses at most the generation it was in
        (on a table a generation takes microseconds, and the runner saves by wall time alone).
        """
        return None

    def recommend(self, task: str) -> tuple[int, float] | None:
        """Architecture returned for ``task`` and its search-metric value (``None``: nothing yet).

        Default: the best fully evaluated architecture (:class:`Evaluate` results and
        whole-split :class:`SampledEval` results; mini-batch estimates never count).
        """
        return self.best_.get(task)

    # ------------------------------------------------------------------ configuration
    @classmethod
    def hyperparameters(cls) -> dict[str, Any]:
        """Field name -> default value, for config files and ``--help``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
        return out

    @classmethod
    def defaults_for(cls, space: SearchSpace) -> dict[str, Any]:
        """Hyperparameters of the paper whose table this algorithm reproduces on ``space``
        (:attr:`paper_defaults`; ``{}``, the class defaults, on a space it names none for)."""
        return dict(cls.paper_defaults.get(space.name, {}))

    @classmethod
    def default_budget(cls, space: SearchSpace) -> str | None:
        """Default per-task budget on ``space`` (see :mod:`benchsim.runner._budget`).

        ``None`` for a searcher that stops itself (:attr:`stops_itself`); else the budget of
        the protocol of the space's benchmark (:data:`~benchsim.catalog.SEARCH_BUDGETS`), and a
        one-line :class:`ConfigError` asking for one on a space that has none.
        """
        if cls.stops_itself:
            return None
        budget = SEARCH_BUDGETS.get(space.name)
        if budget is None:
            raise ConfigError(
                f"no default budget for {cls.name or cls.__name__} on space {space.name!r} (the "
                f"catalog has one for {', '.join(SEARCH_BUDGETS)}); give one: evaluations "
                "('100'), simulated time ('3600s') or both"
            )
        return budget

    @classmethod
    def required_inputs(cls) -> dict[str, str]:
        """Hyperparameters without which the algorithm cannot run on a table, each with what it
        holds (``{}`` for most; LD-NAS: ``distances``, a task distance matrix, which a table
        cannot compute since it holds no images).

        A run on a table without them is refused at set-up with a one-line error; the contract
        suites read this to supply a (labelled, made-up) test input of that kind.
        """
        return {}

    @classmethod
    def smoke_params(cls) -> dict[str, Any]:
        """Hyperparameters that make a run an install check of seconds (``--smoke``).

        A searcher that the runner stops by budget also gets :data:`SMOKE_EVALUATIONS`
        evaluations per task (:func:`smoke_settings`); this hook shrinks what a budget does not
        bound: generations and populations, source-task evaluations, ...
        """
        return {}

    def config(self) -> dict[str, Any]:
        """The resolved hyperparameters of this instance."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def check_population(size: object, space: SearchSpace, name: str = "population_size") -> None:
    """Refuse (one line) a population of more individuals than ``space`` has architectures.

    For a searcher's :meth:`Searcher.check_problem`: the bound depends on the space, so it
    cannot be checked when the hyperparameters are built.
    """
    check_int(name, size, 2, high=space.size, why=f"the number of architectures of {space.name}")


SMOKE_EVALUATIONS = 4
"""Evaluations per task of a ``--smoke`` run of a budget-stopped searcher."""


def smoke_settings(
    cls: type[Searcher], params: Mapping[str, Any], budget: str | None
) -> tuple[dict[str, Any], str | None]:
    """``params`` and ``budget`` of a ``--smoke`` run: the user's values win, then the
    searcher's :meth:`Searcher.smoke_params`, and a budget of :data:`SMOKE_EVALUATIONS`
    evaluations where the searcher is stopped by one (it does not stop itself)."""
    merged = {**cls.smoke_params(), **params}
    if budget is None and not cls.stops_itself:
        budget = str(SMOKE_EVALUATIONS)
    return merged, budget


# ---------------------------------------------------------------------- registry
ALGORITHMS: Registry[type[Searcher]] = Registry("algorithm", discover="benchsim.algorithms")
"""Name -> :class:`Searcher` class; every public module of :mod:`benchsim.algorithms` is
imported on the first lookup, so a new algorithm registers itself by existing."""


def register_algorithm(name: str) -> Callable[[type[Searcher]], type[Searcher]]:
    """Class decorator: make a :class:`Searcher` available as ``name``; duplicates refused."""

    def decorate(cls: type[Searcher]) -> type[Searcher]:
        ALGORITHMS.add(name, cls)
        cls.name = name
        return cls

    return decorate


def available() -> tuple[str, ...]:
    """Registered algorithm names, sorted."""
    return ALGORITHMS.names()


def algorithm_class(name: str) -> type[Searcher]:
    """The class registered as ``name``; an unknown name lists the available ones."""
    return ALGORITHMS.get(name)


def create(
    name: str,
    space: SearchSpace | str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Searcher:
    """Instantiate ``name`` with its defaults on ``space`` (a :class:`SearchSpace` or a
    registered space's name; ``None``: the class defaults) overridden by ``params``.

    Raises :class:`ConfigError` naming any key that is not a hyperparameter, and any value its
    declared constraints refuse (a string for an int, say, or a number out of range), before
    the algorithm uses it: so ``population_size=abc`` is refused as such, never by a
    comparison deep inside the algorithm.
    """
    cls = algorithm_class(name)
    allowed = cls.hyperparameters()
    if isinstance(space, str):
        space = get_space(space)
    values = {**allowed, **({} if space is None else cls.defaults_for(space))}
    for key, value in (params or {}).items():
        if key not in allowed:
            raise ConfigError(
                f"unknown hyperparameter {key!r} for algorithm {name}; "
                f"allowed: {', '.join(sorted(allowed)) or '(none)'}"
            )
        values[key] = value
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:
        raise ConfigError(f"bad hyperparameters for {name}: {err}") from None
