"""Weight sharing on the live backend (``bench.weight_sharing``): real training of the
supernets, real seconds as costs.

* :func:`train_pass` (EMT-NAS Algorithm 3): one pass over the task's training split; every
  mini-batch trains the path of one architecture drawn from the given ones with the given
  probabilities, with the caller's ``numpy.random.Generator``.
* :func:`joint_train_pass` (EMT-NAS's JT-S / JT-D, appendix D): one pass over the union of
  several tasks' training splits through one supernet with a head per task; the tasks'
  mini-batches come in one random order, each training an architecture of its own task.  The
  first joint pass over tasks with untrained supernets of their own replaces those by one
  shared supernet (initialised from ``seed`` and the tasks).
* :func:`sampled_eval` (Algorithm 4): each architecture's accuracy (%) on one random
  validation mini-batch of its own, or on the whole validation split.

:class:`LiveWeightSharing` is the component; each of its hooks runs inside
:meth:`~._supernets.Supernets.scope` (torch's process-wide settings, restored after).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from benchsim.backends.base import BatchResult
from benchsim.backends.gpu._evaluate import (
    batch_correct,
    bn_context,
    recal_positions,
    recalibrates,
    split_correct,
)
from benchsim.backends.gpu._settings import Stopwatch, synchronize
from benchsim.backends.gpu._supernets import Supernets
from benchsim.backends.gpu._train import train_batches, train_steps
from benchsim.backends.weight_sharing import WeightSharing, joint_group


class LiveWeightSharing(WeightSharing):
    """The live benchmark's weight-sharing steps, on its :class:`~._supernets.Supernets`.

    Parameters
    ----------
    nets
        The benchmark's training state.
    resolve_task
        The benchmark's task-name resolution.
    """

    def __init__(self, nets: Supernets, resolve_task: Callable[[str], str]) -> None:
        super().__init__(nets.space, resolve_task)
        self.nets = nets

    def _train_pass(
        self,
        task: str,
        indices: np.ndarray,
        *,
        rng: np.random.Generator,
        weights: np.ndarray | None,
        planned_passes: int | None,
    ) -> float:
        # ``planned_passes`` is not used: the cosine schedule spans the ``epochs`` setting.
        with self.nets.scope():
            return train_pass(self.nets, task, indices, rng=rng, weights=weights)

    def _joint_train_pass(
        self,
        tasks: tuple[str, ...],
        indices: list[np.ndarray],
        *,
        rng: np.random.Generator,
        weights: list[np.ndarray | None],
        planned_passes: int | None,
    ) -> float:
        with self.nets.scope():
            return joint_train_pass(self.nets, tasks, indices, rng=rng, weights=weights)

    def _sampled_eval(
        self, task: str, indices: np.ndarray, *, rng: np.random.Generator, batch_size: int | None
    ) -> BatchResult:
        with self.nets.scope():
            return sampled_eval(self.nets, task, indices, rng=rng, batch_size=batch_size)


def train_pass(
    nets: Supernets,
    task: str,
    indices: np.ndarray,
    *,
    rng: np.random.Generator,
    weights: np.ndarray | None,
) -> float:
    """One pass over ``task``'s training split; cost: its real seconds."""
    number, head = nets.net_of_[task]
    net, data, s = nets.nets_[number], nets.data_[task], nets.settings
    n_batches = nets.batches_per_pass(task)
    picks = rng.choice(indices.size, size=n_batches, p=weights)
    path = [nets.genes(indices[k]) for k in picks]
    start, total = nets.steps_[number], nets.total_steps_[number]
    lrs = [s.lr_at(start + b, total) for b in range(n_batches)]
    began = time.perf_counter()
    order = data.order("train", nets.generator_)
    loss, correct, seen = train_steps(
        net,
        lambda b, x: net(x, path[b], head),
        data,
        order,
        batch_size=min(s.batch_size, data.size("train")),
        lrs=lrs,
        optimizer=nets.optimizers_[number],
        generator=nets.generator_,
        amp=nets.amp_,
    )
    loss_value, correct_value = torch.stack([loss, correct.to(loss.dtype)]).tolist()
    synchronize(nets.device)
    seconds = time.perf_counter() - began
    nets.steps_[number] = start + n_batches
    nets.passes_[task] += 1
    nets.train_seconds_[task] += seconds
    nets.last_pass_ = {
        "task": task,
        "loss": loss_value / n_batches,
        "train_acc": 100.0 * correct_value / max(seen, 1),
    }
    return seconds


