"""Side-by-side comparison of scenarios on common random numbers.

Every scenario is run with the same seed, the same run indices and the same
horizon, so run K of each draws the same random numbers wherever the
scenarios agree: differences between them are then due to the scenarios,
not to luck, and paired intervals are much narrower than unpaired ones.

Per outcome the comparison reports each scenario's probability and the
difference from the first scenario (the baseline), and the same for the share
of runs in which a coercer's aim was reached (complied, government fell,
either), with a 95% interval for a difference of paired proportions:
Newcombe's (1998) method 10, which squares and adds the two Wilson intervals
with a correction for the correlation of the pairs. Unlike the plain Wald
interval it stays honest for rare outcomes: no discordant pair among 1,000
runs does not mean a difference of exactly zero. For the mean peak index (a
continuous quantity) the interval is the mean paired difference plus or minus
1.96 standard errors. The robustness table ranks the scenarios by their mean
peak escalation index under every scoring scheme and says whether the ranking
holds under all of them.

All sums are over integers (indicators, and indices written with four
decimals), so the numbers are exact and do not depend on workers or chunks.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import re
import shlex
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from sim.ensemble.aggregate import SUCCESS_KINDS
from sim.errors import InputError, Problem
from sim.inputs.catalogue import SCHEMES
from sim.inputs.schema import Bool, Fraction, Int, Num, Record, Str
from sim.model.outcomes import OUTCOMES, THRESHOLDS
from sim.results import plots
from sim.results.resultset import ResultSet, check_folder, read_json
from sim.stats import Z95, newcombe_paired, wilson_interval

SCALE = 10_000  # runs.csv writes indices with four decimals
COERCION = (*SUCCESS_KINDS, "any")
"""The rows of the coercer's success: each kind (runs.csv's ``coerced``), then either."""


def labels(names: list[str]) -> list[str]:
    """Chart labels: scenario names, numbered when a name occurs twice."""
    return [name if names.count(name) == 1 else f"{name} #{k + 1}"
            for k, name in enumerate(names)]


def folder_names(names: list[str]) -> list[str]:
    """Sub-folder of each scenario in a comparison folder: ``1-name``, ``2-name``, ..."""
    return [f"{k + 1}-{name}" for k, name in enumerate(names)]


class Paired:
    """Running integer sums of one per-run quantity and its paired differences."""

    def __init__(self, n_scenarios: int):
        self.sum = [0] * n_scenarios
        self.sum_sq = [0] * n_scenarios
        self.diff = [0] * n_scenarios
        self.diff_sq = [0] * n_scenarios

    def add(self, values: list[int]):
        """One run's value in every scenario (scenario 0 is the baseline)."""
        base = values[0]
        for k, v in enumerate(values):
            self.sum[k] += v
            self.sum_sq[k] += v * v
            d = v - base
            self.diff[k] += d
            self.diff_sq[k] += d * d

    @staticmethod
    def _mean_ci(total: int, total_sq: int, n: int, scale: float) -> dict:
        mean = total / n
        # sample variance from exact integer sums (no cancellation)
        var = (n * total_sq - total * total) / (n * (n - 1)) if n > 1 else 0.0
        half = Z95 * math.sqrt(var / n)
        return {"mean": round(mean / scale, 6),
                "ci95": [round((mean - half) / scale, 6), round((mean + half) / scale, 6)]}

    def means(self, n: int, scale: float = 1) -> list[dict]:
        """Mean of the quantity per scenario, with its 95% interval."""
        return [self._mean_ci(s, q, n, scale) for s, q in zip(self.sum, self.sum_sq,
                                                                strict=True)]

    def differences(self, n: int, scale: float = 1) -> list[dict]:
        """Paired mean difference from the baseline per scenario, with its 95% interval."""
        return [self._mean_ci(s, q, n, scale) for s, q in zip(self.diff, self.diff_sq,
                                                                strict=True)]


