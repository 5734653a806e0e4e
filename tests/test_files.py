"""What a result records of its environment: the package versions."""

from __future__ import annotations

import importlib.metadata
import sys

from benchsim._files import RECORDED_PACKAGES, package_versions


def test_package_versions_are_the_installed_ones():
    versions = package_versions()
    assert versions["python"] == sys.version.split()[0]
    for name in RECORDED_PACKAGES:
        try:
            expected = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            assert name not in versions
        else:
            assert versions[name] == expected


def test_package_versions_import_neither_the_packages_nor_importlib_metadata(
    tmp_path, fresh_python
):
    """Reading the versions costs a directory listing, not ~20 ms of METADATA parsing (run
    outside the checkout, whose benchsim.egg-info is another kind of record)."""
    code = (
        "import sys\n"
        "from benchsim._files import package_versions\n"
        "assert package_versions()['numpy']\n"
        "print(sorted(m for m in ('importlib.metadata', 'numpy', 'scipy', 'pandas', 'torch', "
        "'networkx') if m in sys.modules))\n"
    )
    # numpy: imported by benchsim._files itself
    assert fresh_python(code, cwd=tmp_path).strip() == "['numpy']"


def test_a_checkouts_egg_info_gives_its_version_without_importlib_metadata(tmp_path, fresh_python):
    """An editable install leaves ``benchsim.egg-info`` in the checkout, first on sys.path when
    a command runs there: its PKG-INFO holds the version importlib.metadata would report."""
    (tmp_path / "benchsim.egg-info").mkdir()
    (tmp_path / "benchsim.egg-info" / "PKG-INFO").write_text(
        "Metadata-Version: 2.4\nName: benchsim\nVersion: 9.8.7\n\nVersion: not this\n"
    )
    code = (
        "import sys, importlib\n"
        "from benchsim._files import package_versions\n"
        "print(package_versions()['benchsim'], 'importlib.metadata' in sys.modules)\n"
        "print(importlib.import_module('importlib.metadata').version('benchsim'))\n"
    )
    assert fresh_python(code, cwd=tmp_path).split() == ["9.8.7", "False", "9.8.7"]


def test_an_egg_info_named_with_its_version_still_reads_pkg_info(tmp_path):
    """Old installers name the folder ``<name>-<version>-py3.X.egg-info``: the name is not
    the version, PKG-INFO is."""
    from benchsim._files import _dist_info_versions

    folder = tmp_path / "networkx-3.0-py3.11.egg-info"
    folder.mkdir()
    (folder / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: networkx\nVersion: 3.0\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert _dist_info_versions()["networkx"] == "3.0"
    finally:
        sys.path.remove(str(tmp_path))


def test_small_result_tables_are_snappy_large_ones_zstd():
    from benchsim._files import ZSTD_FROM_ROWS, parquet_codec

    assert [parquet_codec(n) for n in (0, 1, ZSTD_FROM_ROWS - 1)] == ["snappy"] * 3
    assert [parquet_codec(n) for n in (ZSTD_FROM_ROWS, 10**7)] == ["zstd"] * 2


def test_atomic_parquet_writes_the_bytes_pyarrow_writes(tmp_path):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from benchsim._files import atomic_parquet

    table = pa.table({"x": np.arange(5000.0), "task": pa.array(["a", "b"] * 2500)})
    pq.write_table(table, tmp_path / "plain.parquet", compression="snappy")
    atomic_parquet(tmp_path / "buffered.parquet", table, compression="snappy")
    assert (tmp_path / "buffered.parquet").read_bytes() == (tmp_path / "plain.parquet").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["buffered.parquet", "plain.parquet"]


def test_a_failed_atomic_parquet_write_leaves_the_old_file_and_no_temporary(tmp_path):
    import pyarrow as pa
    import pytest

    from benchsim._files import atomic_parquet

    target = tmp_path / "part.parquet"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_parquet(target, pa.table({"x": [1]}), compression="snappy", no_such_option=1)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["part.parquet"]
