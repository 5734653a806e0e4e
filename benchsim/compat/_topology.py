"""The NAS-Bench-201 / NATS-Bench topology API, answered through the backend contract.

:class:`TopologyAPI` holds what the two official APIs share (``nats_bench``'s
``NATStopology`` and ``nas_201_api``'s ``NASBench201API`` differ in a few signatures; see
:mod:`benchsim.compat.nats` and :mod:`benchsim.compat.nb201`).  Every answer is a
:meth:`~benchsim.backends.base.Benchmark.query` of a benchmark opened by name, so a table
imported from the official files answers what the installed ``nb201`` table cannot (every
epoch, every seed, ``hp='12'``), and another backend may answer too.

How an official call becomes a query:

* ``dataset`` and the set names map to benchsim tasks and metrics (:mod:`._views`);
* ``hp`` ``"200"`` is the task's standard schedule, ``"12"`` the separate 12-epoch schedule
  (``schedule=12``, not epoch 12 of the 200-epoch run); ``iepoch`` is the 0-based ``epoch``;
* ``is_random``: ``True`` draws one recorded training seed with the benchmark's generator
  (``seed="sample"``), ``False`` is the seed mean, an int is that recorded seed (as the table
  numbers them: 0, 1, 2 on ``nb201``; 777, 888, 999 on an import of the official files);
* a value the data does not hold is absent from the returned dict and raises
  :class:`~benchsim.errors.UnavailableError` when read, unless an opted-in emulation answers it
  (:mod:`._config`), labelled.

Randomness: the benchmark's generator (``seed="sample"`` draws) is seeded once from the
shim's seed, and :attr:`TopologyAPI.rng_` (``random()``) from the same seed; a script's own
``random.seed`` / ``np.random.seed`` drive the script's choices and do not touch either, so a
run is reproducible from (the script's seed, the shim's seed).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from benchsim.compat._answers import AnswersMixin, Call, check_hp
from benchsim.compat._config import CompatRecord, CompatSettings
from benchsim.compat._fetch import Fetcher
from benchsim.compat._report import ReportMixin
from benchsim.compat._views import HP_EPOCHS, view
from benchsim.compat.records import ArchResults
from benchsim.errors import (
    ConfigError,
    InvalidArchitectureError,
    UnavailableError,
    UnknownNameError,
)


class ArchIndexError(InvalidArchitectureError, IndexError):
    """An index past the end (also an ``IndexError``, so ``for arch in api`` ends there)."""


_NO_RECORDS = (
    "benchsim holds metric tables, not the official in-memory records or trained weights; "
    "query_meta_info_by_index / query_by_index give views of the records, get_more_info / "
    "get_cost_info answer from the tables"
)


class TopologyAPI(AnswersMixin, ReportMixin):
    """Shared implementation of the NB201 / NATS topology APIs (module docstring).

    Parameters
    ----------
    file_path_or_dict
        The official file or directory, accepted (and not read) so that scripts run
        unchanged: benchsim answers from its own tables; import the official files with
        ``benchsim data import`` and pass ``benchmark=`` to use them.  A dict (data the caller
        loaded) is refused.
    fast_mode, verbose
        As the official API; ``verbose`` prints one line saying what answers.
    benchmark, seed, emulate
        See :class:`~benchsim.compat._config.CompatSettings` (arguments, else
        ``BENCHSIM_COMPAT_*``, else ``nb201``, 0, none).

    Attributes
    ----------
    bench
        The benchsim benchmark answering.
    rng_
        Generator behind :meth:`random`.
    record_
        :class:`~benchsim.compat._config.CompatRecord` of this API.
    """

    _metric_format = "loss = {loss} & top1 = {acc}"

    def __init__(
        self,
        file_path_or_dict: str | os.PathLike[str] | None = None,
        fast_mode: bool = False,
        verbose: bool = True,
        *,
        benchmark: str | None = None,
        seed: int | None = None,
        emulate: str | list[str] | None = None,
    ) -> None:
        import benchsim

        name = type(self).__name__
        if isinstance(file_path_or_dict, Mapping):
            raise ConfigError(
                f"{name}(file_path_or_dict=<dict>): benchsim answers from its own tables, not "
                "from data the caller loaded; pass None or the official path, or import the "
                "official files with `benchsim data import`"
            )
        if file_path_or_dict is not None and not isinstance(file_path_or_dict, (str, os.PathLike)):
            raise ConfigError(
                f"{name}: file_path_or_dict == {file_path_or_dict!r}, must be None or a path"
            )
        self.settings = CompatSettings.resolve(
            "nb201", benchmark=benchmark, seed=seed, emulate=emulate
        )
        self.bench = benchsim.benchmark(self.settings.benchmark, seed=self.settings.seed)
        if self.bench.space.name != "nb201":
            raise ConfigError(
                f"benchmark {self.settings.benchmark!r} is over space {self.bench.space.name!r}; "
                "the NAS-Bench-201 / NATS-Bench topology API needs an nb201-space benchmark"
            )
        self.space, self.size = self.bench.space, self.bench.space.size
        path = file_path_or_dict
        self.filename = None if path is None else os.path.basename(os.fspath(path))
        self.verbose, self._fast_mode, self._archive_dir = verbose, fast_mode, None
        self._full_train_epochs = 200
        self._used_time = 0.0
        self.rng_ = np.random.default_rng([self.settings.seed, 1])
        self.record_ = CompatRecord(name, self.settings)
        self._fetch = Fetcher(self.bench)
        self._plans: dict[tuple, tuple] = {}
        self._curve_trials: dict[tuple, bool] = {}
        if verbose:
            print(
                f"benchsim.compat: {name} answered by {self.settings.describe()}", file=sys.stderr
            )

    # ------------------------------------------------------------------ official attributes
    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.size}/{self.size} architectures, "
            f"fast_mode={self._fast_mode}, file={self.filename}) [{self.settings.describe()}]"
        )

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> str:
        if isinstance(index, (int, np.integer)) and not isinstance(index, (bool, np.bool_)):
            if 0 <= index < self.size:
                return self.space.format(int(index))
            raise ArchIndexError(
                f"architecture index {index} is out of range; allowed: 0..{self.size - 1}"
            )
        raise InvalidArchitectureError(f"index == {index!r}, must be an int 0..{self.size - 1}")

    def arch(self, index: int) -> str:
        """The official string of the ``index``-th architecture."""
        return self[index]

    @property
    def meta_archs(self) -> list[str]:
        """Every architecture string, in the official order."""
        return [self.space.format(i) for i in range(self.size)]

    @property
    def archstr2index(self) -> dict[str, int]:
        """Architecture string -> index."""
        return {arch: i for i, arch in enumerate(self.meta_archs)}

    @property
    def evaluated_indexes(self) -> set[int]:
        """Every index: the tables cover the whole space."""
        return set(range(self.size))

    @property
    def avaliable_hps(self) -> list[str]:  # sic: the official spelling
        """The ``hp`` values, ``["12", "200"]``."""
        return list(HP_EPOCHS)

    @property
    def used_time(self) -> float:
        """Seconds charged by :meth:`simulate_train_eval` since :meth:`reset_time`."""
        return self._used_time

    @property
    def search_space_name(self) -> str:
        return "topology"

    @property
    def fast_mode(self) -> bool:
        return self._fast_mode

    @property
    def archive_dir(self) -> str | None:
        return self._archive_dir

    @property
    def full_train_epochs(self) -> int:
        """Epochs of the full schedule (200)."""
        return self._full_train_epochs

    @property
    def full_epochs_in_paper(self) -> int:
        return 200

    @property
    def is_topology(self) -> bool:
        return True

    @property
    def is_size(self) -> bool:
        return False

    def reset_time(self) -> None:
        """Set :attr:`used_time` back to 0 (a search script calls it once per run)."""
        self._used_time = 0.0

    def reset_fast_mode(self, fast_mode: bool) -> None:
        self._fast_mode = fast_mode

    def reset_archive_dir(self, archive_dir: str | None) -> None:
        self._archive_dir = archive_dir

    def clear_params(self, index: int, hp: str | None = None) -> None:
        """Nothing to free: benchsim holds no trained weights (the official call frees them)."""

    def compat_record(self) -> dict[str, object]:
        """What answers this API and how many answers each emulation gave (JSON-ready)."""
        return self.record_.to_dict()

    def random(self) -> int:
        """A random architecture index, drawn with :attr:`rng_`."""
        return int(self.rng_.integers(self.size))

    # ------------------------------------------------------------------ architectures
    def _index(self, arch: Any, call: Call | str) -> int:
        if type(arch) is int and 0 <= arch < self.size:
            return arch
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, (bool, np.bool_)):
            return self.space.index(int(arch))
        if isinstance(arch, str):
            return self.space.parse(arch)
        if hasattr(arch, "tostr"):
            return self.space.parse(arch.tostr())
        raise InvalidArchitectureError(
            f"{call}: architecture {arch!r} has type {type(arch).__name__}; give an index "
            f"0..{self.size - 1}, an architecture string, or an object with tostr()"
        )

    def query_index_by_arch(self, arch: Any) -> int:
        """Index of ``arch`` (an index, a string, or an object with ``tostr()``).

        As the official API: a string or object that is no architecture of the space gives
        -1 (documented there as "not in the search space"); an int out of range raises.
        """
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, (bool, np.bool_)):
            return self.space.index(int(arch))
        text = arch if isinstance(arch, str) else arch.tostr() if hasattr(arch, "tostr") else None
        if not isinstance(text, str):
            return -1
        try:
            return self.space.parse(text)
        except InvalidArchitectureError:
            return -1

    def get_unique_str(self, arch: Any) -> str:
        """Isomorphism-invariant string of ``arch`` (``to_unique_str(consider_zero=True)``)."""
        return self.space.unique_str(self._index(arch, "get_unique_str"))

    @staticmethod
    def str2lists(arch_str: str) -> list[tuple[tuple[str, int], ...]]:
        """``|op~0|+|op~0|op~1|+...`` as one tuple of ``(op, input node)`` per node."""
        nodes = []
        for node in arch_str.split("+"):
            edges = [edge for edge in node.split("|") if edge]
            if any(edge.count("~") != 1 for edge in edges):
                raise InvalidArchitectureError(f"{node!r} of {arch_str!r} is not '|op~input|...'")
            nodes.append(tuple((op, int(src)) for op, src in (e.split("~") for e in edges)))
        return nodes

    @staticmethod
    def str2matrix(
        arch_str: str,
        search_space: tuple[str, ...] = (
            "none",
            "skip_connect",
            "nor_conv_1x1",
            "nor_conv_3x3",
            "avg_pool_3x3",
        ),
    ) -> np.ndarray:
        """Lower-triangular op matrix: ``m[j, i]`` = position in ``search_space`` of the op
        on edge ``i -> j``."""
        nodes = TopologyAPI.str2lists(arch_str)
        matrix = np.zeros((len(nodes) + 1, len(nodes) + 1))
        for target, edges in enumerate(nodes, start=1):
            for op, source in edges:
                if op not in search_space:
                    raise UnknownNameError("op", op, search_space, f"in {arch_str!r}")
                matrix[target, source] = search_space.index(op)
        return matrix

    # ------------------------------------------------------------------ records
    def query_meta_info_by_index(self, arch_index: int, hp: str = "12") -> ArchResults:
        """The official ``ArchResults`` of architecture ``arch_index`` under ``hp``: a view
        whose ``get_metrics(dataset, setname)`` / ``get_compute_costs(dataset)`` answer from
        the tables (:mod:`benchsim.compat.records`)."""
        call = Call("query_meta_info_by_index", {"arch_index": arch_index, "hp": hp})
        index = self._index(arch_index, call)
        key, _ = check_hp(hp, call)
        return ArchResults(self, index, key, str(call))

    def query_by_index(self, arch_index: int, dataname: str | None = None, hp: str = "12") -> Any:
        """``query_meta_info_by_index(arch_index, hp)``, or with ``dataname`` the
        ``{seed: ResultsCount}`` of that dataset's recorded training runs."""
        call = Call("query_by_index", {"arch_index": arch_index, "dataname": dataname, "hp": hp})
        index = self._index(arch_index, call)
        key, _ = check_hp(hp, call)
        info = ArchResults(self, index, key, str(call))
        if dataname is None:
            return info
        view(dataname, str(call))
        return info.query(dataname)

    def statistics(self, dataset: str, hp: str | int) -> dict[int, int]:
        """``{number of recorded training runs: number of architectures}`` on ``dataset``
        (the official count of trials); raises for a dataset recorded by its seed mean only."""
        call = Call("statistics", {"dataset": dataset, "hp": hp})
        v = view(dataset, str(call))
        key, _ = check_hp(hp, call)
        counts: dict[int, int] = {}
        for index in range(self.size):
            n = len(ArchResults(self, index, key, str(call))._seeds(v))
            counts[n] = counts.get(n, 0) + 1
        if set(counts) == {0}:
            raise UnavailableError(
                f"{call}: {dataset} (hp={key!r}) is recorded as the mean of its training runs "
                "only, so the runs cannot be counted"
            )
        return dict(sorted(counts.items()))

    @property
    def arch2infos_dict(self) -> Any:
        """Raises: the official in-memory records are not what benchsim holds."""
        raise self._no_records("arch2infos_dict")

    @property
    def arch2infos_full(self) -> Any:
        """Raises (the NAS-Bench-201 v1.0 name of the records)."""
        raise self._no_records("arch2infos_full")

    @property
    def arch2infos_less(self) -> Any:
        """Raises (the NAS-Bench-201 v1.0 name of the 12-epoch records)."""
        raise self._no_records("arch2infos_less")

    def reload(self, archive_root: str | None = None, index: int | None = None) -> None:
        """Nothing to load: benchsim answers from its installed tables (the official call
        loads archive files into memory); to answer from the official files, import them
        (``benchsim data import``) and pass ``benchmark=``."""

    # ------------------------------------------------------------------ not in the data
    def _no_records(self, call: str) -> UnavailableError:
        return UnavailableError(f"{call}: {_NO_RECORDS}")

    def get_net_param(self, index: int, dataset: str, seed: int | None, hp: str = "12") -> Any:
        """Raises: benchsim holds no trained weights."""
        raise self._no_records(
            f"get_net_param(index={index!r}, dataset={dataset!r}, seed={seed!r}, hp={hp!r})"
        )
