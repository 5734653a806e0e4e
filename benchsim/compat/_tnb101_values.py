"""TransNAS-Bench-101 values by the official modes, from what benchsim's tables hold.

The official ``get_single_metric(arch, task, metric, mode)`` reads one per-epoch list:
``mode="best"`` is its maximum, ``"final"`` its last entry, ``"list"`` the list, an int one
epoch.  benchsim's installed TNB101 tables hold, per metric:

* the best over epochs (NASGraph's export of the official ``mode="best"``), every metric;
* the final epoch of ONE validation metric per task, :data:`NASLIB_VALID`: NASLib exported it
  as ``val_accuracy`` with its zero-cost benchmarks (``naslib/runners/zc/benchmarks/runner.py``
  asks ``graph.query(Metric.VAL_ACCURACY, ...)``, which its ``transbench101/graph.py`` answers
  with ``get_single_metric(..., mode='final')``); the table column is ``naslib_valid``.  It is
  never above the best value (checked on every architecture and task), as a final value must be;
* ``time_elapsed``: the official training script logs the wall-clock time since the start of
  training after every epoch (yawen-d/TransNASBench ``Timer.elapse_string``), so the list
  never decreases and its best is its final entry: both modes answer the held value.

A table imported from the official ``.pth`` (``benchsim data import tnb101-pth``) holds every
epoch and answers every mode from its curves.  Anything else raises one
:class:`~benchsim.errors.UnavailableError` naming the call the user made, unless the caller
opted into the ``best-as-final`` emulation (:mod:`._config`), which answers a final value the
data lacks with the best one, labelled.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from benchsim.compat._info import CompatInfo
from benchsim.errors import FidelityError, UnavailableError

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
NASLIB_VALID = {
    "class_scene": "valid_top1",
    "class_object": "valid_top1",
    "jigsaw": "valid_top1",
    "room_layout": "valid_neg_loss",
    "segmentsemantic": "valid_acc",
    "normal": "valid_ssim",
    "autoencoder": "valid_ssim",
}
"""Task -> the metric NASLib's ``Metric.VAL_ACCURACY`` names, whose final value NASLib
exported (table column ``naslib_valid``)."""
CUMULATIVE = "time_elapsed"
RENAMED = {"time_elapsed": "train_time_s"}
"""Official metric -> benchsim metric where the names differ."""
NO_CURVES = (
    "the installed TNB101 tables hold each metric's best over epochs and no per-epoch curves; "
    "import the official .pth with `benchsim data import tnb101-pth` for them"
)
NO_MODEL_INFO = (
    "is not in benchsim's data: no public export of TransNAS-Bench-101 carries the official "
    "file's model information (inference time, parameters, FLOPs), and benchsim's .pth "
    "importer keeps the metrics only"
)


def final_note(task: str) -> str:
    """What ``mode='final'`` is answered for on ``task``, for error messages."""
    return (
        f"the public exports hold the final epoch only of {NASLIB_VALID[task]} (NASLib's "
        f"export) and {CUMULATIVE} (cumulative, so final = best)"
    )


class Values:
    """Official-mode values of one benchmark (one search space); the host API owns it.

    Parameters
    ----------
    bench
        The benchsim benchmark (``tnb101-micro`` / ``-macro`` or an import of the ``.pth``).
    emulate
        The opted-in emulations; ``best-as-final`` is the one read here.
    note
        Called with an emulation's name each time it answers (the API's record).
    """

    def __init__(self, bench: Any, emulate: frozenset[str], note: Any) -> None:
        self.bench, self.emulate, self.note = bench, emulate, note

    def epochs(self, task: str) -> int:
        return self.bench.task_info(task).epochs

    def best(self, index: int, task: str, metric: str, call: object) -> float:
        """The best over epochs (``mode='best'``)."""
        try:
            value = self.bench.query(index, task, RENAMED.get(metric, metric)).value
        except FidelityError:
            value = float("nan")
        if value != value:
            raise UnavailableError(f"{call}: no recorded {metric!r} for this architecture")
        return value

    def at(self, index: int, task: str, metric: str, epoch: int, call: object) -> float:
        """The value at ``epoch`` (0-based; the last epoch is ``mode='final'``)."""
        try:
            value = self.bench.query(index, task, RENAMED.get(metric, metric), epoch=epoch).value
        except FidelityError:
            value = None
        if value is not None and value == value:
            return value
        if epoch == self.epochs(task) - 1:
            return self._final(index, task, metric, call)
        raise UnavailableError(
            f"{call}: {metric!r} at epoch {epoch} is not in benchsim's data ({NO_CURVES})"
        )

    def _has_curves(self, index: int, task: str, metric: str) -> bool:
        try:
            self.bench.query(index, task, RENAMED.get(metric, metric), epoch=0)
        except FidelityError:
            return False
        return True

    def _final(self, index: int, task: str, metric: str, call: object) -> float:
        if metric == CUMULATIVE:
            return self.best(index, task, metric, call)
        if (
            metric == NASLIB_VALID.get(task)
            and "naslib_valid" in self.bench.task_info(task).metrics
        ):
            value = self.bench.query(index, task, "naslib_valid").value
            if value == value:
                return value
        if "best-as-final" in self.emulate:
            value = self.best(index, task, metric, call)
            self.note("best-as-final")
            return value
        raise UnavailableError(
            f"{call}: the final-epoch {metric!r} is not in benchsim's data ({final_note(task)}; "
            f"the rest are best over epochs); opt in to the best value with "
            f"emulate='best-as-final', or import the official .pth with `benchsim data import "
            f"tnb101-pth`"
        )

    def curve(self, index: int, task: str, metric: str, call: object) -> list[float]:
        """Every epoch (``mode='list'``), or one refusal."""
        if not self._has_curves(index, task, metric):
            raise UnavailableError(
                f"{call}: the per-epoch list of {metric!r} is not in benchsim's data ({NO_CURVES})"
            )
        return [self.at(index, task, metric, e, call) for e in range(self.epochs(task))]


class ArchResult:
    """The official ``ArchResult`` of one architecture, read lazily from the tables.

    ``query_all_results()[task]`` (and ``[task]``) is ``{"metrics": {metric: per-epoch list},
    "model_info": {...}, "total_epochs": n}``; a per-epoch list answers each epoch the tables
    hold (the final value, per :class:`Values`) and raises for the rest, and ``model_info``
    raises for every key.  NASLib's ``Metric.RAW`` query reads this record.
    """

    def __init__(self, api: Any, arch_index: int, arch_str: str) -> None:
        self.api, self.arch_index, self.arch_str = api, int(arch_index), arch_str

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(arch-index={self.arch_index}, arch={self.arch_str}, "
            f"{len(TASK_LIST)} tasks)"
        )

    def __getitem__(self, task: str) -> TaskRecord:
        return self.query_all_results()[task]

    def query_all_results(self) -> dict[str, TaskRecord]:
        where = f"get_arch_result({self.arch_str!r})"
        return {task: TaskRecord(self.api, self.arch_str, task, where) for task in TASK_LIST}


class TaskRecord(Mapping):
    """``{"metrics", "model_info", "total_epochs"}`` of one architecture on one task."""

    _KEYS = ("metrics", "model_info", "total_epochs")

    def __init__(self, api: Any, arch: str, task: str, where: str) -> None:
        self.api, self.arch, self.task, self.where = api, arch, task, f"{where}[{task!r}]"

    def __getitem__(self, key: str) -> Any:
        if key == "total_epochs":
            return self.api.get_total_epochs(self.arch, self.task)
        if key == "metrics":
            return {
                m: EpochList(self.api, self.arch, self.task, m, self.where)
                for m in METRICS_DICT[self.task]
            }
        if key == "model_info":
            call = f"{self.where}['model_info']"
            return CompatInfo({}, call, dict.fromkeys(INFO_NAMES, NO_MODEL_INFO))
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._KEYS)

    def __len__(self) -> int:
        return len(self._KEYS)


class EpochList(Sequence):
    """One metric's per-epoch list: ``[e]`` is ``get_single_metric(..., mode=e)``."""

    def __init__(self, api: Any, arch: str, task: str, metric: str, where: str) -> None:
        self.api, self.arch, self.task, self.metric = api, arch, task, metric
        self.where = f"{where}['metrics'][{metric!r}]"

    def __len__(self) -> int:
        return self.api.get_total_epochs(self.arch, self.task)

    def __getitem__(self, epoch: Any) -> Any:
        if isinstance(epoch, slice):
            return [self[e] for e in range(len(self))[epoch]]
        n = len(self)
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not -n <= epoch < n:
            raise IndexError(f"{self.where}: epoch {epoch!r} out of range; allowed {-n}..{n - 1}")
        return self.api._single(
            self.arch, self.task, self.metric, epoch % n, f"{self.where}[{epoch}]"
        )
