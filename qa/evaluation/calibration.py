"""Fitting the decision's score (qa/confidence.py) on an evaluation's records, and measuring each
piece of evidence it weighs: trust on other records with the score refitted without it.

Used by `newsdesk eval --fit-decision RESULTS.json [--check-results CHECK.json]`, which writes
qa/data/decision.json. Only records whose answer was scored (a reply that passed the gates) count.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from qa.confidence import (DECISION_FILE, FEATURES, WITHOUT_PROBABILITIES, Fit, decision_trust, fitted,
                           trust_maximising)


def scored_rows(result: dict) -> list[dict]:
    """The records of an evaluation result whose answer the decision scored."""
    return [{"evidence": r["evidence"], "right": bool(r["candidate_right"]),
             "answerable": r["answerable"]}
            for r in result["questions"] if r.get("confidence") is not None and r.get("evidence")]


def trust_with(fit: Fit, result: dict) -> dict:
    """Trust, accuracy, abstention and shown accuracy of `result`'s questions had `fit` decided.

    A question without a scored answer keeps its own outcome (the model found no answer, or a
    gate withheld it); a scored one is shown when its chance reaches the fit's threshold.
    """
    trust, right, shown, shown_right = 0, 0, 0, 0
    answerable = unanswerable = declined_rightly = 0
    for record in result["questions"]:
        evidence = record.get("evidence") if record.get("confidence") is not None else None
        if evidence is None:
            is_shown = not record["scores"]["abstained"]
            is_right = bool(record["scores"].get("correct"))
        else:
            is_shown = fit.chance(evidence) >= fit.threshold
            is_right = bool(record["candidate_right"]) and is_shown
        trust += decision_trust(is_shown, is_right, record["answerable"])
        if record["answerable"]:
            answerable += 1
            right += is_right
        else:
            unanswerable += 1
            declined_rightly += not is_shown
        shown += is_shown
        shown_right += is_right
    count = answerable + unanswerable
    return {"trust": round(trust / count, 4) if count else None,
            "accuracy": round(right / answerable, 4) if answerable else None,
            "abstention": round(declined_rightly / unanswerable, 4) if unanswerable else None,
            "shown_accuracy": round(shown_right / shown, 4) if shown else None}


def fit_decision(result: dict, model_name: str) -> dict:
    """decision.json's entry for `model_name`: a fit with the model's probabilities, one without
    (for endpoints that give none), and what they were fitted on."""
    rows = scored_rows(result)
    if len(rows) < 20:
        raise ValueError(f"only {len(rows)} scored answers: too few to fit the decision on")
    with_logprobs = [row for row in rows if "model_first" in row["evidence"]]
    entry = {"without_logprobs": _stored(fitted(rows, WITHOUT_PROBABILITIES), result, rows)}
    if len(with_logprobs) >= 20:
        entry["with_logprobs"] = _stored(fitted(with_logprobs, FEATURES), result, with_logprobs)
    entry["fitted_on"] = {"questions": len(result["questions"]), "scored": len(rows),
                          "sets": sorted({r.get("set", "") for r in result["questions"]} - {""})}
    return entry


def _stored(fit: Fit, result: dict, rows: list[dict]) -> dict:
    best = trust_maximising(fit, rows)
    return {"features": list(fit.features), "weights": [round(w, 4) for w in fit.weights],
            "bias": round(fit.bias, 4), "threshold": round(fit.threshold, 4),
            "fit_part": trust_with(fit, result),
            "trust_maximising_threshold": round(best, 4),
            "fit_part_at_trust_maximising_threshold": trust_with(
                Fit(fit.features, fit.weights, fit.bias, best), result)}


def write_decision(entry: dict, model_name: str, command: str, path: Path = DECISION_FILE) -> None:
    """Store `entry` for `model_name` in decision.json; the first model stored is the default."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    stored.setdefault("default", model_name)
    stored.setdefault("fits", {})[model_name] = {**entry, "command": command, "commit": _commit()}
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")


def feature_ablation(fit_result: dict, check_result: dict) -> list[dict]:
    """Per piece of evidence: trust on `check_result` with the score fitted on `fit_result` with
    every piece, and refitted without that one."""
    rows = [row for row in scored_rows(fit_result) if "model_first" in row["evidence"]]
    everything = fitted(rows, FEATURES)
    baseline = trust_with(everything, check_result)
    table = []
    for feature in FEATURES:
        without = fitted(rows, tuple(name for name in FEATURES if name != feature))
        table.append({"evidence": feature, "with": baseline, "without": trust_with(without, check_result)})
    return table


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None