def proportion_differences(paired: Paired, n: int) -> list[dict]:
    """Each scenario's outcome probability minus the baseline's, with Newcombe's interval.

    The 2x2 table of (scenario, baseline) follows from the running sums: the
    differences d are +1 where only the scenario has the outcome and -1 where
    only the baseline has it, so sum(d) and sum(d^2) give both discordant counts.
    """
    out = []
    for k in range(len(paired.sum)):
        only_this = (paired.diff_sq[k] + paired.diff[k]) // 2
        only_base = (paired.diff_sq[k] - paired.diff[k]) // 2
        both = paired.sum[0] - only_base
        lo, hi = newcombe_paired(both, only_this, only_base, n - both - only_this - only_base)
        out.append({"mean": round(paired.diff[k] / n, 6), "ci95": [round(lo, 6), round(hi, 6)]})
    return out


def shares(paired: Paired, n: int) -> dict:
    """Each scenario's share of runs, and its difference from the baseline's."""
    return {"probability": [round(m["mean"], 6) for m in paired.means(n)],
            "difference": proportion_differences(paired, n)}


def paired_statistics(run_files: list[Path]) -> dict:
    """Read every scenario's runs.csv in step (run K beside run K) and compare them."""
    k = len(run_files)
    outcome = {o: Paired(k) for o in OUTCOMES}
    coerced = {c: Paired(k) for c in COERCION}
    peak = {s: Paired(k) for s in SCHEMES}
    n = 0
    with contextlib.ExitStack() as stack:
        readers = [csv.reader(stack.enter_context(open(f, encoding="utf-8", newline="")))
                   for f in run_files]
        headers = [next(r) for r in readers]
        cols = [{s: h.index(f"peak_index_{s}") for s in SCHEMES} for h in headers]
        how = [h.index("coerced") for h in headers]
        for rows in zip(*readers, strict=True):
            runs = {row[0] for row in rows}
            if len(runs) != 1:
                raise ValueError(f"runs.csv files are not aligned: runs {sorted(runs)}")
            n += 1
            for o in OUTCOMES:
                outcome[o].add([int(row[1] == o) for row in rows])
            kinds = [row[c] for row, c in zip(rows, how, strict=True)]
            for c in COERCION:
                coerced[c].add([int(kind == c or (c == "any" and kind != "none"))
                                for kind in kinds])
            for s in SCHEMES:
                peak[s].add([round(float(row[c[s]]) * SCALE)
                             for row, c in zip(rows, cols, strict=True)])
    return {
        "runs": n,
        "outcomes": {o: shares(p, n) for o, p in outcome.items()},
        "coercion": {c: shares(p, n) for c, p in coerced.items()},
        "peak_index": {s: {"mean": p.means(n, SCALE), "difference": p.differences(n, SCALE)}
                       for s, p in peak.items()},
    }


def robustness(stats: dict, names: list[str]) -> dict:
    """Rank the scenarios by mean peak index under each scheme; say if the ranking holds."""
    rows = {}
    for s in SCHEMES:
        means = [m["mean"] for m in stats["peak_index"][s]["mean"]]
        order = sorted(range(len(names)), key=lambda k: (-means[k], k))
        diffs = stats["peak_index"][s]["difference"]
        rows[s] = {"ranking": [names[k] for k in order],
                   "significant": [k == 0 or diffs[k]["ci95"][0] > 0 or diffs[k]["ci95"][1] < 0
                                   for k in range(len(names))]}
    rankings = {tuple(r["ranking"]) for r in rows.values()}
    return {"by_scheme": rows, "ranking_holds": len(rankings) == 1}


def comparison(sets: list[ResultSet], run_files: list[Path], command: str) -> dict:
    """Every number of the comparison, for ``comparison.json`` and the report."""
    names = labels([rs.name for rs in sets])
    stats = paired_statistics(run_files)
    return {"scenarios": names, "folders": folder_names([rs.name for rs in sets]),
            "baseline": names[0], "runs": stats["runs"], "seed": sets[0].seed,
            "days": sets[0].days, "outcomes": stats["outcomes"],
            "coercion": stats["coercion"],
            "peak_index": stats["peak_index"], "robustness": robustness(stats, names),
            "command": command}


def command_line(paths: list[Path], runs: int, seed: int, days: int) -> str:
    """The ``escsim compare`` command that reproduces a comparison."""
    files = " ".join(shlex.quote(str(p)) for p in paths)
    return f"escsim compare {files} --runs {runs} --days {days} --seed {seed}"


# ------------------------------------------------------------------ charts -------------

