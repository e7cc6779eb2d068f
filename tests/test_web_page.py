"""The page's part of news from the web: the URL field (an article or a feed), the followed feeds
with their errors, the reader's link to a page's URL, and the refresh while the page runs."""

from __future__ import annotations

import time

import pytest

from index.feeds import followed, refresh
from qa.pipeline import engine_for
from tests.news_site import serve_news_site
from tests.test_web import HARBOUR_QUESTION
from ui.app import quote_digest, render_reader
from ui.web_panel import FeedRefresher, add_url, remove_feed, render_feeds


@pytest.fixture
def site():
    with serve_news_site() as running:
        yield running


def test_the_url_field_adds_an_article_or_follows_a_feed_and_lists_feed_errors(make_settings, site):
    settings = make_settings(fetch_timeout=2)
    engine = engine_for(settings)
    said = add_url(settings, site.base + "/news/harbour-reopens.html", engine.ensure_index)
    assert said.startswith("New: Port of Vellan reopens after 19 days")
    said = add_url(settings, site.base + "/atom.xml", engine.ensure_index)
    assert said.startswith("Following the feed") and "New: Council votes" in said
    assert "Not added:" in add_url(settings, site.base + "/never", engine.ensure_index)
    assert "Paste the address" in add_url(settings, "  ", engine.ensure_index)

    del site.pages["/atom.xml"]
    assert refresh(settings, engine.ensure_index).summary()["failed"] == 1
    table = render_feeds(followed(settings))
    assert "Vellan City Hall News" in table and "404" in table and "nd-notice" in table
    assert "Unfollowed" in remove_feed(settings, site.base + "/atom.xml")
    assert "No feeds followed" in render_feeds(followed(settings))


def test_the_reader_shows_a_fetched_pages_url_as_a_link(make_settings, site):
    settings = make_settings(fetch_timeout=2)
    engine = engine_for(settings)
    url = site.base + "/news/harbour-reopens.html"
    add_url(settings, url, engine.ensure_index)
    answer = engine.ask(HARBOUR_QUESTION)
    citation = next(c for c in answer.citations if c.url == url)
    record = engine.store.manifest.articles[citation.source]
    shown = render_reader(settings, record, citation.source, citation.start, citation.end,
                          quote_digest(citation.quote), engine.store)
    assert f'<a class="nd-url" href="{url}" target="_blank"' in shown
    assert f'<mark id="nd-mark">{citation.quote}</mark>' in shown


def test_followed_feeds_are_refreshed_every_interval_while_the_page_runs(make_settings, site):
    settings = make_settings(fetch_timeout=2, feed_interval=0.02)  # 1.2 s
    engine = engine_for(settings)
    add_url(settings, site.base + "/atom.xml", engine.ensure_index)
    site.set_page("/atom.xml", site.pages["/atom.xml"][1].decode().replace(
        "</feed>", f'<entry><title>Port reopens</title><link href="{site.base}/news/harbour-reopens.html"/>'
        "<id>urn:port</id><updated>2025-12-09T08:00:00Z</updated></entry></feed>"),
        "application/atom+xml")
    refresher = FeedRefresher(settings, engine.ensure_index).start()
    try:
        deadline = time.monotonic() + 60
        while refresher.last_summary is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        refresher.stopped.set()
    assert refresher.last_summary == {"feeds": 1, "new": 1, "updated": 0, "failed": 0, "errors": []}
    assert len(followed(settings)[0].items) == 2
    off = FeedRefresher(make_settings(feed_interval=0), engine.ensure_index).start()
    time.sleep(0.3)
    assert off.runs == 0
