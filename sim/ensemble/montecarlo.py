"""The Monte Carlo driver: runs a scenario in chunks and gathers the results.

Two ways in, one model:

- :func:`run_ensemble` streams: chunks of runs go to a backend (this process,
  local workers, Dask), come back in any order, and are handed on in run
  order (rows for runs.csv, mergeable counts for summaries and charts).
  Memory does not grow with the number of runs.
- :func:`simulate` keeps every run's results in memory, for analysis in
  Python and for tests.

Run K's randomness depends only on (seed, K), so neither the chunk size nor
the number of workers nor the backend changes any result.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.ensemble import engine
from sim.ensemble.aggregate import COERCED, Aggregate
from sim.ensemble.backends import InlineBackend
from sim.errors import ResourceError
from sim.inputs.scenario import Scenario
from sim.limits import DEFAULT_KEEP, MAX_PANELS
from sim.model.model import EscalationModel
from sim.model.outcomes import OUTCOMES, THRESHOLDS, state_pairs
from sim.model.params import ParameterSets
from sim.model.state import SavedState
from sim.stats import wilson_interval

DEFAULT_BATCH = 20_000
DEFAULT_CHUNK = 10_000


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
    peak_by_scheme: np.ndarray  # (runs, schemes): peak index under every scoring scheme
    path: list[str]  # daily highest state-pair level, repeats dropped ("5-4-3")
    index_by_day: np.ndarray  # (runs, days + 1): escalation index from day 0
    success: np.ndarray  # (runs, 2): first day of a coercer's success (-1 never), COERCED code

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return len(self.run)

    def outcome_counts(self) -> dict[str, int]:
        """Runs per outcome class, in :data:`OUTCOMES` order."""
        counts = np.bincount(self.outcome, minlength=len(OUTCOMES))
        return {name: int(c) for name, c in zip(OUTCOMES, counts, strict=True)}


def available_memory() -> int:
    """Bytes of memory available to this process now (psutil: the same on every platform)."""
    import psutil
    return int(psutil.virtual_memory().available)


# Calibration of the estimates, measured on Linux with Python 3.11, numba and the
# shipped scenarios (4-5 actors, 6-12 state pairs) at 100, 1,000 and 3,650 days:
WORKER_BYTES = 150 * 2**20  # a worker process before any work (measured USS: 128 MiB)
DRAWING_BYTES = 200 * 2**20  # matplotlib drawing the charts in this process
DAY_HISTOGRAM_BYTES = 130_000  # one aggregate, per day: 4 schemes x 4,000 index bins x 8 B
ROW_BYTES = 120  # a runs.csv row without its pair columns and path (measured 100-120, then
# up to 19 more for the coerced columns)
PATH_CHARS_PER_DAY = 0.25  # mean length of the path column per day (measured 0.2)
FOLDER_BYTES = 3_000_000  # charts and report.html whatever the horizon (measured 1.9-2.3 MB)
# charts per day: about 450 B, 250 B per state pair (per-pair panels) and 320 B per actor
# (action-mix panels; at most MAX_PANELS of each are drawn), PNG and SVG together
# (measured 3.0 kB/day at 6 pairs, 4.7 at 12); aggregate.npz about 600 B/day (measured 480)
CHART_DAY_BYTES, CHART_PAIR_DAY_BYTES, CHART_ACTOR_DAY_BYTES = 1_050, 250, 320


def estimate(runs: int, days: int, n_actors: int, n_pairs: int | None = None,
             keep: int = DEFAULT_KEEP, chunk: int = DEFAULT_CHUNK, workers: int = 1,
             folders: int = 1):
    """Rough upper (memory, disk) bytes for a streamed ensemble and its results folders.

    Memory: each worker process, its model batch and about three day-by-day
    aggregates (its chunk's, a batch's, the copy sent back); here, the merged
    aggregate, those of up to two chunks per worker waiting to be merged, the
    kept trajectories and the chart drawing. It does not grow with the number
    of runs. Disk: runs.csv, trajectories.csv, aggregate.npz, charts (PNG and
    SVG, per-pair panels) and report.html of ``folders`` results folders.
    """
    n_pairs = n_actors * (n_actors - 1) if n_pairs is None else n_pairs
    steps = days + 1
    aggregate = steps * (DAY_HISTOGRAM_BYTES + 64 * (n_pairs + n_actors))
    row = ROW_BYTES + 2 * n_pairs + int(PATH_CHARS_PER_DAY * days)
    chunk = max(1, min(runs, chunk))
    model = min(chunk, engine.MODEL_BATCH) * (60 * n_actors * n_actors + 8 * 600)
    kept = min(keep, runs) * steps * (40 + 16 * n_pairs)
    in_flight = min(2 * workers if workers > 1 else 1, -(-runs // chunk))
    here = DRAWING_BYTES + (1 + in_flight) * (aggregate + chunk * row) + kept
    worker = model + 3 * aggregate + chunk * row
    memory = here + (workers * (WORKER_BYTES + worker) if workers > 1 else worker)
    charts = steps * (CHART_DAY_BYTES + CHART_PAIR_DAY_BYTES * min(n_pairs, MAX_PANELS)
                      + CHART_ACTOR_DAY_BYTES * min(n_actors, MAX_PANELS))
    disk = (runs * row + min(keep, runs) * steps * (40 + 2 * n_pairs)
            + folders * (FOLDER_BYTES + charts))
    return memory, disk


def check_resources(runs: int, days: int, n_actors: int, out: Path | None = None,
                    keep: int = DEFAULT_KEEP, *, n_pairs: int | None = None,
                    chunk: int | None = None, workers: int = 1, folders: int = 1):
    """Refuse, before any work, an ensemble that would not fit in memory or on disk."""
    chunk = chunk or auto_chunk(runs, workers)
    memory, disk = estimate(runs, days, n_actors, n_pairs, keep, chunk, workers, folders)
    free = available_memory()
    if memory > 0.8 * free:
        procs = f" with {workers} worker processes" if workers > 1 else ""
        raise ResourceError(
            f"{runs:,} runs x {days} days{procs} need about {memory / 2**30:.1f} GiB of "
            f"memory, but only {free / 2**30:.1f} GiB is available; ask for fewer "
            f"{'workers, ' if workers > 1 else ''}runs or days")
    if out is not None:
        probe = Path(out)
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        room = shutil.disk_usage(probe).free
        if disk > 0.9 * room:
            raise ResourceError(
                f"the results would take about {disk / 2**20:,.0f} MiB, but {probe} has only "
                f"{room / 2**20:,.0f} MiB free")


def simulate(scenario: Scenario, runs: int | None = None, seed: int | None = None,
             days: int | None = None, batch_size: int = DEFAULT_BATCH,
             first_run: int = 0, *, parameters: ParameterSets | None = None,
             forced: dict | None = None) -> Results:
    """Simulate ``runs`` runs (numbers ``first_run ..``) of ``scenario``, keeping everything.

    ``parameters`` with one set replaces the scenario's values in every run;
    ``forced`` imposes moves ({(day, actor id): (action id, target id)}).
    """
    runs = scenario.spec.montecarlo.runs if runs is None else int(runs)
    seed = scenario.spec.montecarlo.seed if seed is None else int(seed)
    days = scenario.spec.horizon_days if days is None else int(days)
    return _collect(scenario, seed, days, [
        EscalationModel(scenario, runs=np.arange(start, min(start + batch_size, first_run + runs)),
                        seed=seed, days=days, parameters=parameters, forced=forced, past=False)
        for start in range(first_run, first_run + runs, batch_size)])


def branch(scenario: Scenario, state: SavedState, run: int, runs: int, seed: int | None = None,
           days: int | None = None, forced: dict | None = None) -> Results:
    """``runs`` continuations of saved run ``run`` from its day, in memory.

    Continuation 0 is run ``run`` itself (with the state's seed, it equals
    the run never stopped); continuation c draws new numbers. ``scenario``
    may differ from the one that saved the state (a what-if from that day
    on) as long as its actors are the same; ``forced`` imposes moves.
    """
    seed = state.seed if seed is None else int(seed)
    days = scenario.spec.horizon_days if days is None else int(days)
    one = state.select([state.position(run)])
    job = engine.Job(scenario, seed, days, origin=one, forced=forced)
    return _collect(scenario, seed, days, [
        job.model(np.arange(start, min(start + DEFAULT_BATCH, runs)))
        for start in range(0, runs, DEFAULT_BATCH)])


def _collect(scenario: Scenario, seed: int, days: int, models) -> Results:
    """Run each model (one at a time) to the horizon and join their runs' results."""
    parts, index_parts = [], []
    for model in models:
        days = [model.on_day(d) for d in range(model.day + 1)]
        path = [np.full(model.n_runs, np.nan) if known is None else known[0][:, model.scheme].copy()
                for known in days]
        while model.day < model.horizon:
            model.step()
            path.append(model.index.copy())
        parts.append(model.summary())
        index_parts.append(np.stack(path, axis=1))
        actor_ids = model.actor_ids
    joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if k != "path"}
    return Results(scenario, seed, days, actor_ids, state_pairs(scenario), joined["run"],
                   joined["outcome"], joined["first"], joined["peak"], joined["casualties"],
                   joined["peak_index"], joined["final_index"], joined["peak_by_scheme"],
                   [p for part in parts for p in part["path"]], np.concatenate(index_parts),
                   joined["success"])


