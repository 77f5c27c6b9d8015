"""The Explore page: sliders on a scenario, one crisis day by day, and 1,000 runs of it.

Everything the page computes goes through the model core: the sliders are a
:class:`~sim.model.params.ParameterSets` of one set (the paths of ``escsim run
--set``); the crisis is one :class:`~sim.model.model.EscalationModel` of run K,
told by :func:`sim.model.story.day_lines`; "Run 1,000" is
:func:`~sim.ensemble.montecarlo.run_ensemble` of the page's settings and of the
unmodified scenario with the same seed and run numbers (common random numbers,
as ``escsim compare`` and ``escsim run --sets`` run them), compared by
:func:`sim.results.compare.paired_statistics`. So the page's numbers are
``escsim run``'s numbers for the same settings, to the last digit.
"""

from __future__ import annotations

import io
import shlex
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import solara

from sim.app.export import SEED, variant_yaml
from sim.app.widgets import LevelsChart, Png, ScenarioPicker, StoryLines
from sim.inputs.scenario import Scenario
from sim.model.params import ParameterSets, base_params, parameter_paths

PANEL_RUNS = 1000
"""Runs of each side of the "Run 1,000" panel."""
PLAY_SECONDS = 0.5
"""Seconds between two days while a crisis plays."""
MAX_SEED = 2**31 - 1
"""Largest seed the page's field takes (``escsim run --seed`` takes more)."""
MAIN = ("resolve", "risk_aversion", "reciprocity", "audience_cost", "rationality")
"""Each state's decision parameters that get a slider, then its pressure and commitments."""
STEP = 0.001
"""The sliders' step: the shipped scenarios' values have at most three decimals."""
LABELS = {"resolve": "resolve", "risk_aversion": "risk aversion", "reciprocity": "reciprocity",
          "audience_cost": "audience cost", "rationality": "rationality"}


@dataclass(frozen=True)
class Knob:
    """One slider: a parameter path, its actor, label, range, step and the scenario's value."""

    path: str
    actor: str
    label: str
    lo: float
    hi: float
    step: float
    value: float


def knobs(scenario: Scenario) -> list[Knob]:
    """The sliders of ``scenario``: each state's main parameters, pressure and commitments.

    Ranges are the scenario format's limits (docs/scenario-format.md); the
    step is :data:`STEP`, so every value the shipped scenarios use (at most
    three decimals) sits on a step and an untouched slider keeps it exactly.
    """
    paths = parameter_paths(scenario)
    values = scenario_values(scenario, paths)
    spec, out = scenario.spec, []
    for aid in scenario.actor_ids:
        if spec.actors[aid].kind != "state":
            continue
        names = [(f"actors.{aid}.{name}", LABELS[name]) for name in MAIN]
        for key, word in (("pressure", "pressure on"), ("commitments", "commitment to")):
            names += [(p, f"{word} {p.rsplit('.', 1)[1]}") for p in paths
                      if p.startswith(f"actors.{aid}.{key}.")]
        for path, label in names:
            where = paths[path]
            lo, hi = where.lo or 0.0, where.hi if where.hi is not None else 1.0
            out.append(Knob(path, aid, label, lo, hi, STEP, values[path]))
    return out


def scenario_values(scenario: Scenario, paths: dict | None = None) -> dict[str, float]:
    """Every parameter path's value in ``scenario`` itself."""
    paths = parameter_paths(scenario) if paths is None else paths
    base = base_params(scenario)
    return {name: float(np.asarray(getattr(base, where.field)[0][where.index]).flat[0])
            for name, where in paths.items()}


def changed(scenario: Scenario, values: dict[str, float]) -> dict[str, float]:
    """The entries of ``values`` that differ from the scenario's own, in slider order."""
    own = scenario_values(scenario)
    return {path: float(v) for path, v in values.items() if float(v) != own[path]}


def parameter_sets(scenario: Scenario, changes: dict[str, float]) -> ParameterSets | None:
    """The page's settings as one parameter set (None: the scenario unchanged).

    The same object ``escsim run --set PATH=VALUE ...`` builds, so the runs are its runs.
    """
    if not changes:
        return None
    return ParameterSets(scenario, {k: [v] for k, v in changes.items()}, source="page")


def run_command(name: str, changes: dict[str, float], seed: int, runs: int = PANEL_RUNS
                ) -> str:
    """The ``escsim run`` command that gives the page's numbers."""
    words = ["escsim", "run", name, "--runs", str(runs), "--seed", str(seed)]
    for path, value in changes.items():
        words += ["--set", f"{path}={value!r}"]  # repr: the float the page ran, exactly
    return shlex.join(words)


# ------------------------------------------------------------------ one crisis ---------

