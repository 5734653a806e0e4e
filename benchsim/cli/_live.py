"""Command-line options of the live backend, shared by ``run`` and ``sweep``.

``--device``, ``--smoke`` (what a quick install check runs) and ``--backend-option KEY=VALUE``
become backend options here (the last one also for the table backend).  Kept apart from
:mod:`benchsim.backends.gpu` so that the command line does not import torch before a gpu run
is actually asked for.
"""

from __future__ import annotations

import json
from typing import Any

from benchsim._registry import module_names
from benchsim.cli._group import CliError

BACKEND_NAMES = module_names("benchsim.backends", packages_only=True)
"""The built-in backends (``--backend`` choices), read from the package folder without importing
it, so ``--help`` stays fast; a test checks that they are exactly the registered ones."""

SMOKE_DATASETS = ("synthetic-shapes", "synthetic-shapes-b")


def parse_pairs(items: tuple[str, ...], flag: str, example: str) -> dict[str, Any]:
    """``name=value`` items of ``flag``; values parsed as JSON when they parse, else text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise CliError(f"{flag} {item!r} must look like name=value (e.g. {example})")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def live_backend_options(
    backend: str, device: str | None, smoke: bool, items: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The backend options that ``--device``, ``--smoke`` and ``--backend-option`` stand for.

    ``--device`` and ``--smoke`` apply to backends that declare them (the gpu backend's
    ``flags``); ``--backend-option`` to any
    (the table backend's are its weight-sharing emulation settings, e.g.
    ``weight_sharing=fewshot``).  An unknown option name is refused when the backend is
    outlined or opened (one line listing the allowed names).
    """
    if device is None and not smoke and not items:
        return {}
    from benchsim.backends import BACKENDS, backend_info

    info = backend_info(backend)
    for flag, given in (("device", device is not None), ("smoke", smoke)):
        if given and flag not in info.flags:
            takes = [b for b in BACKENDS.names() if flag in BACKENDS.get(b).flags]
            raise CliError(f"--{flag} does not apply to --backend {backend}; it is an option of "
                           f"--backend {' or '.join(takes)}")  # fmt: skip
    options = parse_pairs(items, "--backend-option", info.option_example)
    if device is not None:
        options["device"] = device
    if smoke:
        options["smoke"] = True
    return options


def smoke_param_items(
    algos: list[str] | tuple[str, ...], items: tuple[str, ...]
) -> tuple[str, ...]:
    """``items`` (``--param`` values) plus each algorithm's smoke settings the user did not set.

    Each comes as ``algo.name=value`` (:meth:`~benchsim.algorithms.Searcher.smoke_params`);
    one the user set for every algorithm (``name=v``) or for that one (``algo.name=v``) is left
    to the user.
    """
    from benchsim.algorithms import algorithm_class

    given = {item.split("=", 1)[0].strip() for item in items}
    extra = [
        f"{algo}.{key}={json.dumps(value)}"
        for algo in algos
        for key, value in algorithm_class(algo).smoke_params().items()
        if key not in given and f"{algo}.{key}" not in given
    ]
    return (*extra, *items)
