"""The event loop of one search: ask/tell against K simulated workers on one clock.

Like syne-tune's simulator backend: a free worker asks the searcher for a job, the backend
answers it at once (a lookup, or real training on the live backend), and the answer is delivered
at ``start + cost`` on the simulated clock.  Results are told in finish-time order, so with
``workers > 1`` a searcher sees them asynchronously, as on a real cluster.  A result that would
arrive after a simulated-time budget is dropped (it was not paid for in time), and no job is
started once an evaluation budget is spent.
"""

from __future__ import annotations

import heapq
import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from benchsim._arrow import numbers as arrow_numbers
from benchsim._arrow import strings, to_numbers
from benchsim.algorithms._base import Evaluate, Job, Outcome, Searcher
from benchsim.errors import DeadlockError
from benchsim.runner._budget import Budget
from benchsim.runner._clock import SimClock
from benchsim.runner._execute import JobExecutor

TRAINING_KINDS = ("train_pass", "joint_pass")
"""Trajectory kinds of training passes (no architecture, no value: only a cost)."""


COLUMNS = (
    "step", "search", "task", "kind", "worker", "start_time", "end_time", "arch", "value",
    "cost", "source",
)  # fmt: skip
"""The trajectory's columns, in order (the written table adds ``arch_str``, ``test_value``)."""
NUMBERS = {
    "search": np.int16, "worker": np.int16, "start_time": np.float64, "end_time": np.float64,
    "arch": np.int64, "value": np.float64, "cost": np.float64,
}  # fmt: skip
"""The number columns a :class:`Trajectory` stores, with their types."""
TEXTS = ("task", "kind", "source")
"""The text columns, stored per row as one code into :attr:`Trajectory.labels`."""


