"""Followed RSS and Atom feeds: the list (NEWSDESK_DATA_DIR/feeds.json), and refreshing it, which
fetches the pages of entries not seen before (or updated since) and indexes them.

Feeds are read by feedparser; their pages go through index/web.py like any page a user adds.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from index.articles import ArticleError
from index.fetch import Fetched, FetchError, fetch_all, normalize_url
from index.settings import Settings
from index.web import IndexRun, PageResult, WebReport, finish, store_fetched

# Entries read from one feed at each refresh, in the feed's order (newest first, as feeds list them).
MAX_ENTRIES = 50
_lock = threading.Lock()  # one writer of the feed list per process; a file lock across processes


@dataclass
class Feed:
    """A followed feed and what newsdesk knows of it."""

    url: str
    title: str = ""
    followed: str = ""  # ISO time
    last_fetched: str | None = None  # ISO time of the last refresh that reached it
    last_error: str | None = None
    # entry link -> {"source": article id, "stamp": the entry's updated/published text}
    items: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class FeedReport:
    """What following or refreshing did; `summary()` is what `refresh --json` prints."""

    feeds: int = 0
    pages: WebReport = field(default_factory=WebReport)
    feed_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.feed_errors + [page.error or "" for page in self.pages.pages if page.outcome == "failed"]

    def summary(self) -> dict:
        return {"feeds": self.feeds, "new": self.pages.count("new"),
                "updated": self.pages.count("updated"), "failed": len(self.errors),
                "errors": self.errors}


@dataclass(frozen=True)
class Entry:
    link: str
    title: str
    published: str | None  # YYYY-MM-DD
    stamp: str


def followed(settings: Settings) -> list[Feed]:
    """The followed feeds, in the order they were followed."""
    return list(_load(settings).values())


def follow(settings: Settings, url: str, index: IndexRun,
           fetched: Fetched | None = None) -> FeedReport:
    """Remember a feed and fetch its entries now. A URL that is not a feed is not remembered.

    `fetched`: the feed's body when the caller already has it (the page's URL field)."""
    report = FeedReport()
    try:
        url = normalize_url(url)
    except FetchError as error:
        report.feed_errors.append(str(error))
        report.feeds = len(followed(settings))
        return report
    answer: Fetched | FetchError = fetched or fetch_all(settings, [url], "feed")[0]
    if isinstance(answer, FetchError):
        report.feed_errors.append(str(answer))
    else:
        try:
            parse_feed(answer)
        except FetchError as error:
            report.feed_errors.append(str(error))
    if report.feed_errors:
        report.feeds = len(followed(settings))
        return report
    with _feed_list(settings) as feeds:
        feeds.setdefault(url, Feed(url=url, followed=_now()))
    return _refresh(settings, [url], index, {url: answer})  # type: ignore[dict-item]


def unfollow(settings: Settings, url: str) -> bool:
    """Forget a feed (its pages stay indexed); False when it was not followed."""
    key = normalize_url(url)
    with _feed_list(settings) as feeds:
        return feeds.pop(key, None) is not None


def refresh(settings: Settings, index: IndexRun) -> FeedReport:
    """Fetch what is new in every followed feed and index it."""
    return _refresh(settings, [feed.url for feed in followed(settings)], index, {})


def parse_feed(fetched: Fetched) -> tuple[str, list[Entry]]:
    """(the feed's title, its entries with a link); FetchError when it is not an RSS or Atom feed."""
    import feedparser

    parsed = feedparser.parse(fetched.body, response_headers={"content-location": fetched.url})
    if not parsed.get("version") or (parsed.get("bozo") and not parsed.entries):
        why = parsed.get("bozo_exception")
        raise FetchError(f"{fetched.requested}: not an RSS or Atom feed"
                         + (f" ({str(why).splitlines()[0][:120]})" if why else ""))
    entries = []
    for item in parsed.entries[:MAX_ENTRIES]:
        link = item.get("link") or ""
        try:
            link = normalize_url(link)
        except FetchError:  # an entry without a web page (or with a mailto: link)
            continue
        # dict.get: feedparser's own get() maps "updated" to "published", with a warning.
        when = dict.get(item, "published_parsed") or dict.get(item, "updated_parsed")
        entries.append(Entry(link=link, title=" ".join(str(item.get("title") or "").split()),
                             published=time.strftime("%Y-%m-%d", when) if when else None,
                             stamp=str(dict.get(item, "updated") or dict.get(item, "published") or "")))
    return " ".join(str(parsed.feed.get("title") or "").split()), entries


def _refresh(settings: Settings, urls: list[str], index: IndexRun,
             prefetched: dict[str, Fetched]) -> FeedReport:
    missing = [url for url in urls if url not in prefetched]
    answers = dict(prefetched) | dict(zip(missing, fetch_all(settings, missing, "feed")))
    known = _load(settings)
    report = FeedReport()
    errors: dict[str, str | None] = {}
    titles: dict[str, str] = {}
    wanted: dict[str, tuple[str, Entry]] = {}  # link -> (feed, entry), each link once
    for url in urls:
        answer = answers[url]
        try:
            if isinstance(answer, FetchError):
                raise answer
            titles[url], entries = parse_feed(answer)
        except FetchError as error:
            errors[url] = str(error)
            report.feed_errors.append(str(error))
            continue
        items = known[url].items if url in known else {}
        for entry in entries:
            seen = items.get(entry.link)
            if seen and seen.get("stamp") == entry.stamp and _still_stored(settings, seen):
                continue
            wanted.setdefault(entry.link, (url, entry))
    links = list(wanted)
    for link, fetched in zip(links, fetch_all(settings, links, "page")):
        feed, entry = wanted[link]
        hint = {"title": entry.title, "published": entry.published, "outlet": titles.get(feed)}
        report.pages.pages.append(store_fetched(settings, link, fetched, hint))
    finish(settings, report.pages, index)
    _record(settings, urls, errors, titles, wanted, report.pages.pages)
    report.feeds = len(followed(settings))
    return report


def _record(settings: Settings, urls: list[str], errors: dict[str, str | None], titles: dict[str, str],
            wanted: dict[str, tuple[str, Entry]], pages: list[PageResult]) -> None:
    """Write what this refresh learnt into the feed list (read again: another process may have
    followed or unfollowed a feed meanwhile)."""
    failed: dict[str, list[str]] = {}
    with _feed_list(settings) as feeds:
        for page in pages:
            feed_url, entry = wanted[page.url]
            if feed_url not in feeds:
                continue
            if page.outcome == "failed":
                failed.setdefault(feed_url, []).append(page.error or page.url)
            else:
                feeds[feed_url].items[page.url] = {"source": page.source or "", "stamp": entry.stamp}
        for url in urls:
            if url not in feeds:
                continue
            feed = feeds[url]
            feed.title = titles.get(url) or feed.title
            if url in errors:
                feed.last_error = errors[url]
                continue
            feed.last_fetched = _now()
            problems = failed.get(url, [])
            feed.last_error = (f"{len(problems)} page{'s' if len(problems) != 1 else ''} not added: "
                               + "; ".join(problems[:3])) if problems else None


def _still_stored(settings: Settings, item: dict[str, str]) -> bool:
    from index.build import WEB_PREFIX

    source = item.get("source") or ""
    return source.startswith(WEB_PREFIX) and (settings.web_dir / source[len(WEB_PREFIX):]).is_file()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _load(settings: Settings) -> dict[str, Feed]:
    try:
        raw = json.loads(settings.feeds_file.read_text(encoding="utf-8"))
        return {url: Feed(**{k: v for k, v in value.items() if k in Feed.__dataclass_fields__})
                for url, value in raw.get("feeds", {}).items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise ArticleError(f"{settings.feeds_file} cannot be read ({error}): fix or delete it") from None


@contextmanager
def _feed_list(settings: Settings) -> Iterator[dict[str, Feed]]:
    """The feed list, locked for reading and writing; saved whole (temporary file, rename)."""
    import fcntl

    path = settings.feeds_file
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = open(path.with_suffix(".lock"), "w")
    except OSError as error:
        raise ArticleError(f"cannot write in {path.parent} ({error.strerror or error})") from None
    with _lock, lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        feeds = _load(settings)
        yield feeds
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"version": 1, "feeds": {u: asdict(f) for u, f in feeds.items()}},
                                        ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, path)



def add_or_follow(settings: Settings, url: str, index: IndexRun) -> tuple[bool, FeedReport]:
    """What the page's URL field does: follow `url` when it is a feed, else add it as a page.

    (whether it was a feed, the report)."""
    report = FeedReport()
    answer = fetch_all(settings, [url], "any")[0]
    if not isinstance(answer, FetchError) and answer.looks_like_feed:
        return True, follow(settings, url, index, fetched=answer)
    report.pages.pages.append(store_fetched(settings, url, answer))
    finish(settings, report.pages, index)
    report.feeds = len(followed(settings))
    return False, report
