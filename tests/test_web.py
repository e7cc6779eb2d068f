"""News from the web: `newsdesk add`, `follow`, `feeds`, `refresh` and `unfollow` against a real
news site served on 127.0.0.1 (tests/news_site.py), answered in evidence mode."""

from __future__ import annotations

import json
import time

import pytest

from index import PassageStore, article_text, build_index
from index.web import add_pages, is_web
from qa.pipeline import engine_for
from tests.news_site import BRIDGE, FURNITURE, HARBOUR, OUTLET, article_page, serve_news_site
from ui.cli import main

HARBOUR_QUESTION = "How many days was the port of Vellan closed?"


@pytest.fixture
def site():
    with serve_news_site() as running:
        yield running


@pytest.fixture
def cli(settings, monkeypatch, capfd):
    """Runs `newsdesk ...` in this process over the test's settings: (exit code, stdout, stderr)."""
    for name in ("articles_dir", "data_dir", "model_dir", "llm"):
        monkeypatch.setenv(f"NEWSDESK_{name.upper()}", str(getattr(settings, name)))
    monkeypatch.setenv("NEWSDESK_FETCH_TIMEOUT", "2")

    def run(*args: str) -> tuple[int, str, str]:
        capfd.readouterr()
        code = main(list(args))
        out, err = capfd.readouterr()
        return code, out, err

    return run


def _web_records(settings):
    return {r.url: r for r in PassageStore(settings).manifest.articles.values() if is_web(r.source)}


def test_add_indexes_a_fetched_page_with_its_url(settings, site):
    engine = engine_for(settings)
    url = site.base + "/news/harbour-reopens.html"
    report = add_pages(settings, [url], engine.ensure_index)
    assert [page.outcome for page in report.pages] == ["new"]
    source = report.pages[0].source
    stored = settings.web_dir / source.removeprefix(".web/")
    assert stored.is_file() and settings.data_dir in stored.parents
    assert json.loads(stored.with_name(stored.name + ".meta.json").read_text())["url"] == url

    answer = engine.ask(HARBOUR_QUESTION)
    cited = [c for c in answer.citations if c.source == source]
    assert cited and not answer.abstained
    for citation in cited:
        assert (citation.url, citation.outlet, citation.published) == (url, OUTLET, "2025-12-09")
        assert article_text(source, settings)[citation.start:citation.end] == citation.quote
    assert any("19 days" in c.quote for c in cited)
    # Navigation, cookie and subscription notices, sign-in links and footers are not passages.
    passages = [p.text for p in PassageStore(settings).all_passages() if p.source == source]
    assert passages == ["Port of Vellan reopens after 19 days", *HARBOUR]  # the headline, the story
    assert not [p for p in passages if any(bit.lower() in p.lower() for bit in FURNITURE + ("cookies",))]
    assert site.requests[0] == ("/robots.txt", site.requests[0][1])
    assert all(agent.startswith("newsdesk/") for _, agent in site.requests)


def test_follow_rss_and_atom_add_a_page_then_refresh_finds_nothing_new(settings, site, cli):
    code, out, err = cli("follow", site.base + "/rss.xml")
    assert code == 0, err
    assert out.count("new: ") == 2
    assert cli("follow", site.base + "/atom.xml")[0] == 0
    assert cli("add", site.base + "/amp/harbour-reopens")[0] == 0

    records = _web_records(settings)
    assert set(records) == {site.base + path for path in ("/news/harbour-reopens.html",
                            "/news/ferry-strike.html", "/city/bridge-vote.html", "/amp/harbour-reopens")}
    # The ferry page has no title or date: the RSS entry's are used; the feed link's utm_ is gone.
    ferry = records[site.base + "/news/ferry-strike.html"]
    assert (ferry.title, ferry.published, ferry.fields_from["published"]) == (
        "Ferry crews walk out over rosters", "2025-12-08", "feed")

    code, out, err = cli("refresh", "--json")
    assert code == 0, err
    assert json.loads(out) == {"feeds": 2, "new": 0, "updated": 0, "failed": 0, "errors": []}
    assert out.strip().count("\n") == 0  # one JSON object, nothing else on stdout

    code, out, _ = cli("feeds")
    assert code == 0 and site.base + "/rss.xml" in out and site.base + "/atom.xml" in out
    assert "2 items" in out and "1 item," in out and "never" not in out


