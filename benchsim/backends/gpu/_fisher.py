"""The log-determinant task distance of LD-NAS, computed from the tasks' images.

Le, Soltani, Ravier, Tarokh (ld-nas-fisher-task-distance.txt), Algorithm 1 ``Distance``:

1. Train an epsilon-approximation network ``N_b`` on each task's training split (lines 2-3).
2. On the *target* task's data ``X_t``, compute the empirical Fisher information of the
   target's own network, ``F_t,t``, and of each baseline's, ``F_b,t`` (Eq. 1, lines 4-5),
   approximated by its diagonal as the paper's experiments do.
3. ``d[b, t] = | mean_i log(F_b,t,i + sigma^2) - mean_j log(F_t,t,j + sigma^2) |`` (Eq. 2;
   Eq. 3 when both networks have the same size: the diagonal entries are the eigenvalues).
4. Repeat with ``repeats`` different initialisations; report mean and std (Figure 1).

So ``d[t, t] = 0``, ``d >= 0``, and ``d[b, t] != d[t, b]`` in general.  Choices where the paper
is silent or does not fit a CPU (each a :class:`FisherSettings` field):

* **The network** (the paper: VGG-16): a small VGG-style CNN, ``conv3x3-BN-ReLU`` blocks of
  ``channels`` = 16, 32, 64 with 2x2 max-pooling between them, global average pooling and a
  linear head (24k parameters on RGB input), trained with Adam (``lr`` 3e-3, ``batch_size``
  64) for ``epochs`` with the dataset's crop/flip augmentation.  Its validation accuracy
  is recorded per task (``DistanceMatrix.approximation``): how good an epsilon-approximation
  it is.  The networks of one repeat share their initial weights ("initialisation setting"
  ``r``: every layer whose shape agrees is drawn identically), which takes the initialisation
  noise out of the comparison within a repeat; repeats differ in it.
* **Whose labels** (Eq. 1 writes ``log p(x_i | theta)``), ``labels``: ``"sampled"`` (default)
  draws one label per image from the network's own predictive distribution (the Monte-Carlo
  Fisher, one backward pass per image); ``"expected"`` takes the exact expectation over every
  class (one pass per class); ``"target"`` uses the target's observed labels (the authors'
  code, which pads a smaller head's logits with zeros).  The first two need no labels of the
  target and are invariant to renaming its classes: a label-permuted copy of a task differs
  from it only by its network's training (data order, SGD noise), which is what its small
  distance measures (docs/ldnas.md: 0.16 against 0.9 for unrelated images).
* **Normalisation**, ``normalize``: each Fisher diagonal is divided by its sum before Eq. 2, as
  the authors' public code does (``lephuoccat/Fisher-Information-NAS``); the paper does not say.
  ``sigma`` = 1e-5 (``sigma^2`` = 1e-10, the authors' constant).
* **Data**: the Fisher is averaged over ``fisher_samples`` images of the target's validation
  split (one subset per target and repeat, shared by every network evaluated on it), images
  normalised with the target dataset's own statistics.  A network meets another task's images
  at its own input size (bilinear resize) and channel count (grey repeated to RGB, RGB
  averaged to grey), as the paper resized MNIST to CIFAR's 32x32 RGB.
* Per-sample gradients come from ``torch.func`` (``vmap`` over ``grad``), in chunks.

Seeds: every random choice is derived from ``(seed, repeat, task names)``, never from the order
of the calls, so a distance is the same whether computed alone or in a whole matrix.
"""

from __future__ import annotations

import dataclasses
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchsim.backends.gpu._data import DeviceData
from benchsim.backends.gpu._ops import init_parameters
from benchsim.backends.gpu._train import count_correct, train_steps
from benchsim.distances import DistanceMatrix, log_det_distance, statistics
from benchsim.errors import ConfigError, UnknownNameError

LABELS = ("sampled", "expected", "target")


