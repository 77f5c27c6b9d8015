"""``escsim discover``: where in parameter space is an outcome likely? Scenario discovery.

A Latin hypercube of ``--n`` parameter sets over the ``--params`` ranges (McKay,
Beckman and Conover 1979, Technometrics 21(2), https://doi.org/10.2307/1268522;
sampled by SALib) runs as one ensemble, ``--runs`` runs per set on common random
numbers. A set is *of interest* when the share of its runs ending in
``--outcome`` exceeds ``--above``. PRIM, the Patient Rule Induction Method
(Friedman and Fisher 1999, Statistics and Computing 9(2),
https://doi.org/10.1023/A:1008894516817), as the EMA Workbench implements it for
scenario discovery (Bryant and Lempert 2010, Technological Forecasting and Social
Change 77(1), https://doi.org/10.1016/j.techfore.2009.08.002; Kwakkel 2017,
Environmental Modelling & Software 96, https://doi.org/10.1016/j.envsoft.2017.06.054),
peels the box of all the ranges towards the sets of interest. Each step of its
peeling trajectory trades coverage (the share of all sets of interest inside the
box) for density (the share of the box's sets that are of interest); the chosen
box is the step nearest to the ideal corner where both are 1.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim.errors import InputError, Problem, did_you_mean
from sim.inputs.scenario import OUTCOME_CLASSES

INSTALL = "escsim discover needs the EMA Workbench: python -m pip install 'escsim[discover]'"
MIN_SETS = 20
"""Fewest parameter sets: PRIM's smallest box holds 5% of them (its ``mass_min``), one set."""
DIGITS = 6
"""Design values are rounded to this many decimals, so the tables print them exactly."""
DESIGN_STREAM = 0x5D15C0
"""Mixed with the seed for the design's random numbers, apart from the runs' own streams."""


# ------------------------------------------------------------------ PRIM ---

def load_prim():
    """The EMA Workbench's PRIM module, imported without its warnings or log output.

    Importing the workbench warns that ipyparallel is missing and readies its own
    loggers; neither concerns an escsim user. Raises ImportError without the extra.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").propagate = False  # PRIM logs each step at INFO
    return prim


@dataclass(frozen=True)
class Step:
    """One box of the peeling trajectory."""

    coverage: float
    density: float
    mass: float  # share of all sets inside the box
    sets: int
    of_interest: int
    restricted: int  # parameters whose range the box narrows


@dataclass(frozen=True)
class Limit:
    """The chosen box's range of one restricted parameter, with PRIM's quasi-p-values."""

    path: str
    lower: float
    upper: float
    qp_lower: float | None  # None: the box keeps that end of the range
    qp_upper: float | None


@dataclass(frozen=True)
class Discovery:
    """PRIM's peeling trajectory and the box chosen on it."""

    trajectory: list[Step]
    chosen: int
    limits: list[Limit] = field(default_factory=list)

    @property
    def box(self) -> Step:
        """The chosen step."""
        return self.trajectory[self.chosen]


def nearest_ideal(trajectory: list[Step]) -> int:
    """The step nearest (Euclidean) to coverage 1 and density 1; the earliest of ties."""
    gaps = [math.hypot(1 - s.coverage, 1 - s.density) for s in trajectory]
    return gaps.index(min(gaps))


def _qp(value) -> float | None:
    return None if value is None or not math.isfinite(value) or value < 0 else float(value)


