"""Cost of a joint training pass (JT-S / JT-D) against one pass per task, on the live backend.

A ``joint_train_pass`` over two tasks trains one shared supernet on both tasks' mini-batches,
mixed in one random order; EMT-NAS trains each task's own supernet in a ``train_pass`` of its
own.  Both see the same number of mini-batches, so a joint pass should cost what the two
separate passes cost together; this script checks it (wall seconds, the two alternated round
after round so that the machine's load hits both alike) and records how mixed the order is
(the number of task switches between consecutive mini-batches; one pass after the other would
have 1).

    python benchmarks/bench_joint_pass.py [--device cpu] [--rounds 6] [--threads 1] \\
        [--out benchmarks/results/joint_pass_cpu.json]

The default is the ``--smoke`` benchmark (two synthetic tasks, a tiny supernet); ``--full``
uses the backend's default settings and datasets (cifar10, cifar100: prepare them first).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--full", action="store_true", help="default settings, not --smoke")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)

    import torch

    import benchsim
    from benchsim.runner._results import atomic_write_json

    torch.set_num_threads(args.threads)

    def opened():
        return benchsim.benchmark(
            "nb201", backend="gpu", device=args.device, smoke=not args.full, seed=0
        )

    apart, joint = opened(), opened()
    tasks = list(apart.tasks)
    archs = np.random.default_rng(0).choice(apart.space.size, size=20, replace=False)
    rng = np.random.default_rng(1)
    separate_s, joint_s, switches = [], [], []
    for _ in range(args.rounds):
        began = time.perf_counter()
        for task in tasks:
            apart.weight_sharing.train_pass(task, archs, rng=rng)
        separate_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        joint.weight_sharing.joint_train_pass(tasks, [archs] * len(tasks), rng=rng)
        joint_s.append(time.perf_counter() - began)
        order = joint.supernets.last_pass_["order"]
        switches.append(sum(a != b for a, b in itertools.pairwise(order)))
    batches = {t: apart.batches_per_pass(t) for t in tasks}
    rows = {
        "device": args.device,
        "threads": args.threads,
        "settings": "default" if args.full else "smoke",
        "tasks": tasks,
        "batches_per_pass": batches,
        "rounds": args.rounds,
        "separate_passes_s": [round(s, 4) for s in separate_s],
        "joint_pass_s": [round(s, 4) for s in joint_s],
        "median_ratio_joint_to_separate": round(
            float(np.median(joint_s) / np.median(separate_s)), 3
        ),
        "task_switches_per_joint_pass": switches,
        "supernets_apart": len(apart.supernets.nets_),
        "supernets_joint": len(joint.supernets.nets_),
    }
    print(
        f"{len(tasks)} tasks, {batches} batches per pass: one pass per task "
        f"{np.median(separate_s):.3f} s, one joint pass {np.median(joint_s):.3f} s (medians of "
        f"{args.rounds}; ratio {rows['median_ratio_joint_to_separate']}); task switches in a "
        f"joint pass {switches}"
    )
    if args.out is not None:
        atomic_write_json(args.out, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
