"""Several metrics of one architecture at one fidelity, through ``Benchmark.query`` only.

An official result dict mixes metrics that benchsim's data holds at the asked fidelity with
metrics it does not (a per-seed value where only the seed mean is recorded, an epoch of a
schedule that has no curve).  :class:`Fetcher` asks the backend for all of them in one
:meth:`~benchsim.backends.base.Benchmark.query`; when that fails it asks one metric at a time
and keeps every refusal as the reason for that metric.  A refusal that is not about the
architecture (``FidelityError.arch`` is ``None``: ``metric 'train_acc' has no per-seed values
on task cifar10``) is a property of the table, so it is remembered and the next call asks only
for the rest: the common official calls cost one backend query.

Randomness: ``seed="sample"`` draws one recorded training seed with the benchmark's generator;
when metrics are asked one at a time, the first answer's seed is reused for the others, so
every value of one result comes from the same training run, as in the official API.
"""

from __future__ import annotations

from benchsim.backends.base import Benchmark, SeedLike
from benchsim.errors import FidelityError, UnknownMetricError

_REFUSALS = (FidelityError, UnknownMetricError)


def _kind(seed: SeedLike) -> object:
    return seed if seed is None or isinstance(seed, str) else int


class Fetcher:
    """See the module docstring.  Holds no state beyond the cache of table-level refusals."""

    def __init__(self, bench: Benchmark) -> None:
        self.bench = bench
        self._gaps: dict[tuple, dict[str, str]] = {}

    def fetch(
        self,
        index: int,
        task: str,
        metrics: tuple[str, ...],
        *,
        seed: SeedLike = None,
        epoch: int | None = None,
        schedule: int | None = None,
    ) -> tuple[dict[str, float], dict[str, str], int | None]:
        """``(values, refused, seed)``: the values the backend gave, metric -> reason for the
        ones it refused (a NaN is refused as not measured), and the training seed the values
        come from (``None``: seed mean)."""
        where = (task, _kind(seed), epoch, schedule)
        gaps = self._gaps.get(where)
        ask = metrics if gaps is None else tuple(m for m in metrics if m not in gaps)
        refused = {} if gaps is None else {m: gaps[m] for m in metrics if m in gaps}
        values: dict[str, float] = {}
        used: int | None = None
        if ask:
            try:
                result = self.bench.query(
                    index, task, ask, seed=seed, epoch=epoch, schedule=schedule
                )
            except _REFUSALS as err:
                if len(ask) == 1:  # the group was the one metric: no need to ask again
                    self._refuse(ask[0], err, where, refused)
                else:
                    used = self._one_by_one(
                        index, task, ask, seed, epoch, schedule, values, refused, where
                    )
            else:
                values = dict(result.metrics)
                used = result.seed
        for metric, value in list(values.items()):
            if value != value:
                del values[metric]
                refused[metric] = (
                    f"is recorded as NaN (not measured) for architecture {index} on task {task}"
                )
        return values, refused, used

    def _refuse(
        self, metric: str, err: FidelityError | UnknownMetricError, where: tuple, refused: dict
    ) -> None:
        """Note one refusal; remember it for every architecture unless it is about this one
        (an unknown metric is about none)."""
        refused[metric] = str(err)
        if not (isinstance(err, FidelityError) and err.arch is not None):
            self._gaps.setdefault(where, {})[metric] = str(err)

    def _one_by_one(
        self,
        index: int,
        task: str,
        ask: tuple[str, ...],
        seed: SeedLike,
        epoch: int | None,
        schedule: int | None,
        values: dict[str, float],
        refused: dict[str, str],
        where: tuple,
    ) -> int | None:
        used: int | None = None
        for metric in ask:
            try:
                result = self.bench.query(
                    index, task, metric, seed=seed, epoch=epoch, schedule=schedule
                )
            except _REFUSALS as err:
                self._refuse(metric, err, where, refused)
                continue
            values[metric] = result.value
            if used is None and result.seed is not None:
                used = result.seed
                if isinstance(seed, str):  # one drawn seed for the whole result
                    seed = used
        return used
