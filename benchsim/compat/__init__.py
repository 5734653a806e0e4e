"""Drop-in versions of the official benchmark APIs, answered by benchsim.

Existing research code calls the official NAS-Bench-201 / NATS-Bench / TransNAS-Bench-101 APIs
or NASLib's ``dataset_api``; these modules offer the same calls on benchsim's tables (or any
benchmark opened by name), so such code runs unchanged, without the official files:

=========================  ==================================================================
module                     stands in for
=========================  ==================================================================
:mod:`.nats`               ``nats_bench`` (``create(None, "tss", ...)``, ``NATStopology``)
:mod:`.nb201`              ``nas_201_api`` (``NASBench201API``)
:mod:`.tnb101`             TransNAS-Bench-101's ``TransNASBenchAPI``
:mod:`.naslib`             NASLib's ``get_dataset_api`` for its NB201 and TNB101 spaces
:mod:`.records`            the record classes ``ArchResults`` / ``ResultsCount`` (views)
:mod:`.genotypes`          ``nats_bench.genotype_utils``
=========================  ==================================================================

Answers come only from the data.  A call, or a key of a returned dict, that the data does not
hold raises one :class:`~benchsim.errors.UnavailableError` naming the call, the key and what is
available, unless an emulation was opted into (``emulate=`` or ``BENCHSIM_COMPAT_EMULATE``;
:data:`EMULATIONS`), in which case the emulated values are labelled.  :func:`install_hooks`
makes ``import nats_bench`` / ``import nas_201_api`` (and their submodules that official
tests import) load the drop-ins (``benchsim compat run
SCRIPT`` does it for a whole script).  Importing this package imports neither torch nor the
official packages.
"""

from benchsim.compat._config import (
    EMULATIONS,
    ENV_BENCHMARK,
    ENV_EMULATE,
    ENV_SEED,
    CompatEmulationWarning,
    CompatSettings,
)
from benchsim.compat._hooks import HOOKED_MODULES, hooks_installed, install_hooks, uninstall_hooks

__all__ = [
    "EMULATIONS",
    "ENV_BENCHMARK",
    "ENV_EMULATE",
    "ENV_SEED",
    "HOOKED_MODULES",
    "CompatEmulationWarning",
    "CompatSettings",
    "hooks_installed",
    "install_hooks",
    "uninstall_hooks",
]
