"""A story's timeline: the dated events the articles report about a topic, oldest first, each with
the sentence that reports it, cited with its article, outlet, date and exact offsets.

Articles about the topic are found by retrieval; in each, the sentences near the topic that name
a time give the events. Explicit dates are taken as written, relative ones ("on Friday", "last
month") are resolved against the reporting article's publication date. No model is needed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from index.dates import PRECISIONS, find_dates, format_period
from index.settings import Settings
from index.store import StoredPassage, StoreError
from qa.answer import Citation
from qa.citations import content_words
from qa.filters import DateLike, FilterError, article_filter
from qa.pipeline import engine_for
from qa.retrieval import retrieve

# Passages retrieved to find the articles about the topic, and the re-ranked pool they come from.
TOPIC_PASSAGES = 40
TOPIC_POOL = 60
# A sentence of an article about the topic is taken to be about it too when at least this close to
# the topic (cosine). Against "Sindh floods", the sentences of the flood reports in tests/data/news
# score 0.17-0.76 ("19 more bodies were recovered in Dadu" 0.20), those of a smog report beside
# them 0.05-0.31; the article itself must have a sentence as close as an answer needs.
MIN_SENTENCE_SIMILARITY = 0.15
# Two events on the same date whose sentences share this much of their words are one event
# reported by several articles.
SAME_EVENT_OVERLAP = 0.5
MAX_EVENTS = 60


@dataclass(frozen=True)
class TimelineEvent:
    """One dated event and the sentences that report it."""

    date: str  # the first day of the period, YYYY-MM-DD (sorts the timeline)
    precision: str  # "day", "week", "month" or "year"
    label: str  # "2025-12-05", "week of 2025-12-15", "2025-12", "2025"
    when: str  # the words that date it, as written ("on Friday"); "" when dated by publication
    dated_by: str  # "explicit", "relative" (to the article's date) or "published"
    expected: bool  # later than the article reporting it: planned or expected then
    citations: list[Citation] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.citations[0].quote if self.citations else ""


@dataclass
class Timeline:
    """What `timeline()` returns: the events oldest first; `notice` says why there are none."""

    topic: str
    events: list[TimelineEvent] = field(default_factory=list)
    notice: str | None = None
    article_filter: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def timeline(
    topic: str,
    settings: Settings | None = None,
    *,
    since: DateLike = None,
    until: DateLike = None,
    outlets: str | Sequence[str] | None = None,
    limit: int = MAX_EVENTS,
) -> Timeline:
    """The dated events the articles report about `topic`, oldest first, each cited.

    `since`, `until` and `outlets` limit the articles used, as in `ask()`.
    """
    started = time.perf_counter()
    topic = " ".join((topic or "").split())
    result = Timeline(topic=topic)
    if not topic:
        result.notice = "Name a topic for the timeline."
        return result
    engine = engine_for(settings)
    try:
        engine.ensure_index()
    except StoreError as error:  # a read-only data folder: work from what is indexed
        result.notice = f"The index could not be brought up to date: {error}"
    store = engine.store
    try:
        only, nothing = article_filter(store.manifest.articles.values(), since, until, outlets)
    except FilterError as error:
        result.notice = f"The filter cannot be used: {error}."
        return result
    result.article_filter = only.describe() or None
    if nothing:
        result.notice = nothing
        return result

    found = retrieve(store, topic, TOPIC_PASSAGES, only=only or None, pool=TOPIC_POOL)
    # Articles about the topic: those with a passage as close to it as an answer needs.
    sources = list(dict.fromkeys(p.source for p in found.passages
                                 if p.score >= engine.settings.min_relevance))
    if not sources:
        result.notice = f"The articles say nothing about “{topic}”."
        result.seconds = time.perf_counter() - started
        return result
    model = store.embedding_model
    topic_vector = model.embed_query([topic])[0]
    best_by_source = {}
    candidates: list[StoredPassage] = []
    for passage, vector in store.article_passages(sources):
        # On the scale the thresholds were calibrated on, whichever embedding model is used.
        similarity = float(model.similarity(np.dot(vector, topic_vector)))
        if similarity > best_by_source.get(passage.source, (-2.0, None))[0]:
            best_by_source[passage.source] = (similarity, passage)
        if similarity >= MIN_SENTENCE_SIMILARITY:
            candidates.append(passage)
    events = _events(candidates)
    dated_sources = {p.source for e in events for p in e.passages}
    for source, (_, passage) in best_by_source.items():
        # An article that dates none of its sentences still reports its story on its own date.
        if source not in dated_sources and passage.published:
            events.append(_Event(date.fromisoformat(passage.published), "day", "", "published",
                                 False, [passage]))
    result.events = _numbered(_merged(sorted(events, key=_order))[:limit])
    if not result.events:
        result.notice = f"The articles about “{topic}” give no dates for what they report."
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class _Event:
    day: date
    precision: str
    when: str
    dated_by: str
    expected: bool
    passages: list[StoredPassage]


def _events(passages: list[StoredPassage]) -> list[_Event]:
    events = []
    for passage in passages:
        reference = date.fromisoformat(passage.published) if passage.published else None
        for found in find_dates(passage.text, reference):
            expected = reference is not None and found.day > reference
            events.append(_Event(found.day, found.precision, found.text,
                                 "relative" if found.relative else "explicit", expected, [passage]))
    return events


def _order(event: _Event) -> tuple:
    # Oldest first; on one day, the coarser period ("December 2025") before the day itself, then
    # the earliest report.
    first = event.passages[0]
    return (event.day, -PRECISIONS.index(event.precision), first.published or "9999",  # type: ignore[arg-type]
            first.source, first.start)


def _merged(events: list[_Event]) -> list[_Event]:
    """Events on the same date told in much the same words by several sentences: one event."""
    merged: list[_Event] = []
    for event in events:
        words = content_words(event.passages[0].text)
        same_day = [e for e in merged if (e.day, e.precision) == (event.day, event.precision)]
        told = next((e for e in same_day if any(
            _overlap(words, content_words(p.text)) >= SAME_EVENT_OVERLAP for p in e.passages)), None)
        if told is None:
            merged.append(event)
        elif all(p.passage_id != event.passages[0].passage_id for p in told.passages):
            told.passages.append(event.passages[0])
    return merged


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def _numbered(events: list[_Event]) -> list[TimelineEvent]:
    """Events with their citations, numbered by first appearance (one number per sentence)."""
    numbers: dict[str, int] = {}
    shown = []
    for event in events:
        citations = []
        for passage in event.passages:
            number = numbers.setdefault(passage.passage_id, len(numbers) + 1)
            citations.append(Citation(number=number, source=passage.source, title=passage.title,
                                      quote=passage.text, start=passage.start, end=passage.end,
                                      outlet=passage.outlet, published=passage.published,
                                      url=passage.url))
        shown.append(TimelineEvent(date=event.day.isoformat(), precision=event.precision,
                                   label=format_period(event.day, event.precision),  # type: ignore[arg-type]
                                   when=event.when, dated_by=event.dated_by,
                                   expected=event.expected, citations=citations))
    return shown
