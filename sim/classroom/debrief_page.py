"""The debrief's numbers (``debrief.json``), its chart and its page (``debrief.html``).

:func:`game_numbers` gathers every number of one game's debrief; the page
and ``debrief.json`` are both written from it, so they cannot disagree. The
page is self-contained (charts inlined as data URIs, no script) and has a
print stylesheet: each game starts on a new sheet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.classroom.predictions import OUTCOME_IDS, Sheet, score
from sim.inputs import catalogue as cat
from sim.inputs.forced import forced_texts
from sim.model.outcomes import OUTCOMES
from sim.results.report import CSS, data_uri, esc, pct, table
from sim.version import __version__

THIAGARAJAN = "http://thiagi.net/archive/www/pfp/IE4H/february2004.html"
"""Thiagarajan's six phases of debriefing (Thiagi GameLetter, February 2004)."""

PAGE_CSS = CSS + """
.sentence { font-size: 1.05rem; background: #f3f6fb; border-left: 4px solid #0072B2;
            padding: .4rem .7rem; margin: .6rem 0; }
.phase { margin: .2rem 0 .6rem; } .phase h4 { margin: .6rem 0 .2rem; }
details pre { margin-top: .3rem; }
.game + .game { margin-top: 3rem; }
@media print {
  .game + .game { page-break-before: always; break-before: page; }
  details { display: block; } details > summary { display: none; }
  h3 { page-break-after: avoid; break-after: avoid; }
}
"""


# ---------------------------------------------------------------------- words -------------

def move_label(game, action: str | None, target: str | None) -> str:
    """A move in plain words: ``threaten \u2192 United States``, ``holding``."""
    if action is None:
        return "holding"
    name = cat.load()[action].name
    if target is None:
        return name
    return f"{name} \u2192 {game.scenario.spec.actors[target].name}"


def _actor(game, actor: str) -> str:
    return game.scenario.spec.actors[actor].name


def _rung(rung: int) -> str:
    return f"rung {rung} ({cat.load().levels[rung]})"


def key_outcome(moves: list[dict]) -> str:
    """The outcome whose share differs most between the moves (ties: the more severe)."""
    spread = [max(m["outcomes"][o]["probability"] for m in moves)
              - min(m["outcomes"][o]["probability"] for m in moves) for o in OUTCOMES]
    return OUTCOMES[max(range(len(OUTCOMES)), key=lambda k: (spread[k], k))]


def sentence(day: int, actor_name: str, moves: list[dict], outcome: str) -> str:
    """"Your day-3 move as Venezuela, ...: war in 31% of continuations; holding: 4%"."""
    mine, others = moves[0], moves[1:]
    text = (f"Your day-{day} move as {actor_name}, {mine['label']}: {outcome} in "
            f"{mine['outcomes'][outcome]['probability']:.0%} of continuations")
    text += "".join(f"; {m['label']}: {m['outcomes'][outcome]['probability']:.0%}"
                    for m in others)
    return text + "."


# ---------------------------------------------------------------------- numbers -----------

def game_numbers(d, sheets: list[Sheet]) -> dict:
    """Every number of one game's debrief (``debrief.json``'s entry, and the page's)."""
    game = d.game
    outcomes = d.baseline["outcomes"]
    n = d.baseline["runs"]
    peak = d.peak
    below, same = int(d.peaks[:peak].sum()), int(d.peaks[peak])
    ensemble_p = np.array([outcomes[o]["runs"] / n for o in OUTCOMES])
    decisions = []
    for c in d.choices:
        moves = [{"action": m.action, "target": m.target,
                  "label": move_label(game, m.action, m.target), "players": m.players,
                  "model_probability": round(m.probability, 6), "command": m.command,
                  "outcomes": m.numbers["outcomes"]} for m in c.moves]
        key = key_outcome(moves)
        decisions.append({"day": c.decision.day, "actor": c.decision.actor,
                          "state_file": c.state_file, "state_day": c.decision.day - 1,
                          "key_outcome": key, "moves": moves,
                          "sentence": sentence(c.decision.day, _actor(game, c.decision.actor),
                                               moves, key)})
    observed = OUTCOMES.index(d.outcome) if d.outcome else None
    predictions = []
    for sheet in sheets:
        scores = score(sheet, ensemble_p, 0 if observed is None else observed)
        predictions.append({
            "file": str(sheet.path),
            "ensemble_brier": None if observed is None else round(scores.ensemble_brier, 6),
            "students": [{"name": name, "line": line,
                          "p": dict(zip(OUTCOME_IDS, np.round(p, 6).tolist(), strict=True)),
                          "brier": None if observed is None else round(float(b), 6),
                          "distance": round(float(dist), 6)}
                         for name, line, p, b, dist in zip(sheet.names, sheet.lines, sheet.p,
                                                           scores.brier, scores.distance,
                                                           strict=True)]})
    return {
        "file": str(d.path), "scenario": game.scenario.name, "title": game.scenario.spec.title,
        "seed": game.seed, "run": game.run, "days": game.days, "day": game.day,
        "finished": game.finished, "humans": list(game.humans),
        "injects": forced_texts(d.injects),
        "class": {"outcome": d.outcome, "peak_rung": peak, "peak_day": d.tops.index(peak),
                  "index": [round(x, 4) for x in d.index], "decisions": len(d.choices)},
        "baseline": {"command": d.baseline_command, "runs": n, "outcomes": outcomes,
                     "class_outcome": outcomes[d.outcome] if d.outcome else None,
                     "peak_rungs": {str(r): int(c) for r, c in enumerate(d.peaks)},
                     "peak_lower": round(below / n, 6), "peak_same": round(same / n, 6),
                     "peak_higher": round(1 - (below + same) / n, 6),
                     "peak_percentile": round(100 * (below + same / 2) / n, 2)},
        "decisions": decisions,
        "predictions": predictions,
    }


