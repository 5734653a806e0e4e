"""Reports over a sweep: the paper-style table (Markdown/CSV/JSON) and the figures.

:func:`make_report` is what ``benchsim report DIR`` calls.  It reads only what the sweep stored
(``sweep.json``, ``results/``), so a report can be made again at any time, also of a sweep that
is still running or was interrupted (finished runs only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchsim.report._format import FORMATS, render
from benchsim.report._heatmap import plot_distance_heatmap
from benchsim.report._load import SweepData, load_sweep, table_optimum
from benchsim.report._tables import (
    ReportTable,
    build_table,
    default_times,
    incumbent_at,
    parse_times,
    time_label,
)

__all__ = [
    "FORMATS",
    "Report",
    "ReportTable",
    "SweepData",
    "build_report",
    "build_table",
    "default_times",
    "incumbent_at",
    "load_sweep",
    "make_report",
    "parse_times",
    "plot_distance_heatmap",
    "render",
    "table_optimum",
    "time_label",
]


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from benchsim.errors import ConfigError

        raise ConfigError(
            "matplotlib is not installed: pip install benchsim[report] (or pass --no-plots)"
        ) from None


@dataclass(frozen=True)
class Report:
    """What :func:`build_report` made: the text asked for, the files written, the numbers."""

    text: str
    written: list[Path]
    table: ReportTable


def make_report(
    out: str | Path,
    fmt: str = "markdown",
    times: tuple[float, ...] | None = None,
    plots: bool = True,
) -> tuple[str, list[Path]]:
    """Build the table of sweep ``out`` in ``fmt``, write it and the plots to ``out/report``.

    All three table formats are written (``table.md``, ``table.csv``, ``table.json``); the
    one asked for is returned as text, with the paths of every file written.  Every table
    states, per algorithm and task, how many planned runs it holds and which failed, did not
    finish or were never run (:meth:`ReportTable.left_out`).

    Parameters
    ----------
    out
        A sweep folder (``benchsim sweep --out``); only its finished runs are used.
    fmt
        ``"markdown"``, ``"csv"`` or ``"json"``: the format returned.
    times
        Simulated seconds (per task) for the regret columns; None: 25/50/100% of the median
        run length (:func:`default_times`).
    plots
        Also draw ``anytime`` and ``final_test`` (PNG and SVG); needs matplotlib.

    Examples
    --------
    >>> text, files = make_report("sweeps/nb201")  # doctest: +SKIP
    >>> print(text)  # doctest: +SKIP
    """
    report = build_report(out, fmt, times, plots)
    return report.text, report.written


def build_report(
    out: str | Path,
    fmt: str = "markdown",
    times: tuple[float, ...] | None = None,
    plots: bool = True,
    report_tasks: tuple[str, ...] = (),
) -> Report:
    """:func:`make_report`, returning the numbers too (:class:`Report`); ``report_tasks``
    adds the returned architectures' test metric on those tasks (table backend only)."""
    from benchsim.errors import UnknownNameError

    if fmt not in FORMATS:
        raise UnknownNameError("format", fmt, FORMATS)
    if plots:
        _require_matplotlib()
    data = load_sweep(out)
    table = build_table(data, times, tuple(report_tasks))
    spec = data.spec
    title = (
        f"**{spec.benchmark}** ({spec.backend} backend), tasks {', '.join(spec.tasks)}, "
        f"{len(spec.seeds)} seeds, budget {spec.budget or 'algorithm default'}"
    )
    report_dir = Path(out) / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, kind in (("table.md", "markdown"), ("table.csv", "csv"), ("table.json", "json")):
        path = report_dir / name
        path.write_text(render(table, kind, title))
        written.append(path)
    if plots:
        from benchsim.report._plots import plot_anytime, plot_final

        written += plot_anytime(data, report_dir)
        written += plot_final(data, report_dir)
    return Report(text=render(table, fmt, title), written=written, table=table)
