"""The Chroma server path: a real `chroma run` on loopback instead of the embedded store."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from index import PassageStore, StoreError, build_index
from qa import ask
from tests.conftest import SEED_B
from tests.test_ask import assert_contract


@pytest.fixture
def chroma_url(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    log = (tmp_path / "chroma.log").open("wb")
    server = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server-data"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1, trust_env=False).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        pytest.fail("chroma run did not start:\n" + (tmp_path / "chroma.log").read_text())
    yield url
    server.terminate()
    server.wait(timeout=20)


def test_indexing_and_ask_against_a_chroma_server(make_settings, chroma_url, tmp_path):
    settings = make_settings(chroma_url=chroma_url)
    report = build_index(settings)
    assert len(report.added) == 2
    assert not (settings.data_dir / "chroma").exists()  # the vectors live in the server
    assert PassageStore(settings).count() > 40
    assert build_index(settings).unchanged == 2  # re-indexing through the server skips unchanged
    answer = ask("Who is the spokesperson of Pakistan's Foreign Ministry?", settings=settings)
    assert_contract(answer, settings)
    assert any("Tahir Andrabi" in c.quote and c.source == SEED_B for c in answer.citations)


def test_an_unreachable_chroma_server_is_a_clear_message(make_settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError, match="could not be reached"):
        PassageStore(make_settings(chroma_url=f"http://127.0.0.1:{port}"))