class Crisis:
    """Run ``run`` of the page's settings, a day at a time, with its story so far.

    Thread-safe: Play steps it from a timer thread while the page reads it.
    """

    def __init__(self, scenario: Scenario, changes: dict[str, float], seed: int, run: int = 0):
        from sim.model.model import EscalationModel
        self.scenario = scenario
        self.model = EscalationModel(scenario, runs=[run], seed=seed, record=True,
                                     parameters=parameter_sets(scenario, changes))
        self.run = run
        self.story: list[tuple[int, list[str]]] = []  # (day, lines), day 1 first
        self.lock = threading.Lock()

    @property
    def day(self) -> int:
        """The last day simulated (0: the seed events only)."""
        return self.model.day

    @property
    def over(self) -> bool:
        """Whether the horizon is reached."""
        return self.model.day >= self.model.horizon

    def step(self) -> bool:
        """Simulate one more day; False when the horizon was already reached."""
        from sim.model.story import aims_reached, day_lines
        with self.lock:
            if self.over:
                return False
            before = self.model.world.achieved[0].copy()
            self.model.step()
            rec = self.model.history[-1]
            self.story.append((self.model.day, day_lines(self.model, rec,
                                                         aims_reached(self.model, before))))
            return True

    def levels(self) -> np.ndarray:
        """Every day's levels so far, (days + 1, actors, actors), from day 0."""
        with self.lock:
            return np.stack([self.model.on_day(d)[1][0] for d in range(self.model.day + 1)])

    def votes(self) -> list[str]:
        """The Council's votes so far, one line each."""
        ids = self.model.actor_ids
        out = []
        with self.lock:
            for day, _, target, yes, vetoes, adopted in self.model.vote_log():
                verdict = ("adopted" if adopted else
                           f"vetoed by {', '.join(vetoes)}" if vetoes else "not adopted")
                out.append(f"day {day}: a draft demanding restraint from {ids[target]}, "
                           f"{yes} in favour, {verdict}")
        return out


# ------------------------------------------------------------------ 1,000 runs ---------

def png(fig) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    from sim.results import plots
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plots.plt.close(fig)
    return buf.getvalue()


def run_panel(scenario: Scenario, name: str, changes: dict[str, float], seed: int,
              runs: int = PANEL_RUNS, days: int | None = None) -> dict:
    """What "Run 1,000" shows: both ensembles' numbers, their paired differences, charts.

    ``runs`` runs of the unmodified scenario and of the page's settings, on
    common random numbers (same seed, same run numbers). Returns
    ``summary`` (the page's settings, as ``summary.json`` of ``escsim run``
    with ``--set`` for each change), ``original`` (the same without changes),
    ``comparison`` (:func:`sim.results.compare.paired_statistics`, the
    original first), ``command``, ``fan`` and ``outcomes`` (PNG bytes) and
    ``seconds`` (wall time of the runs, the charts included).
    """
    from sim.ensemble import engine
    from sim.ensemble.backends import InlineBackend
    from sim.ensemble.montecarlo import run_ensemble
    from sim.model.outcomes import state_pairs
    from sim.results import compare, plots
    from sim.results.folders import summary
    from sim.results.resultset import ResultSet

    start = time.perf_counter()
    command = run_command(name, changes, seed, runs)
    ensembles, files = [], []
    with tempfile.TemporaryDirectory(prefix="escsim-explore-") as tmp:
        for k, sets in enumerate((None, parameter_sets(scenario, changes))):
            path = Path(tmp) / f"{k}.csv"
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(engine.csv_header(scenario.actor_ids, state_pairs(scenario)))
                # in this process: 2 x 1,000 runs take well under a second, less than
                # starting worker processes would
                ensembles.append(run_ensemble(scenario, runs, seed, days,
                                              backend=InlineBackend(), on_rows=fh.write,
                                              parameters=sets))
            files.append(path)
        stats = compare.paired_statistics(files)
    names = ["scenario as written", "this page"]
    cmp = {"scenarios": names, "runs": runs, "seed": seed, "days": ensembles[0].days,
           **stats}
    results = [ResultSet.from_ensemble(e, command) for e in ensembles]
    fan = png(plots.fan_chart(results[1]))
    outcomes = png(compare.outcome_differences(cmp, results))
    return {"summary": summary(ensembles[1]), "original": summary(ensembles[0]),
            "comparison": stats, "command": command, "fan": fan, "outcomes": outcomes,
            "seconds": time.perf_counter() - start}


# ------------------------------------------------------------------ the page -----------

def _percent(row: dict) -> str:
    lo, hi = row["ci95"]
    return f"{row['probability']:.1%} [{lo:.1%}, {hi:.1%}]"


