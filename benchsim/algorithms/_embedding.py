"""node2vec architecture embeddings for KTNAS, computed once per search space and cached.

KTNAS turns architectures into graphs and embeds them with node2vec (ktnas-summary.txt).  Running
node2vec on each architecture's own graph would take minutes for NB201's 15,625 cells, and the
vectors of separately trained graphs would not share one coordinate system.  So the space is
embedded once, through its *union graph*, and each architecture pools its part of it:

* every edge ``u -> v`` carrying op ``o`` in some ``space.to_graph(i)`` becomes a token node
  ``e:u>v:o`` (ops as nodes), joined to the feature-map nodes ``n:u`` and ``n:v``; a ``none``
  op joins only its source, because no signal flows through it;
* each token is also joined to a hub ``op:o`` shared by every position of that op, so tokens of
  the same op at different positions, and different ops at the same position, are told apart;
* node2vec (the ``node2vec`` package over ``gensim``'s skip-gram, one worker and a fixed seed)
  embeds the union graph's nodes; an architecture's vector is the mean of its tokens' vectors,
  standardised per dimension over the whole space.

The result depends only on the space and the embedding settings, never on a search's seed, so
it is cached in memory and on disk (``$BENCHSIM_HOME/cache/ktnas/``, one ``.npy`` per setting).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import random
import sys
import tempfile
import types
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchsim._paths import home
from benchsim.errors import ConfigError
from benchsim.spaces import SearchSpace

if TYPE_CHECKING:  # networkx costs ~0.1 s to import: only an embedding pays for it
    import networkx as nx

_FORMAT = 1
_MEMORY: dict[str, np.ndarray] = {}
NEEDS_NODE2VEC = "KTNAS needs the node2vec package: pip install 'benchsim[embed]'"


@dataclass(frozen=True)
class EmbeddingSettings:
    """node2vec settings (Grover & Leskovec 2016): walk shape, return/in-out bias, window."""

    dimensions: int = 32
    walk_length: int = 16
    num_walks: int = 40
    p: float = 1.0
    q: float = 1.0
    window: int = 4
    seed: int = 0


def union_graph(space: SearchSpace) -> tuple[nx.Graph, list[str], np.ndarray]:
    """The union graph of ``space`` (see the module docstring) and each architecture's tokens.

    Returns the undirected graph, the token names, and an ``(size, max_edges)`` int array of
    token positions per architecture, padded with ``-1`` (macro networks differ in length).
    """
    token_id: dict[tuple[object, object, str], int] = {}
    rows: list[list[int]] = []
    for index in range(space.size):
        graph = space.to_graph(index)
        row = []
        for u, v, op in graph.edges(data="op"):
            row.append(token_id.setdefault((u, v, str(op)), len(token_id)))
        rows.append(row)
    members = np.full((space.size, max(map(len, rows))), -1, dtype=np.int64)
    for index, row in enumerate(rows):
        members[index, : len(row)] = row
    import networkx as nx

    union = nx.Graph()
    names = []
    for u, v, op in token_id:  # insertion order: deterministic
        name = f"e:{u}>{v}:{op}"
        names.append(name)
        union.add_edge(f"n:{u}", name)
        if op != "none":
            union.add_edge(name, f"n:{v}")
        union.add_edge(name, f"op:{op}")
    return union, names, members


def architecture_embeddings(space: SearchSpace, settings: EmbeddingSettings) -> np.ndarray:
    """Standardised ``(space.size, dimensions)`` float64 embedding of every architecture.

    Cached in memory and under ``$BENCHSIM_HOME/cache/ktnas``; the same space and settings
    always give the same array.
    """
    key = _cache_key(space, settings)
    cached = _MEMORY.get(key)
    if cached is not None:
        return cached
    path = _cache_path(space, key)
    table: np.ndarray | None = None
    if path.is_file():
        try:
            table = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            table = None  # a truncated file from an interrupted write: recompute
        if table is not None and table.shape != (space.size, settings.dimensions):
            table = None
    if table is None:
        table = _compute(space, settings)
        _save(path, table)
    table = np.asarray(table, dtype=np.float64)
    table.setflags(write=False)
    _MEMORY[key] = table
    return table


def check_available(space: SearchSpace, settings: EmbeddingSettings) -> None:
    """Refuse (one line) to need node2vec where it is not installed: a search calls this
    before it writes anything, so a missing package never leaves a half-made run behind.
    Nothing is needed when the embedding is cached already."""
    key = _cache_key(space, settings)
    if key in _MEMORY or _cache_path(space, key).is_file():
        return
    if importlib.util.find_spec("node2vec") is None:
        raise ConfigError(NEEDS_NODE2VEC)


def _cache_path(space: SearchSpace, key: str) -> Path:
    return home() / "cache" / "ktnas" / f"{space.name}-{key}.npy"


def _compute(space: SearchSpace, settings: EmbeddingSettings) -> np.ndarray:
    graph, names, members = union_graph(space)
    node2vec = _import_node2vec()
    # node2vec seeds the global ``random`` and ``numpy.random`` state; keep the caller's intact.
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        walker = node2vec.Node2Vec(
            graph,
            dimensions=settings.dimensions,
            walk_length=settings.walk_length,
            num_walks=settings.num_walks,
            p=settings.p,
            q=settings.q,
            workers=1,
            quiet=True,
            seed=settings.seed,
        )
        model = walker.fit(window=settings.window, min_count=1, seed=settings.seed, workers=1)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    tokens = np.stack([model.wv[name] for name in names]).astype(np.float64)
    valid = members >= 0
    pooled = (tokens[np.where(valid, members, 0)] * valid[..., None]).sum(axis=1)
    pooled /= valid.sum(axis=1, keepdims=True)
    std = pooled.std(axis=0)
    return ((pooled - pooled.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


def _save(path: os.PathLike, table: np.ndarray) -> None:
    """Write atomically (temp file + rename); an unwritable cache only costs a recomputation."""
    target = os.fspath(path)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, table, allow_pickle=False)
        os.replace(tmp, target)
    except OSError:
        pass


def _cache_key(space: SearchSpace, settings: EmbeddingSettings) -> str:
    from importlib import metadata  # ~20 ms: only an embedding pays, not the registry's scan

    versions = {}
    for package in ("node2vec", "gensim"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    blob = json.dumps(
        {
            "format": _FORMAT,
            "space": space.name,
            "size": space.size,
            **asdict(settings),
            **versions,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _import_node2vec() -> types.ModuleType:
    """Import the ``node2vec`` package, bridging its use of the removed ``pkg_resources``.

    node2vec 0.4.x reads gensim's version through ``pkg_resources.get_distribution``, which
    setuptools >= 81 no longer ships.  When that is the only obstacle, a stand-in answering
    ``get_distribution(name).version`` from :mod:`importlib.metadata` is present during the
    import only (node2vec keeps its reference; nobody else sees it).
    """
    try:
        return importlib.import_module("node2vec")
    except ModuleNotFoundError as err:
        if err.name == "pkg_resources":
            pass
        elif err.name == "node2vec":
            raise ConfigError(NEEDS_NODE2VEC) from None
        else:
            raise
    for name in [m for m in sys.modules if m == "node2vec" or m.startswith("node2vec.")]:
        del sys.modules[name]  # a half-imported package from the failed attempt

    from importlib import metadata

    class _Distribution:
        def __init__(self, name: str) -> None:
            self.version = metadata.version(name)

    shim = types.ModuleType("pkg_resources")
    shim.get_distribution = _Distribution  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim
    try:
        return importlib.import_module("node2vec")
    finally:
        if sys.modules.get("pkg_resources") is shim:
            del sys.modules["pkg_resources"]
