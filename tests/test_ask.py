"""The `ask()` contract, in evidence mode (no model): citations, offsets, abstention, messages."""

from __future__ import annotations

import re

from index import article_text
from qa import Answer, Final, Passages, ask, ask_stream
from tests.conftest import SEED_A, SEED_B


def assert_contract(answer: Answer, settings) -> None:
    """Every marker maps to a citation, every citation is exact and was retrieved."""
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.number for c in answer.citations}
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    retrieved = {(p.source, p.start, p.end) for p in answer.passages}
    for citation in answer.citations:
        assert article_text(citation.source, settings)[citation.start : citation.end] == citation.quote
        assert (citation.source, citation.start, citation.end) in retrieved
        assert citation.title


def test_answer_cites_the_passage_that_holds_it(settings):
    answer = ask("Who is the spokesperson of Pakistan's Foreign Ministry?", settings=settings)
    assert not answer.abstained and answer.mode == "extracted"
    assert answer.notice and "NEWSDESK_LLM=none" in answer.notice
    assert_contract(answer, settings)
    assert any("Tahir Andrabi" in c.quote and c.source == SEED_B for c in answer.citations)


def test_ask_builds_the_index_when_it_is_missing(settings):
    assert not (settings.data_dir / "manifest.json").exists()
    answer = ask("Who is Hamas's Gaza chief?", settings=settings)
    assert (settings.data_dir / "manifest.json").exists()
    assert any("Khalil Al-Hayya" in c.quote and c.source == SEED_A for c in answer.citations)


def test_off_topic_question_abstains(settings):
    answer = ask("What is the best recipe for sourdough bread?", settings=settings)
    assert answer.abstained
    assert answer.citations == []
    assert "don't say" in answer.text



def test_a_short_question_about_a_detail_of_a_long_sentence_is_read(settings):
    # The sentence is about a trip to Miami and embeds far from the question (cosine 0.28, below
    # min_relevance), but it has every word the question asks about.
    answer = ask("What is Steve Witkoff's role?", settings=settings)
    assert not answer.abstained
    assert_contract(answer, settings)
    assert any("roving envoy" in c.quote for c in answer.citations)
    # Names the articles give, asked about something they do not: still no passage read.
    assert ask("How old is Tahir Andrabi?", settings=settings).abstained


def test_an_off_topic_question_is_declined_without_comparing_words_one_by_one(settings, monkeypatch):
    import qa.checks
    import qa.decision

    compared = []
    original = qa.checks.said_otherwise

    def counted(store, words, evidence):
        compared.append(words)
        return original(store, words, evidence)

    monkeypatch.setattr(qa.checks, "said_otherwise", counted)
    monkeypatch.setattr(qa.decision, "said_otherwise", counted)
    # Each passage lacks a name of it, or three words: no word of it can be said otherwise there.
    assert ask("What is the capital of France?", settings=settings).abstained
    assert ask("How do you bake sourdough bread?", settings=settings).abstained
    assert compared == []

def test_new_article_is_answerable_without_restart(settings, articles_dir):
    assert ask("Where did the whale wash ashore?", settings=settings).abstained
    (articles_dir / "whale.txt").write_text(
        "Whale washes ashore in Brighton\n\nA 12-metre fin whale washed ashore on Brighton beach "
        "on Tuesday, coastguards said.\n",
        encoding="utf-8",
    )
    answer = ask("Where did the whale wash ashore?", settings=settings)
    assert not answer.abstained
    assert_contract(answer, settings)
    assert answer.citations[0].source == "whale.txt"
    assert "Brighton" in answer.citations[0].quote


def test_stream_yields_passages_then_the_answer(settings):
    events = list(ask_stream("How many countries attended the conference in Qatar?", settings=settings))
    assert isinstance(events[0], Passages) and events[0].passages
    assert isinstance(events[-1], Final) and isinstance(events[-1].answer, Answer)
    assert not any(isinstance(event, Final) for event in events[:-1])
    read, final = events[0].passages, events[-1].answer
    assert final.passages[: len(read)] == read
    # Beyond them, only other articles' tellings of a cited statement that the answer cites.
    cited = {(c.source, c.start) for c in final.citations}
    assert all((p.source, p.start) in cited for p in final.passages[len(read):])


def test_empty_and_oversized_questions_get_a_message(make_settings):
    settings = make_settings(max_question_chars=500)
    for question in ("", "   \n\t", "\x00\x07"):
        answer = ask(question, settings=settings)
        assert answer.abstained and answer.notice == "Ask a question about the articles."
    answer = ask("why " * 1000, settings=settings)
    assert answer.abstained and "limit is 500" in answer.notice


