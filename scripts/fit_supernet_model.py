"""Write ``benchsim/backends/table/supernet_model.json``: the weight-sharing emulation's constants.

Two parts, each from real measurements:

* ``estimators``: the supernet-estimate model fitted (``benchsim.backends.table._ws_fit``) to
  the recorded one-shot and few-shot supernets of nb201 cifar10 (``oneshot_acc``,
  ``fewshot_acc``) against the stand-alone ``valid_acc`` of the installed table;
* ``training``: the training-curve constants that ``benchmarks/ws_training_curve.py`` measured
  on the live backend (read from its JSON output, ``--curve``).

    python scripts/fit_supernet_model.py --curve benchmarks/results/ws_training_curve_cpu.json

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


def training_constants(curve: dict[str, object], path: str) -> dict[str, object]:
    """The fitted curve constants of a ``ws_training_curve.py`` output, with its provenance."""
    settings = curve["settings"]
    return {
        **curve["fit"],
        "measured_on": curve["device"],
        "dataset": curve["dataset"],
        "results": path,
        "command": (
            f"python benchmarks/ws_training_curve.py --device {settings['device']} "
            f"--dataset {settings['dataset']} --archs {settings['archs']} "
            f"--passes {settings['passes']} --seeds {settings['seeds']} "
            f"--standalone-epochs {settings['standalone_epochs']} "
            f"--channels {settings['channels']} --cells {settings['cells']} "
            f"--batch {settings['batch']}"
        ),
        "provisional": "measured on a CPU with a small network on a synthetic image set; to be "
        "replaced by a CUDA measurement on CIFAR",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curve", type=Path, required=True, help="ws_training_curve.py JSON")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args(argv)
    curve = json.loads(args.curve.read_text())
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
        "training": training_constants(curve, args.curve.as_posix()),
    }
    args.out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
