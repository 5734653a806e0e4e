"""How a live supernet's ranking improves with training: Kendall tau and accuracy per pass.

The table backend's weight-sharing emulation (docs/weight_sharing.md) makes a supernet's
estimate depend on how many training passes its shared weights have had.  This script measures
that dependence on the live backend, so the emulation's curve comes from real training:

1. ``--archs`` fixed architectures (:func:`~benchsim.backends.gpu.ranking_sample`) are each
   trained alone for ``--standalone-epochs`` epochs: a stand-alone reference ranking.
2. For each of ``--seeds`` supernet seeds, a supernet is trained with uniform single-path
   sampling over the whole space for ``--passes`` passes (cosine schedule over all of them, as
   a search that plans that many passes); after each checkpoint pass it scores every
   architecture on the whole validation split.
3. Per checkpoint: Kendall's tau of those scores against the *trained* supernet's own final
   scores (the emulation blends normal scores, which correlate with the converged ones by
   ``c = sin(pi tau / 2)``; the noise of scoring on a small validation split is divided out,
   see :func:`fit_curves`), against the stand-alone reference (for context), and the scores'
   mean accuracy above chance.  In the fraction ``x = passes / planned`` the curves ``c(x)``
   and ``level(x) / level(1)`` are fitted with the Weibull family the emulation uses
   (:func:`benchsim.backends.table._ws_curve.fit_curve`: time constant and shape; ``start = 0``
   for the rank, the measured level before any pass for the level).  The table emulation takes
   only the *shapes* (and the level's start) from this measurement; its curves are in SGD
   steps, their scales anchored on published supernets (``scripts/fit_supernet_model.py``,
   docs/weight_sharing.md).

The plan's length matters, since ``x`` is a fraction of it: the default, 470 passes of 62
mini-batches of 32 synthetic images, gives the CPU supernet about as many SGD steps (29,000) as
EMT-NAS's default plan gives a supernet on NB201 CIFAR-10 (300 passes of 98 mini-batches of 256
of the 25,000 training images).

    # what the emulation's defaults come from (2-core CPU, synthetic 16x16 images, ~20 min)
    python benchmarks/ws_training_curve.py --device cpu \
        --out benchmarks/results/ws_training_curve_cpu.json

    # the same on a GPU with CIFAR-10 (prepared with `benchsim data prepare cifar10`)
    python benchmarks/ws_training_curve.py --device cuda --dataset cifar10 --channels 16 \
        --cells 5 --batch 256 --passes 300 --standalone-epochs 12 \
        --out benchmarks/results/ws_training_curve_cuda.json

    # fit a measurement again (e.g. after changing the fit), without training
    python benchmarks/ws_training_curve.py --refit FILE.json --out FILE.json

Writes, atomically, one JSON with every measured point (scores included), the fitted constants,
the settings, the device and the provenance.  On the CPU the figures are provisional: a small
network on a small synthetic set, not CIFAR.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress
from scipy.stats import kendalltau

from benchsim.backends.gpu import GpuBenchmark, ranking_sample
from benchsim.backends.gpu._settings import device_name
from benchsim.backends.table._ws_curve import fit_curve
from benchsim.errors import BenchsimError
from benchsim.runner._results import atomic_write_json, package_versions


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    parser.add_argument("--dataset", default="synthetic-shapes", help="prepared dataset")
    parser.add_argument("--archs", type=int, default=30, help="fixed architectures ranked")
    parser.add_argument("--passes", type=int, default=470, help="planned supernet passes")
    parser.add_argument("--checkpoints", type=int, default=14, help="measured pass counts")
    parser.add_argument("--seeds", type=int, default=2, help="supernet seeds averaged")
    parser.add_argument("--standalone-epochs", type=int, default=4)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--cells", type=int, default=1, help="cells per stage (N)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--bn-eval", default="batch", help="batch, running or recalibrate")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument("--smoke", action="store_true", help="seconds-long pipeline check")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--refit", type=Path, default=None, help="re-fit a measurement JSON")
    args = parser.parse_args(argv)
    if args.smoke:
        args.archs, args.passes, args.checkpoints, args.seeds = 6, 4, 3, 1
        args.standalone_epochs, args.channels = 1, 8
    return args


def checkpoint_passes(planned: int, count: int) -> list[int]:
    """0, then about ``count`` pass counts spaced geometrically up to ``planned`` (included)."""
    points = np.unique(np.round(np.geomspace(1, planned, max(count - 1, 1))).astype(int))
    return [0, *(int(p) for p in points if p <= planned)]


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b; 0 when one side is constant (an untrained supernet may score alike)."""
    tau = kendalltau(a, b).statistic
    return 0.0 if tau != tau else float(tau)


