"""Reading articles from disk: their text, title, outlet and date, and what is not the story.

An article's text is what every offset in newsdesk indexes: for UTF-8 `.txt`/`.md` files the file
itself, for HTML (or another encoding) the text extracted here, which `article_text()` returns.
Title, outlet and date come from the most trusted place that gives them: a sidecar
`<article>.meta.json`, a front-matter block at the top of a text file, the HTML's metadata, then
the article's own byline, dateline or first full date; `Article.fields_from` says which.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from index.dates import find_dates, parse_date_value

ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm")
# A sidecar beside `story.txt`: `story.txt.meta.json` or `story.meta.json`.
SIDECAR_SUFFIX = ".meta.json"
MAX_SIDECAR_BYTES = 65_536
# How titles, outlets, dates and URLs are read. Raising it re-reads every article at the next
# indexing run (passages are re-embedded only where the text's sentences changed). 3: the URL.
METADATA_VERSION = 3


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
    skipped_spans: tuple[tuple[int, int], ...] = field(default=())  # page furniture, front-matter
    # Where each of title, outlet and published came from: "sidecar", "front-matter", "html",
    # "feed" (a fetched page's feed entry), "byline", "dateline" or "text".
    fields_from: dict[str, str] = field(default_factory=dict)
    metadata_hash: str = ""  # of the sidecar file; "" without one
    problems: tuple[str, ...] = ()  # metadata that was given but could not be used, and why
    url: str | None = None  # where the article is on the web: its sidecar's `url`, if any


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


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_article_files(folder: Path) -> list[Path]:
    """Article files under `folder`, sorted, skipping hidden files and folders."""
    return [path for _, path in find_articles(folder)]


def find_articles(folder: Path) -> list[tuple[str, Path]]:
    """(path relative to `folder` with '/', path) of each article file under it, sorted by path."""
    return find_articles_and_sidecars(folder)[0]


def find_articles_and_sidecars(folder: Path) -> tuple[list[tuple[str, Path]], dict[str, Path]]:
    """`find_articles(folder)`, and the sidecar of each article that has one, by relative path.

    One walk of the folder finds both: the scan runs before every question.
    """
    if not folder.is_dir():
        return [], {}
    found: list[tuple[str, Path]] = []
    sidecars: dict[str, Path] = {}
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
        metadata = {entry.name: entry for entry in entries if entry.name.endswith(SIDECAR_SUFFIX)}
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
                if metadata:
                    stem = entry.name.rsplit(".", 1)[0]
                    for name in (entry.name + SIDECAR_SUFFIX, stem + SIDECAR_SUFFIX):
                        if name in metadata and metadata[name].is_file(follow_symlinks=False):
                            sidecars[relative + entry.name] = Path(metadata[name].path)
                            break

    walk(str(folder), "")
    return found, sidecars


def sidecar_of(path: Path) -> Path | None:
    """The sidecar file of the article at `path`, if it has one."""
    for name in (path.name + SIDECAR_SUFFIX, path.name.rsplit(".", 1)[0] + SIDECAR_SUFFIX):
        candidate = path.with_name(name)
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


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


def read_article(path: Path, source: str, max_bytes: int, sidecar: Path | None = None) -> Article:
    """Read one article file; raise `ArticleError` with the reason when it cannot be indexed.

    `sidecar` is its `.meta.json` file, if it has one (`find_articles_and_sidecars`, `sidecar_of`).
    """
    check_size(path, source, max_bytes)
    data = path.read_bytes()
    if not data.strip():
        raise ArticleError(f"{source}: the file is empty")
    is_html = path.suffix.lower() in (".html", ".htm")
    text = _decode(data, source)
    problems: list[str] = []
    # Each field's candidates, most trusted first: (value, where it came from).
    candidates: dict[str, list[tuple[object, str]]] = {"title": [], "outlet": [], "published": []}
    sidecar_hash, url, given = "", None, {}
    if sidecar is not None:
        sidecar_hash, given = _read_sidecar(sidecar, source, problems)
        _add(candidates, given, "sidecar")
        url = _sidecar_url(given, source, problems)
    skipped: list[tuple[int, int]] = []
    if is_html:
        text, meta = _extract_html(text, source)
    else:
        front_matter, meta = _front_matter(text)
        if front_matter is not None:
            skipped.append(front_matter)
            _add(candidates, meta, "front-matter")
            meta = {}
    if not text.strip():
        raise ArticleError(f"{source}: no article text found")
    if is_html:
        _add(candidates, meta, "html")
    if sidecar is not None and isinstance(given.get("feed"), dict):
        # A fetched page's feed entry: its title and date where the page gives none.
        _add(candidates, given["feed"], "feed")
    skipped += _furniture_spans(text)
    skipped.sort()
    found, byline_spans = _fields_from_text(text, skipped)
    for name, value, origin in found:
        candidates[name].append((value, origin))
    # Byline, date and copyright lines are about the article, not the story: never passages.
    skipped = sorted(skipped + byline_spans)
    candidates["title"].append((_title_from_text(text, tuple(skipped)), "text"))

    fields: dict[str, str] = {}
    fields_from: dict[str, str] = {}
    for name, values in candidates.items():
        for value, origin in values:
            usable = _usable(name, value, origin, source, problems)
            if usable:
                fields[name], fields_from[name] = usable, origin
                break
    return Article(
        source=source,
        path=path,
        text=text,
        title=fields["title"],
        outlet=fields.get("outlet"),
        published=fields.get("published"),
        content_hash=content_hash(data),
        skipped_spans=tuple(skipped),
        fields_from=fields_from,
        metadata_hash=sidecar_hash,
        problems=tuple(problems),
        url=url,
    )


# Names a sidecar or front-matter may give each field under (compared in lower case).
_FIELD_KEYS = {
    "title": ("title", "headline"),
    "outlet": ("outlet", "publisher", "source", "site", "site_name", "sitename", "publication",
               "newspaper"),
    "published": ("published", "date", "published_at", "publication_date", "pubdate",
                  "datepublished", "date_published"),
}


def _add(candidates: dict[str, list[tuple[object, str]]], given: dict, origin: str) -> None:
    lowered = {str(key).strip().lower(): value for key, value in given.items()}
    for name, keys in _FIELD_KEYS.items():
        for key in keys:
            value = lowered.get(key)
            if isinstance(value, dict):  # JSON-LD style: "publisher": {"name": "Dawn"}
                value = value.get("name")
            if value not in (None, ""):
                candidates[name].append((value, origin))
                break


def _sidecar_url(given: dict, source: str, problems: list[str]) -> str | None:
    """The sidecar's `url` (or `link`) when it is an http(s) address; otherwise noted, not used."""
    lowered = {str(key).strip().lower(): value for key, value in given.items()}
    value = next((lowered[key] for key in ("url", "link") if lowered.get(key) not in (None, "")), None)
    if value is None:
        return None
    text = str(value).strip()
    parsed = urlsplit(text)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in text):
        problems.append(f"{source}: the sidecar's url {text[:60]!r} was not used (not an http(s) address)")
        return None
    return text


