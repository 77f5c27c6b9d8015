"""Charts and report of a results folder: real pictures, readable labels, a report that
holds together, re-plotting under another scoring scheme, and the Kaplan-Meier curves."""

from __future__ import annotations

import base64
import csv
import json
import math
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import matplotlib.image as mpimg
import numpy as np
import pytest

from sim.ensemble.aggregate import MOVES
from sim.inputs.catalogue import SCHEMES
from sim.model.outcomes import THRESHOLDS
from sim.results import plots
from sim.results.resultset import ResultSet
from sim.stats import kaplan_meier
from tests.conftest import BASELINE, ROOT, results_folder, run_cli

RUNS, SEED, DAYS = 300, 5, 30


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("charts")
    proc = run_cli("run", BASELINE, "--runs", RUNS, "--seed", SEED, "--days", DAYS,
                   "--out", out, "--workers", 1, "--keep-trajectories", 7, check=0)
    return results_folder(proc)


@pytest.fixture(scope="module")
def result_set(folder):
    return ResultSet.load(folder)


# ------------------------------------------------------------------ pictures --------------

@pytest.mark.parametrize("chart", [c.name for c in plots.CHARTS])
def test_chart_is_a_real_picture_in_png_and_svg(folder, chart):
    img = mpimg.imread(folder / "charts" / f"{chart}.png")
    assert img.shape[0] > 300 and img.shape[1] > 500
    assert img[..., :3].std() > 0.05  # not blank: pixels vary
    # the drawing itself is not blank either: plenty of pixels are neither white nor grey
    coloured = np.abs(img[..., 0] - img[..., 2]) > 0.1
    assert coloured.mean() > 0.005
    svg = ET.parse(folder / "charts" / f"{chart}.svg").getroot()
    assert svg.tag.endswith("svg")
    assert f"seed {SEED}" in "".join(svg.itertext())  # footer, as text (svg.fonttype none)


