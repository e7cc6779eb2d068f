"""Scoring an answer as a reader sees it: its text (markers removed), its citations and whether
it abstained; and the figures that sum a run up, overall and per kind of question.

The scorer's normalisation is its own, not the answer path's: what measures must not move with
what is measured.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable

from qa.answer import Answer
from qa.evaluation.datasets import GoldQuestion


def _comparable(text: str) -> str:
    """Lower-case words and figures, accents and citation markers dropped, "1,200" as "1200",
    separated by single spaces and padded: for whole-word containment."""
    text = unicodedata.normalize("NFKD", re.sub(r"\[\d+\]", " ", text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return " " + " ".join(re.findall(r"[a-z0-9]+", text)) + " "


def contains(text: str, phrase: str) -> bool:
    """Whether an expected answer appears in a text as whole words, after normalising both."""
    needle = _comparable(phrase).strip()
    return bool(needle) and f" {needle} " in _comparable(text)


def numbers(text: str) -> set[str]:
    """The figures in a text ("1,200" and "1200" alike)."""
    return {n.replace(",", "") for n in re.findall(r"\d+(?:[.,]\d+)*", text)}



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
        "trust": trust(item, answer),
    }


def trust(item: GoldQuestion, answer: Answer) -> int:
    """+1 right or rightly declined, 0 withheld (declined though the articles say), -1 wrong or
    answered when the articles do not say."""
    if answer.abstained:
        return 1 if not item.answerable else 0
    return 1 if item.answerable and answer_correct(item, answer) else -1


def risk_coverage(records: list[dict]) -> list[list[float]]:
    """Points [share of questions answered, share of those answers right] as the decision moves.

    With a `confidence` on each record (the decision's score), one point per threshold, most
    confident first; without it, the single point the run made.
    """
    if not records:
        return []
    def right(r: dict) -> bool:
        # A scored record is judged by the answer the score was given, shown or not.
        if r.get("confidence") is not None and "candidate_right" in r:
            return bool(r["candidate_right"])
        return bool(r["answerable"] and r["scores"]["correct"])
    scored = [r for r in records if r.get("confidence") is not None]
    if not scored:
        shown = [r for r in records if not r["scores"]["abstained"]]
        return [[round(len(shown) / len(records), 4),
                 round(sum(map(right, shown)) / len(shown), 4) if shown else 1.0]]
    ordered = sorted(scored, key=lambda r: -r["confidence"])
    points, good = [], 0
    for count, record in enumerate(ordered, start=1):
        good += right(record)
        if count == len(ordered) or ordered[count]["confidence"] != record["confidence"]:
            points.append([round(count / len(records), 4), round(good / count, 4)])
    return points


def _mean(values: Iterable[bool | None]) -> float | None:
    kept = [1.0 if v else 0.0 for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else None


def percentile(values: list[float], q: float) -> float | None:
    """The `q` quantile of `values` by nearest rank (what every p50 and p95 of a report is)."""
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
        "trust_score": _average(r["scores"].get("trust") for r in records),
        # Of the answers shown, the share that are right (an answer to an unanswerable is wrong).
        "shown_accuracy": _mean(bool(r["answerable"] and r["scores"]["correct"])
                                for r in records if not r["scores"]["abstained"]),
        # An accepted answer is in the passages put before the model (Answer.passages).
        "reader_recall": _mean(r["scores"]["retrieval_hit"] for r in answerable),
        "retrieval_mrr": _average(r["scores"]["reciprocal_rank"] for r in answerable),
        "latency_p50": percentile(latencies, 0.5),
        "latency_p95": percentile(latencies, 0.95),
        "first_token_p50": percentile(first_tokens, 0.5),
        "risk_coverage": risk_coverage(records),
        # Answers whose every citation quotes its article exactly at its offsets.
        "citations_exact": _mean(r["scores"].get("citations_exact") for r in records),
    }