def joint_train_pass(
    nets: Supernets,
    tasks: tuple[str, ...],
    indices: list[np.ndarray],
    *,
    rng: np.random.Generator,
    weights: list[np.ndarray | None],
) -> float:
    """One pass over every task's training batches in one mixed order, one supernet.

    The order of the tasks' batches is a random permutation (``rng``) of ``batches_per_pass``
    batches of each task; each task's images come in its own shuffled order, and its batches
    train architectures drawn (``rng``) from its ``indices`` through its head.  The schedule
    position and the optimizer are the shared supernet's; the seconds are shared out over the
    tasks by their batch counts (``train_time_s``)."""
    group = joint_group(
        tasks,
        lambda t: nets.groups_[nets.net_of_[t][0]],
        lambda t: nets.steps_[nets.net_of_[t][0]] > 0,
    )
    if group is None:
        nets.form_group(tasks)
    number = nets.net_of_[tasks[0]][0]
    net, s = nets.nets_[number], nets.settings
    counts = [nets.batches_per_pass(t) for t in tasks]
    mixed = rng.permutation(np.repeat(np.arange(len(tasks)), counts))
    paths = [
        [nets.genes(index[k]) for k in rng.choice(index.size, size=n, p=w)]
        for index, n, w in zip(indices, counts, weights, strict=True)
    ]
    start, total = nets.steps_[number], nets.total_steps_[number]
    lrs = [s.lr_at(start + b, total) for b in range(mixed.size)]
    began = time.perf_counter()
    datas = [nets.data_[t] for t in tasks]
    heads = [nets.net_of_[t][1] for t in tasks]
    orders = [data.order("train", nets.generator_) for data in datas]
    sizes = [min(s.batch_size, data.size("train")) for data in datas]
    position = np.zeros(len(tasks), dtype=np.int64)
    plan = []  # per step: (task position k, its batch number j)
    for k in mixed.tolist():
        plan.append((k, int(position[k])))
        position[k] += 1

    def batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
        k, j = plan[step]
        index = orders[k][j * sizes[k] : (j + 1) * sizes[k]]
        return datas[k].augmented(index, nets.generator_)

    def forward(step: int, x: torch.Tensor) -> torch.Tensor:
        k, j = plan[step]
        return net(x, paths[k][j], heads[k])

    loss, correct, seen = train_batches(
        net, forward, batch, lrs=lrs, optimizer=nets.optimizers_[number],
        device=nets.device, amp=nets.amp_,
    )  # fmt: skip
    loss_value, correct_value = torch.stack([loss, correct.to(loss.dtype)]).tolist()
    synchronize(nets.device)
    seconds = time.perf_counter() - began
    nets.steps_[number] = start + mixed.size
    for task, n in zip(tasks, counts, strict=True):
        nets.passes_[task] += 1
        nets.train_seconds_[task] += seconds * n / mixed.size
    nets.last_pass_ = {
        "task": "+".join(tasks),
        "tasks": tasks,
        "order": [tasks[k] for k in mixed.tolist()],
        "batches": dict(zip(tasks, counts, strict=True)),
        "loss": loss_value / mixed.size,
        "train_acc": 100.0 * correct_value / max(seen, 1),
    }
    return seconds


def sampled_eval(
    nets: Supernets,
    task: str,
    indices: np.ndarray,
    *,
    rng: np.random.Generator,
    batch_size: int | None,
) -> BatchResult:
    """Algorithm 4: each architecture on its own random validation batch, or on the whole
    validation split when ``batch_size`` is None (Algorithm 1, line 12)."""
    if indices.size == 0:
        return BatchResult(values=np.zeros(0), cost=np.zeros(0), source="live:supernet")
    number, head = nets.net_of_[task]
    net, data = nets.nets_[number], nets.data_[task]
    valid = data.splits["valid"]
    # Every random draw first, then one host-to-device copy each (a copy per architecture
    # would wait for the device every time).
    eval_index = None
    if batch_size is not None:
        size = min(batch_size, valid.numel())
        picks = np.stack([rng.choice(valid.numel(), size=size, replace=False) for _ in indices])
        eval_index = valid[torch.from_numpy(picks).to(nets.device)]
    recal = None
    if recalibrates(nets):
        positions = np.stack([recal_positions(nets, task, rng) for _ in indices])
        recal = data.splits["train"][torch.from_numpy(positions).to(nets.device)]
    correct, seen = [], []
    watch = Stopwatch(nets.device)
    with bn_context(nets, net) as reset:
        for k, index in enumerate(indices):
            genes = nets.genes(index)
            extra = None if recal is None else recal[k]
            if eval_index is None:
                hits, count = split_correct(nets, net, genes, head, data, "valid", reset, extra)
            else:
                hits = batch_correct(nets, net, genes, head, data, eval_index[k], reset, extra)
                count = int(eval_index.shape[1])
            correct.append(hits)
            seen.append(count)
            watch.mark()
    counts = torch.stack(correct).double().cpu().numpy()
    values = 100.0 * counts / np.maximum(np.asarray(seen, dtype=np.float64), 1.0)
    return BatchResult(values=values, cost=np.asarray(watch.intervals()), source="live:supernet")
