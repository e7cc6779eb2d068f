"""The checks' ablation: an evaluation with every check on, then once with each check switched off
alone, replayed from a reply cache, so what each check adds to trust is measured without the model.

Used by `newsdesk eval --ablate`. The checks are those of `qa.checks.CHECK_NAMES` when it runs.
"""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from pathlib import Path

import qa.checks
from index.settings import Settings
from qa.evaluation.runner import EvaluationSet, run_sets
from qa.pipeline import AnswerEngine
from qa.pipeline import engine_for as shared_engine

# The figures compared, by the summary's names (qa/evaluation/scoring.py, summarise).
FIGURES = {"trust": "trust_score", "accuracy": "answer_accuracy",
           "abstention": "abstention_accuracy"}
ALL_ON = "every check on"  # the baseline pass, as progress names it

Progress = Callable[[str, str, int, int, dict], None]  # (pass, set, done, total, record)
# A pass is ALL_ON or "<check> off".


def ablate(
    sets: list[EvaluationSet],
    replies_cache: Path,
    engine_for: Callable[[Settings], AnswerEngine] | None = None,
    progress: Progress | None = None,
) -> list[dict]:
    """One row per check: the figures with every check on and with that check alone off.

    Every pass replays the model's replies from `replies_cache` (the first, with every check on,
    fills it). A row's `model_calls` counts the replies its pass had to ask the model for; with
    any, `pure_replay` is False: the pass did not read the same replies as the baseline.
    `engine_for` opens the engine for a set's settings (default: qa.pipeline.engine_for); each
    pass uses a copy of it with its own checks, so the store and the model are opened once.
    """
    engine_for = engine_for or shared_engine
    names = tuple(qa.checks.CHECK_NAMES)  # read now: the list changes as checks come and go
    baseline = _run(sets, replies_cache, engine_for, (), ALL_ON, progress)
    rows = []
    for name in names:
        without = _run(sets, replies_cache, engine_for, (name,), f"{name} off", progress)
        rows.append(_row(name, baseline, without))
    return rows


def _run(sets: list[EvaluationSet], replies_cache: Path,
         engine_for: Callable[[Settings], AnswerEngine], disabled: tuple[str, ...],
         label: str, progress: Progress | None) -> dict:
    def engine(settings: Settings) -> AnswerEngine:
        return _with_checks(engine_for(settings), disabled)

    def show(set_name: str, done: int, total: int, record: dict) -> None:
        if progress:
            progress(label, set_name, done, total, record)

    return run_sets(sets, engine, progress=show, replies_cache=replies_cache)


def _with_checks(engine: AnswerEngine, disabled: tuple[str, ...]) -> AnswerEngine:
    """A copy of the engine (same store and model) whose checks are all but `disabled`.

    NEWSDESK_DISABLED_CHECKS is not applied: the baseline has every check on.
    """
    if not isinstance(getattr(engine, "checks", None), list):
        # Setting an attribute the engine no longer reads would measure nothing, silently.
        raise TypeError("AnswerEngine keeps no list of checks in .checks: the ablation cannot "
                        "switch them; update qa/evaluation/ablation.py")
    ablated = copy.copy(engine)
    ablated.checks = qa.checks.checks_enabled(disabled)
    return ablated


def _row(name: str, baseline: dict, without: dict) -> dict:
    row: dict = {"check": name, "questions": baseline["summary"]["questions"]}
    for figure, key in FIGURES.items():
        row[f"{figure}_with"] = baseline["summary"].get(key)
        row[f"{figure}_without"] = without["summary"].get(key)
    if row["trust_with"] is not None and row["trust_without"] is not None:
        row["trust_change"] = round(row["trust_without"] - row["trust_with"], 4)
    else:
        row["trust_change"] = None
    row["answers_changed"] = sum(
        1 for before, after in zip(baseline["questions"], without["questions"])
        if (before["answer"], before["abstained"]) != (after["answer"], after["abstained"]))
    row["model_calls_with"] = _model_calls(baseline)
    row["model_calls"] = _model_calls(without)
    row["pure_replay"] = None if row["model_calls"] is None else row["model_calls"] == 0
    return row


def _model_calls(result: dict) -> int | None:
    """The replies a pass asked the model for, not the cache; None when the run did not count."""
    replies = result.get("replies")
    return None if replies is None else replies["from_model"]


# ----- the table -------------------------------------------------------------------------------
def ablation_table(rows: list[dict], measured_on: str, commit: str | None = None) -> str:
    """The rows as a Markdown table, after one line saying what and which code was measured."""
    commit = commit or code_commit()
    questions = rows[0]["questions"] if rows else 0
    baseline_calls = rows[0]["model_calls_with"] if rows else None
    asked = ("" if not baseline_calls else
             f"; the pass with every check on asked the model {baseline_calls} times")
    measured = (f"Checks ablation on {measured_on} ({questions} questions) at commit {commit}: "
                f"every check on, then each switched off alone, model replies replayed from the "
                f"cache{asked}.")
    header = ("| check | trust with | trust without | change | accuracy with | accuracy without "
              "| abstention with | abstention without | answers changed | model calls |")
    lines = [measured, "", header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        calls = "-" if row["model_calls"] is None else str(row["model_calls"])
        if row["pure_replay"] is False:
            calls += " (not a pure replay)"
        cells = [row["check"], _figure(row["trust_with"]), _figure(row["trust_without"]),
                 _figure(row["trust_change"], signed=True), _figure(row["accuracy_with"]),
                 _figure(row["accuracy_without"]), _figure(row["abstention_with"]),
                 _figure(row["abstention_without"]), str(row["answers_changed"]), calls]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _figure(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"  # no question the figure is computed over (no unanswerable one, say)
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def code_commit(folder: Path | None = None) -> str:
    """The git commit of the code that ran ("0636f84"), marked when the tree has uncommitted
    changes, whose figures are not the commit's alone; "unknown" outside a git checkout."""
    here = folder or Path(__file__).parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False,
                              capture_output=True, text=True, timeout=5, cwd=here)
        if head.returncode != 0:
            return "unknown"
        changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 check=False, capture_output=True, text=True, timeout=5,
                                 cwd=here)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + (" with uncommitted changes" if changes.stdout.strip() else "")

