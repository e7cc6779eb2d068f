"""The page's part of news from the web: a field for a URL (an article or a feed) in the Articles
tab, the followed feeds with their errors, and their refresh every NEWSDESK_FEED_INTERVAL minutes.

It only presents: fetching, the feed list and indexing are index/feeds.py's and index/web.py's.
"""

from __future__ import annotations

import html
import logging
import threading

import gradio as gr

from index.feeds import Feed, add_or_follow, followed, refresh, unfollow
from index.settings import Settings

log = logging.getLogger(__name__)


def render_feeds(feeds: list[Feed]) -> str:
    """The followed feeds: title, address, items, when last fetched, the last error."""
    if not feeds:
        return ('<p class="nd-hint">No feeds followed yet: paste an RSS or Atom feed\'s address '
                "above.</p>")
    rows = []
    for feed in feeds:
        error = (f'<span class="nd-notice">{html.escape(feed.last_error)}</span>'
                 if feed.last_error else "")
        rows.append(f"<tr><td>{html.escape(feed.title or '')}<br><span class=\"nd-source\">"
                    f"{html.escape(feed.url)}</span></td><td class=\"nd-num\">{len(feed.items)}</td>"
                    f"<td>{html.escape(feed.last_fetched or 'never')}</td><td>{error}</td></tr>")
    head = ('<tr><th>Feed</th><th class="nd-num">Items</th><th>Last fetched (UTC)</th>'
            "<th>Last error</th></tr>")
    return (f'<div class="nd-table-box"><table class="nd-table" id="nd-feeds-table"><thead>{head}'
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>")


def feed_choices(settings: Settings) -> list[tuple[str, str]]:
    return [(feed.title or feed.url, feed.url) for feed in followed(settings)]


def add_url(settings: Settings, url: str | None, index) -> str:
    """The URL field's action: fetch the article or follow the feed, index it; a line for each
    thing that happened, never a stack trace."""
    url = (url or "").strip()
    if not url:
        return "Paste the address of an article or of an RSS or Atom feed."
    try:
        was_feed, report = add_or_follow(settings, url, index)
    except Exception as error:  # the reader sees a sentence, never a stack trace
        log.exception("the URL %s could not be added", url)
        return f"Not added: {html.escape(str(error))}"
    lines = [f"Following the feed `{html.escape(url)}`." if was_feed and not report.feed_errors else ""]
    for page in report.pages.pages:
        if page.outcome == "failed":
            continue
        a = page.article
        lines.append(f"{page.outcome.capitalize()}: {html.escape(a.title if a else page.url)} "
                     f"({html.escape(page.url)})")
    lines += [f"Not added: {html.escape(error)}" for error in report.errors]
    return "  \n".join(line for line in lines if line) or "Nothing new."


def remove_feed(settings: Settings, url: str | None) -> str:
    if not url:
        return "Choose a feed to unfollow."
    try:
        done = unfollow(settings, url)
    except Exception as error:  # a broken feed list: a sentence
        return f"Not unfollowed: {html.escape(str(error))}"
    return (f"Unfollowed `{html.escape(url)}`; its articles stay." if done
            else f"`{html.escape(url)}` was not followed.")


def web_section(settings: Settings) -> dict:
    """The Articles tab's web part; returns its components by name, for `build_page` to wire."""
    gr.Markdown("### Add from the web")
    with gr.Row(equal_height=True):
        url = gr.Textbox(placeholder="https://… an article, or an RSS or Atom feed to follow",
                         show_label=False, lines=1, max_lines=1, scale=4, elem_id="nd-url")
        go = gr.Button("Add", variant="primary", scale=1, elem_id="nd-url-go")
    result = gr.Markdown("", elem_id="nd-url-result")
    gr.Markdown("### Followed feeds")
    feeds = gr.HTML(render_feeds(followed(settings)), elem_id="nd-feeds", js_on_load=None)
    with gr.Row():
        choice = gr.Dropdown(label="Followed feed", choices=feed_choices(settings),
                             elem_id="nd-unfollow-choice", scale=3)
        drop = gr.Button("Unfollow", variant="stop", elem_id="nd-unfollow", scale=1)
    interval = settings.feed_interval
    gr.Markdown(f"Followed feeds are refreshed every {interval:g} minutes while the page runs."
                if interval else "Followed feeds are refreshed by `newsdesk refresh` "
                "(NEWSDESK_FEED_INTERVAL=0).", elem_classes="nd-hint")
    return {"url": url, "go": go, "result": result, "feeds": feeds, "choice": choice, "drop": drop}


def wire_web_section(settings: Settings, parts: dict, index, view_outputs: list, articles_view) -> None:
    """Connect the web part: adding indexes before the view is refreshed; the feed list follows."""
    def feeds_view():
        return render_feeds(followed(settings)), gr.update(choices=feed_choices(settings), value=None)

    def added(url: str):
        return (add_url(settings, url, index), "", *feeds_view(), *articles_view(None))

    def dropped(url: str):
        return (remove_feed(settings, url), *feeds_view())

    outputs = [parts["result"], parts["url"], parts["feeds"], parts["choice"], *view_outputs]
    for start in (parts["go"].click, parts["url"].submit):
        start(added, parts["url"], outputs, show_progress_on=parts["result"],
              concurrency_id="nd-index")
    parts["drop"].click(dropped, parts["choice"], [parts["result"], parts["feeds"], parts["choice"]])
    # The table shows what the background refresh did, without holding up anything else.
    gr.Timer(30).tick(lambda: render_feeds(followed(settings)), None, parts["feeds"],
                      show_progress="hidden", concurrency_id="nd-feeds-view")


class FeedRefresher:
    """Refreshes the followed feeds every `settings.feed_interval` minutes in a thread of its own:
    fetching never holds the index, and indexing hides only the articles being written."""

    def __init__(self, settings: Settings, index):
        self.settings, self.index = settings, index
        self.stopped = threading.Event()
        self.runs = 0
        self.last_summary: dict | None = None

    def start(self) -> FeedRefresher:
        if self.settings.feed_interval > 0:
            threading.Thread(target=self._loop, name="newsdesk-feeds", daemon=True).start()
        return self

    def _loop(self) -> None:
        while not self.stopped.wait(self.settings.feed_interval * 60):
            try:
                if followed(self.settings):
                    self.last_summary = refresh(self.settings, self.index).summary()
            except Exception:  # shown as each feed's last error where it is one; the page goes on
                log.exception("refreshing the feeds failed")
            self.runs += 1