def texts(fig) -> str:
    """Every title, axis label, tick label, legend entry and figure text of ``fig``."""
    parts = [t.get_text() for t in fig.texts]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        parts += [t.get_text() for t in ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            parts += [t.get_text() for t in legend.get_texts()]
    for legend in fig.legends:
        parts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(parts)


EXPECTED = {
    "fan_chart": ["How tense could it get?", "days after the article", "escalation index",
                  "median", "50% of runs", "90% of runs", "sample runs"],
    "pair_levels": ["Who escalates against whom?", "USA against VEN", "RUS against USA",
                    "escalation rung (0-7)", "days after the article"],
    "outcomes": ["How does it end", "share of runs ending in this outcome", "de-escalated",
                 "great-power confrontation", "95% interval"],
    "thresholds": ["When are the thresholds crossed?", "share of runs that have crossed it",
                   "militarized clash: a state pair reaches rung 6", "95% interval"],
    "action_mix": ["What does each actor do?", "United States", "UN Security Council",
                   "share of runs", "no move", "force"],
    "common_paths": ["Most common escalation paths", "share of runs that followed this path",
                     "ends calm"],
}


@pytest.mark.parametrize("chart", plots.CHARTS, ids=lambda c: c.name)
def test_chart_titles_and_labels_say_what_they_show(result_set, chart):
    fig = chart.draw(result_set)
    try:
        text = texts(fig)
        for needle in EXPECTED[chart.name]:
            assert needle in text, (chart.name, needle)
        footer = " ".join(t.get_text() for t in fig.texts)
        assert all(s in footer for s in ("caribbean-2025", f"{RUNS:,} runs", f"seed {SEED}"))
    finally:
        plots.plt.close(fig)


def test_pair_panels_and_actor_panels_cover_every_pair_and_actor(result_set):
    fig = plots.pair_levels(result_set)
    titles = {ax.get_title() for ax in fig.axes if ax.get_visible()}
    assert titles == {p.replace("-", " against ") for p in result_set.pairs}
    plots.plt.close(fig)
    fig = plots.action_mix(result_set)
    titles = {ax.get_title() for ax in fig.axes if ax.get_visible()}
    assert titles == set(result_set.actors.values())
    plots.plt.close(fig)


def test_common_paths_match_runs_csv(folder, result_set):
    rows = list(csv.DictReader(open(folder / "runs.csv", encoding="utf-8")))
    counts = {}
    for row in rows:
        counts[row["path"]] = counts.get(row["path"], 0) + 1
    assert dict(result_set.aggregate.paths) == counts
    summary = json.loads((folder / "summary.json").read_text())
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert [(p["path"], p["runs"]) for p in summary["top_paths"]] == top


def test_action_mix_counts_every_actor_once_a_day(result_set):
    moves = result_set.aggregate.moves
    assert moves.shape == (DAYS + 1, len(result_set.actors), len(MOVES))
    assert (moves[1:].sum(axis=2) == RUNS).all()  # one move (or none) per actor, run, day
    council = list(result_set.actors).index("UNSC")
    # the schedule convenes the Council on day 1 in every run: an institutional act
    assert moves[1, council, MOVES.index("institutional")] == RUNS


# ------------------------------------------------------------------ report ----------------

class Page(HTMLParser):
    """Collects tags, checks that every opened element is closed in order."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.images, self.ids, self.text = [], [], set(), []
        self.errors = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert not page.errors and not page.stack, (page.errors, page.stack)
    return page


def test_report_is_self_contained_html_with_every_chart(folder):
    page = parse(folder / "report.html")
    assert {img["data-chart"] for img in page.images} == {c.name for c in plots.CHARTS}
    for img in page.images:
        assert img["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"scenario", "seed-events", "headline", "charts", "assumptions",
            "reproduce"} <= page.ids
    text = " ".join(" ".join(page.text).split())
    assert text.count("How to read this:") == len(plots.CHARTS)
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"(src|href)=\"(?!data:|#)", html)  # nothing outside the file


def test_report_shows_events_numbers_and_assumptions(folder, result_set):
    text = " ".join(" ".join(parse(folder / "report.html").text).split())
    for ev in result_set.events:
        assert " ".join(ev["quote"].split()) in text
    assert result_set.schedule[0]["day"] == 1
    assert "The meeting is expected to take place on Tuesday" in text
    summary = json.loads((folder / "summary.json").read_text())
    for name, o in summary["outcomes"].items():
        assert f"{name} {o['runs']:,} {100 * o['probability']:.1f}%" in text
    rows = {a["parameter"]: a for a in result_set.assumptions}
    assert rows["actors.USA.resolve"]["value"] == 0.7
    assert rows["actors.USA.resolve"]["source"].startswith("assumption: an openly declared")
    assert rows["memory.decay"]["source"].startswith("assumption: received hostility")
    assert rows["outcomes.war.casualties"]["source"].startswith("... or 1000 deaths")
    for a in result_set.assumptions:
        assert a["parameter"] in text


def computed_style(css: str, tag: str, classes: set[str]) -> dict[str, str]:
    """The declarations of the report's stylesheet that apply to ``<tag class=...>``,
    by the cascade: a rule with a class beats one without, then the later rule wins.
    (Enough for the report's plain selectors: ``th``, ``td.num``, ``.key``.)"""
    matching = []
    for order, (selectors, body) in enumerate(re.findall(r"([^{}@]+)\{([^{}]*)\}", css)):
        for sel in (s.strip() for s in selectors.split(",")):
            name, _, cls = sel.partition(".")
            if name in ("", tag) and (not cls or cls in classes) and (name or cls):
                matching.append(((bool(cls), bool(name)), order, body))
    style = {}
    for _, _, body in sorted(matching, key=lambda m: (m[0], m[1])):
        for decl in body.split(";"):
            if ":" in decl:
                key, value = decl.split(":", 1)
                style[key.strip()] = value.strip()
    return style


def test_report_seed_event_headers_and_ids_are_not_broken_inside_words(folder):
    """The seed-event table once showed "act/or" and "tar/get": every cell could break
    anywhere, so the browser squeezed the short columns. Headers may break only between
    words, and the actor, target and CAMEO cells not at all."""
    html = (folder / "report.html").read_text(encoding="utf-8")
    css = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    section = re.search(r'<section id="seed-events">(.*?)</section>', html, re.S).group(1)
    for table in re.findall(r"<table>(.*?)</table>", section, re.S):
        head, body = table.split("</thead>")
        headers = re.findall(r'<th(?: class="([\w ]+)")?>(.*?)</th>', head)
        assert {"actor", "target"} <= {text for _, text in headers}
        for cls, text in headers:
            style = computed_style(css, "th", set(cls.split()))
            assert (style.get("overflow-wrap") != "anywhere"
                    or style.get("white-space") == "nowrap"), (text, style)
        columns = [text for _, text in headers]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = re.findall(r'<td(?: class="([\w ]+)")?>', row)
            assert len(cells) == len(columns)
            for name, cls in zip(columns, cells, strict=True):
                if name in ("actor", "target", "CAMEO"):
                    style = computed_style(css, "td", set(cls.split()))
                    assert style.get("white-space") == "nowrap", (name, style)


def test_report_command_reproduces_the_runs(folder, tmp_path):
    """The command printed in the report gives the same runs.csv, byte for byte."""
    command = ResultSet.load(folder).command
    args = shlex.split(command)
    assert args[:2] == ["escsim", "run"]
    proc = run_cli(*args[1:], "--out", tmp_path, "--quiet", check=0)
    again = results_folder(proc)
    assert (again / "runs.csv").read_bytes() == (folder / "runs.csv").read_bytes()
    for name in ("summary.json", "trajectories.csv"):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


# ------------------------------------------------------------------ re-plotting -----------

def test_plot_redraws_in_place(folder, tmp_path):
    """`plot` redraws the charts and the report from the folder's files, in place: a new
    title in scenario.json shows up in the report and in the fan chart, a deleted chart
    and a clobbered report come back, and the run's own data stay untouched."""
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)  # the module's folder stays as the other tests expect
    context = json.loads((copy / "scenario.json").read_text(encoding="utf-8"))
    context["title"] = "Redrawn under a new title 4711"
    (copy / "scenario.json").write_text(json.dumps(context), encoding="utf-8")
    (copy / "charts" / "outcomes.png").unlink()
    (copy / "report.html").write_text("stale", encoding="utf-8")
    data = {name: (copy / name).read_bytes()
            for name in ("runs.csv", "summary.json", "aggregate.npz", "trajectories.csv")}
    proc = run_cli("plot", copy, check=0)
    assert proc.stdout.strip() == f"report: {copy / 'report.html'}"
    page = parse(copy / "report.html")
    assert "Redrawn under a new title 4711" in " ".join(page.text)
    assert {img["data-chart"] for img in page.images} == {c.name for c in plots.CHARTS}
    assert (copy / "charts" / "outcomes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fan = "".join(ET.parse(copy / "charts" / "fan_chart.svg").getroot().itertext())
    assert "Redrawn under a new title 4711" in fan
    for name, before in data.items():
        assert (copy / name).read_bytes() == before, name
    assert not list(copy.glob(".replot*"))


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s != "rivera"])
def test_plot_under_another_scheme_equals_a_run_scored_that_way(folder, variant, scheme,
                                                                 tmp_path):
    """Scoring does not change behaviour, so re-scoring the rivera run must give exactly
    the histograms and peaks of the same runs made with ``scoring: <scheme>``."""
    proc = run_cli("plot", folder, "--scoring", scheme, check=0)
    assert (folder / f"report-{scheme}.html").is_file()
    for chart in plots.CHARTS:
        assert (folder / f"charts-{scheme}" / f"{chart.name}.png").is_file()
    assert f"report-{scheme}.html" in proc.stdout
    rescored = ResultSet.load(folder).rescored(scheme)
    fig = plots.fan_chart(rescored)
    assert plots.SCHEME_LABELS[scheme] in fig.axes[0].get_ylabel()
    plots.plt.close(fig)

    other = variant(f"scoring: {scheme}\n")
    proc = run_cli("run", other, "--runs", RUNS, "--seed", SEED, "--days", DAYS,
                   "--out", tmp_path, "--workers", 1, "--quiet", check=0)
    direct = ResultSet.load(results_folder(proc))
    row = SCHEMES.index(scheme)
    assert np.array_equal(direct.aggregate.index[row], rescored.aggregate.index[row])
    ours = list(csv.DictReader(open(folder / "runs.csv", encoding="utf-8")))
    theirs = list(csv.DictReader(open(results_folder(proc) / "runs.csv", encoding="utf-8")))
    assert [r[f"peak_index_{scheme}"] for r in ours] == [r["peak_index"] for r in theirs]


