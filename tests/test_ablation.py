"""The checks' ablation: every check on, then each off alone, replayed from the reply cache; and
`newsdesk eval --ablate`, which shows it as a Markdown table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qa.checks
from qa.evaluation import GoldQuestion
from qa.evaluation.ablation import ablate, ablation_table
from qa.evaluation.runner import EvaluationSet
from qa.pipeline import AnswerEngine
from tests.test_citations import ScriptedModel

REPLY = "The spokesperson is Tahir Andrabi [1]."
ITEMS = [
    GoldQuestion("Who is the spokesperson of Pakistan's Foreign Ministry?", ["Tahir Andrabi"], True,
                 ["001_05bcaf92a568a173.txt"], "factoid"),
    # No article names a spokesperson in Miami: a question the checks may decline.
    GoldQuestion("Who is the spokesperson of Pakistan's Foreign Ministry in Miami?", [], False, [],
                 "unanswerable"),
]


class CountingModel(ScriptedModel):
    """The scripted model, counting the requests for its first tokens' probabilities too: the
    decision's score asks for them once a reply is judged, and they are model calls as well."""

    def __init__(self, reply: str):
        super().__init__(reply)
        self.chance_requests: list[list[dict]] = []

    def first_token_chances(self, messages, top=10):
        self.chance_requests.append(messages)
        return super().first_token_chances(messages, top)

    def calls(self) -> int:
        return len(self.prompts) + len(self.chance_requests)


def _table_rows(table: str) -> list[list[str]]:
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]


def test_each_check_is_measured_off_against_one_baseline_replayed_from_the_cache(make_settings,
                                                                                tmp_path):
    settings = make_settings(relevance_gap=2.0)
    engine = AnswerEngine(settings)
    engine.model = model = CountingModel(REPLY)  # type: ignore[assignment]
    sets = [EvaluationSet("tiny", list(ITEMS), settings)]
    cache = tmp_path / "replies"

    rows = ablate(sets, cache, lambda _settings: engine)

    assert [row["check"] for row in rows] == list(qa.checks.CHECK_NAMES)
    assert len({(row["trust_with"], row["accuracy_with"], row["abstention_with"]) for row in rows}) == 1
    asked = rows[0]["model_calls_with"]
    assert model.prompts and model.calls() == asked  # only the baseline asked the model
    assert all(row["model_calls"] == 0 and row["pure_replay"] for row in rows)

    # Run again: the baseline too is a replay now.
    again = ablate(sets, cache, lambda _settings: engine)
    assert model.calls() == asked
    assert all(row["model_calls_with"] == 0 and row["model_calls"] == 0 for row in again)

    table = ablation_table(rows, "the tiny set", commit="abc1234")
    assert "the tiny set" in table.splitlines()[0] and "abc1234" in table.splitlines()[0]
    cells = _table_rows(table)
    assert [row[0] for row in cells] == list(qa.checks.CHECK_NAMES)
    assert {row[1] for row in cells} == {f"{rows[0]['trust_with']:.2f}"}  # one baseline


class WithholdsEverything(qa.checks.Check):
    """A check a colleague might add: it withholds every reply."""

    name, names = "withholds_everything", ("withholds_everything",)

    def __call__(self, draft, context):
        return "Withheld by a check that withholds everything."


def test_a_check_added_to_the_list_is_measured_and_switching_it_off_reaches_the_answers(
        make_settings, tmp_path, monkeypatch):
    # The list is read as the ablation runs: a check added needs no change to it.
    real = qa.checks.checks_enabled
    new = WithholdsEverything.name

    def enabled(disabled=()):
        others = real(tuple(name for name in disabled if name != new))
        return others if new in disabled else [*others, WithholdsEverything()]

    monkeypatch.setattr(qa.checks, "CHECK_NAMES", (*qa.checks.CHECK_NAMES, new))
    monkeypatch.setattr(qa.checks, "checks_enabled", enabled)
    # Strictness 0: with the added check off, what the gates let through is shown, whatever the
    # fitted score says of it.
    settings = make_settings(relevance_gap=2.0, strictness=0.0)
    engine = AnswerEngine(settings)
    engine.model = ScriptedModel(REPLY)  # type: ignore[assignment]
    rows = ablate([EvaluationSet("tiny", list(ITEMS), settings)], tmp_path / "replies",
                  lambda _settings: engine)
    assert [row["check"] for row in rows] == list(qa.checks.CHECK_NAMES)
    assert all(row["accuracy_with"] == 0.0 for row in rows)  # every reply withheld
    added = rows[-1]
    assert added["accuracy_without"] == 1.0 and added["answers_changed"] >= 1
    assert all(row["accuracy_without"] == 0.0 for row in rows[:-1])  # still withheld by it


def test_a_replay_that_needed_the_model_says_so():
    row = {"check": "names_given", "questions": 2, "trust_with": 1.0, "trust_without": 0.5,
           "trust_change": -0.5, "accuracy_with": 1.0, "accuracy_without": 1.0,
           "abstention_with": None, "abstention_without": None, "answers_changed": 1,
           "model_calls_with": 2, "model_calls": 1, "pure_replay": False}
    table = ablation_table([row], "a set", commit="abc1234")
    assert _table_rows(table)[0] == ["names_given", "1.00", "0.50", "-0.50", "1.00", "1.00", "-", "-",
                                     "1", "1 (not a pure replay)"]
    assert "asked the model 2 times" in table.splitlines()[0]


def _cli(monkeypatch, tmp_path, *args: str) -> int:
    from ui.cli import main

    monkeypatch.setenv("NEWSDESK_LLM", "none")
    monkeypatch.setenv("NEWSDESK_ARTICLES_DIR", str(Path(__file__).resolve().parent.parent / "seeds"))
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    return main(["eval", *args])


def test_eval_ablate_prints_and_writes_the_table(monkeypatch, tmp_path, capsys):
    dataset = tmp_path / "tiny.jsonl"
    dataset.write_text("\n".join(json.dumps({"question": item.question, "answers": item.answers,
                                             "answerable": item.answerable, "sources": item.sources,
                                             "kind": item.kind}) for item in ITEMS), encoding="utf-8")
    out = tmp_path / "ablation.md"
    code = _cli(monkeypatch, tmp_path, "--ablate", "--dataset", str(dataset), "--replies-cache",
                str(tmp_path / "replies"), "--out", str(out))
    assert code == 0
    printed = capsys.readouterr().out
    assert "tiny.jsonl" in printed and "| check | trust with | trust without | change |" in printed
    assert out.read_text(encoding="utf-8").strip() == printed.strip()
    assert [row[0] for row in _table_rows(printed)] == list(qa.checks.CHECK_NAMES)


@pytest.mark.parametrize("extra, said", [((), "--ablate needs --replies-cache"),
                                         (("--replies-cache", "r", "--resume"),
                                          "--ablate does not use --resume")])
def test_eval_ablate_refuses_what_it_cannot_do(monkeypatch, tmp_path, capsys, extra, said):
    assert _cli(monkeypatch, tmp_path, "--ablate", *extra) == 2
    assert said in capsys.readouterr().err
