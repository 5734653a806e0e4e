"""A drop-in ``TransNASBenchAPI`` (TransNAS-Bench-101's official API), answered by benchsim.

The official class (yawen-d/TransNASBench ``api/api.py``, also vendored by NASLib) reads
``transnas-bench_v10141024.pth``; this one answers from benchsim's ``tnb101-macro`` and
``tnb101-micro`` tables (or tables imported from that file, ``benchmarks=``)::

    from benchsim.compat.tnb101 import TransNASBenchAPI
    api = TransNASBenchAPI()                       # no file needed
    api.get_single_metric("64-41414-1_02_333", "class_object", "valid_top1", mode="best")

As in the official file, architectures are indexed macro first (3,256), then micro (4,096),
each space in its official order.  benchsim's installed tables hold each metric's best value
over epochs (the official ``mode="best"``), the final epoch of the validation metric NASLib
exported and the (cumulative) training time, so ``mode="final"`` answers those two and NASLib's
own queries (``get_single_metric(..., mode='final')``); what else needs per-epoch values raises
unless the tables hold them (an import of the official file does) or the caller opts into the
labelled ``best-as-final`` emulation.  Losses and model information (FLOPs, parameters,
inference time) are not held and raise.  See :mod:`._tnb101_values` for where each value
comes from.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from benchsim.compat._answers import Call
from benchsim.compat._config import CompatRecord, CompatSettings
from benchsim.compat._info import CompatInfo
from benchsim.compat._tnb101_values import (
    INFO_NAMES,
    METRICS_DICT,
    NO_CURVES,
    NO_MODEL_INFO,
    RENAMED,
    TASK_LIST,
    ArchResult,
    Values,
    final_note,
)
from benchsim.errors import (
    ConfigError,
    FidelityError,
    InvalidArchitectureError,
    UnavailableError,
    UnknownNameError,
)

__all__ = ["INFO_NAMES", "METRICS_DICT", "TASK_LIST", "TransNASBenchAPI"]

SEARCH_SPACES = ["macro", "micro"]


class TransNASBenchAPI:
    """The official TransNAS-Bench-101 API over benchsim tables (module docstring).

    Parameters
    ----------
    database_path
        The official ``.pth``, accepted and not read: benchsim answers from its tables.
    verbose
        Print one line saying what answers.
    benchmarks
        ``(macro, micro)`` benchmark names (default ``("tnb101-macro", "tnb101-micro")``).
    seed
        Seed of the benchmarks' generators (TNB101 trains each architecture once, so no
        answer here is random).
    emulate
        Opted-in emulations (:data:`~benchsim.compat.EMULATIONS`; ``None``: from
        ``$BENCHSIM_COMPAT_EMULATE``); ``best-as-final`` is the one this API uses.
    """

    def __init__(
        self,
        database_path: str | None = None,
        verbose: bool = False,
        *,
        benchmarks: tuple[str, str] = ("tnb101-macro", "tnb101-micro"),
        seed: int | None = None,
        emulate: str | list[str] | None = None,
    ) -> None:
        import benchsim

        if not (isinstance(benchmarks, (tuple, list)) and len(benchmarks) == 2):
            raise ConfigError(f"benchmarks == {benchmarks!r}, must be (macro name, micro name)")
        pair = f"{benchmarks[0]}+{benchmarks[1]}"
        self.settings = CompatSettings.resolve(pair, benchmark=pair, seed=seed, emulate=emulate)
        self.benches = {
            ss: benchsim.benchmark(name, seed=self.settings.seed)
            for ss, name in zip(SEARCH_SPACES, benchmarks, strict=True)
        }
        for ss, bench in self.benches.items():
            if bench.space.name != f"tnb101-{ss}":
                raise ConfigError(
                    f"benchmark {bench.name!r} is over space {bench.space.name!r}; the {ss} "
                    f"entry of benchmarks needs a tnb101-{ss} benchmark"
                )
            lacking = [t for t in TASK_LIST if t not in bench.tasks]
            if lacking:
                raise ConfigError(f"benchmark {bench.name!r} lacks tasks {lacking}")
        self.database_path, self.verbose = database_path, verbose
        self.task_list = list(TASK_LIST)
        self.metrics_dict = {t: list(m) for t, m in METRICS_DICT.items()}
        self.info_names = list(INFO_NAMES)
        self.search_spaces = list(SEARCH_SPACES)
        self._offset = {"macro": 0, "micro": self.benches["macro"].space.size}
        self._size = self._offset["micro"] + self.benches["micro"].space.size
        self.record_ = CompatRecord(type(self).__name__, self.settings)
        self._values = {
            ss: Values(bench, self.settings.emulate, self.record_.note)
            for ss, bench in self.benches.items()
        }
        if verbose:
            names = ", ".join(b.name for b in self.benches.values())
            print(
                f"benchsim.compat: TransNASBenchAPI answered by benchsim {names}", file=sys.stderr
            )

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        names = ", ".join(b.name for b in self.benches.values())
        return (
            f"{type(self).__name__}({self._size} architectures/{len(self.task_list)} tasks) "
            f"[benchsim {names}]"
        )

    @property
    def all_arch_dict(self) -> dict[str, list[str]]:
        """Search space -> its architecture strings, in the official order."""
        return {ss: self.get_arch_list(ss) for ss in SEARCH_SPACES}

    # ------------------------------------------------------------------ architectures
    def index2arch(self, index: int) -> str:
        """The architecture string at official ``index`` (macro first, then micro)."""
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise InvalidArchitectureError(f"index == {index!r}, must be an int")
        index = int(index) + (self._size if index < 0 else 0)
        if not 0 <= index < self._size:
            raise InvalidArchitectureError(
                f"index {index} is out of range; allowed: 0..{self._size - 1}"
            )
        ss = "macro" if index < self._offset["micro"] else "micro"
        return self.benches[ss].space.format(index - self._offset[ss])

    def arch2index(self, arch: str) -> int:
        """The official index of ``arch``."""
        ss, index = self._locate(arch, "arch2index")
        return self._offset[ss] + index

    def _locate(self, arch: Any, call: str) -> tuple[str, int]:
        if isinstance(arch, str):
            ss = "macro" if arch.endswith("-basic") else "micro"
            try:
                return ss, self.benches[ss].space.parse(arch)
            except InvalidArchitectureError as err:
                raise InvalidArchitectureError(f"{call}: {err}") from None
        raise InvalidArchitectureError(
            f"{call}: architecture {arch!r} has type {type(arch).__name__}; give a TNB101 "
            "string such as '64-41414-1_02_333' (micro) or '64-1234-basic' (macro)"
        )

    def get_arch_list(self, search_space: str) -> list[str]:
        """Every architecture string of ``search_space`` (``"macro"`` or ``"micro"``)."""
        if search_space not in SEARCH_SPACES:
            raise UnknownNameError("search space", search_space, SEARCH_SPACES, "in get_arch_list")
        space = self.benches[search_space].space
        return [space.format(i) for i in range(space.size)]

    # ------------------------------------------------------------------ metrics
    def _metric(self, task: str, metric: str, call: object) -> str:
        if task not in METRICS_DICT:
            raise UnknownNameError("task", task, TASK_LIST, f"in {call}")
        if metric not in METRICS_DICT[task]:
            raise UnknownNameError(
                "metric", metric, METRICS_DICT[task], f"for task {task} in {call}"
            )
        return RENAMED.get(metric, metric)

    def _task(self, task: str, call: object) -> None:
        if task not in METRICS_DICT:
            raise UnknownNameError("task", task, TASK_LIST, f"in {call}")

    def _held(self, bench: Any, task: str) -> list[str]:
        metrics = bench.task_info(task).metrics
        return [m for m in METRICS_DICT[task] if RENAMED.get(m, m) in metrics]

    def _unheld(self, bench: Any, task: str, metric: str, call: object) -> UnavailableError | None:
        if RENAMED.get(metric, metric) in bench.task_info(task).metrics:
            return None
        return UnavailableError(
            f"{call}: metric {metric!r} is not in benchsim's data (the public TNB101 exports "
            f"keep no usable losses); metrics held for {task}: "
            f"{', '.join(self._held(bench, task))}"
        )

    def _single(self, arch: str, task: str, metric: str, mode: Any, call: object) -> Any:
        """``get_single_metric`` named ``call`` in its errors (also read by the records)."""
        ss, index = self._locate(arch, call)
        ours = self._metric(task, metric, call)
        values = self._values[ss]
        if mode == "best" and type(mode) is str:  # the common call: one query, checks on failure
            try:
                value = values.bench.query(index, task, ours).value
            except (UnknownNameError, FidelityError):
                value = float("nan")
            if value == value:
                return value
        unheld = self._unheld(values.bench, task, metric, call)
        if unheld is not None:
            raise unheld
        epochs = values.epochs(task)
        if isinstance(mode, str):
            if mode == "best":
                return values.best(index, task, metric, call)
            if mode == "final":
                return values.at(index, task, metric, epochs - 1, call)
            if mode == "list":
                return values.curve(index, task, metric, call)
        elif isinstance(mode, (int, np.integer)) and not isinstance(mode, (bool, np.bool_)):
            if not -epochs <= mode < epochs:
                raise ConfigError(
                    f"{call}: mode == {mode}, an epoch must be < total epoch {epochs} for task "
                    f"{task}"
                )
            return values.at(index, task, metric, int(mode) % epochs, call)
        raise ConfigError(
            f"{call}: mode == {mode!r}, must be 'final', 'best', 'list' or an epoch number"
        )

    def get_single_metric(
        self, arch: str, task: str, metric: str, mode: str | int = "best", xseed: int | None = None
    ) -> Any:
        """One metric of ``arch`` on ``task`` by the official ``mode``: ``"best"`` (held for
        every non-loss metric), ``"final"`` (held for NASLib's validation metric and
        ``time_elapsed``; the rest from curves where the tables hold them, else raises, or
        the best value with ``emulate='best-as-final'``), ``"list"`` or an epoch (curves).
        ``xseed`` is ignored, as by the official API (each architecture was trained once)."""
        call = Call(
            "get_single_metric", {"arch": arch, "task": task, "metric": metric, "mode": mode}
        )
        return self._single(arch, task, metric, mode, call)

    def get_epoch_status(
        self, arch: str, task: str, epoch: int, xseed: int | None = None
    ) -> CompatInfo:
        """Every metric of ``arch`` on ``task`` at ``epoch`` (the ones held; reading another
        raises, naming this call).  The last epoch (``-1``) holds what ``mode='final'`` does."""
        call = Call("get_epoch_status", {"arch": arch, "task": task, "epoch": epoch})
        ss, index = self._locate(arch, call)
        self._task(task, call)
        epochs = self._values[ss].epochs(task)
        if (
            isinstance(epoch, (bool, np.bool_))
            or not isinstance(epoch, (int, np.integer))
            or not -epochs <= epoch < epochs
        ):
            raise ConfigError(
                f"{call}: epoch == {epoch!r}, must be an int in [-{epochs}, {epochs}) on task "
                f"{task}"
            )
        at = int(epoch) % epochs
        return self._status(ss, index, task, at, call, {"epoch": at})

    def _status(self, ss: str, index: int, task: str, at: int, call: Call, values: dict):
        missing: dict[str, str] = {}
        for metric in METRICS_DICT[task]:
            unheld = self._unheld(self.benches[ss], task, metric, call)
            if unheld is not None:
                missing[metric] = "is not in benchsim's data (no usable losses)"
                continue
            try:
                values[metric] = self._values[ss].at(index, task, metric, at, call)
            except UnavailableError:
                missing[metric] = (
                    f"at the final epoch is not in benchsim's data ({final_note(task)})"
                    if at == self._values[ss].epochs(task) - 1
                    else f"at epoch {at} is not in benchsim's data ({NO_CURVES})"
                )
        return CompatInfo(values, str(call), missing)

    def get_best_epoch_status(self, arch: str, task: str, metric: str) -> CompatInfo:
        """The epoch status where ``metric`` is best.  With curves (an import of the official
        file), every metric at that epoch; with the installed tables, only ``metric`` itself
        (its best value): they do not say at which epoch it was reached."""
        call = Call("get_best_epoch_status", {"arch": arch, "task": task, "metric": metric})
        ss, index = self._locate(arch, call)
        self._metric(task, metric, call)
        values = self._values[ss]
        unheld = self._unheld(values.bench, task, metric, call)
        if unheld is not None:
            raise unheld
        try:
            curve = values.curve(index, task, metric, call)
        except UnavailableError:
            best = values.best(index, task, metric, call)
            why = (
                f"is not in benchsim's data: the installed TNB101 tables hold each metric's "
                f"best over epochs, not the epoch where {metric} is best nor the other metrics "
                "there; import the official .pth with `benchsim data import tnb101-pth`"
            )
            missing = dict.fromkeys(["epoch", *METRICS_DICT[task]], why)
            del missing[metric]
            return CompatInfo({metric: best}, str(call), missing)
        at = max(range(len(curve)), key=curve.__getitem__)
        return self._status(ss, index, task, at, call, {"epoch": at})

    def get_total_epochs(self, arch: str, task: str) -> int:
        """Epochs of ``task``'s training schedule."""
        call = Call("get_total_epochs", {"arch": arch, "task": task})
        ss, _ = self._locate(arch, call)
        self._task(task, call)
        return self._values[ss].epochs(task)

    def get_best_archs(
        self, task: str, metric: str, search_space: str, topk: int = 1
    ) -> list[tuple[float, str]]:
        """The ``topk`` ``(best value, arch)`` pairs of ``search_space``, highest first (ties
        by the reverse string order, as the official ``sorted(..., reverse=True)``)."""
        call = f"get_best_archs(task={task!r}, metric={metric!r}, search_space={search_space!r})"
        ours = self._metric(task, metric, call)
        archs = self.get_arch_list(search_space)
        bench = self.benches[search_space]
        unheld = self._unheld(bench, task, metric, call)
        if unheld is not None:
            raise unheld
        values = bench.query_many(np.arange(len(archs)), task, ours).values
        if np.isnan(values).any():
            raise UnavailableError(
                f"{call}: {int(np.isnan(values).sum())} architectures have no recorded {metric}"
            )
        return sorted(zip(values.tolist(), archs, strict=True), reverse=True)[:topk]

    def get_model_info(self, arch: str, task: str, info: str) -> Any:
        """Raises: model information (inference time, parameters, FLOPs) is not held."""
        call = Call("get_model_info", {"arch": arch, "task": task, "info": info})
        self._locate(arch, call)
        self._task(task, call)
        if info not in INFO_NAMES:
            raise UnknownNameError("info", info, INFO_NAMES, f"in {call}")
        raise UnavailableError(f"{call}: {info!r} {NO_MODEL_INFO}")

    def available_metrics(self, task: str) -> list[str]:
        """benchsim's addition: the official metric names of ``task`` its tables answer
        (``mode='best'``)."""
        self._task(task, "available_metrics")
        return self._held(self.benches["micro"], task)

    # ------------------------------------------------------------------ records
    def get_arch_result(self, arch: str) -> ArchResult:
        """The official per-architecture record (``ArchResult``), read lazily: see
        :class:`~benchsim.compat._tnb101_values.ArchResult`."""
        ss, index = self._locate(arch, Call("get_arch_result", {"arch": arch}))
        return ArchResult(self, self._offset[ss] + index, self.benches[ss].space.format(index))

    def __getitem__(self, index: int) -> ArchResult:
        return self.get_arch_result(self.index2arch(index))

    def compat_record(self) -> dict[str, object]:
        """What answers this API and how many answers each emulation gave (JSON-ready)."""
        return self.record_.to_dict()
