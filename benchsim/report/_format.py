"""The report table as Markdown (for papers and READMEs), CSV (for spreadsheets) or JSON."""

from __future__ import annotations

import csv
import io
import json

from benchsim.report._tables import ReportTable, time_label

FORMATS = ("markdown", "csv", "json")


def _num(x: float | None, ref: float | None = None) -> str:
    """Two decimals for values of magnitude >= 1 (accuracies in %), else four."""
    if x is None:
        return "-"
    scale = abs(ref if ref is not None else x)
    return f"{x:.2f}" if scale >= 1 else f"{x:.4f}"


def cell(stat: dict, ref: float | None = None) -> str:
    """``mean ± std (n)``; no std for a single value, ``-`` for none.

    ``ref`` (the metric's magnitude) picks the decimals, so that a row's regret cells use the
    same precision as its metric (0.75 regret in % points shows as 0.75, not 0.7496).
    """
    if not stat["n"]:
        return "- (0)"
    ref = ref if ref is not None else stat["mean"]
    if stat["std"] is None:
        return f"{_num(stat['mean'], ref)} ({stat['n']})"
    return f"{_num(stat['mean'], ref)} ± {_num(stat['std'], ref)} ({stat['n']})"


def to_markdown(table: ReportTable, title: str) -> str:
    """A GitHub-flavoured Markdown table with a caption line above it."""
    header = ["algorithm", "task", "runs", "metrics", "final search", "final test"]
    header += [f"test on {t}" for t in table.report_tasks]
    if table.regret:
        header.append("optimum")
        header += [f"regret @ {time_label(t)}" for t in table.times]
    lines = [title, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.rows:
        cells = [
            row["algo"],
            row["task"],
            runs_cell(row["runs"]),
            f"{row['search_metric']} / {row['test_metric']}",
            cell(row["search"]),
            cell(row["test"]),
            *(cell(other) for other in row["test_on"]),
        ]
        if table.regret:
            ref = row["optimum"]
            cells.append(_num(row["optimum"]))
            cells += [cell(r, ref) for r in row["regret"]]
        lines.append("| " + " | ".join(cells) + " |")
    notes = ["mean ± sample std (n) over seeds."]
    if table.report_tasks:
        notes.append(
            "Test on another task: the recorded test metric of the architecture each run "
            "returned, looked up on that task (it was not searched there)."
        )
    if table.regret:
        notes.append(
            "Regret = the task's best test value in the whole table minus the test value of the "
            "run's incumbent at that simulated time (GPU-hours per task); lower is better."
        )
    else:
        notes.append("Regret is omitted: a live backend has no table optimum.")
    left_out = table.left_out_line()
    if left_out:
        notes.append(left_out)
    return "\n".join([*lines, "", " ".join(notes), ""])


def runs_cell(runs: dict[str, int]) -> str:
    """``"4/4"``, or ``"2/4 (1 failed, 1 missing)"``: finished of planned, then what is not."""
    extra = [f"{runs[s]} {s}" for s in ("failed", "incomplete", "missing") if runs[s]]
    text = f"{runs['ok']}/{runs['planned']}"
    return f"{text} ({', '.join(extra)})" if extra else text


def _flat(table: ReportTable) -> list[dict]:
    rows = []
    for row in table.rows:
        flat = {
            "algo": row["algo"],
            "task": row["task"],
            **{f"runs_{state}": count for state, count in row["runs"].items()},
            "search_metric": row["search_metric"],
            "search_mean": row["search"]["mean"],
            "search_std": row["search"]["std"],
            "search_n": row["search"]["n"],
            "test_metric": row["test_metric"],
            "test_mean": row["test"]["mean"],
            "test_std": row["test"]["std"],
            "test_n": row["test"]["n"],
        }
        for other in row["test_on"]:
            for key in ("mean", "std", "n"):
                flat[f"test_on_{other['task']}_{key}"] = other[key]
        if table.regret:
            flat["optimum"] = row["optimum"]
            for r in row["regret"]:
                label = f"regret_{r['time_s']:g}s"
                flat[f"{label}_mean"] = r["mean"]
                flat[f"{label}_std"] = r["std"]
                flat[f"{label}_n"] = r["n"]
        rows.append(flat)
    return rows


def to_csv(table: ReportTable) -> str:
    """One line per algorithm and task; regret columns named by the time in seconds."""
    rows = _flat(table)
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def to_json(table: ReportTable) -> str:
    """The full structure: times in seconds, and per row the stats as mean/std/n objects."""
    payload = {
        "times_s": list(table.times),
        "not_ok": table.not_ok,
        "left_out": table.left_out(),
        "report_tasks": list(table.report_tasks),
        "rows": table.rows,
    }
    return json.dumps(payload, indent=2) + "\n"


def render(table: ReportTable, fmt: str, title: str) -> str:
    """The table in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "markdown":
        return to_markdown(table, title)
    if fmt == "csv":
        return to_csv(table)
    return to_json(table)
