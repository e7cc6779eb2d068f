"""Running an evaluation: every question of a set through the answer engine, each record scored
as it comes (an interrupted run resumes from its journal), then compared with the last accepted run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from index.build import article_text
from index.settings import Settings
from qa.answer import Answer
from qa.pipeline import AnswerEngine
from qa.evaluation.datasets import KINDS, GoldQuestion, is_squad, load_dataset, prepare_squad
from qa.evaluation.pool import pool_sets
from qa.evaluation.reply_cache import CachedReplies
from qa.evaluation.scoring import answer_correct, score, summarise


@dataclass(frozen=True)
class EvaluationSet:
    """Questions to run, with settings whose articles folder and store are the set's own."""

    name: str
    items: list[GoldQuestion]
    settings: Settings


def dataset_sets(settings: Settings, dataset: Path) -> list[EvaluationSet]:
    """A gold-set JSONL (over the configured articles) or a SQuAD file (over its own paragraphs)."""
    if is_squad(dataset):
        items, squad_settings = prepare_squad(settings, dataset)
        return [EvaluationSet(dataset.stem, items, squad_settings)]
    return [EvaluationSet(dataset.stem, load_dataset(dataset), settings)]


def pool_part_sets(settings: Settings, part: str, manifest: Path | None = None) -> list[EvaluationSet]:
    """The development pool's `fit` or `check` part, each set over its own articles and store."""
    return [EvaluationSet(pool_set.name, pool_set.questions(), pool_set.settings_for(settings))
            for pool_set in pool_sets(part, settings.data_dir, manifest)]


def _key(question: str, history, set_name: str = "") -> str:
    return json.dumps([set_name, question, [list(turn) for turn in history or []]], ensure_ascii=False)


def _journalled(journal: Path | None) -> dict[str, dict]:
    done: dict[str, dict] = {}
    if journal is not None and journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                done[_key(record["question"], record["history"], record.get("set", ""))] = record
            except (ValueError, KeyError):
                continue  # a line cut short by the interruption
    return done


def _record(item: GoldQuestion, answer: Answer, seconds: float) -> dict:
    return {
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
             "quote": c.quote, "url": c.url}
            for c in answer.citations
        ],
        "retrieved": [p.passage_id for p in answer.passages],
        "seconds": round(answer.seconds or seconds, 3),
        "first_token_seconds": (round(answer.first_token_seconds, 3)
                                if answer.first_token_seconds else None),
        "scores": score(item, answer),
        # The decision's score, its evidence, and whether the answer it judged was right (shown
        # or not): what `newsdesk eval --fit-decision` fits, and the risk-coverage curve.
        "confidence": answer.confidence,
        "evidence": answer.evidence,
        "candidate": answer.candidate,
        "candidate_right": _candidate_right(item, answer),
    }


def _citations_exact(answer: Answer, engine: AnswerEngine) -> bool | None:
    """Whether every citation's quote is its article's text at its offsets (None: no citation)."""
    if not answer.citations:
        return None
    try:
        texts = {source: article_text(source, engine.settings, engine.store)
                 for source in {c.source for c in answer.citations}}
        return all(texts[c.source][c.start:c.end] == c.quote for c in answer.citations)
    except (OSError, KeyError, ValueError):
        return False


def _candidate_right(item: GoldQuestion, answer: Answer) -> bool | None:
    """Whether the answer the decision judged is right, shown or not (None: there was none)."""
    if answer.confidence is None:
        return None
    if not answer.abstained:
        return answer_correct(item, answer) if item.answerable else False
    judged = replace(answer, text=answer.candidate or "", abstained=False)
    return answer_correct(item, judged) if item.answerable else False


