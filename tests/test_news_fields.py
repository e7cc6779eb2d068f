"""News-aware answers: each article's outlet and date, filters by them, time in answers, timelines.

The articles in tests/data/news are a small news desk: a flood story in Sindh told by three
outlets over a week (Dawn on 1 December, Arab News on 5 December, The Express Tribune on 8
December), with figures that change from report to report, a Reuters smog story, and an undated
explainer. Their dates and outlets come from every place newsdesk reads them: front-matter (Dawn),
HTML metadata (Arab News), a sidecar file (Tribune) and a dateline (Reuters).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from index import PassageStore, article_text, build_index, load_settings
from index.articles import read_article, sidecar_of
from index.dates import find_dates
from index.passages import split_passages
from index.store import PassageFilter
from qa import ask
from qa.timeline import timeline
from tests.test_ask import assert_contract

NEWS = Path(__file__).resolve().parent / "data" / "news"
DAWN, ARAB_NEWS = "dawn-sindh-floods.md", "arabnews-sindh-toll.html"
TRIBUNE, REUTERS = "tribune-sindh-compensation.txt", "reuters-lahore-smog.txt"
EXPLAINER = "undated-explainer.txt"
CAMPS = "How many people are in relief camps?"


def _news_settings(folder: Path):
    articles = folder / "news"
    shutil.copytree(NEWS, articles)
    return load_settings(articles_dir=articles, data_dir=folder / "data",
                         model_dir=folder / "models", llm="none")


@pytest.fixture(scope="module")
def news(tmp_path_factory):
    """The news desk, indexed once, for the tests that only read it."""
    settings = _news_settings(tmp_path_factory.mktemp("news"))
    build_index(settings)
    return settings


@pytest.fixture
def own_news(tmp_path):
    """A copy of the news desk of the test's own, for tests that change it."""
    return _news_settings(tmp_path / "own")


def _read(settings, source: str):
    path = settings.articles_dir / source
    return read_article(path, source, settings.max_article_bytes, sidecar_of(path))


# ----- reading outlet and date ------------------------------------------------------------------
def test_each_article_gets_its_outlet_and_date_from_where_it_gives_them(news):
    records = PassageStore(news).manifest.articles
    seen = {source: (r.outlet, r.published, r.fields_from.get("outlet"), r.fields_from.get("published"))
            for source, r in records.items()}
    assert seen == {
        DAWN: ("Dawn", "2025-12-01", "front-matter", "front-matter"),
        # Not 2024-01-01 from the footer's "Copyright 2024": the page's own metadata.
        ARAB_NEWS: ("Arab News", "2025-12-05", "html", "html"),
        TRIBUNE: ("The Express Tribune", "2025-12-08", "sidecar", "sidecar"),
        REUTERS: ("Reuters", "2025-12-10", "dateline", "text"),
        EXPLAINER: (None, None, None, None),
    }
    assert records[DAWN].title == "Floods kill 12 in Sindh as rivers burst their banks"
    # Every passage carries its article's fields.
    for passage in PassageStore(news).all_passages():
        assert (passage.outlet, passage.published) == (records[passage.source].outlet,
                                                       records[passage.source].published)


def test_front_matter_is_never_a_passage_and_offsets_stay_exact(news):
    text = article_text(DAWN, news)
    assert text == (news.articles_dir / DAWN).read_text(encoding="utf-8")  # offsets index the file
    passages = [p for p in PassageStore(news).all_passages() if p.source == DAWN]
    assert passages and all(text[p.start : p.end] == p.text for p in passages)
    assert not any("outlet:" in p.text or "published:" in p.text or p.text == "---" for p in passages)
    assert min(p.start for p in passages) > text.index("\n---\n")  # nothing before the block's end


def test_a_sidecar_outranks_the_articles_own_text(tmp_path):
    story = tmp_path / "wire.txt"
    story.write_text("Storm hits coast\nBy Jane Doe | The Coastal Times\nPublished: Dec. 3, 2025 10:42 GMT\n\n"
                     "WASHINGTON, Dec 2, 2025 (Reuters) - A storm hit the coast on Tuesday, officials said.\n",
                     encoding="utf-8")
    article = read_article(story, "wire.txt", 100_000)
    assert (article.outlet, article.published) == ("The Coastal Times", "2025-12-03")
    assert article.fields_from == {"title": "text", "outlet": "byline", "published": "byline"}
    # Byline lines describe the article: they are not passages to cite.
    assert [p.text for p in split_passages(article)] == [
        "Storm hits coast",
        "WASHINGTON, Dec 2, 2025 (Reuters) - A storm hit the coast on Tuesday, officials said."]

    (tmp_path / "wire.meta.json").write_text(
        json.dumps({"outlet": "Gulf Courier", "published": "4 December 2025", "title": "Storm"}),
        encoding="utf-8")
    article = read_article(story, "wire.txt", 100_000, sidecar_of(story))
    assert (article.title, article.outlet, article.published) == ("Storm", "Gulf Courier", "2025-12-04")
    assert set(article.fields_from.values()) == {"sidecar"}


