"""Stage 6, the decision: whether the model reads at all, whether its reply is shown, and whether it
reads again.

In: the retrieval, then the reply. Out: `worth_reading` (no model call for passages too far from
the question), `judged` (the reply grounded and run through the checks in order: the first that
withholds it decides, with its notice) and `reads_again` (a reply that found no answer).
"""

from __future__ import annotations

from dataclasses import dataclass

from index.store import StoredPassage
from qa.checks import Check, CheckContext, said_otherwise
from qa.citations import question_coverage, question_words
from qa.grounding import Attached, Draft, claims_in, ground
from qa.question import Question
from qa.reading import refused
from qa.retrieval import Retrieval


@dataclass(frozen=True)
class Verdict:
    """The checks' decision on a reply: shown with `attached` (claims and their passages), or
    withheld when `withheld` says why."""

    attached: Attached
    withheld: str | None = None


def worth_reading(question: Question, read: Retrieval, context: CheckContext) -> bool:
    """Whether the passages may hold an answer: the best is close enough to the question in
    meaning (`NEWSDESK_MIN_RELEVANCE`), or one of them mentions every word of it."""
    return (read.best_similarity >= context.settings.min_relevance
            or mentions_all_asked(question.standalone, read.passages, context))


def mentions_all_asked(question: str, passages: list[StoredPassage], context: CheckContext) -> bool:
    """Whether one passage mentions every word of the question (or says it otherwise).

    A short question about a detail of a long sentence ("What is Steve Witkoff's role?" of
    "...to meet US envoys including Steve Witkoff, President Donald Trump's friend and roving
    envoy") embeds far from it; when the sentence has all its words it is still worth reading.
    All, in one passage: a share would let through one missing word ("How old is Tahir
    Andrabi?") once a large store makes names rare enough to outweigh it.
    """
    asked = question_words(question)
    if not asked:  # "What about it?": nothing to find
        return False
    rarity = {stem: 1.0 for stem in asked}  # all must be there: weights do not matter
    for passage in passages:
        missing = question_coverage(question, [passage.text], rarity)[1]
        if not missing:
            return True
        # A word or two said otherwise ("troops" for "soldiers"), never a name or a figure:
        # asking the embedding model costs ~0.2 s a passage, which off-topic questions must
        # not pay.
        common = not any(word[:1].isupper() or any(c.isdigit() for c in word) for word in missing)
        if common and len(missing) <= 2 and not question_coverage(
                question, [passage.text], rarity,
                lambda words, said: said_otherwise(context.store, words, said))[1]:
            return True
    return False


def judged(question: Question, reply: str, read: Retrieval, checks: list[Check],
           context: CheckContext) -> Verdict:
    """The reply grounded in the passages read and run through the checks, in order."""
    draft = Draft(question, reply, read.passages, claims_in(reply, read.passages))
    for check in checks:
        if check.point == "claims" and (withheld := check(draft, context)) is not None:
            return Verdict(draft.attached, withheld)
    ground(draft, context.store, read)
    for check in checks:
        if check.point == "citations" and (withheld := check(draft, context)) is not None:
            return Verdict(draft.attached, withheld)
    return Verdict(draft.attached)


def reads_again(reply: str) -> bool:
    """Whether the model found no answer, and may read again only the passages that mention what
    was asked. Not when the checks set its reply aside: read again, a model that answered from a
    passage about something else answers as often wrongly as rightly."""
    return refused(reply)
