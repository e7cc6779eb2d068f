"""Each citation carries its article's URL: a fetched page's address, or a local article's sidecar
`url`; None for an article that gives none. It reaches `ask --json` and the evaluation output."""

from __future__ import annotations

import json

from index import PassageStore, build_index
from qa.pipeline import engine_for
from qa.evaluation import GoldQuestion, run_evaluation
from tests.conftest import SEED_A, SEED_B
from ui.cli import main

URL = "https://example.org/news/rubio-gaza-force.html"
OTHER_URL = "http://news.example.net/2025/12/pakistan-offer"
QUESTION = "Where did Rubio speak to reporters?"


def test_a_sidecar_url_is_on_each_citation_of_its_article_in_json_and_evaluation(
        settings, articles_dir, monkeypatch, capsys):
    (articles_dir / (SEED_A + ".meta.json")).write_text(json.dumps({"url": URL}), encoding="utf-8")
    build_index(settings)
    assert PassageStore(settings).manifest.articles[SEED_B].url is None  # gives none
    (articles_dir / (SEED_B + ".meta.json")).write_text(json.dumps({"link": OTHER_URL}), encoding="utf-8")
    report = build_index(settings)
    assert not report.warnings
    records = PassageStore(settings).manifest.articles
    assert (records[SEED_A].url, records[SEED_B].url) == (URL, OTHER_URL)
    url_of = {SEED_A: URL, SEED_B: OTHER_URL}

    answer = engine_for(settings).ask(QUESTION)
    assert answer.citations
    assert [c.url for c in answer.citations] == [url_of[c.source] for c in answer.citations]

    monkeypatch.setenv("NEWSDESK_ARTICLES_DIR", str(articles_dir))
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NEWSDESK_LLM", "none")
    assert main(["ask", QUESTION, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["citations"]
    assert [c["url"] for c in printed["citations"]] == [url_of[c["source"]] for c in printed["citations"]]

    item = GoldQuestion(QUESTION, ["Washington"], True, [SEED_A], "factoid")
    result = run_evaluation(engine_for(settings), [item])
    cited = result["questions"][0]["citations"]
    assert cited and [c["url"] for c in cited] == [url_of[c["source"]] for c in cited]


def test_a_sidecar_url_that_is_not_http_is_reported_and_not_used(settings, articles_dir):
    (articles_dir / (SEED_A + ".meta.json")).write_text(
        json.dumps({"url": "file:///etc/passwd", "outlet": "Dawn"}), encoding="utf-8")
    report = build_index(settings)
    assert any("url" in problem for problem in report.warnings[SEED_A])
    record = PassageStore(settings).manifest.articles[SEED_A]
    assert (record.url, record.outlet) == (None, "Dawn")


def test_editing_a_sidecar_url_reaches_the_stored_passages(settings, articles_dir):
    sidecar = articles_dir / (SEED_A + ".meta.json")
    sidecar.write_text(json.dumps({"url": URL}), encoding="utf-8")
    build_index(settings)
    moved = "https://example.org/world/rubio.html"
    sidecar.write_text(json.dumps({"url": moved}), encoding="utf-8")
    report = build_index(settings)
    assert report.updated == [SEED_A] and report.passages_embedded == 0  # fields only
    passages = [p for p in PassageStore(settings).all_passages() if p.source == SEED_A]
    assert passages and {p.url for p in passages} == {moved}
