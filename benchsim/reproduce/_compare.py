"""Benchsim's numbers beside the paper's: one cell per (algorithm, reported task)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Cell:
    """One (algorithm, task) of the table; ``paper_*`` are None where nothing is bundled.

    ``within`` is ``|ours - paper| <= paper_std`` (the usual "within one standard deviation of
    the paper"); ``stds`` is that difference in paper standard deviations.
    """

    algo: str
    searched: str
    task: str
    mean: float
    std: float
    runs: int
    evaluations: float
    paper_mean: float | None = None
    paper_std: float | None = None

    @property
    def diff(self) -> float | None:
        return None if self.paper_mean is None else self.mean - self.paper_mean

    @property
    def stds(self) -> float | None:
        if self.paper_mean is None or not self.paper_std:
            return None
        return (self.mean - self.paper_mean) / self.paper_std

    @property
    def within(self) -> bool | None:
        if self.paper_mean is None or self.paper_std is None:
            return None
        return abs(self.mean - self.paper_mean) <= self.paper_std


@dataclass
class Comparison:
    """What :func:`benchsim.reproduce.reproduce` returns: the cells and their context."""

    name: str
    title: str
    note: str
    runs: int
    cells: list[Cell] = field(default_factory=list)
    source: dict[str, object] | None = None
    wall_seconds: float = 0.0

    @property
    def misses(self) -> list[Cell]:
        """Cells more than one paper standard deviation from the paper."""
        return [c for c in self.cells if c.within is False]

    def to_markdown(self) -> str:
        has_paper = any(c.paper_mean is not None for c in self.cells)
        lines = [f"**{self.name}**: {self.title}", "", f"{self.note}.", ""]
        if self.source:
            lines += [f"Paper: {self.source['paper']}; {self.source['table']}; "
                      f"{self.source['runs']} runs per method. Source of the numbers: "
                      f"{self.source['source']}.", ""]  # fmt: skip
        else:
            lines += ["The paper's table is not bundled (it could not be sourced here): "
                      "benchsim's numbers only.", ""]  # fmt: skip
        head = ["method", "searched on", "reported on", f"benchsim ({self.runs} runs)"]
        if has_paper:
            head += ["paper", "difference", "in paper stds", "within 1 std"]
        head.append("evaluations/run")
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for c in self.cells:
            row = [c.algo, c.searched, c.task, f"{c.mean:.2f} +- {c.std:.2f}"]
            if has_paper:
                if c.paper_mean is None:
                    row += ["-", "-", "-", "-"]
                else:
                    row += [f"{c.paper_mean:.2f} +- {c.paper_std:.2f}", f"{c.diff:+.2f}",
                            f"{c.stds:+.2f}", "yes" if c.within else "**no**"]  # fmt: skip
            row.append(f"{c.evaluations:.0f}")
            lines.append("| " + " | ".join(row) + " |")
        if has_paper:
            n = len([c for c in self.cells if c.within is not None])
            lines += ["", f"{n - len(self.misses)} of {n} cells within one standard deviation "
                      "of the paper."]  # fmt: skip
        return "\n".join(lines) + "\n"

    def records(self) -> list[dict]:
        return [
            {**asdict(c), "diff": c.diff, "stds": c.stds, "within": c.within} for c in self.cells
        ]

    def to_csv(self) -> str:
        rows = self.records()
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    def to_json(self) -> str:
        payload = {
            "name": self.name,
            "title": self.title,
            "note": self.note,
            "runs": self.runs,
            "source": self.source,
            "wall_seconds": self.wall_seconds,
            "cells": self.records(),
        }
        return json.dumps(payload, indent=2) + "\n"

    def plot(self, path: Path) -> None:
        """Per reported task: benchsim's mean +- std beside the paper's, per method."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        tasks = list(dict.fromkeys((c.searched, c.task) for c in self.cells))
        fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
        for ax, key in zip(axes[0], tasks, strict=True):
            cells = [c for c in self.cells if (c.searched, c.task) == key]
            x = np.arange(len(cells))
            ax.errorbar(x - 0.1, [c.mean for c in cells], [c.std for c in cells], fmt="o",
                        label="benchsim", capsize=3)  # fmt: skip
            has = [i for i, c in enumerate(cells) if c.paper_mean is not None]
            if has:
                ax.errorbar(x[has] + 0.1, [cells[i].paper_mean for i in has],
                            [cells[i].paper_std for i in has], fmt="s", label="paper",
                            capsize=3)  # fmt: skip
            ax.set_xticks(x, [c.algo for c in cells])
            ax.set_title(f"{key[1]} (searched on {key[0]})", fontsize=9)
            ax.set_ylabel("test accuracy (%)")
            ax.grid(alpha=0.3)
        axes[0][0].legend(fontsize=8)
        fig.suptitle(self.name, fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