def discover(x: dict[str, np.ndarray], interest: np.ndarray,
             bounds: dict[str, tuple[float, float]] | None = None) -> Discovery:
    """Run PRIM on the sets ``x`` (path -> one value per set) and ``interest`` (bool per set).

    An end of a range the box does not narrow is given as in ``bounds`` (the
    range sampled), not as the nearest sampled value. With no set of
    interest, or only such sets, there is nothing to separate: the trajectory
    is the whole box alone.
    """
    y = np.asarray(interest, dtype=int)
    n, k = len(y), int(y.sum())
    if k in (0, n):
        return Discovery([Step(1.0 if k else 0.0, k / n, 1.0, n, k, 0)], 0)
    import pandas as pd
    prim = load_prim()
    frame = pd.DataFrame({path: np.asarray(v) for path, v in x.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' deprecation notes on the workbench's calls
        # a binary y counts as of interest where y >= threshold; the base rate makes every
        # peeled box, all denser than the whole, the box PRIM keeps
        finder = prim.Prim(frame, y, threshold=k / n)
        box = finder.find_box()
        peel = box.peeling_trajectory
        trajectory = [Step(float(r.coverage), float(r.density), float(r.mass), int(r.n),
                           int(r.k), int(r.res_dim)) for r in peel.itertuples()]
        chosen = nearest_ideal(trajectory)
        _, lims = box.inspect(chosen, style="data")[0]
    limits = []
    for path in x:  # the order of --params, not PRIM's order of significance
        if path in lims.index:
            lo, hi, qp_lo, qp_hi = (float(v) for v in lims.loc[path].to_numpy())
            qp_lo, qp_hi = _qp(qp_lo), _qp(qp_hi)
            if bounds is not None:
                lo = bounds[path][0] if qp_lo is None else lo
                hi = bounds[path][1] if qp_hi is None else hi
            limits.append(Limit(path, lo, hi, qp_lo, qp_hi))
    return Discovery(trajectory, chosen, limits)


# ------------------------------------------------------------------ the design ---

def design(ranges, n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` sets of a Latin hypercube over ``ranges`` (``Range`` s), reproducible per seed.

    Whole-number parameters are rounded to whole numbers, the others to :data:`DIGITS`.
    """
    from SALib.sample import latin
    problem = {"num_vars": len(ranges), "names": [r.path for r in ranges],
               "bounds": [[r.lo, r.hi] for r in ranges]}
    cube = latin.sample(problem, n, seed=np.random.default_rng([DESIGN_STREAM, seed]))
    return {r.path: np.round(cube[:, j], 0 if r.integer else DIGITS)
            for j, r in enumerate(ranges)}


# ------------------------------------------------------------------ the command ---

def check_settings(outcome: str | None, above: float | None) -> list[Problem]:
    """``--outcome`` and ``--above``: one problem each when missing or wrong."""
    problems = []
    if outcome is None:
        problems.append(Problem(Path("--outcome"), None, "", "is needed: one of "
                                + ", ".join(OUTCOME_CLASSES)))
    elif outcome not in OUTCOME_CLASSES:
        problems.append(Problem(Path(f"--outcome {outcome}"), None, "", "not an outcome; one "
                                "of " + ", ".join(OUTCOME_CLASSES),
                                did_you_mean(outcome, OUTCOME_CLASSES)))
    if above is None:
        problems.append(Problem(Path("--above"), None, "", "is needed: a probability P "
                                "between 0 and 1 (a set is of interest above it)"))
    elif not 0 < above < 1:
        problems.append(Problem(Path(f"--above {above:g}"), None, "", "must be between 0 and "
                                "1 (both excluded)"))
    return problems


@dataclass(frozen=True)
class Settings:
    """What a discovery runs, as its manifest keeps it for ``--resume``."""

    outcome: str
    above: float
    params: list[str]
    n: int

    def as_dict(self) -> dict:
        """The manifest's ``settings``."""
        return {"outcome": self.outcome, "above": self.above, "params": self.params,
                "n": self.n}


def _settings(args) -> tuple[Settings, dict | None]:
    """The settings of the command line, or of the folder ``--resume`` completes."""
    from sim.experiments import runner
    if args.resume is None:
        problems = check_settings(args.outcome, args.above)
        if args.file is None:
            problems.insert(0, Problem(Path("SCENARIO"), None, "", "is needed (or --resume "
                                       "DIR to complete an interrupted discovery)"))
        if not args.params:
            problems.append(Problem(Path("--params"), None, "", "is needed: at least one "
                                    "PATH=LO:HI, e.g. actors.RUS.commitments.VEN=0:1"))
        if args.n < MIN_SETS:
            problems.append(Problem(Path(f"--n {args.n}"), None, "", f"must be at least "
                                    f"{MIN_SETS} parameter sets"))
        if problems:
            raise InputError(problems)
        return Settings(args.outcome, args.above, list(args.params), args.n), None
    manifest = runner.read_manifest(args.resume, "discover")
    s = manifest.get("settings") or {}
    try:
        return Settings(str(s["outcome"]), float(s["above"]), [str(p) for p in s["params"]],
                        int(s["n"])), manifest
    except (KeyError, TypeError, ValueError):
        raise InputError([Problem(Path("--resume"), None, "", f"{args.resume}: its manifest "
                                  "holds no discovery settings")]) from None


def main(args) -> int:
    """``escsim discover``: run the design, find the box, write the folder; exit status."""
    from sim.ensemble.progress import Progress
    from sim.experiments import runner
    from sim.inputs.scenario import load_scenario
    settings, manifest = _settings(args)
    try:
        load_prim()
    except ImportError:
        print(INSTALL, file=sys.stderr)
        return 2
    if manifest is None:
        scenario = load_scenario(args.file)
        seed = scenario.spec.montecarlo.seed if args.seed is None else args.seed
        runs, days = args.runs, args.days or scenario.spec.horizon_days
    else:
        scenario = load_scenario(Path(manifest["scenario"]))
        seed, runs, days = manifest["seed"], manifest["runs_per_set"], manifest["days"]
    ranges = runner.parse_ranges(settings.params, scenario, "range")
    runner.check_size(settings.n, runs, Path(f"--n {settings.n}"))
    table = design(ranges, settings.n, seed)
    out = Path(args.out)
    workers = runner.prepare(args, scenario, settings.n, runs, days,
                             out / "discover" if manifest is None else Path(args.resume).parent)
    folder = (Path(args.resume) if manifest is not None else
              runner.start("discover", out, scenario, seed, runs, days, settings.as_dict(),
                           ["escsim", *sys.argv[1:]]))
    progress = Progress(settings.n * runs, quiet=args.quiet)
    try:
        results = runner.run_sets(scenario, table, runs, seed, days, folder, args, progress,
                                  workers)
        progress.close()
        found = write(folder, scenario, settings, ranges, results, seed, days)
        final = runner.finish(folder)
    except BaseException as exc:
        progress.close()
        return runner.interrupted(exc, folder, "discover")
    print(summary_text(scenario.name, settings, results, found, seed, days))
    print(f"results: {final}\nreport: {final / 'report.html'}")
    return 0


# ------------------------------------------------------------------ the outputs ---

def _num(x: float | None) -> str:
    return "" if x is None else repr(float(x))


def _csv(path: Path, header: list[str], rows: list[list]):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


def numbers(settings: Settings, ranges, results, found: Discovery) -> dict:
    """``box.json``: the question, the chosen box, its coverage and density, the trajectory."""
    box = found.box
    return {
        "outcome": settings.outcome, "above": settings.above, "sets": settings.n,
        "runs_per_set": results.runs, "sets_of_interest": found.trajectory[0].of_interest,
        "rule": "the step of the peeling trajectory nearest to coverage 1 and density 1",
        "chosen_step": found.chosen, "steps": len(found.trajectory),
        "coverage": round(box.coverage, 6), "density": round(box.density, 6),
        "mass": round(box.mass, 6), "sets_in_box": box.sets,
        "sets_of_interest_in_box": box.of_interest,
        "ranges": {r.path: [r.lo, r.hi] for r in ranges},
        "box": {lim.path: {"lower": lim.lower, "upper": lim.upper,
                           "quasi_p_lower": lim.qp_lower, "quasi_p_upper": lim.qp_upper}
                for lim in found.limits},
        "trajectory": [{"coverage": round(s.coverage, 6), "density": round(s.density, 6),
                        "mass": round(s.mass, 6), "sets": s.sets, "of_interest": s.of_interest,
                        "restricted": s.restricted} for s in found.trajectory],
    }


def write(folder: Path, scenario, settings: Settings, ranges, results, seed: int,
          days: int) -> Discovery:
    """Find the box and write sets.csv, peeling.csv, boxes.csv, box.json, charts, report."""
    from sim.results.plots import draw_all
    k = OUTCOME_CLASSES.index(settings.outcome)
    counts = results.counts[:, k]
    interest = counts / results.runs > settings.above
    found = discover(results.table, interest, {r.path: (r.lo, r.hi) for r in ranges})
    paths = list(results.table)
    ci = results.interval()[:, k]
    _csv(folder / "sets.csv",
         ["set", *paths, "runs", settings.outcome, f"{settings.outcome}_ci95_low",
          f"{settings.outcome}_ci95_high", "of_interest"],
         [[j, *(_num(results.table[p][j]) for p in paths), results.runs,
           f"{counts[j] / results.runs:.6f}", f"{ci[j, 0]:.6f}", f"{ci[j, 1]:.6f}",
           int(interest[j])] for j in range(len(counts))])
    _csv(folder / "peeling.csv",
         ["step", "coverage", "density", "mass", "sets", "of_interest", "restricted"],
         [[i, f"{s.coverage:.6f}", f"{s.density:.6f}", f"{s.mass:.6f}", s.sets, s.of_interest,
           s.restricted] for i, s in enumerate(found.trajectory)])
    bounds = {r.path: r for r in ranges}
    _csv(folder / "boxes.csv",
         ["parameter", "lower", "upper", "range_low", "range_high", "quasi_p_lower",
          "quasi_p_upper"],
         [[lim.path, _num(lim.lower), _num(lim.upper), _num(bounds[lim.path].lo),
           _num(bounds[lim.path].hi), _num(lim.qp_lower), _num(lim.qp_upper)]
          for lim in found.limits])
    data = numbers(settings, ranges, results, found)
    (folder / "box.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    view = View(scenario.name, settings, data, found, seed, days)
    pngs = draw_all(charts(), folder / "charts", view)
    write_report(view, pngs, folder / "report.html")
    return found


@dataclass(frozen=True)
class View:
    """What the chart and the report show."""

    name: str
    settings: Settings
    numbers: dict
    found: Discovery
    seed: int
    days: int


def _question(settings: Settings) -> str:
    return f"P({settings.outcome}) > {settings.above:g}"


def peeling_chart(view: View):
    """Peeling trajectory: density against coverage of each box, the chosen box marked."""
    import matplotlib.pyplot as plt

    from sim.results.plots import BLUE, GREY, VERMILLION, footer
    steps = view.found.trajectory
    cov = [s.coverage for s in steps]
    den = [s.density for s in steps]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    ax.plot(cov, den, color=GREY, lw=0.8, zorder=1)
    dots = ax.scatter(cov, den, c=[s.restricted for s in steps], cmap="viridis", s=22,
                      zorder=2)
    if len(steps) > 1:
        from matplotlib.ticker import MaxNLocator
        bar = fig.colorbar(dots, ax=ax, label="parameters restricted")
        bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    box = view.found.box
    ax.scatter([box.coverage], [box.density], marker="*", s=260, color=VERMILLION,
               edgecolors="black", zorder=3, label=f"chosen box (step {view.found.chosen})")
    ax.axhline(steps[0].density, color=BLUE, ls=":", lw=1,
               label="density of all sets (no box)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("coverage: share of all sets of interest inside the box")
    ax.set_ylabel("density: share of the box's sets that are of interest")
    ax.set_title(f"Where is {_question(view.settings)}? PRIM peeling trajectory, "
                 f"{view.name}", fontsize=11)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax.grid(alpha=0.25)
    footer(fig, f"scenario {view.name} | {view.settings.n:,} sets x "
                f"{view.numbers['runs_per_set']:,} runs x {view.days} days | seed {view.seed}")
    fig.tight_layout(rect=(0, 0.035, 1, 1))
    return fig


def charts():
    """The discovery's chart, with how to read it."""
    from sim.results.plots import Chart
    return (Chart("peeling", peeling_chart,
                  "Each dot is a box of parameter ranges PRIM passed through while peeling "
                  "from all ranges (right: every set of interest inside, low density) to a "
                  "small box (left). Higher is purer, further right covers more of the sets of "
                  "interest. The star is the chosen box: the step nearest the top right "
                  "corner. The colour counts the parameters whose range the box narrows."),)


def box_rows(found: Discovery, ranges) -> list[list[str]]:
    """Report rows of the chosen box: parameter, box range, sampled range, quasi-p-values."""
    from sim.results.report import esc
    bounds = {r.path: r for r in ranges}

    def qp(v):
        return "\u2013" if v is None else f"{v:.2g}"
    return [[f"<code>{esc(lim.path)}</code>", f"{lim.lower:.4g} \u2013 {lim.upper:.4g}",
             f"{bounds[lim.path].lo:g} \u2013 {bounds[lim.path].hi:g}", qp(lim.qp_lower),
             qp(lim.qp_upper)] for lim in found.limits]


def write_report(view: View, pngs: dict, path: Path) -> Path:
    """``report.html``: the question, the box, its coverage and density, the trajectory."""
    from sim.experiments.runner import Range
    from sim.results.report import CSS, esc, figures, pct, table
    from sim.version import __version__
    s, data, found = view.settings, view.numbers, view.found
    ranges = [Range(p, lo, hi) for p, (lo, hi) in data["ranges"].items()]
    box = found.box
    if found.limits:
        verdict = (f"<p>The chosen box (step {found.chosen} of {len(found.trajectory) - 1}) "
                   f"holds {box.sets:,} of the {s.n:,} sets; {box.of_interest:,} of them are of "
                   f"interest. <strong>Coverage {pct(box.coverage)}</strong> (of all "
                   f"{data['sets_of_interest']:,} sets of interest), <strong>density "
                   f"{pct(box.density)}</strong> (against {pct(found.trajectory[0].density)} "
                   f"over all the ranges).</p>\n"
                   + table(["parameter", "box", "range sampled", "quasi-p lower",
                            "quasi-p upper"], box_rows(found, ranges), {1, 2, 3, 4}, {0})
                   + "\n<p>Parameters not listed are not restricted: any value in their range "
                   "will do. A quasi-p-value (Bryant and Lempert 2010) is the chance of a "
                   "density this high if that limit were dropped; above 0.05 the limit may "
                   "be noise. \u2013: the box keeps that end of the range.</p>")
    else:
        verdict = (f"<p>{data['sets_of_interest']:,} of the {s.n:,} sets are of interest: "
                   "PRIM has nothing to separate, and no box is chosen. Try another "
                   "threshold or wider ranges.</p>")
    rows = [[f"<code>{esc(r.path)}</code>", f"{r.lo:g} \u2013 {r.hi:g}"] for r in ranges]
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Discovery: {esc(_question(s))}, {esc(view.name)} \u2013 escsim report</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Where is {esc(_question(s))}? Scenario discovery on {esc(view.name)}</h1>
<p class="meta">{s.n:,} parameter sets (Latin hypercube) \u00b7 {data['runs_per_set']:,} runs
of {view.days} days each \u00b7 seed {view.seed} \u00b7 escsim {esc(__version__)}</p>
</header>
<section id="question">
<h2>The question</h2>
<p>Each parameter set draws every parameter below from its range; its runs estimate the
probability that the crisis ends in <code>{esc(s.outcome)}</code>. A set is <em>of
interest</em> when that estimate exceeds {s.above:g}: {data['sets_of_interest']:,} of
{s.n:,} are. PRIM (the EMA Workbench's) looks for a box of parameter ranges holding many of
them and few others.</p>
{table(["parameter", "range sampled"], rows, {1}, {0})}
</section>
<section id="box">
<h2>The box</h2>
{verdict}
</section>
<section id="charts">
<h2>Peeling trajectory</h2>
{figures(charts(), pngs)}
</section>
<section id="files">
<h2>Files</h2>
<p><code>sets.csv</code>: every set's values, its estimated probability with a 95% Wilson
interval, and whether it is of interest. <code>peeling.csv</code>: every step of the
trajectory. <code>boxes.csv</code> and <code>box.json</code>: the chosen box.</p>
</section>
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def summary_text(name: str, settings: Settings, results, found: Discovery, seed: int,
                 days: int) -> str:
    """What the command prints: the question, the sets of interest, the box."""
    box = found.box
    lines = [f"{name}: {settings.n:,} sets x {results.runs:,} runs x {days} days, seed {seed}",
             f"  sets of interest ({_question(settings)}): {found.trajectory[0].of_interest:,} "
             f"of {settings.n:,}"]
    if not found.limits:
        lines.append("  no box: PRIM has nothing to separate")
    else:
        lines.append(f"  box (step {found.chosen} of {len(found.trajectory) - 1}): coverage "
                     f"{box.coverage:.1%}, density {box.density:.1%}, {box.sets:,} sets")
        width = max(len(lim.path) for lim in found.limits)
        lines += [f"    {lim.path:<{width}}  {lim.lower:.4g} - {lim.upper:.4g}"
                  for lim in found.limits]
    return "\n".join(lines)
