"""``escsim backtest``: score the model's outcome probabilities on coded historical crises.

A case is a scenario file with an ``observed:`` block (docs/scenario-format.md).
Each case is simulated on the ensemble engine; its five class probabilities
are the shares of its runs, gathered in one array (cases x classes) by
:func:`class_probabilities`, which the scores in :mod:`sim.results.scoring`
read. The model is compared with two forecasts that ignore the case: the
uniform guess and the base rates of a reference class of International
Crisis Behavior (ICB) crises. Method and caveats: docs/backtest.md.
"""

from __future__ import annotations

import csv
import io
import json
import platform
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim.errors import InputError, Problem, did_you_mean, printable
from sim.inputs import yamlio
from sim.inputs.scenario import OUTCOME_CLASSES, Scenario, load_scenario, observed_classes
from sim.inputs.schema import Int, Record, Str, validate
from sim.model.outcomes import THRESHOLDS
from sim.results import scoring
from sim.version import __version__

if TYPE_CHECKING:
    from sim.results.calibrate import CrossValidation

BASE_RATES_FILE = "icb_base_rates.yaml"
README = "README.md"
MAX_CASES = 500
"""Most cases in one backtest (the per-case chart and table have one row each)."""
BASELINES = ("uniform", "base_rates")


class ClassCounts(Record):
    """Crises of the reference class in each outcome class."""

    deescalated: Int = Field(ge=0)
    frozen: Int = Field(ge=0)
    militarized_clash: Int = Field(ge=0)
    war: Int = Field(ge=0)
    great_power_confrontation: Int = Field(ge=0)


class BaseRates(Record):
    """The base-rate table: which crises were counted, from where, and how they were classed."""

    reference_class: Str
    source: Str
    mapping: Str
    counts: ClassCounts
    total: Int = Field(ge=1)
    note: Str = ""


@dataclass(frozen=True)
class Backtest:
    """The cases, what their runs produced, and the base rates they are compared with."""

    folder: Path
    cases: list[Scenario]
    counts: np.ndarray  # (cases, classes): runs ending in each outcome class
    crossed: np.ndarray  # (cases, thresholds): runs crossing by the observed day; -1 if none
    runs: int
    seed: int
    base: BaseRates
    base_file: Path
    selection: str  # the first paragraph of the folder's README.md
    cv: CrossValidation | None = None  # with --cv: counts and crossed are the held-out ones

    @property
    def command(self) -> str:
        """The command that gives the same numbers."""
        import shlex
        if self.cv is not None:
            return self.cv.calibration.command("backtest")
        return shlex.join(["escsim", "backtest", str(self.folder), "--runs", str(self.runs),
                           "--seed", str(self.seed)])


# ------------------------------------------------------------------ reading the cases ---

def _folder_problem(folder: Path, message: str) -> InputError:
    return InputError([Problem(folder, None, "", message)])


def find_cases(folder: Path) -> tuple[list[Scenario], list[str]]:
    """Load every case file of ``folder``; return the cases and a note per file left out.

    A case file is a ``*.yaml`` file (not ``*.events.yaml``, not the base-rate
    table) whose top level has ``observed:`` (or a near miss, so a misspelt
    block is reported rather than skipped). Every problem of every case is
    reported together.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise _folder_problem(folder, "no such folder" if not folder.exists() else
                              "is a file, expected a folder of case files")
    files = sorted(p for p in folder.glob("*.yaml") if not p.name.startswith(".")
                   and not p.name.endswith(".events.yaml") and p.name != BASE_RATES_FILE)
    cases, notes, problems = [], [], []
    for path in files:
        try:
            doc = yamlio.load(path)
            keys = doc.data if isinstance(doc.data, dict) else {}
            if not any(k == "observed" or did_you_mean(k, ["observed"]) for k in keys):
                notes.append(f"note: {printable(path, None)}: left out (no observed: block)")
                continue
            cases.append(load_scenario(path))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    if not cases:
        raise _folder_problem(folder, f"no case file with an observed: block among its "
                              f"{len(files)} scenario files")
    if len(cases) > MAX_CASES:
        raise _folder_problem(folder, f"{len(cases)} cases; at most {MAX_CASES} per backtest")
    return cases, notes


def base_rates_file(folder: Path) -> Path:
    """The folder's own base-rate table if it has one, else the packaged ICB table."""
    own = Path(folder) / BASE_RATES_FILE
    if own.exists():
        return own
    return Path(str(resources.files("sim.inputs") / "data" / BASE_RATES_FILE))