def test_followup_retrieval_uses_the_conversation(settings):
    history = [("Who is Hamas's Gaza chief?", "Khalil Al-Hayya [1].")]
    answer = ask("What right did he claim?", history=history, settings=settings)
    assert not answer.abstained
    assert any("legitimate right" in c.quote for c in answer.citations)
    assert answer.standalone_question and "Hamas" in answer.standalone_question


def test_answer_serialises_to_json(settings):
    import json

    answer = ask("Who is Hamas's Gaza chief?", settings=settings)
    payload = json.loads(answer.to_json())
    assert payload["citations"][0]["quote"] == answer.citations[0].quote
    assert payload["abstained"] is False


def test_a_new_topic_after_a_conversation_is_not_mixed_with_it(settings):
    history = [("Who is the spokesperson of Pakistan's Foreign Ministry?", "Tahir Andrabi [1].")]
    answer = ask("What is the capital of France?", history=history, settings=settings)
    assert answer.abstained
    assert answer.standalone_question is None


def test_malformed_history_is_ignored_not_a_crash(settings):
    answer = ask("What did he say?", history=[("only one",), "text", 3], settings=settings)
    assert isinstance(answer, Answer)


def test_unreadable_manifest_means_a_clean_rebuild(settings, articles_dir):
    from index import PassageStore, build_index

    build_index(settings)
    (articles_dir / SEED_A).unlink()
    (settings.data_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    build_index(settings)
    assert {p.source for p in PassageStore(settings).all_passages()} == {SEED_B}


def test_article_text_of_an_unknown_id_is_a_clear_error(settings):
    import pytest

    from index import ArticleError

    with pytest.raises(ArticleError, match="No article"):
        article_text("../../etc/passwd", settings)


def test_links_out_of_the_articles_folder_are_not_indexed(settings, articles_dir, tmp_path):
    from index import build_index

    secret = tmp_path / "secret.txt"
    secret.write_text("The vault code is 1234. Nobody must know it.", encoding="utf-8")
    (articles_dir / "link.txt").symlink_to(secret)
    report = build_index(settings)
    assert "link.txt" not in report.added


def test_a_paraphrase_that_changes_a_figure_is_not_supported(settings):
    from tests.test_citations import engine_with

    reply = "Pakistan was one of nearly 70 countries at the meeting in Qatar [1]."
    answer = engine_with(settings, reply).ask("How many countries attended the conference in Qatar?")
    assert "70 countries at the meeting" not in answer.text


def test_a_folder_with_one_short_article_answers(make_settings, tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "note.txt").write_text("The bridge in Alton closed on Monday for repairs.\n", encoding="utf-8")
    settings = make_settings(articles_dir=folder, data_dir=tmp_path / "one-data")
    answer = ask("When did the bridge in Alton close?", settings=settings)
    assert not answer.abstained and "Monday" in answer.citations[0].quote


def test_the_model_reads_each_sentence_with_its_neighbours_within_the_budget(settings):
    from index.store import PassageStore
    from qa.pipeline import AnswerEngine
    from qa.retrieval import retrieve, tokens_of

    engine = AnswerEngine(settings)
    engine.ensure_index()
    store: PassageStore = engine.store

    def read(question: str, budget: int) -> tuple[list[str], list[str]]:
        found = retrieve(store, question, settings.passages_to_read).closest(settings.relevance_gap)
        windowed = found.with_windows(store, budget)
        assert windowed.passages[: len(found.passages)] == found.passages
        assert len(windowed.relevance) == len(windowed.passages)
        added = windowed.passages[len(found.passages):]
        # Within the budget, beyond what retrieval found (which is always read).
        found_tokens = sum(tokens_of(p.text) for p in found.passages)
        assert sum(tokens_of(p.text) for p in added) <= max(0, budget - found_tokens)
        # Each added sentence is a near neighbour of a retrieved one, in its article.
        for passage in added:
            assert any(p.source == passage.source and 0 < abs(p.ordinal - passage.ordinal) <= 3
                       for p in found.passages)
        return [p.text for p in found.passages], [p.text for p in added]

    # "Once that is in place, it will allow us to strengthen..." says what "that" is only in the
    # sentence before it: "the next step here is to announce the Peace Council".
    retrieved, added = read("What will allow them to strengthen the stabilization force?", 1500)
    assert any(text.startswith("“Once that is in place") for text in retrieved)
    assert any("the next step here is to announce the Peace Council" in text for text in added)
    # "It's something we're focused on like a laser" continues the sentence before it.
    retrieved, added = read("How did Rubio say the US is focused on the first phase?", 1500)
    assert not any("laser" in text for text in retrieved)
    assert any("like a laser" in text for text in added)
    # With no budget to spare, only the retrieved sentences are read.
    retrieved, added = read("How did Rubio say the US is focused on the first phase?", 50)
    assert added == []