"""The model paths, for real: llama.cpp's OpenAI-compatible server on loopback with the smallest
packaged model (SmolLM2-135M proves the plumbing, not the quality), and endpoints that fail."""

from __future__ import annotations

import hashlib
import socket
import threading
import time

import pytest

from qa import local_model
from qa.pipeline import AnswerEngine
from tests.test_ask import assert_contract

SMALLEST = "smollm2-135m"


@pytest.fixture
def local_settings(make_settings):
    # A bound against hangs, not a speed target: on 2 cores busy with other work the first
    # answer (server start, prompt prefix) has taken over 60 s.
    return make_settings(llm="local", model=SMALLEST, llm_timeout=180)


def test_local_model_answers_through_the_llama_cpp_server(local_settings):
    engine = AnswerEngine(local_settings)
    answer = engine.ask("Where did Rubio speak to reporters?")
    assert engine.model.state() == ("ready", None)
    assert engine.model._server.base_url.startswith("http://127.0.0.1:")
    # The model wrote a reply (shown, or declined with the closest sentences: smollm2 is weak).
    assert answer.first_token_seconds is not None and answer.model == SMALLEST
    assert answer.first_token_seconds is not None  # the reply was streamed from the server
    assert_contract(answer, local_settings)


def test_openai_compatible_endpoint_is_the_same_code_path(local_settings, make_settings):
    local = AnswerEngine(local_settings)
    local.model.warm_up()
    endpoint = make_settings(llm="openai", openai_base_url=local.model._server.base_url,
                             model=SMALLEST, openai_api_key="not-checked")
    engine = AnswerEngine(endpoint)
    assert engine.model.info.backend == "endpoint"
    answer = engine.ask("Who is the spokesperson of Pakistan's Foreign Ministry?")
    assert answer.first_token_seconds is not None
    assert answer.notice is None or "could not be reached" not in answer.notice
    assert_contract(answer, endpoint)


def test_dead_local_server_is_restarted_by_the_next_question(local_settings):
    engine = AnswerEngine(local_settings)
    engine.model.warm_up()
    server = engine.model._server
    server._process.kill()
    server._process.wait()
    answer = engine.ask("Who is Hamas's Gaza chief?")
    assert answer.first_token_seconds is not None or "could not be reached" in (answer.notice or "")
    answer = engine.ask("Who is Hamas's Gaza chief?")
    assert answer.first_token_seconds is not None and server.running()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_endpoint_answers_from_the_articles_with_a_notice(make_settings):
    settings = make_settings(llm="openai", openai_base_url=f"http://127.0.0.1:{_closed_port()}/v1",
                             openai_api_key="sk-test-secret-123", llm_timeout=5)
    engine = AnswerEngine(settings)
    engine.ensure_index()  # what is timed is the model call, not indexing
    started = time.monotonic()
    answer = engine.ask("Who is the spokesperson of Pakistan's Foreign Ministry?")
    # A refused connection fails at once; the bound only tells it from the client's default of
    # minutes of retries, on any machine.
    assert time.monotonic() - started < 60
    assert answer.mode == "extracted" and "could not be reached" in answer.notice
    assert any("Tahir Andrabi" in c.quote for c in answer.citations)
    assert "sk-test-secret-123" not in answer.to_json()


def test_endpoint_that_never_answers_gives_up_at_the_timeout(make_settings):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held = []
    stop = threading.Event()

    def accept_and_hold():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    try:
        settings = make_settings(llm="openai", llm_timeout=2, openai_api_key="x",
                                 openai_base_url=f"http://127.0.0.1:{silent.getsockname()[1]}/v1")
        engine = AnswerEngine(settings)
        engine.ensure_index()  # what is timed is the model call, not indexing
        started = time.monotonic()
        answer = engine.ask("Who is Hamas's Gaza chief?")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        silent.close()
    assert "did not answer within 2 s" in answer.notice
    assert answer.mode == "extracted" and not answer.abstained
    # It waited for the timeout, and gave up after its few attempts of 2 s, not after the client's
    # default of 10 minutes (the upper bound is loose: a loaded machine must not break it).
    assert 2 <= elapsed < 90


def test_unknown_model_name_is_a_clear_message(make_settings):
    settings = make_settings(llm="local", model="no-such-model")
    answer = AnswerEngine(settings).ask("Who is Hamas's Gaza chief?")
    assert answer.mode == "extracted"
    assert "neither a packaged model" in answer.notice


def test_missing_model_packages_name_the_command_that_installs_them(make_settings, monkeypatch):
    missing = local_model.PackagedModel(
        name="qwen2.5-coder-1.5b", file_name="absent.gguf", sha256="0" * 64,
        parts=(("newsdesk_absent_part1", "data/part01.bin"), ("newsdesk_absent_part2", "data/part02.bin")),
        install_hint="make model-qwen2.5-coder-1.5b",
    )
    monkeypatch.setitem(local_model.PACKAGED_MODELS, "qwen2.5-coder-1.5b", missing)
    answer = AnswerEngine(make_settings(llm="local")).ask("Who is Hamas's Gaza chief?")
    assert "make model-qwen2.5-coder-1.5b" in answer.notice
    assert answer.mode == "extracted"


def test_model_parts_are_assembled_once_and_checked(tmp_path, monkeypatch):
    parts = []
    for index, content in enumerate((b"GGUF" + b"a" * 1000, b"b" * 777), start=1):
        path = tmp_path / f"part{index}.bin"
        path.write_bytes(content)
        parts.append(path)
    good = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    model = local_model.PackagedModel("tiny", "tiny.gguf", good,
                                      (("p1", "part1.bin"), ("p2", "part2.bin")), "make model-tiny")
    monkeypatch.setitem(local_model.PACKAGED_MODELS, "tiny", model)
    monkeypatch.setattr(local_model, "_part_path", lambda package, rel: tmp_path / rel)
    target = local_model.model_file("tiny", tmp_path / "models")
    assert target.read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert local_model.model_file("tiny", tmp_path / "models") == target  # verified once

    damaged = local_model.PackagedModel("bad", "bad.gguf", "f" * 64, model.parts, "make model-bad")
    monkeypatch.setitem(local_model.PACKAGED_MODELS, "bad", damaged)
    with pytest.raises(local_model.LocalModelError, match="damaged"):
        local_model.model_file("bad", tmp_path / "models")
    assert not (tmp_path / "models" / "bad.gguf").exists()


def test_model_server_ends_with_newsdesk_even_after_kill_9(local_settings, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    script = (
        "import sys, time\n"
        "from index.settings import load_settings\n"
        "from qa.pipeline import AnswerEngine\n"
        f"engine = AnswerEngine(load_settings(articles_dir={str(local_settings.articles_dir)!r}, "
        f"data_dir={str(tmp_path / 'd')!r}, llm='local', model='smollm2-135m'))\n"
        "engine.model.warm_up()\n"
        "print(engine.model._server._process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    newsdesk = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    server_pid = int(newsdesk.stdout.readline())
    os.kill(newsdesk.pid, signal.SIGKILL)
    newsdesk.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            return
        try:  # reap it if it became our child; otherwise it is gone once it stops existing
            os.waitpid(server_pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.5)
    pytest.fail("the model server outlived newsdesk")
