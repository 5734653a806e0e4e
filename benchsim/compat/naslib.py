"""A NASLib ``dataset_api`` answered by benchsim, for NASLib's NB201 and TNB101 spaces.

NASLib's search spaces look results up in a ``dataset_api`` dict that
``naslib.utils.get_dataset_api(search_space, dataset)`` loads from its pickles;
:func:`get_dataset_api` returns one of the same shape, answered by benchsim, so
``graph.query(metric, dataset, epoch=-1, dataset_api=api)`` works unchanged:

* ``"nasbench201"``: ``{"nb201_data": ...}``; NASLib reads
  ``dataset_api["nb201_data"][arch_str][dataset][key][epoch]`` (``dataset`` ``cifar10`` is
  read as ``cifar10-valid``), with ``key`` ``train_acc1es`` / ``eval_acc1es`` /
  ``train_losses`` / ``eval_losses`` / ``eval_times`` / ``params`` / ``flop`` / ``latency``,
  and ``[dataset]["cost_info"]["train_time"]`` for the training time.
* ``"transbench101"`` (``_micro`` / ``_macro``): ``{"api": TransNASBenchAPI, "task": dataset}``;
  NASLib calls ``api.get_single_metric(arch_str, task, metric, mode='final')`` and, for
  ``Metric.RAW``, ``api.get_arch_result(arch_str).query_all_results()[task]`` (:mod:`.tnb101`:
  the final validation metric is the one NASLib exported, the training time is cumulative;
  final train/test values are not held and raise unless ``emulate="best-as-final"``).

NASLib reads its VAL and TEST accuracy of NB201 from the same key, ``eval_acc1es``, so it
cannot tell them apart.  This adapter answers that key with ONE split, named when it is made:
``eval_split="valid"`` (default: the search signal, so a search never sees test data) or
``"test"`` (for reporting).  Epoch ``-1`` (and 199) is the final, seed-mean value; other epochs
are answered where the table holds per-epoch values; losses, FLOPs, latency and evaluation
times are not held and raise :class:`~benchsim.errors.UnavailableError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from benchsim.compat._info import CompatInfo
from benchsim.compat._views import VIEWS, DatasetView
from benchsim.errors import ConfigError, FidelityError, UnavailableError, UnknownNameError

__all__ = ["NB201_DATASETS", "TNB101_SPACES", "get_dataset_api"]

NB201_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
TNB101_SPACES = ("transbench101", "transbench101_micro", "transbench101_macro")
EPOCHS = 200
_NOT_HELD = {
    "train_losses": "is not in benchsim's data (no losses)",
    "eval_losses": "is not in benchsim's data (no losses)",
    "eval_times": "is not in benchsim's data (no evaluation times)",
    "train_times": "is not in benchsim's data per epoch; read [dataset]['cost_info']['train_time']",
    "flop": "is not in benchsim's data (no FLOPs)",
    "latency": "is not in benchsim's data (no NATS-Bench latency)",
    "epochs": "is not provided; the schedule has 200 epochs",
}


def get_dataset_api(
    search_space: str | None = None,
    dataset: str | None = None,
    *,
    eval_split: str = "valid",
    **benchsim_options: Any,
) -> dict[str, Any]:
    """The ``dataset_api`` NASLib's ``query`` reads, answered by benchsim.

    Parameters
    ----------
    search_space
        NASLib's name: ``"nasbench201"`` or ``"transbench101"`` (``_micro`` / ``_macro``).
    dataset
        NB201: ``cifar10``, ``cifar100`` or ``ImageNet16-120``; TNB101: a task.
    eval_split
        NB201 only: what ``eval_acc1es`` (NASLib's VAL *and* TEST accuracy) answers, ``"valid"``
        or ``"test"`` (see the module docstring).
    **benchsim_options
        NB201: ``benchmark`` (default ``nb201``) and ``seed``; TNB101: ``benchmarks``, ``seed``
        and ``emulate``.

    Examples
    --------
    >>> api = get_dataset_api("nasbench201", "cifar10")  # doctest: +SKIP
    >>> arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|" + (
    ...     "nor_conv_3x3~1|nor_conv_3x3~2|")
    >>> api["nb201_data"][arch]["cifar10-valid"]["eval_acc1es"][-1]  # doctest: +SKIP
    91.55
    """
    if search_space == "nasbench201":
        if dataset not in NB201_DATASETS:
            raise UnknownNameError("dataset", dataset, NB201_DATASETS, "of NASLib's nasbench201")
        if eval_split not in ("valid", "test"):
            raise ConfigError(f"eval_split == {eval_split!r}, must be 'valid' or 'test'")
        return {"nb201_data": NB201Data(eval_split, **benchsim_options)}
    if search_space in TNB101_SPACES:
        from benchsim.compat.tnb101 import TASK_LIST, TransNASBenchAPI

        if dataset not in TASK_LIST:
            raise UnknownNameError("task", dataset, TASK_LIST, f"of NASLib's {search_space}")
        return {"api": TransNASBenchAPI(**benchsim_options), "task": dataset}
    raise UnknownNameError(
        "search space",
        search_space,
        ("nasbench201", *TNB101_SPACES),
        "(benchsim holds no NAS-Bench-101/301 data)",
    )


class NB201Data(Mapping):
    """``arch_str -> {dataset -> {key -> values}}``, NASLib's NB201 data, lazily answered."""

    def __init__(self, eval_split: str = "valid", **benchsim_options: Any) -> None:
        import benchsim

        self.bench = benchsim.benchmark(
            benchsim_options.pop("benchmark", "nb201"), seed=benchsim_options.pop("seed", 0)
        )
        if benchsim_options:
            raise ConfigError(
                f"unknown option(s) {sorted(benchsim_options)}; allowed: benchmark, seed"
            )
        self.eval_split = eval_split

    def __getitem__(self, arch_str: str) -> ArchData:
        return ArchData(self, self.bench.space.parse(arch_str))

    def __iter__(self) -> Iterator[str]:
        return (self.bench.space.format(i) for i in range(self.bench.space.size))

    def __len__(self) -> int:
        return self.bench.space.size


