"""The report's figures, drawn with matplotlib's Agg canvas (no display, no pyplot state).

* ``anytime.{png,svg}``: best-so-far test metric of the incumbent against simulated GPU-hours per
  task (log x), one panel per task, one line per algorithm: the mean over seeds with a band of
  ± one std.  A line starts when every seed of that algorithm has an incumbent (so the mean is
  over the same runs all along) and ends at its longest run.  The table optimum is dashed.
* ``final_test.{png,svg}``: box plot of the final test metric per algorithm, one panel per task.

:class:`matplotlib.figure.Figure` is used directly instead of ``pyplot``: a library must not
switch the user's global backend or keep figures alive in pyplot's registry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchsim.report._load import SweepData
from benchsim.report._tables import incumbent_at

GRID_POINTS = 200


def _figure(n_panels: int):  # -> matplotlib.figure.Figure
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6 * n_panels + 0.6, 3.8), layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    return fig, axes


def _colors(algos: tuple[str, ...]) -> dict[str, str]:
    from matplotlib import rcParams

    cycle = rcParams["axes.prop_cycle"].by_key()["color"]
    return {algo: cycle[i % len(cycle)] for i, algo in enumerate(algos)}


def _save(fig, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in ("png", "svg"):
        path = out_dir / f"{stem}.{suffix}"
        # No date or software version in the files: the same results give the same bytes.
        meta = {"Software": None} if suffix == "png" else {"Date": None, "Creator": None}
        fig.savefig(path, dpi=150, metadata=meta)
        paths.append(path)
    return paths


def anytime_curves(
    data: SweepData, algo: str, task: str, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and std over seeds of the incumbent's test value on ``grid``, and the seed count.

    Grid points before every seed has an incumbent, or after the longest run, are NaN.
    """
    curves = data.curves[(data.curves["algo"] == algo) & (data.curves["task"] == task)]
    rows, ends = [], []
    for _, group in curves.groupby("run_id", observed=True, sort=False):
        time = group["task_time"].to_numpy()
        rows.append(incumbent_at(time, group["incumbent_test_value"].to_numpy(), grid))
        ends.append(time.max() if time.size else 0.0)
    if not rows:
        nan = np.full(grid.shape, np.nan)
        return nan, nan, 0
    matrix = np.vstack(rows)
    complete = ~np.isnan(matrix).any(axis=0) & (grid <= max(ends))
    safe = np.where(complete, matrix, 0.0)
    spread = safe.std(axis=0, ddof=1) if len(rows) > 1 else np.zeros(grid.shape)
    mean = np.where(complete, safe.mean(axis=0), np.nan)
    std = np.where(complete, spread, np.nan)
    return mean, std, len(rows)


def _log_hours_axis(ax) -> None:
    """Log x with plain-number ticks at 1, 2 and 5 per decade (no crowded minor labels)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_anytime(data: SweepData, out_dir: Path) -> list[Path]:
    """Draw and save ``anytime.png`` / ``anytime.svg``; returns the paths."""
    tasks, algos = data.spec.tasks, data.spec.algos
    colors = _colors(algos)
    fig, axes = _figure(len(tasks))
    for ax, task in zip(axes, tasks, strict=True):
        sub = data.curves[data.curves["task"] == task]
        has = sub["incumbent_test_value"].notna() & (sub["task_time"] > 0)
        if not has.any():
            ax.set_title(f"{task}: no full evaluation")
            continue
        low = float(sub.loc[has, "task_time"].min())
        high = float(sub["task_time"].max())
        grid = np.geomspace(low, max(high, low * 1.01), GRID_POINTS)
        hours = grid / 3600
        for algo in algos:
            mean, std, n = anytime_curves(data, algo, task, grid)
            if n == 0 or np.isnan(mean).all():
                continue
            ax.plot(hours, mean, color=colors[algo], label=f"{algo} (n={n})", lw=1.6)
            ax.fill_between(hours, mean - std, mean + std, color=colors[algo], alpha=0.18, lw=0)
        if data.optimum is not None:
            ax.axhline(data.optimum[task], color="0.3", ls="--", lw=1, label="table optimum")
        _log_hours_axis(ax)
        ax.set_title(task)
        ax.set_xlabel("simulated GPU-hours per task")
        ax.set_ylabel(f"incumbent {data.test_metric.get(task, 'test metric')}")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small", loc="lower right")
    fig.suptitle(f"{data.spec.benchmark} ({data.spec.backend}): best-so-far test metric")
    return _save(fig, out_dir, "anytime")


def plot_final(data: SweepData, out_dir: Path) -> list[Path]:
    """Draw and save ``final_test.png`` / ``final_test.svg``; returns the paths."""
    tasks, algos = data.spec.tasks, data.spec.algos
    colors = _colors(algos)
    fig, axes = _figure(len(tasks))
    for ax, task in zip(axes, tasks, strict=True):
        present, values = [], []
        for algo in algos:
            runs = data.runs[(data.runs["algo"] == algo) & (data.runs["task"] == task)]
            v = runs["test_metric"].dropna().to_numpy(dtype=np.float64)
            if v.size:
                present.append(algo)
                values.append(v)
        if not values:
            ax.set_title(f"{task}: no finished run")
            continue
        box = ax.boxplot(
            values,
            tick_labels=present,
            patch_artist=True,
            widths=0.6,
            medianprops={"color": "black"},
        )
        for patch, algo in zip(box["boxes"], present, strict=True):
            patch.set_facecolor(colors[algo])
            patch.set_alpha(0.45)
        if data.optimum is not None:
            ax.axhline(data.optimum[task], color="0.3", ls="--", lw=1, label="table optimum")
            ax.legend(fontsize="small", loc="lower right")
        ax.set_title(task)
        ax.set_ylabel(f"final {data.test_metric.get(task, 'test metric')}")
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"{data.spec.benchmark} ({data.spec.backend}): final test metric per seed")
    return _save(fig, out_dir, "final_test")
