"""Benchmark: a Sobol' analysis of 10 parameters of the baseline with `escsim sensitivity`.

A script, not a test. Runs ``escsim sensitivity`` as a subprocess on the baseline
(caribbean-2025) with 10 parameters, N = 1,024 (N (2D + 2) = 22,528 parameter sets),
200 runs per set and 60 days: 4.5 million runs, then SALib's analysis of the five
outcomes and the charts. Measures the wall time and the peak resident memory of the
whole process tree (sampled every 0.2 s). Goal: at most 10 minutes on 2 cores with
at most 1 GB.

``--quick`` runs N = 64 (1,408 sets) x 50 runs instead, to check the script in a
few seconds. Prints a table; ``--json`` prints one JSON object instead.

    python benchmarks/bench_experiments.py [--n 1024] [--runs 200] [--days 60]
        [--workers N] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import psutil  # noqa: E402
from bench_montecarlo import machine  # noqa: E402

from sim.ensemble.backends import default_workers  # noqa: E402

PARAMS = (
    "actors.USA.resolve=0.2:1",
    "actors.USA.risk_aversion=0:2",
    "actors.USA.inertia=0.3:3",
    "actors.VEN.resolve=0.2:1",
    "actors.VEN.reciprocity=0:2",
    "actors.RUS.resolve=0:1",
    "actors.RUS.commitments.VEN=0:1",
    "actors.RUS.risk_aversion=0:2",
    "memory.decay=0.5:0.95",
    "memory.relax_days=3:14",
)
"""Ten assumptions of the baseline and plausible ranges (the calibration's, where it has one)."""


def measure(cmd: list[str]) -> dict:
    """Wall time and peak RSS of the whole process tree of ``cmd``; its standard output."""
    peak, done = [0], threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def sample():
        parent = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.2)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"escsim sensitivity failed:\n{stderr.decode()}")
    return {"wall_s": wall, "peak_rss_mb": peak[0] / 2**20, "stdout": stdout.decode()}


def main(argv=None):
    """Run the benchmark and print its table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--quick", action="store_true", help="N = 64 x 50 runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    n, runs = (64, 50) if args.quick else (args.n, args.runs)
    sets = n * (2 * len(PARAMS) + 2)
    out = tempfile.mkdtemp(prefix="escsim-bench-")
    cmd = [sys.executable, "-m", "sim", "sensitivity", str(ROOT / "scenarios/caribbean-2025.yaml"),
           "--method", "sobol", "--n", str(n), "--runs", str(runs), "--days", str(args.days),
           "--seed", "1", "--workers", str(args.workers), "--out", out, "--quiet",
           *(a for p in PARAMS for a in ("--params", p))]
    m = measure(cmd)
    result = {
        "machine": machine(), "workers": args.workers, "parameters": len(PARAMS), "n": n,
        "sets": sets, "runs_per_set": runs, "days": args.days, "runs": sets * runs,
        "wall_s": round(m["wall_s"], 1), "runs_per_s": round(sets * runs / m["wall_s"]),
        "peak_rss_mb": round(m["peak_rss_mb"], 1), "quick": args.quick,
        "goal_met": m["wall_s"] <= 600 and m["peak_rss_mb"] <= 1024,
        "output": m["stdout"].strip().removeprefix("results: "),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(result["machine"])
    print(f"Sobol', {len(PARAMS)} parameters, N = {n:,}: {sets:,} sets x {runs:,} runs x "
          f"{args.days} days = {sets * runs:,} runs, {args.workers} workers")
    print(f"  {result['wall_s']:,.1f} s wall ({result['runs_per_s']:,} runs/s), peak RSS "
          f"{result['peak_rss_mb']:,.0f} MB; goal (600 s, 1 GB) met: {result['goal_met']}")


if __name__ == "__main__":
    main()
