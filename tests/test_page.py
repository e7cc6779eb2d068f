"""The chat page in a real headless Chromium, as a reader uses it: ask, read the cited answer."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(tmp_path, articles_dir, **extra_env):
    """Start `newsdesk chat` on a free port; yield its URL, stop it afterwards."""
    port = _free_port()
    env = dict(os.environ, NEWSDESK_ARTICLES_DIR=str(articles_dir),
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_LLM="none",
               NEWSDESK_PORT=str(port), **extra_env)
    log = (tmp_path / "page.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "ui.cli", "chat"], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, (tmp_path / "page.log").read_text()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        pytest.fail("the page did not come up in 120 s:\n" + (tmp_path / "page.log").read_text())
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture
def page_url(tmp_path, articles_dir):
    yield from _serve(tmp_path, articles_dir)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium for this test"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


def _ask(page, question: str):
    box = page.locator("#nd-question textarea")
    box.fill(question)
    box.press("Enter")


def test_page_answers_with_the_quoted_source_and_abstains_off_topic(page_url, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_url)
    expect(page.locator("#nd-status")).to_contain_text("Model:", timeout=30_000)

    _ask(page, "Who is the spokesperson of Pakistan's Foreign Ministry?")
    answer = page.locator('[data-testid="bot"]').last
    expect(answer).to_contain_text("Sources", timeout=60_000)
    expect(answer).to_contain_text("Tahir Andrabi")
    expect(answer).to_contain_text("[1]")
    expect(page.locator("#nd-passages")).to_contain_text("Passages found")
    page.screenshot(path=str(tmp_path / "answer.png"))

    _ask(page, "What is the capital of France?")
    expect(page.locator('[data-testid="bot"]')).to_have_count(2, timeout=30_000)
    expect(page.locator('[data-testid="bot"]').last).to_contain_text("don't say", timeout=60_000)

    page.locator("#nd-new-chat").click()
    expect(page.locator('[data-testid="bot"]')).to_have_count(0, timeout=10_000)


def test_the_page_asks_for_a_login_when_one_is_set(tmp_path, articles_dir):
    for url in _serve(tmp_path, articles_dir, NEWSDESK_AUTH="reader:s3cret"):
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.get("config").status_code == 401
            assert client.post("login", data={"username": "reader", "password": "wrong"}).status_code != 200
            assert client.post("login", data={"username": "reader", "password": "s3cret"}).status_code == 200
            assert client.get("config").status_code == 200
        assert "s3cret" not in (tmp_path / "page.log").read_text()


def test_serving_beyond_loopback_without_a_login_is_refused(tmp_path, articles_dir):
    env = dict(os.environ, NEWSDESK_ARTICLES_DIR=str(articles_dir), NEWSDESK_LLM="none",
               NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_HOST="0.0.0.0")
    run = subprocess.run([sys.executable, "-m", "ui.cli", "chat"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "NEWSDESK_AUTH" in run.stderr
