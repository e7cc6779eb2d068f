"""Stage 6's score: the chance that a reply which passed the gates is right, from the model's own
probabilities, retrieval's similarity and the checks' verdicts, weighed by a fitted logistic model.

In: the evidence on one reply (`Evidence`). Out: a chance from 0 to 1, compared with the
strictness (NEWSDESK_STRICTNESS, else the fitted operating point). The weights are fitted on the
development pool's fit part (`newsdesk eval --fit-decision`, qa/data/decision.json).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DECISION_FILE = Path(__file__).resolve().parent / "data" / "decision.json"
# The model's doubt is the log-odds of its first token starting the refusal; bounded, as a token
# outside the top few is only known to be rarer than they are.
REFUSAL_START = "NOT"
MAX_LOG_ODDS = 8.0
# Ridge penalty of the fit: a few hundred questions, a handful of weights.
RIDGE = 1.0
# The evidence a score is made of, in order. The model's (`model_sure`, `model_confirms`) are
# absent when the endpoint gives no probabilities; a fit without them is then used.
FEATURES = ("model_sure", "model_confirms", "similarity", "gives_what_was_asked", "count_of_asked",
            "mentions_what_was_asked")
# What an endpoint without probabilities can still be scored on.
WITHOUT_PROBABILITIES = FEATURES[2:]


def model_sure(chances: dict[str, float] | None) -> float | None:
    """The log-odds that the reply is an answer rather than the refusal, from the log-probabilities
    of its likeliest first tokens (None: the endpoint gave none)."""
    if not chances:
        return None
    refusing = [lp for token, lp in chances.items() if token.strip().upper().startswith(REFUSAL_START)
                and token.strip().startswith("N")]
    # Not among the likeliest: at most as likely as the least likely of them.
    p = sum(math.exp(lp) for lp in refusing) if refusing else math.exp(min(chances.values()))
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(max(-MAX_LOG_ODDS, min(MAX_LOG_ODDS, math.log((1 - p) / p))))


def model_confirms(chances: dict[str, float] | None) -> float | None:
    """The log-odds of "yes" against "no" as the model's first word, asked whether a passage states
    its answer (None: the endpoint gave no probabilities, or neither word is among the likeliest)."""
    if not chances:
        return None
    said = {"yes": 0.0, "no": 0.0}
    for token, lp in chances.items():
        word = token.strip().lower()
        if word in said:
            said[word] += math.exp(lp)
    if not said["yes"] and not said["no"]:
        return None
    floor = math.exp(min(chances.values()))  # a word not among the likeliest: rarer than they are
    yes, no = said["yes"] or floor, said["no"] or floor
    return float(max(-MAX_LOG_ODDS, min(MAX_LOG_ODDS, math.log(yes / no))))


@dataclass(frozen=True)
class Fit:
    """A fitted score: weights of `features`, a bias, and the operating point that scored best."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def chance(self, evidence: dict[str, float]) -> float:
        value = self.bias + sum(w * evidence.get(name, 0.0) for name, w in zip(self.features, self.weights))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, value))))


# Before any fit, and for a checked-out tree without qa/data/decision.json: each piece of evidence
# counts for the answer, the model's confidence most (documented in the README, "The decision").
DEFAULT_FIT = Fit(FEATURES, (0.5, 0.5, 2.0, 1.0, 1.0, 1.0), -3.5, 0.5)
DEFAULT_FIT_NO_LOGPROBS = Fit(WITHOUT_PROBABILITIES, (2.0, 1.0, 1.0, 1.0), -2.5, 0.5)


@lru_cache(maxsize=4)
def _fits(path: Path = DECISION_FILE) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def fit_for(model_name: str | None, with_logprobs: bool, path: Path = DECISION_FILE) -> Fit:
    """The fit for this model (the bundled model's fit serves any model fitted for none)."""
    stored = _fits(path)
    fits = stored.get("fits", {})
    name = model_name if model_name in fits else stored.get("default")
    entry = fits.get(name, {}).get("with_logprobs" if with_logprobs else "without_logprobs")
    if not entry:
        return DEFAULT_FIT if with_logprobs else DEFAULT_FIT_NO_LOGPROBS
    return Fit(tuple(entry["features"]), tuple(entry["weights"]), entry["bias"], entry["threshold"])


# ----- fitting ----------------------------------------------------------------------------------
def fitted(rows: list[dict], features: tuple[str, ...]) -> Fit:
    """A logistic fit of `rows` (each: "evidence", "right", "answerable"), and the threshold that
    maximises the trust score over them.

    Trust of a reply: shown, +1 if right and -1 if not; withheld, +1 if the question had no answer
    in the articles and 0 if it had one.
    """
    X = np.array([[row["evidence"].get(name, 0.0) for name in features] for row in rows], dtype=float)
    y = np.array([1.0 if row["right"] else 0.0 for row in rows])
    weights, bias = _logistic(X, y)
    fit = Fit(features, tuple(float(w) for w in weights), float(bias), 0.5)
    chances = [fit.chance(row["evidence"]) for row in rows]
    best = (-math.inf, 0.5)
    for threshold in sorted(set(chances)) + [1.01]:
        trust = sum((1 if row["right"] else -1) if c >= threshold else (0 if row["answerable"] else 1)
                    for row, c in zip(rows, chances))
        if trust > best[0]:
            best = (trust, threshold)
    return Fit(features, fit.weights, fit.bias, min(1.0, best[1]))


def _logistic(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Ridge-penalised logistic regression by Newton's method (the bias unpenalised)."""
    A = np.hstack([X, np.ones((len(X), 1))])
    beta = np.zeros(A.shape[1])
    penalty = np.full(A.shape[1], RIDGE)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ beta, -30, 30)))
        gradient = A.T @ (p - y) + penalty * beta
        hessian = (A * (p * (1 - p))[:, None]).T @ A + np.diag(penalty) + 1e-9 * np.eye(A.shape[1])
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta[:-1], float(beta[-1])
