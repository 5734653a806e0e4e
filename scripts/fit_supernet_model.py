"""Write ``benchsim/backends/table/supernet_model.json``: the weight-sharing emulation's constants.

Two parts, each from real measurements:

* ``estimators``: the supernet-estimate model fitted (``benchsim.backends.table._ws_fit``) to
  the recorded one-shot and few-shot supernets of nb201 cifar10 (``oneshot_acc``,
  ``fewshot_acc``) against the stand-alone ``valid_acc`` of the installed table;
* ``training``: the supernet's training curves in SGD steps: their shapes as
  ``benchmarks/ws_training_curve.py`` measured them on the live backend (``--curve``, its JSON
  output), their scales anchored on published supernet measurements (``--anchors``,
  ``benchmarks/inputs/ws_training_anchors.json``: each number with its source).

    python scripts/fit_supernet_model.py --curve benchmarks/results/ws_training_curve_cpu.json \\
        --anchors benchmarks/inputs/ws_training_anchors.json

``tests/backends/table/test_ws_model.py`` re-fits from the installed table and checks the
packaged file, so the numbers cannot drift from the data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import benchsim
from benchsim.backends.table._ws_curve import anchored_scale
from benchsim.backends.table._ws_fit import fit_supernet
from benchsim.backends.table._ws_model import MODEL_FILE, space_genes

ESTIMATOR_COLUMNS = {"oneshot": "oneshot_acc", "fewshot": "fewshot_acc"}
TASK, TRUTH = "cifar10", "valid_acc"


def fit_estimators() -> dict[str, dict[str, object]]:
    """Every estimator's fit from the installed nb201 table (installing it if needed)."""
    bench = benchsim.benchmark("nb201")
    archs = np.arange(bench.space.size)
    truth = bench.query_many(archs, TASK, TRUTH).values
    genes = space_genes(bench.space)
    out = {}
    for name, column in ESTIMATOR_COLUMNS.items():
        estimate = bench.query_many(archs, TASK, column).values
        out[name] = {
            "column": column,
            **fit_supernet(estimate, truth, genes, bench.space.decisions),
        }
    return out


EMT_NAS_BATCH = 128
"""The supernet's training mini-batch of EMT-NAS's official code (PengLiao12/EMT-NAS
``config.py``, ``default_config_cnn()['batch_size']``): how many SGD steps a pass is."""


def training_constants(
    curve: dict[str, object], curve_path: str, anchors: dict[str, object], anchors_path: str
) -> dict[str, object]:
    """The training curves: shapes from the live measurement ``curve``, scales through the
    published ``anchors`` point, with the provenance of each."""
    fit, settings = curve["fit"], curve["settings"]
    anchor = anchors["anchor"]
    steps = float(anchor["steps"])
    start = float(fit["level_start"])
    return {
        "about": (
            "Weibull curves in SGD steps; shapes measured on the live backend (CPU, synthetic "
            f"images: {curve_path}), scales anchored on published NB201 supernets at "
            f"{int(steps):,} steps ({anchors_path})"
        ),
        "unit": "SGD steps: passes x ceil(train examples / batch_size)",
        "batch_size": EMT_NAS_BATCH,
        "batch_size_source": "PengLiao12/EMT-NAS config.py default_config_cnn()['batch_size']",
        "rank_shape": float(fit["rank_shape"]),
        "rank_scale": anchored_scale(steps, float(anchor["rank_fraction"]), fit["rank_shape"]),
        "level_shape": float(fit["level_shape"]),
        "level_start": start,
        "level_scale": anchored_scale(
            steps, float(anchor["level_fraction"]), fit["level_shape"], start
        ),
        "anchor": {**anchor, "source": anchors["source"]["repository"], "file": anchors_path},
        "shapes": {
            "results": curve_path,
            "measured_on": curve["device"],
            "dataset": curve["dataset"],
            "command": (
                f"python benchmarks/ws_training_curve.py --device {settings['device']} "
                f"--dataset {settings['dataset']} --archs {settings['archs']} "
                f"--passes {settings['passes']} --seeds {settings['seeds']} "
                f"--standalone-epochs {settings['standalone_epochs']} "
                f"--channels {settings['channels']} --cells {settings['cells']} "
                f"--batch {settings['batch']}"
            ),
            "note": "a small network on a synthetic image set: only how sharply the curves rise "
            "is taken from it, where no published measurement exists",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curve", type=Path, required=True, help="ws_training_curve.py JSON")
    parser.add_argument(
        "--anchors",
        type=Path,
        default=Path("benchmarks/inputs/ws_training_anchors.json"),
        help="published measurements that anchor the curves' scales",
    )
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args(argv)
    curve = json.loads(args.curve.read_text())
    anchors = json.loads(args.anchors.read_text())
    payload = {
        "about": (
            "Constants of benchsim's table emulation of weight-sharing (docs/weight_sharing.md),"
            " written by scripts/fit_supernet_model.py"
        ),
        "fitted_on": {
            "table": "nb201",
            "task": TASK,
            "truth": TRUTH,
            "source": "aoiang/few-shot-NAS@ec366c1c Few-Shot_NasBench201/supernet_info",
        },
        "estimators": fit_estimators(),
        "training": training_constants(
            curve, args.curve.as_posix(), anchors, args.anchors.as_posix()
        ),
    }
    args.out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
