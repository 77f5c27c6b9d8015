"""``escsim sensitivity``: Sobol' or Morris global sensitivity analysis of outcome probabilities.

SALib draws the design (Saltelli's extension of the Sobol' sequence, or Morris
trajectories) and computes the indices; every design point is one parameter
set of a single ensemble (:func:`sim.experiments.runner.run_sets`, common
random numbers). The output analysed is each outcome's estimated probability
per set.

That estimate carries the Monte Carlo's own noise, binomial with variance
p(1 - p) / R at R runs per set. To tell an index from that noise, the same
design is analysed a second time with the output replaced by a noise-only
resample: an independent binomial draw around each set's estimate, centred,
so it holds noise and no signal. The largest upper 95% bound of its indices,
brought to the scale of the real output, is the outcome's noise level; an
index at or below it is flagged "within noise". Runs share random numbers
across sets, so neighbouring sets' noise largely cancels in the differences
the indices are built from: the level is an upper bound (an index above it is
not noise), and a small effect seen cleanly on common random numbers can fall
below it.

Sobol', I. M. (2001), Mathematics and Computers in Simulation 55: 271-280;
Saltelli, A. et al. (2010), Computer Physics Communications 181: 259-270;
Morris, M. D. (1991), Technometrics 33(2): 161-174; Campolongo, F., Cariboni,
J. and Saltelli, A. (2007), Environmental Modelling & Software 22: 1509-1518.
SALib: Herman, J. and Usher, W. (2017), Journal of Open Source Software 2(9): 97,
https://salib.readthedocs.io/.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import InputError, Problem
from sim.inputs.scenario import OUTCOME_CLASSES

METHODS = ("sobol", "morris")
LEVELS = 4
"""Grid levels of the Morris design (SALib's default; Saltelli et al. 2004 recommend 4)."""
RESAMPLES = 1000
"""Bootstrap resamples behind SALib's 95% confidence intervals."""
CONF = 0.95
MAX_SOBOL_N = 2**16
"""Largest Sobol' base sample: N (2D + 2) sets, 1.4 million at 10 parameters."""
MAX_MORRIS_N = 10_000
"""Most Morris trajectories: N (D + 1) sets."""


@dataclass(frozen=True)
class Design:
    """The parameter sets SALib drew: one row per set, one column per parameter."""

    method: str
    names: list[str]
    bounds: list[tuple[float, float]]
    n: int
    seed: int
    x: np.ndarray  # (sets, parameters)

    @property
    def problem(self) -> dict:
        """SALib's problem definition."""
        return {"num_vars": len(self.names), "names": list(self.names),
                "bounds": [list(b) for b in self.bounds]}

    def table(self) -> dict[str, np.ndarray]:
        """Each parameter path's value in every set (a parameter table for ``run_sets``)."""
        return {name: self.x[:, j].copy() for j, name in enumerate(self.names)}


def sets_needed(method: str, n: int, dims: int) -> int:
    """Parameter sets of a design: N (2D + 2) for Sobol' (with second order), N (D + 1) Morris."""
    return n * (2 * dims + 2) if method == "sobol" else n * (dims + 1)


def check_n(method: str, n: int) -> None:
    """Refuse a base sample SALib cannot use (InputError naming ``--n``)."""
    why = None
    if method == "sobol" and (n < 2 or n & (n - 1) or n > MAX_SOBOL_N):
        why = (f"Sobol' sampling needs a power of 2 from 2 to {MAX_SOBOL_N:,} "
               f"(e.g. 256 or 1024), got {n:,}")
    elif method == "morris" and not 2 <= n <= MAX_MORRIS_N:
        why = f"Morris sampling needs 2 to {MAX_MORRIS_N:,} trajectories, got {n:,}"
    if why:
        raise InputError([Problem(Path("--n"), None, "", why)])


def design(method: str, names: list[str], bounds: list[tuple[float, float]], n: int,
           seed: int, integer: list[bool] | None = None) -> Design:
    """SALib's design for ``names`` over ``bounds``: reproducible per ``seed``.

    Whole-number parameters (``integer``) are rounded to the nearest whole
    value, as the model would read them.
    """
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample
    check_n(method, n)
    problem = {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}
    if method == "sobol":
        x = sobol_sample.sample(problem, n, calc_second_order=True, seed=seed)
    else:
        x = morris_sample.sample(problem, n, num_levels=LEVELS, seed=seed)
    for j, whole in enumerate(integer or []):
        if whole:
            x[:, j] = np.rint(x[:, j])
    return Design(method, list(names), [tuple(map(float, b)) for b in bounds], n, seed, x)


def noise_resample(p: np.ndarray, runs: int, seed: int, k: int) -> np.ndarray:
    """Binomial noise alone: an independent draw of R runs around each set's share, centred."""
    rng = np.random.default_rng([seed, 13, k])
    return rng.binomial(runs, np.clip(p, 0.0, 1.0)) / runs - p


def _salib(d: Design, y: np.ndarray, seed: int) -> dict:
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    # SALib reseeds its bootstrap only for a true seed: 0 would draw from the global state
    salt = seed + 1
    if d.method == "sobol":
        return sobol_analyze.analyze(d.problem, y, calc_second_order=True,
                                     num_resamples=RESAMPLES, conf_level=CONF, seed=salt)
    return morris_analyze.analyze(d.problem, d.x, y, num_resamples=RESAMPLES, conf_level=CONF,
                                  num_levels=LEVELS, seed=salt)


COLUMNS = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf", "S1_noise", "ST_noise"),
    "morris": ("mu", "mu_star", "mu_star_conf", "sigma", "mu_star_noise"),
}
"""The CSV's index columns per method (after outcome, parameter, rank, mean probability)."""


