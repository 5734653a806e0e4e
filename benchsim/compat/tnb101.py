"""A drop-in ``TransNASBenchAPI`` (TransNAS-Bench-101's official API), answered by benchsim.

The official class (yawen-d/TransNASBench ``api/api.py``, also vendored by NASLib) reads
``transnas-bench_v10141024.pth``; this one answers from benchsim's ``tnb101-macro`` and
``tnb101-micro`` tables (or tables imported from that file, ``benchmarks=``)::

    from benchsim.compat.tnb101 import TransNASBenchAPI
    api = TransNASBenchAPI()                       # no file needed
    api.get_single_metric("64-41414-1_02_333", "class_object", "valid_top1", mode="best")

As in the official file, architectures are indexed macro first (3,256), then micro (4,096),
each space in its official order.  benchsim's installed tables hold each metric's best value
over epochs, the official ``mode="best"``: the other modes (``"final"``, ``"list"``, an epoch)
need per-epoch values and raise unless the tables hold them (an import of the official file
does); losses, model information (FLOPs, parameters, inference time) are not held and raise.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from benchsim.compat._config import CompatRecord, CompatSettings
from benchsim.compat._info import CompatInfo
from benchsim.errors import (
    ConfigError,
    FidelityError,
    InvalidArchitectureError,
    UnavailableError,
    UnknownNameError,
)

__all__ = ["INFO_NAMES", "METRICS_DICT", "TASK_LIST", "TransNASBenchAPI"]

TASK_LIST = [
    "class_scene",
    "class_object",
    "room_layout",
    "jigsaw",
    "segmentsemantic",
    "normal",
    "autoencoder",
]
"""The official task order."""

_CLS = [
    "train_top1",
    "train_top5",
    "train_loss",
    "valid_top1",
    "valid_top5",
    "valid_loss",
    "test_top1",
    "test_top5",
    "test_loss",
    "time_elapsed",
]
_SSIM = [
    "train_ssim",
    "train_l1_loss",
    "valid_ssim",
    "valid_l1_loss",
    "test_ssim",
    "test_l1_loss",
    "time_elapsed",
]
METRICS_DICT = {
    "class_scene": _CLS,
    "class_object": _CLS,
    "room_layout": [
        "train_loss",
        "train_neg_loss",
        "valid_loss",
        "valid_neg_loss",
        "test_loss",
        "test_neg_loss",
        "time_elapsed",
    ],
    "jigsaw": _CLS,
    "segmentsemantic": [
        "train_loss",
        "train_acc",
        "train_mIoU",
        "valid_loss",
        "valid_acc",
        "valid_mIoU",
        "test_loss",
        "test_acc",
        "test_mIoU",
        "time_elapsed",
    ],
    "normal": _SSIM,
    "autoencoder": _SSIM,
}
"""Task -> the official metric names (the official file's ``metrics_dict``; the columns of
every public export of it)."""
INFO_NAMES = ["inference_time", "encoder_params", "model_params", "model_FLOPs", "encoder_FLOPs"]
SEARCH_SPACES = ["macro", "micro"]
_RENAMED = {"time_elapsed": "train_time_s"}
"""Official metric -> benchsim metric where the names differ."""
_NO_EPOCHS = (
    "needs per-epoch values; benchsim's installed TNB101 tables hold each metric's best over "
    "epochs (mode='best'); import the official .pth with `benchsim data import tnb101-pth` "
    "for the curves"
)


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
    """

    def __init__(
        self,
        database_path: str | None = None,
        verbose: bool = False,
        *,
        benchmarks: tuple[str, str] = ("tnb101-macro", "tnb101-micro"),
        seed: int | None = None,
    ) -> None:
        import benchsim

        if not (isinstance(benchmarks, (tuple, list)) and len(benchmarks) == 2):
            raise ConfigError(f"benchmarks == {benchmarks!r}, must be (macro name, micro name)")
        pair = f"{benchmarks[0]}+{benchmarks[1]}"
        self.settings = CompatSettings.resolve(pair, benchmark=pair, seed=seed, emulate=())
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
    def _metric(self, task: str, metric: str, call: str) -> str:
        if task not in METRICS_DICT:
            raise UnknownNameError("task", task, TASK_LIST, f"in {call}")
        if metric not in METRICS_DICT[task]:
            raise UnknownNameError(
                "metric", metric, METRICS_DICT[task], f"for task {task} in {call}"
            )
        return _RENAMED.get(metric, metric)

    def _unheld(self, bench, task: str, metric: str, call: str) -> UnavailableError | None:
        ours = _RENAMED.get(metric, metric)
        if ours in bench.task_info(task).metrics:
            return None
        held = [
            m for m in METRICS_DICT[task] if _RENAMED.get(m, m) in bench.task_info(task).metrics
        ]
        return UnavailableError(
            f"{call}: metric {metric!r} is not in benchsim's data (the public TNB101 exports "
            f"keep no usable losses); metrics held for {task}: {', '.join(held)}"
        )

    def get_single_metric(
        self, arch: str, task: str, metric: str, mode: str | int = "best", xseed: int | None = None
    ) -> Any:
        """One metric of ``arch`` on ``task``: ``mode="best"`` is its best value over epochs
        (held); ``"final"``, ``"list"`` and an epoch number need per-epoch values (raise
        unless the tables hold them).  ``xseed`` is ignored, as by the official API (each
        architecture was trained once)."""
        ss, index = self._locate(arch, "get_single_metric")
        ours = self._metric(task, metric, "get_single_metric")
        bench = self.benches[ss]
        if mode == "best":
            try:
                return bench.query(index, task, ours).value
            except (UnknownNameError, FidelityError):
                call = f"get_single_metric(arch={arch!r}, task={task!r}, metric={metric!r})"
                raise self._unheld(bench, task, metric, call) or UnavailableError(
                    f"{call}: no recorded value for this architecture"
                ) from None
        epochs = bench.task_info(task).epochs
        if mode == "final":
            return self._at(bench, arch, index, task, metric, epochs - 1)
        if mode == "list":
            return [self._at(bench, arch, index, task, metric, e) for e in range(epochs)]
        if isinstance(mode, (int, np.integer)) and not isinstance(mode, (bool, np.bool_)):
            if not -epochs <= mode < epochs:
                raise ConfigError(
                    f"get_single_metric: mode == {mode}, an epoch must be < total epoch "
                    f"{epochs} for task {task}"
                )
            return self._at(bench, arch, index, task, metric, int(mode) % epochs)
        raise ConfigError(
            f"get_single_metric: mode == {mode!r}, must be 'final', 'best', 'list' or an epoch "
            "number"
        )

    def _at(self, bench, arch: str, index: int, task: str, metric: str, epoch: int) -> float:
        call = f"get_single_metric(arch={arch!r}, task={task!r}, metric={metric!r}, epoch {epoch})"
        unheld = self._unheld(bench, task, metric, call)
        if unheld is not None:
            raise unheld
        try:
            return bench.query(index, task, _RENAMED.get(metric, metric), epoch=epoch).value
        except FidelityError as err:
            raise UnavailableError(f"{call} {_NO_EPOCHS} ({err})") from None

    def get_epoch_status(
        self, arch: str, task: str, epoch: int, xseed: int | None = None
    ) -> CompatInfo:
        """Every metric of ``arch`` on ``task`` at ``epoch`` (held ones; the rest raise)."""
        call = f"get_epoch_status(arch={arch!r}, task={task!r}, epoch={epoch!r})"
        ss, index = self._locate(arch, call)
        self._metric(task, METRICS_DICT[task][0], call)
        epochs = self.benches[ss].task_info(task).epochs
        if (
            isinstance(epoch, bool)
            or not isinstance(epoch, (int, np.integer))
            or not -epochs <= epoch < epochs
        ):
            raise ConfigError(f"{call}: epoch must be an int in [-{epochs}, {epochs})")
        values, missing = {"epoch": int(epoch) % epochs}, {}
        for metric in METRICS_DICT[task]:
            try:
                values[metric] = self._at(
                    self.benches[ss], arch, index, task, metric, int(epoch) % epochs
                )
            except UnavailableError as err:
                missing[metric] = f"is not available ({err})"
        return CompatInfo(values, call, missing)

    def get_best_epoch_status(self, arch: str, task: str, metric: str) -> CompatInfo:
        """The epoch status at the epoch where ``metric`` is best (needs per-epoch values)."""
        curve = self.get_single_metric(arch, task, metric, mode="list")
        return self.get_epoch_status(arch, task, int(np.argmax(curve)))

    def get_total_epochs(self, arch: str, task: str) -> int:
        """Epochs of ``task``'s training schedule."""
        ss, _ = self._locate(arch, "get_total_epochs")
        self._metric(task, METRICS_DICT[task][0], "get_total_epochs")
        return self.benches[ss].task_info(task).epochs

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

    # ------------------------------------------------------------------ not in the data
    def get_model_info(self, arch: str, task: str, info: str) -> Any:
        """Raises: model information (inference time, parameters, FLOPs) is not held."""
        call = f"get_model_info(arch={arch!r}, task={task!r}, info={info!r})"
        self._locate(arch, call)
        if info not in INFO_NAMES:
            raise UnknownNameError("info", info, INFO_NAMES, f"in {call}")
        raise UnavailableError(
            f"{call}: {info!r} is not in benchsim's data (the public TNB101 exports carry no "
            "model information); held per task: the metrics of available_metrics(task)"
        )

    def available_metrics(self, task: str) -> list[str]:
        """benchsim's addition: the official metric names of ``task`` its tables answer."""
        self._metric(task, METRICS_DICT[task][0], "available_metrics")
        bench = self.benches["micro"]
        return [m for m in METRICS_DICT[task] if self._unheld(bench, task, m, "") is None]

    def get_arch_result(self, arch: str) -> Any:
        """Raises: the official per-architecture records are not what benchsim holds."""
        self._locate(arch, "get_arch_result")
        raise UnavailableError(
            f"get_arch_result(arch={arch!r}): benchsim holds metric tables, not the official "
            "per-architecture records; use get_single_metric"
        )

    def __getitem__(self, index: int) -> Any:
        return self.get_arch_result(self.index2arch(index))
