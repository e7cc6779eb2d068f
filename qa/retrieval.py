"""Hybrid retrieval over what `index/` built: dense (Chroma) and BM25, fused by reciprocal rank.

Every passage comes back with its cosine similarity to the question, the evidence newsdesk uses
to decide whether the articles hold an answer at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from index.store import PassageFilter, PassageStore, StoredPassage
from qa.citations import content_words

# Reciprocal rank fusion constant (Cormack et al. 2009); 60 is the usual choice.
RRF_K = 60
CANDIDATES = 30
# The fused pool is re-ranked by meaning plus the question's own words (names, numbers), which
# RRF alone weighs no higher than a vague semantic match.
RERANK_POOL = 12
WORD_OVERLAP_WEIGHT = 0.5


@dataclass(frozen=True)
class Retrieval:
    """The passages for one question, best first, with their fused and cosine scores."""

    query: str
    passages: list[StoredPassage]  # .score is the cosine similarity to the query
    relevance: list[float]  # cosine + WORD_OVERLAP_WEIGHT * share of the query's words present
    query_vector: np.ndarray | None = None
    only: PassageFilter | None = None  # the articles searched, when limited to some

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

    def with_context(self, store: PassageStore) -> Retrieval:
        """With the sentence before each retrieved one that leans on it ("Once that is in place,
        it will allow us to...", "..., he said") and the sentence after that continues it ("It's
        something we're focused on like a laser"): a lone sentence does not say who or what.

        Added sentences rank after the retrieved ones; the model reads each with its neighbour,
        as one passage (consecutive sentences are joined), and the citation check sees both.
        """
        if not self.passages:
            return self
        known = {p.passage_id for p in self.passages}
        around = {f"{p.source}#{p.ordinal + step}" for p in self.passages for step in (-1, 1)
                  if p.ordinal + step >= 0} - known
        neighbours = store.get_passages_with_vectors(sorted(around))
        query_vector = self.query_vector
        if query_vector is None:
            query_vector = store.embedding_model.embed_query([self.query])[0]
        asked = content_words(self.query)
        added: dict[str, tuple[float, StoredPassage]] = {}
        for passage in self.passages:
            for step in (-1, 1):
                found = neighbours.get(f"{passage.source}#{passage.ordinal + step}")
                if found is None or found[0].passage_id in added:
                    continue
                neighbour, vector = found
                if explains(passage, neighbour):
                    neighbour = replace(neighbour, score=float(
                        store.embedding_model.similarity(np.dot(vector, query_vector))))
                    added[neighbour.passage_id] = (_relevance(neighbour, asked), neighbour)
        if not added:
            return self
        return replace(self, passages=self.passages + [p for _, p in added.values()],
                       relevance=self.relevance + [r for r, _ in added.values()])


# A sentence that holds the kind of thing asked for (a date for "on what date", a count of
# countries for "how many countries") is worth this much more than its words and meaning say.
ASKED_KIND_BONUS = 0.15


def retrieve(
    store: PassageStore, query: str, k: int, holds_asked_kind: Callable[[str], bool] | None = None,
    only: PassageFilter | None = None, pool: int = RERANK_POOL,
) -> Retrieval:
    """The `k` passages most relevant to `query`, among the articles `only` allows;
    `holds_asked_kind(text)` says whether a passage gives the kind of answer the question wants.

    `pool` is how many fused candidates are re-ranked (a timeline wants more than an answer).
    """
    query_vector = store.embedding_model.embed_query([query])[0]
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


# A sentence that opens by pointing back ("It", "Once that is in place", "Among them", "But") or
# whose speaker is only a pronoun ("..., he said.") needs the sentence before it to be understood.
_POINTS_BACK = re.compile(
    r"""^\W*(?:it|it[’']s|its|this|that|these|those|they|their|them|he|she|his|her|such|once|
    among|but|however|yet|still|meanwhile|then|thus|so|and|or|the\s+(?:move|statement|remarks|
    decision|announcement|plan|offer))\b""",
    re.IGNORECASE | re.VERBOSE)
_PRONOUN_SPEAKER = re.compile(r"[,”\"]\s*(?:he|she|they)\s+(?:said|added|says|adds|concluded|"
                              r"shared|noted|stressed|told|explained|continued)\b", re.IGNORECASE)


# The sentence after goes on about the same thing only when it opens with "it" or "this"; one
# opening with "He" usually turns to something new.
_CONTINUES_PREVIOUS = re.compile(r"^\W*(?:it|it[’']s|this|that|these|those|such)\b", re.IGNORECASE)


def explains(sentence: StoredPassage, neighbour: StoredPassage) -> bool:
    """Whether `neighbour` is what `sentence` needs to be understood: the sentence before one
    that points back, or the sentence after that goes on about the same thing."""
    if neighbour.source != sentence.source:
        return False
    if neighbour.ordinal == sentence.ordinal - 1:
        return _leans_on_previous(sentence.text)
    return neighbour.ordinal == sentence.ordinal + 1 and bool(_CONTINUES_PREVIOUS.search(neighbour.text))


def _leans_on_previous(text: str) -> bool:
    return bool(_POINTS_BACK.search(text) or _PRONOUN_SPEAKER.search(text))


# Another article's telling of the same statement is usually this close (cosine) or closer; the
# disagreement check itself then decides, word by word, whether the two tellings differ.
MIN_TELLING_SIMILARITY = 0.6


# Nearest passages looked at for each cited one: of any article, and of its story's other articles.
TELLINGS_PER_PASSAGE = 4
STORY_TELLINGS_PER_PASSAGE = 2


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

