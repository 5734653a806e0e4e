"""The official record objects, ``ArchResults`` and ``ResultsCount``, as views of benchsim's data.

The official APIs hand out records: ``query_meta_info_by_index(i, hp)`` (and
``query_by_index(i, hp=hp)``) returns one architecture's ``ArchResults``, whose
``get_metrics(dataset, setname)`` and ``get_compute_costs(dataset)`` correlation and
training-free NAS scripts read, and ``query_by_index(i, dataname, hp)`` returns
``{seed: ResultsCount}``, one record per training run.  Here they are read-only views: every
value is a :meth:`~benchsim.backends.base.Benchmark.query` of the API's benchmark, made when
asked, laid out with the official keys by the same code as ``get_more_info``
(:mod:`._answers`), so a key the data does not hold raises one
:class:`~benchsim.errors.UnavailableError` naming the call the user made, and the opted-in
emulations answer (labelled) as they do there.  Per-run records exist where the table records
per-seed values (:meth:`~benchsim.backends.base.Benchmark.recorded_seeds`); trained weights,
losses and FLOPs are never held.

With :func:`benchsim.compat.install_hooks`, ``nats_bench.api_utils`` and
``nas_201_api.api_utils`` are this module, so ``from nas_201_api.api_utils import
ArchResults`` gets the view class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from benchsim.compat._answers import NO_EVAL_TIME, NO_LATENCY, NO_LOSS, TIME, Call, check_epoch
from benchsim.compat._answers import check_seed as _check_seed
from benchsim.compat._answers import reason as _reason
from benchsim.compat._info import CompatInfo
from benchsim.compat._views import HP_EPOCHS, VIEWS, DatasetView, remap_set, view
from benchsim.errors import UnavailableError, UnknownNameError

__all__ = ["ArchResults", "ResultsCount", "remap_dataset_set_names"]

_READ_ONLY = (
    "benchsim's records are read-only views of its tables (nothing to load, update or save)"
)
NO_WEIGHTS = "is not in benchsim's data (no trained weights)"
NO_FLOP = "is not in benchsim's data (the public NB201 exports record no FLOPs)"


def remap_dataset_set_names(dataset: str, metric_on_set: str, verbose: bool = False):
    """The official shorthand (``("cifar10", "valid")`` -> ``("cifar10-valid", "x-valid")``,
    ...), as ``find_best`` reads it."""
    return remap_set(dataset, metric_on_set)


def set_info(api: Any, index: int, dataset: str, setname: str, hp: str, epoch, seed, call: Call):
    """One official ``get_train`` / ``get_eval`` dict: ``iepoch``, ``loss``, ``accuracy``,
    ``cur_time``, ``all_time`` of ``setname`` (``train``, ``valid`` = ``x-valid``, or a set)."""
    v, values, refused, emulated, done = api._record(index, dataset, hp, epoch, seed, call)
    out: dict[str, Any] = {"iepoch": done - 1}
    missing: dict[str, str] = {"loss": NO_LOSS}
    labels: dict[str, str] = {}

    def put(key: str, metric: str | None, value: float | None, label: str | None) -> None:
        if value is None:
            missing[key] = _reason(metric, refused, v)
        else:
            out[key] = value
            if label:
                labels[key] = label

    if setname == "train":
        metric = v.train_metric
        put("accuracy", metric, values.get(metric) if metric else None, emulated.get(metric))
        total = values.get(TIME) if v.train_time else None
        label = emulated.get(TIME)
        put("cur_time", v.train_time, None if total is None else total / done, label)
        put("all_time", v.train_time, total, label)
        return CompatInfo(out, str(call), missing, labels)
    found = v.eval_set("x-valid" if setname == "valid" else setname)
    if found is None:
        sets = ["train", *(s.set_name for s in v.sets)]
        raise UnknownNameError("setname", setname, sets, f"of dataset {dataset} in {call}")
    put("accuracy", found.metric, values.get(found.metric), emulated.get(found.metric))
    if "eval-time" not in api.settings.emulate:
        missing["cur_time"] = missing["all_time"] = NO_EVAL_TIME
    else:
        per_epoch = api._eval_seconds(v, values, found.images, done)
        why = "is estimated from the training time, which " + _reason(TIME, refused, v)
        put("cur_time", TIME, per_epoch, "eval-time")
        put("all_time", TIME, None if per_epoch is None else per_epoch * done, "eval-time")
        if per_epoch is None:
            missing["cur_time"] = missing["all_time"] = why
        else:
            api.record_.note("eval-time")
    return CompatInfo(out, str(call), missing, labels)


def _read_only(name: str) -> Callable[..., Any]:
    """An official method that changes or saves a record: refused on a view."""

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise UnavailableError(f"{self._where}.{name}: {_READ_ONLY}")

    refuse.__name__ = name
    refuse.__doc__ = f"Raises: {_READ_ONLY}."
    return refuse


class ArchResults:
    """One architecture's results under one ``hp`` (the official ``ArchResults``), as a view.

    Made by the API (``query_meta_info_by_index``); see the module docstring.
    """

    def __init__(self, api: Any, arch_index: int, hp: str, where: str) -> None:
        self._api, self._hp, self._where = api, hp, where
        self.arch_index = int(arch_index)
        self.arch_str = api.space.format(self.arch_index)
        self.clear_net_done = True  # no weights are held

    update = _read_only("update")
    reset_latency = _read_only("reset_latency")
    reset_pseudo_train_times = _read_only("reset_pseudo_train_times")
    reset_pseudo_eval_times = _read_only("reset_pseudo_eval_times")
    state_dict = _read_only("state_dict")
    load_state_dict = _read_only("load_state_dict")

    def __repr__(self) -> str:
        runs = sum(len(s) for s in self._seeds_by_dataset().values())
        return (
            f"{type(self).__name__}(arch-index={self.arch_index}, arch={self.arch_str}, "
            f"{runs} runs, clear=True)"
        )

    @staticmethod
    def create_from_state_dict(state_dict_or_file: Any) -> ArchResults:
        raise UnavailableError(f"ArchResults.create_from_state_dict: {_READ_ONLY}")

    def _call(self, method: str, /, **args: Any) -> Call:
        return Call(f"{self._where}.{method}", args)

    # ------------------------------------------------------------------ runs
    def _seeds(self, v: DatasetView) -> tuple[int, ...]:
        bench, schedule = self._api.bench, HP_EPOCHS[self._hp]
        info = bench.task_info(v.task)
        metrics = [v.train_metric, v.train_time, *(s.metric for s in v.sets)]
        found: set[int] = set()
        for metric in dict.fromkeys(m for m in metrics if m and m in info.metrics):
            found.update(bench.recorded_seeds(self.arch_index, v.task, metric, schedule=schedule))
        return tuple(sorted(found))

    def _seeds_by_dataset(self) -> dict[str, tuple[int, ...]]:
        return {name: self._seeds(v) for name, v in VIEWS.items()}

    def _no_runs(self, dataset: str) -> str:
        return (
            f"{dataset} (hp={self._hp!r}) is recorded as the mean of its training runs only, "
            "no run by run; ask get_metrics(..., is_random=False) for the mean"
        )

    def get_dataset_names(self) -> list[str]:
        """The official dataset names (all four are answered, as seed means at least)."""
        return list(VIEWS)

    @property
    def dataset_seed(self) -> CompatInfo:
        """Dataset -> the seeds of its recorded training runs (reading a dataset recorded by
        its seed mean only raises)."""
        seeds = self._seeds_by_dataset()
        held = {name: list(s) for name, s in seeds.items() if s}
        missing = {name: "has no per-run records: " + self._no_runs(name) for name in VIEWS}
        return CompatInfo(held, f"{self._where}.dataset_seed", missing)

    def get_dataset_seeds(self, dataset: str) -> list[int]:
        """Seeds of ``dataset``'s recorded training runs."""
        call = self._call("get_dataset_seeds", dataset=dataset)
        seeds = self._seeds(view(dataset, str(call)))
        if not seeds:
            raise UnavailableError(f"{call}: {self._no_runs(dataset)}")
        return list(seeds)

    def query(self, dataset: str, seed: int | None = None) -> Any:
        """``{seed: ResultsCount}`` of ``dataset`` (``seed=None``), or that run's record."""
        call = self._call("query", dataset=dataset, seed=seed)
        seeds = self._seeds(view(dataset, str(call)))
        if not seeds:
            raise UnavailableError(f"{call}: {self._no_runs(dataset)}")
        if seed is None:
            return {s: self._run(dataset, s) for s in seeds}
        if seed not in seeds:
            raise UnavailableError(
                f"{call}: no run of seed {seed!r} is recorded; recorded seeds: "
                f"{', '.join(map(str, seeds))}"
            )
        return self._run(dataset, seed)

    def _run(self, dataset: str, seed: int) -> ResultsCount:
        where = f"{self._where}.query({dataset!r}, {seed})"
        return ResultsCount(self._api, self.arch_index, dataset, seed, self._hp, where)

    @property
    def all_results(self) -> dict[tuple[str, int], ResultsCount]:
        """``(dataset, seed) -> ResultsCount`` of every recorded run."""
        return {
            (name, s): self._run(name, s)
            for name, seeds in self._seeds_by_dataset().items()
            for s in seeds
        }

    # ------------------------------------------------------------------ values
    def get_metrics(
        self, dataset: str, setname: str, iepoch: int | None = None, is_random: Any = False
    ) -> CompatInfo:
        """``{"iepoch", "loss", "accuracy", "cur_time", "all_time"}`` on ``setname`` of
        ``dataset``: the mean of the runs (``is_random=False``, the official default), one
        random run (``True``) or the run of one seed (an int)."""
        call = self._call(
            "get_metrics", dataset=dataset, setname=setname, iepoch=iepoch, is_random=is_random
        )
        view(dataset, str(call))
        epoch = check_epoch(iepoch, HP_EPOCHS[self._hp], call)
        seed = _check_seed(is_random, call)
        return set_info(self._api, self.arch_index, dataset, setname, self._hp, epoch, seed, call)

    def get_compute_costs(self, dataset: str) -> CompatInfo:
        """``get_cost_info`` of this architecture under this ``hp``: ``params``,
        ``T-train@*``; ``flops`` raises, the latency and evaluation times per emulation."""
        call = self._call("get_compute_costs", dataset=dataset)
        return self._api._cost_info(self.arch_index, dataset, self._hp, call)

    def get_latency(self, dataset: str) -> None:
        """Raises (no latency recorded); ``None`` with the ``no-latency`` emulation."""
        call = self._call("get_latency", dataset=dataset)
        return self._api._latency(self.arch_index, dataset, call)

    def get_total_epoch(self, dataset: str | None = None) -> int:
        """Epochs of this ``hp``'s schedule."""
        if dataset is not None:
            view(dataset, str(self._call("get_total_epoch", dataset=dataset)))
        return HP_EPOCHS[self._hp]

    def get_net_param(self, dataset: str, seed: int | None = None) -> Any:
        """Raises: benchsim holds no trained weights."""
        call = self._call("get_net_param", dataset=dataset, seed=seed)
        raise UnavailableError(f"{call}: the trained weights {NO_WEIGHTS}")

    def arch_idx_str(self) -> str:
        return f"{self.arch_index:06d}"

    def clear_params(self) -> None:
        """Nothing to free: no weights are held."""


