"""The ensemble engine's unit of work: one chunk of consecutive runs.

:func:`run_chunk` is a pure function of a :class:`Job` (scenario, seed,
days, and optionally parameter sets, a saved run to continue, forced moves)
and a range of run positions. It returns the chunk's rows of ``runs.csv``
already formatted, its mergeable :class:`~sim.ensemble.aggregate.Aggregate`,
the trajectories of kept runs and, if asked, the runs' saved state on one
day. Because each run's randomness depends only on (seed, run), the
concatenated rows and the merged counts are identical however the runs are
cut into chunks and wherever chunks run.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, field

import numpy as np

from sim.ensemble.aggregate import COERCED, Aggregate, Trajectory, index_edges
from sim.inputs.catalogue import SCHEMES
from sim.inputs.scenario import Scenario
from sim.model.model import EscalationModel
from sim.model.outcomes import OUTCOMES, THRESHOLDS, state_pairs
from sim.model.params import ParameterSets
from sim.model.state import SavedState

BRANCH_STRIDE = 1 << 32
"""Continuation c > 0 of saved run K draws as run K + c x BRANCH_STRIDE: run numbers and
continuation counts are below 2**32, so continuation 0 is run K itself and every other
continuation a run no plain ensemble has."""


@dataclass(frozen=True)
class Job:
    """What every chunk of one ensemble shares.

    Run position g of the ensemble is, by default, run g. With ``runs_per_set``
    (R) it is run g mod R of parameter set g // R; with ``origin`` (one saved
    run K) it is continuation g of run K.
    """

    scenario: Scenario
    seed: int
    days: int
    keep: int = 0
    parameters: ParameterSets | None = None
    runs_per_set: int = 0
    origin: SavedState | None = None
    forced: dict | None = None
    save_day: int | None = None
    first_set: int = 0  # parameters holds the sets from this one on

    def for_runs(self, start: int, stop: int) -> Job:
        """The job with only the parameter sets of positions ``start .. stop - 1``.

        What a worker is sent: not every set of a large table.
        """
        if not self.runs_per_set:
            return self
        first, last = start // self.runs_per_set, (stop - 1) // self.runs_per_set
        return dataclasses.replace(self, parameters=self.parameters.subset(first, last + 1),
                                   first_set=first)

    def model(self, positions: np.ndarray) -> EscalationModel:
        """A model of the runs at ``positions``."""
        options = {"parameters": self.parameters, "forced": self.forced,
                   "past": self.save_day is not None}
        if self.runs_per_set:
            options.update(runs=positions % self.runs_per_set,
                           sets=positions // self.runs_per_set - self.first_set)
        elif self.origin is not None:
            k = np.uint64(self.origin.streams[0])  # continuation 0 is the saved run itself
            count = positions.astype(np.uint64)
            options.update(runs=positions, streams=k + count * np.uint64(BRANCH_STRIDE),
                           state=self.origin.select(np.zeros(len(positions), dtype=np.int64)))
        else:
            options.update(runs=positions)
        return EscalationModel(self.scenario, seed=self.seed, days=self.days, **options)


@dataclass
class Chunk:
    """What one chunk of runs produced."""

    start: int
    stop: int
    rows: str
    aggregate: Aggregate
    trajectories: dict[int, Trajectory] = field(default_factory=dict)
    saved: list[SavedState] = field(default_factory=list)
    set_outcomes: tuple[int, np.ndarray] | None = None  # first set, runs per outcome by set
    set_coerced: np.ndarray | None = None  # runs per COERCED code by set, sets as set_outcomes
    set_first: np.ndarray | None = None  # (sets, 2, thresholds): runs crossing, sum of 1st days


def csv_header(actor_ids: list[str], pairs: list[tuple[int, int]], sets: bool = False) -> str:
    """The header line of runs.csv, written by the csv module (quoted wherever a name needs it).

    With ``sets``, a first column names each row's parameter set.
    """
    cols = (["set"] * sets + ["run", "outcome"] + [f"first_{t}" for t in THRESHOLDS]
            + ["coerced", "coerced_day"]
            + [f"peak_{actor_ids[i]}_{actor_ids[j]}" for i, j in pairs]
            + ["casualties", "peak_index", "final_index"]
            + [f"peak_index_{s}" for s in SCHEMES] + ["path"])
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(cols)
    return line.getvalue()


def csv_rows(summary: dict, pairs: list[tuple[int, int]]) -> str:
    """runs.csv lines for a batch summary (fixed formats: byte-stable output).

    Formatted by a template rather than the csv module, for speed: every field
    is safe by construction (numbers, outcome names, and paths of digits and
    ``-``), so no field ever needs quoting. Actor ids appear only in the
    header, and the scenario schema restricts them to letters and digits.
    ``summary["success"]`` is ``World.success``: the run's first day of a
    coercer's success and how, written as ``coerced`` and ``coerced_day``.
    """
    n_first, n_schemes = summary["first"].shape[1], summary["peak_by_scheme"].shape[1]
    sets = "set" in summary
    line = ",".join(["%d"] * sets + ["%d", "%s"] + ["%s"] * (n_first + 2) + ["%d"] * len(pairs)
                    + ["%d", "%.4f", "%.4f"] + ["%.4f"] * n_schemes + ["%s"]) + "\n"
    pi, pj = [i for i, _ in pairs], [j for _, j in pairs]
    firsts = [["" if d < 0 else str(d) for d in row] for row in summary["first"].tolist()]
    coerced = [(COERCED[how], "" if day < 0 else str(day))
               for day, how in summary["success"].tolist()]
    columns = zip(summary["set"].tolist() if sets else [()] * len(firsts),
                  summary["run"].tolist(), summary["outcome"].tolist(), firsts, coerced,
                  summary["peak"][:, pi, pj].tolist(), summary["casualties"].tolist(),
                  summary["peak_index"].tolist(), summary["final_index"].tolist(),
                  summary["peak_by_scheme"].tolist(), summary["path"], strict=True)
    return "".join(line % (*([group] if sets else ()), run, OUTCOMES[outcome], *first, *how,
                           *peaks, casualties, peak, final, *by_scheme, path)
                   for group, run, outcome, first, how, peaks, casualties, peak, final,
                   by_scheme, path in columns)


def new_aggregate(model: EscalationModel) -> Aggregate:
    """An empty aggregate whose bins depend on the scenario only."""
    edges = [index_edges(model.tables.score[:, s], model.n_actors, len(model.seats),
                         model.spec.memory.decay,
                         float(model.indices[0, s]) if model.n_runs else 0.0)
             for s in range(len(SCHEMES))]
    return Aggregate(model.horizon, len(state_pairs(model.crisis)), np.stack(edges),
                     model.n_actors)


def move_codes(model: EscalationModel) -> np.ndarray:
    """Today's move of every actor in every run as a :data:`~sim.ensemble.aggregate.MOVES` code."""
    category = np.concatenate([[0], model.catalogue.category + 1])  # code 0: no move
    return category[model.records.action + 1]


