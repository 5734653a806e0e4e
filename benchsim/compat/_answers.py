"""The metric calls of the topology APIs: ``get_more_info``, ``simulate_train_eval``, costs.

One architecture on one official dataset at one fidelity becomes one
:meth:`~benchsim.compat._fetch.Fetcher.fetch` of the benchsim metrics that dataset's keys read
(:mod:`._views`), and the official keys are laid out from the values it returns.  Keys the
data cannot hold (losses, FLOPs; evaluation times and the latency except in tables imported
from the official files) are refused with their reason; the opted-in emulations
(:mod:`._config`) fill the ones they cover and label them, where the table holds no recorded
value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from benchsim.compat._config import CompatRecord
from benchsim.compat._fetch import Fetcher
from benchsim.compat._info import CompatInfo
from benchsim.compat._views import HP_EPOCHS, SEARCH_DATASETS, DatasetView, view
from benchsim.errors import ConfigError, FidelityError, UnavailableError, UnknownNameError

TIME = "train_time_s"
PARAMS = "params_mb"
LATENCY = "nats_latency_ms"
"""The official files' latency (seconds in the API), held by tables imported from them."""
FORWARD_FRACTION = 1.0 / 3.0
"""Eval-time emulation: a forward pass costs a third of a training step per image (the model
benchsim's weight-sharing emulation charges its evaluations with)."""

NO_LOSS = "is not in benchsim's data (the public NB201 exports record no losses)"
NO_FLOPS = "is not in benchsim's data (the public NB201 exports record no FLOPs)"
NO_LATENCY = (
    "is not in benchsim's data (the NATS-Bench latency is recorded only in the official "
    "files: `benchsim data import nats-tss-simple`; latencies of other devices are benchsim "
    "metrics, e.g. help_1080ti_256_latency_ms); opt in to None, the official value of an "
    "unmeasured latency, with emulate='no-latency'"
)
NO_EVAL_TIME = (
    "is not in benchsim's data (evaluation times are recorded only in the official files: "
    "`benchsim data import nats-tss-simple`); opt in to an estimate with emulate='eval-time'"
)


def eval_time_metric(accuracy_metric: str) -> str:
    """The column of a set's evaluation seconds up to the epoch (``valid_acc`` ->
    ``valid_eval_time_s``), held by tables imported from the official files."""
    return accuracy_metric.removesuffix("_acc") + "_eval_time_s"


HINT_HP12 = "; opt in to benchsim's 12-epoch proxy with emulate='hp12-proxy'"
HINT_HP12_EPOCH = (
    "; no public source holds the 12-epoch run's per-epoch validation accuracy, and "
    "benchsim's 12-epoch proxy (emulate='hp12-proxy') answers its last epoch only (iepoch=None "
    "or 11); an import of the official NATS-Bench files (`benchsim data import "
    "nats-tss-simple`) holds every epoch"
)


class Call:
    """A call as an error message writes it, formatted only when an error needs it."""

    __slots__ = ("args", "name")

    def __init__(self, name: str, args: dict[str, Any]) -> None:
        self.name, self.args = name, args

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.name}({inner})"


def check_hp(hp: object, call: Call) -> tuple[str, int]:
    """``hp`` as its official string key and its epochs."""
    key = str(hp) if isinstance(hp, (str, int, np.integer)) and not isinstance(hp, bool) else None
    if key not in HP_EPOCHS:
        raise UnknownNameError("hp", hp, HP_EPOCHS, f"in {call} (the topology schedules)")
    return key, HP_EPOCHS[key]


def check_seed(is_random: object, call: Call) -> Any:
    """``is_random`` as a query seed: ``"sample"``, ``None`` (mean) or a recorded seed."""
    if is_random is True:
        return "sample"
    if is_random is False:
        return None
    if isinstance(is_random, (int, np.integer)) and not isinstance(is_random, np.bool_):
        return int(is_random)
    raise ConfigError(
        f"{call}: is_random == {is_random!r}, must be True (one random trial), False (the "
        "mean of all trials) or an int (the trial of that seed)"
    )


