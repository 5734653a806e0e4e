"""The import hooks, and that importing the drop-ins stays free of torch and xautodl."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchsim.compat import hooks_installed, install_hooks, uninstall_hooks


def test_hooks_shadow_the_installed_official_packages():
    real = pytest.importorskip("nats_bench")
    with hooks_installed() as names:
        assert names == ["nats_bench", "nas_201_api"]
        import nas_201_api
        import nats_bench

        from benchsim.compat import nats, nb201

        assert nats_bench is nats and nas_201_api is nb201
        from nats_bench import create

        assert create is nats.create
        with pytest.raises(ModuleNotFoundError, match="is not a package"):
            import nats_bench.api_utils
    import nats_bench as after

    assert after is real  # restored
    install_hooks()
    install_hooks()  # idempotent
    uninstall_hooks()
    assert sys.modules["nats_bench"] is real


def test_importing_the_drop_ins_imports_no_torch():
    code = (
        "import sys, benchsim.compat, benchsim.compat.nats, benchsim.compat.nb201, "
        "benchsim.compat.tnb101, benchsim.compat.naslib, benchsim.cli; "
        "bad = [m for m in ('torch', 'xautodl', 'nats_bench', 'nas_201_api') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
