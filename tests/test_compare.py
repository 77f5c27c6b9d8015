"""`escsim compare`: common random numbers, paired differences, robustness, the report."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from sim.inputs.catalogue import SCHEMES
from sim.model.outcomes import OUTCOMES
from sim.results.compare import COMPARE_CHARTS
from sim.stats import newcombe_paired, wilson_interval
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
    """Pairing helps: the paired interval of the frozen-crisis difference is narrower than
    the interval the same two probabilities would get from independent samples."""
    cmp = json.loads((policy_compare / "comparison.json").read_text())
    row = cmp["outcomes"]["frozen crisis"]
    pa, pb = row["probability"]
    lo, hi = row["difference"][1]["ci95"]
    unpaired = 1.959963984540054 * np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / cmp["runs"])
    assert (hi - lo) / 2 < unpaired
    assert lo > 0  # firmer Russian backing deters force: more crises stay frozen, beyond noise


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

# Published method-10 intervals (Newcombe 1998, "Improved confidence intervals for the
# difference between binomial proportions based on paired data", Statistics in Medicine
# 17:2635-2650; doi:10.1002/(SICI)1097-0258(19981130)17:22<2635::AID-SIM954>3.0.CO;2-C).
# Cells are (both, first only, second only, neither). The values are those the ratesci R
# package's test suite checks against the papers (https://github.com/PeteLaud/ratesci,
# tests/testthat: "example from Newcombe ... method 10 result", and Fagerland, Lydersen &
# Laake 2014, "Recommended tests and confidence intervals for paired binomial proportions",
# Statistics in Medicine 33:2850-2875, Bentur et al. airway data, "Newcombe square-and-add").
PUBLISHED_METHOD_10 = [
    # Newcombe's worked example: AD - BC = 296 > N/2, so phi uses AD - BC - N/2 = 271
    ((20, 12, 2, 16), (0.0562, 0.3292), 4),
    # Fagerland et al.: 0 <= AD - BC = 5 <= N/2, so the corrected phi is exactly 0
    ((1, 1, 7, 12), (-0.507, -0.026), 3),
]
# The same example under the wrong variants, to show the published values tell them apart:
# Newcombe's method 8 (phi without the N/2 correction), as published, and the paired Wald
# interval (method 1), (b - c)/n -/+ z sqrt(b + c - (b - c)^2/n) / n.
METHOD_8 = (0.0618, 0.3242)


def paired_wald(both, first_only, second_only, neither, z=1.959963984540054):
    n = both + first_only + second_only + neither
    d = (first_only - second_only) / n
    half = z * np.sqrt(first_only + second_only - (first_only - second_only) ** 2 / n) / n
    return d - half, d + half


@pytest.mark.parametrize("table, published, places", PUBLISHED_METHOD_10)
def test_newcombe_interval_matches_the_published_method_10_values(table, published, places):
    """The interval agrees with Newcombe's method 10 to the published precision, on one table
    where the N/2 correction shrinks phi and one where it sets phi to zero."""
    got = newcombe_paired(*table)
    assert [round(v, places) for v in got] == list(published), got


def test_the_published_values_reject_a_wald_or_an_uncorrected_interval():
    """The check above has teeth: at 4 decimals, Newcombe's example rules out the paired Wald
    interval (0.0642, 0.3358) and method 8, the same construction without the N/2
    correction of AD - BC (0.0618, 0.3242); a coverage simulation passed for both."""
    table, published, places = PUBLISHED_METHOD_10[0]
    wald = [round(float(v), places) for v in paired_wald(*table)]
    assert wald == [0.0642, 0.3358]
    for wrong in (wald, list(METHOD_8)):
        assert max(abs(w - p) for w, p in zip(wrong, published, strict=True)) > 10 ** -places


def test_newcombe_interval_is_honest_when_no_pair_disagrees():
    """No discordant pair in 1,000 runs of a rare outcome (1 both, 999 neither): the paired
    Wald interval is [0, 0]; method 10 gives -/+0.0043, worked by hand below.

    Wilson for 1/1000, z^2 = 3.841459: centre (0.001 + 0.00192073) / 1.00384146 = 0.00290955,
    half-width 1.959964 * sqrt(9.99e-7 + 9.6037e-7) / 1.00384146 = 0.00273301, so
    l = 0.00017655, u = 0.00564256; dl = p - l = 0.00082345, du = u - p = 0.00464256.
    AD - BC = 999 > N/2 = 500, so phi = (999 - 500) / sqrt(1 * 999 * 1 * 999) = 0.4995.
    delta = sqrt(dl^2 - 2 phi dl du + du^2) = sqrt(6.781e-7 - 3.8191e-6 + 2.15534e-5)
          = 0.0042910, and epsilon = delta by symmetry.
    Without the correction (phi = 1) it would be du - dl = 0.0038191.
    """
    lo, hi = newcombe_paired(1, 0, 0, 999)
    assert lo == pytest.approx(-0.0042910, abs=2e-7)
    assert hi == pytest.approx(0.0042910, abs=2e-7)


def test_newcombe_interval_is_antisymmetric_and_within_bounds():
    lo, hi = newcombe_paired(30, 12, 3, 55)
    rlo, rhi = newcombe_paired(30, 3, 12, 55)
    assert (rlo, rhi) == pytest.approx((-hi, -lo))
    assert -1 <= lo < 9 / 100 < hi <= 1
