"""The evaluation script: its scorer, its output file and its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from qa.answer import Answer, Citation
from qa.evaluation import GoldQuestion, answer_correct, citation_supported, contains, load_dataset, default_dataset

ROOT = Path(__file__).resolve().parent.parent


def _answer(text: str, quotes: tuple[str, ...] = (), abstained: bool = False) -> Answer:
    citations = [Citation(i + 1, "a.txt", "A", q, 0, len(q)) for i, q in enumerate(quotes)]
    return Answer(question="q", text=text, citations=citations, abstained=abstained)


def test_containment_is_by_whole_words_after_normalising():
    assert contains("Pakistan was one of nearly 45 countries [2].", "45")
    assert not contains("Some 145 countries", "45")
    assert contains("Khalil al-Hayya said", "Khalil Al-Hayya")
    assert contains("It will cost $1,200 million", "1200")
    assert not contains("anything", "")


def test_scorer_is_not_fooled_by_empty_abstaining_or_listing_replies():
    item = GoldQuestion("How many countries?", ["45"], True, ["b.txt"], "factoid")
    assert answer_correct(item, _answer("Nearly 45 countries [1].", ("nearly 45 countries",)))
    assert not answer_correct(item, _answer(""))
    assert not answer_correct(item, _answer("Nearly 45 countries.", abstained=True))
    assert not answer_correct(item, _answer("Dozens, 70 or 19 countries."))
    both = GoldQuestion("How many?", ["dozens", "45"], True, [], "disagreement")
    assert not answer_correct(both, _answer("Nearly 45 countries [1]."))
    assert answer_correct(both, _answer("Dozens [1], or nearly 45 [2]."))


def test_citation_support_needs_the_answer_inside_a_cited_quote():
    item = GoldQuestion("Who?", ["Tahir Andrabi"], True, [], "factoid")
    assert citation_supported(item, _answer("Tahir Andrabi [1].", ("spokesperson Tahir Andrabi said",)))
    assert not citation_supported(item, _answer("Tahir Andrabi [1].", ("Rubio spoke in Washington",)))


@pytest.mark.parametrize("dataset", ["gold.jsonl", "heldout.jsonl", "heldout2.jsonl", "heldout3.jsonl"])
def test_each_seed_question_set_covers_every_kind_and_its_answers_are_in_its_articles(dataset):
    items = load_dataset(default_dataset().parent / dataset)
    assert len(items) >= 30
    assert {item.kind for item in items} == {"factoid", "followup", "disagreement", "unanswerable"}
    for item in items:
        if not item.answerable:
            continue
        texts = [(ROOT / "seeds" / source).read_text(encoding="utf-8") for source in item.sources]
        found = [answer for answer in item.answers if any(contains(t, answer) for t in texts)]
        assert found == item.answers if item.kind == "disagreement" else found, item.question


def _eval(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {"NEWSDESK_LLM": "none", "NEWSDESK_ARTICLES_DIR": str(ROOT / "seeds"),
           "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "ui.cli", "eval", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)


def test_eval_writes_every_answer_and_a_summary(tmp_path):
    out = tmp_path / "result.json"
    run = _eval(tmp_path, "--out", str(out))
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    summary = result["summary"]
    for key in ("answer_accuracy", "citation_support", "abstention_accuracy"):
        assert 0.0 <= summary[key] <= 1.0
    assert summary["answer_accuracy"] >= 0.5  # evidence mode alone finds most answers
    assert len(result["questions"]) == len(load_dataset(default_dataset()))
    assert set(result["by_kind"]) == {"factoid", "followup", "disagreement", "unanswerable"}
    assert "answer accuracy" in run.stdout
    page = out.with_suffix(".html").read_text()
    assert "<svg" in page and "Every answer" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page  # offline


def test_min_accuracy_turns_a_low_score_into_exit_1(tmp_path):
    assert _eval(tmp_path, "--min-accuracy", "0.5", "--limit", "5").returncode == 0
    wrong = _wrong_dataset(tmp_path)
    assert _eval(tmp_path, "--dataset", str(wrong)).returncode == 0  # a completed run exits 0
    assert _eval(tmp_path, "--dataset", str(wrong), "--min-accuracy", "0.5").returncode == 1
    # Wrong answers cost trust: the gate on it fails them too; a floor of -1 passes anything.
    assert _eval(tmp_path, "--dataset", str(wrong), "--min-trust", "0.0").returncode == 1
    assert _eval(tmp_path, "--dataset", str(wrong), "--min-trust", "-1").returncode == 0


def _wrong_dataset(tmp_path) -> Path:
    wrong = tmp_path / "wrong.jsonl"
    rows = [{"question": "Who is the spokesperson of Pakistan's Foreign Ministry?", "answers": ["Imran Khan"],
             "answerable": True, "sources": [], "kind": "factoid"},
            {"question": "How many countries attended the conference in Qatar?", "answers": ["112"],
             "answerable": True, "sources": [], "kind": "factoid"}]
    wrong.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return wrong


def test_a_gold_set_with_wrong_answers_scores_low(tmp_path):
    out = tmp_path / "wrong.json"
    assert _eval(tmp_path, "--dataset", str(_wrong_dataset(tmp_path)), "--out", str(out)).returncode == 0
    assert json.loads(out.read_text())["summary"]["answer_accuracy"] == 0.0


def test_an_answer_listing_many_figures_is_not_counted_right():
    item = GoldQuestion("How many countries attended?", ["45"], True, [], "factoid")
    assert not answer_correct(item, _answer("Dozens, 45, 70 or 19 countries [1]."))
    assert answer_correct(item, _answer("Nearly 45 countries attended on Dec. 19 [1]."))


def test_exact_match_and_f1_follow_squad():
    from qa.evaluation import exact_and_f1

    item = GoldQuestion("Who?", ["Tahir Andrabi"], True, [], "factoid")
    assert exact_and_f1(item, _answer("Tahir Andrabi [1]")) == (1.0, 1.0)
    exact, f1 = exact_and_f1(item, _answer("The spokesperson is Tahir Andrabi [1]."))
    assert exact == 0.0 and round(f1, 2) == 0.67  # precision 2/4 ("the" dropped), recall 2/2
    assert exact_and_f1(item, _answer("Tahir Andrabi", abstained=True)) == (0.0, 0.0)
    impossible = GoldQuestion("Who?", [], False, [], "unanswerable")
    assert exact_and_f1(impossible, _answer("", abstained=True)) == (1.0, 1.0)


def test_a_drop_beyond_noise_is_flagged_as_a_regression():
    from qa.evaluation import compare

    questions = [{"answerable": True}] * 50 + [{"answerable": False}] * 10
    result = {"summary": {"answer_accuracy": 0.70, "citation_support": 0.79, "latency_p50": 9.0},
              "questions": questions}
    baseline = {"summary": {"answer_accuracy": 0.85, "citation_support": 0.80, "latency_p50": 4.0}}
    flags = {row["metric"]: row["regression"] for row in compare(result, baseline)}
    assert flags == {"answer_accuracy": True, "citation_support": False, "latency_p50": True}


SQUAD = {
    "version": "v2.0",
    "data": [{
        "title": "Harbour",
        "paragraphs": [{
            "context": "The harbour of Port Elin reopened on Monday after the storm. Fishermen said "
                       "the storm destroyed 40 boats. The mayor, Ana Brill, promised new piers.",
            "qas": [
                {"id": "1", "question": "How many boats did the storm destroy?",
                 "answers": [{"text": "40", "answer_start": 90}], "is_impossible": False},
                {"id": "2", "question": "Who is the mayor of Port Elin?",
                 "answers": [{"text": "Ana Brill", "answer_start": 111}], "is_impossible": False},
                {"id": "3", "question": "What did the new piers cost?", "answers": [],
                 "plausible_answers": [{"text": "piers", "answer_start": 140}], "is_impossible": True},
            ],
        }],
    }],
}


def test_squad_json_runs_as_it_is_with_its_own_articles_and_store(tmp_path):
    dataset = tmp_path / "squad.json"
    dataset.write_text(json.dumps(SQUAD), encoding="utf-8")
    out = tmp_path / "squad-result.json"
    run = _eval(tmp_path, "--dataset", str(dataset), "--out", str(out))
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    kinds = [q["kind"] for q in result["questions"]]
    assert kinds == ["factoid", "factoid", "unanswerable"]
    assert result["summary"]["answer_accuracy"] == 1.0  # evidence mode quotes the sentences
    assert result["summary"]["reader_recall"] == 1.0
    written = list((tmp_path / "data" / "datasets").glob("squad-*/articles/*.txt"))
    assert len(written) == 1 and "Ana Brill" in written[0].read_text()


SQUAD_SAMPLE = ROOT / "qa" / "data" / "squad" / "dev-v2.0-sample.json"


def test_the_squad_sample_is_real_squad_and_its_answers_are_in_their_paragraphs():
    from qa.evaluation import is_squad, load_squad

    assert is_squad(SQUAD_SAMPLE)
    items, articles = load_squad(SQUAD_SAMPLE)
    kinds = Counter(item.kind for item in items)
    assert kinds["factoid"] > 50 and kinds["unanswerable"] > 50 and sum(kinds.values()) == len(items)
    for item in items:
        assert len(item.sources) == 1 and item.sources[0] in articles
        assert item.answerable == bool(item.answers)
        for answer in item.answers:  # the scorer can find every accepted answer in its paragraph
            assert contains(articles[item.sources[0]], answer), (item.question, answer)
    raw = json.loads(SQUAD_SAMPLE.read_text(encoding="utf-8"))
    assert raw["version"] == "v2.0"
    for paragraph in (p for document in raw["data"] for p in document["paragraphs"]):
        for qa in paragraph["qas"]:
            assert qa["is_impossible"] == (not qa["answers"])
            for span in qa["answers"] + qa.get("plausible_answers", []):
                start = span["answer_start"]
                assert paragraph["context"][start:start + len(span["text"])] == span["text"], qa["id"]


def test_an_interrupted_run_resumes_without_asking_again(tmp_path):
    out = tmp_path / "resumed.json"
    journal = out.with_suffix(".partial.jsonl")
    assert _eval(tmp_path, "--limit", "3", "--out", str(out)).returncode == 0
    first = json.loads(out.read_text())["questions"]
    assert not journal.exists()  # a complete run leaves no journal
    # As if the run had been killed after two questions, one of them with a telltale answer.
    planted = dict(first[0], answer="PLANTED")
    journal.write_text(json.dumps(planted) + "\n" + json.dumps(first[1]) + "\n{cut sho", encoding="utf-8")
    run = _eval(tmp_path, "--limit", "3", "--out", str(out), "--resume")
    assert run.returncode == 0 and "Resuming" in run.stderr
    again = json.loads(out.read_text())["questions"]
    assert again[0]["answer"] == "PLANTED"  # taken from the journal, not asked again
    assert [q["question"] for q in again] == [q["question"] for q in first]


def test_an_answer_listing_many_names_is_not_counted_right():
    which = GoldQuestion("Which country offered to take part in the force?", ["Pakistan"], True, [], "factoid")
    assert answer_correct(which, _answer("Pakistan offered to take part, Rubio said in Washington [1]."))
    assert not answer_correct(which, _answer("Pakistan, Qatar, Egypt and Turkiye [1]."))
    assert not answer_correct(which, _answer("Pakistan or Qatar [1]."))
    assert not answer_correct(which, _answer("It was Pakistan, Qatar, Egypt, Turkiye or the United States."))
    who = GoldQuestion("Who headed to Miami on Friday?", ["Qatar", "Egypt", "Turkiye"], True, [], "factoid")
    assert answer_correct(who, _answer("Top officials of Qatar, Egypt and Turkiye [1]."))
    mediators = GoldQuestion("Which two countries are key mediators?", ["Qatar and Egypt"], True, [], "factoid")
    assert answer_correct(mediators, _answer("Qatar and Egypt [1]."))


def test_names_the_conversation_gave_are_not_guesses():
    asked_after = [("Which countries are the key mediators?", "Qatar and Egypt [1].")]
    which = GoldQuestion("Which regional power was travelling with them?", ["Turkiye"], True, [],
                         "followup", history=asked_after)
    assert answer_correct(which, _answer("Turkiye was travelling with Qatar and Egypt [1]."))
    alone = GoldQuestion("Which regional power was travelling with them?", ["Turkiye"], True, [], "followup")
    assert not answer_correct(alone, _answer("Turkiye was travelling with Qatar and Egypt [1]."))


# ----- the figures of the trade-off, the reply cache, the pool ---------------------------------
def _scored(item: GoldQuestion, answer: Answer) -> dict:
    from qa.evaluation import score

    return {"answerable": item.answerable, "kind": item.kind, "seconds": 1.0,
            "first_token_seconds": None, "scores": score(item, answer)}


def test_trust_shown_accuracy_and_reader_recall_sum_up_a_run():
    from index.store import StoredPassage
    from qa.evaluation import summarise

    asked = GoldQuestion("Who?", ["Tahir Andrabi"], True, ["b.txt"], "factoid")
    absent = GoldQuestion("How old?", [], False, [], "unanswerable")
    holding = StoredPassage("b#1", "b.txt", 1, 0, 30, "spokesperson Tahir Andrabi said", "B", None, None)
    right = _answer("Tahir Andrabi [1].", ("spokesperson Tahir Andrabi said",))
    right.passages = [holding]
    records = [
        _scored(asked, right),                                    # +1, shown, right, read
        _scored(asked, _answer("Rubio [1].", ("Rubio spoke",))),  # -1, shown, wrong, not read
        _scored(asked, _answer("", abstained=True)),              # 0, withheld
        _scored(absent, _answer("", abstained=True)),             # +1, rightly declined
        _scored(absent, _answer("He is 40 [1].", ("He is 40",))), # -1, answered when absent
    ]
    assert [r["scores"]["trust"] for r in records] == [1, -1, 0, 1, -1]
    summary = summarise(records)
    assert summary["trust_score"] == 0.0
    assert summary["shown_accuracy"] == round(1 / 3, 4)
    assert summary["reader_recall"] == round(1 / 3, 4)
    assert summary["risk_coverage"] == [[0.6, round(1 / 3, 4)]]  # one point until a score exists


def test_risk_coverage_moves_with_a_confidence_score():
    from qa.evaluation.scoring import risk_coverage

    def record(confidence: float, correct: bool) -> dict:
        return {"answerable": True, "confidence": confidence,
                "scores": {"correct": correct, "abstained": False}}

    points = risk_coverage([record(0.9, True), record(0.8, True), record(0.3, False), record(0.1, False)])
    assert points == [[0.25, 1.0], [0.5, 1.0], [0.75, round(2 / 3, 4)], [1.0, 0.5]]


def test_a_replayed_run_gives_the_same_answers_without_the_model(settings, tmp_path):
    from qa.pipeline import AnswerEngine
    from qa.evaluation.runner import EvaluationSet, run_sets
    from tests.test_citations import ScriptedModel

    class Counted(ScriptedModel):
        """Counts its scoring requests (first-token probabilities) beside its replies."""

        scored = 0

        def first_token_chances(self, messages, top=10):
            self.scored += 1
            return {"The": -0.2, "NOT": -2.0}

    engine = AnswerEngine(settings)
    engine.model = model = Counted("The spokesperson is Tahir Andrabi [1].")
    items = load_dataset(default_dataset())[:6]
    sets = [EvaluationSet("gold", items, settings)]
    cache = tmp_path / "replies"
    first = run_sets(sets, lambda _settings: engine, replies_cache=cache)
    asked = len(model.prompts) + model.scored
    assert model.scored > 0 and first["replies"] == {
        "cache": str(cache), "from_cache": 0, "from_model": asked}
    second = run_sets(sets, lambda _settings: engine, replies_cache=cache)
    assert len(model.prompts) + model.scored == asked  # the model was not asked again
    assert second["replies"]["from_cache"] == asked and second["replies"]["from_model"] == 0
    keep = ("answer", "abstained", "citations", "notice", "confidence", "evidence")
    assert ([{k: q[k] for k in keep} for q in second["questions"]]
            == [{k: q[k] for k in keep} for q in first["questions"]])


def test_a_reply_cut_short_is_not_replayed(tmp_path):
    from qa.evaluation.reply_cache import CachedReplies
    from qa.llm import ModelInfo, ModelUnavailable

    class Failing:
        info = ModelInfo("local", "failing", None)
        calls = 0

        def stream(self, messages, max_tokens=200):
            Failing.calls += 1
            yield "Tahir"
            raise ModelUnavailable("the model stopped answering")

    cached = CachedReplies(Failing(), tmp_path)
    for _ in range(2):
        with pytest.raises(ModelUnavailable):
            list(cached.stream([{"role": "user", "content": "Who?"}]))
    assert Failing.calls == 2 and cached.cached == 0
    assert not list(tmp_path.rglob("*.json"))


def test_eval_pool_runs_each_set_over_its_own_articles_in_one_result(tmp_path, settings):
    from qa.pipeline import engine_for
    from qa.evaluation.pool import write_manifest
    from qa.evaluation.pool_build import build_pool
    from qa.evaluation.runner import format_table, pool_part_sets, run_sets
    from tests.test_devpool import PLAN, _quiet, write_snapshot

    source = write_snapshot(tmp_path / "rtqa")
    manifest = tmp_path / "pool.json"
    write_manifest(build_pool(source, settings.data_dir, PLAN, progress=_quiet), manifest)
    sets = pool_part_sets(settings, "fit", manifest)
    result = run_sets(sets, engine_for)
    assert list(result["by_set"]) == [s.name for s in sets]
    assert len(result["questions"]) == sum(len(s.items) for s in sets)
    assert {q["set"] for q in result["questions"]} == {s.name for s in sets}
    for pool_set in sets:  # each set was indexed into its own store
        assert (pool_set.settings.data_dir / "manifest.json").is_file()
    table = format_table(result)
    assert all(s.name in table for s in sets) and "trust score" in table


def test_reading_only_measures_reader_recall_per_budget_without_a_model(tmp_path):
    out = tmp_path / "reading.json"
    run = _eval(tmp_path, "--reading-only", "--budgets", "60,600", "--out", str(out))
    assert run.returncode == 0, run.stderr
    rows = json.loads(out.read_text())["reading_only"]
    assert [row["budget"] for row in rows] == [60, 600]
    small, large = rows
    answerable = sum(1 for item in load_dataset(default_dataset()) if item.answerable)
    assert small["questions"] == large["questions"] == answerable
    # A larger budget reads more, and never loses an answer a smaller one read.
    assert large["tokens_p50"] > small["tokens_p50"]
    assert large["reader_recall"] >= small["reader_recall"]
    assert large["reader_recall"] > 0.5
    assert f"| {default_dataset().stem} | 600 | {answerable} |" in run.stdout
    bad = _eval(tmp_path, "--reading-only", "--budgets", "many")
    assert bad.returncode == 2 and "--budgets" in bad.stderr


def test_the_reading_budget_sets_how_many_retrieved_sentences_are_read(make_settings):
    assert make_settings(llm="local").passages_to_read == 8
    assert make_settings(llm="local", reading_tokens=300).passages_to_read == 4
    assert make_settings(llm="local", reading_tokens=50).passages_to_read == 1  # never none
    assert make_settings(llm="local", reading_tokens=1200).passages_to_read == 16
    assert make_settings(llm="openai").passages_to_read == 20  # a strong model is not held to 4
    assert make_settings(llm="local", passages_per_answer=6).passages_to_read == 6
    assert make_settings(llm="local", passages_per_answer="").passages_to_read == 8  # blank: unset
