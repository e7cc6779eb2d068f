"""Faults: model endpoints that fail or die mid-answer, indexing killed or slow, a data folder that
cannot be written. Each ends in a clear message within bounds, and nothing indexed is lost."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from index import PassageStore, build_index
from index.store import Manifest, StoreError
from qa.answer import Text
from qa.pipeline import AnswerEngine
from tests.conftest import SEED_A, SEED_B

GULLS = ("Gull census on Skerry Island\n\nVolunteers counted 2,318 nesting gulls on Skerry Island "
         "on Saturday, the bird trust said.\nThe census is held every five years.\nThe next one is "
         "due in 2030.\nThe trust thanked its 40 volunteers.\nSkerry Island has no permanent residents.\n")
GULL_QUESTION = "How many nesting gulls did volunteers count on Skerry Island?"
KEY = "sk-test-newsdesk-0123456789abcdef"


# ----- a model endpoint on loopback that misbehaves on purpose ---------------------------------
class FakeEndpoint:
    """An OpenAI-compatible chat endpoint that refuses the key, dies or stalls mid-answer."""

    def __init__(self, behaviour: str):
        self.behaviour = behaviour
        self.authorizations: list[str] = []
        self.release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                endpoint.authorizations.append(self.headers.get("Authorization", ""))
                if endpoint.behaviour == "401":
                    # What OpenAI answers to a wrong key: the message repeats part of the key.
                    body = json.dumps({"error": {
                        "message": f"Incorrect API key provided: {KEY[:8]}***{KEY[-4:]}. You can "
                                   f"find your API key at the dashboard. (key {KEY})",
                        "type": "invalid_request_error", "code": "invalid_api_key"}}).encode()
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = {"id": "1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                         "choices": [{"index": 0, "delta": {"content": "Khalil"}, "finish_reason": None}]}
                data = f"data: {json.dumps(chunk)}\n\n".encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
                if endpoint.behaviour == "stall":
                    endpoint.release.wait(30)  # says nothing more until the test ends
                # "die": the connection ends mid-answer, as when the server process is killed.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _newsdesk(tmp_path: Path, *args: str, timeout: float, **env: str) -> subprocess.CompletedProcess:
    """Run the `newsdesk` command as a user would, with only the given settings."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("NEWSDESK_") and k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=tmp_path, env=clean,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("fault", ["unreachable", "wrong key"])
def test_the_command_says_what_is_wrong_with_the_endpoint_within_30_s(tmp_path, articles_dir, fault):
    with FakeEndpoint("401") as endpoint:
        base_url = endpoint.base_url if fault == "wrong key" else f"http://127.0.0.1:{_closed_port()}/v1"
        # The bound is the requirement: start-up, indexing and the failed call in under 30 s.
        result = _newsdesk(tmp_path, "ask", "Who is the spokesperson of Pakistan's Foreign Ministry?",
                           timeout=30, NEWSDESK_ARTICLES_DIR=str(articles_dir),
                           NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_LLM="openai",
                           OPENAI_BASE_URL=base_url, OPENAI_API_KEY=KEY, NEWSDESK_LLM_TIMEOUT="20")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    expected = ("could not be reached: these are the most relevant sentences" if fault == "unreachable"
                else "The model endpoint refused the API key (check OPENAI_API_KEY)")
    assert expected in result.stderr
    assert "Tahir Andrabi" in result.stdout  # the evidence answer
    assert KEY not in output and KEY[-4:] not in output
    assert not (tmp_path / "data" / "logs").exists()  # the local model was never started
    if fault == "wrong key":
        assert endpoint.authorizations == [f"Bearer {KEY}"]  # asked once: a 401 is not retried


@pytest.mark.parametrize("behaviour", ["die", "stall"])
def test_an_endpoint_failing_mid_answer_gives_the_evidence_and_a_clear_notice(make_settings, behaviour):
    with FakeEndpoint(behaviour) as endpoint:
        settings = make_settings(llm="openai", openai_base_url=endpoint.base_url,
                                 openai_api_key="x", llm_timeout=2)
        engine = AnswerEngine(settings)
        engine.ensure_index()
        events = list(engine.ask_stream("Who is Hamas's Gaza chief?"))
    answer = events[-1].answer
    assert Text("Khalil") in events  # the start of the reply arrived before the failure
    assert answer.mode == "extracted" and not answer.abstained
    assert any("Khalil Al-Hayya" in c.quote for c in answer.citations)
    if behaviour == "die":
        assert "stopped answering" in answer.notice
    else:
        assert "The model stopped answering for 2 s (NEWSDESK_LLM_TIMEOUT)" in answer.notice


