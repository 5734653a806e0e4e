"""A drop-in for the ``nats_bench`` package (NATS-Bench's official API), answered by benchsim.

``benchsim compat run`` (or :func:`benchsim.compat.install_hooks`) makes ``import nats_bench``
load this module, so an existing search script runs unchanged::

    from nats_bench import create
    api = create(None, "tss", fast_mode=True, verbose=False)
    acc, latency, time_cost, total = api.simulate_train_eval(arch, "cifar10", hp="200")

Only the topology search space (``"tss"``, NAS-Bench-201's cells) is served; the size search
space (``"sss"``) has no data in benchsim and is refused.  See docs/compat.md for every
supported call, what raises and why, and the opt-in emulations.

Example
-------
>>> from benchsim.compat.nats import create
>>> api = create(None, "tss", fast_mode=True, verbose=False)  # doctest: +SKIP
>>> info = api.get_more_info(0, "cifar10-valid", hp="200", is_random=False)  # doctest: +SKIP
>>> info["valid-accuracy"]  # doctest: +SKIP
81.98266665690103
"""

from __future__ import annotations

import os
import sys
from typing import Any

from benchsim.compat import genotypes as genotype_utils
from benchsim.compat import records as api_utils
from benchsim.compat._topology import TopologyAPI
from benchsim.compat.records import ArchResults, ResultsCount
from benchsim.errors import UnknownNameError

__all__ = [
    "ALL_BASE_NAMES",
    "ArchResults",
    "NATS_BENCH_SSS_NAMEs",
    "NATS_BENCH_TSS_NAMEs",
    "NATStopology",
    "ResultsCount",
    "api_topology",
    "api_utils",
    "create",
    "genotype_utils",
    "version",
]

NATS_BENCH_TSS_NAMEs = ("tss", "topology")
NATS_BENCH_SSS_NAMEs = ("sss", "size")
ALL_BASE_NAMES = ["NATS-tss-v1_0-3ffb9"]
"""The official topology benchmark's file name stem (``nats_bench.api_topology``)."""
api_topology = sys.modules[__name__]
"""``nats_bench.api_topology`` (``NATStopology``, ``ALL_BASE_NAMES``) is this module."""
_VERSION = "v1.8"
"""The official ``nats_bench`` release whose interface this module follows."""


class NATStopology(TopologyAPI):
    """``nats_bench.api_topology.NATStopology``, answered by a benchsim nb201-space benchmark.

    Same constructor as the official class plus benchsim's keyword-only ``benchmark``,
    ``seed`` and ``emulate`` (:class:`~benchsim.compat._config.CompatSettings`).
    """


def create(
    file_path_or_dict: str | os.PathLike[str] | None,
    search_space: str,
    fast_mode: bool = False,
    verbose: bool = True,
    **benchsim_options: Any,
) -> NATStopology:
    """The NATS-Bench API for ``search_space`` (``"tss"``/``"topology"`` only).

    ``file_path_or_dict`` is accepted and not read (benchsim answers from its tables);
    ``benchsim_options`` are ``benchmark``, ``seed`` and ``emulate``.
    """
    if search_space in NATS_BENCH_TSS_NAMEs:
        return NATStopology(file_path_or_dict, fast_mode, verbose, **benchsim_options)
    context = "in create() (benchsim serves the topology space; the size space has no data)"
    raise UnknownNameError("search space", search_space, NATS_BENCH_TSS_NAMEs, context)


def version() -> str:
    """The official API version this drop-in follows."""
    return _VERSION


def search_space_info(main_tag: str, aux_tag: str | None) -> dict[str, Any]:
    """Operations and nodes of the topology space (``("nats-bench", "tss")`` or
    ``("nas-bench-201", None)``), as the official function returns them."""
    if (main_tag, aux_tag) not in {("nats-bench", t) for t in NATS_BENCH_TSS_NAMEs} | {
        ("nas-bench-201", None)
    }:
        raise UnknownNameError(
            "search space tags",
            (main_tag, aux_tag),
            [("nats-bench", "tss"), ("nats-bench", "topology"), ("nas-bench-201", None)],
        )
    from benchsim.spaces import get_space

    return {"op_names": list(get_space("nb201").ops), "num_nodes": 4}