def test_plot_of_a_folder_that_is_not_one_is_a_clear_error(tmp_path):
    proc = run_cli("plot", tmp_path, check=2)
    assert "not a results folder" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("plot", tmp_path, "--scoring", "goldsten", check=2)
    assert "invalid choice" in proc.stderr and "goldstein" in proc.stderr


def test_cli_scheme_list_is_the_catalogues():
    from sim import cli
    assert cli.SCHEMES == SCHEMES


# ------------------------------------------------------------------ survival curves -------

def test_kaplan_meier_by_hand():
    """Six subjects: events at days 1, 2, 2, 4; censored after day 3 and at day 5.

    S(1) = 5/6; S(2) = 5/6 * 3/5 = 1/2; S(3) = 1/2 (the censoring on day 3 removes
    one subject but no event); S(4) = 1/2 * (1 - 1/2) = 1/4; S(5) = 1/4.
    """
    events = np.array([0, 1, 2, 0, 1, 0])
    censored = np.array([0, 0, 0, 1, 0, 1])
    assert np.allclose(kaplan_meier(events, censored), [1, 5 / 6, 1 / 2, 1 / 2, 1 / 4, 1 / 4])


def negative_binomial_survival(days: int, mean: float, threshold: int) -> np.ndarray:
    """P(sum of t whole-number exponential draws < threshold) for t = 0..days.

    floor(Exp(mean)) is geometric with P(K >= k) = q**k, q = exp(-1/mean); a sum
    of t of them is negative binomial: P(S = s) = C(s+t-1, s) (1-q)**t q**s.
    """
    q = math.exp(-1 / mean)
    out = [1.0]
    for t in range(1, days + 1):
        out.append(sum(math.comb(s + t - 1, s) * (1 - q) ** t * q ** s
                       for s in range(threshold)))
    return np.array(out)


