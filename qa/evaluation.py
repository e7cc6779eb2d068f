"""The evaluation: run a gold set through `ask()` and score answers, citations and abstention.

A gold set is JSONL, one question a line: `question`, `answers` (alternatives; for `disagreement`
every one must appear), `answerable`, `sources`, `kind`, optional `history`. The scorer reads only
what a user sees: the answer text (markers removed), its citations and `abstained`.
"""

from __future__ import annotations

import hashlib
import string
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from index.settings import Settings
from qa.answer import Answer, AnswerEngine
from qa.citations import contains_phrase, numbers

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


# ----- scoring ---------------------------------------------------------------------------------
# Whether an expected answer appears in a text as whole words, after normalising both.
contains = contains_phrase


def answer_correct(item: GoldQuestion, answer: Answer) -> bool:
    if answer.abstained or not item.answers:
        return False
    if item.kind == "disagreement":
        return all(contains(answer.text, expected) for expected in item.answers)
    if _lists_other_figures(item, answer.text) or _lists_other_names(item, answer.text):
        return False
    return any(contains(answer.text, expected) for expected in item.answers)


def _lists_other_figures(item: GoldQuestion, text: str) -> bool:
    """An answer to a question about a figure that also gives other figures, hedging its bets.

    "Dozens, 45, 70 or 19 countries" contains the expected "45" but answers nothing; figures the
    question itself or another accepted answer mentions do not count against it.
    """
    expected = set().union(*(numbers(a) for a in item.answers))
    if not expected:
        return False
    allowed = expected | numbers(item.question)
    # One more figure is detail ("Sept. 29, 2025"); two or more is a list of guesses.
    return len(numbers(_MARKERS.sub(" ", text)) - allowed) >= 2


# A name: capitalised words, possibly joined by "of", "al-", hyphens ("Board of Peace", "Al-Hayya").
_NAME = r"[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*"
_NAME_LIST = re.compile(
    rf"({_NAME})((?:\s*,\s*(?:the\s+)?{_NAME})*)\s*,?\s+(and|or)\s+(?:the\s+)?({_NAME})"
)


def _lists_other_names(item: GoldQuestion, text: str) -> bool:
    """An answer to a question about a name that enumerates other names beside it.

    "Pakistan, Qatar, Egypt or Turkiye" contains the expected "Pakistan" but answers nothing:
    a list with "or" that holds any name not accepted, or any list with two or more, is a guess.
    Names the question or its conversation gives do not count against it: "Turkiye was
    travelling with Qatar and Egypt" answers "Which regional power was travelling with them?"
    asked after an answer naming Qatar and Egypt.
    """
    if not any(re.search(r"[A-Z]", a) for a in item.answers):
        return False
    text = _MARKERS.sub(" ", text)
    given = " ".join([item.question, *(part for turn in item.history for part in turn)])
    for match in _NAME_LIST.finditer(text):
        names = [match.group(1), *re.findall(_NAME, match.group(2)), match.group(4)]
        others = [name for name in names
                  if not any(contains(name, a) or contains(a, name) for a in item.answers)
                  and not contains(given, name)]
        if others and (match.group(3) == "or" or len(others) >= 2):
            return True
    return False


_MARKERS = re.compile(r"\[\d+\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def _squad_tokens(text: str) -> list[str]:
    """The official SQuAD v2 normalisation (lower case, punctuation deleted, articles dropped),
    on the answer text without citation markers, so figures match the official script's."""
    text = "".join(ch for ch in _MARKERS.sub(" ", text).lower() if ch not in _PUNCTUATION)
    return _ARTICLES.sub(" ", text).split()


def exact_and_f1(item: GoldQuestion, answer: Answer) -> tuple[float, float]:
    """SQuAD v2 exact match and token F1, best over the accepted answers.

    For an unanswerable question both are 1 when the answer abstains, else 0.
    """
    if not item.answerable:
        return (1.0, 1.0) if answer.abstained else (0.0, 0.0)
    if answer.abstained:
        return 0.0, 0.0
    predicted = _squad_tokens(answer.text)
    best_exact, best_f1 = 0.0, 0.0
    for expected in item.answers:
        gold = _squad_tokens(expected)
        best_exact = max(best_exact, float(predicted == gold))
        common = Counter(predicted) & Counter(gold)
        same = sum(common.values())
        if same:
            precision, recall = same / len(predicted), same / len(gold)
            best_f1 = max(best_f1, 2 * precision * recall / (precision + recall))
    return best_exact, best_f1


def retrieval_rank(item: GoldQuestion, answer: Answer) -> int | None:
    """1-based rank of the first retrieved passage holding an accepted answer (None: none does)."""
    for rank, passage in enumerate(answer.passages, start=1):
        if any(contains(passage.text, expected) for expected in item.answers):
            return rank
    return None


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
    exact, f1 = exact_and_f1(item, answer)
    rank = retrieval_rank(item, answer) if item.answerable else None
    return {
        "exact_match": exact,
        "f1": round(f1, 4),
        "retrieval_hit": (rank is not None) if item.answerable else None,
        "reciprocal_rank": (1.0 / rank if rank else 0.0) if item.answerable else None,
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


def _average(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else None


def summarise(records: list[dict]) -> dict:
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    abstained = [r for r in records if r["scores"]["abstained"]]
    latencies = [r["seconds"] for r in records if r["seconds"] is not None]
    first_tokens = [r["first_token_seconds"] for r in records if r["first_token_seconds"]]
    return {
        "questions": len(records),
        "answer_accuracy": _mean(r["scores"]["correct"] for r in answerable),
        "citation_support": _mean(r["scores"]["citation_supported"] for r in answerable),
        "citation_source_accuracy": _mean(r["scores"]["cites_right_article"] for r in records),
        "answered_rate": _mean(not r["scores"]["abstained"] for r in answerable),
        "abstention_accuracy": _mean(r["scores"]["abstention_correct"] for r in unanswerable),
        # Of the questions it declined, the share that were really unanswerable.
        "abstention_precision": _mean(not r["answerable"] for r in abstained),
        "exact_match": _average(r["scores"]["exact_match"] for r in records),
        "f1": _average(r["scores"]["f1"] for r in records),
        "retrieval_hit_at_k": _mean(r["scores"]["retrieval_hit"] for r in answerable),
        "retrieval_mrr": _average(r["scores"]["reciprocal_rank"] for r in answerable),
        "latency_p50": _percentile(latencies, 0.5),
        "latency_p95": _percentile(latencies, 0.95),
        "first_token_p50": _percentile(first_tokens, 0.5),
    }


# ----- running ---------------------------------------------------------------------------------
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
                 "quote": c.quote, "url": c.url}
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