class Trajectory:
    """Columns of every answered job (one row per architecture answered; a training pass has
    one row per task it trained, arch -1 and value NaN: a ``train_pass`` one, a joint pass one
    per task, each with an equal share of its cost; a task-distance job one row per source task
    with ``arch`` -1, the distance as ``value`` and ``source`` naming the source task).

    Numbers live in compact :class:`array.array` columns (2 or 8 bytes a value, not a Python
    object each).  A row's three texts (task, kind, source) are one 4-byte code into
    :attr:`labels`, the distinct ``(task, kind, source)`` triples in order of first use (a run
    has a handful), and ``step`` is the row number, so a row costs 48 bytes and a run of a
    million evaluations holds its history in about 50 MB (88 bytes a row when the texts were
    lists).  :meth:`table` gives rows as Arrow (what a checkpoint appends, a part at a time),
    :meth:`extend` takes them back, :meth:`to_arrow` builds the run's final table; none of
    them goes through Python objects per row, nor through pandas (:mod:`benchsim._arrow`).
    """

    def __init__(self) -> None:
        self.search, self.worker = array("h"), array("h")
        self.start_time, self.end_time = array("d"), array("d")
        self.arch, self.value, self.cost = array("q"), array("d"), array("d")
        self.label = array("i")
        """Per row: its position in :attr:`labels`."""
        self.labels: list[tuple[str, str, str]] = []
        """The distinct ``(task, kind, source)`` of the rows, in order of first use."""
        self._codes: dict[tuple[str, str, str], int] = {}

    def __len__(self) -> int:
        return len(self.arch)

    def _code(self, task: str, kind: str, source: str) -> int:
        key = (task, kind, source)
        code = self._codes.get(key)
        if code is None:
            code = self._codes[key] = len(self.labels)
            self.labels.append(key)
        return code

    def add(
        self, search: int, job: Job, outcome: Outcome, worker: int, start: float, end: float
    ) -> None:
        if type(job) is Evaluate:  # one row: the common case, kept short
            code = self._codes.get((job.task, "evaluate", outcome.source))
            if code is None:
                code = self._code(job.task, "evaluate", outcome.source)
            self.label.append(code)
            self.search.append(search)
            self.worker.append(worker)
            self.start_time.append(start)
            self.end_time.append(end)
            self.arch.append(job.arch)
            self.value.append(outcome.values[0])
            self.cost.append(outcome.cost)
            return
        kind = job.label
        sources = None
        if kind in TRAINING_KINDS:
            tasks = list(job.tasks)
            archs, values = [-1] * len(tasks), [float("nan")] * len(tasks)
        elif kind == "task_distance":
            archs, values = [-1] * len(job.sources), outcome.values.tolist()
            tasks = [job.task] * len(archs)
            sources = [f"{outcome.source} from {name}" for name in job.sources]
        else:
            archs = list(job.archs)
            values = outcome.values.tolist()
            tasks = [job.task] * len(archs)
        n = len(archs)
        sources = sources or [outcome.source] * n
        self.label.extend(self._code(t, kind, s) for t, s in zip(tasks, sources, strict=True))
        self.search.extend([search] * n)
        self.worker.extend([worker] * n)
        self.start_time.extend([start] * n)
        self.end_time.extend([end] * n)
        self.arch.extend(archs)
        self.value.extend(values)
        self.cost.extend([outcome.cost / n] * n)

    def add_evaluations(
        self,
        search: int,
        task: str,
        source: str,
        worker: int,
        starts: np.ndarray,
        ends: np.ndarray,
        archs: np.ndarray,
        values: np.ndarray,
        costs: np.ndarray,
    ) -> None:
        """Rows of a batch of evaluations on ``task`` (what :meth:`add` of each would add)."""
        n = len(archs)
        columns = {
            "label": np.full(n, self._code(task, "evaluate", source)),
            "search": np.full(n, search),
            "worker": np.full(n, worker),
            "start_time": starts,
            "end_time": ends,
            "arch": archs,
            "value": values,
            "cost": costs,
        }
        for name, numbers in columns.items():
            column = getattr(self, name)
            column.frombytes(np.ascontiguousarray(numbers, column.typecode).data.cast("B"))

    def numbers(self, name: str) -> np.ndarray:
        """A number column, or ``label``, as numpy over the trajectory's own memory (no row
        can be added while the view lives: an array lending its buffer cannot grow)."""
        values = getattr(self, name)
        return np.frombuffer(values, dtype=values.typecode)

    def column(self, name: str) -> np.ndarray | list[str]:
        """One column of :data:`COLUMNS` as a copy: numpy for numbers, a list for texts."""
        if name in TEXTS:
            words = [label[TEXTS.index(name)] for label in self.labels]
            return [words[code] for code in self.label]
        if name == "step":
            return np.arange(len(self), dtype=np.int64)
        return self.numbers(name).copy()

    def rows(self, keep: Callable[[str, str, str], bool]) -> np.ndarray:
        """Boolean mask of the rows whose ``(task, kind, source)`` satisfies ``keep``."""
        chosen = np.array([keep(*label) for label in self.labels], dtype=bool)
        return chosen[self.numbers("label")]

    def table(self, start: int = 0) -> pa.Table:
        """Rows ``start:`` as an Arrow table of :data:`COLUMNS` (a copy: rows may follow)."""
        return self._table(start, {name: getattr(self, name)[start:] for name in NUMBERS})

    def to_arrow(
        self,
        arch_str: Callable[[int], str],
        test_value: np.ndarray | None = None,
        space_size: int | None = None,
    ) -> pa.Table:
        """The run's final table: :data:`COLUMNS` with ``arch_str`` after ``arch`` (each
        architecture formatted once by ``arch_str``, ``""`` for arch -1) and, when given,
        ``test_value`` last.  ``space_size`` (the number of architectures there are) picks
        the type of ``arch_str``'s indices, so that every run of a space has the same schema.

        Its number columns share the trajectory's memory instead of copying it (the run is
        over: no row follows), and its text columns are dictionary-encoded (1 or 2 bytes a
        row each), so the table costs little more than its row numbers and test values on top.
        """
        table = self._table(0, {name: getattr(self, name) for name in NUMBERS})
        archs = self.numbers("arch")
        seen = np.zeros(len(archs) and int(archs.max()) + 2, dtype=bool)
        seen[archs] = True  # arch -1 marks the last place
        used = np.flatnonzero(seen)
        words = [arch_str(a) if a < len(seen) - 1 else "" for a in used.tolist()]
        place = np.zeros(len(seen), dtype=_index_type(max(len(words), (space_size or 0) + 1)))
        place[used] = np.arange(len(used))
        arch_names = _encoded(words, place[archs])
        table = table.add_column(COLUMNS.index("arch") + 1, "arch_str", arch_names)
        if test_value is not None:
            values = np.ascontiguousarray(test_value, dtype=np.float64)
            table = table.append_column("test_value", arrow_numbers(values))
        return table

    def _table(self, start: int, numbers: dict[str, array]) -> pa.Table:
        """Rows ``start:`` with these number columns (copies or the trajectory's own) and the
        text columns dictionary-encoded."""
        columns = {"step": arrow_numbers(np.arange(start, len(self), dtype=np.int64))}
        for name, dtype in NUMBERS.items():
            columns[name] = arrow_numbers(numbers[name], dtype)
        codes = self.numbers("label")[start:]
        for position, name in enumerate(TEXTS):
            per_label = [label[position] for label in self.labels]
            words = list(dict.fromkeys(per_label))  # the distinct words, in order of first use
            word_of = np.array([words.index(w) for w in per_label], _index_type(len(words)))
            columns[name] = _encoded(words, word_of[codes])
        return pa.Table.from_arrays([columns[name] for name in COLUMNS], names=list(COLUMNS))

    def extend(self, table: pa.Table) -> None:
        """Append the rows of a :meth:`table` (a checkpoint's parts, on resume)."""
        for name, dtype in NUMBERS.items():
            getattr(self, name).frombytes(to_numbers(table.column(name), dtype).tobytes())
        texts = zip(*(table.column(name).to_pylist() for name in TEXTS), strict=True)
        self.label.extend(self._code(*row) for row in texts)


