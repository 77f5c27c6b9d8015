"""``escsim sweep``: outcome probabilities over a full factorial grid of parameter values.

Every point of the grid is one parameter set; ``--runs`` runs of each run on
common random numbers (:func:`sim.experiments.runner.run_sets`), so set k's
row equals ``escsim run --set PATH=V ...`` with the same seed, count for
count. The folder holds ``sweep.csv``, charts (probability against one
parameter with 95% bands, or a heatmap per outcome for two or more),
``report.html`` and ``manifest.json``.
"""

from __future__ import annotations

import csv
import itertools
import shlex
import sys
from pathlib import Path

import numpy as np

from sim.errors import InputError, Problem, printable
from sim.experiments import runner
from sim.inputs.scenario import OUTCOME_CLASSES
from sim.model.outcomes import OUTCOMES, THRESHOLDS

MAX_LISTED = 20
"""Most sets printed on the terminal and listed in the report (all are in sweep.csv)."""


def grid_table(ranges: list[runner.Range]) -> dict[str, np.ndarray]:
    """The full factorial grid: one set per combination, the first parameter varying slowest."""
    points = list(itertools.product(*(r.grid().tolist() for r in ranges)))
    return {r.path: np.array([p[k] for p in points]) for k, r in enumerate(ranges)}


def _settings(args):
    """(scenario, --vary texts, runs, seed, days, folder or None) of the command or --resume."""
    from sim.inputs.scenario import load_scenario
    if args.resume is None:
        problems = []
        if args.file is None:
            problems.append(Problem(Path("SCENARIO"), None, "", "is needed (or --resume DIR "
                                    "to complete an interrupted sweep)"))
        if not args.vary:
            problems.append(Problem(Path("--vary"), None, "", "is needed: at least one "
                                    "PATH=LO:HI:N, e.g. actors.RUS.commitments.VEN=0:1:11"))
        if problems:
            raise InputError(problems)
        scenario = load_scenario(args.file)
        seed = scenario.spec.montecarlo.seed if args.seed is None else args.seed
        return (scenario, list(args.vary), args.runs, seed,
                args.days or scenario.spec.horizon_days, None)
    given = [name for name, on in (("SCENARIO", args.file), ("--vary", args.vary),
                                   ("--seed", args.seed is not None), ("--days", args.days))
             if on]
    if given:
        raise InputError([Problem(Path("--resume"), None, "", f"completes the folder with its "
                                  f"own settings; leave out {', '.join(given)}")])
    manifest = runner.read_manifest(args.resume, "sweep")
    try:
        vary = [str(t) for t in manifest["settings"]["vary"]]
        runs, seed, days = (int(manifest[k]) for k in ("runs_per_set", "seed", "days"))
        scenario = load_scenario(Path(manifest["scenario"]))
    except (KeyError, TypeError, ValueError):
        raise InputError([Problem(Path("--resume"), None, "", f"{args.resume}: its manifest "
                                  "holds no sweep settings")]) from None
    return scenario, vary, runs, seed, days, Path(args.resume)


def main(args) -> int:
    """``escsim sweep``: run the grid, write the folder, print the rows; exit status."""
    from sim.ensemble.progress import Progress
    scenario, vary, runs, seed, days, folder = _settings(args)
    ranges = runner.parse_ranges(vary, scenario, "grid")
    table = grid_table(ranges)
    n = len(next(iter(table.values())))
    runner.check_size(n, runs, Path("--vary"))
    base = Path(args.out) / "sweep" if folder is None else folder.parent
    workers = runner.prepare(args, scenario, n, runs, days, base)
    if folder is None:
        folder = runner.start("sweep", args.out, scenario, seed, runs, days, {"vary": vary},
                              ["escsim", *sys.argv[1:]])
    progress = Progress(n * runs, quiet=args.quiet)
    command = reproduce(scenario, vary, runs, seed, days)
    try:
        results = runner.run_sets(scenario, table, runs, seed, days, folder, args, progress,
                                  workers)
        progress.close()
        write(folder, scenario, ranges, results, seed, days, command)
        final = runner.finish(folder)
    except BaseException as exc:
        progress.close()
        return runner.interrupted(exc, folder, "sweep")
    print(text_summary(scenario.name, ranges, results, seed, days))
    print(f"results: {final}\nreport: {final / 'report.html'}")
    return 0


def reproduce(scenario, vary: list[str], runs: int, seed: int, days: int) -> str:
    """The command that gives the same sweep."""
    words = ["escsim", "sweep", str(scenario.path)]
    for text in vary:
        words += ["--vary", text]
    return shlex.join(words + ["--runs", str(runs), "--seed", str(seed), "--days", str(days)])


# ---------------------------------------------------------------------- outputs ---

