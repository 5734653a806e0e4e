"""TransNAS-Bench-101 macro (network-level) space: 3,256 networks of 4 to 6 residual modules.

A network is written ``64-<digits>-basic``: stem width 64, one digit per module, ``basic`` the
ResNet basic block every module uses.  Module digits: 1 normal, 2 doubles the channels,
3 halves the resolution, 4 both.  A member has 4 to 6 modules, doubles the channels 1 to 3 times
and halves the resolution 1 to 4 times; all 3,256 such digit strings are in the space.

Index order is the official row order that NASGraph's TransNAS-Bench-101 export uses::

    for L in (4, 5, 6): for n_c in (1, 2, 3): for n_d in (1, 2, 3, 4):
        for c in combinations(range(L), n_c): for d in combinations(range(L), n_d):
            module i's digit = 1 + (i in c) + 2 * (i in d)

NASLib's op_indices for this space are the module digits (``"1114"`` for ``64-1114-basic``;
NASLib pads them with trailing zeros to six internally, which :meth:`from_op_indices` accepts).
Because a 4-digit string is also an index (0..3255), :meth:`SearchSpace.index` reads 5- and
6-digit strings as op_indices and 4-digit strings as indices: pass a 4-module network's
op_indices zero-padded (``"111400"``), as a sequence, or to :meth:`from_op_indices`.

Example
-------
>>> from benchsim.spaces import get_space
>>> space = get_space("tnb101-macro")
>>> space.format(0)
'64-4111-basic'
>>> space.index("op:111400") == space.parse("64-1114-basic")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from benchsim.errors import InvalidArchitectureError
from benchsim.spaces import register_space
from benchsim.spaces._base import SearchSpace
from benchsim.spaces._cell import int_tuple, show

if TYPE_CHECKING:  # networkx costs ~120 ms to import: only graph users pay for it
    import networkx as nx


MACRO_OPS: tuple[str, ...] = ("1", "2", "3", "4")
MODULE_NAMES: dict[int, str] = {
    1: "normal",
    2: "channel_x2",
    3: "downsample",
    4: "channel_x2_downsample",
}
MIN_MODULES, MAX_MODULES = 4, 6
CHANNEL_DOUBLINGS = (1, 3)
DOWNSAMPLINGS = (1, 4)
_LEGEND = "1 normal, 2 channels x2, 3 resolution /2, 4 both"
_TEMPLATE = "64-<4 to 6 digits 1-4>-basic"


def enumerate_networks() -> list[tuple[int, ...]]:
    """Module digits of every network, in official index order (see the module docstring)."""
    networks = []
    for length in range(MIN_MODULES, MAX_MODULES + 1):
        for n_c in range(CHANNEL_DOUBLINGS[0], CHANNEL_DOUBLINGS[1] + 1):
            for n_d in range(DOWNSAMPLINGS[0], DOWNSAMPLINGS[1] + 1):
                for c in combinations(range(length), n_c):
                    for d in combinations(range(length), n_d):
                        networks.append(tuple(1 + (i in c) + 2 * (i in d) for i in range(length)))
    return networks


def check_modules(modules: Sequence[int], shown: str) -> None:
    """Raise :class:`InvalidArchitectureError` unless ``modules`` is a member's digit tuple.

    ``shown`` is how the user wrote the network, quoted in the message.
    """
    if not MIN_MODULES <= len(modules) <= MAX_MODULES:
        raise InvalidArchitectureError(
            f"tnb101-macro network {shown} has {len(modules)} modules; "
            f"allowed {MIN_MODULES} to {MAX_MODULES}"
        )
    for digit in modules:
        if digit not in MODULE_NAMES:
            raise InvalidArchitectureError(
                f"module {show(digit)} in tnb101-macro network {shown} is not a module type; "
                f"allowed: {_LEGEND}"
            )
    n_c = sum(d in (2, 4) for d in modules)
    if not CHANNEL_DOUBLINGS[0] <= n_c <= CHANNEL_DOUBLINGS[1]:
        raise InvalidArchitectureError(
            f"tnb101-macro network {shown} doubles the channels {n_c} times (digits 2 and 4); "
            f"allowed {CHANNEL_DOUBLINGS[0]} to {CHANNEL_DOUBLINGS[1]}"
        )
    n_d = sum(d in (3, 4) for d in modules)
    if not DOWNSAMPLINGS[0] <= n_d <= DOWNSAMPLINGS[1]:
        raise InvalidArchitectureError(
            f"tnb101-macro network {shown} halves the resolution {n_d} times (digits 3 and 4); "
            f"allowed {DOWNSAMPLINGS[0]} to {DOWNSAMPLINGS[1]}"
        )


@register_space("tnb101-macro")
class TNB101MacroSpace(SearchSpace):
    """The TransNAS-Bench-101 macro space (see the module docstring).

    Its genes are the module digits (:meth:`modules`), of variable length.  For fixed-length
    consumers there are six *slots*: slot ``k`` holds module ``k``'s digit, or 0 when the
    network has fewer than ``k + 1`` modules; decisions and encodings use the slots.
    """

    name = "tnb101-macro"
    ops = MACRO_OPS
    size = 3256
    decisions = (len(MACRO_OPS) + 1,) * MAX_MODULES

    # ------------------------------------------------------------------ lookup tables
    @cached_property
    def _modules(self) -> list[tuple[int, ...]]:
        return enumerate_networks()

    @cached_property
    def _index_of_modules(self) -> dict[tuple[int, ...], int]:
        return {m: i for i, m in enumerate(self._modules)}

    @cached_property
    def _strings(self) -> list[str]:
        return ["64-{}-basic".format("".join(map(str, m))) for m in self._modules]

    @cached_property
    def _index_of_string(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self._strings)}

    @cached_property
    def _slots(self) -> np.ndarray:
        slots = np.zeros((self.size, MAX_MODULES), dtype=np.uint8)
        for i, m in enumerate(self._modules):
            slots[i, : len(m)] = m
        slots.setflags(write=False)
        return slots

    # ------------------------------------------------------------------ modules
    def modules(self, index: int) -> tuple[int, ...]:
        """Module digits (1..4) of an index, input side first."""
        return self._modules[self.index(index)]

    def _from_slots(self, values: tuple[int, ...], shown: str, what: str) -> int:
        """Index of digits padded with trailing zeros (no module); zeros only at the end."""
        modules = list(values)
        while modules and modules[-1] == 0:
            modules.pop()
        if 0 in modules:
            raise InvalidArchitectureError(
                f"{what} {shown} for tnb101-macro has 0 (no module) before a module; "
                f"empty slots must all be at the end"
            )
        check_modules(modules, shown)
        return self._index_of_modules[tuple(modules)]

    # ------------------------------------------------------------------ string forms
    def parse(self, text: str) -> int:
        """Index of ``64-<digits>-basic`` (fast dict lookup; a full parse explains failures)."""
        if not isinstance(text, str):
            raise InvalidArchitectureError(
                f"architecture {show(text)} has type {type(text).__name__}; "
                f"give a tnb101-macro string like {_TEMPLATE!r}"
            )
        text = text.strip()
        found = self._index_of_string.get(text)
        if found is not None:
            return found
        parts = text.split("-")
        if len(parts) != 3 or parts[0] != "64" or parts[2] != "basic":
            hint = " (that is a tnb101-micro string)" if "_" in text else ""
            raise InvalidArchitectureError(
                f"tnb101-macro string {show(text)} is not of the form {_TEMPLATE!r}{hint}"
            )
        digits = parts[1]
        for char in digits:
            if char not in "1234":
                raise InvalidArchitectureError(
                    f"module {show(char)} in tnb101-macro string {show(text)} is not a module "
                    f"type; allowed: {_LEGEND}"
                )
        modules = tuple(int(c) for c in digits)
        check_modules(modules, show(text))
        return self._index_of_modules[modules]

    def format(self, index: int) -> str:
        """Official string ``64-<digits>-basic`` of an index."""
        return self._strings[self.index(index)]

    def to_op_indices(self, index: int) -> str:
        """NASLib op_indices: the module digits, unpadded (``"1114"``)."""
        return "".join(map(str, self._modules[self.index(index)]))

    def from_op_indices(self, op_indices: str | Sequence[int]) -> int:
        """Index of module digits given as a string or ints, optionally zero-padded to six."""
        if isinstance(op_indices, str):
            text = op_indices.strip()
            if not (text.isascii() and text.isdigit()) or len(text) > MAX_MODULES:
                raise InvalidArchitectureError(
                    f"op_indices {show(op_indices)} for tnb101-macro must be {MIN_MODULES} to "
                    f"{MAX_MODULES} module digits ({_LEGEND}), optionally zero-padded to six"
                )
            values = tuple(int(c) for c in text)
        else:
            if not isinstance(op_indices, (Sequence, np.ndarray)) or not (
                0 < len(op_indices) <= MAX_MODULES
            ):
                raise InvalidArchitectureError(
                    f"op_indices {show(op_indices)} for tnb101-macro must be {MIN_MODULES} to "
                    f"{MAX_MODULES} module digits ({_LEGEND}), optionally zero-padded to six"
                )
            values = int_tuple(op_indices, "op_indices", len(op_indices), self.name)
        return self._from_slots(values, show(op_indices), "op_indices")

    def _looks_like_op_indices(self, text: str) -> bool:
        """5 or 6 ASCII digits: the shape of NASLib op_indices (no index has more than 4)."""
        return len(text) in (5, 6) and text.isascii() and text.isdigit()

    # ------------------------------------------------------------------ decisions
    def to_decisions(self, index: int) -> tuple[int, ...]:
        """The six slots: module digits, then 0 for each absent module."""
        return tuple(self._slots[self.index(index)].tolist())

    def from_decisions(self, choices: Sequence[int]) -> int:
        """Index of six slot choices; raises unless empty slots trail and the net is a member."""
        values = int_tuple(choices, "decisions", MAX_MODULES, self.name)
        for value in values:
            if not 0 <= value <= len(MACRO_OPS):
                raise InvalidArchitectureError(
                    f"decisions {values} for tnb101-macro contain {value}; allowed 0 (no "
                    f"module) or {_LEGEND}"
                )
        return self._from_slots(values, str(values), "decisions")

    # ------------------------------------------------------------------ variation
    def neighbours(self, index: int) -> np.ndarray:
        """Members one edit away: insert a module, delete one, or change one's type.

        The three edits of TransNAS-Bench-101's macro space; edits that leave the space (too
        few/many modules or channel doublings/downsamplings) are dropped.
        """
        modules = self._modules[self.index(index)]
        found = set()
        for pos in range(len(modules) + 1):
            for digit in MODULE_NAMES:
                found.add((*modules[:pos], digit, *modules[pos:]))
        for pos in range(len(modules)):
            found.add(modules[:pos] + modules[pos + 1 :])
            for digit in MODULE_NAMES:
                found.add((*modules[:pos], digit, *modules[pos + 1 :]))
        found.discard(modules)
        lookup = self._index_of_modules
        return np.array(sorted(lookup[m] for m in found if m in lookup), dtype=np.int64)

    def crossover(self, a: int, b: int, rng: np.random.Generator) -> tuple[int, int]:
        """Position-aligned uniform crossover of the module digits.

        Over the shorter parent's length each position comes from ``a`` or ``b`` with
        probability 0.5 (the children are complementary); the longer parent's extra modules
        (its tail) go to one child drawn at random.  A child outside the space (e.g. with no
        downsampling left) is replaced by a copy of its parent: the first child by ``a``, the
        second by ``b``.
        """
        mods_a, mods_b = self.modules(a), self.modules(b)
        short = min(len(mods_a), len(mods_b))
        take_a = rng.random(short) < 0.5
        tail_to_first = rng.random() < 0.5
        pairs = list(zip(mods_a[:short], mods_b[:short], take_a.tolist(), strict=True))
        head_1 = tuple(x if t else y for x, y, t in pairs)
        head_2 = tuple(y if t else x for x, y, t in pairs)
        tail = mods_a[short:] + mods_b[short:]  # at most one of them is non-empty
        child_1 = head_1 + tail if tail_to_first else head_1
        child_2 = head_2 if tail_to_first else head_2 + tail
        lookup = self._index_of_modules
        return lookup.get(child_1, self.index(a)), lookup.get(child_2, self.index(b))

    # ------------------------------------------------------------------ representations
    def to_graph(self, index: int) -> nx.DiGraph:
        """A chain: node 0 is the stem's output, node ``k`` module ``k``'s output.

        Node ``k >= 1`` has ``op`` (its digit as a string, one of ``ops``) and ``module`` (its
        name in :data:`MODULE_NAMES`); node 0 has ``op="input"``.  Edge ``(k-1, k)`` carries
        module ``k``'s ``op`` too, so edge-labelled graph methods work as on the cell spaces.
        ``graph.graph`` holds ``space``, ``index`` and ``arch``.
        """
        idx = self.index(index)
        import networkx as nx

        graph = nx.DiGraph(space=self.name, index=idx, arch=self._strings[idx])
        graph.add_node(0, op="input", module="stem")
        for k, digit in enumerate(self._modules[idx], start=1):
            graph.add_node(k, op=str(digit), module=MODULE_NAMES[digit])
            graph.add_edge(k - 1, k, op=str(digit))
        return graph

    def encode(self, indices: int | np.ndarray) -> np.ndarray:
        """One-hot of each of the six slots over (no module, 1, 2, 3, 4): 30 float32 values."""
        eye = np.eye(len(MACRO_OPS) + 1, dtype=np.float32)
        if np.ndim(indices) == 0 and not isinstance(indices, np.ndarray):
            return eye[self._slots[self.index(indices)]].reshape(-1)
        idx = self.indices(indices)
        return eye[self._slots[idx]].reshape(*idx.shape, self.encoding_size)

    @property
    def encoding_size(self) -> int:
        """``6 * 5``."""
        return MAX_MODULES * (len(MACRO_OPS) + 1)