def outcome_differences(cmp: dict, sets: list[ResultSet]):
    """Left: each scenario's outcome probabilities; right: differences from the baseline."""
    names, n = cmp["scenarios"], cmp["runs"]
    fig, (left, right) = plots.plt.subplots(1, 2, figsize=(11, 4.6), dpi=110, sharey=True)
    y = np.arange(len(OUTCOMES))[::-1]
    height = 0.8 / len(names)
    for k, name in enumerate(names):
        p = np.array([cmp["outcomes"][o]["probability"][k] for o in OUTCOMES])
        ci = np.array([wilson_interval(round(q * n), n) for q in p])
        pos = y + 0.4 - height * (k + 0.5)
        left.barh(pos, p, height=height * 0.9, color=plots.SERIES[k], label=name)
        left.errorbar(p, pos, xerr=plots.error_bars(p, ci), fmt="none", ecolor="black",
                      capsize=2, lw=0.8)
    left.set_yticks(y, OUTCOMES)
    left.xaxis.set_major_formatter(plots.matplotlib.ticker.PercentFormatter(1.0))
    left.set_xlabel("share of runs ending in this outcome (95% interval)")
    left.set_title("Outcome probabilities", fontsize=10)
    left.legend(loc="lower right", fontsize=7, frameon=False)
    left.grid(axis="x", alpha=0.25)
    for k, name in enumerate(names[1:], start=1):
        d = np.array([cmp["outcomes"][o]["difference"][k]["mean"] for o in OUTCOMES])
        ci = np.array([cmp["outcomes"][o]["difference"][k]["ci95"] for o in OUTCOMES])
        pos = y + 0.4 - height * (k + 0.5)
        right.errorbar(d, pos, xerr=plots.error_bars(d, ci), fmt="o",
                       color=plots.SERIES[k], capsize=3, label=f"{name} minus {names[0]}")
    right.axvline(0, color="black", lw=0.8)
    right.xaxis.set_major_formatter(
        plots.matplotlib.ticker.FuncFormatter(lambda x, _: f"{100 * x:+.0f}"))
    right.set_xlabel("difference from the first, percentage points (95% interval)")
    right.set_title(f"Does the change matter beyond noise? (vs {names[0]})", fontsize=10)
    if len(names) > 1:
        right.legend(loc="best", fontsize=7, framealpha=0.9)
    right.grid(axis="x", alpha=0.25)
    fig.suptitle("How do the scenarios end? Same random numbers in every scenario",
                 fontsize=11)
    return _finish(fig, cmp, sets[0].scheme)


def overlaid_fans(cmp: dict, sets: list[ResultSet]):
    """Median and 50% band of the escalation index, one colour per scenario."""
    fig, ax = plots.plt.subplots(figsize=(9, 5), dpi=110)
    days = np.arange(cmp["days"] + 1)
    for k, (name, rs) in enumerate(zip(cmp["scenarios"], sets, strict=True)):
        q25, q50, q75 = rs.aggregate.index_quantiles([0.25, 0.5, 0.75], rs.scheme_row).T
        ax.fill_between(days, q25, q75, color=plots.SERIES[k], alpha=0.2)
        ax.plot(days, q50, color=plots.SERIES[k], lw=2, label=f"{name}: median, 50% band")
    ax.set_xlim(0, days[-1])
    ax.set_xlabel("days after the article (day 0)")
    ax.set_ylabel(f"escalation index\n({plots.SCHEME_LABELS[sets[0].scheme]}, decayed sum)")
    ax.set_title("How tense does each scenario get? Escalation index", fontsize=11)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    ax.grid(alpha=0.25)
    return _finish(fig, cmp, sets[0].scheme)


def overlaid_thresholds(cmp: dict, sets: list[ResultSet]):
    """Cumulative probability of crossing each threshold, one panel per threshold."""
    fig, axes = plots.plt.subplots(2, 2, figsize=(10, 6.5), dpi=110, sharex=True, sharey=True)
    days = np.arange(cmp["days"] + 1)
    for t, (name, ax) in enumerate(zip(THRESHOLDS, axes.flat, strict=True)):
        for k, (label, rs) in enumerate(zip(cmp["scenarios"], sets, strict=True)):
            ax.step(days, rs.aggregate.crossing_curves()[t], where="post",
                    color=plots.SERIES[k], lw=1.8, label=label)
        ax.set_title(plots.THRESHOLD_LABELS[name], fontsize=9)
        ax.yaxis.set_major_formatter(plots.matplotlib.ticker.PercentFormatter(1.0))
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.25)
    for ax in axes[:, 0]:
        ax.set_ylabel("share of runs that crossed it")
    for ax in axes[1]:
        ax.set_xlabel("days after the article (day 0)")
    axes.flat[0].legend(loc="upper left", fontsize=7, frameon=False)
    fig.suptitle("When are the thresholds crossed? Cumulative probability by day",
                 fontsize=11)
    return _finish(fig, cmp, sets[0].scheme)