def test_the_same_url_again_is_no_duplicate_and_a_changed_page_is_indexed_again(settings, site, cli):
    url = site.base + "/city/bridge-vote.html"
    assert cli("add", url)[0] == 0
    code, out, _ = cli("add", url, site.base + "/city/bridge-vote.html#comments")
    assert code == 0 and out.count("unchanged: ") == 2
    assert len(_web_records(settings)) == 1

    changed = [BRIDGE[0].replace("23 to 8", "24 to 7")] + BRIDGE[1:]
    site.set_page("/city/bridge-vote.html", article_page("Council votes for a second bridge", changed))
    code, out, _ = cli("add", url)
    assert code == 0 and out.startswith("updated: ")
    texts = [p.text for p in PassageStore(settings).all_passages()]
    assert any("24 to 7" in text for text in texts) and not any("23 to 8" in text for text in texts)
    assert len(_web_records(settings)) == 1


def test_the_same_story_reached_by_two_urls_joins_one_story_group(settings, site):
    site.set_page("/wire/port-vellan", article_page("Vellan port open again", HARBOUR, outlet="Wire"))
    urls = [site.base + "/news/harbour-reopens.html", site.base + "/wire/port-vellan"]
    report = add_pages(settings, urls, lambda: build_index(settings))
    sources = sorted(page.source for page in report.pages)
    assert [page.outcome for page in report.pages] == ["new", "new"]
    assert sources in PassageStore(settings).stories.groups()


def test_failures_get_one_line_each_and_the_other_urls_still_go_in(settings, site, cli):
    bad = ["/missing.html", "/section/", "/rss.xml", "/private/memo.html"]
    code, out, err = cli("add", *(site.base + path for path in bad), "ftp://example.org/x",
                         site.base + "/news/harbour-reopens.html")
    assert code == 1
    lines = err.strip().splitlines()
    failures = [line for line in lines if line.startswith("newsdesk: failed: ")]
    assert len(failures) == 5 and "Traceback" not in err
    for expected in ("404", "not an article", "not a web page",
                     "robots.txt", "only http and https"):
        assert any(expected in line for line in failures), expected
    assert out.startswith("new: ") and len(_web_records(settings)) == 1


@pytest.mark.parametrize("path", ["/never", "/trickle"])
def test_a_page_that_never_answers_or_trickles_fails_within_the_deadline(settings, site, cli, path):
    started = time.monotonic()
    code, out, err = cli("add", site.base + path, site.base + "/news/harbour-reopens.html")
    elapsed = time.monotonic() - started
    assert code == 1 and elapsed < 2 + 10
    assert "no complete answer within 2 s (NEWSDESK_FETCH_TIMEOUT)" in err and "Traceback" not in err
    assert len(_web_records(settings)) == 1


def test_what_is_not_a_feed_is_not_followed_and_feed_errors_show_in_feeds(settings, site, cli):
    for path, why in (("/not-a-feed.xml", "not an RSS or Atom feed"),
                      ("/news/harbour-reopens.html", "not an RSS or Atom feed"),
                      ("/gone.xml", "404")):
        code, _, err = cli("follow", site.base + path)
        assert code == 1 and why in err and "Traceback" not in err
    assert cli("feeds")[1].startswith("No feeds followed")

    assert cli("follow", site.base + "/atom.xml")[0] == 0
    del site.pages["/atom.xml"]
    code, out, err = cli("refresh", "--json")
    summary = json.loads(out)
    assert code == 1 and (summary["feeds"], summary["failed"]) == (1, 1)
    assert "404" in summary["errors"][0]
    assert "last error: " in cli("feeds")[1] and "404" in cli("feeds")[1]


def test_unfollow_forgets_the_feed_and_keeps_its_articles(settings, site, cli):
    assert cli("follow", site.base + "/atom.xml")[0] == 0
    code, out, _ = cli("unfollow", site.base + "/atom.xml")
    assert code == 0 and "unfollowed" in out
    assert cli("feeds")[1].startswith("No feeds followed")
    assert len(_web_records(settings)) == 1
    assert cli("unfollow", site.base + "/atom.xml")[0] == 1


def test_a_page_over_the_size_limit_is_refused(make_settings, site):
    settings = make_settings(max_article_bytes=1000)
    report = add_pages(settings, [site.base + "/news/harbour-reopens.html"], lambda: build_index(settings))
    assert report.pages[0].outcome == "failed" and "limit" in report.pages[0].error
    assert not settings.web_dir.exists() or not any(settings.web_dir.rglob("*.html"))


def test_a_deleted_page_file_leaves_the_index_at_the_next_question(settings, site):
    engine = engine_for(settings)
    report = add_pages(settings, [site.base + "/news/harbour-reopens.html"], engine.ensure_index)
    stored = settings.web_dir / report.pages[0].source.removeprefix(".web/")
    stored.unlink()
    answer = engine.ask(HARBOUR_QUESTION)
    assert report.pages[0].source not in {c.source for c in answer.citations}
    assert report.pages[0].source not in engine.store.manifest.articles