def _encoded(words: list[str], indices: np.ndarray) -> pa.DictionaryArray:
    """``words[index]`` for each of ``indices`` as a dictionary-encoded string array: the
    indices' own memory and each distinct word once, never a string per row (a million rows
    of ``|nor_conv_3x3~0|+...`` would be 60 MB as plain strings, 2 MB so)."""
    return pa.DictionaryArray.from_arrays(arrow_numbers(indices), strings(words))


def _index_type(words: int) -> type:
    """The smallest signed integer type that indexes ``words`` words, as pandas picks for a
    categorical: int8 for a run's few tasks, kinds and sources, int16 for the architectures
    of the spaces benchsim has (which makes the type the same for every run of a space)."""
    for kind in (np.int8, np.int16, np.int32):
        if words <= np.iinfo(kind).max:
            return kind
    return np.int64


@dataclass
class SearchStats:
    """What one search spent."""

    simulated_seconds: float = 0.0
    evaluations: int = 0
    searcher_seconds: float = 0.0
    backend_seconds: float = 0.0
    dropped_after_deadline: int = 0
    source_evaluations: int = 0
    """Answers on source tasks (a transfer method's prior knowledge): charged to those tasks,
    not to this search's budget."""
    source_seconds: float = 0.0
    """Simulated time before this search's own first job started (its source phase)."""