def _usable(name: str, value: object, origin: str, source: str, problems: list[str]) -> str | None:
    """The field's value as stored (dates as YYYY-MM-DD), or None when it cannot be used."""
    if name != "published":
        text = " ".join(str(value).split())
        return text[:200] or None
    try:
        return parse_date_value(value).isoformat()
    except ValueError as error:
        if origin in ("sidecar", "front-matter"):
            problems.append(f"{source}: the {origin}'s date {str(value)[:40]!r} was not used ({error})")
        return None


def sidecar_hash(path: Path) -> str:
    """What identifies a sidecar's content: its hash, or its size when it is too large to use."""
    try:
        size = path.stat().st_size
        return f"oversized:{size}" if size > MAX_SIDECAR_BYTES else content_hash(path.read_bytes())
    except OSError:
        return "unreadable"


def _read_sidecar(path: Path, source: str, problems: list[str]) -> tuple[str, dict]:
    """(`sidecar_hash`, its fields); a sidecar that cannot be used is noted, not fatal."""
    identity = sidecar_hash(path)
    if identity.startswith("oversized:"):
        problems.append(f"{source}: {path.name} is over {MAX_SIDECAR_BYTES // 1024} kB: ignored")
        return identity, {}
    try:
        data = path.read_bytes()
    except OSError as error:
        problems.append(f"{source}: {path.name} cannot be read ({error.strerror or error}): ignored")
        return "unreadable", {}
    try:
        given = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        problems.append(f"{source}: {path.name} is not valid JSON ({error}): ignored")
        return content_hash(data), {}
    if not isinstance(given, dict):
        problems.append(f"{source}: {path.name} should hold a JSON object: ignored")
        return content_hash(data), {}
    return content_hash(data), given


