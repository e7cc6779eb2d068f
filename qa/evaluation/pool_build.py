"""Building the development pool under the data folder: the RealTimeQA news sets, the SQuAD
sample split by paragraph and seed held-out sets 1-3 split by question, each with its articles.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from qa.evaluation.datasets import GoldQuestion, load_dataset, load_squad
from qa.evaluation.pool import (PART_PURPOSE, PARTS, POOL_FOLDER, REALTIMEQA_REPOSITORY,
                                REALTIMEQA_YEARS, SEED_HELDOUT_FILES, SQUAD_FILE, PoolPlan, _sha256,
                                repository_data, repository_seeds, split_half, split_news_sets)
from qa.evaluation.realtimeqa import NewsSet, Snapshot, news_questions, plan_news_sets

def folder_digest(folder: Path) -> str:
    """One sha256 over every file of a folder: its name and its content's sha256, in name order."""
    listing = "".join(f"{p.name}\t{_sha256(p)}\n" for p in sorted(folder.iterdir()) if p.is_file())
    return hashlib.sha256(listing.encode()).hexdigest()


def _write_jsonl(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                    encoding="utf-8")


def _fresh_articles(folder: Path) -> Path:
    """The set's `articles/` folder, emptied (the set's store beside it is kept)."""
    articles = folder / "articles"
    if articles.exists():
        shutil.rmtree(articles)
    articles.mkdir(parents=True)
    return articles


def _gold_lines(items: list[GoldQuestion]) -> list[dict]:
    return [{"question": i.question, "answers": i.answers, "answerable": i.answerable,
             "sources": i.sources, "kind": i.kind,
             **({"history": [list(t) for t in i.history]} if i.history else {})}
            for i in items]


def _entry(name: str, part: str, source: str, folder: Path, count: int, answerable: int,
           **details) -> dict:
    articles = folder / "articles"
    return {"name": name, "part": part, "source": source, **details,
            "questions": count, "answerable": answerable,
            "articles": sum(1 for p in articles.iterdir() if p.suffix == ".txt"),
            "questions_sha256": _sha256(folder / "questions.jsonl"),
            "articles_sha256": folder_digest(articles)}


def build_news_set(news: NewsSet, part: str, pool_dir: Path) -> dict:
    folder = pool_dir / news.name
    articles = _fresh_articles(folder)
    for article in news.articles.values():
        (articles / f"{article.name}.txt").write_text(article.text, encoding="utf-8")
        (articles / f"{article.name}.meta.json").write_text(article.sidecar, encoding="utf-8")
    lines = news_questions(news)
    _write_jsonl(folder / "questions.jsonl", lines)
    return _entry(news.name, part, "realtimeqa", folder, len(lines),
                  sum(line["answerable"] for line in lines),
                  weeks=[w.week for w in news.weeks],
                  files={name: digest for w in news.weeks for name, digest in w.files.items()})


def build_squad_sets(squad: Path, seed: int, pool_dir: Path) -> list[dict]:
    """The SQuAD sample split by paragraph: each part a filtered SQuAD file, its paragraphs as
    articles (named as `load_squad` names them) and its questions in the gold-set format."""
    raw = json.loads(squad.read_text(encoding="utf-8"))
    numbered = [(d, p) for d, document in enumerate(raw["data"])
                for p, _ in enumerate(document.get("paragraphs", []))]
    fit, check = split_half(list(range(len(numbered))), seed, "squad")
    entries = []
    for part, chosen in (("fit", fit), ("check", check)):
        keep = {numbered[i] for i in chosen}
        data = [{**document, "paragraphs": [p for j, p in enumerate(document["paragraphs"])
                                            if (d, j) in keep]}
                for d, document in enumerate(raw["data"])]
        data = [document for document in data if document["paragraphs"]]
        name = f"squad-{part}"
        folder = pool_dir / name
        articles = _fresh_articles(folder)
        filtered = folder / "squad.json"
        filtered.write_text(json.dumps({**raw, "data": data}, ensure_ascii=False) + "\n",
                            encoding="utf-8")
        items, texts = load_squad(filtered)
        for source, text in texts.items():
            (articles / source).write_text(text, encoding="utf-8")
        _write_jsonl(folder / "questions.jsonl", _gold_lines(items))
        entries.append(_entry(name, part, "squad", folder, len(items),
                              sum(i.answerable for i in items), file=f"qa/data/{SQUAD_FILE}",
                              file_sha256=_sha256(squad), paragraphs=chosen,
                              squad_sha256=_sha256(filtered)))
    return entries


