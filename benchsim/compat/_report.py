"""The descriptive calls of the topology APIs: ``find_best``, the info string, net configs.

``query_info_str_by_arch`` is text for a person (the official scripts log it): it keeps the
official layout and writes ``n/a`` where benchsim's data holds no value (losses, FLOPs, the
latency), ending with one line saying what ``n/a`` means, so nothing is made up and nothing
fails at the end of a search.  Every call that returns a value for code to use raises instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchsim.compat._answers import PARAMS, Call, check_hp, reason
from benchsim.compat._views import HP_EPOCHS, VIEWS, remap_set, view
from benchsim.errors import FidelityError, UnavailableError

NA = "n/a"


def _pct(value: float | None) -> str:
    return NA if value is None else f"{value:.2f}%"


class ReportMixin:
    """``find_best``, ``query_info_str_by_arch`` / ``query_by_arch``, ``show``,
    ``get_net_config``; the host provides what :class:`~._answers.AnswersMixin` needs."""

    bench: Any
    _metric_format: str

    def find_best(
        self,
        dataset: str,
        metric_on_set: str,
        flop_max: float | None = None,
        param_max: float | None = None,
        hp: str = "12",
        enforce_all: bool | None = None,
    ) -> tuple[int, float]:
        """``(index, accuracy)`` of the most accurate architecture on ``metric_on_set`` of
        ``dataset`` (seed means; ties go to the lowest index), under ``param_max`` MB of
        parameters.  ``flop_max`` raises: no FLOPs are recorded.  Architectures with no
        recorded value are skipped, as the official API skips unevaluated ones.
        """
        call = Call(
            "find_best",
            {
                "dataset": dataset,
                "metric_on_set": metric_on_set,
                "flop_max": flop_max,
                "param_max": param_max,
                "hp": hp,
            },
        )
        hp, epochs = check_hp(hp, call)
        name, set_name = remap_set(dataset, metric_on_set)
        v = view(name, str(call))
        if set_name == "train":
            metric = v.train_metric
        else:
            found = v.eval_set(set_name)
            if found is None:
                sets = ", ".join(["train", *(s.set_name for s in v.sets)])
                raise UnavailableError(
                    f"{call}: {name} has no set {set_name!r}; sets there: {sets}"
                )
            metric = found.metric
        if metric is None:
            raise UnavailableError(f"{call}: the {set_name} accuracy of {name} {v.lacking}")
        if flop_max is not None:
            raise UnavailableError(f"{call}: 'flops' is not in benchsim's data (no FLOPs)")
        values = self._all_values(v, metric, hp, epochs, call)
        if param_max is not None:
            params = self.bench.query_many(np.arange(len(values)), v.task, PARAMS).values
            values = np.where(params <= float(param_max), values, np.nan)
        if np.isnan(values).all():
            raise UnavailableError(f"{call}: no architecture has a recorded {metric} here")
        best = int(np.nanargmax(values))
        return best, float(values[best])

    def _all_values(self, v, metric: str, hp: str, epochs: int, call: Call) -> np.ndarray:
        task = self.bench.task_info(v.task)
        everyone = np.arange(self.bench.space.size)
        if epochs == task.epochs:
            return np.asarray(self.bench.query_many(everyone, v.task, metric).values, float)
        try:  # the separate schedule: per-epoch data, one query per architecture
            self.bench.query(0, v.task, metric, schedule=epochs)
        except FidelityError as err:
            proxy = "hp12-proxy" in self.settings.emulate and metric == task.search_metric  # type: ignore[attr-defined]
            if not proxy:
                raise UnavailableError(
                    f"{call}: {metric} of the {epochs}-epoch schedule is not in benchsim's "
                    f"data ({err})"
                ) from None
            self.record_.note("hp12-proxy", everyone.size)  # type: ignore[attr-defined]
            return np.asarray(self.bench.query_many(everyone, v.task, metric).values, float)
        out = np.full(everyone.size, np.nan)
        for i in everyone.tolist():
            try:
                out[i] = self.bench.query(i, v.task, metric, schedule=epochs).value
            except FidelityError:  # an architecture without a record is skipped
                continue
        return out

    def query_info_str_by_arch(self, arch: Any, hp: str = "12") -> str:
        """The official summary text of ``arch`` on the four datasets (``n/a``: not held)."""
        call = Call("query_info_str_by_arch", {"arch": arch, "hp": hp})
        index = self._index(arch, call)  # type: ignore[attr-defined]
        hp, _ = check_hp(hp, call)
        lines = [
            self.space.format(index),
            f"datasets : {list(VIEWS)}, extra-info : arch-index={index}",
        ]  # type: ignore[attr-defined]
        lacking = set()
        for name, v in VIEWS.items():
            _, values, refused, _, _ = self._record(index, name, hp, None, None, call)  # type: ignore[attr-defined]
            params = self._fetch.fetch(index, v.task, (PARAMS,))[0].get(PARAMS)  # type: ignore[attr-defined]
            size = NA if params is None else f"{params:.3f}"
            lines.append(f"{name:14s} FLOP={NA} M, Params={size} MB, latency={NA} ms.")
            parts = []
            shown_sets = [s for s in v.sets if s.role != "valtest"]
            if name == "cifar10-valid":  # the official text shows its validation set only
                shown_sets = shown_sets[:1]
            for label, metric in (
                ("train", v.train_metric),
                *((s.role, s.metric) for s in shown_sets),
            ):
                value = values.get(metric) if metric else None
                if value is None:
                    lacking.add(f"{name} {label} accuracy ({reason(metric, refused, v)})")
                shown = "test " if label == "test" and name == "cifar10" else label
                text = self._metric_format.format(loss=NA, acc=_pct(value))
                parts.append(f"{shown} : [{text}]")
            lines.append(f"{name:14s} " + ", ".join(parts))
        note = "n/a: not in benchsim's data (no losses, FLOPs or latency"
        if lacking:
            note += "; also " + "; ".join(sorted(lacking))
        lines.append(note + f"); answered by {self.settings.describe()}, hp={hp}")  # type: ignore[attr-defined]
        return "\n".join(lines)

    def query_by_arch(self, arch: Any, hp: str) -> str:
        """Same as :meth:`query_info_str_by_arch` (the old NAS-Bench-201 name)."""
        return self.query_info_str_by_arch(arch, hp)

    def show(self, index: int = -1) -> None:
        """Print the info text of architecture ``index`` for each ``hp`` (``-1``: of every
        architecture)."""
        indices = range(self.bench.space.size) if index < 0 else [self._index(index, "show")]  # type: ignore[attr-defined]
        for i in indices:
            for hp in HP_EPOCHS:
                print(f"{'>' * 40} {HP_EPOCHS[hp]:03d} epochs {'>' * 40}")
                print(self.query_info_str_by_arch(i, hp))
            print("<" * 40 + "------------" + "<" * 40)

    def get_net_config(self, index: Any, dataset: str) -> dict[str, Any]:
        """What builds the network: NAS-Bench-201's fixed macro skeleton (C=16 channels,
        N=5 cells per stage) around the architecture's cell, and the dataset's classes."""
        call = Call("get_net_config", {"index": index, "dataset": dataset})
        arch = self._index(index, call)  # type: ignore[attr-defined]
        v = view(dataset, str(call))
        return {
            "name": "infer.tiny",
            "C": 16,
            "N": 5,
            "arch_str": self.space.format(arch),  # type: ignore[attr-defined]
            "num_classes": v.num_classes,
        }
