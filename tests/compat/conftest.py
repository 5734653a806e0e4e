"""Fixtures of the drop-in API tests: shims over the real installed tables."""

from __future__ import annotations

import pytest

NATS_COMMIT = "1d4a304ad1906aa5866563438fcbf0d624b7eda2"
FIXTURE_ARCHS = (0, 11, 284)
"""The architectures the official NATS-Bench fixture files hold."""


@pytest.fixture(scope="module")
def bench(installed_home):
    import benchsim

    return benchsim.benchmark("nb201")


@pytest.fixture
def api(installed_home):
    """A NATS topology drop-in with no emulation (what an unconfigured script gets)."""
    from benchsim.compat.nats import create

    return create(None, "tss", fast_mode=True, verbose=False, emulate="none", seed=0)


@pytest.fixture
def emulating(installed_home):
    """The drop-in with every emulation opted in (warnings silenced: tested on their own)."""
    import warnings

    from benchsim.compat.nats import create

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield create(None, "tss", True, False, emulate="hp12-proxy,eval-time,no-latency", seed=0)


@pytest.fixture(scope="module")
def nats_fixture_home(tmp_path_factory, mirror_dir):
    """A ``$BENCHSIM_HOME`` holding only the official NATS-Bench fixture (archs 0, 11, 284,
    every epoch, every seed, hp 12 and 200) imported as table ``nats-fixture``."""
    from benchsim.importers import import_file

    home = tmp_path_factory.mktemp("nats_fixture_home")
    folder = (
        mirror_dir
        / "D-X-Y"
        / "NATS-Bench"
        / NATS_COMMIT
        / "fake_torch_dir"
        / "NATS-tss-v1_0-3ffb9-simple"
    )
    import_file(
        "nats-tss-simple", folder, name="nats-fixture", root=home / "tables", progress=False
    )
    return home, folder