def build_seed_heldout_sets(data: Path, seeds: Path, seed: int, pool_dir: Path) -> list[dict]:
    """Held-out sets 1-3 split by question; both parts ask about the same two seed articles."""
    lines: dict[tuple[str, int], str] = {}
    for name in SEED_HELDOUT_FILES:
        for number, line in enumerate((data / name).read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                lines[(name, number)] = line
    fit, check = split_half(list(lines), seed, "seed-heldout")
    sources = sorted({s for line in lines.values() for s in json.loads(line).get("sources", [])})
    entries = []
    for part, chosen in (("fit", fit), ("check", check)):
        name = f"seed-heldout-{part}"
        folder = pool_dir / name
        articles = _fresh_articles(folder)
        for source in sources:
            shutil.copyfile(seeds / source, articles / source)
        # Verbatim lines, in file and line order.
        (folder / "questions.jsonl").write_text("".join(lines[u] + "\n" for u in chosen),
                                                encoding="utf-8")
        items = load_dataset(folder / "questions.jsonl")
        entries.append(_entry(name, part, "seed-heldout", folder, len(items),
                              sum(i.answerable for i in items),
                              lines={f: [n for g, n in chosen if g == f] for f in SEED_HELDOUT_FILES}))
    return entries


def build_pool(realtimeqa: Path, data_dir: Path, plan: PoolPlan | None = None,
               progress: Callable[[str], None] = print) -> dict:
    """Builds every set under `data_dir/pool/` and returns the manifest that describes it."""
    plan = plan or PoolPlan()
    snapshot = Snapshot(realtimeqa)
    pool_dir = data_dir / POOL_FOLDER
    pool_dir.mkdir(parents=True, exist_ok=True)
    progress(f"Reading RealTimeQA weeks of {', '.join(REALTIMEQA_YEARS)} from {realtimeqa}")
    news_sets, missing = plan_news_sets(snapshot, plan, progress)
    parts = split_news_sets({n.name: n.weeks[0].week[:4] for n in news_sets}, plan.seed)
    entries = []
    for news in news_sets:
        entry = build_news_set(news, parts[news.name], pool_dir)
        progress(f"  {entry['name']} ({entry['part']}): weeks {entry['weeks'][0]}-"
                 f"{entry['weeks'][-1]}, {entry['articles']} articles, {entry['questions']} "
                 f"questions, {entry['answerable']} answerable")
        entries.append(entry)
    data = repository_data()
    entries += build_squad_sets(data / SQUAD_FILE, plan.seed, pool_dir)
    entries += build_seed_heldout_sets(data, repository_seeds(), plan.seed, pool_dir)
    for entry in entries[len(news_sets):]:
        progress(f"  {entry['name']} ({entry['part']}): {entry['articles']} articles, "
                 f"{entry['questions']} questions, {entry['answerable']} answerable")
    manifest = {
        "about": "The development pool of issue 19; built by `newsdesk pool build`. "
                 "fit: tune on it. check: report, never choose. See README, Development pool.",
        "plan": plan.as_dict(),
        "parts": PART_PURPOSE,
        "realtimeqa": {"repository": REALTIMEQA_REPOSITORY, "commit": snapshot.commit,
                       "read": [f"past/{year}/" for year in REALTIMEQA_YEARS],
                       "weeks_listed": len(snapshot.weeks()), "missing_weeks": missing},
        "totals": {part: sum(e["questions"] for e in entries if e["part"] == part)
                   for part in PARTS},
        "sets": entries,
    }
    for part in PARTS:
        progress(f"{part}: {manifest['totals'][part]} questions in "
                 f"{sum(e['part'] == part for e in entries)} sets")
    return manifest