@dataclass(frozen=True)
class FisherSettings:
    """How the epsilon-approximation networks are trained and the distances computed.

    Attributes
    ----------
    epochs, batch_size, lr
        Training of each approximation network (Adam, constant learning rate).
    max_batches
        Cap on training batches per epoch (``None``: the whole training split).
    channels
        Widths of the network's conv blocks.
    fisher_samples
        Target validation images the Fisher is averaged over (fewer if the split is smaller).
    labels
        ``"sampled"``, ``"expected"`` or ``"target"`` (see the module docstring).
    normalize
        Divide each Fisher diagonal by its trace before Eq. 2 (the authors' code).
    sigma
        ``sigma`` of Eq. 2-3 (``sigma^2`` is added to every eigenvalue).
    chunk
        Images whose per-sample gradients are computed at once (memory, not results).
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 3e-3
    max_batches: int | None = None
    channels: tuple[int, ...] = (16, 32, 64)
    fisher_samples: int = 1000
    labels: str = "sampled"
    normalize: bool = True
    sigma: float = 1e-5
    chunk: int = 128

    def __post_init__(self) -> None:
        from benchsim._checks import check_int, check_number

        for name in ("epochs", "batch_size", "fisher_samples", "chunk"):
            check_int(name, getattr(self, name), 1)
        check_int("max_batches", self.max_batches, 1, allow_none=True)
        check_number("lr", self.lr, 0.0, low_open=True)
        check_number("sigma", self.sigma, 0.0, low_open=True)
        channels = self.channels
        if (
            isinstance(channels, (str, bytes))
            or not isinstance(channels, Sequence)
            or not channels
            or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in channels)
        ):
            raise ConfigError(f"channels == {channels!r}, must be a list of positive integers")
        object.__setattr__(self, "channels", tuple(channels))
        if self.labels not in LABELS:
            raise UnknownNameError("Fisher labels", self.labels, LABELS)
        if not isinstance(self.normalize, bool):
            raise ConfigError(f"normalize == {self.normalize!r}, must be true or false")

    @classmethod
    def from_options(cls, smoke: bool = False, **options: Any) -> FisherSettings:
        """Settings from keyword options (unknown names refused); ``smoke``: tiny defaults."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in options:
            if key not in names:
                raise UnknownNameError("task-distance setting", key, names)
        return cls(**{**(SMOKE_FISHER if smoke else {}), **options})


SMOKE_FISHER: dict[str, Any] = {"epochs": 1, "batch_size": 64, "max_batches": 4,
                                "fisher_samples": 64}  # fmt: skip
"""``smoke=True``: one epoch of four batches per network and 64 Fisher images (seconds)."""

NETWORK = (
    "VGG-style CNN: conv3x3-BN-ReLU blocks (widths `channels`), 2x2 max-pool between blocks, "
    "global average pool, linear head (the paper: VGG-16)"
)


class ApproxNet(nn.Module):
    """The epsilon-approximation network (see the module docstring); remembers its input."""

    def __init__(
        self, in_channels: int, classes: int, channels: Sequence[int], image_size: tuple[int, int]
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_channels
        for k, out in enumerate(channels):
            if k:
                layers.append(nn.MaxPool2d(2))
            layers += [nn.Conv2d(width, out, 3, padding=1, bias=False), nn.BatchNorm2d(out),
                       nn.ReLU(inplace=False)]  # fmt: skip
            width = out
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, classes)
        self.in_channels = in_channels
        self.image_size = tuple(image_size)
        self.input_mean = torch.zeros(1, in_channels, 1, 1)
        self.input_inv_std = torch.ones(1, in_channels, 1, 1)

    def normalise_like(self, data: DeviceData) -> None:
        """Adopt ``data``'s normalisation (its training split's statistics, 0..255 scale)."""
        self.input_mean = data.mean.reshape(1, 1, 1, -1).permute(0, 3, 1, 2).clone()
        self.input_inv_std = data.inv_std.reshape(1, 1, 1, -1).permute(0, 3, 1, 2).clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).mean(dim=(2, 3)))

    def inputs(self, images: torch.Tensor) -> torch.Tensor:
        """Images of any task (uint8 NHWC, as stored) as this network's input: its channel
        count and size, normalised with the statistics of the network's own training set (its
        preprocessing is part of the network, as it would be when deployed on a new task)."""
        x = images.float().permute(0, 3, 1, 2)
        channels = x.shape[1]
        if channels != self.in_channels:
            if self.in_channels == 1:  # RGB -> grey
                x = x.mean(dim=1, keepdim=True)
            elif channels == 1:  # grey -> RGB (the paper's MNIST -> 3 channels)
                x = x.expand(-1, self.in_channels, -1, -1)
            else:
                raise ConfigError(
                    f"a network of {self.in_channels}-channel images cannot read "
                    f"{channels}-channel ones; give tasks with 1 or {self.in_channels} channels"
                )
        if tuple(x.shape[2:]) != self.image_size:
            shrink = x.shape[2] > self.image_size[0]
            x = F.interpolate(x, size=self.image_size, mode="bilinear", align_corners=False,
                              antialias=shrink)  # fmt: skip
        return ((x - self.input_mean) * self.input_inv_std).contiguous()