def analyse(d: Design, counts: np.ndarray, runs: int, seed: int) -> list[dict]:
    """The indices of every outcome's probability, each with its noise level and flag.

    ``counts`` (sets, outcomes): runs ending in each outcome class per set.
    Returns one row per outcome and parameter, ranked within each outcome by
    the total index (Sobol') or mu* (Morris). An outcome whose share is the
    same in every set has no indices (their cells are None).
    """
    rows = []
    for k, outcome in enumerate(OUTCOME_CLASSES):
        p = counts[:, k] / runs
        base = {"outcome": outcome, "mean_probability": float(p.mean())}
        if np.ptp(p) == 0:
            rows += [{**base, "parameter": name, "rank": None, "within_noise": None,
                      **dict.fromkeys(COLUMNS[d.method])} for name in d.names]
            continue
        si = _salib(d, p, seed)
        e = noise_resample(p, runs, seed, k)
        ni = _salib(d, e, seed) if np.ptp(e) > 0 else None
        rows += _rank(_rows(d, si, ni, float(e.var() / p.var()), base), d.method)
    return rows


def _rows(d: Design, si, ni, share: float, base: dict) -> list[dict]:
    """One row per parameter, with the outcome's noise levels.

    A noise level is the largest upper 95% bound of a pure-noise output's
    index over the parameters (none of which it depends on). SALib divides
    Sobol' indices by the output's variance, so the noise-only output's are
    rescaled by its share of the real output's variance; Morris effects are
    in the output's own units.
    """
    def level(key: str, conf: str, scale: float) -> float:
        return 0.0 if ni is None else scale * float(np.max(np.abs(ni[key]) + ni[conf]))
    if d.method == "sobol":
        noise = {"S1_noise": level("S1", "S1_conf", share), "ST_noise": level("ST", "ST_conf",
                                                                                share)}
        keys, flag = ("S1", "S1_conf", "ST", "ST_conf"), "ST"
    else:
        noise = {"mu_star_noise": level("mu_star", "mu_star_conf", 1.0)}
        keys, flag = ("mu", "mu_star", "mu_star_conf", "sigma"), "mu_star"
    out = []
    for j, name in enumerate(d.names):
        row = {**base, "parameter": name, **{k: float(si[k][j]) for k in keys}, **noise}
        row["within_noise"] = bool(row[flag] <= row[f"{flag}_noise"])
        out.append(row)
    return out


def _rank(rows: list[dict], method: str) -> list[dict]:
    key = "ST" if method == "sobol" else "mu_star"
    rows = sorted(rows, key=lambda r: -r[key])
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def indices_csv(rows: list[dict], method: str) -> str:
    """``indices.csv``: one row per outcome and parameter, numbers to 6 significant digits."""
    header = ["outcome", "parameter", "rank", "mean_probability", *COLUMNS[method],
              "within_noise"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if row[h] is None else
                    ("yes" if row[h] else "no") if isinstance(row[h], bool) else
                    f"{row[h]:.6g}" if isinstance(row[h], float) else row[h] for h in header])
    return buf.getvalue()


