"""Stage 1, the question: what the reader asked, made standalone and parsed once into a `Question`.

In: the reader's text and the conversation so far. Out: a `Question` holding its standalone form
(a follow-up rewritten by the model), the kind of answer it asks for, whether it asks about time
or for the latest state of things. Every later stage reads these fields; none parses the text again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.english import (AMOUNT, ASKS_FOR_DATE, ASKS_FOR_TIME, ASKS_YES_OR_NO, CONTRACTION, DATE,
                           HOW_MANY, HOW_MUCH, LATEST, LEANS_ON_CONVERSATION, OPENING_CONJUNCTION,
                           REFUSAL, TIME, WHEN)
from qa.citations import content_words, normalise
from qa.disagreements import quantities
from qa.llm import ChatModel, ModelUnavailable
from qa.prompting import fixed_prefix, prompt

History = Sequence[tuple[str, str]] | Sequence[Sequence[str]]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKERS = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class Question:
    """A question as the pipeline reads it, parsed once.

    `text` is what the reader asked; `standalone` the form retrieval and the model read (a
    follow-up's rewrite, else `text`); `kind_text` the words whose kind of answer is wanted.
    """

    text: str
    standalone: str
    kind_text: str
    asks_when: bool  # for a time or a date, by either form: retrieval adds a passage with a time
    wants_latest: bool  # the state of things as of now, by either form: newest articles first
    prompt_dates: bool  # the prompt gives the articles' dates (by the standalone form only)
    asks_yes_or_no: bool
    counted: frozenset[str]  # for "how many X": X's content words (empty otherwise)
    asks_how_many: bool
    # Whether a text holds the kind of answer asked for (a date, a time, a count of what is
    # counted, an amount); None when no particular kind is asked.
    holds_asked_kind: Callable[[str], bool] | None
    rewrite_notice: str | None = None  # why a follow-up could not be rewritten, if it could not

    @property
    def about_time(self) -> bool:
        """Asks when, or for the latest: claims get calendar dates, the answer an "as of"."""
        return self.asks_when or self.wants_latest

    @property
    def forms(self) -> tuple[str, ...]:
        """The standalone form, then the reader's own words when they differ: a follow-up is judged
        by whichever the evidence covers better (a failed rewrite joins two questions)."""
        return tuple(dict.fromkeys((self.standalone, self.text)))

    @property
    def rewritten(self) -> str | None:
        return self.standalone if self.standalone != self.text else None


def cleaned(text: str | None) -> str:
    """The question without control characters or surrounding space."""
    return _CONTROL.sub(" ", text or "").strip()


def parse_question(text: str, standalone: str | None = None,
                   rewrite_notice: str | None = None) -> Question:
    """`text` parsed once: the only place the pipeline reads what a question asks."""
    standalone = standalone or text
    kind_text = _kind_asked_by(text, standalone)
    match = HOW_MANY.search(kind_text)
    return Question(
        text=text, standalone=standalone, kind_text=kind_text,
        asks_when=bool(WHEN.search(text) or WHEN.search(standalone)),
        wants_latest=bool(LATEST.search(text) or LATEST.search(standalone)),
        prompt_dates=bool(LATEST.search(standalone) or WHEN.search(standalone)),
        asks_yes_or_no=bool(ASKS_YES_OR_NO.search(kind_text)),
        counted=frozenset(content_words(match.group(1))) if match else frozenset(),
        asks_how_many=match is not None,
        holds_asked_kind=asked_kind(kind_text),
        rewrite_notice=rewrite_notice,
    )


def understood(text: str, history: History | None, model: ChatModel | None) -> Question:
    """The question made standalone when it leans on the conversation, then parsed."""
    standalone, notice = text, None
    if history and leans_on_conversation(text):
        standalone, notice = standalone_question(text, history, model)
    return parse_question(text, standalone, notice)


def asked_kind(question: str) -> Callable[[str], bool] | None:
    """Whether a text holds the kind of answer `question` asks for (a date, a time, a count of
    what is counted, an amount); None when the question asks for no particular kind."""
    if ASKS_FOR_DATE.search(question):
        return lambda text: bool(DATE.search(text))
    if ASKS_FOR_TIME.search(question):
        return lambda text: bool(TIME.search(text))
    if HOW_MUCH.search(question):
        return lambda text: bool(AMOUNT.search(text))
    match = HOW_MANY.search(question)
    if match and (counted := content_words(match.group(1))):
        return lambda text: bool(counted & set(quantities(text)))
    return None


def _kind_asked_by(asked: str, standalone: str) -> str:
    """The question whose kind of answer is wanted: a follow-up's own words when no rewrite was
    usable and the standalone question is the earlier one joined to it ("How many countries...?
    What did it ask them for?" wants no count)."""
    return asked if standalone != asked and standalone.endswith(asked) else standalone


# ----- follow-ups -------------------------------------------------------------------------------
def leans_on_conversation(question: str) -> bool:
    """Whether a question needs the conversation to be understood ("And what did she say?")."""
    return bool(LEANS_ON_CONVERSATION.search(question)) or len(question.split()) <= 3


def standalone_question(question: str, history: History,
                        model: ChatModel | None) -> tuple[str, str | None]:
    """The follow-up rewritten by the model to stand alone, and a notice when the model failed.

    Without a usable rewrite, retrieval still sees what the conversation was about: the last
    question joined to this one.
    """
    turns = _turns(history)
    if not turns:
        return question, None
    with_last_question = f"{turns[-1][0]} {question}"
    if model is None:
        return with_last_question, None
    conversation = "\n".join(f"Q: {q}\nA: {_MARKERS.sub('', a)[:300]}" for q, a in turns)
    # The plain request first; worked examples only when its rewrite is not usable: they cost
    # a few seconds of prompt, and each wording fails on questions the other gets right.
    for examples in ("", prompt("rewrite_examples") + "\n\n"):
        messages = [*fixed_prefix(), {"role": "user", "content": prompt("rewrite").format(
            examples=examples, conversation=conversation, question=question)}]
        try:
            rewritten = model.complete(messages, max_tokens=60).strip().strip('"').splitlines()
        except ModelUnavailable as error:
            return with_last_question, str(error)
        # The model sometimes answers instead of rewriting, or copies an article tag "(A)".
        candidate = re.sub(r"\s*\([A-Z]\)\s*", " ", rewritten[0] if rewritten else "").strip()
        if rewrites(question, candidate):
            return candidate, None
    return with_last_question, None


def _turns(history: History) -> list[tuple[str, str]]:
    """The last three (question, answer) pairs; malformed entries are left out."""
    turns = []
    for turn in list(history or [])[-3:]:
        if isinstance(turn, (list, tuple)) and len(turn) == 2:
            turns.append((str(turn[0]), str(turn[1])))
    return turns


def rewrites(question: str, candidate: str) -> bool:
    """Whether `candidate` is `question` made standalone, not another question.

    One question, asked with the same opening word, keeping every word of the question but the
    ones it leaned on ("he", "them", "that"), fewer of which are left: the model sometimes answers
    instead, asks the earlier question again before this one, turns "What did he say" into "Who
    said", drops "according to the second article", or gives the question back unchanged.
    """
    if (not candidate.endswith("?") or candidate.count("?") > 1 or len(candidate) > 400
            or REFUSAL.search(candidate)):
        return False
    asked, rewritten = (OPENING_CONJUNCTION.sub("", text).strip() for text in (question, candidate))
    if not asked or not rewritten or rewritten.lower() == asked.lower():
        return False
    if _first_word(asked) != _first_word(rewritten):  # "Why?" and "Why did...", "What's" and "What"
        return False
    leaned_on = len(LEANS_ON_CONVERSATION.findall(asked))
    if leaned_on and len(LEANS_ON_CONVERSATION.findall(rewritten)) >= leaned_on:
        return False
    return content_words(CONTRACTION.sub("", asked)) <= content_words(CONTRACTION.sub("", rewritten))


def _first_word(text: str) -> str:
    return next(iter(re.findall(r"[a-z]+", normalise(text))), "")
