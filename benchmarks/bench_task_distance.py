"""LD-NAS's task distance on the synthetic tasks: the matrix (mean ± std), its orderings, time.

Four tasks with known structure (benchsim/datasets/_synthetic.py): ``synthetic-shapes`` (ten
shapes), ``synthetic-shapes-permuted`` (the same images, labels renamed), ``synthetic-shapes-
binary`` (the same images, two classes: filled vs other shapes) and ``synthetic-shapes-b``
(other images: five shapes, filled or outlined).  ``benchsim task-distance`` is run on them
with the default settings (10 epochs per approximation network, 1000 Fisher images; docs/
ldnas.md) and ``--repeats`` initialisations, on the CPU with one torch thread.  Written: the
matrix (JSON + CSV + heatmap PNG, as the command writes them) and a summary JSON with the time
per repeat and, per repeat, which of the expected orderings hold:

* ``permuted closer to shapes``: d[permuted -> shapes] < d[b -> shapes] and
  d[shapes -> permuted] < d[b -> permuted] (a relabelled copy is closer than other images);
* ``binary closer to shapes than b``: d[binary -> shapes] < d[b -> shapes] (same images);
* ``asymmetric shapes/binary``: d[shapes -> binary] < d[binary -> shapes] (the paper's
  "applying knowledge of a comprehensive task into a simple task is easy but not vice versa";
  reported, not expected to hold).

    python benchmarks/bench_task_distance.py --repeats 5 \\
        --out benchmarks/results/task_distance_synthetic.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

TASKS = ("synthetic-shapes", "synthetic-shapes-permuted", "synthetic-shapes-binary",
         "synthetic-shapes-b")  # fmt: skip


def orderings(d: np.ndarray) -> dict[str, bool]:
    """The orderings of the module docstring on one matrix (indices as in :data:`TASKS`)."""
    a, p, n, b = range(4)
    return {
        "permuted closer to shapes": bool(d[p, a] < d[b, a] and d[a, p] < d[b, p]),
        "binary closer to shapes than b": bool(d[n, a] < d[b, a]),
        "asymmetric shapes/binary": bool(d[a, n] < d[n, a]),
    }


def main(argv: list[str] | None = None) -> int:
    import torch

    from benchsim.backends.gpu import task_distance
    from benchsim.report import plot_distance_heatmap

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True, help="matrix JSON (CSV, PNG beside)")
    parser.add_argument("--option", action="append", default=[], help="setting=value")
    args = parser.parse_args(argv)
    options = {}
    for pair in args.option:
        key, value = pair.split("=", 1)
        options[key] = json.loads(value)
    torch.set_num_threads(1)
    began = time.perf_counter()
    m = task_distance(list(TASKS), repeats=args.repeats, device="cpu", **options)
    wall = time.perf_counter() - began
    m.write(args.out)
    plot_distance_heatmap(m, args.out.with_suffix(".png"))
    checks = [orderings(d) for d in m.per_repeat]
    summary = {
        "tasks": list(TASKS),
        "repeats": args.repeats,
        "settings": {
            k: m.settings[k]
            for k in ("epochs", "fisher_samples", "labels", "normalize", "sigma", "channels")
        },
        "mean": np.round(m.mean, 4).tolist(),
        "std": np.round(m.std, 4).tolist(),
        "approximation_valid_acc": m.approximation,
        "orderings_held": {k: sum(c[k] for c in checks) for k in checks[0]},
        "orderings_of_mean": orderings(m.mean),
        "wall_seconds": round(wall, 1),
        "seconds_per_repeat": round(wall / args.repeats, 1),
        "torch_threads": 1,
        "torch": torch.__version__,
    }
    path = args.out.with_name(args.out.stem + "_summary.json")
    path.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
