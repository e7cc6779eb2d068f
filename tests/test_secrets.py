"""Secrets: OPENAI_API_KEY and page passwords never show in settings dumps, messages, logs, the
page or evaluation reports, even when an endpoint refuses the key and repeats it."""

from __future__ import annotations

import json
import logging

import pytest

from index.settings import load_settings
from qa.pipeline import AnswerEngine
from tests.test_faults import KEY, FakeEndpoint

PASSWORD = "hunter2-very-secret"


def _leaks(text: str) -> list[str]:
    """The pieces of the key or the password that `text` shows (OpenAI's masked form included)."""
    pieces = [KEY, KEY[-4:], KEY[:12], f"{KEY[:8]}***{KEY[-4:]}", PASSWORD]
    return [piece for piece in pieces if piece in text]


def test_settings_never_show_the_key_or_passwords(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("NEWSDESK_AUTH", f"alice:{PASSWORD}")
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={KEY}\n", encoding="utf-8")
    settings = load_settings(llm="openai")
    assert settings.openai_api_key.get_secret_value() == KEY  # it is there, for the client
    for dump in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert _leaks(dump) == []


def test_a_refused_key_is_not_repeated_in_the_answer_the_page_or_the_logs(make_settings, caplog):
    from ui.app import model_status, render_answer

    caplog.set_level(logging.DEBUG)  # everything the libraries log, as with debug logging on
    with FakeEndpoint("401") as endpoint:
        settings = make_settings(llm="openai", openai_base_url=endpoint.base_url, openai_api_key=KEY,
                                 auth=f"alice:{PASSWORD}")
        engine = AnswerEngine(settings)
        answer = engine.ask("Who is the spokesperson of Pakistan's Foreign Ministry?")
        import openai

        with pytest.raises(openai.AuthenticationError) as raised:  # what the server said
            openai.OpenAI(base_url=endpoint.base_url, api_key=KEY, max_retries=0).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}])
    assert KEY[-4:] in str(raised.value)  # the endpoint's own message repeats part of the key...
    assert "refused the API key (check OPENAI_API_KEY)" in answer.notice  # ...newsdesk's does not
    assert _leaks(answer.to_json()) == []
    assert _leaks(render_answer(answer)) == []
    assert _leaks(model_status(engine)) == []
    assert _leaks(caplog.text) == []


def test_evaluation_results_and_report_never_hold_the_key(make_settings, tmp_path):
    from qa.evaluation import default_dataset, load_dataset, run_evaluation
    from ui.report import write_report

    with FakeEndpoint("401") as endpoint:
        settings = make_settings(llm="openai", openai_base_url=endpoint.base_url, openai_api_key=KEY)
        result = run_evaluation(AnswerEngine(settings), load_dataset(default_dataset())[:3])
    out = tmp_path / "result.json"
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    write_report(result, out.with_suffix(".html"))
    assert any("refused the API key" in (q["notice"] or "") for q in result["questions"])
    assert _leaks(out.read_text(encoding="utf-8")) == []
    assert _leaks(out.with_suffix(".html").read_text(encoding="utf-8")) == []


def test_another_key_means_another_engine_though_dumps_mask_both(make_settings):
    from qa.pipeline import engine_for

    first = make_settings(llm="openai", openai_api_key=KEY)
    second = make_settings(llm="openai", openai_api_key=KEY + "-rotated")
    assert first.model_dump_json() == second.model_dump_json()  # masked alike
    assert engine_for(first) is engine_for(first)
    assert engine_for(first) is not engine_for(second)  # a rotated key is used at once
