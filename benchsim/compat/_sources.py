"""The third-party scripts the drop-in APIs are tested against, fetched like data.

The official NATS-Bench search scripts of D-X-Y/AutoDL-Projects (MIT) are pinned in the data
manifest (client bundle ``nats-algos``: URL at a fixed commit and SHA-256) and fetched by the
same code as every table source: read in place from ``$BENCHSIM_DATA_MIRROR`` when set, else
downloaded once, always checked against the pinned hash.  They are never copied into benchsim.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchsim.errors import UnknownNameError

BUNDLE = "nats-algos"
SCRIPTS = {
    "regularized_ea": "autodl.regularized_ea",
    "random_wo_share": "autodl.random_wo_share",
}
"""Script name -> manifest id."""
LICENCE_ID = "autodl.license"


def script_path(name: str, *, mirror: str | os.PathLike[str] | None = None) -> Path:
    """Local, verified path of the pinned script ``name`` (its licence is fetched beside it).

    Examples
    --------
    >>> script_path("regularized_ea")  # doctest: +SKIP
    PosixPath('.../D-X-Y/AutoDL-Projects/f46486e2.../exps/NATS-algos/regularized_ea.py')
    """
    from benchsim.store._fetch import fetch, resolve_mirror
    from benchsim.store._manifest import files_for

    entries = {e.id: e for e in files_for(BUNDLE)}
    if name not in SCRIPTS:
        raise UnknownNameError("script", name, SCRIPTS, "(pinned third-party client scripts)")
    source = resolve_mirror(mirror)
    fetch(entries[LICENCE_ID], mirror=source)
    return fetch(entries[SCRIPTS[name]], mirror=source)
