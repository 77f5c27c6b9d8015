"""Charts of a results folder (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sim.montecarlo import Ensemble  # noqa: E402

# Okabe-Ito colour-blind-safe palette
BLUE, ORANGE, GREY = "#0072B2", "#E69F00", "#555555"

SCHEME_LABELS = {
    "rivera": "Rivera et al. 2024 severity classes",
    "goldstein": "Goldstein conflict (negated weight)",
    "mid": "MID hostility level above 1",
    "ladder": "Kahn escalation-ladder rung",
}


def fan_chart(ensemble: Ensemble, path: Path, samples: int = 5):
    """Escalation index over days: median, 50% and 90% bands, a few sample runs.

    Quantiles come from the ensemble's per-day histograms, sample paths from
    the runs whose trajectories were kept (the lowest run indices).
    """
    q05, q25, q50, q75, q95 = ensemble.aggregate.index_quantiles(
        [0.05, 0.25, 0.5, 0.75, 0.95]).T
    days = np.arange(len(q50))
    sample_paths = [ensemble.trajectories[k] for k in sorted(ensemble.trajectories)[:samples]]
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    ax.fill_between(days, q05, q95, color=BLUE, alpha=0.18, label="90% of runs")
    ax.fill_between(days, q25, q75, color=BLUE, alpha=0.35, label="50% of runs")
    for k, trace in enumerate(sample_paths):
        ax.plot(days, trace, color=GREY, lw=0.7, alpha=0.6,
                label="sample runs" if k == 0 else None)
    ax.plot(days, q50, color=ORANGE, lw=2.2, label="median")
    scheme = ensemble.scenario.spec.scoring
    ax.set_title(f"How tense could it get? Escalation index, {ensemble.scenario.spec.title}",
                 fontsize=11)
    ax.set_xlabel("days after the article (day 0)")
    ax.set_ylabel(f"escalation index\n({SCHEME_LABELS[scheme]}, decayed sum)")
    ax.set_xlim(0, days[-1])
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.grid(alpha=0.25)
    fig.text(0.01, 0.01, f"scenario {ensemble.scenario.name} | {ensemble.n_runs:,} runs | "
             f"seed {ensemble.seed}", fontsize=7, color=GREY)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return path
