"""How well newsdesk recognises the same story told twice: precision and recall of the grouping.

The set (qa/data/stories/articles.jsonl) is real news from many outlets: several reports of each of
ten events, and events that share a topic but are not the same news (the Fed's December cut of 2024
and of 2025, an earthquake and its aftershock four days later). The pages' text is not kept, only
each article's signature for each embedding model; `signatures_from_texts` makes them again from
a JSONL of texts (id, text) kept elsewhere.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np

from index.stories import NEIGHBOURS, STORY_SIMILARITY, groups_of, same_story, signature


@dataclass(frozen=True)
class StoryArticle:
    id: str
    event: str
    url: str
    outlet: str
    language: str
    published: str | None
    signatures: dict[str, list[float]]


def default_story_set() -> Path:
    return Path(str(files("qa").joinpath("data", "stories", "articles.jsonl")))


def load_story_set(path: Path) -> list[StoryArticle]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            items.append(StoryArticle(raw["id"], raw["event"], raw.get("url", ""), raw.get("outlet", ""),
                                      raw.get("language", "en"), raw.get("published"),
                                      raw.get("signatures", {})))
    return items


def signatures_from_texts(texts: dict[str, str], model_name: str, threads: int = 2) -> dict[str, list[float]]:
    """Each text's signature, made as indexing makes it: sentences, their vectors, the mean."""
    from index.articles import Article
    from index.embedding import load_embedding_model
    from index.passages import split_passages

    model = load_embedding_model(threads, model_name)
    result = {}
    for key, text in texts.items():
        passages = split_passages(Article(source=key, path=Path(key), text=text, title=""))
        vectors = model.embed([p.text for p in passages])
        result[key] = [round(float(x), 5) for x in signature(vectors)]
    return result


def items_from_folder(folder: Path, events: dict[str, list[str]], models: list[str]) -> list[StoryArticle]:
    """A folder of articles as a story set: each article's event from `events` (else its own),
    its date from its `<name>.meta.json` sidecar (else the article's own), its signatures made
    as indexing makes them."""
    from index.articles import find_articles, read_article

    event_of = {name: event for event, names in events.items() if not event.startswith("_")
                for name in names}
    texts, items = {}, []
    for source, path in find_articles(folder):
        article = read_article(path, source, 5_000_000)
        texts[source] = article.text
        sidecar = path.with_suffix(".meta.json")
        meta = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
        items.append(StoryArticle(source, event_of.get(source, source), meta.get("url", ""),
                                  meta.get("outlet") or article.outlet or "", "en",
                                  meta.get("published") or article.published, {}))
    signatures = {model: signatures_from_texts(texts, model) for model in models}
    return [StoryArticle(**{**item.__dict__, "signatures": {m: signatures[m][item.id] for m in models}})
            for item in items]


def evaluate_stories(items: list[StoryArticle], model_name: str, threshold: float | None = None,
                     use_dates: bool = True) -> dict:
    """Group the articles as indexing does (each with its nearest neighbours, then union-find)
    and score the pairs that end up in one story against the events they report."""
    threshold = STORY_SIMILARITY[model_name] if threshold is None else threshold
    items = [item for item in items if model_name in item.signatures]
    vectors = np.array([item.signatures[model_name] for item in items], dtype=np.float32)
    similarity = vectors @ vectors.T
    links: dict[str, dict[str, float]] = {item.id: {} for item in items}
    for i, item in enumerate(items):
        for j in np.argsort(-similarity[i])[: NEIGHBOURS + 1]:
            other = items[int(j)]
            if other.id != item.id and same_story(
                    float(similarity[i, j]), threshold,
                    item.published if use_dates else None, other.published if use_dates else None):
                links[item.id][other.id] = float(similarity[i, j])
    published = {item.id: item.published for item in items} if use_dates else {}
    groups = groups_of(links, published)
    story_of = {source: n for n, group in enumerate(groups) for source in group}
    counts = {key: 0 for key in ("tp", "fp", "fn", "tn", "hard_fp", "hard_pairs",
                                 "cross_language_pairs", "cross_language_found")}
    wrong = []
    topic = {item.id: item.event.split(":")[0] for item in items}
    for a, b in itertools.combinations(items, 2):
        truth = a.event == b.event
        grouped = a.id in story_of and story_of.get(a.id) == story_of.get(b.id)
        if a.language != b.language:
            counts["cross_language_pairs"] += truth
            counts["cross_language_found"] += truth and grouped
            continue  # scored apart: MiniLM is not meant to match languages
        hard = not truth and topic[a.id] == topic[b.id]
        counts["hard_pairs"] += hard
        key = ("tp" if grouped else "fn") if truth else ("fp" if grouped else "tn")
        counts[key] += 1
        counts["hard_fp"] += hard and grouped
        if grouped != truth:
            wrong.append((a.id, b.id, round(float(similarity[items.index(a), items.index(b)]), 3),
                          "grouped apart" if truth else "grouped together"))
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "model": model_name,
        "threshold": threshold,
        "dates": use_dates,
        "articles": len(items),
        "events": len({item.event for item in items}),
        "same_story_pairs": tp + fn,
        "other_pairs": fp + counts["tn"],
        "same_topic_other_event_pairs": counts["hard_pairs"],
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "false_pairs": fp,
        "false_pairs_same_topic": counts["hard_fp"],
        "cross_language_recall": (round(counts["cross_language_found"] / counts["cross_language_pairs"], 3)
                                  if counts["cross_language_pairs"] else None),
        "stories_found": len(groups),
        "mistakes": wrong,
    }


def format_story_result(result: dict) -> str:
    return (f"{result['model']} (threshold {result['threshold']}, dates {'on' if result['dates'] else 'off'}): "
            f"{result['articles']} articles of {result['events']} events, {result['same_story_pairs']} "
            f"same-story pairs, {result['other_pairs']} others ({result['same_topic_other_event_pairs']} "
            f"same topic, other event)\n  precision {result['precision']}, recall {result['recall']}, "
            f"false pairs {result['false_pairs']} ({result['false_pairs_same_topic']} same topic), "
            f"cross-language recall {result['cross_language_recall']}, {result['stories_found']} stories")
