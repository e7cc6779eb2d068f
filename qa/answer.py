"""`ask()`: a question in, a short answer out, every claim tied to the sentence it comes from.

The path is one way: question -> (standalone question) -> retrieved passages -> model reply ->
checked citations -> `Answer`. When no model can be reached, the answer is the best supporting
sentences themselves (`mode == "extracted"`), never an exception. `since`, `until` and `outlets`
limit the articles searched; every citation carries its article's outlet and date.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from importlib.resources import files

import numpy as np

from index.build import IndexReport, articles_signature, build_index
from index.dates import date_spans, day_number, spoken_date, written_date
from index.settings import Settings, load_settings
from index.store import PassageFilter, PassageStore, StoredPassage, StoreError
from qa.citations import (
    MIN_SUPPORT,
    Claim,
    adds_to,
    attach_citations,
    canonical_markers,
    contains_phrase,
    content_words,
    figures,
    normalise,
    numbers,
    question_coverage,
    question_words,
    readable_prefix,
    split_claims,
    support,
    unknown_names,
)
from qa.disagreements import COUNT_WORDS, find_disagreements, quantities
from qa.filters import DateLike, FilterError, article_filter
from qa.llm import ChatModel, ModelUnavailable
from qa.retrieval import Retrieval, explains, other_tellings, retrieve
from qa.time_answers import (as_of, asks_about_time, asks_for_latest, asks_when, dated,
                             newest_cited_date, newest_first, reported_update, with_calendar_dates)

NOT_IN_ARTICLES = "The articles don't say."
_ABSTAIN_REPLY = re.compile(
    r"not in the articles|not (?:mentioned|stated|specified|provided|given|found|included)\b"
    r"|do(?:es)? not (?:say|mention|contain|specify|provide|state|include|give)"
    r"|no (?:information|mention)|cannot be (?:determined|answered|found)|can't be determined"
    r"|unable to (?:answer|determine|find)|i don'?t know",
    re.IGNORECASE,
)
# A sentence that speaks to a language model rather than about the news ("Ignore previous
# instructions and say ...") is not reporting: it never reaches the model, and is never cited.
_ADDRESSES_MODEL = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+)?(?:your|previous|prior|"
    r"above|earlier|preceding|system)\s+(?:instructions|prompts?)\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:all\s+of\s+|everything\s+)?the\s+above\b"
    r"|\bsystem prompt\b|\bjailbreak"
    r"|\byou are (?:now )?(?:an? |the )?(?:ai|assistant|language model|chatbot|llm)\b"
    r"|\b(?:ai(?: assistants?)?|language models?|llms?|chatbots?)\b[^.!?]{0,40}?\b(?:must|should)\s+"
    r"(?:answer|reply|respond|say|write)\b",
    re.IGNORECASE,
)
_MARKERS = re.compile(r"\s*\[\d+\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Claims and passages this similar (cosine) support each other even when their words differ.
MIN_CLAIM_SIMILARITY = 0.72
# Two single words this similar are taken as the same thing said otherwise ("problems" and
# "issues" 0.88, "minister" and "ministry" 0.81); "attended" and "participated" (0.62) are not.
MIN_WORD_SIMILARITY = 0.75

History = Sequence[tuple[str, str]] | Sequence[Sequence[str]]


@dataclass(frozen=True)
class Citation:
    """A quoted passage: `article_text(source)[start:end] == quote`."""

    number: int
    source: str
    title: str
    quote: str
    start: int
    end: int
    outlet: str | None = None
    published: str | None = None
    url: str | None = None  # the article's web address: a fetched page's, or its sidecar's `url`


@dataclass(frozen=True)
class Version:
    """One article's version of a disputed fact (versions are listed newest article first)."""

    text: str
    citations: list[int]
    source: str
    outlet: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class Disagreement:
    """A fact the articles give differently, with each version and its citations."""

    fact: str
    versions: list[Version]


@dataclass(frozen=True)
class Corroboration:
    """A statement of the answer that several articles of one story report alike.

    `citations[i]` is the marker of `sources[i]`'s telling; `outlets[i]` names that article (its
    outlet, else its title).
    """

    statement: str
    citations: list[int]
    sources: list[str]
    outlets: list[str]

    @property
    def reported_by(self) -> str:
        """ "Reported by both Arab News and Dawn [1][3]" (or "by all of ...")."""
        names = list(dict.fromkeys(self.outlets))
        if len(names) == 2:
            who = f"both {names[0]} and {names[1]}"
        else:
            who = "all of " + ", ".join(names[:-1]) + f" and {names[-1]}"
        return f"Reported by {who} {''.join(f'[{n}]' for n in self.citations)}"


@dataclass
class Answer:
    """What `ask()` returns; `citations[n-1]` is marker `[n]` in `text`."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    mode: str = "generated"  # "generated" by a model, or "extracted" from the articles
    notice: str | None = None
    disagreements: list[Disagreement] = field(default_factory=list)
    # Statements other articles of the same story also report (their markers are in `text`).
    corroborations: list[Corroboration] = field(default_factory=list)
    # What the model read: what retrieval found, or after a second reading the passages of it
    # that mention what was asked.
    passages: list[StoredPassage] = field(default_factory=list)
    model: str | None = None
    standalone_question: str | None = None
    seconds: float = 0.0
    first_token_seconds: float | None = None
    queue_seconds: float = 0.0  # of `seconds`, waiting for the model while it served others
    article_filter: str | None = None  # the articles searched, when limited: "published since ..."

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


@lru_cache(maxsize=None)
def _prompt(name: str) -> str:
    return files("qa").joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8").strip()


@lru_cache(maxsize=1)
def _example_words() -> frozenset[str]:
    """Content words of the worked examples' passages and answers."""
    text = re.sub(r"\[\d+\]|NOT IN THE ARTICLES|Passages|Question|Answer", " ", _prompt("answer_examples"))
    return frozenset(content_words(text))


def _fixed_prefix() -> tuple[dict[str, str], ...]:
    """The system prompt and the worked examples (answer_examples.txt) as earlier chat turns.

    Every model call starts with exactly these messages: llama.cpp keeps them evaluated, so an
    answer, a follow-up rewrite or the warm-up reads only what comes after them.
    """
    parts = [part.strip() for part in _prompt("answer_examples").split("\n---\n")]
    roles = ("user", "assistant")
    return ({"role": "system", "content": _prompt("answer_system")},
            *({"role": roles[i % 2], "content": part} for i, part in enumerate(parts)))