TOY = """\
title: Toy - one strike a day, random deaths
horizon_days: {days}
exclude_events: [{events}]
actors:
  UNSC: null
  VEN: {{inertia: 10, rationality: 100, reciprocity: 0, resolve: 0}}
  RUS: {{inertia: 10, rationality: 100, reciprocity: 0, resolve: 0}}
schedule:
{schedule}
outcomes:
  war: {{min_level: 7, casualties: 40}}
"""


def test_a_toy_scenario_gives_the_known_survival_curve(variant, tmp_path):
    """USA is made to strike every day (4 deaths on average, whole numbers); no one else
    moves. War (40 deaths) is crossed when the sum of the draws reaches 40, so the
    chance of no war by day t is a negative-binomial probability, known exactly."""
    from sim.inputs.scenario import load_scenario
    runs, days = 4000, 25
    base = load_scenario(BASELINE)
    schedule = "\n".join(f"  - {{day: {d}, actor: USA, action: strike_suspected_traffickers, "
                         f"target: VEN}}" for d in range(1, days + 1))
    toy = variant(TOY.format(events=", ".join(ev.id for ev in base.events),
                             schedule=schedule, days=days))
    proc = run_cli("run", toy, "--runs", runs, "--seed", 11, "--out", tmp_path, "--quiet",
                   check=0)
    rs = ResultSet.load(results_folder(proc))
    # the premise: nobody but the scheduled USA strikes ever moves
    hold = rs.aggregate.moves[1:, :, MOVES.index("hold")]
    ids = list(rs.actors)
    assert (hold[:, ids.index("VEN")] == runs).all() and (hold[:, ids.index("RUS")] == runs).all()
    war = rs.aggregate.crossing_curves()[THRESHOLDS.index("war")]
    expected = 1 - negative_binomial_survival(days, 4.0, 40)
    tolerance = 4 * np.sqrt(expected * (1 - expected) / runs) + 1e-12
    assert (np.abs(war - expected) <= tolerance).all(), np.c_[war, expected, tolerance]
    assert expected[4] < 0.01 and expected[days] > 0.97  # the curve really rises in between


