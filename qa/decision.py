"""Stage 6, the decision: whether the model reads at all, whether its reply is shown, and whether it
reads again.

In: the retrieval, then the reply. Out: `worth_reading` (no model call for passages too far from
the question), `judged` (the reply grounded and run through the checks in order: the first gate
that withholds it decides, with its notice; the other checks' verdicts are evidence),
`evidence_for` and `chance_and_threshold` (one calibrated score, qa/confidence.py, against the
strictness) and `reads_again` (a reply that found no answer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from index.store import StoredPassage
from qa.checks import Check, CheckContext, said_otherwise
from qa.confidence import fit_for, model_first
from qa.citations import question_coverage, question_words
from qa.grounding import Attached, Draft, claims_in, ground
from qa.question import Question
from qa.reading import refused
from qa.retrieval import Retrieval


@dataclass(frozen=True)
class Verdict:
    """The gates' decision on a reply: a candidate with `attached` (claims and their passages), or
    withheld when `withheld` says why; `passed` holds the other checks' verdicts, evidence for
    the score."""

    attached: Attached
    withheld: str | None = None
    passed: dict[str, bool] = field(default_factory=dict)
    measures: dict[str, float] = field(default_factory=dict)


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
    passed: dict[str, bool] = {}
    for check in checks:
        if check.point != "citations":
            continue
        withheld = check(draft, context)
        if check.gate and withheld is not None:
            return Verdict(draft.attached, withheld)
        if not check.gate:
            passed[check.name] = withheld is None
    return Verdict(draft.attached, passed=passed, measures=draft.measures)


def evidence_for(verdict: Verdict, chances: dict[str, float] | None, articles: int) -> dict[str, float]:
    """What the score weighs for a candidate answer: how sure the model was of its first token
    (when the endpoint gives probabilities: `chances`), among how many `articles` it was found,
    how much of the question the cited sentences mention, and the evidence checks' verdicts (a
    check switched off passes)."""
    evidence = {
        # The more articles, the likelier a sentence that reads like the answer is another story's.
        "articles_searched": math.log10(1 + articles),
        "question_coverage": verdict.measures.get("question_coverage", 1.0),
    }
    first = model_first(chances)
    if first is not None:
        evidence["model_first"] = first
    for name in ("gives_what_was_asked", "mentions_what_was_asked"):
        evidence[name] = float(verdict.passed.get(name, True))
    return evidence


def chance_and_threshold(evidence: dict[str, float], model_name: str | None,
                         strictness: float | None) -> tuple[float, float]:
    """The chance that the candidate is right, and the least chance for it to be shown
    (NEWSDESK_STRICTNESS, else the fitted operating point)."""
    fit = fit_for(model_name, "model_first" in evidence)
    threshold = fit.threshold if strictness is None else strictness
    return fit.chance(evidence), threshold


def reads_again(reply: str) -> bool:
    """Whether the model found no answer, and may read again only the passages that mention what
    was asked. Not when the checks set its reply aside: read again, a model that answered from a
    passage about something else answers as often wrongly as rightly."""
    return refused(reply)