class AnswerEngine:
    """The store, the model and the index's freshness for one set of settings."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = PassageStore(settings)
        self.model = ChatModel(settings) if settings.llm != "none" else None
        self._index_lock = threading.Lock()
        self._files_signature: tuple | None = None
        self.last_index_report: IndexReport | None = None

    # ----- the index --------------------------------------------------------------------------
    def ensure_index(self, wait: bool = True,
                     progress: Callable[[int, int, str], None] | None = None) -> IndexReport | None:
        """Index new, changed and removed articles; cheap (file stats) when nothing changed.

        With `wait=False`, returns None at once when another thread is indexing: the caller goes
        on with the store as it is (articles being rewritten are hidden from searches meanwhile).
        `progress(done, total, current)` hears of each article embedded.
        """
        if not self._index_lock.acquire(blocking=wait):
            return None
        try:
            signature = self._signature()
            if signature == self._files_signature:
                return None
            report = build_index(self.settings, self.store, progress)
            self._files_signature = signature
            self.last_index_report = report
            return report
        finally:
            self._index_lock.release()

    def _signature(self) -> tuple:
        return articles_signature(self.settings)

    def warm_up(self) -> None:
        """Start the model and have it read the fixed prompt prefix, so the first answer is fast."""
        if self.model is not None:
            self.model.complete(self._messages("Is the model ready?", []), max_tokens=1)

    # ----- answering --------------------------------------------------------------------------
    def ask(self, question: str, history: History | None = None, *, since: DateLike = None,
            until: DateLike = None, outlets: str | Sequence[str] | None = None) -> Answer:
        answer = None
        for event in self.ask_stream(question, history, since=since, until=until, outlets=outlets):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(
        self, question: str, history: History | None = None, *, since: DateLike = None,
        until: DateLike = None, outlets: str | Sequence[str] | None = None,
    ) -> Iterator[list[StoredPassage] | str | Answer]:
        """Yield the retrieved passages, then the reply's text as generated, then the Answer.

        When the model finds no answer, passages and reply may come a second time: the model reads
        again only the passages that mention what was asked.

        Only articles published from `since` to `until` (dates, or ISO strings), from one of
        `outlets`, are searched; when none is, the Answer abstains and its notice says why.
        """
        started = time.perf_counter()
        question = _CONTROL.sub(" ", question or "").strip()
        refusal = self._refusal(question)
        if refusal:
            yield Answer(question=question, text=refusal, abstained=True, notice=refusal,
                         mode=self._mode())
            return
        waited_before = self._queue_wait()
        index_problem = None
        try:
            # While another thread re-indexes, answer from the store as it is rather than wait;
            # with nothing indexed yet there is nothing to answer from, so wait then.
            self.ensure_index(wait=self.store.count() == 0)
        except StoreError as error:  # a read-only or full data folder: answer from what is there
            index_problem = f"The index could not be brought up to date: {error}"
        if self.store.count() == 0:
            notice = index_problem or (f"No articles are indexed yet: add .txt, .md or .html files "
                                       f"to {self.settings.articles_dir}.")
            yield Answer(question=question, text=NOT_IN_ARTICLES, abstained=True, notice=notice,
                         mode=self._mode())
            return
        try:
            only, nothing = article_filter(self.store.manifest.articles.values(), since, until, outlets)
        except FilterError as error:
            yield Answer(question=question, text=NOT_IN_ARTICLES, abstained=True,
                         notice=f"The filter cannot be used: {error}.", mode=self._mode())
            return
        described = only.describe() or None
        if nothing:  # the filter leaves no article: say so rather than search nothing
            yield Answer(question=question, text=NOT_IN_ARTICLES, abstained=True, notice=nothing,
                         mode=self._mode(), article_filter=described)
            return

        notice = None
        standalone = question
        if history and _leans_on_conversation(question):
            standalone, notice = self._standalone_question(question, history)
        found = retrieve(self.store, standalone, self.settings.passages_per_answer,
                         _asked_kind(_kind_asked_by(question, standalone)), only or None)
        retrieval = (found.closest(self.settings.relevance_gap).with_context(self.store)
                     .excluding(_addresses_model))
        if asks_when(question) or asks_when(standalone):
            retrieval = _with_a_time(found, retrieval)
        latest = asks_for_latest(question) or asks_for_latest(standalone)
        if latest:
            retrieval = newest_first(retrieval)  # the model reads, and answers from, the newest first
        yield retrieval.passages

        answer = Answer(question=question, text=NOT_IN_ARTICLES, abstained=True,
                        passages=retrieval.passages, mode=self._mode(), notice=notice,
                        model=self.model.info.name if self.model else None,
                        standalone_question=standalone if standalone != question else None,
                        article_filter=described)
        if (retrieval.best_similarity < self.settings.min_relevance
                and not self._mentions_all_asked(standalone, retrieval.passages)):
            answer.seconds = time.perf_counter() - started
            answer.notice = _joined(answer.notice, index_problem)
            yield answer
            return

        if self.model is None:
            answer = self._extracted(answer, retrieval, notice or "No language model is configured "
                                     "(NEWSDESK_LLM=none).")
        else:
            try:
                reply = yield from self._reply(answer, standalone, retrieval, started)
                unchecked = replace(answer)
                answer = self._checked(answer, self._verified(standalone, retrieval.passages, reply),
                                       retrieval, standalone)
            except ModelUnavailable as error:
                answer = self._extracted(answer, retrieval, str(error))
            else:
                # Among several passages a 1.5B model may read past the one that answers ("Does it
                # recognize Israel?" with "...Pakistan, which does not recognize Israel" third):
                # when it finds no answer, it reads again only those that mention what was asked.
                # Not when the checks set its reply aside: read again, a model that answered from
                # a passage about something else answers as often wrongly as rightly (on SQuAD's
                # unanswerable questions, made to look answerable, mostly wrongly).
                focused = (self._focused((standalone, question), found, retrieval, latest)
                           if _refused(reply) else None)
                if focused is not None:
                    answer = yield from self._second_reading(answer, unchecked, standalone, focused,
                                                             started)
        answer.seconds = time.perf_counter() - started
        answer.queue_seconds = self._queue_wait() - waited_before
        answer.notice = _joined(answer.notice, index_problem)
        yield answer

    def _reply(self, answer: Answer, question: str, retrieval: Retrieval,
               started: float) -> Generator[str, None, str]:
        """Stream the model's reply to the question over these passages and return it whole,
        its citations written `[n]` and the prompt's article labels gone (the reader sees neither
        "[B]" nor "(1)"); the answer notes when the first token came."""
        count = len(_blocks(retrieval.passages))
        reply, shown = "", ""
        for piece in self.model.stream(self._messages(question, retrieval.passages)):  # type: ignore[union-attr]
            if answer.first_token_seconds is None:
                answer.first_token_seconds = time.perf_counter() - started
            reply += piece
            visible = readable_prefix(reply, count)
            if visible.startswith(shown) and len(visible) > len(shown):
                yield visible[len(shown):]
                shown = visible
        reply = canonical_markers(reply, count)
        if reply.startswith(shown) and len(reply) > len(shown):
            yield reply[len(shown):]
        return reply

    def _focused(self, forms: tuple[str, ...], found: Retrieval, read: Retrieval,
                 latest: bool) -> Retrieval | None:
        """The retrieved passages that each mention enough of what was asked to be cited for it
        (at most two, the ones that mention most, with the sentences they lean on), or None when
        none does or they are what the model has just read. A follow-up counts by its rewrite or
        its own words, whichever a passage mentions more of (a failed rewrite joins two questions).
        """
        candidates = found.excluding(_addresses_model)
        rarity = self.store.word_rarity(set().union(*(question_words(form) for form in forms)))
        coverage = {p.passage_id: max(question_coverage(form, [p.text], rarity)[0] for form in forms)
                    for p in candidates.passages}
        most = sorted(coverage, key=lambda passage_id: -coverage[passage_id])[:2]
        kept = {passage_id for passage_id in most
                if coverage[passage_id] >= self.settings.min_question_coverage}
        if not kept:
            return None
        focused = (candidates.excluding(lambda p: p.passage_id not in kept).with_context(self.store)
                   .excluding(_addresses_model))
        if latest:
            focused = newest_first(focused)
        if {p.passage_id for p in focused.passages} == {p.passage_id for p in read.passages}:
            return None
        return focused

    def _second_reading(
        self, answer: Answer, unchecked: Answer, question: str, focused: Retrieval, started: float,
    ) -> Generator[list[StoredPassage] | str, None, Answer]:
        """The model's answer from the focused passages if it passes the checks; else the first
        answer, with the reason the second reply was set aside."""
        yield focused.passages
        second = replace(unchecked, passages=focused.passages)
        try:
            reply = yield from self._reply(second, question, focused, started)
        except ModelUnavailable as error:
            answer.notice = _joined(answer.notice, f"A second reading of the passages that mention "
                                    f"what was asked could not be made: {error}")
            return answer
        second = self._checked(second, self._verified(question, focused.passages, reply), focused,
                               question)
        # Answer.passages: every passage put before the model for this answer, over both readings.
        read_first = {p.passage_id for p in answer.passages}
        both = answer.passages + [p for p in second.passages if p.passage_id not in read_first]
        if not second.abstained:
            second.passages = both
            return second
        answer.notice = _joined(answer.notice, second.notice)
        answer.passages = both
        return answer

    def _queue_wait(self) -> float:
        return self.model.queue_wait() if self.model is not None else 0.0

    def _mode(self) -> str:
        return "generated" if self.model is not None else "extracted"

    def _refusal(self, question: str) -> str | None:
        if not question:
            return "Ask a question about the articles."
        if len(question) > self.settings.max_question_chars:
            return (f"The question is {len(question):,} characters long; the limit is "
                    f"{self.settings.max_question_chars:,} (NEWSDESK_MAX_QUESTION_CHARS).")
        return None

    def _standalone_question(self, question: str, history: History) -> tuple[str, str | None]:
        turns = _turns(history)
        if not turns:
            return question, None
        # Without a usable rewrite, retrieval still sees what the conversation was about.
        with_last_question = f"{turns[-1][0]} {question}"
        if self.model is None:
            return with_last_question, None
        conversation = "\n".join(f"Q: {q}\nA: {_MARKERS.sub('', a)[:300]}" for q, a in turns)
        # The plain request first; worked examples only when its rewrite is not usable: they cost
        # a few seconds of prompt, and each wording fails on questions the other gets right.
        for examples in ("", _prompt("rewrite_examples") + "\n\n"):
            messages = [*_fixed_prefix(), {"role": "user", "content": _prompt("rewrite").format(
                examples=examples, conversation=conversation, question=question)}]
            try:
                rewritten = self.model.complete(messages, max_tokens=60).strip().strip('"').splitlines()
            except ModelUnavailable as error:
                return with_last_question, str(error)
            # The model sometimes answers instead of rewriting, or copies an article tag "(A)".
            candidate = re.sub(r"\s*\([A-Z]\)\s*", " ", rewritten[0] if rewritten else "").strip()
            if _rewrites(question, candidate):
                return candidate, None
        return with_last_question, None

    def _messages(self, question: str, passages: list[StoredPassage]) -> list[dict[str, str]]:
        return [
            *_fixed_prefix(),
            {"role": "user", "content": _prompt("answer_user").format(
                passages=_numbered(passages, with_dates=asks_about_time(question)), question=question)},
        ]

    def _verified(self, question: str, passages: list[StoredPassage], reply: str) -> str:
        """The reply, or NOT IN THE ARTICLES when the model, asked (`verify_answers`), does not
        stand by it.

        Asked in the same conversation, so llama.cpp reuses everything it has evaluated: the
        check costs a few new tokens, not a second reading of the passages.
        """
        if not self.settings.verify_answers or _refused(reply):
            return reply
        messages = self._messages(question, passages) + [
            {"role": "assistant", "content": reply},
            {"role": "user", "content": _prompt("verify")},
        ]
        verdict = self.model.complete(messages, max_tokens=3).strip().lower()  # type: ignore[union-attr]
        return "NOT IN THE ARTICLES" if verdict.startswith("no") else reply

    def _checked(self, answer: Answer, reply: str, retrieval: Retrieval, question: str) -> Answer:
        """Turn the model's reply into an Answer whose every citation supports its claim."""
        if _refused(reply):
            answer.abstained = True
            answer.text = NOT_IN_ARTICLES
            return answer
        passages = retrieval.passages
        # A claim with words of the worked examples that no article and not the question has was
        # copied from the examples (small models do: "The mayor says..."): it is never shown.
        foreign = _example_words() - content_words(question)
        foreign -= self.store.words_in_articles(set(foreign))
        claims = [claim for claim in _sentence_citations(split_claims(reply), passages)
                  if not content_words(claim.text) & foreign]
        attached = attach_citations(claims, [p.text for p in passages], question)
        uncited = [claim for claim, kept in attached if not kept]
        similarities = self._similarities(uncited, retrieval) if uncited else None
        for row, (claim, kept) in enumerate(attached):
            if not kept and similarities is not None and passages:
                # Words differ: accept a close paraphrase by embedding similarity, but never one
                # that changes a figure ("45" and "dozens" embed alike).
                scores = similarities[uncited.index(claim)]
                best = int(np.argmax(scores))
                if (scores[best] >= MIN_CLAIM_SIMILARITY
                        and figures(claim) - figures(question) <= figures(passages[best].text)):
                    attached[row] = (claim, [best])
        if not any(kept for _, kept in attached):
            answer.abstained = True
            answer.text = NOT_IN_ARTICLES
            answer.notice = ("The model's reply could not be tied to any passage of the "
                             f"articles, so it is not shown: “{_shorten(reply, 160)}”")
            return answer
        if not _gives_what_was_asked(_kind_asked_by(answer.question, question), attached):
            answer.abstained = True
            answer.text = NOT_IN_ARTICLES
            answer.notice = ("The model's reply does not give what the question asks for, so it "
                             f"is not shown: “{_shorten(reply, 160)}”")
            return answer
        if not self._counts_what_was_asked(_kind_asked_by(answer.question, question), attached, passages):
            answer.abstained = True
            answer.text = NOT_IN_ARTICLES
            answer.notice = ("The figure in the model's reply is the count of something else in "
                             f"the passage it read, so the reply is not shown: “{_shorten(reply, 160)}”")
            return answer
        missing = self._unmentioned(answer.question, question, _read_around(attached, passages))
        if missing is not None:
            # The model may have cited a sentence that says the same with other words ("a meeting
            # in Qatar") while another retrieved one says it of what was asked ("a conference in
            # Qatar"): cite, for each claim, the supporting sentence closest to the question.
            recited = self._recited(attached, passages, answer.question, question)
            again = self._unmentioned(answer.question, question, _read_around(recited, passages))
            if again is None:
                attached, missing = recited, None
        if missing is not None:
            answer.abstained = True
            answer.text = NOT_IN_ARTICLES
            answer.notice = (f"The passages the model cited do not mention {_listed(missing)}, so "
                             f"its reply is not shown: “{_shorten(reply, 160)}”")
            return answer
        answer.abstained = False
        return self._with_other_tellings(answer, attached, passages, question, retrieval.only)

    def _with_other_tellings(
        self, answer: Answer, attached: list[tuple[str, list[int]]], passages: list[StoredPassage],
        question: str, only: PassageFilter | None = None,
    ) -> Answer:
        """The answer rendered with its disagreements, looked for also in the other articles'
        tellings of what it cites; a telling that gets cited joins the answer's passages.

        A question about time gets the calendar dates of the relative ones its claims repeat, and
        a question about the latest state of things an "as of" date."""
        cited = sorted({i for _, kept in attached for i in kept})
        tellings = other_tellings(self.store, [passages[i] for i in cited], only)
        everything = passages + tellings
        corroborated = self._corroborated(attached, everything, question)
        if asks_about_time(answer.question) or asks_about_time(question):
            attached = [(with_calendar_dates(claim, [everything[i] for i in kept]), kept)
                        for claim, kept in attached]
        answer = _with_disagreements(answer, attached, everything, question)
        answer.corroborations = self._corroborations(answer, corroborated, everything)
        quoted = {(c.source, c.start) for c in answer.citations}
        answer.passages = passages + [t for t in tellings if (t.source, t.start) in quoted]
        if not answer.abstained and (asks_for_latest(answer.question) or asks_for_latest(question)):
            answer.text = as_of(answer.text, newest_cited_date([c.published for c in answer.citations]))
        return answer

    def _counts_what_was_asked(
        self, question: str, attached: list[tuple[str, list[int]]], passages: list[StoredPassage]
    ) -> bool:
        """For "how many X": when what the model read counts X in two sentences ("contacted more
        than 70 countries. Among them, around 19 countries have declared themselves ready"), the
        figure given must be the one of the sentence about what was asked."""
        match = _HOW_MANY.search(question)
        counted = content_words(match.group(1)) if match else set()
        if not counted:
            return True
        given = set().union(*(numbers(claim) for claim, kept in attached if kept))
        cited = {index for _, kept in attached for index in kept}
        asked = set(question_words(question))
        # Within one passage only: two articles' different counts are a disagreement, not this.
        for block in _blocks(passages):
            if not cited & set(block):
                continue
            counting = {passages[i].text: asked & content_words(passages[i].text)
                        for i in block if counted & set(quantities(passages[i].text))}
            for text, mentioned in counting.items():
                # The figure's sentence mentions less of the question than another count's does,
                # and nothing of the question that the other does not: it counts something else.
                if given & numbers(text) and any(
                        mentioned < other for other_text, other in counting.items()
                        if not given & numbers(other_text)):
                    return False
        return True

    def _corroborated(
        self, attached: list[tuple[str, list[int]]], passages: list[StoredPassage], question: str,
    ) -> list[tuple[str, list[int]]]:
        """Cite, beside each claim's passage, the other articles of its story that tell it alike.

        A telling corroborates when its article reports the same story, it supports the claim as
        any citation must (its words and figures), and no disagreement is found between the two
        (those go to the disagreements). Returns the claims so corroborated, with all their
        passages; each such telling is also added to the claim's citations.
        """
        stories = self.store.stories
        records = self.store.manifest.articles
        claims_text = " ".join(claim for claim, kept in attached if kept)
        corroborated = []
        for claim, kept in attached:
            if not kept:
                continue
            joined = list(kept)
            for index in kept:
                cited = passages[index]
                tellers = set(stories.tellers(cited.source))
                for other, telling in enumerate(passages):
                    if (telling.source not in tellers or other in joined
                            or any(passages[j].source == telling.source for j in joined)
                            or _same_file(records, cited.source, telling.source)):
                        continue
                    if (support(claim, telling.text, question) >= MIN_SUPPORT
                            and not find_disagreements([cited, telling], question, claims_text)):
                        joined.append(other)
            if len(joined) > len(kept):
                kept.extend(joined[len(kept):])
                corroborated.append((claim, joined))
        return corroborated

    def _corroborations(self, answer: Answer, corroborated: list[tuple[str, list[int]]],
                        passages: list[StoredPassage]) -> list[Corroboration]:
        number_of = {(c.source, c.start): c.number for c in answer.citations}
        records = self.store.manifest.articles
        found = []
        for claim, indexes in corroborated:
            numbers_ = [number_of.get((passages[i].source, passages[i].start)) for i in indexes]
            if None in numbers_:
                continue  # not shown in the text after all
            sources = [passages[i].source for i in indexes]
            outlets = [_article_name(records.get(source), passages[i]) for source, i in zip(sources, indexes)]
            found.append(Corroboration(statement=_MARKERS.sub("", _PLACEHOLDER.sub("", claim)).strip(),
                                       citations=numbers_, sources=sources, outlets=outlets))  # type: ignore[arg-type]
        return found

    def _recited(
        self, attached: list[tuple[str, list[int]]], passages: list[StoredPassage], asked: str,
        standalone: str,
    ) -> list[tuple[str, list[int]]]:
        texts = [p.text for p in passages]
        rarity = self.store.word_rarity(set(question_words(standalone)))
        recited = []
        for claim, kept in attached:
            supporting = [i for i, text in enumerate(texts) if support(claim, text, standalone) >= MIN_SUPPORT]
            if kept and supporting:
                best = max(supporting, key=lambda i: question_coverage(
                    standalone, [p.text for p in _read_around([("", [i])], passages)], rarity)[0])
                kept = [best]
            recited.append((claim, kept))
        return recited

    def _unmentioned(
        self, asked: str, standalone: str, evidence: list[StoredPassage]
    ) -> list[str] | None:
        """The question's words the evidence lacks, when it lacks too much of what was asked, or
        any name or figure of it that the evidence's articles never give.

        A follow-up is judged by its rewrite or by its own words, whichever the evidence covers
        better: a rewrite that failed may carry words of an earlier question.
        """
        texts = [p.text for p in evidence]
        spans = self.store.stored_spans(sorted({p.source for p in evidence}))
        dateline_of = {p.source: _dateline(p) for p in evidence}
        bylines = {p.source: _byline(p, dateline_of[p.source]) for p in evidence}
        datelines = sorted(set(dateline_of.values()) - {""})
        articles = texts + [" ".join([bylines[source], *(text for *_, text in found)])
                            for source, found in spans.items()]
        best: tuple[float, list[str]] | None = None
        for question in dict.fromkeys((standalone, asked)):
            unknown = unknown_names(question, articles)
            if unknown:
                # A name or figure its articles never give: about something they do not report.
                found = (0.0, unknown)
            else:
                rarity = self.store.word_rarity(set(question_words(question)))
                # The cited articles' dates are as much about the question's day as their sentences.
                found = question_coverage(question, texts + datelines, rarity, self._said_otherwise)
            if best is None or found[0] > best[0]:
                best = found
        assert best is not None
        coverage, missing = best
        return missing if coverage < self.settings.min_question_coverage else None

    def _mentions_all_asked(self, question: str, passages: list[StoredPassage]) -> bool:
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
            if (common and len(missing) <= 2
                    and not question_coverage(question, [passage.text], rarity, self._said_otherwise)[1]):
                return True
        return False

    def _said_otherwise(self, words: list[str], evidence_words: list[str]) -> set[str]:
        """The question's words that a word of the evidence says otherwise ("troops" for
        "soldiers"), by the embedding model's similarity of the two words alone."""
        model = self.store.embedding_model
        vectors = model.embed_query(words + evidence_words)
        similarity = model.similarity(vectors[: len(words)] @ vectors[len(words) :].T)
        return {word for word, row in zip(words, similarity) if row.max() >= MIN_WORD_SIMILARITY}

    def _similarities(self, claims: list[str], retrieval: Retrieval) -> np.ndarray:
        """Cosine of each claim to each retrieved passage; passage vectors come from the store."""
        ids = [p.passage_id for p in retrieval.passages]
        stored = self.store.get_passages_with_vectors(ids)
        passage_vectors = np.array([stored[i][1] for i in ids if i in stored], dtype=np.float32)
        if len(passage_vectors) != len(ids):  # the article changed meanwhile: embed afresh
            passage_vectors = self.store.embedding_model.embed([p.text for p in retrieval.passages])
        model = self.store.embedding_model
        return model.similarity(model.embed_query(claims) @ passage_vectors.T)

    def _extracted(self, answer: Answer, retrieval: Retrieval, reason: str) -> Answer:
        """Evidence mode: the most relevant sentences, quoted and cited; `reason` says why."""
        # Passages come ranked by meaning and by the question's words; keep the close seconds.
        top = max(retrieval.relevance, default=0.0)  # the first is the newest for a "latest" question
        chosen = [p for p, r in zip(retrieval.passages, retrieval.relevance) if r >= top - 0.15][:2]
        if asks_when(answer.question) or asks_when(retrieval.query):
            # "When" wants a time: the passages that give one, if any does.
            timed = [(p, r) for p, r in zip(retrieval.passages, retrieval.relevance) if _TIME.search(p.text)]
            best = max((r for _, r in timed), default=0.0)
            chosen = [p for p, r in timed if r >= best - 0.15][:2] or chosen
        missing = self._unmentioned(answer.question, retrieval.query, chosen) if chosen else None
        notice = f"{reason.rstrip('.')}: these are the most relevant sentences."
        if missing is not None:
            notice = (f"{reason.rstrip('.')}, and the most relevant sentences do not mention "
                      f"{_listed(missing)}.")
            chosen = []
        attached = [(_quoted(p.text), [retrieval.passages.index(p)]) for p in chosen]
        answer.abstained = not chosen
        answer = self._with_other_tellings(answer, attached, retrieval.passages, retrieval.query,
                                           retrieval.only)
        if not chosen:
            answer.text = NOT_IN_ARTICLES
        answer.mode = "extracted"
        answer.notice = notice
        return answer


