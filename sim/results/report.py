"""``report.html``: one self-contained page (charts inlined) to read on screen or print.

The page holds the scenario's description, the seed events with their
quotes, the headline numbers, every chart with a line on how to read it, the
assumptions table and the command that reproduces the run. It uses no
script and no external file, so it can be mailed, archived or printed as is.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from sim.model.outcomes import OUTCOMES, THRESHOLDS
from sim.results.headline import coercion, coercion_line
from sim.results.plots import CHARTS, SCHEME_LABELS, THRESHOLD_LABELS
from sim.stats import wilson_interval
from sim.version import __version__

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
  border-bottom: 1px solid #ccc; }
.meta { color: #555; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .5rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th, th.num { overflow-wrap: normal; white-space: normal; } .key { white-space: nowrap; }
figure { margin: 1.2rem 0; page-break-inside: avoid; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #333; }
blockquote { margin: 0; font-style: italic; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: #f5f5f5; padding: .6rem; white-space: pre-wrap; word-break: break-all; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { page-break-after: avoid; break-after: avoid; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def esc(value) -> str:
    """HTML-escape any value."""
    return html.escape(str(value), quote=True)


def data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI (the report needs no other file)."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def table(headers: list[str], rows: list[list], numeric: set[int] = frozenset(),
          keys: set[int] = frozenset()) -> str:
    """An HTML table; ``numeric`` columns right-aligned, ``keys`` (ids, codes) unbroken.

    Prose cells may break anywhere (a long source must not widen the page);
    headers break only between words, and ``keys`` not at all, or the browser
    squeezes a column of short ids down to a letter or two per line.
    """
    def cell(tag, k, v):
        cls = ' class="num"' if k in numeric else ' class="key"' if k in keys else ""
        return f"<{tag}{cls}>{v}</{tag}>"
    head = "".join(cell("th", k, esc(h)) for k, h in enumerate(headers))
    body = "\n".join("<tr>" + "".join(cell("td", k, v) for k, v in enumerate(row)) + "</tr>"
                     for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def pct(x: float) -> str:
    """A probability as a percentage with one decimal."""
    return f"{100 * x:.1f}%"


def headline_rows(rs) -> list[list]:
    """Outcome rows: name, runs, probability, 95% interval."""
    n = rs.runs
    rows = []
    for name, count in zip(OUTCOMES, rs.aggregate.outcomes, strict=True):
        lo, hi = wilson_interval(int(count), n)
        rows.append([esc(name), f"{int(count):,}", pct(count / n), f"{pct(lo)} \u2013 {pct(hi)}"])
    return rows


def coercion_paragraph(rs) -> str:
    """The coercer's success below the outcome classes (the line ``escsim run`` prints)."""
    if rs.aggregate.success is None:
        return ("<p>The coercer's success (the target complied, or its government fell) is not "
                "recorded in these results: an older escsim wrote them. Run the scenario again "
                "to see it.</p>")
    line = coercion_line(coercion(rs.aggregate, rs.days))
    return (f'<p id="coercion"><strong>{esc(line[0].upper() + line[1:])}</strong>. Beside the '
            "classes, not one of them: the share of runs in which a coercer's aim was reached, "
            "first because the target complied or because its government fell (whichever came "
            "first; a run may still end in any class), with 95% Wilson intervals.</p>")


def threshold_rows(rs, summary: dict) -> list[list]:
    """Threshold rows: name, definition, probability by the horizon, median first day."""
    rows = []
    for name in THRESHOLDS:
        t = summary["thresholds"][name]
        median = "\u2013" if t["median_first_day"] is None else f"day {t['median_first_day']}"
        rows.append([esc(THRESHOLD_LABELS[name]), esc(rs.thresholds[name]),
                     pct(t["probability"]), median])
    return rows


def event_rows(rs) -> list[list]:
    """Seed events: day, who, what, to whom, quote."""
    return [[str(ev["day"]), esc(ev["actor"]), esc(ev["action"])
             + (f" (\u00d7{ev['count']})" if ev["count"] > 1 else ""),
             esc(ev["target"] or "\u2013"), f"<blockquote>\u201c{esc(ev['quote'])}\u201d"
             "</blockquote>", esc(ev["cameo"])] for ev in rs.events]


