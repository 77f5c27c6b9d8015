"""Scores of probability forecasts over outcome classes, with bootstrap intervals over cases.

Pure functions on arrays. A forecast is an array (cases, classes) whose rows
sum to 1; an observed class is an index into a row. Lower Brier is better
(0 is a perfect forecast, 2 the worst); a higher log score is better (0 is
perfect). Both are proper scores: a forecaster expecting to be scored by them
does best by stating the probabilities it believes (Gneiting and Raftery 2007,
"Strictly proper scoring rules, prediction, and estimation", JASA 102:359-378,
https://doi.org/10.1198/016214506000001437).
"""

from __future__ import annotations

import numpy as np

RESAMPLES = 10_000
"""Bootstrap resamples of the cases for every interval."""
BOOTSTRAP_SEED = 0
"""Seed of the resampling, so the intervals are the same on every machine and every run."""
ZERO_COUNT_SHARE = 0.5
"""A base-rate class seen in no crisis counts as half a crisis, so its log score is finite."""


def brier(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Multiclass Brier score of each case: the sum over classes of (p - o)^2.

    Brier 1950, "Verification of forecasts expressed in terms of probability",
    Monthly Weather Review 78:1-3; ``o`` is 1 for the observed class, else 0.
    """
    p = np.asarray(p, dtype=float)
    hit = np.zeros_like(p)
    hit[np.arange(len(p)), observed] = 1.0
    return ((p - hit) ** 2).sum(axis=1)


def log_score(p: np.ndarray, observed: np.ndarray, floor: float) -> np.ndarray:
    """Natural log of each case's probability of its observed class, floored at ``floor``.

    An ensemble of R runs that never produced a class cannot tell 0 from a
    probability below 1/R; the floor 1/(R + 1) (:func:`run_floor`) keeps the
    score finite without claiming more than the runs show.
    """
    p = np.asarray(p, dtype=float)
    return np.log(np.maximum(p[np.arange(len(p)), observed], floor))


def run_floor(runs: int) -> float:
    """The log-score floor of an ensemble of ``runs`` runs: 1/(runs + 1)."""
    return 1.0 / (runs + 1)


def rank(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Rank of the observed class in each case: 1 + classes given a higher probability.

    Tied classes share the better rank.
    """
    p = np.asarray(p, dtype=float)
    mine = p[np.arange(len(p)), observed]
    return 1 + (p > mine[:, None]).sum(axis=1)


def base_rates(counts: np.ndarray, zero_share: float = ZERO_COUNT_SHARE) -> np.ndarray:
    """Class probabilities from reference-class counts; a zero count gets ``zero_share`` crises.

    The floored counts are divided by their sum, so the probabilities add up to 1.
    """
    counts = np.asarray(counts, dtype=float)
    floored = np.where(counts > 0, counts, zero_share)
    return floored / floored.sum()


def bootstrap(values: np.ndarray, resamples: int = RESAMPLES,
              seed: int = BOOTSTRAP_SEED) -> tuple[float, float, float]:
    """Mean of ``values`` and its 95% percentile bootstrap interval over the cases.

    Cases are resampled with replacement (Efron and Tibshirani 1993, "An
    Introduction to the Bootstrap", ch. 13). Called with the same seed on
    per-case differences, the resamples are paired: each draws the same cases
    for the model and the baseline.
    """
    values = np.asarray(values, dtype=float)
    picks = np.random.default_rng(seed).integers(0, len(values), (resamples, len(values)))
    means = values[picks].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(values.mean()), float(lo), float(hi)


def reliability(p: np.ndarray, observed: np.ndarray, bins: int = 10):
    """Predicted probability against observed frequency over every (case, class) pair.

    Returns (edges, mean predicted, observed frequency, pairs, hits) per bin;
    a bin holds the pairs with ``edges[k] <= p < edges[k + 1]`` (the last bin
    includes 1). Empty bins have NaN means.
    """
    p = np.asarray(p, dtype=float)
    hit = np.zeros_like(p)
    hit[np.arange(len(p)), observed] = 1.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, p.ravel(), side="right") - 1, 0, bins - 1)
    pairs = np.bincount(which, minlength=bins)
    hits = np.bincount(which, weights=hit.ravel(), minlength=bins)
    sums = np.bincount(which, weights=p.ravel(), minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return edges, sums / pairs, hits / pairs, pairs, hits.astype(np.int64)
