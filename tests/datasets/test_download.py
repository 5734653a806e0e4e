"""``prepare(..., download=True)``: pinned official files, fetched over HTTP or from a mirror.

A local HTTP server stands in for the authors' site (no network here); the files it serves are
the fake official archives of conftest.py, with their MD5 pinned in place of the real one.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchsim.cli._group import BenchsimGroup
from benchsim.cli._prepare import prepare as prepare_command
from benchsim.datasets import DATASETS, _download, _prepare, prepare, read_dataset
from benchsim.datasets._download import DOWNLOADS, Download
from benchsim.errors import ChecksumError, ConfigError, DataError


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(_download.MIRROR_ENV, raising=False)
    return tmp_path / "home"


@pytest.fixture
def served(cifar10_tar):
    """An HTTP server on localhost serving the archive's folder; yields (base url, hits)."""
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(cifar10_tar.parent), **kwargs)

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _pin(monkeypatch, url: str, md5: str) -> None:
    monkeypatch.setitem(DOWNLOADS, "cifar10", Download(url, md5, "cifar-10-python.tar.gz"))


def test_the_table_covers_every_public_dataset():
    assert set(DOWNLOADS) == set(_prepare._DOWNLOADABLE)
    kinds = {name: spec.kind for name, spec in DATASETS.items()}
    assert {n for n, k in kinds.items() if k not in ("synthetic", "imagenet16")} == set(DOWNLOADS)
    assert all(len(d.md5) == 32 and d.url.startswith("https://") for d in DOWNLOADS.values())


def test_download_over_http_then_reuse(home, served, cifar10_tar, monkeypatch, tmp_path):
    base, hits = served
    _pin(monkeypatch, f"{base}/cifar-10-python.tar.gz", _md5(cifar10_tar))
    path = prepare("cifar10", download=True, root=tmp_path / "out")
    direct = prepare("cifar10", cifar10_tar, root=tmp_path / "direct")
    assert np.array_equal(read_dataset(path).images, read_dataset(direct).images)
    assert (home / "downloads" / "datasets" / "cifar-10-python.tar.gz").is_file()
    prepare("cifar10", download=True, root=tmp_path / "again")
    assert hits == ["/cifar-10-python.tar.gz"]  # the verified download was reused


def test_downloaded_bytes_must_match_the_pinned_md5(home, served, monkeypatch, one_line):
    base, _ = served
    _pin(monkeypatch, f"{base}/cifar-10-python.tar.gz", "0" * 32)
    with pytest.raises(ChecksumError) as excinfo:
        prepare("cifar10", download=True)
    assert "does not match the pinned md5 " + "0" * 32 in one_line(excinfo)
    assert not (home / "downloads" / "datasets" / "cifar-10-python.tar.gz").exists()


def test_an_unreachable_server_is_one_line(home, monkeypatch, one_line):
    _pin(monkeypatch, "http://127.0.0.1:9/cifar-10-python.tar.gz", "0" * 32)
    with pytest.raises(DataError) as excinfo:
        prepare("cifar10", download=True)
    message = one_line(excinfo)
    assert "cannot download cifar10 from http://127.0.0.1:9/" in message
    assert "--from FILE" in message


def test_the_mirror_stands_in_for_the_network(home, cifar10_tar, monkeypatch, tmp_path):
    _pin(monkeypatch, "http://127.0.0.1:9/unused", _md5(cifar10_tar))
    monkeypatch.setenv(_download.MIRROR_ENV, str(cifar10_tar.parent))
    path = prepare("cifar10", download=True, root=tmp_path / "out")
    assert read_dataset(path).name == "cifar10"


def test_mirror_errors(home, cifar10_tar, monkeypatch, tmp_path, one_line):
    _pin(monkeypatch, "http://127.0.0.1:9/unused", "0" * 32)
    monkeypatch.setenv(_download.MIRROR_ENV, str(cifar10_tar.parent))
    with pytest.raises(ChecksumError) as excinfo:
        prepare("cifar10", download=True)
    assert f"md5 {_md5(cifar10_tar)} != pinned " in one_line(excinfo)
    monkeypatch.setenv(_download.MIRROR_ENV, str(tmp_path / "empty"))
    with pytest.raises(DataError) as excinfo:
        prepare("cifar10", download=True)
    assert "cifar-10-python.tar.gz is missing from the dataset mirror" in one_line(excinfo)


def test_what_cannot_be_downloaded(home, cifar10_tar, one_line):
    with pytest.raises(ConfigError) as excinfo:
        prepare("ImageNet16-120", download=True)
    assert "'ImageNet16-120' has no public download" in one_line(excinfo)
    with pytest.raises(ConfigError) as excinfo:
        prepare("cifar10", cifar10_tar, download=True)
    assert "not both" in one_line(excinfo)
    assert prepare("synthetic-shapes", download=True).is_file()  # nothing to fetch


def test_cli_download(home, cifar10_tar, monkeypatch, tmp_path):
    group = BenchsimGroup(name="data")
    group.add_command(prepare_command)
    _pin(monkeypatch, "http://127.0.0.1:9/unused", _md5(cifar10_tar))
    monkeypatch.setenv(_download.MIRROR_ENV, str(cifar10_tar.parent))
    result = CliRunner().invoke(
        group, ["prepare", "cifar10", "--download", "--root", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "cifar10.h5") in result.output
    result = CliRunner().invoke(group, ["prepare", "organsmnist", "--download"])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "organsmnist.npz is missing from the dataset mirror" in result.output
