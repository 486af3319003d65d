"""Fixtures of the provisioning tests; the machinery lives in labkit.py."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Iterator

import pytest

from labkit import FAKE_TOOL, Lab, QuietHandler, build_webroot, new_lab, sha256


@pytest.fixture(scope="session")
def download_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("webroot")
    build_webroot(root)
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


@pytest.fixture
def lab(tmp_path: Path, download_server: tuple[str, Path], ansible_env: dict[str, str]) -> Lab:
    return new_lab(tmp_path, download_server[0], ansible_env)


@pytest.fixture(scope="session")
def fake_binary_sha256() -> str:
    return sha256(FAKE_TOOL.read_bytes())


