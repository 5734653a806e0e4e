"""The heatmap of a task distance matrix, as the LD-NAS paper's Figure 1 shows one.

Two panels side by side: (a) the mean and (b) the standard deviation over the repeated
initialisations, rows = the task the distance is *from* (a baseline), columns = the task it is
*to* (the target), every cell annotated with its value.  Drawn on matplotlib's Agg canvas
(:class:`matplotlib.figure.Figure`, no pyplot state), PNG without a date or version in it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchsim.distances import DistanceMatrix


def plot_distance_heatmap(matrix: DistanceMatrix, path: str | Path) -> Path:
    """Write ``path`` (PNG): the mean and std panels of ``matrix``; return the path."""
    from matplotlib.figure import Figure

    n = len(matrix.tasks)
    labels = [_short(t) for t in matrix.tasks]
    side = 1.0 + 0.62 * n
    margin = 0.9 + 0.075 * max(len(t) for t in labels)  # the tick labels and the colorbar
    fig = Figure(figsize=(2 * (side + margin) + 0.6, side + margin), layout="constrained")
    axes = fig.subplots(1, 2)
    panels = (
        ("(a) mean", matrix.mean, "viridis"),
        (f"(b) std over {matrix.repeats} repeats", matrix.std, "magma"),
    )
    for ax, (title, values, cmap) in zip(axes, panels, strict=True):
        image = ax.imshow(values, cmap=cmap, vmin=0.0)
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(n), labels, fontsize=8)
        ax.set_xlabel("to (target task)", fontsize=9)
        ax.set_ylabel("from (baseline task)", fontsize=9)
        top = float(np.max(values)) if values.size else 0.0
        for i in range(n):
            for j in range(n):
                light = top > 0 and values[i, j] < 0.6 * top
                ax.text(j, i, f"{values[i, j]:.3f}", ha="center", va="center", fontsize=7,
                        color="white" if light else "black")  # fmt: skip
    fig.suptitle("log-determinant task distance d[row -> column]", fontsize=11)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, metadata={"Software": None})
    return path


def _short(task: str, limit: int = 26) -> str:
    return task if len(task) <= limit else task[: limit - 1] + "…"
