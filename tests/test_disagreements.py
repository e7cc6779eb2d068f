"""When two articles give different figures or names for what was asked, the answer shows both."""

from __future__ import annotations

from index.store import StoredPassage
from qa import ask
from qa.disagreements import find_disagreements
from tests.conftest import SEED_A, SEED_B
from tests.test_ask import assert_contract


def _passage(source: str, text: str) -> StoredPassage:
    return StoredPassage(f"{source}#{len(text)}", source, 0, 0, len(text), text, "T", None, None, 0.5)


def test_different_figures_for_the_same_thing_are_found():
    found = find_disagreements(
        [_passage(SEED_A, "Pakistan among dozens of countries attended a conference in Qatar."),
         _passage(SEED_B, "Pakistan was one of nearly 45 countries that met in Qatar.")],
        "How many countries attended the conference in Qatar?", "")
    assert [(d.fact, [v for _, v in d.versions]) for d in found] == [
        ("how many countries", ["dozens of countries", "nearly 45 countries"])]


def test_the_same_statement_told_with_different_words_is_found():
    found = find_disagreements(
        [_passage(SEED_A, "“The next step here is announcing the border peace, announcing the "
                          "Palestinian technocratic group,” he said."),
         _passage(SEED_B, "“I think the next step here is to announce the Peace Council [and] the "
                          "Palestinian technocratic group,” Rubio said.")],
        "What peace body did Rubio say would be announced next?", "")
    versions = [[v for _, v in d.versions] for d in found]
    assert any("border peace" in a and "Peace Council" in b for a, b in versions)


def test_different_bodies_with_a_common_word_are_not_a_disagreement():
    found = find_disagreements(
        [_passage(SEED_A, "The United Nations Security Council approved the plan last month."),
         _passage(SEED_B, "The next step is to announce the Peace Council, Rubio said.")],
        "When will the Peace Council be announced?", "")
    assert found == []


def test_agreeing_or_unrelated_passages_are_not_a_disagreement():
    agreeing = [_passage(SEED_A, "Rubio spoke at a news conference in Washington."),
                _passage(SEED_B, "Marco Rubio spoke at a press conference in Washington, DC.")]
    assert find_disagreements(agreeing, "Where did Rubio speak?", "") == []
    same_article = [_passage(SEED_A, "Dozens of countries came."), _passage(SEED_A, "45 countries came.")]
    assert find_disagreements(same_article, "How many countries came?", "") == []
    off_topic = [_passage(SEED_A, "Some 40 boats sank."), _passage(SEED_B, "Nearly 52 boats sank.")]
    assert find_disagreements(off_topic, "Who is the spokesperson?", "Tahir Andrabi") == []


def test_answer_states_both_versions_with_their_citations(settings):
    answer = ask("How many countries attended the conference in Qatar?", settings=settings)
    assert_contract(answer, settings)
    assert "dozens" in answer.text and "45" in answer.text
    [disagreement] = answer.disagreements
    by_source = {version.source: version for version in disagreement.versions}
    assert set(by_source) == {SEED_A, SEED_B}
    for version in disagreement.versions:
        cited = answer.citations[version.citations[0] - 1]
        assert cited.source == version.source and version.text in cited.quote


def test_answer_giving_both_versions_cites_both_and_lists_the_disagreement(settings):
    from tests.test_citations import engine_with

    reply = "Dozens of countries attended the conference [1]. Nearly 45 countries attended [2]."
    answer = engine_with(settings, reply).ask("How many countries attended the conference in Qatar?")
    assert_contract(answer, settings)
    assert "The articles differ" not in answer.text  # both versions already there
    [disagreement] = answer.disagreements
    assert {answer.citations[v.citations[0] - 1].source for v in disagreement.versions} == {SEED_A, SEED_B}


def test_the_other_articles_telling_of_a_cited_quote_is_found_though_not_retrieved(settings):
    from tests.test_citations import engine_with

    question = "According to Rubio, to whom are the nation states willing to join the force acceptable?"
    engine = engine_with(settings, "The nation states are acceptable to all sides [1].")
    answer = engine.ask(question)
    assert "all stakeholders" not in engine.model.prompts[-1][-1]["content"]  # retrieval missed it
    assert_contract(answer, settings)
    assert "all sides" in answer.text and "stakeholders" in answer.text
    [disagreement] = answer.disagreements
    assert {v.source for v in disagreement.versions} == {SEED_A, SEED_B}
    quotes = {answer.citations[v.citations[0] - 1].source: answer.citations[v.citations[0] - 1].quote
              for v in disagreement.versions}
    assert "all stakeholders" in quotes[SEED_B] and "all sides" in quotes[SEED_A]