def test_html_without_a_site_name_gets_its_publisher_from_json_ld(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '<html><head><title>Port reopens</title><script type="application/ld+json">'
        '{"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle", "headline": "Port reopens",'
        ' "datePublished": "2025-11-28T10:00:00Z", "publisher": {"@type": "Organization", "name": '
        '"Gulf Courier"}}]}</script></head><body><article><p>The port of Elin reopened on Friday after '
        "nine days of repairs, the harbour master said.</p><p>Ships had queued outside the harbour "
        "since the storm.</p></article></body></html>", encoding="utf-8")
    article = read_article(page, "page.html", 100_000)
    assert (article.outlet, article.published) == ("Gulf Courier", "2025-11-28")
    assert article.fields_from["outlet"] == article.fields_from["published"] == "html"


def test_metadata_that_cannot_be_used_is_reported_and_the_article_indexed(own_news):
    (own_news.articles_dir / f"{REUTERS}.meta.json").write_text("{not json", encoding="utf-8")
    (own_news.articles_dir / "undated-explainer.meta.json").write_text(
        json.dumps({"published": "sometime soon", "outlet": "Explainers"}), encoding="utf-8")
    report = build_index(own_news)
    assert REUTERS in report.added and EXPLAINER in report.added
    assert "not valid JSON" in report.warnings[REUTERS][0]
    assert "sometime soon" in report.warnings[EXPLAINER][0]
    records = PassageStore(own_news).manifest.articles
    assert records[REUTERS].outlet == "Reuters"  # the dateline, as without the broken sidecar
    assert (records[EXPLAINER].outlet, records[EXPLAINER].published) == ("Explainers", None)


def test_an_edited_sidecar_rewrites_the_fields_without_embedding_again(own_news):
    build_index(own_news)
    sidecar = own_news.articles_dir / f"{TRIBUNE}.meta.json"
    sidecar.write_text(json.dumps({"outlet": "Business Recorder", "published": "2025-12-09"}),
                       encoding="utf-8")
    report = build_index(own_news)
    assert (report.added, report.updated, report.passages_embedded) == ([], [TRIBUNE], 0)
    store = PassageStore(own_news)
    rows = [p for p in store.all_passages() if p.source == TRIBUNE]
    assert rows and {(p.outlet, p.published) for p in rows} == {("Business Recorder", "2025-12-09")}
    only = PassageFilter(outlets=("Business Recorder",))
    assert {pid.split("#")[0] for pid, _ in store.keyword_search("death toll", 10, only)} == {TRIBUNE}
    # A question notices it too (the engine watches sidecars as it watches articles).
    sidecar.write_text(json.dumps({"outlet": "Daily Times", "published": "2025-12-09"}), encoding="utf-8")
    answer = ask("How much will the Sindh government pay flood victims' families?", settings=own_news,
                 outlets=["daily times"])
    assert answer.citations and {c.outlet for c in answer.citations} == {"Daily Times"}


def test_an_index_read_by_an_earlier_version_gets_its_fields_without_embedding(own_news):
    build_index(own_news)
    manifest_path = own_news.data_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for record in manifest["articles"].values():  # as newsdesk wrote it before outlets and dates
        record.pop("metadata_version"), record.pop("fields_from")
        record["outlet"] = record["published"] = None
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    report = build_index(own_news)
    assert report.passages_embedded == 0 and len(report.updated) == 5
    assert PassageStore(own_news).manifest.articles[ARAB_NEWS].published == "2025-12-05"