# ---------------------------------------------------------------------- chart -------------

def class_over_fan(rs, d):
    """The baseline's fan chart with the class's path and its decision days drawn over it."""
    from matplotlib import pyplot as plt

    from sim.results import plots
    with plt.rc_context({"svg.hashsalt": "escsim", "svg.fonttype": "none"}):
        fig = plots.fan_chart(rs)
    ax = fig.axes[0]
    days = np.arange(len(d.index))
    ax.plot(days, d.index, color=plots.BLACK, lw=2.6, label="your class", zorder=5)
    marks = sorted({c.decision.day for c in d.choices})
    if marks:
        ax.plot(marks, [d.index[t] for t in marks], "o", color=plots.VERMILLION, ms=7,
                label="your decisions", zorder=6)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.set_title(f"Your class's path over {rs.runs:,} runs of the model: escalation index",
                 fontsize=11)
    return fig


# ---------------------------------------------------------------------- questions ---------

def questions(g: dict, actors: dict) -> list[tuple[str, list[str]]]:
    """Debrief questions in Thiagarajan's six phases, filled with this game's facts."""
    roles = " and ".join(actors[h] for h in g["humans"])
    cls, base = g["class"], g["baseline"]
    ended = (f"ended in the outcome class {cls['outcome']}" if cls["outcome"] else
             f"stopped on day {g['day']} of {g['days']}")
    happened = [f"Your crisis {ended}, peaking at {_rung(cls['peak_rung'])} on day "
                f"{cls['peak_day']}. Put the main events on a timeline: who moved first, and "
                "when did it turn?"]
    if g["decisions"]:
        first = g["decisions"][0]
        happened.append(f"On day {first['day']} you chose {first['moves'][0]['label']}. What "
                        "did you expect the others to do next, and what did they do?")
    learned = ["Was your path typical of the model's runs or unusual? "
               + (f"{pct(base['class_outcome']['probability'])} of the runs ended in the "
                  f"class {cls['outcome']}, and {pct(base['peak_higher'])} peaked higher than you."
                  if cls["outcome"] else f"{pct(base['peak_higher'])} of the runs peaked "
                  "higher than you.")]
    learned += [f"{x['sentence']} Which of your decisions mattered most?"
                for x in g["decisions"][:3]]
    what_if = ["Pick one of your decisions: what would a different move have changed? The "
               "continuations show the model's answer; do you believe it?"]
    if g["decisions"]:
        best = min(((x, m) for x in g["decisions"] for m in x["moves"][1:]),
                   key=lambda xm: xm[1]["outcomes"]["war"]["probability"]
                   + xm[1]["outcomes"]["great-power confrontation"]["probability"],
                   default=None)
        if best is not None:
            x, m = best
            what_if = [f"What if you had chosen {m['label']} on day {x['day']}? War or worse "
                       f"followed in {m['outcomes']['war']['probability'] + m['outcomes']['great-power confrontation']['probability']:.0%} "  # noqa: E501
                       "of the model's continuations. Why might that be?"]
    if g["injects"]:
        what_if.append("The instructor's injects were world events you did not choose. How "
                       "would the crisis have gone without them?")
    return [
        ("How do you feel?", [f"How did it feel to play {roles}? When did you feel most "
                              "pressure, and why?"]),
        ("What happened?", happened),
        ("What did you learn?", learned),
        ("How does this relate?", ["Where have you seen moves like yours in real crises? What "
                                   "does the model leave out that mattered to you as players "
                                   "(docs/teaching.md lists what it does not represent)?"]),
        ("What if?", what_if),
        ("What next?", ["If you played again, what would you do differently, and on which "
                        "day? What would you change in the scenario file to test an idea "
                        "(check it with escsim validate)?"]),
    ]