def load_base_rates(folder: Path) -> tuple[BaseRates, Path]:
    """Read and check the base-rate table that scores ``folder``'s cases."""
    path = base_rates_file(folder)
    doc = yamlio.load(path)
    table = validate(BaseRates, doc)
    counted = sum(n for _, n in table.counts)
    if counted != table.total:
        raise InputError([doc.problem(("total",), f"must be the sum of the counts, "
                                      f"{counted}, got {table.total}")])
    return table, path


def selection_note(folder: Path) -> str:
    """The first paragraph of the folder's README.md (its case-selection rule), or ''."""
    path = Path(folder) / README
    if not path.is_file():
        return ""
    paragraph: list[str] = []
    for line in yamlio.read_text(path).splitlines():
        text = line.strip()
        if text.startswith("#") and not paragraph:
            continue  # the title
        if not text:
            if paragraph:
                break
            continue
        paragraph.append(text)
    return " ".join(paragraph)


# ------------------------------------------------------------------ forecasts and scores --

def class_probabilities(counts: np.ndarray) -> np.ndarray:
    """The model's forecast: each case's share of runs in each class, (cases, classes)."""
    counts = np.asarray(counts, dtype=float)
    return counts / counts.sum(axis=1, keepdims=True)


def simulate(cases: list[Scenario], runs: int, seed: int, **ensemble_options
             ) -> tuple[np.ndarray, np.ndarray]:
    """Run every case to its horizon; return outcome counts and crossings by the observed day.

    The second array counts, for each threshold with an observed first day,
    the runs that crossed it by that day (-1 where the case gives no day).
    """
    from sim.ensemble.montecarlo import run_ensemble
    counts = np.zeros((len(cases), len(OUTCOME_CLASSES)), dtype=np.int64)
    crossed = np.full((len(cases), len(THRESHOLDS)), -1, dtype=np.int64)
    for i, case in enumerate(cases):
        agg = run_ensemble(case, runs=runs, seed=seed, keep=0, **ensemble_options).aggregate
        counts[i] = agg.outcomes
        for k, name in enumerate(THRESHOLDS):
            day = getattr(case.spec.observed.first_days, name)
            if day is not None:
                crossed[i, k] = agg.first[k, :day + 1].sum()
    return counts, crossed


def _interval(values: np.ndarray) -> dict:
    mean, lo, hi = scoring.bootstrap(values)
    return {"mean": round(mean, 6), "ci95": [round(lo, 6), round(hi, 6)]}


def coding_scores(p: np.ndarray, observed: np.ndarray, floor: float, base: np.ndarray) -> dict:
    """Mean Brier and log scores of the model and both baselines, and the paired differences.

    Each with its 95% bootstrap interval over the cases.
    """
    forecasts = {"model": p, "uniform": np.full_like(p, 1 / p.shape[1]),
                 "base_rates": np.broadcast_to(base, p.shape)}
    out = {}
    for score, rule in (("brier", scoring.brier), ("log", scoring.log_score)):
        args = (floor,) if score == "log" else ()
        per_case = {name: rule(q, observed, *args) for name, q in forecasts.items()}
        out[score] = {name: _interval(v) for name, v in per_case.items()}
        for name in BASELINES:
            out[score][f"model_minus_{name}"] = _interval(per_case["model"] - per_case[name])
    return out


