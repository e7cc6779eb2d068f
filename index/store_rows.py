"""What the passage store holds and how its rows are written and read: article records, the
manifest, stored passages, article filters, and their Chroma metadata.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from index.dates import day_number
from index.embedding import EMBEDDING_MODEL_ID

MANIFEST_VERSION = 1
log = logging.getLogger("index.store")


class StoreError(RuntimeError):
    """The store cannot be read or written; the message says what to do."""


@dataclass
class ArticleRecord:
    """What the manifest knows of one indexed article."""

    source: str
    path: str
    content_hash: str
    title: str
    outlet: str | None
    published: str | None
    size: int
    passages: int
    metadata_hash: str = ""  # of the article's sidecar file, "" without one
    metadata_version: int = 1  # index.articles.METADATA_VERSION when the article was read
    fields_from: dict[str, str] = field(default_factory=dict)  # field -> where it was read
    # Found in a shared collection, indexed by another newsdesk, and not (yet) in this one's
    # folders: answered from, never deleted for being absent here.
    adopted: bool = False
    url: str | None = None  # where the article is on the web (a fetched page, a sidecar's url)


@dataclass(frozen=True)
class PassageFilter:
    """Which articles a search may draw on: published from `since` to `until` (both included),
    from one of `outlets` (exact stored names). An article without a date is left out by any
    date bound, one without an outlet by any outlet list."""

    since: date | None = None
    until: date | None = None
    outlets: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.outlets)

    def allows(self, outlet: str | None, published: str | None) -> bool:
        day = day_number(published)
        if (self.since or self.until) and not day:
            return False
        if self.since and day < day_number(self.since):
            return False
        if self.until and day > day_number(self.until):
            return False
        return not self.outlets or (outlet or "") in self.outlets

    def where(self) -> dict | None:
        """The filter as a Chroma `where` clause (None: no filter)."""
        clauses: list[dict] = []
        if self.since or self.until:
            # Undated passages have day 0, below any real day.
            clauses.append({"published_day": {"$gte": day_number(self.since) if self.since else 1}})
        if self.until:
            clauses.append({"published_day": {"$lte": day_number(self.until)}})
        if self.outlets:
            clauses.append({"outlet": {"$in": list(self.outlets)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def describe(self) -> str:
        """"published 2025-12-01 to 2025-12-19, from Dawn or Arab News"."""
        parts = []
        if self.since and self.until:
            parts.append(f"published {self.since.isoformat()} to {self.until.isoformat()}")
        elif self.since:
            parts.append(f"published since {self.since.isoformat()}")
        elif self.until:
            parts.append(f"published until {self.until.isoformat()}")
        if self.outlets:
            names = list(self.outlets)
            parts.append("from " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]))
        return ", ".join(parts)


@dataclass
class Manifest:
    embedding_model: str = EMBEDDING_MODEL_ID
    version: int = MANIFEST_VERSION
    keyword_index_stale: bool = False
    # The Chroma collection (its id) this manifest describes; "" in manifests of before it was kept.
    collection_id: str = ""
    articles: dict[str, ArticleRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        if not path.exists():
            return cls(embedding_model="")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            known = {item.name for item in fields(ArticleRecord)}
            articles = {k: ArticleRecord(**{f: x for f, x in v.items() if f in known})
                        for k, v in raw.get("articles", {}).items()}
            return cls(
                embedding_model=raw.get("embedding_model", ""),
                version=raw.get("version", 0),
                keyword_index_stale=raw.get("keyword_index_stale", True),
                collection_id=raw.get("collection_id", ""),
                articles=articles,
            )
        except (ValueError, TypeError) as error:
            log.warning("manifest %s is unreadable (%s): rebuilding the index", path, error)
            return cls(embedding_model="")

    def save(self, path: Path) -> None:
        # Written to a temporary file and renamed, so a crash never leaves half a manifest.
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        # Records are flat: no deep copy (asdict took 0.2 s at 10,000 articles, at every save).
        payload = {item.name: getattr(self, item.name) for item in fields(self)}
        payload["articles"] = {source: vars(record) for source, record in self.articles.items()}
        temporary.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, path)


@dataclass(frozen=True)
class StoredPassage:
    """A passage as the store returns it, with its article's fields and a retrieval score."""

    passage_id: str
    source: str
    ordinal: int
    start: int
    end: int
    text: str
    title: str
    outlet: str | None
    published: str | None
    score: float = 0.0
    url: str | None = None  # its article's URL, if it has one


def passage_metadata(row: StoredPassage) -> dict[str, str | int]:
    # Chroma metadata values must be str/int/float: a missing outlet or date is "" (day 0). Every
    # key is always written, so that an update (which merges) leaves no stale value behind.
    return {
        "source": row.source,
        "ordinal": row.ordinal,
        "start": row.start,
        "end": row.end,
        "title": row.title,
        "outlet": row.outlet or "",
        "published": row.published or "",
        "published_day": day_number(row.published),
        "url": row.url or "",
    }


def record_metadata(record: ArticleRecord) -> dict[str, str | int]:
    # What another newsdesk needs to adopt the article (ArticleRecord, less this host's path).
    return {
        "content_hash": record.content_hash,
        "metadata_hash": record.metadata_hash,
        "metadata_version": record.metadata_version,
        "title": record.title,
        "outlet": record.outlet or "",
        "published": record.published or "",
        "size": record.size,
        "passages": record.passages,
        "fields_from": json.dumps(record.fields_from, ensure_ascii=False),
        "url": record.url or "",
    }


def record_from_metadata(source: str, meta: dict) -> ArticleRecord:
    return ArticleRecord(
        source=source,
        path="",
        content_hash=str(meta["content_hash"]),
        title=str(meta.get("title", "")),
        outlet=meta.get("outlet") or None,
        published=meta.get("published") or None,
        size=int(meta.get("size") or 0),
        passages=int(meta.get("passages") or 0),
        metadata_hash=str(meta.get("metadata_hash") or ""),
        metadata_version=int(meta.get("metadata_version") or 0),
        fields_from=json.loads(str(meta.get("fields_from") or "{}")),
        adopted=True,
        url=str(meta.get("url") or "") or None,
    )


def collection_pages(collection, *include: str, page: int = 5000) -> Iterator[dict]:
    """Every row of a collection, with its ids and `include` ("metadatas", ...), a page at a time."""
    offset = 0
    while True:
        batch = collection.get(include=list(include), limit=page, offset=offset)
        yield batch
        if len(batch["ids"]) < page:
            return
        offset += page


def rows_of_articles(collection, sources: list[str], *include: str, group: int = 500,
                 page: int = 5000) -> Iterator[dict]:
    """The rows of these articles, with their ids and `include`, a group of articles and a page
    of rows at a time: one read of 500 long articles' 58,000 rows passes SQLite's limit of
    variables in a statement ("too many SQL variables")."""
    for first in range(0, len(sources), group):
        some = sources[first : first + group]
        where = {"source": some[0]} if len(some) == 1 else {"source": {"$in": some}}
        offset = 0
        while True:
            batch = collection.get(where=where, include=list(include),  # type: ignore[arg-type]
                                   limit=page, offset=offset)
            yield batch
            if len(batch["ids"]) < page:
                break
            offset += page


def stored_passage(passage_id: str, text: str, meta: dict, score: float) -> StoredPassage:
    return StoredPassage(
        passage_id=passage_id,
        source=str(meta["source"]),
        ordinal=int(meta["ordinal"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        title=str(meta.get("title", "")),
        outlet=meta.get("outlet") or None,
        published=meta.get("published") or None,
        score=score,
        url=str(meta.get("url") or "") or None,
    )