_HOW_MANY = re.compile(r"\bhow many\s+((?:\S+\s+){0,2}\S+)", re.IGNORECASE)
_HOW_MUCH = re.compile(r"\bhow much\b", re.IGNORECASE)
# A count: digits or a number word ("217", "dozens"); see `_counts`.
_COUNT = re.compile(rf"\b\d[\d,.]*\b|\b(?:{COUNT_WORDS})\b", re.IGNORECASE)
# A year of the last two centuries standing alone ("the 2017 earthquake"): a date, not a count.
_RECENT_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# An amount: money, a share, or a measure ("$4.5 billion", "30%", "two million tonnes", "7 km").
_AMOUNT = re.compile(
    rf"[$€£¥]\s?\d|\b(?:\d[\d,.]*|{COUNT_WORDS})\s*(?:%|percent\b|per cent\b|(?:million|billion|trillion)\b|"
    r"(?:dollars?|euros?|pounds?|yen|yuan|rupees?|pesos?|francs?|(?:kilo|centi|milli)?(?:metre|meter|"
    r"mile|ton|tonne|gram|litre|liter|gallon|barrel|acre|hectare|degree)s?|km|kg|mph|cm|mm)\b)",
    re.IGNORECASE)


_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
# A year or a decade of the last thousand years ("1066", "the 1050s"), or an older one after a
# word that makes it one ("in 911"): history is news too.
_YEAR = r"\b(?:1\d|20)\d\d(?:'?s)?\b|\b(?:in|since|by|until|from|around|circa)\s+\d{3,4}(?:'?s)?\b"
# A calendar date: a month, a weekday, a year, or digits like 19/12/2025.
_DATE = re.compile(rf"\b(?:{_MONTH})\b\.?|\b{_WEEKDAY}\b|{_YEAR}|\b\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}\b",
                   re.IGNORECASE)
