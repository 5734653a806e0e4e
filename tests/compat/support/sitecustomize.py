"""Test-environment fix, put on PYTHONPATH for the acceptance runs of tests/compat only.

The official scripts import ``xautodl.datasets``, which imports ``torchvision``.  PyPI's
torchvision wheels are built against CUDA torch; with the CPU-only torch of this project's
machines their compiled ops cannot load, and torchvision's import then stops at the one fake
kernel it registers without checking (``torchvision::nms`` / ``qnms``): the operator does not
exist.  Defining those two operator schemas (no kernel: calling them would still fail) lets the
pure-Python part of torchvision import.  Nothing in the scripts calls a torchvision op.  Where
torchvision's ops load (a matching CUDA or CPU build), this does nothing.
"""

import importlib.util
import os

_spec = importlib.util.find_spec("torchvision")
if _spec is not None and _spec.submodule_search_locations:
    import torch

    _lib = os.path.join(next(iter(_spec.submodule_search_locations)), "_C.so")
    try:
        torch.ops.load_library(_lib)
    except (OSError, RuntimeError):
        _schema = "(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
        torch.library.define("torchvision::nms", _schema)
        torch.library.define("torchvision::qnms", _schema)
