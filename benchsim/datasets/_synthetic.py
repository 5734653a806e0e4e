"""Small, real, learnable image classification sets drawn in-process (no download).

They exist so that tests and ``--smoke`` runs train a real network on real labels in seconds on
a CPU.  Each image is a 16x16 RGB picture of one shape drawn at a random position, size,
rotation (+-15 degrees) and colour on a random background colour with a low-frequency shading
and pixel noise; shapes are rendered at 32x32 and averaged down (anti-aliasing).  The label is
the shape, so a classifier must learn spatial features: colour statistics alone say nothing.
Every class is symmetric under a horizontal flip, so flip augmentation keeps labels valid.

* ``synthetic-shapes`` (seed 0): ten shapes: disc, square, triangle, diamond, plus, ring,
  x-cross, horizontal stripes, vertical stripes, frame.
* ``synthetic-shapes-b`` (seed 1): a related second task for two-task runs: five of those
  shapes, each either filled or drawn as an outline (ten classes); darker backgrounds.
* ``synthetic-shapes-32`` (seed 2): the ten shapes of ``synthetic-shapes`` drawn at CIFAR's
  32x32, 1,000 / 200 / 200 per class (10,000 / 2,000 / 2,000): a CIFAR-shaped workload for
  throughput measurements where no real image data can be reached (``benchmarks/gpu_check.py``).

* ``synthetic-shapes-permuted``: the images and splits of ``synthetic-shapes`` with every label
  renamed by the fixed derangement :data:`PERMUTATION` (class ``k`` becomes ``PERMUTATION[k]``):
  the same task under other label names, for tests of task distances (a label-permuted copy of
  a task must come out closer to it than an unrelated task does, docs/ldnas.md).
* ``synthetic-shapes-binary``: the images and splits of ``synthetic-shapes`` relabelled into two
  classes: the five filled shapes (disc, square, triangle, diamond, plus) against the five
  others (ring, x-cross, h-stripes, v-stripes, frame), as LD-NAS's binary MNIST/CIFAR tasks are.

Splits of the 16x16 sets: 200 / 100 / 100 images per class for train / valid / test.
Everything comes from ``numpy.random.default_rng(seed)``, so the arrays are the same on every
run; across machines and numpy versions a last-bit difference in ``cos``/``sin`` of a rotation
could flip a boundary pixel, which is why the file records their SHA-256 (``source_sha256``)
and :meth:`benchsim.backends.gpu.GpuBenchmark.provenance` reports it.
"""

from __future__ import annotations

import hashlib

import numpy as np

from benchsim.datasets._catalog import DatasetSpec
from benchsim.datasets._hdf5 import ImageDataset, channel_stats

SIZE = 16
PER_CLASS = {"train": 200, "valid": 100, "test": 100}
PER_CLASS_32 = {"train": 1000, "valid": 200, "test": 200}
"""``synthetic-shapes-32``: CIFAR-shaped (32x32) for throughput measurements on a GPU."""
GENERATOR_VERSION = 1

SHAPES_A = (
    "disc", "square", "triangle", "diamond", "plus",
    "ring", "x-cross", "h-stripes", "v-stripes", "frame",
)  # fmt: skip
_FILLED_B = ("disc", "square", "triangle", "diamond", "plus")
SHAPES_B = tuple(f"{s}-{style}" for s in _FILLED_B for style in ("filled", "outline"))
PERMUTATION = (3, 7, 0, 9, 5, 1, 8, 2, 6, 4)
"""``synthetic-shapes-permuted``: class ``k`` of ``synthetic-shapes`` is labelled
``PERMUTATION[k]`` (a derangement: no class keeps its label)."""
BINARY_GROUPS = ("filled:" + "|".join(SHAPES_A[:5]), "other:" + "|".join(SHAPES_A[5:]))
"""``synthetic-shapes-binary``: its two classes, the first five shapes and the last five."""
DERIVED = ("synthetic-shapes-permuted", "synthetic-shapes-binary")
"""Sets relabelled from ``synthetic-shapes`` (same images and splits)."""


