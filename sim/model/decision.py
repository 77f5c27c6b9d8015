"""The decision rule: logit (quantal response) choice over (action, target) candidates.

Pure functions over arrays with a leading runs axis. The same rule serves one
run, a million-run batch, and (later) a human player, who simply replaces the
draw with a choice of their own.
"""

from __future__ import annotations

import numpy as np


def logit_probabilities(utility: np.ndarray, feasible: np.ndarray, rationality: float):
    """Choice probabilities P(c) proportional to exp(rationality * U(c)) over feasible c.

    ``utility`` and ``feasible`` have shape (runs, candidates). Rationality 0 is
    uniform random play over the feasible candidates; large rationality tends to
    best response (McKelvey and Palfrey 1995). Every row needs one feasible
    candidate (the "hold" option always is).
    """
    z = np.where(feasible, rationality * utility, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    weights = np.exp(z)
    return weights / weights.sum(axis=1, keepdims=True)


def draw(probabilities: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: the candidate index whose cumulative band contains ``u``."""
    cumulative = np.cumsum(probabilities, axis=1)
    pick = (cumulative <= u[:, None] * cumulative[:, -1:]).sum(axis=1)
    return np.minimum(pick, probabilities.shape[1] - 1)


def choose(utility, feasible, rationality, u) -> np.ndarray:
    """Logit choice per run: index of the chosen candidate.

    The weights exp(rationality * (U - max U)) are not normalised: the draw
    compares their running sum with ``u`` times their total, which needs no
    division (and no row sum, whose rounding order numpy may vary).
    """
    z = np.where(feasible, rationality * utility, -np.inf)
    return draw(np.exp(z - z.max(axis=1, keepdims=True)), u)


def exponential(mean: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Whole-number draw from an exponential with the given mean (casualties)."""
    return np.floor(-mean * np.log1p(-u))