def _finish(fig, cmp, scheme):
    plots.footer(fig, f"{len(cmp['scenarios'])} scenarios | {cmp['runs']:,} runs x "
                      f"{cmp['days']} days each | seed {cmp['seed']} | index scored by "
                      f"{plots.SCHEME_LABELS[scheme]}")
    fig.tight_layout(rect=(0, 0.035, 1, 1))
    return fig


COMPARE_CHARTS = (
    plots.Chart("compare_outcomes", outcome_differences,
                "Left: each scenario's outcome probabilities. Right: each difference from the "
                "first scenario with its 95% interval; an interval that crosses zero is within "
                "the noise."),
    plots.Chart("compare_fan", overlaid_fans,
                "The median escalation index of each scenario (line) and the band holding half "
                "of its runs (shaded)."),
    plots.Chart("compare_thresholds", overlaid_thresholds,
                "For each threshold, the probability of having crossed it by each day, one line "
                "per scenario."),
)


# ------------------------------------------------------------------ report -------------

def write_report(cmp: dict, sets: list[ResultSet], charts: dict[str, Path], path: Path):
    """``compare.html``: tables, charts inlined, links to each scenario's own report."""
    from sim.results.report import CSS, esc, figures, pct, table
    names = cmp["scenarios"]

    def share_rows(block: dict, keys: dict) -> list[list]:
        rows = []
        for key, label in keys.items():
            for k, name in enumerate(names):
                p = block[key]["probability"][k]
                if k == 0:
                    change = "(baseline)"
                else:
                    d = block[key]["difference"][k]
                    lo, hi = d["ci95"]
                    change = f"{100 * d['mean']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"
                rows.append([esc(label) if k == 0 else "", esc(name), pct(p), change])
        return rows

    change = f"difference from {names[0]}, points (95% interval)"
    rows = share_rows(cmp["outcomes"], {o: o for o in OUTCOMES})
    headers = ["outcome", "scenario", "probability", change]
    coercion = ""
    if cmp.get("coercion"):  # not in comparisons written before it was recorded
        kinds = {"any": "aim reached", "complied": "target complied",
                 "government_fell": "government fell"}
        coercion = ("<p>The coercer's success, beside the classes: the share of runs in "
                    "which a coercer's aim was reached, by compliance or by the fall of the "
                    "target's government, whichever came first.</p>\n"
                    + table(["coercer's aim", "scenario", "probability", change],
                            share_rows(cmp["coercion"], kinds), {2, 3}))
    robust = []
    for s in SCHEMES:
        r = cmp["robustness"]["by_scheme"][s]
        means = cmp["peak_index"][s]["mean"]
        cells = [esc(plots.SCHEME_LABELS[s])]
        cells += [f"{m['mean']:.2f} [{m['ci95'][0]:.2f}, {m['ci95'][1]:.2f}]" for m in means]
        cells.append(esc(" > ".join(r["ranking"])))
        robust.append(cells)
    verdict = ("The ranking of the scenarios is the same under every scoring scheme."
               if cmp["robustness"]["ranking_holds"] else
               "The ranking of the scenarios changes with the scoring scheme: read the "
               "differences with care.")
    links = "\n".join(f'<li><a href="{esc(folder)}/report.html">{esc(name)}</a>: '
                      f"{esc(rs.title)}</li>"
                      for name, folder, rs in zip(names, cmp["folders"], sets, strict=True))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Comparison: {esc(", ".join(names))} \u2013 escsim</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Comparison of {len(names)} scenarios</h1>
