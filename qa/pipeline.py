"""`ask()`: a question in, a short answer out, every claim tied to the sentence it comes from.

The answer path is a list of stages, each a module with one job, in the order a question passes
them: question -> retrieval -> reading -> grounding -> checks -> decision -> presentation (see
`AnswerEngine.ask_stream`). The decision is one calibrated score (qa/confidence.py); an answer
that falls short of NEWSDESK_STRICTNESS is declined, with the closest sentences shown. When no model can be reached, the answer is the best supporting
sentences themselves (`mode == "extracted"`, qa/evidence_mode.py), never an exception.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace

from index.build import IndexReport, articles_signature, build_index
from index.settings import Settings, load_settings
from index.store import PassageFilter, PassageStore, StoreError
from qa.answer import NOT_IN_ARTICLES, Answer, Event, Final, Passages, Text
from qa.checks import CheckContext, checks_enabled, mentions_check, shorten
from qa.decision import chance_and_threshold, evidence_for, judged, reads_again, worth_reading
from qa.evidence_mode import declined_with_evidence, extracted
from qa.filters import DateLike, FilterError, article_filter
from qa.llm import ChatModel, ModelUnavailable
from qa.presentation import present
from qa.question import History, Question, cleaned, understood
from qa.reading import Reply, reading_messages, refused, verified, warm_up_messages
from qa.retrieval import Retrieval, Retrieved, focused, passages_for


@dataclass(frozen=True)
class Scope:
    """The articles a question may be answered from, and whether the index could be updated."""

    only: PassageFilter | None
    described: str | None  # "published since ...", when limited
    index_problem: str | None


class AnswerEngine:
    """The store, the model, the checks and the index's freshness for one set of settings.

    `disabled_checks` (names of qa.checks.CHECK_NAMES) adds to `NEWSDESK_DISABLED_CHECKS`.
    """

    def __init__(self, settings: Settings, disabled_checks: Sequence[str] = ()):
        self.settings = settings
        self.checks = checks_enabled((*settings.disabled_checks, *disabled_checks))
        self.store = PassageStore(settings)
        self.model = ChatModel(settings) if settings.llm != "none" else None
        self.context = CheckContext(self.store, settings)
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
            signature = articles_signature(self.settings)
            if signature == self._files_signature:
                return None
            report = build_index(self.settings, self.store, progress)
            self._files_signature = signature
            self.last_index_report = report
            return report
        finally:
            self._index_lock.release()

    def warm_up(self) -> None:
        """Start the model and have it read the fixed prompt prefix, so the first answer is fast."""
        if self.model is not None:
            self.model.complete(warm_up_messages(), max_tokens=1)

    # ----- answering --------------------------------------------------------------------------
    def ask(self, question: str, history: History | None = None, *, since: DateLike = None,
            until: DateLike = None, outlets: str | Sequence[str] | None = None) -> Answer:
        """The final answer of `ask_stream`."""
        for event in self.ask_stream(question, history, since=since, until=until, outlets=outlets):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("ask_stream ended without a Final event")

    def ask_stream(
        self, question: str, history: History | None = None, *, since: DateLike = None,
        until: DateLike = None, outlets: str | Sequence[str] | None = None,
    ) -> Iterator[Event]:
        """Yield `Passages` (what the model reads), `Text` (its reply as written), then `Final`.

        When the model finds no answer, `Passages` and `Text` may come a second time: the model
        reads again only the passages that mention what was asked. Only articles published from
        `since` to `until` (dates, or ISO strings), from one of `outlets`, are searched; when none
        is, the answer abstains and its notice says why.
        """
        started = time.perf_counter()
        text = cleaned(question)
        scope = self._scope(text, since, until, outlets)
        if isinstance(scope, Answer):
            yield Final(scope)
            return
        waited_before = self._queue_wait()
        asked = understood(text, history, self.model)                               # 1 question
        retrieved = passages_for(self.store, asked, self.settings, scope.only)      # 2 retrieval
        yield Passages(retrieved.read.passages)
        answer = self._unanswered(asked, retrieved.read, scope)
        if not worth_reading(asked, retrieved.read, self.context):                 # 6 decision
            answer.seconds = time.perf_counter() - started
            answer.notice = _joined(answer.notice, scope.index_problem)
            yield Final(answer)
            return
        answer = yield from self._answered(answer, asked, retrieved, started)       # 3 to 7
        answer.seconds = time.perf_counter() - started
        answer.queue_seconds = self._queue_wait() - waited_before
        answer.notice = _joined(answer.notice, scope.index_problem)
        yield Final(answer)

    def _scope(self, question: str, since: DateLike, until: DateLike,
               outlets: str | Sequence[str] | None) -> Scope | Answer:
        """The articles to search, after bringing the index up to date; or the Answer that says
        why there is nothing to search (no question, no articles, a filter that leaves none)."""
        refusal = self._refusal(question)
        if refusal:
            return Answer(question=question, text=refusal, abstained=True, notice=refusal,
                          mode=self._mode())
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
            return Answer(question=question, text=NOT_IN_ARTICLES, abstained=True, notice=notice,
                          mode=self._mode())
        try:
            only, nothing = article_filter(self.store.manifest.articles.values(), since, until, outlets)
        except FilterError as error:
            return Answer(question=question, text=NOT_IN_ARTICLES, abstained=True,
                          notice=f"The filter cannot be used: {error}.", mode=self._mode())
        described = only.describe() or None
        if nothing:  # the filter leaves no article: say so rather than search nothing
            return Answer(question=question, text=NOT_IN_ARTICLES, abstained=True, notice=nothing,
                          mode=self._mode(), article_filter=described)
        return Scope(only, described, index_problem)

    def _unanswered(self, question: Question, read: Retrieval, scope: Scope) -> Answer:
        """The answer before anything is read: the articles don't say."""
        return Answer(question=question.text, text=NOT_IN_ARTICLES, abstained=True,
                      passages=read.passages, mode=self._mode(), notice=question.rewrite_notice,
                      model=self.model.info.name if self.model else None,
                      standalone_question=question.rewritten, article_filter=scope.described)

    def _answered(self, answer: Answer, question: Question, retrieved: Retrieved,
                  started: float) -> Generator[Event, None, Answer]:
        """Stages 3 to 7: the model reads, its reply is grounded, checked, decided on and
        presented; a reply that found no answer may be followed by a second, focused reading.
        When no answer is shown, the closest sentences read are, cited."""
        read = retrieved.read
        if self.model is None:
            reason = question.rewrite_notice or "No language model is configured (NEWSDESK_LLM=none)."
            return self._extracted(answer, question, read, reason)
        try:
            reply = yield from self._read(answer, question, read, started)          # 3 reading
            unchecked = replace(answer)
            answer, closest = self._judged(answer, question, self._verified(question, read, reply), read)
        except ModelUnavailable as error:
            return self._extracted(answer, question, read, str(error))
        # Among several passages a 1.5B model may read past the one that answers ("Does it
        # recognize Israel?" with "...Pakistan, which does not recognize Israel" third): when it
        # finds no answer, it reads again only those that mention what was asked.
        again = (focused(self.store, question, retrieved, self.settings.min_question_coverage,
                         self.settings.reading_budget)
                 if reads_again(reply) else None)
        if again is not None:
            answer = yield from self._second_reading(answer, unchecked, question, again, started)
        if answer.abstained:
            read_both = answer.passages
            answer = declined_with_evidence(self.store, answer, question, read, closest)
            answer.passages = read_both + [p for p in answer.passages if p not in read_both]
        return answer

    def _read(self, answer: Answer, question: Question, read: Retrieval,
              started: float) -> Generator[Event, None, str]:
        """Stream the model's reply as `Text` events and return it whole; the answer notes when
        the first token came."""
        reply = Reply(self.model, question, read.passages, started)  # type: ignore[arg-type]
        try:
            for piece in reply:
                yield Text(piece)
        finally:
            if answer.first_token_seconds is None:
                answer.first_token_seconds = reply.first_token_seconds
        return reply.text

    def _verified(self, question: Question, read: Retrieval, reply: str) -> str:
        if not self.settings.verify_answers:
            return reply
        return verified(self.model, question, read.passages, reply)  # type: ignore[arg-type]

    def _judged(self, answer: Answer, question: Question, reply: str,
                read: Retrieval) -> tuple[Answer, list[int]]:
        """Stages 4 to 7 on one reply: grounded, checked, scored, and shown if likely enough to
        be right; with the passages (indexes into `read`) a reply not shown cited."""
        if refused(reply):  # the model said the passages do not give the answer
            answer.abstained, answer.text = True, NOT_IN_ARTICLES
            return answer, []
        verdict = judged(question, reply, read, self.checks, self.context)         # 4, 5
        if verdict.withheld is not None or not verdict.attached:
            answer.abstained, answer.text = True, NOT_IN_ARTICLES
            answer.notice = verdict.withheld or answer.notice
            return answer, []
        evidence = evidence_for(verdict, self._chances(reading_messages(question, read.passages)),
                                self._articles_searched(read))                      # 6
        chance, threshold = chance_and_threshold(evidence, self.model.info.name,  # type: ignore[union-attr]
                                                 self.settings.strictness)
        cited = sorted({i for _, kept in verdict.attached for i in kept})
        candidate = replace(answer, abstained=False)
        candidate = present(self.store, candidate, question, list(verdict.attached), read.passages,
                            read.only, read.context_ids)                                              # 7
        candidate.confidence, candidate.evidence = chance, evidence
        if chance >= threshold:
            return candidate, []
        answer.abstained, answer.text = True, NOT_IN_ARTICLES
        answer.confidence, answer.evidence, answer.candidate = chance, evidence, candidate.text
        answer.notice = (f"The model's answer is right with a chance of {chance:.2f}, less than the "
                         f"{threshold:.2f} asked (NEWSDESK_STRICTNESS), so it is not shown: "
                         f"“{shorten(candidate.text, 160)}”")
        return answer, cited

    def _articles_searched(self, read: Retrieval) -> int:
        """How many articles the question was answered from: all indexed, or those the filter allows."""
        articles = self.store.manifest.articles.values()
        if not read.only:
            return len(articles)
        return sum(1 for record in articles if read.only.allows(record.outlet, record.published))

    def _chances(self, messages: list[dict[str, str]]) -> dict[str, float] | None:
        """The model's probabilities of its reply's first tokens; None if it cannot give them."""
        try:
            return self.model.first_token_chances(messages)  # type: ignore[union-attr]
        except ModelUnavailable:
            return None  # the reply came: without its probabilities it is scored on the rest

    def _second_reading(self, answer: Answer, unchecked: Answer, question: Question,
                        focused_passages: Retrieval, started: float) -> Generator[Event, None, Answer]:
        """The model's answer from the focused passages if it passes the checks; else the first
        answer, with the reason the second reply was set aside."""
        yield Passages(focused_passages.passages)
        second = replace(unchecked, passages=focused_passages.passages)
        try:
            reply = yield from self._read(second, question, focused_passages, started)
        except ModelUnavailable as error:
            answer.notice = _joined(answer.notice, f"A second reading of the passages that mention "
                                    f"what was asked could not be made: {error}")
            return answer
        second, _ = self._judged(second, question,
                                 self._verified(question, focused_passages, reply), focused_passages)
        # Answer.passages: every passage put before the model for this answer, over both readings.
        read_first = {p.passage_id for p in answer.passages}
        both = answer.passages + [p for p in second.passages if p.passage_id not in read_first]
        if not second.abstained:
            second.passages = both
            return second
        answer.notice = _joined(answer.notice, second.notice)
        answer.confidence, answer.evidence, answer.candidate = (
            second.confidence, second.evidence, second.candidate)
        answer.passages = both
        return answer

    def _extracted(self, answer: Answer, question: Question, read: Retrieval, reason: str) -> Answer:
        return extracted(self.store, answer, question, read, reason, mentions_check(self.checks),
                         self.context)

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


def _joined(*notices: str | None) -> str | None:
    return " ".join(n for n in notices if n) or None


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
) -> Iterator[Event]:
    """Like `ask()`, streamed: `Passages`, then `Text` pieces as generated, then `Final`."""
    return engine_for(settings).ask_stream(question, history, since=since, until=until,
                                           outlets=outlets)
