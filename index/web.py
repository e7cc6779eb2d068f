"""Pages from the web as articles: fetched, checked to be an article, and kept in
NEWSDESK_DATA_DIR/web/ with a sidecar holding their URL, which indexing reads as a third source.

A page is stored under a name made from its URL, so the same URL is never stored twice; a page
fetched again replaces its file only when its text or fields changed, so it is indexed again only then.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from index.articles import SIDECAR_SUFFIX, Article, ArticleError, read_article
from index.build import WEB_PREFIX, IndexReport
from index.fetch import Fetched, FetchError, fetch_all
from index.passages import split_passages
from index.settings import Settings

# A page with fewer words of text than this is a section front, a video or a paywall, not an article.
MIN_ARTICLE_WORDS = 40
MAX_SLUG_CHARS = 60

Outcome = Literal["new", "updated", "unchanged", "failed"]
IndexRun = Callable[[], IndexReport | None]


@dataclass
class PageResult:
    """What became of one URL."""

    url: str  # as the user or the feed gave it
    outcome: Outcome
    source: str | None = None  # its article id, once stored
    error: str | None = None
    article: Article | None = None

    def line(self) -> str:
        """One line for the user."""
        if self.outcome == "failed":
            return f"failed: {self.error}"
        a = self.article
        fields = ", ".join(x for x in ((a.outlet or "outlet unknown"), (a.published or "undated"))) if a else ""
        return f"{self.outcome}: {self.url} — {a.title if a else ''} ({fields})"


@dataclass
class WebReport:
    pages: list[PageResult] = field(default_factory=list)
    index: IndexReport | None = None

    def count(self, outcome: Outcome) -> int:
        return sum(page.outcome == outcome for page in self.pages)


def is_web(source: str) -> bool:
    """Whether article id `source` is a page fetched from the web."""
    return source.startswith(WEB_PREFIX)


def page_location(settings: Settings, url: str) -> tuple[str, Path]:
    """(article id, file) of the page at `url` (normalized): a folder per host, a name made of
    the path's last part and a hash of the whole URL. Nothing in a URL can lead outside web/."""
    parts = urlsplit(url)
    host = re.sub(r"[^a-z0-9.-]+", "_", parts.netloc.lower()).strip("._") or "host"
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    last = re.sub(r"\.(s?html?|php|aspx?|jsp)$", "", last, flags=re.IGNORECASE)
    slug = re.sub(r"[^a-z0-9]+", "-", last.lower()).strip("-")[:MAX_SLUG_CHARS].strip("-") or "page"
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    relative = f"{host}/{slug}-{digest}.html"
    return WEB_PREFIX + relative, settings.web_dir / host / f"{slug}-{digest}.html"


def add_pages(settings: Settings, urls: list[str], index: IndexRun) -> WebReport:
    """Fetch each URL, store those that are articles, index them; failures are reported, not raised."""
    report = WebReport()
    for url, fetched in zip(urls, fetch_all(settings, urls, "page")):
        report.pages.append(store_fetched(settings, url, fetched))
    finish(settings, report, index)
    return report


def store_fetched(settings: Settings, url: str, fetched: Fetched | FetchError,
                  feed_entry: dict | None = None) -> PageResult:
    """Keep a fetched page (or say why not): `feed_entry` gives the title, date and outlet that a
    feed says it has, used where the page itself gives none."""
    if isinstance(fetched, FetchError):
        return PageResult(url, "failed", error=str(fetched))
    if fetched.looks_like_feed:
        return PageResult(url, "failed", error=f"{url}: is a feed, not a page: follow it "
                          "(newsdesk follow URL)")
    try:
        return _store(settings, url, fetched, feed_entry)
    except ArticleError as error:
        return PageResult(url, "failed", error=str(error) if str(error).startswith(url)
                          else f"{url}: {error}")


def finish(settings: Settings, report: WebReport, index: IndexRun) -> None:
    """Index what was stored; a page indexing refuses is failed and not kept."""
    if not any(page.outcome in ("new", "updated") for page in report.pages):
        return
    report.index = index()
    refused = report.index.refused if report.index else {}
    for page in report.pages:
        if page.source in refused:
            page.outcome, page.error = "failed", f"{page.url}: {refused[page.source]}"
            remove_page(settings, page.source)  # type: ignore[arg-type]
    if any(page.outcome == "failed" and page.source for page in report.pages):
        index()


def remove_page(settings: Settings, source: str) -> None:
    """Delete a stored page and its sidecar; the next indexing run drops it."""
    path = settings.web_dir / source[len(WEB_PREFIX):]
    if settings.web_dir.resolve() not in path.resolve().parents:
        raise ArticleError(f"{source}: not a page of {settings.web_dir}")
    path.unlink(missing_ok=True)
    path.with_name(path.name + SIDECAR_SUFFIX).unlink(missing_ok=True)


def _store(settings: Settings, url: str, fetched: Fetched, feed_entry: dict | None) -> PageResult:
    source, path = page_location(settings, fetched.url)
    body = fetched.body
    if fetched.charset and fetched.charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        try:  # stored as UTF-8, which the article reader reads first
            body = body.decode(fetched.charset, errors="replace").encode("utf-8")
        except LookupError:  # a charset Python does not know: the reader guesses
            pass
    sidecar = {"url": fetched.url}
    if feed_entry:
        sidecar["feed"] = {key: value for key, value in feed_entry.items() if value}
    sidecar_bytes = json.dumps(sidecar, ensure_ascii=False, indent=1).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ArticleError(f"cannot create {path.parent} ({error.strerror or error})") from None
    # Hidden names while being checked and written: indexing skips them meanwhile.
    temporary_page = _temporary(path.parent, body)
    temporary_sidecar = temporary_page.with_name(temporary_page.name + SIDECAR_SUFFIX)
    try:
        temporary_sidecar.write_bytes(sidecar_bytes)
        article = read_article(temporary_page, source, settings.max_article_bytes, temporary_sidecar)
        words = len(article.text.split())
        if not split_passages(article) or words < MIN_ARTICLE_WORDS:
            raise FetchError(f"{url}: not an article (no story text found on the page, "
                             f"{words} words)")
        before = _read_stored(path, source, settings)
        article = _renamed(article, path)
        if before is not None and _same(before, article):
            return PageResult(url, "unchanged", source, article=before)
        sidecar_path = path.with_name(path.name + SIDECAR_SUFFIX)
        os.replace(temporary_sidecar, sidecar_path)
        os.replace(temporary_page, path)
        return PageResult(url, "new" if before is None else "updated", source, article=article)
    except OSError as error:
        raise ArticleError(f"cannot be stored in {path.parent} ({error.strerror or error})") from None
    finally:
        temporary_page.unlink(missing_ok=True)
        temporary_sidecar.unlink(missing_ok=True)


def _temporary(folder: Path, data: bytes) -> Path:
    handle, name = tempfile.mkstemp(dir=folder, prefix=".fetch-", suffix=".html")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    return Path(name)


def _read_stored(path: Path, source: str, settings: Settings) -> Article | None:
    if not path.is_file():
        return None
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    try:
        return read_article(path, source, settings.max_article_bytes, sidecar if sidecar.is_file() else None)
    except (ArticleError, OSError):  # a damaged copy: replaced by the new one
        return None


def _same(before: Article, after: Article) -> bool:
    return (before.text, before.title, before.outlet, before.published, before.url) == (
        after.text, after.title, after.outlet, after.published, after.url)


def _renamed(article: Article, path: Path) -> Article:
    from dataclasses import replace

    return replace(article, path=path)