@dataclass
class Ensemble:
    """What a streamed ensemble leaves in memory: counts and a few trajectories."""

    scenario: Scenario
    seed: int
    days: int
    actor_ids: list[str]
    pairs: list[tuple[int, int]]
    aggregate: Aggregate
    trajectories: dict[int, engine.Trajectory]
    job: engine.Job | None = None
    set_outcomes: np.ndarray | None = None  # (sets, outcomes): runs per outcome in each set
    set_coerced: np.ndarray | None = None  # (sets, COERCED): runs per kind of success in each set
    set_first: np.ndarray | None = None  # (sets, 2, thresholds): runs crossing, sum of 1st days

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return self.aggregate.runs

    def max_half_width(self) -> float:
        """Largest 95% Wilson half-width over the outcome classes."""
        n = self.aggregate.runs
        return max((hi - lo) / 2 for lo, hi in
                   (wilson_interval(int(c), n) for c in self.aggregate.outcomes))


def auto_chunk(runs: int, workers: int) -> int:
    """Default chunk size: about four chunks per worker, between 100 and 10,000 runs.

    Any chunk size gives the same results; this one only balances the load.
    """
    return max(100, min(DEFAULT_CHUNK, -(-runs // (4 * workers))))


def plan(first: int, runs: int, chunk: int) -> list[tuple[int, int]]:
    """Cut run indices ``first .. first + runs - 1`` into chunks of at most ``chunk``."""
    return [(s, min(s + chunk, first + runs)) for s in range(first, first + runs, chunk)]


def run_ensemble(scenario: Scenario, runs: int | None = None, seed: int | None = None,
                 days: int | None = None, *, backend=None, chunk_size: int | None = None,
                 keep: int = DEFAULT_KEEP, on_rows=None, progress=None,
                 until_ci: float | None = None, max_runs: int | None = None,
                 parameters: ParameterSets | None = None, origin: SavedState | None = None,
                 forced: dict | None = None, save_day: int | None = None,
                 on_state=None) -> Ensemble:
    """Simulate an ensemble chunk by chunk, handing rows to ``on_rows`` in run order.

    With ``until_ci``, batches of ``runs`` runs are added until every outcome's
    95% Wilson half-width is below ``until_ci`` or ``max_runs`` is reached; the
    runs are the same consecutive numbers as a plain run of that size.

    ``parameters``: with one set, it replaces the scenario's values in every
    run; with several, ``runs`` runs of each set (runs.csv gains a ``set``
    column), run r of every set drawing the same numbers as run r of a plain
    run. ``origin``: continue one saved run (``runs`` continuations).
    ``forced``: moves imposed in every run. ``save_day``: hand the state of
    every run at the end of that day to ``on_state``, part by part in run order.
    """
    runs = scenario.spec.montecarlo.runs if runs is None else int(runs)
    seed = scenario.spec.montecarlo.seed if seed is None else int(seed)
    days = scenario.spec.horizon_days if days is None else int(days)
    backend = backend or InlineBackend()
    per_set = runs if parameters is not None and parameters.n_sets > 1 else 0
    if per_set and (until_ci is not None or origin is not None):
        raise ValueError("parameter sets run a fixed number of runs from day 0")
    job = engine.Job(scenario, seed, days, keep, parameters, per_set, origin, forced, save_day)
    total = runs * parameters.n_sets if per_set else runs
    probe = job.model(np.zeros(1, dtype=np.int64))
    ensemble = Ensemble(scenario, seed, days, probe.actor_ids, state_pairs(scenario),
                        engine.new_aggregate(probe), {}, job)
    if per_set:
        ensemble.set_outcomes = np.zeros((parameters.n_sets, len(OUTCOMES)), dtype=np.int64)
        ensemble.set_coerced = np.zeros((parameters.n_sets, len(COERCED)), dtype=np.int64)
        ensemble.set_first = np.zeros((parameters.n_sets, 2, len(THRESHOLDS)), dtype=np.int64)
    done = 0
    while True:
        batch = total if max_runs is None else min(total, max_runs - done)
        size = chunk_size or auto_chunk(batch, backend.workers)
        tasks = [(job.for_runs(a, b), a, b) for a, b in plan(done, batch, size)]
        waiting: dict[int, engine.Chunk] = {}
        next_start = done
        for chunk in backend.map(engine.run_chunk, tasks):
            waiting[chunk.start] = chunk
            while next_start in waiting:
                ready = waiting.pop(next_start)
                ensemble.aggregate.merge(ready.aggregate)
                ensemble.trajectories.update(ready.trajectories)
                if ready.set_outcomes is not None:
                    first, counts = ready.set_outcomes
                    ensemble.set_outcomes[first:first + len(counts)] += counts
                    ensemble.set_coerced[first:first + len(counts)] += ready.set_coerced
                    ensemble.set_first[first:first + len(counts)] += ready.set_first
                if on_rows is not None:
                    on_rows(ready.rows)
                if on_state is not None:
                    for part in ready.saved:
                        on_state(part)
                next_start = ready.stop
            if progress is not None:
                progress.update(chunk.stop - chunk.start)
        done += batch
        if until_ci is None or ensemble.max_half_width() < until_ci:
            return ensemble
        if max_runs is not None and done >= max_runs:
            return ensemble
        if progress is not None:
            progress.extend(runs if max_runs is None else min(runs, max_runs - done))