def test_every_panel_column_keeps_its_day_axis(tmp_path):
    """With five actors the last row has one panel: the panel above the empty slot
    must still show the day numbers (shared axes hide them on upper rows)."""
    from tests.conftest import SCENARIOS
    china = next(p for p in SCENARIOS if p.name == "caribbean-2025-china.yaml")
    proc = run_cli("run", china, "--runs", 50, "--days", 10, "--out", tmp_path, "--quiet",
                   check=0)
    rs = ResultSet.load(results_folder(proc))
    for draw in (plots.action_mix, plots.pair_levels):
        fig = draw(rs)
        fig.canvas.draw()
        visible = [ax for ax in fig.axes if ax.get_visible()]
        for ax in visible:
            box = ax.get_position()
            below = [o for o in visible if o is not ax and o.get_position().y1 < box.y0
                     and abs(o.get_position().x0 - box.x0) < 1e-6]
            labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
            assert bool(labels) == (not below), (draw.__name__, ax.get_title())
        plots.plt.close(fig)


def test_common_paths_legend_gives_each_class_its_own_colour(result_set):
    """The legend of the paths chart once showed its three classes in one colour (empty bar
    series lend the legend no colour). Each class must have its own colour, and it must be
    the colour of the bars whose path ends in that class (read off the row's tick label)."""
    from matplotlib.colors import to_hex
    fig = plots.common_paths(result_set)
    try:
        ax = fig.axes[0]
        legend = ax.get_legend()
        key = {text.get_text(): to_hex(handle.get_facecolor())
               for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)}
        assert len(key) == 3 and len(set(key.values())) == 3, key
        rows = {round(y): label.get_text()
                for y, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)}
        seen = set()
        for bar in ax.containers[0]:
            last = int(rows[round(bar.get_y() + bar.get_height() / 2)].split()[-1])
            cls = ("ends calm (rung 0-1)" if last <= 1 else "ends tense (rung 2-5)"
                   if last <= 5 else "ends in a clash or war (rung 6-7)")
            assert to_hex(bar.get_facecolor()) == key[cls], (last, cls)
            seen.add(cls)
        assert len(seen) >= 2  # the baseline's top paths end in more than one class
    finally:
        plots.plt.close(fig)


# ------------------------------------------------------------------ many actors -----------

