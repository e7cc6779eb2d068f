"""Running an evaluation: every question of a set through the answer engine, each record scored
as it comes (an interrupted run resumes from its journal), then compared with the last accepted run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from qa.answer import AnswerEngine
from qa.evaluation.datasets import KINDS, GoldQuestion
from qa.evaluation.scoring import score, summarise

def _key(question: str, history) -> str:
    return json.dumps([question, [list(turn) for turn in history or []]], ensure_ascii=False)


def run_evaluation(
    engine: AnswerEngine,
    items: list[GoldQuestion],
    progress: Callable[[int, int, dict], None] | None = None,
    journal: Path | None = None,
) -> dict:
    """Ask every question; return {"summary", "by_kind", "model", "questions": [...]}.

    With a `journal` (JSONL), each record is appended as it is scored and questions already in it
    are not asked again: an interrupted run resumes where it stopped.
    """
    engine.ensure_index()
    done: dict[str, dict] = {}
    if journal is not None and journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                done[_key(record["question"], record["history"])] = record
            except (ValueError, KeyError):
                continue  # a line cut short by the interruption
    records = []
    for number, item in enumerate(items, start=1):
        previous = done.get(_key(item.question, item.history))
        if previous is not None:
            records.append(previous)
            if progress:
                progress(number, len(items), previous)
            continue
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
        if journal is not None:
            with journal.open("a", encoding="utf-8") as stream:
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
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


# ----- comparing with the last accepted run ---------------------------------------------------
# Fractions compared with the baseline, and the questions each is computed over.
COMPARED = {
    "answer_accuracy": "answerable",
    "citation_support": "answerable",
    "abstention_accuracy": "unanswerable",
    "f1": "all",
    "retrieval_hit_at_k": "answerable",
}
LATENCY_TOLERANCE = 1.25  # p50 latency may grow by a quarter before it counts as a regression


def compare(result: dict, baseline: dict) -> list[dict]:
    """Each metric against the baseline; a drop beyond two standard errors is a regression."""
    counts = {
        "answerable": sum(1 for r in result["questions"] if r["answerable"]),
        "unanswerable": sum(1 for r in result["questions"] if not r["answerable"]),
        "all": len(result["questions"]),
    }
    rows = []
    for metric, over in COMPARED.items():
        now, before = result["summary"].get(metric), baseline.get("summary", {}).get(metric)
        if now is None or before is None or not counts[over]:
            continue
        p = min(max(before, 0.05), 0.95)
        noise = 2 * (p * (1 - p) / counts[over]) ** 0.5
        rows.append({"metric": metric, "now": now, "baseline": before,
                     "change": round(now - before, 4), "noise": round(noise, 4),
                     "regression": now < before - noise})
    now, before = result["summary"].get("latency_p50"), baseline.get("summary", {}).get("latency_p50")
    if now is not None and before:
        rows.append({"metric": "latency_p50", "now": now, "baseline": before,
                     "change": round(now - before, 3), "noise": round(before * (LATENCY_TOLERANCE - 1), 3),
                     "regression": now > before * LATENCY_TOLERANCE})
    return rows


def format_comparison(rows: list[dict]) -> str:
    lines = [f"{'metric':22s} {'now':>7s} {'baseline':>9s} {'change':>8s}"]
    for row in rows:
        flag = "  REGRESSION" if row["regression"] else ""
        lines.append(f"{row['metric']:22s} {row['now']:7.2f} {row['baseline']:9.2f} "
                     f"{row['change']:+8.2f}{flag}")
    return "\n".join(lines)


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