# ---------------------------------------------------------------------- page --------------

def _share_cell(row: dict) -> str:
    lo, hi = row["ci95"]
    return f"{pct(row['probability'])}<br><small>{pct(lo)}\u2013{pct(hi)}</small>"


def _outcome_rows(outcomes: dict, highlight: str | None) -> list[list]:
    return [[("<strong>" + esc(o) + " \u2190 your class</strong>") if o == highlight else esc(o),
             f"{outcomes[o]['runs']:,}", pct(outcomes[o]["probability"]),
             f"{pct(outcomes[o]['ci95'][0])} \u2013 {pct(outcomes[o]['ci95'][1])}"]
            for o in OUTCOMES]


def _decision_section(x: dict, game, number: int) -> str:
    rows = [[("<strong>your move:</strong> " if m["players"] else "") + esc(m["label"]),
             pct(m["model_probability"]), *(_share_cell(m["outcomes"][o]) for o in OUTCOMES)]
            for m in x["moves"]]
    commands = "\n".join(m["command"] for m in x["moves"])
    return f"""<section class="decision" id="game-{number}-day{x['day']}-{esc(x['actor'])}">
<h3>Day {x['day']}: {esc(_actor(game, x['actor']))}</h3>
<p class="sentence">{esc(x['sentence'])}</p>
<p>Share of {_runs(x)} continuations ending in each outcome
(95% Wilson interval below), from the state at the end of day {x['state_day']}
(<a href="{esc(x['state_file'])}"><code>{esc(x['state_file'])}</code></a>) with this move forced
on day {x['day']}; "model" is the probability the model's rule gave the move there.</p>
{table(["move", "model", *OUTCOMES], rows, set(range(1, 2 + len(OUTCOMES))))}
<details><summary>Recompute these numbers</summary><pre>{esc(commands)}</pre></details>
</section>"""


def _runs(x: dict) -> str:
    first = x["moves"][0]["outcomes"]
    return f"{sum(v['runs'] for v in first.values()):,}"


def _predictions_section(g: dict) -> str:
    if not g["predictions"]:
        return ""
    finished = g["class"]["outcome"] is not None
    parts = ["<h3>Prediction sheets</h3>"]
    if finished:
        parts.append(f"<p>Each student's forecast is scored against your class's outcome "
                     f"({esc(g['class']['outcome'])}) with the multiclass Brier score: the sum "
                     "over the five classes of (forecast \u2212 what happened)\u00b2, from 0 (all "
                     "on the right class) to 2 (all on one wrong class); lower is better. The "
                     "model's own forecast, the baseline ensemble's shares, is scored the same "
                     "way as the benchmark. <em>Distance</em> is the total variation distance "
                     "from the ensemble's shares: half the sum of the absolute differences, the "
                     "largest gap the two forecasts give any set of outcomes (0 the same, 1 "
                     "nothing in common).</p>")
    else:
        parts.append("<p>The game is not finished, so it has no outcome to score the sheets "
                     "against; the table gives each student's distance from the ensemble (total "
                     "variation: half the sum of the absolute differences).</p>")
    for sheet in g["predictions"]:
        rows = [[esc(s["name"]), *(pct(s["p"][o]) for o in OUTCOME_IDS),
                 "\u2013" if s["brier"] is None else f"{s['brier']:.3f}",
                 f"{s['distance']:.3f}"] for s in sheet["students"]]
        if finished:
            rows.append(["<strong>the model (ensemble)</strong>",
                         *(pct(g["baseline"]["outcomes"][o]["probability"]) for o in OUTCOMES),
                         f"<strong>{sheet['ensemble_brier']:.3f}</strong>", "0.000"])
        parts.append(f"<p>Sheet <code>{esc(Path(sheet['file']).name)}</code>:</p>")
        parts.append(table(["student", *OUTCOMES, "Brier", "distance"], rows,
                           set(range(1, 3 + len(OUTCOMES)))))
    return "\n".join(parts)