def check_epoch(iepoch: object, epochs: int, call: Call) -> int | None:
    """``iepoch`` as a query epoch; the schedule's last epoch is its final value."""
    if iepoch is None:
        return None
    if (
        isinstance(iepoch, (bool, np.bool_))
        or not isinstance(iepoch, (int, np.integer))
        or not 0 <= iepoch < epochs
    ):
        raise ConfigError(
            f"{call}: iepoch == {iepoch!r}, must be None (the last epoch) or an int in "
            f"[0, {epochs})"
        )
    return None if iepoch == epochs - 1 else int(iepoch)


def reason(metric: str | None, refused: Mapping[str, str], v: DatasetView) -> str:
    """Why ``metric`` (``None``: the view maps the key to nothing) has no value."""
    if metric is None:
        return v.lacking
    why = refused.get(metric)
    if why is None:
        return "is not in benchsim's data"
    return why if why.startswith("is ") else f"is not in benchsim's data here ({why})"


class AnswersMixin:
    """``get_more_info``, ``simulate_train_eval``, ``get_cost_info``, ``get_latency``.

    The host sets ``bench``, ``settings``, ``record_`` (:class:`CompatRecord`), ``_fetch``
    (:class:`Fetcher`), ``_plans`` and ``_curve_trials`` (dicts) and ``_used_time``, and
    provides ``_index``.
    """

    bench: Any
    record_: CompatRecord
    _fetch: Fetcher
    _plans: dict
    _curve_trials: dict
    _used_time: float

    def _index(self, arch: Any, call: Call) -> int:  # pragma: no cover - provided by host
        raise NotImplementedError

    @property
    def _emulate(self) -> frozenset[str]:
        return self.settings.emulate  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ one record
    def _held(self, task: str, metric: str) -> bool:
        """Whether the table holds ``metric`` for any architecture of ``task``: only tables
        imported from the official files hold the evaluation times and the latency, so the
        installed ones are not asked for them on every call (decided once per task)."""
        key = ("held", task, metric)
        held = self._plans.get(key)
        if held is None:
            held = metric in self.bench.task_info(task).metrics
            if held:
                archs = np.arange(self.bench.space.size)
                held = bool(np.isfinite(self.bench.query_many(archs, task, metric).values).any())
            self._plans[key] = held
        return held

    def _plan(self, dataset: str, hp: str, epoch: int | None, call: Call) -> tuple:
        """Per (dataset, hp, epoch): the view, the query fidelity, the metrics to fetch and
        the refusals known without asking (metrics the task does not carry)."""
        key = (dataset, hp, epoch)
        plan = self._plans.get(key)
        if plan is None:
            v = view(dataset, str(call))
            info = self.bench.task_info(v.task)
            epochs = HP_EPOCHS[hp]
            schedule = None if epochs == info.epochs else epochs
            wanted = [v.train_metric, TIME, *(s.metric for s in v.sets)]
            metrics = tuple(dict.fromkeys(m for m in wanted if m and m in info.metrics))
            # recorded evaluation times, where the table holds any (else the eval-time
            # emulation or a refusal answers: no refusal is noted for them here)
            metrics += tuple(
                m for m in (eval_time_metric(s.metric) for s in v.sets) if self._held(v.task, m)
            )
            static = {
                m: f"is not in benchsim's data (task {v.task} has no metric {m!r})"
                for m in wanted
                if m and m not in info.metrics
            }
            plan = self._plans[key] = (v, info, epochs, schedule, metrics, static)
        return plan

    def _record(self, index: int, dataset: str, hp: str, epoch: int | None, seed: Any, call):
        """``(view, values, refused, emulated, done)``: benchsim metric -> value (``TIME``: the
        training seconds up to the epoch), metric -> why not, metric -> emulation, and the
        number of epochs the values cover."""
        v, info, epochs, schedule, metrics, static = self._plan(dataset, hp, epoch, call)
        values, refused, used = self._fetch.fetch(
            index, v.task, metrics, seed=seed, epoch=epoch, schedule=schedule
        )
        if refused and epoch is None and seed is not None:
            values, refused = self._from_last_epoch(
                index, v.task, metrics, seed, used, epochs, values, refused
            )
        if refused and epoch is not None:  # name the caller's iepoch, not a backend epoch
            refused = {
                m: f"is not in benchsim's data at iepoch={epoch} of the {epochs}-epoch schedule "
                f"({why})"
                for m, why in refused.items()
            }
            if hp == "12" and v.sets[0].role == "valid" and v.sets[0].metric in refused:
                refused[v.sets[0].metric] += HINT_HP12_EPOCH
        if static:
            refused = {**static, **refused}
        emulated: dict[str, str] = {}
        if hp == "12" and epoch is None:
            if "hp12-proxy" in self._emulate:
                self._proxy(index, v, info, seed, values, refused, emulated)
            else:
                for metric in (v.sets[0].metric, v.train_time):
                    if metric in refused and v.sets[0].role == "valid":
                        refused = {**refused, metric: refused[metric] + HINT_HP12}
        return v, values, refused, emulated, epochs if epoch is None else epoch + 1

    def _from_last_epoch(self, index, task, metrics, seed, used, epochs, values, refused):
        """A trial's final value that the per-seed table lacks, read as the last epoch of
        that trial's curve where the table records one (an import of the official files
        records every epoch of every trial).  For random trials this is tried until it fails
        once without ever having worked, so tables without per-trial curves (``nb201``) pay
        for one refused query, not one per call."""
        key = (task, epochs)
        works = self._curve_trials.get(key)
        if works is False and isinstance(seed, str):
            return values, refused
        again = tuple(m for m in metrics if m in refused)
        trial = seed if used is None else used
        more, _, _ = self._fetch.fetch(
            index, task, again, seed=trial, epoch=epochs - 1, schedule=epochs
        )
        if more:
            self._curve_trials[key] = True
            values = {**values, **more}
            refused = {m: r for m, r in refused.items() if m not in more}
        elif works is None:
            self._curve_trials[key] = False
        return values, refused

    def _proxy(self, index, v, info, seed, values, refused, emulated) -> None:
        """Fill the hp='12' search values the data lacks with benchsim's NB201 protocol
        (``Benchmark.evaluation_protocol``): the recorded 200-epoch search metric of the seed
        the protocol draws, charged ``cost * cost_scale``."""
        valid = next((s.metric for s in v.sets if s.role == "valid"), None)
        lacking = [m for m in (valid, v.train_time) if m and m not in values]
        if not lacking or valid != info.search_metric:
            return
        protocol = self._plans.get(("protocol", v.task))
        if protocol is None:  # fixed per task: asked once
            protocol = self._plans["protocol", v.task] = self.bench.evaluation_protocol(v.task)
        if seed == "sample":
            seed = protocol.seed
        try:
            result = self.bench.query(index, v.task, info.search_metric, seed=seed)
        except FidelityError as err:  # e.g. a named trial where only seed means exist
            for metric in lacking:
                refused[metric] = f"is not in benchsim's data, even by hp12-proxy ({err})"
            return
        if valid in lacking:
            values[valid] = result.value
            emulated[valid] = "hp12-proxy"
        if v.train_time in lacking:
            values[TIME] = result.cost * protocol.cost_scale
            emulated[TIME] = "hp12-proxy"
        for metric in lacking:
            refused.pop(metric, None)
        self.record_.note("hp12-proxy")

    def _eval_seconds(self, v: DatasetView, values: Mapping[str, float], images: int, done: int):
        """Per-epoch seconds of evaluating ``images`` (the eval-time emulation), or ``None``
        when the training time it is estimated from is not held."""
        total = values.get(TIME)
        if total is None:
            return None
        return total / done / v.time_images * images * FORWARD_FRACTION

    # ------------------------------------------------------------------ official calls
    def get_more_info(
        self,
        index: Any,
        dataset: str,
        iepoch: int | None = None,
        hp: str = "12",
        is_random: bool | int = True,
    ) -> CompatInfo:
        """Official metric dict of one architecture on one dataset.

        Keys ``{train,valid,test,valtest}-{loss,accuracy,per-time,all-time}`` as the official
        API lays them out for ``dataset``; a key the data does not hold raises when read.
        """
        call = Call(
            "get_more_info",
            {
                "index": index,
                "dataset": dataset,
                "iepoch": iepoch,
                "hp": hp,
                "is_random": is_random,
            },
        )
        return self._more_info(index, dataset, iepoch, hp, is_random, call)

    def _more_info(self, index, dataset, iepoch, hp, is_random, call: Call) -> CompatInfo:
        arch = self._index(index, call)
        hp, epochs = check_hp(hp, call)
        epoch = check_epoch(iepoch, epochs, call)
        seed = check_seed(is_random, call)
        v, values, refused, emulated, done = self._record(arch, dataset, hp, epoch, seed, call)
        out: dict[str, Any] = {}
        missing: dict[str, str] = {"train-loss": NO_LOSS}
        labels: dict[str, str] = {}

        def put(key: str, metric: str | None, value: float | None = None) -> None:
            value = values.get(metric) if value is None and metric else value
            if value is None:
                missing[key] = reason(metric, refused, v)
            else:
                out[key] = value
                if metric in emulated:
                    labels[key] = emulated[metric]

        put("train-accuracy", v.train_metric)
        total = values.get(TIME) if v.train_time else None
        put("train-per-time", v.train_time, None if total is None else total / done)
        put("train-all-time", v.train_time, total)
        if v.comment:
            out["comment"] = v.comment
        for s in v.sets:
            missing[f"{s.role}-loss"] = NO_LOSS
            put(f"{s.role}-accuracy", s.metric)
            self._put_eval_time(out, missing, labels, v, values, refused, s, done)
        return CompatInfo(out, call, missing, labels)

    def _put_eval_time(self, out, missing, labels, v, values, refused, s, done):
        keys = (f"{s.role}-per-time", f"{s.role}-all-time")
        recorded = values.get(eval_time_metric(s.metric))
        if recorded is not None:  # the official files' own seconds: no emulation needed
            out[keys[0]], out[keys[1]] = recorded / done, recorded
            return
        if "eval-time" not in self._emulate:
            missing.update(dict.fromkeys(keys, NO_EVAL_TIME))
            return
        per_epoch = self._eval_seconds(v, values, s.images, done)
        if per_epoch is None:
            why = "is estimated from the training time, which " + reason(TIME, refused, v)
            missing.update(dict.fromkeys(keys, why))
            return
        out[keys[0]], out[keys[1]] = per_epoch, per_epoch * done
        labels.update(dict.fromkeys(keys, "eval-time"))
        self.record_.note("eval-time")

    def simulate_train_eval(
        self,
        arch: Any,
        dataset: str,
        iepoch: int | None = None,
        hp: str = "12",
        account_time: bool = True,
    ) -> tuple[float, float | None, float, float]:
        """Train and evaluate ``arch`` on the search split of ``dataset`` (cifar10 means
        cifar10-valid), one random trial: ``(valid_acc, latency, time_cost, total_time)``.

        ``time_cost`` is the training time plus one epoch's validation time, as the official
        call charges; ``total_time`` is the running total (:attr:`used_time`) when
        ``account_time``.
        """
        args = {"arch": arch, "dataset": dataset, "hp": hp}
        if iepoch is not None:
            args = {"arch": arch, "dataset": dataset, "iepoch": iepoch, "hp": hp}
        call = Call("simulate_train_eval", args)
        index = self._index(arch, call)
        name = SEARCH_DATASETS.get(dataset) if isinstance(dataset, str) else None
        if name is None:
            raise UnknownNameError("dataset", dataset, SEARCH_DATASETS, f"in {call}")
        try:
            info = self._more_info(index, name, iepoch, hp, True, call)
            valid_acc = info["valid-accuracy"]
            time_cost = info["train-all-time"] + info["valid-per-time"]
            latency = self._latency(index, name, call)
        except UnavailableError as err:
            self.record_.refused(err, "simulate_train_eval")
            raise
        if account_time:
            self._used_time += time_cost
        return valid_acc, latency, time_cost, self._used_time

    def _latency(self, index: int, dataset: str, call: Call) -> float | None:
        """The recorded latency in seconds, else ``None`` by the no-latency emulation."""
        seconds = self._recorded_latency(index, view(dataset, str(call)))
        if seconds is not None:
            return seconds
        if "no-latency" not in self._emulate:
            raise UnavailableError(f"{call}: 'latency' {NO_LATENCY}")
        self.record_.note("no-latency")
        return None

    def _recorded_latency(self, index: int, v: DatasetView) -> float | None:
        """The official files' latency of ``index`` in seconds, where the table holds it."""
        if not self._held(v.task, LATENCY):
            return None
        held, _, _ = self._fetch.fetch(index, v.task, (LATENCY,))
        return held[LATENCY] / 1000.0 if LATENCY in held else None

    def get_latency(self, index: Any, dataset: str, hp: str = "12") -> float | None:
        """The latency in seconds where the table holds the official files' value; else it
        raises, or answers ``None`` with the ``no-latency`` emulation."""
        call = Call("get_latency", {"index": index, "dataset": dataset, "hp": hp})
        check_hp(hp, call)
        return self._latency(self._index(index, call), dataset, call)

    def get_cost_info(self, index: Any, dataset: str, hp: str = "12") -> CompatInfo:
        """Official cost dict: ``flops``, ``params``, ``latency``, ``T-train@epoch``,
        ``T-train@total`` and ``T-<set>@epoch`` / ``T-<set>@total`` per evaluated set."""
        call = Call("get_cost_info", {"index": index, "dataset": dataset, "hp": hp})
        arch = self._index(index, call)
        hp, _ = check_hp(hp, call)
        return self._cost_info(arch, dataset, hp, call)

    def _cost_info(
        self, arch: int, dataset: str, hp: str, call: Call, seed: int | None = None
    ) -> CompatInfo:
        """:meth:`get_cost_info` of validated arguments (of one training run with ``seed``):
        also ``ArchResults.get_compute_costs`` and ``ResultsCount.get_times``."""
        v, values, refused, emulated, done = self._record(arch, dataset, hp, None, seed, call)
        out: dict[str, Any] = {}
        missing: dict[str, str] = {"flops": NO_FLOPS}
        labels: dict[str, str] = {}
        params, params_refused, _ = self._fetch.fetch(arch, v.task, (PARAMS,))
        if PARAMS in params:
            out["params"] = params[PARAMS]
        else:
            missing["params"] = reason(PARAMS, params_refused, v)
        latency = self._recorded_latency(arch, v)
        if latency is not None:
            out["latency"] = latency
        elif "no-latency" in self._emulate:
            out["latency"] = None
            labels["latency"] = "no-latency"
            self.record_.note("no-latency")
        else:
            missing["latency"] = NO_LATENCY
        total = values.get(TIME) if v.train_time else None
        if total is None:
            missing["T-train@epoch"] = missing["T-train@total"] = reason(v.train_time, refused, v)
        else:
            out["T-train@epoch"], out["T-train@total"] = total / done, total
            if TIME in emulated:
                labels["T-train@epoch"] = labels["T-train@total"] = emulated[TIME]
        for s in v.sets:
            role_out: dict[str, Any] = {}
            role_missing: dict[str, str] = {}
            role_labels: dict[str, str] = {}
            self._put_eval_time(role_out, role_missing, role_labels, v, values, refused, s, done)
            names = {
                f"{s.role}-per-time": f"T-{s.set_name}@epoch",
                f"{s.role}-all-time": f"T-{s.set_name}@total",
            }
            out.update({names[k]: x for k, x in role_out.items()})
            missing.update({names[k]: x for k, x in role_missing.items()})
            labels.update({names[k]: x for k, x in role_labels.items()})
        return CompatInfo(out, call, missing, labels)
