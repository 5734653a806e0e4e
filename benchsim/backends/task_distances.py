"""Task distances, a capability a benchmark may offer: ``bench.task_distances``.

LD-NAS (Le et al.) chooses the source task closest to a target by a distance computed from the
tasks' data.  Only a backend that holds the data (the live backend's images,
:mod:`benchsim.backends.gpu._fisher`) composes a :class:`TaskDistances` component; a table
leaves ``bench.task_distances`` as ``None`` and an algorithm reads a distance file instead
(``benchsim task-distance``).  :meth:`TaskDistances.task_distance` validates, then calls the
``_task_distance`` hook a component implements.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from benchsim._checks import check_int
from benchsim.backends._values import BatchResult
from benchsim.errors import ConfigError


class TaskDistances(ABC):
    """The task distances of one benchmark.

    Parameters
    ----------
    resolve_task
        The benchmark's :meth:`~benchsim.backends.base.Benchmark.resolve_task`.
    """

    def __init__(self, resolve_task: Callable[[str], str]) -> None:
        self.resolve_task = resolve_task

    def task_distance(
        self,
        target: str,
        sources: Sequence[str],
        *,
        repeats: int = 1,
        rng: np.random.Generator | None = None,
    ) -> BatchResult:
        """Distance from each of ``sources`` to ``target``, computed from the tasks' data.

        LD-NAS's log-determinant task distance (Le et al., Eq. 2-3): ``values[k]`` is the mean
        over ``repeats`` repeated initialisations of d[sources[k] -> target], ``cost`` the
        seconds spent per source.
        """
        name = self.resolve_task(target)
        if isinstance(sources, str) or not sources:
            raise ConfigError(f"sources == {sources!r}, must be a non-empty list of task names")
        names = tuple(self.resolve_task(t) for t in sources)
        check_int("repeats", repeats, 1)
        return self._task_distance(name, names, repeats=int(repeats), rng=rng)

    @abstractmethod
    def _task_distance(
        self,
        target: str,
        sources: tuple[str, ...],
        *,
        repeats: int,
        rng: np.random.Generator | None,
    ) -> BatchResult:
        """Hook: see :meth:`task_distance` (arguments validated: canonical names)."""
