"""HTML pieces the page's views share: article and model text escaped, and the links that open
a citation's article in the reader panel at its exact offsets.
"""

from __future__ import annotations

import hashlib
import html
import re
from urllib.parse import quote

from index.store import StoredPassage
from qa.answer import Citation

_MARKER = re.compile(r"\[(\d+)\]")


def _text(text: str) -> str:
    """Article or model text as HTML text: nothing in it becomes markup."""
    return html.escape(text).replace("\n", "<br>")


def _user_text(text: str) -> str:
    # A question is shown as typed: no HTML and no markdown from it (an image could fetch a URL).
    escaped = html.escape(text, quote=False)
    for char in "\\`*_[]#|~!<>()":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def quote_digest(text: str) -> str:
    """A short fingerprint of a quoted passage: the reader checks the article still says it."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _link(label: str, source: str, start: int, end: int, quoted: str, title: str) -> str:
    """A link that opens article `source` in the reader with [start:end] (`quoted`) highlighted.

    The place travels in the link's fragment: the chat's HTML sanitiser keeps href and class but
    drops data- attributes. A real link is focusable and opens with Enter.
    """
    href = f"#nd-cite/{int(start)}/{int(end)}/{quote_digest(quoted)}/{quote(source, safe='')}"
    kind = "nd-cite nd-marker" if _MARKER.fullmatch(label) else "nd-cite"
    return (f'<a href="{html.escape(href)}" class="{kind}" '
            f'title="{html.escape(f"Read in: {title}")}">{html.escape(label)}</a>')


def marker_link(citation: Citation) -> str:
    """Marker [n] of an answer, as the link to its quoted passage."""
    c = citation
    return _link(f"[{c.number}]", c.source, c.start, c.end, c.quote,
                 f"{c.title} ({citation_origin(c)})")


def citation_origin(citation: Citation) -> str:
    """"Arab News, 2025-12-19": the outlet and date shown with every citation."""
    return f"{citation.outlet or 'outlet unknown'}, {citation.published or 'undated'}"


def passage_link(passage: StoredPassage) -> str:
    p = passage
    return _link(p.title, p.source, p.start, p.end, p.text, p.title)


def _origin(outlet: str | None, published: str | None) -> str:
    return ", ".join(x for x in (outlet, published) if x)


def _notice(text: str) -> str:
    return f'<p class="nd-notice">{_text(text)}</p>'
