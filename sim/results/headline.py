"""Headline numbers of an ensemble, computed from its integer counts.

Shares with intervals, first-day quantiles and the coercer's success, as
``summary.json``, the report and ``escsim run`` give them.
"""

from __future__ import annotations

import numpy as np

from sim.stats import wilson_interval

CHECKPOINT_DAYS = (7, 14, 30)
"""Days at which summary.json reports the probability of having crossed each threshold."""

def share(count: int, n: int) -> dict:
    """``count`` of ``n`` runs: the count, its share and the share's 95% Wilson interval."""
    lo, hi = wilson_interval(count, n)
    return {"runs": count, "probability": round(count / n, 6),
            "ci95": [round(lo, 6), round(hi, 6)]}


def first_day_quantile(counts: np.ndarray, q: float) -> int | None:
    """Quantile ``q`` of the days of the runs counted in ``counts`` (runs per day).

    The day of rank ceil(q (hit + 1)), at most ``hit``, among the ``hit`` runs
    in day order (for ``q`` 0.5, the median; the upper one of an even count);
    None without runs.
    """
    hit = int(counts.sum())
    if not hit:
        return None
    return int(np.searchsorted(np.cumsum(counts), min(q * (hit + 1), hit)))


def coercion(agg, days: int) -> dict:
    """The coercer's success, ``summary.json``'s ``coercion``.

    Per kind and for ``any``: the share of runs with its 95% Wilson interval,
    the median and quartiles of its first day among those runs, and its
    Kaplan-Meier probability by each checkpoint day.
    """
    out = {}
    kinds = agg.success_counts()
    curves = agg.crossing_curves(np.stack(list(kinds.values())))
    for k, (name, counts) in enumerate(kinds.items()):
        out[name] = {**share(int(counts[:-1].sum()), agg.runs),
                     "median_first_day": first_day_quantile(counts[:-1], 0.5),
                     "first_day_quartiles": [first_day_quantile(counts[:-1], q)
                                             for q in (0.25, 0.75)],
                     "by_day": {str(d): round(float(curves[k, d]), 6)
                                for d in checkpoints(days)}}
    return out


def coercion_line(numbers: dict) -> str:
    """The coercer's success in one line, from ``summary.json``'s ``coercion``.

    Shares of runs with 95% intervals: any kind, then compliance and a government's fall.
    """
    def pct(row, label=""):
        lo, hi = row["ci95"]
        return f"{row['probability']:.1%} [{label}{100 * lo:.1f}-{hi:.1%}]"
    return (f"coercer's aim reached: {pct(numbers['any'], '95% CI ')} (target complied "
            f"{pct(numbers['complied'])}, government fell {pct(numbers['government_fell'])})")


def checkpoints(days: int) -> list[int]:
    """The days of :data:`CHECKPOINT_DAYS` within a horizon of ``days``, and the horizon."""
    return [d for d in CHECKPOINT_DAYS if d < days] + [days]