def scores(bt: Backtest) -> dict:
    """Everything ``scores.json`` holds (docs/backtest.md describes each field)."""
    p = class_probabilities(bt.counts)
    floor = scoring.run_floor(bt.runs)
    base = scoring.base_rates([n for _, n in bt.base.counts])
    recoded = sum(1 for c in bt.cases if c.spec.observed.alternative)
    return {
        "cases": len(bt.cases), "runs_per_case": bt.runs, "seed": bt.seed,
        "classes": list(OUTCOME_CLASSES),
        "log_floor": round(floor, 9),
        "bootstrap": {"resamples": scoring.RESAMPLES, "seed": scoring.BOOTSTRAP_SEED,
                      "interval": "95% percentile, cases resampled with replacement"},
        "base_rates": {"file": str(bt.base_file), "source": bt.base.source,
                       "counts": dict(bt.base.counts), "total": bt.base.total,
                       "zero_count_share": scoring.ZERO_COUNT_SHARE,
                       "probabilities": {c: round(float(v), 6)
                                         for c, v in zip(OUTCOME_CLASSES, base, strict=True)}},
        "observed": coding_scores(p, observed_classes(bt.cases), floor, base),
        "alternative": {"cases_recoded": recoded,
                        **coding_scores(p, observed_classes(bt.cases, True), floor, base)},
        **({} if bt.cv is None else {"cross_validation": cv_scores(bt.cv, floor, base)}),
    }


def cv_scores(cv: CrossValidation, floor: float, base: np.ndarray) -> dict:
    """With ``--cv``: how the folds were chosen, and the in-sample scores beside them."""
    from sim.results.calibrate import NEAR, fit
    cal = cv.calibration
    observed = observed_classes(cal.cases)
    values = fit(cal)["values"]
    return {
        "method": "leave-one-out: each case is scored at the design point with the best total "
                  "log score over the other cases; 'observed' and 'alternative' above are these "
                  "out-of-sample scores (the alternative codings score the same forecasts)",
        "points": cal.points, "runs_per_point": cal.runs, "near": NEAR,
        "folds": {c.name: int(k) for c, k in zip(cal.cases, cv.folds, strict=True)},
        "in_sample": {"point": cv.best, "values": values,
                      **coding_scores(class_probabilities(cv.at(cv.best)), observed, floor,
                                      base)},
        "prior": {"point": 0, **coding_scores(class_probabilities(cv.at(0)), observed, floor,
                                              base)},
    }


def _num(x: float) -> str:
    return f"{x:.6f}"


def case_rows(bt: Backtest) -> list[dict[str, str]]:
    """One row per case, as ``cases.csv`` and the report show it (the same text)."""
    p = class_probabilities(bt.counts)
    floor = scoring.run_floor(bt.runs)
    observed = observed_classes(bt.cases)
    if bt.cv is not None:
        in_sample = class_probabilities(bt.cv.at(bt.cv.best))
    rows = []
    for alternative in (False, True):
        obs = observed_classes(bt.cases, alternative)
        columns = (scoring.brier(p, obs), scoring.log_score(p, obs, floor),
                   scoring.rank(p, obs), p[np.arange(len(p)), obs])
        rows.append(list(zip(*columns, strict=True)))
    out = []
    for i, case in enumerate(bt.cases):
        o = case.spec.observed
        (b, lg, r, po), (b2, lg2, r2, pa) = rows[0][i], rows[1][i]
        row = {"case": case.name, "file": str(case.path), "observed": o.outcome,
               "alternative": o.alternative or "", "runs": str(bt.runs),
               **{f"p_{c}": _num(v) for c, v in zip(OUTCOME_CLASSES, p[i], strict=True)},
               "p_observed": _num(po), "rank": str(r), "brier": _num(b), "log_score": _num(lg)}
        alt = o.alternative is not None
        row.update({"p_alternative": _num(pa) if alt else "", "rank_alternative":
                    str(r2) if alt else "", "brier_alternative": _num(b2) if alt else "",
                    "log_score_alternative": _num(lg2) if alt else ""})
        for k, name in enumerate(THRESHOLDS):
            day = getattr(o.first_days, name)
            row[f"day_{name}"] = "" if day is None else str(day)
            row[f"p_{name}_by_day"] = "" if day is None else _num(bt.crossed[i, k] / bt.runs)
        if bt.cv is not None:
            row["cv_point"] = str(bt.cv.folds[i])
            row["p_observed_in_sample"] = _num(in_sample[i, observed[i]])
        out.append(row)
    return out


