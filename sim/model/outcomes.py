"""Outcome classification: thresholds crossed per run, and the run's final class.

Thresholds come from the scenario's ``outcomes`` section; the compiled day
(:func:`sim.model.day.advance`) records the first day each is crossed and
the current calm spell. A run that never crosses one is censored at the
horizon (reported as empty). A run's class is the most severe threshold it
crossed, in the order great-power confrontation > war > militarized clash;
failing those it is *de-escalated* when it ends in a calm spell of at least
``sustain_days`` (every state pair at or below ``max_level``), else a *frozen
crisis*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the results layer imports this module without loading the inputs
    from sim.inputs.scenario import Scenario

OUTCOMES = ("de-escalated", "frozen crisis", "militarized clash", "war",
            "great-power confrontation")
THRESHOLDS = ("deescalated", "militarized_clash", "war", "great_power_confrontation")


def classify(first: np.ndarray, calm: np.ndarray, sustain_days: np.ndarray) -> np.ndarray:
    """Index into :data:`OUTCOMES` for every run (``sustain_days`` per run)."""
    ever = first >= 0
    settled = calm >= sustain_days
    return np.select([ever[:, 3], ever[:, 2], ever[:, 1], settled], [4, 3, 2, 0],
                     default=1).astype(np.int8)


def paths(tops: np.ndarray) -> list[str]:
    """Each run's escalation path: its daily highest state-pair level, repeats dropped.

    ``tops`` is (runs, days + 1). ``"5-4-3-2-1"`` is a run that started at
    rung 5 and relaxed rung by rung.
    """
    change = np.ones(tops.shape, dtype=bool)
    change[:, 1:] = tops[:, 1:] != tops[:, :-1]
    digits = tops.astype(np.uint8) + ord("0")
    return ["-".join(row[keep].tobytes().decode("ascii"))
            for row, keep in zip(digits, change, strict=True)]


def state_pairs(scenario: Scenario) -> list[tuple[int, int]]:
    """Directed state pairs (i, j) by actor index, in the column order of runs.csv."""
    states = [scenario.spec.actors[a].kind == "state" for a in scenario.actor_ids]
    n = len(states)
    return [(i, j) for i in range(n) for j in range(n) if i != j and states[i] and states[j]]
