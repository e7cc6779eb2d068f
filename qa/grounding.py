"""Stage 4, grounding: the model's reply cut into claims, each tied to the sentences that support it.

In: the reply and the passages the model read. Out: a `Draft`, each claim with the indexes of the
passages that carry its new information (its citations checked word by word, a wrong or missing
citation replaced by the retrieved sentence that supports it, a close paraphrase accepted by
embedding similarity unless it changes a figure). The checks (qa/checks.py) then judge the draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.store import PassageStore, StoredPassage
from qa.citations import Claim, attach_citations, figures, split_claims
from qa.question import Question
from qa.reading import blocks
from qa.retrieval import Retrieval, explains
from qa.thresholds import MIN_CLAIM_SIMILARITY

# A claim and the indexes (into the passages read) of the passages that support it; an empty
# list: nothing supports it.
Attached = list[tuple[str, list[int]]]


@dataclass
class Draft:
    """A reply on its way to an answer: its claims, then (once grounded) each claim's passages."""

    question: Question
    reply: str
    passages: list[StoredPassage]
    claims: list[Claim]
    attached: Attached = field(default_factory=list)
    # What checks measured on the way, as evidence for the decision's score (name: value).
    measures: dict[str, float] = field(default_factory=dict)


def claims_in(reply: str, passages: list[StoredPassage]) -> list[Claim]:
    """The reply's claims, each citing the sentences of the blocks it cites: the check then keeps
    the sentences that support each claim, so a citation quotes one sentence, not the block."""
    grouped = blocks(passages)
    return [
        Claim(claim.text, tuple(i + 1 for n in claim.cited if 1 <= n <= len(grouped) for i in grouped[n - 1]))
        for claim in split_claims(reply)
    ]


def ground(draft: Draft, store: PassageStore, read: Retrieval) -> None:
    """Tie each claim of `draft` to the passages that support it (sets `draft.attached`)."""
    passages = draft.passages
    question = draft.question.standalone
    attached = attach_citations(draft.claims, [p.text for p in passages], question)
    uncited = [claim for claim, kept in attached if not kept]
    scores_of = similarities(store, uncited, read) if uncited else None
    for row, (claim, kept) in enumerate(attached):
        if not kept and scores_of is not None and passages:
            # Words differ: accept a close paraphrase by embedding similarity, but never one
            # that changes a figure ("45" and "dozens" embed alike).
            scores = scores_of[uncited.index(claim)]
            best = int(np.argmax(scores))
            if (scores[best] >= MIN_CLAIM_SIMILARITY
                    and figures(claim) - figures(question) <= figures(passages[best].text)):
                attached[row] = (claim, [best])
    draft.attached = attached


def similarities(store: PassageStore, claims: list[str], retrieval: Retrieval) -> np.ndarray:
    """Cosine of each claim to each retrieved passage; passage vectors come from the store."""
    ids = [p.passage_id for p in retrieval.passages]
    stored = store.get_passages_with_vectors(ids)
    passage_vectors = np.array([stored[i][1] for i in ids if i in stored], dtype=np.float32)
    if len(passage_vectors) != len(ids):  # the article changed meanwhile: embed afresh
        passage_vectors = store.embedding_model.embed([p.text for p in retrieval.passages])
    model = store.embedding_model
    return model.similarity(model.embed_query(claims) @ passage_vectors.T)


def read_around(attached: Attached, passages: list[StoredPassage]) -> list[StoredPassage]:
    """The sentences an answer cites, with those the model read beside them that they need:
    the one before a sentence that points back ("Among them, around 19 countries..."), the one
    after that goes on about it. Not every neighbour: "...the command structure of the force",
    read beside a cited sentence about Pakistan's offer, must not let an answer about something
    else pass for one about command."""
    read = sorted({index for _, kept in attached for index in kept})
    grown = True
    while grown:
        grown = False
        for i, passage in enumerate(passages):
            if i not in read and any(explains(passages[c], passage) for c in read):
                read.append(i)
                grown = True
    return [passages[i] for i in sorted(read)]