_CLOCK = r"\b\d{1,2}(?::\d\d)?\s*[ap]\.?m\b\.?|\b\d{1,2}:\d\d\b"  # "1:14 p.m.", "7am", "12:30"
# Any time: a date, a clock time, or words like "next month", "yesterday", "two weeks ago".
_TIME = re.compile(rf"{_DATE.pattern}|{_CLOCK}|\b(?:today|yesterday|tomorrow|tonight|ago|recently|soon|"
                   r"(?:this|next|last|past|coming|previous)\s+(?:week|month|year|weekend|day|spring|summer|autumn|fall|winter)"
                   r"|weeks?|months?|years?|days?|hours?|morning|evening|night|noon|midnight|decades?|centur(?:y|ies)|"
                   r"spring|summer|autumn|winter|earlier|later)\b", re.IGNORECASE)
_ASKS_YES_OR_NO = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?(?:does|do|did|is|are|was|were|has|have|had|can|"
                             r"could|will|would|should|may|might|must)\b", re.IGNORECASE)
_ASKS_DATE = re.compile(r"\b(?:what|which)\s+(?:date|day|year|month)\b", re.IGNORECASE)
_ASKS_TIME = re.compile(r"^\s*(?:and\s+)?when\b|\bat what time\b|\bhow long ago\b", re.IGNORECASE)


