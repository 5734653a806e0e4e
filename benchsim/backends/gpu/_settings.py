"""Settings of the live backend, the device it runs on, how it times device work, and the
torch process-wide settings it needs while it computes (:func:`torch_settings`).

:class:`GpuSettings` holds every training and evaluation hyperparameter (NB201's defaults:
SGD, momentum 0.9, Nesterov, weight decay 5e-4, learning rate 0.1, batch 256, ``C=16``,
``N=5``).  ``smoke=True`` swaps in a tiny network and a few batches per pass so that a whole
search finishes in seconds on a CPU; any option given explicitly still wins.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from benchsim._checks import check_int, check_number
from benchsim.errors import BackendError, UnknownNameError

LR_SCHEDULES = ("cosine", "constant")
COMPILE_BACKENDS = ("inductor", "aot_eager", "cudagraphs")
EVALUATE_MODES = ("standalone", "supernet")
BN_EVAL_MODES = ("batch", "running", "recalibrate")


@dataclass(frozen=True)
class GpuSettings:
    """Hyperparameters of supernet training and evaluation.

    Attributes
    ----------
    channels, cells_per_stage
        ``C`` and ``N`` of the NB201 skeleton.
    batch_size, eval_batch_size
        Mini-batch sizes of training and of full-split evaluation.
    lr, lr_min, momentum, nesterov, weight_decay
        SGD settings (NB201: 0.1, 0, 0.9, Nesterov, 5e-4).
    lr_schedule
        ``"cosine"``: the learning rate anneals from ``lr`` to ``lr_min`` over ``epochs`` passes
        per task (per mini-batch step) and stays at ``lr_min`` after them, so set ``epochs`` to
        the number of passes the search will ask for.  ``"constant"``: always ``lr`` (for
        searches whose length is not known in advance).
    epochs
        Passes per task the cosine schedule spans; also ``TaskInfo.epochs``.
    max_batches_per_pass, max_eval_batches
        Caps on training batches per pass and on evaluation batches per split (``None``: all).
    evaluate, evaluate_epochs
        How a search's "evaluate this architecture" (an ``Evaluate`` job: random search, REA,
        REINFORCE, PPO, XferNAS) is answered.  ``"standalone"``: the architecture is trained
        alone for ``evaluate_epochs`` (NB201's 12-epoch proxy) and its validation accuracy
        reported, charged the real seconds; the run summary's test accuracy comes from the
        same training.  ``"supernet"``: the supernet's accuracy as trained so far, which only
        means something after weight-sharing training passes (EMT-NAS, KTNAS).
    bn_eval
        How BatchNorm behaves when the supernet evaluates an architecture: ``"batch"``
        normalises with the evaluated batch's own statistics (train-mode BN, running statistics
        untouched: each path is judged with its own statistics at no extra cost);
        ``"running"`` uses the running statistics accumulated over all paths during training
        (plain eval mode; they mix paths, which SPOS reports costs ~5 accuracy points);
        ``"recalibrate"`` is SPOS: reset the statistics, average them over ``recal_batches``
        un-augmented training batches for that architecture, then evaluate in eval mode
        (restoring the supernet's statistics afterwards).
    recal_batches
        Training batches used by ``bn_eval="recalibrate"``.
    share_weights_across_tasks
        One supernet (one head per task) for all tasks from the start; default: one supernet
        per task.  With EMT-NAS it trains the shared weights in passes that alternate between
        tasks; EMT-NAS's JT-D baseline (mini-batches of all tasks mixed in one pass) is the
        algorithm ``jt-d``, which needs no option (its joint passes form the shared supernet).
    affine
        Learnable BN scale/shift in cells and reduction blocks.
    amp
        bfloat16 autocast (``None``: on CUDA only).
    channels_last
        channels_last (NHWC) memory format for weights and batches.  Faster on GPUs with
        tensor cores, and measured faster on the CPU too (pooling in NCHW is several times
        slower there), so on by default.
    compile
        ``torch.compile`` the supernet op by op (each op type and shape compiles once and serves
        every path: compiling the whole supernet would recompile for every architecture) and
        the standalone networks whole.  The first passes pay the compilation.
    compile_backend
        ``torch.compile`` backend: ``inductor`` (generated kernels), ``aot_eager`` (traced but
        eager kernels: checks the compiled path quickly), ``cudagraphs``.
    deterministic
        ``torch.use_deterministic_algorithms(True)`` (process-wide) and no cuDNN autotuning
        (``None``: on CPU only).
    distance_epochs, distance_samples
        LD-NAS's task distance (a ``TaskDistance`` job, :mod:`._fisher`): training epochs of
        each epsilon-approximation network (capped at ``max_batches_per_pass`` batches each)
        and target images its diagonal Fisher is averaged over.
    """

    channels: int = 16
    cells_per_stage: int = 5
    batch_size: int = 256
    eval_batch_size: int = 256
    lr: float = 0.1
    lr_min: float = 0.0
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    lr_schedule: str = "cosine"
    epochs: int = 200
    max_batches_per_pass: int | None = None
    max_eval_batches: int | None = None
    evaluate: str = "standalone"
    evaluate_epochs: int = 12
    bn_eval: str = "batch"
    recal_batches: int = 4
    share_weights_across_tasks: bool = False
    affine: bool = True
    amp: bool | None = None
    channels_last: bool = True
    compile: bool = False
    compile_backend: str = "inductor"
    deterministic: bool | None = None
    distance_epochs: int = 10
    distance_samples: int = 1000

    def __post_init__(self) -> None:
        for name in ("channels", "cells_per_stage", "batch_size", "eval_batch_size", "epochs",
                     "recal_batches", "max_batches_per_pass", "max_eval_batches",
                     "evaluate_epochs", "distance_epochs", "distance_samples"):  # fmt: skip
            value = getattr(self, name)
            if value is None and name.startswith("max_"):
                continue
            check_int(name, value, 1)
        for name in ("lr", "lr_min", "momentum", "weight_decay"):
            check_number(name, getattr(self, name), 0.0)
        if self.lr_schedule not in LR_SCHEDULES:
            raise UnknownNameError("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if self.bn_eval not in BN_EVAL_MODES:
            raise UnknownNameError("bn_eval mode", self.bn_eval, BN_EVAL_MODES)
        if self.evaluate not in EVALUATE_MODES:
            raise UnknownNameError("evaluate mode", self.evaluate, EVALUATE_MODES)
        if self.compile_backend not in COMPILE_BACKENDS:
            raise UnknownNameError("compile backend", self.compile_backend, COMPILE_BACKENDS)

    @classmethod
    def from_options(cls, smoke: bool = False, **options: Any) -> GpuSettings:
        """Settings from keyword options; unknown names raise, ``smoke`` sets tiny defaults."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in options:
            if key not in names:
                raise UnknownNameError("gpu backend option", key, names)
        base = dict(SMOKE) if smoke else {}
        return cls(**{**base, **options})

    def lr_at(self, step: int, total_steps: int) -> float:
        """Learning rate of mini-batch step ``step`` (0-based) of a ``total_steps`` schedule."""
        if self.lr_schedule == "constant":
            return float(self.lr)
        progress = min(step, total_steps) / max(total_steps, 1)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return float(self.lr_min + (self.lr - self.lr_min) * cosine)


SMOKE: dict[str, Any] = {
    "channels": 8,
    "cells_per_stage": 1,
    "batch_size": 64,
    "eval_batch_size": 128,
    "epochs": 10,
    "max_batches_per_pass": 4,
    "max_eval_batches": 4,
    "recal_batches": 1,
    "evaluate_epochs": 2,
    "distance_epochs": 1,
    "distance_samples": 64,
}
"""Defaults of ``smoke=True``: a 1-cell-per-stage, 8-channel network, 4 batches per pass."""

DEVICE_HELP = "allowed: 'cpu', 'cuda', 'cuda:N'"


def resolve_device(device: object) -> torch.device:
    """The torch device for ``device`` (``None``: CUDA when available, else the CPU).

    Raises :class:`BackendError` for an unknown device or CUDA without CUDA, in one line.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)  # type: ignore[arg-type]
    except (RuntimeError, TypeError):
        raise BackendError(f"device == {device!r} is not a device; {DEVICE_HELP}") from None
    if dev.type == "cpu":
        return torch.device("cpu")
    if dev.type != "cuda":
        raise BackendError(f"device == {device!r} is not supported; {DEVICE_HELP}")
    if not torch.cuda.is_available():
        raise BackendError(
            f"device == {device!r} but CUDA is not available (torch {torch.__version__}, "
            f"CUDA build {torch.version.cuda}); use device='cpu'"
        )
    count = torch.cuda.device_count()
    index = torch.cuda.current_device() if dev.index is None else dev.index
    if index >= count:
        raise BackendError(f"device == {device!r} but only cuda:0..cuda:{count - 1} exist")
    return torch.device("cuda", index)


def device_name(device: torch.device) -> str:
    """Human-readable device: the GPU's name, or the CPU's model and thread count."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} ({device})"
    import platform

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"CPU {model} ({torch.get_num_threads()} threads)"


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Stopwatch:
    """Real seconds between marks, without a host sync per mark.

    On CUDA each mark records an event and :meth:`intervals` synchronises once; on the CPU a
    mark reads ``time.perf_counter`` (work there is synchronous).
    """

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        # Events go on the device's own stream: on cuda:1, the current device may be cuda:0.
        self.stream = torch.cuda.current_stream(device) if self.cuda else None
        self.marks: list[Any] = []
        self.mark()

    def mark(self) -> None:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record(self.stream)
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter())

    def intervals(self) -> list[float]:
        """Seconds between consecutive marks."""
        if self.cuda:
            self.marks[-1].synchronize()
            return [
                a.elapsed_time(b) / 1e3
                for a, b in zip(self.marks[:-1], self.marks[1:], strict=True)
            ]
        return [b - a for a, b in zip(self.marks[:-1], self.marks[1:], strict=True)]


@contextmanager
def torch_settings(deterministic: bool, cudnn_benchmark: bool | None) -> Iterator[None]:
    """torch's process-wide determinism (and, on CUDA, cuDNN autotuning) as the live backend
    needs them, for the duration only: restored on exit, so opening or using a benchmark never
    changes them for the rest of the process.

    ``deterministic``: deterministic algorithms on (warn-only: an op without one warns instead
    of failing), else left as they are; ``cudnn_benchmark``: ``torch.backends.cudnn.benchmark``
    (``None``: left as it is, the CPU case).  Scopes nest: an inner one restores the outer's.
    """
    was = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    was_benchmark = torch.backends.cudnn.benchmark
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    if cudnn_benchmark is not None:
        torch.backends.cudnn.benchmark = cudnn_benchmark
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=was_warn_only)
        torch.backends.cudnn.benchmark = was_benchmark
