"""The checks after generation are a list of named objects, each of which can be switched off; the
question is parsed once, and no later stage reads its words again.

The model is scripted: what is under test is what newsdesk does with a reply.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import qa.question
from index.settings import SettingsError, load_settings
from qa.answer import COULD_NOT_CONFIRM
from qa.checks import CHECK_NAMES, checks_enabled
from qa.llm import ModelInfo
from qa.pipeline import AnswerEngine


class ScriptedModel:
    """Replies with a fixed text, streamed a few characters at a time."""

    def __init__(self, reply: str):
        self.reply = reply
        self.info = ModelInfo("local", "scripted", None)
        self.prompts: list[list[dict]] = []

    def stream(self, messages, max_tokens=200):
        self.prompts.append(messages)
        for index in range(0, len(self.reply), 7):
            yield self.reply[index : index + 7]

    def complete(self, messages, max_tokens=200):
        return "".join(self.stream(messages, max_tokens))

    def first_token_chances(self, messages, top=10):
        return None  # as an endpoint that gives no probabilities

    def queue_wait(self):
        return 0.0


def answer_with(settings, reply: str, question: str, *disabled: str):
    engine = AnswerEngine(settings, disabled_checks=disabled)
    engine.model = ScriptedModel(reply)  # type: ignore[assignment]
    return engine.ask(question)


def test_every_check_has_a_name_and_runs_in_the_listed_order():
    names = [name for check in checks_enabled() for name in check.names]
    assert names == list(CHECK_NAMES)
    assert all(name not in [n for c in checks_enabled((name,)) for n in c.names] for name in CHECK_NAMES)


def test_an_unknown_check_name_is_refused(make_settings, monkeypatch):
    with pytest.raises(SettingsError, match="no check is called answer_knd"):
        AnswerEngine(make_settings(disabled_checks=("answer_knd",)))
    monkeypatch.setenv("NEWSDESK_DISABLED_CHECKS", "answer_kind, names_given")
    assert load_settings().disabled_checks == ("answer_kind", "names_given")


# The decision's score is pinned at either end so that no test depends on the fitted weights:
# strictness 0 shows whatever the gates let through, strictness 1 declines every answer.
SHOW_ALL, DECLINE_ALL = 0.0, 1.0

# Gates: a reply that exactly this gate withholds (all checks on), what its notice says, a word
# the answer shows once the gate is off, and settings the case needs.
WITHHELD = {
    "claim_grounded": (
        # The cited sentence is about Pakistan's ministry: the claim swaps in the question's Nigeria.
        "Who is the spokesperson of Nigeria's Foreign Ministry?",
        "Tahir Andrabi is the spokesperson of Nigeria's Foreign Ministry [1].",
        "do not give the names, figures or dates", "Nigeria",
        {"min_relevance": -1.0}),  # read though far from the question: the gate is the point
}


@pytest.mark.parametrize("name", sorted(WITHHELD))
def test_switching_a_gate_off_lets_through_what_it_alone_withholds(make_settings, name):
    question, reply, notice, shown, overrides = WITHHELD[name]
    settings = make_settings(relevance_gap=2.0, strictness=SHOW_ALL, **overrides)
    on = answer_with(settings, reply, question)
    assert on.abstained and notice in on.notice, on.notice
    # Declined, the closest sentences read are shown instead, and none of the reply.
    assert on.text.startswith(COULD_NOT_CONFIRM) and shown not in on.text
    off = answer_with(settings, reply, question, name)
    assert notice not in (off.notice or "")
    assert not off.abstained and shown in off.text, off.notice
    # Every other check off but this one: still withheld, by this one.
    others = [other for other in CHECK_NAMES if other != name]
    alone = answer_with(settings, reply, question, *others)
    assert alone.abstained and notice in alone.notice, alone.notice


# Evidence checks: the key of `Answer.evidence` each switch's verdict goes to.
EVIDENCE_KEY = {"answer_kind": "gives_what_was_asked", "says_something_new": "gives_what_was_asked",
                "question_coverage": "mentions_what_was_asked",
                "names_given": "mentions_what_was_asked"}
# A reply that exactly this check finds wanting (all checks on), a word of the reply, and the
# other checks that find it wanting too.
FOUND_WANTING = {
    "answer_kind": (
        "How many countries has the State Department contacted?",
        "The State Department contacted countries to request troop contributions [1].",
        "contacted", ()),
    "says_something_new": (
        "Which Qatari city hosted the conference?", "Qatar hosted the conference [1].", "Qatar", ()),
    "names_given": (
        "Who is the spokesperson of Pakistan's Foreign Ministry in Miami?",
        "The spokesperson is Tahir Andrabi [1].", "Andrabi", ()),
}


def checks_verdicts(answer) -> dict[str, float]:
    """The evidence checks' verdicts among the score's evidence (1.0 passed, 0.0 failed)."""
    return {key: value for key, value in answer.evidence.items() if key in EVIDENCE_KEY.values()}


@pytest.mark.parametrize("name", sorted(FOUND_WANTING))
def test_an_evidence_check_weighs_in_the_score_and_switched_off_counts_as_passed(make_settings, name):
    question, reply, shown, also_wanting = FOUND_WANTING[name]
    key = EVIDENCE_KEY[name]
    settings = make_settings(relevance_gap=2.0, strictness=SHOW_ALL)
    # Evidence never withholds: the score decides, and at strictness 0 the reply is shown.
    on = answer_with(settings, reply, question)
    assert on.evidence[key] == 0.0, on.evidence
    assert not on.abstained and shown in on.text, on.notice
    off = answer_with(settings, reply, question, name)
    assert off.evidence[key] == 1.0, off.evidence
    assert not off.abstained and shown in off.text, off.notice
    assert all(off.evidence[EVIDENCE_KEY[other]] == 0.0 for other in also_wanting), off.evidence
    # With those off too, nothing finds the reply wanting: this check was all that did.
    passed = answer_with(settings, reply, question, name, *also_wanting)
    assert set(checks_verdicts(passed).values()) == {1.0}, passed.evidence
    # Every other check off but this one: it still finds the reply wanting.
    others = [other for other in CHECK_NAMES if other != name]
    alone = answer_with(settings, reply, question, *others)
    assert alone.evidence[key] == 0.0, alone.evidence
    # Strict enough, the reply is declined: not shown, with the closest sentences and the reason.
    strict = answer_with(make_settings(relevance_gap=2.0, strictness=DECLINE_ALL), reply, question)
    assert strict.abstained and strict.mode == "extracted"
    assert strict.text.startswith(COULD_NOT_CONFIRM) and strict.citations
    assert strict.evidence[key] == 0.0 and shown in strict.candidate
    assert "NEWSDESK_STRICTNESS" in strict.notice
    assert reply.split(" [")[0] not in strict.text


def test_question_coverage_off_lets_through_a_reply_about_someone_else(make_settings):
    # The cited sentence supports the reply's words, but says nothing of Egypt or Miami: the
    # coverage check finds it wanting without the names check, and only both off pass it.
    settings = make_settings(relevance_gap=2.0, strictness=SHOW_ALL)
    question = "What did Egypt's foreign minister say in Miami?"
    reply = "Foreign Ministry spokesperson Tahir Andrabi said Pakistan had not yet decided [1]."
    on = answer_with(settings, reply, question, "names_given")
    assert on.evidence["mentions_what_was_asked"] == 0.0, on.evidence
    off = answer_with(settings, reply, question, "names_given", "question_coverage")
    assert off.evidence["mentions_what_was_asked"] == 1.0, off.evidence
    assert not off.abstained and "not yet decided" in off.text


def test_supported_claims_off_shows_an_unsupported_claim_without_a_citation(make_settings):
    settings = make_settings(strictness=SHOW_ALL)
    question = "Who is the spokesperson of Pakistan's Foreign Ministry?"
    reply = "The spokesperson is Tahir Andrabi [1]. He plays the violin every Sunday."
    on = answer_with(settings, reply, question)
    assert not on.abstained and "violin" not in on.text
    off = answer_with(settings, reply, question, "supported_claims")
    assert off.text == on.text + " He plays the violin every Sunday."
    assert off.citations == on.citations


def test_a_check_that_does_not_apply_changes_nothing(make_settings):
    settings = make_settings(strictness=SHOW_ALL)
    question = "Who is the spokesperson of Pakistan's Foreign Ministry?"
    reply = "The spokesperson is Tahir Andrabi [1]."
    on = answer_with(settings, reply, question)
    assert not on.abstained, on.notice
    for name in ("answer_kind", "names_given"):
        off = answer_with(settings, reply, question, name)
        assert (off.text, off.citations, off.abstained, off.notice, off.evidence, off.confidence) == (
            on.text, on.citations, on.abstained, on.notice, on.evidence, on.confidence)


def test_the_question_is_parsed_once_for_an_answer(settings, monkeypatch):
    parsed = []
    original = qa.question.parse_question
    monkeypatch.setattr(qa.question, "parse_question",
                        lambda *args, **kwargs: parsed.append(args) or original(*args, **kwargs))

    class Watched:
        """A question pattern that records which function searches it."""

        def __init__(self, pattern):
            self.pattern, self.callers = pattern, []

        def search(self, text, *args):
            self.callers.append(inspect.stack()[1].function)
            return self.pattern.search(text, *args)

    watched = {name: Watched(getattr(qa.question, name))
               for name in ("WHEN", "LATEST", "HOW_MANY", "HOW_MUCH", "ASKS_FOR_DATE", "ASKS_FOR_TIME",
                            "ASKS_YES_OR_NO")}
    for name, pattern in watched.items():
        monkeypatch.setattr(qa.question, name, pattern)
    engine = AnswerEngine(settings)
    engine.model = ScriptedModel("NOT IN THE ARTICLES")  # type: ignore[assignment]
    engine.ask("When did the latest Doha conference on the force take place?")  # read twice
    assert len(parsed) == 1
    assert {caller for pattern in watched.values() for caller in pattern.callers} <= {
        "parse_question", "asked_kind"}


def test_no_stage_but_the_question_reads_what_a_question_asks():
    question_patterns = {"WHEN", "LATEST", "HOW_MANY", "HOW_MUCH", "ASKS_FOR_DATE", "ASKS_FOR_TIME",
                         "ASKS_YES_OR_NO", "LEANS_ON_CONVERSATION"}
    qa_folder = Path(qa.question.__file__).parent
    for module in sorted(qa_folder.rglob("*.py")):
        if module.name == "question.py":
            continue
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "index.english":
                assert not {alias.name for alias in node.names} & question_patterns, module