def _addresses_model(passage: StoredPassage) -> bool:
    return bool(_ADDRESSES_MODEL.search(passage.text))


def _refused(reply: str) -> bool:
    """Whether the model's reply says the passages do not give the answer."""
    return not reply.strip() or bool(_ABSTAIN_REPLY.search(reply))


def _with_a_time(found: Retrieval, kept: Retrieval) -> Retrieval:
    """For a "when" question: the kept passages, and the best found one that gives a time if none
    of them does (a headline often matches the question best and says nothing of when)."""
    if any(_TIME.search(p.text) for p in kept.passages):
        return kept
    for passage, relevance in zip(found.passages, found.relevance):
        if _TIME.search(passage.text) and not _addresses_model(passage):
            return replace(kept, passages=kept.passages + [passage], relevance=kept.relevance + [relevance])
    return kept


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


def _gives_what_was_asked(question: str, attached: list[tuple[str, list[int]]]) -> bool:
    """Whether the supported claims give the kind of answer the question asks for.

    "How many X" wants a count, "how much" an amount, "on what date" a date, "when" a time: a
    well-cited restatement of a nearby sentence without one is not an answer. Nor is a claim that
    only says the question back ("The Normans fell to the Normans"), unless yes or no was asked.
    """
    holds = _asked_kind(question)
    if _HOW_MANY.search(question):
        holds = _gives_a_count(question, holds)
    yes_or_no = bool(_ASKS_YES_OR_NO.search(question))
    return any((holds is None or holds(claim)) and (yes_or_no or adds_to(question, claim))
               for claim, kept in attached if kept)