def text_summary(bt: Backtest, numbers: dict) -> str:
    """The short table ``escsim backtest`` prints: per case, then the overall scores."""
    rows = case_rows(bt)
    width = max(12, *(len(printable(r["case"], None)) for r in rows))
    lines = [f"backtest: {len(rows)} cases x {bt.runs:,} runs, seed {bt.seed}"
             + ("" if bt.cv is None else f", leave-one-out over {bt.cv.calibration.points} "
                "design points: OUT-OF-SAMPLE (each case at the point fitted on the others)"),
             f"  {'case':<{width}} {'observed':<26} {'p(observed)':>11} {'rank':>4}"]
    lines += [f"  {printable(r['case'], None):<{width}} {r['observed']:<26} "
              f"{float(r['p_observed']):>11.3f} {r['rank']:>4}" for r in rows]
    for score, better in (("brier", "lower"), ("log", "higher")):
        s = numbers["observed"][score]
        lines.append(f"  {'Brier' if score == 'brier' else 'log score'} ({better} is better), "
                     "mean over cases [95% bootstrap interval]:")
        lines += [f"    {label:<26} {_ci(s[key])}" for key, label in SCORE_ROWS]
        if bt.cv is not None:
            ins = numbers["cross_validation"]["in_sample"]
            lines.append(f"    {'model in-sample (fit)':<26} {_ci(ins[score]['model'])}")
    return "\n".join(lines)


SCORE_ROWS = (("model", "model"), ("uniform", "uniform guess (1/5 each)"),
              ("base_rates", "ICB base rates"), ("model_minus_uniform", "model - uniform"),
              ("model_minus_base_rates", "model - base rates"))


def _ci(entry: dict) -> str:
    lo, hi = entry["ci95"]
    return f"{entry['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}]"


# ------------------------------------------------------------------ the results folder ---

def write_cases_csv(rows: list[dict[str, str]], path: Path):
    """``cases.csv``: one row per case, columns as docs/backtest.md lists them."""
    buffer = io.StringIO()
    out = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    out.writeheader()
    out.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def manifest(bt: Backtest, argv: list[str]) -> dict:
    """Inputs (with the SHA-256 of every file read), versions and the command."""
    import datetime as dt

    import matplotlib

    from sim.results.folders import file_sha256
    return {
        "folder": str(bt.folder), "runs_per_case": bt.runs, "seed": bt.seed,
        "cases": {c.name: {"files": {str(f): c.file_sha256[f] for f in c.files},
                           "inputs_sha256": c.sha256} for c in bt.cases},
        "base_rates": {"file": str(bt.base_file), "sha256": file_sha256(bt.base_file)},
        "versions": {"escsim": __version__, "numpy": np.__version__,
                     "matplotlib": matplotlib.__version__,
                     "python": platform.python_version()},
        "command": argv, "reproduce": bt.command,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write_folder(bt: Backtest, folder: Path, argv: list[str]) -> dict:
    """Write cases.csv, scores.json, manifest.json, charts/ and report.html into ``folder``."""
    numbers = scores(bt)
    rows = case_rows(bt)
    write_cases_csv(rows, folder / "cases.csv")
    (folder / "scores.json").write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(manifest(bt, argv), indent=2) + "\n",
                                          encoding="utf-8")
    from sim.results.plots import draw_all
    pngs = draw_all(charts(), folder / "charts", bt)
    if bt.cv is not None:
        from sim.results import calibrate
        calibrate.write_tables(bt.cv.calibration, folder)
        (folder / "fit.json").write_text(json.dumps(calibrate.fit(bt.cv.calibration), indent=2)
                                         + "\n", encoding="utf-8")
        pngs.update(draw_all(calibrate.charts(), folder / "charts", bt.cv.calibration))
    write_report(bt, numbers, rows, pngs, folder / "report.html")
    return numbers