def _inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Mask of ``shape`` in shape coordinates (radius 1 around the centre, ``v`` points up)."""
    au, av = np.abs(u), np.abs(v)
    box = np.maximum(au, av)
    if shape == "disc":
        return u**2 + v**2 <= 1.0
    if shape == "square":
        return box <= 0.8
    if shape == "triangle":
        return (v >= -0.7) & (v <= 1.0 - 1.8 * au)
    if shape == "diamond":
        return au + av <= 1.0
    if shape == "plus":
        return ((au <= 0.3) & (av <= 1.0)) | ((av <= 0.3) & (au <= 1.0))
    if shape == "ring":
        r2 = u**2 + v**2
        return (r2 <= 1.0) & (r2 >= 0.36)
    if shape == "x-cross":
        return _inside("plus", (u + v) / np.sqrt(2), (u - v) / np.sqrt(2)) & (box <= 0.85)
    if shape == "h-stripes":
        return (box <= 0.9) & (np.floor(v * 2.2) % 2 == 0)
    if shape == "v-stripes":
        return (box <= 0.9) & (np.floor(u * 2.2) % 2 == 0)
    if shape == "frame":
        return (box <= 0.9) & (box >= 0.55)
    if shape.endswith("-filled"):
        return _inside(shape[: -len("-filled")], u, v)
    if shape.endswith("-outline"):
        base = shape[: -len("-outline")]
        return _inside(base, u, v) & ~_inside(base, u / 0.55, v / 0.55)
    raise ValueError(shape)


def _draw(
    shapes: tuple[str, ...],
    labels: np.ndarray,
    rng: np.random.Generator,
    dark: bool,
    size: int = SIZE,
):
    """Render one image per label: uint8 (N, size, size, 3), drawn at twice the size."""
    n = labels.size
    render = 2 * size
    grid = (np.arange(render) + 0.5) / render * 2.0 - 1.0
    x = grid[None, None, :]
    y = grid[None, :, None]
    cx, cy = rng.uniform(-0.25, 0.25, (2, n, 1, 1))
    radius = rng.uniform(0.45, 0.7, (n, 1, 1))
    theta = np.deg2rad(rng.uniform(-15.0, 15.0, (n, 1, 1)))
    dx, dy = (x - cx) / radius, -(y - cy) / radius  # v points up
    u = np.cos(theta) * dx + np.sin(theta) * dy
    v = -np.sin(theta) * dx + np.cos(theta) * dy
    mask = np.zeros((n, render, render), dtype=bool)
    for k, shape in enumerate(shapes):
        rows = labels == k
        if rows.any():
            mask[rows] = _inside(shape, u[rows], v[rows])
    # Colours: background and foreground differ by at least 0.35 in mean intensity.
    background = rng.uniform(0.0, 0.45 if dark else 1.0, (n, 3))
    foreground = rng.uniform(0.0, 1.0, (n, 3))
    gap = foreground.mean(axis=1) - background.mean(axis=1)
    push = np.where(np.abs(gap) < 0.35, np.where(gap >= 0, 0.35, -0.35) - gap, 0.0)
    foreground = np.clip(foreground + push[:, None], 0.0, 1.0)
    image = np.where(mask[..., None], foreground[:, None, None, :], background[:, None, None, :])
    image = image.reshape(n, size, 2, size, 2, 3).mean(axis=(2, 4))
    shade = rng.uniform(-0.12, 0.12, (n, 2))
    ramp = (np.arange(size) / (size - 1) - 0.5)[None, :]
    image = (
        image
        + (shade[:, 0, None] * ramp)[:, :, None, None]
        + (shade[:, 1, None] * ramp)[:, None, :, None]
    )
    image = image + rng.normal(0.0, 0.05, image.shape)
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def _relabelled(base: ImageDataset, spec: DatasetSpec) -> ImageDataset:
    """``base`` (``synthetic-shapes``) under the labels of the derived set ``spec``."""
    if spec.name.endswith("-permuted"):
        labels = np.asarray(PERMUTATION, dtype=np.int64)[base.labels]
        classes = [""] * len(PERMUTATION)
        for old, new in enumerate(PERMUTATION):
            classes[new] = base.classes[old]
        how = f"labels permuted: class k -> {list(PERMUTATION)}[k]"
    else:
        labels = (base.labels >= 5).astype(np.int64)
        classes = list(BINARY_GROUPS)
        how = "relabelled: the first five shapes -> 0, the other five -> 1"
    digest = hashlib.sha256(base.images.tobytes())
    digest.update(labels.tobytes())
    return ImageDataset(
        name=spec.name,
        images=base.images,
        labels=labels,
        splits=base.splits,
        classes=tuple(classes),
        mean=base.mean,
        std=base.std,
        pad=spec.pad,
        hflip=spec.hflip,
        source=f"{base.source}; {how}",
        source_sha256=digest.hexdigest(),
        split_note=spec.split_note,
        split_seed=base.split_seed,
    )


def make_synthetic(spec: DatasetSpec) -> ImageDataset:
    """Generate a synthetic set (deterministic, see the module docstring)."""
    if spec.name in DERIVED:
        from benchsim.datasets._catalog import DATASETS

        return _relabelled(make_synthetic(DATASETS["synthetic-shapes"]), spec)
    variant_b = spec.name.endswith("-b")
    cifar_shaped = spec.name.endswith("-32")
    shapes = SHAPES_B if variant_b else SHAPES_A
    seed = 1 if variant_b else 2 if cifar_shaped else 0
    per_class = PER_CLASS_32 if cifar_shaped else PER_CLASS
    rng = np.random.default_rng(seed)
    counts = [per_class[s] * len(shapes) for s in ("train", "valid", "test")]
    labels = np.concatenate([np.arange(c) % len(shapes) for c in counts])
    labels = np.concatenate(
        [rng.permutation(part) for part in np.split(labels, np.cumsum(counts)[:-1])]
    ).astype(np.int64)
    if cifar_shaped:  # drawn in chunks of 1,000 (one child generator each) to bound memory
        chunks = np.array_split(labels, -(-labels.size // 1000))
        children = np.random.SeedSequence(seed).spawn(len(chunks))
        images = np.concatenate(
            [
                _draw(shapes, part, np.random.default_rng(child), dark=False, size=32)
                for part, child in zip(chunks, children, strict=True)
            ]
        )
    else:
        images = _draw(shapes, labels, rng, dark=variant_b)
    bounds = np.cumsum([0, *counts])
    splits = {
        s: np.arange(bounds[k], bounds[k + 1]) for k, s in enumerate(("train", "valid", "test"))
    }
    digest = hashlib.sha256(images.tobytes())
    digest.update(labels.tobytes())
    mean, std = channel_stats(images, splits["train"])
    return ImageDataset(
        name=spec.name,
        images=images,
        labels=labels,
        splits=splits,
        classes=shapes,
        mean=mean,
        std=std,
        pad=spec.pad,
        hflip=spec.hflip,
        source=f"generated by benchsim (synthetic shapes v{GENERATOR_VERSION}, seed {seed})",
        source_sha256=digest.hexdigest(),
        split_note=spec.split_note,
        split_seed=seed,
    )
