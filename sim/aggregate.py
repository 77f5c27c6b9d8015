"""Mergeable ensemble summaries: integer histograms that add up exactly.

Memory must not grow with the number of runs, and results must not depend on
how runs were split between chunks and workers. Everything here is a count
(int64), so merging is exact addition in any order. Quantiles of the
escalation index (for fan charts) are read off fixed-width histograms whose
bins are set by the scenario alone; pair levels are small integers, counted
exactly.
"""

from __future__ import annotations

import numpy as np

from sim.outcomes import OUTCOMES, THRESHOLDS

INDEX_BINS = 4000
MAX_LEVEL = 7


def index_edges(scores: np.ndarray, n_actors: int, n_seats: int, decay: float,
                start: float, bins: int = INDEX_BINS) -> np.ndarray:
    """Histogram edges that contain every reachable value of the escalation index.

    Each day at most every actor and every Council seat adds one act, so the
    index stays within ``start`` plus the geometric sum of the extreme daily
    totals. Bins are equal in asinh(x): about 0.01 wide near zero and 1% of
    the value far from it, so quantiles keep their relative precision.
    """
    per_day = n_actors + n_seats
    hi = max(start, 0.0) + per_day * max(scores.max(), 0.0) / (1 - decay) + 1.0
    lo = min(start, 0.0) + per_day * min(scores.min(), 0.0) / (1 - decay) - 1.0
    return np.sinh(np.linspace(np.arcsinh(lo), np.arcsinh(hi), bins + 1))


class Aggregate:
    """Counts over runs: outcomes, first-crossing days, per-day index and level histograms."""

    def __init__(self, days: int, n_pairs: int, edges: np.ndarray):
        self.days = days
        self.edges = edges
        self.runs = 0
        self.outcomes = np.zeros(len(OUTCOMES), dtype=np.int64)
        # first-crossing day per threshold; the last column counts runs that never crossed
        self.first = np.zeros((len(THRESHOLDS), days + 2), dtype=np.int64)
        self.index = np.zeros((days + 1, len(edges) - 1), dtype=np.int64)
        self.levels = np.zeros((days + 1, n_pairs, MAX_LEVEL + 1), dtype=np.int64)
        self.casualties = np.int64(0)

    # -------------------------------------------------------------- filling --------

    def observe_day(self, day: int, index: np.ndarray, pair_levels: np.ndarray):
        """Count one day's index values (runs,) and pair levels (runs, pairs)."""
        bins = np.clip(np.searchsorted(self.edges, index, side="right") - 1, 0,
                       self.index.shape[1] - 1)
        self.index[day] += np.bincount(bins, minlength=self.index.shape[1])
        for p in range(pair_levels.shape[1]):
            self.levels[day, p] += np.bincount(pair_levels[:, p], minlength=MAX_LEVEL + 1)

    def observe_runs(self, outcome: np.ndarray, first: np.ndarray, casualties: np.ndarray):
        """Count per-run results of a finished batch."""
        self.runs += len(outcome)
        self.outcomes += np.bincount(outcome, minlength=len(OUTCOMES))
        days = np.where(first < 0, self.days + 1, first)
        for k in range(first.shape[1]):
            self.first[k] += np.bincount(days[:, k], minlength=self.days + 2)
        self.casualties += np.int64(casualties.astype(np.int64).sum())

    def merge(self, other: Aggregate) -> Aggregate:
        """Add ``other``'s counts to this one (exact, order-free)."""
        self.runs += other.runs
        self.outcomes += other.outcomes
        self.first += other.first
        self.index += other.index
        self.levels += other.levels
        self.casualties += other.casualties
        return self

    # -------------------------------------------------------------- reading --------

    def index_quantiles(self, qs) -> np.ndarray:
        """Quantiles of the index per day, shape (days + 1, len(qs)).

        Each quantile is interpolated linearly inside the histogram bin that holds it.
        """
        qs = np.asarray(qs, dtype=float)
        cum = np.cumsum(self.index, axis=1)
        total = cum[:, -1:]
        target = qs[None, :] * total
        out = np.empty((self.index.shape[0], len(qs)))
        for d in range(self.index.shape[0]):
            k = np.searchsorted(cum[d], target[d], side="left")
            k = np.minimum(k, self.index.shape[1] - 1)
            below = np.where(k > 0, cum[d][k - 1], 0)
            inside = np.maximum(self.index[d][k], 1)
            frac = np.clip((target[d] - below) / inside, 0.0, 1.0)
            out[d] = self.edges[k] + frac * (self.edges[k + 1] - self.edges[k])
        return out

    def outcome_counts(self) -> dict[str, int]:
        """Runs per outcome class."""
        return {name: int(c) for name, c in zip(OUTCOMES, self.outcomes, strict=True)}
