"""The dict an official call returns, holding only what the data holds.

An official ``get_more_info`` / ``get_cost_info`` dict has a fixed set of keys; benchsim's data
holds some of them.  :class:`CompatInfo` is a plain ``dict`` of the held keys (printing,
iterating, ``in`` and ``len`` see only those), which remembers for every official key it lacks
why it lacks it: reading such a key (``info["train-loss"]``, ``info.get("train-loss")``) raises
one :class:`~benchsim.errors.UnavailableError` naming the call, the key, the reason and the keys
that are available, instead of a silent ``None`` or a bare ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from benchsim.errors import UnavailableError

_NO_DEFAULT = object()

_OFFICIAL_TERMS = (
    ("(seed=None gives the mean)", "(is_random=False gives the mean of the runs)"),
    ("; use seed=None", "; ask is_random=False for the mean of the runs"),
    ("; give seed= one of them", "; give is_random= one of them"),
    ("(final values only: epoch=None)", "(final values only: iepoch=None)"),
)
"""benchsim's query arguments in a backend refusal -> the official API's, so that a hint names
what the caller can pass (``is_random``, ``iepoch``), not an internal argument."""


def official_terms(text: str) -> str:
    """``text`` with benchsim's ``seed=`` / ``epoch=`` hints in the official API's terms."""
    if "=None" in text or "seed=" in text:
        for ours, theirs in _OFFICIAL_TERMS:
            text = text.replace(ours, theirs)
    return text


class CompatInfo(dict):
    """A result dict of a drop-in API (see the module docstring).

    Attributes
    ----------
    call
        The call that produced it, as written in error messages.
    missing
        Official key -> why the data does not hold it.
    emulated
        Key -> label of the emulation that answered it (empty when nothing is emulated).
    """

    __slots__ = ("call", "emulated", "missing")

    def __init__(
        self,
        values: Mapping[str, Any],
        call: str,
        missing: Mapping[str, str],
        emulated: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(values)
        self.call = call
        self.missing = missing
        self.emulated = emulated if emulated is not None else {}

    def __missing__(self, key: object) -> Any:
        raise self.error(key)

    def get(self, key: object, default: Any = None) -> Any:
        """``dict.get``, except that an official key the data lacks raises (never a silent
        default standing in for a value)."""
        if key in self:
            return dict.__getitem__(self, key)
        if key in self.missing:
            raise self.error(key)
        return default

    def error(self, key: object) -> UnavailableError:
        """The one-line error for reading ``key``."""
        held = ", ".join(self) or "none"
        reason = self.missing.get(key)  # type: ignore[call-overload]
        if reason is None:
            return UnavailableError(
                f"{self.call}: {key!r} is not a key of this result (the official API has none "
                f"either); available keys: {held}"
            )
        reason = official_terms(reason)  # at error time: free on the query path
        return UnavailableError(f"{self.call}: {key!r} {reason}; available keys: {held}")

    def __reduce__(self):
        return (_rebuild, (dict(self), self.call, dict(self.missing), dict(self.emulated)))


def _rebuild(values, call, missing, emulated) -> CompatInfo:
    return CompatInfo(values, call, missing, emulated)
