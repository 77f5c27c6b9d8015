"""Benchmark: how escsim scales with the number of actors.

A script, not a test. For each number of states (the baseline's USA, VEN and
RUS plus generated states S4 .. Sn, the scenario of ``tests/test_charts.py``),
times as subprocesses ``escsim validate``, ``escsim run --runs R --days D``
and ``escsim plot`` of its folder, then each chart drawn and saved in this
process. Prints a table; ``--json`` prints one JSON object instead.

    python benchmarks/bench_many_actors.py [--states 30 60] [--runs 200] [--days 30]
        [--workers N] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.results import plots  # noqa: E402
from sim.results.resultset import ResultSet  # noqa: E402
from tests.test_charts import many_states  # noqa: E402


def timed(*args) -> tuple[float, str]:
    """Wall time of ``python -m sim ARGS`` and its standard output (exit 0 required)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return time.perf_counter() - start, proc.stdout


def bench(states: int, runs: int, days: int, workers: int | None, tmp: Path) -> dict:
    """Seconds for validate, run, plot and each chart, for ``states`` states."""
    path = tmp / f"states{states}.yaml"
    path.write_text(many_states(states), encoding="utf-8")
    out = {"states": states, "pairs": states * (states - 1)}
    out["validate"], _ = timed("validate", path)
    extra = ["--workers", workers] if workers else []
    out["run"], stdout = timed("run", path, "--runs", runs, "--days", days, "--out", tmp,
                               "--quiet", *extra)
    folder = ROOT / re.search(r"^results: (.+)$", stdout, re.M).group(1)
    out["plot"], _ = timed("plot", folder)
    rs = ResultSet.load(folder)
    with plots.plt.rc_context({"svg.hashsalt": "escsim", "svg.fonttype": "none"}):
        for chart in plots.CHARTS:
            start = time.perf_counter()
            plots.save(chart.draw(rs), tmp, chart.name)
            out[chart.name] = time.perf_counter() - start
    return out


def main() -> int:
    """Run the benchmark and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, nargs="+", default=[30, 60])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="escsim-bench-") as tmp:
        rows = [bench(n, args.runs, args.days, args.workers, Path(tmp)) for n in args.states]
    if args.json:
        print(json.dumps({"machine": platform.platform(), "runs": args.runs,
                          "days": args.days, "results": rows}, indent=2))
        return 0
    columns = list(rows[0])
    print(f"{args.runs} runs x {args.days} days; seconds of wall time ({platform.platform()})")
    print("  ".join(f"{c:>12}" for c in columns))
    for row in rows:
        print("  ".join(f"{row[c]:>12,}" if isinstance(row[c], int) else f"{row[c]:>12.2f}"
                        for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