# ------------------------------------------------------------------ charts and report ---

HOW_TO_READ = {
    "sobol": "Parameters ranked by their total index ST (dark bar: the share of the outcome "
             "probability's variance due to the parameter, with all its interactions) beside "
             "the first-order index S1 (light bar: its effect alone); whiskers are 95% "
             "bootstrap intervals. The dashed line is the noise level: what Monte Carlo noise "
             "alone would give. Grey bars are within noise.",
    "morris": "Parameters ranked by mu* (bar: the mean absolute change of the outcome "
              "probability when the parameter takes one step of the design, per full range of "
              "the parameter), with its 95% bootstrap interval; the orange dot is sigma (how "
              "much that change varies: interactions or non-linearity). The dashed line is the "
              "noise level: what Monte Carlo noise alone would give. Grey bars are within "
              "noise.",
}


def tornado(rows: list[dict], method: str, title: str, footer_text: str):
    """A ranked bar chart of one outcome's indices, largest at the top."""
    from sim.results import plots
    plt = plots.plt
    rows = list(rows)
    n = len(rows)
    fig, ax = plt.subplots(figsize=(7.5, 1.3 + 0.45 * n))
    y = np.arange(n)[::-1].astype(float)
    names = [r["parameter"] for r in rows]
    if method == "sobol":
        main, conf, noise = "ST", "ST_conf", "ST_noise"
    else:
        main, conf, noise = "mu_star", "mu_star_conf", "mu_star_noise"
    colour = [plots.GREY if r["within_noise"] else plots.BLUE for r in rows]
    h = 0.38 if method == "sobol" else 0.6
    ax.barh(y + (h / 2 if method == "sobol" else 0), [r[main] for r in rows], height=h,
            color=colour, xerr=[r[conf] for r in rows], ecolor=plots.BLACK, capsize=3,
            label="total index ST" if method == "sobol" else "mu*")
    if method == "sobol":
        light = ["#BBBBBB" if r["within_noise"] else plots.SKY for r in rows]
        ax.barh(y - h / 2, [r["S1"] for r in rows], height=h, color=light,
                xerr=[r["S1_conf"] for r in rows], ecolor=plots.GREY, capsize=3,
                label="first-order index S1")
    else:
        ax.plot([r["sigma"] for r in rows], y, "o", color=plots.ORANGE, label="sigma")
    ax.axvline(rows[0][noise], color=plots.BLACK, linestyle="--", linewidth=1.2,
               label="noise level")
    ax.set_yticks(y, names, fontsize=8)
    ax.axvline(0, color=plots.BLACK, linewidth=0.8)
    ax.set_xlabel("Sobol' index (share of variance)" if method == "sobol"
                  else "change of the outcome probability over the range")
    ax.legend(fontsize=8, loc="lower right")
    plots.suptitle(fig, title)
    plots.footer(fig, footer_text)
    fig.tight_layout(rect=(0, 0.035, 1, 0.97))
    return fig


def draw_charts(rows: list[dict], method: str, folder: Path, footer_text: str) -> dict:
    """One tornado chart per outcome with indices (PNG and SVG); {outcome: PNG path}.

    They go to ``folder/charts``, where every results folder keeps its charts.
    """
    from sim.results import plots
    pngs = {}
    (folder / "charts").mkdir(exist_ok=True)
    with plots.plt.rc_context({"svg.hashsalt": "escsim", "svg.fonttype": "none"}):
        for outcome in OUTCOME_CLASSES:
            mine = [r for r in rows if r["outcome"] == outcome and r["rank"] is not None]
            if not mine:
                continue
            p = mine[0]["mean_probability"]
            fig = tornado(mine, method, f"What drives the probability of {outcome} "
                          f"(mean {p:.1%})", footer_text)
            pngs[outcome] = plots.save(fig, folder / "charts", f"tornado-{outcome}")[0]
    return pngs


