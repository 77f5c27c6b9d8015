"""Benchmark: escsim's ensemble engine against mesa.batch_run, and a million-run `escsim run`.

A script, not a test. In one process run, on the same scenario and horizon:

(a) ``mesa.batch_run`` over :class:`sim.model.model.EscalationModel` with one run per
    model instance, as a Mesa user would write it;
(b) escsim's engine in this process (``run_ensemble``, one worker);
(c) ``escsim run`` as a subprocess with all cores, timed, with the peak
    resident memory of its whole process tree sampled every 0.2 s;
(d) ``escsim run --sets``: an ensemble of 10,000 parameter sets x 100 runs, every
    set with its own values of five parameters (per-run parameters), all cores.

Prints a table; ``--json`` prints one JSON object instead.

    python benchmarks/bench_montecarlo.py [--batch-runs 100] [--engine-runs 20000]
        [--million-runs 1000000] [--sets 10000] [--runs-per-set 100] [--days 60]
        [--workers N] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mesa  # noqa: E402
import psutil  # noqa: E402

from sim.ensemble.backends import default_workers  # noqa: E402
from sim.ensemble.montecarlo import run_ensemble  # noqa: E402
from sim.inputs.scenario import load_scenario  # noqa: E402
from sim.model.model import EscalationModel  # noqa: E402

SCENARIO = ROOT / "scenarios" / "caribbean-2025.yaml"


def bench_batch_run(scenario, runs: int, days: int) -> float:
    """Runs per second of mesa.batch_run, one model instance per run."""
    start = time.perf_counter()
    results = mesa.batch_run(EscalationModel, parameters={
        "scenario": scenario, "runs": 1, "days": days, "seed": range(runs)},
        number_processes=1, iterations=1, max_steps=days, data_collection_period=-1,
        display_progress=False)
    wall = time.perf_counter() - start
    assert len(results) == runs, len(results)
    return runs / wall


def bench_engine(scenario, runs: int, days: int) -> float:
    """Runs per second of escsim's engine in this process."""
    start = time.perf_counter()
    ensemble = run_ensemble(scenario, runs=runs, seed=1, days=days)
    wall = time.perf_counter() - start
    assert ensemble.n_runs == runs
    return runs / wall


SET_PARAMETERS = {  # path: (low, high) of the values spread over the sets
    "actors.USA.resolve": (0.2, 0.9), "actors.VEN.rationality": (1.0, 5.0),
    "actors.RUS.commitments.VEN": (0.2, 0.9), "memory.decay": (0.75, 0.95),
    "actors.UNSC.council.activism": (0.5, 2.0)}


def write_sets(path: Path, sets: int):
    """A parameter table of ``sets`` rows, each parameter spread evenly over its range."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(SET_PARAMETERS)
        for k in range(sets):
            out.writerow(f"{lo + (hi - lo) * ((k * (j + 1) * 7919) % sets) / max(1, sets - 1):.6f}"
                         for j, (lo, hi) in enumerate(SET_PARAMETERS.values()))


def bench_cli(runs: int, days: int, workers: int, extra: tuple = ()) -> dict:
    """Wall time and peak RSS (whole process tree) of `escsim run`."""
    out = tempfile.mkdtemp(prefix="escsim-bench-")
    cmd = [sys.executable, "-m", "sim", "run", str(SCENARIO), "--runs", str(runs),
           "--days", str(days), "--seed", "1", "--workers", str(workers), "--out", out,
           "--quiet", *extra]
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = threading.Event()

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
        raise SystemExit(f"escsim run failed:\n{stderr.decode()}")
    return {"runs": runs, "wall_s": wall, "peak_rss_mb": peak[0] / 2**20,
            "runs_per_s": runs / wall, "output": out}


def machine() -> str:
    """CPU model, cores, memory, Python and Mesa versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return (f"{cpu}, {default_workers()} cores, {mem:.0f} GiB, "
            f"Python {platform.python_version()}, Mesa {mesa.__version__}")


def main(argv=None):
    """Run the three measurements and print the table or the JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-runs", type=int, default=100)
    parser.add_argument("--engine-runs", type=int, default=20_000)
    parser.add_argument("--million-runs", type=int, default=1_000_000)
    parser.add_argument("--sets", type=int, default=10_000)
    parser.add_argument("--runs-per-set", type=int, default=100)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    scenario = load_scenario(SCENARIO)
    # warm up first (imports, the compiled kernel's first load), so neither timing pays it
    EscalationModel(scenario, runs=2, days=2).run()
    batch = bench_batch_run(scenario, args.batch_runs, args.days)
    engine = bench_engine(scenario, args.engine_runs, args.days)
    cli = bench_cli(args.million_runs, args.days, args.workers)
    table = Path(tempfile.mkdtemp(prefix="escsim-bench-sets-")) / "sets.csv"
    write_sets(table, args.sets)
    sets = bench_cli(args.runs_per_set, args.days, args.workers, ("--sets", str(table)))
    set_runs = args.sets * args.runs_per_set
    result = {
        "escsim_runs_per_s": round(cli["runs_per_s"], 1),
        "engine_one_process_runs_per_s": round(engine, 1),
        "runs_per_s_one_process": round(engine, 1),
        "sets_runs_per_s": round(set_runs / sets["wall_s"], 1),
        "sets": args.sets,
        "runs_per_set": args.runs_per_set,
        "sets_wall_s": round(sets["wall_s"], 1),
        "sets_peak_rss_mb": round(sets["peak_rss_mb"], 1),
        "batch_run_runs_per_s": round(batch, 2),
        "ratio": round(cli["runs_per_s"] / batch, 1),
        "runs": cli["runs"],
        "days": args.days,
        "wall_s": round(cli["wall_s"], 1),
        "peak_rss_mb": round(cli["peak_rss_mb"], 1),
        "workers": args.workers,
        "kernel": "numba",  # the one compiled day (sim/model/day.py)
        "machine": machine(),
    }
    if args.json:
        print(json.dumps(result))
        return
    rows = [
        ("mesa.batch_run, one model per run", f"{args.batch_runs:,}", f"{batch:,.1f}"),
        ("escsim engine, 1 process", f"{args.engine_runs:,}", f"{engine:,.0f}"),
        (f"escsim run, {args.workers} workers", f"{cli['runs']:,}", f"{cli['runs_per_s']:,.0f}"),
        (f"escsim run --sets ({args.sets:,} sets)", f"{set_runs:,}",
         f"{result['sets_runs_per_s']:,.0f}"),
    ]
    print(f"Baseline scenario, {args.days} days; {result['machine']}")
    print(f"{'what':<36} {'runs':>10} {'runs/s':>10}")
    for what, runs, rate in rows:
        print(f"{what:<36} {runs:>10} {rate:>10}")
    print(f"escsim run vs batch_run: {result['ratio']:,.0f}x; {cli['runs']:,} runs in "
          f"{cli['wall_s']:,.1f} s wall, peak RSS {cli['peak_rss_mb']:,.0f} MB")


if __name__ == "__main__":
    main()
