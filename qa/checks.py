"""Stage 5, the checks: named rules that judge a grounded reply, each of which can be switched off.

In: a `Draft` (the reply's claims and their passages). Out: None when a check lets the reply through
(it may narrow the draft: drop claims, cite other sentences), or the notice saying why the reply is
withheld. `NEWSDESK_DISABLED_CHECKS=name,name` (or `checks_enabled(disabled=...)`) turns any off, so
each can be measured with and without; `CHECK_NAMES` lists them in the order they run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from index.dates import date_spans, spoken_date, written_date
from index.english import COUNT, RECENT_YEAR
from index.settings import Settings, SettingsError
from index.store import PassageStore, StoredPassage
from qa.citations import (MARKER, MIN_SUPPORT, adds_to, question_coverage,
                          question_words, support, unknown_names)
from qa.grounding import Attached, Draft, read_around
from qa.question import Question
from qa.reading import blocks
from qa.thresholds import MIN_WORD_SIMILARITY


@dataclass(frozen=True)
class CheckContext:
    """What checks may consult beside the draft: the store (word rarity, the cited articles'
    other sentences, the embedding model) and the settings (`min_question_coverage`)."""

    store: PassageStore
    settings: Settings


class Check:
    """A rule a reply must pass. `point`: "claims" runs on the reply's claims before they are tied
    to passages, "citations" after."""

    name: str = ""
    names: tuple[str, ...] = ()  # the switches it answers to (a check may hold two rules)
    point: str = "citations"
    # A gate withholds a reply that fails it; any other check is evidence for the decision's score
    # (qa/confidence.py), which weighs it as fitted, with the model's probabilities and retrieval's.
    gate: bool = True

    def __call__(self, draft: Draft, context: CheckContext) -> str | None:
        """None to let the reply through (the draft perhaps narrowed), or why it is withheld."""
        raise NotImplementedError


class SupportedClaims(Check):
    """A claim no passage supports is dropped; a reply with no supported claim is withheld.
    Off: unsupported claims are shown, without a citation."""

    name, names = "supported_claims", ("supported_claims",)

    def __call__(self, draft: Draft, context: CheckContext) -> str | None:
        if not any(kept for _, kept in draft.attached):
            return ("The model's reply could not be tied to any passage of the articles, so it is "
                    f"not shown: “{shorten(draft.reply, 160)}”")
        draft.attached = [(claim, kept) for claim, kept in draft.attached if kept]
        return None


class ClaimGrounded(Check):
    """A claim is grounded when the sentence it cites, read with the sentences around it that the
    model read and its article's headline, gives the claim's own names, figures and dates: "Acme
    bought Widgetco [1]" citing "Acme bought Gadgetco" is not. An ungrounded claim is dropped; a
    reply left with none is withheld."""

    name, names = "claim_grounded", ("claim_grounded",)

    def __call__(self, draft: Draft, context: CheckContext) -> str | None:
        passages = draft.passages
        grouped = blocks(passages)
        grounded: Attached = []
        for claim, kept in draft.attached:
            read = {i for block in grouped if set(block) & set(kept) for i in block}
            # One text: a headline alone reads too little like English for names to be compared.
            told = " ".join([passages[i].text for i in sorted(read)]
                            + sorted({passages[i].title for i in read if passages[i].title}))
            # An uncited claim is the business of `supported_claims`.
            if not kept or not unknown_names(MARKER.sub(" ", claim), [told]):
                grounded.append((claim, kept))
        if any(kept for _, kept in draft.attached) and not any(kept for _, kept in grounded):
            return ("The passages the model cited do not give the names, figures or dates of its "
                    f"reply, so it is not shown: “{shorten(draft.reply, 160)}”")
        draft.attached = grounded
        return None


class GivesWhatWasAsked(Check):
    """Some supported claim must give the kind of answer asked for (`answer_kind`: a count for "how
    many", an amount for "how much", a date for "on what date", a time for "when") and say
    something the question did not (`says_something_new`: "The Normans fell to the Normans" is
    the question said back), unless yes or no was asked. Both hold of one claim."""

    name, gate = "gives_what_was_asked", False

    def __init__(self, kind: bool = True, news: bool = True):
        self.kind, self.news = kind, news
        self.names = tuple(name for name, on in (("answer_kind", kind), ("says_something_new", news)) if on)

    def __call__(self, draft: Draft, context: CheckContext) -> str | None:
        question = draft.question
        holds = _gives_a_count(question) if question.asks_how_many else question.holds_asked_kind
        if any((not self.kind or holds is None or holds(claim))
               and (not self.news or question.asks_yes_or_no or adds_to(question.kind_text, claim))
               for claim, kept in draft.attached if kept):
            return None
        return ("The model's reply does not give what the question asks for, so it is not shown: "
                f"“{shorten(draft.reply, 160)}”")


def _gives_a_count(question: Question) -> Callable[[str], bool]:
    """Whether a text answers "how many": a count the question does not already give.

    Said another way it answers too ("217 dead" for "how many people were killed"; the figure's
    own check still refuses the count of something else), but "how many of the 70 countries..."
    answered "70 countries" is the question said back.
    """
    given = _counts(question.kind_text)
    counts_asked = question.holds_asked_kind

    def holds(text: str) -> bool:
        found = _counts(text)
        return bool(found - given) or (counts_asked is not None and counts_asked(text) and not found & given)

    return holds


def _counts(text: str) -> set[str]:
    """The counts a text gives ("217", "1,500", "dozens"), leaving out its dates and years."""
    for start, end in reversed(date_spans(text)):
        text = text[:start] + " " + text[end:]
    return {found.group().lower().replace(",", "") for found in COUNT.finditer(RECENT_YEAR.sub(" ", text))}


class MentionsWhatWasAsked(Check):
    """The cited sentences must mention what the question is about: its words weighted by rarity
    (`question_coverage`, at least `NEWSDESK_MIN_QUESTION_COVERAGE`), and every name or figure of
    it must be given somewhere in the cited articles (`names_given`). When they fall short, each
    claim is cited instead by its supporting sentence closest to the question, and judged again."""

    name, gate = "mentions_what_was_asked", False

    def __init__(self, coverage: bool = True, names: bool = True):
        self.coverage, self.check_names = coverage, names
        self.names = tuple(name for name, on in (("question_coverage", coverage), ("names_given", names)) if on)

    def __call__(self, draft: Draft, context: CheckContext) -> str | None:
        attached, passages = draft.attached, draft.passages
        evidence = read_around(attached, passages)
        if self.coverage:
            # How much of the question the cited sentences mention, not only whether enough.
            rarity = context.store.word_rarity(set(question_words(draft.question.standalone)))
            texts = [p.text for p in evidence]
            draft.measures["question_coverage"] = max(
                question_coverage(form, texts, rarity)[0] for form in draft.question.forms)
        missing = self.unmentioned(draft.question, evidence, context)
        if missing is not None:
            # The model may have cited a sentence that says the same with other words ("a meeting
            # in Qatar") while another retrieved one says it of what was asked ("a conference in
            # Qatar"): cite, for each claim, the supporting sentence closest to the question.
            recited = _recited(attached, passages, draft.question.standalone, context.store)
            if self.unmentioned(draft.question, read_around(recited, passages), context) is None:
                draft.attached, missing = recited, None
        if missing is None:
            return None
        return (f"The passages the model cited do not mention {listed(missing)}, so its reply is not "
                f"shown: “{shorten(draft.reply, 160)}”")

    def unmentioned(self, question: Question, evidence: list[StoredPassage],
                    context: CheckContext) -> list[str] | None:
        """The question's words the evidence lacks, when it lacks too much of what was asked, or
        any name or figure of it that the evidence's articles never give.

        A follow-up is judged by its rewrite or by its own words, whichever the evidence covers
        better: a rewrite that failed may carry words of an earlier question.
        """
        store = context.store
        texts = [p.text for p in evidence]
        articles: list[str] = []
        if self.check_names:
            spans = store.stored_spans(sorted({p.source for p in evidence}))
            dateline_of = {p.source: _dateline(p) for p in evidence}
            bylines = {p.source: _byline(p, dateline_of[p.source]) for p in evidence}
            articles = texts + [" ".join([bylines[source], *(text for *_, text in found)])
                                for source, found in spans.items()]
        datelines = sorted({_dateline(p) for p in evidence} - {""})
        best: tuple[float, list[str]] | None = None
        for form in question.forms:
            unknown = unknown_names(form, articles) if self.check_names else []
            if unknown:
                # A name or figure its articles never give: about something they do not report.
                found = (0.0, unknown)
            elif not self.coverage:
                found = (1.0, [])
            else:
                rarity = store.word_rarity(set(question_words(form)))
                # The cited articles' dates are as much about the question's day as their sentences.
                found = question_coverage(form, texts + datelines, rarity,
                                          lambda words, said: said_otherwise(store, words, said))
            if best is None or found[0] > best[0]:
                best = found
        assert best is not None
        coverage, missing = best
        return missing if coverage < context.settings.min_question_coverage else None


def _recited(attached: Attached, passages: list[StoredPassage], standalone: str,
             store: PassageStore) -> Attached:
    """Each supported claim cited by its supporting sentence that covers most of the question."""
    texts = [p.text for p in passages]
    rarity = store.word_rarity(set(question_words(standalone)))
    recited = []
    for claim, kept in attached:
        supporting = [i for i, text in enumerate(texts) if support(claim, text, standalone) >= MIN_SUPPORT]
        if kept and supporting:
            best = max(supporting, key=lambda i: question_coverage(
                standalone, [p.text for p in read_around([("", [i])], passages)], rarity)[0])
            kept = [best]
        recited.append((claim, kept))
    return recited


def said_otherwise(store: PassageStore, words: list[str], evidence_words: list[str]) -> set[str]:
    """The question's words that a word of the evidence says otherwise ("troops" for
    "soldiers"), by the embedding model's similarity of the two words alone."""
    model = store.embedding_model
    vectors = model.embed_query(words + evidence_words)
    similarity = model.similarity(vectors[: len(words)] @ vectors[len(words) :].T)
    return {word for word, row in zip(words, similarity) if row.max() >= MIN_WORD_SIMILARITY}