class ArchData(Mapping):
    """One architecture's data: ``{"cifar10-valid" | "cifar100" | "ImageNet16-120" -> ...}``."""

    _DATASETS = ("cifar10-valid", "cifar100", "ImageNet16-120")

    def __init__(self, data: NB201Data, index: int) -> None:
        self.data, self.index = data, index

    def __getitem__(self, dataset: str) -> DatasetData:
        if dataset not in self._DATASETS:
            raise UnknownNameError("dataset", dataset, self._DATASETS, "in NASLib's nb201_data")
        return DatasetData(self.data, self.index, VIEWS[dataset])

    def __iter__(self) -> Iterator[str]:
        return iter(self._DATASETS)

    def __len__(self) -> int:
        return len(self._DATASETS)


class DatasetData(Mapping):
    """One architecture on one dataset: NASLib's keys (module docstring)."""

    def __init__(self, data: NB201Data, index: int, view: DatasetView) -> None:
        self.data, self.index, self.view = data, index, view
        role = data.eval_split
        self._eval = next(s.metric for s in view.sets if s.role == role)

    def _keys(self) -> dict[str, str | None]:
        return {
            "train_acc1es": self.view.train_metric,
            "eval_acc1es": self._eval,
            "params": "params_mb",
            "cost_info": None,
        }

    def __getitem__(self, key: str) -> Any:
        where = f"nb201_data[{self.data.bench.space.format(self.index)!r}][{self.view.name!r}]"
        if key in _NOT_HELD:
            raise UnavailableError(
                f"{where}[{key!r}] {_NOT_HELD[key]}; available keys: {', '.join(self._keys())}"
            )
        if key == "cost_info":
            return self._cost_info(where)
        metric = self._keys().get(key)
        if metric is None:
            raise UnknownNameError("key", key, list(self._keys()), f"of {where}")
        return Curve(self.data.bench, self.index, self.view.task, metric, f"{where}[{key!r}]")

    def _cost_info(self, where: str) -> CompatInfo:
        bench, task = self.data.bench, self.view.task
        result = bench.query(self.index, task, ("params_mb", "train_time_s"))
        values = {"params": result["params_mb"], "train_time": result["train_time_s"]}
        missing = {"flops": _NOT_HELD["flop"], "latency": _NOT_HELD["latency"]}
        return CompatInfo(values, f"{where}['cost_info']", missing)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


class Curve(Sequence):
    """A metric over the 200 epochs, read on demand: ``[-1]`` / ``[199]`` is the final
    seed-mean value, ``[e]`` epoch ``e`` where the table holds it, a slice a list."""

    def __init__(self, bench: Any, index: int, task: str, metric: str, where: str) -> None:
        self.bench, self.index, self.task, self.metric, self.where = (
            bench,
            index,
            task,
            metric,
            where,
        )

    def __len__(self) -> int:
        return EPOCHS

    def __getitem__(self, epoch: Any) -> Any:
        if isinstance(epoch, slice):
            return [self[e] for e in range(EPOCHS)[epoch]]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not -EPOCHS <= epoch < EPOCHS:
            raise IndexError(f"{self.where}: epoch {epoch!r} out of range; allowed -200..199")
        epoch %= EPOCHS
        final = epoch == EPOCHS - 1 or self.metric == "params_mb"  # params: same every epoch
        try:
            result = self.bench.query(
                self.index, self.task, self.metric, epoch=None if final else epoch
            )
        except FidelityError as err:
            raise UnavailableError(
                f"{self.where}[{epoch}] is not in benchsim's data ({err})"
            ) from None
        if result.value == result.value:
            return result.value
        raise UnavailableError(f"{self.where}[{epoch}] is recorded as NaN (not measured)")
