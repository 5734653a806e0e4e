"""Checks of the supernet against ground truth: standalone training and rank correlation.

A weight-sharing estimate is only useful if it ranks architectures like real training does.
:func:`standalone_train` trains one architecture alone (no weight sharing, NB201's cosine
schedule) and :func:`kendall_tau` compares the supernet's validation accuracies of some
architectures with reference values (standalone accuracies, or a table's) by Kendall's tau.
:func:`table_kendall_tau` is the usual fidelity figure of a weight-sharing method: the
reference values come from a table benchmark of the same space that the caller opened (NB201:
the table's validation accuracy, mean over its seeds) for the fixed sample of
:func:`ranking_sample`.  Functions of :class:`~._supernets.Supernets`;
:class:`~benchsim.backends.gpu.GpuBenchmark` offers them as methods.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from benchsim._checks import check_int
from benchsim.backends.gpu._evaluate import split_accuracy
from benchsim.backends.gpu._ops import init_parameters
from benchsim.backends.gpu._settings import synchronize
from benchsim.backends.gpu._standalone import (
    StandaloneResult,
    load_from_supernet,
    standalone_like,
)
from benchsim.backends.gpu._supernets import Supernets
from benchsim.backends.gpu._train import count_correct, make_optimizer, train_steps
from benchsim.errors import ConfigError

STANDALONE_INITS = ("scratch", "supernet")
RANKING_SEED = 201
"""Seed of :func:`ranking_sample`'s fixed architectures (the same 100 in every report)."""


def ranking_sample(space: Any, n: int = 100, seed: int = RANKING_SEED) -> np.ndarray:
    """``n`` fixed, functionally distinct architectures of ``space`` (sorted indices).

    Drawn uniformly without replacement from the isomorphism-class representatives when the
    space knows them (NB201: 6,466 classes; two isomorphic cells are one network, so a pair of
    them would only add a tie to the reference), else from all indices.  The same ``seed``
    gives the same sample on every machine, so taus from different runs compare like for like.
    """
    check_int("n", n, 2)
    classes = getattr(space, "isomorphism_classes", None)
    pool = np.unique(classes()) if classes is not None else space.enumerate()
    if n > pool.size:
        raise ConfigError(
            f"n == {n}, but space {space.name} has only {pool.size} distinct architectures"
        )
    return np.sort(np.random.default_rng(seed).choice(pool, size=n, replace=False))


@dataclass(frozen=True)
class RankCorrelation:
    """Kendall's tau between supernet estimates and reference values of the same archs."""

    tau: float
    pvalue: float
    estimates: np.ndarray
    reference: np.ndarray