def run_evaluation(
    engine: AnswerEngine,
    items: list[GoldQuestion],
    progress: Callable[[int, int, dict], None] | None = None,
    journal: Path | None = None,
    set_name: str = "",
) -> dict:
    """Ask every question; return {"summary", "by_kind", "model", "questions": [...]}.

    With a `journal` (JSONL), each record is appended as it is scored and questions already in it
    are not asked again: an interrupted run resumes where it stopped.
    """
    engine.ensure_index()
    done = _journalled(journal)
    records = []
    for number, item in enumerate(items, start=1):
        record = done.get(_key(item.question, item.history, set_name))
        if record is None:
            started = time.perf_counter()
            answer = engine.ask(item.question, item.history or None)
            record = _record(item, answer, time.perf_counter() - started)
            record["scores"]["citations_exact"] = _citations_exact(answer, engine)
            if set_name:
                record["set"] = set_name
            if journal is not None:
                with journal.open("a", encoding="utf-8") as stream:
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        records.append(record)
        if progress:
            progress(number, len(items), record)
    model = engine.model.info if engine.model else None
    return {
        "model": {"backend": model.backend, "name": model.name} if model else {"backend": "none"},
        **summary_of(records),
    }


def summary_of(records: list[dict]) -> dict:
    """The figures of a run: overall, per kind and (for several sets) per set; and its records."""
    by_kind = {kind: summarise([r for r in records if r["kind"] == kind])
               for kind in KINDS if any(r["kind"] == kind for r in records)}
    result = {"summary": summarise(records), "by_kind": by_kind, "questions": records}
    names = list(dict.fromkeys(r["set"] for r in records if r.get("set")))
    if len(names) > 1:
        result["by_set"] = {name: summarise([r for r in records if r.get("set") == name])
                            for name in names}
    return result


def run_sets(
    sets: list[EvaluationSet],
    engine_for: Callable[[Settings], AnswerEngine],
    progress: Callable[[str, int, int, dict], None] | None = None,
    journal: Path | None = None,
    replies_cache: Path | None = None,
) -> dict:
    """Run each set with an engine over its own articles, one after another, as one result.

    With `replies_cache`, every model reply is kept there by its exact request and replayed when
    the same request comes again; the result counts how many replies came from it.
    """
    records: list[dict] = []
    cached = generated = 0
    model = {"backend": "none"}
    for evaluation_set in sets:
        engine = engine_for(evaluation_set.settings)
        if (replies_cache is not None and engine.model is not None
                and not isinstance(engine.model, CachedReplies)):
            engine.model = CachedReplies(engine.model, replies_cache)  # type: ignore[assignment]
        counted = engine.model if isinstance(engine.model, CachedReplies) else None
        before = (counted.cached, counted.generated) if counted else (0, 0)
        def show(done: int, total: int, record: dict, name: str = evaluation_set.name) -> None:
            if progress:
                progress(name, done, total, record)
        name = evaluation_set.name if len(sets) > 1 else ""
        result = run_evaluation(engine, evaluation_set.items, show, journal, set_name=name)
        records.extend(result["questions"])
        model = result["model"]
        if counted is not None:
            cached += counted.cached - before[0]
            generated += counted.generated - before[1]
    result = {"model": model, **summary_of(records)}
    if replies_cache is not None:
        result["replies"] = {"cache": str(replies_cache), "from_cache": cached, "from_model": generated}
    return result


# ----- comparing with the last accepted run ---------------------------------------------------
# Fractions compared with the baseline, and the questions each is computed over.
COMPARED = {
    "answer_accuracy": "answerable",
    "citation_support": "answerable",
    "abstention_accuracy": "unanswerable",
    "f1": "all",
    "reader_recall": "answerable",
}
# Older results name a figure by its former name.
FORMER_NAMES = {"reader_recall": "retrieval_hit_at_k"}
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
        recorded = baseline.get("summary", {})
        now = result["summary"].get(metric)
        before = recorded.get(metric, recorded.get(FORMER_NAMES.get(metric, "")))
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
    """The summary, per-kind and per-set figures as a plain-text table."""
    columns = ["answer_accuracy", "abstention_accuracy", "trust_score", "shown_accuracy",
               "reader_recall", "citation_support", "answered_rate", "latency_p50", "first_token_p50"]
    header = ["", "n"] + [c.replace("_", " ") for c in columns]
    groups = [("all", result["summary"]), *result["by_kind"].items(),
              *result.get("by_set", {}).items()]
    rows = [[name, str(figures["questions"])] + [_cell(figures[c]) for c in columns]
            for name, figures in groups]
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in [header] + rows]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
