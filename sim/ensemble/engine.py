"""The ensemble engine's unit of work: one chunk of consecutive runs.

:func:`run_chunk` is a pure function of (scenario, seed, first and last run,
days, how many runs keep trajectories). It returns the chunk's rows of
``runs.csv`` already formatted, its mergeable :class:`~sim.ensemble.aggregate.Aggregate`,
and the index trajectories of kept runs. Because each run's randomness depends
only on (seed, run index), the concatenated rows and the merged counts are
identical however the runs are cut into chunks and wherever chunks run.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from sim.ensemble.aggregate import Aggregate, Trajectory, index_edges
from sim.inputs.catalogue import SCHEMES
from sim.inputs.scenario import Scenario
from sim.model import kernels
from sim.model.model import HOLD, EscalationModel
from sim.model.outcomes import OUTCOMES, THRESHOLDS, state_pairs


@dataclass
class Chunk:
    """What one chunk of runs produced."""

    start: int
    stop: int
    rows: str
    aggregate: Aggregate
    trajectories: dict[int, Trajectory] = field(default_factory=dict)


def csv_header(actor_ids: list[str], pairs: list[tuple[int, int]]) -> str:
    """The header line of runs.csv, written by the csv module (quoted wherever a name needs it)."""
    cols = (["run", "outcome"] + [f"first_{t}" for t in THRESHOLDS]
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
    """
    n_first, n_schemes = summary["first"].shape[1], summary["peak_by_scheme"].shape[1]
    line = ",".join(["%d", "%s"] + ["%s"] * n_first + ["%d"] * len(pairs)
                    + ["%d", "%.4f", "%.4f"] + ["%.4f"] * n_schemes + ["%s"]) + "\n"
    pi, pj = [i for i, _ in pairs], [j for _, j in pairs]
    firsts = [["" if d < 0 else str(d) for d in row] for row in summary["first"].tolist()]
    columns = zip(summary["run"].tolist(), summary["outcome"].tolist(), firsts,
                  summary["peak"][:, pi, pj].tolist(), summary["casualties"].tolist(),
                  summary["peak_index"].tolist(), summary["final_index"].tolist(),
                  summary["peak_by_scheme"].tolist(), summary["path"], strict=True)
    return "".join(line % (run, OUTCOMES[outcome], *first, *peaks, casualties, peak, final,
                           *by_scheme, path)
                   for run, outcome, first, peaks, casualties, peak, final, by_scheme, path
                   in columns)


def new_aggregate(model: EscalationModel) -> Aggregate:
    """An empty aggregate whose bins depend on the scenario only."""
    seats = len(model.council.members) if model.council is not None else 0
    edges = [index_edges(model.score_table[:, s], model.n_actors, seats,
                         model.spec.memory.decay,
                         float(model.indices[0, s]) if model.n_runs else 0.0)
             for s in range(len(SCHEMES))]
    return Aggregate(model.horizon, len(state_pairs(model.crisis)), np.stack(edges),
                     model.n_actors)


def move_codes(model: EscalationModel) -> np.ndarray:
    """Today's move of every actor in every run as a :data:`~sim.ensemble.aggregate.MOVES` code."""
    category = model.catalogue.category + 1  # code 0 is MOVES[0], no move
    codes = np.zeros((model.n_runs, model.n_actors), dtype=np.int64)
    for i, (action, _) in model.choices.items():
        codes[:, i] = np.where(action == HOLD, 0, category[action])
    return codes


def model_batch() -> int:
    """Runs simulated together by one model inside a chunk.

    Any size gives the same results. With the numpy decision step about 2,000
    keeps its (runs x candidates) arrays in the processor's caches (measured:
    940 runs/s per process at 2,000, 660 at 10,000); the compiled step has no
    such arrays, and a larger batch spreads numpy's per-call costs over more
    runs (3,500 runs/s at 5,000, 3,350 at 2,000, 3,200 at 10,000).
    """
    return 5_000 if kernels.enabled() else 2_000


def run_chunk(scenario: Scenario, seed: int, start: int, stop: int, days: int,
              keep: int = 0) -> Chunk:
    """Simulate runs ``start .. stop - 1``; keep the trajectories of runs below ``keep``."""
    rows, aggregate, trajectories = [], None, {}
    batch = model_batch()
    for first in range(start, stop, batch):
        ids = np.arange(first, min(first + batch, stop))
        batch_rows, agg, kept = _run_batch(scenario, seed, ids, days, keep)
        rows.append(batch_rows)
        aggregate = agg if aggregate is None else aggregate.merge(agg)
        trajectories.update(kept)
    return Chunk(start, stop, "".join(rows), aggregate, trajectories)


def _run_batch(scenario: Scenario, seed: int, ids: np.ndarray, days: int, keep: int):
    """One model over runs ``ids``: its rows, aggregate and kept trajectories."""
    model = EscalationModel(scenario, runs=ids, seed=seed, days=days)
    pairs = state_pairs(scenario)
    pi, pj = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    agg = new_aggregate(model)
    kept = np.nonzero(ids < keep)[0]
    index, levels = [model.indices[kept].copy()], [model.level[kept][:, pi, pj]]
    agg.observe_day(0, model.indices, model.level[:, pi, pj])
    while model.day < model.horizon:
        model.step()
        agg.observe_day(model.day, model.indices, model.level[:, pi, pj], move_codes(model))
        index.append(model.indices[kept].copy())
        levels.append(model.level[kept][:, pi, pj])
    summary = model.tracker.summary(model)
    agg.observe_runs(summary["outcome"], summary["first"], summary["casualties"],
                     summary["path"])
    index, levels = np.stack(index, axis=1), np.stack(levels, axis=1)
    trajectories = {int(ids[k]): Trajectory(index[n], levels[n]) for n, k in enumerate(kept)}
    return csv_rows(summary, pairs), agg, trajectories