# ----- indexing killed or slow ------------------------------------------------------------------
def _many_articles(folder: Path, count: int) -> None:
    for number in range(count):
        sentences = [f"Report {number} from the town of Vell{number}: the council met on day {day} "
                     f"and approved plan {number}-{day}." for day in range(12)]
        (folder / f"report-{number:03d}.txt").write_text(
            f"Council report {number}\n\n" + "\n".join(sentences) + "\n", encoding="utf-8")


def test_indexing_killed_with_sigkill_is_completed_by_the_next_run(settings, articles_dir, tmp_path):
    _many_articles(articles_dir, 24)
    manifest_path = settings.data_dir / "manifest.json"
    # Small groups, each written in two halves with a pause between: a kill lands mid-write.
    script = (
        "import time\n"
        "import index.build\n"
        "from index.settings import load_settings\n"
        "from index.store import PassageStore\n"
        "index.build.GROUP_PASSAGES = 30\n"
        "write = PassageStore.add_passages\n"
        "def halting(self, rows, vectors):\n"
        "    half = len(rows) // 2\n"
        "    write(self, rows[:half], vectors[:half])\n"
        "    time.sleep(0.5)\n"
        "    write(self, rows[half:], vectors[half:])\n"
        "PassageStore.add_passages = halting\n"
        f"index.build.build_index(load_settings(articles_dir={str(articles_dir)!r}, "
        f"data_dir={str(settings.data_dir)!r}, llm='none'))\n"
    )
    indexer = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path)  # no .env but ours
    try:
        recorded: dict = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and indexer.poll() is None:
            try:
                recorded = json.loads(manifest_path.read_text(encoding="utf-8"))["articles"]
            except (OSError, ValueError, KeyError):
                recorded = {}
            if len(recorded) >= 4:
                break
            time.sleep(0.05)
        assert indexer.poll() is None, "indexing ended before it could be killed"
        os.kill(indexer.pid, signal.SIGKILL)
    finally:
        indexer.kill()
        indexer.wait(timeout=30)
    finished = json.loads(manifest_path.read_text(encoding="utf-8"))["articles"]
    assert 4 <= len(finished) < 26

    report = build_index(settings)
    store = PassageStore(settings)
    manifest = store.manifest.articles
    assert len(manifest) == 26 and not report.refused
    assert sorted(report.added) == sorted(set(manifest) - set(finished))  # the rest, once each
    assert report.unchanged == len(finished)
    rows = store.all_passages()
    assert len(rows) == len({p.passage_id for p in rows})  # no duplicates
    for source, record in manifest.items():  # no half-written article
        ordinals = sorted(p.ordinal for p in rows if p.source == source)
        assert ordinals == list(range(record.passages)), source
    assert store.count() == sum(r.passages for r in manifest.values())


class _HeldEmbedding:
    """The store's embedding model, held up while `hold` says so (an indexing run that is slow)."""

    def __init__(self, model, hold):
        self.model, self.hold = model, hold

    def embed(self, texts):
        self.hold()
        return self.model.embed(texts)

    def __getattr__(self, name):  # questions' vectors and similarity scale: the model's own
        return getattr(self.model, name)


def test_questions_are_answered_from_the_last_index_while_a_new_one_is_built(settings, articles_dir):
    engine = AnswerEngine(settings)
    engine.ensure_index()
    (articles_dir / "gulls.txt").write_text(GULLS, encoding="utf-8")
    held, release = threading.Event(), threading.Event()
    indexer = threading.Thread(target=engine.ensure_index, daemon=True)

    def hold():
        if threading.current_thread() is indexer:
            held.set()
            release.wait(120)

    engine.store._embedding_model = _HeldEmbedding(engine.store.embedding_model, hold)
    indexer.start()
    answers = {}
    try:
        assert held.wait(60)
        asker = threading.Thread(target=lambda: answers.update(
            seed=engine.ask("Who is Hamas's Gaza chief?"), gulls=engine.ask(GULL_QUESTION)), daemon=True)
        asker.start()
        asker.join(120)
        # Answered while the indexing run is still held up: questions do not wait for it.
        assert not asker.is_alive() and indexer.is_alive()
    finally:
        release.set()
        indexer.join(120)
    assert any("Khalil Al-Hayya" in c.quote for c in answers["seed"].citations)
    assert not any(c.source == "gulls.txt" for c in answers["gulls"].citations)  # not indexed yet
    after = engine.ask(GULL_QUESTION)
    assert any("2,318 nesting gulls" in c.quote and c.source == "gulls.txt" for c in after.citations)