def standalone_train(
    nets: Supernets,
    index: int,
    task: str,
    epochs: int | None = None,
    *,
    seed: int | None = None,
    init: str = "scratch",
    on_epoch: Callable[[int, int], None] | None = None,
) -> StandaloneResult:
    """Train ``arch`` alone on ``task`` for ``epochs`` passes and test it.

    The network is a :class:`~._standalone.StandaloneNet` with the supernet's skeleton,
    trained with the backend's optimizer settings and a cosine schedule over all its steps
    (NB201's protocol; ``max_batches_per_pass`` still caps each pass), then evaluated in
    eval mode on the whole validation and test splits.  ``init="supernet"`` starts from the
    supernet path's weights instead of a fresh initialisation.  The run uses its own
    generators (``seed``; default derived from the benchmark seed, the architecture and the
    task), so it neither reads nor moves the supernet's state and repeats exactly.
    ``on_epoch(done, epochs)`` is called after each epoch (for a progress display).
    """
    s = nets.settings
    epochs = s.epochs if epochs is None else epochs
    check_int("epochs", epochs, 1)
    if init not in STANDALONE_INITS:
        raise ConfigError(f"init == {init!r}; allowed: {', '.join(STANDALONE_INITS)}")
    if seed is None:
        task_number = nets.tasks.index(task)
        seed = int(np.random.SeedSequence([nets.seed_, index, task_number]).generate_state(1)[0])
    init_seed, data_seed = np.random.SeedSequence(seed).generate_state(2)
    number, head = nets.net_of_[task]
    supernet, data = nets.nets_[number], nets.data_[task]
    device = data.device
    genes = nets.genes(index)
    if init == "supernet":
        net = load_from_supernet(supernet, genes, head)
    else:
        net = standalone_like(supernet, genes, head)
        init_parameters(net, torch.Generator().manual_seed(int(init_seed)))
        net.to(device)
        if nets.channels_last_:
            net.to(memory_format=torch.channels_last)
    model = torch.compile(net, backend=s.compile_backend) if s.compile else net
    optimizer = make_optimizer(net, s)
    per_pass = nets.batches_per_pass(task)
    cosine = dataclasses.replace(s, lr_schedule="cosine")
    lrs = [cosine.lr_at(step, epochs * per_pass) for step in range(epochs * per_pass)]
    generator = torch.Generator(device=device).manual_seed(int(data_seed))
    batch_size = min(s.batch_size, data.size("train"))
    began = time.perf_counter()
    for epoch in range(epochs):
        correct, seen = train_steps(
            net,
            lambda b, x: model(x),
            data,
            data.order("train", generator),
            batch_size=batch_size,
            lrs=lrs[epoch * per_pass : (epoch + 1) * per_pass],
            optimizer=optimizer,
            generator=generator,
            amp=nets.amp_,
        )[1:]
        if on_epoch is not None:
            on_epoch(epoch + 1, epochs)
    train_acc = 100.0 * float(correct.item()) / max(seen, 1)
    synchronize(device)
    seconds = time.perf_counter() - began
    net.eval()
    accuracy = {}
    for split in ("valid", "test"):
        hits, count = count_correct(
            model,
            data,
            data.splits[split],
            batch_size=s.eval_batch_size,
            limit=s.max_eval_batches,
            amp=nets.amp_,
        )
        accuracy[split] = 100.0 * float(hits.item()) / max(count, 1)
    return StandaloneResult(
        arch=index,
        task=task,
        epochs=epochs,
        train_acc=train_acc,
        valid_acc=accuracy["valid"],
        test_acc=accuracy["test"],
        train_time_s=seconds,
        images_per_s=epochs * per_pass * batch_size / max(seconds, 1e-12),
        seed=seed,
    )


def kendall_tau(
    nets: Supernets, indices: np.ndarray, task: str, reference_values: Sequence[float]
) -> RankCorrelation:
    """Kendall's tau between the supernet's ``valid_acc`` of ``archs`` and references.

    ``reference_values[i]`` is the accuracy of ``archs[i]`` from another source, e.g.
    :meth:`standalone_train` or the NB201 table.  Uses :func:`scipy.stats.kendalltau`
    (tau-b, ties handled).
    """
    from scipy.stats import kendalltau

    reference = np.asarray(reference_values, dtype=np.float64)
    if reference.shape != indices.shape or indices.size < 2:
        raise ConfigError(
            f"kendall_tau needs one reference value per architecture and at least two; "
            f"got {reference.size} values for {indices.size} architectures"
        )
    estimates = np.array(
        [split_accuracy(nets, int(i), task, "valid") for i in indices],
        dtype=np.float64,
    )
    if not np.isfinite(reference).all():
        raise ConfigError("kendall_tau reference values must be finite numbers")
    result = kendalltau(estimates, reference)
    return RankCorrelation(
        tau=float(result.statistic),
        pvalue=float(result.pvalue),
        estimates=estimates,
        reference=reference,
    )


def table_kendall_tau(
    nets: Supernets,
    indices: np.ndarray,
    task: str,
    table: Any,
    *,
    table_task: str | None = None,
    metric: str = "valid_acc",
) -> RankCorrelation:
    """Kendall's tau between the supernet's ``valid_acc`` and the tabular benchmark's.

    ``table`` is a table-backend benchmark of the same space, opened by the caller (this
    backend never opens another); ``table_task`` the task to read there (default: ``task``
    itself, e.g. ``cifar10``; a synthetic task has no table counterpart, so it must be named,
    and the tau is then only a pipeline check).  The table's value is its default answer for
    ``metric`` (NB201: the mean over its seeds).
    """
    if table.space.name != nets.space.name:
        raise ConfigError(
            f"table space {table.space.name!r} differs from the supernet's {nets.space.name!r}"
        )
    if table_task is None and task not in table.tasks:
        raise ConfigError(
            f"task {task!r} has no counterpart in the {table.name} table (tasks: "
            f"{', '.join(table.tasks)}); pass table_task= to compare with one of them"
        )
    reference_task = table.resolve_task(task if table_task is None else table_task)
    reference = table.query_many(indices, reference_task, metric).values
    return kendall_tau(nets, indices, task, reference)