<p class="meta">{cmp["runs"]:,} runs of {cmp["days"]} days each, seed {cmp["seed"]}, on
common random numbers (run K of every scenario draws the same random numbers).</p>
</header>
<section id="scenarios">
<h2>The scenarios</h2>
<ul>
{links}
</ul>
</section>
<section id="outcomes">
<h2>Outcomes</h2>
<p>Probability of each outcome, and the difference from <strong>{esc(names[0])}</strong> in
percentage points with its 95% interval from the paired runs.</p>
{table(headers, rows, {2, 3})}
{coercion}
</section>
<section id="charts">
<h2>Charts</h2>
{figures(COMPARE_CHARTS, charts)}
</section>
<section id="robustness">
<h2>Robustness to the scoring scheme</h2>
<p>Mean peak escalation index per scenario (95% interval) under each way of scoring acts,
and the resulting ranking (most escalatory first). {esc(verdict)}</p>
{table(["scoring scheme", *names, "ranking"], robust, set(range(1, len(names) + 1)))}
</section>
<section id="reproduce">
<h2>Reproduce</h2>
<pre>{esc(cmp["command"])}</pre>
</section>
</body>
</html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def is_comparison(folder: Path) -> bool:
    """Whether ``folder`` was written by ``escsim compare`` (has a ``comparison.json``).

    Any entry of that name counts, so a damaged one is reported, not mistaken
    for a results folder with missing files.
    """
    return os.path.lexists(Path(folder) / "comparison.json")


def load_all(paths: list[Path]) -> list:
    """Load every scenario, reporting the problems of all files at once."""
    from sim.inputs.scenario import load_scenario
    scenarios, problems = [], []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return scenarios


def run(scenarios: list, out: Path, runs: int | None = None, seed: int | None = None,
        days: int | None = None, argv: list[str] | None = None, **ensemble_options) -> Path:
    """Run every scenario on common random numbers into one new comparison folder.

    Runs, seed and days default to the first scenario's. The folder holds one
    full results folder per scenario (``1-<name>/`` ...), ``comparison.json``,
    the comparison charts and ``compare.html``; it appears only when complete.
    """
    from sim.results import folders
    first = scenarios[0].spec
    runs = first.montecarlo.runs if runs is None else runs
    seed = first.montecarlo.seed if seed is None else seed
    days = first.horizon_days if days is None else days
    command = command_line([s.path for s in scenarios], runs, seed, days)
    argv = argv or command.split()
    base = Path(out) / "compare"
    final = base / folders.new_folder_name(base, seed)
    with folders.staging(final) as tmp:
        sets = []
        for scenario, name in zip(scenarios, folder_names([s.name for s in scenarios]),
                                  strict=True):
            (tmp / name).mkdir()
            folders.write_results(scenario, tmp / name, argv, runs=runs, seed=seed, days=days,
                                  **ensemble_options)
            sets.append(ResultSet.load(tmp / name))
        cmp = comparison(sets, [tmp / name / "runs.csv" for name in
                                folder_names([s.name for s in scenarios])], command)
        (tmp / "comparison.json").write_text(json.dumps(cmp, indent=2) + "\n")
        draw_into(tmp, tmp)
    return final


def draw_into(folder: Path, out: Path, scheme: str | None = None) -> Path:
    """Draw comparison ``folder``'s charts (``out/charts``) and ``out/compare.html``.

    ``scheme`` redraws the index charts under another scoring scheme (default:
    each scenario's own). Everything is read and checked first
    (:func:`load_comparison`).
    """
    cmp, sets = load_comparison(folder)
    if scheme is not None:
        sets = [rs.rescored(scheme) for rs in sets]
    charts = plots.draw_all(COMPARE_CHARTS, out / "charts", cmp, sets)
    return write_report(cmp, sets, charts, out / "compare.html")


# ------------------------------------------------------------------ reading back -------

class Interval(Record):
    """A mean with its 95% interval."""

    mean: Num
    ci95: tuple[Num, Num]


class OutcomeRow(Record):
    """One outcome: each scenario's probability and its difference from the baseline."""

    probability: list[Fraction]
    difference: list[Interval]


class PeakRow(Record):
    """The mean peak index under one scheme, and the paired differences."""

    mean: list[Interval]
    difference: list[Interval]


class Ranking(Record):
    """The scenarios ranked under one scheme."""

    ranking: list[Str]
    significant: list[Bool]