def write_report(path: Path, rows: list[dict], d: Design, info: dict, pngs: dict) -> None:
    """``report.html``: the design, every outcome's ranked indices and chart, the noise note."""
    from sim.results.report import CSS, data_uri, esc, table
    method = d.method
    label = "Sobol'" if method == "sobol" else "Morris"
    ranges = table(["parameter", "low", "high"],
                   [[esc(n), f"{lo:g}", f"{hi:g}"] for n, (lo, hi) in zip(d.names, d.bounds,
                                                                          strict=True)],
                   numeric={1, 2}, keys={0})
    parts = [f"<h1>{label} sensitivity: {esc(info['scenario'])}</h1>",
             f'<p class="meta">{info["sets"]:,} parameter sets x {info["runs"]:,} runs x '
             f"{info['days']} days, seed {info['seed']}, escsim {esc(info['version'])}</p>",
             "<h2>Parameters and ranges</h2>", ranges,
             f"<p>Design: {esc(design_note(d))}</p>",
             "<h2>Monte Carlo noise</h2>", f"<p>{esc(NOISE_NOTE)}</p>"]
    heads = {"sobol": ["rank", "parameter", "ST", "95% ±", "S1", "95% ±", "noise level (ST)",
                       "within noise"],
             "morris": ["rank", "parameter", "mu*", "95% ±", "mu", "sigma", "noise level (mu*)",
                        "within noise"]}[method]
    keys = {"sobol": ("ST", "ST_conf", "S1", "S1_conf", "ST_noise"),
            "morris": ("mu_star", "mu_star_conf", "mu", "sigma", "mu_star_noise")}[method]
    for outcome in OUTCOME_CLASSES:
        mine = [r for r in rows if r["outcome"] == outcome]
        parts.append(f"<h2>{esc(outcome)}</h2>")
        if mine[0]["rank"] is None:
            parts.append(f"<p>The probability of {esc(outcome)} is "
                         f"{mine[0]['mean_probability']:.1%} in every parameter set: no index "
                         "to compute.</p>")
            continue
        parts.append(f"<p>Mean probability over the sets: {mine[0]['mean_probability']:.1%}.</p>")
        parts.append(table(heads, [[r["rank"], esc(r["parameter"]),
                                    *(f"{r[k]:.3f}" for k in keys),
                                    "within noise" if r["within_noise"] else ""]
                                   for r in mine], numeric={0, 2, 3, 4, 5, 6}, keys={1}))
        parts.append(f'<figure><img src="{data_uri(pngs[outcome])}" alt="tornado chart of '
                     f'{esc(outcome)}"><figcaption>{esc(HOW_TO_READ[method])}</figcaption>'
                     "</figure>")
    parts += ["<h2>Reproduce</h2>", f"<pre>{esc(info['command'])}</pre>"]
    path.write_text("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    f"<title>{label} sensitivity: {esc(info['scenario'])}</title>"
                    f"<style>{CSS}</style></head><body>\n" + "\n".join(parts)
                    + "\n</body></html>\n", encoding="utf-8")


NOISE_NOTE = (
    "Each set's outcome probability is estimated from its runs, with binomial noise of "
    "variance p(1 - p) / R. The design was analysed a second time with the output replaced by "
    "an independent noise-only resample; the largest upper 95% bound of that analysis's "
    "indices, on the scale of the real output, is the noise level. An index at or below it is "
    "marked within noise: runs with independent random numbers could not tell it from zero. "
    "Sets share random numbers, so the real noise in the differences the indices are built "
    "from is smaller: the level is an upper bound, and an index above it is not noise.")


def design_note(d: Design) -> str:
    """One line on how SALib drew the sets."""
    if d.method == "sobol":
        return (f"Saltelli's extension of the scrambled Sobol' sequence, N = {d.n:,}, "
                f"N (2D + 2) = {len(d.x):,} sets (SALib), seed {d.seed}.")
    return (f"{d.n:,} Morris trajectories on a {LEVELS}-level grid, N (D + 1) = {len(d.x):,} "
            f"sets (SALib), seed {d.seed}.")


# ------------------------------------------------------------------ the command ---

def _settings(args, scenario) -> tuple[str, list[str], int, int, int, int]:
    """(method, --params texts, N, runs, seed, days) of a new experiment or of ``--resume``."""
    from sim.experiments import runner
    if args.resume is not None:
        manifest = runner.read_manifest(args.resume, "sensitivity")
        s = manifest["settings"]
        return (s["method"], list(s["params"]), int(s["n"]), int(manifest["runs_per_set"]),
                int(manifest["seed"]), int(manifest["days"]))
    seed = scenario.spec.montecarlo.seed if args.seed is None else args.seed
    return (args.method, list(args.params), args.n, args.runs, seed,
            args.days or scenario.spec.horizon_days)


