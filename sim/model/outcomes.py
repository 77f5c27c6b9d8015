"""Outcome classification: thresholds crossed per run, and the run's final class.

Thresholds come from the scenario's ``outcomes`` section. The first day each
is crossed is recorded; a run that never crosses one is censored at the
horizon (reported as empty). A run's class is the most severe threshold it
crossed, in the order great-power confrontation > war > militarized clash;
failing those it is *de-escalated* when it ends in a calm spell of at least
``sustain_days`` (every state pair at or below ``max_level``), else a *frozen
crisis*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # a type only: `escsim plot` reads these constants without the scenario code
    from sim.inputs.scenario import Scenario

OUTCOMES = ("de-escalated", "frozen crisis", "militarized clash", "war",
            "great-power confrontation")
THRESHOLDS = ("deescalated", "militarized_clash", "war", "great_power_confrontation")


def state_pairs(scenario: Scenario) -> list[tuple[int, int]]:
    """Directed state pairs (i, j) by actor index, in the column order of runs.csv."""
    states = [a.kind == "state" for a in scenario.spec.actors.values()]
    n = len(states)
    return [(i, j) for i in range(n) for j in range(n) if i != j and states[i] and states[j]]


class Tracker:
    """Accumulates first-crossing days, calm spells and peaks as a batch advances."""

    def __init__(self, outcomes, actor_ids, is_state, runs: int, schemes: int = 1):
        self.cfg = outcomes
        n = len(actor_ids)
        self.first = np.full((runs, len(THRESHOLDS)), -1, dtype=np.int32)
        self.calm = np.zeros(runs, dtype=np.int32)
        self.peak = np.zeros((runs, n, n), dtype=np.int8)
        self.peak_indices = np.full((runs, schemes), -np.inf)  # per scoring scheme
        self.top = np.zeros(runs, dtype=np.int8)  # today's highest state-pair level
        self.tops: list[np.ndarray] = []  # self.top of every day so far, from day 0
        gp = outcomes.great_power_confrontation
        self.gp = None if gp is None else (actor_ids.index(gp.actors[0]),
                                           actor_ids.index(gp.actors[1]))

    def update(self, model):
        """Record today's crossings from the model's current state."""
        day, cfg = model.day, self.cfg
        top = self.top = model.max_state_level()
        self.tops.append(top)
        self.calm = np.where(top <= cfg.deescalated.max_level, self.calm + 1, 0)
        crossed = [
            self.calm >= cfg.deescalated.sustain_days,
            top >= cfg.militarized_clash.min_level,
            (top >= cfg.war.min_level) | (model.casualties >= cfg.war.casualties),
            np.zeros_like(top, dtype=bool),
        ]
        if self.gp is not None:
            a, b = self.gp
            gp_level = np.maximum(model.level[:, a, b], model.level[:, b, a])
            crossed[3] = gp_level >= cfg.great_power_confrontation.min_level
        for k, hit in enumerate(crossed):
            new = hit & (self.first[:, k] < 0)
            self.first[new, k] = day
        np.maximum(self.peak, model.level, out=self.peak)
        np.maximum(self.peak_indices, model.indices, out=self.peak_indices)

    def classify(self) -> np.ndarray:
        """Index into :data:`OUTCOMES` for every run."""
        ever = self.first >= 0
        settled = self.calm >= self.cfg.deescalated.sustain_days
        return np.select(
            [ever[:, 3], ever[:, 2], ever[:, 1], settled],
            [4, 3, 2, 0],
            default=1,
        ).astype(np.int8)

    def paths(self) -> list[str]:
        """Each run's escalation path: its daily highest state-pair level, repeats dropped.

        ``"5-4-3-2-1"`` is a run that started at rung 5 and relaxed rung by rung.
        """
        tops = np.stack(self.tops, axis=1)
        change = np.ones(tops.shape, dtype=bool)
        change[:, 1:] = tops[:, 1:] != tops[:, :-1]
        digits = tops.astype(np.uint8) + ord("0")
        return ["-".join(row[keep].tobytes().decode("ascii"))
                for row, keep in zip(digits, change, strict=True)]

    def summary(self, model) -> dict:
        """Per-run results as arrays (one entry per run of the batch)."""
        return {
            "run": model.run_ids,
            "outcome": self.classify(),
            "first": self.first.copy(),
            "peak": self.peak.copy(),
            "casualties": model.casualties.copy(),
            "final_index": model.index.copy(),
            "peak_index": self.peak_indices[:, model.scheme].copy(),
            "peak_by_scheme": self.peak_indices.copy(),
            "path": self.paths(),
        }
