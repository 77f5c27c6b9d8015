"""The Monte Carlo driver: runs a scenario in batches and gathers per-run results.

Runs are simulated in batches by the same vectorized model that tells one
run's story; run K's randomness depends only on (seed, K), so results do not
depend on the batch size.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import ResourceError
from sim.model import EscalationModel
from sim.outcomes import OUTCOMES
from sim.scenario import Scenario

DEFAULT_BATCH = 20_000


@dataclass
class Results:
    """Per-run results of an ensemble, in run order."""

    scenario: Scenario
    seed: int
    days: int
    actor_ids: list[str]
    state_pairs: list[tuple[int, int]]
    run: np.ndarray
    outcome: np.ndarray
    first: np.ndarray  # (runs, thresholds), -1 = never crossed (censored)
    peak: np.ndarray  # (runs, actors, actors)
    casualties: np.ndarray
    peak_index: np.ndarray
    final_index: np.ndarray
    index_by_day: np.ndarray  # (runs, days + 1): escalation index from day 0

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return len(self.run)

    def outcome_counts(self) -> dict[str, int]:
        """Runs per outcome class, in :data:`OUTCOMES` order."""
        counts = np.bincount(self.outcome, minlength=len(OUTCOMES))
        return {name: int(c) for name, c in zip(OUTCOMES, counts, strict=True)}


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054):
    """95% Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def available_memory() -> int:
    """Bytes of memory available to this process now (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def estimate(runs: int, days: int, n_actors: int, batch_size: int = DEFAULT_BATCH):
    """Rough (memory, disk) bytes needed by an ensemble and its results folder."""
    per_run = 8 * (days + 1) + n_actors * n_actors + 64  # index trajectory, peaks, summary
    batch = min(runs, batch_size) * (60 * n_actors * n_actors + 8 * 400)  # model arrays
    disk = runs * (40 + 4 * n_actors * n_actors) + 1_000_000
    return runs * per_run + batch, disk


def check_resources(runs: int, days: int, n_actors: int, out: Path | None = None):
    """Refuse, before any work, an ensemble that would not fit in memory or on disk."""
    memory, disk = estimate(runs, days, n_actors)
    free = available_memory()
    if memory > 0.8 * free:
        raise ResourceError(
            f"{runs:,} runs x {days} days need about {memory / 2**30:.1f} GiB of memory, "
            f"but only {free / 2**30:.1f} GiB is available; ask for fewer runs or days")
    if out is not None:
        probe = Path(out)
        while not probe.exists():
            probe = probe.parent
        room = shutil.disk_usage(probe).free
        if disk > 0.9 * room:
            raise ResourceError(
                f"the results would take about {disk / 2**20:,.0f} MiB, but {probe} has only "
                f"{room / 2**20:,.0f} MiB free")


def simulate(scenario: Scenario, runs: int | None = None, seed: int | None = None,
             days: int | None = None, batch_size: int = DEFAULT_BATCH,
             first_run: int = 0) -> Results:
    """Simulate ``runs`` runs (indices ``first_run ..``) of ``scenario``."""
    runs = scenario.spec.montecarlo.runs if runs is None else int(runs)
    seed = scenario.spec.montecarlo.seed if seed is None else int(seed)
    days = scenario.spec.horizon_days if days is None else int(days)
    parts, index_parts = [], []
    model = None
    for start in range(first_run, first_run + runs, batch_size):
        ids = np.arange(start, min(start + batch_size, first_run + runs))
        model = EscalationModel(scenario, runs=ids, seed=seed, days=days)
        parts.append(model.run())
        index_parts.append(np.stack(model.daily_index, axis=1))
    joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    pairs = [(i, j) for i in range(model.n_actors) for j in range(model.n_actors)
             if model.state_pairs[i, j]]
    return Results(scenario, seed, days, model.actor_ids, pairs, joined["run"],
                   joined["outcome"], joined["first"], joined["peak"], joined["casualties"],
                   joined["peak_index"], joined["final_index"], np.concatenate(index_parts))
