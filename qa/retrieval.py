"""Hybrid retrieval over what `index/` built: dense (Chroma) and BM25, fused by reciprocal rank.

Every passage comes back with its cosine similarity to the question, the evidence newsdesk uses
to decide whether the articles hold an answer at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from index.store import PassageStore, StoredPassage
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
        return Retrieval(self.query, [self.passages[i] for i in kept], [self.relevance[i] for i in kept])


    def excluding(self, unwanted) -> Retrieval:
        """Without the passages for which `unwanted(passage)` is true."""
        kept = [i for i, p in enumerate(self.passages) if not unwanted(p)]
        return Retrieval(self.query, [self.passages[i] for i in kept], [self.relevance[i] for i in kept])


def retrieve(store: PassageStore, query: str, k: int) -> Retrieval:
    """The `k` passages most relevant to `query`."""
    query_vector = store.embedding_model.embed([query])[0]
    dense = store.dense_search(query_vector, CANDIDATES)
    keyword = store.keyword_search(query, CANDIDATES)

    fused: dict[str, float] = {}
    for rank, passage in enumerate(dense):
        fused[passage.passage_id] = fused.get(passage.passage_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    for rank, (passage_id, _) in enumerate(keyword):
        fused[passage_id] = fused.get(passage_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    pool_ids = sorted(fused, key=fused.__getitem__, reverse=True)[:RERANK_POOL]

    by_id = {p.passage_id: p for p in dense}
    keyword_only = [pid for pid in pool_ids if pid not in by_id]
    if keyword_only:
        for passage_id, (passage, vector) in store.get_passages_with_vectors(keyword_only).items():
            by_id[passage_id] = replace(passage, score=float(np.dot(vector, query_vector)))
    asked = content_words(query)
    scored = []
    for passage_id in pool_ids:
        if passage_id in by_id:
            passage = by_id[passage_id]
            overlap = len(asked & content_words(passage.text)) / max(1, len(asked))
            scored.append((passage.score + WORD_OVERLAP_WEIGHT * overlap, passage))
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
    return Retrieval(query, [p for _, p in distinct[:k]], [r for r, _ in distinct[:k]])


# Another article's telling of the same statement is usually this close (cosine) or closer; the
# disagreement check itself then decides, word by word, whether the two tellings differ.
MIN_TELLING_SIMILARITY = 0.6


def other_tellings(store: PassageStore, passages: list[StoredPassage]) -> list[StoredPassage]:
    """Passages of other articles that may tell what `passages` tell, not among them already.

    Retrieval ranks by closeness to the question, so one outlet's version of a quote can be
    found while another's, worded differently, is not: looking from the passage itself finds it.
    """
    if not passages:
        return []
    known = {p.passage_id for p in passages}
    found: dict[str, StoredPassage] = {}
    stored = store.get_passages_with_vectors([p.passage_id for p in passages])
    for passage in passages:
        if passage.passage_id not in stored:
            continue
        for near in store.dense_search(stored[passage.passage_id][1], 4):
            if (near.source != passage.source and near.passage_id not in known
                    and near.score >= MIN_TELLING_SIMILARITY):
                found.setdefault(near.passage_id, near)
    return list(found.values())

