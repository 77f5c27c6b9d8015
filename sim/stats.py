"""Statistics at the bottom of the stack: intervals for proportions, survival curves.

Pure functions of counts (numpy only), shared by the ensemble driver, the
charts, the report and comparisons, so that drawing results never loads the
model.
"""

from __future__ import annotations

import numpy as np


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054):
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
