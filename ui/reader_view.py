"""The reader panel: a citation's article, escaped, with the quoted passage highlighted at its
exact offsets, and the article's web address as a link where it has one.
"""

from __future__ import annotations

import html
import logging

from index.articles import ArticleError
from index.build import article_text, has_article_file
from index.settings import Settings
from index.store import ArticleRecord, PassageStore
from ui.html_text import _notice, _origin, _text, quote_digest

# Longer articles are shown around the quoted passage only: the reader panel stays light.
READER_WINDOW_CHARS = 60_000
log = logging.getLogger(__name__)


def render_reader(settings: Settings, record: ArticleRecord | None, source: str, start: int,
                  end: int, digest: str, store: PassageStore | None = None) -> str:
    """The article of a citation, escaped, with [start:end] in a <mark> (exact offsets).

    `digest` is the quoted passage's `quote_digest`: an article changed since the answer is not
    highlighted at offsets that now mean something else.
    """
    if record is None:
        return _notice(f"{source} is not an indexed article (deleted since?).")
    try:
        text = article_text(source, settings, store)
        from_passages = not has_article_file(settings, source)
    except (ArticleError, OSError) as error:
        return _notice(f"{source} cannot be read: {error}")
    except Exception as error:  # a shared Chroma server that does not answer: a sentence, no trace
        log.exception("the article %s could not be read from the store", source)
        return _notice(f"{source} cannot be read from the shared collection: {error}")
    if not 0 <= start < end <= len(text) or quote_digest(text[start:end]) != digest:
        return _notice(f"{record.title} has changed since this answer: ask again.")
    first, last = 0, len(text)
    if len(text) > 2 * READER_WINDOW_CHARS:
        first, last = max(0, start - READER_WINDOW_CHARS), min(len(text), end + READER_WINDOW_CHARS)
    origin = _origin(record.outlet, record.published)
    shared = ('<p class="nd-hint">This article was indexed by another newsdesk sharing the Chroma '
              "collection: only its indexed sentences are shown.</p>") if from_passages else ""
    return (
        f'<div class="nd-reader-head"><p><strong>{_text(record.title)}</strong>'
        f'{f" ({_text(origin)})" if origin else ""}<br>'
        f'<span class="nd-source">{_text(source)}</span>{_web_link(record.url)}</p>{shared}</div>'
        f'<div class="nd-article" tabindex="-1" role="document" aria-label="{html.escape(record.title)}">'
        f"{'… ' if first else ''}{html.escape(text[first:start])}"
        f'<mark id="nd-mark">{html.escape(text[start:end])}</mark>'
        f"{html.escape(text[end:last])}{' …' if last < len(text) else ''}</div>"
    )


def _web_link(url: str | None) -> str:
    """The article's address, opened in a new tab (never in the page: it would leave newsdesk)."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return ""
    return (f'<br><a class="nd-url" href="{html.escape(url, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer nofollow">{html.escape(url)}</a>')
