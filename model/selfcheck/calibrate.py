"""Calibration: a small logistic regression from self-check signals to the probability
that a reading is exactly right, its ``needs_check`` threshold, and the measures it is
judged by (AUROC, catch rate, false-flag rate, reliability bins). Numpy only.

The fitted model is plain JSON, stored as ``"self_check"`` in a model folder's
``snaptex.json`` so it ships with the weights it was fitted for::

    "self_check": {"features": [...], "mean": [...], "scale": [...],
                   "coef": [...], "intercept": -0.3, "threshold": 0.55, ...}
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from model.selfcheck import HINT_KEY  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class Calibration:
    """Standardise, then a logistic: p = sigmoid(coef . (x - mean) / scale + b)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # needs_check when confidence < threshold
    notes: dict = field(default_factory=dict)  # how and on what it was fitted

    def probability(self, values: Mapping[str, float]) -> float:
        x = np.array([float(values.get(name, m)) for name, m in zip(
            self.features, self.mean, strict=True)])
        z = float(np.dot(self.coef, (x - self.mean) / self.scale) + self.intercept)
        return float(1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0))))

    def to_dict(self) -> dict:
        data = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in data.items()}

    @classmethod
    def from_dict(cls, data: Mapping) -> Calibration:
        names = tuple(str(n) for n in data["features"])
        vectors = [tuple(float(v) for v in data[key]) for key in ("mean", "scale", "coef")]
        if any(len(v) != len(names) for v in vectors):
            raise ValueError("self_check: features, mean, scale and coef differ in length")
        if any(s <= 0 for s in vectors[1]):
            raise ValueError("self_check: scale must be positive")
        threshold = float(data["threshold"])
        if not 0 <= threshold <= 1:
            raise ValueError("self_check: threshold must be in [0, 1]")
        return cls(names, *vectors, float(data["intercept"]), threshold,
                   dict(data.get("notes") or {}))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0,
                 iterations: int = 50) -> tuple[np.ndarray, float]:
    """Newton's method on the L2-penalised log-loss (intercept unpenalised); x is
    already standardised. Returns (coef, intercept)."""
    rows, columns = x.shape
    design = np.hstack([x, np.ones((rows, 1))])
    weights = np.zeros(columns + 1)
    penalty = np.full(columns + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ weights, -40, 40)))
        gradient = design.T @ (p - y) + penalty * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights[:-1], float(weights[-1])


def fit(rows: Sequence[Mapping[str, float]], right: Sequence[bool],
        features: Sequence[str], l2: float = 1.0, threshold: float = 0.5) -> Calibration:
    x = np.array([[float(r[name]) for name in features] for r in rows])
    mean = x.mean(axis=0)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    coef, intercept = fit_logistic((x - mean) / scale, np.asarray(right, dtype=float), l2)
    return Calibration(tuple(features), tuple(mean.tolist()), tuple(scale.tolist()),
                       tuple(coef.tolist()), intercept, threshold)


def auroc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Probability that a random positive outscores a random negative (ties: half)."""
    scores, positive = np.asarray(scores, float), np.asarray(positive, bool)
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def flag_rates(confidence: Sequence[float], right: Sequence[bool],
               threshold: float) -> tuple[float, float]:
    """(share of wrong readings flagged, share of right readings flagged)."""
    confidence, right = np.asarray(confidence, float), np.asarray(right, bool)
    flagged = confidence < threshold
    catch = float(flagged[~right].mean()) if (~right).any() else float("nan")
    false_flag = float(flagged[right].mean()) if right.any() else float("nan")
    return catch, false_flag


def threshold_for_catch(confidence: Sequence[float], right: Sequence[bool],
                        catch: float) -> float:
    """The lowest threshold that flags at least ``catch`` of the wrong readings (so
    the fewest right ones are flagged)."""
    wrong = np.sort(np.asarray(confidence, float)[~np.asarray(right, bool)])
    if not len(wrong):
        return 0.0
    index = min(len(wrong) - 1, max(0, math.ceil(catch * len(wrong)) - 1))
    return float(min(1.0, np.nextafter(wrong[index], 2.0)))


def reliability(confidence: Sequence[float], right: Sequence[bool],
                bins: int = 10) -> list[dict]:
    """Per confidence bin: its range, count, mean confidence and share right."""
    confidence, right = np.asarray(confidence, float), np.asarray(right, bool)
    edges = np.linspace(0, 1, bins + 1)
    table = []
    for low, high in itertools.pairwise(edges):
        inside = (confidence >= low) & ((confidence < high) | (high == 1.0))
        if inside.any():
            table.append({"low": round(float(low), 2), "high": round(float(high), 2),
                          "count": int(inside.sum()),
                          "confidence": float(confidence[inside].mean()),
                          "accuracy": float(right[inside].mean())})
    return table


def expected_calibration_error(confidence: Sequence[float], right: Sequence[bool],
                               bins: int = 10) -> float:
    table = reliability(confidence, right, bins)
    total = sum(row["count"] for row in table)
    return sum(row["count"] * abs(row["confidence"] - row["accuracy"])
               for row in table) / max(total, 1)
