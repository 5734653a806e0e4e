"""Fetching pinned files: in place from a mirror, or downloaded with pooch; always verified."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest

from benchsim.errors import ChecksumError, DataError
from benchsim.store import _fetch, manifest
from benchsim.store import _manifest as manifest_module

SMALL = "help.latency.1080ti_1"  # 141 kB


@pytest.fixture
def entry():
    return manifest()[SMALL]


@pytest.fixture
def small_mirror(tmp_path: Path, mirror_dir: Path, entry) -> Path:
    """A private mirror holding one writable copy of the small file."""
    target = tmp_path / "mirror" / entry.relpath
    target.parent.mkdir(parents=True)
    shutil.copyfile(mirror_dir / entry.relpath, target)
    _fetch.clear_hash_cache()
    return tmp_path / "mirror"


def test_mirror_file_is_read_in_place(mirror_dir: Path, entry, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    path = _fetch.fetch(entry, mirror=mirror_dir)
    assert path == mirror_dir / entry.relpath
    assert not (tmp_path / "home").exists()  # nothing copied or downloaded


def test_resolve_mirror_argument_env_and_errors(mirror_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("BENCHSIM_DATA_MIRROR", raising=False)
    assert _fetch.resolve_mirror(None) is None
    monkeypatch.setenv("BENCHSIM_DATA_MIRROR", str(mirror_dir))
    assert _fetch.resolve_mirror(None) == mirror_dir.resolve()
    assert _fetch.resolve_mirror(tmp_path) == tmp_path.resolve()  # the argument wins
    monkeypatch.chdir(mirror_dir.parent)
    assert _fetch.resolve_mirror("upstream") == mirror_dir.resolve()  # relative to the cwd
    with pytest.raises(DataError, match=r"data mirror .*nowhere \(from mirror=\) is not a folder"):
        _fetch.resolve_mirror(tmp_path / "nowhere")
    monkeypatch.setenv("BENCHSIM_DATA_MIRROR", str(tmp_path / "gone"))
    with pytest.raises(DataError, match=r"gone \(from \$BENCHSIM_DATA_MIRROR\)"):
        _fetch.resolve_mirror(None)


def test_truncated_mirror_file_is_a_checksum_error(small_mirror: Path, entry) -> None:
    path = small_mirror / entry.relpath
    data = path.read_bytes()
    path.write_bytes(data[:1000])
    actual = hashlib.sha256(data[:1000]).hexdigest()
    with pytest.raises(ChecksumError) as info:
        _fetch.fetch(entry, mirror=small_mirror)
    message = str(info.value)
    assert "\n" not in message
    assert entry.relpath in message
    assert actual[:12] in message and entry.sha256[:12] in message
    assert "1,000 of 141,039 bytes, truncated" in message
    assert entry.url in message  # the fix says where the good bytes are


def test_same_size_corruption_is_a_checksum_error(small_mirror: Path, entry) -> None:
    path = small_mirror / entry.relpath
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="141,039 of 141,039 bytes, corrupt"):
        _fetch.fetch(entry, mirror=small_mirror)


def test_missing_mirror_file_is_a_data_error(tmp_path: Path, entry) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as info:
        _fetch.fetch(entry, mirror=tmp_path / "empty")
    assert not isinstance(info.value, ChecksumError)
    assert entry.relpath in str(info.value) and "missing from the data mirror" in str(info.value)
    assert entry.url in str(info.value)


def test_hashes_are_cached_per_process_until_the_file_changes(small_mirror, entry, monkeypatch):
    calls = []

    def counting_sha256():
        calls.append(1)
        return hashlib.sha256()

    from benchsim import _integrity

    monkeypatch.setattr(_integrity, "hashlib", SimpleNamespace(sha256=counting_sha256))
    for _ in range(3):
        _fetch.fetch(entry, mirror=small_mirror)
    assert len(calls) == 1
    path = small_mirror / entry.relpath
    path.write_bytes(path.read_bytes()[:-1])  # new size: the cache key changes
    with pytest.raises(ChecksumError):
        _fetch.fetch(entry, mirror=small_mirror)
    assert len(calls) == 2
    assert _fetch.sha256_of(path, cache=False) == _fetch.sha256_of(path)
    assert len(calls) == 3  # cache=False always re-hashes


# ---------------------------------------------------------------------- online (pooch)
class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(small_mirror: Path, monkeypatch) -> Iterator[SimpleNamespace]:
    """An HTTP server on localhost that plays raw.githubusercontent.com for the small mirror."""
    _Quiet.requests = []
    handler = functools.partial(_Quiet, directory=str(small_mirror))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    port = httpd.server_address[1]
    monkeypatch.setattr(
        manifest_module,
        "RAW_URL",
        f"http://127.0.0.1:{port}/{{owner}}/{{repo}}/{{commit}}/{{path}}",
    )
    try:
        yield SimpleNamespace(root=small_mirror, requests=_Quiet.requests)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_download_goes_to_the_cache_and_is_reused(server, entry, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    path = _fetch.fetch(entry, mirror=None)
    assert path == tmp_path / "home" / "downloads" / entry.relpath
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    assert len(server.requests) == 1
    assert _fetch.fetch(entry, mirror=None) == path
    assert len(server.requests) == 1  # verified cache hit, no second request


def test_a_corrupt_cached_download_is_fetched_again(server, entry, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    stale = tmp_path / "home" / "downloads" / entry.relpath
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a file")
    assert _fetch.fetch(entry, mirror=None) == stale
    assert hashlib.sha256(stale.read_bytes()).hexdigest() == entry.sha256
    assert len(server.requests) == 1


def test_server_sending_other_bytes_is_a_checksum_error(server, entry, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    (server.root / entry.relpath).write_bytes(b"not the pinned file")
    with pytest.raises(ChecksumError, match=rf"{entry.relpath}: downloaded sha256 .* != pinned"):
        _fetch.fetch(entry, mirror=None)
    assert not (tmp_path / "home" / "downloads" / entry.relpath).exists()


def test_no_network_is_a_data_error(entry, tmp_path, monkeypatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(
        manifest_module,
        "RAW_URL",
        f"http://127.0.0.1:{port}/{{owner}}/{{repo}}/{{commit}}/{{path}}",
    )
    monkeypatch.setenv("BENCHSIM_HOME", str(tmp_path / "home"))
    with pytest.raises(DataError) as info:
        _fetch.fetch(entry, mirror=None)
    message = str(info.value)
    assert message.startswith(f"cannot download {entry.relpath}")
    assert "Connection refused" in message and "BENCHSIM_DATA_MIRROR" in message
    assert "\n" not in message