# ----- dates in text ----------------------------------------------------------------------------
def test_relative_dates_are_resolved_against_the_articles_date():
    friday = date(2025, 12, 19)
    text = ("Rubio said on Friday that Hamas's chief spoke Sunday. The plan was announced on Sept. 29 "
            "this year and approved last month. Ministers will meet on Monday, and a session is set "
            "for Tuesday. Aid may arrive Jan. 5 or next week; the toll rose two days ago.")
    assert [(d.text, d.label) for d in find_dates(text, friday)] == [
        ("Friday", "2025-12-19"), ("Sunday", "2025-12-14"), ("Sept. 29 this year", "2025-09-29"),
        ("last month", "2025-11"), ("Monday", "2025-12-22"), ("Tuesday", "2025-12-23"),
        ("Jan. 5", "2026-01-05"), ("next week", "week of 2025-12-22"), ("two days ago", "2025-12-17"),
    ]
    # Without the article's date only dates that name their year are dates.
    assert [d.text for d in find_dates(text)] == []
    assert [d.label for d in find_dates("Published 19 December 2025, updated Dec. 20, 2025")] == [
        "2025-12-19", "2025-12-20"]


# ----- filters ----------------------------------------------------------------------------------
def test_filters_change_which_articles_an_answer_cites(news):
    both = ask(CAMPS, settings=news)
    assert {c.source for c in both.citations} == {ARAB_NEWS, DAWN}
    early = ask(CAMPS, settings=news, until="2025-12-02")
    assert {c.source for c in early.citations} == {DAWN} and not early.abstained
    assert early.article_filter == "published until 2025-12-02"
    one_outlet = ask(CAMPS, settings=news, outlets=["  arab   NEWS "])
    assert {c.source for c in one_outlet.citations} == {ARAB_NEWS}
    later = ask(CAMPS, settings=news, since=date(2025, 12, 3), until=date(2025, 12, 31))
    assert {c.source for c in later.citations} == {ARAB_NEWS}
    for answer in (both, early, one_outlet, later):
        assert_contract(answer, news)


def test_a_filter_that_leaves_no_article_says_so(news):
    nobody = ask(CAMPS, settings=news, outlets=["BBC"])
    assert nobody.abstained and not nobody.citations
    assert "“BBC”" in nobody.notice and "“Arab News”, “Dawn”, “Reuters” and “The Express Tribune”" in nobody.notice
    too_late = ask(CAMPS, settings=news, since="2026-01-01")
    assert too_late.abstained and "published since 2026-01-01" in too_late.notice
    assert "from 2025-12-01 to 2025-12-10" in too_late.notice and "1 article without a date" in too_late.notice
    for kwargs, words in (({"since": "2025-13-01"}, "since='2025-13-01' is not a date"),
                          ({"since": "2025-12-09", "until": "2025-12-01"}, "is after until")):
        refused = ask(CAMPS, settings=news, **kwargs)
        assert refused.abstained and words in refused.notice


def test_both_searches_keep_to_the_filter(news):
    store = PassageStore(news)
    dawn_only = PassageFilter(outlets=("Dawn",))
    found = store.keyword_search("relief camps people", 20, dawn_only)
    assert found and {pid.split("#")[0] for pid, _ in found} == {DAWN}
    vector = store.embedding_model.embed(["relief camps"])[0]
    december = PassageFilter(since=date(2025, 12, 4), until=date(2025, 12, 8))
    assert {p.source for p in store.dense_search(vector, 30, only=december)} == {ARAB_NEWS, TRIBUNE}


# ----- time in answers --------------------------------------------------------------------------
def test_a_fact_that_changed_is_given_newest_first_with_the_date_of_each_version(news):
    answer = ask(CAMPS, settings=news)
    assert answer.text.startswith("The articles differ on how many people: “More than 9,000 people” "
                                  "as of 5 December 2025 (Arab News) [1], the newest; earlier, on "
                                  "1 December 2025 (Dawn), “about 4,000 people” [2].")
    versions = answer.disagreements[0].versions
    assert [(v.published, v.outlet) for v in versions] == [("2025-12-05", "Arab News"), ("2025-12-01", "Dawn")]
    assert [c.source for c in answer.citations[:2]] == [ARAB_NEWS, DAWN]


def test_only_one_fact_reported_at_two_moments_is_an_update():
    from index.store import StoredPassage
    from qa.time_answers import reported_update

    def passage(text: str, published: str) -> StoredPassage:
        return StoredPassage("x#0", "x", 0, 0, len(text), text, "T", "Outlet", published)

    camps_later = passage("More than 9,000 people are now sheltering in relief camps, officials said.", "2025-12-05")
    camps_earlier = passage("Rescue teams had moved about 4,000 people to relief camps in schools.", "2025-12-01")
    dead = passage("At least 16 people have been confirmed dead from record flooding.", "2025-12-01")
    a_year_before = passage("Rescuers moved about 4,000 people to relief camps in tents.", "2024-12-01")
    assert reported_update(camps_later, "More than 9,000 people", camps_earlier, "about 4,000 people")
    assert not reported_update(camps_later, "More than 9,000 people", dead, "At least 16 people")
    assert not reported_update(camps_later, "More than 9,000 people", a_year_before, "about 4,000 people")
    same_day = passage("About 4,000 people were in relief camps.", "2025-12-05")
    assert not reported_update(camps_later, "More than 9,000 people", same_day, "About 4,000 people")


