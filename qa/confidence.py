"""Stage 6's score: the chance that a reply which passed the gates is right, from the model's own
probability, retrieval's rank and the checks' verdicts, weighed by a fitted logistic model.

In: the evidence on one reply (qa/decision.py, `evidence_for`). Out: a chance from 0 to 1, compared
with the strictness (NEWSDESK_STRICTNESS, else the operating point, BREAK_EVEN). The weights are
fitted on the development pool's fit part (`newsdesk eval --fit-decision`, qa/data/decision.json).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DECISION_FILE = Path(__file__).resolve().parent / "data" / "decision.json"
# Ridge penalty of the fit: a few hundred questions, a handful of weights.
RIDGE = 1.0
# The operating point: an answer is shown when the score finds it more likely right than wrong,
# where showing it gains more trust (+1 if right, -1 if wrong) than withholding it (0).
BREAK_EVEN = 0.5
# The evidence a score is made of, in order. `model_first` is absent when the endpoint gives no
# probabilities; a fit without it is then used. Measured on the fit part and left out, as adding
# nothing (README, "The decision"): the refusal's probability as first token, the model's "yes"
# asked whether a passage states its reply, the cited sentence's cosine to the question; and, as
# adding nothing on the check part, the cited sentence's rank among those read.
FEATURES = ("model_first", "articles_searched", "question_coverage", "gives_what_was_asked",
            "mentions_what_was_asked")
WITHOUT_PROBABILITIES = FEATURES[1:]
# A log-probability below this is as good as none.
LOWEST_LOG_PROBABILITY = -10.0


def model_first(chances: dict[str, float] | None) -> float | None:
    """The log-probability of the reply's first token, the likeliest (None: the endpoint gave
    none): how sure the model is of how to begin its answer."""
    if not chances:
        return None
    return float(max(LOWEST_LOG_PROBABILITY, max(chances.values())))


@dataclass(frozen=True)
class Fit:
    """A fitted score: weights of `features`, a bias, and the operating point that scored best."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def stored(cls, entry: dict) -> Fit:
        """The fit as qa/data/decision.json stores it."""
        return cls(tuple(entry["features"]), tuple(entry["weights"]), entry["bias"], entry["threshold"])

    def chance(self, evidence: dict[str, float]) -> float:
        value = self.bias + sum(w * evidence.get(name, 0.0) for name, w in zip(self.features, self.weights))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, value))))


# Without qa/data/decision.json: each piece of evidence counts for the answer (README, "The decision").
DEFAULT_FIT = Fit(FEATURES, (0.5, -0.2, 0.5, 1.0, 1.0), -1.5, 0.5)
DEFAULT_FIT_NO_LOGPROBS = Fit(WITHOUT_PROBABILITIES, (-0.2, 0.5, 1.0, 1.0), -1.5, 0.5)


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
    return Fit.stored(entry)


# ----- fitting ----------------------------------------------------------------------------------
def fitted(rows: list[dict], features: tuple[str, ...]) -> Fit:
    """A logistic fit of `rows` (each: "evidence", "right", "answerable"), operating at
    BREAK_EVEN: an answer is shown when it is more likely right than wrong."""
    X = np.array([[row["evidence"].get(name, 0.0) for name in features] for row in rows], dtype=float)
    y = np.array([1.0 if row["right"] else 0.0 for row in rows])
    weights, bias = _logistic(X, y)
    return Fit(features, tuple(float(w) for w in weights), float(bias), BREAK_EVEN)


def decision_trust(shown: bool, right: bool, answerable: bool) -> int:
    """What a decision scores in trust: shown, +1 if right and -1 if not; withheld, +1 if the
    question had no answer in the articles, 0 if it had."""
    if shown:
        return 1 if right else -1
    return 0 if answerable else 1


def trust_maximising(fit: Fit, rows: list[dict]) -> float:
    """The threshold at which `fit` would have scored the best trust over `rows` (`decision_trust`).

    Reported beside the operating point, not used as it: on the development pool it declines
    nearly every answer (README, "The decision")."""
    chances = [fit.chance(row["evidence"]) for row in rows]
    best = (-math.inf, 1.0)
    for threshold in sorted(set(chances)) + [1.0]:
        trust = sum(decision_trust(c >= threshold, row["right"], row["answerable"])
                    for row, c in zip(rows, chances))
        if trust > best[0]:
            best = (trust, threshold)
    return best[1]


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