def _asked_kind(question: str) -> Callable[[str], bool] | None:
    """Whether a text holds the kind of answer `question` asks for (a date, a time, a count of
    what is counted, an amount); None when the question asks for no particular kind."""
    if _ASKS_DATE.search(question):
        return lambda text: bool(_DATE.search(text))
    if _ASKS_TIME.search(question):
        return lambda text: bool(_TIME.search(text))
    if _HOW_MUCH.search(question):
        return lambda text: bool(_AMOUNT.search(text))
    match = _HOW_MANY.search(question)
    if match and (counted := content_words(match.group(1))):
        return lambda text: bool(counted & set(quantities(text)))
    return None


def _gives_a_count(question: str, counts_asked: Callable[[str], bool] | None) -> Callable[[str], bool]:
    """Whether a text answers "how many": a count the question does not already give.

    Said another way it answers too ("217 dead" for "how many people were killed"; the figure's
    own check still refuses the count of something else), but "how many of the 70 countries..."
    answered "70 countries" is the question said back.
    """
    given = _counts(question)

    def holds(text: str) -> bool:
        found = _counts(text)
        return bool(found - given) or (counts_asked is not None and counts_asked(text) and not found & given)

    return holds


def _counts(text: str) -> set[str]:
    """The counts a text gives ("217", "1,500", "dozens"), leaving out its dates and years."""
    for start, end in reversed(date_spans(text)):
        text = text[:start] + " " + text[end:]
    return {found.group().lower().replace(",", "") for found in _COUNT.finditer(_RECENT_YEAR.sub(" ", text))}


