"""What a drop-in API answers from, which labelled emulations it may use, and its record.

Every shim of :mod:`benchsim.compat` answers only what the benchmark's data holds.  Where a
caller needs a value the data does not hold, it gets one clear
:class:`~benchsim.errors.UnavailableError`, unless it opted into a named emulation, by an
argument (``emulate="hp12-proxy"``) or by the environment (``BENCHSIM_COMPAT_EMULATE``, which
``benchsim compat run --emulate`` sets).  An emulated value is then labelled three ways: a
:class:`CompatEmulationWarning` the first time each emulation answers in a process, the
``emulated`` map of the result dict that holds it, and the shim's :class:`CompatRecord`
(``api.compat_record()``; ``benchsim compat run`` prints the process's record when the
script ends).

The emulations (:data:`EMULATIONS`) are the ones benchsim's own protocols already use, so a
script run through a shim is answered like benchsim's own search would be.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from benchsim.errors import ConfigError

ENV_EMULATE = "BENCHSIM_COMPAT_EMULATE"
ENV_SEED = "BENCHSIM_COMPAT_SEED"
ENV_BENCHMARK = "BENCHSIM_COMPAT_BENCHMARK"

EMULATIONS: dict[str, str] = {
    "hp12-proxy": (
        "hp='12' (the separate 12-epoch run) answered by benchsim's NB201 protocol: the "
        "200-epoch validation accuracy of one sampled training seed (the seed mean where no "
        "per-seed value is recorded), the training time charged train_time_s * (epoch+1)/200"
    ),
    "eval-time": (
        "evaluation times (valid/test/valtest -per-time and -all-time, T-<set>@epoch/total) "
        "estimated as one forward pass over the set's images at a third of the recorded "
        "per-image training time"
    ),
    "no-latency": (
        "latency answered as None (the official API's value for a latency that was not "
        "measured) instead of raising"
    ),
    "best-as-final": (
        "TransNAS-Bench-101 mode='final' (the last epoch's value) answered, where the data "
        "holds no final value, by the best value over epochs: an upper bound (on the "
        "validation metric, where both are held, the best exceeds the final by a median "
        "0-3% per task)"
    ),
}
"""Name -> what the emulation answers, as the label says it."""


class CompatEmulationWarning(UserWarning):
    """Issued once per process and emulation, when an emulated value is first returned."""


def parse_emulations(value: str | Iterable[str] | None, origin: str = "emulate") -> frozenset[str]:
    """The emulations named by ``value``: a comma-separated string, an iterable of names, or
    ``None``/``""``/``"none"`` for none.  An unknown name is refused with the known ones."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    else:
        try:
            items = [str(v).strip() for v in value]
        except TypeError:
            raise ConfigError(
                f"{origin} == {value!r}, must be a comma-separated string or a list of "
                f"emulation names; allowed: {', '.join(EMULATIONS)}"
            ) from None
    names = frozenset(v for v in items if v and v.lower() != "none")
    unknown = sorted(names - EMULATIONS.keys())
    if unknown:
        raise ConfigError(
            f"{origin} names unknown emulation {unknown[0]!r}; allowed: {', '.join(EMULATIONS)} "
            "(or 'none')"
        )
    return names


def _seed_from(value: object, origin: str) -> int:
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{origin} == {value!r}, must be an integer >= 0")
    return value


@dataclass(frozen=True)
class CompatSettings:
    """Where a shim's answers come from.

    Attributes
    ----------
    benchmark
        The benchsim benchmark answering (``"nb201"``, or a table imported from official
        files, e.g. ``benchsim data import nats-tss-simple DIR --name nats``).
    seed
        Seed of the benchmark's generator, which draws every random choice a shim makes
        (the official ``is_random=True`` seed draw, ``api.random()``); the script's own
        ``random.seed`` does not touch it.
    emulate
        The opted-in emulations (:data:`EMULATIONS`).
    """

    benchmark: str
    seed: int
    emulate: frozenset[str]

    @classmethod
    def resolve(
        cls,
        default_benchmark: str,
        *,
        benchmark: str | None = None,
        seed: int | None = None,
        emulate: str | Iterable[str] | None = None,
    ) -> CompatSettings:
        """Arguments first, then ``BENCHSIM_COMPAT_{BENCHMARK,SEED,EMULATE}``, then defaults
        (``default_benchmark``, seed 0, no emulation)."""
        if benchmark is None:
            benchmark = os.environ.get(ENV_BENCHMARK) or default_benchmark
        if not isinstance(benchmark, str) or not benchmark:
            raise ConfigError(f"benchmark == {benchmark!r}, must be a benchmark name")
        if seed is None:
            raw = os.environ.get(ENV_SEED)
            seed = 0 if raw in (None, "") else _seed_from(raw, f"${ENV_SEED}")
        else:
            seed = _seed_from(seed, "seed")
        if emulate is None:
            names = parse_emulations(os.environ.get(ENV_EMULATE), f"${ENV_EMULATE}")
        else:
            names = parse_emulations(emulate)
        return cls(benchmark=benchmark, seed=seed, emulate=names)

    def describe(self) -> str:
        """One line for reprs and logs."""
        emulate = ",".join(sorted(self.emulate)) or "none"
        return f"benchsim {self.benchmark!r}, seed {self.seed}, emulate={emulate}"


_WARNED: set[str] = set()
PROCESS_COUNTS: Counter[str] = Counter()
"""Emulated answers of every shim in this process, by emulation (``benchsim compat run``
prints them when the script ends)."""


PROCESS_REFUSALS: Counter[str] = Counter()
"""Refusals of every shim in this process that a caller may have caught, by call."""


class CompatRecord:
    """Provenance of one shim: what answers, how many answers each emulation gave, and the
    refusals of calls whose errors clients are known to catch (:meth:`refused`)."""

    def __init__(self, api: str, settings: CompatSettings) -> None:
        self.api = api
        self.settings = settings
        self.emulated_: Counter[str] = Counter()
        self.refused_: Counter[str] = Counter()

    def refused(self, error: Exception, call: str) -> None:
        """Count one refusal of ``call`` and say it on stderr, once per shim and call.

        A search client may catch the error and go on: hpbandster's worker catches what
        ``compute`` raises and records the run as crashed, so a BOHB script asking for values
        the data does not hold keeps running without them, silently no longer BOHB.  The
        first such refusal is therefore printed even when caught.
        """
        if not self.refused_[call]:
            print(
                f"benchsim.compat ({self.api}): {call} refused (said once; a caller that "
                f"catches the error goes on without these answers): {error}",
                file=sys.stderr,
            )
        self.refused_[call] += 1
        PROCESS_REFUSALS[call] += 1

    def note(self, emulation: str, count: int = 1) -> None:
        """Count ``count`` answers given by ``emulation``; warn the first time in a process."""
        self.emulated_[emulation] += count
        PROCESS_COUNTS[emulation] += count
        if emulation not in _WARNED:
            _WARNED.add(emulation)
            warnings.warn(
                f"benchsim.compat ({self.api}): emulated values in use, labelled "
                f"'{emulation}': {EMULATIONS[emulation]}",
                CompatEmulationWarning,
                stacklevel=4,
            )

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON form."""
        return {
            "api": self.api,
            "benchmark": self.settings.benchmark,
            "seed": self.settings.seed,
            "emulate": sorted(self.settings.emulate),
            "emulated_answers": dict(sorted(self.emulated_.items())),
            "refusals": dict(sorted(self.refused_.items())),
            "labels": {name: EMULATIONS[name] for name in sorted(self.settings.emulate)},
        }
