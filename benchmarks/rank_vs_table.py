"""Ranking fidelity of the live backend: supernet accuracy vs the NB201 table, Kendall's tau.

The figure NAS papers report for a weight-sharing method: train the supernet with uniform
single-path sampling (SPOS) for a few passes on a real dataset, read each of 100 fixed
architectures' validation accuracy off the supernet, and rank-correlate them with the accuracies
those architectures reach when trained alone for 200 epochs (the NB201 table, mean over seeds).

    # on a GPU, with CIFAR-10 prepared (`benchsim data prepare cifar10 --from DIR`)
    python benchmarks/rank_vs_table.py --device cuda --dataset cifar10 --passes 20

    # on a CPU: the built-in synthetic set against the cifar10 table (pipeline check only:
    # the synthetic images are not CIFAR-10, so this tau says nothing about fidelity)
    python benchmarks/rank_vs_table.py --smoke

The 100 architectures are :func:`benchsim.backends.gpu.ranking_sample`'s (seed 201, distinct
isomorphism classes), the same in every run.  Prints a summary and, with ``--out FILE``, writes
the figures, settings, device and provenance as JSON (atomically).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress
from scipy.stats import kendalltau

import benchsim
from benchsim.backends.gpu import GpuBenchmark, ranking_sample
from benchsim.backends.gpu._settings import device_name
from benchsim.errors import BenchsimError
from benchsim.runner._results import atomic_write_json


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: auto)")
    parser.add_argument("--dataset", default="cifar10", help="prepared dataset to train on")
    parser.add_argument("--table-task", default=None, help="table task (default: the dataset)")
    parser.add_argument("--archs", type=int, default=100, help="fixed architectures compared")
    parser.add_argument("--passes", type=int, default=20, help="supernet training passes")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--cells", type=int, default=5, help="cells per stage (N)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--bn-eval", default="batch", help="batch, running or recalibrate")
    parser.add_argument("--max-batches", type=int, default=None, help="cap per training pass")
    parser.add_argument("--max-eval-batches", type=int, default=None, help="cap per split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument("--smoke", action="store_true", help="CPU pipeline check (synthetic)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    if args.smoke:
        args.device = args.device or "cpu"
        args.dataset, args.table_task = "synthetic-shapes", args.table_task or "cifar10"
        args.channels, args.cells, args.batch, args.passes = 8, 1, 64, min(args.passes, 6)
    return args


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Train, evaluate, correlate; returns the figures and everything needed to repeat them."""
    bench = GpuBenchmark(
        "nb201", (args.dataset,), device=args.device, seed=args.seed, channels=args.channels,
        cells_per_stage=args.cells, batch_size=args.batch, epochs=args.passes,
        bn_eval=args.bn_eval, max_batches_per_pass=args.max_batches,
        max_eval_batches=args.max_eval_batches,
    )  # fmt: skip
    table = benchsim.benchmark("nb201", backend="table")
    task, rng = bench.tasks[0], np.random.default_rng(args.seed)
    archs = ranking_sample(bench.space, args.archs)
    everything = bench.space.enumerate()
    with Progress(transient=True) as progress:
        bar = progress.add_task(f"supernet on {task}", total=args.passes)
        for _ in range(args.passes):
            bench.weight_sharing.train_pass(task, everything, rng=rng)
            progress.update(
                bar, advance=1, description=f"loss {bench.supernets.last_pass_['loss']:.3f}"
            )
    train_s = sum(bench.supernets.train_seconds_.values())
    began = time.perf_counter()
    check = bench.table_kendall_tau(archs, task, table_task=args.table_task, table=table)
    eval_s = time.perf_counter() - began
    top = np.argsort(-check.reference)[: max(len(archs) // 2, 2)]  # the half that matters
    top_tau = float(kendalltau(check.estimates[top], check.reference[top]).statistic)
    images = args.passes * bench.batches_per_pass(task) * bench.settings.batch_size
    return {
        "device": device_name(bench.device),
        "torch": torch.__version__,
        "dataset": task,
        "table_task": args.table_task or task,
        "pipeline_check_only": args.table_task not in (None, task),
        "archs": [int(a) for a in archs],
        "passes": args.passes,
        "supernet_train_s": train_s,
        "supernet_images_per_s": images / max(train_s, 1e-12),
        "eval_s": eval_s,
        "kendall_tau": check.tau,
        "kendall_pvalue": check.pvalue,
        "kendall_tau_top_half": top_tau,
        "supernet_valid_acc": check.estimates.tolist(),
        "table_valid_acc": check.reference.tolist(),
        "provenance": {"gpu": bench.provenance(), "table": table.provenance()},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        figures = measure(args)
    except BenchsimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    note = " (pipeline check only: not the same data)" if figures["pipeline_check_only"] else ""
    print(f"device: {figures['device']}; torch {figures['torch']}")
    seconds, rate = figures["supernet_train_s"], figures["supernet_images_per_s"]
    print(f"supernet on {figures['dataset']}: {args.passes} passes, C={args.channels} "
          f"N={args.cells}, batch {args.batch}, BN {args.bn_eval}: "
          f"{seconds:.1f} s ({rate:.0f} img/s)")  # fmt: skip
    print(f"Kendall tau vs nb201 table {figures['table_task']} valid_acc over {args.archs} "
          f"fixed archs: {figures['kendall_tau']:.3f} (p = {figures['kendall_pvalue']:.2g}); "
          f"top half by table: {figures['kendall_tau_top_half']:.3f}; "
          f"evaluation {figures['eval_s']:.1f} s{note}")  # fmt: skip
    if args.out is not None:
        atomic_write_json(args.out, figures)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
