"""The evaluation: run a gold set through `ask()` and score answers, citations and abstention.

A gold set is JSONL, one question a line: `question`, `answers` (alternatives; for `disagreement`
every one must appear), `answerable`, `sources`, `kind`, optional `history`. The scorer reads only
what a user sees: the answer text (markers removed), its citations and `abstained`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from qa.answer import Answer, AnswerEngine
from qa.citations import contains_phrase

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


# ----- scoring ---------------------------------------------------------------------------------
def contains(text: str, expected: str) -> bool:
    """Whether `expected` appears in `text` as whole words, after normalising both."""
    return contains_phrase(text, expected)


def answer_correct(item: GoldQuestion, answer: Answer) -> bool:
    if answer.abstained or not item.answers:
        return False
    if item.kind == "disagreement":
        return all(contains(answer.text, expected) for expected in item.answers)
    return any(contains(answer.text, expected) for expected in item.answers)


def citation_supported(item: GoldQuestion, answer: Answer) -> bool:
    """A cited passage contains an accepted answer (for disagreements: each version is cited)."""
    if answer.abstained or not answer.citations:
        return False
    quotes = [c.quote for c in answer.citations]
    if item.kind == "disagreement":
        return all(any(contains(q, expected) for q in quotes) for expected in item.answers)
    return any(contains(q, expected) for q in quotes for expected in item.answers)


def score(item: GoldQuestion, answer: Answer) -> dict:
    cited_sources = {c.source for c in answer.citations}
    return {
        "correct": answer_correct(item, answer) if item.answerable else None,
        "citation_supported": citation_supported(item, answer) if item.answerable else None,
        "cites_right_article": (bool(cited_sources & set(item.sources)) if item.sources
                                and not answer.abstained else None),
        "abstained": answer.abstained,
        "abstention_correct": answer.abstained if not item.answerable else None,
    }


def _mean(values: Iterable[bool | None]) -> float | None:
    kept = [1.0 if v else 0.0 for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 3)


def summarise(records: list[dict]) -> dict:
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    latencies = [r["seconds"] for r in records if r["seconds"] is not None]
    first_tokens = [r["first_token_seconds"] for r in records if r["first_token_seconds"]]
    return {
        "questions": len(records),
        "answer_accuracy": _mean(r["scores"]["correct"] for r in answerable),
        "citation_support": _mean(r["scores"]["citation_supported"] for r in answerable),
        "citation_source_accuracy": _mean(r["scores"]["cites_right_article"] for r in records),
        "answered_rate": _mean(not r["scores"]["abstained"] for r in answerable),
        "abstention_accuracy": _mean(r["scores"]["abstention_correct"] for r in unanswerable),
        "latency_p50": _percentile(latencies, 0.5),
        "latency_p95": _percentile(latencies, 0.95),
        "first_token_p50": _percentile(first_tokens, 0.5),
    }


# ----- running ---------------------------------------------------------------------------------
def run_evaluation(
    engine: AnswerEngine,
    items: list[GoldQuestion],
    progress: Callable[[int, int, dict], None] | None = None,
) -> dict:
    """Ask every question; return {"summary", "by_kind", "model", "questions": [...]}."""
    engine.ensure_index()
    records = []
    for number, item in enumerate(items, start=1):
        started = time.perf_counter()
        answer = engine.ask(item.question, item.history or None)
        record = {
            "question": item.question,
            "kind": item.kind,
            "answerable": item.answerable,
            "expected": item.answers,
            "sources": item.sources,
            "history": item.history,
            "answer": answer.text,
            "abstained": answer.abstained,
            "mode": answer.mode,
            "notice": answer.notice,
            "standalone_question": answer.standalone_question,
            "citations": [
                {"number": c.number, "source": c.source, "start": c.start, "end": c.end,
                 "quote": c.quote}
                for c in answer.citations
            ],
            "retrieved": [p.passage_id for p in answer.passages],
            "seconds": round(answer.seconds or time.perf_counter() - started, 3),
            "first_token_seconds": (round(answer.first_token_seconds, 3)
                                    if answer.first_token_seconds else None),
            "scores": score(item, answer),
        }
        records.append(record)
        if progress:
            progress(number, len(items), record)
    by_kind = {
        kind: summarise([r for r in records if r["kind"] == kind])
        for kind in KINDS
        if any(r["kind"] == kind for r in records)
    }
    model = engine.model.info if engine.model else None
    return {
        "model": {"backend": model.backend, "name": model.name} if model else {"backend": "none"},
        "summary": summarise(records),
        "by_kind": by_kind,
        "questions": records,
    }


def format_table(result: dict) -> str:
    """The summary and per-kind figures as a plain-text table."""
    columns = ["answer_accuracy", "citation_support", "answered_rate", "abstention_accuracy",
               "latency_p50", "first_token_p50"]
    header = ["", "n"] + [c.replace("_", " ") for c in columns]
    rows = [["all", str(result["summary"]["questions"])] + [_cell(result["summary"][c]) for c in columns]]
    for kind, figures in result["by_kind"].items():
        rows.append([kind, str(figures["questions"])] + [_cell(figures[c]) for c in columns])
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in [header] + rows]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
