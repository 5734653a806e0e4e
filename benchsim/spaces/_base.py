"""The contract every search space meets.

A search space is a finite set of architectures with a dense integer index ``0 .. size-1`` (the
official index order of the benchmark it belongs to).  Everything else (strings, NASLib
op_indices, genes, graphs, encodings) is a view of that index, so backends, algorithms and
stored results can all exchange plain integers, and numpy arrays of them.

Call sequence for an algorithm: ``space.sample(rng)`` to start, ``space.mutate(i, rng)`` /
``space.crossover(i, j, rng)`` to vary, ``space.encode(indices)`` to feed a predictor,
``space.to_graph(i)`` for graph methods, ``space.format(i)`` to show a result.  None of these
read global random state: every random choice comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # networkx costs ~120 ms to import: only graph users pay for it
    import networkx as nx

from benchsim.errors import InvalidArchitectureError

ArchLike = int | np.integer | str | Sequence[int]
"""An architecture as users write it: an index, any string form the space parses, or NASLib
op_indices as a sequence of ints."""

OP_PREFIX = "op:"
"""Marks a string as NASLib op_indices (``"op:403143"``); digit strings alone are indices."""


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)


def _is_number(text: str) -> bool:
    """Whether ``text`` reads as a (non-integer) number such as ``3.0`` or ``1e9``."""
    return _NUMBER.fullmatch(text) is not None


class SearchSpace(ABC):
    """A finite architecture search space indexed ``0 .. size-1``.

    Subclasses implement the abstract methods; the public helpers below validate and dispatch.

    Attributes
    ----------
    name
        Registry name (``"nb201"``, ``"tnb101-micro"``, ``"tnb101-macro"``).
    size
        Number of architectures.
    ops
        Operation names a gene can take (cell spaces) or module codes (macro).
    decisions
        Number of choices of each sequential decision (for RL controllers): an architecture is a
        tuple of choices, ``decisions[k]`` options for the k-th.  ``from_decisions`` maps a
        choice tuple back to an index and raises :class:`InvalidArchitectureError` when the
        tuple is not a member of the space (possible for the macro space only).
    """

    name: str
    size: int
    ops: tuple[str, ...]
    decisions: tuple[int, ...]

    # ------------------------------------------------------------------ string forms
    @abstractmethod
    def parse(self, text: str) -> int:
        """Index of an architecture given in the space's official string form.

        Raises :class:`InvalidArchitectureError` naming the bad part and what is allowed.
        """

    @abstractmethod
    def format(self, index: int) -> str:
        """Official string form of an index."""

    @abstractmethod
    def to_op_indices(self, index: int) -> str:
        """NASLib's ``op_indices`` string form of an index."""

    @abstractmethod
    def from_op_indices(self, op_indices: str | Sequence[int]) -> int:
        """Index of NASLib ``op_indices`` (a digit string or a sequence of ints)."""

    # ------------------------------------------------------------------ decisions / genes
    @abstractmethod
    def to_decisions(self, index: int) -> tuple[int, ...]:
        """The choice tuple of an index (one entry per ``decisions``)."""

    @abstractmethod
    def from_decisions(self, choices: Sequence[int]) -> int:
        """Index of a choice tuple; raises if it is not in the space."""

    def decision_table(self) -> np.ndarray:
        """Every architecture's choice tuple: a read-only int64 array ``[size, len(decisions)]``
        whose row ``i`` is ``to_decisions(i)``, built on first use and kept (a model over the
        whole space reads it instead of calling ``to_decisions`` ``size`` times)."""
        return self._decision_table

    @cached_property
    def _decision_table(self) -> np.ndarray:
        table = np.array([self.to_decisions(i) for i in range(self.size)], dtype=np.int64)
        table.setflags(write=False)
        return table

    # ------------------------------------------------------------------ variation
    @abstractmethod
    def neighbours(self, index: int) -> np.ndarray:
        """All indices one mutation away (sorted, without ``index`` itself)."""

    def mutate(self, index: int, rng: np.random.Generator) -> int:
        """One random mutation: a uniformly drawn neighbour (always differs from ``index``).

        The draw is ``rng.integers(len(neighbours))``, a position in the sorted
        :meth:`neighbours`.  They are read from a table the space fills as mutations reach
        each index (long searches mutate the same parents over and over); a space that can
        build the whole table at once overrides this method (:class:`~._cell.CellSpace`).
        """
        if type(index) is not int or not 0 <= index < self.size:
            index = self.index(index)
        row = self._neighbour_rows.get(index)
        if row is None:
            row = self._neighbour_rows[index] = self.neighbours(index).tolist()
        return row[rng.integers(len(row))]

    @cached_property
    def _neighbour_rows(self) -> dict[int, list[int]]:
        """:meth:`neighbours` of the indices mutated so far, as lists (what :meth:`mutate`
        draws from)."""
        return {}

    @abstractmethod
    def crossover(self, a: int, b: int, rng: np.random.Generator) -> tuple[int, int]:
        """Two children of parents ``a`` and ``b`` (uniform crossover of their genes)."""

    def sample(self, rng: np.random.Generator, n: int | None = None) -> int | np.ndarray:
        """Uniformly random index (``n is None``) or an int64 array of ``n`` indices."""
        if n is None:
            return int(rng.integers(self.size))
        return rng.integers(self.size, size=n, dtype=np.int64)

    def enumerate(self) -> np.ndarray:
        """Every index, in index order."""
        return np.arange(self.size, dtype=np.int64)

    # ------------------------------------------------------------------ representations
    @abstractmethod
    def to_graph(self, index: int) -> nx.DiGraph:
        """Graph form: nodes are feature maps, each edge carries its ``op`` attribute."""

    @abstractmethod
    def encode(self, indices: int | np.ndarray) -> np.ndarray:
        """Fixed-length float32 encoding (one-hot per gene) of one index or an array of them.

        Shape ``(encoding_size,)`` for a scalar, ``(n, encoding_size)`` for an array.
        """

    @property
    @abstractmethod
    def encoding_size(self) -> int:
        """Length of :meth:`encode`'s vectors."""

    # ------------------------------------------------------------------ normalisation
    def index(self, arch: ArchLike) -> int:
        """Normalise any accepted architecture form to a validated index.

        Accepts an int (or numpy integer) in range, a string of one (``"1462"``), the official
        string form, or NASLib op_indices given explicitly: a list or tuple of ints, or a
        string with the :data:`OP_PREFIX` (``"op:403143"``).  A digit string is never guessed
        to be op_indices, and a zero-padded one (``"000001"``: index 1, or op_indices?) is
        refused with both spellings.
        """
        if isinstance(arch, (bool, np.bool_)):
            raise InvalidArchitectureError(
                f"architecture {arch!r} is a bool; give an index 0..{self.size - 1} or a string"
            )
        if isinstance(arch, (int, np.integer)):
            value = int(arch)
            if not 0 <= value < self.size:
                raise InvalidArchitectureError(
                    f"architecture index {value} is out of range for {self.name}; "
                    f"allowed: 0..{self.size - 1}"
                )
            return value
        if isinstance(arch, (list, tuple)):
            return self.from_op_indices(arch)
        if isinstance(arch, str):
            return self._index_of_text(arch.strip())
        raise InvalidArchitectureError(
            f"architecture {arch!r} has type {type(arch).__name__}; give an int index "
            f"0..{self.size - 1}, a {self.name} string, or NASLib op_indices (a tuple of ints)"
        )

    def _index_of_text(self, text: str) -> int:
        if text[: len(OP_PREFIX)].lower() == OP_PREFIX:
            return self.from_op_indices(text[len(OP_PREFIX) :].strip())
        if text.lstrip("-").isdigit():
            if len(text) > 1 and text.startswith("0"):
                raise InvalidArchitectureError(
                    f"architecture {text!r} is zero-padded: write {int(text)} for the index, or "
                    f"'{OP_PREFIX}{text}' for NASLib op_indices"
                )
            value = int(text)
            if not 0 <= value < self.size and self._looks_like_op_indices(text):
                raise InvalidArchitectureError(
                    f"architecture index {value} is out of range for {self.name}; allowed: "
                    f"0..{self.size - 1} (for NASLib op_indices write '{OP_PREFIX}{text}')"
                )
            return self.index(value)
        if _is_number(text):
            raise InvalidArchitectureError(
                f"architecture {text!r} is not an integer; an index must be an integer "
                f"0..{self.size - 1}"
            )
        return self.parse(text)

    def indices(self, archs: Sequence[ArchLike] | np.ndarray) -> np.ndarray:
        """Vectorised :meth:`index`: an int64 array, validated in one pass for integer input.

        Each element may be any form :meth:`index` takes, op_indices tuples included (so a list
        of tuples is one architecture per tuple, not a 2-D array of indices).
        """
        if isinstance(archs, (list, tuple)) and any(isinstance(a, (list, tuple)) for a in archs):
            return np.array([self.index(a) for a in archs], dtype=np.int64)
        arr = np.asarray(archs)
        if arr.dtype.kind in "iu":
            arr = arr.astype(np.int64, copy=False)
            if arr.size and (arr.min() < 0 or arr.max() >= self.size):
                bad = arr[(arr < 0) | (arr >= self.size)][0]
                raise InvalidArchitectureError(
                    f"architecture index {int(bad)} is out of range for {self.name}; "
                    f"allowed: 0..{self.size - 1}"
                )
            return arr
        return np.array([self.index(a) for a in arr.ravel()], dtype=np.int64).reshape(arr.shape)

    def _looks_like_op_indices(self, text: str) -> bool:
        """Whether a digit string has the shape of NASLib op_indices (only to suggest the
        ``op:`` form in an error; overridden)."""
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {self.size} architectures>"