def schedule_section(rs) -> str:
    """Moves the scenario imposes on given days, if any."""
    if not rs.schedule:
        return ""
    rows = [[str(ev["day"]), esc(ev["actor"]), esc(ev["action"]), esc(ev["target"] or "\u2013"),
             f"<blockquote>\u201c{esc(ev['quote'])}\u201d</blockquote>" if ev["quote"] else ""]
            for ev in rs.schedule]
    return ("<p>Scheduled moves: in every run these actors make these moves on these days, "
            "whatever they would choose.</p>\n"
            + table(["day", "actor", "action", "target", "source"], rows, {0}, {1, 3}))


def figures(charts, pngs: dict[str, Path]) -> str:
    """Each chart inlined as a figure, with its one-line "how to read this"."""
    return "\n".join(
        f'<figure id="{chart.name}">\n<img src="{data_uri(pngs[chart.name])}" '
        f'alt="{esc(chart.draw.__doc__.splitlines()[0])}" data-chart="{chart.name}">\n'
        f"<figcaption><strong>How to read this:</strong> {esc(chart.how_to_read)}"
        "</figcaption>\n</figure>" for chart in charts)


def write(rs, summary: dict, charts: dict[str, Path], path: Path):
    """Write the report of ``rs`` to ``path``, inlining the PNG ``charts``."""
    assumptions = [[f"<code>{esc(a['parameter'])}</code>", esc(a["value"]), esc(a["source"])]
                   for a in rs.assumptions]
    rescored = ""
    if rs.scheme != rs.run_scheme:
        rescored = (f" Charts here score the index by {esc(SCHEME_LABELS[rs.scheme])}; the run "
                    f"itself used {esc(SCHEME_LABELS[rs.run_scheme])}.")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(rs.title)} \u2013 escsim report</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{esc(rs.title)}</h1>
<p class="meta">Scenario <code>{esc(rs.name)}</code> \u00b7 {rs.runs:,} simulated runs of
{rs.days} days from {esc(rs.start_date)} \u00b7 seed {rs.seed} \u00b7 escsim {esc(__version__)}
</p>
</header>
<section id="scenario">
<h2>The scenario</h2>
<p>{esc(rs.description)}</p>
<p>Actors: {", ".join(f"{esc(name)} ({esc(aid)})" for aid, name in rs.actors.items())}.</p>
</section>
<section id="seed-events">
<h2>What happened before day 0: the seed events</h2>
<p>Coded from the source article; every quote appears in it verbatim. Negative days are
before the article (day 0).</p>
{table(["day", "actor", "action", "target", "quote", "CAMEO"], event_rows(rs), {0}, {1, 3, 5})}
{schedule_section(rs)}
</section>
<section id="headline">
<h2>Headline numbers</h2>
<p>Share of the {rs.runs:,} runs ending in each outcome after {rs.days} days, with 95%
Wilson intervals (intervals computed this way hold the model's true probability in about 95
of 100 repeated ensembles).</p>
{table(["outcome", "runs", "probability", "95% interval"], headline_rows(rs), {1, 2, 3})}
{coercion_paragraph(rs)}
{table(["threshold", "crossed when", "crossed by the horizon", "median first day"],
       threshold_rows(rs, summary), {2, 3})}
</section>
<section id="charts">
<h2>Charts</h2>
<p>The escalation index adds up each day's acts scored by their severity, with older acts
fading (a decayed sum).{rescored}</p>
{figures(CHARTS, charts)}
</section>
<section id="assumptions">
<h2>Assumptions</h2>
<p>Every parameter of the scenario, its value, and the source its file states for it.
"Assumption" marks a modelling judgement, not a measurement: change it and compare.</p>
{table(["parameter", "value", "stated source"], assumptions)}
</section>
<section id="reproduce">
<h2>Reproduce</h2>
<p>Same scenario files, same command, same escsim version: the same numbers, run for run.</p>
<pre>{esc(rs.command)}</pre>
</section>
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path