class SearchLoop:
    """Resumable state of one search's event loop (picklable between two results).

    ``step()`` runs until the next result is told (or the search ends) and returns whether
    there is more to do; :func:`run_search` simply loops.  Between two ``step`` calls the whole
    state (clock, outstanding jobs, free workers, counters) is plain data, so a checkpoint can
    pickle it together with the searcher and resume exactly.
    """

    own_tasks: frozenset[str] | None = None
    budget_start: float | None = 0.0

    def __init__(
        self,
        budget: Budget,
        workers: int,
        search_id: int = 0,
        own_tasks: frozenset[str] | None = None,
    ) -> None:
        self.budget = budget
        self.search_id = search_id
        self.own_tasks = own_tasks
        self.budget_start = 0.0 if own_tasks is None else None
        self.clock = SimClock()
        self.stats = SearchStats()
        self.pending: list[tuple[float, int, int, float, Job, Outcome]] = []
        self.free_workers = list(range(workers))
        self.seq = 0
        self.stopped = False
        self.done = False

    delivered = 0
    """Results the last :meth:`step` delivered (more than one for a batch)."""

    def step(
        self,
        searcher: Searcher,
        execute: Callable[[Job], Outcome],
        trajectory: Trajectory,
        on_result: Callable[[int, float], None] | None = None,
        most: int | None = None,
    ) -> bool:
        """Start jobs on free workers, then deliver the next result; False when finished.

        Where one worker runs without a time budget, the answers are lookups
        (``execute.batches``) and the searcher proposes evaluations no result can change
        (:meth:`~benchsim.algorithms.Searcher.ask_many`), it delivers up to ``most`` results
        at once (:meth:`_step_batch`): the same numbers, in the same order.
        """
        if self.done:
            return False
        self.delivered = 1
        if (
            most != 1
            and len(self.free_workers) == 1
            and not self.pending
            and not self.stopped
            and self.budget.seconds is None
            and getattr(execute, "batches", False)
        ):
            more = self._step_batch(searcher, execute, trajectory, on_result, most)
            if more is not None:
                return more
        budget, stats, clock, own_tasks = self.budget, self.stats, self.clock, self.own_tasks
        timed = budget.seconds is not None
        perf = time.perf_counter  # five clock readings a result: ask, answer, tell
        while self.free_workers and not self.stopped:
            if timed and clock.time() >= self._deadline():
                self.stopped = True
                break
            asked = perf()
            job = searcher.ask()
            answering = perf()
            stats.searcher_seconds += answering - asked
            if job is None:
                break
            if isinstance(job, str):  # FINISHED
                self.stopped = True
                break
            own = own_tasks is None or own_tasks.issuperset(job.tasks)
            size = job.size
            if (
                own
                and budget.evaluations is not None
                and stats.evaluations + size > budget.evaluations
            ):
                self.stopped = True
                break
            if own and self.budget_start is None:  # the search proper starts: so does its budget
                self.budget_start = stats.source_seconds = clock.time()
            outcome = execute(job)
            stats.backend_seconds += perf() - answering
            if own:
                stats.evaluations += size
            else:
                stats.source_evaluations += size
            worker = heapq.heappop(self.free_workers)
            start = clock.time()
            heapq.heappush(
                self.pending, (start + outcome.cost, self.seq, worker, start, job, outcome)
            )
            self.seq += 1
        if not self.pending:
            if not self.stopped:
                raise DeadlockError(
                    f"algorithm {searcher.name!r} asked to wait while no job was outstanding"
                )
            return self._finish()
        end, _, worker, start, job, outcome = heapq.heappop(self.pending)
        if timed and end > self._deadline():
            stats.dropped_after_deadline += 1 + len(self.pending)
            self.pending.clear()
            clock.advance_to(self._deadline())
            return self._finish()
        clock.advance_to(end)
        told = perf()
        searcher.tell(job, outcome)
        stats.searcher_seconds += perf() - told
        trajectory.add(self.search_id, job, outcome, worker, start, end)
        heapq.heappush(self.free_workers, worker)
        if on_result is not None:
            on_result(job.size, clock.time())
        return True

    def _step_batch(
        self,
        searcher: Searcher,
        execute: JobExecutor,
        trajectory: Trajectory,
        on_result: Callable[[int, float], None] | None,
        most: int | None,
    ) -> bool | None:
        """:meth:`step` for a batch of evaluations from :meth:`Searcher.ask_many`; ``None``
        when the searcher has none (the caller then asks one job).

        One worker runs, so job ``i`` starts when job ``i - 1`` ends: the start times are
        the clock's running sum of the costs, computed with the clock's own arithmetic (an
        evaluation budget counts them; no time budget can cut the batch short)."""
        budget, stats, clock = self.budget, self.stats, self.clock
        limit = BATCH if budget.evaluations is None else budget.evaluations - stats.evaluations
        limit = min(limit, BATCH if most is None else most)
        if limit < 1:
            return None  # the last ask: one job, as step() asks it
        perf = time.perf_counter
        asked = perf()
        batch = searcher.ask_many(limit)
        answering = perf()
        stats.searcher_seconds += answering - asked
        if batch is None:
            return None
        if isinstance(batch, str):  # FINISHED
            self.stopped = True
            self.delivered = 0
            return self._finish()
        task, archs = batch
        n = len(archs)
        if not 1 <= n <= limit:
            raise ValueError(
                f"algorithm {searcher.name!r} proposed {n} evaluations, asked for 1 to {limit}"
            )
        own = self.own_tasks is None or task in self.own_tasks
        if own and self.budget_start is None:
            self.budget_start = stats.source_seconds = clock.time()
        values, costs, source = execute.evaluate_many(task, archs)
        stats.backend_seconds += perf() - answering
        if own:
            stats.evaluations += n
        else:
            stats.source_evaluations += n
        starts, ends, now = _one_worker_times(clock.time(), costs)
        clock.set(now)
        told = perf()
        searcher.tell_many(task, archs, values, costs, source)
        stats.searcher_seconds += perf() - told
        worker = self.free_workers[0]
        trajectory.add_evaluations(
            self.search_id, task, source, worker, starts, ends, archs, values, costs
        )
        self.delivered = n
        if on_result is not None:
            on_result(n, now)
        return True

    def _deadline(self) -> float:
        """When a time budget runs out: ``budget.seconds`` after the search's own first job
        (source-task answers before it are a transfer method's prior knowledge, charged to
        those tasks); never while only source jobs have run."""
        if self.budget_start is None or self.budget.seconds is None:
            return math.inf
        return self.budget_start + self.budget.seconds

    def _finish(self) -> bool:
        self.done = True
        self.stats.simulated_seconds = self.clock.time()
        return False


