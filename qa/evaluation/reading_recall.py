"""Reader recall without the model: for each reading budget, how often an accepted answer is in
the passages the first reading puts before the model, with their size and retrieval's time.

Retrieval is where a news-scale folder loses most answers (issue 22), and this measures it in
seconds where a run with the 1.5B takes half an hour; a second reading, which follows the model's
reply, is not counted, so a full run's reader recall can be a little higher.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from qa.evaluation.scoring import contains, percentile
from qa.pipeline import AnswerEngine
from qa.question import understood
from qa.retrieval import passages_for, tokens_of


def reading_recall(engine: AnswerEngine, items, budgets: Sequence[int]) -> list[dict]:
    """One row per budget: reader recall over the answerable questions of `items` (follow-ups
    are read standalone as asked), the median tokens read and the median retrieval time."""
    answerable = [item for item in items if item.answerable]
    questions = [understood(item.question, None, None) for item in answerable]
    rows = []
    for budget in budgets:
        settings = engine.settings.model_copy(update={"reading_tokens": budget})
        hits, tokens, milliseconds = 0, [], []
        for item, question in zip(answerable, questions):
            started = time.perf_counter()
            read = passages_for(engine.store, question, settings, None).read.passages
            milliseconds.append(1000 * (time.perf_counter() - started))
            tokens.append(sum(tokens_of(p.text) for p in read))
            hits += any(contains(p.text, answer) for p in read for answer in item.answers)
        retrieval_ms = percentile(milliseconds, 0.5)
        rows.append({"budget": budget, "questions": len(answerable),
                     "reader_recall": round(hits / len(answerable), 3) if answerable else None,
                     "tokens_p50": percentile(tokens, 0.5),
                     "retrieval_ms_p50": round(retrieval_ms, 1) if retrieval_ms is not None else None})
    return rows
