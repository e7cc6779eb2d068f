"""The development pool: built from RealTimeQA-shaped weeks made here, the SQuAD sample and the
seed held-out sets; deterministic, deduplicated, split once by a seed, written only under the data
folder."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from qa.evaluation.pool import (PoolError, PoolPlan, default_manifest, differences, pool_sets,
                                read_manifest, split_half, write_manifest)
from qa.evaluation.pool_build import build_pool
from qa.evaluation.realtimeqa import Snapshot
from qa.evaluation import load_dataset, load_squad
from ui.cli import main

PLAN = PoolPlan(windows=(("rtqa-2024-01", "20240105"), ("rtqa-2024-03", "20240301"),
                         ("rtqa-2025-01", "20250103"), ("rtqa-2025-03", "20250307")),
                min_weeks=2, min_questions=4, min_articles=6)
WEEKS = ("20240105", "20240112", "20240119", "20240301", "20240308",
         "20250103", "20250110", "20250307", "20250314")
FILLER = ("The council met on Tuesday to discuss the budget for the coming year. Members spoke "
          "for several hours about roads, schools and parks before the vote was put off again.")


def _story(week: str, number: int) -> str:
    """A distinct article: the harbour story of its week and question."""
    return (f"Harbour report {week}-{number}. The ferry service of Port {week}{number} resumed "
            f"after the storm, officials said. {FILLER}")


def _week_files(week: str) -> tuple[list[dict], list[dict]]:
    """Two questions a week: one whose answer an article gives with the question's words, one
    whose answer no article gives; one search result is shared by every week (a duplicate)."""
    questions, searches = [], []
    for number in range(2):
        qid = f"{week}_{number}"
        questions.append({
            "question_id": qid, "question_date": f"{week[:4]}/{week[4:6]}/{week[6:]}",
            "question_source": "A WEEKLY QUIZ", "question_url": f"https://quiz.example/{week}",
            "question_sentence": (f"Which port's ferry service resumed after the storm in week {week}?"
                                  if number == 0 else
                                  f"Which of the following mayors resigned in week {week}?"),
            "choices": ([f"Port {week}{number}", "Lisbon", "Genoa", "Oslo"] if number == 0 else
                        ["Aldous Vinterberg", "Jane Roe", "John Doe", "Mary Major"]),
            "answer": ["0"], "evidence": "",
        })
        results = [
            {"url": f"https://www.news.example/{week}/harbour-{number}/", "title": "Harbour ...",
             "text": _story(week, number), "authors": [], "publish_date": f"{week[:4]}/01/02"},
            # the same article in every week, once with and once without `www.`
            {"url": ("https://www.wire.example/budget" if number else "https://wire.example/budget/"),
             "title": "Council budget | Wire", "text": FILLER + "\n\nSign up for our newsletter.",
             "authors": [], "publish_date": "2023/12/01"},
            # the same text under another address
            {"url": f"https://copy.example/{week}/{number}", "title": "Budget copy",
             "text": FILLER, "authors": [], "publish_date": ""},
            {"url": f"https://tabloid.example/{week}/{number}/", "title": "Héros / à la une: “quoted”",
             "text": f"Aldous Vinterberg opened a bakery in week {week}{number}. {FILLER}"[::-1],
             "authors": [], "publish_date": None},
            {"url": f"https://empty.example/{week}/{number}", "title": "No text"},
        ]
        searches.append({"question_id": qid, "search_time": "", "search_result": results})
    return questions, searches


@pytest.fixture
def snapshot(tmp_path) -> Path:
    return write_snapshot(tmp_path / "realtimeqa")


def write_snapshot(root: Path) -> Path:
    """A RealTimeQA-shaped checkout: weeks of 2024 and 2025, and files the pool must not read."""
    for week in WEEKS:
        folder = root / "past" / week[:4]
        folder.mkdir(parents=True, exist_ok=True)
        questions, searches = _week_files(week)
        for suffix, lines in (("qa", questions), ("gcs", searches)):
            (folder / f"{week}_{suffix}.jsonl").write_text(
                "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    (root / "past" / "2019").mkdir()
    (root / "past" / "2019" / "20191227_qa.jsonl").write_text("not to be read\n")
    (root / "README.md").write_text("not to be read\n")
    return root


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _quiet(_line: str) -> None:
    pass


def _entry(manifest: dict, name: str) -> dict:
    return next(e for e in manifest["sets"] if e["name"] == name)


def test_building_twice_gives_byte_identical_files(snapshot, tmp_path):
    first = build_pool(snapshot, tmp_path / "one", PLAN, progress=_quiet)
    second = build_pool(snapshot, tmp_path / "two", PLAN, progress=_quiet)
    again = build_pool(snapshot, tmp_path / "one", PLAN, progress=_quiet)
    assert first == second == again
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    assert not differences(again, first)


def test_news_set_articles_have_headline_body_and_sidecar(snapshot, tmp_path):
    build_pool(snapshot, tmp_path / "data", PLAN, progress=_quiet)
    articles = tmp_path / "data" / "pool" / "rtqa-2024-01" / "articles"
    budget = [p for p in articles.glob("*.txt") if p.read_text().startswith("Council budget")]
    assert len(budget) == 1
    assert budget[0].read_text() == f"Council budget\n\n{FILLER}\n"  # no " | Wire", no newsletter
    sidecar = json.loads(budget[0].with_name(budget[0].stem + ".meta.json").read_text())
    assert sidecar == {"url": "https://wire.example/budget/", "outlet": "wire.example",
                       "published": "2023-12-01", "title": "Council budget"}
    harbour = sorted(p.name for p in articles.glob("news-example_2024-01-02_harbour_*.txt"))
    assert len(harbour) == 4  # two questions in each of two weeks
    assert not list(articles.glob("*empty*"))  # a result without text is no article


def test_articles_are_kept_once_by_address_and_by_text(snapshot, tmp_path):
    manifest = build_pool(snapshot, tmp_path / "data", PLAN, progress=_quiet)
    for entry in manifest["sets"]:
        if entry["source"] != "realtimeqa":
            continue
        articles = tmp_path / "data" / "pool" / entry["name"] / "articles"
        texts = [p.read_text().split("\n\n", 1)[1] for p in articles.glob("*.txt")]
        urls = [json.loads(p.read_text())["url"] for p in articles.glob("*.meta.json")]
        assert len(texts) == len(set(texts)) == len(urls) == entry["articles"]
        # per week: two harbour stories and two reversed tabloid ones; the budget story once
        assert entry["articles"] == 4 * len(entry["weeks"]) + 1


def test_article_file_names_are_ascii_without_separators(snapshot, tmp_path):
    build_pool(snapshot, tmp_path / "data", PLAN, progress=_quiet)
    names = [p.name for p in (tmp_path / "data" / "pool").glob("rtqa-*/articles/*")]
    assert names and all(n.isascii() and "/" not in n and "\\" not in n and " " not in n
                         for n in names)
    assert any(n.startswith("tabloid-example_undated_heros-a-la-une-quoted_") for n in names)


def test_answerable_only_when_an_article_gives_the_answer_about_what_was_asked(snapshot, tmp_path):
    build_pool(snapshot, tmp_path / "data", PLAN, progress=_quiet)
    folder = tmp_path / "data" / "pool" / "rtqa-2024-01"
    lines = [json.loads(line) for line in (folder / "questions.jsonl").read_text().splitlines()]
    items = load_dataset(folder / "questions.jsonl")  # the evaluation reads it as it is
    ferry, mayor = lines[0], lines[1]
    assert ferry["answerable"] and items[0].kind == "factoid"
    assert ferry["answers"] == ["Port 202401050"]
    assert [s.removesuffix(".txt").split("_")[:2] for s in ferry["sources"]] == [
        ["news-example", "2024-01-02"]]
    assert all((folder / "articles" / s).is_file() for s in ferry["sources"])
    # the right choice is in no article (the tabloid's text is reversed): decline
    assert not mayor["answerable"] and mayor["answers"] == [] and mayor["sources"] == []
    assert mayor["kind"] == "unanswerable" and mayor["accepted"] == ["Aldous Vinterberg"]
    # "which of the following" cannot be answered without its choices
    assert mayor["question"] == ("Which of the following mayors resigned in week 20240105: "
                                 "Aldous Vinterberg, Jane Roe, John Doe or Mary Major?")
    assert ferry["question"].endswith("in week 20240105?")


def test_an_answer_in_an_article_about_something_else_is_not_an_answer(tmp_path):
    root = tmp_path / "realtimeqa" / "past" / "2024"
    root.mkdir(parents=True)
    question = {"question_id": "20240105_0", "question_date": "2024/01/05",
                "question_sentence": "Which country's parliament dropped the planned pay rises?",
                "choices": ["Kenya", "Peru"], "answer": ["0"]}
    unrelated = {"url": "https://a.example/1", "title": "Marathon",
                 "text": "A runner from Kenya won the marathon in record time.",
                 "publish_date": "2024/01/01"}
    (root / "20240105_qa.jsonl").write_text(json.dumps(question) + "\n")
    (root / "20240105_gcs.jsonl").write_text(json.dumps(
        {"question_id": "20240105_0", "search_result": [unrelated]}) + "\n")
    plan = PoolPlan(windows=(("rtqa-2024-01", "20240105"),), min_weeks=1, min_questions=1,
                    min_articles=1)
    build_pool(tmp_path / "realtimeqa", tmp_path / "data", plan, progress=_quiet)
    line = json.loads((tmp_path / "data/pool/rtqa-2024-01/questions.jsonl").read_text())
    assert line["answer_in_set"] and not line["answerable"] and line["kind"] == "unanswerable"


def test_split_keeps_whole_sets_paragraphs_and_questions_on_one_side(snapshot, tmp_path):
    manifest = build_pool(snapshot, tmp_path / "data", PLAN, progress=_quiet)
    news = {e["name"]: e["part"] for e in manifest["sets"] if e["source"] == "realtimeqa"}
    # whole news sets, one of each year on each side
    assert sorted(news.values()) == ["check", "check", "fit", "fit"]
    assert {news["rtqa-2024-01"], news["rtqa-2024-03"]} == {"fit", "check"}
    assert {news["rtqa-2025-01"], news["rtqa-2025-03"]} == {"fit", "check"}
    weeks = [w for e in manifest["sets"] for w in e.get("weeks", [])]
    assert len(weeks) == len(set(weeks))
    # SQuAD by paragraph: each paragraph (article) on exactly one side
    fit, check = _entry(manifest, "squad-fit"), _entry(manifest, "squad-check")
    assert not set(fit["paragraphs"]) & set(check["paragraphs"])
    assert sorted(fit["paragraphs"] + check["paragraphs"]) == list(range(38))
    pool = tmp_path / "data" / "pool"
    contexts = [set(load_squad(pool / name / "squad.json")[1].values())
                for name in ("squad-fit", "squad-check")]
    assert not contexts[0] & contexts[1]
    # the seed held-out sets by question; held-out 4, the `make test` gate, is in neither
    fit, check = _entry(manifest, "seed-heldout-fit"), _entry(manifest, "seed-heldout-check")
    for name in ("heldout.jsonl", "heldout2.jsonl", "heldout3.jsonl"):
        assert not set(fit["lines"][name]) & set(check["lines"][name])
    assert fit["questions"] + check["questions"] == 45 + 40 + 40
    assert "heldout4.jsonl" not in json.dumps(manifest)


def test_split_is_fixed_by_the_seed():
    units = list(range(40))
    assert split_half(units, 19, "squad") == split_half(list(reversed(units)), 19, "squad")
    assert split_half(units, 19, "squad") != split_half(units, 20, "squad")
    fit, check = split_half(units, 19, "squad")
    assert len(fit) == len(check) == 20 and sorted(fit + check) == units


def test_nothing_is_written_outside_the_data_folder(snapshot, tmp_path):
    repository = Path(__file__).resolve().parent.parent
    watched = {folder: _files(folder) for folder in (repository / "qa" / "data",
                                                     repository / "seeds", snapshot)}
    outside = {p for p in tmp_path.rglob("*") if p.is_file()}
    build_pool(snapshot, tmp_path / "data", PLAN, progress=_quiet)
    assert {p for p in tmp_path.rglob("*") if p.is_file() and "data" not in p.relative_to(
        tmp_path).parts[:1]} == outside
    assert {folder: _files(folder) for folder in watched} == watched


def test_only_the_2024_and_2025_files_are_read(snapshot):
    found = Snapshot(snapshot)
    assert found.names and all(n.startswith(("past/2024/", "past/2025/")) for n in found.names)
    with pytest.raises(PoolError):
        found.read("README.md")
    with pytest.raises(PoolError):
        found.read("past/2019/20191227_qa.jsonl")


def test_a_git_directory_is_read_like_a_checkout(snapshot, tmp_path):
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example", "-C", str(snapshot)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "weeks"], check=True)
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(snapshot), str(bare)], check=True)
    from_folder = build_pool(snapshot, tmp_path / "one", PLAN, progress=_quiet)
    from_git = build_pool(bare, tmp_path / "two", PLAN, progress=_quiet)
    assert from_git["realtimeqa"]["commit"] == from_folder["realtimeqa"]["commit"]
    assert from_git["sets"] == from_folder["sets"]


def test_a_week_missing_from_the_snapshot_is_skipped_and_reported(snapshot, tmp_path):
    (snapshot / "past" / "2024" / "20240112_gcs.jsonl").unlink()
    manifest = build_pool(snapshot, tmp_path / "data", PLAN, progress=_quiet)
    assert manifest["realtimeqa"]["missing_weeks"] == ["20240112"]
    assert _entry(manifest, "rtqa-2024-01")["weeks"] == ["20240105", "20240119"]


def test_pool_build_command_checks_the_manifest(snapshot, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("qa.evaluation.pool_build.PoolPlan", lambda: PLAN)  # the issue's plan needs real weeks
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    manifest = tmp_path / "pool.json"
    command = ["pool", "build", "--realtimeqa", str(snapshot), "--manifest", str(manifest)]
    assert main([*command, "--write-manifest"]) == 0
    assert main(command) == 0 and "matches" in capsys.readouterr().err
    recorded = read_manifest(manifest)
    _entry(recorded, "rtqa-2024-01")["questions_sha256"] = "0" * 64
    write_manifest(recorded, manifest)
    assert main(command) == 1
    assert "rtqa-2024-01: questions_sha256" in capsys.readouterr().err
    assert main(["pool", "show", "--manifest", str(manifest)]) == 0
    shown = capsys.readouterr().out
    assert "rtqa-2024-01" in shown and "DIFFERS" in shown and "squad-fit" in shown


def test_pool_sets_are_runnable_each_with_its_own_articles(snapshot, tmp_path, settings):
    manifest_path = tmp_path / "pool.json"
    write_manifest(build_pool(snapshot, tmp_path / "data", PLAN, progress=_quiet), manifest_path)
    for part in ("fit", "check"):
        sets = pool_sets(part, tmp_path / "data", manifest_path)
        assert sorted(s.source for s in sets) == ["realtimeqa", "realtimeqa", "seed-heldout",
                                                  "squad"]
        for pool_set in sets:
            assert pool_set.part == part
            for item in pool_set.questions():
                assert all((pool_set.articles_dir / s).is_file() for s in item.sources)
            assert pool_set.is_squad == (pool_set.squad_path is not None)
            moved = pool_set.settings_for(settings)
            assert moved.articles_dir == pool_set.articles_dir
            assert moved.data_dir == pool_set.store_dir != settings.data_dir
    (tmp_path / "data" / "pool" / "squad-fit" / "questions.jsonl").write_text("")
    with pytest.raises(PoolError):
        pool_sets("fit", tmp_path / "data", manifest_path)
    with pytest.raises(PoolError):
        pool_sets("gold", tmp_path / "data", manifest_path)


def test_the_committed_manifest_describes_the_issues_pool():
    manifest = read_manifest(default_manifest())
    assert manifest["plan"]["seed"] == 19
    assert sum(manifest["totals"].values()) >= 500
    news = [e for e in manifest["sets"] if e["source"] == "realtimeqa"]
    assert len(news) >= 2 and {e["part"] for e in news} == {"fit", "check"}
    for entry in news:
        assert entry["articles"] >= 600 and entry["questions"] >= 100
        assert all(f.startswith(("past/2024/", "past/2025/")) for f in entry["files"])
    assert {e["part"] for e in manifest["sets"]} == {"fit", "check"}
    for part in ("fit", "check"):
        assert manifest["totals"][part] == sum(e["questions"] for e in manifest["sets"]
                                               if e["part"] == part)