def _one_worker_times(now: float, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Start and end times of jobs run one after another from ``now``, and the clock after
    them, exactly as :meth:`SearchLoop.step` computes them one at a time: ``end = start +
    cost``, then ``SimClock.advance_to(end)``, whose ``now + max(0, end - now)`` is ``end``
    itself wherever the subtraction is exact (checked; else that recurrence is run)."""
    sums = np.cumsum(np.concatenate(([now], costs)))  # a running sum adds in order
    starts, ends = sums[:-1], sums[1:]
    if np.array_equal(starts + np.maximum(0.0, ends - starts), ends):
        return starts, ends, float(sums[-1])
    starts, ends = np.empty_like(costs), np.empty_like(costs)
    for i, cost in enumerate(costs.tolist()):
        starts[i], ends[i] = now, now + cost
        now += max(0.0, (now + cost) - now)
    return starts, ends, now


BATCH = 1024
"""Most evaluations :meth:`SearchLoop.step` delivers at once (random search: 256, what it
draws at a time)."""


def run_search(
    searcher: Searcher,
    execute: Callable[[Job], Outcome],
    budget: Budget,
    workers: int,
    trajectory: Trajectory,
    search_id: int = 0,
    on_result: Callable[[int, float], None] | None = None,
    own_tasks: frozenset[str] | None = None,
) -> SearchStats:
    """Drive ``searcher`` until it finishes or the budget is spent; fill ``trajectory``."""
    loop = SearchLoop(budget, workers, search_id, own_tasks)
    while loop.step(searcher, execute, trajectory, on_result):
        pass
    return loop.stats


def spawn_generators(seed: int, n: int) -> list[np.random.Generator]:
    """``n`` independent Generators derived from one integer seed (SeedSequence.spawn)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]
