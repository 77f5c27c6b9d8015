"""Statistics at the bottom of the stack: proportions, paired differences, survival.

Pure functions of counts (numpy only), shared by the ensemble driver, the
charts, the report and comparisons, so that drawing results never loads the
model.
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054
"""The standard normal quantile of 0.975 (two-sided 95% intervals)."""


def wilson_interval(successes: int, n: int, z: float = Z95):
    """95% Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def kaplan_meier(events: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Survival S(t) at each day t from counts of first crossings and of censorings.

    ``events[t]`` runs crossed on day t; ``censored[t]`` runs left observation
    after day t without crossing (here: at the horizon). S(t) is the product
    over days u <= t of (1 - events[u] / at_risk[u]), where at_risk[u] counts
    runs neither crossed nor censored before u.
    """
    events = np.asarray(events, dtype=float)
    censored = np.asarray(censored, dtype=float)
    at_risk = events.sum() + censored.sum() - np.concatenate(
        ([0.0], np.cumsum(events + censored)[:-1]))
    hazard = np.divide(events, at_risk, out=np.zeros_like(events), where=at_risk > 0)
    return np.cumprod(1 - hazard)


def newcombe_paired(both: int, first_only: int, second_only: int, neither: int,
                    z: float = Z95) -> tuple[float, float]:
    """Interval for p1 - p2 from a paired 2x2 table (Newcombe 1998, method 10).

    ``first_only`` counts the pairs where only the first member has the
    outcome, ``second_only`` those where only the second has it. The product
    correlation of the table enters with Newcombe's adjustment (AD - BC is
    reduced by N/2 when positive, and only then), which keeps the interval
    from collapsing when the pairs agree.
    """
    n = both + first_only + second_only + neither
    x1, x2 = both + first_only, both + second_only
    p1, p2 = x1 / n, x2 / n
    l1, u1 = wilson_interval(x1, n, z)
    l2, u2 = wilson_interval(x2, n, z)
    cross = both * neither - first_only * second_only
    cross = cross - n / 2 if cross > n / 2 else min(cross, 0)
    margins = x1 * (n - x1) * x2 * (n - x2)
    phi = cross / math.sqrt(margins) if margins > 0 else 0.0
    lower = p1 - p2 - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                                    + (u2 - p2) ** 2))
    upper = p1 - p2 + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                                    + (p2 - l2) ** 2))
    return max(-1.0, lower), min(1.0, upper)