def _byline(passage: StoredPassage, dateline: str | None = None) -> str:
    """An article's headline, outlet and date in words (its `_dateline`, if not given already), as
    a reader knows them beside its text."""
    # A headline made of the first sentence is cut at 80 characters: "Henry II…" of "Henry III".
    headline = re.sub(r"\S*…$", "", passage.title)
    dateline = _dateline(passage) if dateline is None else dateline
    return ". ".join(part for part in (headline, passage.outlet, dateline) if part) + "."


def _dateline(passage: StoredPassage) -> str:
    """The article's date in words, and the day before it ("" without a date).

    A question places what it asks in time ("in the September 2017 earthquake") from the
    article's date, which its sentences rarely repeat; the day before is the day most news reports.
    """
    try:
        day = date.fromisoformat((passage.published or "")[:10])
    except ValueError:  # no date, or one another newsdesk's version wrote otherwise
        return ""
    return "; ".join(f"{spoken_date(told)}, {written_date(told)}" for told in (day, day - timedelta(days=1)))


# ----- the list ---------------------------------------------------------------------------------
# Every switch, in the order its check runs.
CHECK_NAMES = ("supported_claims", "claim_grounded", "answer_kind",
               "says_something_new", "question_coverage", "names_given")


def checks_enabled(disabled: tuple[str, ...] | list[str] = ()) -> list[Check]:
    """The checks in the order they run, without the `disabled` ones (names of CHECK_NAMES)."""
    unknown = sorted(set(disabled) - set(CHECK_NAMES))
    if unknown:
        raise SettingsError(f"NEWSDESK_DISABLED_CHECKS: no check is called {', '.join(unknown)}; "
                            f"the checks are {', '.join(CHECK_NAMES)}")
    on = {name: name not in disabled for name in CHECK_NAMES}
    checks: list[Check] = []
    if on["supported_claims"]:
        checks.append(SupportedClaims())
    if on["claim_grounded"]:
        checks.append(ClaimGrounded())
    if on["answer_kind"] or on["says_something_new"]:
        checks.append(GivesWhatWasAsked(kind=on["answer_kind"], news=on["says_something_new"]))
    checks.append(MentionsWhatWasAsked(coverage=on["question_coverage"], names=on["names_given"]))
    return checks


def mentions_check(checks: list[Check]) -> MentionsWhatWasAsked:
    """The list's check of what the cited sentences mention (evidence mode uses it too)."""
    return next(check for check in checks if isinstance(check, MentionsWhatWasAsked))


# ----- notices ----------------------------------------------------------------------------------
def listed(words: list[str]) -> str:
    """“a”, “b” or “c”: the first four words, quoted, for a notice."""
    quoted = [f"“{word}”" for word in words[:4]]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def shorten(text: str, limit: int) -> str:
    """The text on one line, cut with "…" to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