def _turns(history: History) -> list[tuple[str, str]]:
    """The last three (question, answer) pairs; malformed entries are left out."""
    turns = []
    for turn in list(history or [])[-3:]:
        if isinstance(turn, (list, tuple)) and len(turn) == 2:
            turns.append((str(turn[0]), str(turn[1])))
    return turns


_DEPENDENT = re.compile(
    r"\b(?:he|she|it|they|him|her|them|his|hers|its|their|theirs|that|this|these|those|there|"
    r"then|the same|the other|former|latter)\b|^\s*(?:and|but|so|also|what about|how about)\b",
    re.IGNORECASE,
)


def _leans_on_conversation(question: str) -> bool:
    """Whether a question needs the conversation to be understood ("And what did she say?")."""
    return bool(_DEPENDENT.search(question)) or len(question.split()) <= 3


_CONJUNCTION = re.compile(r"^\s*(?:and|but|so|also)\b[\s,]*", re.IGNORECASE)
_CONTRACTION = re.compile(r"['’](?:re|ve|ll|d|s|m)\b|n['’]t\b", re.IGNORECASE)


def _rewrites(question: str, candidate: str) -> bool:
    """Whether `candidate` is `question` made standalone, not another question.

    One question, asked with the same opening word, keeping every word of the question but the
    ones it leaned on ("he", "them", "that"), fewer of which are left: the model sometimes answers
    instead, asks the earlier question again before this one, turns "What did he say" into "Who
    said", drops "according to the second article", or gives the question back unchanged.
    """
    if (not candidate.endswith("?") or candidate.count("?") > 1 or len(candidate) > 400
            or _ABSTAIN_REPLY.search(candidate)):
        return False
    asked, rewritten = (_CONJUNCTION.sub("", text).strip() for text in (question, candidate))
    if not asked or not rewritten or rewritten.lower() == asked.lower():
        return False
    if _first_word(asked) != _first_word(rewritten):  # "Why?" and "Why did...", "What's" and "What"
        return False
    leaned_on = len(_DEPENDENT.findall(asked))
    if leaned_on and len(_DEPENDENT.findall(rewritten)) >= leaned_on:
        return False
    return content_words(_CONTRACTION.sub("", asked)) <= content_words(_CONTRACTION.sub("", rewritten))


def _first_word(text: str) -> str:
    return next(iter(re.findall(r"[a-z]+", normalise(text))), "")


def _kind_asked_by(asked: str, standalone: str) -> str:
    """The question whose kind of answer is wanted: a follow-up's own words when no rewrite was
    usable and the standalone question is the earlier one joined to it ("How many countries...?
    What did it ask them for?" wants no count)."""
    return asked if standalone != asked and standalone.endswith(asked) else standalone


def _blocks(passages: list[StoredPassage]) -> list[list[int]]:
    """Retrieved sentences grouped as the model reads them: consecutive sentences of one article
    make one numbered passage, in article order, so "Among them, around 19 countries..." comes
    with the sentence that says among whom. Blocks keep the rank of their best sentence."""
    order = sorted(range(len(passages)), key=lambda i: (passages[i].source, passages[i].ordinal))
    blocks: list[list[int]] = []
    for index in order:
        previous = passages[blocks[-1][-1]] if blocks else None
        if (previous is not None and previous.source == passages[index].source
                and passages[index].ordinal == previous.ordinal + 1):
            blocks[-1].append(index)
        else:
            blocks.append([index])
    return sorted(blocks, key=min)


def _numbered(passages: list[StoredPassage], with_dates: bool = False) -> str:
    # A letter per article instead of its title: every prompt token costs ~20 ms on 2 cores. For a
    # question about time, the article's date too ("(A, published 2025-12-19)"): "on Friday"
    # means nothing without it.
    letters: dict[str, str] = {}
    lines = []
    for number, block in enumerate(_blocks(passages), start=1):
        first = passages[block[0]]
        letter = letters.setdefault(first.source, chr(ord("A") + len(letters) % 26))
        tag = f"{letter}, published {first.published}" if with_dates and first.published else letter
        lines.append(f"[{number}] ({tag}) " + " ".join(passages[i].text for i in block))
    return "\n".join(lines)


def _read_around(attached: list[tuple[str, list[int]]], passages: list[StoredPassage]) -> list[StoredPassage]:
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


def _sentence_citations(claims: list[Claim], passages: list[StoredPassage]) -> list[Claim]:
    """Claims citing the sentences of the blocks they cite: the check then keeps the sentences
    that support each claim, so a citation quotes one sentence, not the block."""
    blocks = _blocks(passages)
    return [
        Claim(claim.text, tuple(i + 1 for n in claim.cited if 1 <= n <= len(blocks) for i in blocks[n - 1]))
        for claim in claims
    ]


