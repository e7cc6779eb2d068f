"""Several readers at once: questions queue first come, first served for the one local model, a
wait has a bound, and on the page no question is lost and no reader sees another's answers."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from qa.pipeline import AnswerEngine
from qa.llm import ChatModel, ModelBusy, TurnQueue


class GatedClient:
    """An OpenAI client whose model answers each request only when the test opens its gate."""

    def __init__(self):
        self.served: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    def gate(self, name: str) -> threading.Event:
        return self.gates.setdefault(name, threading.Event())

    def _create(self, messages, **_):
        name = messages[-1]["content"]
        self.served.append(name)
        self.gate(name).wait(60)
        chunk = SimpleNamespace(choices=[SimpleNamespace(delta=SimpleNamespace(content=f"reply to {name}"))])
        return _Stream([chunk])


class _Stream(list):
    def close(self):
        pass


def _local_model(make_settings, **overrides) -> tuple[ChatModel, GatedClient]:
    model = ChatModel(make_settings(llm="local", model="smollm2-135m", **overrides))
    client = GatedClient()
    model._ensure_client = lambda: client  # the queue is under test, not llama.cpp
    return model, client


def _wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_questions_are_served_in_the_order_they_arrive(make_settings):
    model, client = _local_model(make_settings)
    replies: dict[str, str] = {}

    def ask(name: str) -> None:
        replies[name] = model.complete([{"role": "user", "content": name}])

    first = threading.Thread(target=ask, args=("reader 0",))
    first.start()
    _wait_until(lambda: client.served == ["reader 0"])  # the model is busy with reader 0
    others = []
    for number in range(1, 6):  # arrive one after another while it is busy
        thread = threading.Thread(target=ask, args=(f"reader {number}",))
        thread.start()
        others.append(thread)
        _wait_until(lambda: model.queue.waiting == number)
    for number in range(6):
        client.gate(f"reader {number}").set()
    for thread in [first, *others]:
        thread.join(60)
    assert client.served == [f"reader {n}" for n in range(6)]  # first come, first served
    assert replies == {f"reader {n}": f"reply to reader {n}" for n in range(6)}  # none mixed


def test_a_question_waiting_longer_than_the_queue_timeout_is_told_the_model_is_busy(make_settings):
    model, client = _local_model(make_settings, queue_timeout=0.5)
    holder = threading.Thread(target=model.complete, args=([{"role": "user", "content": "long"}],))
    holder.start()
    try:
        _wait_until(lambda: client.served == ["long"])
        with pytest.raises(ModelBusy, match=r"busy with other readers' questions \(waited 0 s, "
                                            r"NEWSDESK_QUEUE_TIMEOUT\): try again in a moment"):
            model.complete([{"role": "user", "content": "late"}])
        assert model.queue.waiting == 0  # the one who gave up left the line
    finally:
        client.gate("long").set()
        holder.join(60)
    client.gate("next").set()
    assert model.complete([{"role": "user", "content": "next"}]) == "reply to next"  # free again


def test_a_reader_who_gives_up_does_not_hold_up_those_behind():
    queue = TurnQueue(timeout=60)
    outcomes = []

    def wait_for_turn(name: str, timeout: float) -> None:
        try:
            with queue.turn(timeout):
                outcomes.append(f"{name} served")
        except ModelBusy:
            outcomes.append(f"{name} gave up")

    with queue.turn():
        first = threading.Thread(target=wait_for_turn, args=("first in line", 0.3))
        first.start()
        _wait_until(lambda: queue.waiting == 1)
        behind = threading.Thread(target=wait_for_turn, args=("behind", 60))
        behind.start()
        _wait_until(lambda: queue.waiting == 2)
        first.join(30)
        assert outcomes == ["first in line gave up"] and queue.waiting == 1
    behind.join(30)
    assert outcomes == ["first in line gave up", "behind served"] and queue.waiting == 0


def test_a_busy_model_gives_the_evidence_and_says_to_try_again(make_settings):
    engine = AnswerEngine(make_settings(llm="local", model="smollm2-135m", queue_timeout=0.5))
    engine.ensure_index()
    client = GatedClient()
    engine.model._ensure_client = lambda: client
    holder = threading.Thread(target=engine.model.complete, args=([{"role": "user", "content": "long"}],))
    holder.start()
    try:
        _wait_until(lambda: client.served == ["long"])
        answer = engine.ask("Who is Hamas's Gaza chief?")
    finally:
        client.gate("long").set()
        holder.join(60)
    assert answer.mode == "extracted" and "try again in a moment" in answer.notice
    assert any("Khalil Al-Hayya" in c.quote for c in answer.citations)
    assert answer.queue_seconds == 0.0  # it never got a turn


def test_the_page_serves_several_readers_at_once_without_losing_or_mixing_questions(tmp_path):
    from tests.loadtest import run_load, serve_page

    # Evidence mode keeps this quick; `python -m tests.loadtest` runs the same with a model.
    with serve_page(tmp_path, llm="none") as url:
        result = run_load(url, users=3, per_user=2, seconds=300)
    problems = [(q["user"], q["turn"], q["problem"]) for q in result["questions"] if q["problem"]]
    assert problems == []
    summary = result["summary"]
    assert summary["questions"] == summary["answered"] == 6 and summary["lost"] == 0
    # Each reader's questions, in its own order, and each answered.
    by_user = {}
    for record in result["questions"]:
        by_user.setdefault(record["user"], []).append(record["question"])
    from tests.loadtest import conversations

    assert by_user == dict(enumerate(conversations(3, 2)))
    assert all(q["answer_seconds"] is not None for q in result["questions"])
