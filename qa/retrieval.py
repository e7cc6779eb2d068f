"""Hybrid retrieval over what `index/` built: dense (Chroma) and BM25, fused by reciprocal rank.

Every passage comes back with its cosine similarity to the question, the evidence newsdesk uses
to decide whether the articles hold an answer at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from index.store import PassageStore, StoredPassage

# Reciprocal rank fusion constant (Cormack et al. 2009); 60 is the usual choice.
RRF_K = 60
CANDIDATES = 30


@dataclass(frozen=True)
class Retrieval:
    """The passages for one question, best first, with their fused and cosine scores."""

    query: str
    passages: list[StoredPassage]  # .score is the cosine similarity to the query
    fused_scores: list[float]

    @property
    def best_similarity(self) -> float:
        return max((p.score for p in self.passages), default=-1.0)


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
    best_ids = sorted(fused, key=fused.__getitem__, reverse=True)[:k]

    by_id = {p.passage_id: p for p in dense}
    keyword_only = [pid for pid in best_ids if pid not in by_id]
    if keyword_only:
        for passage_id, (passage, vector) in store.get_passages_with_vectors(keyword_only).items():
            by_id[passage_id] = replace(passage, score=float(np.dot(vector, query_vector)))
    passages = [by_id[pid] for pid in best_ids if pid in by_id]
    return Retrieval(query, passages, [fused[p.passage_id] for p in passages])
