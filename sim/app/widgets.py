"""Components the Explore, Play and Class pages share.

Charts are drawn with matplotlib's object interface (a ``Figure`` of its own,
never pyplot's global state): pages draw from several threads at once, one per
browser tab, and the Play timer's thread.
"""

from __future__ import annotations

import io

import numpy as np
import solara
from matplotlib.figure import Figure

from sim.app import config
from sim.model.outcomes import state_pairs
from sim.results import plots


@solara.component
def ScenarioPicker(value: str, on_value, label: str = "scenario"):
    """A choice among the scenarios of the page (``config.scenario_names()``), never a path."""
    solara.Select(label=label, values=config.scenario_names(), value=value, on_value=on_value,
                  classes=["escsim-scenario"])


def levels_figure(scenario, levels: np.ndarray, horizon: int, title: str = "") -> Figure:
    """Escalation rung of each pair of states by day, one line per pair that left rung 0.

    ``levels`` is (days so far + 1, actors, actors) from day 0; the day axis
    runs to ``horizon`` so the chart grows as the days pass.
    """
    ids = scenario.actor_ids
    fig = Figure(figsize=(8, 3.6), dpi=100)
    ax = fig.subplots()
    days = np.arange(len(levels))
    moved = [(i, j) for i, j in state_pairs(scenario) if levels[:, i, j].any()]
    for k, (i, j) in enumerate(moved):
        ax.step(days, levels[:, i, j], where="post", lw=2,
                color=plots.SERIES[k % len(plots.SERIES)],
                ls=("-", "--", ":")[k // len(plots.SERIES) % 3], label=f"{ids[i]} against {ids[j]}")
    ax.set_xlim(0, horizon)
    ax.set_ylim(-0.3, 7.3)
    ax.set_yticks(range(8))
    ax.set_xlabel("day")
    ax.set_ylabel("escalation rung (0 calm .. 7 war)")
    calm = len(state_pairs(scenario)) - len(moved)
    ax.set_title(title + (f" ({calm} pairs at rung 0 not drawn)" if calm else ""), fontsize=10)
    if moved:
        ax.legend(loc="upper left", fontsize=7, frameon=False, ncol=2)
    ax.grid(alpha=0.25)
    fig.tight_layout()
    return fig


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes (no timestamp: the same figure gives the same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


@solara.component
def LevelsChart(scenario, levels: np.ndarray, horizon: int, title: str = ""):
    """:func:`levels_figure` as an image, redrawn when the levels change."""
    data = solara.use_memo(lambda: figure_png(levels_figure(scenario, levels, horizon, title)),
                           [id(scenario), levels.shape, levels.tobytes(), horizon, title])
    Png(data, classes=["escsim-levels"])


@solara.component
def Png(data: bytes, classes: list | None = None):
    """PNG bytes as an image that fits the page's width (and a phone's)."""
    solara.Image(data, format="png", width="100%", classes=classes or [])


@solara.component
def StoryLines(days: list, newest_first: bool = True, classes: list | None = None):
    """A crisis told day by day: ``days`` is [(day, lines)], as ``escsim story`` words it."""
    told = [(d, lines) for d, lines in days if lines]
    if newest_first:
        told = told[::-1]
    text = "\n".join(f"day {d}\n" + "\n".join(f"  {line}" for line in lines)
                     for d, lines in told) or "nothing happened yet"
    solara.Preformatted(text, class_=" ".join(["escsim-story", *(classes or [])]),
                        style_="white-space: pre-wrap; font-size: 0.85rem; max-height: 20rem;"
                               " overflow-y: auto;")