def run_to_folder(folder: Path, cases: list[Scenario], base: tuple[BaseRates, Path], out: Path,
                  runs: int, seed: int, argv: list[str] | None = None, *,
                  cv_points: int | None = None, **ensemble_options
                  ) -> tuple[Path, Backtest, dict]:
    """Backtest ``cases`` (from :func:`find_cases`) into a new folder ``out/backtest/<id>/``.

    ``base`` is :func:`load_base_rates`'s answer. With ``cv_points``, the cases are
    simulated over a design of that many points and scored out of sample, leave-one-out
    (:mod:`sim.results.calibrate`). The folder appears only when complete. Returns its
    path, the backtest and its scores.
    """
    from sim.results import folders
    cv = None
    if cv_points is None:
        counts, crossed = simulate(cases, runs, seed, **ensemble_options)
    else:
        from sim.results import calibrate
        cv = calibrate.CrossValidation.of(calibrate.calibrate(folder, cases, cv_points, runs,
                                                              seed, **ensemble_options))
        counts, crossed = cv.held_out()
    bt = Backtest(Path(folder), cases, counts, crossed, runs, seed, *base,
                  selection_note(folder), cv)
    parent = Path(out) / "backtest"
    final = parent / folders.new_folder_name(parent, seed)
    with folders.staging(final) as tmp:
        numbers = write_folder(bt, tmp, list(sys.argv if argv is None else argv))
    return final, bt, numbers


# ------------------------------------------------------------------ charts and report ---

def _provenance(bt: Backtest) -> str:
    cv = "" if bt.cv is None else " | leave-one-out, out of sample"
    return (f"backtest of {printable(bt.folder, None)} | {len(bt.cases)} cases x {bt.runs:,} "
            f"runs | seed {bt.seed}{cv}")


def reliability_chart(bt: Backtest):
    """Predicted probability against observed frequency over every case and class."""
    import matplotlib.pyplot as plt

    from sim.results.plots import BLUE, GREY, footer
    from sim.stats import wilson_interval
    edges, predicted, frequency, pairs, hits = scoring.reliability(
        class_probabilities(bt.counts), observed_classes(bt.cases))
    filled = pairs > 0
    ci = np.array([wilson_interval(int(h), int(n)) for h, n in zip(hits, pairs, strict=True)
                   if n > 0]).reshape(-1, 2)
    fig, ax = plt.subplots(figsize=(6.5, 6), dpi=110)
    ax.plot([0, 1], [0, 1], ls="--", color=GREY, lw=1, label="perfectly calibrated")
    x, y = predicted[filled], frequency[filled]
    ax.errorbar(x, y, yerr=np.maximum(0.0, [y - ci[:, 0], ci[:, 1] - y]), fmt="o", color=BLUE,
                ecolor=BLUE, capsize=3, ms=7, label="bins of 0.1 (95% Wilson interval)")
    for xi, yi, n in zip(x, y, pairs[filled], strict=True):
        ax.annotate(f"n={n}", (xi, yi), textcoords="offset points", xytext=(6, -12),
                    fontsize=8, color=GREY)
    ax.set_xlim(-0.02, 1.02)  # points at 0 or 1 stay whole
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(edges[::2])
    ax.set_xlabel("probability the model gave a class (bin mean)")
    ax.set_ylabel("share of those (case, class) pairs observed")
    ax.set_title("Reliability: when the model says p, does it happen a share p of the time?",
                 fontsize=10)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(alpha=0.25)
    footer(fig, _provenance(bt))
    fig.tight_layout(rect=(0, 0.035, 1, 1))
    return fig


def case_chart(bt: Backtest):
    """Each case's predicted class shares, stacked, with the observed class marked."""
    import matplotlib.pyplot as plt

    from sim.model.outcomes import OUTCOMES
    from sim.results.plots import BLACK, OUTCOME_COLOURS, footer
    p = class_probabilities(bt.counts)
    observed, alternative = observed_classes(bt.cases), observed_classes(bt.cases, True)
    n = len(bt.cases)
    fig, ax = plt.subplots(figsize=(10, max(3.2, 1.3 + 0.3 * n)), dpi=110)
    y = np.arange(n)[::-1]
    left = np.zeros(n)
    for k, name in enumerate(OUTCOMES):
        ax.barh(y, p[:, k], left=left, color=OUTCOME_COLOURS[name], height=0.7, label=name)
        left += p[:, k]
    starts = np.cumsum(p, axis=1) - p
    rows = np.arange(n)
    ax.scatter(starts[rows, observed] + p[rows, observed] / 2, y, marker="D", s=36,
               color="white", edgecolors=BLACK, linewidths=1.5, zorder=3, label="observed")
    recoded = alternative != observed
    if recoded.any():
        ax.scatter((starts[rows, alternative] + p[rows, alternative] / 2)[recoded], y[recoded],
                   marker="x", s=36, color=BLACK, zorder=3, label="alternative coding")
    ax.set_yticks(y, [printable(c.name, 40) for c in bt.cases], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, n - 0.4)
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of the case's runs ending in each outcome")
    ax.set_title("What the model expected in each case, and what happened", fontsize=11)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    footer(fig, _provenance(bt))
    fig.tight_layout(rect=(0, 0.035, 1, 1))
    return fig