def many_states(n: int) -> str:
    """A scenario of ``n`` states: the baseline's USA, VEN and RUS (its seed events name
    them) and states S4 .. Sn, each pressing Venezuela a little."""
    lines = [f"extends: {BASELINE}", "actors:"]
    for k in range(4, n + 1):
        lines += [f"  S{k}:", f"    name: State {k}", "    kind: state",
                  "    capabilities: {military: 0.1, naval: 0.1, economic: 0.1}",
                  f"    pressure: {{VEN: 0.{k % 9 + 1}}}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """30 states (870 directed pairs) and the Council: 31 actors, a short run."""
    tmp = tmp_path_factory.mktemp("many")
    path = tmp / "many.yaml"
    path.write_text(many_states(30), encoding="utf-8")
    proc = run_cli("run", path, "--runs", 40, "--days", 8, "--seed", 2, "--out", tmp,
                   "--workers", 1, "--keep-trajectories", 3, "--quiet", check=0)
    return path, results_folder(proc)


def test_validate_notes_that_charts_show_only_some_pairs_and_actors(many):
    """A scenario of 30 states is accepted; validate says which charts will be cut down,
    without loading the plotting library (validate must stay quick)."""
    from sim.limits import MAX_PANELS
    proc = run_cli("validate", many[0], check=0)
    assert f"note: 870 state pairs; the per-pair chart shows the {MAX_PANELS} with the " \
           "highest peak levels" in proc.stdout
    assert f"note: 31 actors; the action-mix chart shows the {MAX_PANELS}" in proc.stdout
    assert "note:" not in run_cli("validate", BASELINE, check=0).stdout
    probe = ("import sys; from sim.cli import main; status = main(['validate', sys.argv[1]]); "
             "print('matplotlib' in sys.modules, status)")
    proc = run_cli_python(probe, many[0])
    assert proc.stdout.splitlines()[-1] == "False 0", proc.stdout + proc.stderr


def run_cli_python(code: str, *args):
    """Run ``python -c CODE ARGS`` from the project root."""
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def test_pair_chart_of_many_pairs_shows_the_highest_peaks_and_says_so(many):
    """Past MAX_PANELS pairs the per-pair chart draws only the pairs with the highest peak
    level (the highest rung more than 5% of runs reach on one day), ties to the higher mean
    level, then to runs.csv order; ranked here from the raw counts, by loops."""
    from sim.limits import MAX_PANELS
    rs = ResultSet.load(many[1])
    levels, runs = rs.aggregate.levels, rs.runs
    assert len(rs.pairs) == 870

    def key(p):
        peak = max(rung for rung in range(8) for d in range(levels.shape[0])
                   if rung == 0 or 20 * levels[d, p, rung:].sum() > runs)
        level_days = sum(rung * levels[:, p, rung].sum() for rung in range(8))
        return (-peak, -level_days, p)

    ranked = sorted(range(len(rs.pairs)), key=key)[:MAX_PANELS]
    expected = [rs.pairs[p].replace("-", " against ") for p in ranked]
    assert expected != [p.replace("-", " against ") for p in rs.pairs[:MAX_PANELS]]
    fig = plots.pair_levels(rs)
    try:
        assert [ax.get_title() for ax in panels(fig)] == expected
        assert (f"showing the {MAX_PANELS} of 870 pairs with the highest peak levels"
                in fig._suptitle.get_text())
        assert {(ax.get_xlim(), ax.get_ylim()) for ax in panels(fig)} == {
            ((0, rs.days), (-0.3, 7.3))}  # one scale on every panel
    finally:
        plots.plt.close(fig)


def test_action_mix_of_many_actors_shows_the_most_forceful_and_says_so(many):
    """Past MAX_PANELS actors the action-mix chart draws the actors with the most
    coercion and force (summed over runs and days 1..), ties to more moves of any kind,
    then to the scenario's order."""
    from sim.limits import MAX_PANELS
    rs = ResultSet.load(many[1])
    moves = rs.aggregate.moves
    ids = list(rs.actors)
    harsh = [MOVES.index("coercion"), MOVES.index("force")]

    def key(a):
        days = range(1, moves.shape[0])
        return (-sum(moves[d, a, m] for d in days for m in harsh),
                -sum(moves[d, a, m] for d in days for m in range(1, len(MOVES))), a)

    expected = [rs.actors[ids[a]] for a in sorted(range(len(ids)), key=key)[:MAX_PANELS]]
    fig = plots.action_mix(rs)
    try:
        assert [ax.get_title() for ax in panels(fig)] == expected
        assert (f"showing the {MAX_PANELS} of 31 actors that used coercion or force most"
                in fig._suptitle.get_text())
    finally:
        plots.plt.close(fig)


def test_a_run_of_many_actors_gives_every_chart_and_the_report(many):
    """The 30-state run finishes with all charts, none of them a giant picture."""
    folder = many[1]
    page = parse(folder / "report.html")
    assert {img["data-chart"] for img in page.images} == {c.name for c in plots.CHARTS}
    for chart in plots.CHARTS:
        height, width = mpimg.imread(folder / "charts" / f"{chart.name}.png").shape[:2]
        assert height < 4000 and width < 2000, (chart.name, height, width)


def test_dollar_signs_in_titles_and_names_are_printed_not_parsed(result_set, tmp_path):
    """A '$' in a title or actor name is text: an unbalanced one used to stop the drawing."""
    from dataclasses import replace
    odd = replace(result_set, title=r"Costs $\frac{1$ a barrel",
                  actors={**result_set.actors, "USA": "United $tates"})
    charts = plots.draw_all(plots.CHARTS, tmp_path / "charts", odd)
    assert set(charts) == {c.name for c in plots.CHARTS}
    svg = "".join(ET.parse(tmp_path / "charts" / "fan_chart.svg").getroot().itertext())
    assert r"$\frac{1$" in svg


@pytest.mark.parametrize("scoring", [[], ["--scoring", "goldstein"]])
def test_plot_loads_neither_the_model_nor_the_compiler(folder, tmp_path, scoring):
    """Redrawing reads counts: it must not pay for Mesa, numba or the model (results sit
    above statistics, never above the model)."""
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    code = ("import sys; from sim.cli import main; status = main(sys.argv[1:]); "
            "print(status, sorted(m for m in ('mesa', 'numba', 'sim.model.model', "
            "'sim.ensemble.engine', 'sim.ensemble.montecarlo', 'sim.model.kernels') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, "plot", str(copy), *scoring], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.stdout.splitlines()[-1] == "0 []", proc.stdout + proc.stderr