def _bench(args: argparse.Namespace, seed: int) -> GpuBenchmark:
    return GpuBenchmark(
        "nb201", (args.dataset,), device=args.device, seed=seed, channels=args.channels,
        cells_per_stage=args.cells, batch_size=args.batch, epochs=args.passes,
        bn_eval=args.bn_eval, evaluate_epochs=args.standalone_epochs,
    )  # fmt: skip


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Reference ranking, then the supernet curves; returns every figure and setting."""
    first = _bench(args, 0)
    task = first.tasks[0]
    archs = ranking_sample(first.space, args.archs)
    chance = 100.0 / first.supernets.data_[task].num_classes
    passes = checkpoint_passes(args.passes, args.checkpoints)
    curves: list[dict[str, object]] = []
    with Progress(transient=True) as progress:
        began = time.perf_counter()
        bar = progress.add_task("standalone reference", total=len(archs))
        reference = []
        for arch in archs:
            result = first.standalone_train(int(arch), task, args.standalone_epochs, seed=int(arch))
            reference.append(result.valid_acc)
            progress.update(bar, advance=1)
        reference_s = time.perf_counter() - began
        everything = first.space.enumerate()
        for seed in range(args.seeds):
            bench = first if seed == 0 else _bench(args, seed)
            rng = np.random.default_rng(seed)
            bar = progress.add_task(f"supernet seed {seed}", total=args.passes)
            scores, done = [], 0
            for target in passes:
                while done < target:
                    bench.weight_sharing.train_pass(task, everything, rng=rng)
                    done += 1
                    progress.update(bar, advance=1)
                scores.append(np.array([bench.split_accuracy(int(a), task) for a in archs]))
            curves.append(
                {
                    "seed": seed,
                    "tau_to_final": [_tau(s, scores[-1]) for s in scores],
                    "tau_to_standalone": [_tau(s, reference) for s in scores],
                    "mean_valid_acc": [float(s.mean()) for s in scores],
                    "scores": [s.tolist() for s in scores],
                }
            )
    figures = {
        "device": device_name(first.device),
        "torch": torch.__version__,
        "versions": package_versions(),
        "dataset": task,
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "refit")},
        "archs": [int(a) for a in archs],
        "chance_acc": chance,
        "standalone_valid_acc": reference,
        "standalone_seconds": reference_s,
        "passes": passes,
        "curves": curves,
        "provenance": first.provenance(),
    }
    return {**figures, **fit_curves(figures)}


LATE = 1.0 / 3.0
"""Checkpoints from this fraction of the plan on count as trained (their agreement with the
final scores measures the evaluation's own noise)."""


def fit_curves(figures: dict[str, object]) -> dict[str, object]:
    """The normalised curves and the fitted constants, from the measured checkpoints.

    Rank: the correlation of the normal scores with the final ones is ``sin(pi tau / 2)``.
    Scores of a trained supernet on a small validation split are noisy, so even two trained
    checkpoints agree only to a *reliability* below 1: the mean of that correlation over the
    checkpoints from :data:`LATE` on (the last excluded).  ``c(x)`` = correlation / reliability,
    clipped to ``[0, 1]`` (and 1 at the end): how far the ranking is from the trained one, with
    the measurement noise divided out.  Level: mean accuracy above chance / the final one.
    """
    curves, passes = figures["curves"], np.asarray(figures["passes"], dtype=np.float64)
    x = passes / passes[-1]
    tau_final = np.mean([c["tau_to_final"] for c in curves], axis=0)
    tau_standalone = np.mean([c["tau_to_standalone"] for c in curves], axis=0)
    level = np.mean([c["mean_valid_acc"] for c in curves], axis=0) - figures["chance_acc"]
    correlation = np.sin(np.pi / 2 * np.clip(tau_final, 0.0, 1.0))
    late = (x >= LATE) & (x < 1.0)
    reliability = float(correlation[late].mean()) if late.any() else 1.0
    rank_fraction = np.clip(correlation / reliability, 0.0, 1.0)
    rank_fraction[-1] = 1.0
    level_fraction = level / level[-1]
    level_start = float(np.clip(level_fraction[0], 0.0, 1.0))
    rank = fit_curve(x, rank_fraction, 0.0)
    level_fit = fit_curve(x, level_fraction, level_start)
    return {
        "mean_tau_to_final": tau_final.tolist(),
        "mean_tau_to_standalone": tau_standalone.tolist(),
        "mean_level_above_chance": level.tolist(),
        "reliability": reliability,
        "rank_fraction": rank_fraction.tolist(),
        "level_fraction": level_fraction.tolist(),
        "fit": {
            "rank_time_constant": rank[0],
            "rank_shape": rank[1],
            "level_time_constant": level_fit[0],
            "level_shape": level_fit[1],
            "level_start": level_start,
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.refit is not None:  # the same measurements, fitted again (no training)
        figures = json.loads(args.refit.read_text())
        figures.update(fit_curves(figures))
    else:
        try:
            figures = measure(args)
        except BenchsimError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    print(f"device: {figures['device']}; torch {figures['torch']}; dataset {figures['dataset']}")
    print("passes  tau-to-final  tau-to-standalone  acc-above-chance")
    rows = zip(
        figures["passes"],
        figures["mean_tau_to_final"],
        figures["mean_tau_to_standalone"],
        figures["mean_level_above_chance"],
        strict=True,
    )
    for p, final, alone, level in rows:
        print(f"{p:6d}  {final:+12.3f}  {alone:+17.3f}  {level:16.2f}")
    print(f"reliability of trained scores: {figures['reliability']:.3f}; fit: {figures['fit']}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(args.out, figures)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
