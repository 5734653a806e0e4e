"""Benchmark of the live backend: supernet vs standalone throughput, and a ranking check.

Run ``python benchmarks/bench_supernet.py`` (CUDA when available, else the CPU; ``--device``
picks).  Prints one table: measured value, target, PASS/MISS.  The device is named in the
first line, so figures from different machines are never mixed up.

What is measured, and how:

- **step throughput, same batch**: images/s of one SGD step (forward, backward, update) of the
  supernet along architecture A (single-path forward over the weight-sharing cell) against the
  standalone network of A built from the same modules, on the same pre-made batch, for a few
  architectures.  Steps are queued without a host sync and timed from the first to the last
  (synchronised) step; each figure is the best of interleaved repeats.  Target: supernet >= 70%
  of standalone.  ``--compile`` adds the standalone under ``torch.compile`` and the supernet
  compiled op by op (``GpuSettings(compile=True)``).
- **pass throughput, end to end**: images/s of ``train_pass`` restricted to A (arch choice,
  on-device augmentation, training, one sync per pass) against ``standalone_train`` of A for one
  epoch, from the seconds each reports.
- **ranking** (``--ranking``): a supernet trained with uniform path sampling over the whole
  space on ``synthetic-shapes-b``, then Kendall's tau between its validation accuracies of ten
  fixed architectures and their accuracies after standalone training.  Small on a CPU.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from benchsim.backends.gpu import GpuBenchmark, load_from_supernet
from benchsim.backends.gpu._ops import compile_ops
from benchsim.backends.gpu._settings import device_name, synchronize
from benchsim.backends.gpu._train import autocast, make_optimizer

ARCHS = {
    "all nor_conv_3x3": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
    "nor_conv_3x3~1|nor_conv_3x3~2|",
    "NB201 best (cifar10)": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|"
    "nor_conv_3x3~1|nor_conv_3x3~2|",
    "mixed with pool/none": "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|"
    "skip_connect~1|avg_pool_3x3~2|",
}
RANKING_GENES = [
    (0,) * 6, (1,) * 6, (4,) * 6, (2,) * 6, (3,) * 6,
    (3, 3, 3, 1, 3, 3), (2, 1, 0, 3, 0, 1), (1, 0, 0, 4, 1, 2),
    (3, 0, 0, 1, 0, 0), (4, 2, 1, 0, 3, 3),
]  # fmt: skip
"""Ten fixed cells (op positions per edge): the five uniform cells and five mixed ones."""
TARGET_RATIO = 0.70


def time_steps(step: Callable[[], torch.Tensor], steps: int, device: torch.device) -> float:
    """Seconds of ``steps`` queued steps (one sync at the end)."""
    synchronize(device)
    began = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return time.perf_counter() - began


def step_figures(bench: GpuBenchmark, args: argparse.Namespace) -> list[tuple]:
    task = bench.tasks[0]
    data, net = bench.supernets.data_[task], bench.supernets.nets_[0]
    x, y = data.augmented(data.splits["train"][: args.batch], torch.Generator(bench.device))
    rows = []
    compiled_net = None
    if args.compile:  # a copy compiled op by op, as GpuSettings(compile=True) does
        compiled_net = copy.deepcopy(net)
        compile_ops(compiled_net)
    for label, arch in ARCHS.items():
        genes = bench.genes(bench.space.index(arch))
        standalone = load_from_supernet(net, genes)
        models: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
            "supernet": lambda inp, g=genes: net(inp, g, 0),
            "standalone": standalone,
        }
        owners = {"supernet": net, "standalone": standalone}
        if compiled_net is not None:
            models["supernet, compiled ops"] = lambda inp, g=genes: compiled_net(inp, g, 0)
            owners["supernet, compiled ops"] = compiled_net
            try:
                compiled = torch.compile(standalone)
                models["standalone, compiled"] = compiled
                owners["standalone, compiled"] = standalone
            except Exception as err:  # reported, not fatal
                rows.append((f"  {label}: torch.compile unavailable", type(err).__name__, "", None))
        optimizers = {name: make_optimizer(owner, bench.settings) for name, owner in owners.items()}

        def make_step(
            name: str, models=models, optimizers=optimizers
        ) -> Callable[[], torch.Tensor]:
            model, opt = models[name], optimizers[name]

            def step() -> torch.Tensor:
                with autocast(bench.device, bench.supernets.amp_):
                    logits = model(x)
                loss = F.cross_entropy(logits.float(), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                return loss

            return step

        best = {}
        for name in models:
            try:
                time_steps(make_step(name), args.warmup, bench.device)
            except Exception as err:  # e.g. compile without a C++ toolchain
                rows.append((f"  {label}: {name} failed", type(err).__name__, "", None))
                continue
            best[name] = float("inf")
        for _ in range(args.repeats):  # interleaved, best of repeats
            for name in best:
                best[name] = min(best[name], time_steps(make_step(name), args.steps, bench.device))
        rate = {name: args.steps * args.batch / sec for name, sec in best.items()}
        ratio = rate["supernet"] / rate["standalone"]
        rows.append((f"{label}: supernet step (img/s)", rate["supernet"], "", None))
        rows.append((f"{label}: standalone step (img/s)", rate["standalone"], "", None))
        if "standalone, compiled" in rate:
            compiled = rate["standalone, compiled"]
            rows.append((f"{label}: standalone compiled (img/s)", compiled, "", None))
            rows.append((f"{label}: supernet / standalone compiled", rate["supernet"] / compiled,
                         "", None))  # fmt: skip
        if "supernet, compiled ops" in rate and "standalone, compiled" in rate:
            ops = rate["supernet, compiled ops"]
            rows.append((f"{label}: supernet, compiled ops (img/s)", ops, "", None))
            rows.append((f"{label}: compiled-ops supernet / compiled",
                         ops / rate["standalone, compiled"], "", None))  # fmt: skip
        rows.append((f"{label}: supernet / standalone", ratio, ">= 0.70", ratio >= TARGET_RATIO))
    return rows


def pass_figures(bench: GpuBenchmark) -> list[tuple]:
    task, rng = bench.tasks[0], np.random.default_rng(0)
    arch = bench.space.index(ARCHS["NB201 best (cifar10)"])
    bench.weight_sharing.train_pass(task, [arch], rng=rng)  # warm-up
    seconds, alone = float("inf"), 0.0
    for _ in range(3):  # interleaved, best of three (the machine may be shared)
        seconds = min(seconds, bench.weight_sharing.train_pass(task, [arch], rng=rng))
        alone = max(alone, bench.standalone_train(arch, task, 1).images_per_s)
    images = bench.batches_per_pass(task) * bench.settings.batch_size
    ratio = images / seconds / alone
    return [
        ("train_pass, one arch (img/s)", images / seconds, "", None),
        ("standalone_train, 1 epoch (img/s)", alone, "", None),
        ("train_pass / standalone_train", ratio, ">= 0.70", ratio >= TARGET_RATIO),
    ]


def ranking_figures(args: argparse.Namespace, device: str) -> list[tuple]:
    bench = GpuBenchmark(
        "nb201", ("synthetic-shapes-b",), device=device, seed=0, channels=args.rank_channels,
        cells_per_stage=1, batch_size=64, epochs=args.rank_passes, bn_eval="batch",
    )  # fmt: skip
    task, rng = bench.tasks[0], np.random.default_rng(0)
    began = time.perf_counter()
    for _ in range(args.rank_passes):
        bench.weight_sharing.train_pass(task, bench.space.enumerate(), rng=rng)
    supernet_s = time.perf_counter() - began
    archs = [bench.space.from_genes(g) for g in RANKING_GENES]
    began = time.perf_counter()
    truth = [bench.standalone_train(a, task, args.rank_epochs).valid_acc for a in archs]
    standalone_s = time.perf_counter() - began
    check = bench.kendall_tau(archs, task, truth)
    print("  cell (op position per edge: 0 none, 1 skip, 2 conv1x1, 3 conv3x3, 4 pool)")
    for genes, est, ref in zip(RANKING_GENES, check.estimates, truth, strict=True):
        cell = "".join(map(str, genes))
        print(f"    {cell}  supernet valid {est:5.1f}  standalone valid {ref:5.1f}")
    return [
        (f"ranking: supernet training, {args.rank_passes} passes (s)", supernet_s, "", None),
        (f"ranking: 10 standalone x {args.rank_epochs} epochs (s)", standalone_s, "", None),
        ("ranking: Kendall tau (10 archs)", check.tau, "> 0", check.tau > 0),
        ("ranking: p-value", check.pvalue, "", None),
    ]


def _row(name: str, value: object, target: str, ok: bool | None) -> str:
    text = f"{value:12.3f}" if isinstance(value, float) else f"{value!s:>12}"
    verdict = "" if ok is None else ("PASS" if ok else "MISS")
    return f"{name:<52} {text}  {target:<10} {verdict}"


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table; exit 0 (misses are reported, not fatal)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: auto)")
    parser.add_argument("--dataset", default="synthetic-shapes")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--cells", type=int, default=5, help="cells per stage (N)")
    parser.add_argument("--batch", type=int, default=None, help="default 256 CUDA, 64 CPU")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per repeat")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--ranking", action="store_true", help="run the ranking check")
    parser.add_argument("--rank-passes", type=int, default=10)
    parser.add_argument("--rank-epochs", type=int, default=4)
    parser.add_argument("--rank-channels", type=int, default=8)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = args.device != "cpu" and torch.cuda.is_available()
    args.batch = args.batch or (256 if cuda else 64)
    args.steps = args.steps or (50 if cuda else 5)
    bench = GpuBenchmark(
        "nb201", (args.dataset,), device=args.device, seed=0, channels=args.channels,
        cells_per_stage=args.cells, batch_size=args.batch, max_batches_per_pass=20,
        max_eval_batches=4,
    )  # fmt: skip
    nets = bench.supernets
    print(f"device: {device_name(bench.device)}; torch {torch.__version__}; amp {nets.amp_}; "
          f"channels_last {nets.channels_last_}; C={args.channels} N={args.cells} "
          f"batch {args.batch}")  # fmt: skip
    rows = step_figures(bench, args) + pass_figures(bench)
    if args.ranking:
        rows += ranking_figures(args, str(bench.device))
    print(f"{'measure':<52} {'value':>12}  {'target':<10} verdict")
    for row in rows:
        print(_row(*row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
