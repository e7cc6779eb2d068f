"""Stage 2, retrieval: hybrid search over what `index/` built, dense (Chroma) and BM25, fused by
reciprocal rank; then what of it the model reads.

In: a `Question` and the articles allowed. Out: `Retrieved`, what the search found and what the
model is given to read (the closest passages, the sentences they lean on, for a "when" question one
that gives a time, for a "latest" question the newest first). Every passage carries its cosine
similarity to the question, the evidence newsdesk uses to decide whether the articles hold an
answer at all. A second reading's passages (`focused`) are chosen here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from index.store import PassageFilter, PassageStore, StoredPassage
from index.dates import day_number
from index.english import ADDRESSES_MODEL, CONTINUES_PREVIOUS, POINTS_BACK, PRONOUN_SPEAKER, TIME
from index.settings import Settings
from qa.citations import content_words, question_coverage, question_words
from qa.thresholds import (ASKED_KIND_BONUS, CANDIDATES, FOCUSED_PASSAGES, MIN_TELLING_SIMILARITY, RERANK_POOL, RRF_K,
                           STORY_TELLINGS_PER_PASSAGE, TELLINGS_PER_PASSAGE, WINDOW_RADIUS,
                           WORD_OVERLAP_WEIGHT)

if TYPE_CHECKING:
    from qa.question import Question



@dataclass(frozen=True)
class Retrieval:
    """The passages for one question, best first, with their fused and cosine scores."""

    query: str
    passages: list[StoredPassage]  # .score is the cosine similarity to the query
    relevance: list[float]  # cosine + WORD_OVERLAP_WEIGHT * share of the query's words present
    query_vector: np.ndarray | None = None
    only: PassageFilter | None = None  # the articles searched, when limited to some
    # Passages read only as context around retrieved ones (`with_windows`): what they say is
    # read, but is not taken for another article's version of what was asked.
    context_ids: frozenset[str] = frozenset()

    @property
    def best_similarity(self) -> float:
        return max((p.score for p in self.passages), default=-1.0)

    def closest(self, gap: float) -> Retrieval:
        """Only the passages whose relevance is within `gap` of the best one's.

        Every passage costs the model ~0.8 s to read on 2 cores; a passage far below the best is
        rarely where the answer is (on the gold set a gap of 0.3 keeps every answer and halves
        what the model reads).
        """
        if not self.relevance:
            return self
        kept = [i for i, r in enumerate(self.relevance) if r >= self.relevance[0] - gap]
        return self._only(kept)

    def excluding(self, unwanted) -> Retrieval:
        """Without the passages for which `unwanted(passage)` is true."""
        kept = [i for i, p in enumerate(self.passages) if not unwanted(p)]
        return self._only(kept)

    def _only(self, kept: list[int]) -> Retrieval:
        return replace(self, passages=[self.passages[i] for i in kept],
                       relevance=[self.relevance[i] for i in kept])

    def with_windows(self, store: PassageStore, budget: int) -> Retrieval:
        """With the sentences around each retrieved one, nearest first, until `budget` tokens
        of passages are read: a lone sentence rarely says who or what ("Floodwater isolated it
        on Tuesday"), and a small model answers far better from a paragraph than from a line.

        Rings grow one sentence each side of every retrieved sentence in rank order (the best
        sentence's neighbours before the second's), up to WINDOW_RADIUS. The retrieved
        sentences are always read; the added ones rank after them. Consecutive sentences are
        read as one passage, and citations still name the one sentence a claim rests on.
        """
        if not self.passages:
            return self
        known = {p.passage_id for p in self.passages}
        spent = sum(tokens_of(p.text) for p in self.passages)
        around = {f"{p.source}#{p.ordinal + step}" for p in self.passages
                  for step in range(-WINDOW_RADIUS, WINDOW_RADIUS + 1) if p.ordinal + step >= 0} - known
        neighbours = store.get_passages_with_vectors(sorted(around))
        query_vector = self.query_vector
        if query_vector is None:
            query_vector = store.embedding_model.embed_query([self.query])[0]
        asked = content_words(self.query)
        added: list[tuple[float, StoredPassage]] = []
        for distance in range(1, WINDOW_RADIUS + 1):
            for passage in self.passages:
                for step in (-distance, distance):
                    found = neighbours.get(f"{passage.source}#{passage.ordinal + step}")
                    if found is None or found[0].passage_id in known:
                        continue
                    cost = tokens_of(found[0].text)
                    if spent + cost > budget:
                        continue
                    neighbour = replace(found[0], score=float(
                        store.embedding_model.similarity(np.dot(found[1], query_vector))))
                    known.add(neighbour.passage_id)
                    spent += cost
                    added.append((_relevance(neighbour, asked), neighbour))
        if not added:
            return self
        return replace(self, passages=self.passages + [p for _, p in added],
                       relevance=self.relevance + [r for r, _ in added],
                       context_ids=self.context_ids | {p.passage_id for _, p in added})


def retrieve(
    store: PassageStore, query: str, k: int, holds_asked_kind: Callable[[str], bool] | None = None,
    only: PassageFilter | None = None, pool: int = RERANK_POOL,
) -> Retrieval:
    """The `k` passages most relevant to `query`, among the articles `only` allows;
    `holds_asked_kind(text)` says whether a passage gives the kind of answer the question wants.

    `pool` is how many fused candidates are re-ranked (a timeline wants more than an answer).
    """
    query_vector = store.embedding_model.embed_query([query])[0]
    pool = max(pool, k)
    candidates = max(CANDIDATES, pool)
    dense = store.dense_search(query_vector, candidates, only=only)
    keyword = store.keyword_search(query, candidates, only)

    fused: dict[str, float] = {}
    for rank, passage in enumerate(dense):
        fused[passage.passage_id] = fused.get(passage.passage_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, (passage_id, _) in enumerate(keyword):
        fused[passage_id] = fused.get(passage_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    pool_ids = sorted(fused, key=fused.__getitem__, reverse=True)[:pool]

    by_id = {p.passage_id: p for p in dense}
    keyword_only = [pid for pid in pool_ids if pid not in by_id]
    if keyword_only:
        for passage_id, (passage, vector) in store.get_passages_with_vectors(keyword_only).items():
            by_id[passage_id] = replace(passage, score=float(
                store.embedding_model.similarity(np.dot(vector, query_vector))))
    asked = content_words(query)
    scored = [(_relevance(by_id[pid], asked, holds_asked_kind), by_id[pid])
              for pid in pool_ids if pid in by_id]
    scored.sort(key=lambda pair: (-pair[0], pair[1].source, pair[1].ordinal))
    # The same sentence in two articles (a duplicate file, a syndicated story) is one passage:
    # an answer must not cite it twice. The best-ranked copy stays.
    seen: set[str] = set()
    distinct = []
    for relevance, passage in scored:
        key = " ".join(passage.text.split()).casefold()
        if key not in seen:
            seen.add(key)
            distinct.append((relevance, passage))
    return Retrieval(query, [p for _, p in distinct[:k]], [r for r, _ in distinct[:k]], query_vector,
                     only or None)


def _relevance(
    passage: StoredPassage, asked: set[str], holds_asked_kind: Callable[[str], bool] | None = None
) -> float:
    overlap = len(asked & content_words(passage.text)) / max(1, len(asked))
    bonus = ASKED_KIND_BONUS if holds_asked_kind is not None and holds_asked_kind(passage.text) else 0.0
    return passage.score + WORD_OVERLAP_WEIGHT * overlap + bonus


def explains(sentence: StoredPassage, neighbour: StoredPassage) -> bool:
    """Whether `neighbour` is what `sentence` needs to be understood: the sentence before one
    that points back, or the sentence after that goes on about the same thing."""
    if neighbour.source != sentence.source:
        return False
    if neighbour.ordinal == sentence.ordinal - 1:
        return _leans_on_previous(sentence.text)
    return neighbour.ordinal == sentence.ordinal + 1 and bool(CONTINUES_PREVIOUS.search(neighbour.text))


def _leans_on_previous(text: str) -> bool:
    return bool(POINTS_BACK.search(text) or PRONOUN_SPEAKER.search(text))




def other_tellings(store: PassageStore, passages: list[StoredPassage],
                   only: PassageFilter | None = None) -> list[StoredPassage]:
    """Passages of other articles that may tell what `passages` tell, not among them already
    (and among the articles `only` allows).

    Retrieval ranks by closeness to the question, so one outlet's version of a quote can be
    found while another's, worded differently, is not: looking from the passage itself finds it.
    The other articles of the same story (index/stories.py) are searched on their own as well,
    so their tellings are found even when unrelated articles crowd the nearest passages.
    """
    if not passages:
        return []
    known = {p.passage_id for p in passages}
    found: dict[str, StoredPassage] = {}
    stored = store.get_passages_with_vectors([p.passage_id for p in passages])
    for passage in passages:
        if passage.passage_id not in stored:
            continue
        vector = stored[passage.passage_id][1]
        tellers = store.stories.tellers(passage.source)
        nearest = store.dense_search(vector, TELLINGS_PER_PASSAGE, only=only)
        if tellers:
            nearest += store.dense_search(vector, STORY_TELLINGS_PER_PASSAGE, sources=tellers, only=only)
        for near in nearest:
            if (near.source != passage.source and near.passage_id not in known
                    and near.score >= MIN_TELLING_SIMILARITY):
                found.setdefault(near.passage_id, near)
    return list(found.values())



# ----- what the model reads ---------------------------------------------------------------------
@dataclass(frozen=True)
class Retrieved:
    """What retrieval found for a question (`found`, best first) and what the model reads (`read`)."""

    found: Retrieval
    read: Retrieval


def passages_for(store: PassageStore, question: Question, settings: Settings,
                 only: PassageFilter | None) -> Retrieved:
    """The stage: search, then keep what the model should read of what was found."""
    found = retrieve(store, question.standalone, settings.passages_to_read,
                     question.holds_asked_kind, only or None)
    read = (found.closest(settings.relevance_gap).with_windows(store, settings.reading_budget)
            .excluding(addresses_model))
    if question.asks_when:
        read = with_a_time(found, read)
    if question.wants_latest:
        read = newest_first(read)  # the model reads, and answers from, the newest first
    return Retrieved(found, read)


def tokens_of(text: str) -> int:
    """About how many tokens a model reads for `text` (English runs near four characters a token)."""
    return len(text) // 4 + 1


def addresses_model(passage: StoredPassage) -> bool:
    """Whether a passage speaks to a language model ("Ignore previous instructions..."): such a
    sentence is not reporting, never reaches the model and is never cited."""
    return bool(ADDRESSES_MODEL.search(passage.text))


def with_a_time(found: Retrieval, kept: Retrieval) -> Retrieval:
    """For a "when" question: the kept passages, and the best found one that gives a time if none
    of them does (a headline often matches the question best and says nothing of when)."""
    if any(TIME.search(p.text) for p in kept.passages):
        return kept
    for passage, relevance in zip(found.passages, found.relevance):
        if TIME.search(passage.text) and not addresses_model(passage):
            return replace(kept, passages=kept.passages + [passage], relevance=kept.relevance + [relevance])
    return kept


def newest_first(retrieval: Retrieval) -> Retrieval:
    """The same passages, the newest article's first (undated ones last); ties keep their rank."""
    order = sorted(range(len(retrieval.passages)),
                   key=lambda i: (-day_number(retrieval.passages[i].published), i))
    return replace(retrieval, passages=[retrieval.passages[i] for i in order],
                   relevance=[retrieval.relevance[i] for i in order])


def focused(store: PassageStore, question: Question, retrieved: Retrieved,
            min_coverage: float, budget: int) -> Retrieval | None:
    """What a second reading reads: the retrieved passages that each mention enough of what was
    asked to be cited for it (at most two, the ones that mention most, with the sentences they lean
    on), or None when none does or they are what the model has just read. A follow-up counts by
    its rewrite or its own words, whichever a passage mentions more of (a failed rewrite joins two
    questions).
    """
    forms = (question.standalone, question.text)
    candidates = retrieved.found.excluding(addresses_model)
    rarity = store.word_rarity(set().union(*(question_words(form) for form in forms)))
    coverage = {p.passage_id: max(question_coverage(form, [p.text], rarity)[0] for form in forms)
                for p in candidates.passages}
    most = sorted(coverage, key=lambda passage_id: -coverage[passage_id])[:FOCUSED_PASSAGES]
    kept = {passage_id for passage_id in most if coverage[passage_id] >= min_coverage}
    if not kept:
        return None
    chosen = (candidates.excluding(lambda p: p.passage_id not in kept).with_windows(store, budget)
              .excluding(addresses_model))
    if question.wants_latest:
        chosen = newest_first(chosen)
    if {p.passage_id for p in chosen.passages} == {p.passage_id for p in retrieved.read.passages}:
        return None
    return chosen
