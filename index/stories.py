"""Stories: articles that report the same news (a wire copy in two outlets, a rewrite, a translation).

An article's signature is the mean of its sentence vectors, computed at indexing anyway. Two articles
tell the same story when their signatures are close and their dates, when both give one, are a few
days apart at most; a story is a connected group of such pairs (union-find), kept up to date as
articles are added, changed and removed, with a nearest-neighbour query per new article.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Cosine of two articles' signatures from which they are one story, by embedding model. Calibrated
# on real articles (qa/data/stories, `newsdesk eval-stories`): precision first, since a wrong pair
# claims that an outlet corroborates a story it never reported.
STORY_SIMILARITY = {"minilm": 0.84, "multilingual-e5-small": 0.978}
# The same story is reported within days; a follow-up weeks later (new strikes in the same
# campaign, an aftershock) reads alike but is another story.
MAX_DAYS_APART = 3
# Articles whose signatures are compared with a new article's: its nearest ones only.
NEIGHBOURS = 10
STORIES_FILE = "stories.json"


def signature(vectors) -> np.ndarray:
    """An article's signature: the unit-length mean of its sentence vectors."""
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def days_apart(first: str | None, second: str | None) -> int | None:
    """Days between two ISO dates, or None when either is missing or unreadable."""
    try:
        return abs((date.fromisoformat(first[:10]) - date.fromisoformat(second[:10])).days)  # type: ignore[index]
    except (TypeError, ValueError):
        return None


def same_story(similarity: float, threshold: float, published: str | None = None,
               other_published: str | None = None) -> bool:
    """Whether two articles this similar, published then, tell the same story."""
    apart = days_apart(published, other_published)
    return similarity >= threshold and (apart is None or apart <= MAX_DAYS_APART)


def groups_of(links: dict[str, dict[str, float]], published: dict[str, str | None] | None = None
              ) -> list[list[str]]:
    """The stories (groups of two articles or more, each sorted) that the linked pairs make.

    Pairs are joined strongest first (union-find), and never into a group whose dates would then
    span more than MAX_DAYS_APART: otherwise an article without a date, close to both, would chain
    an earthquake's reports to those of its aftershock four days later.
    """
    published = published or {}
    parent: dict[str, str] = {}
    span: dict[str, tuple[date, date] | None] = {}

    def root(item: str) -> str:
        if item not in parent:
            parent[item] = item
            span[item] = _day(published.get(item))
        while parent[item] != item:
            parent[item] = parent[parent[item]]  # path halving
            item = parent[item]
        return item

    pairs = sorted(((similarity, *sorted((a, b))) for a, others in links.items()
                    for b, similarity in others.items() if a < b), reverse=True)
    for _, a, b in pairs:
        first, second = root(a), root(b)
        if first == second:
            continue
        joined = _joined_span(span[first], span[second])
        if joined is not None and (joined[1] - joined[0]).days > MAX_DAYS_APART:
            continue
        parent[second] = first
        span[first] = joined
    for item in list(parent):
        root(item)
    members: dict[str, list[str]] = {}
    for item in parent:
        members.setdefault(root(item), []).append(item)
    return sorted((sorted(group) for group in members.values() if len(group) > 1), key=lambda g: g[0])


def _day(value: str | None) -> tuple[date, date] | None:
    try:
        day = date.fromisoformat(value[:10])  # type: ignore[index]
    except (TypeError, ValueError):
        return None
    return day, day


def _joined_span(first, second):
    if first is None or second is None:
        return first or second
    return min(first[0], second[0]), max(first[1], second[1])


@dataclass
class Stories:
    """Which articles tell the same story: `links[a]` holds the articles paired with `a` (and
    their cosine); every article checked so far has an entry, maybe empty."""

    model_id: str = ""
    threshold: float = 0.0
    links: dict[str, dict[str, float]] = field(default_factory=dict)
    published: dict[str, str | None] = field(default_factory=dict)  # each article's date, if any
    _groups: list[list[str]] | None = None
    _story_of: dict[str, int] | None = None

    @classmethod
    def load(cls, path: Path, model_id: str, threshold: float) -> Stories:
        """The stories saved at `path`; empty (to be worked out again) if another model or
        threshold made them, or the file is unreadable."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("model_id") == model_id and raw.get("threshold") == threshold:
                links = {str(k): {str(o): float(s) for o, s in v.items()} for k, v in raw["links"].items()}
                return cls(model_id, threshold, links, dict(raw.get("published", {})))
        except FileNotFoundError:
            pass
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            log.warning("%s is unreadable (%s): stories are worked out again", path, error)
        return cls(model_id, threshold, {})

    def save(self, path: Path) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"model_id": self.model_id, "threshold": self.threshold,
                                         "links": self.links, "published": self.published},
                                        ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)

    def copy(self) -> Stories:
        return Stories(self.model_id, self.threshold, {k: dict(v) for k, v in self.links.items()},
                       dict(self.published))

    def forget(self, source: str) -> None:
        for other in self.links.pop(source, {}):
            self.links.get(other, {}).pop(source, None)
        self.published.pop(source, None)
        self._groups = None

    def link(self, source: str, other: str, similarity: float) -> None:
        self.links.setdefault(source, {})[other] = round(float(similarity), 4)
        self.links.setdefault(other, {})[source] = round(float(similarity), 4)
        self._groups = None

    def groups(self) -> list[list[str]]:
        """Stories told by two articles or more, each a sorted list of article ids."""
        if self._groups is None:
            self._groups = groups_of(self.links, self.published)
            self._story_of = {source: n for n, group in enumerate(self._groups) for source in group}
        return self._groups

    def story_number(self, source: str) -> int | None:
        """1-based number of the story `source` belongs to (order of `groups()`), if any."""
        self.groups()
        number = self._story_of.get(source)  # type: ignore[union-attr]
        return None if number is None else number + 1

    def tellers(self, source: str) -> list[str]:
        """The other articles of `source`'s story."""
        number = self.story_number(source)
        return [] if number is None else [s for s in self._groups[number - 1] if s != source]  # type: ignore[index]


def update_stories(store, changed: Iterable[str] = ()) -> Stories:
    """Bring `store.stories` up to date with the manifest: articles removed or `changed` lose
    their pairs, articles not yet checked are compared with their nearest neighbours.

    Worked out on a copy swapped in at the end: questions answered meanwhile read the stories
    as they were, never half-updated ones.
    """
    stories = store.stories.copy()
    known = store.manifest.articles
    changed = set(changed)
    gone = [s for s in stories.links if s not in known or s in changed]
    for source in gone:
        stories.forget(source)
    pending = sorted(s for s in known if s not in stories.links)
    if not pending:
        if gone:
            store.save_stories(stories)
        return stories
    vectors = store.article_vectors(pending)
    missing = {}
    for source in pending:
        if source not in vectors:  # indexed before signatures were kept
            passage_vectors = store.article_passage_vectors(source)
            if len(passage_vectors):
                missing[source] = signature(passage_vectors)
    if missing:
        store.add_article_vectors(missing, known)
        vectors.update(missing)
    for source in pending:
        stories.links.setdefault(source, {})
        stories.published[source] = known[source].published
        if source not in vectors:
            continue
        for other, similarity in store.nearest_articles(vectors[source], NEIGHBOURS + 1):
            if other == source or other not in known:
                continue
            if same_story(similarity, stories.threshold, known[source].published, known[other].published):
                stories.link(source, other, similarity)
    store.save_stories(stories)
    return stories
