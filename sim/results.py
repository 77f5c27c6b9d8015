"""Results folders: ``outputs/<scenario>/<id>/`` with manifest, runs, summary and charts.

A folder is assembled under a hidden temporary name and renamed into place
only when complete, so an error or Ctrl-C never leaves a half-written folder.
``runs.csv`` is written while the runs are produced, in run order, so memory
does not grow with the number of runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import shlex
import shutil
import sys
from pathlib import Path

import numpy as np

from sim import __version__, engine
from sim.montecarlo import DEFAULT_KEEP, Ensemble, run_ensemble, wilson_interval
from sim.outcomes import THRESHOLDS
from sim.resultset import ResultSet

CHECKPOINT_DAYS = (7, 14, 30)
"""Days at which summary.json reports the probability of having crossed each threshold."""
TOP_PATHS = 10


def summary(ensemble: Ensemble) -> dict:
    """Headline numbers: outcome probabilities with 95% Wilson intervals, crossings, paths.

    The same numbers the report shows, for machines. Everything is computed
    from integer counts, so the file is byte-identical however the runs were split.
    """
    agg = ensemble.aggregate
    n = agg.runs
    outcomes = {}
    for name, count in agg.outcome_counts().items():
        lo, hi = wilson_interval(count, n)
        outcomes[name] = {"runs": count, "probability": round(count / n, 6),
                          "ci95": [round(lo, 6), round(hi, 6)]}
    crossing = {}
    curves = agg.crossing_curves()
    checkpoints = [d for d in CHECKPOINT_DAYS if d < ensemble.days] + [ensemble.days]
    for k, name in enumerate(THRESHOLDS):
        counts = agg.first[k, :-1]  # the last column counts runs that never crossed
        hit = int(counts.sum())
        median = int(np.searchsorted(np.cumsum(counts), (hit + 1) / 2)) if hit else None
        crossing[name] = {"runs": hit, "probability": round(hit / n, 6),
                          "median_first_day": median,
                          "by_day": {str(d): round(float(curves[k, d]), 6)
                                     for d in checkpoints}}
    paths = [{"path": path, "runs": count, "probability": round(count / n, 6)}
             for path, count in agg.top_paths(TOP_PATHS)]
    return {"scenario": ensemble.scenario.name, "runs": n, "seed": ensemble.seed,
            "days": ensemble.days, "scoring": ensemble.scenario.spec.scoring,
            "outcomes": outcomes, "thresholds": crossing,
            "max_ci95_half_width": round(ensemble.max_half_width(), 6),
            "mean_casualties": round(float(agg.casualties) / n, 4),
            "distinct_paths": len(agg.paths), "top_paths": paths}


def manifest(ensemble: Ensemble, argv: list[str]) -> dict:
    """What is needed to reproduce the folder: inputs and their hashes, versions, command."""
    import matplotlib
    import mesa
    scen = ensemble.scenario
    return {
        "scenario": str(scen.path),
        "scenario_sha256": scen.sha256,
        "files": {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in scen.files},
        "seed": ensemble.seed,
        "runs": ensemble.n_runs,
        "days": ensemble.days,
        "versions": {"escsim": __version__, "mesa": mesa.__version__,
                     "numpy": np.__version__, "matplotlib": matplotlib.__version__,
                     "python": platform.python_version()},
        "command": argv,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def new_folder_name(base: Path, seed: int) -> str:
    """A fresh folder name: UTC timestamp and seed, with a counter if taken."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    name, k = f"{stamp}-seed{seed}", 1
    while (base / name).exists():
        k += 1
        name = f"{stamp}-seed{seed}-{k}"
    return name


@contextlib.contextmanager
def staging(final: Path):
    """Yield a temporary folder beside ``final``; move it into place only on success."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.partial-{os.getpid()}"
    tmp.mkdir()
    try:
        yield tmp
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def reproduce_command(ensemble: Ensemble, keep: int = DEFAULT_KEEP) -> str:
    """The ``escsim run`` command that gives the same folder (runs and kept trajectories)."""
    kept = "" if keep == DEFAULT_KEEP else f" --keep-trajectories {keep}"
    return (f"escsim run {shlex.quote(str(ensemble.scenario.path))} --runs {ensemble.n_runs} "
            f"--days {ensemble.days} --seed {ensemble.seed}{kept}")


def draw(rs: ResultSet, folder: Path, summary_numbers: dict) -> Path:
    """Charts (``charts/*.png|svg``) and ``report.html`` of ``rs`` into ``folder``."""
    from sim import plots, report
    charts = plots.draw_all(plots.CHARTS, folder / "charts", rs)
    return report.write(rs, summary_numbers, charts, folder / "report.html")


def replot(folder: Path, scheme: str | None = None) -> Path:
    """Redraw the charts and report of a results or comparison folder; return the report.

    Under the run's own scoring scheme they replace ``charts/`` and the report;
    under another scheme they go beside them, as ``charts-<scheme>/`` and
    ``report-<scheme>.html`` (``compare-<scheme>.html``). The new files are
    drawn aside and moved in only when complete.
    """
    from sim import compare
    folder = Path(folder)
    tmp = folder / f".replot.partial-{os.getpid()}"
    try:
        if compare.is_comparison(folder):
            own, page = scheme is None, "compare"
            compare.draw_into(folder, tmp, scheme)
        else:
            rs = ResultSet.load(folder)
            scheme = scheme or rs.run_scheme
            own, page = scheme == rs.run_scheme, "report"
            numbers = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            draw(rs.rescored(scheme), tmp, numbers)
        suffix = "" if own else f"-{scheme}"
        shutil.rmtree(folder / f"charts{suffix}", ignore_errors=True)
        (tmp / "charts").replace(folder / f"charts{suffix}")
        (tmp / f"{page}.html").replace(folder / f"{page}{suffix}.html")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder / f"{page}{suffix}.html"


def write_results(scenario, folder: Path, argv: list[str], **ensemble_options) -> Ensemble:
    """Run an ensemble and write its whole results folder into ``folder`` (which exists)."""
    with open(folder / "runs.csv", "w", encoding="utf-8", newline="\n") as fh:
        fh.write(engine.csv_header(scenario.actor_ids, engine.state_pairs(scenario)))
        ensemble = run_ensemble(scenario, on_rows=fh.write, **ensemble_options)
    numbers = summary(ensemble)
    (folder / "summary.json").write_text(json.dumps(numbers, indent=2) + "\n")
    (folder / "manifest.json").write_text(json.dumps(manifest(ensemble, argv), indent=2) + "\n")
    rs = ResultSet.from_ensemble(
        ensemble, reproduce_command(ensemble, ensemble_options.get("keep", DEFAULT_KEEP)))
    rs.save(folder)
    draw(rs, folder, numbers)
    return ensemble


def run_to_folder(scenario, out: Path | None = None, argv: list[str] | None = None,
                  **ensemble_options) -> tuple[Path, Ensemble]:
    """Run an ensemble straight into a new results folder; return its path and summary."""
    seed = ensemble_options.get("seed")
    seed = scenario.spec.montecarlo.seed if seed is None else seed
    base = (Path(out) if out else Path("outputs")) / scenario.name
    final = base / new_folder_name(base, seed)
    argv = list(sys.argv if argv is None else argv)
    with staging(final) as tmp:
        ensemble = write_results(scenario, tmp, argv, **ensemble_options)
    return final, ensemble