def _key(*parts: object) -> list[int]:
    """Seed material from names and numbers (stable across processes, unlike ``hash``)."""
    return [zlib.crc32(p.encode()) if isinstance(p, str) else int(p) for p in parts]


class FisherDistances:
    """Approximation networks and Fisher diagonals of a set of tasks, computed once each.

    ``data`` maps task names to their :class:`DeviceData`; :meth:`distance` trains what it
    needs (cached per task and repeat) and :meth:`matrix` fills a whole
    :class:`~benchsim.distances.DistanceMatrix`.  ``seconds`` is the time spent so far.
    """

    def __init__(
        self,
        data: Mapping[str, DeviceData],
        settings: FisherSettings,
        seed: int,
        device: torch.device,
    ) -> None:
        self.data = dict(data)
        self.settings = settings
        self.seed = int(seed)
        self.device = device
        self.networks: dict[tuple[str, int], tuple[ApproxNet, float]] = {}
        self.fishers: dict[tuple[str, str, int], np.ndarray] = {}
        self.subsets: dict[tuple[str, int], torch.Tensor] = {}
        self.seconds = 0.0

    # ------------------------------------------------------------------ networks
    def _generator(self, *parts: object, device: torch.device | None = None) -> torch.Generator:
        seed = int(np.random.SeedSequence(_key(self.seed, *parts)).generate_state(1)[0])
        return torch.Generator(device=device or self.device).manual_seed(seed)

    def network(self, task: str, repeat: int) -> tuple[ApproxNet, float]:
        """``task``'s approximation network of ``repeat`` and its validation accuracy (%)."""
        key = (task, int(repeat))
        if key not in self.networks:
            began = time.perf_counter()
            self.networks[key] = self._train(task, int(repeat))
            self.seconds += time.perf_counter() - began
        return self.networks[key]

    def _train(self, task: str, repeat: int) -> tuple[ApproxNet, float]:
        data, s = self.data[task], self.settings
        size = tuple(data.images.shape[1:3])
        with torch.random.fork_rng(devices=[]):  # module construction draws from torch's RNG
            net = ApproxNet(data.in_channels, data.num_classes, s.channels, size)
        # Initialisation setting ``repeat``: the same draws for every task of the repeat.
        init_parameters(net, self._generator("init", repeat, device=torch.device("cpu")))
        net.to(self.device)
        net.normalise_like(data)
        optimizer = torch.optim.Adam(net.parameters(), lr=s.lr)
        generator = self._generator("data", repeat, task)
        batch = min(s.batch_size, data.size("train"))
        steps = max(data.size("train") // batch, 1)
        if s.max_batches is not None:
            steps = min(steps, s.max_batches)
        for _ in range(s.epochs):
            order = data.order("train", generator)
            train_steps(net, lambda _b, x: net(x), data, order, batch_size=batch,
                        lrs=[s.lr] * steps, optimizer=optimizer, generator=generator,
                        amp=False)  # fmt: skip
        net.eval()
        correct, seen = count_correct(
            net, data, data.splits["valid"], batch_size=512, limit=None, amp=False
        )
        return net, 100.0 * int(correct) / max(seen, 1)

    # ------------------------------------------------------------------ Fisher
    def _subset(self, target: str, repeat: int) -> torch.Tensor:
        key = (target, int(repeat))
        if key not in self.subsets:
            valid = self.data[target].splits["valid"]
            picks = torch.randperm(
                valid.numel(), generator=self._generator("fisher", repeat, target)
            )[: self.settings.fisher_samples]
            self.subsets[key] = valid[picks]
        return self.subsets[key]

    def fisher(self, source: str, target: str, repeat: int) -> np.ndarray:
        """Diagonal empirical Fisher of ``source``'s network on ``target``'s images (Eq. 1)."""
        key = (source, target, int(repeat))
        if key not in self.fishers:
            net, _ = self.network(source, repeat)
            began = time.perf_counter()
            data, index = self.data[target], self._subset(target, repeat)
            generator = self._generator("labels", repeat, source, target)
            self.fishers[key] = diagonal_fisher(
                net, net.inputs(data.images[index]), data.labels[index], self.settings.labels,
                generator, self.settings.chunk,
            )  # fmt: skip
            self.seconds += time.perf_counter() - began
        return self.fishers[key]

    def distance(self, source: str, target: str, repeat: int) -> float:
        """d[source -> target] of one repeat (Eq. 2); 0 for a task and itself."""
        if source == target:
            return 0.0
        s = self.settings
        return log_det_distance(
            self.fisher(source, target, repeat),
            self.fisher(target, target, repeat),
            s.sigma,
            s.normalize,
        )

    def distances_to(
        self, target: str, sources: Sequence[str], repeats: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std over ``repeats`` of d[source -> target] for each of ``sources``."""
        values = np.array([[self.distance(b, target, r) for b in sources] for r in range(repeats)])
        return statistics(values)

    def matrix(
        self, tasks: Sequence[str], repeats: int, provenance: Mapping[str, Any] | None = None
    ) -> DistanceMatrix:
        """Every d[b -> t] of ``tasks`` over ``repeats`` (the paper's Figure 1)."""
        tasks = tuple(tasks)
        values = np.array(
            [[[self.distance(b, t, r) for t in tasks] for b in tasks] for r in range(repeats)]
        )
        mean, std = statistics(values)
        accuracy = {}
        for task in tasks:
            acc = np.array([self.network(task, r)[1] for r in range(repeats)])
            a_mean, a_std = statistics(acc[:, None])
            accuracy[task] = {"valid_acc_mean": float(a_mean[0]), "valid_acc_std": float(a_std[0])}
        settings = {
            **dataclasses.asdict(self.settings),
            "channels": list(self.settings.channels),
            "network": NETWORK,
            "equation": "Eq. 2 on diagonal Fisher matrices",
            "seed": self.seed,
            "repeats": int(repeats),
        }
        return DistanceMatrix(
            tasks=tasks,
            mean=mean,
            std=std,
            repeats=int(repeats),
            per_repeat=values,
            settings=settings,
            approximation=accuracy,
            provenance={**(provenance or {}), "seconds": round(self.seconds, 3)},
        )


def diagonal_fisher(
    net: ApproxNet,
    x: torch.Tensor,
    y: torch.Tensor,
    labels: str,
    generator: torch.Generator,
    chunk: int,
) -> np.ndarray:
    """Mean over images of squared per-sample gradients of ``log p(label | image)`` (Eq. 1).

    ``labels``: ``"sampled"`` from the network's predictive distribution, ``"expected"`` over
    all classes weighted by it, ``"target"`` the given ``y`` (logits zero-padded when the
    network has fewer classes).  Returns the diagonal as one float64 vector (parameters in
    registration order).  BatchNorm uses its running statistics (eval mode).
    """
    from torch.func import functional_call, grad, jacrev, vmap

    net.eval()
    params = {k: v.detach() for k, v in net.named_parameters()}
    buffers = {k: v.detach() for k, v in net.named_buffers()}
    classes = net.head.out_features
    pad = max(int(y.max()) + 1 - classes, 0) if labels == "target" and y.numel() else 0

    def log_probs(p: dict[str, torch.Tensor], image: torch.Tensor) -> torch.Tensor:
        logits = functional_call(net, (p, buffers), (image.unsqueeze(0),))[0]
        if pad:
            logits = F.pad(logits, (0, pad))
        return F.log_softmax(logits, dim=-1)

    total = {k: torch.zeros_like(v) for k, v in params.items()}
    with torch.no_grad():
        probs = torch.cat([F.softmax(net(part), dim=-1) for part in x.split(512)])
    if labels == "sampled":
        y = torch.multinomial(probs, 1, generator=generator).squeeze(1)
    if labels in ("sampled", "target"):

        def chosen(p: dict[str, torch.Tensor], image: torch.Tensor, label: torch.Tensor):
            return log_probs(p, image).gather(0, label.view(1))[0]

        per_sample = vmap(grad(chosen), in_dims=(None, 0, 0))
        for xs, ys in zip(x.split(chunk), y.split(chunk), strict=True):
            grads = per_sample(params, xs, ys)
            for k in total:
                total[k] += grads[k].square().sum(dim=0)
    else:  # expected: sum_y p(y|x) (d log p(y|x))^2, one Jacobian row per class
        step = max(chunk // classes, 1)
        per_sample = vmap(jacrev(log_probs), in_dims=(None, 0))
        for xs, ps in zip(x.split(step), probs.split(step), strict=True):
            jac = per_sample(params, xs)
            for k in total:
                weight = ps.view(*ps.shape, *([1] * (jac[k].dim() - 2)))
                total[k] += (weight * jac[k].square()).sum(dim=(0, 1))
    vector = torch.cat([v.flatten() for v in total.values()]) / max(x.shape[0], 1)
    return vector.double().cpu().numpy()


def open_tasks(
    tasks: Sequence[str], *, device: torch.device, root: Any = None, generate: bool = True
) -> tuple[dict[str, DeviceData], dict[str, Any]]:
    """The tasks' datasets on ``device`` (generating missing synthetic ones) and their records."""
    from benchsim.backends.gpu._state import file_record
    from benchsim.datasets import ensure_dataset, read_dataset, resolve_dataset

    data, files = {}, {}
    for task in tasks:
        spec = resolve_dataset(task)
        if spec.name in data:
            raise ConfigError(f"tasks {list(tasks)} name the dataset {spec.name!r} twice")
        path = ensure_dataset(spec.name, root, generate=generate)
        data[spec.name] = DeviceData(read_dataset(path), device)
        files[spec.name] = file_record(path)
    return data, files


def task_distance(
    tasks: Sequence[str],
    *,
    repeats: int = 10,
    device: str | torch.device | None = None,
    seed: int = 0,
    smoke: bool = False,
    root: Any = None,
    generate: bool = True,
    **options: Any,
) -> DistanceMatrix:
    """The log-determinant distance between every ordered pair of ``tasks`` (datasets).

    Parameters
    ----------
    tasks
        Dataset names (:data:`benchsim.datasets.DATASET_NAMES`), at least two; real ones must
        be prepared (``benchsim data prepare``), synthetic ones are generated when missing.
    repeats
        Repeated initialisations of the approximation networks (the paper: 10).
    device
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (``None``: CUDA when available).
    seed
        Seed of every initialisation, data order, Fisher subset and sampled label.
    smoke
        Tiny settings (:data:`SMOKE_FISHER`) for an install check.
    root
        Folder of the dataset files (default ``$BENCHSIM_HOME/datasets``).
    **options
        Any :class:`FisherSettings` field.

    Returns
    -------
    DistanceMatrix
        ``mean[i, j]`` = d[tasks[i] -> tasks[j]] (row: baseline, column: target), ``std``,
        the per-repeat values, settings, the networks' accuracies and provenance.

    Examples
    --------
    >>> from benchsim.backends.gpu import task_distance  # doctest: +SKIP
    >>> m = task_distance(["synthetic-shapes", "synthetic-shapes-b"], repeats=2, device="cpu",
    ...                   smoke=True)  # doctest: +SKIP
    >>> m.mean.shape  # doctest: +SKIP
    (2, 2)
    """
    from benchsim._checks import check_int
    from benchsim._version import __version__
    from benchsim.backends.gpu._settings import device_name, resolve_device

    if isinstance(tasks, str):
        tasks = [t.strip() for t in tasks.split(",") if t.strip()]
    if len(tasks) < 2:
        raise ConfigError(f"tasks == {list(tasks)!r}; give at least two tasks")
    check_int("repeats", repeats, 1)
    check_int("seed", seed, 0)
    settings = FisherSettings.from_options(smoke=smoke, **options)
    resolved = resolve_device(device)
    data, files = open_tasks(tasks, device=resolved, root=root, generate=generate)
    engine = FisherDistances(data, settings, seed, resolved)
    provenance = {
        "datasets": files,
        "device": device_name(resolved),
        "torch": torch.__version__,
        "benchsim": __version__,
        "seed": int(seed),
        "smoke": bool(smoke),
    }
    return engine.matrix(tuple(data), repeats, provenance)
