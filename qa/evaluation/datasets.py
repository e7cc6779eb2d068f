"""Question sets for the evaluation: gold-set JSONL and SQuAD v2.0 JSON, read into GoldQuestions.

A gold set is JSONL, one question a line: `question`, `answers` (alternatives; for `disagreement`
every one must appear), `answerable`, `sources`, `kind`, optional `history`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from index.settings import Settings

KINDS = ("factoid", "followup", "disagreement", "unanswerable")


class DatasetError(ValueError):
    """A gold set line that cannot be used; the message names the line."""


@dataclass(frozen=True)
class GoldQuestion:
    question: str
    answers: list[str]
    answerable: bool
    sources: list[str]
    kind: str
    history: list[tuple[str, str]] = field(default_factory=list)


def default_dataset() -> Path:
    return Path(str(files("qa").joinpath("data", "gold.jsonl")))


def load_dataset(path: Path) -> list[GoldQuestion]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            kind = raw.get("kind", "factoid" if raw["answerable"] else "unanswerable")
            if kind not in KINDS:
                raise ValueError(f"kind must be one of {', '.join(KINDS)}")
            if bool(raw["answerable"]) == (kind == "unanswerable"):
                raise ValueError("`answerable` is false exactly for kind `unanswerable`")
            items.append(GoldQuestion(
                question=str(raw["question"]),
                answers=[str(a) for a in raw.get("answers", [])],
                answerable=bool(raw["answerable"]),
                sources=[str(s) for s in raw.get("sources", [])],
                kind=kind,
                history=[(str(q), str(a)) for q, a in raw.get("history", [])],
            ))
        except (ValueError, KeyError, TypeError) as error:
            raise DatasetError(f"{path}:{number}: {error}") from None
    return items


def is_squad(path: Path) -> bool:
    """Whether a file is SQuAD-format JSON (a `data` list of titled articles with paragraphs)."""
    if path.suffix.lower() != ".json":
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("data"), list)


def load_squad(path: Path) -> tuple[list[GoldQuestion], dict[str, str]]:
    """SQuAD v2.0 as a gold set: each paragraph becomes an article, `is_impossible` unanswerable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"{path}: not SQuAD JSON ({error})") from None
    items: list[GoldQuestion] = []
    articles: dict[str, str] = {}
    for document in data:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", str(document.get("title", "article"))).strip("_")[:60]
        for paragraph in document.get("paragraphs", []):
            source = f"{len(articles):05d}_{slug or 'article'}.txt"
            articles[source] = str(paragraph["context"])
            for qa in paragraph.get("qas", []):
                impossible = bool(qa.get("is_impossible", False))
                answers = list(dict.fromkeys(str(a["text"]) for a in qa.get("answers", [])))
                items.append(GoldQuestion(
                    question=str(qa["question"]),
                    answers=[] if impossible else answers,
                    answerable=not impossible and bool(answers),
                    sources=[source],
                    kind="unanswerable" if impossible or not answers else "factoid",
                ))
    return items, articles


def prepare_squad(settings: Settings, path: Path) -> tuple[list[GoldQuestion], Settings]:
    """A SQuAD file's questions, and settings for its own articles folder and store.

    The paragraphs are written once under `NEWSDESK_DATA_DIR/datasets/`, never elsewhere.
    """
    items, articles = load_squad(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    folder = settings.data_dir / "datasets" / f"{re.sub(r'[^A-Za-z0-9_-]+', '_', path.stem)}-{digest}"
    articles_dir = folder / "articles"
    articles_dir.mkdir(parents=True, exist_ok=True)
    for source, text in articles.items():
        target = articles_dir / source
        if not target.exists():
            target.write_text(text, encoding="utf-8")
    return items, settings.model_copy(update={"articles_dir": articles_dir, "data_dir": folder / "store"})


def baseline_for(dataset: Path, backend: str) -> Path | None:
    """The checked-in results of the last accepted run on this dataset and backend, if any."""
    if dataset.resolve() != default_dataset().resolve():
        return None
    path = default_dataset().parent / "results" / f"gold-{backend}.json"
    return path if path.exists() else None
