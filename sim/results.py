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
import shutil
import sys
from pathlib import Path

import numpy as np

from sim import __version__, engine
from sim.montecarlo import Ensemble, run_ensemble, wilson_interval
from sim.outcomes import THRESHOLDS


def summary(ensemble: Ensemble) -> dict:
    """Headline numbers: outcome probabilities with 95% Wilson intervals, crossings."""
    agg = ensemble.aggregate
    n = agg.runs
    outcomes = {}
    for name, count in agg.outcome_counts().items():
        lo, hi = wilson_interval(count, n)
        outcomes[name] = {"runs": count, "probability": round(count / n, 6),
                          "ci95": [round(lo, 6), round(hi, 6)]}
    crossing = {}
    for k, name in enumerate(THRESHOLDS):
        counts = agg.first[k, :-1]  # the last column counts runs that never crossed
        hit = int(counts.sum())
        median = int(np.searchsorted(np.cumsum(counts), (hit + 1) / 2)) if hit else None
        crossing[name] = {"runs": hit, "probability": round(hit / n, 6),
                          "median_first_day": median}
    return {"scenario": ensemble.scenario.name, "runs": n, "seed": ensemble.seed,
            "days": ensemble.days, "outcomes": outcomes, "thresholds": crossing,
            "max_ci95_half_width": round(ensemble.max_half_width(), 6),
            "mean_casualties": round(float(agg.casualties) / n, 4)}


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


def write_trajectories(ensemble: Ensemble, path: Path):
    """The kept runs' escalation index, day by day (long format)."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("run,day,index\n")
        for run in sorted(ensemble.trajectories):
            for day, value in enumerate(ensemble.trajectories[run]):
                fh.write(f"{run},{day},{value:.4f}\n")


def run_to_folder(scenario, out: Path | None = None, argv: list[str] | None = None,
                  **ensemble_options) -> tuple[Path, Ensemble]:
    """Run an ensemble straight into a new results folder; return its path and summary."""
    from sim import plots
    seed = ensemble_options.get("seed")
    seed = scenario.spec.montecarlo.seed if seed is None else seed
    base = (Path(out) if out else Path("outputs")) / scenario.name
    final = base / new_folder_name(base, seed)
    argv = list(sys.argv if argv is None else argv)
    with staging(final) as tmp:
        with open(tmp / "runs.csv", "w", encoding="utf-8", newline="\n") as fh:
            fh.write(engine.csv_header(scenario.actor_ids, engine.state_pairs(scenario)))
            ensemble = run_ensemble(scenario, on_rows=fh.write, **ensemble_options)
        (tmp / "summary.json").write_text(json.dumps(summary(ensemble), indent=2) + "\n")
        (tmp / "manifest.json").write_text(json.dumps(manifest(ensemble, argv), indent=2) + "\n")
        write_trajectories(ensemble, tmp / "trajectories.csv")
        plots.fan_chart(ensemble, tmp / "fan_chart.png")
    return final, ensemble
