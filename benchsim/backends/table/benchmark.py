"""The table backend: answers queries from an installed table folder (schema: data/README.md).

Opening reads ``meta.json`` and memory-maps ``final.arrow``; nothing else is read until a query
needs it.  Final (end-of-schedule, seed-mean) values come straight from the mapped columns at
row ``task_position * size + arch``; per-seed values (``seeds.parquet``) and learning curves
(``epochs.parquet``) are read into dense numpy arrays on the first query that names a seed or
an epoch.

Cost semantics (what a simulated clock is charged), from the table's ``train_time_s``, the
recorded wall-clock time of the task's standard schedule (``TaskInfo.epochs`` epochs: 200 for
NB201, 10-30 for TransNAS-Bench-101, whose ``time_elapsed`` it is):

- a final value costs ``train_time_s`` (the seed's own time when a seed is named and
  ``seeds.parquet`` records one, else the seed-mean time);
- epoch ``e`` (0-based) of any schedule costs ``train_time_s * (e + 1) / TaskInfo.epochs``:
  one epoch of an architecture takes the same time whatever the schedule length.  NB201's
  separate 12-epoch schedule therefore costs ``train_time_s * 12 / 200`` in full, the proxy
  for the official ``hp="12"`` time that the NB201 protocol charges (the tables do not
  record the 12-epoch run's own time);
- a value the table does not record is NaN and is never imputed.  :meth:`query` raises
  :class:`~benchsim.errors.FidelityError` when the cost is not recorded (a clock cannot charge
  NaN); :meth:`query_many` gives NaN value and NaN cost for such questions instead, so that
  whole-space scans over partly covered tables still work.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchsim._checks import check_int
from benchsim._paths import tables_dir
from benchsim.backends.base import (
    BatchResult,
    Benchmark,
    Protocol,
    Result,
    SeedLike,
    TaskInfo,
    Traits,
)
from benchsim.backends.table._emulation import TableWeightSharing
from benchsim.backends.table._epochs import MEAN_SEED, EpochTable
from benchsim.backends.table._layout import (
    FinalColumns,
    install_hint,
    read_meta,
    verify_meta,
    verify_table_file,
)
from benchsim.backends.table._seeds import SeedTable, read_seed_table
from benchsim.backends.table._weight_sharing import SupernetEmulator, WeightSharingSettings
from benchsim.catalog import PROXY_SCHEDULES, SEED_METRICS
from benchsim.errors import (
    ConfigError,
    CorruptDataError,
    FidelityError,
    UnknownNameError,
)
from benchsim.spaces import ArchLike, get_space

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TIME = "train_time_s"


def _check_rng_seed(seed: object) -> None:
    if seed is not None and (
        not isinstance(seed, (int, np.integer)) or isinstance(seed, (bool, np.bool_))
    ):
        raise ConfigError(f"seed == {seed!r}, must be an int or None (fresh OS entropy)")


class TableBenchmark(Benchmark):
    """A benchmark answered from the tables in ``<root>/<name>/``.

    Parameters
    ----------
    name
        Table folder name: ``"nb201"``, ``"tnb101-micro"``, ``"tnb101-macro"`` or an imported
        table.  Opening does not install: :func:`benchsim.benchmark` does that.
    root
        Folder holding the table folders; default ``$BENCHSIM_HOME/tables``.
    seed
        Seed of :attr:`rng_`, the generator behind ``seed="sample"`` queries, and of the
        weight-sharing emulation's draws (``None``: fresh entropy, not reproducible).
    weight_sharing
        How ``train_pass`` / ``sampled_eval`` are answered (default: a one-shot supernet,
        recorded where the table has it, modelled elsewhere; see docs/weight_sharing.md).

    Attributes
    ----------
    folder_
        The opened table folder.
    meta_
        Parsed ``meta.json`` (sources, checksums, creation time).
    rng_
        ``numpy.random.Generator`` drawing recorded seeds; see :meth:`reseed`.
    weight_sharing
        The weight-sharing steps (:class:`~._emulation.TableWeightSharing`), answered by the
        run's :class:`~._weight_sharing.SupernetEmulator` (``weight_sharing.emulator``).

    Examples
    --------
    >>> bench = TableBenchmark("nb201")  # doctest: +SKIP
    >>> bench.query(0, "cifar10", "test_acc").value  # doctest: +SKIP
    85.86333333333334
    """

    backend = "table"
    traits = Traits(
        simulated_time=True, recorded_costs=True, free_test_lookups=True, recorded_optimum=True
    )

    def __init__(
        self,
        name: str,
        *,
        root: Path | None = None,
        seed: int | None = 0,
        weight_sharing: WeightSharingSettings | None = None,
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(
                f"benchmark name {name!r} is not a table folder name (letters, digits, '.', "
                "'_', '-'), e.g. 'nb201'"
            )
        _check_rng_seed(seed)
        self.name, self.root, self.seed = name, root, seed
        folder = Path(root) if root is not None else tables_dir()
        self.folder_ = folder / name
        self._fix = f"delete {self.folder_} and {install_hint(name)}"
        meta = read_meta(self.folder_, name)
        verify_meta(self.folder_, name)  # meta.json holds the hashes of everything else
        tables = meta.raw.get("tables", {})
        self._verify = functools.partial(verify_table_file, tables=tables, name=name)
        try:
            self.space = get_space(meta.space)
        except UnknownNameError:
            raise CorruptDataError(
                f"{self.folder_ / 'meta.json'} names unknown search space {meta.space!r}; "
                f"{self._fix}"
            ) from None
        size = self.space.size
        if meta.raw.get("size", size) != size:
            raise CorruptDataError(
                f"{self.folder_ / 'meta.json'} says size {meta.raw['size']}, space {meta.space} "
                f"has {size} architectures; {self._fix}"
            )
        self.meta_ = meta.raw
        self._tasks = meta.tasks
        self._codes = {task: code for code, task in enumerate(meta.tasks)}
        self._verify(self.folder_ / "final.arrow")
        self.final_ = FinalColumns(self.folder_ / "final.arrow", name, len(meta.tasks), size)
        self._time = (
            self.final_.column(TIME)
            if TIME in self.final_.names
            else np.full(len(meta.tasks) * size, np.nan)
        )
        self._plans: dict[tuple[str, tuple[str, ...]], tuple] = {}
        self._sample_plans: dict[tuple[str, tuple[str, ...]], tuple] = {}
        self._seeds: SeedTable | None = None
        self._epochs = EpochTable(
            self.folder_ / "epochs.parquet", self.tasks, size, self._fix, self._verify
        )
        self.rng_ = np.random.default_rng(seed)
        settings = WeightSharingSettings() if weight_sharing is None else weight_sharing
        entropy = np.random.SeedSequence(seed).entropy
        emulator = SupernetEmulator(settings, entropy)  # type: ignore[arg-type]
        self.weight_sharing: TableWeightSharing = TableWeightSharing(self, self.final_, emulator)

    def reseed(self, seed: int | np.random.Generator | None) -> None:
        """Replace :attr:`rng_` (an int, ``None`` or a Generator to share with the caller)."""
        if not isinstance(seed, np.random.Generator):
            _check_rng_seed(seed)
        self.rng_ = np.random.default_rng(seed)

    def state_dict(self) -> dict[str, object]:
        """The generator behind ``seed="sample"`` and the emulated supernets' training state
        (all a run checkpoint needs: the emulation re-draws its estimates from its entropy)."""
        ws = self.weight_sharing.emulator
        return {
            "rng": self.rng_.bit_generator.state,
            "weight_sharing": {**ws.state_dict(), "entropy": ws.entropy},
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        """Restore :meth:`state_dict` output."""
        self.rng_.bit_generator.state = state["rng"]
        ws = state.get("weight_sharing")
        if isinstance(ws, dict):
            emulator = self.weight_sharing.emulator
            if int(ws["entropy"]) != emulator.entropy:
                emulator = self.weight_sharing.emulator = SupernetEmulator(
                    emulator.settings, ws["entropy"]
                )
            emulator.load_state_dict(ws)

    def __reduce__(self):
        # Memory maps do not pickle: a copy (e.g. in a worker process) reopens the folder and
        # continues the generator and the emulation where this one stands.
        return _reopen, (
            self.name,
            self.folder_.parent,
            self.seed,
            self.weight_sharing.emulator.settings,
            self.state_dict(),
        )

    # ------------------------------------------------------------------ hooks of Benchmark
    def answer_notes(self) -> dict[str, object]:
        """How weight-sharing jobs are answered (:meth:`TableWeightSharing.describe`)."""
        return {"weight_sharing": self.weight_sharing.describe()}

    def check_run(self, tasks: Sequence[str]) -> list[str]:
        """An unreachable ``ws_tau`` is refused before a run writes anything
        (:meth:`TableWeightSharing.check_tasks`); warnings where a setting has no effect."""
        return self.weight_sharing.check_tasks(tasks)

    def evaluation_protocol(self, task: str) -> Protocol:
        """The protocol of the paper that made the benchmark, as closely as the recorded data
        allows: NB201's 12-epoch proxy (:data:`~benchsim.catalog.PROXY_SCHEDULES`): the
        recorded validation accuracy of one sampled seed where per-seed values exist (the seed
        mean otherwise), charged ``train_time_s * 12 / 200``.  Spaces without a proxy: the
        recorded (best-epoch) value, charged the recorded training time."""
        info = self.task_info(task)
        metric, source = info.search_metric, "recorded:standalone"
        proxy = PROXY_SCHEDULES.get(self.space.name)
        if proxy is None:
            return Protocol(metric, note="recorded value, full training time", source=source)
        per_seed = metric in SEED_METRICS.get(self.space.name, {}).get(info.name, ())
        epochs, charged = info.epochs, f"{proxy.epochs}/{info.epochs}"
        if per_seed:
            note = f"one sampled seed's {epochs}-epoch {metric}, charged train_time_s * {charged}"
        else:
            note = (
                f"seed-mean {epochs}-epoch {metric} (no per-seed values), charged "
                f"train_time_s*{charged}"
            )
        seed = "sample" if per_seed else None
        return Protocol(metric, seed, proxy.epochs / epochs, note, source=source)

    def provenance(self) -> dict[str, object]:
        """The folder, its sources and the checksums ``meta.json`` recorded for its files."""
        keys = ("benchmark", "space", "schema_version", "tables", "sources", "benchsim_version")
        return {"folder": str(self.folder_), **{k: self.meta_.get(k) for k in keys}}

    # ------------------------------------------------------------------ single queries
    def _query(
        self,
        index: int,
        task: str,
        metrics: tuple[str, ...],
        *,
        epoch: int | None,
        seed: SeedLike,
        schedule: int | None,
    ) -> Result:
        if epoch is None and seed is None and schedule is None:
            # Fast path: final seed-mean values, plain float reads from the mapped columns.
            plan = self._plans.get((task, metrics))
            if plan is None:
                plan = self._plan(task, metrics)
            row = plan[0] + index
            cost = self._time.item(row)
            if cost != cost:
                self._no_cost(index, task)
            if plan[1] is not None:
                values = {plan[1]: plan[2].item(row)}
            else:
                values = {m: column.item(row) for m, column in plan[3]}
            return Result(index, task, values, cost, None, None, plan[4])
        if seed == "sample" and epoch is None and schedule is None:
            # The path every NB201 search takes (its protocol samples a training seed).
            sampled = self._sample_plans.get((task, metrics))
            if sampled is None:
                sampled = self._sample_plan(task, metrics)
            if sampled:
                offset, counts, width, ids, columns, times, fallback, epochs = sampled
                row = offset + index
                n = counts.item(row)
                if n:
                    flat = row * width + int(self.rng_.random() * n)
                    cost = times.item(flat)
                    if cost != cost:
                        cost = fallback.item(row)
                    if cost == cost:
                        if len(columns) == 1:  # one metric: no comprehension to run
                            values = {columns[0][0]: columns[0][1].item(flat)}
                        else:
                            values = {m: column.item(flat) for m, column in columns}
                        return Result(index, task, values, cost, ids.item(flat), None, epochs)
        return self._query_fidelity(index, task, metrics, epoch, seed, schedule)

    def _evaluator(
        self, task: str, metric: str, seed: SeedLike, schedule: int | None
    ) -> Callable[[ArchLike], tuple[float, float]]:
        """The fast paths of :meth:`_query` without a :class:`Result` (the two a search
        takes: the seed mean, and a recorded seed drawn per answer); anything else, and an
        answer those paths do not hold (no recorded seed or time), through :meth:`_query`."""
        general = super()._evaluator(task, metric, seed, schedule)
        sampled = self._sample_plan(task, (metric,)) if seed == "sample" else None
        if schedule is not None or not (seed is None or sampled):
            return general
        size, index_of = self.space.size, self.space.index
        if seed is None:
            offset, _, values, _, _ = self._plan(task, (metric,))
            times = self._time

            def mean(arch: ArchLike) -> tuple[float, float]:
                row = offset + (arch if type(arch) is int and 0 <= arch < size else index_of(arch))
                cost = times.item(row)
                return (values.item(row), cost) if cost == cost else general(arch)

            return mean
        offset, counts, width, _, ((_, values),), times, fallback, _ = sampled

        def draw(arch: ArchLike) -> tuple[float, float]:
            index = arch if type(arch) is int and 0 <= arch < size else index_of(arch)
            row = offset + index
            n = counts.item(row)
            if n:  # as in _query: the seed's own time, else the mean time
                flat = row * width + int(self.rng_.random() * n)
                cost = times.item(flat)
                if cost != cost:
                    cost = fallback.item(row)
                if cost == cost:
                    return values.item(flat), cost
            result = self._query_fidelity(index, task, (metric,), None, seed, None)  # as _query
            return result.metrics[metric], result.cost

        return draw

    def _batch_evaluator(
        self, task: str, metric: str, seed: SeedLike, schedule: int | None
    ) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """:meth:`_evaluator`'s two fast paths over arrays: one draw of ``rng_.random(n)``
        gives the numbers ``n`` single draws would.  A batch with an architecture those paths
        do not hold (no recorded seed or time) is answered one at a time by
        :meth:`_evaluator`, before anything is drawn, so the draws stay the same."""
        one = self._evaluator(task, metric, seed, schedule)

        def each(archs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            answers = [one(arch) for arch in archs.tolist()]
            values = np.array([value for value, _ in answers], dtype=np.float64)
            return values, np.array([cost for _, cost in answers], dtype=np.float64)

        sampled = self._sample_plan(task, (metric,)) if seed == "sample" else None
        if schedule is not None or not (seed is None or sampled):
            return each
        if seed is None:
            offset, _, column, _, _ = self._plan(task, (metric,))
            times = self._time

            def mean(archs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                rows = offset + self.space.indices(archs)
                costs = times[rows]
                if np.isnan(costs).any():
                    return each(archs)
                return np.asarray(column[rows], dtype=np.float64), costs

            return mean
        offset, counts, width, _, ((_, column),), times, fallback, _ = sampled

        def draw(archs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rows = offset + self.space.indices(archs)
            held = counts[rows]
            if not held.all() or np.isnan(fallback[rows]).any():
                return each(archs)  # as _evaluator, which leaves these to _query
            flat = rows * width + (self.rng_.random(rows.size) * held).astype(np.int64)
            costs = times[flat]
            missing = np.isnan(costs)
            if missing.any():  # the seed's own time, else the mean time
                costs[missing] = fallback[rows[missing]]
            return np.asarray(column[flat], dtype=np.float64), costs

        return draw

    def _sample_plan(self, task: str, metrics: tuple[str, ...]) -> tuple | None:
        """Flat per-seed arrays for ``seed="sample"`` queries of ``metrics`` on ``task``
        (``()`` when a metric has no per-seed values there: the general path explains)."""
        table = self._seed_table()
        if any(m not in table.metrics_by_task[task] for m in metrics):
            plan: tuple = ()
        else:
            width = table.seed_ids.shape[1]
            times = table.values.get(TIME)
            plan = (
                self._codes[task] * self.space.size,
                table.counts,
                width,
                table.seed_ids.reshape(-1),
                tuple((m, table.values[m].reshape(-1)) for m in metrics),
                times.reshape(-1) if times is not None else np.full(table.seed_ids.size, np.nan),
                self._time,
                self._tasks[task].epochs,
            )
        self._sample_plans[(task, metrics)] = plan
        return plan

    def _plan(self, task: str, metrics: tuple[str, ...]) -> tuple:
        """Cached per (task, metrics): row offset and the mapped columns to read."""
        pairs = tuple((m, self.final_.column(m)) for m in metrics)
        single = pairs[0] if len(pairs) == 1 else (None, None)
        offset = self._codes[task] * self.space.size
        plan = (offset, single[0], single[1], pairs, self._tasks[task].epochs)
        self._plans[(task, metrics)] = plan
        return plan

    def _query_fidelity(
        self,
        index: int,
        task: str,
        metrics: tuple[str, ...],
        epoch: int | None,
        seed: SeedLike,
        schedule: int | None,
    ) -> Result:
        """Queries naming a seed, an epoch or a schedule."""
        info = self._tasks[task]
        if schedule is None:
            schedule = info.epochs
        elif type(schedule) is not int or schedule < 1:  # plain ints skip the call
            check_int("schedule", schedule, 1)
        if epoch is not None and (type(epoch) is not int or epoch < 0):
            check_int("epoch", epoch, 0)
        schedule = int(schedule)
        row = self._codes[task] * self.space.size + index
        if epoch is None and schedule == info.epochs:
            if seed is None:
                values = {m: self.final_.column(m).item(row) for m in metrics}
                cost = self._time.item(row)
                if cost != cost:
                    self._no_cost(index, task)
                return Result(index, task, values, cost, None, None, schedule)
            return self._final_by_seed(index, task, row, metrics, seed, info)
        return self._from_curves(index, task, row, metrics, epoch, seed, schedule, info)

    def _final_by_seed(
        self,
        index: int,
        task: str,
        row: int,
        metrics: tuple[str, ...],
        seed: SeedLike,
        info: TaskInfo,
    ) -> Result:
        table = self._seed_table()
        have = table.metrics_by_task[task]
        lacking = [m for m in metrics if m not in have]
        if lacking:
            raise FidelityError(
                f"metric {lacking[0]!r} has no per-seed values on task {task} of {self.name}; "
                f"per-seed metrics there: {', '.join(have) or 'none'} (seed=None gives the mean)"
            )
        recorded = table.recorded(row)
        if not recorded:
            raise FidelityError(
                f"architecture {index} has no per-seed record on task {task} of {self.name}; "
                "use seed=None for its seed mean",
                arch=index,
            )
        slot = self._pick_seed(recorded, seed, index, f"on task {task} of {self.name}")
        values = {m: float(table.values[m][row, slot]) for m in metrics}
        cost = self._seed_time(table, task, row, slot, index)
        return Result(index, task, values, cost, recorded[slot], None, info.epochs)

    def _from_curves(
        self,
        index: int,
        task: str,
        row: int,
        metrics: tuple[str, ...],
        epoch: int | None,
        seed: SeedLike,
        schedule: int,
        info: TaskInfo,
    ) -> Result:
        where = f"schedule {schedule} of task {task} ({self.name})"
        curves = self._epochs.curves(task).get(schedule)
        if curves is None:
            raise FidelityError(
                f"schedule {schedule} is not recorded for task {task} of {self.name}; "
                f"{self._epochs.describe(task)}"
            )
        last = schedule - 1 if epoch is None else int(epoch)
        if last > curves.last_epoch:
            raise FidelityError(
                f"epoch {last} is out of range for {where}; {self._epochs.describe(task)}"
            )
        slot = int(curves.slot[index])
        if slot < 0:
            raise FidelityError(
                f"architecture {index} has no per-epoch record in {where}: "
                f"{curves.coverage(self.space.size)}; {self._epochs.describe(task)}",
                arch=index,
            )
        lacking = [m for m in metrics if m not in curves.values]
        if lacking:
            raise FidelityError(
                f"metric {lacking[0]!r} has no per-epoch values in {where}; "
                f"{self._epochs.describe(task)}"
            )
        present = [s for s, ok in zip(curves.seeds, curves.present[slot], strict=True) if ok]
        if seed is None:
            if MEAN_SEED not in present:
                raise FidelityError(
                    f"{where} records no seed-mean curve for architecture {index}, only seeds "
                    f"{present}; give seed= one of them",
                    arch=index,
                )
            used = MEAN_SEED
        else:
            runs = [s for s in present if s != MEAN_SEED]
            if not runs:
                raise FidelityError(
                    f"{where} records only the seed-mean curve for architecture {index}; "
                    "use seed=None",
                    arch=index,
                )
            used = runs[self._pick_seed(runs, seed, index, f"in {where}")]
        k = curves.seeds.index(used)
        values = {m: float(curves.values[m][slot, k, last]) for m in metrics}
        total = self._time.item(row)
        if used != MEAN_SEED and TIME in self._seed_table().metrics_by_task[task]:
            table = self._seed_table()
            slots = table.recorded(row)
            if used in slots:
                total = self._seed_time(table, task, row, slots.index(used), index)
        if total != total:
            self._no_cost(index, task)
        cost = total * (last + 1) / info.epochs
        return Result(
            index, task, values, cost, None if used == MEAN_SEED else used, last, schedule
        )

    def _recorded_seeds(
        self, index: int, task: str, metric: str, schedule: int | None
    ) -> tuple[int, ...]:
        """Seeds with a value of ``metric``: the final per-seed table (standard schedule) and
        the per-seed learning curves of ``schedule`` (their last epoch)."""
        info = self._tasks[task]
        schedule = info.epochs if schedule is None else schedule
        found: set[int] = set()
        row = self._codes[task] * self.space.size + index
        if schedule == info.epochs:
            table = self._seed_table()
            if metric in table.metrics_by_task[task]:
                values = table.values[metric][row]
                found.update(s for k, s in enumerate(table.recorded(row)) if values[k] == values[k])
        curves = self._epochs.curves(task).get(schedule)
        if (
            curves is not None
            and metric in curves.values
            and curves.slot[index] >= 0
            and curves.last_epoch == schedule - 1
        ):
            slot = int(curves.slot[index])
            last = curves.values[metric][slot, :, curves.last_epoch]
            found.update(
                s for k, s in enumerate(curves.seeds) if s != MEAN_SEED and last[k] == last[k]
            )
        return tuple(sorted(found))

    def _pick_seed(self, recorded: list[int], seed: SeedLike, index: int, where: str) -> int:
        """Slot of the seed to use among ``recorded`` (drawn with :attr:`rng_` for 'sample':
        ``int(u * n)`` for one uniform ``u``, as :meth:`_query_many` and the fast path draw)."""
        if isinstance(seed, str):  # "sample": validated by Benchmark.query
            return int(self.rng_.random() * len(recorded))
        if int(seed) not in recorded:
            raise FidelityError(
                f"seed {int(seed)} is not recorded for architecture {index} {where}; "
                f"recorded seeds: {', '.join(map(str, recorded))}",
                arch=index,
            )
        return recorded.index(int(seed))

    def _seed_time(self, table: SeedTable, task: str, row: int, slot: int, index: int) -> float:
        """Training time of one recorded seed (the seed mean's when not recorded per seed)."""
        cost = float("nan")
        if TIME in table.metrics_by_task[task]:
            cost = float(table.values[TIME][row, slot])
        if cost != cost:
            cost = self._time.item(row)
        if cost != cost:
            self._no_cost(index, task)
        return cost

    def _no_cost(self, index: int, task: str) -> None:
        size, code = self.space.size, self._codes[task]
        known = int(np.count_nonzero(~np.isnan(self._time[code * size : (code + 1) * size])))
        raise FidelityError(
            f"architecture {index} has no recorded {TIME} on task {task} of {self.name}, so "
            f"the query has no cost; the table records it for {known} of {size} architectures",
            arch=index,
        )

    def _seed_table(self) -> SeedTable:
        if self._seeds is None:
            self._seeds = read_seed_table(
                self.folder_ / "seeds.parquet", self.tasks, self.space.size, self._fix, self._verify
            )
        return self._seeds

    # ------------------------------------------------------------------ vectorised queries
    def _query_many(
        self, indices: np.ndarray, task_codes: np.ndarray | int, metric: str, *, seed: SeedLike
    ) -> BatchResult:
        column, size = self.final_.column(metric), self.space.size
        if seed is None:
            if isinstance(task_codes, (int, np.integer)):
                low = int(task_codes) * size
                block = slice(low, low + size)
                return BatchResult(column[block][indices], self._time[block][indices])
            rows = task_codes * size
            rows += indices
            return BatchResult(column[rows], self._time[rows])
        return self._many_by_seed(indices, task_codes, metric, seed)

    def _many_by_seed(
        self, indices: np.ndarray, task_codes: np.ndarray | int, metric: str, seed: SeedLike
    ) -> BatchResult:
        """Per-seed batch: NaN value and cost where a row lacks the seed asked for."""
        table, size = self._seed_table(), self.space.size
        rows = np.asarray(task_codes * size + indices, dtype=np.int64)
        if isinstance(task_codes, (int, np.integer)):
            held = [self.tasks[int(task_codes)]]
        else:
            counts = np.bincount(task_codes.ravel(), minlength=len(self.tasks))
            held = [t for t, n in zip(self.tasks, counts, strict=True) if n]
        for task in held:
            if metric not in table.metrics_by_task[task]:
                have = ", ".join(table.metrics_by_task[task]) or "none"
                raise FidelityError(
                    f"metric {metric!r} has no per-seed values on task {task} of {self.name}; "
                    f"per-seed metrics there: {have} (seed=None gives the mean)"
                )
        counts = table.counts[rows]
        if isinstance(seed, str):  # "sample": uniform slot below each row's count
            slot = (self.rng_.random(rows.shape) * counts).astype(np.int64)
            missing = counts == 0
        else:
            if not any(int(seed) in table.seeds_by_task[t] for t in held):
                recorded = sorted({s for t in held for s in table.seeds_by_task[t]})
                raise FidelityError(
                    f"seed {int(seed)} is recorded for no architecture on task(s) "
                    f"{', '.join(held)} of {self.name}; recorded seeds: "
                    f"{', '.join(map(str, recorded)) or 'none'}"
                )
            slot = table.slots_of(rows, int(seed))
            missing = slot < 0
            slot[missing] = 0
        values = table.values[metric][rows, slot]
        cost = self._time[rows]
        if TIME in table.values:
            own = table.values[TIME][rows, slot]
            cost = np.where(np.isnan(own), cost, own)
        values[missing] = np.nan
        cost[missing] = np.nan
        return BatchResult(values, cost)


def _reopen(
    name: str, root: Path, seed: int | None, settings: WeightSharingSettings, state: dict
) -> TableBenchmark:
    """Unpickle helper: open the folder again and restore the generator and the emulation."""
    bench = TableBenchmark(name, root=root, seed=seed, weight_sharing=settings)
    bench.load_state_dict(state)
    return bench