def test_an_article_half_written_to_the_store_is_not_seen_by_questions(settings, articles_dir, monkeypatch):
    import index.store

    engine = AnswerEngine(settings)
    engine.ensure_index()
    (articles_dir / "gulls.txt").write_text(GULLS, encoding="utf-8")
    monkeypatch.setattr(index.store, "MAX_WRITE_BATCH", 3)  # the article is written in 3 batches
    store = engine.store
    write, held, release = store.add_passages, threading.Event(), threading.Event()

    def halting(rows, vectors):
        write(rows[:3], vectors[:3])  # the first batch, with the gull count, is in Chroma
        held.set()
        release.wait(120)
        write(rows[3:], vectors[3:])

    store.add_passages = halting
    indexer = threading.Thread(target=engine.ensure_index, daemon=True)
    indexer.start()
    try:
        assert held.wait(60)
        written = [p for p in store.all_passages() if p.source == "gulls.txt"]
        assert written and len(written) < 6  # half there in Chroma...
        answer = engine.ask(GULL_QUESTION)
        vector = store.embedding_model.embed([GULL_QUESTION])[0]
        assert not any(p.source == "gulls.txt" for p in store.dense_search(vector, 50))
    finally:
        release.set()
        indexer.join(120)
    assert not any(c.source == "gulls.txt" for c in answer.citations)  # ...but not to questions
    assert not any(p.source == "gulls.txt" for p in answer.passages)
    assert any(c.source == "gulls.txt" for c in engine.ask(GULL_QUESTION).citations)


# ----- a data folder that cannot be written -----------------------------------------------------
def _unwritable_data_dir(tmp_path: Path) -> Path:
    """A data folder newsdesk cannot create or write.

    chmod is enough for an ordinary user; root writes through it (tests may run as root), so
    then the folder is placed under a regular file, where nobody can create it.
    """
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        (folder / "probe").write_text("x")
    except OSError:
        return folder / "data"
    (folder / "probe").unlink()
    folder.chmod(0o700)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    return blocker / "data"


@pytest.mark.parametrize("command", ["index", "ask"])
def test_an_unwritable_data_folder_is_a_clear_message(tmp_path, articles_dir, command):
    data_dir = _unwritable_data_dir(tmp_path)
    args = ["ask", "Who is Hamas's Gaza chief?"] if command == "ask" else ["index"]
    result = _newsdesk(tmp_path, *args, timeout=60, NEWSDESK_ARTICLES_DIR=str(articles_dir),
                       NEWSDESK_DATA_DIR=str(data_dir), NEWSDESK_LLM="none")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"newsdesk: Cannot create the data folder {data_dir}")
    assert "set NEWSDESK_DATA_DIR to a folder newsdesk can write" in result.stderr


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_data_folder_keeps_answering_from_the_last_index(settings, articles_dir,
                                                                             monkeypatch, code):
    engine = AnswerEngine(settings)
    engine.ensure_index()
    (articles_dir / "gulls.txt").write_text(GULLS, encoding="utf-8")

    def refuse(self, path):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(Manifest, "save", refuse)
    answer = engine.ask("Who is Hamas's Gaza chief?")
    assert any("Khalil Al-Hayya" in c.quote for c in answer.citations)
    assert answer.notice.endswith(
        f"The index could not be brought up to date: Cannot write {settings.data_dir / 'manifest.json'} "
        f"({os.strerror(code)}): is the data folder read-only or full?")
    with pytest.raises(StoreError, match="read-only or full"):
        build_index(settings)
    assert {SEED_A, SEED_B} <= {p.source for p in PassageStore(settings).all_passages()}
