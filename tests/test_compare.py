"""`escsim compare`: common random numbers, paired differences, robustness, the report."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from sim.catalogue import SCHEMES
from sim.compare import COMPARE_CHARTS, newcombe_paired
from sim.montecarlo import wilson_interval
from sim.outcomes import OUTCOMES
from tests.conftest import BASELINE, SCENARIOS, results_folder, run_cli
from tests.test_charts import parse

RUNS, SEED, DAYS = 400, 21, 30
STRONG = next(p for p in SCENARIOS if p.name == "caribbean-2025-strong-russia.yaml")


@pytest.fixture(scope="module")
def self_compare(tmp_path_factory):
    out = tmp_path_factory.mktemp("self")
    proc = run_cli("compare", BASELINE, BASELINE, "--runs", RUNS, "--seed", SEED, "--days",
                   DAYS, "--out", out, "--workers", 1, "--quiet", check=0)
    return results_folder(proc), proc.stdout


@pytest.fixture(scope="module")
def policy_compare(tmp_path_factory):
    out = tmp_path_factory.mktemp("policy")
    proc = run_cli("compare", BASELINE, STRONG, "--runs", RUNS, "--seed", SEED, "--days",
                   DAYS, "--out", out, "--quiet", check=0)
    return results_folder(proc)


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(self_compare):
    folder, stdout = self_compare
    cmp = json.loads((folder / "comparison.json").read_text())
    assert cmp["runs"] == RUNS and cmp["seed"] == SEED and cmp["days"] == DAYS
    for o in OUTCOMES:
        a, b = cmp["outcomes"][o]["probability"]
        assert a == b
        diff = cmp["outcomes"][o]["difference"][1]
        assert diff["mean"] == 0.0
        lo, hi = diff["ci95"]
        assert lo <= 0 <= hi
        # identical runs are perfectly correlated: never wider than the interval for
        # two independent samples (Newcombe's square-and-add of the Wilson intervals)
        wl, wu = wilson_interval(round(a * RUNS), RUNS)
        unpaired = np.hypot(a - wl, wu - a)
        assert -lo <= unpaired + 1e-6 and hi <= unpaired + 1e-6
    for s in SCHEMES:
        assert cmp["peak_index"][s]["difference"][1] == {"mean": 0.0, "ci95": [0.0, 0.0]}
    assert cmp["robustness"]["ranking_holds"]
    first, second = (folder / name / "runs.csv" for name in cmp["folders"])
    assert first.read_bytes() == second.read_bytes()
    assert stdout.count("caribbean-2025 #2 - caribbean-2025 #1: +0.0 points") == len(OUTCOMES)


def test_compare_runs_are_the_runs_of_escsim_run(policy_compare, tmp_path):
    """Common random numbers: each scenario's runs are exactly its own `escsim run`."""
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    proc = run_cli("run", STRONG, "--runs", RUNS, "--seed", SEED, "--days", DAYS, "--out",
                   tmp_path, "--quiet", check=0)
    alone = results_folder(proc)
    inside = policy_compare / cmp["folders"][1]
    assert (inside / "runs.csv").read_bytes() == (alone / "runs.csv").read_bytes()
    assert (inside / "summary.json").read_bytes() == (alone / "summary.json").read_bytes()


def read_runs(path):
    return list(csv.DictReader(open(path, encoding="utf-8")))


def test_paired_differences_match_an_independent_computation(policy_compare):
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    a, b = (read_runs(policy_compare / name / "runs.csv") for name in cmp["folders"])
    for o in OUTCOMES:
        base = np.array([r["outcome"] == o for r in a])
        other = np.array([r["outcome"] == o for r in b])
        table = [int((other & base).sum()), int((other & ~base).sum()),
                 int((~other & base).sum()), int((~other & ~base).sum())]
        got = cmp["outcomes"][o]["difference"][1]
        assert got["mean"] == pytest.approx(other.mean() - base.mean(), abs=1e-6)
        assert got["ci95"] == pytest.approx(list(newcombe_paired(*table)), abs=1e-6)
        assert got["ci95"][0] <= got["mean"] <= got["ci95"][1]
    for s in SCHEMES:
        d = np.array([float(rb[f"peak_index_{s}"]) - float(ra[f"peak_index_{s}"])
                      for ra, rb in zip(a, b, strict=True)])
        half = 1.959963984540054 * d.std(ddof=1) / np.sqrt(len(d))
        got = cmp["peak_index"][s]["difference"][1]
        assert got["mean"] == pytest.approx(d.mean(), abs=1e-6)
        assert got["ci95"] == pytest.approx([d.mean() - half, d.mean() + half], abs=1e-5)