def numbers_html(result: dict) -> str:
    """The panel's table: each outcome in both ensembles, and the paired difference.

    Cells carry ``data-`` attributes naming the outcome and the column, so a
    browser test can read the numbers shown.
    """
    from html import escape
    cmp = result["comparison"]["outcomes"]
    head = ("<tr><th>outcome</th><th>scenario as written</th><th>this page</th>"
            "<th>difference, points (paired 95% interval)</th></tr>")
    rows = []
    for name, mine in result["summary"]["outcomes"].items():
        d = cmp[name]["difference"][1]
        lo, hi = d["ci95"]
        rows.append(
            f'<tr data-outcome="{escape(name)}"><td>{escape(name)}</td>'
            f'<td data-col="original">{_percent(result["original"]["outcomes"][name])}</td>'
            f'<td data-col="page">{_percent(mine)}</td>'
            f'<td data-col="difference">{100 * d["mean"]:+.1f} '
            f'[{100 * lo:+.1f}, {100 * hi:+.1f}]</td></tr>')
    return (f'<table class="escsim-numbers" style="border-collapse: collapse; width: 100%;">'
            f"{head}{''.join(rows)}</table>")


def _load(name: str):
    """(scenario, error text) of the page's scenario ``name``."""
    from sim.app import config
    from sim.errors import InputError
    from sim.inputs.scenario import load_scenario
    try:
        return load_scenario(config.scenario_path(name)), None
    except InputError as exc:
        return None, "\n".join(str(p) for p in exc.problems)


@solara.component
def Explore():
    """The Explore page: settings, one crisis day by day, and "Run 1,000"."""
    from sim.app import config
    name, set_name = solara.use_state(config.CONFIG.default_scenario)
    scenario, error = solara.use_memo(lambda: _load(name), [name])
    values, set_values = solara.use_state({})  # path -> value the sliders moved
    seed, set_seed = solara.use_state(None)  # None: the scenario's own seed
    run, set_run = solara.use_state(0)

    def pick(new: str):
        set_name(new)
        set_values({})
        set_seed(None)

    solara.HTML(tag="h2", unsafe_innerHTML="Explore")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        ScenarioPicker(name, pick)
    knob_list = solara.use_memo(lambda: knobs(scenario) if scenario else [], [id(scenario)])
    if scenario is None:
        solara.Error(error or "no scenario")
        return
    own_seed = scenario.spec.montecarlo.seed
    seed_now = own_seed if seed is None else seed
    changes = changed(scenario, values)
    exported = {**changes, **({SEED: seed_now} if seed_now != own_seed else {})}
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.InputInt("seed", value=seed_now, classes=["escsim-seed"],
                        on_value=lambda v: set_seed(min(max(int(v or 0), 0), MAX_SEED)))
        solara.InputInt("run K (the crisis shown)", value=run, classes=["escsim-run"],
                        on_value=lambda v: set_run(min(max(int(v or 0), 0), PANEL_RUNS - 1)))
        solara.Button("Reset to the scenario's values", classes=["escsim-reset"],
                      on_click=lambda: (set_values({}), set_seed(None)))
        solara.FileDownload(lambda: variant_yaml(scenario, exported),
                            filename=f"{name.replace('/', '-')}-explored.yaml",
                            label="Save as a scenario file", mime_type="text/yaml")
    solara.Text(f"{len(changes)} parameters changed from the scenario's values"
                if changes else "every parameter as the scenario sets it",
                classes=["escsim-changed"])
    Sliders(knob_list, values, lambda path, v: set_values({**values, path: v}))
    OneCrisis(scenario, changes, seed_now, run)
    RunPanel(scenario, name, changes, seed_now)


@solara.component
def Sliders(knob_list: list, values: dict, on_change):
    """A card of sliders per state."""
    actors = list(dict.fromkeys(k.actor for k in knob_list))
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "stretch"}):
        for aid in actors:
            with solara.Card(aid, style={"flex": "1 1 16rem", "min-width": "16rem"},
                             classes=["escsim-actor"]):
                for k in knob_list:
                    if k.actor == aid:
                        now = values.get(k.path, k.value)
                        solara.SliderFloat(f"{k.label} {now:g}", value=now,
                                           min=k.lo, max=k.hi, step=k.step,
                                           thumb_label=False,
                                           on_value=lambda v, p=k.path: on_change(p, v))