MODEL_BATCH = 5_000
"""Runs simulated together by one model inside a chunk. Any size gives the same
results; this one spreads the per-day Python work over many runs while the
batch's state stays small (about 2 MB for four actors)."""


def run_chunk(job: Job, start: int, stop: int) -> Chunk:
    """Simulate run positions ``start .. stop - 1`` of ``job``."""
    rows, aggregate, trajectories, saved, by_set, coerced, crossed = ([], None, {}, [], None,
                                                                      None, None)
    if job.runs_per_set:
        first_set = start // job.runs_per_set
        n_sets = (stop - 1) // job.runs_per_set - first_set + 1
        by_set = (first_set, np.zeros((n_sets, len(OUTCOMES)), dtype=np.int64))
        coerced = np.zeros((n_sets, len(COERCED)), dtype=np.int64)
        crossed = np.zeros((n_sets, 2, len(THRESHOLDS)), dtype=np.int64)
    for first in range(start, stop, MODEL_BATCH):
        positions = np.arange(first, min(first + MODEL_BATCH, stop))
        batch_rows, agg, kept, part, summary = _run_batch(job, positions)
        rows.append(batch_rows)
        aggregate = agg if aggregate is None else aggregate.merge(agg)
        trajectories.update(kept)
        saved += part
        if by_set is not None:
            np.add.at(by_set[1], (summary["set"] - by_set[0], summary["outcome"]), 1)
            np.add.at(coerced, (summary["set"] - by_set[0], summary["success"][:, 1]), 1)
            # integer sums, so a set's mean first day is exact however runs are chunked
            hit = summary["first"] >= 0
            np.add.at(crossed[:, 0], summary["set"] - by_set[0], hit)
            np.add.at(crossed[:, 1], summary["set"] - by_set[0], np.where(hit, summary["first"], 0))
    return Chunk(start, stop, "".join(rows), aggregate, trajectories, saved, by_set, coerced,
                 crossed)


def _run_batch(job: Job, positions: np.ndarray):
    """One model over run ``positions``: rows, aggregate, kept trajectories, saved state."""
    model = job.model(positions)
    pairs = state_pairs(job.scenario)
    pi, pj = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    agg = new_aggregate(model)
    kept = np.nonzero(positions < job.keep)[0]
    index, levels = [], []
    for day in range(model.day + 1):  # before a saved state's day: its runs' common past
        known = model.on_day(day)
        if known is not None:
            agg.observe_day(day, known[0], known[1][:, pi, pj])
        index.append(np.full((len(kept), len(SCHEMES)), np.nan) if known is None
                     else known[0][kept].copy())
        levels.append(np.zeros((len(kept),) + model.level.shape[1:], np.int8) if known is None
                      else known[1][kept].copy())
    saved = []
    if job.save_day == model.day:
        saved.append(SavedState.of(model))
        model.forget_past()
    while model.day < model.horizon:
        model.step()
        agg.observe_day(model.day, model.indices, model.level[:, pi, pj], move_codes(model))
        index.append(model.indices[kept].copy())
        levels.append(model.level[kept])
        if job.save_day == model.day:
            saved.append(SavedState.of(model))
            model.forget_past()  # kept for the state only
    summary = model.summary()
    if job.runs_per_set:
        summary["set"] = model.set_of + job.first_set
    agg.observe_runs(summary["outcome"], summary["first"], summary["success"],
                     summary["casualties"], summary["path"])
    index, levels = np.stack(index, axis=1), np.stack(levels, axis=1)[:, :, pi, pj]
    trajectories = {int(positions[k]): Trajectory(index[n], levels[n])
                    for n, k in enumerate(kept)}
    return csv_rows(summary, pairs), agg, trajectories, saved, summary
