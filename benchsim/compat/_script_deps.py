"""What the official search scripts import beyond benchsim: ``xautodl`` and ``torchvision``.

The AutoDL NATS-Bench scripts (``benchsim compat script``) import ``xautodl``, whose
``xautodl.datasets`` imports ``torchvision``.  Both install with ``--no-deps``
(:data:`INSTALL`): xautodl 1.0.0's metadata pins ``numpy<=1.19.5``, which no supported numpy
meets, and nothing the scripts run needs its declared ``fvcore``.

PyPI's torchvision wheels are built against the CUDA torch of the same release.  Beside a
CPU-only torch their compiled ops (``torchvision/_C.so``) do not load, and torchvision then
stops importing at the one fake kernel it registers without checking whether the ops loaded:
``operator torchvision::nms does not exist``.  :func:`allow_torchvision_import` defines the
two operator schemas that registration needs (``torchvision::nms``, ``torchvision::qnms``;
no kernels, so calling them would still fail) when, and only when, the library does not load,
so the pure-Python part imports.  Nothing the scripts run calls a torchvision op.  Where the
ops load (a matching CPU or CUDA build) it defines nothing.

``benchsim compat run`` applies it lazily, through :class:`TorchvisionImportFix` on
``sys.meta_path``: torch is imported only when the script imports torchvision.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
from pathlib import Path

from benchsim.errors import ConfigError

INSTALL = "pip install --no-deps xautodl==1.0.0 torchvision==0.28.0"
"""What the official scripts import, as docs/compat.md and README.md install it."""
SCRIPT_PACKAGES = ("xautodl", "torchvision")
_SCHEMA = "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
_fixed = False


def allow_torchvision_import() -> bool:
    """Make ``import torchvision`` work where its compiled ops cannot load (see the module
    docstring); returns whether the operator schemas had to be defined.

    Runs once per process; does nothing where torchvision is not installed or already
    imported.
    """
    global _fixed
    if _fixed:
        return False
    _fixed = True  # first, so that the find_spec below cannot come back here
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    import torch

    library = os.path.join(next(iter(spec.submodule_search_locations)), "_C.so")
    try:
        torch.ops.load_library(library)
        return False
    except (OSError, RuntimeError):
        pass
    for name in ("nms", "qnms"):
        # RuntimeError: defined already (by a sitecustomize of the user's, say)
        with contextlib.suppress(RuntimeError):
            torch.library.define(f"torchvision::{name}", _SCHEMA)
    return True


class TorchvisionImportFix(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` entry that runs :func:`allow_torchvision_import` when torchvision is
    first imported, then lets the normal finders import it (it finds nothing itself)."""

    def find_spec(self, fullname, path=None, target=None):
        """``None`` always; first runs the fix when ``fullname`` is ``torchvision``."""
        if fullname == "torchvision":
            allow_torchvision_import()
        return None


def missing_package_error(error: ModuleNotFoundError, script: str | os.PathLike[str]):
    """A one-line :class:`ConfigError` naming the install command when ``error`` is a script's
    ``import xautodl`` / ``import torchvision`` failing for want of the package; else ``None``
    (the script's own error, shown as Python shows it)."""
    if error.name not in SCRIPT_PACKAGES:
        return None
    return ConfigError(
        f"{Path(script).name} imports {error.name!r}, which is not installed here; install "
        f"what the official scripts import with: {INSTALL} (docs/compat.md)"
    )
