"""Reading articles from disk: their text, title, outlet and date, and what is not the story.

An article's text is what every offset in newsdesk indexes: for UTF-8 `.txt`/`.md` files the file
itself, for HTML (or another encoding) the text extracted here, which `article_text()` returns.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm")


class ArticleError(ValueError):
    """An article newsdesk refuses to index; the message says why, for the user."""


@dataclass(frozen=True)
class Article:
    """One article as newsdesk indexes it."""

    source: str  # its id: the path relative to the folder it was found in (".uploads/x.txt" for uploads)
    path: Path
    text: str  # what offsets index
    title: str
    outlet: str | None = None
    published: str | None = None  # ISO date (YYYY-MM-DD) when the article gives one
    content_hash: str = ""
    skipped_spans: tuple[tuple[int, int], ...] = field(default=())  # page furniture, not the story


# Lines that are page furniture rather than the story: comment forms, navigation, teasers.
_FURNITURE_LINE = re.compile(
    r"""^\s*(?:
        leave\ a\ (?:comment|reply)
      | your\ email\ address\ will\ not\ be\ published.*
      | required\ fields\ are\ marked.*
      | scroll\ to\ (?:top|bottom)
      | (?:read|read\ also|read\ more|also\ read|see\ also|related|recommended)\s*:.*
      | (?:share|share\ this(?:\ article)?|advertisement|subscribe(?:\ now)?|sign\ up.*newsletter.*)
      | (?:follow\ us|comments?)(?:\ on\ .*)?
      | (?:posted|filed)\ (?:in|under)\s*:.*
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE_IN_TEXT = re.compile(rf"\b({_MONTHS})\.?\s+(\d{{1,2}}),\s+(\d{{4}})\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_NUMBER = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_article_files(folder: Path) -> list[Path]:
    """Article files under `folder`, sorted, skipping hidden files and folders."""
    return [path for _, path in find_articles(folder)]


def find_articles(folder: Path) -> list[tuple[str, Path]]:
    """(path relative to `folder` with '/', path) of each article file under it, sorted by path."""
    if not folder.is_dir():
        return []
    found: list[tuple[str, Path]] = []
    resolved_folder: Path | None = None

    def walk(directory: str, relative: str) -> None:
        nonlocal resolved_folder
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:  # a folder that vanished or cannot be read holds no articles
            return
        # Directory entries know their type from the listing: no stat per file, which made a
        # scan of 10,000 articles (done before every question) take half a second.
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, f"{relative}{entry.name}/")
            elif entry.name.lower().endswith(ARTICLE_SUFFIXES) and entry.is_file():
                path = Path(entry.path)
                if entry.is_symlink():
                    # A link out of the folder is not an article of it (and could expose other files).
                    resolved_folder = resolved_folder or folder.resolve()
                    if resolved_folder not in path.resolve().parents:
                        continue
                found.append((relative + entry.name, path))

    walk(str(folder), "")
    return found


def check_size(path: Path, source: str, max_bytes: int) -> int:
    """The file's size; ArticleError when it is over the limit. Asks the file system only: an
    oversized file is refused without reading a byte of it."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ArticleError(
            f"{source}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.1f} MB limit "
            "(NEWSDESK_MAX_ARTICLE_BYTES)"
        )
    return size


def read_article(path: Path, source: str, max_bytes: int) -> Article:
    """Read one article file; raise `ArticleError` with the reason when it cannot be indexed."""
    check_size(path, source, max_bytes)
    data = path.read_bytes()
    if not data.strip():
        raise ArticleError(f"{source}: the file is empty")
    is_html = path.suffix.lower() in (".html", ".htm")
    text = _decode(data, source)
    if is_html:
        text, meta = _extract_html(text, source)
    else:
        meta = {}
    if not text.strip():
        raise ArticleError(f"{source}: no article text found")
    skipped = tuple(_furniture_spans(text))
    title = meta.get("title") or _title_from_text(text, skipped)
    published = meta.get("date") or _date_from_text(text)
    return Article(
        source=source,
        path=path,
        text=text,
        title=title,
        outlet=meta.get("outlet"),
        published=published,
        content_hash=content_hash(data),
        skipped_spans=skipped,
    )


def _decode(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if b"\x00" in data[:8192]:
        text = _utf16_without_bom(data)
        if text is None:
            raise ArticleError(f"{source}: looks like a binary file, not an article")
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Old newsroom exports are often Windows-1252; it decodes any byte sequence it accepts.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a byte-order mark (some Windows exports), else None.

    Text in Latin script has a zero byte in every other position; a binary file does not.
    """
    head = data[:8192]
    even, odd = head[0::2], head[1::2]
    for zeros, others, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if len(data) % 2 == 0 and zeros.count(0) > 0.4 * len(zeros) and 0 not in others:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _extract_html(html: str, source: str) -> tuple[str, dict[str, str]]:
    import trafilatura  # imported here: it is only needed for HTML articles

    document = trafilatura.bare_extraction(
        html,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        favor_precision=True,
    )
    if document is None:
        raise ArticleError(f"{source}: no article text found in the HTML")
    text = (document.text or "").strip() + "\n"
    meta = {
        "title": (document.title or "").strip(),
        "outlet": (document.sitename or "").strip(),
        "date": (document.date or "").strip()[:10],
    }
    return text, {key: value for key, value in meta.items() if value}


def _furniture_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip() and _FURNITURE_LINE.match(line.rstrip("\r\n")):
            spans.append((offset, offset + len(line.rstrip("\r\n"))))
        offset += len(line)
    return spans


def _title_from_text(text: str, skipped: tuple[tuple[int, int], ...]) -> str:
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        start = offset
        offset += len(line)
        if not stripped or any(a <= start < b for a, b in skipped):
            continue
        stripped = stripped.lstrip("#").strip()
        # A headline: short and not a sentence of the body.
        if len(stripped) <= 120 and not stripped.endswith((".", ":", ";", ",")):
            return stripped
        first_sentence = re.split(r"(?<=[.!?])\s", stripped, maxsplit=1)[0]
        return first_sentence if len(first_sentence) <= 80 else first_sentence[:79].rstrip() + "…"
    return "Untitled"


def _date_from_text(text: str) -> str | None:
    head = text[:4000]
    match = _DATE_IN_TEXT.search(head)
    if match:
        month = _MONTH_NUMBER[match.group(1).lower()]
        return f"{int(match.group(3)):04d}-{month:02d}-{int(match.group(2)):02d}"
    match = _ISO_DATE.search(head)
    if match:
        return match.group(0)
    return None