def test_common_random_numbers_narrow_the_interval(policy_compare):
    """Pairing helps: the paired interval of the great-power difference is narrower than
    the interval the same two probabilities would get from independent samples."""
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    row = cmp["outcomes"]["great-power confrontation"]
    pa, pb = row["probability"]
    lo, hi = row["difference"][1]["ci95"]
    unpaired = 1.959963984540054 * np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / cmp["runs"])
    assert (hi - lo) / 2 < unpaired
    assert lo > 0  # firmer Russian backing: more US-Russia confrontations, beyond noise


def test_robustness_table_ranks_under_every_scheme(policy_compare):
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    by_scheme = cmp["robustness"]["by_scheme"]
    assert set(by_scheme) == set(SCHEMES)
    for s, row in by_scheme.items():
        means = [m["mean"] for m in cmp["peak_index"][s]["mean"]]
        expected = [name for _, name in sorted(zip(means, cmp["scenarios"], strict=True),
                                               key=lambda mn: -mn[0])]
        assert row["ranking"] == expected, s
    holds = len({tuple(r["ranking"]) for r in by_scheme.values()}) == 1
    assert cmp["robustness"]["ranking_holds"] == holds


def test_comparison_report_and_charts(policy_compare):
    page = parse(policy_compare / "compare.html")
    assert {img["data-chart"] for img in page.images} == {chart.name for chart in COMPARE_CHARTS}
    text = " ".join(" ".join(page.text).split())
    assert "caribbean-2025-strong-russia" in text and "Robustness" in text
    assert "escsim compare" in text
    html = (policy_compare / "compare.html").read_text(encoding="utf-8")
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    for name in cmp["folders"]:
        assert f'href="{name}/report.html"' in html
        assert (policy_compare / name / "report.html").is_file()
    import matplotlib.image as mpimg
    for name in (chart.name for chart in COMPARE_CHARTS):
        img = mpimg.imread(policy_compare / "charts" / f"{name}.png")
        assert img[..., :3].std() > 0.05
        assert (policy_compare / "charts" / f"{name}.svg").is_file()


def test_comparison_replots_under_another_scheme(policy_compare):
    proc = run_cli("plot", policy_compare, "--scoring", "mid", check=0)
    assert "compare-mid.html" in proc.stdout
    page = parse(policy_compare / "compare-mid.html")
    assert len(page.images) == len(COMPARE_CHARTS)
    assert (policy_compare / "charts-mid" / "compare_fan.png").is_file()


def test_compare_reports_every_bad_file_and_writes_nothing(tmp_path, variant):
    bad = variant("horizon_days: -3\n", name="bad.yaml")
    worse = variant("memory: {decay: 2}\n", name="worse.yaml")
    proc = run_cli("compare", BASELINE, bad, worse, "--runs", 10, "--out", tmp_path, check=2)
    assert "bad.yaml" in proc.stderr and "horizon_days" in proc.stderr
    assert "worse.yaml" in proc.stderr and "memory.decay" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not any(tmp_path.glob("compare*"))


# ------------------------------------------------------------------ the interval ----------

def test_newcombe_interval_covers_the_true_difference_95_percent_of_the_time():
    """Paired binary data with known marginals and correlation, 4,000 replications of
    300 pairs: the interval holds the true difference in 95% +/- 3 binomial SEs."""
    rng = np.random.default_rng(2024)
    reps, n = 4000, 300
    # joint probabilities of (first, second): both, first only, second only, neither
    joint = np.array([0.06, 0.05, 0.02, 0.87])
    truth = (joint[0] + joint[1]) - (joint[0] + joint[2])
    tables = rng.multinomial(n, joint, size=reps)
    hits = 0
    for both, first, second, neither in tables:
        lo, hi = newcombe_paired(int(both), int(first), int(second), int(neither))
        hits += lo <= truth <= hi
    coverage = hits / reps
    tolerance = 3 * np.sqrt(0.95 * 0.05 / reps)
    assert abs(coverage - 0.95) <= tolerance, coverage


def test_newcombe_interval_is_honest_when_no_pair_disagrees():
    """No discordant pair in 1,000 runs of a rare outcome: the difference is 0, but a
    Wald interval would claim [0, 0]; the rule of three says ~0.3% is still possible."""
    lo, hi = newcombe_paired(1, 0, 0, 999)
    assert lo < 0 < hi and hi > 0.001
    lo2, hi2 = newcombe_paired(1, 0, 0, 999)
    assert (lo2, hi2) == (lo, hi)


def test_newcombe_interval_is_antisymmetric_and_within_bounds():
    lo, hi = newcombe_paired(30, 12, 3, 55)
    rlo, rhi = newcombe_paired(30, 3, 12, 55)
    assert (rlo, rhi) == pytest.approx((-hi, -lo))
    assert -1 <= lo < 9 / 100 < hi <= 1