def charts():
    """The backtest's charts, each with how to read it."""
    from sim.results.plots import Chart
    return (
        Chart("reliability", reliability_chart,
              "Every case gives five (class, probability) pairs; pairs are grouped by the "
              "probability the model gave (bins 0-0.1, 0.1-0.2 ...). A dot on the dashed "
              "line means the classes given about p happened about a share p of the time; "
              "below it, the model was over-confident. n counts the pairs in a bin."),
        Chart("cases", case_chart,
              "One bar per case: the shares of its runs ending in each outcome. The diamond "
              "marks what happened (a cross, a defensible alternative coding); a diamond on "
              "a wide segment is a good forecast."),
    )


CAVEATS = (
    "The cases, their outcome classes and their first-crossing days were coded after the fact "
    "by people who knew how each crisis ended; where a class is debatable the alternative "
    "coding is scored too.",
    "With few cases the intervals are wide, and percentile bootstrap intervals over a dozen "
    "cases are themselves approximate (they tend to be too narrow).",
    "The model's probabilities are shares of a finite number of runs: a class no run reached "
    "gets probability 0 in the Brier score and the floor 1/(runs + 1) in the log score.",
    "Without --cv these are in-sample scores: if the model's parameters or the scenarios were "
    "tuned while looking at these cases, the scores flatter the model. With --cv each case is "
    "scored at parameters fitted without it (leave-one-out), but the free parameters, their "
    "ranges and the scenarios were still chosen by people who knew the cases.",
    "The ICB base rates come from a wider reference class than these cases, classed by a "
    "stated mapping of ICB codes, which is itself a judgement.",
)


def _score_table(block: dict) -> str:
    from sim.results.report import esc, table
    rows = [[esc(label), esc(_ci(block["brier"][key])), esc(_ci(block["log"][key]))]
            for key, label in SCORE_ROWS]
    return table(["forecast", "Brier (lower is better)", "log score (higher is better)"],
                 rows, {1, 2})


def cv_section(bt: Backtest, numbers: dict, rows: list[dict]) -> str:
    """With ``--cv``: how the folds were chosen, and the in-sample scores to compare."""
    if bt.cv is None:
        return ""
    from sim.results.report import esc, table
    cv = numbers["cross_validation"]
    fold_rows = [[esc(c.name), str(k), esc(r["p_observed"]), esc(r["p_observed_in_sample"])]
                 for c, k, r in zip(bt.cases, bt.cv.folds, rows, strict=True)]
    return f"""<section id="cross-validation">
<h2>Out of sample: leave-one-out cross-validation</h2>
<p>Every case was simulated once over {cv['points']} design points (parameter sets of the role
presets' free decision parameters; point 0 the values assumed before any fit),
{cv['runs_per_point']:,}
runs each, on common random numbers. For each case, the point with the best total log score
over the <em>other</em> cases was chosen, and the case was scored at that point: the scores
above and the case table are these <strong>out-of-sample</strong> forecasts. Nothing was
re-simulated per fold. The point fitted on all cases (point {cv['in_sample']['point']}) gives
the <strong>in-sample</strong> scores below, which flatter the model; point 0 gives those of
the values assumed before any fit.</p>
<h3>In-sample: every case at the point fitted on all cases</h3>
{_score_table(cv['in_sample'])}
<h3>The values assumed before any fit (point 0)</h3>
{_score_table(cv['prior'])}
<h3>Each case's fold</h3>
{table(["case", "point fitted without it", "p_observed (out of sample)",
        "p_observed in-sample"], fold_rows, {1, 2, 3}, {0})}
<p>The design, every case's counts at every point and the fit are in <code>design.csv</code>,
<code>table.csv</code> and <code>fit.json</code>.</p>
</section>
"""