class Robustness(Record):
    """The ranking under every scheme, and whether it holds."""

    by_scheme: dict[Literal[SCHEMES], Ranking]
    ranking_holds: Bool


class Comparison(Record):
    """``comparison.json`` as :func:`comparison` writes it."""

    scenarios: list[Str] = Field(min_length=1)
    folders: list[Str]
    baseline: Str
    runs: Int = Field(ge=1)
    seed: Int = Field(ge=0)
    days: Int = Field(ge=1)
    outcomes: dict[Literal[OUTCOMES], OutcomeRow]
    coercion: dict[Literal[COERCION], OutcomeRow] | None = None  # absent: an older escsim
    peak_index: dict[Literal[SCHEMES], PeakRow]
    robustness: Robustness
    command: Str


def check_comparison(path: Path, cmp: Comparison) -> list[Problem]:
    """Cross-field checks: every list has one entry per scenario, every key is present."""
    k, names = len(cmp.scenarios), cmp.scenarios
    found = []

    def need(field: str, ok: bool, message: str):
        if not ok:
            found.append(Problem(path, None, field, message))

    need("folders", len(cmp.folders) == k, f"must list one folder per scenario ({k})")
    need("baseline", cmp.baseline == names[0], f"must be the first scenario, '{names[0]}'")
    for key, table, keys in (("outcomes", cmp.outcomes, OUTCOMES),
                             ("coercion", cmp.coercion or dict.fromkeys(COERCION), COERCION),
                             ("peak_index", cmp.peak_index, SCHEMES),
                             ("robustness.by_scheme", cmp.robustness.by_scheme, SCHEMES)):
        for name in keys:
            need(f"{key}.{name}", name in table, "required field is missing")
    for key, rows in (("outcomes", cmp.outcomes), ("coercion", cmp.coercion or {})):
        for name, row in rows.items():
            for field in ("probability", "difference"):
                need(f"{key}.{name}.{field}", len(getattr(row, field)) == k,
                     f"must have one entry per scenario ({k})")
    for name, row in cmp.peak_index.items():
        for field in ("mean", "difference"):
            need(f"peak_index.{name}.{field}", len(getattr(row, field)) == k,
                 f"must have one entry per scenario ({k})")
    for name, row in cmp.robustness.by_scheme.items():
        need(f"robustness.by_scheme.{name}.ranking", sorted(row.ranking) == sorted(names),
             "must rank every scenario once")
        need(f"robustness.by_scheme.{name}.significant", len(row.significant) == k,
             f"must have one entry per scenario ({k})")
    return found


def load_comparison(folder: Path) -> tuple[dict, list[ResultSet]]:
    """Read and check a comparison folder: ``comparison.json`` and every scenario's folder.

    A sub-folder must be one plain name inside ``folder`` (``1-<scenario>``...)
    and hold the same runs, days and seed as the comparison. Raises
    :class:`InputError` with one problem per line.
    """
    folder = Path(folder)
    check_folder(folder)
    path = folder / "comparison.json"
    problems: list[Problem] = []
    cmp = read_json(path, Comparison, problems)
    if cmp is not None:
        problems += check_comparison(path, cmp)
    if problems:
        raise InputError(problems)
    sets = []
    for k, name in enumerate(cmp.folders):
        where = f"folders[{k}]"
        if not re.fullmatch(rf"{k + 1}-[^/\\]+", name) or name.startswith("."):
            problems.append(Problem(path, None, where, f"'{name[:80]}' is not the folder name "
                                                       f"of scenario {k + 1} ('{k + 1}-NAME')"))
        elif not os.path.isdir(folder / name):
            problems.append(Problem(path, None, where,
                                    f"the scenario's folder '{name}' is missing"))
        else:
            try:
                rs = ResultSet.load(folder / name)
            except InputError as exc:
                problems += exc.problems
                continue
            sets.append(rs)
            for field, got, want in (("runs", rs.runs, cmp.runs), ("days", rs.days, cmp.days),
                                     ("seed", rs.seed, cmp.seed)):
                if got != want:
                    problems.append(Problem(path, None, field,
                                            f"is {want}, but '{name}' has {got}"))
    if problems:
        raise InputError(problems)
    return cmp.model_dump(), sets
