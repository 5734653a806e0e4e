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
        # the submodules the official tests and scripts import (NATS-Bench tests/api_test.py)
        import nas_201_api.api_utils
        import nats_bench.api_topology
        import nats_bench.genotype_utils
        from nas_201_api.api_utils import ArchResults
        from nats_bench.api_topology import ALL_BASE_NAMES, NATStopology
        from nats_bench.genotype_utils import topology_str2structure

        from benchsim.compat import genotypes, records

        assert NATStopology is nats.NATStopology and ALL_BASE_NAMES == ["NATS-tss-v1_0-3ffb9"]
        assert nats_bench.api_topology is nats and nats_bench.genotype_utils is genotypes
        assert nas_201_api.api_utils is records and ArchResults is records.ArchResults
        assert topology_str2structure is genotypes.topology_str2structure
        with pytest.raises(ModuleNotFoundError, match="is not a package"):
            import nats_bench.api_size  # the size space: no data, no drop-in
    import nats_bench as after

    assert after is real  # restored
    install_hooks()
    install_hooks()  # idempotent
    uninstall_hooks()
    assert sys.modules["nats_bench"] is real
    assert sys.modules["nats_bench.genotype_utils"].__name__ == "nats_bench.genotype_utils"


def test_genotype_utils_match_the_official_module():
    """Every NB201 cell: the same strings, validity and isomorphism classes as the official
    ``nats_bench.genotype_utils`` (6,466 unique cells with zeros considered, as its test)."""
    official = pytest.importorskip("nats_bench.genotype_utils")
    import itertools

    from benchsim.compat.genotypes import TopologyStructure, topology_str2structure

    ops = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    unique = set()
    for c in itertools.product(ops, repeat=6):
        arch = f"|{c[0]}~0|+|{c[1]}~0|{c[2]}~1|+|{c[3]}~0|{c[4]}~1|{c[5]}~2|"
        ours, theirs = topology_str2structure(arch), official.topology_str2structure(arch)
        assert ours.tostr() == theirs.tostr() == arch and repr(ours) == repr(theirs)
        assert ours.check_valid() == theirs.check_valid()
        assert ours.tolist("none") == theirs.tolist("none")
        for zero in (False, True, None):
            assert ours.to_unique_str(zero) == theirs.to_unique_str(zero)
        unique.add(ours.to_unique_str(consider_zero=True))
    assert len(unique) == 6466
    short = "|nor_conv_3x3~0|+|skip_connect~1|+|avg_pool_3x3~2|"
    assert (
        TopologyStructure.str2fullstructure(short).tostr()
        == official.TopologyStructure.str2fullstructure(short).tostr()
    )


def test_importing_the_drop_ins_imports_no_torch():
    code = (
        "import sys, benchsim.compat, benchsim.compat.nats, benchsim.compat.nb201, "
        "benchsim.compat.tnb101, benchsim.compat.naslib, benchsim.cli; "
        "bad = [m for m in ('torch', 'xautodl', 'nats_bench', 'nas_201_api') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