def header(paths: list[str]) -> list[str]:
    """sweep.csv's columns."""
    return (["set", *paths, "runs"]
            + [f"{o}{end}" for o in OUTCOME_CLASSES for end in ("", "_ci95_low", "_ci95_high")]
            + [f"first_day_mean_{t}" for t in THRESHOLDS])


def write_csv(results: runner.SetResults, path: Path):
    """``sweep.csv``: one row per set (fixed formats, so the file is byte-stable)."""
    share, ci = results.probability, results.interval()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header(list(results.table)))
        for k in range(len(share)):
            cells = [k, *(repr(float(v[k])) for v in results.table.values()), results.runs]
            for o in range(len(OUTCOME_CLASSES)):
                cells += [f"{share[k, o]:.6f}", f"{ci[k, o, 0]:.6f}", f"{ci[k, o, 1]:.6f}"]
            cells += ["" if np.isnan(d) else f"{d:.4f}" for d in results.first_day_mean[k]]
            out.writerow(cells)


def line_chart(ranges, results, caption: str):
    """Each outcome's probability against the parameter, with its 95% interval as a band."""
    from sim.results import plots
    fig, ax = plots.plt.subplots(figsize=(8, 4.8))
    x = ranges[0].grid()
    ci = results.interval()
    for o, label in enumerate(OUTCOMES):
        colour = plots.OUTCOME_COLOURS[label]
        ax.fill_between(x, ci[:, o, 0], ci[:, o, 1], color=colour, alpha=0.2, linewidth=0)
        ax.plot(x, results.probability[:, o], marker="o", ms=3, color=colour, label=label)
    ax.set(xlabel=ranges[0].path, ylabel="probability", ylim=(0, 1),
           title="Outcome probability across the sweep (bands: 95% Wilson intervals)")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    plots.footer(fig, caption)
    fig.tight_layout(rect=(0, 0.035, 1, 1))
    return fig


def pooled(ranges, results) -> np.ndarray:
    """(outcomes, n1, n2) probabilities over the first two parameters, pooling the others.

    Every set has the same runs, so the pooled share is the mean of the sets' shares.
    """
    shape = [r.n for r in ranges]
    share = results.probability.T.reshape(len(OUTCOMES), *shape)
    return share.mean(axis=tuple(range(3, share.ndim))) if share.ndim > 3 else share


