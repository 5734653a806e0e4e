"""A run's history: one row per answered job, in compact columns, and as Arrow tables.

The event loop (:mod:`benchsim.runner._search`) adds rows; a checkpoint saves them a part at
a time (:meth:`Trajectory.table`) and loads them back (:meth:`Trajectory.extend`); a finished
run turns them into its ``trajectory.parquet`` table (:meth:`Trajectory.to_arrow`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from benchsim._arrow import numbers as arrow_numbers
from benchsim._arrow import strings, to_numbers
from benchsim.algorithms._base import Evaluate, Job, Outcome

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