def write_report(bt: Backtest, numbers: dict, rows: list[dict], pngs: dict, path: Path):
    """``report.html``: one self-contained, printable page of scores, cases and charts."""
    from sim.results.calibrate import charts as calibrate_charts
    from sim.results.report import CSS, esc, figures, table
    cols = ["case", "observed", "p_observed", "rank", "brier", "log_score", "alternative",
            "p_alternative"]
    case_table = table(cols, [[esc(r[c]) for c in cols] for r in rows], {2, 3, 4, 5, 7}, {0})
    cross_rows = [[esc(r["case"]), esc(name), esc(r[f"day_{name}"]),
                   esc(r[f"p_{name}_by_day"])]
                  for r in rows for name in THRESHOLDS if r[f"day_{name}"]]
    base = numbers["base_rates"]
    base_rows = [[esc(c), str(base["counts"][c]), esc(f"{base['probabilities'][c]:.6f}")]
                 for c in OUTCOME_CLASSES]
    alt = numbers["alternative"]
    selection = esc(bt.selection) if bt.selection else (
        f"The folder has no {README}: the rule that chose these cases is not stated.")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backtest of {esc(bt.folder)} \u2013 escsim report</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Backtest{" (cross-validated)" if bt.cv else ""}: {len(bt.cases)} historical crises</h1>
<p class="meta">Cases from <code>{esc(bt.folder)}</code> \u00b7 {bt.runs:,} runs per case
\u00b7 seed {bt.seed} \u00b7 escsim {esc(__version__)}</p>
</header>
<section id="selection">
<h2>The cases and how they were chosen</h2>
<p>{selection}</p>
</section>
<section id="scores">
<h2>Overall scores</h2>
<p>Each case is scored over the five outcome classes. Brier: the sum over classes of
(p \u2212 o)\u00b2, 0 for a perfect forecast, 0.8 for the uniform guess. Log score: ln p of
the observed class (p floored at 1/(runs + 1) = {numbers['log_floor']:.6g}), 0 for a
perfect forecast, \u2212ln 5 = \u22121.609 for the uniform guess. Means over the cases, with
95% bootstrap intervals ({numbers['bootstrap']['resamples']:,} resamples of the cases, seed
{numbers['bootstrap']['seed']}); differences are paired case by case: a negative Brier
difference or a positive log difference means the model did better than the baseline.</p>
<h3>As observed{" (out of sample)" if bt.cv else ""}</h3>
{_score_table(numbers['observed'])}
<h3>With the alternative codings ({alt['cases_recoded']} of {len(bt.cases)} cases recoded)</h3>
{_score_table(alt)}
</section>
{cv_section(bt, numbers, rows)}<section id="cases">
<h2>Case by case</h2>
<p>p_observed: the share of the case's runs ending in the observed class; rank 1: the model's
most likely class. The same numbers are in <code>cases.csv</code>.</p>
{case_table}
<p>Probability of crossing each observed threshold by the day it was crossed in history
(day 0 is the case's start date):</p>
{table(["case", "threshold", "observed day", "share of runs crossed by then"], cross_rows,
       {2, 3}, {0})}
</section>
<section id="charts">
<h2>Charts</h2>
{figures(charts(), pngs)}
{"" if bt.cv is None else figures(calibrate_charts(), pngs)}
</section>
<section id="base-rates">
<h2>The base-rate baseline</h2>
<p>Reference class: {esc(bt.base.reference_class)}</p>
<p>Source: {esc(bt.base.source)} (<code>{esc(bt.base_file)}</code>).</p>
<p>Mapping of ICB codes to classes: {esc(bt.base.mapping)}</p>
<p>A class with no crisis counts as {scoring.ZERO_COUNT_SHARE} crisis, so its log score is
finite.</p>
{table(["class", "crises", "probability"], base_rows, {1, 2}, {0})}
</section>
<section id="caveats">
<h2>Caveats</h2>
<ul>
{"".join(f"<li>{esc(c)}</li>" for c in CAVEATS)}
</ul>
</section>
<section id="reproduce">
<h2>Reproduce</h2>
<p>Same case files, same command, same escsim version: the same numbers.</p>
<pre>{esc(bt.command)}</pre>
</section>
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path