def test_a_question_about_the_latest_is_answered_as_of_the_newest_article(news):
    answer = ask("What is the official death toll so far?", settings=news)
    assert answer.text.startswith("As of 8 December 2025: ")
    assert answer.citations[0].source == TRIBUNE and "34" in answer.citations[0].quote
    assert_contract(answer, news)


def test_when_questions_get_calendar_dates_for_relative_ones(news):
    answer = ask("When did Shehbaz Sharif announce food aid?", settings=news)
    assert "(Wednesday: 3 December 2025)" in answer.text
    # A headline matching the question best says nothing of when: the dated sentence is cited.
    answer = ask("When did the Sindh government announce compensation for flood victims?", settings=news)
    assert "(Monday: 8 December 2025)" in answer.text and answer.citations[0].source == TRIBUNE
    answer = ask("When will the relief camps close?", settings=news)
    assert "next week: the week of 15 December 2025" in answer.text


def test_the_model_reads_each_articles_date_for_a_question_about_time(news):
    from qa.pipeline import AnswerEngine
    from qa.question import parse_question
    from qa.reading import messages

    def prompt(question: str) -> str:
        return messages(question, passages, parse_question(question).prompt_dates)[-1]["content"]

    engine = AnswerEngine(news)
    passages = engine.store.all_passages()[:3]
    when = prompt("When did the toll rise?")
    assert all(f"published {p.published}" in when for p in passages if p.published)
    assert "published" not in prompt("Who leads the relief effort?")


# ----- timelines --------------------------------------------------------------------------------
def test_the_timeline_lists_dated_events_oldest_first_each_cited(news):
    story = timeline("Sindh floods", news)
    assert story.notice is None and len(story.events) >= 8
    days = [event.date for event in story.events]
    assert days == sorted(days)
    labels = {(e.label, e.when): e for e in story.events}
    sunday = labels[("2025-11-30", "Sunday")]  # "killed 12 people ... on Sunday", Dawn of 1 December
    assert [(c.source, c.outlet, c.published) for c in sunday.citations] == [(DAWN, "Dawn", "2025-12-01")]
    assert "killed 12 people" in sunday.text and sunday.dated_by == "relative" and not sunday.expected
    assert labels[("2025-12-08", "Monday")].citations[0].source == TRIBUNE
    assert labels[("week of 2025-12-15", "next week")].expected  # camps to close: still ahead then
    assert labels[("2022", "of 2022")].dated_by == "explicit"
    sources = {c.source for e in story.events for c in e.citations}
    assert sources == {DAWN, ARAB_NEWS, TRIBUNE}  # not the smog story
    for event in story.events:
        for citation in event.citations:
            assert article_text(citation.source, news)[citation.start : citation.end] == citation.quote


def test_the_timeline_keeps_to_the_filter_and_says_when_it_has_nothing(news):
    story = timeline("Sindh floods", news, outlets="Dawn")
    assert story.events and {c.outlet for e in story.events for c in e.citations} == {"Dawn"}
    assert story.article_filter == "from Dawn"
    assert timeline("Sindh floods", news, since="2026-01-01").notice.startswith("No indexed article")
    nothing = timeline("volcanic eruptions in Iceland", news)
    assert nothing.events == [] and "say nothing about" in nothing.notice


def test_the_command_line_shows_outlet_and_date_with_every_citation(news, monkeypatch, capsys):
    from ui.cli import main

    monkeypatch.setenv("NEWSDESK_ARTICLES_DIR", str(news.articles_dir))
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(news.data_dir))
    monkeypatch.setenv("NEWSDESK_LLM", "none")
    assert main(["ask", CAMPS, "--outlet", "Dawn"]) == 0
    out = capsys.readouterr().out
    assert "[1] Dawn, 2025-12-01 — Floods kill 12 in Sindh as rivers burst their banks" in out
    assert "Arab News" not in out
    assert main(["timeline", "Sindh floods", "--since", "2025-12-06"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Timeline of “Sindh floods” (published since 2025-12-06):")
    assert "[1] The Express Tribune, 2025-12-08 —" in out and "Dawn" not in out
    assert main(["timeline", "Sindh floods", "--until", "2025-12-32"]) == 2
    assert "is not a date" in capsys.readouterr().err