@solara.component
def OneCrisis(scenario, changes: dict, seed: int, run: int):
    """Step, Play, Pause and Reset one crisis; its levels, story and Council votes."""
    key = (id(scenario), tuple(changes.items()), seed, run)
    version, set_version = solara.use_state(0)  # which Crisis: Reset makes a new one
    crisis = solara.use_memo(lambda: Crisis(scenario, changes, seed, run), [*key, version])
    tick, set_tick = solara.use_state(0)  # bumped after each day, to redraw
    playing, set_playing = solara.use_state(False)

    def advance():
        crisis.step()
        set_tick(crisis.day)

    def play(cancel: threading.Event):
        due = time.monotonic() + PLAY_SECONDS
        while playing and not crisis.over:
            # a day every PLAY_SECONDS, however long the redraw of the last one took
            if cancel.wait(max(0.0, due - time.monotonic())):
                return
            due += PLAY_SECONDS
            advance()
        set_playing(False)

    solara.use_thread(play, dependencies=[playing, id(crisis)], intrusive_cancel=False)
    solara.HTML(tag="h3", unsafe_innerHTML="One crisis")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.Text(f"day {crisis.day} of {crisis.model.horizon}", classes=["escsim-day"],
                    style={"font-size": "1.4rem", "font-weight": "bold"})
        solara.Button("Step", on_click=advance, disabled=playing or crisis.over,
                      classes=["escsim-step"])
        solara.Button("Play", on_click=lambda: set_playing(True),
                      disabled=playing or crisis.over, classes=["escsim-play"])
        solara.Button("Pause", on_click=lambda: set_playing(False), disabled=not playing,
                      classes=["escsim-pause"])
        solara.Button("Reset", on_click=lambda: (set_playing(False), set_version(version + 1)),
                      classes=["escsim-reset-crisis"])
    solara.Text(f"run {run} of the scenario with the settings above, seed {seed}: the same "
                f"run as run {run} of the 1,000 below", style={"font-size": "0.85rem"})
    LevelsChart(scenario, crisis.levels(), crisis.model.horizon,
                "Escalation rung of each pair of states")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "start"}):
        with solara.Column(style={"flex": "2 1 20rem", "min-width": "16rem"}):
            solara.Text("What happened (newest day first)", style={"font-weight": "bold"})
            StoryLines(list(crisis.story))
        with solara.Column(style={"flex": "1 1 14rem", "min-width": "14rem"}):
            solara.Text("The Council's votes", style={"font-weight": "bold"})
            votes = crisis.votes()
            solara.Preformatted("\n".join(votes) or "no vote yet", class_="escsim-votes",
                                style_="white-space: pre-wrap; font-size: 0.85rem;")


@solara.component
def RunPanel(scenario, name: str, changes: dict, seed: int):
    """"Run 1,000": both ensembles through the page's queue, their charts and numbers."""
    from sim.app.jobs import QUEUE
    ticket, set_ticket = solara.use_state(None)
    asked, set_asked = solara.use_state(None)  # the settings the ticket runs
    _, set_seen = solara.use_state(0)
    key = (name, tuple(changes.items()), seed)

    def submit():
        set_asked(key)
        set_ticket(QUEUE.submit(f"Explore: {name}, {PANEL_RUNS:,} runs x 2", run_panel,
                                scenario, name, dict(changes), seed))

    def watch(cancel: threading.Event):
        # redraw while the job waits or runs, so its place in the queue shows
        while ticket is not None and not ticket.done and not cancel.is_set():
            ticket.wait(0.3)
            set_seen(time.monotonic())

    solara.use_thread(watch, dependencies=[id(ticket)], intrusive_cancel=False)
    solara.HTML(tag="h3", unsafe_innerHTML=f"Run {PANEL_RUNS:,}")
    busy = ticket is not None and not ticket.done
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.Button(f"Run {PANEL_RUNS:,}", on_click=submit, disabled=busy,
                      classes=["escsim-run-panel"])
        if busy:
            place = ticket.position
            solara.Text("running..." if place == 0 else f"waiting in the queue: {place} "
                        f"job{'s' if place != 1 else ''} ahead", classes=["escsim-queue-place"])
    if ticket is None or busy:
        return
    if ticket.error is not None:
        solara.Error(f"the runs failed: {ticket.error}")
        return
    result = ticket.result
    if asked != key:
        solara.Warning("These numbers are for earlier settings: press the button again.")
    solara.Text(f"{PANEL_RUNS:,} runs of the scenario as written and {PANEL_RUNS:,} with this "
                f"page's settings, on the same random numbers, in {result['seconds']:.1f} s",
                style={"font-size": "0.85rem"})
    Png(result["fan"], classes=["escsim-fan"])
    Png(result["outcomes"], classes=["escsim-outcomes"])
    solara.HTML(tag="div", unsafe_innerHTML=numbers_html(result))
    solara.Text("The same numbers from the command line:")
    solara.Preformatted(result["command"], class_="escsim-command",
                        style_="white-space: pre-wrap; font-size: 0.85rem;")