def _game_section(g: dict, d, several: bool) -> str:
    game = d.game
    actors = {a: v.name for a, v in game.scenario.spec.actors.items()}
    cls, base = g["class"], g["baseline"]
    roles = ", ".join(f"{esc(actors[h])} ({esc(h)})" for h in g["humans"])
    status = ("finished" if g["finished"] else
              f"stopped on day {g['day']} of {g['days']} (not finished: resume it with "
              f"<code>escsim play --resume {esc(d.path.name)}</code> and let the model finish "
              "with <code>f</code> to score it)")
    injects = ""
    if g["injects"]:
        injects = ("<p>The instructor's injects are world events: they are forced in every run "
                   "of the baseline and in every continuation after their day: "
                   + ", ".join(f"<code>{esc(t)}</code>" for t in g["injects"]) + ".</p>")
    if cls["outcome"]:
        landed = (f"Your class's outcome: <strong>{esc(cls['outcome'])}</strong>. "
                  f"{pct(base['class_outcome']['probability'])} of the {base['runs']:,} runs "
                  f"ended the same way (95% interval {pct(base['class_outcome']['ci95'][0])}\u2013"
                  f"{pct(base['class_outcome']['ci95'][1])}). ")
    else:
        landed = "The game has no outcome yet. "
    landed += (f"Its peak, {esc(_rung(cls['peak_rung']))} on day {cls['peak_day']}, is at "
               f"percentile {base['peak_percentile']:.0f} of the runs' peaks: "
               f"{pct(base['peak_lower'])} peaked lower, {pct(base['peak_same'])} at the same "
               f"rung, {pct(base['peak_higher'])} higher.")
    decisions = "\n".join(_decision_section(x, game, d.number) for x in g["decisions"]) or (
        "<p>No decision by a player was recorded in this game.</p>")
    phases = "\n".join(f'<div class="phase"><h4>{k}. {esc(title)}</h4><ul>'
                       + "".join(f"<li>{esc(q)}</li>" for q in qs) + "</ul></div>"
                       for k, (title, qs) in enumerate(questions(g, actors), start=1))
    title = f"Game {d.number}: " if several else ""
    return f"""<section class="game" id="game-{d.number}">
<h2>{title}{esc(d.path.name)}, played as {roles}</h2>
<p class="meta">Scenario <code>{esc(g['scenario'])}</code> \u00b7 seed {g['seed']} \u00b7 run
{g['run']} \u00b7 {g['days']} days \u00b7 {status}</p>
{injects}
<figure><img src="{data_uri(d.chart)}" alt="The class's escalation index over the fan chart of
the baseline runs"><figcaption><strong>How to read this:</strong> the black line is your class's
game, day by day, with your decisions as red dots; the blue bands hold 50% and 90% of
{base['runs']:,} runs of the model from the same start (same scenario, seed and horizon), the
orange line is their median.</figcaption></figure>
<p>{landed}</p>
{table(["outcome", "runs", "share", "95% interval"], _outcome_rows(base['outcomes'],
       cls['outcome']), {1, 2, 3})}
<details><summary>Recompute these numbers</summary><pre>{esc(base['command'])}</pre></details>
<h3>Your decisions, replayed</h3>
<p>For each decision, {base['runs']:,} continuations of your game from the day before: with your
move, and with the moves the model's rule found likeliest there. Continuation 0 is your game
itself up to that day; the other actors, and your own actor after that day, follow the model's
rule.</p>
{decisions}
{_predictions_section(g)}
<h3>Debrief questions</h3>
<p>In the six phases of Thiagarajan's debriefing model (<a href="{THIAGARAJAN}">Thiagi
GameLetter</a>).</p>
{phases}
</section>"""


def _summary_table(numbers: dict, plans) -> str:
    rows = [[f'<a href="#game-{d.number}">{d.number}</a>', esc(d.path.name), esc(g["scenario"]),
             esc(", ".join(g["humans"])),
             esc(g["class"]["outcome"] or f"unfinished (day {g['day']})"),
             str(g["class"]["peak_rung"]), f"{g['day']} of {g['days']}",
             str(g["class"]["decisions"]),
             pct(g["baseline"]["class_outcome"]["probability"]) if g["class"]["outcome"]
             else "\u2013"]
            for g, d in zip(numbers["games"], plans, strict=True)]
    return ("<section id=\"summary\"><h2>The games side by side</h2>\n"
            + table(["game", "file", "scenario", "roles", "outcome", "peak rung", "days",
                     "decisions", "runs with that outcome"], rows, {0, 5, 6, 7, 8}, {1, 2})
            + "</section>")


def write(plans, sheets, numbers: dict, path: Path) -> Path:
    """Write the debrief page of ``plans`` (and their ``numbers``) to ``path``."""
    several = len(plans) > 1
    first = numbers["games"][0]
    title = (f"Debrief: {first['title']}" if not several else
             f"Debrief: {len(plans)} games")
    body = "\n".join(_game_section(g, d, several)
                     for g, d in zip(numbers["games"], plans, strict=True))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} \u2013 escsim</title>
<style>{PAGE_CSS}</style>
</head>
<body>
<header>
<h1>{esc(title)}</h1>
<p class="meta">{len(plans)} game{"s" * several} \u00b7 {numbers['runs']:,} runs per ensemble
and per set of continuations \u00b7 escsim {esc(__version__)}</p>
<p>Every number here is the <code>summary.json</code> of a plain <code>escsim run</code>:
the commands are under each table and in <code>commands.txt</code>; run them from this
folder, which holds the state files they continue.</p>
</header>
{_summary_table(numbers, plans) if several else ""}
{body}
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path
