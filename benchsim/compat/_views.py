"""The official NAS-Bench-201 / NATS-Bench dataset names and sets, in benchsim's metrics.

The official APIs name four "datasets", each a training run on one split, evaluated on one or
more sets (``get_metrics(dataset, setname)`` of ``ArchResults``; the meanings are the official
docstrings'):

=================  ==============================  ===========================================
dataset            trained on                      evaluated on
=================  ==============================  ===========================================
``cifar10-valid``  CIFAR-10 train (25k)            ``x-valid`` (the other 25k of the train
                                                   set), ``ori-test`` (the 10k test set)
``cifar10``        CIFAR-10 train + valid (50k)    ``ori-test``
``cifar100``       CIFAR-100 train (50k)           ``x-valid`` / ``x-test`` (the two halves of
                                                   the 10k test set), ``ori-test`` (all of it)
``ImageNet16-120`` ImageNet16-120 train (151.7k)   ``x-valid`` / ``x-test`` (halves of the 6k
                                                   validation set), ``ori-test`` (all of it)
=================  ==============================  ===========================================

``get_more_info`` names the sets by role: ``valid-*`` is ``x-valid``, ``test-*`` is
``ori-test`` for the CIFAR-10 datasets and ``x-test`` otherwise, ``valtest-*`` is ``ori-test``
of cifar100 / ImageNet16-120.  benchsim's nb201 task ``cifar10`` carries both CIFAR-10 runs:
``train_acc``/``valid_acc``/``valid_setting_test_acc``/``train_time_s`` from ``cifar10-valid``
and ``test_acc`` from ``cifar10`` (see benchsim/importers/_nb201.py for the same mapping read
from the official files).  What neither run records in benchsim's data (the ``cifar10`` run's
training accuracy and time) is ``None`` here and raises when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchsim.errors import UnknownNameError


@dataclass(frozen=True)
class EvalSet:
    """One evaluated set of an official dataset."""

    role: str
    """Prefix of its ``get_more_info`` keys: ``valid``, ``test`` or ``valtest``."""
    set_name: str
    """Official set name: ``x-valid``, ``x-test`` or ``ori-test``."""
    metric: str
    """benchsim metric holding its accuracy."""
    images: int
    """Images in the set (what the eval-time emulation charges a forward pass over)."""


@dataclass(frozen=True)
class DatasetView:
    """One official dataset name, as benchsim's metrics hold it."""

    name: str
    task: str
    train_metric: str | None
    train_time: str | None
    train_images: int
    sets: tuple[EvalSet, ...]
    num_classes: int
    time_images: int
    """Images per epoch of the run whose time the task's ``train_time_s`` records (the
    eval-time emulation's per-image rate is taken from it)."""
    lacking: str = ""
    """Why ``train_metric`` / ``train_time`` are ``None`` (empty when they are not)."""
    comment: str = ""

    def eval_set(self, set_name: str) -> EvalSet | None:
        """The set called ``set_name`` (``x-valid``, ...), or ``None``."""
        return next((s for s in self.sets if s.set_name == set_name), None)


_C10_NOTE = (
    "is not in benchsim's data: the cifar10 run (trained on train+valid) is recorded only by "
    "its test accuracy; the cifar10-valid run records training accuracy and time"
)

VIEWS: dict[str, DatasetView] = {
    "cifar10-valid": DatasetView(
        "cifar10-valid",
        "cifar10",
        "train_acc",
        "train_time_s",
        25_000,
        (
            EvalSet("valid", "x-valid", "valid_acc", 25_000),
            EvalSet("test", "ori-test", "valid_setting_test_acc", 10_000),
        ),
        10,
        25_000,
        comment=(
            "benchsim: train-* is the CIFAR-10 train split (25k images); valid-* is x-valid, "
            "the other 25k images of the train set; test-* is the CIFAR-10 test set, after "
            "training on the train split"
        ),
    ),
    "cifar10": DatasetView(
        "cifar10",
        "cifar10",
        None,
        None,
        50_000,
        (EvalSet("test", "ori-test", "test_acc", 10_000),),
        10,
        25_000,
        lacking=_C10_NOTE,
        comment=(
            "benchsim: trained on the CIFAR-10 train + valid splits (50k images); test-* is "
            "the CIFAR-10 test set"
        ),
    ),
    "cifar100": DatasetView(
        "cifar100",
        "cifar100",
        "train_acc",
        "train_time_s",
        50_000,
        (
            EvalSet("valid", "x-valid", "valid_acc", 5_000),
            EvalSet("test", "x-test", "test_acc", 5_000),
            EvalSet("valtest", "ori-test", "valtest_acc", 10_000),
        ),
        100,
        50_000,
    ),
    "ImageNet16-120": DatasetView(
        "ImageNet16-120",
        "ImageNet16-120",
        "train_acc",
        "train_time_s",
        151_700,
        (
            EvalSet("valid", "x-valid", "valid_acc", 3_000),
            EvalSet("test", "x-test", "test_acc", 3_000),
            EvalSet("valtest", "ori-test", "valtest_acc", 6_000),
        ),
        120,
        151_700,
    ),
}
"""Official dataset name -> :class:`DatasetView`, in the official order."""

SEARCH_DATASETS = {
    "cifar10": "cifar10-valid",
    "cifar100": "cifar100",
    "ImageNet16-120": "ImageNet16-120",
}
"""``simulate_train_eval``'s dataset names -> the dataset it trains on (cifar10 searches on
``cifar10-valid``, as the official call does)."""

HP_EPOCHS = {"12": 12, "200": 200}
"""Topology-space ``hp`` values: the two separate cosine schedules, in epochs."""


def view(dataset: object, call: str) -> DatasetView:
    """The view of official dataset name ``dataset``; an unknown one lists the four."""
    found = VIEWS.get(dataset) if isinstance(dataset, str) else None
    if found is None:
        raise UnknownNameError("dataset", dataset, VIEWS, f"in {call}")
    return found


def remap_set(dataset: str, metric_on_set: str) -> tuple[str, str]:
    """The official ``find_best`` shorthand: ``("cifar10", "valid")`` is ``cifar10-valid``'s
    ``x-valid``, ``("cifar10", "test")`` is ``cifar10``'s ``ori-test``, and ``valid``/``test``
    of cifar100 / ImageNet16-120 are ``x-valid``/``x-test``."""
    if dataset == "cifar10" and metric_on_set == "valid":
        return "cifar10-valid", "x-valid"
    if dataset == "cifar10" and metric_on_set == "test":
        return "cifar10", "ori-test"
    if dataset in ("cifar100", "ImageNet16-120") and metric_on_set in ("valid", "test"):
        return dataset, f"x-{metric_on_set}"
    return dataset, metric_on_set