def heatmap(ranges, grid: np.ndarray, o: int, caption: str):
    """One outcome's probability over the first two parameters (rows: the first)."""
    from sim.results import plots
    fig, ax = plots.plt.subplots(figsize=(7.5, 5.8))
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ys, xs = ranges[0].grid(), ranges[1].grid()
    for axis, values, set_ticks, set_labels in ((xs, xs, ax.set_xticks, ax.set_xticklabels),
                                                (ys, ys, ax.set_yticks, ax.set_yticklabels)):
        step = max(1, len(axis) // 10)
        set_ticks(range(0, len(values), step))
        set_labels([f"{v:g}" for v in values[::step]], fontsize=8)
    if grid.size <= 144:  # numbers stay legible up to a 12 x 12 grid
        for (i, j), p in np.ndenumerate(grid):
            ax.text(j, i, f"{p:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if p < 0.6 else "black")
    others = [r.path for r in ranges[2:]]
    note = ("" if not others else f"; mean over {others[0]}" if len(others) == 1
            else f"; mean over {len(others)} other parameters")
    ax.set(xlabel=ranges[1].path, ylabel=ranges[0].path,
           title=f"Probability of {OUTCOMES[o]}{note}")
    fig.colorbar(image, ax=ax, label="probability")
    plots.footer(fig, caption)
    fig.tight_layout(rect=(0, 0.035, 1, 1))
    return fig


def charts(folder: Path, ranges, results, caption: str) -> list[tuple[str, Path, str]]:
    """Draw the charts as PNG and SVG; return (name, PNG path, how to read it) of each."""
    from sim.results import plots
    out = folder / "charts"
    out.mkdir(exist_ok=True)
    drawn = []
    with plots.plt.rc_context({"svg.hashsalt": "escsim", "svg.fonttype": "none"}):
        if len(ranges) == 1:
            png = plots.save(line_chart(ranges, results, caption), out, "probability")[0]
            drawn.append(("probability", png, "each line is one outcome's share of the runs "
                          "at each value of the parameter; the band around it is its 95% "
                          "interval. Where bands overlap, the sweep cannot tell the values "
                          "apart at this number of runs."))
            return drawn
        grids = pooled(ranges, results)
        more = (f" The sweep varies {len(ranges)} parameters; the heatmaps show the first "
                "two, each cell the mean over the others' values." if len(ranges) > 2 else "")
        for o, name in enumerate(OUTCOME_CLASSES):
            png = plots.save(heatmap(ranges, grids[o], o, caption), out, f"heatmap-{name}")[0]
            drawn.append((f"heatmap-{name}", png, f"each cell is the probability of "
                          f"{OUTCOMES[o]} at one pair of values (rows: {ranges[0].path}, "
                          f"columns: {ranges[1].path}); brighter is likelier.{more}"))
    return drawn


def write(folder: Path, scenario, ranges, results, seed: int, days: int, command: str):
    """sweep.csv, the charts and report.html into ``folder``."""
    write_csv(results, folder / "sweep.csv")
    n = len(results.counts)
    caption = (f"scenario {scenario.name} | {n:,} sets x {results.runs:,} runs x {days} days | "
               f"seed {seed}")
    report(folder / "report.html", scenario, ranges, results, seed, days, command,
           charts(folder, ranges, results, caption))


def report(path: Path, scenario, ranges, results, seed: int, days: int, command: str,
           drawn) -> Path:
    """report.html: what was varied, the charts, the first sets' rows, how to reproduce."""
    from sim.results.report import CSS, data_uri, esc, pct, table
    n = len(results.counts)
    ci = results.interval()
    varied = [[f"<code>{esc(r.path)}</code>", f"{r.lo:g}", f"{r.hi:g}", f"{r.n:,}"]
              for r in ranges]
    rows = [[str(k), *(f"{float(v[k]):g}" for v in results.table.values()),
             *(f"{pct(results.probability[k, o])} ({pct(ci[k, o, 0])}\u2013"
               f"{pct(ci[k, o, 1])})" for o in range(len(OUTCOMES)))]
            for k in range(min(n, MAX_LISTED))]
    listed = (f"The first {MAX_LISTED} of {n:,} sets; every set is in <code>sweep.csv</code>."
              if n > MAX_LISTED else "Every set (also in <code>sweep.csv</code>, with the mean "
              "first-crossing day of each threshold).")
    figures = "\n".join(
        f'<figure id="{esc(name)}">\n<img src="{data_uri(png)}" alt="{esc(name)}" '
        f'data-chart="{esc(name)}">\n<figcaption><strong>How to read this:</strong> '
        f"{esc(how)}</figcaption>\n</figure>" for name, png, how in drawn)
    title = scenario.spec.title if getattr(scenario.spec, "title", None) else scenario.name
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sweep: {esc(title)} \u2013 escsim</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Sweep: {esc(title)}</h1>
<p class="meta">Scenario <code>{esc(scenario.name)}</code> \u00b7 {n:,} parameter sets x
{results.runs:,} runs of {days} days \u00b7 seed {seed} \u00b7 common random numbers</p>
</header>
<section id="varied">
<h2>What was varied</h2>
<p>A full factorial grid: every combination of these values, each parameter's points evenly
spaced from low to high. Every other parameter keeps the scenario's value. Run r of every set
draws the same random numbers, so differences between sets come from the parameters.</p>
{table(["parameter", "low", "high", "points"], varied, {1, 2, 3})}
</section>
<section id="charts">
<h2>Charts</h2>
{figures}
</section>
<section id="sets">
<h2>Outcome probabilities by set</h2>
<p>Share of each set's runs ending in each outcome, with its 95% Wilson interval. {listed}</p>
{table(["set", *[r.path for r in ranges], *OUTCOMES], rows,
       set(range(len(ranges) + 1 + len(OUTCOMES))))}
</section>
<section id="reproduce">
<h2>Reproduce</h2>
<p>Same scenario files, same command, same escsim version: the same numbers. Set k alone is
<code>escsim run</code> with <code>--set PATH=VALUE</code> for its values, the same seed, runs
and days.</p>
<pre>{esc(command)}</pre>
</section>
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def text_summary(name: str, ranges, results, seed: int, days: int) -> str:
    """What the terminal shows: the size of the sweep and the first sets' probabilities."""
    n = len(results.counts)
    lines = [f"{printable(name, None)}: sweep of {n:,} parameter sets x {results.runs:,} runs x "
             f"{days} days, seed {seed} (common random numbers)"]
    short = ["deesc", "frozen", "clash", "war", "gp"]
    lines.append("  " + "  ".join(f"{printable(r.path, 30):>30}" for r in ranges)
                 + "".join(f"{s:>8}" for s in short))
    for k in range(min(n, MAX_LISTED)):
        lines.append("  " + "  ".join(f"{float(v[k]):>30g}" for v in results.table.values())
                     + "".join(f"{p:>8.1%}" for p in results.probability[k]))
    if n > MAX_LISTED:
        lines.append(f"  ... {n - MAX_LISTED:,} more sets in sweep.csv")
    return "\n".join(lines)