# A front-matter block: `---` on the first line, `key: value` lines, `---`.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<body>(?:.*\r?\n){0,60}?)---[ \t]*(?:\r?\n|\Z)")
_FRONT_MATTER_LINE = re.compile(r"^\s*(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*?)\s*$")


def _front_matter(text: str) -> tuple[tuple[int, int] | None, dict[str, str]]:
    """The span of a front-matter block at the top of `text` and its fields, or (None, {}).

    The block stays in the text, so offsets still index the file; its span is skipped like page
    furniture, so no passage or title comes from it.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, {}
    fields = {}
    for line in match.group("body").splitlines():
        found = _FRONT_MATTER_LINE.match(line)
        if found:
            fields[found.group("key")] = found.group("value").strip().strip("\"'")
    if not fields:  # a story that opens with a horizontal rule
        return None, {}
    return (0, match.end()), fields


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
        # The page's own metadata only: htmldate's extensive search reads a footer's
        # "Copyright 2024" as 2024-01-01. The text's dates are read afterwards, with less trust.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None:
        raise ArticleError(f"{source}: no article text found in the HTML")
    text = (document.text or "").strip() + "\n"
    meta = {
        "title": (document.title or "").strip(),
        "outlet": (document.sitename or "").strip() or _json_ld_publisher(html),
        "date": (document.date or "").strip()[:10],
    }
    return text, {key: value for key, value in meta.items() if value}


_JSON_LD = re.compile(r"<script[^>]+application/ld\+json[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def _json_ld_publisher(html: str) -> str:
    """The publisher's name in the page's JSON-LD (trafilatura reads the site name elsewhere)."""
    def publisher(node: object) -> str:
        if isinstance(node, list):
            return next((name for item in node if (name := publisher(item))), "")
        if not isinstance(node, dict):
            return ""
        value = node.get("publisher")
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            return value["name"].strip()
        if isinstance(value, str):
            return value.strip()
        return publisher(node.get("@graph", []))

    for block in _JSON_LD.findall(html):
        try:
            name = publisher(json.loads(block))
        except ValueError:
            continue
        if name:
            return name
    return ""


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


# Lines near the top that carry the date or the outlet ("Published: Dec. 19, 2025",
# "By Jane Doe | Dawn", "Source: Reuters"), datelines ("WASHINGTON, Dec 19, 2025 (Reuters) -") and
# copyright lines ("© 2025 Dawn Media Group.").
_DATE_LABEL = re.compile(r"^\s*(?P<label>first published|published|posted|last updated|updated|dated|date)"
                         r"\b\s*(?:on|at)?\s*[:|–—-]?\s*(?P<rest>.+)$", re.IGNORECASE)
_DATELINE = re.compile(r"^\s*[A-Z][A-Z.'’ -]{1,40}(?:,\s*[A-Z][A-Za-z.]+(?:\s[A-Z][A-Za-z.]+)?)?"
                       r"(?P<rest>[^()\n]{0,40}?)\s*(?:\((?P<agency>[A-Z][A-Za-z&. ]{1,30})\))?\s*[:–—-]\s")
_OUTLET_LABEL = re.compile(r"^\s*(?:source|outlet|publisher|published by|publication)\s*[:|]\s*"
                           r"(?P<outlet>[^|\n]{2,60}?)\s*$", re.IGNORECASE)
_BYLINE_OUTLET = re.compile(r"^\s*by\s+[^|\n]{2,60}?\s*\|\s*(?P<outlet>[^|\n]{2,60}?)\s*$",
                            re.IGNORECASE)
# "© Dawn", "Copyright 2025 Reuters", "(c) 2024-2025 Arab News": a word "copyright" alone does not
# make a notice ("Copyright cases rose..." is a story).
_COPYRIGHT = re.compile(r"^\s*(?:©\s*|(?i:copyright|\(c\))\s*(?:©\s*)?(?=(?:19|20)\d\d))"
                        r"(?:(?:19|20)\d\d(?:\s*[-–]\s*(?:19|20)\d\d)?\s*)?(?i:by\s+)?"
                        r"(?P<outlet>[A-Z][\w&’' -]{1,40}?)\s*(?:[.,;]|(?i:all rights reserved)|$)")
# The head of the article, where bylines, datelines and the article's own date are.
HEAD_CHARS = 1500
_ONLY_DATE_REST = re.compile(r"^[\s,|:–—-]*(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day[\s,]*)?"
                             r"(?:\d{1,2}[:.]\d\d\s*(?:am|pm)?\s*(?:[A-Z]{2,4}|UTC[+-]?\d*)?)?[\s,|.]*$",
                             re.IGNORECASE)


def _fields_from_text(
    text: str, skipped: list[tuple[int, int]]
) -> tuple[list[tuple[str, str, str]], list[tuple[int, int]]]:
    """(field, value, origin) found in the article's own text, the surest first; and the spans of
    the lines that are only a byline, a date or a copyright notice."""
    found: list[tuple[int, str, str, str]] = []  # (rank, field, value, origin)
    byline_spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        stripped = line.strip()
        if not stripped or any(a <= start < b for a, b in skipped):
            continue
        before = len(found)
        in_head = start < HEAD_CHARS
        if in_head:
            label = _DATE_LABEL.match(stripped)
            if label:
                # "Published: Dec. 3, 2025 10:42 GMT", not "Updated figures released on ... show".
                day = _only_a_date(label.group("rest"))
                if day:
                    updated = "updated" in label.group("label").lower()
                    found.append((3 if updated else 0, "published", day, "byline"))
            dateline = _DATELINE.match(stripped)
            if dateline:
                day = _first_full_date(dateline.group("rest"))
                if day:
                    found.append((1, "published", day, "dateline"))
                if dateline.group("agency"):
                    found.append((1, "outlet", dateline.group("agency").strip(), "dateline"))
            day = _only_a_date(stripped)
            if day and not label:
                found.append((2, "published", day, "byline"))
            byline = _BYLINE_OUTLET.match(stripped)
            if byline:
                found.append((0, "outlet", byline.group("outlet"), "byline"))
        labelled = _OUTLET_LABEL.match(stripped)
        if labelled:
            found.append((0, "outlet", labelled.group("outlet"), "byline"))
        copyright_line = _COPYRIGHT.match(stripped)
        if copyright_line:
            found.append((2, "outlet", copyright_line.group("outlet"), "text"))
        if len(found) > before and not any(origin == "dateline" for *_, origin in found[before:]):
            line_start = start + len(line) - len(line.lstrip())
            byline_spans.append((line_start, line_start + len(stripped)))
    first = _first_full_date(_blank_spans(text[:HEAD_CHARS], skipped + byline_spans))
    if first:
        found.append((4, "published", first, "text"))
    found.sort(key=lambda item: item[0])
    return [(name, value, origin) for _, name, value, origin in found], byline_spans


def _only_a_date(text: str) -> str | None:
    """YYYY-MM-DD when `text` is a date and nothing else (a weekday, a time, separators)."""
    dates = find_dates(text)
    if len(dates) != 1 or dates[0].precision != "day":
        return None
    rest = text[: dates[0].start] + " " + text[dates[0].end :]
    return dates[0].day.isoformat() if _ONLY_DATE_REST.match(rest) else None


def _first_full_date(text: str) -> str | None:
    """The first date in `text` that names its day, month and year, as YYYY-MM-DD."""
    for found in find_dates(text):
        if found.precision == "day":
            return found.day.isoformat()
    return None


def _blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the given spans blanked out (same length, so offsets hold)."""
    for a, b in spans:
        if a < len(text):
            text = text[:a] + " " * (min(b, len(text)) - a) + text[min(b, len(text)):]
    return text
