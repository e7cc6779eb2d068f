"""The chat page started as its own process on a free loopback port, for whatever drives it from
outside: the page tests, the README screenshots, the load test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Headless Chromium in a container, with nothing of it reaching out to the network.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


class PageDidNotStart(RuntimeError):
    """The page exited or did not answer in time; the message carries its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_page(articles_dir: Path, workdir: Path, start_seconds: float = 120,
                 **settings: str) -> Iterator[str]:
    """`newsdesk chat` over `articles_dir`, its data in `workdir/data`; yields the page's URL and
    stops the page afterwards. `settings` are NEWSDESK_* values by field name (llm="none").

    The page runs in `workdir` with none of the caller's NEWSDESK_* or OpenAI variables: neither
    a developer's environment nor the repository's `.env` reaches the page being driven.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("NEWSDESK_") and k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(NEWSDESK_ARTICLES_DIR=str(articles_dir), NEWSDESK_DATA_DIR=str(workdir / "data"),
               NEWSDESK_PORT=str(port))
    env.update({f"NEWSDESK_{name.upper()}": value for name, value in settings.items()})
    log_path = workdir / "page.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "ui.cli", "chat"], cwd=workdir, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + start_seconds
        while not _answers(url):
            if server.poll() is not None:
                raise PageDidNotStart("the page exited:\n" + log_path.read_text(errors="replace"))
            if time.monotonic() > deadline:
                raise PageDidNotStart(f"the page did not come up in {start_seconds:.0f} s:\n"
                                      + log_path.read_text(errors="replace"))
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def _answers(url: str) -> bool:
    # No proxy: the page is on loopback, and a proxy from the environment must not answer for it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
