"""summary.json against runs.csv: the headline numbers recomputed from the rows with csv.

docs/results.md promises, for each threshold, the share of runs that crossed it, its
median first day and the probability of having crossed it by days 7, 14, 30 and the
horizon; for the coercer's success (each kind and any), the same numbers with the
share's Wilson interval and the first day's quartiles. With one horizon for every run,
the Kaplan-Meier estimate equals the share of runs that crossed by that day
(docs/results.md, "Kaplan-Meier"), so the rows alone decide every number.
"""

from __future__ import annotations

import csv
import json
import math
import statistics

import pytest

from sim.model.outcomes import OUTCOMES, THRESHOLDS
from sim.stats import wilson_interval
from tests.conftest import BASELINE, results_folder, run_cli

RUNS, DAYS, SEED = 300, 40, 3


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("summary")
    proc = run_cli("run", BASELINE, "--runs", RUNS, "--days", DAYS, "--seed", SEED,
                   "--out", out, "--workers", 1, "--quiet", check=0)
    return results_folder(proc)


@pytest.fixture(scope="module")
def rows_and_summary(folder):
    with open(folder / "runs.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return rows, json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def test_the_run_is_the_one_asked_for(rows_and_summary):
    rows, summary = rows_and_summary
    assert [int(r["run"]) for r in rows] == list(range(RUNS))
    assert (summary["runs"], summary["days"], summary["seed"]) == (RUNS, DAYS, SEED)


@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_threshold_block_matches_the_rows(rows_and_summary, threshold):
    """Runs that crossed (a non-empty first_* cell), their share, the median first day (the
    upper median: a whole day) and the share crossed by each checkpoint day."""
    rows, summary = rows_and_summary
    firsts = sorted(int(r[f"first_{threshold}"]) for r in rows if r[f"first_{threshold}"])
    block = summary["thresholds"][threshold]
    assert block["runs"] == len(firsts)
    assert block["probability"] == round(len(firsts) / RUNS, 6)
    assert block["median_first_day"] == (statistics.median_high(firsts) if firsts else None)
    checkpoints = [7, 14, 30, DAYS]
    assert list(block["by_day"]) == [str(d) for d in checkpoints]
    for day in checkpoints:
        crossed = sum(first <= day for first in firsts)
        assert block["by_day"][str(day)] == pytest.approx(crossed / RUNS, abs=1e-6), day


def test_the_thresholds_are_exercised(rows_and_summary):
    """Guard against a vacuous comparison: in this run several thresholds are crossed on
    different days, and at least one is crossed by some runs but not by all."""
    _, summary = rows_and_summary
    crossed = [t for t in summary["thresholds"].values() if 0 < t["runs"] < RUNS]
    assert len(crossed) >= 2
    assert any(len(set(t["by_day"].values())) > 2 for t in crossed)


def test_outcome_counts_match_the_rows(rows_and_summary):
    rows, summary = rows_and_summary
    for name in OUTCOMES:
        count = sum(r["outcome"] == name for r in rows)
        block = summary["outcomes"][name]
        assert block["runs"] == count
        assert block["probability"] == round(count / RUNS, 6)
        lo, hi = block["ci95"]
        assert lo <= block["probability"] <= hi


def rank_quantile(days: list[int], q: float) -> int:
    """The day of rank ceil(q (n + 1)), at most n, among ``days`` sorted (docs/results.md)."""
    return sorted(days)[min(math.ceil(q * (len(days) + 1)), len(days)) - 1]


@pytest.mark.parametrize("kind", ["complied", "government_fell", "any"])
def test_coercion_block_matches_the_rows(rows_and_summary, kind):
    """Runs whose coerced cell is the kind (any: not none), their share and its Wilson
    interval, the median and quartiles of their coerced_day, and the share by each
    checkpoint day, all recomputed from runs.csv."""
    rows, summary = rows_and_summary
    days = [int(r["coerced_day"]) for r in rows
            if r["coerced"] == kind or (kind == "any" and r["coerced"] != "none")]
    block = summary["coercion"][kind]
    assert block["runs"] == len(days)
    assert block["probability"] == round(len(days) / RUNS, 6)
    lo, hi = wilson_interval(len(days), RUNS)
    assert block["ci95"] == [round(lo, 6), round(hi, 6)]
    assert block["median_first_day"] == (statistics.median_high(days) if days else None)
    assert block["first_day_quartiles"] == ([rank_quantile(days, q) for q in (0.25, 0.75)]
                                            if days else [None, None])
    for day in [7, 14, 30, DAYS]:
        reached = sum(d <= day for d in days)
        assert block["by_day"][str(day)] == pytest.approx(reached / RUNS, abs=1e-6), day


def test_the_coercion_block_is_exercised(rows_and_summary):
    """Guard against a vacuous comparison: both kinds of success occur in this run, on
    several different days, and some runs have none."""
    rows, _ = rows_and_summary
    kinds = {r["coerced"] for r in rows}
    assert kinds == {"none", "complied", "government_fell"}
    for kind in ("complied", "government_fell"):
        assert len({r["coerced_day"] for r in rows if r["coerced"] == kind}) >= 3, kind
    assert all((r["coerced"] == "none") == (r["coerced_day"] == "") for r in rows)