class _Accuracies(Mapping):
    """``train_acc1es`` / ``eval_acc1es`` of a run, read one epoch at a time."""

    def __init__(self, run: ResultsCount, sets: tuple[str, ...] | None) -> None:
        self.run, self.sets = run, sets

    def _keys(self) -> list[Any]:
        epochs = range(self.run.epochs)
        if self.sets is None:
            return list(epochs)
        return [f"{s}@{e}" for s in self.sets for e in epochs]

    def __getitem__(self, key: Any) -> float:
        if key not in self._keys():
            raise KeyError(key)
        if self.sets is None:
            return self.run.get_train(key)["accuracy"]
        name, epoch = key.rsplit("@", 1)
        return self.run.get_eval(name, int(epoch))["accuracy"]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __repr__(self) -> str:
        keys = self._keys()
        return f"<{len(keys)} accuracies {keys[0]!r}..{keys[-1]!r}, read from benchsim when asked>"


class ResultsCount:
    """One training run (dataset, seed, hp) of one architecture (the official
    ``ResultsCount``), as a view; see the module docstring."""

    def __init__(self, api: Any, index: int, dataset: str, seed: int, hp: str, where: str):
        self._api, self._index, self._hp, self._where = api, index, hp, where
        self._view = VIEWS[dataset]
        self.name, self.seed, self.epochs = dataset, seed, HP_EPOCHS[hp]
        self.arch_str = api.space.format(index)

    update_eval = _read_only("update_eval")
    state_dict = _read_only("state_dict")
    load_state_dict = _read_only("load_state_dict")

    def __repr__(self) -> str:
        sets = ", ".join(self.get_eval_set())
        return (
            f"{type(self).__name__}({self.name}, arch={self.arch_str}, FLOP=n/a, "
            f"Param={self.params:.3f}MB, seed={self.seed}, {len(self._view.sets)} eval-sets: "
            f"[{sets}])"
        )

    def _call(self, method: str, /, **args: Any) -> Call:
        return Call(f"{self._where}.{method}", args)

    def get_total_epoch(self) -> int:
        return self.epochs

    def get_eval_set(self) -> list[str]:
        return [s.set_name for s in self._view.sets]

    @property
    def eval_names(self) -> list[str]:
        return self.get_eval_set()

    def get_train(self, iepoch: int | None = None) -> CompatInfo:
        """This run's training ``iepoch``, ``loss``, ``accuracy``, ``cur_time``, ``all_time``."""
        call = self._call("get_train", iepoch=iepoch)
        epoch = check_epoch(iepoch, self.epochs, call)
        return set_info(
            self._api, self._index, self.name, "train", self._hp, epoch, self.seed, call
        )

    def get_eval(self, name: str, iepoch: int | None = None) -> CompatInfo:
        """This run's values on evaluation set ``name`` (``valid`` = ``x-valid``)."""
        call = self._call("get_eval", name=name, iepoch=iepoch)
        epoch = check_epoch(iepoch, self.epochs, call)
        return set_info(self._api, self._index, self.name, name, self._hp, epoch, self.seed, call)

    def get_times(self) -> CompatInfo:
        """``T-train@epoch`` / ``@total`` and ``T-<set>@*`` of this run (evaluation times per
        the ``eval-time`` emulation)."""
        call = self._call("get_times")
        costs = self._api._cost_info(self._index, self.name, self._hp, call, seed=self.seed)
        keep = {k: x for k, x in costs.items() if k.startswith("T-")}
        missing = {k: x for k, x in costs.missing.items() if k.startswith("T-")}
        return CompatInfo(keep, str(call), missing, costs.emulated)

    def get_latency(self) -> float:
        """The official "not measured" value, -1.0, with the ``no-latency`` emulation; else
        raises."""
        call = self._call("get_latency")
        if "no-latency" not in self._api.settings.emulate:
            raise UnavailableError(f"{call}: 'latency' {NO_LATENCY}")
        self._api.record_.note("no-latency")
        return -1.0

    @property
    def params(self) -> float:
        """Parameters (MB), the same for every run."""
        return self._api.bench.query(self._index, self._view.task, "params_mb").value

    @property
    def flop(self) -> float:
        raise UnavailableError(f"{self._where}.flop {NO_FLOP}")

    @property
    def train_losses(self) -> Any:
        raise UnavailableError(f"{self._where}.train_losses {NO_LOSS}")

    @property
    def eval_losses(self) -> Any:
        raise UnavailableError(f"{self._where}.eval_losses {NO_LOSS}")

    @property
    def net_state_dict(self) -> Any:
        raise UnavailableError(f"{self._where}.net_state_dict: the trained weights {NO_WEIGHTS}")

    @property
    def train_acc1es(self) -> Mapping:
        """Epoch -> training accuracy, read when asked (an epoch not held raises)."""
        return _Accuracies(self, None)

    @property
    def eval_acc1es(self) -> Mapping:
        """``"<set>@<epoch>"`` -> accuracy, read when asked (an epoch not held raises)."""
        return _Accuracies(self, tuple(self.get_eval_set()))

    def get_net_param(self, clone: bool = False) -> Any:
        raise UnavailableError(f"{self._call('get_net_param')}: the trained weights {NO_WEIGHTS}")

    def get_config(self, str2structure: Callable[[str], Any] | None) -> dict[str, Any]:
        """What builds the network (NAS-Bench-201's fixed skeleton around the cell)."""
        config: dict[str, Any] = {"name": "infer.tiny", "C": 16, "N": 5}
        if str2structure is None:
            config["arch_str"] = self.arch_str
        else:
            config["genotype"] = str2structure(self.arch_str)
        config["num_classes"] = self._view.num_classes
        return config
