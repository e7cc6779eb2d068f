"""The answer in the articles' own words: the most relevant sentences, quoted and cited.

Used when no model is configured (`NEWSDESK_LLM=none`) or none can be reached, in the place of
reading, grounding and the checks; and when newsdesk declines although it read relevant sentences
(`declined_with_evidence`): it says it could not confirm an answer, and shows the closest ones.
"""

from __future__ import annotations

from index.english import TIME
from index.store import PassageStore
from qa.answer import COULD_NOT_CONFIRM, NOT_IN_ARTICLES, Answer
from qa.checks import CheckContext, MentionsWhatWasAsked, listed
from qa.presentation import present
from qa.question import Question
from qa.retrieval import Retrieval
from qa.thresholds import EXTRACT_RELEVANCE_GAP


def extracted(store: PassageStore, answer: Answer, question: Question, retrieval: Retrieval,
              reason: str, mentions: MentionsWhatWasAsked, context: CheckContext) -> Answer:
    """Evidence mode: the most relevant sentences, quoted and cited; `reason` says why."""
    # Passages come ranked by meaning and by the question's words; keep the close seconds.
    top = max(retrieval.relevance, default=0.0)  # the first is the newest for a "latest" question
    chosen = [p for p, r in zip(retrieval.passages, retrieval.relevance)
              if r >= top - EXTRACT_RELEVANCE_GAP][:2]
    if question.asks_when:
        # "When" wants a time: the passages that give one, if any does.
        timed = [(p, r) for p, r in zip(retrieval.passages, retrieval.relevance) if TIME.search(p.text)]
        best = max((r for _, r in timed), default=0.0)
        chosen = [p for p, r in timed if r >= best - EXTRACT_RELEVANCE_GAP][:2] or chosen
    missing = mentions.unmentioned(question, chosen, context) if chosen else None
    notice = f"{reason.rstrip('.')}: these are the most relevant sentences."
    if missing is not None:
        notice = (f"{reason.rstrip('.')}, and the most relevant sentences do not mention "
                  f"{listed(missing)}.")
        chosen = []
    attached = [(_quoted(p.text), [retrieval.passages.index(p)]) for p in chosen]
    answer.abstained = not chosen
    answer = present(store, answer, question, attached, retrieval.passages, retrieval.only,
                     retrieval.context_ids)
    if not chosen:
        answer.text = NOT_IN_ARTICLES
    answer.mode = "extracted"
    answer.notice = notice
    return answer


def declined_with_evidence(store: PassageStore, answer: Answer, question: Question,
                           retrieval: Retrieval, closest: list[int]) -> Answer:
    """The answer that declines but shows, cited, the sentences closest to an answer: `closest`
    (indexes into the passages read: those a withheld answer cited), else the most relevant
    ones read. `abstained` stays true: newsdesk gives no answer of its own."""
    if not closest:
        top = max(retrieval.relevance, default=0.0)
        closest = [i for i, r in enumerate(retrieval.relevance) if r >= top - EXTRACT_RELEVANCE_GAP]
    if not closest:
        return answer
    attached = [(_quoted(retrieval.passages[i].text), [i]) for i in sorted(set(closest))[:2]]
    answer.abstained = True
    answer = present(store, answer, question, attached, retrieval.passages, retrieval.only,
                     retrieval.context_ids)
    answer.text = f"{COULD_NOT_CONFIRM} {answer.text}"
    answer.mode = "extracted"
    return answer


def _quoted(text: str) -> str:
    return text if text.startswith(("“", '"')) else f"“{text}”"
