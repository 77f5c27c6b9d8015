"""Results folders: ``outputs/<scenario>/<id>/`` with manifest, runs.csv, summary and charts.

A folder is assembled under a hidden temporary name and renamed into place
only when complete, so an error or Ctrl-C never leaves a half-written folder.
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

from sim import __version__
from sim.montecarlo import Results, wilson_interval
from sim.outcomes import OUTCOMES, THRESHOLDS


def runs_csv_header(results: Results) -> list[str]:
    """Column names of runs.csv."""
    ids = results.actor_ids
    return (["run", "outcome"] + [f"first_{t}" for t in THRESHOLDS]
            + [f"peak_{ids[i]}_{ids[j]}" for i, j in results.state_pairs]
            + ["casualties", "peak_index", "final_index"])


def runs_csv_rows(results: Results):
    """Yield one formatted CSV line per run (fixed formats: byte-stable output)."""
    pairs = results.state_pairs
    for n in range(results.n_runs):
        first = ["" if d < 0 else str(int(d)) for d in results.first[n]]
        peaks = [str(int(results.peak[n, i, j])) for i, j in pairs]
        yield ",".join([str(int(results.run[n])), OUTCOMES[results.outcome[n]], *first, *peaks,
                        str(int(results.casualties[n])), f"{results.peak_index[n]:.4f}",
                        f"{results.final_index[n]:.4f}"])


def summary(results: Results) -> dict:
    """Headline numbers: outcome probabilities with 95% Wilson intervals."""
    n = results.n_runs
    counts = results.outcome_counts()
    outcomes = {}
    for name, count in counts.items():
        lo, hi = wilson_interval(count, n)
        outcomes[name] = {"runs": count, "probability": round(count / n, 6),
                          "ci95": [round(lo, 6), round(hi, 6)]}
    crossing = {}
    for k, name in enumerate(THRESHOLDS):
        days = results.first[:, k]
        hit = days >= 0
        crossing[name] = {
            "runs": int(hit.sum()),
            "median_first_day": float(np.median(days[hit])) if hit.any() else None,
        }
    return {"scenario": results.scenario.name, "runs": n, "seed": results.seed,
            "days": results.days, "outcomes": outcomes, "thresholds": crossing,
            "median_casualties": float(np.median(results.casualties))}


def manifest(results: Results, argv: list[str]) -> dict:
    """What is needed to reproduce the folder: inputs and their hashes, versions, command."""
    import matplotlib
    import mesa
    scen = results.scenario
    return {
        "scenario": str(scen.path),
        "scenario_sha256": scen.sha256,
        "files": {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in scen.files},
        "seed": results.seed,
        "runs": results.n_runs,
        "days": results.days,
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


def write(results: Results, out: Path | None = None, argv: list[str] | None = None) -> Path:
    """Write a complete results folder and return its path."""
    from sim import plots
    base = (Path(out) if out else Path("outputs")) / results.scenario.name
    final = base / new_folder_name(base, results.seed)
    argv = list(sys.argv if argv is None else argv)
    with staging(final) as tmp:
        with open(tmp / "runs.csv", "w", encoding="utf-8", newline="\n") as fh:
            fh.write(",".join(runs_csv_header(results)) + "\n")
            for line in runs_csv_rows(results):
                fh.write(line + "\n")
        (tmp / "summary.json").write_text(json.dumps(summary(results), indent=2) + "\n")
        (tmp / "manifest.json").write_text(json.dumps(manifest(results, argv), indent=2) + "\n")
        plots.fan_chart(results, tmp / "fan_chart.png")
    return final