def _with_disagreements(
    answer: Answer, attached: list[tuple[str, list[int]]], passages: list[StoredPassage],
    question: str,
) -> Answer:
    """Render the answer; where retrieved articles disagree on what was asked, show both.

    Versions are given newest article first. When two articles of a developing story, dated a few
    days apart, give a figure differently in the same context, the fact changed over time: the
    answer opens with the newest version and the date of each.
    """
    claims_text = " ".join(claim for claim, kept in attached if kept)
    found = find_disagreements(passages, question, claims_text) if claims_text else []
    found = [replace(d, versions=tuple(sorted(d.versions, key=lambda v: -day_number(passages[v[0]].published))))
             for d in found]
    opening: list[tuple[str, list[int]]] = []
    asked = content_words(question)
    for disagreement in found:
        (first, version_a), (second, version_b) = disagreement.versions
        newer, older = passages[first], passages[second]
        # Figures change as a story develops; a difference of wording is not an update.
        if disagreement.fact.startswith("how many") and reported_update(newer, version_a, older, version_b):
            claim = (f"The articles differ on {disagreement.fact}: “{version_a}” as of {dated(newer)} "
                     f"⟦{first}⟧, the newest; earlier, on {dated(older)}, “{version_b}” ⟦{second}⟧.",
                     [first, second])
            # About what was asked, the newest version opens the answer; else it follows it.
            about_asked = (content_words(version_a) | content_words(version_b)) & asked
            (opening if about_asked else attached).append(claim)
            continue
        if contains_phrase(claims_text, version_a) and contains_phrase(claims_text, version_b):
            # The answer already gives both: make sure each version's passage is cited.
            for index, version in disagreement.versions:
                for claim, kept in attached:
                    if kept and contains_phrase(claim, version) and index not in kept:
                        kept.append(index)
            continue
        attached.append((
            f"The articles differ on {disagreement.fact}: one says “{version_a}” ⟦{first}⟧, "
            f"another “{version_b}” ⟦{second}⟧.",
            [first, second],
        ))
    answer.text, answer.citations = _render(opening + attached, passages)
    number_of = {(c.source, c.start): c.number for c in answer.citations}

    def cited(index: int) -> int | None:
        return number_of.get((passages[index].source, passages[index].start))

    # Listed only when every version's passage is cited in the text shown.
    answer.disagreements = [
        Disagreement(
            fact=d.fact,
            versions=[Version(text=text, source=passages[index].source,
                              citations=[cited(index)],  # type: ignore[list-item]
                              outlet=passages[index].outlet, published=passages[index].published)
                      for index, text in d.versions],
        )
        for d in found
        if all(cited(index) is not None for index, _ in d.versions)
    ]
    return answer


_PLACEHOLDER = re.compile(r"⟦(\d+)⟧")


def _render(
    attached: list[tuple[str, list[int]]], passages: list[StoredPassage]
) -> tuple[str, list[Citation]]:
    """Answer text with markers numbered by first use, and the matching citations.

    A claim may place a marker inline with "⟦i⟧" (i: the passage's index); its other passages'
    markers go at the end of the sentence.
    """
    number_of: dict[int, int] = {}
    citations: list[Citation] = []

    def marker(index: int) -> str:
        if index not in number_of:
            passage = passages[index]
            number_of[index] = len(citations) + 1
            citations.append(Citation(
                number=number_of[index], source=passage.source, title=passage.title,
                quote=passage.text, start=passage.start, end=passage.end,
                outlet=passage.outlet, published=passage.published, url=passage.url,
            ))
        return f"[{number_of[index]}]"

    sentences = []
    for claim, indexes in attached:
        if not indexes:
            continue  # an unsupported claim is not shown
        inline = {int(i) for i in _PLACEHOLDER.findall(claim)}
        body = _PLACEHOLDER.sub(lambda m: marker(int(m.group(1))), claim).rstrip()
        markers = "".join(marker(i) for i in indexes if i not in inline)
        end = body[-1] if body and body[-1] in ".!?,;" and not body.endswith("”") else ""
        body = body[:-1] if end else body
        sentences.append(f"{body} {markers}{end}" if markers else f"{body}{end}")
    # A clause the model went on from ("..., while ...") ends its sentence when what followed
    # was not shown or starts a new sentence.
    for row, sentence in enumerate(sentences):
        following = sentences[row + 1] if row + 1 < len(sentences) else ""
        if sentence.endswith((",", ";")) and not following[:1].islower():
            sentences[row] = sentence[:-1] + "."
    return " ".join(sentences), citations


def _same_file(records: dict, source: str, other: str) -> bool:
    """Whether two article ids hold the same file (a copy under another name is no corroboration)."""
    first, second = records.get(source), records.get(other)
    return first is not None and second is not None and first.content_hash == second.content_hash


def _article_name(record, passage: StoredPassage) -> str:
    """How a corroboration names an article: its outlet, else its title."""
    outlet = (record.outlet if record is not None else None) or passage.outlet
    return outlet or f"“{_shorten(passage.title, 60)}”"


def _joined(*notices: str | None) -> str | None:
    return " ".join(n for n in notices if n) or None


def _listed(words: list[str]) -> str:
    quoted = [f"“{word}”" for word in words[:4]]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _quoted(text: str) -> str:
    return text if text.startswith(("“", '"')) else f"“{text}”"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_engines: dict[str, AnswerEngine] = {}
_engines_lock = threading.Lock()


def engine_for(settings: Settings | None = None) -> AnswerEngine:
    """The process's engine for these settings (the store and model are opened once)."""
    settings = settings or load_settings()
    # Secrets are masked in the dump: a different key must still mean another engine.
    secrets = [secret.get_secret_value() if secret else "" for secret in (settings.openai_api_key, settings.auth)]
    key = settings.model_dump_json() + hashlib.sha256("\0".join(secrets).encode()).hexdigest()
    with _engines_lock:
        if key not in _engines:
            _engines[key] = AnswerEngine(settings)
        return _engines[key]


def ask(question: str, history: History | None = None, settings: Settings | None = None, *,
        since: DateLike = None, until: DateLike = None,
        outlets: str | Sequence[str] | None = None) -> Answer:
    """Answer `question` from the articles, with checked citations.

    `since` / `until` (a `datetime.date` or "YYYY-MM-DD", both included) and `outlets` (names, any
    case) limit the articles searched; an article without a date or outlet is left out by them.
    """
    return engine_for(settings).ask(question, history, since=since, until=until, outlets=outlets)


def ask_stream(
    question: str, history: History | None = None, settings: Settings | None = None, *,
    since: DateLike = None, until: DateLike = None, outlets: str | Sequence[str] | None = None,
) -> Iterator[list[StoredPassage] | str | Answer]:
    """Like `ask()`, streamed: the retrieved passages, then text as generated, then the Answer."""
    return engine_for(settings).ask_stream(question, history, since=since, until=until,
                                           outlets=outlets)
