"""A drop-in for the ``nas_201_api`` package (NAS-Bench-201's official API), answered by benchsim.

``benchsim compat run`` (or :func:`benchsim.compat.install_hooks`) makes ``import nas_201_api``
load this module::

    from nas_201_api import NASBench201API as API
    api = API("NAS-Bench-201-v1_1-096897.pth", verbose=False)   # the path is not read
    info = api.get_more_info(1234, "cifar10-valid", hp="200", is_random=False)

It is :class:`benchsim.compat.nats.NATStopology` with the NAS-Bench-201 v2 signatures
(``simulate_train_eval`` without ``iepoch``; ``find_best(..., FLOP_max, Param_max, hp)``), so
both answer identically.  See docs/compat.md.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from benchsim.compat import records as api_utils
from benchsim.compat._topology import TopologyAPI
from benchsim.compat.records import ArchResults, ResultsCount

__all__ = [
    "NAS_BENCH_201_API_VERSION",
    "ArchResults",
    "NASBench201API",
    "ResultsCount",
    "api_201",
    "api_utils",
]

api_201 = sys.modules[__name__]
"""``nas_201_api.api_201`` (``NASBench201API``) is this module."""
NAS_BENCH_201_API_VERSION = "v2.0"
"""The official ``nas_201_api`` version whose interface this module follows (package 2.1)."""


class NASBench201API(TopologyAPI):
    """``nas_201_api.NASBench201API``, answered by a benchsim nb201-space benchmark.

    Parameters
    ----------
    file_path_or_dict
        Accepted and not read (benchsim answers from its tables); a dict is refused.
    verbose
        Print one line saying what answers.
    benchmark, seed, emulate
        benchsim's options, keyword-only (:class:`~benchsim.compat._config.CompatSettings`).
    """

    _metric_format = "loss = {loss}, top1 = {acc}"

    def __init__(
        self,
        file_path_or_dict: str | os.PathLike[str] | None = None,
        verbose: bool = True,
        **benchsim_options: Any,
    ) -> None:
        super().__init__(file_path_or_dict, False, verbose, **benchsim_options)

    def simulate_train_eval(  # type: ignore[override]
        self, arch: Any, dataset: str, hp: str = "12", account_time: bool = True
    ) -> tuple[float, float | None, float, float]:
        """``(valid_acc, latency, time_cost, total_time)`` of one random trial; see
        :meth:`TopologyAPI.simulate_train_eval`."""
        return super().simulate_train_eval(arch, dataset, None, hp, account_time)

    def find_best(  # type: ignore[override]
        self,
        dataset: str,
        metric_on_set: str,
        FLOP_max: float | None = None,
        Param_max: float | None = None,
        hp: str = "12",
    ) -> tuple[int, float]:
        """``(index, accuracy)`` of the best architecture; see :meth:`TopologyAPI.find_best`."""
        return super().find_best(dataset, metric_on_set, FLOP_max, Param_max, hp)
