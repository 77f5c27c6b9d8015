"""``escsim calibrate`` and ``escsim backtest --cv``: fit the role presets on history.

The free parameters are some of the role presets' decision parameters
(:data:`FREE`). A space-filling design of K points (point 0 the values assumed
before any fit, then a Latin hypercube) is simulated once per case, every point a
parameter set of the same ensemble, on common random numbers: run r of every
point draws the same numbers. The table of class counts (case x point) is all
the fit and the cross-validation read: the fit picks the point with the best
total log score of the observed classes; leave-one-out picks, for each case,
the point that fits the *other* cases best and scores the held-out case
there. No fold re-simulates. Method and caveats: docs/backtest.md.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.inputs.scenario import OUTCOME_CLASSES, Scenario, load_presets, observed_classes
from sim.model.outcomes import THRESHOLDS
from sim.model.params import ParameterSets
from sim.results import scoring
from sim.version import __version__

DEFAULT_POINTS = 64
"""Design points of ``escsim calibrate`` and ``escsim backtest --cv``."""
MAX_POINTS = 10_000
"""Most design points (each is one parameter set of every case's ensemble)."""
NEAR = 1.92
"""Points whose total log score is within this of the best are the fit's neighbours: half the
95% quantile of chi-square with 1 degree of freedom, the profile-likelihood rule (Wilks)."""
DIGITS = 3
"""Design values are rounded to this many decimals, so the fitted values print exactly."""


@dataclass(frozen=True)
class Free:
    """One free parameter: a decision parameter of every actor with a role preset."""

    role: str
    param: str
    lo: float
    hi: float
    prior: float  # the value assumed from the literature before any fit (design point 0)
    why: str

    @property
    def name(self) -> str:
        """``role.param``, as the design's columns are named."""
        return f"{self.role}.{self.param}"


FREE = (
    Free("coercer", "resolve", 0.2, 1.0, 0.7, "how much force costs the challenger"),
    Free("coercer", "risk_aversion", 0.0, 2.0, 0.5, "how much the risk of war restrains climbing"),
    Free("coercer", "inertia", 0.3, 3.0, 1.2, "how often the challenger acts at all"),
    Free("coercer", "rationality", 1.0, 10.0, 4.0,
         "escalation from aims (high) or from noise (low)"),
    Free("target", "resolve", 0.2, 1.0, 0.6,
         "how hard complying is, and the target's cost of force"),
    Free("target", "reciprocity", 0.0, 2.0, 0.9, "how strongly the target answers in kind"),
    Free("target", "inertia", 0.3, 3.0, 1.0, "how often the target acts at all"),
    Free("patron", "resolve", 0.0, 1.0, 0.5, "how much force costs the patron"),
    Free("patron", "risk_aversion", 0.0, 2.0, 0.8, "how far the patron avoids a clash"),
)
"""Nine of the 24 preset values (6 parameters x 4 roles), with the values the presets
assumed before the first fit (sim/inputs/data/presets.yaml keeps their reasons). The design
never depends on the presets in force: once those are fitted on the cases, a design holding
them would let each fold choose a point chosen with its held-out case. Left out: audience
costs (they bind only after a public threat, few cases have one), the target's and patron's
rationality and inertia (a dozen cases cannot tell them from the coercer's), and the
bystander (4 cases)."""


@dataclass(frozen=True)
class Calibration:
    """The design, and every case's outcome counts at every design point."""

    folder: Path
    cases: list[Scenario]
    design: np.ndarray  # (points, free): each point's value of each free parameter
    counts: np.ndarray  # (cases, points, classes): runs ending in each class
    crossed: np.ndarray  # (cases, points, thresholds): runs crossing by the observed day; -1
    runs: int
    seed: int
    free: tuple[Free, ...] = FREE

    @property
    def points(self) -> int:
        """Number of design points."""
        return len(self.design)

    def probabilities(self) -> np.ndarray:
        """(cases, points, classes): the shares of each case's runs at each point."""
        return self.counts / self.runs

    def command(self, verb: str = "calibrate") -> str:
        """The command that gives the same table."""
        head = ["escsim", "calibrate"] if verb == "calibrate" else ["escsim", "backtest"]
        tail = ["--cv"] if verb != "calibrate" else []
        return shlex.join([*head, str(self.folder), *tail, "--points", str(self.points),
                           "--runs", str(self.runs), "--seed", str(self.seed)])


# ------------------------------------------------------------------ the design ---

def latin_hypercube(points: int, dims: int, seed: int) -> np.ndarray:
    """``points`` points in [0, 1)^dims, one in each of ``points`` equal slices of every axis.

    McKay, Beckman and Conover 1979, "A Comparison of Three Methods for Selecting Values of
    Input Variables in the Analysis of Output from a Computer Code", Technometrics 21(2).
    """
    rng = np.random.default_rng(seed)
    slices = np.stack([rng.permutation(points) for _ in range(dims)], axis=1)
    return (slices + rng.random((points, dims))) / points


def make_design(points: int, seed: int, free: tuple[Free, ...] = FREE) -> np.ndarray:
    """Point 0 the values assumed before any fit, points 1 .. K-1 a Latin hypercube."""
    lo, hi = np.array([f.lo for f in free]), np.array([f.hi for f in free])
    cube = lo + (hi - lo) * latin_hypercube(points - 1, len(free), seed)
    return np.round(np.vstack([[f.prior for f in free], cube]), DIGITS)


def case_table(case: Scenario, design: np.ndarray, free: tuple[Free, ...] = FREE
               ) -> dict[str, np.ndarray]:
    """Parameter paths of ``case`` to their value at every design point.

    A free parameter goes to every actor whose preset is its role and whose files leave
    the parameter to the preset; a value a file sets explicitly keeps its value.
    """
    presets_file = Path(str(load_presets()[1].path))
    table = {}
    for k, f in enumerate(free):
        for aid in case.actor_ids:
            actor = case.spec.actors[aid]
            where = case.where.get(("actors", aid, f.param))
            if actor.preset == f.role and where is not None and Path(where[0]) == presets_file:
                table[f"actors.{aid}.{f.param}"] = design[:, k]
    return table


# ------------------------------------------------------------------ simulating ---

def _crossings(case: Scenario, points: int, sets: bool) -> tuple[np.ndarray, callable]:
    """Runs crossing each threshold by its observed day, per point, and their counter.

    The counter is an ``on_rows`` callback that reads runs.csv rows as they come.
    """
    days = [getattr(case.spec.observed.first_days, name) for name in THRESHOLDS]
    crossed = np.array([[0 if d is not None else -1 for d in days]] * points, dtype=np.int64)
    first = 2 + sets  # runs.csv: [set,] run, outcome, first_<threshold> ...

    def on_rows(text: str):
        for line in text.splitlines():
            cells = line.split(",", first + len(THRESHOLDS))
            k = int(cells[0]) if sets else 0
            for t, day in enumerate(days):
                value = cells[first + t]
                if day is not None and value and int(value) <= day:
                    crossed[k, t] += 1
    return crossed, on_rows


def simulate_case(case: Scenario, design: np.ndarray, runs: int, seed: int,
                  free: tuple[Free, ...] = FREE, **ensemble_options
                  ) -> tuple[np.ndarray, np.ndarray]:
    """One ensemble of ``case`` over every design point.

    Returns (points, classes) outcome counts and (points, thresholds) crossings by the
    observed day (-1: no observed day). Every point is a parameter set with ``runs`` runs on
    common random numbers. A case with no free parameter is run once: every point gives the
    same runs.
    """
    from sim.ensemble.montecarlo import run_ensemble
    table = case_table(case, design, free)
    points = len(design)
    sets = ParameterSets(case, table, source=str(case.path)) if table else None
    per_set = sets is not None and sets.n_sets > 1
    crossed, on_rows = _crossings(case, points if per_set else 1, per_set)
    ens = run_ensemble(case, runs=runs, seed=seed, keep=0, parameters=sets, on_rows=on_rows,
                       **ensemble_options)
    if per_set:
        return ens.set_outcomes.copy(), crossed
    counts = np.asarray(ens.aggregate.outcomes, dtype=np.int64)
    return np.tile(counts, (points, 1)), np.tile(crossed, (points, 1))


def calibrate(folder: Path, cases: list[Scenario], points: int, runs: int, seed: int,
              free: tuple[Free, ...] = FREE, design: np.ndarray | None = None,
              **ensemble_options) -> Calibration:
    """Simulate every case over the design (``make_design`` unless given)."""
    design = make_design(points, seed, free) if design is None else np.asarray(design, float)
    counts, crossed = zip(*(simulate_case(c, design, runs, seed, free, **ensemble_options)
                            for c in cases), strict=True)
    return Calibration(Path(folder), cases, design, np.stack(counts), np.stack(crossed), runs,
                       seed, free)


# ------------------------------------------------------------------ fit and folds ---

def score_table(cal: Calibration, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cases, points) log scores (floored at 1/(runs + 1)) and Brier scores."""
    p = cal.probabilities()
    n_cases, points, _ = p.shape
    flat, obs = p.reshape(-1, p.shape[2]), np.repeat(observed, points)
    floor = scoring.run_floor(cal.runs)
    return (scoring.log_score(flat, obs, floor).reshape(n_cases, points),
            scoring.brier(flat, obs).reshape(n_cases, points))


def best_point(log: np.ndarray, use: np.ndarray | None = None) -> int:
    """The design point with the highest total log score over the cases ``use`` (all: None).

    Ties go to the lower point, so the values assumed before any fit (point 0) win a tie.
    """
    rows = log if use is None else log[use]
    return int(np.argmax(rows.sum(axis=0)))


def folds(log: np.ndarray) -> np.ndarray:
    """Leave-one-out: for each case, the point that fits every other case best."""
    n = len(log)
    return np.array([best_point(log, np.arange(n) != i) for i in range(n)], dtype=np.int64)


def fit(cal: Calibration, alternative: bool = False) -> dict:
    """The best point over all cases, its values, scores and neighbours (``fit.json``)."""
    log, brier = score_table(cal, observed_classes(cal.cases, alternative))
    total = log.sum(axis=0)
    best = best_point(log)
    near = np.nonzero(total >= total[best] - NEAR)[0]
    return {
        "criterion": "total log score of the observed classes (maximum likelihood), p floored "
                     "at 1/(runs + 1)",
        "points": cal.points, "runs_per_point": cal.runs, "seed": cal.seed,
        "best_point": best,
        "values": {f.name: float(cal.design[best, k]) for k, f in enumerate(cal.free)},
        "neighbours": {"rule": f"points whose total log score is within {NEAR} of the best",
                       "points": near.tolist(),
                       "range": {f.name: [float(cal.design[near, k].min()),
                                          float(cal.design[near, k].max())]
                                 for k, f in enumerate(cal.free)}},
        "in_sample": {"log_total": round(float(total[best]), 6),
                      "log_mean": round(float(log[:, best].mean()), 6),
                      "brier_mean": round(float(brier[:, best].mean()), 6)},
        "prior": {"point": 0, "log_total": round(float(total[0]), 6),
                             "log_mean": round(float(log[:, 0].mean()), 6),
                             "brier_mean": round(float(brier[:, 0].mean()), 6)},
        "free": [{"name": f.name, "low": f.lo, "high": f.hi, "prior": f.prior, "why": f.why}
                 for f in cal.free],
    }


# ------------------------------------------------------------------ files ---

def _csv(rows: list[list], path: Path):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def write_tables(cal: Calibration, folder: Path):
    """Write ``design.csv`` and ``table.csv``.

    ``design.csv``: a point per row, its values and total scores; ``table.csv``: a row per
    case and point, with class counts, shares, scores and crossings by the observed day.
    """
    log, brier = score_table(cal, observed_classes(cal.cases))
    _csv([["point", *(f.name for f in cal.free), "log_total", "brier_mean"]]
         + [[k, *(f"{v:g}" for v in cal.design[k]), f"{log[:, k].sum():.6f}",
             f"{brier[:, k].mean():.6f}"] for k in range(cal.points)], folder / "design.csv")
    head = ["case", "point", "runs", *(f"n_{c}" for c in OUTCOME_CLASSES),
            *(f"p_{c}" for c in OUTCOME_CLASSES), "log_score", "brier",
            *(f"p_{t}_by_day" for t in THRESHOLDS)]
    rows = [head]
    p = cal.probabilities()
    for i, case in enumerate(cal.cases):
        for k in range(cal.points):
            rows.append([case.name, k, cal.runs, *cal.counts[i, k].tolist(),
                         *(f"{v:.6f}" for v in p[i, k]), f"{log[i, k]:.6f}",
                         f"{brier[i, k]:.6f}",
                         *("" if n < 0 else f"{n / cal.runs:.6f}" for n in cal.crossed[i, k])])
    _csv(rows, folder / "table.csv")


def profile_chart(cal: Calibration):
    """Total log score of every design point against each free parameter's value."""
    import matplotlib.pyplot as plt

    from sim.results.plots import BLUE, GREY, footer
    total = score_table(cal, observed_classes(cal.cases))[0].sum(axis=0)
    best = best_point(score_table(cal, observed_classes(cal.cases))[0])
    cols = 3
    rows = -(-len(cal.free) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.8 * rows + 0.6), dpi=110,
                             sharey=True, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(cal.free):
            ax.set_visible(False)
            continue
        ax.scatter(cal.design[:, k], total, s=12, color=BLUE, alpha=0.7)
        ax.scatter(cal.design[0, k], total[0], s=40, marker="s", facecolors="none",
                   edgecolors=GREY, label="assumed before any fit")
        ax.scatter(cal.design[best, k], total[best], s=60, marker="*", color="black",
                   label="fit")
        ax.set_xlabel(cal.free[k].name, fontsize=9)
        ax.grid(alpha=0.25)
        if k % cols == 0:
            ax.set_ylabel("total log score", fontsize=9)
    axes.flat[0].legend(fontsize=7, frameon=False, loc="lower left")
    fig.suptitle("Fit to the observed classes at each design point, by parameter",
                 fontsize=11)
    footer(fig, f"calibration of {cal.folder} | {len(cal.cases)} cases x {cal.points} points "
                f"x {cal.runs:,} runs | seed {cal.seed}")
    fig.tight_layout(rect=(0, 0.035, 1, 1))
    return fig


def charts():
    """The calibration's chart, with how to read it."""
    from sim.results.plots import Chart
    return (Chart("profile", profile_chart,
                  "One dot per design point in every panel: its total log score over the cases "
                  "(higher fits better) against that parameter's value. A clear ridge means "
                  "the cases pin the parameter down; a flat cloud, that they do not. The star "
                  "is the fit, the square the values assumed before any fit (point 0)."),)


def manifest(cal: Calibration, argv: list[str], verb: str = "calibrate") -> dict:
    """Inputs (with the SHA-256 of every file read and of the presets), versions, command."""
    import datetime as dt
    import platform

    from sim.results.folders import file_sha256
    presets = Path(str(load_presets()[1].path))
    return {
        "folder": str(cal.folder), "points": cal.points, "runs_per_point": cal.runs,
        "seed": cal.seed,
        "cases": {c.name: {"files": {str(f): c.file_sha256[f] for f in c.files},
                           "inputs_sha256": c.sha256} for c in cal.cases},
        "presets": {"file": str(presets), "sha256": file_sha256(presets)},
        "versions": {"escsim": __version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "command": argv, "reproduce": cal.command(verb),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write_folder(cal: Calibration, folder: Path, argv: list[str]) -> dict:
    """design.csv, table.csv, fit.json, manifest.json, charts/ and report.html."""
    numbers = fit(cal)
    write_tables(cal, folder)
    (folder / "fit.json").write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(manifest(cal, argv), indent=2) + "\n",
                                          encoding="utf-8")
    from sim.results.plots import draw_all
    pngs = draw_all(charts(), folder / "charts", cal)
    write_report(cal, numbers, pngs, folder / "report.html")
    return numbers


def run_to_folder(folder: Path, cases: list[Scenario], out: Path, points: int, runs: int,
                  seed: int, argv: list[str] | None = None, **ensemble_options
                  ) -> tuple[Path, Calibration, dict]:
    """Calibrate on ``cases`` into a new folder ``out/calibrate/<id>/`` (atomic)."""
    from sim.results import folders
    cal = calibrate(folder, cases, points, runs, seed, **ensemble_options)
    parent = Path(out) / "calibrate"
    final = parent / folders.new_folder_name(parent, seed)
    with folders.staging(final) as tmp:
        numbers = write_folder(cal, tmp, list(sys.argv if argv is None else argv))
    return final, cal, numbers


def fit_rows(cal: Calibration, numbers: dict) -> list[list[str]]:
    """Each free parameter: range, prior (point 0), fit and the neighbours' range."""
    near = numbers["neighbours"]["range"]
    return [[f.name, f"{f.lo:g} to {f.hi:g}", f"{cal.design[0, k]:g}",
             f"{numbers['values'][f.name]:g}", f"{near[f.name][0]:g} to {near[f.name][1]:g}",
             f.why] for k, f in enumerate(cal.free)]


def text_summary(cal: Calibration, numbers: dict) -> str:
    """What ``escsim calibrate`` prints: the fit, parameter by parameter, and its scores."""
    lines = [f"calibration: {len(cal.cases)} cases x {cal.points} points x {cal.runs:,} runs, "
             f"seed {cal.seed}; fit: point {numbers['best_point']} (best total log score)",
             f"  {'parameter':<26} {'range':>12} {'prior':>8} {'fit':>8}  neighbours "
             f"({len(numbers['neighbours']['points'])} points within {NEAR})"]
    lines += [f"  {name:<26} {rng:>12} {now:>8} {best:>8}  {near}"
              for name, rng, now, best, near, _ in fit_rows(cal, numbers)]
    for label, key in (("fit (in-sample)", "in_sample"), ("prior (point 0)", "prior")):
        s = numbers[key]
        lines.append(f"  {label:<18} mean log score {s['log_mean']:+.3f}, mean Brier "
                     f"{s['brier_mean']:.3f}")
    return "\n".join(lines)


def write_report(cal: Calibration, numbers: dict, pngs: dict, path: Path):
    """``report.html``: the fit, the design and the profile chart on one page."""
    from sim.results.report import CSS, esc, figures, table
    rows = [[esc(c) for c in r] for r in fit_rows(cal, numbers)]
    ins, now = numbers["in_sample"], numbers["prior"]
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Calibration on {esc(cal.folder)} \u2013 escsim report</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Calibration: {len(cal.cases)} historical crises, {cal.points} design points</h1>
<p class="meta">Cases from <code>{esc(cal.folder)}</code> \u00b7 {cal.runs:,} runs per case
and point \u00b7 seed {cal.seed} \u00b7 escsim {esc(__version__)}</p>
</header>
<section id="fit">
<h2>The fit</h2>
<p>Point 0 is the values assumed before any fit (the prior); points 1 to
{cal.points - 1} a Latin hypercube over the ranges. Every case was simulated once over all
points, on common random numbers. The fit is the point with the highest total log score of
the observed classes ({esc(numbers['criterion'])}): point {numbers['best_point']}. Its
neighbours are the {len(numbers['neighbours']['points'])} points within {NEAR} of that total;
their range shows how loosely the cases pin each value down. These are
<strong>in-sample</strong> scores: <code>escsim backtest --cv</code> gives the out-of-sample
ones.</p>
{table(["parameter", "range", "prior", "fit", "neighbours", "what it sets"], rows,
       {1, 2, 3, 4}, {0})}
<p>Mean log score over the cases: fit {ins['log_mean']:+.3f}, prior {now['log_mean']:+.3f};
mean Brier: fit {ins['brier_mean']:.3f}, prior {now['brier_mean']:.3f}.</p>
</section>
<section id="charts">
<h2>Chart</h2>
{figures(charts(), pngs)}
</section>
<section id="files">
<h2>Files</h2>
<p><code>design.csv</code>: every point's values and total scores. <code>table.csv</code>: a
row per case and point with the class counts and shares, scores and the shares crossing
each threshold by its observed day. <code>fit.json</code>: the numbers above.</p>
</section>
<section id="reproduce">
<h2>Reproduce</h2>
<pre>{esc(cal.command())}</pre>
</section>
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path


# ------------------------------------------------------------------ cross-validation ---

@dataclass(frozen=True)
class CrossValidation:
    """Leave-one-out folds on a calibration table: each case at a point chosen without it."""

    calibration: Calibration
    folds: np.ndarray  # (cases,): the point that fits every other case best
    best: int  # the point that fits every case best (in-sample)

    @classmethod
    def of(cls, cal: Calibration) -> CrossValidation:
        """The folds of ``cal``, fitted on the observed classes."""
        log = score_table(cal, observed_classes(cal.cases))[0]
        return cls(cal, folds(log), best_point(log))

    def held_out(self) -> tuple[np.ndarray, np.ndarray]:
        """Each case's (classes) counts and (thresholds) crossings at its own fold's point."""
        rows = np.arange(len(self.folds))
        return (self.calibration.counts[rows, self.folds],
                self.calibration.crossed[rows, self.folds])

    def at(self, point: int) -> np.ndarray:
        """Every case's (cases, classes) counts at one design point."""
        return self.calibration.counts[:, point]
