"""Charts of a results folder (matplotlib, headless), each saved as PNG and SVG.

Every chart is drawn from a :class:`~sim.results.resultset.ResultSet` alone (counts
and a few kept runs), so ``escsim plot`` can redraw them without re-running.
Each drawing function returns the matplotlib Figure; :func:`draw_all` saves
them. Colours are the Okabe-Ito palette, which stays distinguishable with
the common colour-vision deficiencies.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# Titles and actor names are the user's text: a "$" in them is a dollar, not mathtext
# (an unbalanced "$" would otherwise stop the drawing with a parse error).
matplotlib.rcParams["text.parse_math"] = False
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.ensemble.aggregate import MAX_LEVEL, MOVES  # noqa: E402
from sim.limits import MAX_PANELS  # noqa: E402
from sim.model.outcomes import OUTCOMES, THRESHOLDS  # noqa: E402
from sim.stats import kaplan_meier, wilson_interval  # noqa: E402

# Okabe-Ito colour-blind-safe palette
BLACK, ORANGE, SKY, GREEN = "#000000", "#E69F00", "#56B4E9", "#009E73"
YELLOW, BLUE, VERMILLION, PURPLE = "#F0E442", "#0072B2", "#D55E00", "#CC79A7"
GREY = "#555555"
SERIES = (BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY, BLACK)
"""Colours for scenarios or thresholds drawn side by side."""

OUTCOME_COLOURS = dict(zip(OUTCOMES, (GREEN, SKY, ORANGE, VERMILLION, PURPLE), strict=True))
MOVE_COLOURS = dict(zip(MOVES, ("#DDDDDD", GREEN, SKY, BLUE, ORANGE, VERMILLION), strict=True))
THRESHOLD_LABELS = {
    "deescalated": "settled down (de-escalated)",
    "militarized_clash": "militarized clash",
    "war": "war",
    "great_power_confrontation": "great-power confrontation",
}
SCHEME_LABELS = {
    "rivera": "Rivera et al. 2024 severity classes",
    "goldstein": "Goldstein conflict (negated weight)",
    "mid": "MID hostility level above 1",
    "ladder": "Kahn escalation-ladder rung",
}


@dataclass(frozen=True)
class Chart:
    """One chart of the report: file name, drawing function, how to read it."""

    name: str
    draw: Callable
    how_to_read: str


def footer(fig: Figure, text: str):
    """Small grey provenance line at the bottom left of a figure."""
    fig.text(0.01, 0.01, text, fontsize=7, color=GREY)


def provenance(rs) -> str:
    """Footer text: scenario, runs, seed and scoring scheme."""
    return (f"scenario {rs.name} | {rs.runs:,} runs x {rs.days} days | seed {rs.seed} | "
            f"index scored by {SCHEME_LABELS[rs.scheme]}")


def _finish(fig: Figure, rs, text: str | None = None) -> Figure:
    footer(fig, text or provenance(rs))
    fig.tight_layout(rect=(0, 0.035, 1, 1))
    return fig


def suptitle(fig: Figure, text: str, **kw):
    """A figure title a fixed 0.1 inch below the top edge.

    Matplotlib's default, 2% of the height down, is more than tight_layout
    leaves room for on a tall grid of panels: the title would overlap them.
    """
    fig.suptitle(text, fontsize=11, y=1 - 0.1 / fig.get_figheight(), **kw)


def _days(rs) -> np.ndarray:
    return np.arange(rs.days + 1)


# ------------------------------------------------------------------ the charts ----------

def fan_chart(rs, samples: int = 5) -> Figure:
    """Escalation index over days: median, 50% and 90% bands, a few sample runs."""
    q05, q25, q50, q75, q95 = rs.aggregate.index_quantiles(
        [0.05, 0.25, 0.5, 0.75, 0.95], rs.scheme_row).T
    days = _days(rs)
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    ax.fill_between(days, q05, q95, color=BLUE, alpha=0.18, label="90% of runs")
    ax.fill_between(days, q25, q75, color=BLUE, alpha=0.35, label="50% of runs")
    for k, run in enumerate(sorted(rs.trajectories)[:samples]):
        ax.plot(days, rs.trajectories[run].index[:, rs.scheme_row], color=GREY, lw=0.7,
                alpha=0.6, label="sample runs" if k == 0 else None)
    ax.plot(days, q50, color=ORANGE, lw=2.2, label="median")
    ax.set_title(f"How tense could it get? Escalation index, {rs.title}", fontsize=11)
    ax.set_xlabel("days after the article (day 0)")
    ax.set_ylabel(f"escalation index\n({SCHEME_LABELS[rs.scheme]}, decayed sum)")
    ax.set_xlim(0, days[-1])
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.grid(alpha=0.25)
    return _finish(fig, rs)


def small_multiples(n: int, cols: int, size: tuple[float, float], extra: float,
                    ylabel: str, xlim: tuple, ylim: tuple) -> tuple[Figure, list]:
    """A grid of ``n`` panels on the same axes ``xlim`` and ``ylim``, filled row by row.

    Spare slots are hidden. Panels in the first column carry ``ylabel`` and
    the y tick labels; every panel with no panel below it carries the day
    axis. The limits are set on each panel rather than shared: matplotlib's
    shared axes cost time quadratic in the number of panels.
    """
    cols = min(cols, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows + extra),
                             dpi=110, squeeze=False)
    panels = list(axes.flat)
    for ax in panels[n:]:
        ax.set_visible(False)
    for k, ax in enumerate(panels[:n]):
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.tick_params(labelleft=k % cols == 0, labelbottom=k >= n - cols)
        if k % cols == 0:
            ax.set_ylabel(ylabel, fontsize=8)
        if k >= n - cols:
            ax.set_xlabel("days after the article", fontsize=8)
    return fig, panels[:n]


def shown_panels(order: np.ndarray) -> list[int]:
    """Which items get a panel, given their ranking ``order``.

    Up to :data:`MAX_PANELS` items, all of them in their own order; past it,
    the first :data:`MAX_PANELS` of the ranking, in rank order.
    """
    if len(order) <= MAX_PANELS:
        return list(range(len(order)))
    return [int(k) for k in order[:MAX_PANELS]]


def ranked_pairs(agg) -> np.ndarray:
    """Pair indices, the highest peak level first.

    A pair's peak level is the top of its chart's 90% band at its highest:
    the highest rung that more than 5% of runs reach on the same day (a single
    run's excursion does not count). Ties go to the higher mean level over
    all days and runs, then to the pair that comes first in ``runs.csv``.
    """
    # rung by rung from the top, in integers: exact, and no array larger than (days, pairs)
    peak = np.zeros(agg.levels.shape[1], dtype=np.int64)
    at_or_above = np.zeros(agg.levels.shape[:2], dtype=np.int64)
    for rung in range(MAX_LEVEL, 0, -1):
        at_or_above += agg.levels[:, :, rung]
        reached = (20 * at_or_above > agg.runs).any(axis=0)
        peak = np.where((peak == 0) & reached, rung, peak)
    level_days = agg.levels.sum(axis=0) @ np.arange(MAX_LEVEL + 1)
    return np.lexsort((np.arange(len(peak)), -level_days, -peak))


def ranked_actors(agg) -> np.ndarray:
    """Actor indices, the most days of coercion or force (summed over runs) first.

    Ties go to the most moves of any kind, then to the actor listed first.
    """
    counts = agg.moves[1:].sum(axis=0)  # day 0 holds the seed events, not decisions
    harsh = counts[:, [MOVES.index("coercion"), MOVES.index("force")]].sum(axis=1)
    active = counts.sum(axis=1) - counts[:, MOVES.index("hold")]
    return np.lexsort((np.arange(len(harsh)), -active, -harsh))


def shown_note(shown: list[int], total: int, noun: str, criterion: str, where: str) -> str:
    """A title's second line saying which panels a capped chart leaves out, or nothing."""
    if len(shown) == total:
        return ""
    return f"\n(showing the {len(shown)} of {total:,} {noun} {criterion}; all are in {where})"


def pair_levels(rs, samples: int = 3) -> Figure:
    """Each directed state pair's escalation rung over days, as small multiples."""
    shown = shown_panels(ranked_pairs(rs.aggregate))
    view = copy.copy(rs.aggregate)  # quantiles of the shown pairs only: the rest are not drawn
    view.levels = rs.aggregate.levels[:, shown]
    q = view.level_quantiles([0.05, 0.25, 0.5, 0.75, 0.95])
    mean = view.mean_levels()
    days = _days(rs)
    fig, panels = small_multiples(len(shown), 3, (3.6, 2.7), 0.6, "escalation rung (0-7)",
                                  (0, days[-1]), (-0.3, MAX_LEVEL + 0.3))
    for p, (pair, ax) in enumerate(zip(shown, panels, strict=True)):
        ax.fill_between(days, q[:, p, 0], q[:, p, 4], step="mid", color=BLUE, alpha=0.18,
                        label="90% of runs")
        ax.fill_between(days, q[:, p, 1], q[:, p, 3], step="mid", color=BLUE, alpha=0.35,
                        label="50% of runs")
        for k, run in enumerate(sorted(rs.trajectories)[:samples]):
            ax.step(days, rs.trajectories[run].levels[:, pair], where="mid", color=GREY, lw=0.6,
                    alpha=0.6, label="sample runs" if k == 0 else None)
        ax.step(days, q[:, p, 2], where="mid", color=ORANGE, lw=1.8, label="median")
        ax.plot(days, mean[:, p], color=BLACK, lw=1, ls="--", label="mean")
        a, b = rs.pairs[pair].split("-")
        ax.set_title(f"{a} against {b}", fontsize=9)
        ax.set_yticks(range(MAX_LEVEL + 1))
        ax.grid(alpha=0.25)
    panels[0].legend(loc="upper right", fontsize=6, frameon=False)
    suptitle(fig, "Who escalates against whom? Escalation rung of each pair of states"
             + shown_note(shown, len(rs.pairs), "pairs", "with the highest peak levels",
                        "runs.csv"))
    return _finish(fig, rs)


def outcome_chart(rs) -> Figure:
    """Probability of each outcome class with its 95% Wilson interval."""
    counts = rs.aggregate.outcomes
    n = rs.runs
    p = counts / max(n, 1)
    ci = np.array([wilson_interval(int(c), n) for c in counts])
    fig, ax = plt.subplots(figsize=(8, 3.8), dpi=110)
    y = np.arange(len(OUTCOMES))[::-1]
    ax.barh(y, p, color=[OUTCOME_COLOURS[o] for o in OUTCOMES], height=0.6)
    ax.errorbar(p, y, xerr=error_bars(p, ci), fmt="none", ecolor=BLACK, capsize=4,
                lw=1.2, label="95% interval")
    for k in range(len(OUTCOMES)):
        ax.text(ci[k, 1] + 0.01, y[k], f"{p[k]:.1%}  [{ci[k, 0]:.1%}, {ci[k, 1]:.1%}]",
                va="center", fontsize=8)
    ax.set_yticks(y, OUTCOMES)
    ax.set_xlim(0, min(1.0, max(ci[:, 1].max() + 0.25, 0.3)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of runs ending in this outcome")
    ax.set_title(f"How does it end after {rs.days} days? Outcome probabilities", fontsize=11)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.25)
    return _finish(fig, rs)


def error_bars(values: np.ndarray, ci: np.ndarray) -> np.ndarray:
    """Matplotlib ``xerr`` (below, above) for intervals ``ci`` (n, 2) around ``values``."""
    return np.maximum(0.0, [values - ci[:, 0], ci[:, 1] - values])


def greenwood_band(events: np.ndarray, censored: np.ndarray, z: float = 1.96):
    """Kaplan-Meier survival and its pointwise 95% band (Greenwood's variance)."""
    s = kaplan_meier(events, censored)
    events = np.asarray(events, dtype=float)
    at_risk = events.sum() + censored.sum() - np.concatenate(
        ([0.0], np.cumsum(events + censored)[:-1]))
    denom = at_risk * (at_risk - events)
    term = np.divide(events, denom, out=np.zeros_like(events), where=denom > 0)
    se = s * np.sqrt(np.cumsum(term))
    return s, np.clip(s - z * se, 0, 1), np.clip(s + z * se, 0, 1)


COERCION_LABEL = "coercer's aim reached: the target complied or its government fell"
"""The thresholds chart's dashed curve: not a threshold, a record beside the classes."""


def cumulative_curve(ax, days: np.ndarray, row: np.ndarray, colour: str, label: str,
                     style: str = "-"):
    """Draw the Kaplan-Meier share of runs that got there by each day, with its band.

    ``row`` counts the runs per first day, then (last) the runs that never got
    there, censored at the horizon.
    """
    censored = np.zeros(len(days))
    censored[-1] = row[-1]
    s, lo, hi = greenwood_band(row[:-1], censored)
    ax.step(days, 1 - s, where="post", color=colour, lw=2, ls=style, label=label)
    ax.fill_between(days, 1 - hi, 1 - lo, step="post", color=colour, alpha=0.15)


def threshold_curves(rs) -> Figure:
    """Cumulative probability of crossing each threshold by day (Kaplan-Meier).

    Dashed, the same for the coercer's success, when the results record it.
    """
    agg = rs.aggregate
    days = _days(rs)
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    for k, name in enumerate(THRESHOLDS):
        cumulative_curve(ax, days, agg.first[k], SERIES[k],
                         f"{THRESHOLD_LABELS[name]}: {rs.thresholds[name]}")
    if agg.success is not None:
        cumulative_curve(ax, days, agg.success_counts()["any"], BLACK, COERCION_LABEL, "--")
    ax.set_xlim(0, rs.days)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("days after the article (day 0)")
    ax.set_ylabel("share of runs that have crossed it")
    ax.set_title("When are the thresholds crossed? Cumulative probability by day",
                 fontsize=11)
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.grid(alpha=0.25)
    return _finish(fig, rs, provenance(rs) + " | shaded: 95% interval (Greenwood)")


def action_mix(rs) -> Figure:
    """Each actor's moves over time, as shares of runs by kind of action."""
    moves = rs.aggregate.moves[1:]  # day 0 is the seed events, not a decision
    days = _days(rs)[1:]
    shown = shown_panels(ranked_actors(rs.aggregate))
    fig, panels = small_multiples(len(shown), 2, (5.2, 2.6), 0.8, "share of runs",
                                  (days[0], days[-1]), (0, 1))
    ids = list(rs.actors)
    for a, ax in zip(shown, panels, strict=True):
        counts = moves[:, a, :].astype(float)
        shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        ax.stackplot(days, shares.T, colors=[MOVE_COLOURS[m] for m in MOVES],
                     labels=[("no move" if m == "hold" else m) for m in MOVES])
        ax.set_title(rs.actors[ids[a]], fontsize=9)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    handles, labels = panels[0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="upper right", fontsize=7, frameon=False,
               ncol=len(MOVES))
    suptitle(fig, "What does each actor do? Kind of move per day"
             + shown_note(shown, len(ids), "actors", "that used coercion or force most",
                        "aggregate.npz"),
             x=0.01, ha="left")
    return _finish(fig, rs)


def common_paths(rs, top: int = 10) -> Figure:
    """The most frequent escalation paths (daily top rung, repeats dropped)."""
    ranked = rs.aggregate.top_paths(top)
    n = max(rs.runs, 1)
    fig, ax = plt.subplots(figsize=(9, 0.42 * max(len(ranked), 3) + 1.6), dpi=110)
    y = np.arange(len(ranked))[::-1]
    shares = np.array([c / n for _, c in ranked])
    ends = [int(path.split("-")[-1]) for path, _ in ranked]
    kinds = {"ends calm (rung 0-1)": BLUE, "ends tense (rung 2-5)": ORANGE,
             "ends in a clash or war (rung 6-7)": VERMILLION}
    colours = [list(kinds.values())[0 if e <= 1 else 1 if e < 6 else 2] for e in ends]
    ax.barh(y, shares, color=colours, height=0.6)
    # explicit patches: an empty bar series has no bar to lend its colour to the legend
    ax.legend(handles=[Patch(color=colour, label=label) for label, colour in kinds.items()],
              loc="lower right", fontsize=8, frameon=False)
    labels = [" \u2192 ".join(path.split("-")) for path, _ in ranked]
    ax.set_yticks(y, labels, fontsize=8, family="monospace")
    for k in range(len(ranked)):
        ax.text(shares[k] + 0.003, y[k], f"{shares[k]:.1%}", va="center", fontsize=8)
    ax.set_xlim(0, max(shares.max() * 1.2, 0.05) if len(shares) else 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of runs that followed this path")
    ax.set_ylabel("path of the highest rung between states\n(one number per change)")
    covered = shares.sum() if len(shares) else 0.0
    ax.set_title(f"Most common escalation paths (top {len(ranked)}: {covered:.0%} of runs; "
                 f"{len(rs.aggregate.paths):,} distinct)", fontsize=11)
    ax.grid(axis="x", alpha=0.25)
    return _finish(fig, rs)


CHARTS = (
    Chart("fan_chart", fan_chart,
          "The orange line is the median run; the dark band holds half of all runs and the "
          "light band 90%; grey lines are individual runs. A wide fan means an open future."),
    Chart("pair_levels", pair_levels,
          "One panel per pair of states: how high up the 0-7 escalation ladder the first "
          "state stands against the second, day by day (median, bands, mean dashed). Past "
          f"{MAX_PANELS} pairs, the {MAX_PANELS} with the highest peak levels."),
    Chart("outcomes", outcome_chart,
          "Each bar is the share of runs ending in that outcome; the whisker is its 95% "
          "interval: with more runs it narrows."),
    Chart("thresholds", threshold_curves,
          "Each curve climbs when runs cross a threshold for the first time; its height at a "
          "day is the probability of having crossed it by then. The dashed curve is the "
          "same for the coercer's success (the target complied or its government fell)."),
    Chart("action_mix", action_mix,
          "For each actor and day, the share of runs in which it made each kind of move, "
          "from no move (light grey) to the use of force (red). Past "
          f"{MAX_PANELS} actors, the {MAX_PANELS} that used coercion or force most."),
    Chart("common_paths", common_paths,
          "Each row is a sequence of escalation rungs a run went through (0 calm .. 7 war) "
          "and the share of runs that followed exactly that sequence."),
)


def save(fig: Figure, folder: Path, name: str) -> list[Path]:
    """Save ``fig`` as ``name.png`` and ``name.svg`` in ``folder``; close it."""
    paths = [folder / f"{name}.png", folder / f"{name}.svg"]
    fig.savefig(paths[0], metadata={"Software": None})
    fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    return paths


def draw_all(charts, folder: Path, *data) -> dict[str, Path]:
    """Draw every chart of ``charts`` from ``data`` into ``folder``; return each PNG path."""
    folder.mkdir(parents=True, exist_ok=True)
    with plt.rc_context({"svg.hashsalt": "escsim", "svg.fonttype": "none"}):
        return {chart.name: save(chart.draw(*data), folder, chart.name)[0]
                for chart in charts}