def _scenario(args):
    from sim.experiments import runner
    from sim.inputs.scenario import load_scenario
    if args.resume is not None:
        manifest = runner.read_manifest(args.resume, "sensitivity")
        scenario = load_scenario(manifest["scenario"])
        if scenario.sha256 != manifest["inputs_sha256"]:
            raise InputError([Problem(Path("--resume"), None, "", f"{manifest['scenario']} has "
                                      "changed since the experiment started; start a new one")])
        return scenario
    if args.file is None:
        raise InputError([Problem(Path("SCENARIO"), None, "", "give a scenario (a file or a "
                                  "shipped scenario's name), or --resume DIR")])
    return load_scenario(args.file)


def _design(scenario, method: str, texts: list[str], n: int, seed: int) -> Design:
    """Check ``--params`` and ``--n`` together (every problem at once); SALib's design."""
    from sim.experiments import runner
    problems = []
    if not texts:
        problems.append(Problem(Path("--params"), None, "", "give at least one parameter and "
                                "its range, e.g. --params actors.USA.resolve=0.2:0.8"))
    ranges = []
    for check in (lambda: runner.parse_ranges(texts, scenario, "range"),
                  lambda: check_n(method, n)):
        try:
            ranges = check() or ranges
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return design(method, [r.path for r in ranges], [(r.lo, r.hi) for r in ranges], n, seed,
                  [r.integer for r in ranges])


def text_summary(rows: list[dict], method: str, shown: int = 3) -> str:
    """Per outcome, its mean probability and the parameters that drive it most."""
    key = "ST" if method == "sobol" else "mu_star"
    index = "total Sobol' index ST" if method == "sobol" else "Morris mu*"
    lines = [f"What drives each outcome ({index}, largest first; '~' within the Monte "
             "Carlo's noise):"]
    for outcome in OUTCOME_CLASSES:
        mine = [r for r in rows if r["outcome"] == outcome]
        if mine[0]["rank"] is None:
            lines.append(f"  {outcome:<26} {mine[0]['mean_probability']:6.1%}  the same in every "
                         "set: no index")
            continue
        top = ", ".join(f"{r['parameter']} {r[key]:.2f}{'~' if r['within_noise'] else ''}"
                        for r in mine[:shown])
        lines.append(f"  {outcome:<26} {mine[0]['mean_probability']:6.1%}  {top}")
    return "\n".join(lines)


def main(args) -> int:
    """``escsim sensitivity``: sample, run every set as one ensemble, analyse, write the folder."""
    import shlex

    from sim.ensemble.progress import Progress
    from sim.experiments import runner
    from sim.version import __version__
    scenario = _scenario(args)
    method, texts, n, runs, seed, days = _settings(args, scenario)
    d = _design(scenario, method, texts, n, seed)
    sets = len(d.x)
    runner.check_size(sets, runs, Path("--n"))
    base = Path(args.resume).parent if args.resume else Path(args.out) / "sensitivity"
    workers = runner.prepare(args, scenario, sets, runs, days, base)
    command = shlex.join(["escsim", "sensitivity", str(scenario.path), "--method", method,
                          *(a for t in texts for a in ("--params", t)), "--n", str(n),
                          "--runs", str(runs), "--seed", str(seed), "--days", str(days)])
    folder = Path(args.resume) if args.resume else runner.start(
        "sensitivity", args.out, scenario, seed, runs, days,
        {"method": method, "params": texts, "n": n, "sets": sets})
    progress = Progress(sets * runs, quiet=args.quiet)
    try:
        res = runner.run_sets(scenario, d.table(), runs, seed, days, folder, args, progress,
                              workers)
        progress.close()
        rows = analyse(d, res.counts, runs, seed)
        (folder / "indices.csv").write_text(indices_csv(rows, method), encoding="utf-8")
        label = "Sobol'" if method == "sobol" else "Morris"
        pngs = draw_charts(rows, method, folder, f"scenario {scenario.name} | {sets:,} sets x "
                           f"{runs:,} runs x {days} days | seed {seed} | {label}")
        write_report(folder / "report.html", rows, d,
                     {"scenario": scenario.name, "sets": sets, "runs": runs, "days": days,
                      "seed": seed, "version": __version__, "command": command}, pngs)
    except BaseException as exc:
        progress.close()
        return runner.interrupted(exc, folder, "sensitivity")
    print(text_summary(rows, method))
    final = runner.finish(folder)
    print(f"results: {final}\nreport: {final / 'report.html'}")
    return 0
